/**
 * Benchmark of `edlake generate`: runs the generator in a child process for each scale and
 * reports wall time, CPU time and peak memory, through the full school year.
 *
 *   npm run bench:generate -- [--students 5000,100000,1000000] [--seed 1] [--messiness realistic] [--keep]
 *
 * Peak memory: GNU time's maximum resident set size when /usr/bin/time is present (the largest
 * single process), and the generator's own report of each of its processes (main and lane;
 * their sum is the district's footprint). Results go to bench/results/generate-<date>.json.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

interface Args {
  students: number[];
  seed: number;
  messiness: string;
  keep: boolean;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { students: [5000, 100_000, 1_000_000], seed: 1, messiness: 'realistic', keep: false };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const v = argv[i + 1];
    if (k === '--students' && v) {
      a.students = v.split(',').map((s) => {
        const n = Number(s.replace(/_/g, ''));
        if (!Number.isInteger(n) || n < 1) throw new Error(`--students: expected whole numbers separated by commas, got ${v}`);
        return n;
      });
      i++;
    } else if (k === '--seed' && v) {
      a.seed = Number(v);
      i++;
    } else if (k === '--messiness' && v) {
      a.messiness = v;
      i++;
    } else if (k === '--keep') a.keep = true;
    else throw new Error(`unknown argument ${k} (use --students N[,N...] --seed S --messiness L --keep)`);
  }
  return a;
}

interface RunResult {
  students: number;
  wallSeconds: number;
  userSeconds: number | null;
  systemSeconds: number | null;
  maxRssMbLargestProcess: number | null;
  peakRssMbPerProcess: number[];
  peakRssMbTotal: number | null;
  /** CPU seconds of each generator process (main, lane): on an idle 2-core machine the wall time is about the larger one */
  cpuSecondsPerProcess: number[];
  files: number | null;
  megabytes: number | null;
  defects: number | null;
  exitCode: number;
}

async function runOnce(root: string, n: number, a: Args): Promise<RunResult> {
  const out = path.join(root, `district-${n}`);
  await rm(out, { recursive: true, force: true });
  const cli = path.resolve(import.meta.dirname, '../src/cli.ts');
  const nodeArgs = ['--import', 'tsx', cli, 'generate', '--students', String(n), '--seed', String(a.seed), '--messiness', a.messiness, '--out', out, '--quiet'];
  const haveTime = existsSync('/usr/bin/time');
  const cmd = haveTime ? '/usr/bin/time' : process.execPath;
  const args = haveTime ? ['-v', process.execPath, ...nodeArgs] : nodeArgs;
  const t0 = performance.now();
  const { code, stdout, stderr } = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let so = '';
    let se = '';
    child.stdout.on('data', (d: Buffer) => {
      so += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      se += d.toString();
    });
    child.on('exit', (c) => resolve({ code: c ?? 1, stdout: so, stderr: se }));
  });
  const wall = (performance.now() - t0) / 1000;
  const num = (re: RegExp, s: string) => {
    const m = re.exec(s);
    return m ? Number(m[1]) : null;
  };
  const per = /peak memory ([\d +]+) MB/.exec(stdout)?.[1]?.split('+').map((x) => Number(x.trim())) ?? [];
  const res: RunResult = {
    students: n,
    wallSeconds: Math.round(wall * 10) / 10,
    userSeconds: num(/User time \(seconds\): ([\d.]+)/, stderr),
    systemSeconds: num(/System time \(seconds\): ([\d.]+)/, stderr),
    maxRssMbLargestProcess: (() => {
      const kb = num(/Maximum resident set size \(kbytes\): (\d+)/, stderr);
      return kb === null ? null : Math.round(kb / 1024);
    })(),
    peakRssMbPerProcess: per,
    peakRssMbTotal: per.length > 0 ? per.reduce((x, y) => x + y, 0) : null,
    cpuSecondsPerProcess: /CPU ([\d. +]+) s\./.exec(stdout)?.[1]?.split('+').map((x) => Number(x.trim())) ?? [],
    files: num(/, (\d+) files/, stdout),
    megabytes: num(/files, ([\d.]+) MB/, stdout),
    defects: num(/ (\d+) injected defects/, stdout),
    exitCode: code,
  };
  if (code !== 0) process.stderr.write(stderr.split('\n').filter((l) => !/^\s/.test(l)).join('\n'));
  if (!a.keep) await rm(out, { recursive: true, force: true });
  return res;
}

async function main(): Promise<void> {
  const a = parseArgs(process.argv.slice(2));
  const root = path.resolve(import.meta.dirname, 'out');
  await mkdir(root, { recursive: true });
  const machine = {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? '',
    memoryGb: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
    loadAverageAtStart: os.loadavg().map((x) => Math.round(x * 100) / 100),
  };
  const results: RunResult[] = [];
  for (const n of a.students) {
    process.stdout.write(`generate --students ${n} ... `);
    const r = await runOnce(root, n, a);
    results.push(r);
    process.stdout.write(
      `${r.exitCode === 0 ? 'ok' : `FAILED (exit ${r.exitCode})`}: ${r.wallSeconds} s wall, ${r.userSeconds ?? '?'} s user, CPU per process ${r.cpuSecondsPerProcess.join(' + ') || '?'} s, peak RSS ${r.peakRssMbPerProcess.join(' + ') || '?'} MB (largest process ${r.maxRssMbLargestProcess ?? '?'} MB), ${r.files ?? '?'} files, ${r.megabytes ?? '?'} MB written\n`,
    );
  }
  const date = new Date().toISOString().slice(0, 10);
  const dir = path.resolve(import.meta.dirname, 'results');
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, `generate-${date}.json`);
  // runs of the same day accumulate (one file per date)
  let previous: unknown[] = [];
  try {
    const old = JSON.parse(await readFile(file, 'utf8')) as { runs?: unknown[] };
    previous = old.runs ?? [];
  } catch {
    previous = [];
  }
  const run = { at: new Date().toISOString(), seed: a.seed, messiness: a.messiness, through: 'full school year', machine, results };
  await writeFile(file, `${JSON.stringify({ benchmark: 'edlake generate', runs: [...previous, run] }, null, 2)}\n`);
  process.stdout.write(`results: ${path.relative(process.cwd(), file)}\n`);
  if (results.some((r) => r.exitCode !== 0)) process.exitCode = 1;
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:generate: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 2;
});
