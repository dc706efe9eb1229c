import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { acquireLakeLock } from '../../pipeline/lock.ts';
import { checkCron, ScheduleError, startScheduler, type TickOutcome } from '../../pipeline/schedule/scheduler.ts';

/** A stand-in for `edlake pipeline run`: records its start and end, and takes a while. */
const FAKE_RUN = `
const fs = require('node:fs');
const f = process.argv[1];
fs.appendFileSync(f, 'start ' + Date.now() + '\\n');
setTimeout(() => { fs.appendFileSync(f, 'end ' + Date.now() + '\\n'); }, 1300);
`;

async function setup() {
  const lake = await fs.mkdtemp(path.join(os.tmpdir(), 'edlake-sched-'));
  const marks = path.join(lake, 'marks.txt');
  return { lake, marks, command: [process.execPath, '-e', FAKE_RUN, marks] };
}

function waitFor(ticks: TickOutcome[], pred: (t: TickOutcome[]) => boolean, ms = 8000): Promise<void> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const iv = setInterval(() => {
      if (pred(ticks)) {
        clearInterval(iv);
        resolve();
      } else if (Date.now() - t0 > ms) {
        clearInterval(iv);
        reject(new Error(`timed out; ticks: ${JSON.stringify(ticks)}`));
      }
    }, 50);
  });
}

describe('pipeline scheduler', () => {
  it('runs on the cron expression and never overlaps two runs', async () => {
    const { lake, marks, command } = await setup();
    const ticks: TickOutcome[] = [];
    const lines: string[] = [];
    const s = startScheduler({ lake, cron: '* * * * * *', timezone: 'America/Los_Angeles', command, log: (l) => lines.push(l), onTick: (t) => ticks.push(t) });
    await waitFor(ticks, (t) => t.filter((x) => x.kind === 'ran').length >= 2);
    await s.stop();
    const events = (await fs.readFile(marks, 'utf8')).trim().split('\n').map((l) => l.split(' '));
    // start/end strictly alternate: no run started while another was going.
    events.forEach((e, i) => expect(e[0]).toBe(i % 2 === 0 ? 'start' : 'end'));
    expect(ticks.filter((t) => t.kind === 'ran').every((t) => t.kind === 'ran' && t.exitCode === 0)).toBe(true);
    expect(lines[0]).toMatch(/schedule: "\* \* \* \* \* \*" in America\/Los_Angeles; next run/);
    await fs.rm(lake, { recursive: true, force: true });
  });

  it('refuses to start a second run while its own run is going', async () => {
    const { lake, marks, command } = await setup();
    const s = startScheduler({ lake, cron: '0 2 * * *', timezone: 'UTC', command, log: () => {} });
    const first = s.runNow();
    expect(s.running()).toBe(true);
    expect(await s.runNow()).toMatchObject({ kind: 'skipped', reason: 'still-running' });
    expect(await first).toMatchObject({ kind: 'ran', exitCode: 0 });
    expect((await fs.readFile(marks, 'utf8')).match(/start/g)).toHaveLength(1);
    await s.stop();
    await fs.rm(lake, { recursive: true, force: true });
  });

  it('skips while a live process holds the lake, and runs once it is released', async () => {
    const { lake, marks, command } = await setup();
    const lock = acquireLakeLock(lake, 'manual run');
    const ticks: TickOutcome[] = [];
    const s = startScheduler({ lake, cron: '* * * * * *', timezone: 'UTC', command, log: () => {}, onTick: (t) => ticks.push(t) });
    await waitFor(ticks, (t) => t.length >= 2);
    expect(ticks.every((t) => t.kind === 'skipped' && t.reason === 'locked' && t.detail.includes(`process ${process.pid}`))).toBe(true);
    await expect(fs.access(marks)).rejects.toThrow();
    lock.release();
    await waitFor(ticks, (t) => t.some((x) => x.kind === 'ran'));
    await s.stop();
    expect(await fs.readFile(marks, 'utf8')).toMatch(/^start /);
    await fs.rm(lake, { recursive: true, force: true });
  });

  it('is not blocked forever by the lock of a crashed run', async () => {
    const { lake, command } = await setup();
    const dead = spawnSync(process.execPath, ['-e', '']).pid;
    await fs.writeFile(path.join(lake, '.lock'), JSON.stringify({ pid: dead, host: os.hostname(), startedAt: '2026-03-03T10:00:00Z', purpose: 'pipeline run' }));
    const s = startScheduler({ lake, cron: '0 2 * * *', timezone: 'America/Los_Angeles', command, log: () => {} });
    const o = await s.runNow();
    expect(o.kind).toBe('ran');
    await s.stop();
    await fs.rm(lake, { recursive: true, force: true });
  });

  it('reads the default cron at 02:00 in the district time zone and refuses a bad expression', () => {
    const next = checkCron('0 2 * * *', 'America/Los_Angeles')!;
    const local = new Intl.DateTimeFormat('en-US', { timeZone: 'America/Los_Angeles', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(next);
    expect(local).toBe('02:00');
    expect(() => checkCron('61 * * * *', 'UTC')).toThrow(ScheduleError);
    expect(() => checkCron('every night', 'UTC')).toThrow(/invalid cron expression "every night"/);
  });
});
