/**
 * End to end through the real pipeline: a generated district, `edlake pipeline run` on two nights
 * (each a separate process), then time travel, verify and a plain-DuckDB read of the snapshot.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuckDBInstance } from '@duckdb/node-api';
import { openSnapshot, readCurrent, verifyCatalog, type Manifest } from '../../src/catalog/index.ts';

const CLI = path.resolve('src/cli.ts');
const KEY = 'e2e-test-key-0123456789abcdef0123456789';

function edlake(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], { env: { ...process.env, EDLAKE_PII_KEY: KEY, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    c.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    c.on('error', reject);
    c.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const ORDER = 'order by student_key';

describe('two nightly runs of the real pipeline', () => {
  let dir: string;
  let lake: string;
  let night1: Array<Record<string, unknown>>;
  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'edlake-e2e-'));
    lake = path.join(dir, 'lake');
    const gen = (through: string) => edlake(['generate', '--students', '150', '--seed', '11', '--out', path.join(dir, 'd'), '--through', through, '--quiet']);
    const run = (at: string) =>
      edlake(['pipeline', 'run', '--landing', path.join(dir, 'd', 'landing'), '--lake', lake, '--quiet'], { EDLAKE_TEST_PUBLISH_TIME: at });
    let r = await gen('2025-10-01');
    expect(r.code, r.stderr).toBe(0);
    // Night 1 publishes at 02:00 PDT on 2 October, night 2 at 02:00 PDT on 4 October.
    r = await run('2025-10-02T09:00:00Z');
    expect(r.code, r.stderr).toBe(0);
    const h = await openSnapshot(lake);
    night1 = await h.db.all(`select * from marts.v_chronic_absenteeism_risk ${ORDER}`);
    h.close();
    r = await gen('2025-10-03');
    expect(r.code, r.stderr).toBe(0);
    r = await run('2025-10-04T09:00:00Z');
    expect(r.code, r.stderr).toBe(0);
  }, 600_000);
  afterAll(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it("gives two snapshots; the first night's date answers with the first night's numbers", async () => {
    expect((await readCurrent(lake))?.snapshot_id).toBe(2);
    const then = await openSnapshot(lake, { asOf: '2025-10-02', timezone: 'America/Los_Angeles' });
    expect(then.snapshotId).toBe(1);
    expect(await then.db.all(`select * from marts.v_chronic_absenteeism_risk ${ORDER}`)).toEqual(night1);
    const now = await openSnapshot(lake, { asOf: '2025-10-04', timezone: 'America/Los_Angeles' });
    expect(now.snapshotId).toBe(2);
    const enrolled = async (db: typeof now.db) => Number(await db.scalar('select sum(days_enrolled) from marts.v_chronic_absenteeism_risk'));
    // Two more school days were delivered: the second night counts more enrolled days.
    expect(await enrolled(now.db)).toBeGreaterThan(await enrolled(then.db));
    expect(then.manifest.data_through).toBe('2025-10-01');
    expect(now.manifest.data_through).toBe('2025-10-03');
    then.close();
    now.close();
    await expect(openSnapshot(lake, { asOf: '2025-10-01', timezone: 'America/Los_Angeles' })).rejects.toMatchObject({ code: 'BEFORE_FIRST_SNAPSHOT' });
  });

  it('shares unchanged files, verifies clean, and keeps the dictionary in the manifest', async () => {
    const v = await verifyCatalog(lake);
    expect(v.errors).toEqual([]);
    const m1 = JSON.parse(await fs.readFile(path.join(lake, 'snapshots', 'manifests', '1.json'), 'utf8')) as Manifest;
    const m2 = JSON.parse(await fs.readFile(path.join(lake, 'snapshots', 'manifests', '2.json'), 'utf8')) as Manifest;
    const files = (m: Manifest) => new Set(m.tables.flatMap((t) => t.files.map((f) => f.path)));
    const shared = [...files(m2)].filter((f) => files(m1).has(f));
    expect(shared.length).toBeGreaterThan(0);
    expect(v.filesChecked).toBe(new Set([...files(m1), ...files(m2)]).size);
    const views = ['v_chronic_absenteeism_risk', 'v_wellbeing_risk_profiles', 'v_equity_outcomes', 'v_class_section_comparison', 'v_performance_correlations'];
    for (const name of views) expect(m2.tables.some((t) => t.schema === 'marts' && t.name === name)).toBe(true);
    const dict = m2.dictionary as { models: Array<{ name: string; published: boolean }> };
    expect(dict.models.filter((m) => m.published).map((m) => m.name).sort()).toEqual([...views].sort());
  });

  it("reads the snapshot's Parquet files with plain DuckDB and gets the reader's rows", async () => {
    const root = path.join(lake, 'snapshots');
    const cur = JSON.parse(await fs.readFile(path.join(root, 'CURRENT'), 'utf8')) as { manifest: string };
    const m = JSON.parse(await fs.readFile(path.join(root, cur.manifest), 'utf8')) as Manifest;
    const t = m.tables.find((x) => x.schema === 'marts' && x.name === 'v_equity_outcomes')!;
    const list = t.files.map((f) => `'${path.join(root, f.path).replaceAll("'", "''")}'`).join(', ');
    const conn = await (await DuckDBInstance.create(':memory:')).connect();
    // Whole rows, each rendered as JSON text by DuckDB itself, in a fixed order.
    const plain = (await conn.runAndReadAll(`select to_json(t)::varchar as j from read_parquet([${list}]) t order by j`)).getRowObjectsJson().map((r) => r['j']);
    conn.closeSync();
    const h = await openSnapshot(lake);
    const viaReader = (await h.db.all<{ j: string }>('select to_json(t)::varchar as j from marts.v_equity_outcomes t order by j')).map((r) => r.j);
    h.close();
    expect(plain).toEqual(viaReader);
    expect(viaReader.length).toBe(t.row_count);
    expect(viaReader.length).toBeGreaterThan(0);
  });
});
