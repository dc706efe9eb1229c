/**
 * Writing a snapshot. Order of the steps (each one a crash point for the tests):
 *
 *   begin                  nothing written yet
 *   data-temp-written      a table's Parquet file is complete in tmp/, not yet in data/
 *   data-placed            every data file is in data/ (content-addressed; unchanged ones shared)
 *   manifest-temp-written  manifest bytes durable in a temp file, not yet renamed
 *   manifest-placed        manifests/<id>.json exists, CURRENT still names the previous snapshot
 *   current-temp-written   new pointer durable in a temp file, not yet renamed
 *   current-placed         CURRENT names the new snapshot: it is published
 *
 * Until the rename of CURRENT, readers (which start from CURRENT) see the previous snapshot, and
 * everything written so far is either an unreferenced data file or a manifest above CURRENT: both
 * are ignored by readers and by `verify`, and collected by `expire`.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Db, ident, literal } from '../db/duckdb.ts';
import {
  FORMAT_NAME,
  FORMAT_VERSION,
  layout,
  serializeManifest,
  sha256,
  type Column,
  type CurrentPointer,
  type DataFile,
  type Json,
  type Manifest,
  type SourceFile,
  type TableEntry,
  type Tier,
} from './format.ts';
import { atomicWrite, crashPoint, exists, fsyncDir, fsyncFile, hashFile } from './fsutil.ts';
import { readCurrent, readManifest } from './store.ts';

export const PUBLISH_STEPS = [
  'begin',
  'data-temp-written',
  'data-placed',
  'manifest-temp-written',
  'manifest-placed',
  'current-temp-written',
  'current-placed',
] as const;
export type PublishStep = (typeof PUBLISH_STEPS)[number];

export interface PublishTable {
  /** Schema in the working database, e.g. 'marts' or 'refined'. */
  schema: string;
  table: string;
  tier: Tier;
  /** Columns to sort the Parquet file by (clustering for readers' zone maps), e.g. ['school_key']. */
  sortKeys?: string[];
  /** Rows per Parquet row group (default DuckDB's 122,880); smaller groups let lookups skip more. */
  rowGroupSize?: number;
  /**
   * A DATE or TIMESTAMP column: write one file per calendar month of it, so that a table that grows
   * by the day (attendance) rewrites only the current month's file each night.
   */
  partitionByMonthOf?: string;
}

export interface PublishInput {
  lake: string;
  /** Connection to the working database holding the tables. */
  db: Db;
  tables: PublishTable[];
  runId: string;
  /** Last date the data covers (YYYY-MM-DD), or null when unknown. */
  dataThrough: string | null;
  sourceFiles: SourceFile[];
  dataTests: Json;
  modelVersions: Record<string, string>;
  dictionary: Json;
  /** District time zone, recorded in the manifest (time travel reads dates in it). */
  timezone: string;
  /** Publish time; defaults to the clock. Never earlier than the previous snapshot's. */
  now?: Date;
  /** Called after each table, for progress reporting. */
  onTable?: (t: { schema: string; table: string; rows: number; shared: boolean; index: number; total: number }) => void;
}

export interface PublishResult {
  snapshotId: number;
  manifest: Manifest;
  manifestSha256: string;
  /** Data files written by this publish, and files reused from earlier snapshots. */
  filesWritten: number;
  filesShared: number;
  bytesWritten: number;
  /** Bytes this snapshot added to the lake: new data files plus the manifest. */
  bytesAdded: number;
  durationMs: number;
}

export class PublishError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PublishError';
  }
}

let cachedVersion: string | undefined;
async function edlakeVersion(): Promise<string> {
  if (cachedVersion) return cachedVersion;
  try {
    const pkg = JSON.parse(await fs.readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
    cachedVersion = pkg.version ?? 'unknown';
  } catch {
    cachedVersion = 'unknown';
  }
  return cachedVersion;
}

/**
 * Order-independent fingerprint of a table's content, computed in DuckDB: row count and two
 * differently seeded sums of 64-bit row hashes (a multiset hash), plus the column list and the
 * DuckDB version (whose hash function it depends on). Equal fingerprints mean the previous
 * snapshot's files can be shared instead of written again.
 */
async function fingerprint(db: Db, qualified: string, columns: Column[], duckdbVersion: string): Promise<{ fp: string; rows: number }> {
  const row = await db.one<{ n: number; h1: string; h2: string }>(
    `select count(*) as n, coalesce(sum(hash(t)::hugeint), 0)::varchar as h1, coalesce(sum(hash(t, 'edlake')::hugeint), 0)::varchar as h2 from ${qualified} as t`,
  );
  if (!row) throw new PublishError(`cannot fingerprint ${qualified}`);
  const fp = sha256(JSON.stringify({ columns, n: row.n, h1: row.h1, h2: row.h2, duckdb: duckdbVersion }));
  return { fp, rows: row.n };
}

const NO_MONTH = 'none';

/** Per-month fingerprints of a table (rows whose partition column is NULL form the 'none' partition). */
async function monthPartitions(
  db: Db,
  qualified: string,
  column: string,
  columns: Column[],
  duckdbVersion: string,
): Promise<Array<{ partition: string; rows: number; fp: string }>> {
  const c = columns.find((x) => x.name === column);
  if (!c) throw new PublishError(`${qualified}: partition column ${column} is not a column`);
  if (!/^(DATE|TIMESTAMP)/.test(c.type)) throw new PublishError(`${qualified}: partition column ${column} is ${c.type}, expected DATE or TIMESTAMP`);
  const col = ident(column);
  const rows = await db.all<{ p: string; n: number; h1: string; h2: string }>(
    `select coalesce(strftime(${col}, '%Y-%m'), '${NO_MONTH}') as p, count(*) as n, sum(hash(t)::hugeint)::varchar as h1, sum(hash(t, 'edlake')::hugeint)::varchar as h2
       from ${qualified} as t group by 1 order by 1`,
  );
  return rows.map((r) => ({
    partition: r.p,
    rows: r.n,
    fp: sha256(JSON.stringify({ columns, p: r.p, n: r.n, h1: r.h1, h2: r.h2, duckdb: duckdbVersion })),
  }));
}

async function describe(db: Db, qualified: string): Promise<Column[]> {
  const rows = await db.all<{ column_name: string; column_type: string }>(`describe select * from ${qualified}`);
  return rows.map((r) => ({ name: r.column_name, type: r.column_type }));
}

function validateTables(tables: PublishTable[]): void {
  const seen = new Set<string>();
  for (const t of tables) {
    ident(t.schema);
    ident(t.table);
    if (t.tier !== 'published' && t.tier !== 'refined') throw new PublishError(`${t.schema}.${t.table}: tier must be published or refined`);
    const k = `${t.schema}.${t.table}`;
    if (seen.has(k)) throw new PublishError(`table ${k} is listed twice`);
    seen.add(k);
  }
}

async function filesIntact(lake: string, files: DataFile[]): Promise<boolean> {
  const L = layout(lake);
  for (const f of files) {
    try {
      const st = await fs.stat(L.abs(f.path));
      if (st.size !== f.bytes) return false;
    } catch {
      return false;
    }
  }
  return true;
}

/**
 * Test hook: EDLAKE_TEST_PUBLISH_TIME (an ISO instant) stands for the clock, so that end-to-end
 * tests can publish "night 1" and "night 2" on different days from a real `edlake pipeline run`.
 */
function testPublishTime(): Date | undefined {
  const v = process.env['EDLAKE_TEST_PUBLISH_TIME'];
  if (!v) return undefined;
  const d = new Date(v);
  if (Number.isNaN(d.getTime())) throw new PublishError(`EDLAKE_TEST_PUBLISH_TIME: expected an ISO instant, got ${JSON.stringify(v)}`);
  return d;
}

/** Publish a snapshot of the given tables. Only one publisher at a time (the pipeline holds the lake lock). */
export async function writeSnapshot(input: PublishInput): Promise<PublishResult> {
  const t0 = performance.now();
  validateTables(input.tables);
  if (input.dataThrough !== null && !/^\d{4}-\d{2}-\d{2}$/.test(input.dataThrough)) {
    throw new PublishError(`data-through date must be YYYY-MM-DD, got ${JSON.stringify(input.dataThrough)}`);
  }
  const L = layout(input.lake);
  for (const d of [L.root, L.manifests, L.data, L.tmp]) await fs.mkdir(d, { recursive: true });
  crashPoint('begin');

  const current = await readCurrent(input.lake);
  let previous: { manifest: Manifest; sha256: string } | undefined;
  if (current) {
    const loaded = await readManifest(input.lake, current.snapshot_id);
    if (!loaded) throw new PublishError(`CURRENT names snapshot ${current.snapshot_id} but ${L.manifestRel(current.snapshot_id)} is missing`);
    if (loaded.sha256 !== current.manifest_sha256) {
      throw new PublishError(
        `${L.manifestRel(current.snapshot_id)} does not match the checksum recorded in CURRENT: the catalog was altered; run \`edlake snapshots verify\``,
      );
    }
    previous = loaded;
  }
  const snapshotId = (current?.snapshot_id ?? 0) + 1;
  const duckdbVersion = String((await input.db.scalar('select version()')) ?? 'unknown');
  const prevTables = new Map((previous?.manifest.tables ?? []).map((t) => [`${t.schema}.${t.name}`, t]));

  const entries: TableEntry[] = [];
  let filesWritten = 0;
  let filesShared = 0;
  let bytesWritten = 0;
  let bytesAdded = 0;
  let index = 0;
  for (const t of input.tables) {
    index++;
    const qualified = `${ident(t.schema)}.${ident(t.table)}`;
    const exists0 = await input.db.scalar<number>(
      'select count(*) from information_schema.tables where table_schema = $1 and table_name = $2',
      [t.schema, t.table],
    );
    if (!exists0) throw new PublishError(`table ${t.schema}.${t.table} does not exist in the working database`);
    const columns = await describe(input.db, qualified);
    const sortKeys = t.sortKeys ?? [];
    for (const k of sortKeys) {
      if (!columns.some((c) => c.name === k)) throw new PublishError(`${t.schema}.${t.table}: sort key ${k} is not a column`);
    }
    const prev = prevTables.get(`${t.schema}.${t.table}`);
    const sameLayout =
      prev !== undefined &&
      JSON.stringify(prev.sort_keys) === JSON.stringify(sortKeys) &&
      (prev.row_group_size ?? null) === (t.rowGroupSize ?? null) &&
      (prev.partition_by ?? null) === (t.partitionByMonthOf ?? null);
    const order = sortKeys.length ? ` order by ${sortKeys.map(ident).join(', ')}` : '';
    const rg = t.rowGroupSize !== undefined ? `, row_group_size ${Math.max(1024, Math.floor(t.rowGroupSize))}` : '';

    /** Write the rows of `where` to a content-addressed file (or find the same bytes already there). */
    const writeFile = async (where: string, rowCount: number, extra: Pick<DataFile, 'partition' | 'content_fingerprint'>): Promise<DataFile> => {
      const tmp = path.join(L.tmp, `${t.schema}.${t.table}.${process.pid}.${randomBytes(6).toString('hex')}.parquet`);
      await input.db.run(`copy (select * from ${qualified}${where}${order}) to ${literal(tmp)} (format parquet, compression zstd${rg})`);
      await fsyncFile(tmp);
      crashPoint('data-temp-written');
      const { sha256: sha, bytes } = await hashFile(tmp);
      const rel = L.dataRel(t.schema, t.table, sha);
      const target = L.abs(rel);
      await fs.mkdir(path.dirname(target), { recursive: true });
      if ((await exists(target)) && (await hashFile(target)).sha256 === sha) {
        // The same bytes are already in the lake (an earlier snapshot had this content): share them.
        await fs.rm(tmp);
        filesShared++;
      } else {
        await fs.rename(tmp, target);
        await fsyncDir(path.dirname(target));
        filesWritten++;
        bytesWritten += bytes;
        bytesAdded += bytes;
      }
      return { path: rel, sha256: sha, bytes, row_count: rowCount, ...extra };
    };

    let files: DataFile[] = [];
    let fp: string;
    let rows: number;
    let shared = true;
    const parts = t.partitionByMonthOf ? await monthPartitions(input.db, qualified, t.partitionByMonthOf, columns, duckdbVersion) : [];
    if (parts.length > 0) {
      // One file per month of the partition column: an append-only table rewrites only its last month.
      const col = ident(t.partitionByMonthOf as string);
      rows = parts.reduce((a, p) => a + p.rows, 0);
      fp = sha256(JSON.stringify(parts.map((p) => [p.partition, p.fp])));
      for (const p of parts) {
        const old = sameLayout ? prev.files.find((f) => f.partition === p.partition && f.content_fingerprint === p.fp) : undefined;
        if (old && (await filesIntact(input.lake, [old]))) {
          files.push(old);
          filesShared++;
          continue;
        }
        shared = false;
        const where = p.partition === NO_MONTH ? ` where ${col} is null` : ` where strftime(${col}, '%Y-%m') = ${literal(p.partition)}`;
        files.push(await writeFile(where, p.rows, { partition: p.partition, content_fingerprint: p.fp }));
      }
    } else {
      ({ fp, rows } = await fingerprint(input.db, qualified, columns, duckdbVersion));
      if (sameLayout && prev.content_fingerprint === fp && (await filesIntact(input.lake, prev.files))) {
        files = prev.files;
        filesShared += files.length;
      } else {
        shared = false;
        files = [await writeFile('', rows, {})];
      }
    }
    entries.push({
      schema: t.schema,
      name: t.table,
      tier: t.tier,
      row_count: rows,
      content_fingerprint: fp,
      sort_keys: sortKeys,
      row_group_size: t.rowGroupSize ?? null,
      partition_by: parts.length > 0 ? (t.partitionByMonthOf ?? null) : null,
      columns,
      files,
    });
    input.onTable?.({ schema: t.schema, table: t.table, rows, shared, index, total: input.tables.length });
  }
  crashPoint('data-placed');

  const now = input.now ?? testPublishTime() ?? new Date();
  const prevTime = previous ? Date.parse(previous.manifest.published_at) : -Infinity;
  const publishedAt = new Date(Math.max(now.getTime(), prevTime + 1)).toISOString();
  const manifest: Manifest = {
    format: FORMAT_NAME,
    format_version: FORMAT_VERSION,
    snapshot_id: snapshotId,
    published_at: publishedAt,
    run_id: input.runId,
    data_through: input.dataThrough,
    timezone: input.timezone,
    previous_snapshot_id: previous?.manifest.snapshot_id ?? null,
    previous_manifest_sha256: previous?.sha256 ?? null,
    writer: { edlake: await edlakeVersion(), duckdb: duckdbVersion },
    source_files: input.sourceFiles,
    tables: entries,
    data_tests: input.dataTests,
    model_versions: input.modelVersions,
    dictionary: input.dictionary,
  };
  const text = serializeManifest(manifest);
  const manifestSha = sha256(text);
  await atomicWrite(L.manifestFile(snapshotId), text, () => crashPoint('manifest-temp-written'));
  bytesAdded += Buffer.byteLength(text);
  crashPoint('manifest-placed');

  // Guard against a second publisher that slipped past the lock: CURRENT must not have moved.
  const again = await readCurrent(input.lake);
  if ((again?.snapshot_id ?? null) !== (current?.snapshot_id ?? null)) {
    throw new PublishError(
      `another publisher moved CURRENT from ${current?.snapshot_id ?? 'none'} to ${again?.snapshot_id ?? 'none'} during this publish`,
    );
  }
  const pointer: CurrentPointer = {
    snapshot_id: snapshotId,
    manifest: L.manifestRel(snapshotId),
    manifest_sha256: manifestSha,
    published_at: publishedAt,
  };
  await atomicWrite(L.current, `${JSON.stringify(pointer, null, 2)}\n`, () => crashPoint('current-temp-written'));
  crashPoint('current-placed');

  return {
    snapshotId,
    manifest,
    manifestSha256: manifestSha,
    filesWritten,
    filesShared,
    bytesWritten,
    bytesAdded,
    durationMs: Math.round(performance.now() - t0),
  };
}
