/**
 * API benchmark (not a test): latency percentiles and throughput of the GraphQL API under
 * concurrent clients, in-process (app.fetch, no port), on 2 cores.
 *
 *   tsx bench/api.ts [--lake DIR] [--students N] [--clients 32] [--seconds 8] [--no-cache] [--dir DIR]
 *
 * --dir keeps the synthetic snapshots' Parquet there and reuses them on the next run.
 *
 * With --lake, it serves that lake's published snapshots (the current one and the one 30 days
 * older). Without, it builds two synthetic snapshots of N students in the marts' shapes
 * (docs/decisions/0600), written as Parquet clustered as the serving contract asks, and serves them
 * through the same snapshot reader path (views over Parquet in an in-memory DuckDB).
 *
 * Queries: a teacher's section roster with risk tiers; a principal's school equity table; a
 * district-wide aggregate for an analyst; each again as of the older snapshot.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { DuckDBInstance } from '@duckdb/node-api';
import { Db, literal } from '../src/db/duckdb.ts';
import { loadConfig } from '../src/config.ts';
import { mintToken } from '../src/auth/jwt.ts';
import { personKey } from '../src/auth/viewer.ts';
import { buildApp, type App } from '../src/server/app.ts';
import { CatalogSnapshotSource } from '../src/server/catalog-source.ts';
import { InstanceSnapshotSource, type SnapshotSource } from '../resolvers/snapshots.ts';
import { setQueryCacheEnabled } from '../resolvers/runner.ts';
import { servingIndex } from '../resolvers/serving.ts';

// parsed when run as a program (bench/api-profile.ts imports the district builder)
const cli = () => parseArgs({
  options: {
    lake: { type: 'string' },
    students: { type: 'string', default: '100000' },
    clients: { type: 'string', default: '32' },
    seconds: { type: 'string', default: '8' },
    'no-cache': { type: 'boolean', default: false },
    only: { type: 'string' },
    dir: { type: 'string' },
  },
});

const PII = 'bench-pii-key-bench-pii-key-bench-0123456789';
const SECRET = 'bench-jwt-secret-bench-jwt-secret-0123456789';
const TENANT = 'district';

/** Build the published tables of a synthetic district into Parquet, clustered for the lookups. */
export async function synthetic(dir: string, students: number, snapshotId: number, drift: number): Promise<string> {
  const inst = await DuckDBInstance.create(':memory:', { threads: '2' });
  const db = new Db(await inst.connect());
  const perSchool = 1000;
  const schools = Math.max(1, Math.ceil(students / perSchool));
  const sectionsPerSchool = 200; // six sections per student, about 30 students per section
  await db.run(`CREATE MACRO pk(id) AS sha256('${TENANT}|' || lower(id))`);
  await db.run(`CREATE TABLE dim_school AS SELECT '${TENANT}' AS tenant, sha256('s' || i) AS school_key, (9300000 + i)::VARCHAR AS school_id,
    'School ' || i AS school_name, CASE WHEN i % 3 = 0 THEN 'High School' ELSE 'Elementary School' END AS school_category FROM range(${schools}) r(i)`);
  // staff: principal P<i>, teachers T<i>_<j> (one per section); keys as the pipeline computes them (HMAC) are set from JS below
  await db.run(`CREATE TABLE staff_ids AS
    SELECT 'P' || i AS staff_id, i AS school, NULL::INTEGER AS sec FROM range(${schools}) r(i)
    UNION ALL SELECT 'T' || i || '_' || j, i, j FROM range(${schools}) r(i), range(${sectionsPerSchool}) s(j)`);
  const ids = await db.all<{ staff_id: string }>('SELECT staff_id FROM staff_ids');
  await db.run('CREATE TABLE staff_keys (staff_id VARCHAR, staff_key VARCHAR)');
  const app = await inst.connect();
  const appender = await app.createAppender('staff_keys');
  for (const r of ids) {
    appender.appendVarchar(r.staff_id);
    appender.appendVarchar(personKey(PII, TENANT, r.staff_id));
    appender.endRow();
  }
  appender.closeSync();
  await db.run(`CREATE TABLE dim_staff AS SELECT '${TENANT}' AS tenant, k.staff_key, i.sec IS NULL AS is_principal, i.sec IS NOT NULL AS is_teacher,
    CASE WHEN i.sec IS NULL THEN [(9300000 + i.school)::VARCHAR] ELSE []::VARCHAR[] END AS principal_school_ids, 1::BIGINT AS sections_taught
    FROM staff_ids i JOIN staff_keys k USING (staff_id)`);
  await db.run(`CREATE TABLE dim_section AS SELECT '${TENANT}' AS tenant, sha256('sec' || i || '_' || j) AS section_key, sha256('s' || i) AS school_key,
    (9300000 + i)::VARCHAR AS school_id, 2026 AS school_year, CASE WHEN j % 2 = 0 THEN 'MATH' ELSE 'ELA' END || '-' || (j // 10) AS course_code,
    NULL::VARCHAR AS course_key, 'Course' AS course_title, CASE WHEN j % 2 = 0 THEN 'Math' ELSE 'ELA' END AS subject, 'S' || j AS section_identifier,
    'Year' AS session_name, k.staff_key AS teacher_staff_key
    FROM range(${schools}) r(i), range(${sectionsPerSchool}) s(j) JOIN staff_keys k ON k.staff_id = 'T' || i || '_' || j`);
  await db.run(`CREATE TABLE dim_student AS SELECT '${TENANT}' AS tenant, pk('st' || n) AS student_key, 2010 AS birth_year,
    (9300000 + n // ${perSchool})::VARCHAR AS school_id, sha256('s' || (n // ${perSchool})) AS school_key, 2026 AS school_year,
    (n % 13)::INTEGER AS grade_number, CASE WHEN n % 13 <= 5 THEN 'elementary' WHEN n % 13 <= 8 THEN 'middle' ELSE 'high' END AS grade_band,
    true AS is_enrolled, n FROM range(${students}) r(n)`);
  await db.run(`CREATE TABLE dim_student_groups AS
    SELECT '${TENANT}' AS tenant, student_key, g AS group_code, 'program' AS group_kind, g AS group_label, o AS reporting_order
      FROM dim_student, (VALUES ('ALL', 0, 1), ('EL', 1, 5), ('SWD', 2, 8), ('SED', 3, 2), ('RH', 4, 3), ('RW', 5, 4)) gs(g, o, m)
     WHERE hash(n * 7 + o) % m = 0`);
  // six active sections per student, about 30 students per section: 600,000 membership rows at 100,000 students
  await db.run(`CREATE TABLE fct_section_membership AS
    SELECT '${TENANT}' AS tenant, s.student_key, sha256('sec' || (s.n // ${perSchool}) || '_' || (((s.n % ${perSchool}) // 30 + k * 33) % ${sectionsPerSchool})) AS section_key,
           s.school_key, NULL::VARCHAR AS course_key, NULL::VARCHAR AS subject, DATE '2025-08-15' AS begin_date, NULL::DATE AS end_date, true AS is_active
      FROM dim_student s, range(6) x(k)`);
  await db.run(`CREATE TABLE v_chronic_absenteeism_risk AS
    SELECT '${TENANT}' AS tenant, student_key, school_key, school_id, grade_number, DATE '2026-03-27' AS as_of_date,
           140::BIGINT AS days_enrolled, ((hash(n + ${drift}) % 40)::DOUBLE) AS days_absent,
           1 - ((hash(n + ${drift}) % 40)::DOUBLE) / 140 AS attendance_rate, ((hash(n + ${drift}) % 40)::DOUBLE) / 140 AS absence_rate,
           30::BIGINT AS days_enrolled_30d, 0::DOUBLE AS days_absent_30d, 1.0 AS attendance_rate_30d, ((hash(n + 1) % 10)::DOUBLE) / 30 AS absence_rate_30d,
           (hash(n) % 6)::BIGINT AS longest_absence_streak, 40::BIGINT AS remaining_instructional_days,
           CASE WHEN (hash(n + ${drift}) % 40) < 7 THEN 'satisfactory' WHEN (hash(n + ${drift}) % 40) < 14 THEN 'at_risk' WHEN (hash(n + ${drift}) % 40) < 28 THEN 'moderate_chronic' ELSE 'severe_chronic' END AS tier_code,
           'tier' AS tier_label, 1 AS tier_severity, 'ca' AS chronic_definition, (hash(n + ${drift}) % 40) >= 14 AS is_chronically_absent,
           'stable' AS trend, 0.1 AS projected_absence_rate_eoy, NULL::VARCHAR AS previous_tier_code, NULL::DATE AS previous_as_of_date, false AS entered_worse_tier
      FROM dim_student`);
  await db.run(`CREATE TABLE v_wellbeing_risk_profiles AS SELECT '${TENANT}' AS tenant, student_key, school_key, school_id, grade_number,
      (hash(student_key) % 100)::DOUBLE AS risk_score, ['attendance'] AS reasons, CASE WHEN hash(student_key) % 100 > 70 THEN 'high' ELSE 'low' END AS risk_tier, 'x' AS risk_tier_label
      FROM dim_student`);
  await db.run(`CREATE TABLE v_equity_outcomes AS
    WITH b AS (SELECT c.school_key, g.group_code, c.attendance_rate, c.is_chronically_absent FROM v_chronic_absenteeism_risk c JOIN dim_student_groups g USING (student_key)),
    a AS (SELECT CASE WHEN school_key IS NULL THEN 'district' ELSE 'school' END AS scope, '${TENANT}' AS tenant, school_key, group_code, group_code AS group_label, 'program' AS group_kind, 0 AS reporting_order,
             count(*) AS students, avg(attendance_rate) AS attendance_rate, avg(is_chronically_absent::INTEGER) AS chronic_absence_rate
          FROM b GROUP BY GROUPING SETS ((school_key, group_code), (group_code)))
    SELECT *, students <= 10 AS is_suppressed, 0.5 AS proficiency_rate_prior, 0.5 AS predicted_proficiency_rate, 80.0 AS mean_course_mark, 0.02 AS suspension_rate,
      0.0 AS attendance_rate_gap_to_all, 0.0 AS attendance_rate_gap_to_best, 0.0 AS chronic_absence_rate_gap_to_all, 0.0 AS chronic_absence_rate_gap_to_best,
      0.0 AS predicted_proficiency_rate_gap_to_all, 0.0 AS predicted_proficiency_rate_gap_to_best FROM a`);
  await db.run(`CREATE TABLE v_class_section_comparison AS SELECT '${TENANT}' AS tenant, section_key, school_key, school_year, course_code, NULL AS course_key, subject, teacher_staff_key,
      30::BIGINT AS students, 5::BIGINT AS peer_sections, 0.9 AS attendance_rate, 0.9 AS attendance_rate_peer_mean, 0.0 AS attendance_rate_z,
      0.1 AS chronic_absence_rate, 0.1 AS chronic_absence_rate_peer_mean, 0.0 AS chronic_absence_rate_z, NULL::DOUBLE AS interim_growth, NULL::DOUBLE AS interim_growth_peer_mean,
      NULL::DOUBLE AS predicted_proficiency_rate, NULL::DOUBLE AS predicted_proficiency_rate_peer_mean, NULL::DOUBLE AS mean_course_mark, NULL::DOUBLE AS mean_course_mark_peer_mean,
      NULL::DOUBLE AS lms_submission_rate, NULL::DOUBLE AS lms_submission_rate_peer_mean, []::VARCHAR[] AS measures_apart, false AS stands_apart FROM dim_section`);
  await db.run(`CREATE TABLE v_performance_correlations AS SELECT '${TENANT}' AS tenant, school_key, 'high' AS grade_band, 'attendance_rate' AS measure, 'predicted_state_score' AS outcome,
      count(*) AS n, 0.4 AS r, 0.3 AS r_ci_low, 0.5 AS r_ci_high, 100.0 AS slope, 0.9 AS mean_measure, 2500.0 AS mean_outcome FROM dim_student GROUP BY school_key`);
  await db.run(`CREATE TABLE fct_assessment_results AS SELECT '${TENANT}' AS tenant, sha256(student_key || 'm') AS result_key, student_key, 'sb' AS assessment_identifier, 'state' AS assessment_family,
      'caaspp' AS vendor, 'Math' AS subject, DATE '2025-05-01' AS administration_date, 2025 AS school_year, 'State' AS testing_window, grade_number, school_key,
      2500.0 AS scale_score, 20.0 AS scale_score_sem, 50.0 AS percentile, NULL AS screener_risk, 2500.0 AS state_scale_score, 'v1' AS linking_model_version, 3::BIGINT AS achievement_level, true AS is_proficient FROM dim_student`);
  await db.run(`CREATE TABLE fct_predictions AS SELECT '${TENANT}' AS tenant, student_key, 'Math' AS subject, grade_number, 'nwea_map' AS interim_vendor, DATE '2026-01-20' AS interim_date,
      2500.0 AS interim_state_scale_score, 2490.0 AS prior_scale_score, 0.5 AS year_elapsed, 2510.0 AS predicted_scale_score, 25.0 AS standard_error, 3::BIGINT AS predicted_level, 0.6 AS probability_met, 'v1' AS model_version FROM dim_student`);
  await db.run('ALTER TABLE dim_student DROP COLUMN n');
  // write Parquet clustered for the lookups (decision 0600): memberships by (school, section), per-student tables by (school, student)
  const out = path.join(dir, `snap${snapshotId}`);
  const order: Record<string, string> = {
    fct_section_membership: 'school_key, section_key',
    dim_student: 'school_key, student_key',
    v_chronic_absenteeism_risk: 'school_key, student_key',
    v_wellbeing_risk_profiles: 'school_key, student_key',
    dim_student_groups: 'student_key',
    dim_section: 'school_key, section_key',
    fct_assessment_results: 'student_key',
    fct_predictions: 'student_key',
  };
  const tables = (await db.all<{ name: string }>(`SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'main' AND table_name NOT IN ('staff_ids', 'staff_keys')`)).map((r) => r.name);
  const { mkdirSync } = await import('node:fs');
  mkdirSync(out, { recursive: true });
  for (const t of tables) {
    await db.run(`COPY (SELECT * FROM ${t} ${order[t] ? `ORDER BY ${order[t]}` : ''}) TO ${literal(path.join(out, `${t}.parquet`))} (FORMAT parquet, ROW_GROUP_SIZE 16384)`);
  }
  db.close();
  inst.closeSync();
  return out;
}

export async function parquetSnapshot(dir: string, threads: number): Promise<DuckDBInstance> {
  const inst = await DuckDBInstance.create(':memory:', { threads: String(threads) });
  const db = new Db(await inst.connect());
  await db.run('CREATE SCHEMA marts');
  const { readdirSync } = await import('node:fs');
  for (const f of readdirSync(dir)) {
    const t = f.replace(/\.parquet$/, '');
    await db.run(`CREATE VIEW marts.${t} AS SELECT * FROM read_parquet(${literal(path.join(dir, f))})`);
  }
  db.close();
  return inst;
}

interface Result { name: string; n: number; p50: number; p95: number; p99: number; rps: number; errors: number }

async function run(app: App, name: string, clients: number, seconds: number, warmup: number, next: (i: number) => { token: string; query: string; variables?: Record<string, unknown> }): Promise<Result> {
  const lat: number[] = [];
  let errors = 0;
  let i = 0;
  // warm-up (opens the snapshot, fills caches): every distinct caller once, so that the timed
  // part is the steady state; --no-cache measures the path that executes every request
  for (let w = 0; w < warmup; w++) {
    const q = next(i++);
    await call(app, q);
  }
  const t0 = performance.now();
  const until = t0 + seconds * 1000;
  await Promise.all(Array.from({ length: clients }, async () => {
    while (performance.now() < until) {
      const q = next(i++);
      const s = performance.now();
      const ok = await call(app, q);
      lat.push(performance.now() - s);
      if (!ok) errors++;
    }
  }));
  const elapsed = (performance.now() - t0) / 1000;
  lat.sort((a, b) => a - b);
  const pct = (p: number) => lat[Math.min(lat.length - 1, Math.floor((p / 100) * lat.length))] ?? NaN;
  return { name, n: lat.length, p50: pct(50), p95: pct(95), p99: pct(99), rps: lat.length / elapsed, errors };
}

async function call(app: App, q: { token: string; query: string; variables?: Record<string, unknown> }): Promise<boolean> {
  const res = await app.fetch(new Request('http://bench/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${q.token}` },
    body: JSON.stringify({ query: q.query, variables: q.variables }),
  }));
  // The client runs in the server's process: it checks the answer without parsing it (status,
  // a data member first and no errors member), so the figures are the server's work, not the client's.
  const body = Buffer.from(await res.arrayBuffer());
  return res.status === 200 && body.subarray(0, 8).toString() === '{"data":' && body.indexOf('"errors":') < 0;
}

async function main(): Promise<void> {
  const { values: args } = cli();
  const students = Number(args.students);
  const clients = Number(args.clients);
  const seconds = Number(args.seconds);
  if (args['no-cache']) setQueryCacheEnabled(false);
  const config = loadConfig({}, { EDLAKE_JWT_SECRET: SECRET, EDLAKE_PII_KEY: PII, EDLAKE_TENANT: TENANT, EDLAKE_API_QUERY_TIMEOUT_MS: '60000' });
  let source: SnapshotSource;
  let tmp: string | undefined;
  const t0 = performance.now();
  if (args.lake) {
    source = new CatalogSnapshotSource({ lake: args.lake, timezone: config.timezone });
  } else {
    const { existsSync } = await import('node:fs');
    const keep = args.dir !== undefined ? path.join(args.dir, String(students)) : undefined;
    const base = keep ?? (tmp = mkdtempSync(path.join(tmpdir(), 'edlake-bench-')));
    const ready = (n: number) => keep !== undefined && existsSync(path.join(base, `snap${n}`, 'v_wellbeing_risk_profiles.parquet'));
    const d1 = ready(1) ? path.join(base, 'snap1') : await synthetic(base, students, 1, 17);
    const d2 = ready(2) ? path.join(base, 'snap2') : await synthetic(base, students, 2, 0);
    const i1 = await parquetSnapshot(d1, 2);
    const i2 = await parquetSnapshot(d2, 2);
    const snaps = [
      { info: { id: 1, publishedAt: '2026-02-26T10:00:00.000Z', dataThrough: '2026-02-25', runId: 'bench-1' }, instance: i1 },
      { info: { id: 2, publishedAt: '2026-03-28T10:00:00.000Z', dataThrough: '2026-03-27', runId: 'bench-2' }, instance: i2 },
    ];
    source = new InstanceSnapshotSource(() => snaps, config.timezone);
  }
  process.stderr.write(`snapshots ready in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
  // build the serving index of each snapshot before measuring (a server builds it in the background)
  for (const s of await source.list()) {
    const t1 = performance.now();
    await servingIndex(await source.open(s.id));
    process.stderr.write(`serving index of snapshot ${s.id} built in ${((performance.now() - t1) / 1000).toFixed(1)} s\n`);
  }
  const app = buildApp({ config, source, log: () => {} });
  const list = await source.list();
  const current = list[list.length - 1];
  const old = [...list].reverse().find((s) => current && Date.parse(current.publishedAt) - Date.parse(s.publishedAt) >= 29 * 86400_000) ?? list[0];
  if (!current || !old) throw new Error('no snapshots');
  const schools = Math.max(1, Math.ceil(students / 1000));
  const teacherTokens = await Promise.all(Array.from({ length: 64 }, (_, k) => mintToken(config, { role: 'teacher', staffId: `T${k % schools}_${(k * 7) % 200}` })));
  const principalTokens = await Promise.all(Array.from({ length: Math.min(schools, 32) }, (_, k) => mintToken(config, { role: 'principal', staffId: `P${k}` })));
  const analyst = await mintToken(config, { role: 'data_analyst' });
  const sel = (s: typeof current) => `snapshotId: "${s.id}"`;
  const roster = (s: typeof current) => `{ published(${sel(s)}) { sections(first: 10) { edges { node { key students { key gradeLevel attendance { tier absenceRate } riskProfile { riskTier } } } } } } }`;
  const equity = (s: typeof current) => `{ published(${sel(s)}) { equityOutcomes { studentGroup students suppressed attendanceRate chronicAbsenceRate } } }`;
  const district = (s: typeof current) => `{ published(${sel(s)}) { attendanceSummary(groupBy: [SCHOOL, GRADE]) { schoolKey gradeLevel students chronicAbsenceRate attendanceRate } } }`;
  const results: Result[] = [];
  const only = args.only;
  for (const [label, s] of [['current', current], ['30 days old', old]] as const) {
    if (!only || only === 'teacher') results.push(await run(app, `teacher roster (${label})`, clients, seconds, Math.max(20, teacherTokens.length), (i) => ({ token: teacherTokens[i % teacherTokens.length] as string, query: roster(s) })));
    if (!only || only === 'principal') results.push(await run(app, `principal equity (${label})`, clients, seconds, Math.max(20, principalTokens.length), (i) => ({ token: principalTokens[i % principalTokens.length] as string, query: equity(s) })));
    if (!only || only === 'analyst') results.push(await run(app, `analyst district aggregate (${label})`, clients, seconds, 20, () => ({ token: analyst, query: district(s) })));
  }
  process.stdout.write(`\nedlake API benchmark: ${args.lake ? `lake ${args.lake}` : `synthetic district, ${students} students`}, ${clients} clients, ${seconds} s each, cache ${args['no-cache'] ? 'off' : 'on'}\n`);
  process.stdout.write('| query | requests | p50 ms | p95 ms | p99 ms | req/s | errors |\n|---|---|---|---|---|---|---|\n');
  for (const r of results) process.stdout.write(`| ${r.name} | ${r.n} | ${r.p50.toFixed(1)} | ${r.p95.toFixed(1)} | ${r.p99.toFixed(1)} | ${r.rps.toFixed(0)} | ${r.errors} |\n`);
  await source.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
}

if (process.argv[1] !== undefined && import.meta.url === new URL(`file://${path.resolve(process.argv[1])}`).href) {
  main().catch((err) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  });
}
