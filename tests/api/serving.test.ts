/** Serving under load: no N+1, and concurrent teachers each get exactly their own students. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setQueryCacheEnabled } from '../../resolvers/runner.ts';
import { setServingIndexEnabled } from '../../resolvers/serving.ts';
import { teacherStudents, type FxSnapshot } from './fixture.ts';
import { harness, type Harness } from './helpers.ts';

let h: Harness;
beforeAll(async () => {
  // requests queue for the pool's connections under this load: give them time, isolation is what is tested
  h = await harness({ env: { EDLAKE_API_QUERY_TIMEOUT_MS: '120000' } });
});
afterAll(async () => {
  setQueryCacheEnabled(true);
  await h.close();
});

const NESTED = `query($n: Int) { published { sections(first: $n) { edges { node {
  key school { name } teachers { key } comparison { attendanceRate }
  students { key gradeLevel studentGroups school { name }
    attendance { tier absenceRate } riskProfile { riskScore reasons }
    assessmentResults { subject stateScaleScore } predictions { subject probabilityMet }
    sections { key courseCode } } } } } } }`;

describe('batching', () => {
  it('a nested query issues the same small number of statements for 2 sections as for all of them', async () => {
    // SQL only (no serving index, no caches): every relation must be one batched statement
    setQueryCacheEnabled(false);
    setServingIndexEnabled(false);
    try {
      const tok = await h.token({ role: 'data_analyst' });
      const counts: number[] = [];
      // the caller's scope is derived once per snapshot (decision 0604): derive it first, so that
      // both measured requests count the same statements
      await h.gql(tok, NESTED, { n: 1 });
      for (const n of [2, 18]) {
        const r = await h.gql(tok, NESTED, { n });
        expect(r.body.errors).toBeUndefined();
        const edges = (r.body.data as { published: { sections: { edges: Array<{ node: { students: unknown[] } }> } } }).published.sections.edges;
        expect(edges).toHaveLength(n);
        expect(edges.reduce((a, e) => a + e.node.students.length, 0)).toBeGreaterThan(n * 10);
        counts.push(r.body.extensions?.sql?.statements ?? -1);
      }
      // one statement per level and relation (page, school, teachers, staff, comparison, roster,
      // groups, chronic, wellbeing, results, predictions, sections), however many rows: no N+1
      expect(counts[0]).toBe(counts[1]);
      expect(counts[1]).toBeLessThanOrEqual(14);
    } finally {
      setQueryCacheEnabled(true);
      setServingIndexEnabled(true);
    }
  });
});

describe('response cache', () => {
  it('answers a repeated query from the cache, per caller; new callers and other queries run', async () => {
    const d = h.fx.district;
    const q = `{ published { snapshot { id } students(first: 100) { totalCount edges { node { key } } } } }`;
    const [a, b] = [d.teachers[0]!, d.teachers[4]!];
    const ta = await h.token({ role: 'teacher', staffId: a.staff_unique_id });
    const tb = await h.token({ role: 'teacher', staffId: b.staff_unique_id });
    const first = await h.gql(ta, q);
    const again = await h.gql(ta, q);
    expect(again.body.data).toEqual(first.body.data);
    expect(again.body.extensions?.sql).toMatchObject({ cached: true });
    expect(again.body.extensions?.snapshots?.map((s) => s.id)).toEqual(['2']);
    const other = await h.gql(tb, q);
    expect(other.body.extensions?.sql).not.toMatchObject({ cached: true });
    const keysOf = (r: typeof first) => new Set((r.body.data as { published: { students: { edges: Array<{ node: { key: string } }> } } }).published.students.edges.map((e) => e.node.key));
    expect(keysOf(other)).toEqual(teacherStudents(d, b.staff_key, d.snapshots[1] as FxSnapshot));
    expect(keysOf(first)).toEqual(teacherStudents(d, a.staff_key, d.snapshots[1] as FxSnapshot));
    // a past snapshot is another answer
    const past = await h.gql(ta, `{ published(snapshotId: "1") { snapshot { id } students(first: 100) { totalCount edges { node { key } } } } }`);
    expect(past.body.extensions?.sql).not.toMatchObject({ cached: true });
    // mutations and the raw tier are never cached
    const eng = await h.token({ role: 'data_engineer' });
    await h.gql(eng, `{ pipelineRuns { runId } }`);
    const runs = await h.gql(eng, `{ pipelineRuns { runId } }`);
    expect(runs.body.extensions?.sql).not.toMatchObject({ cached: true });
  });
});

describe('concurrency', () => {
  for (const cached of [false, true]) {
    it(`many concurrent requests as different teachers each get exactly their own students (cache ${cached ? 'on' : 'off'})`, async () => {
      setQueryCacheEnabled(cached);
      const d = h.fx.district;
      const current = d.snapshots[1] as FxSnapshot;
      const teachers = d.teachers;
      const tokens = await Promise.all(teachers.map((t) => h.token({ role: 'teacher', staffId: t.staff_unique_id })));
      const expected = teachers.map((t) => teacherStudents(d, t.staff_key, current));
      const N = 160;
      const results = await Promise.all(
        Array.from({ length: N }, (_, i) => {
          const k = (i * 7) % teachers.length;
          return h.gql(tokens[k] as string, `{ published { students(first: 100) { edges { node { key attendance { tier } } } } sections(first: 10) { edges { node { students { key } } } } } }`).then((r) => ({ k, r }));
        }),
      );
      let checked = 0;
      for (const { k, r } of results) {
        expect(r.body.errors).toBeUndefined();
        const p = (r.body.data as { published: { students: { edges: Array<{ node: { key: string } }> }; sections: { edges: Array<{ node: { students: Array<{ key: string }> } }> } } }).published;
        expect(new Set(p.students.edges.map((e) => e.node.key))).toEqual(expected[k]);
        expect(new Set(p.sections.edges.flatMap((e) => e.node.students.map((s) => s.key)))).toEqual(expected[k]);
        checked++;
      }
      expect(checked).toBe(N);
      setQueryCacheEnabled(true);
    });
  }
});
