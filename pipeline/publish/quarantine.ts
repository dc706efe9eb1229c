/**
 * The quarantine as of a snapshot, for data engineers (raw tier; decision 0608).
 *
 * Snapshots publish the marts and refined tables, which every analyst and BI tool may read; the
 * quarantine is raw-tier data, so it is not a table of the snapshot. At each publish the pipeline
 * writes it beside the snapshots instead, into `<lake>/quarantine/snapshot-<id>.parquet` (mode
 * 0600): every row quarantined by the runs the lake has committed up to the publishing run
 * (cumulative, so a snapshot's file answers "what was in quarantine when this snapshot was
 * published"), with file, row, source, entity, field, rule and reason, the run that quarantined it
 * and when the file was delivered.
 *
 * Offending values can be personal data (a birth date that does not parse, a student ID nobody
 * knows, a name in the wrong column). Each row's field is traced back to the contract column it
 * feeds and that column's PII class (`pipeline/contracts/`): values of `none` and `quasi` columns
 * are kept; values of `key` and `direct` columns, of identity feeds, of unknown students, and of any
 * field that cannot be traced to a column (deny by default) are withheld: the file never holds
 * them, only `value_redacted = true` and the class. The raw file stays in the lake for whoever may
 * open it.
 */
import { chmodSync, existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { layout } from '../../src/catalog/format.ts';
import { type Db, literal } from '../../src/db/duckdb.ts';
import { entity as contractOf, type PiiClass } from '../contracts/index.ts';
import { layoutById } from '../sources/index.ts';
import type { Expr, Layout } from '../sources/types.ts';
import { normalizeHeader } from '../text.ts';

/** The quarantine file of a snapshot (its path is part of the catalog's layout, so that expiry removes it). */
export function quarantineFile(lake: string, snapshotId: number): string {
  return layout(lake).quarantineFile(snapshotId);
}

/** PII class of a quarantined value; `unknown`: the field could not be traced to a contract column. */
export type QuarantinePii = PiiClass | 'unknown';

/** Classes whose offending values may be shown to data engineers (the refined tier holds such values too). */
export const SHOWN_CLASSES: ReadonlySet<QuarantinePii> = new Set<QuarantinePii>(['none', 'quasi']);

const RANK: Record<QuarantinePii, number> = { none: 0, quasi: 1, key: 2, direct: 3, unknown: 4 };
const worst = (a: QuarantinePii, b: QuarantinePii): QuarantinePii => (RANK[b] > RANK[a] ? b : a);

/** Logical columns an expression reads. */
function columnsOf(e: Expr): string[] {
  if (typeof e === 'string') return [e];
  if ('sql' in e) return [...(e.field ? [e.field] : []), ...[...e.sql.matchAll(/\{([A-Za-z_][A-Za-z0-9_]*)\}/g)].map((m) => m[1] as string)];
  if ('student' in e) return [e.student];
  if ('person' in e) return [e.person];
  if ('sectionOf' in e) return [e.sectionOf];
  if ('key' in e) return e.key.flatMap(columnsOf);
  return [];
}

/** Logical columns of a layout whose delivered name (header alias, JSON path or logical name) is `field`. */
function logicalColumns(layout: Layout, field: string): string[] {
  const n = normalizeHeader(field);
  const out = new Set<string>();
  for (const [logical, aliases] of Object.entries(layout.columns)) {
    if (logical === field || normalizeHeader(logical) === n || aliases.some((a) => a === field || normalizeHeader(a) === n)) out.add(logical);
  }
  return [...out];
}

/**
 * PII class of the value a quarantine row carries: from the contract column(s) that the delivered
 * field feeds in the row's entity, the identity feeds and the student ID columns of its layout.
 */
export function quarantinePiiClass(row: { layout: string | null; entity: string | null; field: string | null; rule: string }): QuarantinePii {
  if (row.rule === 'unknown_student') return 'key'; // the value is the ID of a person
  if (row.entity === 'identity') return 'direct'; // names, birth dates, contacts, IDs
  if (row.field === null) return row.rule === 'ragged_row' ? 'none' : 'unknown';
  const found = row.layout === null ? undefined : layoutById(row.layout);
  if (!found) return 'unknown';
  const layout = found.layout;
  const logical = logicalColumns(layout, row.field);
  if (logical.length === 0) return 'unknown';
  let cls: QuarantinePii | undefined;
  const add = (c: QuarantinePii) => {
    cls = cls === undefined ? c : worst(cls, c);
  };
  for (const l of logical) {
    for (const feed of layout.identity ?? []) {
      const pii = [feed.id, feed.stateId, feed.firstName, feed.middleName, feed.lastName, feed.fullName, feed.birthDate, feed.email, feed.phone, ...(feed.otherIds ?? []).map((o) => o[1])];
      if (pii.includes(l)) add('direct');
    }
    if (layout.student?.candidates.includes(l)) add('key');
    for (const m of layout.mappings) {
      if (row.entity !== null && m.entity !== row.entity) continue;
      let contract;
      try {
        contract = contractOf(m.entity);
      } catch {
        continue;
      }
      for (const [col, e] of Object.entries(m.fields)) {
        const reads = columnsOf(e);
        const unpivoted = m.unpivot?.columns.includes(l) && reads.some((r) => r === '__value' || r === '__name');
        if (!reads.includes(l) && !unpivoted) continue;
        const c = contract.columns.find((x) => x.name === col);
        add(typeof e === 'object' && ('student' in e || 'person' in e) ? 'key' : (c?.pii ?? 'unknown'));
      }
    }
  }
  return cls ?? 'unknown';
}

/**
 * Write the quarantine file of a published snapshot from the run's working database (schemas
 * `quarantine`, `raw`). Values of PII classes are never written. Returns the number of rows, or
 * null when the database has no quarantine store. Atomic (temporary file, then rename).
 */
export async function writeQuarantineFile(db: Db, lake: string, snapshotId: number): Promise<number | null> {
  const has = await db.scalar<number>(
    `select count(*) from information_schema.tables where table_catalog = current_database() and table_schema = 'quarantine' and table_name = 'rows'`,
  );
  if (!has) return null;
  const kinds = await db.all<{ layout: string | null; entity: string | null; field: string | null; rule: string }>(
    `select distinct layout, entity, field, rule from quarantine.rows`,
  );
  await db.run(`CREATE OR REPLACE TEMP TABLE tmp_quarantine_pii (layout VARCHAR, entity VARCHAR, field VARCHAR, rule VARCHAR, pii VARCHAR, shown BOOLEAN)`);
  if (kinds.length > 0) {
    const values = kinds.map((k) => {
      const pii = quarantinePiiClass(k);
      return `(${[k.layout, k.entity, k.field, k.rule, pii].map((v) => (v === null ? 'NULL' : literal(v))).join(', ')}, ${SHOWN_CLASSES.has(pii)})`;
    });
    await db.run(`INSERT INTO tmp_quarantine_pii VALUES ${values.join(', ')}`);
  }
  const file = quarantineFile(lake, snapshotId);
  const dir = dirname(quarantineFile(lake, snapshotId));
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const tmp = `${file}.tmp-${process.pid}`;
  if (existsSync(tmp)) rmSync(tmp);
  const hasFiles = await db.scalar<number>(
    `select count(*) from information_schema.tables where table_catalog = current_database() and table_schema = 'raw' and table_name = 'files'`,
  );
  const delivered = hasFiles
    ? `(SELECT sha256, min(delivery_date) AS delivery_date, min(discovered_at) AS discovered_at FROM raw.files GROUP BY sha256)`
    : `(SELECT NULL::VARCHAR AS sha256, NULL::DATE AS delivery_date, NULL::TIMESTAMP AS discovered_at WHERE false)`;
  // the class is matched on (layout, entity, field, rule) with IS NOT DISTINCT FROM: NULLs match
  await db.run(
    `COPY (
       SELECT q.run_id, q.path AS file, q.file_sha256, q.row_number, q.source, q.layout, q.entity, q.field, q.rule, q.reason,
              CASE WHEN coalesce(p.shown, false) THEN q.value END AS value,
              q.value IS NOT NULL AND NOT coalesce(p.shown, false) AS value_redacted,
              coalesce(p.pii, 'unknown') AS pii_class,
              f.delivery_date, f.discovered_at AS delivered_at
         FROM quarantine.rows q
         LEFT JOIN tmp_quarantine_pii p
           ON p.layout IS NOT DISTINCT FROM q.layout AND p.entity IS NOT DISTINCT FROM q.entity
          AND p.field IS NOT DISTINCT FROM q.field AND p.rule = q.rule
         LEFT JOIN ${delivered} f ON f.sha256 = q.file_sha256
        ORDER BY q.path, q.row_number, q.field, q.rule
     ) TO ${literal(tmp)} (FORMAT parquet)`,
  );
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
  await db.run(`DROP TABLE IF EXISTS tmp_quarantine_pii`);
  return (await db.scalar<number>(`select count(*) from quarantine.rows`)) ?? 0;
}
