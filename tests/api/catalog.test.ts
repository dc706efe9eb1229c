/** The API over a real lake: snapshots published by the catalog writer, read by the catalog reader. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Db } from '../../src/db/duckdb.ts';
import { writeSnapshot } from '../../src/catalog/index.ts';
import { loadConfig } from '../../src/config.ts';
import { mintToken } from '../../src/auth/jwt.ts';
import { buildApp, type App } from '../../src/server/app.ts';
import { CatalogSnapshotSource } from '../../src/server/catalog-source.ts';
import { IdentityStore } from '../../resolvers/identity.ts';
import { clearQueryCache } from '../../resolvers/runner.ts';
import { buildFixture, JWT_SECRET, PII_KEY, TENANT, teacherStudents, type Fixture, type FxSnapshot } from './fixture.ts';

let fx: Fixture;
let lake: string;
let app: App;
let source: CatalogSnapshotSource;
const config = loadConfig({}, { EDLAKE_JWT_SECRET: JWT_SECRET, EDLAKE_PII_KEY: PII_KEY, EDLAKE_TENANT: TENANT });

beforeAll(async () => {
  fx = await buildFixture();
  lake = mkdtempSync(path.join(tmpdir(), 'edlake-api-lake-'));
  for (const s of fx.instances) {
    const db = new Db(await s.instance.connect());
    const tables = await db.all<{ schema: string; name: string }>(`SELECT table_schema AS schema, table_name AS name FROM information_schema.tables WHERE table_schema IN ('marts', 'refined') ORDER BY 1, 2`);
    await writeSnapshot({
      lake, db, runId: s.info.runId ?? `run-${s.info.id}`, dataThrough: s.info.dataThrough, sourceFiles: [], dataTests: null, modelVersions: {},
      dictionary: { snapshot: s.info.id }, timezone: 'America/Los_Angeles', now: new Date(s.info.publishedAt),
      tables: tables.map((t) => ({ schema: t.schema, table: t.name, tier: t.schema === 'marts' ? ('published' as const) : ('refined' as const), sortKeys: t.name === 'fct_section_membership' ? ['school_key', 'section_key'] : [] })),
    });
    db.close();
  }
  clearQueryCache();
  source = new CatalogSnapshotSource({ lake, timezone: 'America/Los_Angeles', poolSize: 2, threads: 1 });
  app = buildApp({ config, source, identity: new IdentityStore(fx.identityFile, path.join(lake, 'audit', 'log.jsonl'), TENANT), lake, log: () => {} });
});
afterAll(async () => {
  await source.close();
  await fx.source.close();
  rmSync(lake, { recursive: true, force: true });
  rmSync(path.dirname(fx.identityFile), { recursive: true, force: true });
});

async function gql(token: string, query: string) {
  const r = await app.fetch(new Request('http://t/graphql', { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ query }) }));
  return (await r.json()) as { data?: Record<string, unknown>; errors?: Array<{ message: string; extensions?: { code?: string } }> };
}

describe('serving a lake', () => {
  it('lists the published snapshots, answers as of a date, and keeps each snapshot’s dictionary', async () => {
    const tok = await mintToken(config, { role: 'auditor' });
    const r = await gql(tok, `{ snapshots { id dataThrough } a: published(asOf: "2026-03-10") { snapshot { id } dataDictionary } b: published { snapshot { id } dataDictionary } }`);
    expect(r.errors).toBeUndefined();
    expect(r.data).toEqual({ snapshots: [{ id: '1', dataThrough: '2026-02-27' }, { id: '2', dataThrough: '2026-03-27' }], a: { snapshot: { id: '1' }, dataDictionary: { snapshot: 1 } }, b: { snapshot: { id: '2' }, dataDictionary: { snapshot: 2 } } });
    const before = await gql(tok, `{ published(asOf: "2026-01-01") { snapshot { id } } }`);
    expect(before.errors?.[0]?.extensions?.code).toBe('SNAPSHOT_NOT_FOUND');
  });

  it('a teacher sees exactly their students, now and in the past snapshot, with names now', async () => {
    const d = fx.district;
    for (const t of d.teachers.slice(0, 3)) {
      const tok = await mintToken(config, { role: 'teacher', staffId: t.staff_unique_id });
      for (const snap of d.snapshots as FxSnapshot[]) {
        const r = await gql(tok, `{ published(snapshotId: "${snap.id}") { sections(first: 10) { edges { node { students { key attendance { tier } } } } } students(first: 100) { totalCount edges { node { key } } } } }`);
        expect(r.errors).toBeUndefined();
        const p = r.data?.published as { sections: { edges: Array<{ node: { students: Array<{ key: string }> } }> }; students: { totalCount: number; edges: Array<{ node: { key: string } }> } };
        const expected = teacherStudents(d, t.staff_key, snap);
        expect(new Set(p.students.edges.map((e) => e.node.key))).toEqual(expected);
        expect(new Set(p.sections.edges.flatMap((e) => e.node.students.map((s) => s.key)))).toEqual(expected);
      }
    }
  });
});

describe('pipeline runs', () => {
  it('data engineers read the run log of the lake; others are refused', async () => {
    const { mkdirSync, writeFileSync } = await import('node:fs');
    mkdirSync(path.join(lake, 'runs'), { recursive: true });
    writeFileSync(path.join(lake, 'runs', '2026-03-28T09-00-00-000Z-abc.json'), JSON.stringify({ runId: '2026-03-28T09-00-00-000Z-abc', status: 'succeeded', startedAt: '2026-03-28T09:00:00.000Z', finishedAt: '2026-03-28T09:05:00.000Z', files: [{}, {}], stages: { publish: { snapshotId: 2 } } }));
    writeFileSync(path.join(lake, 'runs', 'broken.json'), '{ not json');
    const eng = await gql(await mintToken(config, { role: 'data_engineer' }), `{ pipelineRuns { runId status durationMs snapshotId files } }`);
    expect(eng.errors).toBeUndefined();
    const runs = eng.data?.pipelineRuns as Array<{ runId: string; status: string; durationMs: number | null; snapshotId: string | null; files: number | null }>;
    expect(runs).toContainEqual({ runId: '2026-03-28T09-00-00-000Z-abc', status: 'succeeded', durationMs: 300000, snapshotId: '2', files: 2 });
    expect(runs.find((r) => r.runId === 'broken')?.status).toBe('unreadable');
    const an = await gql(await mintToken(config, { role: 'data_analyst' }), `{ pipelineRuns { runId } }`);
    expect(an.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(an.data).toEqual({ pipelineRuns: null });
  });
});

describe('/docs', () => {
  it('serves the dictionary page of the current snapshot, or of the snapshot as of a date', async () => {
    const current = await app.fetch(new Request('http://t/docs'));
    expect(current.status).toBe(200);
    expect(current.headers.get('content-type')).toMatch(/text\/html/);
    expect(await current.text()).toMatch(/Snapshot 2\b/);
    const past = await app.fetch(new Request('http://t/docs?asOf=2026-03-10'));
    expect(await past.text()).toMatch(/Snapshot 1\b/);
    expect((await app.fetch(new Request('http://t/docs?asOf=2026-01-01'))).status).toBe(404);
    expect((await app.fetch(new Request('http://t/docs?asOf=1%27%3B%20drop'))).status).toBe(400);
    expect((await app.fetch(new Request('http://t/docs?snapshot=-1'))).status).toBe(400);
  });

  it('asks for a valid token in production', async () => {
    const prod = buildApp({ config: { ...config, apiProduction: true }, source, lake, log: () => {} });
    expect((await prod.fetch(new Request('http://t/docs'))).status).toBe(401);
    expect((await prod.fetch(new Request('http://t/docs', { headers: { authorization: 'Bearer not.a.token' } }))).status).toBe(401);
    const tok = await mintToken(config, { role: 'teacher', staffId: 'nobody' });
    const ok = await prod.fetch(new Request('http://t/docs', { headers: { authorization: `Bearer ${tok}` } }));
    expect(ok.status).toBe(200);
  });
});
