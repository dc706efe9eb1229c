/** Sections: dim_section, with their teachers and students, scoped to the caller's sections or schools. */
import type { Row } from '../src/db/duckdb.ts';
import { groupBy, oneBy, type SnapshotData } from './context.ts';
import { fetchPage, type Page, type PageArgs } from './page.ts';
import { inList, type Params } from './runner.ts';
import { T } from './tables.ts';

export interface SectionRow extends Row {
  tenant: string;
  section_key: string;
  school_key: string;
  course_code: string;
  course_title: string | null;
  subject: string | null;
  section_identifier: string;
  session_name: string | null;
  school_year: number | null;
}

const COLS = 'sc.tenant, sc.section_key, sc.school_key, sc.course_code, sc.course_title, sc.subject, sc.section_identifier, sc.session_name, sc.school_year';

export const SECTION_ORDER = {
  COURSE: 'sc.course_code, sc.section_identifier, sc.section_key',
  SCHOOL: 'sc.school_key, sc.course_code, sc.section_key',
} as const;
export type SectionOrder = keyof typeof SECTION_ORDER;

export interface SectionFilter {
  schoolKey?: string | null | undefined;
  subject?: string | null | undefined;
  courseCode?: string | null | undefined;
  schoolYear?: number | null | undefined;
}

export function listSections(d: SnapshotData, args: PageArgs, filter: SectionFilter = {}, order: SectionOrder = 'COURSE'): Promise<Page<SectionRow>> {
  const where = [d.scope.sections('sc')];
  const params: Params = { ...d.scope.params };
  if (filter.schoolKey != null) { where.push('sc.school_key = $f_school'); params.f_school = filter.schoolKey; }
  if (filter.subject != null) { where.push('lower(sc.subject) = lower($f_subject)'); params.f_subject = filter.subject; }
  if (filter.courseCode != null) { where.push('sc.course_code = $f_course'); params.f_course = filter.courseCode; }
  if (filter.schoolYear != null) { where.push('sc.school_year = $f_year'); params.f_year = filter.schoolYear; }
  return fetchPage<SectionRow>(d.q, {
    select: COLS,
    from: `FROM ${T.section} sc WHERE ${where.join(' AND ')}`,
    params,
    ordering: `section:${order}`,
    orderBy: SECTION_ORDER[order],
  }, args);
}

export function sectionByKey(d: SnapshotData) {
  return d.loader<SectionRow | null>('section', async (keys) => {
    const rows = await d.q.all<SectionRow>(
      `SELECT ${COLS} FROM ${T.section} sc WHERE sc.section_key IN ${inList('keys')} AND ${d.scope.sections('sc')}`,
      { keys: [...keys], ...d.scope.params },
    );
    return oneBy(keys, rows, 'section_key');
  });
}

/** Sections of a school (in scope). */
export function sectionsBySchool(d: SnapshotData) {
  return d.loader<SectionRow[]>('sectionsBySchool', async (keys) => {
    const rows = await d.q.all<SectionRow>(
      `SELECT ${COLS} FROM ${T.section} sc WHERE sc.school_key IN ${inList('keys')} AND ${d.scope.sections('sc')}
        ORDER BY ${SECTION_ORDER.COURSE}`,
      { keys: [...keys], ...d.scope.params },
    );
    return groupBy(keys, rows, 'school_key');
  });
}

/** Active sections of a student (as of the snapshot's data-through date), in scope. */
export function sectionsByStudent(d: SnapshotData) {
  return d.loader<SectionRow[]>('sectionsByStudent', async (keys) => {
    const rows = await d.q.all<SectionRow & { student_key: string }>(
      `SELECT m.student_key, ${COLS} FROM ${T.sectionMembership} m JOIN ${T.section} sc ON sc.section_key = m.section_key
        WHERE m.student_key IN ${inList('keys')} AND ${d.scope.sections('sc')} AND ${d.scope.students('m', null)}
          AND m.is_active
        ORDER BY ${SECTION_ORDER.COURSE}`,
      { keys: [...keys], ...d.scope.params },
    );
    return groupBy(keys, rows, 'student_key');
  });
}

/** Staff keys of the teachers of a section (the teacher of record). */
export function teachersBySection(d: SnapshotData) {
  return d.loader<string[]>('teachersBySection', async (keys) => {
    const rows = await d.q.all<{ section_key: string; staff_key: string }>(
      `SELECT sc.section_key, sc.teacher_staff_key AS staff_key FROM ${T.section} sc
        WHERE sc.section_key IN ${inList('keys')} AND ${d.scope.sections('sc')} AND sc.teacher_staff_key IS NOT NULL
        ORDER BY 2`,
      { keys: [...keys], ...d.scope.params },
    );
    return groupBy(keys, rows, 'section_key').map((rs) => rs.map((r) => r.staff_key));
  });
}

/** Sections taught by a staff member (teacher of record), in scope. */
export function sectionsByTeacher(d: SnapshotData) {
  return d.loader<SectionRow[]>('sectionsByTeacher', async (keys) => {
    const rows = await d.q.all<SectionRow & { staff_key: string }>(
      `SELECT sc.teacher_staff_key AS staff_key, ${COLS} FROM ${T.section} sc
        WHERE sc.teacher_staff_key IN ${inList('keys')} AND ${d.scope.sections('sc')}
        ORDER BY ${SECTION_ORDER.COURSE}`,
      { keys: [...keys], ...d.scope.params },
    );
    return groupBy(keys, rows, 'staff_key');
  });
}
