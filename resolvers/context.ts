/**
 * Per-request data access: the viewer, its scope (derived once per request from the current
 * snapshot), and one SnapshotData per snapshot the request reads, each with its own DataLoaders.
 */
import DataLoader from 'dataloader';
import type { Viewer } from '../src/auth/viewer.ts';
import { POLICY } from '../src/auth/roles.ts';
import { SnapshotQueries, type RequestState } from './runner.ts';
import { deriveScope, ScopeSql, type Scope } from './scope.ts';
import { LRUCache } from 'lru-cache';
import { QueryCancelledError } from '../src/db/pool.ts';
import type { OpenedSnapshot, SnapshotInfo, SnapshotSelection, SnapshotSource } from './snapshots.ts';
import type { IdentityStore, PersonName } from './identity.ts';
import { REFINED, T } from './tables.ts';
import { staffSectionsTable } from './snapshots.ts';
import { readyServingIndex, servingIndexEnabled, type ServingIndex } from './serving.ts';
import { inList } from './runner.ts';

export interface RequestDataOptions {
  source: SnapshotSource;
  viewer: Viewer;
  state: RequestState;
  identity?: IdentityStore | undefined;
  lake?: string | undefined;
  requestId: string;
}

/** Scopes derived per opened snapshot, by caller (role, staff key, tenant). */
const scopesOf = new WeakMap<OpenedSnapshot, LRUCache<string, Promise<Scope>>>();

export class RequestData {
  readonly viewer: Viewer;
  readonly source: SnapshotSource;
  readonly state: RequestState;
  readonly identity: IdentityStore | undefined;
  readonly lake: string | undefined;
  readonly requestId: string;
  private scopePromise: Promise<{ scope: Scope; current: SnapshotInfo }> | undefined;
  private readonly snaps = new Map<number, Promise<SnapshotData>>();
  /** Every snapshot that answered part of this request (for the response's extensions). */
  readonly answered = new Map<number, SnapshotInfo>();
  private namesLoader: DataLoader<string, PersonName | null> | undefined;

  constructor(o: RequestDataOptions) {
    this.viewer = o.viewer;
    this.source = o.source;
    this.state = o.state;
    this.identity = o.identity;
    this.lake = o.lake;
    this.requestId = o.requestId;
  }

  /** The caller's scope, from the roster of the current snapshot. */
  scope(): Promise<{ scope: Scope; current: SnapshotInfo }> {
    if (!this.scopePromise) {
      this.scopePromise = (async () => {
        const current = await this.source.resolve({});
        const opened = await this.source.open(current.id);
        // a snapshot is immutable, so a caller's scope in it is derived once (decision 0604)
        let byCaller = scopesOf.get(opened);
        if (!byCaller) scopesOf.set(opened, (byCaller = new LRUCache<string, Promise<Scope>>({ max: 10_000 })));
        const key = JSON.stringify([this.viewer.role, this.viewer.staffKey ?? null, this.viewer.tenant]);
        let scope = byCaller.get(key);
        if (!scope) {
          scope = deriveScope(new SnapshotQueries(opened, this.state), this.viewer.role, this.viewer.staffKey, this.viewer.tenant);
          byCaller.set(key, scope);
          const cache = byCaller;
          scope.catch(() => cache.delete(key)); // a failed or cancelled derivation is not kept
        }
        try {
          return { scope: await scope, current };
        } catch (err) {
          // another request's derivation was cancelled with it: derive for this one, unless it is cancelled too
          if (!(err instanceof QueryCancelledError) || this.state.signal.aborted) throw err;
          return { scope: await deriveScope(new SnapshotQueries(opened, this.state), this.viewer.role, this.viewer.staffKey, this.viewer.tenant), current };
        }
      })();
    }
    return this.scopePromise;
  }

  /** Data of the snapshot a selection names (the current one when none). */
  async at(sel: SnapshotSelection): Promise<SnapshotData> {
    const info = await this.source.resolve(sel);
    return this.byId(info.id);
  }

  byId(id: number): Promise<SnapshotData> {
    let p = this.snaps.get(id);
    if (!p) {
      p = (async () => {
        const opened = await this.source.open(id);
        const { scope } = await this.scope();
        const q = new SnapshotQueries(opened, this.state);
        this.answered.set(id, opened.info);
        return new SnapshotData(this, q, new ScopeSql(scope, q.has(REFINED.staffSections) ? staffSectionsTable(q.snap) : null));
      })();
      this.snaps.set(id, p);
    }
    return p;
  }

  /**
   * Names of students, for roles entitled to see them: only students in the caller's scope in the
   * CURRENT snapshot (teachers: their current sections; principals: their schools), whatever
   * snapshot the student row came from. Others get null.
   */
  names(): DataLoader<string, PersonName | null> {
    if (!this.namesLoader) {
      this.namesLoader = new DataLoader(async (keys) => {
        if (POLICY[this.viewer.role].names !== 'in_scope' || !this.identity) return keys.map(() => null);
        const { current } = await this.scope();
        const d = await this.byId(current.id);
        const inScope = await d.q.all<{ student_key: string }>(
          `SELECT s.student_key FROM ${T.student} s WHERE s.student_key IN ${inList('keys')} AND ${d.scope.students('s')}`,
          { keys: [...keys], ...d.scope.params },
        );
        const allowed = inScope.map((r) => r.student_key);
        const names = await this.identity.namesOf(allowed);
        return keys.map((k) => names.get(k) ?? null);
      });
    }
    return this.namesLoader;
  }
}

/** One snapshot as seen by one request: queries, scope SQL and loaders. */
export class SnapshotData {
  private readonly loaders = new Map<string, DataLoader<string, unknown>>();

  constructor(
    readonly req: RequestData,
    readonly q: SnapshotQueries,
    readonly scope: ScopeSql,
  ) {}

  get info(): SnapshotInfo {
    return this.q.snap.info;
  }

  /**
   * The snapshot's serving index when it is built, else null (disabled, not built yet, or the
   * snapshot lacks a table it needs): the SQL path answers while it builds in the background.
   */
  async index(): Promise<ServingIndex | null> {
    return servingIndexEnabled() ? readyServingIndex(this.q.snap) : null;
  }

  /** A per-request, per-snapshot loader, created on first use. */
  loader<V>(name: string, batch: (keys: readonly string[]) => Promise<Array<V | Error>>): DataLoader<string, V> {
    let l = this.loaders.get(name);
    if (!l) {
      l = new DataLoader<string, V>(batch, { maxBatchSize: 1000 }) as DataLoader<string, unknown>;
      this.loaders.set(name, l);
    }
    return l as DataLoader<string, V>;
  }
}

/** Group rows by a key column into the loaders' order (one list per key). */
export function groupBy<R extends Record<string, unknown>>(keys: readonly string[], rows: R[], col: keyof R): R[][] {
  const m = new Map<string, R[]>();
  for (const r of rows) {
    const k = r[col] as string;
    let list = m.get(k);
    if (!list) m.set(k, (list = []));
    list.push(r);
  }
  return keys.map((k) => m.get(k) ?? []);
}

/** Pick one row per key into the loaders' order (null where missing). */
export function oneBy<R extends Record<string, unknown>>(keys: readonly string[], rows: R[], col: keyof R): Array<R | null> {
  const m = new Map<string, R>();
  for (const r of rows) m.set(r[col] as string, r);
  return keys.map((k) => m.get(k) ?? null);
}
