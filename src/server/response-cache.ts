/**
 * Whole-response cache. A snapshot never changes, so the answer to a query is a function of the
 * snapshots it can read, the caller and their scope, and the query itself. The key holds all of
 * them: the current snapshot id and the list of readable snapshots (so `asOf` resolves the same
 * way), the caller (role, staff key, the rest of the verified identity but the token's subject),
 * the scope derived from the roster, the query text, the operation name and the variables. Only
 * queries whose root fields read snapshots are cached (not pipeline runs, not mutations, not
 * introspection), only answers without errors, and for a bounded time (names come from the
 * identity store, which the pipeline may update between snapshots).
 *
 * Two ways in (decision 0604): `app.fetch` looks a POST's JSON body up before graphql-yoga runs at
 * all (the raw query text is in the key), and a plugin inside yoga looks the parsed document up
 * (its printed text is in the key) for requests that path does not take (GET, CORS). Both store
 * the answer's data already serialized, so a hit costs a hash and a string concatenation.
 */
import { createHash } from 'node:crypto';
import { getOperationAST, Kind, print, type DocumentNode } from 'graphql';
import { LRUCache } from 'lru-cache';
import type { Viewer } from '../auth/viewer.ts';
import type { Scope } from '../../resolvers/scope.ts';
import { scopeKey } from '../../resolvers/scope.ts';
import type { SnapshotInfo } from '../../resolvers/snapshots.ts';

const CACHEABLE_ROOT_FIELDS = new Set(['published', 'snapshots', 'viewer', '__typename']);

/** A cached answer: its `data` as JSON text, and the snapshots that answered. */
export interface CachedAnswer {
  dataJson: string;
  snapshots: Array<{ id: string; publishedAt: string; dataThrough: string | null }>;
  /** The whole HTTP body, encoded once (fast path entries). */
  body?: Uint8Array<ArrayBuffer> | undefined;
  /** Content type of the HTTP answer that carried it (fast path). */
  contentType?: string | undefined;
}

/** Everything about the caller and the lake that changes an answer. */
export interface CallerParts {
  /** Current snapshot id (the scope is derived from it). */
  current: number;
  /** Ids of every readable snapshot (what `asOf` and `snapshotId` resolve against). */
  readable: string;
  viewer: Viewer;
  scope: Scope;
}

/** The viewer as key text: role, staff key and the verified identity, but the token's opaque subject. */
const viewerKeys = new WeakMap<Viewer, string>();
export function viewerKey(v: Viewer): string {
  const memo = viewerKeys.get(v);
  if (memo !== undefined) return memo;
  const { subject: _subject, ...identity } = v.identity;
  const text = JSON.stringify([v.role, v.staffKey ?? null, identity, Object.keys(v).filter((k) => k !== 'role' && k !== 'staffKey' && k !== 'identity').sort().map((k) => [k, (v as unknown as Record<string, unknown>)[k]])]);
  viewerKeys.set(v, text);
  return text;
}

export class ResponseCache {
  private readonly cache: LRUCache<string, CachedAnswer>;
  private readonly printed = new WeakMap<DocumentNode, string | null>();
  hits = 0;
  misses = 0;

  constructor(maxBytes = 64 * 1024 * 1024, ttlMs = 10 * 60_000) {
    this.cache = new LRUCache<string, CachedAnswer>({
      maxSize: maxBytes,
      sizeCalculation: (v, k) => k.length + v.dataJson.length + (v.body?.byteLength ?? 0) + 200,
      ttl: ttlMs,
    });
  }

  /** The printed operation when it may be cached, else null (memoized per parsed document). */
  cacheableText(document: DocumentNode, operationName: string | null | undefined): string | null {
    const memo = this.printed.get(document);
    if (memo !== undefined) return memo;
    const op = getOperationAST(document, operationName);
    let text: string | null = null;
    if (op && op.operation === 'query') {
      const rootOk = op.selectionSet.selections.every((s) => s.kind === Kind.FIELD && CACHEABLE_ROOT_FIELDS.has(s.name.value));
      if (rootOk) text = print(document);
    }
    this.printed.set(document, text);
    return text;
  }

  /**
   * The key of a request. `how` tells the two ways in apart ('raw': the query text as sent;
   * 'printed': the parsed document printed), `variant` whatever else shapes the HTTP answer.
   */
  key(how: 'raw' | 'printed', caller: CallerParts, queryText: string, operationName: string | null | undefined, variables: unknown, variant = ''): string {
    return createHash('sha256')
      .update(JSON.stringify([how, variant, caller.current, caller.readable, viewerKey(caller.viewer), scopeKey(caller.scope), operationName ?? null, variables ?? null]))
      .update('\u0000')
      .update(queryText)
      .digest('base64');
  }

  get(key: string): CachedAnswer | undefined {
    const hit = this.cache.get(key);
    if (hit) this.hits++;
    else this.misses++;
    return hit;
  }

  set(key: string, answer: CachedAnswer): void {
    this.cache.set(key, answer);
  }
}

/** Snapshot list as key text. */
export function readableKey(list: SnapshotInfo[]): string {
  return list.map((s) => s.id).join(',');
}
