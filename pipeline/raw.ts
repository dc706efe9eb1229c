/**
 * Stage raw: discover delivered files by content hash, archive their bytes (content-addressed,
 * written once), and inhale their rows as delivered (all VARCHAR) with provenance into one Parquet
 * file per delivered file. Nothing here guesses a type. A file that cannot be read is recorded
 * as rejected with its reason, and the run goes on.
 */
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { copyFile } from 'node:fs/promises';
import { extname, join, relative, sep } from 'node:path';
import { literal, type Db } from '../src/db/duckdb.ts';
import type { FileRejectionReason } from '../src/quality/reasons.ts';
import { recogniseCsv, recogniseNdjson, recogniseXml, type Recognised } from './sources/recognise.ts';
import { sourceByName } from './sources/index.ts';
import { convertToUtf8, detectDelimiter, detectFormat, firstRecord, readableAsIs, readHead, scanFile, splitRecord, type Encoding, type FileScan } from './text.ts';
import { xmlRootName, xmlToNdjson } from './xml.ts';
import { rawFilesDir, rawRowsDir, type WorkDb } from './workdb.ts';

export interface Delivered {
  /** Path under the landing folder, with '/' separators. */
  path: string;
  abs: string;
  source: string;
  deliveryDate: string | null;
  bytes: number;
  mtimeMs: number;
}

const DATE_DIR = /^\d{4}-\d{2}-\d{2}$/;

/** Every file under the landing folder (symlinks followed, dot files ignored), in path order. */
export function discover(landing: string): Delivered[] {
  const out: Delivered[] = [];
  if (!existsSync(landing)) return out;
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      if (name.startsWith('.')) continue;
      const abs = join(dir, name);
      const st = statSync(abs);
      if (st.isDirectory()) walk(abs);
      else if (st.isFile()) {
        const rel = relative(landing, abs).split(sep).join('/');
        const parts = rel.split('/');
        const source = parts.length > 1 ? (parts[0] as string) : '';
        const date = parts.length > 2 && DATE_DIR.test(parts[1] as string) ? (parts[1] as string) : null;
        out.push({ path: rel, abs, source, deliveryDate: date, bytes: st.size, mtimeMs: Math.floor(st.mtimeMs) });
      }
    }
  };
  walk(landing);
  return out;
}

export type RawStatus = 'loaded' | 'duplicate' | 'rejected';

export interface RawFile {
  path: string;
  source: string;
  sha256: string;
  deliveryDate: string | null;
  status: RawStatus;
  reason?: FileRejectionReason | 'duplicate_file';
  detail?: string;
  duplicateOf?: string;
  layout?: string;
  format?: string;
  encoding?: Encoding;
  delimiter?: string;
  bytes: number;
  /** Modification time of the delivered file when it was read. */
  mtimeMs?: number;
  rows: number;
  raggedRows: number;
  recognised?: Recognised;
  /** Parquet file of the inhaled rows (staging path during the run). */
  rowsFile?: string;
}

/** What the lake has already seen, loaded once per run (and kept up to date during it). */
export class SeenFiles {
  private readonly pairs = new Set<string>();
  private readonly loaded = new Map<string, { path: string; rows: number; layout: string | null }>();
  /** path → size and modification time when the lake last hashed it (to skip re-hashing unchanged files). */
  private readonly stat = new Map<string, string>();

  static async load(db: Db): Promise<SeenFiles> {
    const s = new SeenFiles();
    const rows = await db.all<{ path: string; sha256: string; status: string; rows: number | null; layout: string | null; bytes: number | null; mtime_ms: number | null }>(
      `SELECT path, sha256, status, rows, layout, bytes, mtime_ms FROM raw.files ORDER BY discovered_at`,
    );
    for (const r of rows) {
      s.add(r.path, r.sha256, r.status, r.rows ?? 0, r.layout);
      if (r.bytes !== null && r.mtime_ms !== null) s.stat.set(r.path, `${r.bytes}:${r.mtime_ms}`);
    }
    return s;
  }

  /** The file is at a path the lake has catalogued with the same size and modification time: not re-read. */
  unchanged(path: string, bytes: number, mtimeMs: number): boolean {
    return this.stat.get(path) === `${bytes}:${mtimeMs}`;
  }

  add(path: string, sha256: string, status: string, rows: number, layout: string | null): void {
    this.pairs.add(`${path}\u0000${sha256}`);
    if (status === 'loaded' && !this.loaded.has(sha256)) this.loaded.set(sha256, { path, rows, layout });
  }

  seen(path: string, sha256: string): boolean {
    return this.pairs.has(`${path}\u0000${sha256}`);
  }

  loadedAs(sha256: string): { path: string; rows: number; layout: string | null } | undefined {
    return this.loaded.get(sha256);
  }
}

/** Rename duplicated or empty header names so every column has a unique, non-empty name. */
export function uniqueNames(header: readonly string[]): string[] {
  const seen = new Map<string, number>();
  return header.map((h, i) => {
    let name = h.trim() === '' ? `column_${i + 1}` : h;
    const k = name.toLowerCase();
    const n = seen.get(k) ?? 0;
    seen.set(k, n + 1);
    if (n > 0) name = `${name}_${n + 1}`;
    return name;
  });
}

function reject(base: Omit<RawFile, 'status' | 'rows' | 'raggedRows'>, reason: FileRejectionReason, detail: string): RawFile {
  return { ...base, status: 'rejected', reason, detail, rows: 0, raggedRows: 0 };
}

/** A delivered file the lake has not catalogued at this path with these bytes, and its scan. */
interface Scanned {
  f: Delivered;
  scan: FileScan;
}

/**
 * Stage raw for a list of delivered files (in discovery order): hash them, decide which are new,
 * which repeat bytes already loaded, and inhale the new ones `concurrency` at a time, each on its
 * own DuckDB connection (decision 0305). Returns one record per file that was not already
 * catalogued, in discovery order.
 *
 * Files are hashed one after the other in discovery order while earlier ones are inhaled (decision
 * 0309): a file's fate (new, or a duplicate of an earlier file) depends only on the files before
 * it, so it is decided as soon as its own hash is known, and the outcome does not depend on the
 * concurrency. Hashing a whole landing first left DuckDB idle while Node hashed 13 GB.
 */
export async function ingestFiles(
  work: WorkDb,
  lake: string,
  delivered: readonly Delivered[],
  seen: SeenFiles,
  opts: { concurrency?: number; onFile?: (r: RawFile) => void } = {},
): Promise<RawFile[]> {
  const concurrency = Math.max(1, Math.floor(opts.concurrency ?? 1));
  // Landing folders keep every night's files: a file already catalogued at this path with the same
  // size and modification time is not read (nor hashed) again.
  const fresh = delivered.filter((f) => !seen.unchanged(f.path, f.bytes, f.mtimeMs));
  const scans: Array<Scanned | undefined> = new Array(fresh.length).fill(undefined);
  const results: Array<RawFile | undefined> = new Array(fresh.length).fill(undefined);
  const firstOfHash = new Map<string, number>();
  const repeats: Array<{ index: number; of: number }> = [];
  const queue = new WorkQueue<number>();

  // In discovery order: skip what the lake has seen; the first file of a content hash loads, later
  // ones are duplicates of it (or of an earlier run's file).
  const scanAll = async () => {
    try {
      for (const [i, f] of fresh.entries()) {
        if (queue.failed) return;
        const scan = await scanFile(f.abs);
        scans[i] = { f, scan };
        if (seen.seen(f.path, scan.sha256)) continue;
        const known = seen.loadedAs(scan.sha256);
        if (known) {
          results[i] = duplicateOf(baseOf(f, scan), known);
          continue;
        }
        const first = firstOfHash.get(scan.sha256);
        if (first !== undefined) {
          repeats.push({ index: i, of: first });
          continue;
        }
        firstOfHash.set(scan.sha256, i);
        queue.push(i);
      }
    } finally {
      queue.close();
    }
  };

  // Each worker takes its connection when it gets its first file (none is opened for a landing
  // with nothing new); the first worker uses the run's own connection.
  const connections: Db[] = [];
  try {
    const worker = async (k: number) => {
      let db: Db | undefined;
      for (let i = await queue.pull(); i !== undefined; i = await queue.pull()) {
        try {
          if (!db) {
            db = k === 0 ? work.db : await work.connect();
            if (db !== work.db) connections.push(db);
          }
          const { f, scan } = scans[i]!;
          results[i] = await inhaleNew(db, work, lake, f, scan);
        } catch (error) {
          queue.fail(error);
        }
      }
    };
    await Promise.all([scanAll().catch((error: unknown) => queue.fail(error)), ...Array.from({ length: concurrency }, (_, k) => worker(k))]);
    if (queue.error) throw queue.error.value;
  } finally {
    for (const c of connections) c.close();
  }

  // Same bytes as a file loaded earlier in this run: a duplicate of it. When that file was not
  // loaded (rejected), the repeat is read on its own (its folder, hence its source, may differ).
  for (const { index, of } of repeats) {
    const original = results[of]!;
    const { f, scan } = scans[index]!;
    results[index] = original.status === 'loaded' ? duplicateOf(baseOf(f, scan), { path: original.path, rows: original.rows, layout: original.layout ?? null }) : await inhaleNew(work.db, work, lake, f, scan);
  }

  const out: RawFile[] = [];
  for (const r of results) {
    if (!r) continue;
    seen.add(r.path, r.sha256, r.status, r.rows, r.layout ?? null);
    opts.onFile?.(r);
    out.push(r);
  }
  return out;
}

/**
 * Items handed from one producer to several consumers, in order. `pull()` waits for an item and
 * gives `undefined` once the queue is closed and empty, or at once after a failure (no new work
 * starts; the work in flight settles before the caller closes its connections).
 */
export class WorkQueue<T> {
  private readonly items: T[] = [];
  private readonly waiting: Array<(item: T | undefined) => void> = [];
  private closed = false;
  error: { value: unknown } | undefined;

  get failed(): boolean {
    return this.error !== undefined;
  }

  push(item: T): void {
    const w = this.waiting.shift();
    if (w) w(item);
    else this.items.push(item);
  }

  close(): void {
    this.closed = true;
    for (const w of this.waiting.splice(0)) w(undefined);
  }

  fail(value: unknown): void {
    this.error ??= { value };
    this.items.length = 0;
    this.close();
  }

  pull(): Promise<T | undefined> {
    if (this.error) return Promise.resolve(undefined);
    if (this.items.length > 0) return Promise.resolve(this.items.shift());
    if (this.closed) return Promise.resolve(undefined);
    return new Promise((resolve) => this.waiting.push(resolve));
  }
}

function baseOf(f: Delivered, scan: FileScan): Omit<RawFile, 'status' | 'rows' | 'raggedRows'> {
  return { path: f.path, source: f.source, sha256: scan.sha256, deliveryDate: f.deliveryDate, bytes: scan.bytes, mtimeMs: f.mtimeMs, ...(scan.encoding ? { encoding: scan.encoding } : {}) };
}

/** Same bytes already loaded under another name: a duplicate delivery, recorded, not loaded again. */
function duplicateOf(base: Omit<RawFile, 'status' | 'rows' | 'raggedRows'>, known: { path: string; rows: number; layout: string | null }): RawFile {
  return { ...base, status: 'duplicate', reason: 'duplicate_file', duplicateOf: known.path, detail: `same bytes as ${known.path}`, rows: known.rows, raggedRows: 0, ...(known.layout ? { layout: known.layout } : {}) };
}

/** Archive and inhale a file whose bytes the lake has not loaded, on connection `db`. */
async function inhaleNew(db: Db, work: WorkDb, lake: string, f: Delivered, scan: FileScan): Promise<RawFile> {
  const base = baseOf(f, scan);
  await archive(work, lake, f, scan.sha256);

  const source = sourceByName(f.source);
  if (scan.bytes === 0) return reject(base, 'empty_file', 'the file has no bytes');
  if (!scan.encoding) return reject(base, 'unreadable', scan.notText ?? 'not text');
  if (!source) return reject(base, 'unknown_source', `the landing folder ${JSON.stringify(f.source)} is not a known source`);
  const encoding = scan.encoding;
  const head = await readHead(f.abs, encoding);
  if (head.trim() === '') return reject(base, 'empty_file', 'the file holds only white space');

  // Bytes DuckDB can read directly, or a UTF-8 conversion in the staging folder.
  let textPath = f.abs;
  if (!readableAsIs(encoding)) {
    textPath = join(work.tmpDir, `${scan.sha256}.utf8`);
    await convertToUtf8(f.abs, textPath, encoding);
  }
  const format = detectFormat(head);
  const rowsFile = join(work.rowsDir, `${scan.sha256}.parquet`);
  const prov = (recognised: Recognised) => ({
    file: literal(scan.sha256),
    source: literal(f.source),
    delivered: f.deliveryDate ? `DATE ${literal(f.deliveryDate)}` : 'CAST(NULL AS DATE)',
    layout: literal(recognised.layout.id),
  });

  if (format === 'csv') {
    const headerLine = firstRecord(head);
    const delimiter = detectDelimiter(headerLine);
    const header = splitRecord(headerLine, delimiter);
    const recognised = recogniseCsv(source, header, delimiter);
    if (!recognised) {
      return reject({ ...base, format, delimiter }, 'unknown_layout', `no ${f.source} layout recognises the header (${header.length} column(s), delimiter ${JSON.stringify(delimiter)}): ${header.slice(0, 8).join(', ')}${header.length > 8 ? ', ...' : ''}`);
    }
    const names = uniqueNames(header);
    // Explicit columns, one more than the header, so that a row with extra fields shows in `__extra`;
    // null_padding marks missing trailing fields as NULL (delivered empty fields stay '').
    const colSpec = [...names, '__extra'].map((n) => `${literal(n)}: 'VARCHAR'`).join(', ');
    const p = prov(recognised);
    const last = names[names.length - 1] as string;
    const select = names.map((n) => `"${n.replaceAll('"', '""')}"`).join(', ');
    const lastQ = `"${last.replaceAll('"', '""')}"`;
    const copied = await db.one<{ Count: number }>(
      `COPY (
         SELECT ${select},
           ${p.file} AS _file_sha256, CAST(row_number() OVER () AS INTEGER) AS _row_number, ${p.source} AS _source,
           ${p.delivered} AS _delivered_at, ${p.layout} AS _layout,
           (${lastQ} IS NULL OR __extra IS NOT NULL) AS _ragged
         FROM read_csv(${literal(textPath)}, auto_detect = false, header = false, skip = 1, delim = ${literal(delimiter)},
           quote = '"', escape = '"', columns = {${colSpec}}, null_padding = true, nullstr = ${literal('\u0001')},
           strict_mode = false, parallel = false)
       ) TO ${literal(rowsFile)} (FORMAT parquet, COMPRESSION zstd)`,
    );
    return finishInhale({ ...base, format, delimiter, layout: recognised.layout.id, recognised }, rowsFile, copied?.Count ?? 0);
  }

  if (format === 'ndjson') {
    let first: Record<string, unknown>;
    try {
      const parsed: unknown = JSON.parse(firstRecord(head.trimStart()));
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object');
      first = parsed as Record<string, unknown>;
    } catch (err) {
      return reject({ ...base, format }, 'unreadable', `the first line is not a JSON object: ${(err as Error).message}`);
    }
    const recognised = recogniseNdjson(source, first);
    if (!recognised || recognised.layout.format !== 'ndjson') {
      return reject({ ...base, format }, 'unknown_layout', `no ${f.source} resource recognises the keys ${Object.keys(first).slice(0, 8).join(', ')}`);
    }
    const p = prov(recognised);
    // One line per row, as text; lines that are not valid JSON are kept and quarantined later.
    const copied = await db.one<{ Count: number }>(
      `COPY (
         SELECT ${literal(recognised.layout.resource)} AS _record_type, line AS json,
           ${p.file} AS _file_sha256, CAST(n AS INTEGER) AS _row_number, ${p.source} AS _source,
           ${p.delivered} AS _delivered_at, ${p.layout} AS _layout, NOT coalesce(json_valid(line), false) AS _ragged
         FROM (SELECT line, row_number() OVER () AS n
               FROM read_csv(${literal(textPath)}, auto_detect = false, header = false, delim = ${literal('\u0001')}, quote = '', escape = '',
                 columns = {'line': 'VARCHAR'}, nullstr = ${literal('\u0002')}, strict_mode = false, parallel = false))
         WHERE trim(line) <> ''
       ) TO ${literal(rowsFile)} (FORMAT parquet, COMPRESSION zstd)`,
    );
    return finishInhale({ ...base, format, layout: recognised.layout.id, recognised }, rowsFile, copied?.Count ?? 0);
  }

  // XML interchange
  const root = xmlRootName(head);
  const recognised = root ? recogniseXml(source, root) : undefined;
  if (!recognised) return reject({ ...base, format }, 'unknown_layout', `no ${f.source} layout reads XML root ${JSON.stringify(root ?? '')}`);
  const nd = join(work.tmpDir, `${scan.sha256}.ndjson`);
  try {
    await xmlToNdjson(textPath, nd);
  } catch (err) {
    return reject({ ...base, format }, 'unreadable', (err as Error).message);
  }
  const p = prov(recognised);
  const copied = await db.one<{ Count: number }>(
    `COPY (
       SELECT json_extract_string(j, '$.t') AS _record_type, CAST(json_extract(j, '$.r') AS VARCHAR) AS json,
         ${p.file} AS _file_sha256, CAST(row_number() OVER () AS INTEGER) AS _row_number, ${p.source} AS _source,
         ${p.delivered} AS _delivered_at, ${p.layout} AS _layout, false AS _ragged
       FROM (SELECT json AS j FROM read_json_objects(${literal(nd)}, format = 'newline_delimited'))
     ) TO ${literal(rowsFile)} (FORMAT parquet, COMPRESSION zstd)`,
  );
  return finishInhale({ ...base, format, layout: recognised.layout.id, recognised }, rowsFile, copied?.Count ?? 0);
}

function finishInhale(r: Omit<RawFile, 'status' | 'rows' | 'raggedRows'>, rowsFile: string, n: number): RawFile {
  const layout = r.recognised?.layout;
  if (n === 0 && layout?.format === 'csv' && layout.emptyAllowed) {
    return { ...r, status: 'loaded', rows: 0, raggedRows: 0, rowsFile, detail: 'a delta export with no changes (header only)' };
  }
  if (n === 0) {
    return reject(r, r.format === 'csv' ? 'header_only' : 'empty_file', r.format === 'csv' ? 'the file has a header line but no data rows' : 'the file has no records');
  }
  return { ...r, status: 'loaded', rows: n, raggedRows: 0, rowsFile };
}

/** Copy the delivered bytes into the archive (staging until commit), once per content hash. */
async function archive(work: WorkDb, lake: string, f: Delivered, sha256: string): Promise<void> {
  const ext = extname(f.path).toLowerCase().replace(/[^.a-z0-9]/g, '');
  const name = `${sha256}${ext}`;
  if (existsSync(join(rawFilesDir(lake), name)) || existsSync(join(work.filesDir, name))) return;
  await copyFile(f.abs, join(work.filesDir, name));
}

export interface CatalogEntry {
  file: RawFile;
  tenant: string | null;
  outcome?: { refined: number; quarantined: number; duplicate: number; skipped: number; ragged: number };
}

/** Record the run's files in raw.files, in one statement (the run's copy of the database is committed whole or not at all). */
export async function catalog(db: Db, runId: string, entries: CatalogEntry[], tmpDir: string): Promise<void> {
  if (entries.length === 0) return;
  const path = join(tmpDir, `catalog-${runId}.ndjson`);
  const lines = entries.map(({ file: r, tenant, outcome }) =>
    JSON.stringify({
      sha256: r.sha256,
      path: r.path,
      source: r.source,
      delivery_date: r.deliveryDate,
      layout: r.layout ?? null,
      format: r.format ?? null,
      encoding: r.encoding ?? null,
      delimiter: r.delimiter ?? null,
      bytes: r.bytes,
      mtime_ms: r.mtimeMs ?? null,
      status: r.status,
      reason: r.reason ?? null,
      detail: r.detail ?? null,
      duplicate_of: r.duplicateOf ?? null,
      rows: r.rows,
      ragged_rows: outcome?.ragged ?? r.raggedRows,
      column_map: r.recognised ? JSON.stringify(r.recognised.columns) : null,
      tenant,
      refined: outcome?.refined ?? null,
      quarantined: outcome?.quarantined ?? null,
      duplicate_rows: r.status === 'duplicate' ? r.rows : (outcome?.duplicate ?? null),
      skipped: outcome?.skipped ?? null,
    }),
  );
  writeFileSync(path, `${lines.join('\n')}\n`);
  await db.run(
    `INSERT INTO raw.files BY NAME
     SELECT *, ${literal(runId)} AS run_id, now()::TIMESTAMP AS discovered_at
     FROM read_json(${literal(path)}, format = 'newline_delimited', columns = {
       sha256: 'VARCHAR', path: 'VARCHAR', source: 'VARCHAR', delivery_date: 'DATE', layout: 'VARCHAR', format: 'VARCHAR',
       encoding: 'VARCHAR', delimiter: 'VARCHAR', bytes: 'BIGINT', mtime_ms: 'DOUBLE', status: 'VARCHAR', reason: 'VARCHAR', detail: 'VARCHAR',
       duplicate_of: 'VARCHAR', rows: 'INTEGER', ragged_rows: 'INTEGER', column_map: 'VARCHAR', tenant: 'VARCHAR',
       refined: 'INTEGER', quarantined: 'INTEGER', duplicate_rows: 'INTEGER', skipped: 'INTEGER'})`,
  );
}

/** Views over the archived rows, one per layout, for data engineers (recreated each run). */
export async function rawViews(db: Db, lake: string): Promise<void> {
  const layouts = await db.all<{ layout: string; files: string }>(
    `SELECT layout, string_agg(sha256, ',' ORDER BY sha256) AS files FROM raw.files WHERE status = 'loaded' AND layout IS NOT NULL GROUP BY layout`,
  );
  for (const l of layouts) {
    const name = `rows_${l.layout.replace(/[^a-z0-9]+/gi, '_').toLowerCase()}`;
    const list = l.files
      .split(',')
      .map((s) => literal(join(rawRowsDir(lake), `${s}.parquet`)))
      .join(', ');
    await db.run(`CREATE OR REPLACE VIEW raw."${name}" AS SELECT * FROM read_parquet([${list}], union_by_name = true)`);
  }
}
