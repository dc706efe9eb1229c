/**
 * The serving file for BI tools: `<lake>/serving/current.duckdb`, a small DuckDB database holding
 * one VIEW per table of the current snapshot over `read_parquet` of that snapshot's files
 * (absolute paths), plus a one-row `edlake_snapshot` table naming the snapshot it shows.
 *
 * Metabase's DuckDB driver (MotherDuck's metabase_duckdb_driver) opens it read-only; the file holds
 * no data of its own, only view definitions, so it is a few hundred kilobytes whatever the district's
 * size, and a query reads the immutable snapshot files directly.
 *
 * It is replaced atomically after each publish: written under a temporary name in the same folder,
 * checkpointed, closed and fsynced, then renamed over `current.duckdb`. A reader that opens the file
 * sees the previous snapshot or the new one, never a mix; a reader that already has it open keeps
 * the old inode (and the old snapshot's files, which stay until expiry) until it reopens.
 *
 * Only the `published` tier (the marts) is exposed by default: a BI tool has no row scoping, so the
 * analyst-tier refined tables stay out unless asked for (decision 0700).
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { Db, ident, literal } from '../../src/db/duckdb.ts';
import { layout, readCurrent, readManifest, type Manifest, type Tier } from '../../src/catalog/index.ts';
import { fsyncDir, fsyncFile, tempName } from '../../src/catalog/fsutil.ts';

export const SERVING_DIR = 'serving';
export const SERVING_FILE = 'current.duckdb';

/**
 * Storage format of the serving file. DuckDB reads files of its own and earlier storage versions
 * only; v1.0.0 is read by every DuckDB release since 1.0, so a Metabase driver bundling an older
 * DuckDB than edlake's still opens it.
 */
export const SERVING_STORAGE_VERSION = 'v1.0.0';

export function servingPath(lake: string): string {
  return path.join(path.resolve(lake), SERVING_DIR, SERVING_FILE);
}

export interface ServingOptions {
  /** Tiers whose tables get a view (default: the published marts only). */
  tiers?: readonly Tier[];
  /** Test hook, called after the temporary file is complete and before the rename. */
  beforeRename?: (tmpFile: string) => void;
}

export interface ServingResult {
  file: string;
  snapshotId: number;
  views: Array<{ schema: string; name: string; rows: number }>;
  bytes: number;
}

/** Remove temporary serving files left by an interrupted write (the caller holds the lake lock). */
async function cleanTemps(dir: string): Promise<void> {
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch {
    return;
  }
  for (const n of names) {
    if (n.startsWith(`.${SERVING_FILE}.`) && (n.endsWith('.tmp') || n.endsWith('.tmp.wal'))) {
      await fs.rm(path.join(dir, n), { force: true });
    }
  }
}

/** The statements that build the serving database `alias` for a manifest. */
function viewStatements(lake: string, m: Manifest, alias: string, tiers: readonly Tier[]): { sql: string[]; views: ServingResult['views'] } {
  const L = layout(path.resolve(lake));
  const tables = m.tables.filter((t) => tiers.includes(t.tier));
  const sql: string[] = [];
  const views: ServingResult['views'] = [];
  for (const s of new Set(tables.map((t) => t.schema))) sql.push(`create schema ${ident(alias)}.${ident(s)}`);
  for (const t of tables) {
    const cols = t.columns.map((c) => ident(c.name)).join(', ');
    const from =
      t.files.length > 0
        ? `read_parquet([${t.files.map((f) => literal(L.abs(f.path))).join(', ')}])`
        : // A table without rows has no file: an empty relation of the manifest's column types.
          `(select ${t.columns.map((c) => `cast(null as ${c.type}) as ${ident(c.name)}`).join(', ')} where false)`;
    sql.push(`create view ${ident(alias)}.${ident(t.schema)}.${ident(t.name)} as select ${cols} from ${from}`);
    views.push({ schema: t.schema, name: t.name, rows: t.row_count });
  }
  return { sql, views };
}

/**
 * Write `<lake>/serving/current.duckdb` for the current snapshot (or the snapshot `snapshotId`,
 * which must be the current one: the serving file never shows anything else).
 */
export async function writeServingFile(lake: string, snapshotId?: number, opts: ServingOptions = {}): Promise<ServingResult> {
  const current = await readCurrent(lake);
  if (!current) throw new Error(`no snapshot is published in ${lake}: nothing to serve`);
  if (snapshotId !== undefined && snapshotId !== current.snapshot_id) {
    throw new Error(`snapshot ${snapshotId} is not the current snapshot (${current.snapshot_id}); the serving file shows the current one`);
  }
  const loaded = await readManifest(lake, current.snapshot_id);
  if (!loaded) throw new Error(`CURRENT names snapshot ${current.snapshot_id} but its manifest is missing`);
  if (loaded.sha256 !== current.manifest_sha256) throw new Error(`manifest of snapshot ${current.snapshot_id} does not match CURRENT's checksum`);
  const m = loaded.manifest;
  const target = servingPath(lake);
  const dir = path.dirname(target);
  await fs.mkdir(dir, { recursive: true });
  await cleanTemps(dir);
  const tmp = tempName(dir, SERVING_FILE);
  const alias = 'serving';
  const { sql, views } = viewStatements(lake, m, alias, opts.tiers ?? ['published']);

  const instance = await DuckDBInstance.create(':memory:');
  let db: Db | undefined;
  try {
    db = new Db(await instance.connect());
    await db.run(`attach ${literal(tmp)} as ${ident(alias)} (storage_version ${literal(SERVING_STORAGE_VERSION)})`);
    await db.run('begin transaction');
    for (const s of sql) await db.run(s);
    await db.run(
      `create table ${ident(alias)}.main.edlake_snapshot (snapshot_id integer, published_at timestamptz, data_through date, run_id varchar, manifest_sha256 varchar, timezone varchar)`,
    );
    await db.run(`insert into ${ident(alias)}.main.edlake_snapshot values ($1, $2::timestamptz, $3::date, $4, $5, $6)`, [
      m.snapshot_id,
      m.published_at,
      m.data_through,
      m.run_id,
      loaded.sha256,
      m.timezone,
    ]);
    await db.run('commit');
    await db.run(`checkpoint ${ident(alias)}`);
    await db.run(`detach ${ident(alias)}`);
  } catch (e) {
    db?.close();
    instance.closeSync();
    await fs.rm(tmp, { force: true });
    await fs.rm(`${tmp}.wal`, { force: true });
    throw e;
  }
  db.close();
  instance.closeSync();
  try {
    await fs.rm(`${tmp}.wal`, { force: true });
    await fsyncFile(tmp);
    opts.beforeRename?.(tmp);
    await fs.rename(tmp, target);
  } catch (e) {
    await fs.rm(tmp, { force: true });
    throw e;
  }
  await fsyncDir(dir);
  const { size } = await fs.stat(target);
  return { file: target, snapshotId: m.snapshot_id, views, bytes: size };
}
