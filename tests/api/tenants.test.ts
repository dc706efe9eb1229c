/**
 * Two tenants (districts) in one lake (decision 0605): a caller with a tenant claim sees only that
 * tenant's rows, through every top-level field, nested paths, relay nodes and aggregates; without a
 * claim the served tenant (EDLAKE_TENANT) only; `*` every tenant (district-wide roles only).
 * Staff IDs, school IDs and student IDs repeat across the two tenants on purpose. The oracle is the
 * fixture's arrays, split by tenant in the test. With the serving index and with SQL alone.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { servingIndex, setServingIndexEnabled } from '../../resolvers/serving.ts';
import { buildDistrict, buildFixture, mergeDistricts, principalSchools, teacherSections, teacherStudents, TENANT, activeOn, type District, type Fixture, type FxSnapshot } from './fixture.ts';
import { harness, type Harness } from './helpers.ts';

const A = TENANT; // the served tenant (EDLAKE_TENANT of the harness)
const B = 'edfi-255901';
const DISTRICT_ROLES = ['data_engineer', 'data_analyst', 'data_steward', 'auditor'] as const;

type Edge<N> = { node: N };
type Conn<N> = { totalCount: number; pageInfo: { hasNextPage: boolean; endCursor: string | null }; edges: Array<Edge<N>> };

let fx: Fixture;
beforeAll(async () => {
  fx = await buildFixture({ district: mergeDistricts(buildDistrict({ tenant: A }), buildDistrict({ tenant: B, schools: 2, studentsPerSchool: 40, seed: 11 })) });
});
afterAll(async () => {
  await fx.source.close();
});

for (const indexed of [true, false]) describe(indexed ? 'tenants, with the serving index' : 'tenants, SQL only', () => {
  let h: Harness;
  let d: District;
  let current: FxSnapshot;
  /** The oracle of one tenant, from the fixture's arrays. */
  const of = (t: string) => {
    const students = current.students.filter((s) => s.tenant === t);
    const studentKeys = new Set(students.map((s) => s.student_key));
    const sections = d.sections.filter((s) => s.tenant === t);
    const activeMembers = current.memberships.filter((m) => studentKeys.has(m.student_key) && activeOn(m, current.dataThrough));
    return {
      students: studentKeys,
      schools: new Set(d.schools.filter((s) => s.tenant === t).map((s) => s.school_key)),
      sections: new Set(sections.map((s) => s.section_key)),
      sectionsWithStudents: new Set(activeMembers.map((m) => m.section_key)),
      staff: new Set(d.staff.filter((s) => s.tenant === t).map((s) => s.staff_key)),
    };
  };

  beforeAll(async () => {
    setServingIndexEnabled(indexed);
    h = await harness({ fixture: fx });
    if (indexed) for (const s of fx.district.snapshots) expect(await servingIndex(await fx.source.open(s.id))).not.toBeNull();
    d = fx.district;
    current = d.snapshots[1] as FxSnapshot;
    // the two tenants really share natural IDs: the test would prove nothing otherwise
    expect(of(A).students.size).toBeGreaterThan(0);
    expect(of(B).students.size).toBeGreaterThan(0);
    expect(d.staff.filter((s) => s.staff_unique_id === 'T11').map((s) => s.tenant).sort()).toEqual([A, B].sort());
  });
  afterAll(async () => {
    setServingIndexEnabled(true);
    await h.close();
  });

  async function gql<T>(token: string, query: string, variables?: Record<string, unknown>): Promise<T> {
    const r = await h.gql(token, query, variables);
    expect(r.status).toBe(200);
    expect(r.body.errors).toBeUndefined();
    return r.body.data as T;
  }

  /** Every node of a paginated top-level field. */
  async function all<N>(token: string, field: string, selection: string): Promise<N[]> {
    const out: N[] = [];
    let after: string | null = null;
    for (;;) {
      const data: { published: Record<string, Conn<N>> } = await gql(token, `query($after: String) { published { ${field}(first: 100, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { node { ${selection} } } } } }`, { after });
      const c = data.published[field] as Conn<N>;
      out.push(...c.edges.map((e) => e.node));
      if (!c.pageInfo.hasNextPage) {
        expect(out.length).toBe(c.totalCount);
        return out;
      }
      after = c.pageInfo.endCursor;
    }
  }

  /** Everything a district-wide caller can reach, checked against one tenant's oracle. */
  async function seesExactly(token: string, t: string, other: string): Promise<void> {
    const o = of(t);
    const x = of(other);
    const schools = await all<{ key: string; tenant: string; students: Array<{ key: string }>; sections: Array<{ key: string; students: Array<{ key: string }> }> }>(
      token, 'schools', 'key tenant students { key } sections { key students { key } }');
    expect(new Set(schools.map((s) => s.key))).toEqual(o.schools);
    expect(new Set(schools.map((s) => s.tenant))).toEqual(new Set([t]));
    expect(new Set(schools.flatMap((s) => s.students.map((x) => x.key)))).toEqual(o.students);
    expect(new Set(schools.flatMap((s) => s.sections.map((x) => x.key)))).toEqual(o.sections);
    for (const s of schools) for (const sec of s.sections) for (const st of sec.students) expect(o.students.has(st.key)).toBe(true);

    const students = await all<{ key: string; tenant: string; school: { key: string }; sections: Array<{ key: string; tenant: string }>; assessmentResults: Array<{ key: string }>; predictions: Array<{ subject: string }>; attendance: { student: { key: string } } | null; riskProfile: { student: { key: string } } | null }>(
      token, 'students', 'key tenant school { key } sections { key tenant } assessmentResults { key } predictions { subject } attendance { student { key } } riskProfile { student { key } }');
    expect(new Set(students.map((s) => s.key))).toEqual(o.students);
    expect(new Set(students.map((s) => s.tenant))).toEqual(new Set([t]));
    for (const s of students) {
      expect(o.schools.has(s.school.key)).toBe(true);
      for (const sec of s.sections) expect(sec.tenant).toBe(t);
      expect(s.assessmentResults.length).toBe(4);
      expect(s.attendance?.student.key).toBe(s.key);
      expect(s.riskProfile?.student.key).toBe(s.key);
      expect(s.predictions.length).toBe(2);
    }

    const sections = await all<{ key: string; tenant: string; school: { key: string }; teachers: Array<{ key: string; tenant: string }> }>(token, 'sections', 'key tenant school { key } teachers { key tenant }');
    expect(new Set(sections.map((s) => s.key))).toEqual(o.sections);
    for (const s of sections) {
      expect(s.tenant).toBe(t);
      expect(o.schools.has(s.school.key)).toBe(true);
      for (const te of s.teachers) expect(te.tenant).toBe(t);
    }

    const staff = await all<{ key: string; tenant: string; sections: Array<{ key: string }> }>(token, 'staff', 'key tenant sections { key }');
    expect(new Set(staff.map((s) => s.key))).toEqual(o.staff);
    for (const s of staff) for (const sec of s.sections) expect(o.sections.has(sec.key)).toBe(true);

    const chronic = await all<{ student: { key: string } }>(token, 'chronicAbsenteeismRisk', 'student { key }');
    expect(new Set(chronic.map((c) => c.student.key))).toEqual(o.students);
    const wellbeing = await all<{ student: { key: string } }>(token, 'wellbeingRiskProfiles', 'student { key }');
    expect(new Set(wellbeing.map((c) => c.student.key))).toEqual(o.students);
    const results = await all<{ student: { key: string } }>(token, 'assessmentResults', 'student { key }');
    expect(results.length).toBe(o.students.size * 4);
    for (const r of results) expect(o.students.has(r.student.key)).toBe(true);
    const predictions = await all<{ student: { key: string } }>(token, 'predictions', 'student { key }');
    expect(predictions.length).toBe(o.students.size * 2);
    for (const r of predictions) expect(o.students.has(r.student.key)).toBe(true);

    type Views = {
      published: {
        equityOutcomes: Array<{ tenant: string; schoolKey: string | null; school: { key: string } | null; studentGroup: string; students: number }>;
        classSectionComparison: Array<{ tenant: string; sectionKey: string; section: { key: string } | null }>;
        performanceCorrelations: Array<{ tenant: string; school: { key: string } | null; n: number }>;
        attendanceSummary: Array<{ students: number }>;
        bySchool: Array<{ schoolKey: string; students: number }>;
      };
    };
    const v = await gql<Views>(token, `{ published {
      equityOutcomes { tenant schoolKey school { key } studentGroup students }
      classSectionComparison { tenant sectionKey section { key } }
      performanceCorrelations { tenant school { key } n }
      attendanceSummary(groupBy: []) { students }
      bySchool: attendanceSummary(groupBy: [SCHOOL]) { schoolKey students } } }`);
    const eq = v.published.equityOutcomes;
    expect(new Set(eq.map((e) => e.tenant))).toEqual(new Set([t]));
    // the tenant's own district rows are there; the all-students rows count its students
    const districtAll = eq.find((e) => e.schoolKey === null && e.studentGroup === 'ALL');
    expect(districtAll?.students).toBe(o.students.size);
    expect(new Set(eq.filter((e) => e.schoolKey !== null).map((e) => e.schoolKey))).toEqual(o.schools);
    for (const e of eq) if (e.schoolKey !== null) expect(e.school?.key).toBe(e.schoolKey);
    expect(new Set(v.published.classSectionComparison.map((c) => c.sectionKey))).toEqual(o.sectionsWithStudents);
    for (const c of v.published.classSectionComparison) expect(c.tenant).toBe(t);
    expect(v.published.performanceCorrelations.length).toBe(o.schools.size);
    for (const c of v.published.performanceCorrelations) expect(c.tenant).toBe(t);
    expect(v.published.attendanceSummary).toEqual([{ students: o.students.size }]);
    expect(new Set(v.published.bySchool.map((b) => b.schoolKey))).toEqual(o.schools);
    expect(v.published.bySchool.reduce((n, b) => n + b.students, 0)).toBe(o.students.size);

    // keys of the other tenant, asked for directly: nothing
    const sk = [...x.schools][0] as string;
    const stk = [...x.students][0] as string;
    const sek = [...x.sections][0] as string;
    const sfk = [...x.staff][0] as string;
    const direct = await gql<{ published: Record<string, unknown> }>(token, `query($sk: ID!, $stk: ID!, $sek: ID!, $sfk: ID!) { published {
      school(key: $sk) { key } student(key: $stk) { key } section(key: $sek) { key } staffMember(key: $sfk) { key }
      filtered: students(first: 5, filter: { schoolKey: $sk }) { totalCount }
      eqOther: equityOutcomes(schoolKey: $sk) { tenant } } }`, { sk, stk, sek, sfk });
    expect(direct.published).toEqual({ school: null, student: null, section: null, staffMember: null, filtered: { totalCount: 0 }, eqOther: [] });
  }

  for (const role of DISTRICT_ROLES) {
    it(`${role} with tenant ${B} sees that tenant only, on every path`, async () => {
      await seesExactly(await h.token({ role, tenant: B }), B, A);
    });
  }

  it('a district-wide token without a tenant claim sees the served tenant only (deny by default)', async () => {
    const tok = await h.token({ role: 'data_analyst' });
    await seesExactly(tok, A, B);
    const v = await gql<{ viewer: { scope: string; tenant: string | null } }>(tok, '{ viewer { scope tenant } }');
    expect(v.viewer).toEqual({ scope: 'tenant', tenant: A });
  });

  it('"*" gives a district-wide role every tenant', async () => {
    const tok = await h.token({ role: 'data_analyst', tenant: '*' });
    const students = await all<{ key: string }>(tok, 'students', 'key');
    expect(new Set(students.map((s) => s.key))).toEqual(new Set([...of(A).students, ...of(B).students]));
    const v = await gql<{ viewer: { scope: string; tenant: string | null }; published: { equityOutcomes: Array<{ tenant: string; schoolKey: string | null; studentGroup: string; students: number }> } }>(
      tok, '{ viewer { scope tenant } published { equityOutcomes(districtOnly: true, studentGroup: "ALL") { tenant schoolKey studentGroup students } } }');
    expect(v.viewer).toEqual({ scope: 'all', tenant: null });
    // one district row per tenant, each saying whose it is
    expect(v.published.equityOutcomes.map((e) => [e.tenant, e.students]).sort()).toEqual([[A, of(A).students.size], [B, of(B).students.size]].sort());
  });

  it('teachers and principals resolve their staff ID within their tenant', async () => {
    for (const [t, claim] of [[B, B], [A, undefined]] as const) {
      const teacher = d.staff.find((s) => s.staff_unique_id === 'T11' && s.tenant === t)!;
      const tok = await h.token({ role: 'teacher', staffId: 'T11', ...(claim ? { tenant: claim } : {}) });
      const secs = await all<{ key: string; students: Array<{ key: string }> }>(tok, 'sections', 'key students { key }');
      expect(new Set(secs.map((s) => s.key))).toEqual(teacherSections(d, teacher.staff_key));
      const students = await all<{ key: string }>(tok, 'students', 'key');
      expect(new Set(students.map((s) => s.key))).toEqual(teacherStudents(d, teacher.staff_key, current));
      for (const s of students) expect(of(t).students.has(s.key)).toBe(true);

      const principal = d.staff.find((s) => s.staff_unique_id === 'P1' && s.tenant === t)!;
      const ptok = await h.token({ role: 'principal', staffId: 'P1', ...(claim ? { tenant: claim } : {}) });
      const schools = await all<{ key: string }>(ptok, 'schools', 'key');
      // school 1 has the same school ID in both tenants: only the caller's tenant's counts
      expect(new Set(schools.map((s) => s.key))).toEqual(principalSchools(d, principal.staff_key, current.dataThrough));
    }
  });

  it('refuses "*" for teachers and principals, and a tenant claim that is not a code', async () => {
    for (const o of [{ role: 'teacher' as const, staffId: 'T11', tenant: '*' }, { role: 'principal' as const, staffId: 'P1', tenant: '*' }, { role: 'data_analyst' as const, tenant: 'Not A Code' }]) {
      const r = await h.gql(await h.token(o), '{ published { students(first: 1) { totalCount } } }');
      expect(r.status).toBe(401);
      expect(r.body.data ?? null).toBeNull();
    }
  });
});
