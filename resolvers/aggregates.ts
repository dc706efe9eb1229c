/**
 * Aggregates for integrators: counts and rates grouped by school, grade and student group,
 * computed in DuckDB over the caller's students, with small groups suppressed in SQL for the roles
 * that suppress.
 */
import type { Row } from '../src/db/duckdb.ts';
import { POLICY, SMALL_GROUP_MAX } from '../src/auth/roles.ts';
import type { SnapshotData } from './context.ts';
import type { Params } from './runner.ts';
import { T } from './tables.ts';

export type Dimension = 'SCHOOL' | 'GRADE' | 'STUDENT_GROUP';

const DIM_SQL: Record<Dimension, { expr: string; as: string }> = {
  SCHOOL: { expr: 'st.school_key', as: 'school_key' },
  GRADE: { expr: 'st.grade_number', as: 'grade_level' },
  STUDENT_GROUP: { expr: 'g.group_code', as: 'student_group' },
};

export interface AggregateFilter {
  schoolKey?: string | null | undefined;
  gradeLevel?: number | null | undefined;
  studentGroup?: string | null | undefined;
}

export interface AttendanceAggregateRow extends Row {
  school_key: string | null;
  grade_level: number | null;
  student_group: string | null;
  students: number;
  suppressed: boolean;
  chronic_students: number | null;
  chronic_absence_rate: number | null;
  attendance_rate: number | null;
}

export async function attendanceAggregate(d: SnapshotData, groupBy: Dimension[], f: AggregateFilter): Promise<AttendanceAggregateRow[]> {
  const dims = [...new Set(groupBy)].sort() as Dimension[];
  const where = [d.scope.students('st')];
  const params: Params = { ...d.scope.params, suppress: POLICY[d.req.viewer.role].suppressSmallGroups, small: SMALL_GROUP_MAX };
  if (f.schoolKey != null) { where.push('st.school_key = $f_school'); params.f_school = f.schoolKey; }
  if (f.gradeLevel != null) { where.push('st.grade_number = $f_grade'); params.f_grade = f.gradeLevel; }
  const joinGroups = dims.includes('STUDENT_GROUP');
  if (f.studentGroup != null) {
    if (joinGroups) where.push('g.group_code = $f_group');
    else where.push(`st.student_key IN (SELECT g2.student_key FROM ${T.studentGroup} g2 WHERE g2.group_code = $f_group)`);
    params.f_group = f.studentGroup;
  }
  const select = (['SCHOOL', 'GRADE', 'STUDENT_GROUP'] as Dimension[]).map((dim) =>
    dims.includes(dim) ? `${DIM_SQL[dim].expr} AS ${DIM_SQL[dim].as}` : `NULL AS ${DIM_SQL[dim].as}`,
  );
  const groupCols = dims.map((dim) => DIM_SQL[dim].expr);
  const hide = '($suppress AND count(DISTINCT st.student_key) <= $small)';
  const sql = `
    SELECT ${select.join(', ')},
           count(DISTINCT st.student_key)::INTEGER AS students,
           ${hide} AS suppressed,
           CASE WHEN ${hide} THEN NULL ELSE count(DISTINCT CASE WHEN c.is_chronically_absent THEN st.student_key END)::INTEGER END AS chronic_students,
           CASE WHEN ${hide} THEN NULL ELSE count(DISTINCT CASE WHEN c.is_chronically_absent THEN st.student_key END) / nullif(count(DISTINCT CASE WHEN c.student_key IS NOT NULL THEN st.student_key END), 0) END AS chronic_absence_rate,
           CASE WHEN ${hide} THEN NULL ELSE 1 - sum(c.days_absent) / nullif(sum(c.days_enrolled), 0) END AS attendance_rate
      FROM ${T.student} st
      LEFT JOIN ${T.chronic} c ON c.student_key = st.student_key
      ${joinGroups ? `JOIN ${T.studentGroup} g ON g.student_key = st.student_key` : ''}
     WHERE ${where.join(' AND ')}
     ${groupCols.length ? `GROUP BY ${groupCols.join(', ')}` : ''}
     ORDER BY ${groupCols.length ? groupCols.map((c) => `${c} NULLS FIRST`).join(', ') : '1'}`;
  return d.q.all<AttendanceAggregateRow>(sql, params);
}
