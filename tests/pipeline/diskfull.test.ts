/**
 * A run that fails on a full disk says so (leftover of issue 3): DuckDB often reports only the
 * later symptom ("TransactionContext Error: cannot rollback"), so the room left on the disk the run
 * writes to is checked as well. The real full-disk case runs in tests/reliability/faults.test.ts
 * (a tmpfs lake, needs root); here the decision itself, on this machine's real file systems.
 */
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { diskFullFailure, freeBytes } from '../../pipeline/workdb.ts';

describe('diskFullFailure', () => {
  const dir = os.tmpdir();

  it('reads the room left on the disk of a folder, or of its nearest existing ancestor', () => {
    const free = freeBytes(dir);
    expect(free).toBeGreaterThan(0);
    expect(freeBytes(path.join(dir, 'does', 'not', 'exist'))).toBeGreaterThan(0);
  });

  it('names the disk when the error itself says ENOSPC, and keeps nothing else back', () => {
    const err = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    const full = diskFullFailure(err, [dir]);
    expect(full?.path).toBe(dir);
    expect(full?.message).toMatch(/^no space left on device/);
    expect(full?.message).toContain(dir);
  });

  it('finds the cause behind a later symptom through the error chain', () => {
    const err = new Error('TransactionContext Error: cannot rollback', { cause: new Error('IO Error: Could not write file "x": No space left on device') });
    expect(diskFullFailure(err, [dir])?.message).toMatch(/no space left on device/);
  });

  it('says the disk is full when the symptom hides the cause but the disk has less room than the floor', () => {
    const err = new Error('TransactionContext Error: cannot rollback');
    // a floor above any real disk's room: every disk counts as full
    const full = diskFullFailure(err, [path.join(dir, 'staging-of-a-run'), dir], Number.MAX_SAFE_INTEGER);
    expect(full?.path).toBe(path.join(dir, 'staging-of-a-run'));
    expect(full?.message).toContain(`the disk holding ${path.join(dir, 'staging-of-a-run')} is full`);
    expect(full?.free).toBeGreaterThan(0);
  });

  it('leaves other failures alone', () => {
    expect(diskFullFailure(new Error('TransactionContext Error: cannot rollback'), [dir], 0)).toBeUndefined();
    expect(diskFullFailure(new Error('Binder Error: column x not found'), [dir], 0)).toBeUndefined();
  });
});
