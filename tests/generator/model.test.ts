/**
 * The generator's Smarter Balanced thresholds (its own parameters) agree with the reference seed
 * the pipeline loads, and the PRNG and ID mappings behave as the generator relies on.
 */
import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { SBAC_THRESHOLDS, sbacLevel } from '../../seeds/generator/model.ts';
import { Rng, u01 } from '../../seeds/generator/rng.ts';
import { District } from '../../seeds/generator/district.ts';
import { buildCalendar, dayToIso } from '../../seeds/generator/calendar.ts';
import { readTable } from './helpers.ts';

describe('generator model', () => {
  it('uses the thresholds of seeds/reference/assessment_thresholds.csv', (ctx) => {
    const seed = path.resolve(import.meta.dirname, '../../seeds/reference/assessment_thresholds.csv');
    if (!existsSync(seed)) {
      ctx.skip('seeds/reference/assessment_thresholds.csv is not there yet');
      return;
    }
    const t = readTable(seed);
    const j = (n: string) => t.header.indexOf(n);
    let n = 0;
    for (const r of t.rows) {
      if (r[j('assessment_family')] !== 'SBAC') continue;
      const subject = r[j('subject')] === 'ELA' ? 'ela' : 'math';
      const grade = Number(r[j('grade')]);
      const level = Number(r[j('level')]);
      const min = Number(r[j('min_scale_score')]);
      const mine = SBAC_THRESHOLDS[subject][grade];
      expect(mine, `${subject} ${grade}`).toBeDefined();
      expect(mine?.[level - 2]).toBe(min);
      expect(sbacLevel(subject, grade, min)).toBe(level);
      expect(sbacLevel(subject, grade, min - 1)).toBe(level - 1);
      n++;
    }
    expect(n).toBe(42);
  });

  it('draws are pure functions of their keys and roughly uniform', () => {
    const a = Rng.of(1, 'x', 2);
    const b = Rng.of(1, 'x', 2);
    const xs = Array.from({ length: 1000 }, () => a.next());
    expect(Array.from({ length: 1000 }, () => b.next())).toEqual(xs);
    expect(Rng.of(1, 'x', 3).next()).not.toBe(xs[0]);
    const us = Array.from({ length: 20000 }, (_, i) => u01(12345, i, 7));
    const mean = us.reduce((s, x) => s + x, 0) / us.length;
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.01);
    const buckets = new Array(10).fill(0) as number[];
    for (const u of us) buckets[Math.floor(u * 10)]! += 1;
    for (const c of buckets) expect(Math.abs(c - 2000)).toBeLessThan(150);
  });

  it('local IDs and SSIDs are unique, never collide, and unknown IDs are on no roster', () => {
    const cal = buildCalendar(2026);
    const d = new District({ key: 'main', seed: 9, students: 20000, schoolYear: 2026 }, cal);
    const locals = new Set<string>();
    const ssids = new Set<string>();
    for (let i = 0; i < d.n; i++) {
      locals.add(d.localIdOf(i));
      ssids.add(d.ssidOf(i));
    }
    expect(locals.size).toBe(d.n);
    expect(ssids.size).toBe(d.n);
    for (const l of locals) expect(l).toMatch(/^\d{7}$/);
    for (const s of ssids) expect(s).toMatch(/^\d{10}$/);
    for (let k = 0; k < 500; k++) {
      expect(locals.has(d.unknownLocalId(k))).toBe(false);
      expect(ssids.has(d.unknownSsid(k))).toBe(false);
    }
  });

  it('builds a 180-day calendar for the school year', () => {
    const cal = buildCalendar(2026);
    expect(cal.instructionalDays).toHaveLength(180);
    expect(dayToIso(cal.instructionalDays[0] as number)).toBe('2025-08-13');
    for (const day of cal.instructionalDays) {
      const wd = new Date(day * 86_400_000).getUTCDay();
      expect(wd === 0 || wd === 6).toBe(false);
    }
    expect(cal.days.some((x) => x.type === 'HOL' && x.description === 'Thanksgiving Day')).toBe(true);
  });
});
