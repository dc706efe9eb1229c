/**
 * A lock on the lake, so that two pipeline runs (or a run and a publish, or the scheduler's
 * run and a manual one) never write the lake at the same time.
 *
 * The lock is a file, `<lake>/.lock`, created atomically with O_EXCL. It records who holds it
 * (pid, host, start time, purpose). A lock left behind by a crashed process must not stick
 * forever: when the recorded pid is no longer alive on this host, the next taker removes it
 * and takes over (the take-over is itself atomic: the stale file is renamed away first, so two
 * processes that find the same stale lock cannot both win). A lock held on another host cannot
 * be checked from here and is respected; its holder's record says who to ask.
 *
 * Reused by publishing and the scheduler: `withLakeLock(lake, 'publish', async () => ...)`.
 */
import { closeSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';

export interface LockHolder {
  pid: number;
  host: string;
  startedAt: string;
  purpose: string;
}

export class LakeLockedError extends Error {
  constructor(
    readonly lockPath: string,
    readonly holder: LockHolder | undefined,
  ) {
    super(
      holder
        ? `the lake is locked by process ${holder.pid} on ${holder.host} (${holder.purpose}, since ${holder.startedAt}); lock file ${lockPath}`
        : `the lake is locked (lock file ${lockPath} is being written or unreadable); try again`,
    );
    this.name = 'LakeLockedError';
  }
}

export interface LakeLock {
  readonly path: string;
  readonly holder: LockHolder;
  /** Release the lock (only if this process still holds it). Idempotent. */
  release(): void;
}

export function lockPath(lake: string): string {
  return join(lake, '.lock');
}

function readHolder(path: string): LockHolder | undefined {
  try {
    const parsed: unknown = JSON.parse(readFileSync(path, 'utf8'));
    if (
      parsed !== null &&
      typeof parsed === 'object' &&
      typeof (parsed as LockHolder).pid === 'number' &&
      typeof (parsed as LockHolder).host === 'string' &&
      typeof (parsed as LockHolder).startedAt === 'string'
    ) {
      const h = parsed as LockHolder;
      return { pid: h.pid, host: h.host, startedAt: h.startedAt, purpose: String(h.purpose ?? '') };
    }
  } catch {
    // unreadable or half-written
  }
  return undefined;
}

/** Whether a process with this pid exists on this host (EPERM means it exists but is not ours). */
export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function tryCreate(path: string, holder: LockHolder): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'wx', 0o644);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
  try {
    writeSync(fd, JSON.stringify(holder));
  } finally {
    closeSync(fd);
  }
  return true;
}

/**
 * Take the lake's lock or throw LakeLockedError. A stale lock (holder's pid dead on this host,
 * or a lock file older than a minute that still holds no readable record) is taken over.
 */
export function acquireLakeLock(lake: string, purpose: string): LakeLock {
  mkdirSync(lake, { recursive: true });
  const path = lockPath(lake);
  const holder: LockHolder = { pid: process.pid, host: hostname(), startedAt: new Date().toISOString(), purpose };
  for (let attempt = 0; attempt < 3; attempt++) {
    if (tryCreate(path, holder)) return makeLock(path, holder);
    const current = readHolder(path);
    const stale = current !== undefined && current.host === holder.host && !pidAlive(current.pid);
    if (!stale) throw new LakeLockedError(path, current);
    // Move the stale lock away atomically: only one taker's rename succeeds.
    const aside = `${path}.stale-${process.pid}-${Date.now()}`;
    try {
      renameSync(path, aside);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue; // someone else moved it
      throw err;
    }
    const moved = readHolder(aside);
    rmSync(aside, { force: true });
    if (moved && (moved.pid !== current.pid || moved.startedAt !== current.startedAt)) {
      // We moved a fresh lock that another process had just created: give it back if we can.
      if (!tryCreate(path, moved)) throw new LakeLockedError(path, readHolder(path));
      throw new LakeLockedError(path, moved);
    }
  }
  throw new LakeLockedError(path, readHolder(path));
}

function makeLock(path: string, holder: LockHolder): LakeLock {
  let released = false;
  return {
    path,
    holder,
    release() {
      if (released) return;
      released = true;
      const current = readHolder(path);
      if (current && current.pid === holder.pid && current.startedAt === holder.startedAt && current.host === holder.host) {
        rmSync(path, { force: true });
      }
    },
  };
}

/** Run `fn` holding the lake's lock; the lock is released however `fn` ends. */
export async function withLakeLock<T>(lake: string, purpose: string, fn: (lock: LakeLock) => Promise<T>): Promise<T> {
  const lock = acquireLakeLock(lake, purpose);
  try {
    return await fn(lock);
  } finally {
    lock.release();
  }
}
