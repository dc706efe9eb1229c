/**
 * The response cache and the token cache never cross callers (decision 0604): the same query text
 * answered for two teachers, a teacher then a principal and an analyst, the current snapshot then a
 * past one, each equal to the roster oracle on the first call and on the cached repeat; a cached
 * answer is never given to a bad token; two tenants' callers with the same staff ID and query get
 * their own tenant's rows; a verified token stops being honoured when it expires.
 * And a GraphQL POST must carry JSON (415 otherwise).
 */
import { rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createVerifier, mintToken } from '../../src/auth/jwt.ts';
import { buildDistrict, buildFixture, mergeDistricts, principalSchools, teacherStudents, TENANT, type FxSnapshot } from './fixture.ts';
import { harness, type GqlResponse, type Harness } from './helpers.ts';

let h: Harness;
beforeAll(async () => {
  h = await harness();
});
afterAll(async () => h.close());

const Q = `query($s: ID) { published(snapshotId: $s) { snapshot { id } students(first: 100) { totalCount edges { node { key } } } } }`;

function keysOf(r: GqlResponse): Set<string> {
  expect(r.body.errors).toBeUndefined();
  const p = (r.body.data as { published: { students: { totalCount: number; edges: Array<{ node: { key: string } }> } } }).published;
  expect(p.students.totalCount).toBe(p.students.edges.length); // the fixture's scopes fit in one page
  return new Set(p.students.edges.map((e) => e.node.key));
}
const cached = (r: GqlResponse) => (r.body.extensions?.sql as { cached?: boolean } | undefined)?.cached === true;

describe('response cache across callers', () => {
  it('two teachers, a principal and an analyst sending the same text each get their own rows, first call and cached repeat', async () => {
    const d = h.fx.district;
    const cur = d.snapshots[1] as FxSnapshot;
    const [a, b] = [d.teachers[0]!, d.teachers[4]!];
    const expectA = teacherStudents(d, a.staff_key, cur);
    const expectB = teacherStudents(d, b.staff_key, cur);
    expect(expectA).not.toEqual(expectB);
    const p = d.principals[0]!;
    const schools = principalSchools(d, p.staff_key, cur.dataThrough);
    const expectP = new Set(cur.students.filter((s) => schools.has(s.school_key)).map((s) => s.student_key));
    const ta = await h.token({ role: 'teacher', staffId: a.staff_unique_id });
    const tb = await h.token({ role: 'teacher', staffId: b.staff_unique_id });
    const tp = await h.token({ role: 'principal', staffId: p.staff_unique_id });
    // interleaved, twice each: the second round must come from the cache and still be the caller's own
    for (const round of [1, 2]) {
      const ra = await h.gql(ta, Q);
      const rb = await h.gql(tb, Q);
      const rp = await h.gql(tp, Q);
      expect(keysOf(ra), `teacher a, round ${round}`).toEqual(expectA);
      expect(keysOf(rb), `teacher b, round ${round}`).toEqual(expectB);
      expect(keysOf(rp), `principal, round ${round}`).toEqual(expectP);
      for (const r of [ra, rb, rp]) expect(cached(r), `round ${round}`).toBe(round === 2);
    }
    // a second token of the same teacher (another subject) is the same caller: same answer
    const ta2 = await h.token({ role: 'teacher', staffId: a.staff_unique_id, subject: 'another-session' });
    const again = await h.gql(ta2, Q);
    expect(keysOf(again)).toEqual(expectA);
    // the same staff member as principal is another caller: a principal's rows, not the teacher's
    const asPrincipal = await h.token({ role: 'principal', staffId: a.staff_unique_id });
    const rap = await h.gql(asPrincipal, Q);
    expect(cached(rap)).toBe(false);
    expect(keysOf(rap)).toEqual(new Set(cur.students.filter((s) => principalSchools(d, a.staff_key, cur.dataThrough).has(s.school_key)).map((s) => s.student_key)));
    // an analyst sees the district (first page); a repeat is cached and equal
    const tn = await h.token({ role: 'data_analyst' });
    const n1 = await h.gql(tn, `{ published { students(first: 1) { totalCount } } }`);
    const n2 = await h.gql(tn, `{ published { students(first: 1) { totalCount } } }`);
    expect(n1.body.data).toEqual({ published: { students: { totalCount: cur.students.length } } });
    expect(n2.body.data).toEqual(n1.body.data);
    expect(cached(n2)).toBe(true);
  });

  it('the current snapshot and a past one are different answers, each cached on its own', async () => {
    const d = h.fx.district;
    const [past, cur] = d.snapshots as [FxSnapshot, FxSnapshot];
    const a = d.teachers[1]!;
    const ta = await h.token({ role: 'teacher', staffId: a.staff_unique_id });
    const expectPast = teacherStudents(d, a.staff_key, past);
    const expectCur = teacherStudents(d, a.staff_key, cur);
    expect(expectPast).not.toEqual(expectCur);
    for (const round of [1, 2]) {
      const rc = await h.gql(ta, Q);
      const rp = await h.gql(ta, Q, { s: String(past.id) });
      const rAsOf = await h.gql(ta, `{ published(asOf: "${past.publishedAt.slice(0, 10)}") { snapshot { id } students(first: 100) { totalCount edges { node { key } } } } }`);
      expect(keysOf(rc)).toEqual(expectCur);
      expect(keysOf(rp)).toEqual(expectPast);
      expect(keysOf(rAsOf)).toEqual(expectPast);
      expect(rp.body.extensions?.snapshots?.map((s) => s.id)).toEqual([String(past.id)]);
      expect(rAsOf.body.extensions?.snapshots?.map((s) => s.id)).toEqual([String(past.id)]);
      expect(rc.body.extensions?.snapshots?.map((s) => s.id)).toEqual([String(cur.id)]);
      if (round === 2) for (const r of [rc, rp, rAsOf]) expect(cached(r)).toBe(true);
    }
  });

  it('a cached answer is never given to a missing, tampered or expired token', async () => {
    const a = h.fx.district.teachers[0]!;
    const ta = await h.token({ role: 'teacher', staffId: a.staff_unique_id });
    expect(keysOf(await h.gql(ta, Q)).size).toBeGreaterThan(0);
    expect(cached(await h.gql(ta, Q))).toBe(true);
    const [hd, pl, sg] = ta.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(pl, 'base64url').toString()) as Record<string, unknown>;
    const tampered = `${hd}.${Buffer.from(JSON.stringify({ ...claims, sub: 'x' })).toString('base64url')}.${sg}`;
    const expired = await h.token({ role: 'teacher', staffId: a.staff_unique_id, ttlSeconds: -3600 });
    for (const [name, tok] of [['none', null], ['tampered', tampered], ['expired', expired]] as const) {
      const r = await h.gql(tok, Q);
      expect(r.status, name).toBe(401);
      expect(r.body.data ?? null, name).toBeNull();
    }
  });
});

describe('response cache across tenants', () => {
  it('callers of two tenants with the same role, staff ID and query text each get their own tenant, cached or not', async () => {
    const B = 'edfi-255901';
    const fx = await buildFixture({ district: mergeDistricts(buildDistrict({ tenant: TENANT }), buildDistrict({ tenant: B, schools: 2, studentsPerSchool: 40, seed: 11 })) });
    const ht = await harness({ fixture: fx });
    try {
      const d = fx.district;
      const cur = d.snapshots[1] as FxSnapshot;
      const ofTenant = (t: string) => new Set(cur.students.filter((s) => s.tenant === t).map((s) => s.student_key));
      const count = `{ published { students(first: 1) { totalCount } } }`;
      const analysts: Record<string, string> = { [TENANT]: await ht.token({ role: 'data_analyst', tenant: TENANT }), [B]: await ht.token({ role: 'data_analyst', tenant: B }) };
      // a teacher's staff ID that exists in both tenants
      const shared = d.staff.filter((s) => s.staff_unique_id === 'T11');
      expect(shared.map((s) => s.tenant).sort()).toEqual([TENANT, B].sort());
      for (const round of [1, 2]) {
        for (const t of [TENANT, B]) {
          const r = await ht.gql(analysts[t] as string, count);
          expect(r.body.data, `${t}, round ${round}`).toEqual({ published: { students: { totalCount: ofTenant(t).size } } });
          expect(cached(r)).toBe(round === 2);
          const staff = shared.find((s) => s.tenant === t)!;
          const tt = await ht.token({ role: 'teacher', staffId: 'T11', tenant: t });
          const rt = await ht.gql(tt, Q);
          expect(keysOf(rt), `teacher T11 of ${t}, round ${round}`).toEqual(teacherStudents(d, staff.staff_key, cur));
          expect(cached(rt)).toBe(round === 2);
        }
      }
    } finally {
      await ht.close();
      await fx.source.close();
      rmSync(path.dirname(fx.identityFile), { recursive: true, force: true });
    }
  });
});

describe('fast path', () => {
  it('an answer first cached under another Accept header is stored for the fast path at its next repeat', async () => {
    const d = h.fx.district;
    const cur = d.snapshots[1] as FxSnapshot;
    const t = d.teachers[2]!;
    const tok = await h.token({ role: 'teacher', staffId: t.staff_unique_id });
    const query = `{ published { students(first: 100) { totalCount edges { node { key } } } } }`;
    const expected = teacherStudents(d, t.staff_key, cur);
    const hitsLogged = () => h.logs.filter((e) => e.msg === 'graphql request' && e['response_cache'] === 'hit').length;
    // 1: executed (stored under the parsed document and under the raw text with the default Accept)
    const first = await h.gql(tok, query);
    expect(keysOf(first)).toEqual(expected);
    expect(cached(first)).toBe(false);
    // 2: another Accept header: the fast path has no entry for it, graphql-yoga's path answers from
    // the parsed document's entry; 3 and 4: the same request again must now be fast-path hits
    const accept = { accept: 'application/graphql-response+json' };
    const before = hitsLogged();
    const second = await h.gql(tok, query, undefined, accept);
    expect(keysOf(second)).toEqual(expected);
    expect(hitsLogged()).toBe(before);
    for (const round of [3, 4]) {
      const again = await h.gql(tok, query, undefined, accept);
      expect(keysOf(again), `call ${round}`).toEqual(expected);
      expect(cached(again), `call ${round}`).toBe(true);
    }
    expect(hitsLogged()).toBe(before + 2);
  });
});

describe('token cache', () => {
  it('a verified token is honoured until it expires, not after', async () => {
    const cfg = { ...h.config, jwtClockTolerance: 0 };
    const verifier = createVerifier(cfg);
    const tok = await mintToken(cfg, { role: 'data_analyst', ttlSeconds: 1 });
    const exp = (JSON.parse(Buffer.from(tok.split('.')[1] as string, 'base64url').toString()) as { exp: number }).exp;
    expect((await verifier.verify(tok)).role).toBe('data_analyst');
    expect((await verifier.verify(tok)).role).toBe('data_analyst'); // from the cache
    await new Promise((r) => setTimeout(r, Math.max(0, exp * 1000 - Date.now()) + 50));
    await expect(verifier.verify(tok)).rejects.toThrow(/expired/);
  });
});

describe('POST bodies', () => {
  const url = 'http://edlake.test/graphql';
  const body = JSON.stringify({ query: `{ published { students(first: 1) { totalCount } } }` });

  it('a POST must carry JSON: text/plain, form-encoded and missing content types get 415 with a clear message', async () => {
    const tok = await h.token({ role: 'data_analyst' });
    for (const ct of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', null]) {
      const headers: Record<string, string> = { authorization: `Bearer ${tok}` };
      if (ct !== null) headers['content-type'] = ct;
      const res = await h.app.fetch(new Request(url, { method: 'POST', headers, body: ct === null ? new Blob([body]) : body }));
      expect(res.status, String(ct)).toBe(415);
      const j = (await res.json()) as { errors: Array<{ message: string }> };
      expect(j.errors[0]?.message, String(ct)).toMatch(/application\/json/);
    }
    for (const ct of ['application/json', 'application/json; charset=utf-8', 'application/graphql-response+json']) {
      const res = await h.app.fetch(new Request(url, { method: 'POST', headers: { authorization: `Bearer ${tok}`, 'content-type': ct }, body }));
      expect(res.status, ct).toBe(200);
    }
    // GET stays (GraphiQL, links, persisted use)
    const get = await h.app.fetch(new Request(`${url}?query=${encodeURIComponent('{ published { students(first: 1) { totalCount } } }')}`, { headers: { authorization: `Bearer ${tok}` } }));
    expect(get.status).toBe(200);
    expect(((await get.json()) as { data: unknown }).data).toEqual({ published: { students: { totalCount: h.fx.district.snapshots[1]?.students.length } } });
  });
});
