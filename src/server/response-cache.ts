/**
 * Whole-response cache. A snapshot never changes, so the answer to a query is a function of the
 * snapshots it can read, the caller's scope and identity, and the query itself. The key holds all
 * of them: the current snapshot id and the list of readable snapshots (so `asOf` resolves the same
 * way), the role, the staff key and the scope derived from the roster, the printed document, the
 * operation name and the variables. Only queries whose root fields read snapshots are cached (not
 * pipeline runs, not mutations), only answers without errors, and for a bounded time (names come
 * from the identity store, which the pipeline may update between snapshots).
 */
import { createHash } from 'node:crypto';
import { getOperationAST, Kind, print, type DocumentNode, type ExecutionResult } from 'graphql';
import { LRUCache } from 'lru-cache';
import type { RequestData } from '../../resolvers/context.ts';
import { scopeKey } from '../../resolvers/scope.ts';

const CACHEABLE_ROOT_FIELDS = new Set(['published', 'snapshots', 'viewer', '__typename']);

export class ResponseCache {
  private readonly cache: LRUCache<string, ExecutionResult>;
  private readonly printed = new WeakMap<DocumentNode, string | null>();
  hits = 0;
  misses = 0;

  constructor(maxBytes = 64 * 1024 * 1024, ttlMs = 10 * 60_000) {
    this.cache = new LRUCache<string, ExecutionResult>({
      maxSize: maxBytes,
      sizeCalculation: (v, k) => k.length + JSON.stringify(v).length,
      ttl: ttlMs,
    });
  }

  /** The printed operation when it may be cached, else null (memoized per parsed document). */
  private cacheableText(document: DocumentNode, operationName: string | null | undefined): string | null {
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

  /** The cache key of a request, or null when it is not cacheable. */
  async key(data: RequestData, document: DocumentNode, operationName: string | null | undefined, variables: unknown): Promise<string | null> {
    const text = this.cacheableText(document, operationName);
    if (text === null) return null;
    const { scope, current } = await data.scope();
    const ids = (await data.source.list()).map((s) => s.id).join(',');
    const v = data.viewer;
    return createHash('sha256')
      .update(JSON.stringify([current.id, ids, v.role, v.staffKey ?? null, scopeKey(scope), operationName ?? null, variables ?? null, text]))
      .digest('hex');
  }

  get(key: string): ExecutionResult | undefined {
    const hit = this.cache.get(key);
    if (hit) this.hits++;
    else this.misses++;
    return hit;
  }

  set(key: string, result: ExecutionResult): void {
    if (result.errors && result.errors.length > 0) return;
    this.cache.set(key, result);
  }
}
