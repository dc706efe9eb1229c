/**
 * Where an UNCACHED API request spends its time (a profile, not a test): builds the same synthetic
 * district as bench/api.ts (or reuses its --dir), turns the caches off, and for each benchmark query
 * runs one request at a time, recording every DuckDB statement it issues (count, milliseconds) and
 * the rest of the request (GraphQL parse/validate/execute, scope, JSON) as the difference. Then it
 * runs EXPLAIN ANALYZE of each distinct statement and prints DuckDB's operator timings.
 *
 *   tsx bench/api-profile.ts [--students 100000] [--dir DIR] [--repeat 5] [--explain]
 */
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { DuckDBValue } from '@duckdb/node-api';
import { loadConfig } from '../src/config.ts';
import { mintToken } from '../src/auth/jwt.ts';
import { buildApp } from '../src/server/app.ts';
import { PooledDb } from '../src/db/pool.ts';
import type { Row } from '../src/db/duckdb.ts';
import { InstanceSnapshotSource } from '../resolvers/snapshots.ts';
import { setQueryCacheEnabled } from '../resolvers/runner.ts';
import { servingIndex } from '../resolvers/serving.ts';
import { parquetSnapshot, synthetic } from './api.ts';

const { values: args } = parseArgs({
  options: {
    students: { type: 'string', default: '100000' },
    dir: { type: 'string' },
    repeat: { type: 'string', default: '5' },
    explain: { type: 'boolean', default: false },
  },
});

const PII = 'bench-pii-key-bench-pii-key-bench-0123456789';
const SECRET = 'bench-jwt-secret-bench-jwt-secret-0123456789';
const TENANT = 'district';

interface Stmt { sql: string; params: Record<string, DuckDBValue>; ms: number }
let log: Stmt[] = [];
// record every statement the pooled connections run (the resolvers' only way to DuckDB)
const original = PooledDb.prototype.query;
PooledDb.prototype.query = async function <T extends Row = Row>(this: PooledDb, sql: string, params: Record<string, DuckDBValue> = {}): Promise<T[]> {
  const t0 = performance.now();
  try {
    return await original.call(this, sql, params) as T[];
  } finally {
    log.push({ sql, params, ms: performance.now() - t0 });
  }
};

async function main(): Promise<void> {
  const students = Number(args.students);
  const repeat = Number(args.repeat);
  setQueryCacheEnabled(false);
  const config = loadConfig({}, { EDLAKE_JWT_SECRET: SECRET, EDLAKE_PII_KEY: PII, EDLAKE_TENANT: TENANT, EDLAKE_API_QUERY_TIMEOUT_MS: '60000' });
  const keep = args.dir !== undefined ? path.join(args.dir, String(students)) : undefined;
  let tmp: string | undefined;
  const base = keep ?? (tmp = mkdtempSync(path.join(tmpdir(), 'edlake-prof-')));
  const ready = (n: number) => keep !== undefined && existsSync(path.join(base, `snap${n}`, 'v_wellbeing_risk_profiles.parquet'));
  const d2 = ready(2) ? path.join(base, 'snap2') : await synthetic(base, students, 2, 0);
  const t0 = performance.now();
  const inst = await parquetSnapshot(d2, 2);
  const snaps = [{ info: { id: 2, publishedAt: '2026-03-28T10:00:00.000Z', dataThrough: '2026-03-27', runId: 'bench-2' }, instance: inst }];
  const source = new InstanceSnapshotSource(() => snaps, config.timezone);
  const opened = await source.open(2);
  process.stdout.write(`snapshot opened (serving tables copied) in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
  const t1 = performance.now();
  await servingIndex(opened);
  process.stdout.write(`serving index built in ${((performance.now() - t1) / 1000).toFixed(1)} s\n`);
  const app = buildApp({ config, source, log: () => {} });
  const schools = Math.max(1, Math.ceil(students / 1000));
  const teachers = await Promise.all(Array.from({ length: repeat + 1 }, (_, k) => mintToken(config, { role: 'teacher', staffId: `T${k % schools}_${(k * 7) % 200}` })));
  const principals = await Promise.all(Array.from({ length: repeat + 1 }, (_, k) => mintToken(config, { role: 'principal', staffId: `P${k % schools}` })));
  const analyst = await mintToken(config, { role: 'data_analyst' });
  const queries: Array<[string, string[], string]> = [
    ['teacher roster', teachers, `{ published(snapshotId: "2") { sections(first: 10) { edges { node { key students { key gradeLevel attendance { tier absenceRate } riskProfile { riskTier } } } } } } }`],
    ['principal equity', principals, `{ published(snapshotId: "2") { equityOutcomes { studentGroup students suppressed attendanceRate chronicAbsenceRate } } }`],
    ['analyst district aggregate', [analyst], `{ published(snapshotId: "2") { attendanceSummary(groupBy: [SCHOOL, GRADE]) { schoolKey gradeLevel students chronicAbsenceRate attendanceRate } } }`],
  ];
  const distinct = new Map<string, Stmt>();
  for (const [name, tokens, query] of queries) {
    const per: Array<{ total: number; sql: number; n: number }> = [];
    for (let i = 0; i <= repeat; i++) {
      const token = tokens[i % tokens.length] as string;
      log = [];
      const s = performance.now();
      const res = await app.fetch(new Request('http://bench/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query }),
      }));
      const text = await res.text();
      const total = performance.now() - s;
      if (res.status !== 200 || text.includes('"errors"')) throw new Error(`${name}: ${text.slice(0, 300)}`);
      // the first call of each caller derives its scope; later calls of other callers too (first request of each)
      if (i > 0) per.push({ total, sql: log.reduce((a, x) => a + x.ms, 0), n: log.length });
      for (const st of log) if (!distinct.has(`${name}\u0000${st.sql}`)) distinct.set(`${name}\u0000${st.sql}`, st);
      if (i === repeat) {
        process.stdout.write(`\n${name}: ${log.length} statements in the last request\n`);
        for (const st of log) process.stdout.write(`  ${st.ms.toFixed(1).padStart(8)} ms  ${st.sql.replace(/\s+/g, ' ').slice(0, 140)}\n`);
      }
    }
    const avg = (f: (x: { total: number; sql: number; n: number }) => number) => per.reduce((a, x) => a + f(x), 0) / per.length;
    process.stdout.write(`${name}: mean of ${per.length} sequential first requests: total ${avg((x) => x.total).toFixed(1)} ms, DuckDB ${avg((x) => x.sql).toFixed(1)} ms in ${avg((x) => x.n).toFixed(1)} statements, rest (GraphQL, scope, JSON) ${avg((x) => x.total - x.sql).toFixed(1)} ms\n`);
  }
  if (args.explain) {
    await opened.pool.use(async (db) => {
      for (const [k, st] of distinct) {
        const name = k.split('\u0000')[0];
        const stmt = await db.connection.prepare(`EXPLAIN ANALYZE ${st.sql}`);
        if (Object.keys(st.params).length > 0) stmt.bind(st.params);
        const reader = await stmt.runAndReadAll();
        const rows = reader.getRows();
        process.stdout.write(`\n===== ${name}: ${st.sql.replace(/\s+/g, ' ').slice(0, 200)}\n${String(rows[0]?.[1] ?? '')}\n`);
        stmt.destroySync();
      }
    });
  }
  await source.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
