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
const CCOLS = 'c.student_key, c.school_key, c.days_enrolled, c.days_absent, c.absence_rate AS absence_rate_ytd, c.absence_rate_30d, c.tier_code AS tier, c.is_chronically_absent AS is_chronic, c.trend, c.projected_absence_rate_eoy AS projected_absence_rate, c.longest_absence_streak, c.entered_worse_tier AS newly_worse_tier';

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
    const ix = await d.index();
    if (ix) {
      const scope = d.scope.scope;
      return keys.map((k) => {
        const row = ix.chronic.get(k);
        return row && ix.allows(scope, k, row.school_key) ? row : null;
      });
    }
    const rows = await d.q.all<ChronicRow>(
      `SELECT ${CCOLS} FROM ${T.chronic} c WHERE c.student_key IN ${inList('keys')} AND ${d.scope.students('c')}`,
      { keys: [...keys], ...d.scope.params },
    );
    return oneBy(keys, rows, 'student_key');
  });
}

export function wellbeingByStudent(d: SnapshotData) {
  return d.loader<WellbeingRow | null>('wellbeingByStudent', async (keys) => {
    const ix = await d.index();
    if (ix) {
      const scope = d.scope.scope;
      return keys.map((k) => {
        const row = ix.wellbeing.get(k);
        return row && ix.allows(scope, k, row.school_key) ? row : null;
      });
    }
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
    where.push(`${alias}.grade_number = $f_grade`);
    params.f_grade = f.gradeLevel;
  }
  return { where, params };
}

export function listChronic(d: SnapshotData, args: PageArgs, f: StudentViewFilter = {}): Promise<Page<ChronicRow>> {
  const { where, params } = studentViewWhere(d, 'c', f, 'tier_code');
  return fetchPage<ChronicRow>(d.q, {
    select: CCOLS,
    from: `FROM ${T.chronic} c WHERE ${where.join(' AND ')}`,
    params,
    ordering: 'chronic:ABSENCE_DESC',
    orderBy: 'c.absence_rate DESC NULLS LAST, c.student_key',
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
  return d.scope.schoolGrain(alias);
}

function suppress(d: SnapshotData): boolean {
  return POLICY[d.req.viewer.role].suppressSmallGroups;
}

export interface EquityRow extends Row {
  tenant: string;
  school_key: string | null;
  student_group: string;
  group_label: string | null;
  n_students: number;
  suppressed: boolean;
  attendance_rate: number | null;
  chronic_absence_rate: number | null;
  proficiency_rate: number | null;
  predicted_proficiency_rate: number | null;
  mean_course_mark: number | null;
  suspension_rate: number | null;
  attendance_rate_gap_to_all: number | null;
  attendance_rate_gap_to_best: number | null;
  chronic_absence_rate_gap_to_all: number | null;
  chronic_absence_rate_gap_to_best: number | null;
  predicted_proficiency_rate_gap_to_all: number | null;
  predicted_proficiency_rate_gap_to_best: number | null;
}

/** Measures of the equity view withheld when a group is suppressed: [view column, row field]. */
const EQUITY_MEASURES: Array<[string, string]> = [
  ['attendance_rate', 'attendance_rate'],
  ['chronic_absence_rate', 'chronic_absence_rate'],
  ['proficiency_rate_prior', 'proficiency_rate'],
  ['predicted_proficiency_rate', 'predicted_proficiency_rate'],
  ['mean_course_mark', 'mean_course_mark'],
  ['suspension_rate', 'suspension_rate'],
  ['attendance_rate_gap_to_all', 'attendance_rate_gap_to_all'],
  ['attendance_rate_gap_to_best', 'attendance_rate_gap_to_best'],
  ['chronic_absence_rate_gap_to_all', 'chronic_absence_rate_gap_to_all'],
  ['chronic_absence_rate_gap_to_best', 'chronic_absence_rate_gap_to_best'],
  ['predicted_proficiency_rate_gap_to_all', 'predicted_proficiency_rate_gap_to_all'],
  ['predicted_proficiency_rate_gap_to_best', 'predicted_proficiency_rate_gap_to_best'],
];

/** The equity view's columns as listEquity reads them, before suppression (alias e); the serving index reads the same. */
export const EQUITY_COLS = `e.tenant, e.school_key, e.group_code AS student_group, e.group_label, e.students::INTEGER AS n_students,
  ${EQUITY_MEASURES.map(([c, a]) => `e.${c} AS ${a}`).join(', ')}`;
/** The equity list's ordering. */
export const EQUITY_ORDER = 'e.tenant, e.school_key NULLS FIRST, e.reporting_order, e.group_code';
/** Fields of EquityRow withheld when a group is suppressed. */
export const EQUITY_WITHHELD = EQUITY_MEASURES.map(([, a]) => a);

export async function listEquity(d: SnapshotData, f: { schoolKey?: string | null | undefined; studentGroup?: string | null | undefined; districtOnly?: boolean | null | undefined }): Promise<EquityRow[]> {
  // the snapshot's serving index holds the view's few rows (decision 0609): scope and suppression applied there
  const ix = await d.index();
  const held = ix?.equityFor(d.scope.scope, f, suppress(d), SMALL_GROUP_MAX);
  if (held) return held;
  const where = [schoolGrain(d, 'e')];
  const params: Params = { ...d.scope.params, suppress: suppress(d), small: SMALL_GROUP_MAX };
  if (f.schoolKey != null) { where.push('e.school_key = $f_school'); params.f_school = f.schoolKey; }
  if (f.districtOnly === true) where.push('e.school_key IS NULL');
  if (f.studentGroup != null) { where.push('e.group_code = $f_group'); params.f_group = f.studentGroup; }
  const hide = `($suppress AND (e.is_suppressed OR e.students <= $small))`;
  return d.q.all<EquityRow>(
    `SELECT e.tenant, e.school_key, e.group_code AS student_group, e.group_label, e.students::INTEGER AS n_students, ${hide} AS suppressed,
            ${EQUITY_MEASURES.map(([c, a]) => `CASE WHEN ${hide} THEN NULL ELSE e.${c} END AS ${a}`).join(', ')}
       FROM ${T.equity} e WHERE ${where.join(' AND ')}
      ORDER BY ${EQUITY_ORDER}`,
    params,
  );
}

export interface ComparisonRow extends Row {
  tenant: string;
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
  interim_growth: number | null;
  interim_growth_course_mean: number | null;
  predicted_proficiency_rate: number | null;
  predicted_proficiency_rate_course_mean: number | null;
  mean_course_mark: number | null;
  mean_course_mark_course_mean: number | null;
  lms_submission_rate: number | null;
  lms_submission_rate_course_mean: number | null;
  stands_apart: boolean | null;
  measures_apart: string[] | null;
}
/** The section's own measures (withheld when the section is small, for the roles that suppress). */
const CMP_OWN = ['attendance_rate', 'attendance_rate_z', 'chronic_absence_rate', 'interim_growth', 'predicted_proficiency_rate', 'mean_course_mark', 'lms_submission_rate', 'stands_apart', 'measures_apart'];
const CMP_PEER = ['attendance_rate', 'chronic_absence_rate', 'interim_growth', 'predicted_proficiency_rate', 'mean_course_mark', 'lms_submission_rate'];

export async function listComparison(d: SnapshotData, f: { schoolKey?: string | null | undefined; courseCode?: string | null | undefined; sectionKey?: string | null | undefined; sectionKeys?: readonly string[] | undefined }): Promise<ComparisonRow[]> {
  const where = [d.scope.sections('v')];
  const params: Params = { ...d.scope.params, suppress: suppress(d), small: SMALL_GROUP_MAX };
  if (f.schoolKey != null) { where.push('v.school_key = $f_school'); params.f_school = f.schoolKey; }
  if (f.courseCode != null) { where.push('v.course_code = $f_course'); params.f_course = f.courseCode; }
  if (f.sectionKey != null) { where.push('v.section_key = $f_section'); params.f_section = f.sectionKey; }
  if (f.sectionKeys !== undefined) { where.push(`v.section_key IN ${inList('f_sections')}`); params.f_sections = f.sectionKeys; }
  const hide = `($suppress AND v.students <= $small)`;
  return d.q.all<ComparisonRow>(
    `SELECT v.tenant, v.section_key, v.teacher_staff_key AS staff_key, v.course_code, v.students::INTEGER AS n_students, ${hide} AS suppressed,
            ${CMP_OWN.map((m) => `CASE WHEN ${hide} THEN NULL ELSE v.${m} END AS ${m}`).join(', ')},
            ${CMP_PEER.map((m) => `v.${m}_peer_mean AS ${m}_course_mean`).join(', ')}
       FROM ${T.sectionComparison} v
      WHERE ${where.join(' AND ')}
      ORDER BY v.course_code, v.section_key`,
    params,
  );
}

export interface CorrelationRow extends Row {
  tenant: string;
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
    `SELECT v.tenant, v.school_key, v.grade_band, v.measure, v.outcome, v.n::INTEGER AS n, ${hide} AS suppressed,
            ${[['r', 'r'], ['r_ci_low', 'ci_low'], ['r_ci_high', 'ci_high'], ['slope', 'slope']].map(([c, a]) => `CASE WHEN ${hide} THEN NULL ELSE v.${c} END AS ${a}`).join(', ')}
       FROM ${T.correlations} v WHERE ${where.join(' AND ')}
      ORDER BY v.tenant, v.school_key NULLS FIRST, v.grade_band, v.measure, v.outcome`,
    params,
  );
}
