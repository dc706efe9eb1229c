/**
 * Benchmark of the marts stage: model-by-model build times, data-test time and peak memory.
 *
 *   npx tsx bench/marts.ts --students 100000            # generate, run raw+refined, then time the marts
 *   npx tsx bench/marts.ts --lake DIR                   # time the marts over an existing lake
 *   npx tsx bench/marts.ts --lake DIR --replicate 100   # the lake's refined tables copied 100 times as
 *                                                       # 100 tenants (a large load from a small lake)
 *   options: --threads N (DuckDB threads, default all cores), --memory-limit 4GB, --seed S, --json,
 *            --sql-dir DIR (the SQL project to build, default sql/: e.g. `git archive <commit> sql` for a
 *            before/after pair), --one-transaction (build as `edlake model run` does, all models in one
 *            transaction, instead of committing each model as the pipeline does), --concurrency N
 *            (models built at once, default 2 as the pipeline's EDLAKE_MODEL_CONCURRENCY)
 *
 * The lake's working database is copied first, so the lake itself is left as it was. Peak memory
 * is the process's maximum resident set (DuckDB runs in process).
 */
import { copyFileSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Db, openInstance } from '../src/db/duckdb.ts';
import { loadConfig } from '../src/config.ts';
import { runModels } from '../pipeline/models/runner.ts';
import { runPipeline } from '../pipeline/run.ts';
import { generate, parseArgs as parseGenerateArgs } from '../seeds/generator/generate.ts';

const { values } = parseArgs({
  options: {
    students: { type: 'string' },
    seed: { type: 'string', default: '1' },
    lake: { type: 'string' },
    threads: { type: 'string' },
    'memory-limit': { type: 'string' },
    json: { type: 'boolean', default: false },
    replicate: { type: 'string' },
    'sql-dir': { type: 'string' },
    'one-transaction': { type: 'boolean', default: false },
    concurrency: { type: 'string', default: '2' },
  },
});

const log = (m: string) => process.stderr.write(`${m}\n`);
const mb = (kb: number) => Math.round(kb / 1024);

async function prepareLake(): Promise<string> {
  if (values.lake) return path.resolve(values.lake);
  if (!values.students) throw new Error('give --lake DIR or --students N');
  const base = path.resolve('bench/out', `marts-${values.students}-${values.seed}`);
  const lake = path.join(base, 'lake');
  if (existsSync(path.join(lake, 'work.duckdb'))) return lake;
  const out = path.join(base, 'gen');
  if (!existsSync(path.join(out, 'generator.json'))) {
    log(`generating ${values.students} students into ${out}`);
    await generate(parseGenerateArgs({ students: values.students, seed: values.seed, out }));
  }
  log('running raw and refined');
  process.env['EDLAKE_PII_KEY'] ??= 'benchmark-only-key-0123456789abcdefghijklmnop';
  const record = await runPipeline(loadConfig({ landing: path.join(out, 'landing'), lake }), { log });
  if (record.status !== 'succeeded') throw new Error(`pipeline run failed: ${record.error}`);
  return lake;
}

const lake = await prepareLake();
const copyDir = path.join(os.tmpdir(), `edlake-bench-marts-${process.pid}`);
mkdirSync(copyDir, { recursive: true });
const copy = path.join(copyDir, 'work.duckdb');
copyFileSync(path.join(lake, 'work.duckdb'), copy);
const rssBefore = process.resourceUsage().maxRSS;
const settings: Record<string, string> = {};
if (values.threads) settings['threads'] = values.threads;
if (values['memory-limit']) settings['memory_limit'] = values['memory-limit'];
const instance = await openInstance(copy, { settings });
const db = new Db(await instance.connect());
const concurrency = Number(values.concurrency);
if (!Number.isInteger(concurrency) || concurrency < 1) throw new Error(`--concurrency: expected a whole number of at least 1 (got ${values.concurrency})`);
const copies = values.replicate ? Number(values.replicate) : 1;
if (!Number.isInteger(copies) || copies < 1) throw new Error(`--replicate: expected a whole number of at least 1 (got ${values.replicate})`);
if (copies > 1) {
  // every refined table again under tenants <tenant>-r2 .. -rN: the same shapes, N times the rows
  const tables = await db.all<{ t: string }>(`SELECT table_name AS t FROM information_schema.tables WHERE table_schema = 'refined' AND table_type = 'BASE TABLE'`);
  for (const { t } of tables) {
    await db.run(`INSERT INTO refined."${t}" SELECT src.* REPLACE (src.tenant || '-r' || r.k::VARCHAR AS tenant) FROM refined."${t}" AS src, range(2, ${copies + 1}) AS r(k)`);
  }
  log(`replicated the refined tables ${copies} times`);
}
const students = await db.scalar<number>(`SELECT count(*) FROM refined.students`);
// CPU time of the process (DuckDB's threads included) beside the wall time: on a shared, loaded
// machine the wall time of a model can be several times its CPU time (decision 0203)
const cpuMs = () => {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1000;
};
const modelCpu = new Map<string, number>();
let cpuMark = cpuMs();
const cpu0 = cpuMark;
const t0 = performance.now();
const result = await runModels(db, {
  ...(values['sql-dir'] ? { sqlDir: path.resolve(values['sql-dir']) } : {}),
  // as the pipeline builds them: the copy is discarded anyway (decision 0205)
  commit: values['one-transaction'] ? 'once' : 'each-model',
  // as the pipeline does by default (EDLAKE_MODEL_CONCURRENCY, decision 0208); with more than one,
  // a model's CPU figure is the process's CPU since the previous model finished, not its own
  concurrency,
  connect: async () => new Db(await instance.connect()),
  onModel: (m, k, n) => {
    const now = cpuMs();
    const used = now - cpuMark;
    modelCpu.set(m.name, used);
    cpuMark = now;
    log(`[${k + 1}/${n}] ${m.name}: ${m.rows} rows, ${m.ms.toFixed(0)} ms (cpu ${used.toFixed(0)} ms)`);
  },
});
const total = performance.now() - t0;
const totalCpuMs = cpuMs() - cpu0;
const testsCpuMs = cpuMs() - cpuMark;
const loadAverage = os.loadavg().map((x) => Math.round(x * 100) / 100);
const testsMs = result.tests.reduce((a, t) => a + t.ms, 0);
const modelsMs = result.models.reduce((a, m) => a + m.ms, 0);
db.close();
rmSync(copyDir, { recursive: true, force: true });
const report = {
  lake,
  sqlDir: values['sql-dir'] ? path.resolve(values['sql-dir']) : 'sql',
  refinedStudents: students,
  replicated: copies,
  cores: os.cpus().length,
  threads: values.threads ?? 'all',
  concurrency,
  totalSeconds: Math.round(total / 100) / 10,
  // the sum of the models' own times: more than the wall time when models are built at once
  modelsSeconds: Math.round(modelsMs / 100) / 10,
  testsSeconds: Math.round(testsMs / 100) / 10,
  cpuSeconds: Math.round(totalCpuMs / 100) / 10,
  testsCpuSeconds: Math.round(testsCpuMs / 100) / 10,
  loadAverageAtEnd: loadAverage,
  peakRssMb: mb(process.resourceUsage().maxRSS),
  rssBeforeMb: mb(rssBefore),
  blocked: result.blocked,
  models: result.models.map((m) => ({ name: m.name, rows: m.rows, ms: Math.round(m.ms), cpuMs: Math.round(modelCpu.get(m.name) ?? 0), ...(m.chunks ? { chunks: m.chunks } : {}) })),
  slowestTests: [...result.tests].sort((a, b) => b.ms - a.ms).slice(0, 5).map((t) => ({ name: t.name, ms: Math.round(t.ms) })),
  // what blocked the run (error) or warned, with a few of the failing rows: a blocked benchmark
  // says why, since its working copy is gone
  failedTests: result.tests
    .filter((t) => t.status === 'fail' || t.status === 'error')
    .map((t) => ({ name: t.name, severity: t.severity, status: t.status, failures: t.failures, sample: t.sample.slice(0, 3), ...(t.message ? { message: t.message } : {}) })),
};
if (values.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
else {
  process.stdout.write(
    [
      `marts over ${students} students (${lake}), ${report.cores} cores, threads ${report.threads}`,
      ...report.models.map((m) => `  ${m.name.padEnd(34)} ${String(m.rows).padStart(11)} rows ${String(m.ms).padStart(8)} ms ${String(m.cpuMs).padStart(8)} ms cpu`),
      `models ${report.modelsSeconds} s, data tests ${report.testsSeconds} s, total ${report.totalSeconds} s (with seeds), cpu ${report.cpuSeconds} s; peak RSS ${report.peakRssMb} MB; load average ${report.loadAverageAtEnd.join(' ')}; blocked ${report.blocked}`,
      ...report.failedTests.map((t) => `  ${t.severity} test ${t.name} ${t.status}: ${t.message ?? `${t.failures} failing, e.g. ${JSON.stringify(t.sample)}`}`),
      `slowest tests: ${report.slowestTests.map((t) => `${t.name} ${t.ms} ms`).join(', ')}`,
    ].join('\n') + '\n',
  );
}
