/**
 * `runPipeline(config, opts)`: one pipeline run over a landing folder and a lake.
 *
 *   lock → discover → raw (hash, archive, inhale) → refined (sources, contracts, identity, keys)
 *        → stages appended by later parts (models, data tests, publish) → commit → run record
 *
 * The run works on copies of the working database and identity store (pipeline/workdb.ts): a run
 * that fails at any step leaves what earlier runs produced untouched, and writes a run record
 * that says why. Stages are separate functions so that colleagues append theirs through
 * `opts.stages`; each receives the run's working database before it is committed.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import type { Config } from '../src/config.ts';
import { type Db, ident, literal } from '../src/db/duckdb.ts';
import type { FileRejectionReason, RowQuarantineReason } from '../src/quality/reasons.ts';
import { refinedDdl } from './contracts/index.ts';
import { loadSeeds } from '../seeds/load.ts';
import { unmappedDescriptors, type UnmappedDescriptor } from './descriptors.ts';
import { acquireLakeLock } from './lock.ts';
import { catalog, discover, ingestFiles, rawViews, SeenFiles, type RawFile } from './raw.ts';
import { batchAccess, batchesConflict, closeRunRefs, openRunRefs, refineBatch, type FileOutcome, type IdDetection } from './refine.ts';
import { resolvePiiKey } from './secrets.ts';
import { allLayouts, layoutById, sourceByName, type Layout } from './sources/index.ts';
import { cleanStaleStaging, diskFullFailure, openWork, runsDir, type WorkDb } from './workdb.ts';

export interface RowCounts {
  delivered: number;
  refined: number;
  quarantined: number;
  duplicate: number;
  /** Rows of record types the source declares outside the refined model (with reasons). */
  skipped: number;
}

export interface FileRecord {
  path: string;
  source: string;
  layout: string | null;
  status: 'loaded' | 'duplicate' | 'rejected';
  reason?: FileRejectionReason | 'duplicate_file';
  detail?: string;
  duplicateOf?: string;
  sha256: string;
  encoding?: string;
  tenant?: string;
  rows: RowCounts;
  raggedRows: number;
  quarantineByRule: Partial<Record<RowQuarantineReason, number>>;
  skippedReasons?: Record<string, number>;
}

export interface SourceRecord {
  files: number;
  rows: RowCounts;
  quarantineShare: number;
  /** `failed` when the quarantined share of delivered rows passes the configured limit. */
  status: 'ok' | 'failed';
}

export interface RunRecord {
  runId: string;
  status: 'succeeded' | 'failed';
  error?: string;
  /** Why the run failed, when the error's own words hide it (a full disk: where, and the error DuckDB gave). */
  cause?: { kind: 'disk_full'; path: string; freeBytes?: number; error: string };
  startedAt: string;
  finishedAt?: string;
  landing: string;
  lake: string;
  piiKeyOrigin?: 'config' | 'demo-file';
  quarantineLimit: number;
  files: FileRecord[];
  summary: { seen: number; loaded: number; duplicate: number; rejected: number; rows: RowCounts };
  rejected: Array<{ path: string; reason: string; detail?: string }>;
  sources: Record<string, SourceRecord>;
  failedSources: string[];
  /** Rows inserted and updated per refined table in this run. */
  entities: Record<string, { inserted: number; updated: number }>;
  quarantineByRule: Partial<Record<RowQuarantineReason, number>>;
  idDetection: IdDetection[];
  /** Milliseconds per step. */
  durations: Record<string, number>;
  /** Results reported by appended stages. */
  stages: Record<string, unknown>;
  /** Descriptor codes refined in this run that no seed table maps (reported, kept as delivered). */
  unmappedDescriptors: UnmappedDescriptor[];
  /** Descriptor types refined as delivered for which the seeds hold no mapping at all. */
  descriptorTypesWithoutSeeds: string[];
  /** Problems that did not fail the run (e.g. the seeds could not be loaded for the descriptor report). */
  warnings: string[];
}

export interface StageContext {
  db: Db;
  /** Another connection to the run's working database (for work done on several at once). */
  connect: () => Promise<Db>;
  runId: string;
  lake: string;
  landing: string;
  config: Config;
  record: RunRecord;
}

export interface Stage {
  name: string;
  run(ctx: StageContext): Promise<unknown>;
}

export interface RunOptions {
  /** Demo only: without EDLAKE_PII_KEY, create/reuse a key in <lake>/../.edlake/demo-secrets.json. */
  demoKey?: boolean;
  /** Stages to run after refine, before commit (models, data tests, publish...). */
  stages?: readonly Stage[];
  /** DuckDB settings for the run (memory: default `defaultMemoryLimit()`). */
  threads?: number;
  memoryLimit?: string;
  /** Refine batches side by side (default: DuckDB's thread count; 1 refines one batch at a time; at most one fewer than Node's pool threads). */
  refineConcurrency?: number;
  /** Progress messages (stderr in the CLI). */
  log?: (message: string) => void;
}

const zero = (): RowCounts => ({ delivered: 0, refined: 0, quarantined: 0, duplicate: 0, skipped: 0 });
const add = (a: RowCounts, b: RowCounts) => {
  a.delivered += b.delivered;
  a.refined += b.refined;
  a.quarantined += b.quarantined;
  a.duplicate += b.duplicate;
  a.skipped += b.skipped;
};

/**
 * DuckDB's own default is 80 % of the machine's memory; the pipeline shares its server with the API
 * and the scheduler, so it takes 60 % unless EDLAKE_PIPELINE_MEMORY says otherwise (an amount, or a
 * share of the machine's memory). A 6 GB cap made the marts of a 100,000-student district run out of
 * memory in the daily attendance fact (measured: 5.7 GiB at failure, 10.1 GB peak without a limit).
 */
export function defaultMemoryLimit(setting?: string): string {
  const totalMb = totalmem() / 1048576;
  if (setting !== undefined) {
    const share = /^(\d{1,2})%$/.exec(setting.trim());
    if (!share) return setting.replace(/\s+/g, '');
    return `${Math.max(512, Math.floor((totalMb * Number(share[1])) / 100))}MB`;
  }
  return `${Math.max(512, Math.floor(totalMb * 0.6))}MB`;
}

export function newRunId(now = new Date()): string {
  return `${now.toISOString().replace(/[:.]/g, '-')}-${randomBytes(3).toString('hex')}`;
}

/** DuckDB's thread count and Node's pool size: the bounds of the raw and refine stages' workers (0309, 0310). */
async function parallelism(db: Db): Promise<{ threads: number; pool: number }> {
  const threads = Number((await db.scalar<string>(`SELECT current_setting('threads')::VARCHAR`)) ?? 1);
  return { threads, pool: Number(process.env['UV_THREADPOOL_SIZE']) || 4 };
}

/**
 * Stage raw: discover, hash, archive, inhale; every file recorded in raw.files. Files are inhaled
 * one more at a time than DuckDB has threads (decisions 0305, 0309): one file's CSV is read on one
 * thread and its rows numbered in order, so a file alone leaves a thread idle part of the time.
 * Each DuckDB call holds one of Node's pool threads (UV_THREADPOOL_SIZE, 4 by default) while it
 * runs, and the hashing loop that runs meanwhile reads files through that pool: one pool thread is
 * always left to it, whatever the number of cores.
 */
export async function rawStage(work: WorkDb, lake: string, landing: string, log: (m: string) => void, opts: { concurrency?: number } = {}): Promise<RawFile[]> {
  const seen = await SeenFiles.load(work.db);
  const { threads, pool } = await parallelism(work.db);
  const concurrency = opts.concurrency ?? Math.max(1, Math.min(threads + 1, pool - 1));
  return ingestFiles(work, lake, discover(landing), seen, {
    concurrency,
    onFile: (r) => {
      if (r.status !== 'loaded') log(`${r.status}: ${r.path}${r.reason ? ` (${r.reason}${r.detail ? `: ${r.detail}` : ''})` : ''}`);
    },
  });
}

/**
 * Tenant of each loaded file: the configured tenant, except for sources whose data names its own
 * district (Ed-Fi): `edfi-<leaId>` from the delivery's LEA records, else the tenant the source had
 * in earlier deliveries, else the configured tenant.
 */
export async function resolveTenants(db: Db, files: RawFile[], defaultTenant: string): Promise<Map<string, string>> {
  const tenants = new Map<string, string>();
  const groups = new Map<string, RawFile[]>();
  for (const f of files) {
    if (f.status !== 'loaded') continue;
    const source = sourceByName(f.source);
    const selfNaming = source?.layouts.some((l) => l.tenantFromLea);
    if (!selfNaming) {
      tenants.set(f.sha256, defaultTenant);
      continue;
    }
    const k = `${f.source}|${f.deliveryDate ?? ''}|${f.path.split('/').slice(0, 2).join('/')}`;
    const g = groups.get(k) ?? [];
    g.push(f);
    groups.set(k, g);
  }
  for (const g of groups.values()) {
    const leas = new Set<string>();
    for (const f of g) {
      const l = f.recognised?.layout;
      if (!l?.tenantFromLea || !f.rowsFile) continue;
      const paths = f.recognised?.columns[l.tenantFromLea.column] ?? [];
      if (paths.length === 0) continue;
      const rows = await db.all<{ v: string }>(
        `SELECT DISTINCT json_extract_string(json, ${literal(paths[0] as string)}) AS v FROM read_parquet(${literal(f.rowsFile)})
         WHERE NOT _ragged ${l.tenantFromLea.recordType ? `AND _record_type = ${literal(l.tenantFromLea.recordType)}` : ''}`,
      );
      for (const r of rows) if (r.v) leas.add(String(r.v).trim());
    }
    const source = (g[0] as RawFile).source;
    let tenant: string;
    if (leas.size >= 1) {
      tenant = `edfi-${[...leas].sort()[0]}`.toLowerCase().replace(/[^a-z0-9_-]/g, '-');
      await db.run(`INSERT OR REPLACE INTO meta.source_tenants VALUES ($1, $2, NULL)`, [source, tenant]);
    } else {
      const known = await db.one<{ tenant: string }>(`SELECT tenant FROM meta.source_tenants WHERE source = $1`, [source]);
      tenant = known?.tenant ?? defaultTenant;
    }
    for (const f of g) tenants.set(f.sha256, tenant);
  }
  return tenants;
}

/** Stage refined: every loaded file, in dependency order (reference data, roster, associations, events). */
export async function refineStage(
  work: WorkDb,
  files: RawFile[],
  tenants: Map<string, string>,
  piiKey: string,
  log: (m: string) => void,
  opts: { concurrency?: number } = {},
): Promise<Map<string, FileOutcome>> {
  const { db } = work;
  for (const sql of refinedDdl()) await db.run(sql);
  for (const { layout } of allLayouts()) {
    if (!layout.aux) continue;
    const cols = ['tenant', layout.aux.key, ...layout.aux.columns].map((c) => `${ident(c)} VARCHAR`).join(', ');
    await db.run(`CREATE TABLE IF NOT EXISTS meta.${ident(`aux_${layout.aux.table}`)} (${cols})`);
  }
  // Batches: the files of one layout and tenant, in delivery order; batches in dependency order.
  const batches = new Map<string, { layout: Layout; rank: number; tenant: string; source: string; files: RawFile[] }>();
  for (const f of files) {
    if (f.status !== 'loaded' || !f.recognised || !f.rowsFile) continue;
    const meta = layoutById(f.recognised.layout.id)!;
    const tenant = tenants.get(f.sha256) as string;
    const k = `${meta.layout.id}|${tenant}`;
    const b = batches.get(k) ?? { layout: meta.layout, rank: meta.rank, tenant, source: f.source, files: [] };
    b.files.push(f);
    batches.set(k, b);
  }
  const ordered = [...batches.values()].sort((a, b) => a.layout.phase - b.layout.phase || a.rank - b.rank || a.tenant.localeCompare(b.tenant));
  // Batches side by side (decision 0310): a batch starts once every earlier batch it conflicts
  // with (one writes what the other reads or writes) has finished, so the result is the one of
  // the sequential order. Each worker refines on its own connection (temporary tables are per
  // connection); what batches share goes through the run's tables.
  const access = ordered.map((b) => batchAccess(b.layout));
  const after = ordered.map((_, i) => ordered.map((__, j) => j).filter((j) => j < i && batchesConflict(access[i]!, access[j]!)));
  const state: Array<'waiting' | 'running' | 'done'> = ordered.map(() => 'waiting');
  const outcomes = new Map<string, FileOutcome>();
  let failure: { error: unknown } | undefined;
  let changed: () => void = () => {};
  let change = new Promise<void>((r) => (changed = r));
  const signal = () => {
    const done = changed;
    change = new Promise<void>((r) => (changed = r));
    done();
  };
  const nextBatch = (): number | 'wait' | undefined => {
    if (failure) return undefined;
    let waiting = false;
    for (let i = 0; i < ordered.length; i++) {
      if (state[i] !== 'waiting') continue;
      waiting = true;
      if (after[i]!.every((j) => state[j] === 'done')) return i;
    }
    return waiting ? 'wait' : undefined;
  };
  const runBatch = async (conn: Db, i: number) => {
    const b = ordered[i]!;
    b.files.sort((x, y) => (x.deliveryDate ?? '').localeCompare(y.deliveryDate ?? '') || x.path.localeCompare(y.path));
    const res = await refineBatch(conn, {
      runId: work.runId,
      source: b.source,
      layout: b.layout,
      tenant: b.tenant,
      piiKey,
      files: b.files.map((f) => ({ sha256: f.sha256, path: f.path, rowsFile: f.rowsFile!, columns: f.recognised!.columns })),
    });
    for (const [k, o] of res) {
      const f = b.files[k]!;
      outcomes.set(`${f.path}|${f.sha256}`, o);
      if (o.quarantined > 0) log(`quarantined ${o.quarantined} of ${f.rows} row(s): ${f.path}`);
    }
  };
  const connections: Db[] = [];
  await openRunRefs(db);
  try {
    const worker = async (k: number) => {
      let conn: Db | undefined;
      for (;;) {
        const i = nextBatch();
        if (i === undefined) return;
        if (i === 'wait') {
          await change;
          continue;
        }
        state[i] = 'running';
        try {
          if (!conn) {
            conn = k === 0 ? db : await work.connect();
            if (conn !== db) connections.push(conn);
            if (workers > 1) conn.label = `refine-${k}`;
          }
          await runBatch(conn, i);
          state[i] = 'done';
        } catch (error) {
          failure ??= { error };
        } finally {
          signal();
        }
      }
    };
    // As many batches as DuckDB has threads (a batch's statements leave threads idle part of the
    // time: windows, index inserts, person keys in Node), and one Node pool thread always left free.
    const { threads, pool } = await parallelism(db);
    const workers = Math.max(1, Math.min(opts.concurrency ?? threads, pool - 1, ordered.length));
    await Promise.all(Array.from({ length: workers }, (_, k) => worker(k)));
    if (failure) throw failure.error;
  } finally {
    db.label = undefined;
    for (const c of connections) {
      try {
        c.close();
      } catch {
        // a connection that cannot close is left to the instance, which the run closes
      }
    }
    try {
      await closeRunRefs(db);
    } catch (error) {
      // after a failed batch, that batch's error is the one to report
      if (!failure) throw error;
    }
  }
  return outcomes;
}

/** Assemble the run record from the raw files and their outcomes. */
export function buildRecord(record: RunRecord, files: RawFile[], outcomes: Map<string, FileOutcome>, tenants: Map<string, string>, limit: number): void {
  for (const f of files) {
    const o = outcomes.get(`${f.path}|${f.sha256}`);
    const rows: RowCounts =
      f.status === 'loaded' && o
        ? { delivered: f.rows, refined: o.refined, quarantined: o.quarantined, duplicate: o.duplicate, skipped: o.skipped }
        : f.status === 'duplicate'
          ? { delivered: f.rows, refined: 0, quarantined: 0, duplicate: f.rows, skipped: 0 }
          : { ...zero(), delivered: f.rows };
    const fr: FileRecord = {
      path: f.path,
      source: f.source,
      layout: f.layout ?? null,
      status: f.status,
      sha256: f.sha256,
      rows,
      raggedRows: o?.quarantineByRule.ragged_row ?? 0,
      quarantineByRule: o?.quarantineByRule ?? {},
      ...(f.reason ? { reason: f.reason } : {}),
      ...(f.detail ? { detail: f.detail } : {}),
      ...(f.duplicateOf ? { duplicateOf: f.duplicateOf } : {}),
      ...(f.encoding ? { encoding: f.encoding } : {}),
      ...(tenants.get(f.sha256) && f.status === 'loaded' ? { tenant: tenants.get(f.sha256) as string } : {}),
      ...(o && o.skipped > 0 ? { skippedReasons: o.skippedReasons } : {}),
    };
    for (const [name, e] of Object.entries(o?.entities ?? {})) {
      const t = (record.entities[name] ??= { inserted: 0, updated: 0 });
      t.inserted += e.inserted;
      t.updated += e.updated;
    }
    record.files.push(fr);
    record.summary.seen++;
    record.summary[f.status]++;
    add(record.summary.rows, rows);
    if (f.status === 'rejected') record.rejected.push({ path: f.path, reason: f.reason ?? 'unreadable', ...(f.detail ? { detail: f.detail } : {}) });
    const s = (record.sources[f.source] ??= { files: 0, rows: zero(), quarantineShare: 0, status: 'ok' });
    s.files++;
    add(s.rows, rows);
    for (const [rule, n] of Object.entries(fr.quarantineByRule)) {
      const k = rule as RowQuarantineReason;
      record.quarantineByRule[k] = (record.quarantineByRule[k] ?? 0) + (n ?? 0);
    }
    if (o?.idDetection) record.idDetection.push(o.idDetection);
  }
  for (const [name, s] of Object.entries(record.sources)) {
    s.quarantineShare = s.rows.delivered === 0 ? 0 : s.rows.quarantined / s.rows.delivered;
    if (s.quarantineShare > limit) {
      s.status = 'failed';
      record.failedSources.push(name);
    }
  }
}

/** One pipeline run. Throws only when it cannot start (no key, lake locked); otherwise returns the record. */
export async function runPipeline(config: Config, opts: RunOptions = {}): Promise<RunRecord> {
  const log = opts.log ?? (() => {});
  const t0 = Date.now();
  const lake = resolve(config.lake);
  const landing = resolve(config.landing);
  const { key: piiKey, origin } = resolvePiiKey({ piiKey: config.piiKey, lake }, { demo: opts.demoKey ?? false });
  const lock = acquireLakeLock(lake, 'pipeline run');
  const runId = newRunId();
  const record: RunRecord = {
    runId,
    status: 'failed',
    startedAt: new Date(t0).toISOString(),
    landing,
    lake,
    piiKeyOrigin: origin,
    quarantineLimit: config.quarantineLimit,
    files: [],
    summary: { seen: 0, loaded: 0, duplicate: 0, rejected: 0, rows: zero() },
    rejected: [],
    sources: {},
    failedSources: [],
    entities: {},
    quarantineByRule: {},
    idDetection: [],
    durations: { lock: Date.now() - t0 },
    stages: {},
    unmappedDescriptors: [],
    descriptorTypesWithoutSeeds: [],
    warnings: [],
  };
  let work: WorkDb | undefined;
  const step = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
    const s = Date.now();
    try {
      return await fn();
    } finally {
      record.durations[name] = Date.now() - s;
    }
  };
  try {
    cleanStaleStaging(lake);
    work = await step('open', () => openWork(lake, runId, { ...(opts.threads ? { threads: opts.threads } : {}), memoryLimit: opts.memoryLimit ?? defaultMemoryLimit(config.pipelineMemory) }));
    const w = work;
    const files = await step('raw', () => rawStage(w, lake, landing, log));
    const tenants = await step('tenants', () => resolveTenants(w.db, files, config.tenant));
    const outcomes = await step('refine', () => refineStage(w, files, tenants, piiKey, log, opts.refineConcurrency ? { concurrency: opts.refineConcurrency } : {}));
    await step('catalog', () =>
      catalog(
        w.db,
        runId,
        files.map((f) => {
          const o = outcomes.get(`${f.path}|${f.sha256}`);
          return {
            file: f,
            tenant: tenants.get(f.sha256) ?? null,
            ...(o ? { outcome: { refined: o.refined, quarantined: o.quarantined, duplicate: o.duplicate, skipped: o.skipped, ragged: o.quarantineByRule.ragged_row ?? 0 } } : {}),
          };
        }),
        w.tmpDir,
      ),
    );
    buildRecord(record, files, outcomes, tenants, config.quarantineLimit);
    await step('descriptors', async () => {
      try {
        await loadSeeds(w.db);
        record.unmappedDescriptors = await unmappedDescriptors(
          w.db,
          files.filter((f) => f.status === 'loaded').map((f) => f.sha256),
          25,
          record.descriptorTypesWithoutSeeds,
        );
      } catch (err) {
        record.warnings.push(`descriptor report skipped: ${err instanceof Error ? err.message : String(err)}`);
      }
    });
    for (const stage of opts.stages ?? []) {
      record.stages[stage.name] = (await step(stage.name, () => stage.run({ db: w.db, connect: () => w.connect(), runId, lake, landing, config, record }))) ?? null;
    }
    record.status = 'succeeded';
    record.finishedAt = new Date().toISOString();
    record.durations['total'] = Date.now() - t0;
    await w.db.run(`INSERT INTO meta.runs VALUES ($1, $2, now(), $3, $4)`, [runId, record.startedAt, record.status, JSON.stringify(record)]);
    await step('commit', () => w.commit((db) => rawViews(db, lake)));
    work = undefined;
  } catch (err) {
    record.status = 'failed';
    const message = err instanceof Error ? err.message : String(err);
    // A full disk often surfaces as a later symptom ("cannot rollback"): say so, keep the real error.
    // Checked before the staging folder is removed (that frees the room the run took).
    const full = diskFullFailure(err, work ? [work.dir, lake] : [lake]);
    record.error = full ? `${full.message}; the run failed with: ${message}` : message;
    if (full) record.cause = { kind: 'disk_full', path: full.path, ...(full.free !== undefined ? { freeBytes: full.free } : {}), error: message };
    if (work) work.abandon();
  } finally {
    record.finishedAt ??= new Date().toISOString();
    record.durations['total'] = Date.now() - t0;
    try {
      mkdirSync(runsDir(lake), { recursive: true });
      writeFileSync(join(runsDir(lake), `${runId}.json`), `${JSON.stringify(record, null, 2)}\n`);
    } catch (err) {
      const full = diskFullFailure(err, [runsDir(lake)]);
      throw new Error(`run ${runId} ${record.status}${record.error ? ` (${record.error})` : ''}, and its record could not be written to ${runsDir(lake)}: ${full ? full.message : (err as Error).message}`, { cause: err });
    } finally {
      // Released even when the record cannot be written (a full disk): the next run must not wait.
      lock.release();
    }
  }
  return record;
}
