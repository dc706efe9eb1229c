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
import type { Scope } from './scope.ts';
import type { StudentRow } from './students.ts';
import type { ChronicRow, WellbeingRow } from './views.ts';
import type { OpenedSnapshot } from './snapshots.ts';
import { T } from './tables.ts';

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
    const students = await db.query<StudentRow>(`SELECT student_key, school_key, grade_number AS grade_level, grade_band FROM ${T.student}`);
    // one string instance per key, shared by every map
    const intern = new Map<string, string>();
    for (const s of students) {
      intern.set(s.student_key, s.student_key);
      ix.students.set(s.student_key, s);
    }
    const members = await db.query<Row & { section_key: string; student_key: string }>(
      `SELECT section_key, student_key FROM ${T.sectionMembership} WHERE is_active ORDER BY section_key, student_key`,
    );
    const sectionIntern = new Map<string, string>();
    for (const m of members) {
      const sk = intern.get(m.student_key) ?? m.student_key;
      let sec = sectionIntern.get(m.section_key);
      if (sec === undefined) sectionIntern.set(m.section_key, (sec = m.section_key));
      let list = ix.members.get(sec);
      if (!list) ix.members.set(sec, (list = []));
      if (list[list.length - 1] !== sk) list.push(sk);
      let of = ix.sectionsOf.get(sk);
      if (!of) ix.sectionsOf.set(sk, (of = []));
      if (!of.includes(sec)) of.push(sec);
    }
    const chronic = await db.query<ChronicRow>(
      `SELECT student_key, school_key, days_enrolled, days_absent, absence_rate AS absence_rate_ytd, absence_rate_30d, tier_code AS tier,
              is_chronically_absent AS is_chronic, trend, projected_absence_rate_eoy AS projected_absence_rate, longest_absence_streak,
              entered_worse_tier AS newly_worse_tier FROM ${T.chronic}`,
    );
    for (const c of chronic) ix.chronic.set(c.student_key, c);
    for (const r of await db.query<Row & { section_key: string; school_key: string }>(`SELECT section_key, school_key FROM ${T.section}`)) {
      ix.sectionSchool.set(r.section_key, r.school_key);
    }
    const wellbeing = await db.query<WellbeingRow>(`SELECT student_key, school_key, risk_score, risk_tier, reasons FROM ${T.wellbeing}`);
    for (const w of wellbeing) ix.wellbeing.set(w.student_key, w);
  });
  ix.buildMs = performance.now() - t0;
  return ix;
}
