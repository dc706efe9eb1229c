/**
 * The API server, built (not started): graphql-yoga over the Pothos schema, with token
 * verification, limits, masking, CORS, CSRF prevention, JSON logs, health and metrics.
 * `app.fetch(request)` answers without a port (tests); src/server/start.ts listens.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import { useCSRFPrevention } from '@graphql-yoga/plugin-csrf-prevention';
import { GraphQLError, NoSchemaIntrospectionCustomRule } from 'graphql';
import { createServerAdapter } from '@whatwg-node/server';
import { renderGraphiQL } from '@graphql-yoga/render-graphiql';
import { createYoga, type Plugin, type YogaServerInstance } from 'graphql-yoga';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Config } from '../config.ts';
import { AuthenticationError, bearerToken, createVerifier, type Identity, type Verifier } from '../auth/jwt.ts';
import { viewerFor, type Viewer } from '../auth/viewer.ts';
import { QueryCancelledError } from '../db/pool.ts';
import { buildSchema } from '../../schema/index.ts';
import type { GraphQLContext } from '../../schema/builder.ts';
import { RequestData } from '../../resolvers/context.ts';
import { newRequestState, queryCacheEnabled } from '../../resolvers/runner.ts';
import { LRUCache } from 'lru-cache';
import { readableKey, ResponseCache, viewerKey, type CachedAnswer, type CallerParts } from './response-cache.ts';
import type { Scope } from '../../resolvers/scope.ts';
import { readyServingIndex, servingIndexState } from '../../resolvers/serving.ts';
import { SnapshotNotFoundError, type SnapshotSource } from '../../resolvers/snapshots.ts';
import { renderDictionaryHtml } from '../../pipeline/dictionary/render.ts';
import { asDictionary } from '../../pipeline/dictionary/types.ts';
import type { Json } from '../catalog/format.ts';
import type { IdentityStore } from '../../resolvers/identity.ts';

export type ServerConfig = Pick<
  Config,
  | 'jwtSecret' | 'jwtJwksUrl' | 'jwtJwksFile' | 'jwtAlgorithms' | 'jwtIssuer' | 'jwtAudience' | 'jwtClockTolerance'
  | 'jwtRoleClaim' | 'jwtStaffClaim' | 'jwtEmailClaim' | 'apiProduction' | 'apiQueryTimeout' | 'apiCorsOrigins'
  | 'piiKey' | 'tenant'
>;

export interface LogEntry {
  level: 'info' | 'warn' | 'error';
  msg: string;
  [k: string]: unknown;
}

export interface AppOptions {
  config: ServerConfig;
  source: SnapshotSource;
  identity?: IdentityStore | undefined;
  lake?: string | undefined;
  /** Where JSON log entries go (default: one line each on stdout). */
  log?: (entry: LogEntry) => void;
  /** Limits (defaults suit the schema). */
  limits?: Partial<Limits>;
  /** Cache whole responses by snapshots, caller and query (default on; off with the query cache too). */
  responseCache?: boolean;
}

export interface Limits {
  maxDepth: number;
  maxAliases: number;
  maxCost: number;
  maxTokens: number;
  maxDirectives: number;
  maxBodyBytes: number;
}

export const DEFAULT_LIMITS: Limits = {
  maxDepth: 12,
  maxAliases: 15,
  maxCost: 20_000,
  maxTokens: 2_000,
  maxDirectives: 20,
  maxBodyBytes: 64 * 1024,
};

export const GRAPHIQL_DEFAULT_QUERY = `# edlake: put your token in Headers as {"Authorization": "Bearer <token>"}
# (a demo token: edlake token --role teacher --staff <staff ID>)
{
  viewer { role scope sections schools }
  published {
    snapshot { id publishedAt dataThrough }
    students(first: 5) { totalCount edges { node { key gradeLevel attendance { tier absenceRate } } } }
  }
}
`;

export interface App {
  yoga: YogaServerInstance<Record<string, unknown>, GraphQLContext>;
  /** Answer one request (health, readiness, metrics, GraphQL). */
  fetch(request: Request): Promise<Response>;
  /** Node http listener. */
  handleNode(req: IncomingMessage, res: ServerResponse): void;
  metrics: Registry;
  verifier: Verifier;
}

/** Media types a GraphQL POST body may have. */
const JSON_MEDIA_TYPES = new Set(['application/json', 'application/graphql-response+json']);

function tooLarge(max: number): Response {
  return Response.json({ errors: [{ message: `request body over ${max} bytes` }] }, { status: 413 });
}

/** A POST body as the fast path read it, and the lake's state then (decision 0604). */
interface RawRequest {
  query: string;
  operationName: string | null;
  variables: Record<string, unknown> | null;
  variant: string;
  current: number;
  readable: string;
}

interface RequestEntry {
  data: RequestData | undefined;
  started: number;
  raw?: RawRequest | undefined;
  /** A successful, cacheable answer and the caller it was computed for (set by the cache plugin). */
  store?: { answer: CachedAnswer; caller: CallerParts };
}

const jsonStdout = (e: LogEntry) => process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), ...e })}\n`);

function unauthorized(message: string): GraphQLError {
  return new GraphQLError(message, {
    extensions: { code: 'UNAUTHENTICATED', http: { status: 401, headers: { 'WWW-Authenticate': 'Bearer realm="edlake"' } } },
  });
}

export function buildApp(opts: AppOptions): App {
  const cfg = opts.config;
  const log = opts.log ?? jsonStdout;
  const limits: Limits = { ...DEFAULT_LIMITS, ...(opts.limits ?? {}) };
  const verifier = createVerifier(cfg);
  const schema = buildSchema();

  const metrics = new Registry();
  collectDefaultMetrics({ register: metrics, prefix: 'edlake_' });
  const httpRequests = new Counter({ name: 'edlake_http_requests_total', help: 'HTTP requests by path and status.', labelNames: ['path', 'status'], registers: [metrics] });
  const gqlDuration = new Histogram({
    name: 'edlake_graphql_request_duration_seconds',
    help: 'GraphQL request duration by role.',
    labelNames: ['role'],
    buckets: [0.002, 0.005, 0.01, 0.015, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [metrics],
  });
  const sqlStatements = new Counter({ name: 'edlake_sql_statements_total', help: 'SQL statements issued by resolvers (cache hits included).', registers: [metrics] });
  const sqlExecuted = new Counter({ name: 'edlake_sql_executed_total', help: 'SQL statements that ran in DuckDB (cache misses).', registers: [metrics] });
  const authFailures = new Counter({ name: 'edlake_auth_failures_total', help: 'Requests refused for a missing or bad token.', registers: [metrics] });
  const cancelled = new Counter({ name: 'edlake_queries_cancelled_total', help: 'Requests whose SQL was interrupted (time limit or client gone).', registers: [metrics] });
  new Gauge({
    name: 'edlake_current_snapshot_id',
    help: 'Id of the current snapshot.',
    registers: [metrics],
    async collect() {
      try {
        this.set((await opts.source.resolve({})).id);
      } catch {
        this.set(0);
      }
    },
  });

  const perRequest = new WeakMap<Request, RequestEntry>();
  const cacheOn = (): boolean => opts.responseCache !== false && queryCacheEnabled();
  // The caller's scope by (current snapshot, caller): derived from immutable data, so it holds as
  // long as the snapshot is current; the fast path needs it for the response cache key.
  const scopes = new LRUCache<string, Scope>({ max: 10_000 });
  const scopeSlot = (current: number, viewer: Viewer) => `${current}\u0000${viewerKey(viewer)}`;
  async function callerParts(data: RequestData): Promise<CallerParts> {
    const { scope, current } = await data.scope();
    scopes.set(scopeSlot(current.id, data.viewer), scope);
    return { current: current.id, readable: readableKey(await data.source.list()), viewer: data.viewer, scope };
  }

  const plugins: Array<Plugin<Record<string, unknown>>> = [
    useCSRFPrevention({ requestHeaders: ['x-graphql-yoga-csrf', 'authorization'] }) as Plugin<Record<string, unknown>>,
    EnvelopArmorPlugin({
      maxDepth: { n: limits.maxDepth, ignoreIntrospection: true, flattenFragments: true },
      maxAliases: { n: limits.maxAliases },
      costLimit: { maxCost: limits.maxCost },
      maxTokens: { n: limits.maxTokens },
      maxDirectives: { n: limits.maxDirectives },
      blockFieldSuggestion: { enabled: cfg.apiProduction },
    }) as Plugin<Record<string, unknown>>,
  ];
  if (cfg.apiProduction) {
    plugins.push({
      onValidate({ addValidationRule }) {
        addValidationRule(NoSchemaIntrospectionCustomRule);
      },
    });
  }
  // Whole-response cache (by snapshots, caller and query; decision 0604): looked up here for the
  // requests the fast path of fetch() does not take, and filled here for both; which snapshots
  // answered, and (outside production) how many statements ran.
  const responses = new ResponseCache();
  const cacheHits = new Counter({ name: 'edlake_response_cache_hits_total', help: 'GraphQL responses served from the response cache.', registers: [metrics] });
  const cachedSql = { statements: 0, executed: 0, cached: true };
  plugins.push({
    async onExecute({ args, setResultAndStopExecution }) {
      const ctx = args.contextValue as unknown as GraphQLContext & { request?: Request };
      const data = ctx.data;
      if (!data) return undefined;
      const text = cacheOn() ? responses.cacheableText(args.document, args.operationName) : null;
      // the cache never fails a request: when the caller's scope cannot be derived, the query runs
      // uncached (and fails only if it reads rows, which need the scope)
      const caller = text === null ? null : await callerParts(data).catch(() => null);
      const key = caller === null || text === null ? null : responses.key('printed', caller, text, args.operationName, args.variableValues);
      if (key !== null) {
        const hit = responses.get(key);
        if (hit) {
          cacheHits.inc();
          // a request the fast path missed (e.g. its raw text was never stored) stores it now
          const entry = ctx.request ? perRequest.get(ctx.request) : undefined;
          if (entry && caller !== null) entry.store = { answer: hit, caller };
          const extensions: Record<string, unknown> = { snapshots: hit.snapshots };
          if (!cfg.apiProduction) extensions.sql = cachedSql;
          setResultAndStopExecution({ data: JSON.parse(hit.dataJson) as Record<string, unknown>, extensions });
          return undefined;
        }
      }
      return {
        onExecuteDone({ result, setResult }) {
          if (!('data' in result)) return;
          const snapshots = [...data.answered.values()].map((s) => ({ id: String(s.id), publishedAt: s.publishedAt, dataThrough: s.dataThrough }));
          const extensions: Record<string, unknown> = { ...(result.extensions ?? {}), snapshots };
          if (key !== null && caller !== null && (result.errors === undefined || result.errors.length === 0) && result.data) {
            const answer: CachedAnswer = { dataJson: JSON.stringify(result.data), snapshots };
            responses.set(key, answer);
            // fetch() stores it under the raw query text too, with the answer's content type
            const entry = ctx.request ? perRequest.get(ctx.request) : undefined;
            if (entry) entry.store = { answer, caller };
          }
          if (!cfg.apiProduction) extensions.sql = { statements: data.state.statements, executed: data.state.executed };
          setResult({ ...result, extensions });
        },
      };
    },
  });

  const yoga = createYoga<Record<string, unknown>, GraphQLContext>({
    schema,
    graphqlEndpoint: '/graphql',
    healthCheckEndpoint: '/yoga-health',
    landingPage: false,
    // GraphiQL with its assets inlined (no CDN); the caller puts `Authorization: Bearer <token>` in the headers pane
    graphiql: cfg.apiProduction
      ? false
      : {
          title: 'edlake GraphQL',
          defaultQuery: GRAPHIQL_DEFAULT_QUERY,
        },
    renderGraphiQL,
    cors:
      cfg.apiCorsOrigins.length > 0
        ? { origin: cfg.apiCorsOrigins, credentials: false, methods: ['GET', 'POST'], allowedHeaders: ['authorization', 'content-type', 'x-graphql-yoga-csrf'], maxAge: 600 }
        : false,
    logging: {
      debug: () => {},
      info: () => {},
      warn: (...args: unknown[]) => log({ level: 'warn', msg: 'yoga', detail: args.map(String).join(' ') }),
      error: (...args: unknown[]) => log({ level: 'error', msg: 'yoga', detail: args.map((a) => (a instanceof Error ? a.name : String(a))).join(' ') }),
    },
    maskedErrors: {
      maskError(error, message) {
        const original = error instanceof GraphQLError ? error.originalError : error;
        if (original instanceof QueryCancelledError) {
          cancelled.inc();
          return new GraphQLError('query cancelled: the time limit passed or the client went away', { extensions: { code: 'QUERY_CANCELLED' } });
        }
        if (error instanceof GraphQLError && (original === undefined || original === null || original instanceof GraphQLError)) return error;
        if (original instanceof AuthenticationError) return unauthorized(original.message);
        log({ level: 'error', msg: 'unexpected error', error: original instanceof Error ? `${original.name}: ${original.message}` : String(original) });
        return new GraphQLError(message, { extensions: { code: 'INTERNAL_SERVER_ERROR' } });
      },
    },
    plugins,
    context: async ({ request }) => {
      let token: string | undefined;
      let viewer;
      try {
        token = bearerToken(request.headers.get('authorization'));
        if (token === undefined) throw new AuthenticationError('a bearer token is required');
        const identity = await verifier.verify(token);
        viewer = await viewerFor(identity, { piiKey: cfg.piiKey, tenant: cfg.tenant }, opts.identity);
      } catch (err) {
        authFailures.inc();
        throw unauthorized(err instanceof AuthenticationError ? err.message : 'token rejected');
      }
      const signal = AbortSignal.any([request.signal, AbortSignal.timeout(cfg.apiQueryTimeout)]);
      const data = new RequestData({
        source: opts.source,
        viewer,
        state: newRequestState(signal),
        identity: opts.identity,
        lake: opts.lake,
        requestId: request.headers.get('x-request-id') ?? randomUUID(),
      });
      const entry = perRequest.get(request);
      if (entry) entry.data = data;
      else perRequest.set(request, { data, started: performance.now() });
      return { data };
    },
  });

  /**
   * `/docs`: the data dictionary and lineage of a snapshot (current, `?asOf=YYYY-MM-DD` or
   * `?snapshot=ID`), the dictionary that was true when that snapshot was published. It describes
   * structure, rules and thresholds, never data, and every role may read it (access matrix); in
   * production it still asks for a valid bearer token (decision 0603).
   */
  async function docs(request: Request, url: URL): Promise<Response> {
    if (cfg.apiProduction) {
      try {
        const token = bearerToken(request.headers.get('authorization'));
        if (token === undefined) throw new AuthenticationError('a bearer token is required');
        await verifier.verify(token);
      } catch (err) {
        const message = err instanceof AuthenticationError ? err.message : 'invalid token';
        return new Response(message, { status: 401, headers: { 'WWW-Authenticate': 'Bearer realm="edlake"' } });
      }
    }
    const asOf = url.searchParams.get('asOf') ?? undefined;
    const idText = url.searchParams.get('snapshot') ?? undefined;
    if (asOf !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(asOf)) return new Response('asOf: expected a date as YYYY-MM-DD', { status: 400 });
    if (idText !== undefined && !/^[1-9]\d{0,9}$/.test(idText)) return new Response('snapshot: expected a snapshot id', { status: 400 });
    try {
      const info = await opts.source.resolve({ asOf, snapshotId: idText === undefined ? undefined : Number(idText) });
      const snap = await opts.source.open(info.id);
      const dictionary = asDictionary(snap.dictionary as Json | undefined);
      const ctx = { snapshot: { snapshot_id: info.id, published_at: info.publishedAt, data_through: info.dataThrough } };
      const html = dictionary
        ? renderDictionaryHtml(dictionary, ctx)
        : `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>edlake data dictionary</title></head><body><h1>edlake data dictionary</h1><p>Snapshot ${info.id} was published without a data dictionary.</p></body></html>\n`;
      return new Response(html, { headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'private, max-age=60' } });
    } catch (err) {
      if (err instanceof SnapshotNotFoundError) return new Response(err.message, { status: 404 });
      throw err;
    }
  }

  async function readyz(): Promise<Response> {
    try {
      const info = await opts.source.resolve({});
      const snap = await opts.source.open(info.id);
      await snap.pool.use((db) => db.all('SELECT 1 AS ok'));
      readyServingIndex(snap); // start building the serving index of the current snapshot
      return Response.json({
        status: 'ready',
        snapshot: { id: String(info.id), publishedAt: info.publishedAt, dataThrough: info.dataThrough },
        pool: snap.pool.stats(),
        servingIndex: servingIndexState(snap),
      });
    } catch (err) {
      return Response.json({ status: 'not ready', reason: err instanceof Error ? err.message : String(err) }, { status: 503 });
    }
  }

  /**
   * The fast path of the response cache: a POST's JSON body looked up before graphql-yoga runs
   * (no parse, validation or execution). The key is computed exactly as it is stored after a
   * successful execution of the same text by the same caller: the verified token's identity, the
   * scope that caller had (cached per current snapshot and caller; absent scope, no lookup), the
   * readable snapshots, the query text, operation name, variables and Accept header. Anything
   * unusual (no or bad token, a body that is not a plain GraphQL request, CORS) takes the normal
   * path, which refuses or answers it as before.
   */
  // The viewer of a verified identity (the verifier hands out the same frozen identity object for
  // a token while it is cached), and its key text, worked out once per token.
  const viewers = new WeakMap<object, Promise<Viewer>>();
  function viewerOf(identity: Identity): Promise<Viewer> {
    let v = viewers.get(identity);
    if (!v) {
      v = viewerFor(identity, { piiKey: cfg.piiKey, tenant: cfg.tenant }, opts.identity);
      viewers.set(identity, v);
      v.catch(() => viewers.delete(identity));
    }
    return v;
  }

  async function fastPath(request: Request, text: string): Promise<{ hit?: { answer: CachedAnswer & { body: Uint8Array<ArrayBuffer> }; viewer: Viewer; requestId: string }; raw?: RawRequest }> {
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return {};
    }
    if (body === null || typeof body !== 'object' || Array.isArray(body)) return {};
    const b = body as Record<string, unknown>;
    if (typeof b.query !== 'string' || b.extensions !== undefined) return {};
    if (b.operationName !== undefined && b.operationName !== null && typeof b.operationName !== 'string') return {};
    if (b.variables !== undefined && b.variables !== null && (typeof b.variables !== 'object' || Array.isArray(b.variables))) return {};
    let viewer: Viewer;
    try {
      const token = bearerToken(request.headers.get('authorization'));
      if (token === undefined) return {};
      viewer = await viewerOf(await verifier.verify(token));
    } catch {
      return {}; // yoga's context refuses it with the usual 401
    }
    const current = await opts.source.resolve({});
    const raw: RawRequest = {
      query: b.query,
      operationName: (b.operationName as string | null | undefined) ?? null,
      variables: (b.variables as Record<string, unknown> | null | undefined) ?? null,
      variant: request.headers.get('accept') ?? '',
      current: current.id,
      readable: readableKey(await opts.source.list()),
    };
    const scope = scopes.get(scopeSlot(current.id, viewer));
    if (scope === undefined) return { raw };
    const key = responses.key('raw', { current: raw.current, readable: raw.readable, viewer, scope }, raw.query, raw.operationName, raw.variables, raw.variant);
    const answer = responses.get(key);
    if (answer?.body === undefined) return { raw };
    return { hit: { answer: answer as CachedAnswer & { body: Uint8Array<ArrayBuffer> }, viewer, requestId: request.headers.get('x-request-id') ?? randomUUID() }, raw };
  }

  async function fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const started = performance.now();
    let response: Response;
    let entry: RequestEntry | undefined;
    let hitLog: { viewer: Viewer; requestId: string; snapshots: number[] } | undefined;
    if (url.pathname === '/healthz') response = Response.json({ status: 'ok' });
    else if (url.pathname === '/readyz') response = await readyz();
    else if (url.pathname === '/docs' || url.pathname === '/docs/') response = await docs(request, url);
    else if (url.pathname === '/metrics') {
      response = new Response(await metrics.metrics(), { headers: { 'content-type': metrics.contentType } });
    } else {
      const length = Number(request.headers.get('content-length') ?? '0');
      const mediaType = (request.headers.get('content-type') ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
      if (Number.isFinite(length) && length > limits.maxBodyBytes) {
        response = tooLarge(limits.maxBodyBytes);
      } else if (url.pathname === '/graphql' && request.method === 'POST' && !JSON_MEDIA_TYPES.has(mediaType)) {
        // a GraphQL POST carries JSON; a form or plain-text body is refused (GET stays for GraphiQL and links)
        response = Response.json(
          { errors: [{ message: `POST /graphql takes a JSON body: send Content-Type: application/json (or application/graphql-response+json), not ${mediaType === '' ? 'no content type' : mediaType}`, extensions: { code: 'UNSUPPORTED_MEDIA_TYPE' } }] },
          { status: 415, headers: { accept: 'application/json, application/graphql-response+json' } },
        );
      } else if (url.pathname === '/graphql' && request.method === 'POST' && cacheOn() && !(cfg.apiCorsOrigins.length > 0 && request.headers.has('origin'))) {
        const text = await request.text();
        if (Buffer.byteLength(text) > limits.maxBodyBytes) response = tooLarge(limits.maxBodyBytes);
        else {
          const fast = await fastPath(request, text);
          if (fast.hit) {
            cacheHits.inc();
            const { answer } = fast.hit;
            response = new Response(answer.body, { status: 200, headers: { 'content-type': answer.contentType ?? 'application/json; charset=utf-8' } });
            hitLog = { viewer: fast.hit.viewer, requestId: fast.hit.requestId, snapshots: answer.snapshots.map((s) => Number(s.id)) };
          } else {
            // the body is read: yoga gets a copy of the request with it
            const copy = new Request(request.url, { method: 'POST', headers: request.headers, body: text, signal: request.signal });
            entry = { data: undefined, started, raw: fast.raw };
            perRequest.set(copy, entry);
            response = await yoga.fetch(copy);
            if (entry.store && entry.raw && response.status === 200) {
              const { answer, caller } = entry.store;
              const raw = entry.raw;
              // stored under the raw text only when the lake did not move while it ran
              if (caller.current === raw.current && caller.readable === raw.readable) {
                const key = responses.key('raw', caller, raw.query, raw.operationName, raw.variables, raw.variant);
                // the whole body, encoded once: a hit sends these bytes as they are
                const extensions: Record<string, unknown> = { snapshots: answer.snapshots };
                if (!cfg.apiProduction) extensions.sql = cachedSql;
                const body = new TextEncoder().encode(`{"data":${answer.dataJson},"extensions":${JSON.stringify(extensions)}}`);
                responses.set(key, { ...answer, body, contentType: response.headers.get('content-type') ?? undefined });
              }
            }
          }
        }
      } else {
        entry = { data: undefined, started };
        perRequest.set(request, entry);
        response = await yoga.fetch(request);
      }
    }
    const ms = performance.now() - started;
    const path = ['/healthz', '/readyz', '/metrics', '/graphql', '/docs'].includes(url.pathname) ? url.pathname : 'other';
    httpRequests.inc({ path, status: String(response.status) });
    if (path === '/graphql') {
      const data = entry?.data;
      const role = data?.viewer.role ?? hitLog?.viewer.role ?? null;
      if (role !== null) gqlDuration.observe({ role }, ms / 1000);
      if (data) {
        sqlStatements.inc(data.state.statements);
        sqlExecuted.inc(data.state.executed);
      }
      // no personal data: role and opaque request id only; no variables, names or staff IDs
      log({
        level: response.status >= 500 ? 'error' : 'info',
        msg: 'graphql request',
        request_id: data?.requestId ?? hitLog?.requestId ?? null,
        method: request.method,
        status: response.status,
        role,
        duration_ms: Math.round(ms * 10) / 10,
        sql_statements: data?.state.statements ?? 0,
        sql_executed: data?.state.executed ?? 0,
        sql_ms: data ? Math.round(data.state.sqlMs * 10) / 10 : 0,
        snapshots: data ? [...data.answered.keys()] : (hitLog?.snapshots ?? []),
        ...(hitLog ? { response_cache: 'hit' } : {}),
      });
    }
    return response;
  }

  const adapter = createServerAdapter((request: Request) => fetch(request));
  function handleNode(req: IncomingMessage, res: ServerResponse): void {
    // The adapter is itself a Node request listener (handleNodeRequestAndResponse alone never answers).
    void adapter(req, res);
  }

  return { yoga, fetch, handleNode, metrics, verifier };
}
