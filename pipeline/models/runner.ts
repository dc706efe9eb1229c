/**
 * The model runner: loads the seeds, defines the SQL macros, builds every model of `sql/` in
 * dependency order in schema `marts` (a table, or a view where its metadata says so, decision 0206;
 * a table in chunks where it declares them, 0207; with `concurrency`, independent models at once on
 * separate connections, 0208), records duration and row count per model, then runs the data tests.
 * The pipeline calls `runModels`; `edlake model run` calls it for development.
 *
 * By default the whole build runs in one transaction: a model that fails leaves `marts` exactly as
 * the previous run left it. Data tests run inside it too; whether they pass decides `blocked`, which
 * the publishing stage must honour (the marts of a blocked run are kept for inspection, not published).
 *
 * With `commit: 'each-model'` every model is committed as soon as it is built (decision 0205). A
 * caller that builds on a copy it throws away on failure (the pipeline, decision 0302; the marts
 * benchmark) loses nothing by it, and DuckDB no longer keeps every earlier model's rows as
 * uncommitted transaction-local data while it builds the next one: at 1,000,000 students those
 * rows no longer fit in memory.
 */
import { type Db, ident } from '../../src/db/duckdb.ts';
import { EDLAKE_KEY_MACRO } from '../keys.ts';
import { loadSeeds, type LoadedSeed } from '../../seeds/load.ts';
import { type DataTestResult, blocksPublishing, runDataTests } from '../datatests/run.ts';
import { type Model, type Project, loadProject, withDependencies } from './project.ts';

export interface ModelResult {
  name: string;
  layer: string;
  ms: number;
  rows: number;
  /** Statements the table was built in (models declared with chunks, decision 0207). */
  chunks?: number;
}

export interface RunModelsOptions {
  /** Folder of the SQL project (default: the repository's `sql/`). */
  sqlDir?: string;
  /** Folder of the seed CSVs (default: `seeds/reference/`). */
  seedsDir?: string;
  /** Skip loading the seeds (they are already in schema `seeds`). */
  skipSeeds?: boolean;
  /** Build only these models and what they read. Default: all. */
  select?: readonly string[];
  /** Skip the data tests (development only; a run without tests must not be published). */
  skipTests?: boolean;
  /** Called after each model, for progress display; `index` counts models in the order they finished. */
  onModel?: (m: ModelResult, index: number, total: number) => void;
  /** Identifier of the pipeline run, kept with the row counts. */
  runId?: string;
  /**
   * `once` (default): the whole build is one transaction, all or nothing. `each-model`: commit
   * after each model; a failure leaves the models built before it. Only for a database that the
   * caller discards when the build fails (decision 0205).
   */
  commit?: 'once' | 'each-model';
  /**
   * Models built at once, each on its own connection (decision 0208; `each-model` only, `once`
   * builds on one connection). Default 1.
   */
  concurrency?: number;
  /** Another connection to the same database, for concurrency above 1. */
  connect?: () => Promise<Db>;
}

export interface RunModelsResult {
  runId: string;
  seeds: LoadedSeed[];
  models: ModelResult[];
  tests: DataTestResult[];
  /** A data test of severity error failed: do not publish. */
  blocked: boolean;
  ms: number;
}

export class ModelError extends Error {
  constructor(
    readonly model: string,
    readonly file: string,
    message: string,
  ) {
    super(message);
    this.name = 'ModelError';
  }
}

/** Bookkeeping tables the runner and the models need between runs (schema `meta`). */
export const META_DDL = [
  'CREATE SCHEMA IF NOT EXISTS meta',
  'CREATE SCHEMA IF NOT EXISTS marts',
  `CREATE TABLE IF NOT EXISTS meta.model_row_counts (run_id VARCHAR, run_at TIMESTAMP, model VARCHAR, rows BIGINT, ms DOUBLE)`,
  `CREATE TABLE IF NOT EXISTS meta.chronic_tier_snapshots (as_of_date DATE, tenant VARCHAR, student_key VARCHAR, tier_code VARCHAR, severity INTEGER, recorded_at TIMESTAMP)`,
];

/** Macros every model may use: the key macro of decision 0001 and `sql/macros.sql`. */
export async function defineMacros(db: Db, project: Project): Promise<void> {
  await db.run(EDLAKE_KEY_MACRO);
  if (project.macrosSql.trim() !== '') await db.run(project.macrosSql);
}

export async function runModels(db: Db, opts: RunModelsOptions = {}): Promise<RunModelsResult> {
  const started = performance.now();
  const runId = opts.runId ?? new Date().toISOString();
  const project = loadProject(opts.sqlDir);
  const names = opts.select && opts.select.length > 0 ? withDependencies(project, opts.select) : project.order;

  const seeds = opts.skipSeeds ? [] : await loadSeeds(db, opts.seedsDir ? { dir: opts.seedsDir } : {});
  for (const s of META_DDL) await db.run(s);
  await defineMacros(db, project);

  const previousRowCounts = new Map<string, number>();
  for (const r of await db.all<{ model: string; rows: number }>(
    `SELECT model, arg_max(rows, run_at) AS rows FROM meta.model_row_counts GROUP BY model`,
  )) {
    previousRowCounts.set(r.model, r.rows);
  }

  const models: ModelResult[] = [];
  let tests: DataTestResult[] = [];
  const once = (opts.commit ?? 'once') === 'once';
  let inTransaction = false;
  const begin = async () => {
    await db.run('BEGIN TRANSACTION');
    inTransaction = true;
  };
  if (once) await begin();
  const extra: Db[] = [];
  try {
    const concurrency = once ? 1 : Math.max(1, Math.floor(opts.concurrency ?? 1));
    if (concurrency > 1 && !opts.connect) throw new Error('runModels: concurrency above 1 needs connect (another connection to the same database)');
    for (let i = 1; i < concurrency; i++) extra.push(await opts.connect!());
    let finished = 0;
    const built = await buildInOrder(project, names, [db, ...extra], (result) => opts.onModel?.(result, finished++, names.length));
    // the record lists the models in run order whatever order they finished in
    models.push(...names.map((n) => built.get(n)!));
    if (!opts.skipTests) {
      const rowCounts = new Map(models.map((m) => [m.name, m.rows]));
      tests = await runDataTests(db, project, {
        ...(opts.select && opts.select.length > 0 ? { models: names } : {}),
        rowCounts,
        previousRowCounts,
      });
    }
    const blocked = opts.skipTests ? true : blocksPublishing(tests);
    if (!once) await begin();
    if (!opts.skipTests) {
      const now = new Date().toISOString();
      for (const m of models) {
        await db.run(`INSERT INTO meta.model_row_counts VALUES ($1, $2::TIMESTAMP, $3, $4, $5)`, [runId, now, m.name, m.rows, m.ms]);
      }
    }
    if (!blocked && names.includes('v_chronic_absenteeism_risk')) await recordChronicTiers(db);
    await db.run('COMMIT');
    inTransaction = false;
    return { runId, seeds, models, tests, blocked, ms: Math.round(performance.now() - started) };
  } catch (err) {
    if (inTransaction) await db.run('ROLLBACK');
    throw err;
  } finally {
    for (const c of extra) c.close();
  }
}

/** Build one model on a connection: a table (in chunks where declared) or a view; its row count. */
async function buildModel(db: Db, m: Model): Promise<ModelResult> {
  const name = m.name;
  const t0 = performance.now();
  let ranges: ChunkRange[] | undefined;
  try {
    const kind = m.meta.materialized === 'view' ? 'VIEW' : 'TABLE';
    // a model whose materialization changed: the old object is of the other kind
    const existing = await db.scalar<string>(`SELECT table_type FROM information_schema.tables WHERE table_catalog = current_database() AND table_schema = 'marts' AND table_name = $1`, [name]);
    if (existing === 'VIEW' && kind === 'TABLE') await db.run(`DROP VIEW marts.${ident(name)}`);
    if (existing === 'BASE TABLE' && kind === 'VIEW') await db.run(`DROP TABLE marts.${ident(name)}`);
    const body = m.sql.trim().replace(/;\s*$/, '');
    if (!m.meta.chunks) {
      await db.run(`CREATE OR REPLACE ${kind} marts.${ident(name)} AS\n${body}`);
    } else {
      ranges = await chunkRanges(db, m.meta.chunks);
      try {
        for (const [i, r] of ranges.entries()) {
          // integers the runner computed from the database, never client input; the variables
          // belong to this connection
          await db.run(`SET VARIABLE edlake_chunk_from = ${r.from}::BIGINT`);
          await db.run(`SET VARIABLE edlake_chunk_to = ${r.to}::BIGINT`);
          await db.run(i === 0 ? `CREATE OR REPLACE TABLE marts.${ident(name)} AS\n${body}` : `INSERT INTO marts.${ident(name)}\n${body}`);
        }
      } finally {
        // best effort: after a failure inside a transaction (`once`) DuckDB refuses every statement
        // until the rollback, and that refusal must not replace the model's own error
        await db.run('RESET VARIABLE edlake_chunk_from').catch(() => {});
        await db.run('RESET VARIABLE edlake_chunk_to').catch(() => {});
      }
    }
  } catch (err) {
    throw new ModelError(name, m.sqlFile, `model ${name} (${m.sqlFile}) failed: ${err instanceof Error ? err.message : String(err)}`);
  }
  const rows = (await db.scalar<number>(`SELECT count(*) FROM marts.${ident(name)}`)) ?? 0;
  return {
    name,
    layer: m.layer,
    ms: Math.round((performance.now() - t0) * 10) / 10,
    rows,
    ...(ranges ? { chunks: ranges.length } : {}),
  };
}

/**
 * Build the models on the given connections, as many at once as there are connections (decision
 * 0208): a model starts when every selected model it reads is built, the first ready in run order
 * first. A model declared with chunks (decision 0207) is built alone, whatever its number of chunks:
 * it is declared so because its memory grows with the district. After a failure nothing new starts;
 * the models in flight finish (they are not interrupted), then the first error is thrown.
 */
export async function buildInOrder(
  project: Project,
  names: readonly string[],
  connections: readonly Db[],
  onBuilt: (m: ModelResult) => void,
  build: (db: Db, m: Model) => Promise<ModelResult> = buildModel,
): Promise<Map<string, ModelResult>> {
  const selected = new Set(names);
  const built = new Map<string, ModelResult>();
  const pending = [...names];
  const free = [...connections];
  const running = new Map<string, Promise<void>>();
  let failure: { err: unknown } | undefined;
  const alone = (n: string) => project.models.get(n)!.meta.chunks !== undefined;
  const ready = (n: string) => project.models.get(n)!.dependsOn.every((d) => !selected.has(d) || built.has(d));
  const start = (n: string) => {
    const conn = free.pop()!;
    running.set(
      n,
      build(conn, project.models.get(n)!)
        .then((r) => {
          built.set(n, r);
          onBuilt(r);
        })
        .catch((err: unknown) => {
          failure ??= { err };
        })
        .finally(() => {
          free.push(conn);
          running.delete(n);
        }),
    );
  };
  for (;;) {
    if (!failure) {
      for (let i = 0; i < pending.length && free.length > 0 && ![...running.keys()].some(alone); ) {
        const n = pending[i]!;
        if (!ready(n)) {
          i++;
          continue;
        }
        // a model built alone waits for the others to finish, and nothing starts ahead of it
        if (alone(n) && running.size > 0) break;
        pending.splice(i, 1);
        start(n);
        if (alone(n)) break;
      }
    }
    if (running.size === 0) break;
    await Promise.race(running.values());
  }
  if (failure) throw failure.err;
  if (pending.length > 0) throw new Error(`models never became ready: ${pending.join(', ')}`);
  return built;
}

/** One chunk of a chunked model: the rows whose chunk column is in [from, to). */
export interface ChunkRange {
  from: number;
  to: number;
}

/**
 * The chunks of a model declared with `chunks` (decision 0207): the range of the column split into
 * ceil(rows / rows_per_chunk) equal ranges (one when the model over which it is chunked is small,
 * so that a small district builds in one statement as before), of sizes that differ by one at
 * most. The ranges cover min..max exactly.
 */
export async function chunkRanges(db: Db, spec: { over: string; rows_per_chunk: number }): Promise<ChunkRange[]> {
  const [model, column] = spec.over.split('.') as [string, string];
  const row = await db.one<{ lo: number | null; hi: number | null; n: number }>(
    `SELECT min(${ident(column)})::BIGINT AS lo, max(${ident(column)})::BIGINT AS hi, count(*) AS n FROM marts.${ident(model)}`,
  );
  if (!row || row.lo === null || row.hi === null) return [{ from: 0, to: 0 }];
  const { lo, hi } = row;
  const span = hi - lo + 1;
  const n = Math.min(span, Math.max(1, Math.ceil(row.n / spec.rows_per_chunk)));
  // the k-th range starts at lo + floor(k * span / n): sizes differ by one at most
  const start = (k: number) => lo + Math.floor((k * span) / n);
  return Array.from({ length: n }, (_, k) => ({ from: start(k), to: start(k + 1) }));
}

/**
 * Keep each student's attendance tier as of this run's data-through date, so that the next run
 * can say who newly entered a worse tier (decision 0201). A re-run for the same date replaces it.
 */
export async function recordChronicTiers(db: Db): Promise<void> {
  await db.run(`DELETE FROM meta.chronic_tier_snapshots s USING (SELECT DISTINCT tenant, as_of_date FROM marts.v_chronic_absenteeism_risk) c
    WHERE s.tenant = c.tenant AND s.as_of_date = c.as_of_date`);
  await db.run(`INSERT INTO meta.chronic_tier_snapshots
    SELECT as_of_date, tenant, student_key, tier_code, tier_severity, now()::TIMESTAMP FROM marts.v_chronic_absenteeism_risk`);
  // only the previous date is ever compared with; keep a few for inspection, not a year of nights
  await db.run(`DELETE FROM meta.chronic_tier_snapshots s USING (
      SELECT tenant, as_of_date FROM (
        SELECT tenant, as_of_date, dense_rank() OVER (PARTITION BY tenant ORDER BY as_of_date DESC) AS k
        FROM (SELECT DISTINCT tenant, as_of_date FROM meta.chronic_tier_snapshots))
      WHERE k > ${KEEP_TIER_DATES}) old
    WHERE s.tenant = old.tenant AND s.as_of_date = old.as_of_date`);
}

/** Data-through dates of tiers kept per tenant in meta.chronic_tier_snapshots. */
export const KEEP_TIER_DATES = 7;
