/**
 * The benchmark suite (not a test): `npm run bench -- --students N`.
 *
 * 1. Generates the sample district of N students (or reuses bench/out/district-<N>-<seed>-<through>).
 * 2. Runs the pipeline as `edlake pipeline run` in a child process, twice, as two nights a month
 *    apart: the deliveries up to 30 days before --through (snapshot 1, the auditor's as-of target),
 *    then all of them (snapshot 2). Per-stage times come from each run's record, peak memory from
 *    the child's VmHWM (Linux /proc). With an existing lake (--reuse-lake) it runs one more night.
 * 3. Starts `edlake serve` in a separate process, then loads it from another process with autocannon
 *    (a real HTTP load generator: keep-alive connections, fixed concurrency and duration): a teacher's
 *    section rosters with risk tiers, a principal's school equity table, a district-wide aggregate for
 *    an analyst, the auditor's equity table as of 30 days earlier, and the teacher query as of then.
 *    Latency percentiles are exact (every 2xx response time is kept); a GraphQL response carrying
 *    `errors` counts as an error. The uncached path is measured first: the first request of each
 *    teacher and of each principal of the district, once each (the response cache has not seen them,
 *    and their scope is derived on the way), as after a nightly publish (decision 0609).
 * 4. Writes bench/results/bench-<N>-<date>.json and .md (the table, the machine, and the figures the
 *    other benchmarks left in bench/results/).
 *
 *   npm run bench -- --students 5000 [--seed 2026] [--through 2026-03-13] [--connections 32]
 *                    [--duration 10] [--reuse-lake] [--keep]
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config.ts';
import { mintToken } from '../src/auth/jwt.ts';
import type { Role } from '../src/auth/roles.ts';
import { readCurrent } from '../src/catalog/index.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const CLI = path.join(ROOT, 'src', 'cli.ts');
const PII = 'bench-pii-key-bench-pii-key-bench-0123456789';
const SECRET = 'bench-jwt-secret-bench-jwt-secret-0123456789';

const { values: args } = parseArgs({
  options: {
    students: { type: 'string', default: '5000' },
    seed: { type: 'string', default: '2026' },
    through: { type: 'string', default: '2026-03-13' },
    connections: { type: 'string', default: '32' },
    duration: { type: 'string', default: '10' },
    'reuse-lake': { type: 'boolean', default: false },
    keep: { type: 'boolean', default: true },
    out: { type: 'string' },
  },
});

const students = Number(args.students);
const connections = Number(args.connections);
const duration = Number(args.duration);
if (!Number.isInteger(students) || students < 50) throw new Error('--students: expected a whole number of at least 50');
if (!/^\d{4}-\d{2}-\d{2}$/.test(args.through)) throw new Error('--through: expected YYYY-MM-DD');
const say = (m: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${m}\n`);

const addDays = (iso: string, n: number) => {
  const d = new Date(`${iso}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
};

interface Measured {
  code: number | null;
  seconds: number;
  peakRssMb: number;
  stdout: string;
  stderr: string;
}

/** Run `edlake <args>` in a child process; wall time and peak resident memory (VmHWM, polled). */
function measured(cliArgs: string[], env: NodeJS.ProcessEnv = {}): Promise<Measured> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const c = spawn(process.execPath, ['--import', 'tsx', CLI, ...cliArgs], { cwd: ROOT, env: { ...process.env, EDLAKE_PII_KEY: PII, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let peak = 0;
    c.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    c.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const poll = setInterval(() => {
      try {
        const kb = Number(/VmHWM:\s+(\d+)/.exec(fs.readFileSync(`/proc/${c.pid}/status`, 'utf8'))?.[1] ?? 0);
        if (kb > peak) peak = kb;
      } catch {
        // exited between two polls
      }
    }, 200);
    c.on('error', reject);
    c.on('close', (code) => {
      clearInterval(poll);
      resolve({ code, seconds: (performance.now() - t0) / 1000, peakRssMb: Math.round(peak / 1024), stdout, stderr });
    });
  });
}

/** Hard links of the landing folders of deliveries up to `through` (<source>/<YYYY-MM-DD>/files). */
function linkLanding(all: string, out: string, through: string): void {
  fs.rmSync(out, { recursive: true, force: true });
  for (const source of fs.readdirSync(all)) {
    for (const date of fs.readdirSync(path.join(all, source))) {
      if (/^\d{4}-\d{2}-\d{2}$/.test(date) && date > through) continue;
      const walk = (from: string, to: string) => {
        fs.mkdirSync(to, { recursive: true });
        for (const e of fs.readdirSync(from, { withFileTypes: true })) {
          if (e.isDirectory()) walk(path.join(from, e.name), path.join(to, e.name));
          else fs.linkSync(path.join(from, e.name), path.join(to, e.name));
        }
      };
      walk(path.join(all, source, date), path.join(out, source, date));
    }
  }
}

interface RunFigures {
  night: string;
  landingThrough: string;
  status: string;
  wallSeconds: number;
  peakRssMb: number;
  stagesMs: Record<string, number>;
  snapshotId: number | null;
  filesWritten?: number;
  bytesWritten?: number;
  rowsDelivered?: number;
}

async function pipelineRun(night: string, landing: string, lake: string, landingThrough: string, publishAt: string): Promise<RunFigures> {
  say(`pipeline run (${night}): deliveries through ${landingThrough}`);
  const before = new Set(fs.existsSync(path.join(lake, 'runs')) ? fs.readdirSync(path.join(lake, 'runs')) : []);
  const r = await measured(['pipeline', 'run', '--landing', landing, '--lake', lake, '--quiet'], { EDLAKE_TEST_PUBLISH_TIME: publishAt });
  const fresh = fs.readdirSync(path.join(lake, 'runs')).filter((f) => f.endsWith('.json') && !before.has(f));
  const record = fresh.length === 1 ? (JSON.parse(fs.readFileSync(path.join(lake, 'runs', fresh[0]!), 'utf8')) as {
    status: string;
    durations: Record<string, number>;
    summary: { rows: { delivered: number } };
    stages: { publish?: { snapshotId?: number; filesWritten?: number; bytesWritten?: number } };
  }) : undefined;
  if (r.code !== 0 || !record) throw new Error(`pipeline run (${night}) failed (exit ${r.code}):\n${r.stderr.slice(-4000)}`);
  const p = record.stages.publish;
  say(`  ${record.status} in ${r.seconds.toFixed(1)} s, peak ${r.peakRssMb} MB, snapshot ${p?.snapshotId ?? 'none'}`);
  return {
    night,
    landingThrough,
    status: record.status,
    wallSeconds: Math.round(r.seconds * 10) / 10,
    peakRssMb: r.peakRssMb,
    stagesMs: record.durations,
    snapshotId: p?.snapshotId ?? null,
    ...(p?.filesWritten !== undefined ? { filesWritten: p.filesWritten } : {}),
    ...(p?.bytesWritten !== undefined ? { bytesWritten: p.bytesWritten } : {}),
    rowsDelivered: record.summary.rows.delivered,
  };
}

interface Server {
  port: number;
  pid: number;
  stop(): Promise<void>;
  rssMb(): number;
}

function startServe(lake: string): Promise<Server> {
  const c = spawn(process.execPath, ['--import', 'tsx', CLI, 'serve', '--lake', lake, '--port', '0'], {
    cwd: ROOT,
    env: { ...process.env, EDLAKE_JWT_SECRET: SECRET, EDLAKE_PII_KEY: PII, EDLAKE_API_QUERY_TIMEOUT_MS: '60000', EDLAKE_JWT_JWKS_URL: '', EDLAKE_JWT_JWKS_FILE: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  return new Promise((resolve, reject) => {
    const onData = (b: Buffer) => {
      out += b.toString();
      const m = /"msg":"edlake API listening"[^\n]*"port":(\d+)/.exec(out);
      if (m) {
        c.stdout.off('data', onData);
        resolve({
          port: Number(m[1]),
          pid: c.pid!,
          rssMb: () => Math.round(Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${c.pid}/status`, 'utf8'))?.[1] ?? 0) / 1024),
          stop: () =>
            new Promise<void>((done) => {
              c.once('close', () => done());
              c.kill('SIGTERM');
            }),
        });
      }
    };
    c.stdout.on('data', onData);
    c.stderr.on('data', (b: Buffer) => (out += b.toString()));
    c.on('close', (code) => reject(new Error(`edlake serve exited (${code}):\n${out}`)));
  });
}

/** The load generator, in its own process: autocannon with the given requests, exact percentiles. */
// With \`cycle\` (a list of tokens), the one request is sent once with each token in turn, shared by
// every connection (one counter in this process), and the run ends after one round (\`amount\`):
// each caller's first request, which the server's response cache cannot have seen.
const LOAD_CHILD = `
import autocannon from 'autocannon';
import { readFileSync } from 'node:fs';
const cfg = JSON.parse(readFileSync(process.env.BENCH_LOAD_FILE, 'utf8'));
const lat = [];
let gqlErrors = 0;
let next = 0;
const cycle = cfg.cycle ?? null;
const requests = cfg.requests.map((r) => ({
  ...r,
  ...(cycle ? { setupRequest: (req) => ({ ...req, headers: { ...req.headers, authorization: 'Bearer ' + cycle[next++ % cycle.length] } }) } : {}),
  onResponse: (status, body) => { if (status === 200 && body.includes('"errors"')) gqlErrors++; },
}));
const inst = autocannon({ url: cfg.url, connections: cfg.connections, ...(cycle ? { amount: cycle.length } : { duration: cfg.duration }), requests, timeout: 60 });
inst.on('response', (_c, status, _b, ms) => { if (status >= 200 && status < 300) lat.push(ms); });
const res = await new Promise((resolve, reject) => inst.on('done', resolve).on('error', reject));
lat.sort((a, b) => a - b);
const pct = (p) => lat.length ? lat[Math.min(lat.length - 1, Math.ceil((p / 100) * lat.length) - 1)] : null;
console.log(JSON.stringify({
  requests: lat.length + res.non2xx, ok: lat.length, non2xx: res.non2xx, errors: res.errors, timeouts: res.timeouts, gqlErrors,
  seconds: res.duration, rps: (lat.length + res.non2xx) / res.duration,
  p50: pct(50), p95: pct(95), p99: pct(99), max: lat[lat.length - 1] ?? null, mean: lat.reduce((a, b) => a + b, 0) / (lat.length || 1),
}));
`;

interface LoadResult {
  name: string;
  requests: number;
  ok: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  gqlErrors: number;
  seconds: number;
  rps: number;
  p50: number | null;
  p95: number | null;
  p99: number | null;
  max: number | null;
  mean: number;
}

function load(name: string, port: number, requests: Array<{ token: string; query: string }>, cycle?: string[]): Promise<LoadResult> {
  const cfg = {
    url: `http://127.0.0.1:${port}`,
    duration,
    ...(cycle ? { cycle } : {}),
    // autocannon refuses more connections than requests (a district with 4 principals)
    connections: cycle ? Math.min(connections, cycle.length) : connections,
    requests: requests.map((r) => ({
      method: 'POST',
      path: '/graphql',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${r.token}` },
      body: JSON.stringify({ query: r.query }),
    })),
  };
  // the load's settings go through a file: thousands of tokens exceed what one environment variable may hold
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edlake-load-'));
  const file = path.join(dir, 'load.json');
  fs.writeFileSync(file, JSON.stringify(cfg), { mode: 0o600 });
  return new Promise<LoadResult>((resolve, reject) => {
    const c = spawn(process.execPath, ['--input-type=module', '-e', LOAD_CHILD], { cwd: ROOT, env: { ...process.env, BENCH_LOAD_FILE: file }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    c.stdout.on('data', (b: Buffer) => (out += b.toString()));
    c.stderr.on('data', (b: Buffer) => (err += b.toString()));
    c.on('close', (code) => {
      if (code !== 0) return reject(new Error(`load generator exited ${code}: ${err}`));
      resolve({ name, ...(JSON.parse(out) as Omit<LoadResult, 'name'>) });
    });
  }).finally(() => fs.rmSync(dir, { recursive: true, force: true }));
}

function readCsv(file: string): Array<Record<string, string>> {
  const [head, ...lines] = fs.readFileSync(file, 'utf8').split('\n').filter((l) => l !== '');
  const cols = head!.split(',');
  return lines.filter((l) => !l.includes('"')).map((l) => Object.fromEntries(l.split(',').map((v, i) => [cols[i]!, v])));
}

async function main(): Promise<void> {
  const startedAt = new Date();
  const machine = {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    memoryGb: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    loadAverageAtStart: os.loadavg().map((x) => Math.round(x * 100) / 100),
  };
  const out = path.resolve(args.out ?? path.join(ROOT, 'bench', 'out', `district-${students}-${args.seed}-${args.through}`));
  const landing = path.join(out, 'landing');
  const lake = path.join(out, 'lake');
  const early = addDays(args.through, -30);

  let generation: { seconds: number; peakRssMb: number; reused: boolean } = { seconds: 0, peakRssMb: 0, reused: true };
  if (!fs.existsSync(path.join(out, 'truth', 'sections.csv'))) {
    say(`generating ${students} students through ${args.through} into ${out}`);
    fs.rmSync(out, { recursive: true, force: true });
    const g = await measured(['generate', '--students', String(students), '--seed', args.seed, '--through', args.through, '--out', out, '--quiet']);
    if (g.code !== 0) throw new Error(`generate failed: ${g.stderr}`);
    generation = { seconds: Math.round(g.seconds * 10) / 10, peakRssMb: g.peakRssMb, reused: false };
    say(`  generated in ${g.seconds.toFixed(1)} s`);
  } else say(`reusing the district in ${out}`);

  const runs: RunFigures[] = [];
  if (!args['reuse-lake'] || !(await readCurrent(lake))) {
    fs.rmSync(lake, { recursive: true, force: true });
    const earlyLanding = path.join(out, `landing-through-${early}`);
    linkLanding(landing, earlyLanding, early);
    runs.push(await pipelineRun('first load, 30 days before', earlyLanding, lake, early, `${addDays(early, 1)}T10:00:00Z`));
    runs.push(await pipelineRun('a month of deliveries later', landing, lake, args.through, `${addDays(args.through, 1)}T10:00:00Z`));
    fs.rmSync(earlyLanding, { recursive: true, force: true });
  } else {
    runs.push(await pipelineRun('another night, no new delivery', landing, lake, args.through, new Date().toISOString()));
  }
  const lakeBytes = (() => {
    let n = 0;
    const walk = (d: string) => {
      for (const e of fs.readdirSync(d, { withFileTypes: true })) {
        const p = path.join(d, e.name);
        if (e.isDirectory()) walk(p);
        else n += fs.statSync(p).size;
      }
    };
    walk(path.join(lake, 'snapshots'));
    return n;
  })();

  say('starting edlake serve');
  const server = await startServe(lake);
  const ready = await fetch(`http://127.0.0.1:${server.port}/readyz`);
  if (!ready.ok) throw new Error(`server not ready: ${await ready.text()}`);
  // the serving index of the current snapshot builds in the background (/readyz starts it): wait
  // for it, as a server would have after a publish, so that the rows measure the serving path
  const t0 = performance.now();
  for (;;) {
    const r = (await (await fetch(`http://127.0.0.1:${server.port}/readyz`)).json()) as { servingIndex?: string };
    if (r.servingIndex !== 'building') {
      say(`  serving index ${r.servingIndex ?? 'unknown'} after ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      break;
    }
    if (performance.now() - t0 > 15 * 60_000) throw new Error('the serving index took over 15 minutes to build');
    await new Promise((done) => setTimeout(done, 500));
  }
  const rssAtStart = server.rssMb();

  const config = loadConfig({}, { EDLAKE_JWT_SECRET: SECRET });
  const tok = (role: Role, staffId?: string) => mintToken(config, { role, ...(staffId ? { staffId } : {}), subject: staffId ?? `bench-${role}`, ttlSeconds: 6 * 3600 });
  const sections = readCsv(path.join(out, 'truth', 'sections.csv')).filter((s) => s['subject'] !== 'homeroom' && s['teacher_id']);
  const teachers = [...new Set(sections.map((s) => s['teacher_id']!))];
  const step = Math.max(1, Math.floor(teachers.length / 64));
  const teacherIds = teachers.filter((_, i) => i % step === 0).slice(0, 64);
  const principalIds = [...new Set(readCsv(path.join(out, 'truth', 'schools.csv')).map((s) => s['principal_id']!).filter((x) => x))].slice(0, 32);
  const teacherTokens = await Promise.all(teacherIds.map((id) => tok('teacher', id)));
  const principalTokens = await Promise.all(principalIds.map((id) => tok('principal', id)));
  const analyst = await tok('data_analyst');
  const auditor = await tok('auditor');
  const asOf = addDays(early, 1);
  const roster = (sel: string) => `{ published${sel} { snapshot { id } sections(first: 10) { edges { node { key students { key gradeLevel attendance { tier absenceRate } riskProfile { riskTier } } } } } } }`;
  const equity = (sel: string) => `{ published${sel} { snapshot { id } equityOutcomes { studentGroup students suppressed attendanceRate chronicAbsenceRate } } }`;
  const district = `{ published { snapshot { id } attendanceSummary(groupBy: [SCHOOL, GRADE]) { schoolKey gradeLevel students chronicAbsenceRate attendanceRate } } }`;
  const past = `(asOf: "${asOf}")`;
  // Every teacher of the district (homerooms included), for the uncached rows: each one's first request
  const everyTeacher = [...new Set(readCsv(path.join(out, 'truth', 'sections.csv')).map((s) => s['teacher_id']!).filter((x) => x))];
  const everyTeacherTokens = await Promise.all(everyTeacher.map((id) => tok('teacher', id)));
  const principalsAll = [...new Set(readCsv(path.join(out, 'truth', 'schools.csv')).map((s) => s['principal_id']!).filter((x) => x))];
  const everyPrincipalTokens = await Promise.all(principalsAll.map((id) => tok('principal', id)));
  // Uncached first: each caller's first request after a publish (no response cached, scope derived
  // on the way), every teacher and every principal once; then the usual rows, which repeat callers.
  const scenarios: Array<{ name: string; target?: string; requests: Array<{ token: string; query: string }>; cycle?: string[] }> = [
    { name: `teacher, uncached: first request of each of the ${everyTeacherTokens.length} teachers`, target: 'p95 < 15 ms (issue 6), response cache missed', requests: [{ token: everyTeacherTokens[0]!, query: roster('') }], cycle: everyTeacherTokens },
    { name: `principal, uncached: first request of each of the ${everyPrincipalTokens.length} principals`, target: 'p95 < 50 ms (issue 6), response cache missed', requests: [{ token: everyPrincipalTokens[0]!, query: equity('') }], cycle: everyPrincipalTokens },
    { name: 'teacher: section rosters with risk tiers', target: 'p95 < 15 ms, >= 1,000 req/s (issue 6)', requests: teacherTokens.map((token) => ({ token, query: roster('') })) },
    { name: 'principal: school equity table', target: 'p95 < 50 ms (issue 6)', requests: principalTokens.map((token) => ({ token, query: equity('') })) },
    { name: 'analyst: district aggregate by school and grade', target: 'p95 < 100 ms (issue 6)', requests: [{ token: analyst, query: district }] },
    { name: `auditor: equity table as of ${asOf}`, target: 'within 1.5x of current (issue 6)', requests: [{ token: auditor, query: equity(past) }] },
    { name: `teacher: rosters as of ${asOf}`, target: 'within 1.5x of current (issue 6)', requests: teacherTokens.map((token) => ({ token, query: roster(past) })) },
  ];
  // A server that has been up answers the morning's first requests: warm it up (code paths, DuckDB
  // connections, prepared statements) with the same queries as the analyst, whose answers are no
  // teacher's or principal's; no measured caller is seen before its row.
  for (const query of [roster(''), equity(''), district, roster(past), equity(past)]) {
    const res = await fetch(`http://127.0.0.1:${server.port}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${analyst}` }, body: JSON.stringify({ query }) });
    const body = (await res.json()) as { errors?: unknown[] };
    if (res.status !== 200 || body.errors) throw new Error(`warm-up: ${res.status} ${JSON.stringify(body.errors ?? body).slice(0, 500)}`);
  }
  // Every request of a steady-state row answers once, without errors, before it is timed (just
  // before its load, so that the uncached rows, which come first, meet callers the server has not
  // seen): each row then measures callers the server has met, the current and the past snapshot
  // alike (autocannon sends a connection's requests in order, so an unwarmed row would start with
  // all connections on the same cold callers). The uncached rows are checked by their own load: a
  // response with errors counts as an error.
  const results: Array<LoadResult & { target?: string; answeredBy: string }> = [];
  for (const s of scenarios) {
    let answeredBy = 'each caller once (errors counted)';
    if (!s.cycle) {
      const ids = new Set<string>();
      for (const r of s.requests) {
        const res = await fetch(`http://127.0.0.1:${server.port}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${r.token}` }, body: JSON.stringify({ query: r.query }) });
        const body = (await res.json()) as { data?: { published?: { snapshot?: { id: string } } }; errors?: unknown[] };
        if (res.status !== 200 || body.errors) throw new Error(`${s.name}: ${res.status} ${JSON.stringify(body.errors ?? body).slice(0, 500)}`);
        ids.add(String(body.data?.published?.snapshot?.id));
      }
      answeredBy = `answered by snapshot ${[...ids].join(', ')}`;
    }
    say(`load: ${s.name} (${connections} connections, ${s.cycle ? `${s.cycle.length} requests` : `${duration} s`})`);
    const r = await load(s.name, server.port, s.requests, s.cycle);
    results.push({ ...r, ...(s.target ? { target: s.target } : {}), answeredBy });
    say(`  p50 ${r.p50?.toFixed(1)} ms, p95 ${r.p95?.toFixed(1)} ms, p99 ${r.p99?.toFixed(1)} ms, ${r.rps.toFixed(0)} req/s, errors ${r.errors + r.non2xx + r.gqlErrors + r.timeouts}`);
  }
  const rssAtEnd = server.rssMb();
  await server.stop();

  // Figures the other benchmarks wrote.
  const resultsDir = path.join(ROOT, 'bench', 'results');
  fs.mkdirSync(resultsDir, { recursive: true });
  const earlier: Record<string, unknown> = {};
  for (const f of fs.readdirSync(resultsDir).sort()) {
    if (!f.endsWith('.json') || f.startsWith('bench-')) continue;
    try {
      earlier[f] = JSON.parse(fs.readFileSync(path.join(resultsDir, f), 'utf8')) as unknown;
    } catch {
      earlier[f] = 'unreadable';
    }
  }
  const stamp = startedAt.toISOString().slice(0, 10);
  const report = {
    benchmark: 'edlake bench (bench/run.ts)',
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    machine: { ...machine, loadAverageAtEnd: os.loadavg().map((x) => Math.round(x * 100) / 100) },
    district: { students, seed: Number(args.seed), through: args.through, generation },
    pipeline: runs,
    snapshotsBytes: lakeBytes,
    api: { connections, durationSeconds: duration, loadGenerator: 'autocannon (separate process)', serverRssMb: { afterStart: rssAtStart, afterLoad: rssAtEnd }, results },
    earlierBenchmarks: earlier,
  };
  const base = path.join(resultsDir, `bench-${students}-${stamp}`);
  fs.writeFileSync(`${base}.json`, `${JSON.stringify(report, null, 2)}\n`);
  const f1 = (x: number | null) => (x === null ? '-' : x.toFixed(1));
  const md = [
    `# edlake benchmark: ${students.toLocaleString('en-US')} students (${stamp})`,
    '',
    `Machine: ${machine.cpus} CPUs (${machine.cpuModel}), ${machine.memoryGb} GB, ${machine.platform}, Node ${machine.node}; load average at start ${machine.loadAverageAtStart.join(' / ')} (a shared machine: other work inflates wall times).`,
    `District: seed ${args.seed}, deliveries through ${args.through}; generation ${generation.reused ? 'reused' : `${generation.seconds} s, peak ${generation.peakRssMb} MB`}.`,
    '',
    '## Pipeline (`edlake pipeline run`, separate process)',
    '',
    '| night | deliveries through | wall s | peak RSS MB | raw s | refine s | models s | publish s | commit s | snapshot |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...runs.map((r) => {
      const s = (k: string) => (r.stagesMs[k] === undefined ? '-' : (r.stagesMs[k]! / 1000).toFixed(1));
      return `| ${r.night} | ${r.landingThrough} | ${r.wallSeconds} | ${r.peakRssMb} | ${s('raw')} | ${s('refine')} | ${s('models')} | ${s('publish')} | ${s('commit')} | ${r.snapshotId ?? '-'} |`;
    }),
    '',
    `Snapshots on disk: ${(lakeBytes / 2 ** 20).toFixed(1)} MB.`,
    '',
    `## API (\`edlake serve\` in its own process; autocannon, ${connections} connections, ${duration} s per query; an uncached row sends one request per caller)`,
    '',
    '| query | requests | p50 ms | p95 ms | p99 ms | req/s | errors | target |',
    '|---|---|---|---|---|---|---|---|',
    ...results.map((r) => `| ${r.name} | ${r.requests} | ${f1(r.p50)} | ${f1(r.p95)} | ${f1(r.p99)} | ${r.rps.toFixed(0)} | ${r.errors + r.non2xx + r.gqlErrors + r.timeouts} | ${r.target ?? ''} |`),
    '',
    `Server memory (RSS): ${rssAtStart} MB after start, ${rssAtEnd} MB after the load.`,
    '',
    '## Earlier benchmarks in bench/results/',
    '',
    ...Object.keys(earlier).map((f) => `- \`${f}\` (figures in the JSON report under \`earlierBenchmarks\`)`),
    '',
  ].join('\n');
  fs.writeFileSync(`${base}.md`, md);
  process.stdout.write(`${md}\nreport: ${base}.json\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`bench: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exitCode = 1;
});
