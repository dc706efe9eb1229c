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
import { entity as contractOf, STANDARD_COLUMNS, type ColumnContract, type EntityContract } from './contracts/index.ts';
import { personKey } from './keys.ts';
import type { Expr, IdentityFeed, Layout, Mapping } from './sources/types.ts';

/** Share of a vendor file's distinct candidate IDs that must match the roster for the column to be chosen. */
export const ID_MATCH_THRESHOLD = 0.5;

export interface RefineInput {
  runId: string;
  sha256: string;
  path: string;
  source: string;
  layout: Layout;
  /** Logical column → delivered header name (CSV) or JSON paths (NDJSON/XML). */
  columns: Record<string, string[]>;
  rowsFile: string;
  tenant: string;
  piiKey: string;
}

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

function exprOfColumn(layout: Layout, columns: Record<string, string[]>, logical: string, alias = 'r'): string {
  const hit = columns[logical];
  if (!hit || hit.length === 0) return 'CAST(NULL AS VARCHAR)';
  if (layout.format === 'csv') return `edlake_clean(${alias}."${(hit[0] as string).replaceAll('"', '""')}")`;
  const parts = hit.map((p) => `json_extract_string(${alias}.json, ${literal(p)})`);
  return `edlake_clean(${parts.length === 1 ? parts[0] : `coalesce(${parts.join(', ')})`})`;
}

interface Ctx {
  db: Db;
  input: RefineInput;
  /** Extra placeholders ({__name}, {__value} of unpivots). */
  extra: Record<string, string>;
  /** The chosen student ID column (logical) when the layout detects it. */
  studentColumn?: string | null;
}

/** Turn a SQL template's `{col}` placeholders into column expressions. */
function template(ctx: Ctx, sql: string): string {
  return sql.replace(/\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => {
    if (name === 'tenant') return literal(ctx.input.tenant);
    if (name === '_delivered_at') return 'r._delivered_at';
    if (name === '_row_number') return 'r._row_number';
    if (name === 'json') return 'r.json';
    if (name === '_rows') return `read_parquet(${literal(ctx.input.rowsFile)})`;
    const x = ctx.extra[name];
    if (x !== undefined) return x;
    if (!(name in ctx.input.layout.columns)) throw new Error(`source layout ${ctx.input.layout.id}: template names unknown column {${name}}`);
    return exprOfColumn(ctx.input.layout, ctx.input.columns, name);
  });
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
  if ('student' in e) {
    const col = ctx.studentColumn === undefined ? e.student : ctx.studentColumn;
    if (col === null) return 'CAST(NULL AS VARCHAR)';
    const types = (ctx.input.layout.student?.idTypes ?? ['local']).map(literal).join(', ');
    return `(SELECT min(k.person_key) FROM identity.person_ids k WHERE k.tenant = ${literal(ctx.input.tenant)} AND k.kind = 'student' AND k.id_type IN (${types}) AND k.id_value = lower(${template(ctx, `{${col}}`)}))`;
  }
  if ('person' in e) return `(SELECT t.person_key FROM tmp_person_keys t WHERE t.id_value = lower(${template(ctx, `{${e.person}}`)}))`;
  if ('sectionOf' in e) {
    return `(SELECT min(s.section_key) FROM refined.sections s WHERE s.tenant = ${literal(ctx.input.tenant)} AND lower(s.section_identifier) = lower(${template(ctx, `{${e.sectionOf}}`)}))`;
  }
  // key
  const parts = e.key.map((p) => `CAST(${sqlOf(ctx, p)} AS VARCHAR)`);
  return `CASE WHEN ${parts.map((p) => `${p} IS NULL`).join(' OR ')} THEN NULL ELSE edlake_key(${literal(ctx.input.tenant)}, [${parts.join(', ')}]) END`;
}

/** Header name (as delivered) of a logical column, for quarantine records. */
function deliveredName(ctx: Ctx, logical: string | undefined, fallback: string): string {
  if (!logical) return fallback;
  const hit = ctx.input.columns[logical];
  if (!hit || hit.length === 0) return logical;
  if (ctx.input.layout.format === 'csv') return hit[0] as string;
  return logical;
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

/** Student ID detection: try each candidate column against the roster's IDs; choose the best. */
async function detectStudentColumn(ctx: Ctx): Promise<IdDetection> {
  const { db, input } = ctx;
  const spec = input.layout.student!;
  const types = spec.idTypes.map(literal).join(', ');
  const candidates: IdDetection['candidates'] = [];
  let best: { col: string; rate: number; by: Record<string, number> } | undefined;
  for (const col of spec.candidates) {
    if (!input.columns[col]) continue;
    const v = template(ctx, `{${col}}`);
    const rows = await db.all<{ id_type: string | null; n: number }>(
      `WITH vals AS (SELECT DISTINCT lower(${v}) AS v FROM read_parquet(${literal(input.rowsFile)}) r WHERE NOT r._ragged AND ${v} IS NOT NULL),
            hits AS (SELECT vals.v, min(k.id_type) AS id_type FROM vals LEFT JOIN identity.person_ids k
                      ON k.tenant = ${literal(input.tenant)} AND k.kind = 'student' AND k.id_type IN (${types}) AND k.id_value = vals.v GROUP BY vals.v)
       SELECT id_type, count(*)::INTEGER AS n FROM hits GROUP BY id_type`,
    );
    const total = rows.reduce((s, r) => s + r.n, 0);
    const by: Record<string, number> = {};
    for (const r of rows) if (r.id_type !== null) by[r.id_type] = r.n;
    const matched = total - (rows.find((r) => r.id_type === null)?.n ?? 0);
    const rate = total === 0 ? 0 : matched / total;
    candidates.push({ column: deliveredName(ctx, col, col), distinctValues: total, matchRate: rate });
    if (rate >= ID_MATCH_THRESHOLD && (!best || rate > best.rate)) best = { col, rate, by };
  }
  ctx.studentColumn = best ? best.col : null;
  return {
    path: input.path,
    source: input.source,
    layout: input.layout.id,
    column: best ? deliveredName(ctx, best.col, best.col) : null,
    matchRate: best?.rate ?? Math.max(0, ...candidates.map((c) => c.matchRate)),
    matchedBy: best?.by ?? {},
    candidates,
  };
}

/** Person keys (HMAC) for the distinct IDs of the columns named by {person} expressions and identity feeds. */
async function preparePersonKeys(ctx: Ctx): Promise<void> {
  const { db, input } = ctx;
  const cols = new Set<string>();
  const visit = (e: Expr) => {
    if (typeof e === 'object' && 'person' in e) cols.add(e.person);
    if (typeof e === 'object' && 'key' in e) e.key.forEach(visit);
  };
  for (const m of input.layout.mappings) Object.values(m.fields).forEach(visit);
  for (const f of input.layout.identity ?? []) cols.add(f.id);
  await db.run(`CREATE OR REPLACE TEMP TABLE tmp_person_keys (id_value VARCHAR PRIMARY KEY, person_key VARCHAR)`);
  if (cols.size === 0) return;
  const unions = [...cols]
    .filter((c) => input.columns[c])
    .map((c) => `SELECT lower(${template(ctx, `{${c}}`)}) AS v FROM read_parquet(${literal(input.rowsFile)}) r`);
  if (unions.length === 0) return;
  const ids = await db.all<{ v: string }>(`SELECT DISTINCT v FROM (${unions.join(' UNION ALL ')}) WHERE v IS NOT NULL`);
  if (ids.length === 0) return;
  const appender = await db.connection.createAppender('tmp_person_keys', 'main', 'temp');
  for (const { v } of ids) {
    appender.appendVarchar(v);
    appender.appendVarchar(personKey(input.piiKey, input.tenant, v));
    appender.endRow();
  }
  appender.closeSync();
}

interface Fail {
  sql: string;
}

/**
 * Refine one loaded file. Runs inside the run's working database; all statements are set-based.
 */
export async function refineFile(db: Db, input: RefineInput): Promise<FileOutcome> {
  const ctx: Ctx = { db, input, extra: {} };
  const { layout } = input;
  const rows = `read_parquet(${literal(input.rowsFile)})`;
  const outcome: FileOutcome = { refined: 0, quarantined: 0, duplicate: 0, skipped: 0, skippedReasons: {}, quarantineByRule: {}, entities: {} };

  if (layout.student) outcome.idDetection = await detectStudentColumn(ctx);
  await preparePersonKeys(ctx);

  // Roster-defining identity feeds register their IDs first, so that the file's own mappings find them.
  for (const feed of layout.identity ?? []) {
    if (!feed.defines || !mappingApplies(layout, feed)) continue;
    await registerIds(ctx, feed);
  }

  await db.run(`CREATE OR REPLACE TEMP TABLE tmp_fails (row_number INTEGER, entity VARCHAR, field VARCHAR, rule VARCHAR, value VARCHAR)`);
  await db.run(`CREATE OR REPLACE TEMP TABLE tmp_staged (row_number INTEGER, mapping INTEGER, derived BOOLEAN, duplicate BOOLEAN)`);

  // Ragged rows (CSV) and lines that are not JSON (NDJSON): the row cannot be trusted at all.
  await db.run(
    `INSERT INTO tmp_fails SELECT _row_number, NULL, ${layout.format === 'ndjson' ? "'(line)'" : 'NULL'}, ${layout.format === 'ndjson' ? "'invalid_value'" : "'ragged_row'"}, NULL FROM ${rows} WHERE _ragged`,
  );

  const stagedTables: Array<{ index: number; mapping: Mapping; contract: EntityContract; table: string }> = [];
  for (let i = 0; i < layout.mappings.length; i++) {
    const m = layout.mappings[i] as Mapping;
    if (!mappingApplies(layout, m)) continue;
    const contract = contractOf(m.entity);
    const table = `tmp_m${i}`;
    await stageMapping(ctx, m, contract, table, i, stagedTables);
    stagedTables.push({ index: i, mapping: m, contract, table });
    if (m.derived) {
      // Derived records (e.g. the assessment of a score row) are inserted at once, so that the
      // rows that depend on them are checked against them.
      await upsert(ctx, contract, table, i, true, outcome);
    }
  }
  for (const feed of layout.identity ?? []) {
    if (!mappingApplies(layout, feed)) continue;
    await checkIdentityFeed(ctx, feed);
  }
  for (const s of stagedTables) {
    if (!s.mapping.derived) await upsert(ctx, s.contract, s.table, s.index, false, outcome);
  }
  for (const feed of layout.identity ?? []) {
    if (!mappingApplies(layout, feed)) continue;
    await writeIdentity(ctx, feed);
  }

  // Quarantine: one row per failure, with file, row, field as delivered, rule and value.
  await db.run(
    `INSERT INTO quarantine.rows
     SELECT $run, $sha, $path, f.row_number, $source, $layout, f.entity, f.field, f.rule, f.value, r.reason
     FROM tmp_fails f LEFT JOIN (SELECT unnest(map_keys(m)) AS rule, unnest(map_values(m)) AS reason FROM (SELECT MAP {${Object.entries(ROW_QUARANTINE_REASONS)
       .map(([k, v]) => `${literal(k)}: ${literal(v)}`)
       .join(', ')}} AS m)) r ON r.rule = f.rule`,
    { run: input.runId, sha: input.sha256, path: input.path, source: input.source, layout: layout.id },
  );

  // Outcome per delivered row.
  const skipCase = skipReasonSql(layout);
  const counts = await db.all<{ outcome: string; reason: string | null; n: number }>(
    `WITH failed AS (SELECT DISTINCT row_number FROM tmp_fails),
          primary_stage AS (
            SELECT row_number, arg_min(duplicate, mapping) AS duplicate FROM tmp_staged WHERE NOT derived GROUP BY row_number),
          any_stage AS (SELECT DISTINCT row_number FROM tmp_staged)
     SELECT CASE WHEN f.row_number IS NOT NULL THEN 'quarantined'
                 WHEN p.row_number IS NOT NULL AND p.duplicate THEN 'duplicate'
                 WHEN p.row_number IS NOT NULL THEN 'refined'
                 WHEN a.row_number IS NOT NULL THEN 'duplicate'
                 ELSE 'skipped' END AS outcome,
            CASE WHEN f.row_number IS NULL AND a.row_number IS NULL THEN ${skipCase} END AS reason,
            count(*)::INTEGER AS n
     FROM ${rows} r
       LEFT JOIN failed f ON f.row_number = r._row_number
       LEFT JOIN primary_stage p ON p.row_number = r._row_number
       LEFT JOIN any_stage a ON a.row_number = r._row_number
     GROUP BY ALL`,
  );
  for (const c of counts) {
    if (c.outcome === 'quarantined') outcome.quarantined += c.n;
    else if (c.outcome === 'duplicate') outcome.duplicate += c.n;
    else if (c.outcome === 'refined') outcome.refined += c.n;
    else {
      outcome.skipped += c.n;
      const why = c.reason ?? 'no mapping applies to this row';
      outcome.skippedReasons[why] = (outcome.skippedReasons[why] ?? 0) + c.n;
    }
  }
  const rules = await db.all<{ rule: string; n: number }>(`SELECT rule, count(DISTINCT row_number)::INTEGER AS n FROM tmp_fails GROUP BY rule`);
  for (const r of rules) outcome.quarantineByRule[r.rule as RowQuarantineReason] = r.n;
  for (const s of stagedTables) await db.run(`DROP TABLE IF EXISTS ${s.table}`);
  return outcome;
}

function skipReasonSql(layout: Layout): string {
  const entries = Object.entries(layout.skip ?? {});
  const star = layout.skip?.['*'];
  const cases = entries
    .filter(([k]) => k !== '*')
    .map(([k, why]) => `WHEN r._record_type = ${literal(k)} THEN ${literal(`${k}: ${why}`)}`);
  if (layout.format === 'csv') return literal(star ?? 'no mapping of this layout applies to the row');
  return `CASE ${cases.join(' ')} ${cases.length === 0 ? 'WHEN false THEN NULL' : ''} ELSE ${literal(star ?? 'no mapping applies to this record type')} || ' (' || r._record_type || ')' END`;
}

/**
 * Stage one mapping: the mapped fields as text (lists stay lists), with the row number; then every
 * contract rule as one set-based query adding to tmp_fails; then the typed table `<table>`.
 */
async function stageMapping(
  ctx: Ctx,
  m: Mapping,
  contract: EntityContract,
  table: string,
  index: number,
  earlier: ReadonlyArray<{ mapping: Mapping; contract: EntityContract; table: string }>,
): Promise<void> {
  const { db, input } = ctx;
  const cols = [...contract.columns];
  const byName = new Map(cols.map((c) => [c.name, c]));
  for (const f of Object.keys(m.fields)) {
    if (!byName.has(f)) throw new Error(`source layout ${input.layout.id}: mapping to ${contract.entity} names ${f}, which its contract does not have`);
  }
  // Unpivot: one staged record per listed column present in the file.
  let from = `read_parquet(${literal(input.rowsFile)}) r`;
  ctx.extra = {};
  if (m.unpivot) {
    const present = m.unpivot.columns.filter((c) => input.columns[c]);
    if (present.length === 0) from += ` CROSS JOIN (SELECT CAST(NULL AS VARCHAR) AS __name, CAST(NULL AS VARCHAR) AS __header WHERE false) u`;
    else {
      from += ` CROSS JOIN (VALUES ${present.map((c) => `(${literal(c)}, ${literal(deliveredName(ctx, c, c))})`).join(', ')}) u(__name, __header)`;
      ctx.extra['__name'] = 'u.__name';
      ctx.extra['__value'] = `(CASE u.__name ${present.map((c) => `WHEN ${literal(c)} THEN ${template({ ...ctx, extra: {} }, `{${c}}`)}`).join(' ')} END)`;
    }
  }
  const where = [`NOT r._ragged`, recordTypeCond(m), m.where ? `(${template(ctx, m.where)})` : 'true'].join(' AND ');
  const select: string[] = [`r._row_number AS __row`, `r._file_sha256 AS __sha`, `r._source AS __source`, m.unpivot && ctx.extra['__name'] ? `u.__header AS __name` : `CAST(NULL AS VARCHAR) AS __name`];
  const studentFields: Array<{ field: string; raw: string; col: string | null }> = [];
  const rawOf = new Map<string, string>();
  for (const c of cols) {
    const e = m.fields[c.name];
    if (e === undefined) continue;
    const v = sqlOf(ctx, e);
    select.push(`${c.type === 'VARCHAR[]' ? v : `CAST(${v} AS VARCHAR)`} AS ${q(c.name)}`);
    if (typeof e === 'object' && ('person' in e || 'sectionOf' in e || 'key' in e)) {
      // the delivered value behind a computed key, for quarantine records
      const src = firstColumn(e);
      select.push(`${src && src in input.layout.columns ? template(ctx, `{${src}}`) : 'CAST(NULL AS VARCHAR)'} AS ${q(`__raw_${c.name}`)}`);
      rawOf.set(c.name, `s.${q(`__raw_${c.name}`)}`);
    }
    if (typeof e === 'object' && 'student' in e) {
      const col = ctx.studentColumn === undefined ? e.student : ctx.studentColumn;
      const rawCol = col ?? input.layout.student?.candidates.find((x) => input.columns[x]) ?? e.student;
      select.push(`${template(ctx, `{${rawCol}}`)} AS ${q(`__raw_${c.name}`)}`);
      studentFields.push({ field: c.name, raw: `__raw_${c.name}`, col: rawCol });
    }
  }
  const stg = `${table}_text`;
  await db.run(`CREATE OR REPLACE TEMP TABLE ${stg} AS SELECT ${select.join(', ')} FROM ${from} WHERE ${where}`);
  const ent = literal(contract.entity);
  // The field as delivered: a header name, or for unpivoted items the item's column (per row).
  const fieldSql = (field: string): string => (field === '__value' || field === '__name' ? 's.__name' : literal(field));
  const fail = async (field: string, rule: RowQuarantineReason, valueSql: string, cond: string) => {
    await db.run(`INSERT INTO tmp_fails SELECT __row, ${ent}, ${fieldSql(field)}, ${literal(rule)}, CAST(${valueSql} AS VARCHAR) FROM ${stg} s WHERE ${cond}`);
  };
  const fieldName = (c: ColumnContract) => deliveredName(ctx, firstColumn(m.fields[c.name] as Expr), c.name);

  // unknown_student: the row names a student the roster does not have.
  for (const sf of studentFields) {
    const name = deliveredName(ctx, sf.col ?? undefined, sf.field);
    await fail(name, 'unknown_student', `s.${q(sf.raw)}`, `s.${q(sf.field)} IS NULL AND s.${q(sf.raw)} IS NOT NULL`);
  }
  const mapped = cols.filter((c) => m.fields[c.name] !== undefined);
  // A section named by its SIS identifier that no refined section has.
  for (const c of mapped) {
    const e = m.fields[c.name] as Expr;
    const raw = rawOf.get(c.name);
    if (raw && typeof e === 'object' && 'sectionOf' in e && c.required) {
      await fail(deliveredName(ctx, e.sectionOf, c.name), 'unknown_reference', raw, `s.${q(c.name)} IS NULL AND ${raw} IS NOT NULL`);
    }
  }
  for (const c of cols) {
    const mappedHere = m.fields[c.name] !== undefined;
    const col = `s.${q(c.name)}`;
    if (c.required) {
      if (!mappedHere) throw new Error(`source layout ${input.layout.id}: mapping to ${contract.entity} leaves required column ${c.name} unmapped`);
      const isList = c.type === 'VARCHAR[]';
      const sf = studentFields.find((x) => x.field === c.name);
      const raw = rawOf.get(c.name);
      const e = m.fields[c.name] as Expr;
      const cond = sf
        ? `${col} IS NULL AND s.${q(sf.raw)} IS NULL`
        : isList
          ? `(${col} IS NULL OR len(${col}) = 0)`
          : raw && typeof e === 'object' && 'sectionOf' in e
            ? `${col} IS NULL AND ${raw} IS NULL`
            : `${col} IS NULL`;
      await fail(fieldName(c), 'missing_required', 'NULL', cond);
    }
  }
  for (const c of mapped) {
    const col = `s.${q(c.name)}`;
    const typed = typedExpr(c, col);
    const name = fieldName(c);
    if (c.type !== 'VARCHAR' && c.type !== 'VARCHAR[]') {
      await fail(name, c.type === 'DATE' || c.type === 'TIMESTAMP' ? 'invalid_date' : 'invalid_value', col, `${col} IS NOT NULL AND ${typed} IS NULL`);
    }
    if (c.allowed) {
      const allowed = c.allowed.map((a) => literal(a.toLowerCase())).join(', ');
      await fail(name, 'invalid_value', col, `${col} IS NOT NULL AND lower(${col}) NOT IN (${allowed})`);
    }
    if (c.min !== undefined) await fail(name, 'out_of_range', col, `${typed} IS NOT NULL AND ${typed} < ${boundLiteral(c, c.min)}`);
    if (c.max !== undefined) await fail(name, 'out_of_range', col, `${typed} IS NOT NULL AND ${typed} > ${boundLiteral(c, c.max)}`);
    if (c.pattern && c.type === 'VARCHAR' && !studentFields.some((x) => x.field === c.name)) {
      await fail(name, 'invalid_value', col, `${col} IS NOT NULL AND NOT regexp_full_match(${col}, ${literal(c.pattern)})`);
    }
    // References: the referenced record must exist for the same tenant (students are checked
    // against the roster above; a section or school must be refined already, or in this file).
    if (c.references && !studentFields.some((x) => x.field === c.name)) {
      const ref = contractOf(c.references.entity);
      const rc = ref.columns.find((x) => x.name === c.references!.column);
      const rtyped = rc ? typedExpr(rc, col) : col;
      // records of the referenced entity staged earlier in this same file count too
      const sameFile = earlier
        .filter((x) => x.contract.entity === ref.entity && x.mapping.fields[c.references!.column] !== undefined)
        .map((x) => ` AND NOT EXISTS (SELECT 1 FROM ${x.table} y WHERE y.${q(c.references!.column)} = ${rtyped})`)
        .join('');
      await fail(
        name,
        c.references.entity === 'students' ? 'unknown_student' : 'unknown_reference',
        rawOf.get(c.name) ?? col,
        `${col} IS NOT NULL AND NOT EXISTS (SELECT 1 FROM refined.${q(ref.entity)} x WHERE x.tenant = ${literal(input.tenant)} AND x.${q(c.references.column)} = ${rtyped})${sameFile}`,
      );
    }
  }
  // Source-level checks (facts of the format, e.g. a Likert item is 1 to 5).
  for (const chk of m.checks ?? []) {
    const fieldCol = chk.field;
    await fail(deliveredName(ctx, firstColumn(m.fields[fieldCol] as Expr), fieldCol), chk.rule, `s.${q(fieldCol)}`, `NOT coalesce((${chk.sql.replaceAll('{value}', `s.${q(fieldCol)}`)}), true)`);
  }

  // Typed table: standard columns + the contract's mapped columns.
  const typedSelect = [
    `__row`,
    `${literal(input.tenant)} AS tenant`,
    ...mapped.map((c) => `${typedExpr(c, `s.${q(c.name)}`)} AS ${q(c.name)}`),
    `__sha AS _file_sha256`,
    `__row AS _row_number`,
    `__source AS _source`,
  ];
  await db.run(`CREATE OR REPLACE TEMP TABLE ${table} AS SELECT ${typedSelect.join(', ')} FROM ${stg} s`);
  await db.run(`DROP TABLE ${stg}`);

  // Whole-row contract checks (alias r), on typed values, for rows not failed already.
  for (const chk of contract.checks ?? []) {
    const needs = [...chk.sql.matchAll(/\br\.([a-z_]+)/g)].map((x) => x[1] as string);
    if (!needs.every((n) => n === 'tenant' || mapped.some((c) => c.name === n))) continue;
    const fc = byName.get(chk.field);
    await db.run(
      `INSERT INTO tmp_fails SELECT r.__row, ${ent}, ${literal(fc ? fieldName(fc) : chk.field)}, ${literal(chk.rule)}, CAST(r.${q(chk.field)} AS VARCHAR)
       FROM ${table} r WHERE NOT coalesce((${chk.sql}), false)`,
    );
  }
  void index;
}

/**
 * Upsert a staged mapping into its refined table. Rows that failed any rule are left out. Within
 * the file, rows with the same key and the same values are duplicates (the first is kept); the
 * same key with different values is a conflicting duplicate (every row of the group is
 * quarantined; for derived records the first wins). Against rows refined earlier, the same values
 * are a duplicate and different values an update of the columns this mapping owns.
 */
async function upsert(ctx: Ctx, contract: EntityContract, table: string, index: number, derived: boolean, outcome: FileOutcome): Promise<void> {
  const { db } = ctx;
  const pk = contract.primaryKey;
  const colsInTable = (await db.all<{ name: string }>(`SELECT column_name AS name FROM duckdb_columns() WHERE table_name = $1 AND database_name = 'temp'`, [table])).map((r) => r.name);
  const owned = colsInTable.filter((c) => c !== '__row' && !pk.includes(c) && !c.startsWith('_'));
  const pkMissing = pk.filter((k) => !colsInTable.includes(k));
  if (pkMissing.length > 0) throw new Error(`mapping to ${contract.entity} does not map its key column(s) ${pkMissing.join(', ')}`);
  const pkEq = (a: string, b: string) => pk.map((k) => `${a}.${q(k)} IS NOT DISTINCT FROM ${b}.${q(k)}`).join(' AND ');
  const valEq = (a: string, b: string) => (owned.length === 0 ? 'true' : owned.map((k) => `${a}.${q(k)} IS NOT DISTINCT FROM ${b}.${q(k)}`).join(' AND '));
  const ent = literal(contract.entity);

  // Groups of the same key within the file (rows that did not fail).
  await db.run(
    `CREATE OR REPLACE TEMP TABLE tmp_ok AS SELECT t.* FROM ${table} t WHERE NOT EXISTS (SELECT 1 FROM tmp_fails f WHERE f.row_number = t.__row)`,
  );
  const valueHash = owned.length === 0 ? `''` : `md5(to_json(struct_pack(${owned.map((c) => `${q(c)} := ${q(c)}`).join(', ')}))::VARCHAR)`;
  await db.run(
    `CREATE OR REPLACE TEMP TABLE tmp_grp AS
     SELECT __row, ${valueHash} AS vh,
       min(__row) OVER (PARTITION BY ${pk.map(q).join(', ')}) AS first_row,
       count(DISTINCT ${valueHash}) OVER (PARTITION BY ${pk.map(q).join(', ')}) AS variants
     FROM tmp_ok`,
  );
  if (!derived) {
    // Conflicting duplicates: every row of a key group whose values differ.
    const firstDiff =
      owned.length === 0
        ? literal('')
        : `coalesce(${owned.map((c) => `CASE WHEN count(DISTINCT ${q(c)}) OVER (PARTITION BY ${pk.map(q).join(', ')}) > 1 THEN ${literal(c)} END`).join(', ')})`;
    await db.run(
      `INSERT INTO tmp_fails
       SELECT t.__row, ${ent}, d.field, 'conflicting_duplicate', NULL
       FROM (SELECT __row, ${firstDiff} AS field FROM tmp_ok) d JOIN tmp_grp g USING (__row) JOIN tmp_ok t USING (__row) WHERE g.variants > 1`,
    );
  }
  // Candidates: the first row of each key group without conflict (derived: first row of each group).
  await db.run(
    `CREATE OR REPLACE TEMP TABLE tmp_new AS
     SELECT t.* FROM tmp_ok t JOIN tmp_grp g USING (__row)
     WHERE g.first_row = t.__row ${derived ? '' : 'AND g.variants = 1'}`,
  );
  // Staged rows: duplicates within the file (not first of their group), or of what is refined.
  await db.run(
    `INSERT INTO tmp_staged
     SELECT t.__row, ${index}, ${derived}, (g.first_row <> t.__row) OR EXISTS (SELECT 1 FROM refined.${q(contract.entity)} x WHERE ${pkEq('x', 't')} AND ${valEq('x', 't')})
     FROM tmp_ok t JOIN tmp_grp g USING (__row) ${derived ? '' : 'WHERE g.variants = 1'}`,
  );
  const target = `refined.${q(contract.entity)}`;
  const setCols = [...owned, '_file_sha256', '_row_number', '_source'];
  const upd = await db.one<{ n: number }>(
    `SELECT count(*)::INTEGER AS n FROM tmp_new t WHERE EXISTS (SELECT 1 FROM ${target} x WHERE ${pkEq('x', 't')} AND NOT (${valEq('x', 't')}))`,
  );
  if ((upd?.n ?? 0) > 0 && !derived) {
    await db.run(
      `UPDATE ${target} AS x SET ${setCols.map((c) => `${q(c)} = t.${q(c)}`).join(', ')}
       FROM tmp_new t WHERE ${pkEq('x', 't')} AND NOT (${valEq('x', 't')})`,
    );
  }
  const insertCols = colsInTable.filter((c) => c !== '__row');
  const ins = await db.one<{ n: number }>(`SELECT count(*)::INTEGER AS n FROM tmp_new t WHERE NOT EXISTS (SELECT 1 FROM ${target} x WHERE ${pkEq('x', 't')})`);
  await db.run(
    `INSERT INTO ${target} (${insertCols.map(q).join(', ')})
     SELECT ${insertCols.map((c) => `t.${q(c)}`).join(', ')} FROM tmp_new t WHERE NOT EXISTS (SELECT 1 FROM ${target} x WHERE ${pkEq('x', 't')})`,
  );
  const e = (outcome.entities[contract.entity] ??= { inserted: 0, updated: 0 });
  e.inserted += ins?.n ?? 0;
  if (!derived) e.updated += upd?.n ?? 0;
}

// ---------------------------------------------------------------- identity store

function feedSelect(ctx: Ctx, feed: IdentityFeed): { select: string; where: string } {
  const col = (c: string | undefined) => (c ? template(ctx, `{${c}}`) : 'CAST(NULL AS VARCHAR)');
  const select = [
    `r._row_number AS __row`,
    `${col(feed.id)} AS natural_id`,
    `${col(feed.stateId)} AS state_id`,
    `${col(feed.firstName)} AS first_name`,
    `${col(feed.middleName)} AS middle_name`,
    `${col(feed.lastName)} AS last_name`,
    `${col(feed.fullName)} AS full_name`,
    `${col(feed.birthDate)} AS birth_date`,
    `${col(feed.email)} AS email`,
    `${col(feed.phone)} AS phone`,
    ...(feed.otherIds ?? []).map(([t, c], i) => `${col(c)} AS other_${i}`),
    `r._file_sha256 AS sha, r._source AS source`,
  ].join(', ');
  const where = [`NOT r._ragged`, recordTypeCond(feed), feed.where ? `(${template(ctx, feed.where)})` : 'true'].join(' AND ');
  return { select, where };
}

/** Register the IDs of roster-defining rows (local, state, other systems) with their person key. */
async function registerIds(ctx: Ctx, feed: IdentityFeed): Promise<void> {
  const { db, input } = ctx;
  const { select, where } = feedSelect(ctx, feed);
  await db.run(`CREATE OR REPLACE TEMP TABLE tmp_feed AS SELECT ${select} FROM read_parquet(${literal(input.rowsFile)}) r WHERE ${where}`);
  const ids: string[] = [`SELECT 'local' AS id_type, lower(natural_id) AS v, lower(natural_id) AS nid FROM tmp_feed`];
  if (feed.stateId) ids.push(`SELECT 'state', lower(state_id), lower(natural_id) FROM tmp_feed`);
  (feed.otherIds ?? []).forEach(([t], i) => ids.push(`SELECT ${literal(t)}, lower(other_${i}), lower(natural_id) FROM tmp_feed`));
  // An ID already registered keeps its person (first registration wins; a state ID that moves to
  // another student is a data problem reported by the conflicting rows, not silently re-pointed).
  await db.run(
    `INSERT INTO identity.person_ids
     SELECT DISTINCT ON (id_type, v) ${literal(input.tenant)}, ${literal(feed.kind)}, id_type, v, k.person_key, ${literal(input.runId)}
     FROM (${ids.join(' UNION ALL ')}) i JOIN tmp_person_keys k ON k.id_value = i.nid
     WHERE v IS NOT NULL AND nid IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM identity.person_ids p WHERE p.tenant = ${literal(input.tenant)} AND p.kind = ${literal(feed.kind)} AND p.id_type = i.id_type AND p.id_value = i.v)`,
  );
}

/** Rows of a non-defining feed must name a person on the roster; birth dates must be dates. */
async function checkIdentityFeed(ctx: Ctx, feed: IdentityFeed): Promise<void> {
  const { db, input } = ctx;
  const { select, where } = feedSelect(ctx, feed);
  await db.run(`CREATE OR REPLACE TEMP TABLE tmp_feed AS SELECT ${select} FROM read_parquet(${literal(input.rowsFile)}) r WHERE ${where}`);
  const idName = deliveredName(ctx, feed.id, feed.id);
  if (!feed.defines) {
    await db.run(
      `INSERT INTO tmp_fails SELECT __row, 'identity', ${literal(idName)}, ${literal(feed.kind === 'student' ? 'unknown_student' : 'unknown_reference')}, natural_id
       FROM tmp_feed f WHERE natural_id IS NOT NULL AND NOT EXISTS (
         SELECT 1 FROM identity.person_ids p WHERE p.tenant = ${literal(input.tenant)} AND p.kind = ${literal(feed.kind)} AND p.id_type = 'local' AND p.id_value = lower(f.natural_id))`,
    );
  }
  await db.run(`INSERT INTO tmp_fails SELECT __row, 'identity', ${literal(idName)}, 'missing_required', NULL FROM tmp_feed WHERE natural_id IS NULL`);
  if (feed.birthDate) {
    await db.run(
      `INSERT INTO tmp_fails SELECT __row, 'identity', ${literal(deliveredName(ctx, feed.birthDate, feed.birthDate))}, 'invalid_date', birth_date
       FROM tmp_feed WHERE birth_date IS NOT NULL AND edlake_date(birth_date) IS NULL`,
    );
  }
  await db.run(`INSERT INTO tmp_staged SELECT __row, -1, false, false FROM tmp_feed WHERE natural_id IS NOT NULL`);
}

/** Upsert the identity facts of the rows that were not quarantined (a fact left empty keeps the earlier value). */
async function writeIdentity(ctx: Ctx, feed: IdentityFeed): Promise<void> {
  const { db, input } = ctx;
  const { select, where } = feedSelect(ctx, feed);
  const t = literal(input.tenant);
  const kind = literal(feed.kind);
  await db.run(
    `CREATE OR REPLACE TEMP TABLE tmp_feed AS
     SELECT DISTINCT ON (p.person_key) f.*, p.person_key FROM (SELECT ${select} FROM read_parquet(${literal(input.rowsFile)}) r WHERE ${where}) f
     JOIN identity.person_ids p ON p.tenant = ${t} AND p.kind = ${kind} AND p.id_type = 'local' AND p.id_value = lower(f.natural_id)
     WHERE NOT EXISTS (SELECT 1 FROM tmp_fails x WHERE x.row_number = f.__row)
     ORDER BY p.person_key, f.__row DESC`,
  );
  if (!feed.defines) {
    // Other system IDs (e.g. LMS user ids) of people already on the roster.
    for (const [i, [idType]] of (feed.otherIds ?? []).entries()) {
      await db.run(
        `INSERT INTO identity.person_ids SELECT DISTINCT ON (lower(other_${i})) ${t}, ${kind}, ${literal(idType)}, lower(other_${i}), person_key, ${literal(input.runId)}
         FROM tmp_feed f WHERE other_${i} IS NOT NULL AND NOT EXISTS (
           SELECT 1 FROM identity.person_ids p WHERE p.tenant = ${t} AND p.kind = ${kind} AND p.id_type = ${literal(idType)} AND p.id_value = lower(f.other_${i}))`,
      );
    }
  }
  const facts = ['state_id', 'first_name', 'middle_name', 'last_name', 'full_name', 'birth_date', 'email', 'phone'];
  await db.run(
    `UPDATE identity.persons AS x SET ${facts.map((c) => `${c} = coalesce(f.${c}, x.${c})`).join(', ')},
       _source = f.source, _file_sha256 = f.sha, _row_number = f.__row, updated_run = ${literal(input.runId)}
     FROM tmp_feed f WHERE x.tenant = ${t} AND x.kind = ${kind} AND x.person_key = f.person_key`,
  );
  await db.run(
    `INSERT INTO identity.persons SELECT ${t}, ${kind}, f.person_key, f.natural_id, ${facts.map((c) => `f.${c}`).join(', ')}, f.source, f.sha, f.__row, ${literal(input.runId)}
     FROM tmp_feed f WHERE NOT EXISTS (SELECT 1 FROM identity.persons x WHERE x.tenant = ${t} AND x.kind = ${kind} AND x.person_key = f.person_key)`,
  );
}

/** Create every refined table from the contracts (idempotent). */
export function standardColumnNames(): string[] {
  return STANDARD_COLUMNS.map((c) => c.name);
}
