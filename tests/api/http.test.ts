/** The server over HTTP semantics (app.fetch, no port): denials, limits, CSRF, health, metrics, production mode. */
import { SignJWT, UnsecuredJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuckDBInstance } from '@duckdb/node-api';
import { Pool, QueryCancelledError } from '../../src/db/pool.ts';
import { JWT_SECRET } from './fixture.ts';
import { harness, type Harness } from './helpers.ts';

let h: Harness;
beforeAll(async () => {
  h = await harness();
});
afterAll(async () => h.close());

const enc = new TextEncoder();
const Q = `{ published { students(first: 1) { totalCount } } }`;

describe('authentication over HTTP', () => {
  it('no token, a malformed header, a tampered, expired, wrong-audience or alg:none token: 401 and no data', async () => {
    const now = Math.floor(Date.now() / 1000);
    const good = await h.token({ role: 'data_analyst' });
    const [hd, pl, sg] = good.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(pl, 'base64url').toString()) as Record<string, unknown>;
    const tampered = `${hd}.${Buffer.from(JSON.stringify({ ...claims, edlake_role: 'data_engineer' })).toString('base64url')}.${sg}`;
    const sign = (c: Record<string, unknown>, aud: string, exp: number) =>
      new SignJWT(c).setProtectedHeader({ alg: 'HS256' }).setIssuer('edlake').setAudience(aud).setExpirationTime(exp).sign(enc.encode(JWT_SECRET));
    const expired = await sign({ edlake_role: 'data_analyst' }, 'edlake-api', now - 3600);
    const wrongAud = await sign({ edlake_role: 'data_analyst' }, 'another-api', now + 600);
    const none = new UnsecuredJWT({ edlake_role: 'data_engineer' }).setIssuer('edlake').setAudience('edlake-api').setExpirationTime(now + 600).encode();
    const cases: Array<[string, Record<string, string>]> = [
      ['none', {}],
      ['basic', { authorization: 'Basic dXNlcjpwYXNz' }],
      ['tampered', { authorization: `Bearer ${tampered}` }],
      ['expired', { authorization: `Bearer ${expired}` }],
      ['wrong audience', { authorization: `Bearer ${wrongAud}` }],
      ['alg none', { authorization: `Bearer ${none}` }],
    ];
    for (const [name, headers] of cases) {
      const r = await h.gql(null, Q, undefined, headers);
      expect(r.status, name).toBe(401);
      expect(r.body.data ?? null, name).toBeNull();
      expect(r.body.errors?.[0]?.extensions?.code, name).toBe('UNAUTHENTICATED');
    }
    expect((await h.gql(good, Q)).status).toBe(200);
  });
});

describe('hostile queries', () => {
  it('an injection attempt in a filter argument is only a value', async () => {
    const tok = await h.token({ role: 'data_analyst' });
    const attempts = ["x' OR '1'='1", "'; DROP TABLE dim_student; --", 'all_students) OR (1=1', '$scope_schools', "\\' OR 1=1 --"];
    for (const a of attempts) {
      const r = await h.gql(tok, `query($g: String, $c: String, $k: ID!) { published { students(first: 5, filter: { studentGroup: $g, tier: $g }) { totalCount } sections(first: 5, filter: { courseCode: $c, subject: $c }) { totalCount } student(key: $k) { key } attendanceSummary(groupBy: [SCHOOL], filter: { studentGroup: $g }) { students } } }`, { g: a, c: a, k: a });
      expect(r.body.errors, a).toBeUndefined();
      expect(r.body.data, a).toEqual({ published: { students: { totalCount: 0 }, sections: { totalCount: 0 }, student: null, attendanceSummary: [] } });
    }
    const after = await h.gql(tok, Q);
    expect((after.body.data as { published: { students: { totalCount: number } } }).published.students.totalCount).toBe(h.fx.district.snapshots[1]?.students.length);
  });

  it('an over-deep query and an alias bomb are refused before any SQL runs', async () => {
    const tok = await h.token({ role: 'data_analyst' });
    let deep = 'key';
    for (let i = 0; i < 8; i++) deep = `sections { students { ${deep} } }`;
    const before = h.logs.length;
    const r1 = await h.gql(tok, `{ published { students(first: 1) { edges { node { ${deep} } } } } }`);
    expect(r1.body.data ?? null).toBeNull();
    expect(r1.body.errors?.[0]?.message).toMatch(/depth/i);
    const aliases = Array.from({ length: 30 }, (_, i) => `a${i}: published { students(first: 100) { totalCount } }`).join(' ');
    const r2 = await h.gql(tok, `{ ${aliases} }`);
    expect(r2.body.data ?? null).toBeNull();
    expect(r2.body.errors?.map((e) => e.message).join(' ')).toMatch(/alias/i);
    const logged = h.logs.slice(before).filter((l) => l.msg === 'graphql request');
    expect(logged).toHaveLength(2);
    for (const l of logged) expect(l.sql_statements).toBe(0);
  });

  it('a forged node id is a clear input error, not a server error', async () => {
    const tok = await h.token({ role: 'data_analyst' });
    const forged = Buffer.from("Student:2:x' OR 1=1").toString('base64');
    const r = await h.gql(tok, `query($id: ID!) { node(id: $id) { id } }`, { id: forged });
    expect(r.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('page size, unknown cursors and backward paging are refused clearly', async () => {
    const tok = await h.token({ role: 'data_analyst' });
    const big = await h.gql(tok, `{ published { students(first: 1000) { totalCount } } }`);
    expect(big.body.errors?.[0]?.message).toMatch(/at most 100/);
    const bad = await h.gql(tok, `{ published { students(first: 1, after: "garbage") { totalCount } } }`);
    expect(bad.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('refuses a body over the size limit and a simple (CSRF-able) request', async () => {
    const big = await h.app.fetch(new Request('http://edlake.test/graphql', { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': String(200_000) }, body: 'x'.repeat(200_000) }));
    expect(big.status).toBe(413);
    // a simple POST (text/plain) is not JSON: 415 before anything else (tests/api/response-cache.test.ts)
    const form = await h.app.fetch(new Request('http://edlake.test/graphql', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: JSON.stringify({ query: Q }) }));
    expect(form.status).toBe(415);
    // a simple GET without the Authorization or CSRF header: refused by CSRF prevention
    const get = await h.app.fetch(new Request(`http://edlake.test/graphql?query=${encodeURIComponent(Q)}`, { method: 'GET' }));
    expect(get.status).toBe(403);
  });
});

describe('health, readiness, metrics, logs', () => {
  it('answers /healthz, /readyz with the current snapshot, and /metrics in Prometheus format', async () => {
    const hz = await h.app.fetch(new Request('http://edlake.test/healthz'));
    expect(hz.status).toBe(200);
    const rz = await h.app.fetch(new Request('http://edlake.test/readyz'));
    expect(rz.status).toBe(200);
    expect(((await rz.json()) as { snapshot: { id: string } }).snapshot.id).toBe('2');
    await h.gql(await h.token({ role: 'auditor' }), Q);
    const m = await (await h.app.fetch(new Request('http://edlake.test/metrics'))).text();
    expect(m).toMatch(/edlake_graphql_request_duration_seconds_bucket\{le="0.015",role="auditor"\}/);
    expect(m).toMatch(/edlake_http_requests_total\{path="\/graphql",status="401"\} \d+/);
    expect(m).toMatch(/edlake_current_snapshot_id 2/);
  });

  it('logs JSON entries without names, staff IDs, e-mails or tokens', async () => {
    const p = h.fx.district.principals[0]!;
    const tok = await h.token({ role: 'principal', staffId: p.staff_unique_id, email: p.email });
    await h.gql(tok, `{ published { students(first: 100) { edges { node { name { firstName lastName } } } } } }`);
    const text = JSON.stringify(h.logs);
    expect(text).not.toMatch(/First\d|Last\d/);
    expect(text).not.toContain(p.staff_unique_id + '"');
    expect(text).not.toContain(p.email);
    expect(text).not.toContain(tok);
  });
});

describe('CORS', () => {
  it('answers preflights for configured origins only; none configured means same origin only', async () => {
    const withCors = await harness({ env: { EDLAKE_API_CORS_ORIGINS: 'https://app.district.example' }, fixture: h.fx });
    const pre = (app: typeof h.app, origin: string) =>
      app.fetch(new Request('http://edlake.test/graphql', { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' } }));
    const ok = await pre(withCors.app, 'https://app.district.example');
    expect(ok.headers.get('access-control-allow-origin')).toBe('https://app.district.example');
    expect((ok.headers.get('access-control-allow-headers') ?? '').toLowerCase()).toContain('authorization');
    const evil = await pre(withCors.app, 'https://evil.example');
    expect(evil.headers.get('access-control-allow-origin')).not.toBe('https://evil.example');
    const none = await pre(h.app, 'https://app.district.example');
    expect(none.headers.get('access-control-allow-origin')).toBeNull();
    await withCors.close();
  });
});

describe('production mode', () => {
  it('turns introspection and GraphiQL off; development serves GraphiQL', async () => {
    const prod = await harness({ env: { EDLAKE_API_PRODUCTION: 'true' }, fixture: h.fx });
    const tok = await prod.token({ role: 'data_analyst' });
    const r = await prod.gql(tok, `{ __schema { types { name } } }`);
    expect(r.body.errors?.[0]?.message).toMatch(/introspection/i);
    const page = await prod.app.fetch(new Request('http://edlake.test/graphql', { headers: { accept: 'text/html' } }));
    expect(page.headers.get('content-type') ?? '').not.toMatch(/text\/html/);
    const dev = await h.app.fetch(new Request('http://edlake.test/graphql', { headers: { accept: 'text/html' } }));
    expect(dev.headers.get('content-type')).toMatch(/text\/html/);
    expect(await dev.text()).toMatch(/graphiql/i);
    await prod.close();
  });
});

describe('cancellation', () => {
  it('interrupts a running statement when its signal aborts, and the connection serves again', async () => {
    const inst = await DuckDBInstance.create(':memory:', { threads: '2' });
    const pool = await Pool.create(inst, 1);
    const t0 = Date.now();
    await expect(
      pool.use((db) => db.all('SELECT count(*) FROM range(100000000000) a(x) WHERE x % 7 = 3'), AbortSignal.timeout(150)),
    ).rejects.toBeInstanceOf(QueryCancelledError);
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(await pool.use((db) => db.all('SELECT 41 + 1 AS x'))).toEqual([{ x: 42 }]);
    // a waiter whose signal aborts leaves the queue
    const ac = new AbortController();
    const hold = pool.use(() => new Promise((r) => setTimeout(r, 200)));
    const waiting = pool.use((db) => db.all('SELECT 1'), ac.signal);
    ac.abort(new Error('client went away'));
    await expect(waiting).rejects.toThrow(/client went away/);
    await hold;
    expect(pool.stats()).toEqual({ size: 1, inUse: 0, waiting: 0 });
    pool.close();
  });
});
