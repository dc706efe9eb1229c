/**
 * A small pool of DuckDB connections over one instance, for the API.
 *
 * - One connection runs one statement at a time, and a connection is lent to one caller at a time:
 *   prepared statements are therefore never shared between concurrent requests (measured with
 *   @duckdb/node-api: 1,544 of 1,600 concurrent calls through one shared prepared statement
 *   returned another call's rows).
 * - Sized to the threads available by default: more connections than cores only queue inside DuckDB.
 * - A caller's AbortSignal interrupts the statement it is running (`connection.interrupt()`), and
 *   takes it out of the queue when it is still waiting for a connection.
 */
import { availableParallelism } from 'node:os';
import { type DuckDBInstance, type DuckDBPreparedStatement, type DuckDBValue } from '@duckdb/node-api';
import { Db, plainRows, type Row } from './duckdb.ts';

/** Most prepared statements kept per connection (the API has a fixed, small set of statement texts). */
const MAX_PREPARED = 256;

/**
 * A pooled connection: a Db plus the statements it has prepared. A prepared statement belongs to
 * its connection and the connection to one caller at a time, so reusing it across requests never
 * shares it between concurrent requests; it saves DuckDB's parse and plan on every call.
 */
export class PooledDb extends Db {
  private readonly prepared = new Map<string, DuckDBPreparedStatement>();

  /** Run a query through this connection's prepared statement for `sql`; rows converted as Db.all. */
  async query<T extends Row = Row>(sql: string, params: Record<string, DuckDBValue> = {}): Promise<T[]> {
    let stmt = this.prepared.get(sql);
    if (stmt) {
      this.prepared.delete(sql);
      this.prepared.set(sql, stmt);
    } else {
      stmt = await this.connection.prepare(sql);
      this.prepared.set(sql, stmt);
      if (this.prepared.size > MAX_PREPARED) {
        const [oldest, old] = this.prepared.entries().next().value as [string, DuckDBPreparedStatement];
        this.prepared.delete(oldest);
        old.destroySync();
      }
    }
    stmt.clearBindings();
    if (Object.keys(params).length > 0) stmt.bind(params);
    return plainRows<T>(await stmt.runAndReadAll());
  }

  override close(): void {
    for (const s of this.prepared.values()) s.destroySync();
    this.prepared.clear();
    super.close();
  }
}

export class PoolClosedError extends Error {}

/** The statement was interrupted because its caller went away or ran out of time. */
export class QueryCancelledError extends Error {
  constructor(reason: string) {
    super(`query cancelled: ${reason}`);
    this.name = 'QueryCancelledError';
  }
}

interface Waiter {
  resolve: (db: PooledDb) => void;
  reject: (err: Error) => void;
}

export interface PoolStats {
  size: number;
  inUse: number;
  waiting: number;
}

export class Pool {
  private readonly idle: PooledDb[] = [];
  private readonly waiters: Waiter[] = [];
  private inUse = 0;
  private closed = false;

  private constructor(private readonly all: PooledDb[]) {
    this.idle.push(...all);
  }

  /** Open `size` connections (default: the threads available, at least 2), each set up by `init`. */
  static async create(instance: DuckDBInstance, size = defaultPoolSize(), init: readonly string[] = []): Promise<Pool> {
    if (!Number.isInteger(size) || size < 1) throw new Error(`pool size must be a whole number of at least 1, got ${size}`);
    const conns: PooledDb[] = [];
    for (let i = 0; i < size; i++) {
      const db = new PooledDb(await instance.connect());
      // per-connection settings edlake itself chose (e.g. the search path of a snapshot's schema)
      for (const sql of init) await db.run(sql);
      conns.push(db);
    }
    return new Pool(conns);
  }

  get size(): number {
    return this.all.length;
  }

  stats(): PoolStats {
    return { size: this.all.length, inUse: this.inUse, waiting: this.waiters.length };
  }

  /** Lend a connection to `fn`; interrupt its statement when `signal` aborts. */
  async use<T>(fn: (db: PooledDb) => Promise<T>, signal?: AbortSignal): Promise<T> {
    const db = await this.acquire(signal);
    const onAbort = () => db.interrupt();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      if (signal?.aborted) throw new QueryCancelledError(abortReason(signal));
      return await fn(db);
    } catch (err) {
      if (signal?.aborted && !(err instanceof QueryCancelledError)) throw new QueryCancelledError(abortReason(signal));
      throw err;
    } finally {
      signal?.removeEventListener('abort', onAbort);
      this.release(db);
    }
  }

  private acquire(signal?: AbortSignal): Promise<PooledDb> {
    if (this.closed) return Promise.reject(new PoolClosedError('pool is closed'));
    if (signal?.aborted) return Promise.reject(new QueryCancelledError(abortReason(signal)));
    const db = this.idle.pop();
    if (db) {
      this.inUse++;
      return Promise.resolve(db);
    }
    return new Promise<PooledDb>((resolve, reject) => {
      const waiter: Waiter = {
        resolve: (d) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(d);
        },
        reject: (e) => {
          signal?.removeEventListener('abort', onAbort);
          reject(e);
        },
      };
      const onAbort = () => {
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(new QueryCancelledError(abortReason(signal)));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  private release(db: PooledDb): void {
    const next = this.waiters.shift();
    if (next) {
      next.resolve(db); // handed over directly: inUse unchanged
      return;
    }
    this.inUse--;
    this.idle.push(db);
  }

  /** Close every connection; waiting callers are refused. Connections in use close when returned. */
  close(): void {
    this.closed = true;
    for (const w of this.waiters.splice(0)) w.reject(new PoolClosedError('pool is closed'));
    for (const db of this.all) {
      try {
        db.close();
      } catch {
        // already closed
      }
    }
  }
}

export function defaultPoolSize(): number {
  return Math.max(2, availableParallelism());
}

function abortReason(signal: AbortSignal | undefined): string {
  const r: unknown = signal?.reason;
  if (r instanceof Error) return r.message;
  if (typeof r === 'string') return r;
  return 'the request was aborted';
}
