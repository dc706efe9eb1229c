/** Students: dim_student with groups, attendance, risk, results and predictions, scoped in SQL. */
import type { Row } from '../src/db/duckdb.ts';
import { groupBy, oneBy, type SnapshotData } from './context.ts';
import { fetchPage, type Page, type PageArgs } from './page.ts';
import { inList, type Params } from './runner.ts';
import { T } from './tables.ts';

export interface StudentRow extends Row {
  /** Missing at run time on rows of the serving index (it does not read it): the school's tenant is the student's. */
  tenant: string | null;
  student_key: string;
  school_key: string;
  grade_level: number | null;
  grade_band: string | null;
}

const COLS = 'st.tenant, st.student_key, st.school_key, st.grade_number AS grade_level, st.grade_band';

export const STUDENT_ORDER = {
  KEY: 'st.student_key',
  GRADE: 'st.grade_number NULLS LAST, st.student_key',
  ABSENCE_RATE_DESC: 'c.absence_rate DESC NULLS LAST, st.student_key',
  RISK_SCORE_DESC: 'w.risk_score DESC NULLS LAST, st.student_key',
} as const;
export type StudentOrder = keyof typeof STUDENT_ORDER;

export interface StudentFilter {
  schoolKey?: string | null | undefined;
  sectionKey?: string | null | undefined;
  gradeLevel?: number | null | undefined;
  tier?: string | null | undefined;
  riskTier?: string | null | undefined;
  studentGroup?: string | null | undefined;
}

export function listStudents(d: SnapshotData, args: PageArgs, filter: StudentFilter = {}, order: StudentOrder = 'KEY'): Promise<Page<StudentRow>> {
  const where = [d.scope.students('st')];
  const params: Params = { ...d.scope.params };
  if (filter.schoolKey != null) { where.push('st.school_key = $f_school'); params.f_school = filter.schoolKey; }
  if (filter.gradeLevel != null) { where.push('st.grade_number = $f_grade'); params.f_grade = filter.gradeLevel; }
  if (filter.tier != null) { where.push('c.tier_code = $f_tier'); params.f_tier = filter.tier; }
  if (filter.riskTier != null) { where.push('w.risk_tier = $f_risk'); params.f_risk = filter.riskTier; }
  if (filter.studentGroup != null) {
    where.push(`st.student_key IN (SELECT g.student_key FROM ${T.studentGroup} g WHERE g.group_code = $f_group)`);
    params.f_group = filter.studentGroup;
  }
  if (filter.sectionKey != null) {
    where.push(`st.student_key IN (SELECT m.student_key FROM ${T.sectionMembership} m WHERE m.section_key = $f_section AND m.is_active)`);
    params.f_section = filter.sectionKey;
  }
  return fetchPage<StudentRow>(d.q, {
    select: COLS,
    from: `FROM ${T.student} st LEFT JOIN ${T.chronic} c ON c.student_key = st.student_key
           LEFT JOIN ${T.wellbeing} w ON w.student_key = st.student_key
           WHERE ${where.join(' AND ')}`,
    params,
    ordering: `student:${order}`,
    orderBy: STUDENT_ORDER[order],
  }, args);
}

export function studentByKey(d: SnapshotData) {
  return d.loader<StudentRow | null>('student', async (keys) => {
    const ix = await d.index();
    if (ix) {
      const scope = d.scope.scope;
      return keys.map((k) => {
        const row = ix.students.get(k);
        return row && ix.allows(scope, k, row.school_key) ? row : null;
      });
    }
    const rows = await d.q.all<StudentRow>(
      `SELECT ${COLS} FROM ${T.student} st WHERE st.student_key IN ${inList('keys')} AND ${d.scope.students('st')}`,
      { keys: [...keys], ...d.scope.params },
    );
    return oneBy(keys, rows, 'student_key');
  });
}

/** The active students of sections (a section's roster), in scope. */
export function studentsBySection(d: SnapshotData) {
  return d.loader<StudentRow[]>('studentsBySection', async (keys) => {
    const ix = await d.index();
    if (ix) {
      const scope = d.scope.scope;
      return keys.map((sec) => {
        if (!ix.allowsSection(scope, sec, ix.sectionSchool.get(sec))) return [];
        const out: StudentRow[] = [];
        for (const k of ix.members.get(sec) ?? []) {
          const row = ix.students.get(k);
          if (row && ix.allows(scope, k, row.school_key)) out.push(row);
        }
        return out;
      });
    }
    const rows = await d.q.all<StudentRow & { section_key: string }>(
      `SELECT m.section_key, ${COLS} FROM ${T.sectionMembership} m JOIN ${T.student} st ON st.student_key = m.student_key
        WHERE m.section_key IN ${inList('keys')} AND ${d.scope.memberships('m')} AND ${d.scope.students('st')}
          AND m.is_active
        ORDER BY st.student_key`,
      { keys: [...keys], ...d.scope.params },
    );
    return groupBy(keys, rows, 'section_key');
  });
}

/** Students of a school, in scope. */
export function studentsBySchool(d: SnapshotData) {
  return d.loader<StudentRow[]>('studentsBySchool', async (keys) => {
    const rows = await d.q.all<StudentRow>(
      `SELECT ${COLS} FROM ${T.student} st WHERE st.school_key IN ${inList('keys')} AND ${d.scope.students('st')} ORDER BY st.student_key`,
      { keys: [...keys], ...d.scope.params },
    );
    return groupBy(keys, rows, 'school_key');
  });
}

export function groupsByStudent(d: SnapshotData) {
  return d.loader<string[]>('groupsByStudent', async (keys) => {
    const rows = await d.q.all<{ student_key: string; student_group: string }>(
      `SELECT g.student_key, g.group_code AS student_group FROM ${T.studentGroup} g
        WHERE g.student_key IN ${inList('keys')} AND ${d.scope.students('g', null)} ORDER BY g.reporting_order, g.group_code`,
      { keys: [...keys], ...d.scope.params },
    );
    return groupBy(keys, rows, 'student_key').map((rs) => rs.map((r) => r.student_group));
  });
}
