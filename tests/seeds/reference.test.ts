import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Db } from '../../src/db/duckdb.ts';
import { DEFAULT_SEEDS_DIR, SEED_TABLES, SeedError, loadSeeds } from '../../seeds/load.ts';

/** Smarter Balanced threshold scale scores, written out from ../shared/DOMAIN.md (the oracle). */
const DOMAIN_THRESHOLDS: Array<[number, number, number, number, number, number, number]> = [
  // grade, ELA L2, ELA L3, ELA L4, Math L2, Math L3, Math L4
  [3, 2367, 2432, 2490, 2381, 2436, 2501],
  [4, 2416, 2473, 2533, 2411, 2485, 2549],
  [5, 2442, 2502, 2582, 2455, 2528, 2579],
  [6, 2457, 2531, 2618, 2473, 2552, 2610],
  [7, 2479, 2552, 2649, 2484, 2567, 2635],
  [8, 2487, 2567, 2668, 2504, 2586, 2653],
  [11, 2493, 2583, 2682, 2543, 2628, 2718],
];

/** Minimal CSV splitter for the seed files (quoted fields allowed). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  for (const line of text.split(/\r?\n/)) {
    if (line === '') continue;
    const out: string[] = [];
    let cur = '';
    let q = false;
    for (let k = 0; k < line.length; k++) {
      const ch = line[k];
      if (q) {
        if (ch === '"' && line[k + 1] === '"') {
          cur += '"';
          k++;
        } else if (ch === '"') q = false;
        else cur += ch;
      } else if (ch === '"') q = true;
      else if (ch === ',') {
        out.push(cur);
        cur = '';
      } else cur += ch;
    }
    out.push(cur);
    rows.push(out);
  }
  return rows;
}

describe('reference seeds', () => {
  let db: Db;
  beforeAll(async () => {
    db = await Db.open(':memory:');
    await loadSeeds(db);
  });
  afterAll(() => db.close());

  it('loads every CSV in seeds/reference as a declared table with all its rows', async () => {
    const files = readdirSync(DEFAULT_SEEDS_DIR).filter((f) => f.endsWith('.csv')).sort();
    expect(files).toEqual(SEED_TABLES.map((t) => `${t.name}.csv`).sort());
    for (const t of SEED_TABLES) {
      const lines = parseCsv(readFileSync(path.join(DEFAULT_SEEDS_DIR, `${t.name}.csv`), 'utf8'));
      const count = await db.scalar<number>(`SELECT count(*) FROM seeds.${t.name}`);
      expect(count, t.name).toBe(lines.length - 1);
      for (const [k, row] of lines.entries()) expect(row.length, `${t.name}.csv line ${k + 1}`).toBe(t.columns.length);
    }
  });

  it('keys are unique case-insensitively (checked from the CSV text)', () => {
    for (const t of SEED_TABLES) {
      const [header, ...rows] = parseCsv(readFileSync(path.join(DEFAULT_SEEDS_DIR, `${t.name}.csv`), 'utf8'));
      const idx = t.key.map((k) => header!.indexOf(k));
      expect(idx.every((x) => x >= 0), t.name).toBe(true);
      const seen = new Set<string>();
      for (const r of rows) {
        const key = idx.map((x) => (r[x] ?? '').trim().toLowerCase()).join('|');
        expect(seen.has(key), `${t.name} duplicate ${key}`).toBe(false);
        seen.add(key);
      }
    }
  });

  it('Smarter Balanced thresholds equal the table of DOMAIN.md', async () => {
    const rows = await db.all<{ subject: string; grade: number; level: number; min_scale_score: number }>(
      `SELECT subject, grade, level, min_scale_score FROM seeds.assessment_thresholds WHERE assessment_family = 'SBAC' ORDER BY grade, subject, level`,
    );
    const expected: Array<{ subject: string; grade: number; level: number; min_scale_score: number }> = [];
    for (const [g, e2, e3, e4, m2, m3, m4] of DOMAIN_THRESHOLDS) {
      expected.push({ subject: 'ELA', grade: g, level: 2, min_scale_score: e2 }, { subject: 'ELA', grade: g, level: 3, min_scale_score: e3 }, { subject: 'ELA', grade: g, level: 4, min_scale_score: e4 });
      expected.push({ subject: 'Math', grade: g, level: 2, min_scale_score: m2 }, { subject: 'Math', grade: g, level: 3, min_scale_score: m3 }, { subject: 'Math', grade: g, level: 4, min_scale_score: m4 });
    }
    expect(rows).toEqual(expected);
  });

  it('tiers, chronic definitions, early warning and suppression follow DOMAIN.md', async () => {
    expect(await db.all(`SELECT tier_code, min_absence_rate, max_absence_rate FROM seeds.attendance_tiers ORDER BY severity`)).toEqual([
      { tier_code: 'satisfactory', min_absence_rate: 0, max_absence_rate: 0.05 },
      { tier_code: 'at_risk', min_absence_rate: 0.05, max_absence_rate: 0.1 },
      { tier_code: 'moderate_chronic', min_absence_rate: 0.1, max_absence_rate: 0.2 },
      { tier_code: 'severe_chronic', min_absence_rate: 0.2, max_absence_rate: null },
    ]);
    expect(await db.all(`SELECT definition_code, min_absence_rate, min_enrolled_days, is_active FROM seeds.chronic_absence_definitions ORDER BY definition_code`)).toEqual([
      { definition_code: 'ca_dashboard', min_absence_rate: 0.1, min_enrolled_days: 31, is_active: true },
      { definition_code: 'warehouse_90_20', min_absence_rate: 0.1, min_enrolled_days: 20, is_active: false },
    ]);
    const ew = await db.all(`SELECT indicator, level, operator, threshold FROM seeds.early_warning_thresholds ORDER BY indicator, level`);
    expect(ew).toEqual([
      { indicator: 'attendance_rate', level: 'at_risk', operator: '<', threshold: 0.8 },
      { indicator: 'attendance_rate', level: 'warning', operator: '<', threshold: 0.88 },
      { indicator: 'conduct_offenses', level: 'at_risk', operator: '>', threshold: 5 },
      { indicator: 'conduct_offenses', level: 'warning', operator: '>', threshold: 2 },
      { indicator: 'course_grade_ela', level: 'at_risk', operator: '<', threshold: 65 },
      { indicator: 'course_grade_ela', level: 'warning', operator: '<', threshold: 72 },
      { indicator: 'course_grade_math', level: 'at_risk', operator: '<', threshold: 65 },
      { indicator: 'course_grade_math', level: 'warning', operator: '<', threshold: 72 },
      { indicator: 'state_offenses', level: 'at_risk', operator: '>', threshold: 0 },
    ]);
    expect(await db.scalar(`SELECT value FROM seeds.parameters WHERE parameter = 'small_group_max_suppressed'`)).toBe(10);
    const att = await db.all(`SELECT lower(code_value) AS c, absent_fraction AS f FROM seeds.attendance_codes WHERE namespace IS NULL AND lower(code_value) IN ('in attendance','excused absence','unexcused absence','tardy','early departure','partial') ORDER BY 1`);
    expect(att).toEqual([
      { c: 'early departure', f: 0 },
      { c: 'excused absence', f: 1 },
      { c: 'in attendance', f: 0 },
      { c: 'partial', f: 0.5 },
      { c: 'tardy', f: 0 },
      { c: 'unexcused absence', f: 1 },
    ]);
  });

  describe('a district edits a CSV badly', () => {
    let dir: string;
    beforeAll(() => {
      dir = mkdtempSync(path.join(tmpdir(), 'edlake-seeds-'));
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    async function loadEdited(file: string, edit: (s: string) => string): Promise<unknown> {
      const d = mkdtempSync(path.join(dir, 'x-'));
      cpSync(DEFAULT_SEEDS_DIR, d, { recursive: true });
      const p = path.join(d, file);
      writeFileSync(p, edit(readFileSync(p, 'utf8')));
      const fresh = await Db.open(':memory:');
      try {
        await loadSeeds(fresh, { dir: d });
        return null;
      } catch (e) {
        return e;
      } finally {
        fresh.close();
      }
    }

    it('names file, line and field of a non-numeric threshold', async () => {
      const err = await loadEdited('attendance_tiers.csv', (s) => s.replace('at_risk,At risk,0.05', 'at_risk,At risk,five'));
      expect(err).toBeInstanceOf(SeedError);
      expect(String((err as Error).message)).toMatch(/attendance_tiers\.csv line 3, field min_absence_rate: value "five" is not a valid double/);
    });

    it('refuses an out-of-range absent fraction', async () => {
      const err = await loadEdited('attendance_codes.csv', (s) => s.replace(',Partial,partial,0.5,', ',Partial,partial,1.5,'));
      expect(String((err as Error).message)).toMatch(/attendance_codes\.csv line \d+, field absent_fraction: value "1.5" is above the maximum 1/);
    });

    it('refuses a key duplicated in another capitalisation', async () => {
      const err = await loadEdited('attendance_codes.csv', (s) => `${s},TARDY,tardy,0,dup\n`);
      expect(String((err as Error).message)).toMatch(/attendance_codes\.csv lines \d+, \d+: duplicate key/);
    });

    it('refuses two active chronic definitions and a gap between tiers', async () => {
      const e1 = await loadEdited('chronic_absence_definitions.csv', (s) => s.replace(/,false\n/, ',true\n'));
      expect(String((e1 as Error).message)).toMatch(/exactly one definition must be active/);
      const e2 = await loadEdited('attendance_tiers.csv', (s) => s.replace('moderate_chronic,Moderate chronic absence,0.10', 'moderate_chronic,Moderate chronic absence,0.11'));
      expect(String((e2 as Error).message)).toMatch(/each must start where the previous ends/);
    });

    it('a changed threshold in the CSV is what loads (no code change)', async () => {
      const d = mkdtempSync(path.join(dir, 'ok-'));
      cpSync(DEFAULT_SEEDS_DIR, d, { recursive: true });
      const p = path.join(d, 'parameters.csv');
      writeFileSync(p, readFileSync(p, 'utf8').replace('small_group_max_suppressed,10,', 'small_group_max_suppressed,15,'));
      const fresh = await Db.open(':memory:');
      await loadSeeds(fresh, { dir: d });
      expect(await fresh.scalar(`SELECT value FROM seeds.parameters WHERE parameter = 'small_group_max_suppressed'`)).toBe(15);
      fresh.close();
    });
  });
});
