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
    for (const r of await db.query<Row & { section_key: string; school_key: string }>(`SELECT section_key, school_key FROM ${T.section}`)) {
      ix.sectionSchool.set(r.section_key, r.school_key);
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
