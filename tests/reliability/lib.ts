/**
 * Helpers for the tests that run edlake as separate processes (deployment, scale-out, reliability):
 * the CLI as a child process, `edlake serve` on a free loopback port, GraphQL calls over HTTP, and one
 * small generated district with its first night's lake, built once and shared by the test files.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config.ts';
import { mintToken } from '../../src/auth/jwt.ts';
import type { Role } from '../../src/auth/roles.ts';

export const ROOT = path.resolve(import.meta.dirname, '..', '..');
export const CLI = path.join(ROOT, 'src', 'cli.ts');
export const PII_KEY = 'reliability-test-pii-key-0123456789abcdef';
export const JWT_SECRET = 'reliability-test-jwt-secret-0123456789abcdef';

export interface Result {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** `edlake <args>` in a child process (the same command the image runs: node --import tsx src/cli.ts). */
export function spawnEdlake(args: string[], env: NodeJS.ProcessEnv = {}): { child: ChildProcess; done: Promise<Result> } {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], {
    cwd: ROOT,
    env: { ...process.env, EDLAKE_PII_KEY: PII_KEY, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (b: Buffer) => (stdout += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
  const done = new Promise<Result>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { child, done };
}

export function edlake(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Result> {
  return spawnEdlake(args, env).done;
}

export interface Served {
  port: number;
  pid: number;
  child: ChildProcess;
  /** Resident set size of the server process, in kB (from /proc). */
  rssKb(): number;
  /** SIGTERM, then the exit code (SIGKILL after 10 s). */
  stop(): Promise<number | null>;
  output(): string;
}

/** Start a server process and wait for its "listening" log line (JSON with the port). */
export function startProcess(cmd: string, args: string[], opts: { cwd: string; env: NodeJS.ProcessEnv }): Promise<Served> {
  const child = spawn(cmd, args, { cwd: opts.cwd, env: { PATH: process.env['PATH'], HOME: process.env['HOME'], ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return new Promise<Served>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start within 120 s:\n${out}`)), 120_000);
    const onData = (b: Buffer) => {
      out += b.toString();
      const m = /"msg":"edlake API listening"[^\n]*"port":(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        const pid = child.pid!;
        resolve({
          port: Number(m[1]),
          pid,
          child,
          output: () => out,
          rssKb() {
            const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
            return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
          },
          async stop() {
            if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
            child.kill('SIGTERM');
            const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
            const code = await exited;
            clearTimeout(t);
            return code;
          },
        });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('close', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited (${code}) before listening:\n${out}`));
    });
  });
}

/** `edlake serve --lake LAKE --port 0` on a free port. */
export function serve(lake: string, env: NodeJS.ProcessEnv = {}): Promise<Served> {
  return startProcess(process.execPath, ['--import', 'tsx', CLI, 'serve', '--lake', lake, '--port', '0'], {
    cwd: ROOT,
    env: { EDLAKE_JWT_SECRET: JWT_SECRET, EDLAKE_PII_KEY: PII_KEY, ...env },
  });
}

export async function token(role: Role, staffId?: string): Promise<string> {
  const config = loadConfig({}, { EDLAKE_JWT_SECRET: JWT_SECRET });
  // the generated lake holds two districts and the oracle counts every row of the Parquet: district-wide
  // tokens carry the "*" tenant claim (without a claim a caller reads EDLAKE_TENANT only, decision 0605)
  const tenant = staffId === undefined ? { tenant: '*' } : {};
  return mintToken(config, { role, ...(staffId ? { staffId } : {}), ...tenant, subject: staffId ?? `test-${role}`, ttlSeconds: 3600 });
}

export interface Gql {
  status: number;
  body: { data?: Record<string, unknown> | null; errors?: Array<{ message: string; extensions?: { code?: string } }> };
}

export async function gql(port: number, bearer: string, query: string, variables?: Record<string, unknown>): Promise<Gql> {
  const res = await fetch(`http://127.0.0.1:${port}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${bearer}` },
    body: JSON.stringify({ query, ...(variables ? { variables } : {}) }),
  });
  return { status: res.status, body: (await res.json()) as Gql['body'] };
}

// ---------------------------------------------------------------------------------------------
// The shared district: 150 students generated through NIGHT2; landing folders split at NIGHT1.

export const STUDENTS = 150;
export const SEED = 11;
export const NIGHT1 = '2025-09-30';
export const NIGHT2 = '2025-10-02';

/** Hash of the code that generated and processed the cached district (a change rebuilds it). */
function codeHash(): string {
  const h = createHash('sha256');
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.(ts|sql|json|csv|yml|yaml)$/.test(e.name)) h.update(p).update(fs.readFileSync(p));
    }
  };
  for (const d of ['src', 'pipeline', 'sql', 'seeds']) walk(path.join(ROOT, d));
  h.update(fs.readFileSync(path.join(ROOT, 'package-lock.json')));
  return h.digest('hex').slice(0, 16);
}

export interface District {
  /** Deliveries through NIGHT1 only. */
  landing1: string;
  /** Every delivery through NIGHT2. */
  landing2: string;
  /** A lake after the first night's run (snapshot 1): copy it with `lakeCopy`, never use it in place. */
  lake1: string;
}

/** Copy the landing folders of deliveries up to `through` (folders are <source>/<YYYY-MM-DD>/). */
function splitLanding(all: string, out: string, through: string): void {
  for (const source of fs.readdirSync(all)) {
    for (const date of fs.readdirSync(path.join(all, source))) {
      if (/^\d{4}-\d{2}-\d{2}$/.test(date) && date > through) continue;
      fs.cpSync(path.join(all, source, date), path.join(out, source, date), { recursive: true });
    }
  }
}

/**
 * The district and its first night's lake, built once per code version in the system's temp folder
 * and shared by every test file (a lock directory makes parallel files wait for the first builder).
 */
export async function sharedDistrict(): Promise<District> {
  const base = path.join(os.tmpdir(), 'edlake-test-district');
  const dir = path.join(base, `${STUDENTS}-${SEED}-${NIGHT2}-${codeHash()}`);
  const ready = path.join(dir, 'READY');
  const d: District = { landing1: path.join(dir, 'landing1'), landing2: path.join(dir, 'gen', 'landing'), lake1: path.join(dir, 'lake1') };
  if (fs.existsSync(ready)) return d;
  fs.mkdirSync(base, { recursive: true });
  const lock = `${dir}.building`;
  let mine = false;
  const holderAlive = () => {
    try {
      process.kill(Number(fs.readFileSync(path.join(lock, 'pid'), 'utf8')), 0);
      return true;
    } catch (e) {
      // No pid yet (just created) counts as alive; a dead builder's lock is taken over.
      return (e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'EPERM';
    }
  };
  const take = () => {
    fs.mkdirSync(lock);
    fs.writeFileSync(path.join(lock, 'pid'), String(process.pid));
    mine = true;
  };
  try {
    take();
  } catch {
    // Another test file builds it; a builder that died leaves its lock, taken over once its pid is gone.
    const started = Date.now();
    while (!fs.existsSync(ready)) {
      if (Date.now() - started > 300_000) throw new Error(`shared district not ready after 5 minutes (lock ${lock})`);
      if (!fs.existsSync(lock)) break;
      if (!holderAlive()) {
        fs.rmSync(lock, { recursive: true, force: true });
        break;
      }
      await new Promise((r) => setTimeout(r, 500));
    }
    if (fs.existsSync(ready)) return d;
    take();
  }
  try {
    // Older versions of the cache are of no use any more.
    for (const old of fs.readdirSync(base)) if (old !== path.basename(dir) && !old.endsWith('.building')) fs.rmSync(path.join(base, old), { recursive: true, force: true });
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    let r = await edlake(['generate', '--students', String(STUDENTS), '--seed', String(SEED), '--out', path.join(dir, 'gen'), '--through', NIGHT2, '--quiet']);
    if (r.code !== 0) throw new Error(`generate failed: ${r.stderr}`);
    splitLanding(d.landing2, d.landing1, NIGHT1);
    r = await edlake(['pipeline', 'run', '--landing', d.landing1, '--lake', d.lake1, '--quiet']);
    if (r.code !== 0) throw new Error(`first night's run failed: ${r.stderr}`);
    fs.writeFileSync(ready, new Date().toISOString());
    return d;
  } finally {
    if (mine) fs.rmSync(lock, { recursive: true, force: true });
  }
}

/** A private copy of a lake (the working database, raw archive, identity store, snapshots). */
export function lakeCopy(lake: string, into: string): string {
  fs.cpSync(lake, into, { recursive: true });
  fs.rmSync(path.join(into, '.lock'), { force: true });
  return into;
}

/** A query an analyst may run, naming its snapshot; the students' days are checked against Parquet. */
export const ANALYST_QUERY = `{ published { snapshot { id dataThrough } chronicAbsenteeismRisk(first: 5) { totalCount edges { node { daysEnrolled daysAbsent student { key } } } } } }`;

export interface AnalystAnswer {
  snapshot: { id: string; dataThrough: string | null };
  chronicAbsenteeismRisk: { totalCount: number; edges: Array<{ node: { daysEnrolled: number; daysAbsent: number; student: { key: string } } }> };
}

/**
 * What snapshot `id` holds for the analyst query, read with plain DuckDB from the Parquet files its
 * manifest names (nothing of edlake's reader): the row count and each student's days.
 */
export class SnapshotOracle {
  private cache = new Map<number, Promise<{ rows: number; days: Map<string, { enrolled: number; absent: number }> }>>();
  constructor(private readonly lake: string) {}

  private load(id: number) {
    let p = this.cache.get(id);
    if (!p) {
      p = (async () => {
        const { DuckDBInstance } = await import('@duckdb/node-api');
        const root = path.join(this.lake, 'snapshots');
        const m = JSON.parse(fs.readFileSync(path.join(root, 'manifests', `${id}.json`), 'utf8')) as {
          tables: Array<{ schema: string; name: string; row_count: number; files: Array<{ path: string }> }>;
        };
        const t = m.tables.find((x) => x.schema === 'marts' && x.name === 'v_chronic_absenteeism_risk');
        if (!t) throw new Error(`snapshot ${id} has no marts.v_chronic_absenteeism_risk`);
        const files = t.files.map((f) => `'${path.join(root, f.path).replaceAll("'", "''")}'`).join(', ');
        const inst = await DuckDBInstance.create(':memory:');
        const c = await inst.connect();
        const rows = (await c.runAndReadAll(`select student_key, days_enrolled::double e, days_absent::double a from read_parquet([${files}])`)).getRowObjectsJson() as Array<{ student_key: string; e: number; a: number }>;
        c.closeSync();
        inst.closeSync();
        if (rows.length !== t.row_count) throw new Error(`snapshot ${id}: ${rows.length} rows in the files, ${t.row_count} in the manifest`);
        return { rows: rows.length, days: new Map(rows.map((r) => [r.student_key, { enrolled: Number(r.e), absent: Number(r.a) }])) };
      })();
      this.cache.set(id, p);
    }
    return p;
  }

  /** Problems of an answer against the snapshot it names (empty when the answer is wholly that snapshot's). */
  async check(a: AnalystAnswer): Promise<string[]> {
    const id = Number(a.snapshot.id);
    const s = await this.load(id);
    const problems: string[] = [];
    if (a.chronicAbsenteeismRisk.totalCount !== s.rows) problems.push(`snapshot ${id}: totalCount ${a.chronicAbsenteeismRisk.totalCount}, Parquet has ${s.rows} rows`);
    for (const e of a.chronicAbsenteeismRisk.edges) {
      const want = s.days.get(e.node.student.key);
      if (!want) problems.push(`snapshot ${id}: student ${e.node.student.key} is not in the snapshot`);
      else if (want.enrolled !== e.node.daysEnrolled || Math.abs(want.absent - e.node.daysAbsent) > 1e-9) {
        problems.push(`snapshot ${id}: student ${e.node.student.key} has ${e.node.daysEnrolled}/${e.node.daysAbsent} days, Parquet ${want.enrolled}/${want.absent}`);
      }
    }
    return problems;
  }

  /** Whether the two snapshots differ on the students the query shows (so a mixed answer would be caught). */
  async differ(a: number, b: number): Promise<number> {
    const [x, y] = await Promise.all([this.load(a), this.load(b)]);
    let n = 0;
    for (const [k, v] of x.days) {
      const w = y.days.get(k);
      if (!w || w.enrolled !== v.enrolled || w.absent !== v.absent) n++;
    }
    return n;
  }
}
