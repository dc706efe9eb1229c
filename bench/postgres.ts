/**
 * Benchmark (not a test): a section's roster lookup with risk tiers (about 30 students: section
 * membership joined to the student, attendance-risk and wellbeing-risk rows), in PostgreSQL with
 * its natural indexes beside edlake's three ways of answering it:
 *
 *   - the serving index the API holds for an opened snapshot (resolvers/serving.ts, decision 0602),
 *     scope check included as the API applies it;
 *   - DuckDB SQL over the snapshot's in-memory serving tables (the API's SQL path);
 *   - DuckDB SQL over the snapshot's Parquet files (no serving layout at all).
 *
 * The data is the synthetic district of bench/api.ts (same tables, same keys, 6 active sections per
 * student, ~30 students per section), loaded into a throw-away PostgreSQL cluster on 127.0.0.1
 * (initdb in a temporary directory, run as the `postgres` OS user when we are root), stopped and
 * removed at the end. Every lookup's answer is checked against the serving index's (same student
 * keys and tiers), so the four paths are compared on the same work.
 *
 *   tsx bench/postgres.ts [--students 100000] [--dir DIR] [--seconds 5] [--clients 32] [--pg-bin /usr/local/bin]
 *
 * Without PostgreSQL (no initdb/pg_ctl in --pg-bin or on PATH) it says so and exits 0.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { Db, literal } from '../src/db/duckdb.ts';
import { Pool } from '../src/db/pool.ts';
import { InstanceSnapshotSource } from '../resolvers/snapshots.ts';
import { servingIndex, type ServingIndex } from '../resolvers/serving.ts';
import type { Scope } from '../resolvers/scope.ts';
import { parquetSnapshot, synthetic } from './api.ts';

const { values: args } = parseArgs({
  options: {
    students: { type: 'string', default: '100000' },
    dir: { type: 'string' },
    seconds: { type: 'string', default: '5' },
    clients: { type: 'string', default: '32' },
    'pg-bin': { type: 'string' },
    sections: { type: 'string', default: '2000' },
  },
});

interface Rostered {
  student_key: string;
  grade_number: number;
  tier_code: string | null;
  absence_rate: number | null;
  risk_tier: string | null;
}
type Lookup = (section: string) => Promise<Rostered[]>;

/** The roster statement, the same text in PostgreSQL ($1) and DuckDB ($section). */
function rosterSql(param: string): string {
  return `SELECT s.student_key, s.grade_number, c.tier_code, c.absence_rate, w.risk_tier
    FROM fct_section_membership m
    JOIN dim_student s ON s.student_key = m.student_key
    LEFT JOIN v_chronic_absenteeism_risk c ON c.student_key = m.student_key
    LEFT JOIN v_wellbeing_risk_profiles w ON w.student_key = m.student_key
   WHERE m.section_key = ${param} AND m.is_active
   ORDER BY s.student_key`;
}

function findPgBin(): string | undefined {
  const candidates = [args['pg-bin'], process.env.PG_BIN, '/usr/local/bin', '/usr/lib/postgresql/15/bin', ...(process.env.PATH ?? '').split(':')];
  for (const c of candidates) if (c && existsSync(path.join(c, 'initdb')) && existsSync(path.join(c, 'pg_ctl'))) return c;
  return undefined;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const a = srv.address();
      srv.close(() => (a && typeof a === 'object' ? resolve(a.port) : reject(new Error('no port'))));
    });
  });
}

/** A throw-away PostgreSQL cluster: initdb, start on 127.0.0.1:port, stop and remove. */
class TempPostgres {
  readonly dir: string;
  readonly data: string;
  private readonly asUser: string[];
  private started = false;

  constructor(readonly bin: string, readonly port: number) {
    this.dir = mkdtempSync(path.join(tmpdir(), 'edlake-pg-'));
    this.data = path.join(this.dir, 'data');
    mkdirSync(this.data);
    chmodSync(this.dir, 0o755);
    // PostgreSQL refuses to run as root: the data directory belongs to the postgres OS user
    const root = process.getuid?.() === 0;
    if (root) {
      const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
      const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
      chownSync(this.dir, uid, gid);
      chownSync(this.data, uid, gid);
    }
    this.asUser = root ? ['runuser', '-u', 'postgres', '--'] : [];
  }

  private run(cmd: string, argv: string[]): void {
    const [exe, ...rest] = [...this.asUser, path.join(this.bin, cmd), ...argv] as [string, ...string[]];
    execFileSync(exe, rest, { stdio: ['ignore', 'ignore', 'inherit'] });
  }

  start(): void {
    this.run('initdb', ['-D', this.data, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8', '--locale=C']);
    const opts = `-c listen_addresses=127.0.0.1 -p ${this.port} -k ${this.dir} -c shared_buffers=512MB -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=100`;
    this.run('pg_ctl', ['-D', this.data, '-o', opts, '-l', path.join(this.dir, 'log'), '-w', 'start']);
    this.started = true;
  }

  stop(): void {
    try {
      if (this.started) this.run('pg_ctl', ['-D', this.data, '-m', 'fast', '-w', 'stop']);
    } finally {
      this.started = false;
      rmSync(this.dir, { recursive: true, force: true });
    }
  }
}

interface Figures { name: string; n: number; p50: number; p95: number; p99: number; perSec: number }

function figures(name: string, lat: number[], seconds: number): Figures {
  lat.sort((a, b) => a - b);
  const pct = (p: number) => lat[Math.min(lat.length - 1, Math.floor((p / 100) * lat.length))] ?? NaN;
  return { name, n: lat.length, p50: pct(50), p95: pct(95), p99: pct(99), perSec: lat.length / seconds };
}

/** `clients` callers looking rosters up back to back for `seconds`. */
async function measure(name: string, lookup: Lookup, sections: string[], clients: number, seconds: number): Promise<Figures> {
  for (let i = 0; i < Math.min(200, sections.length); i++) await lookup(sections[i] as string); // warm-up
  const lat: number[] = [];
  let i = 0;
  const t0 = performance.now();
  const until = t0 + seconds * 1000;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (performance.now() < until) {
        const sec = sections[i++ % sections.length] as string;
        const s = performance.now();
        const rows = await lookup(sec);
        lat.push(performance.now() - s);
        if (rows.length === 0) throw new Error(`${name}: empty roster for ${sec}`);
      }
    }),
  );
  return figures(name, lat, (performance.now() - t0) / 1000);
}

/** The serving index's answer (what Section.students + attendance + riskProfile read), with the API's scope check. */
function indexLookup(ix: ServingIndex, scope: Scope): (section: string) => Rostered[] {
  return (section) => {
    if (!ix.allowsSection(scope, section, ix.sectionSchool.get(section))) return [];
    const out: Rostered[] = [];
    for (const k of ix.members.get(section) ?? []) {
      const st = ix.students.get(k);
      if (!st || !ix.allows(scope, k, st.school_key)) continue;
      const c = ix.chronic.get(k);
      const w = ix.wellbeing.get(k);
      out.push({ student_key: k, grade_number: Number(st.grade_level), tier_code: c?.tier ?? null, absence_rate: c ? Number(c.absence_rate_ytd) : null, risk_tier: w?.risk_tier ?? null });
    }
    return out;
  };
}

function same(a: Rostered[], b: Rostered[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as Rostered;
    const y = b[i] as Rostered;
    if (x.student_key !== y.student_key || x.tier_code !== y.tier_code || x.risk_tier !== y.risk_tier || Number(x.grade_number) !== Number(y.grade_number)) return false;
    if (x.absence_rate !== null && y.absence_rate !== null && Math.abs(x.absence_rate - y.absence_rate) > 1e-9) return false;
  }
  return true;
}

async function main(): Promise<void> {
  const bin = findPgBin();
  if (!bin) {
    process.stdout.write('bench/postgres: PostgreSQL not found (no initdb and pg_ctl in --pg-bin, $PG_BIN, /usr/local/bin or PATH): skipped\n');
    return;
  }
  const students = Number(args.students);
  const seconds = Number(args.seconds);
  const clients = Number(args.clients);
  const keep = args.dir !== undefined ? path.join(args.dir, String(students)) : undefined;
  const base = keep ?? mkdtempSync(path.join(tmpdir(), 'edlake-pgbench-'));
  const snapDir = existsSync(path.join(base, 'snap2', 'v_wellbeing_risk_profiles.parquet')) ? path.join(base, 'snap2') : await synthetic(base, students, 2, 0);
  const load1 = loadavg()[0]?.toFixed(2);

  // edlake: the snapshot opened as the API opens it (in-memory serving tables), its serving index,
  // and a second reader over the bare Parquet files
  const inst = await parquetSnapshot(snapDir, 2);
  const source = new InstanceSnapshotSource(() => [{ info: { id: 2, publishedAt: '2026-03-28T10:00:00.000Z', dataThrough: '2026-03-27', runId: 'bench' }, instance: inst }], 'America/Los_Angeles', 2);
  const snap = await source.open(2);
  const ix = await servingIndex(snap);
  if (!ix) throw new Error('serving index not built');
  const parquetInst = await parquetSnapshot(snapDir, 2);
  const parquetPool = await Pool.create(parquetInst, 2, ['SET search_path = marts']);
  const all = [...ix.members.keys()].sort();
  // a fixed pseudo-random sample of sections
  const sections: string[] = [];
  for (let i = 0, n = Math.min(Number(args.sections), all.length); i < n; i++) sections.push(all[(i * 7919) % all.length] as string);

  // PostgreSQL: the same four tables, the columns the lookup reads, natural indexes
  const port = await freePort();
  const pgs = new TempPostgres(bin, port);
  const csvDir = path.join(pgs.dir, 'csv');
  mkdirSync(csvDir);
  chmodSync(csvDir, 0o777);
  const prep = new Db(await parquetInst.connect());
  const tables: Record<string, { cols: string; ddl: string }> = {
    fct_section_membership: { cols: 'section_key, student_key, is_active', ddl: 'section_key text NOT NULL, student_key text NOT NULL, is_active boolean NOT NULL' },
    dim_student: { cols: 'student_key, school_key, grade_number', ddl: 'student_key text PRIMARY KEY, school_key text NOT NULL, grade_number integer' },
    v_chronic_absenteeism_risk: { cols: 'student_key, tier_code, absence_rate', ddl: 'student_key text PRIMARY KEY, tier_code text, absence_rate double precision' },
    v_wellbeing_risk_profiles: { cols: 'student_key, risk_tier, risk_score', ddl: 'student_key text PRIMARY KEY, risk_tier text, risk_score double precision' },
  };
  for (const [t, { cols }] of Object.entries(tables)) {
    const f = path.join(csvDir, `${t}.csv`);
    await prep.run(`COPY (SELECT ${cols} FROM marts.${t}) TO ${literal(f)} (FORMAT csv, HEADER false)`);
    chmodSync(f, 0o644);
  }
  prep.close();
  const results: Figures[] = [];
  let pgLoadS = 0;
  let pool: pg.Pool | undefined;
  const cleanup = () => pgs.stop();
  process.once('SIGINT', () => {
    cleanup();
    process.exit(130);
  });
  try {
    pgs.start();
    pool = new pg.Pool({ host: '127.0.0.1', port, user: 'postgres', database: 'postgres', max: clients });
    const t0 = performance.now();
    for (const [t, { ddl }] of Object.entries(tables)) {
      await pool.query(`CREATE TABLE ${t} (${ddl})`);
      await pool.query(`COPY ${t} FROM ${literal(path.join(csvDir, `${t}.csv`))} WITH (FORMAT csv)`);
    }
    await pool.query('CREATE INDEX fct_section_membership_section ON fct_section_membership (section_key, student_key) WHERE is_active');
    await pool.query('CREATE INDEX fct_section_membership_student ON fct_section_membership (student_key)');
    await pool.query('VACUUM ANALYZE');
    pgLoadS = (performance.now() - t0) / 1000;
    const pgSql = rosterSql('$1');
    const pgLookup: Lookup = async (sec) => (await pool!.query<Rostered>({ name: 'roster', text: pgSql, values: [sec] })).rows;
    const plan = (await pool.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${pgSql.replace('$1', `'${sections[0]}'`)}`)).rows.map((r) => r['QUERY PLAN']).join('\n');

    const scope: Scope = { kind: 'all' };
    const byIndex = indexLookup(ix, scope);
    const ixLookup: Lookup = async (sec) => byIndex(sec);
    const dkSql = rosterSql('$section');
    const memLookup: Lookup = async (sec) => (await snap.pool.use((db) => db.query(dkSql, { section: sec }))) as unknown as Rostered[];
    const pqLookup: Lookup = async (sec) => (await parquetPool.use((db) => db.query(dkSql, { section: sec }))) as unknown as Rostered[];

    // the four answer the same rows
    for (const sec of sections.slice(0, 50)) {
      const want = byIndex(sec);
      for (const [name, l] of [['postgres', pgLookup], ['duckdb memory', memLookup], ['duckdb parquet', pqLookup]] as const) {
        const got = await l(sec);
        if (!same(want, got)) throw new Error(`${name} disagrees with the serving index on section ${sec}`);
      }
    }
    const paths: Array<[string, Lookup]> = [
      ['edlake serving index', ixLookup],
      ['PostgreSQL 15 (btree indexes)', pgLookup],
      ['DuckDB, in-memory serving tables', memLookup],
      ['DuckDB, Parquet', pqLookup],
    ];
    for (const c of [1, clients]) {
      for (const [name, l] of paths) {
        results.push(await measure(`${name}, ${c === 1 ? 'single' : `${c} concurrent`}`, l, sections, c, seconds));
        process.stderr.write(`${results[results.length - 1]?.name} done\n`);
      }
    }
    const load2 = loadavg()[0]?.toFixed(2);
    const out: string[] = [];
    out.push(`Roster lookup, synthetic district of ${students} students (${[...ix.members.values()].reduce((a, m) => a + m.length, 0)} active memberships, ${all.length} sections), ${sections.length} sections sampled, ${seconds} s per row`);
    out.push(`Machine: ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), ${(totalmem() / 2 ** 30).toFixed(0)} GB; load average ${load1} at the start, ${load2} at the end; PostgreSQL loaded in ${pgLoadS.toFixed(1)} s`);
    out.push('');
    out.push('| path | lookups | p50 ms | p95 ms | p99 ms | lookups/s |');
    out.push('|---|---|---|---|---|---|');
    for (const r of results) out.push(`| ${r.name} | ${r.n} | ${r.p50.toFixed(3)} | ${r.p95.toFixed(3)} | ${r.p99.toFixed(3)} | ${r.perSec.toFixed(0)} |`);
    out.push('');
    out.push('PostgreSQL plan:');
    out.push('```');
    out.push(plan);
    out.push('```');
    process.stdout.write(`${out.join('\n')}\n`);
  } finally {
    await pool?.end();
    cleanup();
    parquetPool.close();
    await source.close();
    if (!keep) rmSync(base, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && import.meta.url === new URL(`file://${path.resolve(process.argv[1])}`).href) {
  main().catch((err) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  });
}
