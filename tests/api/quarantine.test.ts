/**
 * The quarantine for data engineers (decision 0608), over a real lake: a generated district with
 * injected defects, two pipeline runs (two snapshots). The oracle is the working database's
 * quarantine store and the identity store, read directly by the test: every quarantined row comes
 * back with its file, row, field, rule and run; values of PII fields are withheld and no name,
 * birth date, e-mail or student ID from the quarantine or the identity store reaches the API; each
 * snapshot shows the quarantine as of its own run; every other role gets FORBIDDEN and no data.
 */
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generate } from '../../seeds/generator/generate.ts';
import { loadConfig, type Config } from '../../src/config.ts';
import { runNightly, type PublishStageRecord } from '../../pipeline/nightly.ts';
import { quarantineFile } from '../../pipeline/publish/quarantine.ts';
import { mintToken, type MintOptions } from '../../src/auth/jwt.ts';
import { buildApp, type App } from '../../src/server/app.ts';
import { CatalogSnapshotSource } from '../../src/server/catalog-source.ts';
import { IdentityStore } from '../../resolvers/identity.ts';
import { clearQueryCache } from '../../resolvers/runner.ts';
import { pickDemoStaff } from '../../src/demo.ts';
import { Db } from '../../src/db/duckdb.ts';

interface StoreRow { run_id: string; path: string; row_number: number | null; source: string; entity: string | null; field: string | null; rule: string; value: string | null }
interface ApiRow { runId: string; file: string; rowNumber: number | null; source: string; entity: string | null; field: string | null; rule: string; reason: string | null; value: string | null; valueRedacted: boolean; piiClass: string; deliveryDate: string | null; deliveredAt: string | null }

const dir = mkdtempSync(join(tmpdir(), 'edlake-quarantine-'));
const out = join(dir, 'district');
const lake = join(dir, 'lake');
let config: Config;
let app: App;
let source: CatalogSnapshotSource;
let store: StoreRow[] = [];
let pii: string[] = [];
let snaps: number[] = [];
let runOf: string[] = [];

async function readOnly<T>(file: string, sql: string): Promise<T[]> {
  const inst = await DuckDBInstance.create(file, { access_mode: 'READ_ONLY' });
  const db = new Db(await inst.connect());
  try {
    return (await db.all(sql)) as T[];
  } finally {
    db.close();
    inst.closeSync();
  }
}

beforeAll(async () => {
  config = loadConfig({ landing: join(out, 'landing'), lake }, { EDLAKE_PII_KEY: 'quarantine-test-key-0123456789abcdef', EDLAKE_JWT_SECRET: 'quarantine-test-jwt-secret-0123456789ab', EDLAKE_PIPELINE_MEMORY: '2GB' });
  for (const through of ['2025-08-15', '2025-09-05']) {
    await generate({ students: 120, seed: 9, out, schoolYear: 2026, through, messiness: 'realistic' });
    const rec = await runNightly(config);
    expect(rec.status).toBe('succeeded');
    const p = rec.stages['publish'] as PublishStageRecord;
    expect(p.published).toBe(true);
    snaps.push(p.snapshotId as number);
    runOf.push(rec.runId);
  }
  store = await readOnly<StoreRow>(join(lake, 'work.duckdb'), `SELECT run_id, path, row_number, source, entity, field, rule, value FROM quarantine.rows`);
  // every identity fact of the district: none may reach the API through the quarantine
  const people = await readOnly<Record<string, string | null>>(join(lake, 'identity', 'identity.duckdb'),
    `SELECT natural_id, state_id, first_name, last_name, birth_date, email, phone FROM persons`);
  pii = [...new Set(people.flatMap((p) => Object.values(p)).filter((v): v is string => typeof v === 'string' && v.length >= 4))];
  clearQueryCache();
  source = new CatalogSnapshotSource({ lake, timezone: config.timezone, poolSize: 2, threads: 1 });
  app = buildApp({ config, source, identity: IdentityStore.forLake(lake, config.tenant), lake, log: () => {} });
}, 600_000);
afterAll(async () => {
  await source?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function gql(o: MintOptions, query: string, variables?: Record<string, unknown>) {
  const token = await mintToken(config, o);
  const r = await app.fetch(new Request('http://t/graphql', { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ query, variables }) }));
  return { status: r.status, ...((await r.json()) as { data?: { published?: { quarantine: { totalCount: number; pageInfo: { hasNextPage: boolean; endCursor: string | null }; edges: Array<{ node: ApiRow }> } | null } | null }; errors?: Array<{ message: string; extensions?: { code?: string } }> }) };
}

const FIELDS = 'runId file rowNumber source entity field rule reason value valueRedacted piiClass deliveryDate deliveredAt';

/** Every quarantined row an engineer gets, page by page, with optional filters. */
async function allRows(args = '', sel = ''): Promise<{ rows: ApiRow[]; text: string }> {
  const rows: ApiRow[] = [];
  let text = '';
  let after: string | null = null;
  for (;;) {
    const r = await gql({ role: 'data_engineer' }, `query($after: String) { published${sel} { quarantine(first: 100, after: $after${args}) { totalCount pageInfo { hasNextPage endCursor } edges { node { ${FIELDS} } } } } }`, { after });
    expect(r.errors).toBeUndefined();
    text += JSON.stringify(r);
    const q = r.data?.published?.quarantine;
    expect(q).toBeTruthy();
    rows.push(...q!.edges.map((e) => e.node));
    if (!q!.pageInfo.hasNextPage) {
      expect(rows.length).toBe(q!.totalCount);
      return { rows, text };
    }
    after = q!.pageInfo.endCursor;
  }
}

const id = (r: { file: string; rowNumber: number | null; field: string | null; rule: string; runId: string }) => JSON.stringify([r.file, r.rowNumber, r.field, r.rule, r.runId]);
const storeId = (s: StoreRow) => id({ file: s.path, rowNumber: s.row_number, field: s.field, rule: s.rule, runId: s.run_id });
/** Fields whose values are personal by construction: identity feeds and unknown student IDs. */
const personal = (s: { entity: string | null; rule: string }) => s.entity === 'identity' || s.rule === 'unknown_student';

describe('quarantine (data engineers)', () => {
  it('serves every quarantined row with file, row, field, rule and run, PII values withheld', async () => {
    // the district has defects of both kinds, or the test would prove nothing
    expect(store.length).toBeGreaterThan(3);
    expect(store.some((s) => personal(s) && s.value !== null)).toBe(true);
    expect(store.some((s) => !personal(s) && s.value !== null)).toBe(true);
    const { rows, text } = await allRows();
    expect(rows.map(id).sort()).toEqual(store.map(storeId).sort());
    const byId = new Map(store.map((s) => [storeId(s), s]));
    for (const r of rows) {
      const s = byId.get(id(r))!;
      expect(r.source).toBe(s.source);
      expect(r.entity).toBe(s.entity);
      expect(r.deliveredAt).toMatch(/^\d{4}-\d\d-\d\dT/);
      expect(r.deliveryDate).toMatch(/^\d{4}-\d\d-\d\d$/);
      if (personal(s)) {
        expect(r.value).toBeNull();
        expect(r.valueRedacted).toBe(s.value !== null);
        expect(['key', 'direct']).toContain(r.piiClass);
      } else if (r.valueRedacted) {
        expect(r.value).toBeNull();
        expect(['key', 'direct', 'unknown']).toContain(r.piiClass);
      } else {
        expect(r.value).toBe(s.value);
        expect(['none', 'quasi']).toContain(r.piiClass);
      }
    }
    // no personal value of the quarantine, and no identity fact, anywhere in the answers
    for (const s of store) if (personal(s) && s.value !== null) expect(text.includes(s.value), `${s.rule} ${s.field}`).toBe(false);
    for (const p of pii) expect(text.includes(`"${p}"`), 'an identity fact reached the API').toBe(false);
    // the file itself holds no withheld value either, and only its owner may read it
    const file = quarantineFile(lake, snaps[1]!);
    expect(statSync(file).mode & 0o077).toBe(0);
    const inst = await DuckDBInstance.create(':memory:');
    const mem = new Db(await inst.connect());
    const inFile = (await mem.all(`SELECT value FROM read_parquet('${file.replaceAll("'", "''")}')`)) as Array<{ value: string | null }>;
    mem.close();
    inst.closeSync();
    expect(inFile.length).toBe(store.length);
    const kept = new Set(inFile.map((x) => x.value));
    for (const s of store) if (personal(s) && s.value !== null) expect(kept.has(s.value)).toBe(false);
  });

  it('filters by source, rule, run and file, in SQL, and pages', async () => {
    const rules = [...new Set(store.map((s) => s.rule))];
    for (const rule of rules) {
      const { rows } = await allRows(', rule: $rule'.replace('$rule', JSON.stringify(rule)));
      expect(rows.length).toBe(store.filter((s) => s.rule === rule).length);
    }
    const src = store[0]!.source;
    expect((await allRows(`, source: ${JSON.stringify(src)}`)).rows.length).toBe(store.filter((s) => s.source === src).length);
    const f = store[0]!.path;
    expect((await allRows(`, file: ${JSON.stringify(f)}`)).rows.length).toBe(store.filter((s) => s.path === f).length);
    for (const run of runOf) expect((await allRows(`, runId: ${JSON.stringify(run)}`)).rows.length).toBe(store.filter((s) => s.run_id === run).length);
    // a filter value is data, never SQL
    expect((await allRows(`, source: ${JSON.stringify("x' OR 1=1 --")}`)).rows.length).toBe(0);
  });

  it('answers as of a snapshot: the first snapshot shows the first run’s quarantine only', async () => {
    const first = store.filter((s) => s.run_id === runOf[0]);
    const { rows } = await allRows('', `(snapshotId: "${snaps[0]}")`);
    expect(rows.map(id).sort()).toEqual(first.map(storeId).sort());
    expect(store.length).toBeGreaterThan(first.length);
    // a snapshot without a quarantine file (published before they existed) answers null
    rmSync(quarantineFile(lake, snaps[0]!));
    expect(existsSync(quarantineFile(lake, snaps[0]!))).toBe(false);
    const r = await gql({ role: 'data_engineer' }, `{ published(snapshotId: "${snaps[0]}") { quarantine(first: 1) { totalCount } } }`);
    expect(r.errors).toBeUndefined();
    expect(r.data?.published?.quarantine).toBeNull();
  });

  it('every other role: FORBIDDEN, no data', async () => {
    const staff = pickDemoStaff(out);
    expect(staff).toBeDefined();
    const others: MintOptions[] = [
      { role: 'data_analyst' }, { role: 'data_steward' }, { role: 'auditor' },
      { role: 'principal', staffId: staff!.principalId }, { role: 'teacher', staffId: staff!.teacherId },
    ];
    for (const o of others) {
      const r = await gql(o, `{ published { quarantine(first: 100) { totalCount edges { node { ${FIELDS} } } } } }`);
      expect(r.errors?.map((e) => e.extensions?.code), o.role).toEqual(['FORBIDDEN']);
      expect(r.data?.published?.quarantine ?? null).toBeNull();
    }
  });
});
