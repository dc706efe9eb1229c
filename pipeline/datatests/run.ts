/**
 * Data tests: declared in the model metadata (and `sql/project.yml` for tests that span the
 * layers), run after the models and before anything is published. A failing test of severity
 * `error` blocks publishing; every failing test keeps a sample of its failing rows for the run record.
 */
import { type Db, type Row, ident } from '../../src/db/duckdb.ts';
import { type TestSpec, type Severity, testName } from '../models/metadata.ts';
import type { Project } from '../models/project.ts';

export const SAMPLE_ROWS = 10;

export interface DataTestResult {
  name: string;
  /** The model the test belongs to, or `project`. */
  model: string;
  type: TestSpec['type'];
  severity: Severity;
  status: 'pass' | 'fail' | 'skipped' | 'error';
  /** Number of failing rows (0 when it passes). */
  failures: number;
  /** Up to SAMPLE_ROWS failing rows. */
  sample: Row[];
  message?: string;
  ms: number;
}

function rel(model: string): string {
  return `marts.${ident(model)}`;
}

/** A reference `model.column` or `schema.table.column` as [relation SQL, column]. */
function target(to: string): [string, string] {
  const parts = to.split('.');
  if (parts.length === 2) return [rel(parts[0]!), parts[1]!];
  return [`${ident(parts[0]!)}.${ident(parts[1]!)}`, parts[2]!];
}

async function parameter(db: Db, name: string): Promise<number> {
  const v = await db.scalar<number>(`SELECT value FROM seeds.parameters WHERE parameter = $1`, [name]);
  if (v === undefined || v === null) throw new Error(`seeds.parameters has no ${name}`);
  return v;
}

/** The SQL returning the failing rows of a test, or null when the test is computed otherwise. */
async function failingRowsSql(db: Db, model: string, t: TestSpec): Promise<string | null> {
  const from = model === 'project' ? '' : rel(model);
  switch (t.type) {
    case 'unique': {
      // Two passes, exact: first the 64-bit hashes of the key that occur more than once (an
      // aggregate on one integer, not on the key's strings), then the key itself only among the
      // rows with such a hash. Equal keys have equal hashes, so no duplicate is missed; a hash
      // collision only adds candidates, which the second pass sorts out (decision 0203).
      const cols = t.columns.map(ident).join(', ');
      return `WITH repeated AS (SELECT hash(${cols}) AS h FROM ${from} GROUP BY 1 HAVING count(*) > 1)
        SELECT ${cols}, count(*) AS occurrences FROM ${from} WHERE hash(${cols}) IN (SELECT h FROM repeated) GROUP BY ALL HAVING count(*) > 1`;
    }
    case 'not_null':
      return `SELECT * FROM ${from} WHERE ${t.columns.map((c) => `${ident(c)} IS NULL`).join(' OR ')}`;
    case 'relationships': {
      const [toRel, toCol] = target(t.to);
      return `SELECT * FROM ${from} AS s WHERE s.${ident(t.column)} IS NOT NULL AND NOT EXISTS (SELECT 1 FROM ${toRel} AS r WHERE r.${ident(toCol)} = s.${ident(t.column)})`;
    }
    case 'accepted_values': {
      if (t.values_from) {
        const [, table, col] = t.values_from.split('.');
        return `SELECT * FROM ${from} AS s WHERE s.${ident(t.column)} IS NOT NULL AND s.${ident(t.column)}::VARCHAR NOT IN (SELECT ${ident(col!)}::VARCHAR FROM seeds.${ident(table!)})`;
      }
      const values = (t.values ?? []).map((v) => `'${String(v).replaceAll("'", "''")}'`);
      if (values.length === 0) throw new Error(`${testName(model, t)}: accepted_values needs values or values_from`);
      return `SELECT * FROM ${from} WHERE ${ident(t.column)} IS NOT NULL AND ${ident(t.column)}::VARCHAR NOT IN (${values.join(', ')})`;
    }
    case 'range': {
      const conds: string[] = [];
      if (t.min !== undefined) conds.push(`${ident(t.column)} < ${Number(t.min)}`);
      if (t.max !== undefined) conds.push(`${ident(t.column)} > ${Number(t.max)}`);
      if (conds.length === 0) throw new Error(`${testName(model, t)}: range needs min or max`);
      return `SELECT * FROM ${from} WHERE ${conds.join(' OR ')}`;
    }
    case 'expression':
      return t.sql;
    case 'freshness': {
      const limit = await parameter(db, t.max_days_parameter);
      return `SELECT * FROM (${t.sql}) WHERE lag_days IS NULL OR lag_days > ${Number(limit)}`;
    }
    case 'row_count_change':
      return null;
  }
}

/**
 * The columns of a built model that differ from its metadata (name, position or type): the data
 * dictionary is built from the metadata, so it must describe the table exactly.
 */
export function documentedColumnsSql(project: Project, model: string): string {
  const cols = project.models.get(model)!.meta.columns;
  const documented = cols
    .map((c, k) => `(${k + 1}, '${c.name.replaceAll("'", "''")}', '${c.type.replaceAll("'", "''").toUpperCase()}')`)
    .join(', ');
  return `WITH actual AS (
      SELECT ordinal_position AS position, column_name AS name, upper(data_type) AS type
      FROM information_schema.columns WHERE table_schema = 'marts' AND table_name = '${model}'),
    documented(position, name, type) AS (VALUES ${documented})
    SELECT coalesce(a.position, d.position) AS position, a.name AS actual_name, a.type AS actual_type,
           d.name AS documented_name, d.type AS documented_type
    FROM actual a FULL JOIN documented d ON a.position = d.position
    WHERE a.name IS DISTINCT FROM d.name OR a.type IS DISTINCT FROM d.type`;
}

async function relationExists(db: Db, relation: string): Promise<boolean> {
  const [schema, table] = relation.split('.');
  const n = await db.scalar<number>(
    `SELECT count(*) FROM information_schema.tables WHERE table_schema = $1 AND table_name = $2`,
    [schema!, table!],
  );
  return (n ?? 0) > 0;
}

export interface RunTestsOptions {
  /** Only the tests of these models (and project tests when `project` is listed or undefined). */
  models?: readonly string[];
  /** Row counts of this run, for row_count_change. */
  rowCounts: Map<string, number>;
  /** Row counts of the previous run (meta.model_row_counts), for row_count_change. */
  previousRowCounts: Map<string, number>;
}

export async function runDataTests(db: Db, project: Project, opts: RunTestsOptions): Promise<DataTestResult[]> {
  const results: DataTestResult[] = [];
  const selected = opts.models ? new Set(opts.models) : null;
  const all: Array<{ model: string; t: TestSpec }> = [];
  for (const name of project.order) {
    if (selected && !selected.has(name)) continue;
    for (const t of project.models.get(name)!.meta.tests) all.push({ model: name, t });
    all.push({ model: name, t: { type: 'row_count_change', severity: 'warn' } });
    all.push({ model: name, t: { type: 'expression', name: 'documented_columns', severity: 'error', sql: documentedColumnsSql(project, name) } });
  }
  if (!selected) for (const t of project.meta.tests) all.push({ model: 'project', t });

  for (const { model, t } of all) {
    const started = performance.now();
    const base = { name: testName(model, t), model, type: t.type, severity: t.severity };
    const missing: string[] = [];
    for (const r of t.requires ?? []) if (!(await relationExists(db, r))) missing.push(r);
    if (missing.length > 0) {
      results.push({ ...base, status: 'skipped', failures: 0, sample: [], message: `requires ${missing.join(', ')}, which does not exist yet`, ms: performance.now() - started });
      continue;
    }
    try {
      if (t.type === 'row_count_change') {
        results.push({ ...base, ...(await rowCountChange(db, model, opts)), ms: performance.now() - started });
        continue;
      }
      const sql = await failingRowsSql(db, model, t);
      const failures = (await db.scalar<number>(`SELECT count(*) FROM (${sql!})`)) ?? 0;
      const sample = failures > 0 ? await db.all(`SELECT * FROM (${sql!}) LIMIT ${SAMPLE_ROWS}`) : [];
      results.push({ ...base, status: failures > 0 ? 'fail' : 'pass', failures, sample, ms: performance.now() - started });
    } catch (err) {
      results.push({ ...base, status: 'error', failures: 0, sample: [], message: err instanceof Error ? err.message : String(err), ms: performance.now() - started });
    }
  }
  return results;
}

async function rowCountChange(db: Db, model: string, opts: RunTestsOptions): Promise<Pick<DataTestResult, 'status' | 'failures' | 'sample' | 'message'>> {
  const now = opts.rowCounts.get(model);
  const before = opts.previousRowCounts.get(model);
  if (now === undefined || before === undefined) {
    return { status: 'skipped', failures: 0, sample: [], message: 'no previous run to compare with' };
  }
  const share = await parameter(db, 'row_count_change_warn_share');
  const change = before === 0 ? (now === 0 ? 0 : 1) : Math.abs(now - before) / before;
  if (change > share) {
    return {
      status: 'fail',
      failures: 1,
      sample: [{ model, previous_rows: before, rows: now, change_share: Math.round(change * 10000) / 10000, limit_share: share }],
      message: `row count changed by ${(change * 100).toFixed(1)} % (limit ${(share * 100).toFixed(1)} %)`,
    };
  }
  return { status: 'pass', failures: 0, sample: [] };
}

/** True when a failing (or broken) test of severity error blocks publishing. */
export function blocksPublishing(results: readonly DataTestResult[]): boolean {
  return results.some((r) => r.severity === 'error' && (r.status === 'fail' || r.status === 'error'));
}
