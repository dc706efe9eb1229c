import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Db } from '../../src/db/duckdb.ts';
import { expireSnapshots, openSnapshot, PUBLISH_STEPS, readCurrent, verifyCatalog, writeSnapshot } from '../../src/catalog/index.ts';
import { buildNight, equityRows, sortEquity, TABLES } from '../catalog/fixture.ts';

const CHILD = path.join(import.meta.dirname, 'fixtures', 'publish-child.ts');

function runChild(lake: string, night: number, crashAt?: string): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = { ...process.env };
    delete env['EDLAKE_TEST_CRASH_AT'];
    if (crashAt) env['EDLAKE_TEST_CRASH_AT'] = crashAt;
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, lake, String(night), '2026-03-04T10:00:00Z'], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve({ code, signal, stderr }));
  });
}

describe('a publish killed at any step', () => {
  let base: string;
  beforeAll(async () => {
    base = await fs.mkdtemp(path.join(os.tmpdir(), 'edlake-crash-base-'));
    const db = await Db.open(':memory:');
    await buildNight(db, 1);
    await writeSnapshot({
      lake: base,
      db,
      tables: TABLES,
      runId: 'run-1',
      dataThrough: '2026-03-01',
      sourceFiles: [],
      dataTests: null,
      modelVersions: {},
      dictionary: null,
      timezone: 'America/Los_Angeles',
      now: new Date('2026-03-03T10:00:00Z'),
    });
    db.close();
  });
  afterAll(async () => {
    await fs.rm(base, { recursive: true, force: true });
  });

  const beforeRename = PUBLISH_STEPS.filter((s) => s !== 'current-placed');
  it.each(beforeRename)('killed at %s: the previous snapshot stays current and verify is clean', async (step) => {
    const lake = await fs.mkdtemp(path.join(os.tmpdir(), `edlake-crash-${step}-`));
    await fs.cp(base, lake, { recursive: true });
    const r = await runChild(lake, 2, step);
    expect(r.signal, r.stderr).toBe('SIGKILL');
    expect((await readCurrent(lake))?.snapshot_id).toBe(1);
    const v = await verifyCatalog(lake);
    expect(v.errors).toEqual([]);
    expect(v.ok).toBe(true);
    // The left-overs are there (so the crash happened mid-publish), reported as notes, not errors.
    if (step !== 'begin') expect(v.notes.length).toBeGreaterThan(0);
    const h = await openSnapshot(lake);
    expect(h.snapshotId).toBe(1);
    expect(sortEquity(await h.db.all('select * from marts.v_equity_outcomes'))).toEqual(sortEquity(equityRows(1)));
    h.close();
    // The next run publishes normally over the left-overs, and expiry collects them.
    const ok = await runChild(lake, 2);
    expect(ok.code, ok.stderr).toBe(0);
    expect((await readCurrent(lake))?.snapshot_id).toBe(2);
    await expireSnapshots(lake, { keepDays: 3650, graceMs: 0, now: new Date('2026-03-05T00:00:00Z') });
    const v2 = await verifyCatalog(lake);
    expect(v2.errors).toEqual([]);
    expect(v2.notes).toEqual([]);
    const h2 = await openSnapshot(lake);
    expect(sortEquity(await h2.db.all('select * from marts.v_equity_outcomes'))).toEqual(sortEquity(equityRows(2)));
    h2.close();
    await fs.rm(lake, { recursive: true, force: true });
  });

  it('killed right after the pointer rename: the new snapshot is whole and current', async () => {
    const lake = await fs.mkdtemp(path.join(os.tmpdir(), 'edlake-crash-after-'));
    await fs.cp(base, lake, { recursive: true });
    const r = await runChild(lake, 2, 'current-placed');
    expect(r.signal, r.stderr).toBe('SIGKILL');
    expect((await readCurrent(lake))?.snapshot_id).toBe(2);
    const v = await verifyCatalog(lake);
    expect(v.ok).toBe(true);
    expect(v.notes).toEqual([]);
    await fs.rm(lake, { recursive: true, force: true });
  });
});
