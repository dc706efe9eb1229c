/**
 * The pipeline's working database (`<lake>/work.duckdb`) and identity store, opened for one run
 * on COPIES in `<lake>/.staging/<run id>/`. The run writes only there (plus new content-addressed
 * files); `commit()` moves the new raw files into place and renames the copies over the live
 * files. A run that fails (or a process that dies) leaves the live lake exactly as the last
 * successful run left it; its staging folder is removed by the next run (decision 0302).
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync, statfsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { Db, literal } from '../src/db/duckdb.ts';
import { identityDdl, identityPath, secureIdentityFiles } from '../src/identity/store.ts';
import { EDLAKE_KEY_MACRO } from './keys.ts';

export function workDbPath(lake: string): string {
  return join(lake, 'work.duckdb');
}
export function rawFilesDir(lake: string): string {
  return join(lake, 'raw', 'files');
}
export function rawRowsDir(lake: string): string {
  return join(lake, 'raw', 'rows');
}
export function runsDir(lake: string): string {
  return join(lake, 'runs');
}
export function stagingRoot(lake: string): string {
  return join(lake, '.staging');
}

/** Schemas, bookkeeping tables and the macros of the working database (exported for tests). */
export const WORK_DDL = [
  `CREATE SCHEMA IF NOT EXISTS raw`,
  `CREATE SCHEMA IF NOT EXISTS quarantine`,
  `CREATE SCHEMA IF NOT EXISTS meta`,
  `CREATE SCHEMA IF NOT EXISTS seeds`,
  // One row per delivered file the lake has seen (no index: the pipeline reads it once per run).
  `CREATE TABLE IF NOT EXISTS raw.files (
     sha256 VARCHAR NOT NULL, path VARCHAR NOT NULL, source VARCHAR NOT NULL, delivery_date DATE,
     layout VARCHAR, format VARCHAR, encoding VARCHAR, delimiter VARCHAR, bytes BIGINT,
     status VARCHAR NOT NULL, reason VARCHAR, detail VARCHAR, duplicate_of VARCHAR,
     rows INTEGER, ragged_rows INTEGER, column_map VARCHAR, tenant VARCHAR,
     refined INTEGER, quarantined INTEGER, duplicate_rows INTEGER, skipped INTEGER,
     run_id VARCHAR NOT NULL, discovered_at TIMESTAMP NOT NULL)`,
  `ALTER TABLE raw.files ADD COLUMN IF NOT EXISTS mtime_ms DOUBLE`,
  `CREATE TABLE IF NOT EXISTS quarantine.rows (
     run_id VARCHAR NOT NULL, file_sha256 VARCHAR NOT NULL, path VARCHAR NOT NULL, row_number INTEGER,
     source VARCHAR NOT NULL, layout VARCHAR, entity VARCHAR, field VARCHAR, rule VARCHAR NOT NULL,
     value VARCHAR, reason VARCHAR)`,
  `CREATE TABLE IF NOT EXISTS meta.runs (
     run_id VARCHAR PRIMARY KEY, started_at TIMESTAMP, finished_at TIMESTAMP, status VARCHAR, record VARCHAR)`,
  `CREATE TABLE IF NOT EXISTS meta.source_tenants (source VARCHAR PRIMARY KEY, tenant VARCHAR NOT NULL, run_id VARCHAR)`,
  EDLAKE_KEY_MACRO,
  // '' and whitespace-only as NULL, others trimmed
  `CREATE OR REPLACE MACRO edlake_clean(v) AS nullif(trim(v), '')`,
  // A date in any accepted delivered format: ISO (optionally with a time), M/D/YYYY, MM-DD-YYYY, MMDDYYYY, YYYYMMDD.
  // Fast path first (decision 0306): a plain ISO date that DuckDB's own cast reads is the value the
  // rules below give it; anything else (or a cast that fails) goes through them.
  `CREATE OR REPLACE MACRO edlake_date(v) AS CASE
     WHEN trim(v) LIKE '____-__-__' AND substr(trim(v), 1, 1) BETWEEN '0' AND '9' AND TRY_CAST(trim(v) AS DATE) IS NOT NULL THEN TRY_CAST(trim(v) AS DATE)
     WHEN nullif(trim(v), '') IS NULL THEN NULL
     WHEN regexp_full_match(trim(v), '\\d{4}-\\d{1,2}-\\d{1,2}([T ].*)?') THEN try_strptime(substr(trim(v), 1, 10), ['%Y-%m-%d', '%Y-%m-%-d', '%Y-%-m-%d', '%Y-%-m-%-d'])::DATE
     WHEN regexp_full_match(trim(v), '\\d{1,2}/\\d{1,2}/\\d{4}( .*)?') THEN try_strptime(split_part(trim(v), ' ', 1), '%m/%d/%Y')::DATE
     WHEN regexp_full_match(trim(v), '\\d{1,2}-\\d{1,2}-\\d{4}') THEN try_strptime(trim(v), '%m-%d-%Y')::DATE
     WHEN regexp_full_match(trim(v), '\\d{8}') AND substr(trim(v), 1, 2) IN ('19', '20') AND try_strptime(trim(v), '%Y%m%d') IS NOT NULL THEN try_strptime(trim(v), '%Y%m%d')::DATE
     WHEN regexp_full_match(trim(v), '\\d{8}') THEN try_strptime(trim(v), '%m%d%Y')::DATE
     ELSE NULL END`,
  `CREATE OR REPLACE MACRO edlake_timestamp(v) AS CASE
     WHEN trim(v) LIKE '____-__-__T__:__:__' AND substr(trim(v), 1, 1) BETWEEN '0' AND '9' AND TRY_CAST(replace(trim(v), 'T', ' ') AS TIMESTAMP) IS NOT NULL
       THEN TRY_CAST(replace(trim(v), 'T', ' ') AS TIMESTAMP)
     WHEN nullif(trim(v), '') IS NULL THEN NULL
     WHEN regexp_full_match(trim(v), '\\d{4}-\\d{2}-\\d{2}[T ]\\d{2}:\\d{2}(:\\d{2}(\\.\\d+)?)?(Z|[+-]\\d{2}:?\\d{2})?') THEN try_cast(replace(regexp_replace(trim(v), '(Z|[+-]\\d{2}:?\\d{2})$', ''), 'T', ' ') AS TIMESTAMP)
     WHEN regexp_full_match(trim(v), '\\d{1,2}/\\d{1,2}/\\d{4} \\d{1,2}:\\d{2}(:\\d{2})?') THEN coalesce(try_strptime(trim(v), '%m/%d/%Y %H:%M:%S'), try_strptime(trim(v), '%m/%d/%Y %H:%M'))
     ELSE CAST(edlake_date(v) AS TIMESTAMP) END`,
  // School year named by its spring year: 2026, 2025-2026, 2025-26, "Fall 2025-2026" all give 2026.
  `CREATE OR REPLACE MACRO edlake_school_year(v) AS CASE
     WHEN regexp_matches(coalesce(v, ''), '\\d{4}\\s*-\\s*\\d{4}') THEN CAST(regexp_extract(v, '\\d{4}\\s*-\\s*(\\d{4})', 1) AS INTEGER)
     WHEN regexp_matches(coalesce(v, ''), '\\d{4}\\s*-\\s*\\d{2}(\\D|$)') THEN CAST(regexp_extract(v, '(\\d{4})\\s*-\\s*\\d{2}', 1) AS INTEGER) + 1
     WHEN regexp_full_match(trim(coalesce(v, '')), '\\d{4}') THEN CAST(trim(v) AS INTEGER)
     ELSE NULL END`,
  // School year of a date: July 1 starts the next school year.
  `CREATE OR REPLACE MACRO edlake_school_year_of(d) AS CASE WHEN d IS NULL THEN NULL WHEN month(d) >= 7 THEN year(d) + 1 ELSE year(d) END`,
  // A JSON value that may be one object or an array of objects, as a list of JSON.
  `CREATE OR REPLACE MACRO edlake_json_list(j, path) AS CASE json_type(json_extract(j, path))
     WHEN 'ARRAY' THEN CAST(json_extract(j, path || '[*]') AS JSON[])
     WHEN 'OBJECT' THEN [json_extract(j, path)]
     ELSE CAST([] AS JSON[]) END`,
  `CREATE OR REPLACE MACRO edlake_bool(v) AS CASE lower(trim(coalesce(v, '')))
     WHEN 'true' THEN true WHEN 't' THEN true WHEN 'yes' THEN true WHEN 'y' THEN true WHEN '1' THEN true
     WHEN 'false' THEN false WHEN 'f' THEN false WHEN 'no' THEN false WHEN 'n' THEN false WHEN '0' THEN false
     ELSE NULL END`,
];

export interface WorkDb {
  db: Db;
  runId: string;
  dir: string;
  rowsDir: string;
  filesDir: string;
  tmpDir: string;
  /** Another connection to the run's database (for work done in parallel); close it before commit. */
  connect(): Promise<Db>;
  /** Move new raw files into place, run `beforeClose` (e.g. views over them), then rename the database copies over the live ones. */
  commit(beforeClose?: (db: Db) => Promise<void>): Promise<void>;
  /** Close and remove the staging folder without touching the live lake. */
  abandon(): void;
}

export interface OpenWorkOptions {
  threads?: number;
  memoryLimit?: string;
}

/** Remove staging folders left by runs that died (call while holding the lake lock). */
export function cleanStaleStaging(lake: string): void {
  const root = stagingRoot(lake);
  if (!existsSync(root)) return;
  for (const d of readdirSync(root)) rmSync(join(root, d), { recursive: true, force: true });
}

export async function openWork(lake: string, runId: string, opts: OpenWorkOptions = {}): Promise<WorkDb> {
  const dir = join(stagingRoot(lake), runId);
  const rowsDir = join(dir, 'rows');
  const filesDir = join(dir, 'files');
  const tmpDir = join(dir, 'tmp');
  for (const d of [rowsDir, filesDir, tmpDir, rawFilesDir(lake), rawRowsDir(lake), runsDir(lake)]) mkdirSync(d, { recursive: true });
  secureIdentityFiles(lake);
  const liveWork = workDbPath(lake);
  const liveIdentity = identityPath(lake);
  const work = join(dir, 'work.duckdb');
  const ident = join(dir, 'identity.duckdb');
  if (existsSync(liveWork)) copyFileSync(liveWork, work);
  if (existsSync(liveIdentity)) copyFileSync(liveIdentity, ident);
  const settings: Record<string, string> = { temp_directory: tmpDir };
  if (opts.threads) settings['threads'] = String(opts.threads);
  if (opts.memoryLimit) settings['memory_limit'] = opts.memoryLimit;
  // An instance of its own (not the process cache): the copy lives only for this run and is
  // closed before it is renamed over the live file.
  const instance = await DuckDBInstance.create(work, settings);
  const db = new Db(await instance.connect());
  await db.run(`ATTACH ${literal(ident)} AS identity`);
  secureIdentityFiles(lake, ident);
  for (const sql of [...WORK_DDL, ...identityDdl('identity')]) await db.run(sql);
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    db.close();
    instance.closeSync();
  };
  return {
    db,
    runId,
    dir,
    rowsDir,
    filesDir,
    tmpDir,
    async connect() {
      return new Db(await instance.connect());
    },
    async commit(beforeClose?: (db: Db) => Promise<void>) {
      // 1. New content-addressed files into place (harmless if the run stopped here: nothing
      //    catalogues them until the working database is renamed; a later run finds them in place).
      for (const [from, to] of [
        [filesDir, rawFilesDir(lake)],
        [rowsDir, rawRowsDir(lake)],
      ] as const) {
        for (const f of readdirSync(from)) {
          const dest = join(to, f);
          if (!existsSync(dest)) renameSync(join(from, f), dest);
        }
      }
      if (beforeClose) await beforeClose(db);
      await db.run('CHECKPOINT identity');
      await db.run('CHECKPOINT');
      await db.run('DETACH identity');
      close();
      // 2. The identity store, then the working database: its rename is the commit point.
      secureIdentityFiles(lake, ident);
      renameSync(ident, liveIdentity);
      secureIdentityFiles(lake);
      renameSync(work, liveWork);
      rmSync(dir, { recursive: true, force: true });
    },
    abandon() {
      try {
        close();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

/** Size of the live working database, for the run record. */
export function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

const NO_SPACE = /ENOSPC|no space left on device|disk is full|disk full|not enough space on the disk/i;

/** Bytes free (for an unprivileged writer) on the file system holding `path` or its nearest existing ancestor. */
export function freeBytes(path: string): number | undefined {
  let p = path;
  for (;;) {
    try {
      const s = statfsSync(p);
      return Number(s.bavail) * Number(s.bsize);
    } catch {
      const up = dirname(p);
      if (up === p) return undefined;
      p = up;
    }
  }
}

function messages(err: unknown): string[] {
  const out: string[] = [];
  for (let e: unknown = err, depth = 0; e !== undefined && e !== null && depth < 8; depth++) {
    if (e instanceof Error) {
      out.push(`${(e as NodeJS.ErrnoException).code ?? ''} ${e.message}`);
      e = e.cause;
    } else {
      out.push(String(e));
      break;
    }
  }
  return out;
}

export interface DiskFull {
  /** One line for the run record and the CLI: the disk is full, where, and what the run was doing. */
  message: string;
  /** The folder whose disk is full. */
  path: string;
  /** Bytes free on it when the run failed, when known. */
  free?: number;
}

/**
 * Whether a failed run failed for want of disk space. DuckDB often reports a later symptom rather
 * than the cause (a write that hits ENOSPC inside a statement surfaces as "TransactionContext
 * Error: cannot rollback" once the rollback needs room too), so the error's own words are one
 * sign and the room left on the disks the run writes to (checked before the staging folder is
 * removed) is the other. `paths` are the run's write locations, in order of preference.
 */
export function diskFullFailure(err: unknown, paths: readonly string[], minFree = 64 * 2 ** 20): DiskFull | undefined {
  const said = messages(err).some((m) => NO_SPACE.test(m));
  const room = paths.map((p) => ({ path: p, free: freeBytes(p) }));
  const low = room.find((r) => r.free !== undefined && r.free < minFree);
  if (!said && !low) return undefined;
  const at = low ?? room.find((r) => r.free !== undefined) ?? { path: paths[0] ?? '.', free: undefined };
  const mb = at.free === undefined ? '' : `${(at.free / 2 ** 20).toFixed(1)} MB free`;
  const message = low
    ? `no space left on device: the disk holding ${at.path} is full (${mb})`
    : `no space left on device while writing under ${at.path}${mb ? ` (${mb} once the run stopped)` : ''}`;
  return { message, path: at.path, ...(at.free !== undefined ? { free: at.free } : {}) };
}
