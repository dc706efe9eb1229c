/**
 * Row filtering and tiers, role by role, against an oracle computed from the fixture's roster arrays
 * (not from the API's SQL).
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAudit } from '../../resolvers/identity.ts';
import { servingIndex, setServingIndexEnabled } from '../../resolvers/serving.ts';
import { activeOn, teacherSections, teacherStudents, type District, type FxSnapshot } from './fixture.ts';
import { harness, type Harness } from './helpers.ts';

// The same checks with the serving index (decision 0602) and with SQL alone.
for (const indexed of [true, false]) describe(indexed ? 'with the serving index' : 'SQL only', () => {
  let h: Harness;
  let d: District;
  let current: FxSnapshot;
  let past: FxSnapshot;

  beforeAll(async () => {
    setServingIndexEnabled(indexed);
    h = await harness();
    // with the index: build it for both snapshots first (requests never wait for a build)
    if (indexed) for (const s of h.fx.district.snapshots) expect(await servingIndex(await h.fx.source.open(s.id))).not.toBeNull();
    d = h.fx.district;
    current = d.snapshots[1] as FxSnapshot;
    past = d.snapshots[0] as FxSnapshot;
  });
  afterAll(async () => {
    setServingIndexEnabled(true);
    await h.close();
  });

  type Edge<N> = { node: N };
  const keysOf = (edges: Array<Edge<{ key: string }>>) => new Set(edges.map((e) => e.node.key));

  async function allStudents(token: string, extra = ''): Promise<Set<string>> {
    const out = new Set<string>();
    let after: string | null = null;
    for (;;) {
      const r = await h.gql(token, `query($after: String) { published${extra} { students(first: 100, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { node { key } } } } }`, { after });
      expect(r.body.errors).toBeUndefined();
      const s = (r.body.data as { published: { students: { totalCount: number; pageInfo: { hasNextPage: boolean; endCursor: string }; edges: Array<Edge<{ key: string }>> } } }).published.students;
      for (const k of keysOf(s.edges)) out.add(k);
      if (!s.pageInfo.hasNextPage) {
        expect(out.size).toBe(s.totalCount);
        return out;
      }
      after = s.pageInfo.endCursor;
    }
  }

  describe('teacher', () => {
    it('sees exactly the students of their active sections, on every path', async () => {
      for (const t of d.teachers.slice(0, 4)) {
        const expected = teacherStudents(d, t.staff_key, current);
        expect(expected.size).toBeGreaterThan(5);
        const tok = await h.token({ role: 'teacher', staffId: t.staff_unique_id });
        // root list
        expect(await allStudents(tok)).toEqual(expected);
        // nested: sections -> students
        const r = await h.gql(tok, `{ published { sections(first: 100) { edges { node { key students { key name { firstName lastName } } } } } } }`);
        expect(r.body.errors).toBeUndefined();
        const secs = (r.body.data as { published: { sections: { edges: Array<Edge<{ key: string; students: Array<{ key: string; name: { firstName: string } | null }> }>> } } }).published.sections.edges;
        const activeSecs = teacherSections(d, t.staff_key);
        expect(new Set(secs.map((e) => e.node.key))).toEqual(activeSecs);
        const nested = new Set(secs.flatMap((e) => e.node.students.map((s) => s.key)));
        expect(nested).toEqual(expected);
        // names joined for their own students, from the identity store
        for (const e of secs) for (const s of e.node.students) {
          const who = current.students.find((x) => x.student_key === s.key);
          expect(s.name).toEqual({ firstName: who?.first_name, lastName: who?.last_name });
        }
        // aggregates: counted over their students only
        const a = await h.gql(tok, `{ published { attendanceSummary(groupBy: []) { students suppressed } } }`);
        expect(a.body.errors).toBeUndefined();
        const agg = (a.body.data as { published: { attendanceSummary: Array<{ students: number; suppressed: boolean }> } }).published.attendanceSummary;
        expect(agg).toEqual([{ students: expected.size, suppressed: expected.size <= 10 }]);
        // the chronic view: their students only
        const c = await h.gql(tok, `{ published { chronicAbsenteeismRisk(first: 100) { totalCount edges { node { student { key } absenceRate tier } } } } }`);
        const ce = (c.body.data as { published: { chronicAbsenteeismRisk: { totalCount: number; edges: Array<Edge<{ student: { key: string }; absenceRate: number; tier: string }>> } } }).published.chronicAbsenteeismRisk;
        expect(new Set(ce.edges.map((e) => e.node.student.key))).toEqual(expected);
        for (const e of ce.edges) {
          const o = current.chronic.find((x) => x.student_key === e.node.student.key);
          expect(e.node.absenceRate).toBeCloseTo((o?.days_absent ?? 0) / (o?.days_enrolled ?? 1), 12);
        }
      }
    });

    it('sees its own sections in the section comparison, beside the course mean, and no one else’s', async () => {
      const t = d.teachers[0]!;
      const tok = await h.token({ role: 'teacher', staffId: t.staff_unique_id });
      const r = await h.gql(tok, `{ published { classSectionComparison { sectionKey courseCode students attendanceRate attendanceRateCourseMean } } }`);
      const rows = (r.body.data as { published: { classSectionComparison: Array<{ sectionKey: string; attendanceRateCourseMean: number | null }> } }).published.classSectionComparison;
      const own = teacherSections(d, t.staff_key);
      expect(new Set(rows.map((x) => x.sectionKey))).toEqual(own);
      for (const x of rows) expect(x.attendanceRateCourseMean).not.toBeNull();
    });

    it('cannot reach another teacher’s student or section by key or by node id', async () => {
      const t = d.teachers[0]!;
      const mine = teacherStudents(d, t.staff_key, current);
      const foreign = current.students.find((s) => !mine.has(s.student_key))!;
      const foreignSection = d.sections.find((s) => !d.staffSections.some((x) => x.staff_key === t.staff_key && x.section_key === s.section_key))!;
      const tok = await h.token({ role: 'teacher', staffId: t.staff_unique_id });
      const r = await h.gql(tok, `query($k: ID!, $s: ID!) { published { student(key: $k) { key } section(key: $s) { key students { key } } } }`, { k: foreign.student_key, s: foreignSection.section_key });
      expect(r.body.data).toEqual({ published: { student: null, section: null } });
      // relay node ids: an analyst's id of the foreign student, used by the teacher
      const an = await h.token({ role: 'data_analyst' });
      const ids = await h.gql(an, `query($k: ID!, $s: ID!) { published { student(key: $k) { id } section(key: $s) { id } } }`, { k: foreign.student_key, s: foreignSection.section_key });
      const p = (ids.body.data as { published: { student: { id: string }; section: { id: string } } }).published;
      const viaNode = await h.gql(tok, `query($a: ID!, $b: ID!) { a: node(id: $a) { id } b: node(id: $b) { id } n: nodes(ids: [$a, $b]) { id } }`, { a: p.student.id, b: p.section.id });
      expect(viaNode.body.data).toEqual({ a: null, b: null, n: [null, null] });
      // and a school of another principal through node
      const other = d.schools.find((s) => !d.sections.some((x) => x.school_key === s.school_key && d.staffSections.some((y) => y.staff_key === t.staff_key && y.section_key === x.section_key)))!;
      const sid = await h.gql(an, `query($k: ID!) { published { school(key: $k) { id } } }`, { k: other.school_key });
      const schoolId = (sid.body.data as { published: { school: { id: string } } }).published.school.id;
      expect((await h.gql(tok, `query($a: ID!) { node(id: $a) { id } }`, { a: schoolId })).body.data).toEqual({ node: null });
      // an own student through node works (the lookup is scoped, not closed)
      const own = [...mine][0]!;
      const oid = await h.gql(an, `query($k: ID!) { published { student(key: $k) { id } } }`, { k: own });
      const ownId = (oid.body.data as { published: { student: { id: string } } }).published.student.id;
      expect((await h.gql(tok, `query($a: ID!) { node(id: $a) { ... on Student { key } } }`, { a: ownId })).body.data).toEqual({ node: { key: own } });
    });

    it('a teacher without sections, or unknown, sees nothing; the equity table is not theirs', async () => {
      const tok = await h.token({ role: 'teacher', staffId: 'NOBODY-1' });
      expect((await allStudents(tok)).size).toBe(0);
      const t = d.teachers[0]!;
      const tok2 = await h.token({ role: 'teacher', staffId: t.staff_unique_id });
      const e = await h.gql(tok2, `{ published { equityOutcomes { studentGroup } performanceCorrelations { n } } }`);
      expect(e.body.data).toEqual({ published: { equityOutcomes: [], performanceCorrelations: [] } });
    });
  });

  describe('principal', () => {
    it('sees exactly the students and sections of their schools; a former principal sees nothing', async () => {
      for (const p of d.principals) {
        const schools = new Set(d.assignments.filter((a) => a.staff_key === p.staff_key && a.is_principal && activeOn(a, current.dataThrough)).map((a) => a.school_key));
        expect(schools.size).toBe(1);
        const expected = new Set(current.students.filter((s) => schools.has(s.school_key)).map((s) => s.student_key));
        const tok = await h.token({ role: 'principal', staffId: p.staff_unique_id });
        expect(await allStudents(tok)).toEqual(expected);
        const r = await h.gql(tok, `{ published { schools(first: 10) { totalCount edges { node { key sections { key } } } } equityOutcomes { schoolKey studentGroup students suppressed attendanceRate } } }`);
        const pub = (r.body.data as { published: { schools: { totalCount: number; edges: Array<Edge<{ key: string; sections: Array<{ key: string }> }>> }; equityOutcomes: Array<{ schoolKey: string | null; students: number; suppressed: boolean; attendanceRate: number | null }> } }).published;
        expect(new Set(pub.schools.edges.map((e) => e.node.key))).toEqual(schools);
        const secs = new Set(pub.schools.edges.flatMap((e) => e.node.sections.map((s) => s.key)));
        expect(secs).toEqual(new Set(d.sections.filter((s) => schools.has(s.school_key)).map((s) => s.section_key)));
        // equity rows: own school only, no district rows; small groups suppressed
        expect(pub.equityOutcomes.length).toBeGreaterThan(0);
        for (const e of pub.equityOutcomes) {
          expect(e.schoolKey !== null && schools.has(e.schoolKey)).toBe(true);
          expect(e.suppressed).toBe(e.students <= 10);
          if (e.suppressed) expect(e.attendanceRate).toBeNull();
        }
      }
      const former = d.staff.find((s) => s.staff_unique_id === 'FP1')!;
      expect((await allStudents(await h.token({ role: 'principal', staffId: former.staff_unique_id }))).size).toBe(0);
    });

    it('without the PII key, the staff ID is found in the identity store', async () => {
      const nokey = await harness({ env: { EDLAKE_PII_KEY: '' }, fixture: h.fx });
      const p = d.principals[2]!;
      const r = await nokey.gql(await nokey.token({ role: 'principal', staffId: p.staff_unique_id }), `{ viewer { staffKey schools } }`);
      expect(r.body.data).toEqual({ viewer: { staffKey: p.staff_key, schools: 1 } });
      await nokey.close();
    });

    it('can be named by e-mail through the identity store', async () => {
      const p = d.principals[1]!;
      const tok = await h.token({ role: 'principal', email: p.email.toUpperCase() });
      const r = await h.gql(tok, `{ viewer { role scope schools staffKey } }`);
      expect(r.body.data).toEqual({ viewer: { role: 'principal', scope: 'schools', schools: 1, staffKey: p.staff_key } });
    });
  });

  describe('district roles', () => {
    it('the analyst sees every student and no name (FORBIDDEN, no data)', async () => {
      const tok = await h.token({ role: 'data_analyst' });
      expect((await allStudents(tok)).size).toBe(current.students.length);
      const r = await h.gql(tok, `{ published { students(first: 5) { edges { node { key name { firstName } } } } } }`);
      expect(r.body.errors?.length).toBe(5);
      for (const e of r.body.errors ?? []) expect(e.extensions?.code).toBe('FORBIDDEN');
      const edges = (r.body.data as { published: { students: { edges: Array<Edge<{ name: unknown }>> } } }).published.students.edges;
      for (const e of edges) expect(e.node.name).toBeNull();
      expect(JSON.stringify(r.body)).not.toMatch(/First\d/);
    });

    it('the auditor sees small groups suppressed (marked, values withheld); the analyst sees them', async () => {
      const q = `{ published { equityOutcomes { schoolKey studentGroup students suppressed attendanceRate chronicAbsenceRate } attendanceSummary(groupBy: [SCHOOL, GRADE, STUDENT_GROUP]) { students suppressed attendanceRate } } }`;
      const au = await h.gql(await h.token({ role: 'auditor' }), q);
      const an = await h.gql(await h.token({ role: 'data_analyst' }), q);
      type P = { published: { equityOutcomes: Array<{ students: number; suppressed: boolean; attendanceRate: number | null }>; attendanceSummary: Array<{ students: number; suppressed: boolean; attendanceRate: number | null }> } };
      const a = (au.body.data as P).published;
      const b = (an.body.data as P).published;
      const small = a.equityOutcomes.filter((e) => e.students <= 10);
      expect(small.length).toBeGreaterThan(0);
      for (const e of a.equityOutcomes) {
        expect(e.suppressed).toBe(e.students <= 10);
        if (e.suppressed) expect(e.attendanceRate).toBeNull();
        else expect(e.attendanceRate).not.toBeNull();
      }
      for (const e of b.equityOutcomes) {
        expect(e.suppressed).toBe(false);
        expect(e.attendanceRate).not.toBeNull();
      }
      expect(a.attendanceSummary.some((x) => x.suppressed)).toBe(true);
      for (const x of a.attendanceSummary) if (x.students <= 10) expect(x).toMatchObject({ suppressed: true, attendanceRate: null });
      expect(b.attendanceSummary.every((x) => !x.suppressed)).toBe(true);
    });

    it('aggregates by school and group agree with counts from the roster', async () => {
      const r = await h.gql(await h.token({ role: 'data_analyst' }), `{ published { attendanceSummary(groupBy: [SCHOOL, STUDENT_GROUP]) { schoolKey studentGroup students attendanceRate } } }`);
      const rows = (r.body.data as { published: { attendanceSummary: Array<{ schoolKey: string; studentGroup: string; students: number; attendanceRate: number }> } }).published.attendanceSummary;
      for (const row of rows) {
        const members = current.students.filter((s) => s.school_key === row.schoolKey && s.groups.includes(row.studentGroup));
        expect(row.students).toBe(members.length);
        const ch = current.chronic.filter((c) => members.some((m) => m.student_key === c.student_key));
        const rate = 1 - ch.reduce((a, c) => a + c.days_absent, 0) / ch.reduce((a, c) => a + c.days_enrolled, 0);
        expect(row.attendanceRate).toBeCloseTo(rate, 10);
      }
    });

    it('proficiency by school agrees with the results table; small groups suppressed for the auditor', async () => {
      const inst = h.fx.instances[1]!.instance;
      const { Db } = await import('../../src/db/duckdb.ts');
      const db = new Db(await inst.connect());
      const expected = await db.all<{ school_key: string; tested: number; proficient: number }>(
        `SELECT s.school_key, count(*)::INTEGER AS tested, count(*) FILTER (WHERE r.achievement_level >= 3)::INTEGER AS proficient
           FROM marts.fct_assessment_results r JOIN marts.dim_student s USING (student_key)
          WHERE r.assessment_family = 'state' AND r.subject = 'Math' GROUP BY 1 ORDER BY 1`);
      db.close();
      const r = await h.gql(await h.token({ role: 'data_analyst' }), `{ published { proficiencySummary(subject: "math", groupBy: [SCHOOL]) { schoolKey tested proficient proficiencyRate } } }`);
      expect(r.body.errors).toBeUndefined();
      const rows = (r.body.data as { published: { proficiencySummary: Array<{ schoolKey: string; tested: number; proficient: number; proficiencyRate: number }> } }).published.proficiencySummary;
      expect(rows.map((x) => ({ school_key: x.schoolKey, tested: x.tested, proficient: x.proficient }))).toEqual(expected);
      for (const x of rows) expect(x.proficiencyRate).toBeCloseTo(x.proficient / x.tested, 12);
      const au = await h.gql(await h.token({ role: 'auditor' }), `{ published { proficiencySummary(subject: "Math", groupBy: [SCHOOL, GRADE, STUDENT_GROUP]) { tested suppressed proficient } } }`);
      const arows = (au.body.data as { published: { proficiencySummary: Array<{ tested: number; suppressed: boolean; proficient: number | null }> } }).published.proficiencySummary;
      expect(arows.some((x) => x.suppressed)).toBe(true);
      for (const x of arows) expect(x.suppressed ? x.proficient === null && x.tested <= 10 : x.tested > 10).toBe(true);
    });

    it('raw tier: pipeline runs and quarantine for data engineers only', async () => {
      const q = `{ pipelineRuns { runId } published { quarantine(first: 1) { totalCount } } }`;
      for (const role of ['data_analyst', 'data_steward', 'auditor'] as const) {
        const r = await h.gql(await h.token({ role }), q);
        expect(r.body.errors?.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN', 'FORBIDDEN']);
        expect(r.body.data).toEqual({ pipelineRuns: null, published: { quarantine: null } });
      }
      const ok = await h.gql(await h.token({ role: 'data_engineer' }), q);
      expect(ok.body.errors).toBeUndefined();
    });
  });

  describe('re-identification', () => {
    it('a data steward re-identifies with a reason, written to the chained audit log first; others are refused', async () => {
      const s = current.students[3]!;
      const m = `mutation($k: ID!, $r: String!) { reidentify(studentKey: $k, reason: $r) { studentKey studentUniqueId firstName lastName } }`;
      const steward = await h.token({ role: 'data_steward', subject: 'steward-1' });
      const short = await h.gql(steward, m, { k: s.student_key, r: 'why' });
      expect(short.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      const ok = await h.gql(steward, m, { k: s.student_key, r: 'records request #1234 from the family' });
      expect(ok.body.data).toEqual({ reidentify: { studentKey: s.student_key, studentUniqueId: s.student_unique_id, firstName: s.first_name, lastName: s.last_name } });
      for (const role of ['data_analyst', 'teacher', 'principal', 'auditor', 'data_engineer'] as const) {
        const r = await h.gql(await h.token({ role, staffId: 'T11' }), m, { k: s.student_key, r: 'records request #1234 from the family' });
        expect(r.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
        expect(r.body.data).toEqual({ reidentify: null });
      }
      const lines = readFileSync(h.auditFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatchObject({ role: 'data_steward', subject: 'steward-1', student_key: s.student_key, reason: 'records request #1234 from the family', found: true });
      await h.gql(steward, m, { k: current.students[4]!.student_key, r: 'second lawful request, ticket 99' });
      expect(verifyAudit(h.auditFile)).toBeNull();
    });
  });

  describe('time travel', () => {
    it('a past date returns the past snapshot’s numbers; the response names the snapshot', async () => {
      const tok = await h.token({ role: 'data_analyst' });
      const q = `query($d: Date) { published(asOf: $d) { snapshot { id publishedAt dataThrough } attendanceSummary(groupBy: []) { students attendanceRate } } }`;
      const expectFor = (s: FxSnapshot) => ({
        students: s.students.length,
        rate: 1 - s.chronic.reduce((a, c) => a + c.days_absent, 0) / s.chronic.reduce((a, c) => a + c.days_enrolled, 0),
      });
      for (const [date, snap] of [['2026-03-15', past], ['2026-03-28', current], [null, current], ['2026-02-28', past]] as const) {
        const r = await h.gql(tok, q, { d: date });
        expect(r.body.errors).toBeUndefined();
        const p = (r.body.data as { published: { snapshot: { id: string; dataThrough: string }; attendanceSummary: Array<{ students: number; attendanceRate: number }> } }).published;
        expect(p.snapshot.id).toBe(String(snap.id));
        expect(p.snapshot.dataThrough).toBe(snap.dataThrough);
        const e = expectFor(snap);
        expect(p.attendanceSummary[0]?.students).toBe(e.students);
        expect(p.attendanceSummary[0]?.attendanceRate).toBeCloseTo(e.rate, 10);
        expect(r.body.extensions?.snapshots?.map((s) => s.id)).toEqual([String(snap.id)]);
      }
      const before = await h.gql(tok, q, { d: '2026-01-01' });
      expect(before.body.errors?.[0]?.extensions?.code).toBe('SNAPSHOT_NOT_FOUND');
      const byId = await h.gql(tok, `{ published(snapshotId: "1") { snapshot { id } } snapshots { id } }`);
      expect(byId.body.data).toEqual({ published: { snapshot: { id: '1' } }, snapshots: [{ id: '1' }, { id: '2' }] });
    });

    it('a teacher’s past view uses the past roster with the current scope, and cursors do not cross snapshots', async () => {
      const t = d.teachers[0]!;
      const tok = await h.token({ role: 'teacher', staffId: t.staff_unique_id });
      const expectedPast = teacherStudents(d, t.staff_key, past);
      expect(await allStudents(tok, '(snapshotId: "1")')).toEqual(expectedPast);
      const r = await h.gql(tok, `{ published { students(first: 2) { pageInfo { endCursor } } } }`);
      const cursor = (r.body.data as { published: { students: { pageInfo: { endCursor: string } } } }).published.students.pageInfo.endCursor;
      const cross = await h.gql(tok, `query($c: String) { published(snapshotId: "1") { students(first: 2, after: $c) { totalCount } } }`, { c: cursor });
      expect(cross.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    });
  });
});
