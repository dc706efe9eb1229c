/**
 * A small district as published snapshots, built in the test: plain JS arrays (the oracle the tests
 * count from) loaded into in-memory DuckDB instances with the table shapes of the serving contract
 * (docs/decisions/0600-api-serving-contract.md). Two snapshots a month apart, with different numbers.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { Db } from '../../src/db/duckdb.ts';
import { personKey } from '../../src/auth/viewer.ts';
import { InstanceSnapshotSource, type InstanceSnapshot } from '../../resolvers/snapshots.ts';

export const PII_KEY = 'fixture-pii-key-fixture-pii-key-0123456789';
export const JWT_SECRET = 'fixture-jwt-secret-fixture-jwt-secret-0123';
export const TENANT = 'district';

const keyIn = (tenant: string, ...parts: Array<string | number>) => createHash('sha256').update(`${tenant}|${parts.join('|').toLowerCase()}`).digest('hex');

/** Deterministic pseudo-random numbers (mulberry32). */
function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface FxSchool { tenant: string; school_key: string; school_id: string; school_name: string; school_category: string }
export interface FxStaff { tenant: string; staff_key: string; staff_unique_id: string; email: string; first_name: string; last_name: string }
export interface FxSection { tenant: string; section_key: string; school_key: string; course_code: string; course_title: string; subject: string; section_identifier: string; session_name: string; school_year: number }
export interface FxStudent { tenant: string; student_key: string; student_unique_id: string; school_key: string; grade_number: number; first_name: string; last_name: string; groups: string[] }
export interface FxSpan { begin_date: string; end_date: string | null }
export interface FxMembership extends FxSpan { student_key: string; section_key: string }
export interface FxStaffSection extends FxSpan { staff_key: string; section_key: string; coTeacher?: boolean }
export interface FxAssignment extends FxSpan { staff_key: string; school_key: string; is_principal: boolean }
export interface FxChronic { student_key: string; school_key: string; days_enrolled: number; days_absent: number }

export interface FxSnapshot {
  id: number;
  publishedAt: string;
  dataThrough: string;
  students: FxStudent[];
  memberships: FxMembership[];
  chronic: FxChronic[];
}

export interface District {
  schools: FxSchool[];
  staff: FxStaff[];
  sections: FxSection[];
  staffSections: FxStaffSection[];
  assignments: FxAssignment[];
  teachers: FxStaff[];
  principals: FxStaff[];
  snapshots: FxSnapshot[];
}

const GROUPS = ['EL', 'SWD', 'SED', 'RH', 'RW', 'RA'];

export interface DistrictOptions {
  schools?: number;
  studentsPerSchool?: number;
  seed?: number;
  /** Tenant of every row and key (default TENANT). Staff, school and student IDs repeat across tenants. */
  tenant?: string;
}

export function buildDistrict(opts: DistrictOptions = {}): District {
  const tenant = opts.tenant ?? TENANT;
  const key = (...parts: Array<string | number>) => keyIn(tenant, ...parts);
  const nSchools = opts.schools ?? 3;
  const perSchool = opts.studentsPerSchool ?? 48;
  const r = rng(opts.seed ?? 7);
  const schools: FxSchool[] = [];
  const staff: FxStaff[] = [];
  const sections: FxSection[] = [];
  const staffSections: FxStaffSection[] = [];
  const assignments: FxAssignment[] = [];
  const teachers: FxStaff[] = [];
  const principals: FxStaff[] = [];
  const students: FxStudent[] = [];
  const memberships: FxMembership[] = [];
  const mkStaff = (id: string, first: string, last: string): FxStaff => {
    const s = { tenant, staff_key: personKey(PII_KEY, tenant, id), staff_unique_id: id, email: `${id.toLowerCase()}@district.example`, first_name: first, last_name: last };
    staff.push(s);
    return s;
  };
  for (let i = 1; i <= nSchools; i++) {
    const schoolId = String(930100000 + i);
    const school: FxSchool = { tenant, school_key: key(schoolId), school_id: schoolId, school_name: `School ${i}`, school_category: i === 1 ? 'Elementary School' : 'High School' };
    schools.push(school);
    const p = mkStaff(`P${i}`, `Pat${i}`, 'Principal');
    principals.push(p);
    assignments.push({ staff_key: p.staff_key, school_key: school.school_key, is_principal: true, begin_date: '2025-08-01', end_date: null });
    // a former principal of the school: ended assignment, no scope now
    const former = mkStaff(`FP${i}`, `Old${i}`, 'Principal');
    assignments.push({ staff_key: former.staff_key, school_key: school.school_key, is_principal: true, begin_date: '2024-08-01', end_date: '2025-06-30' });
    // teachers: 3 per school, each with one math and one ELA section
    const schoolSections: FxSection[] = [];
    for (let t = 1; t <= 3; t++) {
      const teacher = mkStaff(`T${i}${t}`, `Teach${i}${t}`, 'Teacher');
      teachers.push(teacher);
      assignments.push({ staff_key: teacher.staff_key, school_key: school.school_key, is_principal: false, begin_date: '2025-08-01', end_date: null });
      for (const subject of ['math', 'ela']) {
        const code = `${subject.toUpperCase()}-${i}`;
        const sid = `${code}-${t}`;
        const sec: FxSection = { tenant, section_key: key(code, schoolId, 2026, sid, 'Year'), school_key: school.school_key, course_code: code, course_title: `${subject === 'math' ? 'Mathematics' : 'English'} ${i}`, subject, section_identifier: sid, session_name: 'Year', school_year: 2026 };
        sections.push(sec);
        schoolSections.push(sec);
        staffSections.push({ staff_key: teacher.staff_key, section_key: sec.section_key, begin_date: '2025-08-15', end_date: null });
      }
    }
    // a teacher who left one of the school's sections in January (ended association, not the teacher of record)
    // and a co-teacher of another section (active association, not the teacher of record)
    const [t1, , t3] = teachers.slice(-3) as [FxStaff, FxStaff, FxStaff];
    staffSections.push({ staff_key: t3.staff_key, section_key: (schoolSections[0] as FxSection).section_key, begin_date: '2025-08-15', end_date: '2026-01-15', coTeacher: true });
    staffSections.push({ staff_key: t1.staff_key, section_key: (schoolSections[5] as FxSection).section_key, begin_date: '2025-09-01', end_date: null, coTeacher: true });
    for (let s = 1; s <= perSchool; s++) {
      const uid = `${i}${String(s).padStart(4, '0')}`;
      const groups = ['ALL', ...GROUPS.filter((_, gi) => r() < (gi === 0 ? 0.3 : gi >= 3 ? 0.33 : 0.15))];
      const st: FxStudent = {
        tenant, student_key: personKey(PII_KEY, tenant, uid), student_unique_id: uid, school_key: school.school_key,
        grade_number: i === 1 ? 3 + (s % 3) : 9 + (s % 4), first_name: `First${uid}`, last_name: `Last${uid}`, groups,
      };
      students.push(st);
      const math = schoolSections.filter((x) => x.subject === 'math');
      const ela = schoolSections.filter((x) => x.subject === 'ela');
      const m = math[s % math.length] as FxSection;
      const e = ela[(s + 1) % ela.length] as FxSection;
      memberships.push({ student_key: st.student_key, section_key: m.section_key, begin_date: '2025-08-15', end_date: null });
      // every 7th student left their ELA section in February and moved to another
      if (s % 7 === 0) {
        memberships.push({ student_key: st.student_key, section_key: e.section_key, begin_date: '2025-08-15', end_date: '2026-02-10' });
        const e2 = ela[(s + 2) % ela.length] as FxSection;
        memberships.push({ student_key: st.student_key, section_key: e2.section_key, begin_date: '2026-02-11', end_date: null });
      } else {
        memberships.push({ student_key: st.student_key, section_key: e.section_key, begin_date: '2025-08-15', end_date: null });
      }
    }
  }
  const chronicFor = (sts: FxStudent[], days: number, salt: number): FxChronic[] =>
    sts.map((s, idx) => {
      const rr = rng(salt * 100_000 + idx)();
      return { student_key: s.student_key, school_key: s.school_key, days_enrolled: days, days_absent: Math.floor(rr * rr * days * 0.4) };
    });
  // snapshot 1: a month earlier, without the last student of school 1 (who enrolled later)
  const late = students.find((s) => s.school_key === schools[0]?.school_key && s.student_unique_id.endsWith(String(perSchool).padStart(4, '0'))) as FxStudent;
  const students1 = students.filter((s) => s !== late);
  const memberships1 = memberships.filter((m) => m.student_key !== late.student_key);
  return {
    schools, staff, sections, staffSections, assignments, teachers, principals,
    snapshots: [
      { id: 1, publishedAt: '2026-02-28T10:00:00.000Z', dataThrough: '2026-02-27', students: students1, memberships: memberships1, chronic: chronicFor(students1, 120, 1) },
      { id: 2, publishedAt: '2026-03-28T10:00:00.000Z', dataThrough: '2026-03-27', students, memberships, chronic: chronicFor(students, 140, 2) },
    ],
  };
}

/** Several districts (tenants) in one lake: their rows side by side in the same snapshots. */
export function mergeDistricts(...ds: District[]): District {
  const first = ds[0] as District;
  return {
    schools: ds.flatMap((d) => d.schools), staff: ds.flatMap((d) => d.staff), sections: ds.flatMap((d) => d.sections),
    staffSections: ds.flatMap((d) => d.staffSections), assignments: ds.flatMap((d) => d.assignments),
    teachers: ds.flatMap((d) => d.teachers), principals: ds.flatMap((d) => d.principals),
    snapshots: first.snapshots.map((s, i) => ({
      ...s,
      students: ds.flatMap((d) => (d.snapshots[i] as FxSnapshot).students),
      memberships: ds.flatMap((d) => (d.snapshots[i] as FxSnapshot).memberships),
      chronic: ds.flatMap((d) => (d.snapshots[i] as FxSnapshot).chronic),
    })),
  };
}

/** The ClassroomPositionDescriptor of an association, as Ed-Fi delivers it. */
export function classroomPosition(x: FxStaffSection): string {
  return `uri://ed-fi.org/ClassroomPositionDescriptor#${x.coTeacher ? 'Assistant Teacher' : 'Teacher of Record'}`;
}

/** Active on a date, as the scope rules read it. */
export function activeOn(span: FxSpan, on: string): boolean {
  return span.begin_date <= on && (span.end_date === null || span.end_date >= on);
}

/**
 * The oracle: keys of the students a teacher sees in a snapshot: the active members (on that
 * snapshot's date) of the sections the teacher is actively associated with on the CURRENT snapshot's
 * date (scope comes from the current snapshot).
 */
export function teacherSections(d: District, staffKey: string): Set<string> {
  const on = (d.snapshots[d.snapshots.length - 1] as FxSnapshot).dataThrough;
  return new Set(d.staffSections.filter((x) => x.staff_key === staffKey && activeOn(x, on)).map((x) => x.section_key));
}

export function teacherStudents(d: District, staffKey: string, snap: FxSnapshot): Set<string> {
  const secs = teacherSections(d, staffKey);
  return new Set(snap.memberships.filter((m) => secs.has(m.section_key) && activeOn(m, snap.dataThrough)).map((m) => m.student_key));
}

/** The oracle: schools of a principal (active principal assignments on the snapshot's date). */
export function principalSchools(d: District, staffKey: string, on: string): Set<string> {
  return new Set(d.assignments.filter((a) => a.staff_key === staffKey && a.is_principal && activeOn(a, on)).map((a) => a.school_key));
}

export function tierOf(rate: number): string {
  return rate < 0.05 ? 'satisfactory' : rate < 0.1 ? 'at_risk' : rate < 0.2 ? 'moderate_chronic' : 'severe_chronic';
}

async function load(db: Db, table: string, rows: Array<Record<string, unknown>>, columns: Record<string, string>): Promise<void> {
  const cols = Object.keys(columns);
  await db.run(`CREATE TABLE ${table} (${cols.map((c) => `${c} ${columns[c]}`).join(', ')})`);
  if (rows.length === 0) return;
  // rows go in as one JSON document, parsed by DuckDB with the declared types
  const dir = mkdtempSync(path.join(tmpdir(), 'edlake-fx-'));
  const file = path.join(dir, `${table}.json`);
  try {
    writeFileSync(file, rows.map((r) => JSON.stringify(Object.fromEntries(cols.map((c) => [c, r[c] ?? null])))).join('\n'));
    await db.run(
      `INSERT INTO ${table} SELECT ${cols.join(', ')} FROM read_json('${file.replaceAll("'", "''")}', format = 'newline_delimited', columns = {${cols.map((c) => `${c}: '${columns[c]}'`).join(', ')}})`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Build the published tables of one snapshot (schema marts) in a fresh in-memory DuckDB. */
export async function snapshotInstance(d: District, snap: FxSnapshot): Promise<DuckDBInstance> {
  const inst = await DuckDBInstance.create(':memory:', { threads: process.env.FX_THREADS ?? '2' });
  const db = new Db(await inst.connect());
  await db.run('CREATE SCHEMA marts');
  await db.run("SET search_path = 'marts'");
  const on = snap.dataThrough;
  const rows = (x: unknown) => x as Array<Record<string, unknown>>;
  await load(db, 'dim_school', rows(d.schools), { tenant: 'VARCHAR', school_key: 'VARCHAR', school_id: 'VARCHAR', school_name: 'VARCHAR', school_category: 'VARCHAR' });
  const schoolId = new Map(d.schools.map((s) => [s.school_key, s.school_id]));
  await load(db, 'dim_staff', rows(d.staff.map((s) => {
    const ps = [...principalSchools(d, s.staff_key, on)].map((k) => schoolId.get(k));
    return { tenant: s.tenant, staff_key: s.staff_key, is_principal: ps.length > 0, is_teacher: d.staffSections.some((x) => x.staff_key === s.staff_key), principal_school_ids: ps, sections_taught: d.staffSections.filter((x) => x.staff_key === s.staff_key).length };
  })), { tenant: 'VARCHAR', staff_key: 'VARCHAR', is_principal: 'BOOLEAN', is_teacher: 'BOOLEAN', principal_school_ids: 'VARCHAR[]', sections_taught: 'BIGINT' });
  await load(db, 'dim_section', rows(d.sections.map((s) => ({ ...s, teacher_staff_key: d.staffSections.find((x) => x.section_key === s.section_key && !x.coTeacher)?.staff_key ?? null }))),
    { tenant: 'VARCHAR', section_key: 'VARCHAR', school_key: 'VARCHAR', course_code: 'VARCHAR', course_title: 'VARCHAR', subject: 'VARCHAR', section_identifier: 'VARCHAR', session_name: 'VARCHAR', school_year: 'INTEGER', teacher_staff_key: 'VARCHAR' });
  await load(db, 'dim_student', rows(snap.students.map((s) => ({ ...s, school_id: schoolId.get(s.school_key), school_year: 2026, grade_band: s.grade_number <= 5 ? 'elementary' : s.grade_number <= 8 ? 'middle' : 'high', is_enrolled: true }))),
    { tenant: 'VARCHAR', student_key: 'VARCHAR', school_id: 'VARCHAR', school_key: 'VARCHAR', school_year: 'INTEGER', grade_number: 'INTEGER', grade_band: 'VARCHAR', is_enrolled: 'BOOLEAN' });
  await load(db, 'dim_student_groups', snap.students.flatMap((s) => s.groups.map((g, i) => ({ tenant: s.tenant, student_key: s.student_key, group_code: g, group_kind: g === 'ALL' ? 'all' : 'program', group_label: `Group ${g}`, reporting_order: i }))),
    { tenant: 'VARCHAR', student_key: 'VARCHAR', group_code: 'VARCHAR', group_kind: 'VARCHAR', group_label: 'VARCHAR', reporting_order: 'INTEGER' });
  const sectionSchool = new Map(d.sections.map((s) => [s.section_key, s.school_key]));
  const sectionTenant = new Map(d.sections.map((s) => [s.section_key, s.tenant]));
  const staffTenant = new Map(d.staff.map((s) => [s.staff_key, s.tenant]));
  await load(db, 'fct_section_membership', rows(snap.memberships.map((m) => ({ ...m, tenant: sectionTenant.get(m.section_key), school_key: sectionSchool.get(m.section_key), is_active: activeOn(m, on) }))),
    { tenant: 'VARCHAR', student_key: 'VARCHAR', section_key: 'VARCHAR', school_key: 'VARCHAR', begin_date: 'DATE', end_date: 'DATE', is_active: 'BOOLEAN' });
  await db.run('CREATE SCHEMA refined');
  await load(db, 'refined.staff_section_associations', rows(d.staffSections.map((x) => ({ tenant: staffTenant.get(x.staff_key), staff_key: x.staff_key, section_key: x.section_key, classroom_position_descriptor: classroomPosition(x), begin_date: x.begin_date, end_date: x.end_date }))),
    { tenant: 'VARCHAR', staff_key: 'VARCHAR', section_key: 'VARCHAR', classroom_position_descriptor: 'VARCHAR', begin_date: 'DATE', end_date: 'DATE' });
  await load(db, 'chronic_base', rows(snap.chronic), { student_key: 'VARCHAR', school_key: 'VARCHAR', days_enrolled: 'BIGINT', days_absent: 'DOUBLE' });
  // derived columns computed in SQL here as the marts would; the tests' oracle recomputes what it checks in JS
  await db.run(`CREATE TABLE v_chronic_absenteeism_risk AS
    SELECT s.tenant, c.student_key, c.school_key, s.grade_number, c.days_enrolled, c.days_absent,
           1 - c.days_absent / c.days_enrolled AS attendance_rate, c.days_absent / c.days_enrolled AS absence_rate,
           least(1.0, c.days_absent / c.days_enrolled * 1.1) AS absence_rate_30d,
           (c.days_absent::BIGINT % 5) AS longest_absence_streak,
           CASE WHEN c.days_absent / c.days_enrolled < 0.05 THEN 'satisfactory' WHEN c.days_absent / c.days_enrolled < 0.10 THEN 'at_risk'
                WHEN c.days_absent / c.days_enrolled < 0.20 THEN 'moderate_chronic' ELSE 'severe_chronic' END AS tier_code,
           c.days_absent / c.days_enrolled >= 0.10 AS is_chronically_absent,
           CASE WHEN c.days_absent::BIGINT % 3 = 0 THEN 'worsening' ELSE 'stable' END AS trend,
           c.days_absent / c.days_enrolled AS projected_absence_rate_eoy,
           false AS entered_worse_tier
      FROM chronic_base c JOIN dim_student s USING (student_key)`);
  await db.run(`CREATE TABLE v_wellbeing_risk_profiles AS
    SELECT tenant, student_key, school_key, grade_number, round(absence_rate * 300) % 101 AS risk_score,
           CASE WHEN absence_rate >= 0.2 THEN 'high' WHEN absence_rate >= 0.1 THEN 'elevated' ELSE 'low' END AS risk_tier,
           CASE WHEN absence_rate >= 0.1 THEN ['attendance below 90%'] ELSE []::VARCHAR[] END AS reasons
      FROM v_chronic_absenteeism_risk`);
  await db.run(`CREATE TABLE fct_assessment_results AS
    SELECT tenant, sha256(student_key || subj || kind) AS result_key, student_key, kind AS assessment_family,
           CASE WHEN kind = 'state' THEN 'caaspp' ELSE 'nwea_map' END AS vendor, subj AS subject, 2026 AS school_year,
           CASE WHEN kind = 'state' THEN DATE '2025-05-01' ELSE DATE '2026-01-20' END AS administration_date,
           (CASE WHEN kind = 'state' THEN 2400 ELSE 200 END + (hash(student_key || subj) % 200))::DOUBLE AS scale_score,
           (2400 + (hash(student_key || subj) % 200))::DOUBLE AS state_scale_score,
           (1 + hash(student_key || subj) % 4)::BIGINT AS achievement_level,
           1 + hash(student_key || subj) % 4 >= 3 AS is_proficient
      FROM dim_student, (VALUES ('Math'), ('ELA')) s(subj), (VALUES ('state'), ('interim')) k(kind)`);
  await db.run(`CREATE TABLE fct_predictions AS
    SELECT tenant, student_key, subject, state_scale_score + 10 AS predicted_scale_score, 25.0 AS standard_error,
           achievement_level AS predicted_level, least(0.99, achievement_level / 4.0) AS probability_met, 'linear-v1' AS model_version
      FROM fct_assessment_results WHERE assessment_family = 'interim'`);
  // equity: school x group and district x group, from the students of this snapshot
  await db.run(`CREATE TABLE v_equity_outcomes AS
    WITH base AS (
      SELECT c.tenant, c.school_key, g.group_code, g.group_label, g.reporting_order, c.attendance_rate, c.is_chronically_absent
        FROM v_chronic_absenteeism_risk c JOIN dim_student_groups g USING (student_key)),
    agg AS (
      SELECT CASE WHEN school_key IS NULL THEN 'district' ELSE 'school' END AS scope, tenant, school_key, group_code, any_value(group_label) AS group_label,
             min(reporting_order) AS reporting_order, count(*) AS students, avg(attendance_rate) AS attendance_rate,
             avg(is_chronically_absent::INTEGER) AS chronic_absence_rate
        FROM base GROUP BY GROUPING SETS ((tenant, school_key, group_code), (tenant, group_code)))
    SELECT a.*, students <= 10 AS is_suppressed, 0.5::DOUBLE AS proficiency_rate_prior, 0.55::DOUBLE AS predicted_proficiency_rate,
           80.0::DOUBLE AS mean_course_mark, 0.02::DOUBLE AS suspension_rate,
           a.attendance_rate - (SELECT b.attendance_rate FROM agg b WHERE b.tenant = a.tenant AND b.school_key IS NOT DISTINCT FROM a.school_key AND b.group_code = 'ALL') AS attendance_rate_gap_to_all,
           0.0::DOUBLE AS attendance_rate_gap_to_best,
           a.chronic_absence_rate - (SELECT b.chronic_absence_rate FROM agg b WHERE b.tenant = a.tenant AND b.school_key IS NOT DISTINCT FROM a.school_key AND b.group_code = 'ALL') AS chronic_absence_rate_gap_to_all,
           0.0::DOUBLE AS chronic_absence_rate_gap_to_best, 0.0::DOUBLE AS predicted_proficiency_rate_gap_to_all, 0.0::DOUBLE AS predicted_proficiency_rate_gap_to_best
      FROM agg a`);
  await db.run(`CREATE TABLE v_class_section_comparison AS
    WITH m AS (
      SELECT m.section_key, c.attendance_rate, c.is_chronically_absent FROM fct_section_membership m
        JOIN v_chronic_absenteeism_risk c USING (student_key) WHERE m.is_active),
    s AS (
      SELECT sc.tenant, sc.section_key, sc.school_key, sc.course_code, sc.teacher_staff_key, count(*) AS students,
             avg(m.attendance_rate) AS attendance_rate, avg(m.is_chronically_absent::INTEGER) AS chronic_absence_rate
        FROM dim_section sc JOIN m USING (section_key) GROUP BY ALL)
    SELECT s.*,
           (sum(attendance_rate) OVER w - attendance_rate) / nullif(count(*) OVER w - 1, 0) AS attendance_rate_peer_mean,
           0.0::DOUBLE AS attendance_rate_z,
           (sum(chronic_absence_rate) OVER w - chronic_absence_rate) / nullif(count(*) OVER w - 1, 0) AS chronic_absence_rate_peer_mean,
           NULL::DOUBLE AS interim_growth, NULL::DOUBLE AS interim_growth_peer_mean,
           NULL::DOUBLE AS predicted_proficiency_rate, NULL::DOUBLE AS predicted_proficiency_rate_peer_mean,
           NULL::DOUBLE AS mean_course_mark, NULL::DOUBLE AS mean_course_mark_peer_mean,
           NULL::DOUBLE AS lms_submission_rate, NULL::DOUBLE AS lms_submission_rate_peer_mean,
           []::VARCHAR[] AS measures_apart, false AS stands_apart
      FROM s WINDOW w AS (PARTITION BY tenant, course_code)`);
  await db.run(`CREATE TABLE v_performance_correlations AS
    SELECT tenant, school_key, 'high' AS grade_band, 'attendance_rate' AS measure, 'predicted_state_score' AS outcome,
           count(*) AS n, 0.42 AS r, 0.2 AS r_ci_low, 0.6 AS r_ci_high, 120.0 AS slope
      FROM v_chronic_absenteeism_risk GROUP BY tenant, school_key`);
  await db.run('DROP TABLE chronic_base');
  db.close();
  return inst;
}

export interface Fixture {
  district: District;
  source: InstanceSnapshotSource;
  identityFile: string;
  instances: InstanceSnapshot[];
}

/** The district's snapshots as a snapshot source, and its identity store as a DuckDB file. */
export async function buildFixture(opts: DistrictOptions & { district?: District } = {}): Promise<Fixture> {
  const district = opts.district ?? buildDistrict(opts);
  const instances: InstanceSnapshot[] = [];
  for (const s of district.snapshots) {
    instances.push({
      info: { id: s.id, publishedAt: s.publishedAt, dataThrough: s.dataThrough, runId: `run-${s.id}` },
      instance: await snapshotInstance(district, s),
      dictionary: { tables: [{ name: 'v_chronic_absenteeism_risk', description: `chronic absence, snapshot ${s.id}` }] },
    });
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'edlake-identity-'));
  const identityFile = path.join(dir, 'identity.duckdb');
  const inst = await DuckDBInstance.create(identityFile);
  const db = new Db(await inst.connect());
  const last = district.snapshots[district.snapshots.length - 1] as FxSnapshot;
  const rows = (x: unknown) => x as Array<Record<string, unknown>>;
  await load(db, 'students', rows(last.students), { tenant: 'VARCHAR', student_key: 'VARCHAR', student_unique_id: 'VARCHAR', first_name: 'VARCHAR', last_name: 'VARCHAR' });
  await load(db, 'staff', rows(district.staff), { tenant: 'VARCHAR', staff_key: 'VARCHAR', staff_unique_id: 'VARCHAR', email: 'VARCHAR', first_name: 'VARCHAR', last_name: 'VARCHAR' });
  db.close();
  inst.closeSync();
  return { district, source: new InstanceSnapshotSource(() => instances, 'America/Los_Angeles', 2), identityFile, instances };
}
