/**
 * Snapshots of a lake, for the API: the catalog's long-lived reader (src/catalog) adapted to the
 * resolvers' SnapshotSource, with a connection pool per opened snapshot whose search path is the
 * published schema. New snapshots are picked up without a restart (the catalog re-reads CURRENT).
 */
import { SnapshotCatalog, SnapshotNotFoundError as CatalogNotFound, summarize } from '../catalog/index.ts';
import { Pool, defaultPoolSize } from '../db/pool.ts';
import {
  materializeServingTables,
  SnapshotNotFoundError,
  type OpenedSnapshot,
  type SnapshotInfo,
  type SnapshotSelection,
  type SnapshotSource,
} from '../../resolvers/snapshots.ts';
import { PUBLISHED_SCHEMA } from '../../resolvers/tables.ts';

export interface CatalogSourceOptions {
  lake: string;
  timezone: string;
  /** Connections per opened snapshot (default: threads available). */
  poolSize?: number;
  /** DuckDB threads of each snapshot's in-memory reader. */
  threads?: number;
  /** Opened snapshots kept (current and recent time-travel targets). */
  maxOpen?: number;
}

export class CatalogSnapshotSource implements SnapshotSource {
  readonly catalog: SnapshotCatalog;
  private readonly pools = new Map<number, Promise<OpenedSnapshot>>();
  private readonly poolSize: number;
  private readonly maxOpen: number;

  constructor(opts: CatalogSourceOptions) {
    const threads = opts.threads ?? defaultPoolSize();
    this.poolSize = opts.poolSize ?? defaultPoolSize();
    this.maxOpen = opts.maxOpen ?? 4;
    this.catalog = new SnapshotCatalog(opts.lake, { timezone: opts.timezone, maxOpen: this.maxOpen, settings: { threads: String(threads) } });
  }

  async list(): Promise<SnapshotInfo[]> {
    return (await this.catalog.list()).map((s) => ({ id: s.snapshot_id, publishedAt: s.published_at, dataThrough: s.data_through, runId: s.run_id }));
  }

  async resolve(sel: SnapshotSelection): Promise<SnapshotInfo> {
    try {
      const l = await this.catalog.resolve({
        ...(sel.snapshotId !== undefined ? { snapshotId: sel.snapshotId } : {}),
        ...(sel.asOf !== undefined ? { asOf: sel.asOf } : {}),
      });
      const s = summarize(l);
      return { id: s.snapshot_id, publishedAt: s.published_at, dataThrough: s.data_through, runId: s.run_id };
    } catch (err) {
      if (err instanceof CatalogNotFound) throw new SnapshotNotFoundError(err.message);
      throw err;
    }
  }

  open(id: number): Promise<OpenedSnapshot> {
    let p = this.pools.get(id);
    if (p) {
      this.pools.delete(id);
      this.pools.set(id, p);
      return p;
    }
    p = (async () => {
      let handle;
      try {
        handle = await this.catalog.open({ snapshotId: id });
      } catch (err) {
        if (err instanceof CatalogNotFound) throw new SnapshotNotFoundError(err.message);
        throw err;
      }
      const setup = await handle.connect();
      let serving: { searchPath: string; derived: Set<string> };
      try {
        serving = await materializeServingTables(setup);
      } finally {
        setup.close();
      }
      const pool = await Pool.create(handle.instance, this.poolSize, [`SET search_path = '${serving.searchPath}'`]);
      const m = handle.manifest;
      const tables = new Set(m.tables.map((t) => (t.schema === PUBLISHED_SCHEMA ? t.name : `${t.schema}.${t.name}`)));
      return {
        info: { id: m.snapshot_id, publishedAt: m.published_at, dataThrough: m.data_through, runId: m.run_id },
        pool,
        tables,
        dictionary: m.dictionary,
        derived: serving.derived,
      };
    })();
    this.pools.set(id, p);
    p.catch(() => this.pools.delete(id));
    while (this.pools.size > this.maxOpen) {
      // the oldest opened snapshot leaves the cache; its pool is freed once no request holds it
      const oldest = this.pools.keys().next().value as number;
      this.pools.delete(oldest);
    }
    return p;
  }

  async close(): Promise<void> {
    for (const p of this.pools.values()) {
      try {
        (await p).pool.close();
      } catch {
        // a failed open has nothing to close
      }
    }
    this.pools.clear();
    await this.catalog.close();
  }
}
