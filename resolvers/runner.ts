/**
 * How resolvers run SQL: through the snapshot's pool, one statement per borrowed connection,
 * parameterized only, counted per request, cancelled with the request, and cached by snapshot.
 *
 * A snapshot is immutable, so a statement's rows are a pure function of (snapshot id, SQL text,
 * parameters). The caller's scope is always among the parameters (see scope.ts), so the cache is
 * keyed by snapshot and caller scope by construction: no entry can answer for another scope.
 */
import { LRUCache } from 'lru-cache';
import type { Row } from '../src/db/duckdb.ts';
import { QueryCancelledError } from '../src/db/pool.ts';
import type { OpenedSnapshot } from './snapshots.ts';

/** Parameter values resolvers pass; lists travel as JSON text (see `inList`). */
export type Param = string | number | boolean | null | readonly string[];
export type Params = Record<string, Param>;

/** SQL expression of a list parameter's items, for `x IN (SELECT ... )` and joins. */
export function inList(name: string): string {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`bad parameter name ${name}`);
  return `(SELECT unnest(from_json($${name}, '["VARCHAR"]')))`;
}

/** Per-request bookkeeping shared by every snapshot the request touches. */
export interface RequestState {
  signal: AbortSignal;
  /** Statements issued by resolvers (cache hits included): the N+1 test reads it. */
  statements: number;
  /** Statements that actually ran in DuckDB. */
  executed: number;
  /** Milliseconds spent in DuckDB by this request. */
  sqlMs: number;
}

export function newRequestState(signal: AbortSignal): RequestState {
  return { signal, statements: 0, executed: 0, sqlMs: 0 };
}

const cache = new LRUCache<string, Row[]>({
  maxSize: 64 * 1024 * 1024,
  sizeCalculation: (rows, key) => key.length + 64 + rows.length * 200,
  ttl: 0,
});

let cacheEnabled = true;
const inflight = new Map<string, Promise<Row[]>>();

/** Forget cached rows (tests, and a snapshot that expired). */
export function clearQueryCache(): void {
  cache.clear();
}

export function queryCacheEnabled(): boolean {
  return cacheEnabled;
}

/** Turn the result cache off or on (benchmarks and tests of the uncached path). */
export function setQueryCacheEnabled(on: boolean): void {
  cacheEnabled = on;
  if (!on) cache.clear();
}

export class SnapshotQueries {
  constructor(
    readonly snap: OpenedSnapshot,
    private readonly req: RequestState,
  ) {}

  get id(): number {
    return this.snap.info.id;
  }

  has(table: string): boolean {
    return this.snap.tables.has(table);
  }

  async all<T extends Row = Row>(sql: string, params: Params = {}): Promise<T[]> {
    this.req.statements++;
    const bound: Record<string, string | number | boolean | null> = {};
    for (const k of Object.keys(params).sort()) {
      // bind only what the statement names (DuckDB refuses unused named parameters)
      if (!new RegExp(`\\$${k}(?![A-Za-z0-9_])`).test(sql)) continue;
      const v = params[k] as Param;
      bound[k] = Array.isArray(v) ? JSON.stringify(v) : (v as string | number | boolean | null);
    }
    const key = `${this.snap.info.id}\u0000${sql}\u0000${JSON.stringify(bound)}`;
    if (cacheEnabled) {
      const hit = cache.get(key);
      if (hit) return hit as T[];
      // identical statements already running for other requests: wait for their rows
      const running = inflight.get(key);
      if (running) {
        try {
          return (await running) as T[];
        } catch (err) {
          // the request that ran it went away: run it for this one, unless this one is cancelled too
          if (!(err instanceof QueryCancelledError) || this.req.signal.aborted) throw err;
        }
      }
    }
    const t0 = performance.now();
    const p = this.snap.pool.use((db) => db.query<T>(sql, bound), this.req.signal);
    if (cacheEnabled) {
      inflight.set(key, p);
      p.then(
        (rows) => cache.set(key, rows),
        () => undefined,
      ).finally(() => inflight.delete(key));
    }
    const rows = await p;
    this.req.sqlMs += performance.now() - t0;
    this.req.executed++;
    return rows;
  }
}
