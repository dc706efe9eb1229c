/**
 * The five operational views, scoped in SQL.
 *
 * - per-student views (chronic absenteeism risk, wellbeing risk profiles): the caller's students;
 * - the section comparison: the caller's sections, each beside the course mean the view carries;
 * - school-grain views (equity outcomes, performance correlations): the caller's schools for a
 *   principal, none for a teacher (their marts are their sections), every row for district roles;
 *   district rows (no school) only for district-wide roles.
 * - groups of 10 students or fewer are suppressed for the roles the matrix names: the row stays,
 *   marked suppressed, with its measures withheld (NULL) by the SQL itself.
 */
import type { Row } from '../src/db/duckdb.ts';
import { POLICY, SMALL_GROUP_MAX } from '../src/auth/roles.ts';
import { oneBy, type SnapshotData } from './context.ts';
import { fetchPage, type Page, type PageArgs } from './page.ts';
import { inList, type Params } from './runner.ts';
import { T } from './tables.ts';

export interface ChronicRow extends Row {
  student_key: string;
  school_key: string;
  days_enrolled: number | null;
  days_absent: number | null;
  absence_rate_ytd: number | null;
  absence_rate_30d: number | null;
  tier: string | null;
  is_chronic: boolean | null;
  trend: string | null;
  projected_absence_rate: number | null;
  longest_absence_streak: number | null;
  newly_worse_tier: boolean | null;
}
const CCOLS = 'c.student_key, c.school_key, c.days_enrolled, c.days_absent, c.absence_rate_ytd, c.absence_rate_30d, c.tier, c.is_chronic, c.trend, c.projected_absence_rate, c.longest_absence_streak, c.newly_worse_tier';

export interface WellbeingRow extends Row {
  student_key: string;
  school_key: string;
  risk_score: number | null;
  risk_tier: string | null;
  reasons: string[] | null;
}
const WCOLS = 'w.student_key, w.school_key, w.risk_score, w.risk_tier, w.reasons';

export function chronicByStudent(d: SnapshotData) {
  return d.loader<ChronicRow | null>('chronicByStudent', async (keys) => {
    const rows = await d.q.all<ChronicRow>(
      `SELECT ${CCOLS} FROM ${T.chronic} c WHERE c.student_key IN ${inList('keys')} AND ${d.scope.students('c')}`,
      { keys: [...keys], ...d.scope.params },
    );
    return oneBy(keys, rows, 'student_key');
  });
}

export function wellbeingByStudent(d: SnapshotData) {
  return d.loader<WellbeingRow | null>('wellbeingByStudent', async (keys) => {
    const rows = await d.q.all<WellbeingRow>(
      `SELECT ${WCOLS} FROM ${T.wellbeing} w WHERE w.student_key IN ${inList('keys')} AND ${d.scope.students('w')}`,
      { keys: [...keys], ...d.scope.params },
    );
    return oneBy(keys, rows, 'student_key');
  });
}

export interface StudentViewFilter {
  schoolKey?: string | null | undefined;
  tier?: string | null | undefined;
  gradeLevel?: number | null | undefined;
}

function studentViewWhere(d: SnapshotData, alias: string, f: StudentViewFilter, tierCol: string): { where: string[]; params: Params } {
  const where = [d.scope.students(alias)];
  const params: Params = { ...d.scope.params };
  if (f.schoolKey != null) { where.push(`${alias}.school_key = $f_school`); params.f_school = f.schoolKey; }
  if (f.tier != null) { where.push(`${alias}.${tierCol} = $f_tier`); params.f_tier = f.tier; }
  if (f.gradeLevel != null) {
    where.push(`${alias}.student_key IN (SELECT s.student_key FROM ${T.student} s WHERE s.grade_level = $f_grade)`);
    params.f_grade = f.gradeLevel;
  }
  return { where, params };
}

export function listChronic(d: SnapshotData, args: PageArgs, f: StudentViewFilter = {}): Promise<Page<ChronicRow>> {
  const { where, params } = studentViewWhere(d, 'c', f, 'tier');
  return fetchPage<ChronicRow>(d.q, {
    select: CCOLS,
    from: `FROM ${T.chronic} c WHERE ${where.join(' AND ')}`,
    params,
    ordering: 'chronic:ABSENCE_DESC',
    orderBy: 'c.absence_rate_ytd DESC NULLS LAST, c.student_key',
  }, args);
}

export function listWellbeing(d: SnapshotData, args: PageArgs, f: StudentViewFilter = {}): Promise<Page<WellbeingRow>> {
  const { where, params } = studentViewWhere(d, 'w', f, 'risk_tier');
  return fetchPage<WellbeingRow>(d.q, {
    select: WCOLS,
    from: `FROM ${T.wellbeing} w WHERE ${where.join(' AND ')}`,
    params,
    ordering: 'wellbeing:RISK_DESC',
    orderBy: 'w.risk_score DESC NULLS LAST, w.student_key',
  }, args);
}

/** School-grain rows the caller may read: predicate over an alias with school_key (NULL = district). */
function schoolGrain(d: SnapshotData, alias: string): string {
  const s = d.scope.scope;
  if (s.kind === 'all') return 'TRUE';
  if (s.kind === 'schools') return `${alias}.school_key IN ${inList('scope_schools')}`;
  return 'FALSE';
}

function suppress(d: SnapshotData): boolean {
  return POLICY[d.req.viewer.role].suppressSmallGroups;
}

export interface EquityRow extends Row {
  school_key: string | null;
  student_group: string;
  n_students: number;
  suppressed: boolean;
  attendance_rate: number | null;
  chronic_absence_rate: number | null;
  proficiency_rate: number | null;
  predicted_proficiency_rate: number | null;
  mean_course_mark: number | null;
  suspension_rate: number | null;
  gap_to_all: number | null;
}

const EQUITY_MEASURES = ['attendance_rate', 'chronic_absence_rate', 'proficiency_rate', 'predicted_proficiency_rate', 'mean_course_mark', 'suspension_rate', 'gap_to_all'];

export async function listEquity(d: SnapshotData, f: { schoolKey?: string | null | undefined; studentGroup?: string | null | undefined; districtOnly?: boolean | null | undefined }): Promise<EquityRow[]> {
  const where = [schoolGrain(d, 'e')];
  const params: Params = { ...d.scope.params, suppress: suppress(d), small: SMALL_GROUP_MAX };
  if (f.schoolKey != null) { where.push('e.school_key = $f_school'); params.f_school = f.schoolKey; }
  if (f.districtOnly === true) where.push('e.school_key IS NULL');
  if (f.studentGroup != null) { where.push('e.student_group = $f_group'); params.f_group = f.studentGroup; }
  const hide = `($suppress AND (e.suppressed OR e.n_students <= $small))`;
  return d.q.all<EquityRow>(
    `SELECT e.school_key, e.student_group, e.n_students, ${hide} AS suppressed,
            ${EQUITY_MEASURES.map((m) => `CASE WHEN ${hide} THEN NULL ELSE e.${m} END AS ${m}`).join(', ')}
       FROM ${T.equity} e WHERE ${where.join(' AND ')}
      ORDER BY e.school_key NULLS FIRST, e.student_group`,
    params,
  );
}

export interface ComparisonRow extends Row {
  section_key: string;
  staff_key: string | null;
  course_code: string;
  n_students: number;
  suppressed: boolean;
  attendance_rate: number | null;
  attendance_rate_course_mean: number | null;
  attendance_rate_z: number | null;
  chronic_absence_rate: number | null;
  chronic_absence_rate_course_mean: number | null;
  stands_apart: boolean | null;
}
const CMP_MEASURES = ['attendance_rate', 'attendance_rate_z', 'chronic_absence_rate', 'stands_apart'];

export async function listComparison(d: SnapshotData, f: { schoolKey?: string | null | undefined; courseCode?: string | null | undefined; sectionKey?: string | null | undefined }): Promise<ComparisonRow[]> {
  const where = [d.scope.sections('sc')];
  const params: Params = { ...d.scope.params, suppress: suppress(d), small: SMALL_GROUP_MAX };
  if (f.schoolKey != null) { where.push('sc.school_key = $f_school'); params.f_school = f.schoolKey; }
  if (f.courseCode != null) { where.push('v.course_code = $f_course'); params.f_course = f.courseCode; }
  if (f.sectionKey != null) { where.push('v.section_key = $f_section'); params.f_section = f.sectionKey; }
  const hide = `($suppress AND v.n_students <= $small)`;
  return d.q.all<ComparisonRow>(
    `SELECT v.section_key, v.staff_key, v.course_code, v.n_students, ${hide} AS suppressed,
            ${CMP_MEASURES.map((m) => `CASE WHEN ${hide} THEN NULL ELSE v.${m} END AS ${m}`).join(', ')},
            v.attendance_rate_course_mean, v.chronic_absence_rate_course_mean
       FROM ${T.sectionComparison} v JOIN ${T.section} sc ON sc.section_key = v.section_key
      WHERE ${where.join(' AND ')}
      ORDER BY v.course_code, v.section_key`,
    params,
  );
}

export interface CorrelationRow extends Row {
  school_key: string | null;
  grade_band: string;
  measure: string;
  outcome: string;
  n: number;
  suppressed: boolean;
  r: number | null;
  ci_low: number | null;
  ci_high: number | null;
  slope: number | null;
}

export async function listCorrelations(d: SnapshotData, f: { schoolKey?: string | null | undefined; measure?: string | null | undefined; outcome?: string | null | undefined }): Promise<CorrelationRow[]> {
  const where = [schoolGrain(d, 'v')];
  const params: Params = { ...d.scope.params, suppress: suppress(d), small: SMALL_GROUP_MAX };
  if (f.schoolKey != null) { where.push('v.school_key = $f_school'); params.f_school = f.schoolKey; }
  if (f.measure != null) { where.push('v.measure = $f_measure'); params.f_measure = f.measure; }
  if (f.outcome != null) { where.push('v.outcome = $f_outcome'); params.f_outcome = f.outcome; }
  const hide = `($suppress AND v.n <= $small)`;
  return d.q.all<CorrelationRow>(
    `SELECT v.school_key, v.grade_band, v.measure, v.outcome, v.n, ${hide} AS suppressed,
            ${['r', 'ci_low', 'ci_high', 'slope'].map((m) => `CASE WHEN ${hide} THEN NULL ELSE v.${m} END AS ${m}`).join(', ')}
       FROM ${T.correlations} v WHERE ${where.join(' AND ')}
      ORDER BY v.school_key NULLS FIRST, v.grade_band, v.measure, v.outcome`,
    params,
  );
}
