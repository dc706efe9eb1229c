/**
 * Publish benchmark (not a test): how long a publish takes and how much storage a nightly snapshot
 * adds, on tables shaped and sized like a district's marts and refined tables.
 *
 *   npx tsx pipeline/publish/bench.ts --students 100000 [--days 120] [--dir /tmp/x]
 *
 * The tables are synthetic (generated in DuckDB with the row counts a district of that size has:
 * one attendance row per student and instructional day, ~6 sections per student, ...), because the
 * point is the publisher's cost, not the numbers. Night 1 publishes everything; night 2 adds one
 * school day (attendance, measures and views change; dimensions do not) and publishes again.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Db } from '../../src/db/duckdb.ts';
import { verifyCatalog } from '../../src/catalog/index.ts';
import { discoverTables, publishStage } from './publish.ts';

const { values } = parseArgs({
  options: {
    students: { type: 'string', default: '100000' },
    days: { type: 'string', default: '120' },
    dir: { type: 'string' },
    threads: { type: 'string', default: '2' },
  },
});
const N = Number(values.students);
const DAYS = Number(values.days);
const dir = values.dir ?? (await fs.mkdtemp(path.join(os.tmpdir(), 'edlake-bench-publish-')));
const lake = path.join(dir, 'lake');
await fs.mkdir(lake, { recursive: true });
const db = await Db.open(path.join(dir, 'work.duckdb'), { settings: { threads: values.threads ?? '2' } });

const SCHOOLS = Math.max(5, Math.round(N / 2000));
const SECTIONS = Math.round(N / 25) * 6 / 6; // ~ 4 sections per 100 students per period
const t = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

async function build(days: number): Promise<void> {
  await db.run('create schema if not exists marts; create schema if not exists refined');
  const key = (expr: string) => `sha256(${expr})`;
  // Dimensions and memberships: unchanged from one night to the next.
  await db.run(`create or replace table marts.dim_school as select ${key(`'school' || i`)} as school_key, 'School ' || i as name, (i % 3) as level from range(${SCHOOLS}) r(i)`);
  await db.run(
    `create or replace table marts.dim_student as select ${key(`'s' || i`)} as student_key, ${key(`'school' || (i % ${SCHOOLS})`)} as school_key, (i % 13) as grade_level, (i % 7 = 0) as is_el, (i % 5 = 0) as is_sed, (i % 11 = 0) as is_swd, 2010 + (i % 13) as birth_year from range(${N}) r(i)`,
  );
  await db.run(
    `create or replace table marts.fct_section_membership as select ${key(`'sec' || ((i * 7 + p) % ${SECTIONS})`)} as section_key, ${key(`'s' || i`)} as student_key, ${key(`'school' || (i % ${SCHOOLS})`)} as school_key, date '2025-08-20' as begin_date, null::date as end_date from range(${N}) r(i), range(6) q(p)`,
  );
  await db.run(`create or replace table refined.student_section_associations as select * from marts.fct_section_membership`);
  // Daily attendance: one row per student and instructional day so far.
  await db.run(
    `create or replace table marts.fct_student_attendance_daily as
     select ${key(`'s' || i`)} as student_key, ${key(`'school' || (i % ${SCHOOLS})`)} as school_key, date '2025-08-20' + d::int as calendar_date,
            case when hash(i, d) % 100 < 6 then 1.0 when hash(i, d) % 100 < 8 then 0.5 else 0.0 end::decimal(3,2) as absent_fraction
     from range(${N}) r(i), range(${days}) s(d)`,
  );
  await db.run(
    `create or replace table refined.student_school_attendance_events as select student_key, school_key, calendar_date, 'uri://ed-fi.org/AttendanceEventCategoryDescriptor#Excused Absence' as category from marts.fct_student_attendance_daily where absent_fraction > 0`,
  );
  // Measures and views: recomputed every night.
  await db.run(
    `create or replace table marts.msr_student_attendance as select student_key, any_value(school_key) as school_key, count(*) as days_enrolled, sum(absent_fraction) as days_absent, 1 - sum(absent_fraction) / count(*) as attendance_rate from marts.fct_student_attendance_daily group by student_key`,
  );
  await db.run(
    `create or replace table marts.v_chronic_absenteeism_risk as select m.*, case when attendance_rate >= 0.95 then 'satisfactory' when attendance_rate >= 0.9 then 'at_risk' when attendance_rate >= 0.8 then 'moderate' else 'severe' end as tier, attendance_rate <= 0.9 as chronic from marts.msr_student_attendance m`,
  );
  await db.run(
    `create or replace table marts.v_equity_outcomes as select school_key, g as student_group, count(*) as n_students, avg(attendance_rate) as attendance_rate, avg((not chronic)::int) as not_chronic_rate, count(*) <= 10 as suppressed from marts.v_chronic_absenteeism_risk, (select unnest(['all','el','sed','swd']) as g) group by all`,
  );
  await db.run(
    `create or replace table marts.fct_assessment_results as select ${key(`'s' || i`)} as student_key, ${key(`'school' || (i % ${SCHOOLS})`)} as school_key, (['ELA','Math'])[1 + (k % 2)] as subject, 2300 + (hash(i, k) % 500)::int as scale_score, date '2025-09-15' + (k // 2 * 60)::int as administration_date from range(${N}) r(i), range(6) q(k)`,
  );
}

const rows = async () => (await db.all<{ n: number }>(`select sum(estimated_size)::bigint as n from duckdb_tables() where schema_name in ('marts','refined')`))[0]?.n ?? 0;

console.log(`publish benchmark: ${N.toLocaleString('en-US')} students, ${SCHOOLS} schools, ${DAYS} school days; lake ${lake}`);
let t0 = performance.now();
await build(DAYS);
console.log(`built night 1 tables (${(await rows()).toLocaleString('en-US')} rows) in ${t(performance.now() - t0)}`);
const tables = await discoverTables(db);
t0 = performance.now();
const r1 = await publishStage({ db, lake, runId: 'bench-1', dataThrough: '2026-03-02', timezone: 'America/Los_Angeles', tables, sourceFiles: [], dataTests: null, modelVersions: {}, dictionary: null });
const p1 = performance.now() - t0;
console.log(`night 1: snapshot ${r1.snapshotId} published in ${t(p1)}; ${r1.filesWritten} files written, ${(r1.bytesAdded / 1e6).toFixed(1)} MB added`);

t0 = performance.now();
await build(DAYS + 1);
console.log(`built night 2 tables in ${t(performance.now() - t0)}`);
t0 = performance.now();
const r2 = await publishStage({ db, lake, runId: 'bench-2', dataThrough: '2026-03-03', timezone: 'America/Los_Angeles', tables, sourceFiles: [], dataTests: null, modelVersions: {}, dictionary: null });
const p2 = performance.now() - t0;
console.log(
  `night 2: snapshot ${r2.snapshotId} published in ${t(p2)}; ${r2.filesWritten} files written, ${r2.filesShared} shared, ${(r2.bytesAdded / 1e6).toFixed(1)} MB added`,
);
for (const tb of r2.manifest.tables) {
  const bytes = tb.files.reduce((a, f) => a + f.bytes, 0);
  const prev = r1.manifest.tables.find((x) => x.schema === tb.schema && x.name === tb.name);
  const shared = prev && prev.files.map((f) => f.path).join() === tb.files.map((f) => f.path).join();
  console.log(`  ${`${tb.schema}.${tb.name}`.padEnd(42)} ${tb.row_count.toLocaleString('en-US').padStart(12)} rows ${(bytes / 1e6).toFixed(1).padStart(8)} MB ${shared ? 'shared' : 'new'}`);
}
t0 = performance.now();
const v = await verifyCatalog(lake);
console.log(`verify: ${v.ok ? 'ok' : 'FAILED'}, ${v.filesChecked} files, ${(v.bytesChecked / 1e6).toFixed(1)} MB in ${t(performance.now() - t0)}`);
console.log(`peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`);
db.close();
if (!values.dir) await fs.rm(dir, { recursive: true, force: true });
