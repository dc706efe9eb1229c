/**
 * Headline rates of a 2,000-student district, computed from the delivered files (the oracle is
 * this test's own arithmetic, not the generator's code): chronic absence, program rates,
 * demographics, interim-to-state relation, LMS engagement against marks, section differences,
 * group gaps, CAASPP achievement levels against DOMAIN.md's thresholds.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { SHARED, type Table, badFiles, col, defectRows, makeDistrict, pearson, readDefects, readTable, readTruthStudents, relLanding, walk, type TruthStudent } from './helpers.ts';

let out = '';
let students: TruthStudent[] = [];
let bad = new Set<string>();
let badRows = new Map<string, Set<number>>();

beforeAll(async () => {
  out = await makeDistrict('rates', { students: 2000, seed: 31337 });
  students = readTruthStudents(out);
  const defects = readDefects(out);
  bad = badFiles(defects);
  badRows = defectRows(defects);
}, 600_000);

function good(source: string, re: RegExp, opts: { delim?: string } = {}): Array<Table & { rel: string }> {
  return walk(path.join(out, 'landing', source))
    .filter((f) => re.test(path.basename(f)))
    .map((f) => ({ f, rel: relLanding(out, f) }))
    .filter((x) => !bad.has(x.rel))
    .map(({ f, rel }) => {
      const t = readTable(f, opts);
      const skip = badRows.get(rel) ?? new Set<number>();
      return { ...t, rows: t.rows.filter((r, k) => !skip.has(k + 1) && r.length === t.header.length), rel };
    });
}

/** Any of the SIS date formats to ISO. */
function isoOf(v: string): string {
  if (/^\d{4}-\d{2}-\d{2}/.test(v)) return v.slice(0, 10);
  const m = /^(\d{1,2})\/(\d{1,2})\/(\d{4})/.exec(v);
  if (!m) return v;
  return `${m[3]}-${(m[1] as string).padStart(2, '0')}-${(m[2] as string).padStart(2, '0')}`;
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const sd = (xs: number[]) => {
  const m = mean(xs);
  return Math.sqrt(mean(xs.map((x) => (x - m) ** 2)));
};

describe('headline rates of the generated district', () => {
  it('chronic absence is about a quarter, higher among socioeconomically disadvantaged students', () => {
    const cal = good('sis', /^calendar\.csv$/)[0] as Table;
    const days = cal.rows.filter((r) => r[col(cal, 'day_type_code')] === 'INS' || r[col(cal, 'day_type_code')] === 'MUD').map((r) => isoOf(r[col(cal, 'calendar_date')] as string));
    const instructional = [...new Set(days)].sort();
    const absent = new Map<string, number>();
    const weight: Record<string, number> = { E: 1, I: 1, U: 1, H: 0.5, T: 0, L: 0 };
    for (const t of good('sis', /^attendance\.csv$/)) {
      const s = col(t, 'student_id');
      const c = col(t, 'attendance_code', 'att_code');
      for (const r of t.rows) absent.set(r[s] as string, (absent.get(r[s] as string) ?? 0) + (weight[r[c] as string] ?? 0));
    }
    let chronic = 0;
    let counted = 0;
    const sedRate = [0, 0];
    const otherRate = [0, 0];
    for (const st of students) {
      const entry = st.row['entry_date'] as string;
      const exit = st.row['exit_date'] || '9999-12-31';
      const enrolled = instructional.filter((d) => d >= entry && d <= exit).length;
      if (enrolled < 31) continue;
      counted++;
      const isChronic = (absent.get(st.local) ?? 0) / enrolled >= 0.1;
      if (isChronic) chronic++;
      const bucket = st.row['sed'] === '1' ? sedRate : otherRate;
      bucket[0] = (bucket[0] as number) + (isChronic ? 1 : 0);
      bucket[1] = (bucket[1] as number) + 1;
    }
    const rate = chronic / counted;
    console.info(`chronic absence ${(100 * rate).toFixed(1)}% of ${counted}; SED ${(100 * (sedRate[0] as number) / (sedRate[1] as number)).toFixed(1)}%, others ${(100 * (otherRate[0] as number) / (otherRate[1] as number)).toFixed(1)}%`);
    expect(counted).toBeGreaterThan(1800);
    expect(rate).toBeGreaterThan(0.2);
    expect(rate).toBeLessThan(0.3);
    const sed = (sedRate[0] as number) / (sedRate[1] as number);
    const other = (otherRate[0] as number) / (otherRate[1] as number);
    expect(sed - other).toBeGreaterThan(0.08);
  });

  it('program participation and demographics are California-like', () => {
    const d0 = walk(path.join(out, 'landing', 'sis')).map((f) => path.basename(path.dirname(f))).sort()[0] as string;
    const st = good('sis', /^students\.csv$/).find((t) => t.rel.includes(d0)) as Table;
    const pr = good('sis', /^program_participation\.csv$/).find((t) => t.rel.includes(d0)) as Table;
    const n = st.rows.length;
    const count = (code: string) => new Set(pr.rows.filter((r) => r[col(pr, 'program_code')] === code).map((r) => r[col(pr, 'student_id')])).size / n;
    expect(count('SED')).toBeGreaterThan(0.52);
    expect(count('SED')).toBeLessThan(0.68);
    expect(count('EL')).toBeGreaterThan(0.13);
    expect(count('EL')).toBeLessThan(0.24);
    expect(count('SPED')).toBeGreaterThan(0.09);
    expect(count('SPED')).toBeLessThan(0.17);
    expect(count('504')).toBeGreaterThan(0.012);
    expect(count('504')).toBeLessThan(0.05);
    expect(count('HOMELESS')).toBeGreaterThan(0.012);
    expect(count('HOMELESS')).toBeLessThan(0.05);
    expect(count('FOSTER')).toBeLessThan(0.015);
    const hisp = st.rows.filter((r) => r[col(st, 'hispanic_latino')] === 'Y').length / n;
    expect(hisp).toBeGreaterThan(0.48);
    expect(hisp).toBeLessThan(0.62);
    const white = st.rows.filter((r) => r[col(st, 'hispanic_latino')] === 'N' && r[col(st, 'race_code_1')] === '700' && r[col(st, 'race_code_2')] === '').length / n;
    expect(white).toBeGreaterThan(0.15);
    expect(white).toBeLessThan(0.25);
  });

  it('spring interim scores predict the end-of-year state score (r >= 0.8 within vendor and grade)', () => {
    const eoy = new Map<string, { ela: number; math: number; grade: string }>();
    for (const s of students) if (s.row['eoy_ela_scale']) eoy.set(s.local, { ela: Number(s.row['eoy_ela_scale']), math: Number(s.row['eoy_math_scale']), grade: s.row['grade_level'] as string });
    const bySsid = new Map(students.map((s) => [s.ssid, s.local]));
    // (vendor|subject|grade) -> pairs
    const pairs = new Map<string, Array<[number, number]>>();
    const add = (key: string, local: string, subject: 'ela' | 'math', score: number) => {
      const e = eoy.get(local);
      if (!e || !Number.isFinite(score)) return;
      const k = `${key}|${subject}|${e.grade}`;
      pairs.set(k, [...(pairs.get(k) ?? []), [score, e[subject]]]);
    };
    const spring = (rel: string) => rel.includes('/2026-05') || rel.includes('/2026-04') || rel.includes('/2026-06');
    for (const t of good('nwea_map', /^AssessmentResults\.csv$/)) {
      if (!spring(t.rel)) continue;
      for (const r of t.rows) add('map', r[col(t, 'StudentID')] as string, r[col(t, 'Subject')] === 'Mathematics' ? 'math' : 'ela', Number(r[col(t, 'TestRITScore')]));
    }
    for (const t of good('iready', /\.csv$/)) {
      if (!spring(t.rel)) continue;
      const subject = t.rel.includes('math') ? 'math' : 'ela';
      for (const r of t.rows) {
        const v = r[col(t, 'Student ID')] as string;
        add('iready', bySsid.get(v) ?? v, subject, Number(r[col(t, 'Overall Scale Score')]));
      }
    }
    for (const t of good('star', /^SR_v2\.csv$/)) {
      if (!spring(t.rel)) continue;
      for (const r of t.rows) add('star', r[col(t, 'StudentIdentifier')] as string, 'ela', Number(r[col(t, 'ScaledScore')]));
    }
    // standardise within each (vendor, subject, grade), then pool
    const xs: number[] = [];
    const ys: number[] = [];
    for (const ps of pairs.values()) {
      if (ps.length < 15) continue;
      const a = ps.map((p) => p[0]);
      const b = ps.map((p) => p[1]);
      const [ma, sa, mb, sb] = [mean(a), sd(a), mean(b), sd(b)];
      for (const [x, y] of ps) {
        xs.push((x - ma) / sa);
        ys.push((y - mb) / sb);
      }
    }
    expect(xs.length).toBeGreaterThan(800);
    const r = pearson(xs, ys);
    console.info(`spring interim vs end-of-year state score: r = ${r.toFixed(3)} over ${xs.length} pairs`);
    expect(r).toBeGreaterThanOrEqual(0.8);
    expect(r).toBeLessThan(0.98); // noisy, not a copy
  });

  it('LMS engagement correlates with course marks; some sections differ clearly from their course', () => {
    const canvasUser = new Map<string, string>();
    for (const t of good('canvas', /^users\.csv$/)) for (const r of t.rows) canvasUser.set(r[col(t, 'SourceSystemIdentifier')] as string, r[col(t, 'SISUserIdentifier')] as string);
    const onTime = new Map<string, [number, number]>();
    for (const t of good('canvas', /^submissions\.csv$/)) {
      for (const r of t.rows) {
        const who = canvasUser.get(r[col(t, 'LMSUserSourceSystemIdentifier')] as string);
        if (!who) continue;
        const x = onTime.get(who) ?? [0, 0];
        x[0] += r[col(t, 'SubmissionStatus')] === 'Graded' ? 1 : 0;
        x[1] += 1;
        onTime.set(who, x);
      }
    }
    const marks = new Map<string, number[]>();
    const bySection = new Map<string, number[]>();
    const courseOf = new Map<string, string>();
    for (const t of good('sis', /^course_marks\.csv$/)) {
      for (const r of t.rows) {
        const p = Number(r[col(t, 'percent')]);
        const s = r[col(t, 'student_id')] as string;
        marks.set(s, [...(marks.get(s) ?? []), p]);
        const sec = r[col(t, 'section_id')] as string;
        bySection.set(sec, [...(bySection.get(sec) ?? []), p]);
        courseOf.set(sec, r[col(t, 'course_code')] as string);
      }
    }
    const xs: number[] = [];
    const ys: number[] = [];
    for (const [s, [ok, n]] of onTime) {
      const m = marks.get(s);
      if (!m || n < 20) continue;
      xs.push(ok / n);
      ys.push(mean(m));
    }
    expect(xs.length).toBeGreaterThan(500);
    console.info(`on-time share vs mean mark: r = ${pearson(xs, ys).toFixed(3)}`);
    expect(pearson(xs, ys)).toBeGreaterThan(0.3);
    const byCourse = new Map<string, number[]>();
    for (const [sec, ps] of bySection) byCourse.set(courseOf.get(sec) as string, [...(byCourse.get(courseOf.get(sec) as string) ?? []), ...ps]);
    let clearlyDifferent = 0;
    for (const [sec, ps] of bySection) {
      const course = byCourse.get(courseOf.get(sec) as string) as number[];
      if (ps.length >= 40 && Math.abs(mean(ps) - mean(course)) > 5) clearlyDifferent++;
    }
    expect(clearlyDifferent).toBeGreaterThan(0);
  });

  it('gaps between student groups; prior CAASPP levels follow the Smarter Balanced thresholds', (ctx) => {
    const sedPrior: number[] = [];
    const otherPrior: number[] = [];
    for (const s of students) {
      if (s.row['grade_level'] !== '5' || !s.row['prior_ela_scale']) continue;
      (s.row['sed'] === '1' ? sedPrior : otherPrior).push(Number(s.row['prior_ela_scale']));
    }
    expect(mean(otherPrior) - mean(sedPrior)).toBeGreaterThan(20);
    const domain = path.join(SHARED, 'DOMAIN.md');
    if (!existsSync(domain)) {
      ctx.skip('../shared/DOMAIN.md is absent: thresholds cannot be compared');
      return;
    }
    const thresholds = new Map<string, number[]>();
    for (const line of readFileSync(domain, 'utf8').split('\n')) {
      const m = /^\|\s*(\d+)\s*\|\s*(\d+)\s*\|\s*(\d+)\s*\|\s*(\d+)\s*\|\s*(\d+)\s*\|\s*(\d+)\s*\|\s*(\d+)\s*\|/.exec(line);
      if (m) {
        thresholds.set(`01|${m[1]}`, [Number(m[2]), Number(m[3]), Number(m[4])]);
        thresholds.set(`02|${m[1]}`, [Number(m[5]), Number(m[6]), Number(m[7])]);
      }
    }
    expect(thresholds.size).toBe(14);
    let checked = 0;
    const levels = [0, 0, 0, 0, 0];
    for (const t of good('caaspp', /\.csv$/, { delim: '^' })) {
      for (const r of t.rows) {
        const th = thresholds.get(`${r[col(t, 'RecordType')]}|${Number(r[col(t, 'GradeAssessed')])}`) as number[];
        const score = Number(r[col(t, 'ScaleScore')]);
        const want = score >= (th[2] as number) ? 4 : score >= (th[1] as number) ? 3 : score >= (th[0] as number) ? 2 : 1;
        expect(Number(r[col(t, 'AchievementLevels')])).toBe(want);
        levels[want] = (levels[want] as number) + 1;
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(500);
    // all four levels occur, Met or Exceeded for a sizeable share
    expect(levels.slice(1).every((n) => n > 10)).toBe(true);
    const proficient = ((levels[3] as number) + (levels[4] as number)) / checked;
    console.info(`prior CAASPP levels 1-4: ${levels.slice(1).join(', ')}; met or exceeded ${(100 * proficient).toFixed(1)}%`);
    expect(proficient).toBeGreaterThan(0.25);
    expect(proficient).toBeLessThan(0.6);
  });
});
