/**
 * Reading snapshots (the API's side of the catalog).
 *
 * A reader starts from CURRENT, so it only ever sees whole snapshots: manifests above CURRENT are
 * left-overs of an interrupted publish and are ignored. A snapshot is queried through an in-memory
 * DuckDB holding one VIEW per table over its Parquet files (`<schema>.<table>`, the same names as in
 * the pipeline's working database), so the API never opens work.duckdb.
 *
 * `SnapshotCatalog` is the long-lived reader: it re-reads the small CURRENT file when its inode,
 * size or mtime changed (a publish replaces it by rename), so readers pick up new snapshots without
 * a restart, and it keeps a few opened snapshots for reuse.
 */
import { accessSync, statSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { DuckDBInstance } from '@duckdb/node-api';
import { Db, ident, literal, openInstance } from '../db/duckdb.ts';
import { layout, type CurrentPointer, type Manifest } from './format.ts';
import { listManifestIds, listTombstones, readCurrent, readManifest, type LoadedManifest } from './store.ts';
import { endOfLocalDayExclusive, localDate } from './timetravel.ts';

export type SnapshotErrorCode = 'NO_SNAPSHOTS' | 'BEFORE_FIRST_SNAPSHOT' | 'UNKNOWN_SNAPSHOT' | 'EXPIRED_SNAPSHOT' | 'BAD_SELECTOR' | 'CORRUPT_SNAPSHOT';

/** A snapshot that cannot be resolved or opened; the API maps `code` to a GraphQL error. */
export class SnapshotNotFoundError extends Error {
  constructor(
    readonly code: SnapshotErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'SnapshotNotFoundError';
  }
}

export interface SnapshotSelector {
  /** A snapshot id resolves to itself. */
  snapshotId?: number;
  /** A date (YYYY-MM-DD) resolves to the latest snapshot published by the end of that day in `timezone`. */
  asOf?: string;
}

export interface SnapshotSummary {
  snapshot_id: number;
  published_at: string;
  run_id: string;
  data_through: string | null;
  manifest_sha256: string;
  tables: number;
  rows: number;
  bytes: number;
}

export function summarize(l: LoadedManifest): SnapshotSummary {
  const m = l.manifest;
  let rows = 0;
  let bytes = 0;
  for (const t of m.tables) {
    rows += t.row_count;
    for (const f of t.files) bytes += f.bytes;
  }
  return {
    snapshot_id: m.snapshot_id,
    published_at: m.published_at,
    run_id: m.run_id,
    data_through: m.data_through,
    manifest_sha256: l.sha256,
    tables: m.tables.length,
    rows,
    bytes,
  };
}

/** An opened snapshot: its manifest and an in-memory DuckDB with one view per table. */
export class SnapshotHandle {
  constructor(
    readonly manifest: Manifest,
    readonly manifestSha256: string,
    readonly instance: DuckDBInstance,
    /** A connection for simple use; for concurrent queries take one each with `connect()`. */
    readonly db: Db,
  ) {}

  get snapshotId(): number {
    return this.manifest.snapshot_id;
  }

  /** Another connection to the same in-memory database (the views are shared). */
  async connect(): Promise<Db> {
    return new Db(await this.instance.connect());
  }

  close(): void {
    this.db.close();
  }
}

export interface OpenSettings {
  /** DuckDB settings of the in-memory reader, e.g. { threads: '2' }. */
  settings?: Record<string, string>;
}

/** Build the in-memory database of a snapshot: schemas and one view per table over its files. */
export async function attachSnapshot(lake: string, loaded: LoadedManifest, opts: OpenSettings = {}): Promise<SnapshotHandle> {
  const L = layout(path.resolve(lake));
  const m = loaded.manifest;
  for (const t of m.tables) {
    for (const f of t.files) {
      try {
        await fs.access(L.abs(f.path));
      } catch {
        throw new SnapshotNotFoundError('CORRUPT_SNAPSHOT', `snapshot ${m.snapshot_id}: data file ${f.path} of ${t.schema}.${t.name} is missing`);
      }
    }
  }
  const instance = await openInstance(':memory:', { settings: opts.settings ?? {} });
  const db = new Db(await instance.connect());
  const schemas = new Set(m.tables.map((t) => t.schema));
  for (const s of schemas) await db.run(`create schema if not exists ${ident(s)}`);
  for (const t of m.tables) {
    const files = t.files.map((f) => literal(L.abs(f.path))).join(', ');
    const cols = t.columns.map((c) => ident(c.name)).join(', ');
    // Name the columns explicitly so the view's shape is the manifest's, whatever the file order.
    await db.run(`create view ${ident(t.schema)}.${ident(t.name)} as select ${cols} from read_parquet([${files}])`);
  }
  return new SnapshotHandle(m, loaded.sha256, instance, db);
}

/** Resolve a selector against the snapshots present (never above CURRENT). */
async function resolve(
  lake: string,
  current: CurrentPointer | null,
  sel: SnapshotSelector,
  timezone: string,
  cache: Map<number, LoadedManifest>,
): Promise<LoadedManifest> {
  if (sel.snapshotId !== undefined && sel.asOf !== undefined) {
    throw new SnapshotNotFoundError('BAD_SELECTOR', 'give either a snapshot id or an as-of date, not both');
  }
  if (!current) throw new SnapshotNotFoundError('NO_SNAPSHOTS', 'no snapshot has been published yet');
  const load = async (id: number): Promise<LoadedManifest | undefined> => {
    const hit = cache.get(id);
    if (hit) {
      // Manifests never change, but `expire` may remove one: a cached one must still be on disk
      // (a synchronous check, as in currentPointer: every API request makes it).
      try {
        accessSync(layout(lake).manifestFile(id));
        return hit;
      } catch {
        cache.delete(id);
        return undefined;
      }
    }
    const l = await readManifest(lake, id);
    if (l) cache.set(id, l);
    return l;
  };
  const expiredMessage = async (what: string): Promise<SnapshotNotFoundError> =>
    new SnapshotNotFoundError('EXPIRED_SNAPSHOT', `${what} has expired (removed by the retention policy)`);

  if (sel.snapshotId !== undefined) {
    const id = sel.snapshotId;
    if (!Number.isInteger(id) || id < 1 || id > current.snapshot_id) {
      throw new SnapshotNotFoundError('UNKNOWN_SNAPSHOT', `there is no snapshot ${id} (the current snapshot is ${current.snapshot_id})`);
    }
    const l = await load(id);
    if (!l) {
      const tomb = (await listTombstones(lake)).some((t) => t.snapshot_id === id);
      if (tomb) throw await expiredMessage(`snapshot ${id}`);
      throw new SnapshotNotFoundError('UNKNOWN_SNAPSHOT', `there is no snapshot ${id}`);
    }
    if (id === current.snapshot_id && l.sha256 !== current.manifest_sha256) {
      throw new SnapshotNotFoundError('CORRUPT_SNAPSHOT', `manifest of snapshot ${id} does not match CURRENT's checksum`);
    }
    return l;
  }

  if (sel.asOf === undefined) {
    const l = await load(current.snapshot_id);
    if (!l) throw new SnapshotNotFoundError('CORRUPT_SNAPSHOT', `CURRENT names snapshot ${current.snapshot_id} but its manifest is missing`);
    if (l.sha256 !== current.manifest_sha256) {
      throw new SnapshotNotFoundError('CORRUPT_SNAPSHOT', `manifest of snapshot ${current.snapshot_id} does not match CURRENT's checksum`);
    }
    return l;
  }

  let end: number;
  try {
    end = endOfLocalDayExclusive(sel.asOf, timezone);
  } catch (e) {
    throw new SnapshotNotFoundError('BAD_SELECTOR', (e as Error).message);
  }
  const ids = (await listManifestIds(lake)).filter((id) => id <= current.snapshot_id);
  // Publish times increase with the id, so walk down from the newest.
  for (let i = ids.length - 1; i >= 0; i--) {
    const l = await load(ids[i] as number);
    if (l && Date.parse(l.manifest.published_at) < end) return l;
  }
  const tombs = (await listTombstones(lake)).filter((t) => Date.parse(t.published_at) < end);
  if (tombs.length > 0) throw await expiredMessage(`the snapshot that answered for ${sel.asOf} (snapshot ${tombs[tombs.length - 1]?.snapshot_id})`);
  const first = ids.length ? await load(ids[0] as number) : undefined;
  const firstText = first
    ? `; the first snapshot was published ${first.manifest.published_at} (${localDate(Date.parse(first.manifest.published_at), timezone)} in ${timezone})`
    : '';
  throw new SnapshotNotFoundError('BEFORE_FIRST_SNAPSHOT', `no snapshot was published on or before ${sel.asOf} in ${timezone}${firstText}`);
}

export interface CatalogOptions extends OpenSettings {
  /** District time zone for as-of dates (config `timezone`). */
  timezone?: string;
  /** How many opened snapshots to keep (the current one and recent time-travel targets). */
  maxOpen?: number;
}

/** Long-lived reader of a lake's snapshots (one per API process). */
export class SnapshotCatalog {
  readonly lake: string;
  readonly timezone: string;
  private readonly settings: Record<string, string>;
  private readonly maxOpen: number;
  private pointer: CurrentPointer | null = null;
  private pointerKey = '';
  /** The last list() and what it was listed under (CURRENT's key and the manifests folder's). */
  private listKey = '';
  private listed: SnapshotSummary[] | null = null;
  private readonly manifests = new Map<number, LoadedManifest>();
  private readonly handles = new Map<number, Promise<SnapshotHandle>>();

  constructor(lake: string, opts: CatalogOptions = {}) {
    this.lake = path.resolve(lake);
    this.timezone = opts.timezone ?? 'America/Los_Angeles';
    this.settings = opts.settings ?? {};
    this.maxOpen = opts.maxOpen ?? 8;
  }

  /**
   * CURRENT, re-read only when the file was replaced (inode, size or mtime changed). The check is a
   * synchronous stat: every API request makes it, and a local stat takes microseconds, where an
   * asynchronous one waits for a libuv thread that DuckDB's statements may be holding.
   */
  async currentPointer(): Promise<CurrentPointer | null> {
    const file = layout(this.lake).current;
    let key: string;
    try {
      const st = statSync(file, { bigint: true });
      key = `${st.ino}:${st.size}:${st.mtimeNs}`;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
        this.pointer = null;
        this.pointerKey = '';
        return null;
      }
      throw e;
    }
    if (key !== this.pointerKey) {
      this.pointer = await readCurrent(this.lake);
      this.pointerKey = key;
    }
    return this.pointer;
  }

  /** Resolve a selector to a manifest without opening the data. */
  async resolve(sel: SnapshotSelector = {}): Promise<LoadedManifest> {
    return resolve(this.lake, await this.currentPointer(), sel, this.timezone, this.manifests);
  }

  /**
   * Snapshots readers can use (ids up to CURRENT), oldest first. Listed again only when CURRENT was
   * replaced or the manifests folder changed (a publish adds a manifest, `expire` removes some: both
   * change the folder's mtime), else the last list is returned.
   */
  async list(): Promise<SnapshotSummary[]> {
    const cur = await this.currentPointer();
    if (!cur) return [];
    let dirKey: string;
    try {
      const st = statSync(layout(this.lake).manifests, { bigint: true });
      dirKey = `${this.pointerKey}|${st.ino}:${st.mtimeNs}`;
    } catch {
      dirKey = '';
    }
    if (dirKey !== '' && dirKey === this.listKey && this.listed) return [...this.listed];
    const out: SnapshotSummary[] = [];
    for (const id of await listManifestIds(this.lake)) {
      if (id > cur.snapshot_id) continue;
      let l = this.manifests.get(id);
      if (!l) {
        l = await readManifest(this.lake, id);
        if (!l) continue;
        this.manifests.set(id, l);
      }
      out.push(summarize(l));
    }
    this.listKey = dirKey;
    this.listed = out;
    return [...out];
  }

  /** Open (or reuse) the snapshot a selector resolves to. Handles are shared: do not close them. */
  async open(sel: SnapshotSelector = {}): Promise<SnapshotHandle> {
    const loaded = await this.resolve(sel);
    const id = loaded.manifest.snapshot_id;
    let h = this.handles.get(id);
    if (h) {
      // refresh LRU order
      this.handles.delete(id);
      this.handles.set(id, h);
      return h;
    }
    h = attachSnapshot(this.lake, loaded, { settings: this.settings });
    this.handles.set(id, h);
    h.catch(() => this.handles.delete(id));
    while (this.handles.size > this.maxOpen) {
      // Dropped handles are not closed: a request may still use one; it is freed when unreferenced.
      const oldest = this.handles.keys().next().value as number;
      this.handles.delete(oldest);
    }
    return h;
  }

  /** Close every opened snapshot (at shutdown). */
  async close(): Promise<void> {
    for (const h of this.handles.values()) {
      try {
        (await h).close();
      } catch {
        // a failed open has nothing to close
      }
    }
    this.handles.clear();
  }
}

/** One-off: resolve and open a snapshot (caller closes it). */
export async function openSnapshot(lake: string, sel: SnapshotSelector & CatalogOptions = {}): Promise<SnapshotHandle> {
  const cur = await readCurrent(lake);
  const loaded = await resolve(path.resolve(lake), cur, sel, sel.timezone ?? 'America/Los_Angeles', new Map());
  return attachSnapshot(lake, loaded, { settings: sel.settings ?? {} });
}
