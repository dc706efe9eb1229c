/**
 * Faults during pipeline runs on one lake, with an API process serving it throughout (one lake, the
 * faults in sequence, so that one successful run after them shows recovery from all of them): a run
 * killed with SIGKILL from outside early in the run, a run killed inside publishing, a full disk on
 * the lake folder (the lake lives on a tmpfs, shrunk to what it holds plus the run's working copy),
 * then room again and a run that succeeds, then two runs started at once. After each fault: the
 * previous snapshot keeps serving, every file every manifest names is whole (`verifyCatalog`, what
 * `edlake snapshots verify` runs), the serving file is whole and names the current snapshot, and the
 * lock is released or left by a dead process (which the next run takes over).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuckDBInstance } from '@duckdb/node-api';
import { readCurrent, verifyCatalog } from '../../src/catalog/index.ts';
import { acquireLakeLock, lockPath, pidAlive } from '../../pipeline/lock.ts';
import { cleanStaleStaging } from '../../pipeline/workdb.ts';
import { ANALYST_QUERY, edlake, gql, lakeCopy, serve, sharedDistrict, SnapshotOracle, spawnEdlake, token, type AnalystAnswer, type District, type Served } from './lib.ts';

/** Everything a reader relies on, after a fault: current snapshot, whole files, serving file, API answer. */
async function checkLake(lake: string, expectSnapshot: number, server: Served | undefined, bearer: string): Promise<void> {
  expect((await readCurrent(lake))?.snapshot_id).toBe(expectSnapshot);
  const v = await verifyCatalog(lake);
  expect(v.errors).toEqual([]);
  const inst = await DuckDBInstance.create(path.join(lake, 'serving', 'current.duckdb'), { access_mode: 'READ_ONLY' });
  const c = await inst.connect();
  const id = (await c.runAndReadAll('select snapshot_id from edlake_snapshot')).getRowObjectsJson()[0]?.['snapshot_id'];
  const n = (await c.runAndReadAll('select count(*)::integer n from marts.v_chronic_absenteeism_risk')).getRowObjectsJson()[0]?.['n'];
  c.closeSync();
  inst.closeSync();
  expect(id).toBe(expectSnapshot);
  expect(n).toBeGreaterThan(0);
  if (server) {
    const r = await gql(server.port, bearer, ANALYST_QUERY);
    expect(r.status).toBe(200);
    expect(r.body.errors).toBeUndefined();
    const a = (r.body.data as { published: AnalystAnswer }).published;
    expect(Number(a.snapshot.id)).toBe(expectSnapshot);
    expect(await new SnapshotOracle(lake).check(a)).toEqual([]);
  }
}

/** The lock is free, or held by a process that no longer exists (the next run takes it over). */
function lockReleasedOrStale(lake: string): void {
  const p = lockPath(lake);
  if (!fs.existsSync(p)) return;
  const holder = JSON.parse(fs.readFileSync(p, 'utf8')) as { pid: number; host: string };
  expect(holder.host).toBe(os.hostname());
  expect(pidAlive(holder.pid)).toBe(false);
}

describe('pipeline faults while the API serves', () => {
  let dir: string;
  let mnt: string;
  let mounted = false;
  let lake: string;
  let district: District;
  let bearer: string;
  let server: Served;
  let args: string[];
  beforeAll(async () => {
    district = await sharedDistrict();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edlake-faults-'));
    mnt = path.join(dir, 'disk');
    fs.mkdirSync(mnt);
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=512m', 'tmpfs', mnt], { stdio: 'pipe' });
      mounted = true;
    } catch (e) {
      // Mounting needs root (CAP_SYS_ADMIN); without it the full-disk step is skipped, the others run.
      console.warn(`full-disk step skipped: cannot mount a tmpfs (${(e as Error).message.split('\n')[0]})`);
    }
    lake = lakeCopy(district.lake1, path.join(mnt, 'lake'));
    bearer = await token('data_analyst');
    server = await serve(lake);
    args = ['pipeline', 'run', '--landing', district.landing2, '--lake', lake, '--quiet'];
  }, 600_000);
  afterAll(async () => {
    await server?.stop();
    if (mounted) execFileSync('umount', ['-l', mnt]);
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('a run killed with SIGKILL from outside, early in the run', async () => {
    const early = spawnEdlake(args);
    const staging = path.join(lake, '.staging');
    const t0 = Date.now();
    while (!(fs.existsSync(staging) && fs.readdirSync(staging).length > 0) && Date.now() - t0 < 60_000) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 1_000));
    early.child.kill('SIGKILL');
    expect((await early.done).signal).toBe('SIGKILL');
    await checkLake(lake, 1, server, bearer);
    lockReleasedOrStale(lake);
  });

  it('a run killed inside publishing (data files placed, no manifest yet)', async () => {
    const mid = await edlake(args, { EDLAKE_TEST_CRASH_AT: 'data-placed' });
    expect(mid.signal).toBe('SIGKILL');
    await checkLake(lake, 1, server, bearer);
    lockReleasedOrStale(lake);
  });

  it('a full disk on the lake folder fails the run and leaves the lake as it was', async (ctx) => {
    if (!mounted) return ctx.skip('no tmpfs (needs root)');
    // A run first removes the staging folders of dead runs (under the lock, which they no longer
    // hold); do it now with the same function so that the room left can be measured.
    const lock = acquireLakeLock(lake, 'test: measure the room');
    cleanStaleStaging(lake);
    lock.release();
    const used = Number(execFileSync('df', ['-k', '--output=used', mnt]).toString().trim().split('\n')[1]) * 1024;
    const work = fs.statSync(path.join(lake, 'work.duckdb')).size;
    // Room for what the lake holds and the run's copy of the working database, not for what it adds.
    execFileSync('mount', ['-o', `remount,size=${used + work + 3 * 2 ** 20}`, mnt]);
    const started = Date.now() - 1_000;
    const r = await edlake(args);
    const full = Number(execFileSync('df', ['-k', '--output=avail', mnt]).toString().trim().split('\n')[1]);
    execFileSync('mount', ['-o', 'remount,size=512m', mnt]);
    expect(r.code, `the run did not fail (${full} kB were left free)`).not.toBe(0);
    // The run's record says it failed, when the disk had room for it; on a full disk it may not be
    // writable at all (then the CLI's message is all there is).
    const since = new Date(started).toISOString();
    const mine = fs
      .readdirSync(path.join(lake, 'runs'))
      .map((f) => {
        try {
          return JSON.parse(fs.readFileSync(path.join(lake, 'runs', f), 'utf8')) as { status: string; error?: string; startedAt: string };
        } catch {
          return { status: 'failed', error: `record ${f} cut short by the full disk`, startedAt: since };
        }
      })
      .filter((x) => x.startedAt >= since);
    for (const rec of mine) expect(rec.status).toBe('failed');
    // The cause is named (not DuckDB's later symptom, "cannot rollback"): in the record when it
    // could be written, and in what the CLI prints (its summary line, or its error when even the
    // record could not be written).
    expect(`${r.stdout}\n${r.stderr}`).toMatch(/no space left on device/i);
    for (const rec of mine) if (!rec.error?.includes('cut short')) expect(rec.error).toMatch(/^no space left on device: the disk holding .* is full/);
    console.log(`full disk: exit ${r.code}; run record ${mine.length ? `written: ${mine[0]!.error}` : 'not written'}; stderr: ${r.stderr.trim().slice(0, 400)}`);
    await checkLake(lake, 1, server, bearer);
    lockReleasedOrStale(lake);
  });

  it("the next run takes any dead run's lock over, publishes, and the API moves to it without a restart", async () => {
    const next = await edlake(args);
    expect(next.code, next.stderr).toBe(0);
    await checkLake(lake, 2, undefined, bearer);
    expect(fs.existsSync(lockPath(lake))).toBe(false);
    const deadline = Date.now() + 20_000;
    let id = 0;
    while (id !== 2 && Date.now() < deadline) {
      const r = await gql(server.port, bearer, ANALYST_QUERY);
      id = Number((r.body.data as { published: AnalystAnswer }).published.snapshot.id);
    }
    expect(id).toBe(2);
    await checkLake(lake, 2, server, bearer);
  });

  it('two runs started at once: one runs, the other is refused; the lock is released afterwards', async () => {
    const [a, b] = await Promise.all([edlake(args), edlake(args)]);
    expect([a.code, b.code].sort()).toEqual([0, 2]);
    const refused = a.code === 2 ? a : b;
    expect(refused.stderr).toMatch(/locked by process \d+/);
    // Nothing new was delivered: the winner publishes snapshot 3 or, when it finds nothing changed,
    // leaves snapshot 2 current; either way the lake is whole.
    const current = (await readCurrent(lake))!.snapshot_id;
    expect([2, 3]).toContain(current);
    await checkLake(lake, current, server, bearer);
    expect(fs.existsSync(lockPath(lake))).toBe(false);
    // Free for the next run: taking the lock succeeds at once.
    const lock = acquireLakeLock(lake, 'test');
    lock.release();
    expect(fs.existsSync(lockPath(lake))).toBe(false);
  });
});
