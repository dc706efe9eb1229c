/** The lake lock that keeps two runs (or a run and a publish) apart. */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { afterAll, describe, expect, it } from 'vitest';
import { acquireLakeLock, LakeLockedError, lockPath, withLakeLock } from '../../pipeline/lock.ts';
import { removeDir, tempDir } from './helpers.ts';

const lakes: string[] = [];
const lake = () => {
  const d = tempDir('lock');
  lakes.push(d);
  return d;
};
afterAll(() => lakes.forEach(removeDir));

/** The pid of a process that has exited (so is certainly not alive now). */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(r.stdout.toString());
}

describe('the lake lock', () => {
  it('lets one holder in and refuses a second, naming the holder', () => {
    const l = lake();
    const lock = acquireLakeLock(l, 'pipeline run');
    expect(JSON.parse(readFileSync(lockPath(l), 'utf8'))).toMatchObject({ pid: process.pid, purpose: 'pipeline run' });
    let err: unknown;
    try {
      acquireLakeLock(l, 'publish');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(LakeLockedError);
    expect((err as Error).message).toContain(`process ${process.pid}`);
    lock.release();
    expect(existsSync(lockPath(l))).toBe(false);
    acquireLakeLock(l, 'again').release();
  });

  it('takes over a stale lock left by a process that died', () => {
    const l = lake();
    const pid = deadPid();
    writeFileSync(lockPath(l), JSON.stringify({ pid, host: hostname(), startedAt: '2020-01-01T00:00:00.000Z', purpose: 'crashed run' }));
    const lock = acquireLakeLock(l, 'pipeline run');
    expect(lock.holder.pid).toBe(process.pid);
    lock.release();
  });

  it('respects a lock held on another host (its pid cannot be checked from here)', () => {
    const l = lake();
    writeFileSync(lockPath(l), JSON.stringify({ pid: deadPid(), host: `not-${hostname()}`, startedAt: '2020-01-01T00:00:00.000Z', purpose: 'remote run' }));
    expect(() => acquireLakeLock(l, 'pipeline run')).toThrow(LakeLockedError);
  });

  it('is released however the work ends', async () => {
    const l = lake();
    await expect(withLakeLock(l, 'x', async () => Promise.reject(new Error('failed inside')))).rejects.toThrow('failed inside');
    expect(existsSync(lockPath(l))).toBe(false);
  });
});
