/**
 * The uncached request path (decision 0609): the sections list answered from the serving index,
 * and attendance aggregates re-added from the cells computed when a snapshot opens. Each must give
 * exactly what the SQL path gives, for every kind of caller (teacher, principal, tenant-wide and
 * every-tenant district roles, a suppressing auditor), current and past snapshots, every ordering
 * and filter; and both are checked against an oracle computed here from the fixture's arrays.
 * Caches are off throughout, so every request runs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setQueryCacheEnabled } from '../../resolvers/runner.ts';
import { servingIndex, setServingIndexEnabled } from '../../resolvers/serving.ts';
import { setAggregateCellsEnabled } from '../../resolvers/aggregates.ts';
import {
  activeOn, buildDistrict, buildFixture, mergeDistricts, principalSchools, teacherSections, TENANT,
  type District, type Fixture, type FxSection, type FxSnapshot,
} from './fixture.ts';
import { harness, type Harness } from './helpers.ts';

const B = 'edfi-255901';

let fx: Fixture;
let h: Harness;
let d: District;
let current: FxSnapshot;

beforeAll(async () => {
  fx = await buildFixture({ district: mergeDistricts(buildDistrict({ tenant: TENANT }), buildDistrict({ tenant: B, schools: 2, studentsPerSchool: 40, seed: 11 })) });
  h = await harness({ fixture: fx });
  d = fx.district;
  current = d.snapshots[d.snapshots.length - 1] as FxSnapshot;
  for (const s of d.snapshots) expect(await servingIndex(await fx.source.open(s.id))).not.toBeNull();
  setQueryCacheEnabled(false);
});
afterAll(async () => {
  setQueryCacheEnabled(true);
  setServingIndexEnabled(true);
  setAggregateCellsEnabled(true);
  await h.close();
  await fx.source.close();
});

interface Caller { name: string; token: () => Promise<string>; sections: () => FxSection[] }

function callers(): Caller[] {
  const t = d.teachers.find((x) => x.staff_key.length > 0 && teacherSections(d, x.staff_key).size > 1);
  const p = d.principals.find((x) => principalSchools(d, x.staff_key, current.dataThrough).size > 0);
  if (!t || !p) throw new Error('fixture lacks a teacher or a principal');
  const tenantOf = (k: string) => d.schools.find((s) => s.school_key === k)?.tenant;
  return [
    { name: 'teacher', token: () => h.token({ role: 'teacher', staffId: t.staff_unique_id }), sections: () => d.sections.filter((s) => teacherSections(d, t.staff_key).has(s.section_key)) },
    { name: 'principal', token: () => h.token({ role: 'principal', staffId: p.staff_unique_id }), sections: () => d.sections.filter((s) => principalSchools(d, p.staff_key, current.dataThrough).has(s.school_key)) },
    { name: 'analyst (served tenant)', token: () => h.token({ role: 'data_analyst' }), sections: () => d.sections.filter((s) => tenantOf(s.school_key) === TENANT) },
    { name: 'analyst (every tenant)', token: () => h.token({ role: 'data_analyst', tenant: '*' }), sections: () => d.sections },
    { name: 'auditor (tenant B)', token: () => h.token({ role: 'auditor', tenant: B }), sections: () => d.sections.filter((s) => s.tenant === B) },
  ];
}

const cmp = (a: string | number, b: string | number) => (a < b ? -1 : a > b ? 1 : 0);
/** The orderings of resolvers/sections.ts, in JS (the fixture's codes are ASCII). */
const ORDER: Record<'COURSE' | 'SCHOOL', (a: FxSection, b: FxSection) => number> = {
  COURSE: (a, b) => cmp(a.course_code, b.course_code) || cmp(a.section_identifier, b.section_identifier) || cmp(a.section_key, b.section_key),
  SCHOOL: (a, b) => cmp(a.school_key, b.school_key) || cmp(a.course_code, b.course_code) || cmp(a.section_key, b.section_key),
};

interface Walk { keys: string[]; totals: number[]; pages: number; rows: unknown[] }

/** Every page of a sections list, 7 at a time, following the cursors. */
async function walk(token: string, sel: string, order: string, filter: Record<string, unknown>): Promise<Walk> {
  const out: Walk = { keys: [], totals: [], pages: 0, rows: [] };
  let after: string | null = null;
  for (;;) {
    const r = await h.gql(token, `query($after: String, $filter: SectionFilter) { published${sel} { sections(first: 7, after: $after, orderBy: ${order}, filter: $filter) {
      totalCount pageInfo { hasNextPage endCursor } edges { cursor node { key courseCode subject schoolYear school { key } } } } } }`, { after, filter });
    expect(r.body.errors).toBeUndefined();
    type Conn = { totalCount: number; pageInfo: { hasNextPage: boolean; endCursor: string | null }; edges: Array<{ cursor: string; node: { key: string } }> };
    const c = (r.body.data as { published: { sections: Conn } }).published.sections;
    out.pages++;
    out.totals.push(c.totalCount);
    out.rows.push(...c.edges);
    out.keys.push(...c.edges.map((e) => e.node.key));
    if (!c.pageInfo.hasNextPage) return out;
    after = c.pageInfo.endCursor;
    expect(out.pages).toBeLessThan(100);
  }
}

describe('sections list from the serving index', () => {
  it('pages exactly the SQL path rows, for every caller, snapshot, ordering and filter, and matches the roster oracle', async () => {
    const schoolA = d.schools.find((s) => s.tenant === TENANT)?.school_key as string;
    const filters: Array<[Record<string, unknown>, (s: FxSection) => boolean]> = [
      [{}, () => true],
      [{ subject: 'MaTh' }, (s) => s.subject.toLowerCase() === 'math'],
      [{ schoolKey: schoolA }, (s) => s.school_key === schoolA],
      [{ courseCode: 'ELA-1', schoolYear: 2026 }, (s) => s.course_code === 'ELA-1' && s.school_year === 2026],
      [{ schoolYear: 2025 }, () => false],
      // not ASCII: the index declines and the SQL answers (no section has this subject)
      [{ subject: 'Mäth' }, () => false],
    ];
    let checked = 0;
    for (const c of callers()) {
      const token = await c.token();
      for (const sel of ['', '(snapshotId: "1")']) {
        for (const order of ['COURSE', 'SCHOOL'] as const) {
          for (const [filter, keep] of filters) {
            setServingIndexEnabled(true);
            const ix = await walk(token, sel, order, filter);
            setServingIndexEnabled(false);
            const sql = await walk(token, sel, order, filter);
            setServingIndexEnabled(true);
            const what = `${c.name} ${sel} ${order} ${JSON.stringify(filter)}`;
            // the same pages, cursors and counts as the SQL path
            expect(ix, what).toEqual(sql);
            // and the oracle: the caller's sections (scope of the current snapshot; dim_section is the same in both), filtered and ordered
            const expected = c.sections().filter(keep).sort(ORDER[order]).map((s) => s.section_key);
            expect(ix.keys, what).toEqual(expected);
            for (const t of ix.totals) expect(t, what).toBe(expected.length);
            checked++;
          }
        }
      }
    }
    expect(checked).toBe(5 * 2 * 2 * 6);
  });

  it('runs no statement for the page and its count once the scope is derived', async () => {
    const t = d.teachers[0];
    if (!t) throw new Error('no teacher');
    const token = await h.token({ role: 'teacher', staffId: t.staff_unique_id });
    const q = `{ published { sections(first: 3) { totalCount edges { node { key } } } } }`;
    await h.gql(token, q); // derives the caller's scope (one statement, once per snapshot)
    const again = await h.gql(token, q);
    expect(again.body.errors).toBeUndefined();
    expect(again.body.extensions?.sql?.executed).toBe(0);
    setServingIndexEnabled(false);
    try {
      const sql = await h.gql(token, q);
      expect(sql.body.data).toEqual(again.body.data);
      expect(sql.body.extensions?.sql?.executed).toBeGreaterThan(0);
    } finally {
      setServingIndexEnabled(true);
    }
  });
});

describe('equity rows from the serving index', () => {
  it('equal the SQL path for every caller, filter and snapshot, scoped and suppressed as the oracle says', async () => {
    const schoolA = d.schools.find((s) => s.tenant === TENANT)?.school_key as string;
    const filters = ['', '(districtOnly: true)', `(schoolKey: "${schoolA}")`, '(studentGroup: "EL")', `(schoolKey: "${schoolA}", studentGroup: "ALL")`];
    const tenantOf = new Map(d.schools.map((s) => [s.school_key, s.tenant]));
    let checked = 0;
    for (const c of [...callers(), { name: 'auditor (served tenant)', token: () => h.token({ role: 'auditor' }), sections: () => [] }]) {
      const token = await c.token();
      for (const sel of ['', '(snapshotId: "1")']) {
        for (const f of filters) {
          const q = `{ published${sel} { equityOutcomes${f} { tenant schoolKey studentGroup groupLabel students suppressed attendanceRate chronicAbsenceRate attendanceRateGapToAll proficiencyRatePrior suspensionRate } } }`;
          setServingIndexEnabled(true);
          const ix = await h.gql(token, q);
          setServingIndexEnabled(false);
          const sql = await h.gql(token, q);
          setServingIndexEnabled(true);
          const what = `${c.name} ${sel} ${f}`;
          expect(ix.body.errors, what).toBeUndefined();
          expect(ix.body.data, what).toEqual(sql.body.data);
          type Eq = { tenant: string; schoolKey: string | null; students: number; suppressed: boolean; attendanceRate: number | null; suspensionRate: number | null };
          const rows = (ix.body.data as { published: { equityOutcomes: Eq[] } }).published.equityOutcomes;
          // the oracle of the scope: schools of the principal, none for a teacher, the tenant's (district rows too) for district roles
          if (c.name === 'teacher') expect(rows, what).toEqual([]);
          if (c.name === 'principal') {
            const p = d.principals.find((x) => principalSchools(d, x.staff_key, current.dataThrough).size > 0);
            const mine = principalSchools(d, p?.staff_key as string, current.dataThrough);
            for (const r of rows) expect(r.schoolKey !== null && mine.has(r.schoolKey), what).toBe(true);
          }
          if (c.name.includes('served tenant')) for (const r of rows) expect(r.tenant, what).toBe(TENANT);
          if (c.name === 'auditor (tenant B)') for (const r of rows) expect(r.tenant, what).toBe(B);
          if (c.name.startsWith('auditor')) {
            for (const r of rows) {
              expect(r.suppressed, what).toBe(r.students <= 10);
              if (r.suppressed) expect(r, what).toMatchObject({ attendanceRate: null, suspensionRate: null });
            }
          } else if (!c.name.startsWith('principal')) {
            for (const r of rows) expect(r.suppressed, what).toBe(false);
          }
          if (f === '' && !c.name.startsWith('teacher')) expect(rows.length, what).toBeGreaterThan(0);
          if (f === '' && c.name.includes('every tenant')) expect(new Set(rows.map((r) => r.tenant)), what).toEqual(new Set([TENANT, B]));
          if (f === '' && c.name.includes('served tenant')) expect(rows.some((r) => r.schoolKey === null), what).toBe(true);
          for (const r of rows) if (r.schoolKey !== null) expect(tenantOf.get(r.schoolKey), what).toBe(r.tenant);
          checked++;
        }
      }
    }
    expect(checked).toBe(6 * 2 * filters.length);
  });

  it('runs no statement once the scope is derived', async () => {
    const p = d.principals.find((x) => principalSchools(d, x.staff_key, current.dataThrough).size > 0);
    const token = await h.token({ role: 'principal', staffId: p?.staff_unique_id as string });
    const q = `{ published { equityOutcomes { schoolKey studentGroup students suppressed attendanceRate } } }`;
    await h.gql(token, q);
    const again = await h.gql(token, q);
    expect(again.body.extensions?.sql?.executed).toBe(0);
    expect((again.body.data as { published: { equityOutcomes: unknown[] } }).published.equityOutcomes.length).toBeGreaterThan(0);
  });
});

describe('attendance aggregates from the cells computed at open', () => {
  const GROUPINGS = ['[]', '[SCHOOL]', '[GRADE]', '[STUDENT_GROUP]', '[SCHOOL, GRADE]', '[GRADE, SCHOOL, STUDENT_GROUP]'];

  it('give exactly the per-student SQL answer for every grouping, filter and district-wide or school caller, current and past', async () => {
    const schoolA = d.schools.find((s) => s.tenant === TENANT)?.school_key as string;
    const filters = ['null', '{ gradeLevel: 3 }', '{ studentGroup: "EL" }', `{ schoolKey: "${schoolA}", studentGroup: "ALL" }`, '{ studentGroup: "NOBODY" }'];
    const tokens = await Promise.all(callers().filter((c) => c.name !== 'teacher').map(async (c) => [c.name, await c.token()] as const));
    let checked = 0;
    for (const [name, token] of tokens) {
      for (const sel of ['', '(asOf: "2026-02-28")']) {
        for (const g of GROUPINGS) {
          for (const f of filters) {
            const q = `{ published${sel} { snapshot { id } attendanceSummary(groupBy: ${g}, filter: ${f}) { schoolKey gradeLevel studentGroup students suppressed chronicStudents chronicAbsenceRate attendanceRate } } }`;
            setAggregateCellsEnabled(true);
            const cells = await h.gql(token, q);
            setAggregateCellsEnabled(false);
            const sql = await h.gql(token, q);
            setAggregateCellsEnabled(true);
            expect(cells.body.errors, `${name} ${g} ${f}`).toBeUndefined();
            expect(cells.body.data, `${name} ${sel} ${g} ${f}`).toEqual(sql.body.data);
            checked++;
          }
        }
      }
    }
    expect(checked).toBe(4 * 2 * GROUPINGS.length * 5);
  });

  it('match the oracle from the roster and attendance arrays (analyst, every tenant, by school and grade)', async () => {
    const token = await h.token({ role: 'data_analyst', tenant: '*' });
    const r = await h.gql(token, `{ published { attendanceSummary(groupBy: [SCHOOL, GRADE]) { schoolKey gradeLevel students chronicStudents chronicAbsenceRate attendanceRate } } }`);
    expect(r.body.errors).toBeUndefined();
    expect(r.body.extensions?.sql?.executed).toBeLessThanOrEqual(1);
    const chronic = new Map(current.chronic.map((c) => [c.student_key, c]));
    const cells = new Map<string, { schoolKey: string; gradeLevel: number; students: number; rows: number; chronic: number; absent: number; enrolled: number }>();
    for (const s of current.students) {
      const k = `${s.school_key}|${s.grade_number}`;
      let c = cells.get(k);
      if (!c) cells.set(k, (c = { schoolKey: s.school_key, gradeLevel: s.grade_number, students: 0, rows: 0, chronic: 0, absent: 0, enrolled: 0 }));
      c.students++;
      const a = chronic.get(s.student_key);
      if (a) {
        c.rows++;
        if (a.days_absent / a.days_enrolled >= 0.1) c.chronic++;
        c.absent += a.days_absent;
        c.enrolled += a.days_enrolled;
      }
    }
    const expected = [...cells.values()]
      // the API orders by the grouping columns in name order: grade, then school
      .sort((a, b) => a.gradeLevel - b.gradeLevel || cmp(a.schoolKey, b.schoolKey))
      .map((c) => ({ schoolKey: c.schoolKey, gradeLevel: c.gradeLevel, students: c.students, chronicStudents: c.chronic, chronicAbsenceRate: c.rows ? c.chronic / c.rows : null, attendanceRate: c.enrolled ? 1 - c.absent / c.enrolled : null }));
    type Agg = { schoolKey: string; gradeLevel: number; students: number; chronicStudents: number; chronicAbsenceRate: number | null; attendanceRate: number | null };
    const got = (r.body.data as { published: { attendanceSummary: Agg[] } }).published.attendanceSummary;
    expect(got.map((x) => ({ ...x, chronicAbsenceRate: null, attendanceRate: null }))).toEqual(expected.map((x) => ({ ...x, chronicAbsenceRate: null, attendanceRate: null })));
    got.forEach((x, i) => {
      expect(x.chronicAbsenceRate).toBeCloseTo(expected[i]?.chronicAbsenceRate as number, 12);
      expect(x.attendanceRate).toBeCloseTo(expected[i]?.attendanceRate as number, 12);
    });
    // every student of the snapshot counted once
    expect(got.reduce((a, x) => a + x.students, 0)).toBe(current.students.length);
  });

  it('keep suppressing small groups for the auditor and never answer a teacher from the cells', async () => {
    const au = await h.token({ role: 'auditor' });
    const r = await h.gql(au, `{ published { attendanceSummary(groupBy: [SCHOOL, GRADE, STUDENT_GROUP]) { students suppressed chronicStudents attendanceRate } } }`);
    type Agg = { students: number; suppressed: boolean; chronicStudents: number | null; attendanceRate: number | null };
    const rows = (r.body.data as { published: { attendanceSummary: Agg[] } }).published.attendanceSummary;
    expect(rows.some((x) => x.suppressed)).toBe(true);
    for (const x of rows) {
      expect(x.suppressed).toBe(x.students <= 10);
      if (x.suppressed) expect(x).toMatchObject({ chronicStudents: null, attendanceRate: null });
    }
    // a teacher's aggregate counts their students only (the cells hold whole schools)
    const t = d.teachers.find((x) => teacherSections(d, x.staff_key).size > 0);
    if (!t) throw new Error('no teacher');
    const secs = teacherSections(d, t.staff_key);
    const mine = new Set(current.memberships.filter((m) => secs.has(m.section_key) && activeOn(m, current.dataThrough)).map((m) => m.student_key));
    const tr = await h.gql(await h.token({ role: 'teacher', staffId: t.staff_unique_id }), `{ published { attendanceSummary(groupBy: []) { students } } }`);
    expect(tr.body.data).toEqual({ published: { attendanceSummary: [{ students: mine.size }] } });
  });
});
