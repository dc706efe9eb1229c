/** Sections: dim_section, with their teachers and students, scoped to the caller's sections or schools. */
import type { Row } from '../src/db/duckdb.ts';
import { groupBy, oneBy, type SnapshotData } from './context.ts';
import { fetchPage, pageOf, pageWindow, type Page, type PageArgs } from './page.ts';
import { inList, type Params } from './runner.ts';
import { activeOn } from './scope.ts';
import { REFINED, T } from './tables.ts';
import { staffSectionsTable } from './snapshots.ts';

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

/** Columns of a section row (alias sc of dim_section); the serving index reads the same. */
export const SECTION_COLS = 'sc.tenant, sc.section_key, sc.school_key, sc.course_code, sc.course_title, sc.subject, sc.section_identifier, sc.session_name, sc.school_year';

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

export async function listSections(d: SnapshotData, args: PageArgs, filter: SectionFilter = {}, order: SectionOrder = 'COURSE'): Promise<Page<SectionRow>> {
  // the snapshot's serving index answers the page and its count without a statement (decision 0609)
  const ix = await d.index();
  if (ix) {
    const window = pageWindow(d.q.id, `section:${order}`, args);
    const rows = ix.sectionsFor(d.scope.scope, filter, order);
    if (rows) return pageOf(d.q.id, `section:${order}`, window, rows.slice(window.offset, window.offset + window.first + 1), rows.length);
  }
  const where = [d.scope.sections('sc')];
  const params: Params = { ...d.scope.params };
  if (filter.schoolKey != null) { where.push('sc.school_key = $f_school'); params.f_school = filter.schoolKey; }
  if (filter.subject != null) { where.push('lower(sc.subject) = lower($f_subject)'); params.f_subject = filter.subject; }
  if (filter.courseCode != null) { where.push('sc.course_code = $f_course'); params.f_course = filter.courseCode; }
  if (filter.schoolYear != null) { where.push('sc.school_year = $f_year'); params.f_year = filter.schoolYear; }
  return fetchPage<SectionRow>(d.q, {
    select: SECTION_COLS,
    from: `FROM ${T.section} sc WHERE ${where.join(' AND ')}`,
    params,
    ordering: `section:${order}`,
    orderBy: SECTION_ORDER[order],
  }, args);
}

export function sectionByKey(d: SnapshotData) {
  return d.loader<SectionRow | null>('section', async (keys) => {
    const rows = await d.q.all<SectionRow>(
      `SELECT ${SECTION_COLS} FROM ${T.section} sc WHERE sc.section_key IN ${inList('keys')} AND ${d.scope.sections('sc')}`,
      { keys: [...keys], ...d.scope.params },
    );
    return oneBy(keys, rows, 'section_key');
  });
}

/** Sections of a school (in scope). */
export function sectionsBySchool(d: SnapshotData) {
  return d.loader<SectionRow[]>('sectionsBySchool', async (keys) => {
    const rows = await d.q.all<SectionRow>(
      `SELECT ${SECTION_COLS} FROM ${T.section} sc WHERE sc.school_key IN ${inList('keys')} AND ${d.scope.sections('sc')}
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
      `SELECT m.student_key, ${SECTION_COLS} FROM ${T.sectionMembership} m JOIN ${T.section} sc ON sc.section_key = m.section_key
        WHERE m.student_key IN ${inList('keys')} AND ${d.scope.sections('sc')} AND ${d.scope.students('m', null)}
          AND m.is_active
        ORDER BY ${SECTION_ORDER.COURSE}`,
      { keys: [...keys], ...d.scope.params },
    );
    return groupBy(keys, rows, 'student_key');
  });
}

/** One staff member's active association with a section (keyed; staff names are not served). */
export interface SectionStaffRow extends Row {
  section_key: string;
  staff_key: string;
  /** The code of the ClassroomPositionDescriptor (namespace dropped), as delivered. */
  classroom_position: string | null;
  teacher_of_record: boolean;
  begin_date: string | null;
  end_date: string | null;
}

/**
 * Active staff-section associations of the snapshot, as SQL over alias `ss` (section_key, staff_key,
 * position, dates), active on the snapshot's data-through date: every staff member with an active
 * association (co-teachers, assistants), the latest association of each. Snapshots without the
 * refined table give the teacher of record only (no position, no dates).
 */
function activeStaffSections(d: SnapshotData): { sql: string; params: Params } {
  if (!d.q.has(REFINED.staffSections)) {
    return {
      sql: `(SELECT section_key, teacher_staff_key AS staff_key, CAST(NULL AS VARCHAR) AS classroom_position,
                    CAST(NULL AS VARCHAR) AS begin_date, CAST(NULL AS VARCHAR) AS end_date
               FROM ${T.section} WHERE teacher_staff_key IS NOT NULL)`,
      params: {},
    };
  }
  return {
    sql: `(SELECT a.section_key, a.staff_key,
                  nullif(regexp_extract(CAST(a.classroom_position_descriptor AS VARCHAR), '([^#]*)$', 1), '') AS classroom_position,
                  CAST(a.begin_date AS VARCHAR) AS begin_date, CAST(a.end_date AS VARCHAR) AS end_date
             FROM ${staffSectionsTable(d.q.snap)} a
            WHERE (a.begin_date IS NULL OR a.begin_date <= $ss_on::DATE) AND (a.end_date IS NULL OR a.end_date >= $ss_on::DATE)
            QUALIFY row_number() OVER (PARTITION BY a.section_key, a.staff_key ORDER BY a.begin_date DESC NULLS LAST) = 1)`,
    params: { ss_on: activeOn(d.q) },
  };
}

/** Staff with an active association to a section (with their classroom position), in scope; teacher of record first. */
export function staffBySection(d: SnapshotData) {
  return d.loader<SectionStaffRow[]>('staffBySection', async (keys) => {
    const active = activeStaffSections(d);
    const rows = await d.q.all<SectionStaffRow>(
      `SELECT ss.section_key, ss.staff_key, ss.classroom_position, coalesce(ss.staff_key = sc.teacher_staff_key, false) AS teacher_of_record,
              ss.begin_date, ss.end_date
         FROM ${active.sql} ss JOIN ${T.section} sc ON sc.section_key = ss.section_key
        WHERE ss.section_key IN ${inList('keys')} AND ${d.scope.sections('sc')}
        ORDER BY ss.section_key, teacher_of_record DESC, ss.classroom_position NULLS LAST, ss.staff_key`,
      { keys: [...keys], ...d.scope.params, ...active.params },
    );
    return groupBy(keys, rows, 'section_key');
  });
}

/** Staff keys of the teachers of a section: every staff member with an active association. */
export function teachersBySection(d: SnapshotData) {
  return d.loader<string[]>('teachersBySection', async (keys) => {
    const rows = await staffBySection(d).loadMany(keys);
    return rows.map((r) => (r instanceof Error ? r : r.map((x) => x.staff_key)));
  });
}

/** Sections a staff member is actively associated with (any position), in scope. */
export function sectionsByTeacher(d: SnapshotData) {
  return d.loader<SectionRow[]>('sectionsByTeacher', async (keys) => {
    const active = activeStaffSections(d);
    const rows = await d.q.all<SectionRow & { staff_key: string }>(
      `SELECT DISTINCT ss.staff_key, ${SECTION_COLS} FROM ${active.sql} ss JOIN ${T.section} sc ON sc.section_key = ss.section_key
        WHERE ss.staff_key IN ${inList('keys')} AND ${d.scope.sections('sc')}
        ORDER BY ${SECTION_ORDER.COURSE}`,
      { keys: [...keys], ...d.scope.params, ...active.params },
    );
    return groupBy(keys, rows, 'staff_key');
  });
}
