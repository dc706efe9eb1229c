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
import { AGG } from './snapshots.ts';

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
  const fromCells = attendanceFromCells(d, dims, f);
  if (fromCells) {
    const [r] = await d.q.all<{ rows_json: string }>(fromCells.sql, fromCells.params);
    return JSON.parse(r?.rows_json ?? '[]') as AttendanceAggregateRow[];
  }
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
  // one row per student (and per group when grouped by group: dim_student_groups is unique by
  // student and group; the attendance view by student), so plain counts count students
  const hide = '($suppress AND count(*) <= $small)';
  const sql = `
    SELECT ${select.join(', ')},
           count(*)::INTEGER AS students,
           ${hide} AS suppressed,
           CASE WHEN ${hide} THEN NULL ELSE count(*) FILTER (WHERE c.is_chronically_absent)::INTEGER END AS chronic_students,
           CASE WHEN ${hide} THEN NULL ELSE count(*) FILTER (WHERE c.is_chronically_absent) / nullif(count(c.student_key), 0) END AS chronic_absence_rate,
           CASE WHEN ${hide} THEN NULL ELSE 1 - sum(c.days_absent) / nullif(sum(c.days_enrolled), 0) END AS attendance_rate
      FROM ${T.student} st
      LEFT JOIN ${T.chronic} c ON c.student_key = st.student_key
      ${joinGroups ? `JOIN ${T.studentGroup} g ON g.student_key = st.student_key` : ''}
     WHERE ${where.join(' AND ')}
     ${groupCols.length ? `GROUP BY ${groupCols.join(', ')}` : ''}
     ORDER BY ${groupCols.length ? groupCols.map((c) => `${c} NULLS FIRST`).join(', ') : '1'}`;
  return d.q.all<AttendanceAggregateRow>(sql, params);
}

let cellsEnabled = true;

/** Answer aggregates from the AGG cells (default) or always from the per-student SQL (tests compare both). */
export function setAggregateCellsEnabled(on: boolean): void {
  cellsEnabled = on;
}

/**
 * The attendance aggregate re-added from the cells computed when the snapshot opened (AGG tables,
 * decision 0609), for scopes made of whole schools or tenants: the scope predicate of ScopeSql.students
 * applies to the cells' school and tenant columns exactly as to the students'. Teachers' scopes are
 * sets of students, which the cells cannot tell apart: null, and the caller runs the per-student SQL.
 * Same columns, types, order and suppression as that SQL; the measures are sums of the same
 * integers and of day counts (whole or quarter days, exact in doubles in any order of summing), so
 * the rates come out the same.
 *
 * The rows cross into JavaScript as one JSON text built by DuckDB (to_json of the ordered list of
 * row structs): a district grouped by school and grade is ~1,300 rows of 8 columns, and converting
 * them value by value cost more than the aggregate itself (decision 0609). The columns are INTEGER,
 * DOUBLE (written shortest round-trip: parsed back to the same number), BOOLEAN and VARCHAR.
 */
function attendanceFromCells(d: SnapshotData, dims: Dimension[], f: AggregateFilter): { sql: string; params: Params } | null {
  if (!cellsEnabled || d.scope.scope.kind === 'sections') return null;
  const useGroups = dims.includes('STUDENT_GROUP') || f.studentGroup != null;
  const table = useGroups ? AGG.attendanceGroups : AGG.attendance;
  if (!d.q.snap.derived?.has(table)) return null;
  const expr: Record<Dimension, string> = { SCHOOL: 'a.school_key', GRADE: 'a.grade_number', STUDENT_GROUP: 'a.group_code' };
  const where = [d.scope.students('a')];
  const params: Params = { ...d.scope.params, suppress: POLICY[d.req.viewer.role].suppressSmallGroups, small: SMALL_GROUP_MAX };
  if (f.schoolKey != null) { where.push('a.school_key = $f_school'); params.f_school = f.schoolKey; }
  if (f.gradeLevel != null) { where.push('a.grade_number = $f_grade'); params.f_grade = f.gradeLevel; }
  if (f.studentGroup != null) { where.push('a.group_code = $f_group'); params.f_group = f.studentGroup; }
  const select = (['SCHOOL', 'GRADE', 'STUDENT_GROUP'] as Dimension[]).map((dim) =>
    dims.includes(dim) ? `${expr[dim]} AS ${DIM_SQL[dim].as}` : `NULL AS ${DIM_SQL[dim].as}`,
  );
  const groupCols = dims.map((dim) => expr[dim]);
  // coalesce: without GROUP BY there is one row even over no cells, with 0 students as count(*) gives
  const hide = '($suppress AND coalesce(sum(a.students), 0) <= $small)';
  const order = dims.map((dim) => `r.${DIM_SQL[dim].as} NULLS FIRST`);
  const sql = `
    SELECT coalesce(to_json(list(r${order.length ? ` ORDER BY ${order.join(', ')}` : ''}))::VARCHAR, '[]') AS rows_json FROM (
    SELECT ${select.join(', ')},
           coalesce(sum(a.students), 0)::INTEGER AS students,
           ${hide} AS suppressed,
           CASE WHEN ${hide} THEN NULL ELSE coalesce(sum(a.chronic_students), 0)::INTEGER END AS chronic_students,
           CASE WHEN ${hide} THEN NULL ELSE sum(a.chronic_students)::DOUBLE / nullif(sum(a.attendance_rows), 0) END AS chronic_absence_rate,
           CASE WHEN ${hide} THEN NULL ELSE 1 - sum(a.days_absent) / nullif(sum(a.days_enrolled), 0) END AS attendance_rate
      FROM ${table} a
     WHERE ${where.join(' AND ')}
     ${groupCols.length ? `GROUP BY ${groupCols.join(', ')}` : ''}) r`;
  return { sql, params };
}

export interface ProficiencyAggregateRow extends Row {
  school_key: string | null;
  grade_level: number | null;
  student_group: string | null;
  tested: number;
  suppressed: boolean;
  proficient: number | null;
  proficiency_rate: number | null;
  mean_scale_score: number | null;
}

/**
 * State-test proficiency (Met or Exceeded) of the caller's students in a subject and school year
 * (default: the latest year with state results), by school, grade and student group.
 */
export async function proficiencyAggregate(
  d: SnapshotData,
  groupBy: Dimension[],
  f: AggregateFilter & { subject: string; schoolYear?: number | null | undefined },
): Promise<ProficiencyAggregateRow[]> {
  const dims = [...new Set(groupBy)].sort() as Dimension[];
  // results of the subject and year (CTE), then the caller's students (outer query)
  const rWhere = ["r.assessment_family = 'state'", 'lower(r.subject) = lower($subject)'];
  const sWhere = [d.scope.students('st')];
  const params: Params = { ...d.scope.params, subject: f.subject, suppress: POLICY[d.req.viewer.role].suppressSmallGroups, small: SMALL_GROUP_MAX };
  if (f.schoolYear != null) {
    rWhere.push('r.school_year = $year');
    params.year = f.schoolYear;
  } else {
    rWhere.push(`r.school_year = (SELECT max(x.school_year) FROM ${T.assessmentResult} x WHERE x.assessment_family = 'state' AND lower(x.subject) = lower($subject))`);
  }
  if (f.schoolKey != null) { sWhere.push('st.school_key = $f_school'); params.f_school = f.schoolKey; }
  if (f.gradeLevel != null) { sWhere.push('st.grade_number = $f_grade'); params.f_grade = f.gradeLevel; }
  const joinGroups = dims.includes('STUDENT_GROUP');
  if (f.studentGroup != null) {
    if (joinGroups) sWhere.push('g.group_code = $f_group');
    else sWhere.push(`st.student_key IN (SELECT g2.student_key FROM ${T.studentGroup} g2 WHERE g2.group_code = $f_group)`);
    params.f_group = f.studentGroup;
  }
  const select = (['SCHOOL', 'GRADE', 'STUDENT_GROUP'] as Dimension[]).map((dim) =>
    dims.includes(dim) ? `${DIM_SQL[dim].expr} AS ${DIM_SQL[dim].as}` : `NULL AS ${DIM_SQL[dim].as}`,
  );
  const groupCols = dims.map((dim) => DIM_SQL[dim].expr);
  const hide = '($suppress AND count(*) <= $small)';
  // one result per student: the latest state result of the year in the subject
  return d.q.all<ProficiencyAggregateRow>(
    `WITH r AS (
       SELECT r.* FROM ${T.assessmentResult} r
        WHERE ${rWhere.join(' AND ')}
        QUALIFY row_number() OVER (PARTITION BY r.student_key ORDER BY r.administration_date DESC, r.result_key) = 1)
     SELECT ${select.join(', ')},
            count(*)::INTEGER AS tested,
            ${hide} AS suppressed,
            CASE WHEN ${hide} THEN NULL ELSE count(*) FILTER (WHERE r.is_proficient)::INTEGER END AS proficient,
            CASE WHEN ${hide} THEN NULL ELSE count(*) FILTER (WHERE r.is_proficient) / count(*) END AS proficiency_rate,
            CASE WHEN ${hide} THEN NULL ELSE avg(r.state_scale_score) END AS mean_scale_score
       FROM r JOIN ${T.student} st ON st.student_key = r.student_key
       ${joinGroups ? `JOIN ${T.studentGroup} g ON g.student_key = st.student_key` : ''}
      WHERE ${sWhere.join(' AND ')}
      ${groupCols.length ? `GROUP BY ${groupCols.join(', ')}` : ''}
      ORDER BY ${groupCols.length ? groupCols.map((c) => `${c} NULLS FIRST`).join(', ') : '1'}`,
    params,
  );
}
