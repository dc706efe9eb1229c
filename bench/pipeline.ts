/**
 * Benchmark of the pipeline's raw and refined stages (not a test):
 *
 *   npx tsx bench/pipeline.ts [--students 100000] [--seed 1] [--dir /tmp/edlake-bench] [--keep]
 *
 * 1. generates a district with `edlake generate` through the day before the last delivery night;
 * 2. runs the pipeline over it (the year so far): rows/s and peak memory;
 * 3. generates one more night and runs again: the nightly increment.
 * Peak memory is the process's maximum resident set size (DuckDB runs in-process, so it counts).
 * Each pipeline run happens in a child process so that its peak is its own.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? (process.argv[i + 1] as string) : fallback;
}

interface Measured {
  seconds: number;
  /** CPU seconds (user + system) of the child: a fairer figure than wall time on a shared machine. */
  cpuSeconds: number;
  maxRssMb: number;
  stdout: string;
}

/** Run a command, measuring wall time and the child's peak RSS (GNU time). */
function measure(cmd: string[], env: NodeJS.ProcessEnv = process.env): Measured {
  const t0 = Date.now();
  const r = spawnSync('/usr/bin/time', ['-f', '__maxrss_kb=%M __cpu=%U+%S', ...cmd], { cwd: root, env, encoding: 'utf8', maxBuffer: 1 << 30 });
  const seconds = (Date.now() - t0) / 1000;
  if (r.status !== 0 && r.status !== 3) throw new Error(`${cmd.join(' ')} failed (${r.status}):\n${r.stderr.slice(-3000)}`);
  const m = /__maxrss_kb=(\d+) __cpu=([\d.]+)\+([\d.]+)/.exec(r.stderr);
  return { seconds, cpuSeconds: m ? Number(m[2]) + Number(m[3]) : NaN, maxRssMb: m ? Number(m[1]) / 1024 : NaN, stdout: r.stdout };
}

function deliveryDates(landing: string): string[] {
  const dates = new Set<string>();
  for (const s of readdirSync(landing)) for (const d of readdirSync(join(landing, s))) dates.add(d);
  return [...dates].sort();
}

const students = arg('students', '100000');
const seed = arg('seed', '1');
const dir = resolve(arg('dir', `/tmp/edlake-bench-${students}`));
const keep = process.argv.includes('--keep');
const tsx = [process.execPath, '--import', 'tsx', join(root, 'src', 'cli.ts')];
const env = { ...process.env, EDLAKE_PII_KEY: process.env['EDLAKE_PII_KEY'] ?? 'bench-key-0123456789abcdef0123456789abcdef' };

rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });
const out = join(dir, 'district');
const lake = join(dir, 'lake');

// The increment night and the night before it: given (--before, --night), or learned from a first
// full-year generation.
let before = arg('before', '');
let last = arg('night', '');
if (!before || !last) {
  console.log(`generating ${students} students (seed ${seed}) to learn the delivery calendar...`);
  measure([...tsx, 'generate', '--students', students, '--seed', seed, '--out', out]);
  const dates = deliveryDates(join(out, 'landing'));
  last = dates[dates.length - 1] as string;
  before = dates[dates.length - 2] as string;
  rmSync(out, { recursive: true, force: true });
}
console.log(`generating ${students} students (seed ${seed}) through ${before}...`);
const gen = measure([...tsx, 'generate', '--students', students, '--seed', seed, '--out', out, '--through', before]);
console.log(`generated in ${gen.seconds.toFixed(1)} s; the increment night is ${last}`);

const year = measure([...tsx, 'pipeline', 'run', '--until', 'refined', '--landing', join(out, 'landing'), '--lake', lake, '--json'], env);
const r1 = JSON.parse(year.stdout) as { status: string; summary: { seen: number; rows: { delivered: number } }; durations: Record<string, number> };
measure([...tsx, 'generate', '--students', students, '--seed', seed, '--out', out, '--through', last]);
const night = measure([...tsx, 'pipeline', 'run', '--until', 'refined', '--landing', join(out, 'landing'), '--lake', lake, '--json'], env);
const r2 = JSON.parse(night.stdout) as typeof r1;

const fmt = (n: number) => n.toLocaleString('en-US');
console.log(`\nedlake pipeline (raw + refined), ${fmt(Number(students))} students, ${process.platform} ${process.arch}, node ${process.version}`);
console.log(`year to ${before}: ${r1.status}; ${fmt(r1.summary.seen)} files, ${fmt(r1.summary.rows.delivered)} rows in ${year.seconds.toFixed(1)} s wall (${year.cpuSeconds.toFixed(1)} s CPU) = ${fmt(Math.round(r1.summary.rows.delivered / year.seconds))} rows/s wall; peak RSS ${year.maxRssMb.toFixed(0)} MB`);
console.log(`  steps (ms): ${JSON.stringify(r1.durations)}`);
console.log(`nightly increment ${last}: ${r2.status}; ${fmt(r2.summary.seen)} files, ${fmt(r2.summary.rows.delivered)} rows in ${night.seconds.toFixed(1)} s wall (${night.cpuSeconds.toFixed(1)} s CPU); peak RSS ${night.maxRssMb.toFixed(0)} MB`);
console.log(`machine load average at the end: ${spawnSync('cat', ['/proc/loadavg'], { encoding: 'utf8' }).stdout.trim()} (2 cores shared with other work: wall times include waiting)`);
console.log(`  steps (ms): ${JSON.stringify(r2.durations)}`);
const lakeSize = spawnSync('du', ['-sh', lake], { encoding: 'utf8' }).stdout.trim();
console.log(`lake size: ${lakeSize}`);
if (!keep) rmSync(dir, { recursive: true, force: true });


