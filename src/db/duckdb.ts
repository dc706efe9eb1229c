/**
 * DuckDB access shared by the pipeline and the API.
 *
 * - One instance per database file per process, through DuckDB's instance cache
 *   (opening one file twice in a process corrupts or deadlocks).
 * - Values are converted deliberately: BIGINT/HUGEINT become `number` when they are safe
 *   integers and raise otherwise; DECIMAL becomes `number`; DATE becomes an ISO
 *   `YYYY-MM-DD` string (a calendar date has no time zone); TIMESTAMP becomes an ISO string.
 * - Queries take parameters (`$1`, `$name` or `?`), never interpolated client strings.
 */
import {
  DuckDBConnection,
  DuckDBInstance,
  DuckDBInstanceCache,
  DuckDBTypeId,
  JSDuckDBValueConverter,
  type DuckDBResultReader,
  type DuckDBValue,
  type DuckDBValueConverter,
  type JS,
} from '@duckdb/node-api';
import { appendFileSync } from 'node:fs';
import { settings } from '../config.ts';

const cache = new DuckDBInstanceCache();

/**
 * Statement profile for engineers: with EDLAKE_SQL_PROFILE=<file>, every statement run through
 * `Db` appends one JSON line (wall milliseconds and the statement's first 400 characters, or
 * EDLAKE_SQL_PROFILE_CHARS) to the file. Off unless set; used to find where a stage spends its time (decision 0305).
 */
const PROFILE_FILE = process.env['EDLAKE_SQL_PROFILE'] ?? '';
// read once, with the same rule as src/config.ts (settings.sqlProfileChars): the settings are read
// here, below the configuration, because every DuckDB statement passes through this module
const PROFILE_CHARS = PROFILE_FILE ? profileChars(process.env['EDLAKE_SQL_PROFILE_CHARS']) : 0;
function profileChars(raw: string | undefined): number {
  const parsed = settings.sqlProfileChars.schema.safeParse(raw);
  if (!parsed.success) throw new Error(`EDLAKE_SQL_PROFILE_CHARS: ${parsed.error.issues[0]?.message ?? 'invalid'} (got ${JSON.stringify(raw)})`);
  return parsed.data;
}
function profile(sql: string, t0: number, label: string | undefined): void {
  const ms = Math.round((performance.now() - t0) * 10) / 10;
  appendFileSync(PROFILE_FILE, `${JSON.stringify({ at: new Date().toISOString(), ms, ...(label ? { label } : {}), sql: sql.replace(/\s+/g, ' ').slice(0, PROFILE_CHARS) })}\n`);
}

export type SqlParams = DuckDBValue[] | Record<string, DuckDBValue>;

/** A plain JSON-safe value as edlake hands it on. */
export type Plain = string | number | boolean | null | Plain[] | { [k: string]: Plain };
export type Row = Record<string, Plain>;

export class UnsafeIntegerError extends Error {}

function toPlain(v: JS): Plain {
  if (v === null || v === undefined) return null;
  if (typeof v === 'bigint') {
    if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) {
      throw new UnsafeIntegerError(`integer ${v} is outside the safe range of a JavaScript number`);
    }
    return Number(v);
  }
  if (v instanceof Date) return v.toISOString();
  if (v instanceof Uint8Array) return Buffer.from(v).toString('base64');
  if (Array.isArray(v)) return v.map(toPlain);
  if (typeof v === 'object') {
    const o: Record<string, Plain> = {};
    for (const [k, x] of Object.entries(v as Record<string, JS>)) o[k] = toPlain(x);
    return o;
  }
  return v as Plain;
}

/** DATE as 'YYYY-MM-DD' (no time zone shift); everything else as the JS converter, made plain. */
const converter: DuckDBValueConverter<JS> = (value, type, conv) => {
  if (type.typeId === DuckDBTypeId.DATE && value !== null) {
    return (value as { toString(): string }).toString();
  }
  return JSDuckDBValueConverter(value, type, conv);
};

/** A result's rows as plain objects, converted deliberately (see the top of this file). */
export function plainRows<T extends Row = Row>(reader: DuckDBResultReader): T[] {
  const names = reader.columnNames();
  return reader.convertRows(converter).map((r) => {
    const o: Row = {};
    for (let i = 0; i < names.length; i++) o[names[i] as string] = toPlain(r[i] ?? null);
    return o as T;
  });
}

export interface OpenOptions {
  readOnly?: boolean;
  /** DuckDB settings, e.g. { threads: '2', memory_limit: '4GB' }. */
  settings?: Record<string, string>;
}

/** Open (or reuse) the process's instance for a database file; ':memory:' gives a fresh one. */
export async function openInstance(path: string, opts: OpenOptions = {}): Promise<DuckDBInstance> {
  const options: Record<string, string> = { ...(opts.settings ?? {}) };
  if (opts.readOnly) options['access_mode'] = 'READ_ONLY';
  if (path === ':memory:') return DuckDBInstance.create(':memory:', options);
  return cache.getOrCreateInstance(path, options);
}

/** A connection with deliberate value conversion. One query at a time per connection. */
export class Db {
  /** Names this connection's lines in the statement profile (e.g. the refine worker), when several run at once. */
  label: string | undefined;

  constructor(readonly connection: DuckDBConnection) {}

  static async open(path: string, opts: OpenOptions = {}): Promise<Db> {
    const instance = await openInstance(path, opts);
    return new Db(await instance.connect());
  }

  /** Run a statement that returns nothing useful. */
  async run(sql: string, params?: SqlParams): Promise<void> {
    const t0 = PROFILE_FILE ? performance.now() : 0;
    await this.connection.run(sql, params);
    if (PROFILE_FILE) profile(sql, t0, this.label);
  }

  /** Run a query and return its rows as plain objects. */
  async all<T extends Row = Row>(sql: string, params?: SqlParams): Promise<T[]> {
    const t0 = PROFILE_FILE ? performance.now() : 0;
    const reader = await this.connection.runAndReadAll(sql, params);
    if (PROFILE_FILE) profile(sql, t0, this.label);
    return plainRows<T>(reader);
  }

  /** First row, or undefined. */
  async one<T extends Row = Row>(sql: string, params?: SqlParams): Promise<T | undefined> {
    const rows = await this.all<T>(sql, params);
    return rows[0];
  }

  /** A single value of the first row. */
  async scalar<T extends Plain = Plain>(sql: string, params?: SqlParams): Promise<T | undefined> {
    const row = await this.one(sql, params);
    if (!row) return undefined;
    const first = Object.values(row)[0];
    return first as T | undefined;
  }

  interrupt(): void {
    this.connection.interrupt();
  }

  close(): void {
    this.connection.closeSync();
  }
}

/** Quote an identifier that edlake itself chose (never a client string). */
export function ident(name: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`not a safe SQL identifier: ${JSON.stringify(name)}`);
  return `"${name}"`;
}

/** Quote a string literal for statements that cannot take parameters (paths in COPY, ATTACH). */
export function literal(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}
