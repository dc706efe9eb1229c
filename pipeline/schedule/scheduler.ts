/**
 * The pipeline scheduler: runs the pipeline on a cron expression in the district's time zone
 * (default nightly at 02:00), never while another process holds the lake.
 *
 * Each run is a child process (`edlake pipeline run`, or the command given): a crash or a memory
 * spike of a run cannot take the scheduler (or the API server that hosts it with
 * `edlake serve --with-pipeline`) down, and the memory of a run is returned when it ends. The run
 * takes the lake lock itself (pipeline/lock.ts); the scheduler looks at the lock before starting
 * and skips a tick when a live process holds it (a lock whose process died does not block: the
 * next run takes it over). Ticks never overlap: a tick that finds our own previous run still going
 * is skipped.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { Cron } from 'croner';
import { lockPath, pidAlive, type LockHolder } from '../lock.ts';

export const DEFAULT_CRON = '0 2 * * *';

export type TickOutcome =
  | { kind: 'ran'; exitCode: number | null; signal: NodeJS.Signals | null; startedAt: string; durationMs: number }
  | { kind: 'skipped'; reason: 'locked' | 'still-running'; detail: string; at: string };

export interface SchedulerOptions {
  lake: string;
  landing?: string;
  /** Cron expression (5 fields, or 6 with seconds), read in `timezone`. */
  cron?: string;
  timezone: string;
  /** Command to run; default: this checkout's `edlake pipeline run --lake … [--landing …]`. */
  command?: string[];
  /** Extra environment for the child. */
  env?: NodeJS.ProcessEnv;
  /** Where log lines go (one line each, no trailing newline). Default stderr. */
  log?: (line: string) => void;
  /** Called after each tick, for monitoring and tests. */
  onTick?: (o: TickOutcome) => void;
}

export interface SchedulerHandle {
  readonly cron: string;
  readonly timezone: string;
  nextRun(): Date | null;
  /** Whether a scheduled run is in progress. */
  running(): boolean;
  /** Start a run now (same rules as a tick). */
  runNow(): Promise<TickOutcome>;
  /** Stop scheduling; a run in progress gets SIGTERM and is awaited. */
  stop(): Promise<void>;
}

export class ScheduleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ScheduleError';
  }
}

/** Holder of the lake lock if a live process holds it (stale locks of dead processes count as free). */
export function liveLockHolder(lake: string): LockHolder | null {
  let raw: string;
  try {
    raw = readFileSync(lockPath(lake), 'utf8');
  } catch {
    return null;
  }
  let h: Partial<LockHolder>;
  try {
    h = JSON.parse(raw) as Partial<LockHolder>;
  } catch {
    // Being written right now: treat as held.
    return { pid: 0, host: '?', startedAt: '?', purpose: 'lock file being written' };
  }
  const holder: LockHolder = { pid: Number(h.pid), host: String(h.host), startedAt: String(h.startedAt), purpose: String(h.purpose ?? '') };
  if (holder.host === hostname() && !pidAlive(holder.pid)) return null;
  return holder;
}

/** Validate a cron expression; returns its next run or throws ScheduleError naming the problem. */
export function checkCron(expr: string, timezone: string): Date | null {
  try {
    const c = new Cron(expr, { timezone, paused: true });
    const next = c.nextRun();
    c.stop();
    return next;
  } catch (e) {
    throw new ScheduleError(`invalid cron expression ${JSON.stringify(expr)}: ${(e as Error).message}`);
  }
}

function defaultCommand(lake: string, landing?: string): string[] {
  const cli = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'cli.ts');
  return [process.execPath, '--import', 'tsx', cli, 'pipeline', 'run', '--lake', lake, ...(landing ? ['--landing', landing] : [])];
}

export function startScheduler(opts: SchedulerOptions): SchedulerHandle {
  const cronExpr = opts.cron ?? DEFAULT_CRON;
  checkCron(cronExpr, opts.timezone);
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const command = opts.command ?? defaultCommand(opts.lake, opts.landing);
  if (command.length === 0) throw new ScheduleError('empty command');
  let child: ChildProcess | null = null;
  let current: Promise<TickOutcome> | null = null;
  let stopped = false;

  const tick = (): Promise<TickOutcome> => {
    const at = new Date().toISOString();
    const finish = (o: TickOutcome) => {
      opts.onTick?.(o);
      return o;
    };
    if (current) {
      log(`${at} schedule: previous run still going (pid ${child?.pid ?? '?'}); tick skipped`);
      return Promise.resolve(finish({ kind: 'skipped', reason: 'still-running', detail: `pid ${child?.pid ?? '?'}`, at }));
    }
    const holder = liveLockHolder(opts.lake);
    if (holder) {
      const detail = `lake locked by process ${holder.pid} on ${holder.host} (${holder.purpose}, since ${holder.startedAt})`;
      log(`${at} schedule: ${detail}; tick skipped`);
      return Promise.resolve(finish({ kind: 'skipped', reason: 'locked', detail, at }));
    }
    const t0 = Date.now();
    log(`${at} schedule: starting ${command.map((c) => (/\s/.test(c) ? JSON.stringify(c) : c)).join(' ')}`);
    current = new Promise<TickOutcome>((resolve) => {
      const [exe, ...args] = command as [string, ...string[]];
      const c = spawn(exe, args, { env: { ...process.env, ...(opts.env ?? {}) }, stdio: ['ignore', 'pipe', 'pipe'] });
      child = c;
      const relay = (stream: NodeJS.ReadableStream | null, name: string) => {
        let buf = '';
        stream?.on('data', (b: Buffer) => {
          buf += b.toString();
          let i: number;
          while ((i = buf.indexOf('\n')) >= 0) {
            const line = buf.slice(0, i).replace(/\r/g, '');
            buf = buf.slice(i + 1);
            if (line.trim()) log(`[run ${c.pid} ${name}] ${line}`);
          }
        });
        stream?.on('end', () => {
          if (buf.trim()) log(`[run ${c.pid} ${name}] ${buf}`);
        });
      };
      relay(c.stdout, 'out');
      relay(c.stderr, 'err');
      const done = (exitCode: number | null, signal: NodeJS.Signals | null) => {
        const o: TickOutcome = { kind: 'ran', exitCode, signal, startedAt: at, durationMs: Date.now() - t0 };
        log(`${new Date().toISOString()} schedule: run ${c.pid ?? '?'} ended (${signal ? `signal ${signal}` : `exit ${exitCode}`}) after ${o.durationMs} ms`);
        resolve(o);
      };
      c.on('error', (e) => {
        log(`${new Date().toISOString()} schedule: cannot start the run: ${e.message}`);
        done(null, null);
      });
      c.on('exit', done);
    }).then((o) => {
      current = null;
      child = null;
      return finish(o);
    });
    return current;
  };

  const job = new Cron(cronExpr, { timezone: opts.timezone, protect: true, catch: (e) => log(`schedule: tick failed: ${String(e)}`) }, async () => {
    if (!stopped) await tick();
  });
  log(`${new Date().toISOString()} schedule: "${cronExpr}" in ${opts.timezone}; next run ${job.nextRun()?.toISOString() ?? 'never'}`);

  return {
    cron: cronExpr,
    timezone: opts.timezone,
    nextRun: () => job.nextRun(),
    running: () => current !== null,
    runNow: () => tick(),
    async stop() {
      stopped = true;
      job.stop();
      const c = child as ChildProcess | null;
      if (c && c.exitCode === null) c.kill('SIGTERM');
      if (current) await current;
    },
  };
}
