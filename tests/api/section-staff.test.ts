/**
 * Section staff (decision 0606): a section lists every staff member with an active staff-section
 * association on the snapshot's data-through date (co-teachers included, ended associations not),
 * with their classroom position, keyed only (no staff name reaches the API). The oracle is the
 * fixture's association array, filtered in the test.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { activeOn, classroomPosition, principalSchools, teacherSections, type District, type FxSnapshot } from './fixture.ts';
import { harness, type Harness } from './helpers.ts';

type Assoc = { staffKey: string; classroomPosition: string | null; teacherOfRecord: boolean; staff: { key: string } | null; beginDate: string | null; endDate: string | null };
type Sec = { key: string; teachers: Array<{ key: string }>; staffAssociations: Assoc[] };

describe('section staff', () => {
  let h: Harness;
  let d: District;
  let current: FxSnapshot;
  beforeAll(async () => {
    h = await harness();
    d = h.fx.district;
    current = d.snapshots[1] as FxSnapshot;
  });
  afterAll(async () => h.close());

  /** The oracle: active associations of a section on the current snapshot's date. */
  const expected = (sectionKey: string) =>
    d.staffSections
      .filter((x) => x.section_key === sectionKey && activeOn(x, current.dataThrough))
      .map((x) => ({ staffKey: x.staff_key, classroomPosition: classroomPosition(x).split('#')[1] ?? null, teacherOfRecord: !x.coTeacher, beginDate: x.begin_date, endDate: x.end_date }))
      .sort((a, b) => Number(b.teacherOfRecord) - Number(a.teacherOfRecord) || a.staffKey.localeCompare(b.staffKey));

  const Q = `{ published { sections(first: 100) { totalCount edges { node { key teachers { key } staffAssociations { staffKey classroomPosition teacherOfRecord staff { key } beginDate endDate } } } } } }`;

  async function sections(token: string): Promise<Sec[]> {
    const r = await h.gql(token, Q);
    expect(r.body.errors).toBeUndefined();
    return (r.body.data as { published: { sections: { edges: Array<{ node: Sec }> } } }).published.sections.edges.map((e) => e.node);
  }

  function check(secs: Sec[], staffVisible: boolean): void {
    for (const s of secs) {
      const want = expected(s.key);
      expect(s.staffAssociations.map(({ staff: _s, ...rest }) => rest)).toEqual(want);
      expect(s.teachers.map((t) => t.key)).toEqual(want.map((w) => w.staffKey));
      if (staffVisible) for (const a of s.staffAssociations) expect(a.staff?.key).toBe(a.staffKey);
    }
  }

  it('lists every active association with its position, co-teachers included, ended ones not (analyst)', async () => {
    const secs = await sections(await h.token({ role: 'data_analyst' }));
    expect(secs.length).toBe(d.sections.length);
    check(secs, true);
    // the fixture has co-taught sections and ended associations: the test would prove nothing otherwise
    expect(secs.some((s) => s.staffAssociations.length > 1)).toBe(true);
    const ended = d.staffSections.filter((x) => !activeOn(x, current.dataThrough));
    expect(ended.length).toBeGreaterThan(0);
    for (const x of ended) {
      const s = secs.find((y) => y.key === x.section_key)!;
      expect(s.staffAssociations.some((a) => a.staffKey === x.staff_key && a.beginDate === x.begin_date)).toBe(false);
    }
  });

  it('a co-teacher sees the section with both staff; a principal the staff of their schools’ sections', async () => {
    const co = d.staffSections.find((x) => x.coTeacher && activeOn(x, current.dataThrough))!;
    const who = d.staff.find((s) => s.staff_key === co.staff_key)!;
    const tsecs = await sections(await h.token({ role: 'teacher', staffId: who.staff_unique_id }));
    expect(new Set(tsecs.map((s) => s.key))).toEqual(teacherSections(d, who.staff_key));
    const coSec = tsecs.find((s) => s.key === co.section_key)!;
    expect(coSec.staffAssociations.length).toBe(2);
    check(tsecs, true);
    // the co-teacher's own staff record lists the co-taught section
    const me = await h.gql(await h.token({ role: 'teacher', staffId: who.staff_unique_id }), `query($k: ID!) { published { staffMember(key: $k) { sections { key } } } }`, { k: who.staff_key });
    expect(me.body.errors).toBeUndefined();
    const mine = (me.body.data as { published: { staffMember: { sections: Array<{ key: string }> } } }).published.staffMember.sections.map((s) => s.key);
    expect(new Set(mine)).toEqual(teacherSections(d, who.staff_key));

    const p = d.principals[0]!;
    const psecs = await sections(await h.token({ role: 'principal', staffId: p.staff_unique_id }));
    const schools = principalSchools(d, p.staff_key, current.dataThrough);
    expect(new Set(psecs.map((s) => s.key))).toEqual(new Set(d.sections.filter((s) => schools.has(s.school_key)).map((s) => s.section_key)));
    check(psecs, true);
  });

  it('never serves a staff name, to any role', async () => {
    // first names (Teach11, Pat1...): the fixture's last names are words a position also contains (Teacher)
    const names = d.staff.map((s) => s.first_name);
    expect(names.length).toBeGreaterThan(10);
    const intro = await h.gql(await h.token({ role: 'data_steward' }), `{ a: __type(name: "Staff") { fields { name } } b: __type(name: "SectionStaff") { fields { name } } }`);
    const types = intro.body.data as { a: { fields: Array<{ name: string }> }; b: { fields: Array<{ name: string }> } };
    for (const f of [...types.a.fields, ...types.b.fields]) expect(f.name).not.toMatch(/name|email/i);
    for (const o of [{ role: 'data_steward' as const }, { role: 'teacher' as const, staffId: d.teachers[0]!.staff_unique_id }, { role: 'principal' as const, staffId: d.principals[0]!.staff_unique_id }]) {
      const r = await h.gql(await h.token(o), Q);
      expect(r.body.errors).toBeUndefined();
      const text = JSON.stringify(r.body);
      for (const n of names) expect(text.includes(n)).toBe(false);
    }
  });
});
