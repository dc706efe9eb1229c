import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Db } from '../../src/db/duckdb.ts';
import { layout, readManifest, writeSnapshot } from '../../src/catalog/index.ts';
import { buildNight, TABLES } from './fixture.ts';
import { acquireLakeLock } from '../../pipeline/lock.ts';

const CLI = path.resolve('src/cli.ts');

function edlake(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    c.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    c.on('error', reject);
    c.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('edlake snapshots and runs commands', () => {
  let lake: string;
  beforeAll(async () => {
    lake = await fs.mkdtemp(path.join(os.tmpdir(), 'edlake-cli-'));
    const db = await Db.open(':memory:');
    for (const night of [1, 2]) {
      await buildNight(db, night);
      await writeSnapshot({
        lake, db, tables: TABLES, runId: `run-${night}`, dataThrough: `2026-03-0${night}`, sourceFiles: [], dataTests: null,
        modelVersions: { prediction: 'v1' }, dictionary: null, timezone: 'America/Los_Angeles', now: new Date(`2026-03-0${night + 2}T10:00:00Z`),
      });
    }
    db.close();
    await fs.mkdir(path.join(lake, 'runs'));
    // Records shaped as pipeline/run.ts writes them (RunRecord), abridged.
    await fs.writeFile(path.join(lake, 'runs', 'run-1.json'), JSON.stringify({ runId: 'run-1', status: 'succeeded', startedAt: '2026-03-03T09:58:00Z', finishedAt: '2026-03-03T10:00:00Z', files: [{}, {}], stages: { publish: { published: true, snapshotId: 1 } } }));
    await fs.writeFile(path.join(lake, 'runs', 'run-2.json'), JSON.stringify({ runId: 'run-2', status: 'succeeded', startedAt: '2026-03-04T09:58:00Z', finishedAt: '2026-03-04T09:59:01Z', files: [], stages: { publish: { published: false, reason: 'a data test of severity error failed' } } }));
    await fs.writeFile(path.join(lake, 'runs', 'run-0.json'), JSON.stringify({ runId: 'run-0', status: 'failed', error: 'the lake is locked', startedAt: '2026-03-02T09:58:00Z', files: [] }));
    await fs.writeFile(path.join(lake, 'runs', 'run-3.json'), '{ not json');
  });
  afterAll(async () => {
    await fs.rm(lake, { recursive: true, force: true });
  });

  it('lists, shows (by id and by date) and verifies', async () => {
    const [list, show, byDate, verify, json] = await Promise.all([
      edlake(['snapshots', 'list', '--lake', lake]),
      edlake(['snapshots', 'show', '1', '--lake', lake]),
      edlake(['snapshots', 'show', '2026-03-03', '--lake', lake, '--json']),
      edlake(['snapshots', 'verify', '--lake', lake]),
      edlake(['snapshots', 'list', '--lake', lake, '--json']),
    ]);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toMatch(/^\s+1\s+2026-03-03 02:00 PST\s+2026-03-01\s+run-1/m);
    expect(list.stdout).toMatch(/^\*\s+2\s+2026-03-04 02:00 PST\s+2026-03-02\s+run-2/m);
    expect(show.stdout).toMatch(/marts\.v_equity_outcomes\s+published\s+12/);
    expect(show.stdout).toMatch(/refined\.students\s+refined\s+60/);
    expect(JSON.parse(byDate.stdout).snapshot_id).toBe(1);
    expect(verify.code).toBe(0);
    expect(verify.stdout).toMatch(/^ok: 2 snapshots, 4 files/m);
    expect(JSON.parse(json.stdout).current).toBe(2);
  });

  it('refuses a date before the first snapshot and a bad argument, clearly', async () => {
    const [early, bad] = await Promise.all([
      edlake(['snapshots', 'show', '2026-03-01', '--lake', lake]),
      edlake(['snapshots', 'show', 'yesterday', '--lake', lake]),
    ]);
    expect(early.code).toBe(1);
    expect(early.stderr).toMatch(/no snapshot was published on or before 2026-03-01 in America\/Los_Angeles/);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/expected a snapshot id .* or a date as YYYY-MM-DD, got "yesterday"/);
  });

  it('lists the run log, newest first, naming an unreadable record', async () => {
    const r = await edlake(['pipeline', 'runs', '--lake', lake]);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[1]).toMatch(/^run-2\s+2026-03-04 01:58 PST\s+blocked: a data test of severity error failed\s+61\.0 s\s+0\s+-$/);
    expect(lines[2]).toMatch(/^run-1\s+2026-03-03 01:58 PST\s+succeeded\s+120\.0 s\s+2\s+1$/);
    expect(lines[3]).toMatch(/^run-0\s+2026-03-02 01:58 PST\s+failed: the lake is locked\s+-\s+0\s+-$/);
    expect(lines[4]).toMatch(/^run-3\s+-\s+unreadable: .*run-3\.json/);
  });

  it('verify exits 1 naming the altered file; expire keeps what is needed', async () => {
    const copy = await fs.mkdtemp(path.join(os.tmpdir(), 'edlake-cli-alt-'));
    await fs.cp(lake, copy, { recursive: true });
    const m = (await readManifest(copy, 2))!.manifest;
    const f = m.tables.find((t) => t.name === 'v_equity_outcomes')!.files[0]!.path;
    const abs = layout(copy).abs(f);
    const b = await fs.readFile(abs);
    b[100] = b[100]! ^ 0xff;
    await fs.writeFile(abs, b);
    const v = await edlake(['snapshots', 'verify', '--lake', copy]);
    expect(v.code).toBe(1);
    expect(v.stdout).toContain(`ALTERED ${f} (snapshot 2): data file altered`);
    const e = await edlake(['snapshots', 'expire', '--keep-days', '0', '--lake', lake]);
    expect(e.code, e.stderr).toBe(0);
    expect(e.stdout).toMatch(/removed snapshots \[1\], kept \[2\]; removed 2 files/);
    const bad = await edlake(['snapshots', 'expire', '--keep-days', 'ten', '--lake', lake]);
    expect(bad.code).toBe(2);
    // While another process holds the lake (a pipeline run), expire refuses and removes nothing.
    const lock = acquireLakeLock(copy, 'pipeline run');
    const locked = await edlake(['snapshots', 'expire', '--keep-days', '0', '--lake', copy]);
    lock.release();
    expect(locked.code).toBe(3);
    expect(locked.stderr).toMatch(new RegExp(`the lake is locked by process ${process.pid} .*pipeline run`));
    expect((await readManifest(copy, 1))?.manifest.snapshot_id).toBe(1);
    await fs.rm(copy, { recursive: true, force: true });
  });
});
