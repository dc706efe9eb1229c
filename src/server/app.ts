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
import { AuthenticationError, bearerToken, createVerifier, type Verifier } from '../auth/jwt.ts';
import { viewerFor } from '../auth/viewer.ts';
import { QueryCancelledError } from '../db/pool.ts';
import { buildSchema } from '../../schema/index.ts';
import type { GraphQLContext } from '../../schema/builder.ts';
import { RequestData } from '../../resolvers/context.ts';
import { newRequestState, queryCacheEnabled } from '../../resolvers/runner.ts';
import { ResponseCache } from './response-cache.ts';
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

  const perRequest = new WeakMap<Request, { data: RequestData; started: number }>();

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
  // Whole-response cache (by snapshots, caller and query); which snapshots answered, and (outside
  // production) how many statements ran.
  const responses = new ResponseCache();
  const cacheHits = new Counter({ name: 'edlake_response_cache_hits_total', help: 'GraphQL responses served from the response cache.', registers: [metrics] });
  plugins.push({
    async onExecute({ args, setResultAndStopExecution }) {
      const data = (args.contextValue as unknown as GraphQLContext).data;
      if (!data) return undefined;
      const key = opts.responseCache === false || !queryCacheEnabled() ? null : await responses.key(data, args.document, args.operationName, args.variableValues);
      if (key !== null) {
        const hit = responses.get(key);
        if (hit) {
          cacheHits.inc();
          const extensions: Record<string, unknown> = { ...(hit.extensions ?? {}) };
          if (!cfg.apiProduction) extensions.sql = { statements: 0, executed: 0, cached: true };
          setResultAndStopExecution({ ...hit, extensions });
          return undefined;
        }
      }
      return {
        onExecuteDone({ result, setResult }) {
          if (!('data' in result)) return;
          const snapshots = [...data.answered.values()].map((s) => ({ id: String(s.id), publishedAt: s.publishedAt, dataThrough: s.dataThrough }));
          const extensions: Record<string, unknown> = { ...(result.extensions ?? {}), snapshots };
          if (key !== null) responses.set(key, { ...result, extensions: { ...extensions } });
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

  async function fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const started = performance.now();
    let response: Response;
    if (url.pathname === '/healthz') response = Response.json({ status: 'ok' });
    else if (url.pathname === '/readyz') response = await readyz();
    else if (url.pathname === '/docs' || url.pathname === '/docs/') response = await docs(request, url);
    else if (url.pathname === '/metrics') {
      response = new Response(await metrics.metrics(), { headers: { 'content-type': metrics.contentType } });
    } else {
      const length = Number(request.headers.get('content-length') ?? '0');
      if (Number.isFinite(length) && length > limits.maxBodyBytes) {
        response = Response.json({ errors: [{ message: `request body over ${limits.maxBodyBytes} bytes` }] }, { status: 413 });
      } else {
        perRequest.set(request, { data: undefined as unknown as RequestData, started });
        response = await yoga.fetch(request);
      }
    }
    const entry = perRequest.get(request);
    const ms = performance.now() - started;
    const path = ['/healthz', '/readyz', '/metrics', '/graphql', '/docs'].includes(url.pathname) ? url.pathname : 'other';
    httpRequests.inc({ path, status: String(response.status) });
    if (path === '/graphql') {
      const data = entry?.data;
      if (data) {
        gqlDuration.observe({ role: data.viewer.role }, ms / 1000);
        sqlStatements.inc(data.state.statements);
        sqlExecuted.inc(data.state.executed);
      }
      // no personal data: role and opaque request id only; no variables, names or staff IDs
      log({
        level: response.status >= 500 ? 'error' : 'info',
        msg: 'graphql request',
        request_id: data?.requestId ?? null,
        method: request.method,
        status: response.status,
        role: data?.viewer.role ?? null,
        duration_ms: Math.round(ms * 10) / 10,
        sql_statements: data?.state.statements ?? 0,
        sql_executed: data?.state.executed ?? 0,
        sql_ms: data ? Math.round(data.state.sqlMs * 10) / 10 : 0,
        snapshots: data ? [...data.answered.keys()] : [],
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
