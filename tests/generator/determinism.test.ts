/**
 * Same arguments, same bytes; a later --through only adds files; one process or two lanes write
 * the same district.
 */
import { describe, expect, it } from 'vitest';
import path from 'node:path';
import { generate } from '../../seeds/generator/generate.ts';
import { buildCalendar, dayToIso } from '../../seeds/generator/calendar.ts';
import { hashTree, tmp } from './helpers.ts';

const base = { students: 250, seed: 20260, schoolYear: 2026, messiness: 'realistic' as const };

describe('generator determinism', () => {
  it('writes byte-identical output for identical arguments, with one process or two lanes', async () => {
    const root = tmp('det');
    const a = path.join(root, 'a');
    const b = path.join(root, 'b');
    const c = path.join(root, 'c');
    await generate({ ...base, out: a });
    await generate({ ...base, out: b });
    await generate({ ...base, out: c, parallel: true });
    const ha = hashTree(a);
    const hb = hashTree(b);
    const hc = hashTree(c);
    expect(ha.size).toBeGreaterThan(500);
    expect([...hb.keys()]).toEqual([...ha.keys()]);
    const diff = [...ha].filter(([k, v]) => hb.get(k) !== v).map(([k]) => k);
    expect(diff).toEqual([]);
    const diffLanes = [...ha].filter(([k, v]) => hc.get(k) !== v).map(([k]) => k);
    expect([...hc.keys()]).toEqual([...ha.keys()]);
    expect(diffLanes).toEqual([]);
    // another seed gives another district
    const d = path.join(root, 'd');
    await generate({ ...base, seed: base.seed + 1, out: d });
    const hd = hashTree(d);
    expect(hd.get('landing/sis/' + [...ha.keys()].find((k) => k.startsWith('landing/sis/'))?.slice('landing/sis/'.length))).not.toEqual(
      ha.get([...ha.keys()].find((k) => k.startsWith('landing/sis/')) as string),
    );
  });

  it('a later --through adds the new nights and leaves earlier files unchanged', async () => {
    const root = tmp('inc');
    const full = path.join(root, 'full');
    const inc = path.join(root, 'inc');
    const cal = buildCalendar(2026);
    const mid = dayToIso(cal.instructionalDays[cal.springStartIdx + 3] as number);
    const early = dayToIso(cal.instructionalDays[20] as number);
    await generate({ ...base, out: full });
    await generate({ ...base, out: inc, through: early });
    const h1 = hashTree(inc);
    // no landing file dated after --through
    for (const k of h1.keys()) {
      const m = /^landing\/[^/]+\/(\d{4}-\d{2}-\d{2})\//.exec(k);
      if (m) expect((m[1] as string) <= early).toBe(true);
    }
    await generate({ ...base, out: inc, through: mid });
    const h2 = hashTree(inc);
    for (const [k, v] of h1) {
      if (k === 'generator.json') continue;
      expect(h2.get(k), k).toBe(v);
    }
    expect(h2.size).toBeGreaterThan(h1.size);
    await generate({ ...base, out: inc });
    const h3 = hashTree(inc);
    const hf = hashTree(full);
    expect([...h3.keys()]).toEqual([...hf.keys()]);
    const diff = [...hf].filter(([k, v]) => h3.get(k) !== v).map(([k]) => k);
    expect(diff).toEqual([]);
    // running again with the same arguments changes nothing
    const res = await generate({ ...base, out: inc });
    expect(res.files).toBe(0);
    expect(hashTree(inc)).toEqual(hf);
  });
});
