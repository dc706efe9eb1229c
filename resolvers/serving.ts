/**
 * Serving index of a snapshot, held by the API: the lookups a teacher's roster makes (a section's
 * active students, a student's row, attendance and risk) answered from memory instead of scanning
 * the district's Parquet on every request (decision 0602).
 *
 * Built once per opened snapshot with one statement per table, and immutable afterwards, as the
 * snapshot is. The caller's scope is applied on every lookup by `allows`, with the same rules as
 * the SQL predicates of scope.ts: a teacher sees the active members of their sections, a principal
 * the students of their schools.
 */
import type { Row } from '../src/db/duckdb.ts';
import { tenantWide, type Scope } from './scope.ts';
import type { SectionFilter, SectionOrder, SectionRow } from './sections.ts';
import type { StudentRow } from './students.ts';
import { EQUITY_COLS, EQUITY_ORDER, EQUITY_WITHHELD, type ChronicRow, type EquityRow, type WellbeingRow } from './views.ts';
import type { OpenedSnapshot } from './snapshots.ts';
import { T } from './tables.ts';
import { SECTION_COLS, SECTION_ORDER } from './sections.ts';

export class ServingIndex {
  /** Active members of each section. */
  readonly members = new Map<string, string[]>();
  /** Active sections of each student. */
  readonly sectionsOf = new Map<string, string[]>();
  readonly students = new Map<string, StudentRow>();
  readonly chronic = new Map<string, ChronicRow>();
  readonly wellbeing = new Map<string, WellbeingRow>();
  /** School of each section. */
  readonly sectionSchool = new Map<string, string>();
  /**
   * Every section (dim_section), in each of the sections list's orderings: positions computed by
   * DuckDB with the very ORDER BY of the SQL path (resolvers/sections.ts), so both paths page alike.
   */
  readonly sectionsInOrder: Record<SectionOrder, IndexedSection[]> = { COURSE: [], SCHOOL: [] };
  /** Sections by key and by school (COURSE order within a school). */
  readonly sectionByKey = new Map<string, IndexedSection>();
  readonly sectionsOfSchool = new Map<string, IndexedSection[]>();
  /**
   * The equity view's rows (a few per school and the district's), in the list's order, before
   * suppression: `is_suppressed` as published beside each. Null when the snapshot has no equity view.
   */
  equity: Array<{ row: EquityRow; isSuppressed: boolean | null }> | null = null;
  buildMs = 0;

  /** Whether a scope may see a student (same rules as ScopeSql.students). */
  allows(scope: Scope, studentKey: string, schoolKey?: string | null): boolean {
    if (scope.kind === 'all') return true;
    if (scope.kind === 'schools') {
      const school = schoolKey ?? this.students.get(studentKey)?.school_key;
      return school !== undefined && school !== null && scope.schoolKeys.includes(school);
    }
    const secs = this.sectionsOf.get(studentKey);
    if (!secs) return false;
    for (const s of secs) if (scope.sectionKeys.includes(s)) return true;
    return false;
  }

  /** Whether a scope may see a section's roster rows (same rules as ScopeSql.memberships). */
  allowsSection(scope: Scope, sectionKey: string, sectionSchool: string | undefined): boolean {
    if (scope.kind === 'all') return true;
    if (scope.kind === 'schools') return sectionSchool !== undefined && scope.schoolKeys.includes(sectionSchool);
    return scope.sectionKeys.includes(sectionKey);
  }

  /**
   * The sections a scope may read that pass a filter, in an ordering: the rows of the SQL path of
   * listSections (ScopeSql.sections and the same filter predicates), without a statement. Returns
   * null for a filter it cannot answer exactly the way DuckDB would (a subject that is not plain
   * ASCII: case folding beyond ASCII is DuckDB's to define), and the caller then runs the SQL.
   */
  sectionsFor(scope: Scope, filter: SectionFilter, order: SectionOrder): SectionRow[] | null {
    let subject: string | null = null;
    if (filter.subject != null) {
      // eslint-disable-next-line no-control-regex
      if (!/^[\x00-\x7f]*$/.test(filter.subject)) return null;
      subject = filter.subject.toLowerCase();
    }
    // the candidates the scope allows (ScopeSql.sections), the smallest set first
    let candidates: IndexedSection[];
    if (scope.kind === 'sections') {
      candidates = [];
      for (const k of new Set(scope.sectionKeys)) {
        const s = this.sectionByKey.get(k);
        if (s) candidates.push(s);
      }
    } else if (scope.kind === 'schools' && !tenantWide(scope)) {
      candidates = [];
      for (const k of new Set(scope.schoolKeys)) candidates.push(...(this.sectionsOfSchool.get(k) ?? []));
    } else if (tenantWide(scope)) {
      const t = scope.tenant;
      candidates = this.sectionsInOrder[order].filter((s) => s.row.tenant === t);
    } else {
      candidates = this.sectionsInOrder[order];
    }
    const out = candidates.filter((s) =>
      (filter.schoolKey == null || s.row.school_key === filter.schoolKey)
      && (subject === null || s.subjectLower === subject)
      && (filter.courseCode == null || s.row.course_code === filter.courseCode)
      && (filter.schoolYear == null || s.row.school_year === filter.schoolYear));
    const pos = order === 'COURSE' ? (s: IndexedSection) => s.coursePos : (s: IndexedSection) => s.schoolPos;
    if (scope.kind === 'sections' || (scope.kind === 'schools' && !tenantWide(scope))) out.sort((a, b) => pos(a) - pos(b));
    return out.map((s) => s.row);
  }

  /**
   * The equity rows a scope may read (ScopeSql.schoolGrain: a principal's schools, nothing for a
   * teacher, the tenant's rows district rows included, or every row), filtered as listEquity's SQL
   * and suppressed as it: `suppress AND (is_suppressed OR students <= small)` withholds the measures.
   * Null when the index holds no equity rows (the SQL answers).
   */
  equityFor(
    scope: Scope,
    f: { schoolKey?: string | null | undefined; studentGroup?: string | null | undefined; districtOnly?: boolean | null | undefined },
    suppress: boolean,
    small: number,
  ): EquityRow[] | null {
    if (this.equity === null) return null;
    if (scope.kind === 'sections') return [];
    const schools = scope.kind === 'schools' && !tenantWide(scope) ? new Set(scope.schoolKeys) : null;
    const tenant = tenantWide(scope) ? scope.tenant : null;
    const out: EquityRow[] = [];
    for (const { row, isSuppressed } of this.equity) {
      if (schools !== null && (row.school_key === null || !schools.has(row.school_key))) continue;
      if (tenant !== null && row.tenant !== tenant) continue;
      if (f.schoolKey != null && row.school_key !== f.schoolKey) continue;
      if (f.districtOnly === true && row.school_key !== null) continue;
      if (f.studentGroup != null && row.student_group !== f.studentGroup) continue;
      const hide = and3(suppress, or3(isSuppressed, row.n_students === null ? null : row.n_students <= small));
      const shown = { ...row, suppressed: hide } as EquityRow; // null only where SQL gives NULL too
      if (hide === true) for (const m of EQUITY_WITHHELD) (shown as Record<string, unknown>)[m] = null;
      out.push(shown);
    }
    return out;
  }
}

/**
 * SQL's three-valued AND and OR (null: unknown), so that a row whose published flags are NULL is
 * suppressed or shown exactly as the SQL path's CASE WHEN would.
 */
function and3(a: boolean | null, b: boolean | null): boolean | null {
  if (a === false || b === false) return false;
  return a === null || b === null ? null : true;
}
function or3(a: boolean | null, b: boolean | null): boolean | null {
  if (a === true || b === true) return true;
  return a === null || b === null ? null : false;
}

/** A section of the index: its row as the SQL path returns it, and its positions in each ordering. */
export interface IndexedSection {
  row: SectionRow;
  /** lower(subject) as DuckDB computes it (the subject filter compares lower-cased). */
  subjectLower: string | null;
  coursePos: number;
  schoolPos: number;
}

const building = new WeakMap<OpenedSnapshot, Promise<ServingIndex | null>>();
let enabled = true;

/** Turn the serving index off (the SQL path then answers everything) or on. */
export function setServingIndexEnabled(on: boolean): void {
  enabled = on;
}

export function servingIndexEnabled(): boolean {
  return enabled;
}

const built = new WeakMap<OpenedSnapshot, ServingIndex | null>();

/** The index of a snapshot, built on first use (null when the snapshot lacks a table it needs). */
export function servingIndex(snap: OpenedSnapshot): Promise<ServingIndex | null> {
  let p = building.get(snap);
  if (!p) {
    p = build(snap).then(
      (ix) => {
        built.set(snap, ix);
        return ix;
      },
      (err: unknown) => {
        // a failed build leaves the SQL path answering; the next call tries again
        building.delete(snap);
        throw err;
      },
    );
    building.set(snap, p);
  }
  return p;
}

/**
 * The index if it is already built; otherwise starts building it in the background and returns
 * null, so that no request waits for a build (the SQL path answers meanwhile).
 */
export function readyServingIndex(snap: OpenedSnapshot): ServingIndex | null {
  const ix = built.get(snap);
  if (ix !== undefined) return ix;
  servingIndex(snap).catch(() => undefined);
  return null;
}

/** Whether a snapshot's index is built (for readiness reports). */
export function servingIndexState(snap: OpenedSnapshot): 'built' | 'building' | 'absent' {
  if (built.has(snap)) return built.get(snap) ? 'built' : 'absent';
  return building.has(snap) ? 'building' : 'absent';
}

async function build(snap: OpenedSnapshot): Promise<ServingIndex | null> {
  for (const t of [T.sectionMembership, T.student, T.section, T.chronic, T.wellbeing]) if (!snap.tables.has(t)) return null;
  const t0 = performance.now();
  const ix = new ServingIndex();
  await snap.pool.use(async (db) => {
    // Keys are read once (the students, in key order); everything else refers to a student by its
    // position, so that the large tables cross into JavaScript as integers, not 64-character keys.
    const students = await db.query<StudentRow>(
      `SELECT student_key, school_key, grade_number AS grade_level, grade_band FROM ${T.student} ORDER BY student_key`,
    );
    const keys: string[] = [];
    for (const s of students) {
      keys.push(s.student_key);
      ix.students.set(s.student_key, s);
    }
    const byPos = `(SELECT student_key, (row_number() OVER (ORDER BY student_key) - 1)::INTEGER AS pos FROM ${T.student})`;
    const members = await db.query<Row & { section_key: string; pos: number[] }>(
      `SELECT m.section_key, list(DISTINCT p.pos ORDER BY p.pos) AS pos
         FROM ${T.sectionMembership} m JOIN ${byPos} p ON p.student_key = m.student_key
        WHERE m.is_active GROUP BY m.section_key`,
    );
    for (const m of members) {
      const list = m.pos.map((i) => keys[i] as string);
      ix.members.set(m.section_key, list);
      for (const sk of list) {
        let of = ix.sectionsOf.get(sk);
        if (!of) ix.sectionsOf.set(sk, (of = []));
        of.push(m.section_key);
      }
    }
    const chronic = await db.query<Omit<ChronicRow, 'student_key'> & { pos: number }>(
      `SELECT p.pos, c.school_key, c.days_enrolled, c.days_absent, c.absence_rate AS absence_rate_ytd, c.absence_rate_30d, c.tier_code AS tier,
              c.is_chronically_absent AS is_chronic, c.trend, c.projected_absence_rate_eoy AS projected_absence_rate, c.longest_absence_streak,
              c.entered_worse_tier AS newly_worse_tier
         FROM ${T.chronic} c JOIN ${byPos} p ON p.student_key = c.student_key`,
    );
    for (const c of chronic) {
      const { pos, ...rest } = c;
      const key = keys[pos] as string;
      ix.chronic.set(key, { student_key: key, ...rest } as ChronicRow);
    }
    // every section with its positions in the orderings of the sections list (SECTION_ORDER)
    const sections = await db.query<SectionRow & { subject_lower: string | null; course_pos: number; school_pos: number }>(
      `SELECT ${SECTION_COLS}, lower(sc.subject) AS subject_lower,
              (row_number() OVER (ORDER BY ${SECTION_ORDER.COURSE}))::INTEGER AS course_pos,
              (row_number() OVER (ORDER BY ${SECTION_ORDER.SCHOOL}))::INTEGER AS school_pos
         FROM ${T.section} sc`,
    );
    for (const r of sections) {
      const { subject_lower, course_pos, school_pos, ...row } = r;
      const s: IndexedSection = { row: row as SectionRow, subjectLower: subject_lower, coursePos: course_pos, schoolPos: school_pos };
      ix.sectionSchool.set(row.section_key, row.school_key);
      ix.sectionByKey.set(row.section_key, s);
      ix.sectionsInOrder.COURSE.push(s);
      ix.sectionsInOrder.SCHOOL.push(s);
    }
    ix.sectionsInOrder.COURSE.sort((a, b) => a.coursePos - b.coursePos);
    ix.sectionsInOrder.SCHOOL.sort((a, b) => a.schoolPos - b.schoolPos);
    for (const s of ix.sectionsInOrder.COURSE) {
      let list = ix.sectionsOfSchool.get(s.row.school_key);
      if (!list) ix.sectionsOfSchool.set(s.row.school_key, (list = []));
      list.push(s);
    }
    if (snap.tables.has(T.equity)) {
      // `suppressed` is decided per caller (equityFor); the row's own flag is kept beside it
      const equity = await db.query<EquityRow & { is_suppressed: boolean | null }>(
        `SELECT ${EQUITY_COLS}, false AS suppressed, e.is_suppressed FROM ${T.equity} e ORDER BY ${EQUITY_ORDER}`,
      );
      ix.equity = equity.map(({ is_suppressed, ...row }) => ({ row: row as EquityRow, isSuppressed: is_suppressed }));
    }
    const wellbeing = await db.query<Omit<WellbeingRow, 'student_key'> & { pos: number }>(
      `SELECT p.pos, w.school_key, w.risk_score, w.risk_tier, w.reasons FROM ${T.wellbeing} w JOIN ${byPos} p ON p.student_key = w.student_key`,
    );
    for (const w of wellbeing) {
      const { pos, ...rest } = w;
      const key = keys[pos] as string;
      ix.wellbeing.set(key, { student_key: key, ...rest } as WellbeingRow);
    }
  });
  ix.buildMs = performance.now() - t0;
  return ix;
}
