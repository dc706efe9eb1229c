/**
 * Stage refined: map a loaded file's raw rows to Ed-Fi-aligned entities through its source
 * definition, recognise its students against the roster, pseudonymize, enforce the contracts in
 * bulk (one set-based query per rule), quarantine what breaks them, and upsert the rest.
 *
 * Every delivered row ends in exactly one outcome: refined, quarantined, duplicate (an exact copy
 * of a row already refined, or of an earlier row of the same file) or skipped (a record type the
 * source declares out of the refined model, with its reason). The counts are returned per file.
 */
import { literal, ident, type Db } from '../src/db/duckdb.ts';
import { ROW_QUARANTINE_REASONS, type RowQuarantineReason } from '../src/quality/reasons.ts';
import { entity as contractOf, ENTITIES, type ColumnContract, type EntityContract } from './contracts/index.ts';
import { personKey, personKeyParams, personKeySql, SQL_KEYABLE_ID } from './keys.ts';
import type { Expr, IdentityFeed, Layout, Mapping } from './sources/types.ts';

/** Share of a vendor file's distinct candidate IDs that must match the roster for the column to be chosen. */
export const ID_MATCH_THRESHOLD = 0.5;
/**
 * A candidate later in the layout's order of preference replaces an earlier one only when its match
 * rate is higher by more than this: a vendor's primary ID column with a few unknown students is
 * still the ID column (its unknown rows are quarantined), even if a secondary column matches all.
 */
export const ID_MATCH_PREFERENCE = 0.05;

/** One delivered file of a batch. */
export interface BatchFile {
  sha256: string;
  path: string;
  rowsFile: string;
  /** Logical column → delivered header name (CSV) or JSON paths (NDJSON/XML), for this file. */
  columns: Record<string, string[]>;
}

/**
 * All loaded files of one layout and tenant in a run, in delivery order (later deliveries replace
 * earlier rows with the same key). Refining them together keeps the number of statements per run
 * proportional to the number of layouts, not of files.
 */
export interface RefineBatch {
  runId: string;
  source: string;
  layout: Layout;
  tenant: string;
  piiKey: string;
  files: BatchFile[];
}

/** Row ids of a batch: file index × 2^32 + row number. */
const FILE_SHIFT = 4294967296;

export interface IdDetection {
  path: string;
  source: string;
  layout: string;
  /** Chosen column as delivered (header name), or null when no candidate reached the threshold. */
  column: string | null;
  matchRate: number;
  /** How the chosen column's values matched, by ID type (local, state, lms). */
  matchedBy: Record<string, number>;
  candidates: Array<{ column: string; distinctValues: number; matchRate: number }>;
}

export interface FileOutcome {
  refined: number;
  quarantined: number;
  duplicate: number;
  skipped: number;
  skippedReasons: Record<string, number>;
  quarantineByRule: Partial<Record<RowQuarantineReason, number>>;
  entities: Record<string, { inserted: number; updated: number }>;
  idDetection?: IdDetection;
}

const q = (name: string) => ident(name);

/**
 * Keys of records delivered in this run but quarantined (tenant, entity, column, value): a row of a
 * later batch that references one is not quarantined again (the defect is reported once, where it
 * is). A table of the run's working database, not a temporary one, since batches run on several
 * connections (decision 0310); `openRunRefs` creates it empty and `closeRunRefs` drops it before
 * the run commits.
 */
const RUN_REFS = 'meta.refine_run_refs';

export async function openRunRefs(db: Db): Promise<void> {
  await db.run(`CREATE OR REPLACE TABLE ${RUN_REFS} (tenant VARCHAR, entity VARCHAR, col VARCHAR, value VARCHAR)`);
}

export async function closeRunRefs(db: Db): Promise<void> {
  await db.run(`DROP TABLE IF EXISTS ${RUN_REFS}`);
}

/**
 * What refining a layout's batch reads and writes, as named resources: `refined.<entity>`,
 * `identity.person_ids` (the roster's IDs, read by every student lookup), `identity.persons` (the
 * identity facts), `meta.aux_<table>`, `run_refs.<entity>` (the run's quarantined keys of an
 * entity). The schemas `seeds`, `raw` and `quarantine` are not resources: refine only reads the
 * first two and only appends to the third. Batches whose sets do not meet (neither writes what the
 * other reads or writes) give the same result in either order, or side by side (decision 0310).
 * Read from the layout and its contracts: mapped references, student and section lookups, identity
 * feeds, and every SQL text the layout or its contracts hold.
 */
export function batchAccess(layout: Layout): { reads: Set<string>; writes: Set<string> } {
  const reads = new Set<string>();
  const writes = new Set<string>();
  const sqlReads = (text: string) => {
    for (const m of text.matchAll(/\brefined\."?([a-z_][a-z0-9_]*)/gi)) reads.add(`refined.${(m[1] as string).toLowerCase()}`);
    for (const m of text.matchAll(/\bmeta\."?(aux_[a-z0-9_]+)/gi)) reads.add(`meta.${(m[1] as string).toLowerCase()}`);
    // the identity store's tables: the IDs, and the facts (persons, and the views over them)
    for (const m of text.matchAll(/\bidentity\."?([a-z_]+)/gi)) reads.add((m[1] as string).toLowerCase() === 'person_ids' ? 'identity.person_ids' : 'identity.persons');
  };
  const visit = (e: Expr): void => {
    if (typeof e === 'string') return;
    if ('sql' in e) sqlReads(e.sql);
    else if ('student' in e) reads.add('identity.person_ids');
    else if ('sectionOf' in e) reads.add('refined.sections');
    else if ('key' in e) e.key.forEach(visit);
  };
  if (layout.student) reads.add('identity.person_ids');
  for (const m of layout.mappings) {
    const contract = contractOf(m.entity);
    writes.add(`refined.${contract.entity}`);
    // the run's quarantined keys of this entity (meta.refine_run_refs, by entity)
    if ((REFERENCED[contract.entity] ?? []).some((c) => m.fields[c] !== undefined)) writes.add(`run_refs.${contract.entity}`);
    if (m.where) sqlReads(m.where);
    for (const [name, e] of Object.entries(m.fields)) {
      visit(e);
      if (typeof e === 'object' && 'sectionOf' in e) reads.add('run_refs.sections');
      // a reference is checked against its refined table and the run's quarantined keys, except
      // a student found through the roster (the identity store's IDs, above)
      const ref = contract.columns.find((c) => c.name === name)?.references;
      if (ref && !(typeof e === 'object' && 'student' in e)) {
        reads.add(`refined.${ref.entity}`);
        reads.add(`run_refs.${ref.entity}`);
      }
    }
    for (const chk of m.checks ?? []) sqlReads(chk.sql);
    for (const chk of contract.checks ?? []) sqlReads(chk.sql);
  }
  for (const feed of layout.identity ?? []) {
    // every feed checks or joins the roster's IDs and writes identity facts; a roster-defining
    // feed registers IDs, and so does one that brings other systems' IDs (e.g. LMS user ids)
    reads.add('identity.person_ids');
    writes.add('identity.persons');
    if (feed.defines || (feed.otherIds?.length ?? 0) > 0) writes.add('identity.person_ids');
    if (feed.where) sqlReads(feed.where);
  }
  if (layout.aux) writes.add(`meta.aux_${layout.aux.table}`.toLowerCase());
  return { reads, writes };
}

/** Whether two batches must keep their order: one writes what the other reads or writes. */
export function batchesConflict(a: { reads: Set<string>; writes: Set<string> }, b: { reads: Set<string>; writes: Set<string> }): boolean {
  for (const w of a.writes) if (b.writes.has(w) || b.reads.has(w)) return true;
  for (const w of b.writes) if (a.reads.has(w)) return true;
  return false;
}

/** Columns other records reference, per entity (from the contracts), plus the SIS section identifier. */
const REFERENCED: Record<string, string[]> = (() => {
  const out: Record<string, Set<string>> = { sections: new Set(['section_identifier']) };
  for (const e of ENTITIES) for (const c of e.columns) if (c.references) (out[c.references.entity] ??= new Set()).add(c.references.column);
  return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, [...v]]));
})();
const colName = (logical: string) => ident(`c_${logical}`);

/** Extraction of a logical column from a raw row of one file (before the batch is normalized). */
function exprOfColumn(layout: Layout, columns: Record<string, string[]>, logical: string): string {
  const hit = columns[logical];
  if (!hit || hit.length === 0) return 'CAST(NULL AS VARCHAR)';
  if (layout.format === 'csv') return `edlake_clean(r."${(hit[0] as string).replaceAll('"', '""')}")`;
  const parts = hit.map((p) => `json_extract_string(r.json, ${literal(p)})`);
  return `edlake_clean(${parts.length === 1 ? parts[0] : `coalesce(${parts.join(', ')})`})`;
}

interface Ctx {
  db: Db;
  batch: RefineBatch;
  /** Extra placeholders ({__name}, {__value} of unpivots). */
  extra: Record<string, string>;
  /** Logical columns present in at least one file of the batch. */
  present: Set<string>;
  /** Present columns that `tmp_rows` carries (CSV: those the layout reads; JSON: all present). */
  loaded: Set<string>;
  /**
   * While a mapping is staged: the lookups its fields need (students, persons, sections), as LEFT
   * JOINs of its FROM clause and the key tables they read (built just before the staged table).
   */
  lookups?: { joins: Map<string, { alias: string; table: string; id: string }>; tables: Map<string, { name: string; sql: string }> };
  /** CSV batches: `tmp_rows` is a view over the raw Parquet; this recreates it with the student ID expression. */
  rowsView?: (studentId: string) => string;
  /** Vendor layouts: the logical student ID column chosen per file. */
  studentColumnName?: Map<number, string>;
  /** Vendor layouts: the student lookup built by the ID detection (id_value → person_key, one row per value). */
  studentIds?: string;
  /** Tables the ID detection left, dropped when the batch ends. */
  idTables?: string[];
}

/** Turn a SQL template's `{col}` placeholders into expressions over the normalized rows (alias r). */
function template(ctx: Ctx, sql: string): string {
  return sql.replace(/\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => {
    if (name === 'tenant') return literal(ctx.batch.tenant);
    if (name === '_delivered_at') return 'r._delivered_at';
    if (name === '_row_number') return 'r._row_number';
    if (name === 'json') return 'r.json';
    if (name === '_rows') return '(SELECT * FROM tmp_rows WHERE __f = r.__f)';
    const x = ctx.extra[name];
    if (x !== undefined) return x;
    if (!(name in ctx.batch.layout.columns)) throw new Error(`source layout ${ctx.batch.layout.id}: template names unknown column {${name}}`);
    return ctx.present.has(name) ? `r.${colName(loadedColumn(ctx, name))}` : 'CAST(NULL AS VARCHAR)';
  });
}

/** A present column, checked to be one `tmp_rows` carries (a layout reading a column the scan of its definition missed is a bug, not a NULL). */
function loadedColumn(ctx: Ctx, name: string): string {
  if (ctx.present.has(name) && !ctx.loaded.has(name)) throw new Error(`source layout ${ctx.batch.layout.id}: column ${name} is read but was not loaded (usedColumns missed it)`);
  return name;
}

/**
 * The logical columns a layout reads: every column named in its mappings, identity feeds, student
 * ID candidates, auxiliary table or tenant rule, as a value or as a `{placeholder}` in SQL. A
 * column only described (header aliases, recognition) is not loaded into the batch.
 */
export function usedColumns(layout: Layout): Set<string> {
  const out = new Set<string>();
  const visit = (v: unknown): void => {
    if (typeof v === 'string') {
      if (v in layout.columns) out.add(v);
      for (const m of v.matchAll(/\{([A-Za-z_][A-Za-z0-9_]*)\}/g)) if ((m[1] as string) in layout.columns) out.add(m[1] as string);
    } else if (Array.isArray(v)) v.forEach(visit);
    else if (v !== null && typeof v === 'object') Object.values(v).forEach(visit);
  };
  visit([layout.mappings, layout.identity ?? [], layout.student ?? {}, layout.aux ?? {}, layout.tenantFromLea ?? {}]);
  return out;
}

/** The first logical column an expression reads, for reporting the delivered field name. */
function firstColumn(e: Expr): string | undefined {
  if (typeof e === 'string') return e;
  if ('sql' in e) return e.field ?? /\{([A-Za-z_][A-Za-z0-9_]*)\}/.exec(e.sql)?.[1];
  if ('student' in e) return e.student;
  if ('person' in e) return e.person;
  if ('sectionOf' in e) return e.sectionOf;
  if ('key' in e) {
    for (const p of e.key) {
      const c = firstColumn(p);
      if (c) return c;
    }
  }
  return undefined;
}

function sqlOf(ctx: Ctx, e: Expr): string {
  if (typeof e === 'string') return template(ctx, `{${e}}`);
  if ('sql' in e) return `(${template(ctx, e.sql)})`;
  if ('value' in e) return typeof e.value === 'string' ? literal(e.value) : String(e.value);
  const tenant = literal(ctx.batch.tenant);
  if ('student' in e) {
    const types = (ctx.batch.layout.student?.idTypes ?? ['local']).map(literal).join(', ');
    const id = studentIdSql(ctx, e.student);
    const detected = ctx.studentIds && ctx.batch.layout.student ? lookup(ctx, 'student|detected', id, 'person_key', ctx.studentIds) : undefined;
    return (
      detected ??
      lookup(ctx, `student|${types}|${id}`, id, 'person_key', (name) =>
        `CREATE OR REPLACE TEMP TABLE ${name} AS
         SELECT d.v AS id_value, min(k.person_key) AS person_key
         FROM (SELECT DISTINCT lower(${id}) AS v FROM tmp_rows r WHERE ${id} IS NOT NULL) d
         JOIN identity.person_ids k ON k.tenant = ${tenant} AND k.kind = 'student' AND k.id_type IN (${types}) AND k.id_value = d.v
         GROUP BY d.v`,
      ) ?? `(SELECT min(k.person_key) FROM identity.person_ids k WHERE k.tenant = ${tenant} AND k.kind = 'student' AND k.id_type IN (${types}) AND k.id_value = lower(${id}))`
    );
  }
  if ('person' in e) {
    const id = template(ctx, `{${e.person}}`);
    return lookup(ctx, `person|${id}`, id, 'person_key', 'tmp_person_keys') ?? `(SELECT t.person_key FROM tmp_person_keys t WHERE t.id_value = lower(${id}))`;
  }
  if ('sectionOf' in e) {
    const id = template(ctx, `{${e.sectionOf}}`);
    return (
      lookup(ctx, 'sections', id, 'section_key', (name) =>
        `CREATE OR REPLACE TEMP TABLE ${name} AS
         SELECT lower(s.section_identifier) AS id_value, min(s.section_key) AS section_key FROM refined.sections s WHERE s.tenant = ${tenant} GROUP BY 1`,
      ) ?? `(SELECT min(s.section_key) FROM refined.sections s WHERE s.tenant = ${tenant} AND lower(s.section_identifier) = lower(${id}))`
    );
  }
  // key
  const parts = e.key.map((p) => `CAST(${sqlOf(ctx, p)} AS VARCHAR)`);
  return `CASE WHEN ${parts.map((p) => `${p} IS NULL`).join(' OR ')} THEN NULL ELSE edlake_key(${literal(ctx.batch.tenant)}, [${parts.join(', ')}]) END`;
}

/**
 * A lookup as a LEFT JOIN of the staged mapping's FROM clause, on a table with one row per
 * lower-cased ID (so the join keeps one row per delivered row). As a correlated subquery, DuckDB
 * decorrelated it into a join that first copied every delivered row with all its columns: at
 * 1,000,000 students, 60 of the 98 s of the LMS submissions' staged table (decision 0308). Returns
 * the joined value, or undefined outside a staged mapping or when the ID depends on an unpivoted
 * item (then the caller keeps the subquery).
 */
function lookup(ctx: Ctx, signature: string, id: string, value: string, table: string | ((name: string) => string)): string | undefined {
  const l = ctx.lookups;
  if (!l || id.includes('u.__name')) return undefined;
  let name: string;
  if (typeof table === 'string') name = table;
  else {
    const known = l.tables.get(signature);
    name = known?.name ?? `tmp_lookup${l.tables.size}`;
    if (!known) l.tables.set(signature, { name, sql: table(name) });
  }
  const on = `${name}|${id}`;
  let join = l.joins.get(on);
  if (!join) {
    join = { alias: `lk${l.joins.size}`, table: name, id };
    l.joins.set(on, join);
  }
  return `${join.alias}.${value}`;
}

/** The FROM clause's joins of the lookups registered while a mapping's fields were built. */
function lookupJoins(ctx: Ctx): string {
  return [...(ctx.lookups?.joins.values() ?? [])].map((j) => `LEFT JOIN ${j.table} ${j.alias} ON ${j.alias}.id_value = lower(${j.id})`).join(' ');
}

/** The student ID of a row: the detected column of its file for vendor layouts, else the declared column. */
function studentIdSql(ctx: Ctx, declared: string): string {
  return ctx.batch.layout.student ? 'r.__student_id' : template(ctx, `{${declared}}`);
}

/** Header name (as delivered) of a logical column, for quarantine records. */
function deliveredName(ctx: Ctx, logical: string | undefined, fallback: string): string {
  if (!logical) return fallback;
  if (ctx.batch.layout.format !== 'csv') return logical;
  // the header name as delivered in the batch's first file that has the column
  for (const f of ctx.batch.files) {
    const hit = f.columns[logical];
    if (hit && hit.length > 0) return hit[0] as string;
  }
  return logical;
}

/** SQL giving a logical column's delivered name per row (header spellings can differ between files). */
function deliveredNameSql(ctx: Ctx, logical: string | undefined, fallback: string): string {
  if (!logical || ctx.batch.layout.format !== 'csv') return literal(logical ?? fallback);
  const names = ctx.batch.files.map((f) => f.columns[logical]?.[0] ?? logical);
  if (new Set(names).size <= 1) return literal(names[0] ?? logical);
  return `CASE r.__f ${names.map((n, i) => `WHEN ${i} THEN ${literal(n)}`).join(' ')} END`;
}

function typedExpr(c: ColumnContract, v: string): string {
  switch (c.type) {
    case 'DATE':
      return `edlake_date(${v})`;
    case 'TIMESTAMP':
      return `edlake_timestamp(${v})`;
    case 'INTEGER':
      return `CASE WHEN TRY_CAST(${v} AS DOUBLE) = floor(TRY_CAST(${v} AS DOUBLE)) AND abs(TRY_CAST(${v} AS DOUBLE)) < 2147483647 THEN CAST(TRY_CAST(${v} AS DOUBLE) AS INTEGER) END`;
    case 'DOUBLE':
      return `TRY_CAST(${v} AS DOUBLE)`;
    case 'BOOLEAN':
      return `edlake_bool(${v})`;
    case 'VARCHAR':
      return v;
    case 'VARCHAR[]':
      return v;
  }
}

function boundLiteral(c: ColumnContract, b: number | string): string {
  if (typeof b === 'number') return String(b);
  if (c.type === 'DATE') return `DATE ${literal(b)}`;
  if (c.type === 'TIMESTAMP') return `TIMESTAMP ${literal(b)}`;
  return literal(b);
}

function mappingApplies(layout: Layout, m: Mapping | IdentityFeed): boolean {
  return layout.format === 'csv' ? m.recordType === undefined : true;
}

function recordTypeCond(m: { recordType?: string }): string {
  return m.recordType ? `r._record_type = ${literal(m.recordType)}` : 'true';
}

/**
 * Normalize the batch as `tmp_rows`: every file's rows, logical columns as `c_<name>` (trimmed,
 * empty as NULL), provenance, and the row id `__row`.
 *
 * CSV batches: a view over the raw Parquet, with only the columns the layout reads. Each reader
 * (ID detection, person keys, one staged table per mapping) reads just its own columns from the
 * compressed files; at 1,000,000 students a table copy of the 36 M LMS submissions, all columns,
 * was written and read again under memory pressure (decision 0308). JSON batches: a table, since
 * every reader would otherwise parse the JSON again.
 */
async function normalizeRows(ctx: Ctx): Promise<void> {
  const { db, batch } = ctx;
  const json = batch.layout.format !== 'csv';
  const presentAll = Object.keys(batch.layout.columns).filter((l) => batch.files.some((f) => (f.columns[l]?.length ?? 0) > 0));
  ctx.present = new Set(presentAll);
  const used = json ? undefined : usedColumns(batch.layout);
  const logicals = used ? presentAll.filter((l) => used.has(l)) : presentAll;
  ctx.loaded = new Set(logicals);
  await db.run(`CREATE OR REPLACE TEMP TABLE tmp_files AS SELECT * FROM (VALUES ${batch.files.map((f, i) => `(${i}, ${literal(f.sha256)}, ${literal(f.path)})`).join(', ')}) t(__f, sha256, path)`);
  // Files with the same column map are read in one scan; a file's index in the batch comes from
  // its place in the scan's list (file_index), not from a join on its hash.
  const groups = new Map<string, { columns: Record<string, string[]>; files: Array<{ f: BatchFile; i: number }> }>();
  batch.files.forEach((f, i) => {
    const k = JSON.stringify(logicals.map((l) => f.columns[l] ?? null));
    const g = groups.get(k) ?? { columns: f.columns, files: [] };
    g.files.push({ f, i });
    groups.set(k, g);
  });
  // A delivered column named file_index would hide the scan's virtual column of that name: such a
  // group finds its files by hash instead.
  const shadowed = new Set<number>();
  for (const [k, g] of [...groups.values()].entries()) {
    if (g.files.length < 2) continue;
    const n = await db.scalar<number>(
      `SELECT count(*)::INTEGER FROM parquet_schema([${g.files.map((x) => literal(x.f.rowsFile)).join(', ')}]) WHERE lower(name) = 'file_index'`,
    );
    if ((n ?? 0) > 0) shadowed.add(k);
  }
  const selects = (studentId: string) =>
    [...groups.values()].map((g, k) => {
      const cols = logicals.map((l) => `${exprOfColumn(batch.layout, g.columns, l)} AS ${colName(l)}`);
      const fileOf =
        g.files.length === 1 ? `${g.files[0]!.i}` : shadowed.has(k) ? 'tf.__f' : `CAST([${g.files.map((x) => x.i).join(', ')}][CAST(r.file_index AS BIGINT) + 1] AS INTEGER)`;
      return `SELECT __f, CAST(__f AS BIGINT) * ${FILE_SHIFT} + _row_number AS __row, * EXCLUDE (__f) FROM (
              SELECT ${fileOf} AS __f, r._row_number, r._ragged, r._delivered_at, r._file_sha256, r._source,
                ${json ? 'r._record_type, r.json' : `CAST(NULL AS VARCHAR) AS _record_type, CAST(NULL AS VARCHAR) AS json`}
                ${cols.length > 0 ? `, ${cols.join(', ')}` : ''}
              FROM read_parquet([${g.files.map((x) => literal(x.f.rowsFile)).join(', ')}], union_by_name = true) r
              ${shadowed.has(k) ? 'JOIN tmp_files tf ON tf.sha256 = r._file_sha256' : ''}) r`;
    }).map((sel) => `SELECT *, ${studentId} AS __student_id FROM (${sel})`);
  if (json) {
    await db.run(`CREATE OR REPLACE TEMP TABLE tmp_rows AS ${selects('CAST(NULL AS VARCHAR)').join(' UNION ALL ')}`);
  } else {
    ctx.rowsView = (studentId: string) => `CREATE OR REPLACE TEMP VIEW tmp_rows AS ${selects(studentId).join(' UNION ALL ')}`;
    await db.run(ctx.rowsView('CAST(NULL AS VARCHAR)'));
  }
}

/**
 * Student ID detection, per file: try each candidate column against the roster's IDs (every ID type
 * the layout allows: a column may mix local IDs and SSIDs); choose the best match rate above the
 * threshold. Sets `tmp_rows.__student_id` from each file's chosen column.
 */
async function detectStudentColumns(ctx: Ctx): Promise<Map<number, IdDetection>> {
  const { db, batch } = ctx;
  const spec = batch.layout.student!;
  const types = spec.idTypes.map(literal).join(', ');
  const perFile = new Map<number, { cands: IdDetection['candidates']; best?: { col: string; rate: number; by: Record<string, number> } }>();
  batch.files.forEach((_, i) => perFile.set(i, { cands: [] }));
  const idTables = new Map<string, string>();
  for (const col of spec.candidates) {
    if (!ctx.present.has(col)) continue;
    // The column's distinct values per file, and the roster's match of each distinct value once
    // (not once per file: at 1,000,000 students a Canvas value comes in 28 files). The matches are
    // kept: they are the student lookup of the staged mappings (below), so a vendor file's IDs are
    // read and matched once, not again for the lookup (decision 0311).
    const ids = `tmp_ids${idTables.size}`;
    idTables.set(col, ids);
    await db.run(
      `CREATE OR REPLACE TEMP TABLE tmp_vals AS SELECT DISTINCT __f, lower(${colName(loadedColumn(ctx, col))}) AS v FROM tmp_rows WHERE NOT _ragged AND ${colName(col)} IS NOT NULL`,
    );
    await db.run(
      `CREATE OR REPLACE TEMP TABLE ${ids} AS
       SELECT d.v AS id_value, min(k.id_type) AS id_type, min(k.person_key) AS person_key
       FROM (SELECT DISTINCT v FROM tmp_vals) d
       JOIN identity.person_ids k ON k.tenant = ${literal(batch.tenant)} AND k.kind = 'student' AND k.id_type IN (${types}) AND k.id_value = d.v
       GROUP BY d.v`,
    );
    const rows = await db.all<{ f: number; id_type: string | null; n: number }>(
      `SELECT x.__f AS f, i.id_type, count(*)::INTEGER AS n FROM tmp_vals x LEFT JOIN ${ids} i ON i.id_value = x.v GROUP BY ALL`,
    );
    await db.run(`DROP TABLE tmp_vals`);
    const byFile = new Map<number, Array<{ id_type: string | null; n: number }>>();
    for (const r of rows) {
      const l = byFile.get(r.f) ?? [];
      l.push(r);
      byFile.set(r.f, l);
    }
    for (const [f, list] of byFile) {
      const total = list.reduce((s, r) => s + r.n, 0);
      const by: Record<string, number> = {};
      for (const r of list) if (r.id_type !== null) by[r.id_type] = r.n;
      const matched = total - (list.find((r) => r.id_type === null)?.n ?? 0);
      const rate = total === 0 ? 0 : matched / total;
      const pf = perFile.get(f)!;
      pf.cands.push({ column: batch.files[f]!.columns[col]?.[0] ?? col, distinctValues: total, matchRate: rate });
      // candidates come in order of preference: a later one must match clearly better to win
      if (rate >= ID_MATCH_THRESHOLD && (!pf.best || rate > pf.best.rate + ID_MATCH_PREFERENCE)) pf.best = { col, rate, by };
    }
  }
  const out = new Map<number, IdDetection>();
  const cases: string[] = [];
  for (const [i, pf] of perFile) {
    const f = batch.files[i]!;
    out.set(i, {
      path: f.path,
      source: batch.source,
      layout: batch.layout.id,
      column: pf.best ? (f.columns[pf.best.col]?.[0] ?? pf.best.col) : null,
      matchRate: pf.best?.rate ?? Math.max(0, ...pf.cands.map((c) => c.matchRate)),
      matchedBy: pf.best?.by ?? {},
      candidates: pf.cands,
    });
    if (pf.best) cases.push(`WHEN ${i} THEN ${colName(loadedColumn(ctx, pf.best.col))}`);
  }
  // Files with no column above the threshold: their rows name no roster student; the first
  // candidate present is kept as the delivered ID (quarantined as unknown_student).
  const fallback = spec.candidates.find((c) => ctx.present.has(c));
  const otherwise = fallback ? colName(loadedColumn(ctx, fallback)) : 'CAST(NULL AS VARCHAR)';
  const studentId = cases.length > 0 ? `CASE __f ${cases.join(' ')} ELSE ${otherwise} END` : otherwise;
  if (ctx.rowsView) await db.run(ctx.rowsView(studentId));
  else await db.run(`UPDATE tmp_rows SET __student_id = ${studentId}`);
  ctx.studentColumnName = new Map([...perFile].map(([i, pf]) => [i, pf.best?.col ?? fallback ?? spec.candidates[0]!]));
  // The student lookup: the roster's match of every value of the columns that name the students
  // (one row per value; a value names the same student in whichever column it comes). Values seen
  // only in ragged rows are left out: such rows are quarantined whole, and no rule reads their key.
  // Not for a layout that registers roster IDs itself (the matches were taken before it does), nor
  // for one whose quarantined student keys other batches read (a ragged row's key would be missing):
  // no layout with ID detection does either today; such a layout keeps the lookup of 0308.
  const ownIds = (batch.layout.identity ?? []).some((f) => f.defines || (f.otherIds?.length ?? 0) > 0);
  const keysRead = batch.layout.mappings.some((m) => (REFERENCED[m.entity] ?? []).some((c) => typeof m.fields[c] === 'object' && 'student' in (m.fields[c] as object)));
  const chosen = ownIds || keysRead ? [] : [...new Set([...perFile.values()].map((pf) => pf.best?.col ?? fallback).filter((c): c is string => c !== undefined))];
  const tables = chosen.map((c) => idTables.get(c)).filter((t): t is string => t !== undefined);
  if (tables.length === 1) ctx.studentIds = tables[0];
  else if (tables.length > 1) {
    await db.run(
      `CREATE OR REPLACE TEMP TABLE tmp_student_ids AS SELECT id_value, min(person_key) AS person_key FROM (${tables.map((t) => `SELECT id_value, person_key FROM ${t}`).join(' UNION ALL ')}) GROUP BY id_value`,
    );
    ctx.studentIds = 'tmp_student_ids';
  }
  ctx.idTables = [...idTables.values(), ...(tables.length > 1 ? ['tmp_student_ids'] : [])];
  return out;
}

/**
 * Person keys (HMAC) for the distinct IDs of the columns named by {person} expressions and identity
 * feeds, computed in DuckDB in one statement (decision 0313): at 1,000,000 students, reading the
 * IDs into Node and keying them one by one took 6-14 s per roster batch while DuckDB waited. An ID
 * outside printable ASCII (rare) is keyed in Node, where the definition lives.
 */
async function preparePersonKeys(ctx: Ctx): Promise<void> {
  const { db, batch } = ctx;
  const cols = new Set<string>();
  const visit = (e: Expr) => {
    if (typeof e === 'object' && 'person' in e) cols.add(e.person);
    if (typeof e === 'object' && 'key' in e) e.key.forEach(visit);
  };
  for (const m of batch.layout.mappings) Object.values(m.fields).forEach(visit);
  for (const f of batch.layout.identity ?? []) cols.add(f.id);
  const unions = [...cols].filter((c) => ctx.present.has(c)).map((c) => `SELECT lower(${colName(loadedColumn(ctx, c))}) AS v FROM tmp_rows`);
  if (unions.length === 0) {
    await db.run(`CREATE OR REPLACE TEMP TABLE tmp_person_keys (id_value VARCHAR, person_key VARCHAR)`);
    return;
  }
  await db.run(
    `CREATE OR REPLACE TEMP TABLE tmp_person_keys AS
     SELECT v AS id_value, CASE WHEN regexp_full_match(v, ${SQL_KEYABLE_ID}) THEN ${personKeySql(`${literal(`${batch.tenant}|`)} || v`)} END AS person_key
     FROM (SELECT DISTINCT v FROM (${unions.join(' UNION ALL ')}) WHERE v IS NOT NULL)`,
    personKeyParams(batch.piiKey),
  );
  const others = await db.all<{ v: string }>(`SELECT id_value AS v FROM tmp_person_keys WHERE person_key IS NULL`);
  if (others.length === 0) return;
  await db.run(`CREATE OR REPLACE TEMP TABLE tmp_person_keys_js (id_value VARCHAR, person_key VARCHAR)`);
  const appender = await db.connection.createAppender('tmp_person_keys_js', 'main', 'temp');
  for (const { v } of others) {
    appender.appendVarchar(v);
    appender.appendVarchar(personKey(batch.piiKey, batch.tenant, v));
    appender.endRow();
  }
  appender.closeSync();
  await db.run(`UPDATE tmp_person_keys AS t SET person_key = j.person_key FROM tmp_person_keys_js j WHERE t.id_value = j.id_value`);
  await db.run(`DROP TABLE tmp_person_keys_js`);
}

/**
 * Refine one batch (all files of a layout and tenant). Every statement is set-based.
 * Returns the outcome per file index.
 */
export async function refineBatch(db: Db, batch: RefineBatch): Promise<Map<number, FileOutcome>> {
  const ctx: Ctx = { db, batch, extra: {}, present: new Set(), loaded: new Set() };
  const { layout } = batch;
  const outcomes = new Map<number, FileOutcome>();
  batch.files.forEach((_, i) => outcomes.set(i, { refined: 0, quarantined: 0, duplicate: 0, skipped: 0, skippedReasons: {}, quarantineByRule: {}, entities: {} }));
  const entities: Record<string, { inserted: number; updated: number }> = {};

  await normalizeRows(ctx);
  if (layout.student) {
    const det = await detectStudentColumns(ctx);
    for (const [i, d] of det) outcomes.get(i)!.idDetection = d;
  }
  await preparePersonKeys(ctx);

  // Roster-defining identity feeds register their IDs first, so that the batch's own mappings find them.
  for (const feed of layout.identity ?? []) {
    if (feed.defines && mappingApplies(layout, feed)) await registerIds(ctx, feed);
  }

  await db.run(`CREATE OR REPLACE TEMP TABLE tmp_fails (row_id BIGINT, entity VARCHAR, field VARCHAR, rule VARCHAR, value VARCHAR)`);
  await db.run(`CREATE OR REPLACE TEMP TABLE tmp_staged (row_id BIGINT, mapping INTEGER, derived BOOLEAN, duplicate BOOLEAN)`);

  // Ragged rows (CSV) and lines that are not JSON (NDJSON): the row cannot be trusted at all.
  await db.run(
    `INSERT INTO tmp_fails SELECT __row, NULL, ${layout.format === 'ndjson' ? "'(line)'" : 'NULL'}, ${layout.format === 'ndjson' ? "'invalid_value'" : "'ragged_row'"}, NULL FROM tmp_rows WHERE _ragged`,
  );

  const stagedTables: Array<{ index: number; mapping: Mapping; contract: EntityContract; table: string }> = [];
  for (let i = 0; i < layout.mappings.length; i++) {
    const m = layout.mappings[i] as Mapping;
    if (!mappingApplies(layout, m)) continue;
    const contract = contractOf(m.entity);
    const table = `tmp_m${i}`;
    await stageMapping(ctx, m, contract, table, stagedTables);
    stagedTables.push({ index: i, mapping: m, contract, table });
    // Derived records (e.g. the assessment of a score row) are inserted at once, so that the rows
    // that depend on them are checked against them.
    if (m.derived) await upsert(ctx, m, contract, table, i, entities);
  }
  for (const feed of layout.identity ?? []) {
    if (mappingApplies(layout, feed)) await checkIdentityFeed(ctx, feed);
  }
  for (const s of stagedTables) {
    if (!s.mapping.derived) await upsert(ctx, s.mapping, s.contract, s.table, s.index, entities);
  }
  for (const feed of layout.identity ?? []) {
    if (mappingApplies(layout, feed)) await writeIdentity(ctx, feed);
  }
  if (layout.aux) await writeAux(ctx, layout.aux);

  // Quarantine: one row per failure, with file, row, field as delivered, rule and value.
  await db.run(
    `INSERT INTO quarantine.rows
     SELECT $run, tf.sha256, tf.path, CAST(f.row_id % ${FILE_SHIFT} AS INTEGER), $source, $layout, f.entity, f.field, f.rule, f.value, r.reason
     FROM tmp_fails f JOIN tmp_files tf ON tf.__f = CAST(f.row_id // ${FILE_SHIFT} AS INTEGER)
     LEFT JOIN (SELECT unnest(map_keys(m)) AS rule, unnest(map_values(m)) AS reason FROM (SELECT MAP {${Object.entries(ROW_QUARANTINE_REASONS)
       .map(([k, v]) => `${literal(k)}: ${literal(v)}`)
       .join(', ')}} AS m)) r ON r.rule = f.rule`,
    { run: batch.runId, source: batch.source, layout: layout.id },
  );

  // Outcome per delivered row: quarantined (any failure), else that of its first non-derived
  // staged record, else duplicate when all its staged records are, else refined; rows with no
  // failure and no staged record are skipped. Counted from the failures and staged records alone
  // (a row appears in them or is skipped), not by joining every delivered row with them.
  const applicable = layout.mappings.filter((m) => mappingApplies(layout, m));
  const stagedOnce =
    applicable.length === 1 && !applicable[0]!.unpivot && !applicable[0]!.derived && !(layout.identity ?? []).some((feed) => mappingApplies(layout, feed));
  const counts = await db.all<{ f: number; outcome: string; n: number }>(
    stagedOnce
      ? // one mapping, no unpivot, no identity feed: a row is staged at most once, and only when it
        // broke no rule (its upsert runs after every rule), so no per-row grouping is needed
        `SELECT CAST(row_id // ${FILE_SHIFT} AS INTEGER) AS f, CASE WHEN duplicate THEN 'duplicate' ELSE 'refined' END AS outcome, count(*)::INTEGER AS n FROM tmp_staged GROUP BY ALL
         UNION ALL
         SELECT CAST(row_id // ${FILE_SHIFT} AS INTEGER), 'quarantined', count(DISTINCT row_id)::INTEGER FROM tmp_fails GROUP BY ALL`
      : `WITH marks AS (
           SELECT row_id, true AS failed, CAST(NULL AS INTEGER) AS mapping, CAST(NULL AS BOOLEAN) AS derived, CAST(NULL AS BOOLEAN) AS duplicate FROM tmp_fails
           UNION ALL SELECT row_id, false, mapping, derived, duplicate FROM tmp_staged),
         per_row AS (
           SELECT row_id, bool_or(failed) AS failed,
             count(*) FILTER (WHERE NOT failed AND NOT derived) AS primaries,
             arg_min(duplicate, mapping) FILTER (WHERE NOT failed AND NOT derived) AS primary_duplicate,
             bool_and(duplicate) FILTER (WHERE NOT failed) AS all_duplicate
           FROM marks GROUP BY row_id)
         SELECT CAST(row_id // ${FILE_SHIFT} AS INTEGER) AS f,
           CASE WHEN failed THEN 'quarantined'
                WHEN primaries > 0 THEN CASE WHEN primary_duplicate THEN 'duplicate' ELSE 'refined' END
                WHEN all_duplicate THEN 'duplicate' ELSE 'refined' END AS outcome,
           count(*)::INTEGER AS n
         FROM per_row GROUP BY ALL`,
  );
  for (const c of counts) {
    const o = outcomes.get(c.f)!;
    if (c.outcome === 'quarantined') o.quarantined += c.n;
    else if (c.outcome === 'duplicate') o.duplicate += c.n;
    else o.refined += c.n;
  }
  // Skipped: the delivered rows that are in neither list.
  const delivered = await db.all<{ f: number; n: number }>(`SELECT __f AS f, count(*)::INTEGER AS n FROM tmp_rows GROUP BY ALL`);
  let anySkipped = false;
  for (const d of delivered) {
    const o = outcomes.get(d.f)!;
    const skipped = d.n - o.quarantined - o.duplicate - o.refined;
    if (skipped < 0) throw new Error(`refine ${layout.id}: file ${batch.files[d.f]?.path} has ${d.n} rows but ${d.n - skipped} outcomes`);
    o.skipped = skipped;
    if (skipped > 0) anySkipped = true;
  }
  if (anySkipped && layout.format === 'csv') {
    // Why: no mapping of the layout applies to the row (one reason for the whole layout).
    const reason = layout.skip?.['*'] ?? CSV_SKIP_REASON;
    for (const o of outcomes.values()) if (o.skipped > 0) o.skippedReasons[reason] = o.skipped;
  } else if (anySkipped) {
    // Why: a record type the source declares out of the model, or none of its mappings applies.
    const why = await db.all<{ f: number; reason: string | null; n: number }>(
      `SELECT r.__f AS f, ${skipReasonSql(layout)} AS reason, count(*)::INTEGER AS n FROM tmp_rows r
       WHERE NOT EXISTS (SELECT 1 FROM tmp_fails x WHERE x.row_id = r.__row) AND NOT EXISTS (SELECT 1 FROM tmp_staged x WHERE x.row_id = r.__row)
       GROUP BY ALL`,
    );
    for (const w of why) {
      const o = outcomes.get(w.f)!;
      const reason = w.reason ?? 'no mapping applies to this row';
      o.skippedReasons[reason] = (o.skippedReasons[reason] ?? 0) + w.n;
    }
    for (const [i, o] of outcomes) {
      const n = Object.values(o.skippedReasons).reduce((a, b) => a + b, 0);
      if (n !== o.skipped) throw new Error(`refine ${layout.id}: file ${batch.files[i]?.path} has ${o.skipped} skipped rows but ${n} with a reason`);
    }
  }
  const rules = await db.all<{ f: number; rule: string; n: number }>(
    `SELECT CAST(row_id // ${FILE_SHIFT} AS INTEGER) AS f, rule, count(DISTINCT row_id)::INTEGER AS n FROM tmp_fails GROUP BY ALL`,
  );
  for (const r of rules) outcomes.get(r.f)!.quarantineByRule[r.rule as RowQuarantineReason] = r.n;
  // entity counts are per batch (the run record sums them): carried by the batch's first file
  outcomes.get(0)!.entities = entities;
  // Keys of records that were delivered but quarantined: rows elsewhere that reference them are
  // not quarantined again (the defect is reported once, where it is).
  for (const st of stagedTables) {
    for (const col of REFERENCED[st.contract.entity] ?? []) {
      if (st.mapping.fields[col] === undefined) continue;
      await db.run(
        `INSERT INTO ${RUN_REFS} SELECT DISTINCT ${literal(batch.tenant)}, ${literal(st.contract.entity)}, ${literal(col)}, CAST(t.${q(col)} AS VARCHAR)
         FROM ${st.table} t WHERE t.${q(col)} IS NOT NULL AND EXISTS (SELECT 1 FROM tmp_fails f WHERE f.row_id = t.__row)`,
      );
    }
  }
  for (const s of stagedTables) {
    await db.run(`DROP VIEW IF EXISTS ${s.table}`);
    await db.run(`DROP TABLE IF EXISTS ${s.table}_text`);
  }
  for (const t of ctx.idTables ?? []) await db.run(`DROP TABLE IF EXISTS ${t}`);
  await db.run(ctx.rowsView ? `DROP VIEW IF EXISTS tmp_rows` : `DROP TABLE IF EXISTS tmp_rows`);
  return outcomes;
}

const CSV_SKIP_REASON = 'no mapping of this layout applies to the row';

/** Why a JSON record is skipped, per row (CSV layouts have one reason, `CSV_SKIP_REASON` unless the layout names its own). */
function skipReasonSql(layout: Layout): string {
  const entries = Object.entries(layout.skip ?? {});
  const star = layout.skip?.['*'];
  const cases = entries
    .filter(([k]) => k !== '*')
    .map(([k, why]) => `WHEN r._record_type = ${literal(k)} THEN ${literal(`${k}: ${why}`)}`);
  return `CASE ${cases.join(' ')} ${cases.length === 0 ? 'WHEN false THEN NULL' : ''} ELSE ${literal(star ?? 'no mapping applies to this record type')} || ' (' || r._record_type || ')' END`;
}

/**
 * Stage one mapping: the mapped fields as text (lists stay lists), with the row id; then every
 * contract rule as one set-based query adding to tmp_fails; then the typed view `<table>` over it.
 */
async function stageMapping(
  ctx: Ctx,
  m: Mapping,
  contract: EntityContract,
  table: string,
  earlier: ReadonlyArray<{ mapping: Mapping; contract: EntityContract; table: string }>,
): Promise<void> {
  const { db, batch } = ctx;
  const cols = [...contract.columns];
  const byName = new Map(cols.map((c) => [c.name, c]));
  for (const f of Object.keys(m.fields)) {
    if (!byName.has(f)) throw new Error(`source layout ${batch.layout.id}: mapping to ${contract.entity} names ${f}, which its contract does not have`);
  }
  // Unpivot: one staged record per listed column present in the batch.
  let from = `tmp_rows r`;
  ctx.extra = {};
  let unpivoted = false;
  if (m.unpivot) {
    const present = m.unpivot.columns.filter((c) => ctx.present.has(c));
    if (present.length === 0) from += ` CROSS JOIN (SELECT CAST(NULL AS VARCHAR) AS __name WHERE false) u`;
    else {
      from += ` CROSS JOIN (VALUES ${present.map((c) => `(${literal(c)})`).join(', ')}) u(__name)`;
      ctx.extra['__name'] = 'u.__name';
      ctx.extra['__value'] = `(CASE u.__name ${present.map((c) => `WHEN ${literal(c)} THEN r.${colName(loadedColumn(ctx, c))}`).join(' ')} END)`;
      unpivoted = true;
    }
  }
  const where = [recordTypeCond(m), m.where ? `(${template(ctx, m.where)})` : 'true'].join(' AND ');
  ctx.lookups = { joins: new Map(), tables: new Map() };
  const select: string[] = [`r.__row`, `r.__f`, unpivoted ? `u.__name AS __item` : `CAST(NULL AS VARCHAR) AS __item`];
  const studentFields: Array<{ field: string; raw: string; declared: string }> = [];
  const rawOf = new Map<string, string>();
  for (const c of cols) {
    const e = m.fields[c.name];
    if (e === undefined) continue;
    const v = sqlOf(ctx, e);
    select.push(`${c.type === 'VARCHAR[]' ? v : `CAST(${v} AS VARCHAR)`} AS ${q(c.name)}`);
    if (typeof e === 'object' && ('person' in e || 'sectionOf' in e || 'key' in e)) {
      // the delivered value behind a computed key, for quarantine records
      const src = firstColumn(e);
      select.push(`${src && src in batch.layout.columns ? template(ctx, `{${src}}`) : 'CAST(NULL AS VARCHAR)'} AS ${q(`__raw_${c.name}`)}`);
      rawOf.set(c.name, `s.${q(`__raw_${c.name}`)}`);
    }
    if (typeof e === 'object' && 'student' in e) {
      select.push(`${studentIdSql(ctx, e.student)} AS ${q(`__raw_${c.name}`)}`);
      studentFields.push({ field: c.name, raw: `__raw_${c.name}`, declared: e.student });
    }
  }
  for (const [k, chk] of (m.checks ?? []).entries()) {
    if (chk.column) select.push(`${template(ctx, `{${chk.column}}`)} AS ${q(`__check_${k}`)}`);
  }
  select.push(`r._ragged AS __ragged`);
  const stg = `${table}_text`;
  // Each typed value (a date, a number) is converted once, beside its text: the rules (invalid,
  // range, reference) and the typed view read the conversion instead of repeating it. Repeated, the
  // date and integer conversions were 95 % of the rule statement's time (decision 0306).
  const mapped = cols.filter((c) => m.fields[c.name] !== undefined);
  const converted = new Set(mapped.filter((c) => c.type !== 'VARCHAR' && c.type !== 'VARCHAR[]').map((c) => c.name));
  const typedName = (c: ColumnContract) => q(`__typed_${c.name}`);
  /** The typed value of a mapped column, in the staged table `s`. */
  const typedOf = (c: ColumnContract) => (converted.has(c.name) ? `s.${typedName(c)}` : typedExpr(c, `s.${q(c.name)}`));
  const conversions = mapped.filter((c) => converted.has(c.name)).map((c) => `, ${typedExpr(c, `s.${q(c.name)}`)} AS ${typedName(c)}`);
  const lookups = ctx.lookups;
  for (const t of lookups.tables.values()) await db.run(t.sql);
  await db.run(`CREATE OR REPLACE TEMP TABLE ${stg} AS SELECT s.*${conversions.join('')} FROM (SELECT ${select.join(', ')} FROM ${from} ${lookupJoins(ctx)} WHERE ${where}) s`);
  ctx.lookups = undefined;
  for (const t of lookups.tables.values()) await db.run(`DROP TABLE IF EXISTS ${t.name}`);
  const ent = literal(contract.entity);
  // The field as delivered: the header name (per file), or for unpivoted items the item's column.
  // One set-based SELECT per rule; the rules of a mapping are sent together as one INSERT (UNION ALL).
  const rules: string[] = [];
  const fail = async (fieldSql: string, rule: RowQuarantineReason, valueSql: string, cond: string) => {
    rules.push(`SELECT s.__row, ${ent}, ${fieldSql.replaceAll('r.__f', 's.__f')}, ${literal(rule)}, CAST(${valueSql} AS VARCHAR) FROM ${stg} s WHERE NOT s.__ragged AND (${cond})`);
  };
  const fieldOf = (c: ColumnContract): string => {
    const e = m.fields[c.name] as Expr;
    const src = firstColumn(e);
    if (src === '__value' || src === '__name') return deliveredItemSql(ctx, m);
    return deliveredNameSql(ctx, src, c.name);
  };

  // unknown_student: the row names a student the roster does not have.
  for (const sf of studentFields) {
    const nameSql = batch.layout.student ? studentColumnNameSql(ctx) : deliveredNameSql(ctx, sf.declared, sf.field);
    await fail(nameSql, 'unknown_student', `s.${q(sf.raw)}`, `s.${q(sf.field)} IS NULL AND s.${q(sf.raw)} IS NOT NULL`);
  }
  // A section named by its SIS identifier that no refined section has (when the section is required).
  for (const c of mapped) {
    const e = m.fields[c.name] as Expr;
    const raw = rawOf.get(c.name);
    if (raw && typeof e === 'object' && 'sectionOf' in e && c.required) {
      await fail(
        deliveredNameSql(ctx, e.sectionOf, c.name),
        'unknown_reference',
        raw,
        `s.${q(c.name)} IS NULL AND ${raw} IS NOT NULL AND NOT EXISTS (SELECT 1 FROM ${RUN_REFS} z WHERE z.tenant = ${literal(batch.tenant)} AND z.entity = 'sections' AND z.col = 'section_identifier' AND lower(z.value) = lower(${raw}))`,
      );
    }
  }
  for (const c of cols) {
    if (!c.required) continue;
    if (m.fields[c.name] === undefined) throw new Error(`source layout ${batch.layout.id}: mapping to ${contract.entity} leaves required column ${c.name} unmapped`);
    const col = `s.${q(c.name)}`;
    const sf = studentFields.find((x) => x.field === c.name);
    const raw = rawOf.get(c.name);
    const e = m.fields[c.name] as Expr;
    const cond = sf
      ? `${col} IS NULL AND s.${q(sf.raw)} IS NULL`
      : c.type === 'VARCHAR[]'
        ? `(${col} IS NULL OR len(${col}) = 0)`
        : raw && typeof e === 'object' && 'sectionOf' in e
          ? `${col} IS NULL AND ${raw} IS NULL`
          : `${col} IS NULL`;
    await fail(sf && batch.layout.student ? studentColumnNameSql(ctx) : fieldOf(c), 'missing_required', 'NULL', cond);
  }
  for (const c of mapped) {
    const col = `s.${q(c.name)}`;
    const typed = typedOf(c);
    const name = fieldOf(c);
    const isStudent = studentFields.some((x) => x.field === c.name);
    if (c.type !== 'VARCHAR' && c.type !== 'VARCHAR[]') {
      await fail(name, c.type === 'DATE' || c.type === 'TIMESTAMP' ? 'invalid_date' : 'invalid_value', col, `${col} IS NOT NULL AND ${typed} IS NULL`);
    }
    if (c.allowed) {
      const allowed = c.allowed.map((a) => literal(a.toLowerCase())).join(', ');
      await fail(name, 'invalid_value', col, `${col} IS NOT NULL AND lower(${col}) NOT IN (${allowed})`);
    }
    if (c.min !== undefined) await fail(name, 'out_of_range', col, `${typed} IS NOT NULL AND ${typed} < ${boundLiteral(c, c.min)}`);
    if (c.max !== undefined) await fail(name, 'out_of_range', col, `${typed} IS NOT NULL AND ${typed} > ${boundLiteral(c, c.max)}`);
    if (c.pattern && c.type === 'VARCHAR' && !isStudent) {
      await fail(name, 'invalid_value', rawOf.get(c.name) ?? col, `${col} IS NOT NULL AND NOT regexp_full_match(${col}, ${literal(c.pattern)})`);
    }
    // References: the referenced record must exist for the same tenant (students are checked
    // against the roster above; a school or section must be refined already, or in this batch).
    if (c.references && !isStudent) {
      const ref = contractOf(c.references.entity);
      const rc = ref.columns.find((x) => x.name === c.references!.column);
      const rtyped = rc ? (rc.type === c.type ? typedOf(c) : typedExpr(rc, col)) : col;
      const sameBatch = earlier
        .filter((x) => x.contract.entity === ref.entity && x.mapping.fields[c.references!.column] !== undefined)
        .map((x) => ` AND NOT EXISTS (SELECT 1 FROM ${x.table} y WHERE y.${q(c.references!.column)} = ${rtyped})`)
        .join('');
      const quarantinedRef = ` AND NOT EXISTS (SELECT 1 FROM ${RUN_REFS} z WHERE z.tenant = ${literal(batch.tenant)} AND z.entity = ${literal(ref.entity)} AND z.col = ${literal(c.references.column)} AND z.value = CAST(${rtyped} AS VARCHAR))`;
      await fail(
        name,
        c.references.entity === 'students' ? 'unknown_student' : 'unknown_reference',
        rawOf.get(c.name) ?? col,
        `${col} IS NOT NULL AND NOT EXISTS (SELECT 1 FROM refined.${q(ref.entity)} x WHERE x.tenant = ${literal(batch.tenant)} AND x.${q(c.references.column)} = ${rtyped})${sameBatch}${quarantinedRef}`,
      );
    }
  }
  // Source-level checks (facts of the format, e.g. a Likert item is 1 to 5).
  for (const [k, chk] of (m.checks ?? []).entries()) {
    const fc = chk.field ? byName.get(chk.field) : undefined;
    const v = chk.field ? `s.${q(chk.field)}` : `s.${q(`__check_${k}`)}`;
    const nameSql = fc ? fieldOf(fc) : deliveredNameSql(ctx, chk.column, chk.column ?? chk.field ?? '').replaceAll('r.__f', 's.__f');
    const cond = chk.sql.replaceAll('{value}', v).replaceAll('{tenant}', literal(batch.tenant));
    await fail(nameSql, chk.rule, v, `NOT coalesce((${cond}), true)`);
  }

  // One INSERT of one SELECT per rule (UNION ALL). Tried and not kept (session 16): one scan for the
  // rows that break any rule (the rules' conditions OR-ed), then the rules over those rows only.
  // With the subqueries of reference and source checks inside the OR, DuckDB took 155 s for the LMS
  // submissions at 1,000,000 students, against 24.7 s for the union.
  if (rules.length > 0) await db.run(`INSERT INTO tmp_fails ${rules.join('\nUNION ALL\n')}`);

  // Typed view: standard columns + the contract's mapped columns.
  const typedSelect = [
    `__row`,
    `__f`,
    `${literal(batch.tenant)} AS tenant`,
    ...mapped.map((c) => `${typedOf(c)} AS ${q(c.name)}`),
    `CAST(__row % ${FILE_SHIFT} AS INTEGER) AS _row_number`,
    `${literal(batch.source)} AS _source`,
    `__ragged`,
  ];
  // A view: every typed value is already in the staged table (its conversion, or the text itself),
  // so a typed copy would only rewrite the batch (at 1,000,000 students, 71-143 s of the LMS
  // submissions batch). The staged table lives until the batch ends.
  await db.run(`CREATE OR REPLACE TEMP VIEW ${table} AS SELECT ${typedSelect.join(', ')} FROM ${stg} s`);

  // Whole-row contract checks (alias r), on typed values.
  for (const chk of contract.checks ?? []) {
    const needs = [...chk.sql.matchAll(/\br\.([a-z_]+)/g)].map((x) => x[1] as string);
    if (!needs.every((n) => n === 'tenant' || mapped.some((c) => c.name === n))) continue;
    const fc = byName.get(chk.field);
    const nameSql = fc ? fieldOf(fc).replaceAll('r.__f', 'r.__f') : literal(chk.field);
    await db.run(
      `INSERT INTO tmp_fails SELECT r.__row, ${ent}, ${nameSql}, ${literal(chk.rule)}, CAST(r.${q(chk.field)} AS VARCHAR)
       FROM ${table} r WHERE NOT r.__ragged AND NOT coalesce((${chk.sql}), false)`,
    );
  }
}

/** The delivered item column of an unpivoted record (per file). */
function deliveredItemSql(ctx: Ctx, m: Mapping): string {
  if (ctx.batch.layout.format !== 'csv' || !m.unpivot) return 's.__item';
  const items = m.unpivot.columns.filter((c) => ctx.present.has(c));
  const cases: string[] = [];
  ctx.batch.files.forEach((f, i) => {
    for (const c of items) {
      const h = f.columns[c]?.[0];
      if (h && h !== c) cases.push(`WHEN s.__f = ${i} AND s.__item = ${literal(c)} THEN ${literal(h)}`);
    }
  });
  return cases.length === 0 ? 's.__item' : `CASE ${cases.join(' ')} ELSE s.__item END`;
}

/** The header name of the student ID column detected in each file. */
function studentColumnNameSql(ctx: Ctx): string {
  const names = ctx.batch.files.map((f, i) => {
    const logical = ctx.studentColumnName?.get(i);
    return logical ? (f.columns[logical]?.[0] ?? logical) : '';
  });
  if (new Set(names).size <= 1) return literal(names[0] ?? '');
  return `CASE s.__f ${names.map((n, i) => `WHEN ${i} THEN ${literal(n)}`).join(' ')} END`;
}

/**
 * Upsert a staged mapping into its refined table. Rows that failed any rule are left out.
 * - Within one file, rows with the same key and the same values are duplicates (the first is
 *   kept); the same key with different values is a conflicting duplicate: every row of the group
 *   is quarantined (derived records: the first wins).
 * - Across the files of the batch (delivery order) and against rows refined earlier, a later row
 *   with other values replaces the earlier one (an update of the columns this mapping owns); one
 *   with the same values is a duplicate.
 */
async function upsert(
  ctx: Ctx,
  m: Mapping,
  contract: EntityContract,
  table: string,
  index: number,
  entities: Record<string, { inserted: number; updated: number }>,
): Promise<void> {
  const derived = m.derived ?? false;
  const delivered = (c: string) => deliveredName(ctx, firstColumn(m.fields[c] as Expr), c);
  const { db } = ctx;
  const pk = contract.primaryKey;
  const colsInTable = (await db.all<{ name: string }>(`SELECT column_name AS name FROM duckdb_columns() WHERE table_name = $1 AND database_name = 'temp' ORDER BY column_index`, [table])).map((r) => r.name);
  const owned = colsInTable.filter((c) => c !== '__row' && c !== '__f' && !pk.includes(c) && !c.startsWith('_'));
  const pkMissing = pk.filter((k) => !colsInTable.includes(k));
  if (pkMissing.length > 0) throw new Error(`mapping to ${contract.entity} does not map its key column(s) ${pkMissing.join(', ')}`);
  const pkEq = (a: string, b: string) => pk.map((k) => `${a}.${q(k)} IS NOT DISTINCT FROM ${b}.${q(k)}`).join(' AND ');
  const valEq = (a: string, b: string) => (owned.length === 0 ? 'true' : owned.map((k) => `${a}.${q(k)} IS NOT DISTINCT FROM ${b}.${q(k)}`).join(' AND '));
  const ent = literal(contract.entity);
  // A row's values (the columns this mapping owns), compared as one struct: no per-row hashing.
  const valueOf = owned.length === 0 ? `1` : `struct_pack(${owned.map((c) => `${q(c)} := t.${q(c)}`).join(', ')})`;
  const target = `refined.${q(contract.entity)}`;
  const pkList = pk.map(q).join(', ');
  const insertCols = colsInTable.filter((c) => c !== '__row' && c !== '__f' && c !== '__ragged');
  // The tenant's refined keys (every batch is one tenant's).
  const tenantKeys = `SELECT ${pkList}, true AS __present FROM ${target} WHERE tenant = ${literal(ctx.batch.tenant)}`;

  // The rows that broke no rule, as a view: at 1,000,000 students a copy of a large batch's typed
  // table cost as much as building it, while the anti-join with the (small) failures is cheap to
  // repeat. Conflicting duplicates found below join tmp_fails and so leave the view as well.
  await db.run(
    `CREATE OR REPLACE TEMP VIEW tmp_ok AS
     SELECT t.* FROM ${table} t WHERE NOT EXISTS (SELECT 1 FROM tmp_fails f WHERE f.row_id = t.__row)`,
  );
  if (derived) {
    // Derived records (e.g. the assessment of each score row: millions of rows, a few keys): only
    // the first row of a key counts, and only when the key is not refined yet; every other row is
    // a duplicate. The first row of each key comes from one grouping of the rows (not a window,
    // which sorted every row of the batch by key), and only the keys are matched with the refined
    // table (decision 0314).
    await db.run(
      `CREATE OR REPLACE TEMP TABLE tmp_firsts AS
       SELECT f.__first, x.__present IS NOT NULL AS existed
       FROM (SELECT ${pkList}, min(__row) AS __first FROM tmp_ok GROUP BY ALL) f
       LEFT JOIN (${tenantKeys}) x ON ${pkEq('x', 'f')}`,
    );
    await db.run(
      `INSERT INTO tmp_staged SELECT t.__row, ${index}, true, n.__first IS NULL
       FROM tmp_ok t LEFT JOIN (SELECT __first FROM tmp_firsts WHERE NOT existed) n ON n.__first = t.__row`,
    );
    const ins = (await db.scalar<number>(`SELECT count(*)::INTEGER FROM tmp_firsts WHERE NOT existed`)) ?? 0;
    if (ins > 0) {
      await db.run(
        `INSERT INTO ${target} (${insertCols.map(q).join(', ')}, _file_sha256)
         SELECT ${insertCols.map((c) => `t.${q(c)}`).join(', ')}, tf.sha256 FROM tmp_ok t JOIN tmp_files tf ON tf.__f = t.__f
         WHERE t.__row IN (SELECT __first FROM tmp_firsts WHERE NOT existed)`,
      );
    }
    await db.run(`DROP TABLE tmp_firsts`);
    await db.run(`DROP VIEW tmp_ok`);
    (entities[contract.entity] ??= { inserted: 0, updated: 0 }).inserted += ins;
    return;
  }
  // Keys that come more than once among the rows that passed, found by a 64-bit hash of the key (a
  // table of numbers, not of 64-character keys: at 1,000,000 students the string version spilled
  // to disk) and checked on the key itself wherever it matters, so that a hash collision can only
  // bring a group in for that check. Most batches deliver each key once: the table is empty.
  const pkHash = `hash(${pk.map((k) => `t.${q(k)}`).join(', ')})`;
  await db.run(`CREATE OR REPLACE TEMP TABLE tmp_repeats AS SELECT hash(${pkList}) AS __h FROM tmp_ok GROUP BY 1 HAVING count(*) > 1`);
  const anyRepeat = ((await db.scalar<number>(`SELECT count(*)::INTEGER FROM tmp_repeats`)) ?? 1) > 0;
  const sk = m.sourceKey ?? pk;
  const skIsPk = sk.length === pk.length && sk.every((k) => pk.includes(k));
  if (owned.length > 0 && (anyRepeat || !skIsPk)) {
    // Conflicting duplicates within one file: every row of a key group whose values differ (the
    // key is the source's own record key when it is narrower than the contract's). Only groups of
    // more than one row are looked at, with plain aggregates, not windows: the rows whose key
    // repeats in the batch, or (a narrower source key) whose source key's hash repeats in a file.
    const skList = sk.map(q).join(', ');
    const skEq = (a: string, b: string) => [`${a}.__f = ${b}.__f`, ...sk.map((k) => `${a}.${q(k)} IS NOT DISTINCT FROM ${b}.${q(k)}`)].join(' AND ');
    const differing = colsInTable.filter((c) => c !== '__row' && c !== '__f' && !sk.includes(c) && !c.startsWith('_') && c !== 'tenant');
    const firstDiff = `coalesce(${differing.map((c) => `CASE WHEN count(DISTINCT ${q(c)}) > 1 THEN ${literal(delivered(c))} END`).join(', ')})`;
    const vh = `md5(CAST(to_json(struct_pack(${differing.map((c) => `${q(c)} := ${q(c)}`).join(', ')})) AS VARCHAR))`;
    const grouped = skIsPk
      ? `SELECT t.* FROM tmp_ok t SEMI JOIN tmp_repeats x ON x.__h = ${pkHash}`
      : `SELECT t.* FROM tmp_ok t SEMI JOIN (SELECT __f, hash(${skList}) AS __h FROM tmp_ok GROUP BY ALL HAVING count(*) > 1) x ON x.__f = t.__f AND x.__h = hash(${sk.map((k) => `t.${q(k)}`).join(', ')})`;
    await db.run(
      `CREATE OR REPLACE TEMP TABLE tmp_conflicts AS
       WITH grouped AS (${grouped}),
            conflicted AS (SELECT __f, ${skList}, ${firstDiff} AS field FROM grouped GROUP BY __f, ${skList} HAVING count(*) > 1 AND count(DISTINCT ${vh}) > 1)
       SELECT g.__row AS row_id, ${ent} AS entity, c.field, 'conflicting_duplicate' AS rule, CAST(NULL AS VARCHAR) AS value
       FROM grouped g JOIN conflicted c ON ${skEq('c', 'g')}`,
    );
    if (((await db.scalar<number>(`SELECT count(*)::INTEGER FROM tmp_conflicts`)) ?? 0) > 0) {
      await db.run(`INSERT INTO tmp_fails SELECT * FROM tmp_conflicts`);
    }
  }
  // Per key: the rows in delivery order; a row is a duplicate when its values equal those of the
  // previous row of its key (or, for the first, of the refined row).
  // One window (partition and order shared) and one join with the refined rows of the same keys.
  // Most batches deliver each key once (no hash repeats, so no key does): then no window (a sort per
  // key) is needed at all. Conflicting duplicates have left tmp_ok by now.
  const win = `PARTITION BY ${pk.map((k) => `t.${q(k)}`).join(', ')} ORDER BY t.__row`;
  const repeated =
    anyRepeat && ((await db.scalar<boolean>(`SELECT EXISTS (SELECT 1 FROM tmp_ok t SEMI JOIN tmp_repeats x ON x.__h = ${pkHash} GROUP BY ${pkList} HAVING count(*) > 1)`)) ?? true);
  const seq = repeated
    ? `${valueOf} IS NOT DISTINCT FROM lag(${valueOf}) OVER (${win}) AS __same_as_prev, row_number() OVER (${win}) AS __pos, count(*) OVER (${win} ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS __n`
    : `false AS __same_as_prev, 1 AS __pos, 1 AS __n`;
  // Every key once, and none of them refined yet: nothing of the tenant in the table (a district's
  // first full year), or nothing with these keys (another vendor's scores in the same table,
  // decision 0314).
  const allNew = !repeated && ((await db.scalar<boolean>(`SELECT NOT EXISTS (SELECT 1 FROM tmp_ok t SEMI JOIN (${tenantKeys}) x ON ${pkEq('x', 't')})`)) ?? false);
  if (allNew) {
    // Every row is new and written, so the sequence is constants over tmp_ok, a view. Materialized,
    // it rewrote the whole batch (at 1,000,000 students, 150 s of the refine stage). With repeated
    // keys the view would give the same rows, but its window would be recomputed by each of its
    // three readers: then the table is kept.
    await db.run(`CREATE OR REPLACE TEMP VIEW tmp_seq AS SELECT t.*, ${seq}, false AS existed, false AS __same FROM tmp_ok t`);
  } else {
    await db.run(
      `CREATE OR REPLACE TEMP TABLE tmp_seq AS
       SELECT t.*, ${seq},
         x.__present IS NOT NULL AS existed,
         coalesce(x.__present IS NOT NULL AND ${valEq('x', 't')}, false) AS __same
       FROM tmp_ok t
       LEFT JOIN (SELECT ${[...new Set([...pk, ...owned])].map(q).join(', ')}, true AS __present FROM ${target} WHERE tenant = ${literal(ctx.batch.tenant)}) x ON ${pkEq('x', 't')}`,
    );
  }
  await db.run(
    `INSERT INTO tmp_staged
     SELECT __row, ${index}, false,
       CASE WHEN __pos = 1 THEN __same
            ELSE __same_as_prev END
     FROM tmp_seq`,
  );
  // What is written: the last row of each key, unless it equals what is refined. Read from tmp_seq
  // with that condition (no third copy).
  const written = 't.__pos = t.__n AND NOT (t.existed AND t.__same)';
  const counts = await db.one<{ ins: number; upd: number }>(
    `SELECT count(*) FILTER (WHERE NOT existed)::INTEGER AS ins, count(*) FILTER (WHERE existed)::INTEGER AS upd FROM tmp_seq t WHERE ${written}`,
  );
  if ((counts?.upd ?? 0) > 0) {
    const setCols = [...owned, '_row_number', '_source'];
    await db.run(
      `UPDATE ${target} AS x SET ${setCols.map((c) => `${q(c)} = t.${q(c)}`).join(', ')}, _file_sha256 = t.__sha
       FROM (SELECT t.*, tf.sha256 AS __sha FROM tmp_seq t JOIN tmp_files tf ON tf.__f = t.__f) t WHERE t.existed AND ${written} AND ${pkEq('x', 't')}`,
    );
  }
  if ((counts?.ins ?? 0) > 0) {
    // the file's hash joins here, from the batch's file list: carried through the staged rows, a
    // 64-character value per row was most of their width
    await db.run(
      `INSERT INTO ${target} (${insertCols.map(q).join(', ')}, _file_sha256)
       SELECT ${insertCols.map((c) => `t.${q(c)}`).join(', ')}, tf.sha256 FROM tmp_seq t JOIN tmp_files tf ON tf.__f = t.__f WHERE NOT t.existed AND ${written}`,
    );
  }
  await db.run(allNew ? `DROP VIEW tmp_seq` : `DROP TABLE tmp_seq`);
  await db.run(`DROP TABLE tmp_repeats`);
  await db.run(`DROP VIEW tmp_ok`);
  const e = (entities[contract.entity] ??= { inserted: 0, updated: 0 });
  e.inserted += counts?.ins ?? 0;
  e.updated += counts?.upd ?? 0;
}

// ---------------------------------------------------------------- auxiliary lookups

async function writeAux(ctx: Ctx, aux: NonNullable<Layout['aux']>): Promise<void> {
  const { db, batch } = ctx;
  const table = `meta.${q(`aux_${aux.table}`)}`;
  const key = template(ctx, `{${aux.key}}`);
  await db.run(
    `CREATE OR REPLACE TEMP TABLE tmp_aux AS
     SELECT DISTINCT ON (${key}) ${literal(batch.tenant)} AS tenant, ${key} AS k, ${aux.columns.map((c) => template(ctx, `{${c}}`)).join(', ')}
     FROM tmp_rows r WHERE ${key} IS NOT NULL AND NOT r._ragged AND NOT EXISTS (SELECT 1 FROM tmp_fails f WHERE f.row_id = r.__row)
     ORDER BY ${key}, r.__row DESC`,
  );
  await db.run(`DELETE FROM ${table} WHERE tenant = ${literal(batch.tenant)} AND ${q(aux.key)} IN (SELECT k FROM tmp_aux)`);
  await db.run(`INSERT INTO ${table} SELECT * FROM tmp_aux`);
}

// ---------------------------------------------------------------- identity store

function feedSelect(ctx: Ctx, feed: IdentityFeed): { select: string; where: string } {
  const col = (c: string | undefined) => (c ? template(ctx, `{${c}}`) : 'CAST(NULL AS VARCHAR)');
  const select = [
    `r.__row`,
    `r.__f`,
    `${col(feed.id)} AS natural_id`,
    `${col(feed.stateId)} AS state_id`,
    `${col(feed.firstName)} AS first_name`,
    `${col(feed.middleName)} AS middle_name`,
    `${col(feed.lastName)} AS last_name`,
    `${col(feed.fullName)} AS full_name`,
    `${col(feed.birthDate)} AS birth_date`,
    `${col(feed.email)} AS email`,
    `${col(feed.phone)} AS phone`,
    ...(feed.otherIds ?? []).map(([, c], i) => `${col(c)} AS other_${i}`),
    `r._file_sha256 AS sha, r._source AS source, r._row_number`,
  ].join(', ');
  const where = [`NOT r._ragged`, recordTypeCond(feed), feed.where ? `(${template(ctx, feed.where)})` : 'true'].join(' AND ');
  return { select, where };
}

/** Register the IDs of roster-defining rows (local, state, other systems) with their person key. */
async function registerIds(ctx: Ctx, feed: IdentityFeed): Promise<void> {
  const { db, batch } = ctx;
  const { select, where } = feedSelect(ctx, feed);
  await db.run(`CREATE OR REPLACE TEMP TABLE tmp_feed AS SELECT ${select} FROM tmp_rows r WHERE ${where}`);
  const ids: string[] = [`SELECT 'local' AS id_type, lower(natural_id) AS v, lower(natural_id) AS nid, __row FROM tmp_feed`];
  if (feed.stateId) ids.push(`SELECT 'state', lower(state_id), lower(natural_id), __row FROM tmp_feed`);
  (feed.otherIds ?? []).forEach(([t], i) => ids.push(`SELECT ${literal(t)}, lower(other_${i}), lower(natural_id), __row FROM tmp_feed`));
  // An ID already registered keeps its person (first registration wins: a state ID re-pointed to
  // another student is a data problem to report, not to follow silently).
  await db.run(
    `INSERT INTO identity.person_ids
     SELECT DISTINCT ON (id_type, v) ${literal(batch.tenant)}, ${literal(feed.kind)}, id_type, v, k.person_key, ${literal(batch.runId)}
     FROM (${ids.join(' UNION ALL ')}) i JOIN tmp_person_keys k ON k.id_value = i.nid
     WHERE v IS NOT NULL AND nid IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM identity.person_ids p WHERE p.tenant = ${literal(batch.tenant)} AND p.kind = ${literal(feed.kind)} AND p.id_type = i.id_type AND p.id_value = i.v)
     ORDER BY id_type, v, __row`,
  );
}

/** Rows of a non-defining feed must name a person on the roster; birth dates must be dates. */
async function checkIdentityFeed(ctx: Ctx, feed: IdentityFeed): Promise<void> {
  const { db, batch } = ctx;
  const { select, where } = feedSelect(ctx, feed);
  await db.run(`CREATE OR REPLACE TEMP TABLE tmp_feed AS SELECT ${select} FROM tmp_rows r WHERE ${where}`);
  const idName = deliveredNameSql(ctx, feed.id, feed.id).replaceAll('r.__f', 'f.__f');
  if (!feed.defines) {
    await db.run(
      `INSERT INTO tmp_fails SELECT __row, 'identity', ${idName}, ${literal(feed.kind === 'student' ? 'unknown_student' : 'unknown_reference')}, natural_id
       FROM tmp_feed f WHERE natural_id IS NOT NULL AND NOT EXISTS (
         SELECT 1 FROM identity.person_ids p WHERE p.tenant = ${literal(batch.tenant)} AND p.kind = ${literal(feed.kind)} AND p.id_type = 'local' AND p.id_value = lower(f.natural_id))`,
    );
  }
  await db.run(`INSERT INTO tmp_fails SELECT __row, 'identity', ${idName}, 'missing_required', NULL FROM tmp_feed f WHERE natural_id IS NULL`);
  if (feed.birthDate) {
    const bd = deliveredNameSql(ctx, feed.birthDate, feed.birthDate).replaceAll('r.__f', 'f.__f');
    await db.run(
      `INSERT INTO tmp_fails SELECT __row, 'identity', ${bd}, 'invalid_date', birth_date
       FROM tmp_feed f WHERE birth_date IS NOT NULL AND edlake_date(birth_date) IS NULL`,
    );
  }
  await db.run(`INSERT INTO tmp_staged SELECT __row, -1, false, false FROM tmp_feed WHERE natural_id IS NOT NULL`);
}

/** Upsert the identity facts of the rows that were not quarantined (a fact left empty keeps the earlier value). */
async function writeIdentity(ctx: Ctx, feed: IdentityFeed): Promise<void> {
  const { db, batch } = ctx;
  const { select, where } = feedSelect(ctx, feed);
  const t = literal(batch.tenant);
  const kind = literal(feed.kind);
  await db.run(
    `CREATE OR REPLACE TEMP TABLE tmp_feed AS
     SELECT DISTINCT ON (p.person_key) f.*, p.person_key FROM (SELECT ${select} FROM tmp_rows r WHERE ${where}) f
     JOIN identity.person_ids p ON p.tenant = ${t} AND p.kind = ${kind} AND p.id_type = 'local' AND p.id_value = lower(f.natural_id)
     WHERE NOT EXISTS (SELECT 1 FROM tmp_fails x WHERE x.row_id = f.__row)
     ORDER BY p.person_key, f.__row DESC`,
  );
  if (!feed.defines) {
    // Other system IDs (e.g. LMS user ids) of people already on the roster.
    for (const [i, [idType]] of (feed.otherIds ?? []).entries()) {
      await db.run(
        `INSERT INTO identity.person_ids SELECT DISTINCT ON (lower(other_${i})) ${t}, ${kind}, ${literal(idType)}, lower(other_${i}), person_key, ${literal(batch.runId)}
         FROM tmp_feed f WHERE other_${i} IS NOT NULL AND NOT EXISTS (
           SELECT 1 FROM identity.person_ids p WHERE p.tenant = ${t} AND p.kind = ${kind} AND p.id_type = ${literal(idType)} AND p.id_value = lower(f.other_${i}))`,
      );
    }
  }
  const facts = ['state_id', 'first_name', 'middle_name', 'last_name', 'full_name', 'birth_date', 'email', 'phone'];
  await db.run(
    `UPDATE identity.persons AS x SET ${facts.map((c) => `${c} = coalesce(f.${c}, x.${c})`).join(', ')},
       _source = f.source, _file_sha256 = f.sha, _row_number = f._row_number, updated_run = ${literal(batch.runId)}
     FROM tmp_feed f WHERE x.tenant = ${t} AND x.kind = ${kind} AND x.person_key = f.person_key`,
  );
  await db.run(
    `INSERT INTO identity.persons SELECT ${t}, ${kind}, f.person_key, f.natural_id, ${facts.map((c) => `f.${c}`).join(', ')}, f.source, f.sha, f._row_number, ${literal(batch.runId)}
     FROM tmp_feed f WHERE NOT EXISTS (SELECT 1 FROM identity.persons x WHERE x.tenant = ${t} AND x.kind = ${kind} AND x.person_key = f.person_key)`,
  );
}
