/** Build the API over the fixture district and call it with app.fetch (no port). */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config.ts';
import { mintToken, type MintOptions } from '../../src/auth/jwt.ts';
import { buildApp, type App, type LogEntry, type Limits } from '../../src/server/app.ts';
import { IdentityStore } from '../../resolvers/identity.ts';
import { clearQueryCache } from '../../resolvers/runner.ts';
import { buildFixture, JWT_SECRET, PII_KEY, TENANT, type Fixture } from './fixture.ts';

export interface Harness {
  fx: Fixture;
  app: App;
  logs: LogEntry[];
  auditFile: string;
  config: ReturnType<typeof loadConfig>;
  token(o: MintOptions): Promise<string>;
  gql(token: string | null, query: string, variables?: Record<string, unknown>, headers?: Record<string, string>): Promise<GqlResponse>;
  close(): Promise<void>;
}

export interface GqlResponse {
  status: number;
  body: {
    data?: Record<string, unknown> | null;
    errors?: Array<{ message: string; extensions?: { code?: string } }>;
    extensions?: { snapshots?: Array<{ id: string; publishedAt: string; dataThrough: string | null }>; sql?: { statements: number; executed: number } };
  };
}

export async function harness(opts: { env?: Record<string, string>; limits?: Partial<Limits>; fixture?: Fixture } = {}): Promise<Harness> {
  const fx = opts.fixture ?? (await buildFixture());
  const config = loadConfig({}, { EDLAKE_JWT_SECRET: JWT_SECRET, EDLAKE_PII_KEY: PII_KEY, EDLAKE_TENANT: TENANT, ...(opts.env ?? {}) });
  const auditFile = path.join(mkdtempSync(path.join(tmpdir(), 'edlake-audit-')), 'reidentification.jsonl');
  const identity = new IdentityStore(fx.identityFile, auditFile, TENANT);
  const logs: LogEntry[] = [];
  clearQueryCache();
  const app = buildApp({ config, source: fx.source, identity, log: (e) => logs.push(e), ...(opts.limits ? { limits: opts.limits } : {}) });
  return {
    fx, app, logs, auditFile, config,
    token: (o) => mintToken(config, o),
    async gql(token, query, variables, headers) {
      const res = await app.fetch(
        new Request('http://edlake.test/graphql', {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}), ...(headers ?? {}) },
          body: JSON.stringify({ query, variables }),
        }),
      );
      return { status: res.status, body: (await res.json()) as GqlResponse['body'] };
    },
    async close() {
      if (!opts.fixture) await fx.source.close(); // a shared fixture is closed by its owner
      rmSync(path.dirname(auditFile), { recursive: true, force: true });
      if (!opts.fixture) rmSync(path.dirname(fx.identityFile), { recursive: true, force: true });
    },
  };
}
