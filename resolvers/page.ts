/**
 * Cursor pagination over a snapshot.
 *
 * A snapshot never changes, so a position in an ordered result of one snapshot stays valid: the
 * cursor carries the snapshot id, the ordering and the offset, and is refused with another snapshot
 * or another ordering. Orderings are fixed SQL chosen by the schema, each ending with the row's
 * unique key as tie-breaker. Pages are at most MAX_PAGE_SIZE rows; totalCount comes in the same
 * statement (a window count).
 */
import { GraphQLError } from 'graphql';
import type { Row } from '../src/db/duckdb.ts';
import type { Params, SnapshotQueries } from './runner.ts';

export const MAX_PAGE_SIZE = 100;
export const DEFAULT_PAGE_SIZE = 20;

export interface PageArgs {
  first?: number | null | undefined;
  after?: string | null | undefined;
  last?: number | null | undefined;
  before?: string | null | undefined;
}

export interface Page<T> {
  rows: T[];
  offset: number;
  totalCount: number;
  hasNextPage: boolean;
  cursorAt(index: number): string;
}

function badInput(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT' } });
}

export function encodeCursor(snapshotId: number, ordering: string, offset: number): string {
  return Buffer.from(JSON.stringify({ s: snapshotId, k: ordering, o: offset })).toString('base64url');
}

export function decodeCursor(cursor: string, snapshotId: number, ordering: string): number {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw badInput('invalid cursor');
  }
  const c = parsed as { s?: unknown; k?: unknown; o?: unknown };
  if (typeof c !== 'object' || c === null || typeof c.o !== 'number' || !Number.isSafeInteger(c.o) || c.o < 0) {
    throw badInput('invalid cursor');
  }
  if (c.s !== snapshotId) throw badInput(`cursor belongs to snapshot ${String(c.s)}, not to snapshot ${snapshotId}`);
  if (c.k !== ordering) throw badInput('cursor belongs to another ordering');
  return c.o;
}

export interface PageQuery {
  /** SELECT list (without SELECT). */
  select: string;
  /** FROM ... WHERE ... (without ORDER BY). Scope predicates included by the caller. */
  from: string;
  params: Params;
  /** Name of the ordering (part of the cursor) and its fixed SQL, ending with a unique key. */
  ordering: string;
  orderBy: string;
}

/** The validated window a page asks for: at most `first` rows from `offset` (after the cursor). */
export function pageWindow(snapshotId: number, ordering: string, args: PageArgs): { first: number; offset: number } {
  if (args.last != null || args.before != null) throw badInput('only forward pagination (first/after) is supported');
  const first = args.first ?? DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(first) || first < 0) throw badInput('first must be a whole number of at least 0');
  if (first > MAX_PAGE_SIZE) throw badInput(`first must be at most ${MAX_PAGE_SIZE}`);
  const offset = args.after != null ? decodeCursor(args.after, snapshotId, ordering) + 1 : 0;
  return { first, offset };
}

/** A page from up to first + 1 rows read at the window's offset (one more tells there is a next page). */
export function pageOf<T>(snapshotId: number, ordering: string, w: { first: number; offset: number }, rows: T[], totalCount: number): Page<T> {
  return {
    rows: rows.slice(0, w.first),
    offset: w.offset,
    totalCount,
    hasNextPage: rows.length > w.first,
    cursorAt: (i) => encodeCursor(snapshotId, ordering, w.offset + i),
  };
}

export async function fetchPage<T extends Row>(q: SnapshotQueries, pq: PageQuery, args: PageArgs): Promise<Page<T>> {
  const w = pageWindow(q.id, pq.ordering, args);
  const rows = await q.all<T & { _total: number }>(
    `SELECT ${pq.select}, count(*) OVER () AS _total ${pq.from} ORDER BY ${pq.orderBy} LIMIT $_limit OFFSET $_offset`,
    { ...pq.params, _limit: w.first + 1, _offset: w.offset },
  );
  let total: number;
  if (rows.length > 0) total = rows[0]?._total ?? 0;
  else {
    const c = await q.all<{ n: number }>(`SELECT count(*) AS n ${pq.from}`, pq.params);
    total = c[0]?.n ?? 0;
  }
  const page = rows.map((r) => {
    const { _total, ...rest } = r;
    void _total;
    return rest as unknown as T;
  });
  return pageOf(q.id, pq.ordering, w, page, total);
}
