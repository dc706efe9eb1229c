/**
 * End to end on a small generated district: `edlake generate` → `edlake pipeline run` (raw,
 * refined, models, data tests) → the views, checked against numbers computed here straight from
 * the generator's landing files (SIS calendar, enrollments, attendance, programs, course marks,
 * OneRoster class enrollments) minus the rows its truth/ says are defective, with the rules of
 * DOMAIN.md; and the predictions against the generator's hidden end-of-year scores.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Db, literal } from '../../src/db/duckdb.ts';
import { loadConfig } from '../../src/config.ts';
import { generate, parseArgs } from '../../seeds/generator/generate.ts';
import { runNightly } from '../../pipeline/nightly.ts';
import { personKey } from '../../pipeline/keys.ts';
import { runModels, type RunModelsResult } from '../../pipeline/models/runner.ts';
import { calibrateLake } from '../../src/cli/model.ts';
import { DEFAULT_SEEDS_DIR } from '../../seeds/load.ts';
import { cpSync } from 'node:fs';
import { pearson } from './oracle.ts';

const PII_KEY = 'e2e-test-key-0123456789abcdefghijklmnopqrstuvwxyz';
const TENANT = 'district';
const THROUGH = '2025-12-12';

/** RFC 4180 CSV (quotes, CRLF, BOM). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cur = '';
  let q = false;
  const s = text.replace(/^\uFEFF/, '');
  for (let k = 0; k < s.length; k++) {
    const ch = s[k]!;
    if (q) {
      if (ch === '"' && s[k + 1] === '"') {
        cur += '"';
        k++;
      } else if (ch === '"') q = false;
      else cur += ch;
    } else if (ch === '"') q = true;
    else if (ch === ',') {
      row.push(cur);
      cur = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && s[k + 1] === '\n') k++;
      row.push(cur);
      rows.push(row);
      row = [];
      cur = '';
    } else cur += ch;
  }
  if (cur !== '' || row.length > 0) {
    row.push(cur);
    rows.push(row);
  }
  return rows;
}

const norm = (h: string) => h.toLowerCase().replace(/[^a-z0-9]/g, '');
const ALIASES: Record<string, string> = { attcode: 'attendancecode', date: 'attendancedate', ssid: 'statestudentid' };

function isoDate(v: string): string | null {
  const t = v.trim();
  let m = /^(\d{4})-(\d{2})-(\d{2})/.exec(t);
  if (m) return `${m[1]}-${m[2]}-${m[3]}`;
  m = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/.exec(t);
  if (m) return `${m[3]}-${m[1]!.padStart(2, '0')}-${m[2]!.padStart(2, '0')}`;
  return null;
}

interface Landing {
  dir: string;
  bad: Map<string, Set<number>>;
  rejected: Set<string>;
}

function readLanding(out: string): Landing {
  const bad = new Map<string, Set<number>>();
  const rejected = new Set<string>();
  for (const f of readdirSync(path.join(out, 'truth', 'defects'))) {
    const [, ...rows] = parseCsv(readFileSync(path.join(out, 'truth', 'defects', f), 'utf8'));
    for (const r of rows) {
      const [, file, row] = r as [string, string, string];
      if (!row) rejected.add(file);
      else {
        const set = bad.get(file) ?? new Set<number>();
        set.add(Number(row));
        bad.set(file, set);
      }
    }
  }
  return { dir: path.join(out, 'landing'), bad, rejected };
}

/** Every good row of the files of a source whose header has the given columns, oldest delivery first. */
function rowsOf(l: Landing, source: string, needs: string[]): Array<{ delivery: string; row: Record<string, string> }> {
  const out: Array<{ delivery: string; row: Record<string, string> }> = [];
  const base = path.join(l.dir, source);
  for (const delivery of readdirSync(base).sort()) {
    for (const f of readdirSync(path.join(base, delivery)).sort()) {
      const rel = `${source}/${delivery}/${f}`;
      if (l.rejected.has(rel)) continue;
      const text = readFileSync(path.join(base, delivery, f), 'utf8');
      const [head, ...rows] = parseCsv(text);
      if (!head) continue;
      const cols = head.map((h) => ALIASES[norm(h)] ?? norm(h));
      if (!needs.every((n) => cols.includes(n))) continue;
      const bad = l.bad.get(rel) ?? new Set<number>();
      rows.forEach((r, k) => {
        if (bad.has(k + 1) || r.length !== cols.length) return;
        out.push({ delivery, row: Object.fromEntries(cols.map((c, i) => [c, r[i] ?? ''])) });
      });
    }
  }
  return out;
}

const FRACTION: Record<string, number> = { e: 1, i: 1, u: 1, t: 0, l: 0, h: 0.5 };
const INSTRUCTIONAL = new Set(['ins', 'mud']);

interface Truth {
  days: Map<string, Array<{ school: string; date: string; fraction: number }>>;
  enrolled: Map<string, { school: string }>;
  asOf: string;
  sed: Set<string>;
  marks: Map<string, Map<string, number>>;
  members: Map<string, Set<string>>;
}

function computeTruth(l: Landing): Truth {
  const cal = new Map<string, string>();
  for (const { row } of rowsOf(l, 'sis', ['schoolcode', 'calendardate', 'daytypecode'])) cal.set(`${row['schoolcode']}|${isoDate(row['calendardate']!)}`, row['daytypecode']!.toLowerCase());
  const enr = new Map<string, { student: string; school: string; entry: string; exit: string | null }>();
  for (const { row } of rowsOf(l, 'sis', ['studentid', 'schoolcode', 'entrydate', 'exitdate'])) {
    const entry = isoDate(row['entrydate']!)!;
    const exit = row['exitdate'] ? isoDate(row['exitdate']) : null;
    enr.set(`${row['studentid']}|${row['schoolcode']}|${entry}`, { student: row['studentid']!, school: row['schoolcode']!, entry, exit });
  }
  const att = new Map<string, number>();
  const through = new Map<string, string>();
  for (const { row } of rowsOf(l, 'sis', ['studentid', 'schoolcode', 'attendancedate', 'attendancecode'])) {
    const date = isoDate(row['attendancedate']!)!;
    const k = `${row['studentid']}|${row['schoolcode']}|${date}`;
    att.set(k, Math.max(att.get(k) ?? 0, FRACTION[row['attendancecode']!.trim().toLowerCase()] ?? 0));
    if ((through.get(row['schoolcode']!) ?? '') < date) through.set(row['schoolcode']!, date);
  }
  const asOf = [...through.values()].sort().at(-1)!;
  const counted = (school: string, date: string) => INSTRUCTIONAL.has(cal.get(`${school}|${date}`) ?? '') && date <= (through.get(school) ?? asOf);
  const dates = [...new Set([...cal.keys()].map((k) => k.split('|')[1]!))].sort();
  const chosen = new Map<string, { school: string; entry: string }>();
  for (const e of enr.values()) {
    for (const d of dates) {
      if (d < e.entry || (e.exit !== null && d > e.exit) || !counted(e.school, d)) continue;
      const k = `${e.student}|${d}`;
      const p = chosen.get(k);
      if (!p || e.entry > p.entry || (e.entry === p.entry && e.school < p.school)) chosen.set(k, { school: e.school, entry: e.entry });
    }
  }
  const days = new Map<string, Array<{ school: string; date: string; fraction: number }>>();
  for (const [k, v] of chosen) {
    const [student, date] = k.split('|') as [string, string];
    const list = days.get(student) ?? [];
    list.push({ school: v.school, date, fraction: att.get(`${student}|${v.school}|${date}`) ?? 0 });
    days.set(student, list);
  }
  const enrolled = new Map<string, { school: string }>();
  const latest = new Map<string, { school: string; entry: string; exit: string | null }>();
  for (const e of enr.values()) {
    const p = latest.get(e.student);
    if (!p || e.entry > p.entry || (e.entry === p.entry && e.school < p.school)) latest.set(e.student, e);
  }
  for (const [s, e] of latest) if (e.entry <= asOf && (e.exit === null || e.exit >= asOf)) enrolled.set(s, { school: e.school });
  const firstDay = dates.find((d) => [...through.keys()].some((s) => INSTRUCTIONAL.has(cal.get(`${s}|${d}`) ?? '')))!;
  const sed = new Set<string>();
  for (const { row } of rowsOf(l, 'sis', ['studentid', 'programcode', 'startdate'])) {
    const start = isoDate(row['startdate']!)!;
    const end = row['enddate'] ? isoDate(row['enddate']) : null;
    if (row['programcode']!.toUpperCase() === 'SED' && start <= asOf && (end === null || end >= firstDay)) sed.add(row['studentid']!);
  }
  const order: Record<string, number> = { q1: 1, s1: 2, q3: 3, s2: 4 };
  const best = new Map<string, { order: number; mark: number }>();
  for (const { row } of rowsOf(l, 'sis', ['studentid', 'sectionid', 'gradingperiod', 'mark'])) {
    const k = `${row['studentid']}|${row['sectionid']}`;
    const o = order[row['gradingperiod']!.toLowerCase()]!;
    const mark = Number(row['percent']);
    const p = best.get(k);
    if (row['percent'] !== '' && (!p || o >= p.order)) best.set(k, { order: o, mark });
  }
  const marks = new Map<string, Map<string, number>>();
  for (const [k, v] of best) {
    const [student, section] = k.split('|') as [string, string];
    const m = marks.get(student) ?? new Map<string, number>();
    m.set(section, v.mark);
    marks.set(student, m);
  }
  const enrollments = new Map<string, Record<string, string>>();
  for (const { row } of rowsOf(l, 'oneroster', ['sourcedid', 'classsourcedid', 'usersourcedid', 'role'])) enrollments.set(row['sourcedid']!, row);
  const members = new Map<string, Set<string>>();
  for (const e of enrollments.values()) {
    if (e['role']!.toLowerCase() !== 'student') continue;
    const begin = e['begindate'] ? isoDate(e['begindate']) : null;
    const end = e['enddate'] ? isoDate(e['enddate']) : null;
    if ((begin !== null && begin > asOf) || (end !== null && end < asOf)) continue;
    const set = members.get(e['classsourcedid']!) ?? new Set<string>();
    set.add(e['usersourcedid']!);
    members.set(e['classsourcedid']!, set);
  }
  return { days, enrolled, asOf, sed, marks, members };
}

const tierOf = (a: number) => (a < 0.05 ? 'satisfactory' : a < 0.1 ? 'at_risk' : a < 0.2 ? 'moderate_chronic' : 'severe_chronic');


describe('end to end on a generated district', () => {
  let root: string;
  let out: string;
  let db: Db;
  let truth: Truth;
  let models: RunModelsResult;
  const key = (id: string) => personKey(PII_KEY, TENANT, id);

  beforeAll(async () => {
    root = mkdtempSync(path.join(tmpdir(), 'edlake-e2e-'));
    out = path.join(root, 'gen');
    await generate(parseArgs({ students: '300', seed: '17', out, through: THROUGH }));
    const config = loadConfig({ landing: path.join(out, 'landing'), lake: path.join(root, 'lake') }, { EDLAKE_PII_KEY: PII_KEY });
    const record = await runNightly(config, { until: 'marts' });
    expect(record.status, record.error).toBe('succeeded');
    models = record.stages['models'] as RunModelsResult;
    truth = computeTruth(readLanding(out));
    db = await Db.open(':memory:');
    await db.run(`ATTACH ${literal(path.join(root, 'lake', 'work.duckdb'))} AS w (READ_ONLY)`);
  }, 600_000);
  afterAll(() => {
    db?.close();
    if (root && existsSync(root)) rmSync(root, { recursive: true, force: true });
  });

  it('the models and the error-severity data tests pass', () => {
    const failing = models.tests.filter((t) => t.severity === 'error' && (t.status === 'fail' || t.status === 'error'));
    expect(failing.map((t) => `${t.name}: ${t.message ?? JSON.stringify(t.sample[0])}`)).toEqual([]);
    expect(models.blocked).toBe(false);
    const conservation = models.tests.find((t) => t.name === 'project.conservation_raw_to_refined')!;
    expect(conservation.status).toBe('pass');
    // every code the generator's sources deliver is mapped by the seeds
    const unmapped = models.tests.find((t) => t.name === 'project.unmapped_descriptors')!;
    expect(unmapped.sample).toEqual([]);
  });

  it('attendance, tier and chronic flag of every enrolled student agree with the landing files', async () => {
    const rows = await db.all<{ student_key: string; days_enrolled: number; days_absent: number; attendance_rate: number; tier_code: string | null; is_chronically_absent: boolean }>(
      `SELECT student_key, days_enrolled, days_absent, attendance_rate, tier_code, is_chronically_absent FROM w.marts.v_chronic_absenteeism_risk WHERE tenant = $1`,
      [TENANT],
    );
    const byKey = new Map(rows.map((r) => [r.student_key, r]));
    expect(rows.length).toBe(truth.enrolled.size);
    let checked = 0;
    for (const s of truth.enrolled.keys()) {
      const r = byKey.get(key(s));
      expect(r, s).toBeDefined();
      const days = truth.days.get(s) ?? [];
      const absent = days.reduce((a, d) => a + d.fraction, 0);
      expect(r!.days_enrolled, s).toBe(days.length);
      expect(Math.abs(r!.days_absent - absent), s).toBeLessThan(1e-9);
      if (days.length > 0) {
        expect(Math.abs(r!.attendance_rate - (1 - absent / days.length))).toBeLessThan(1e-9);
        expect(r!.tier_code, s).toBe(tierOf(absent / days.length));
        expect(r!.is_chronically_absent, s).toBe(days.length >= 31 && absent / days.length >= 0.1);
      }
      checked++;
    }
    expect(checked).toBeGreaterThan(200);
  });

  it('a school x all students row and the district x SED row of the equity view', async () => {
    const perSchool = new Map<string, Map<string, { n: number; a: number }>>();
    for (const [s, days] of truth.days) {
      for (const d of days) {
        const m = perSchool.get(d.school) ?? new Map<string, { n: number; a: number }>();
        const p = m.get(s) ?? { n: 0, a: 0 };
        p.n++;
        p.a += d.fraction;
        m.set(s, p);
        perSchool.set(d.school, m);
      }
    }
    const [school, students] = [...perSchool].sort((a, b) => b[1].size - a[1].size)[0]!;
    const list = [...students.values()];
    const rate = 1 - list.reduce((a, p) => a + p.a, 0) / list.reduce((a, p) => a + p.n, 0);
    const denom = list.filter((p) => p.n >= 31);
    const chronic = denom.filter((p) => p.a / p.n >= 0.1).length / denom.length;
    const r = await db.one<{ students: number; attendance_rate: number; chronic_absence_rate: number }>(
      `SELECT e.students, e.attendance_rate, e.chronic_absence_rate FROM w.marts.v_equity_outcomes e JOIN w.marts.dim_school s ON s.school_key = e.school_key
       WHERE e.scope = 'school' AND e.tenant = $1 AND s.school_id = $2 AND e.group_code = 'ALL'`,
      [TENANT, school],
    );
    expect(r!.students).toBe(list.length);
    expect(Math.abs(r!.attendance_rate - rate)).toBeLessThan(1e-9);
    expect(Math.abs(r!.chronic_absence_rate - chronic)).toBeLessThan(1e-9);

    const sed = [...truth.days].filter(([s]) => truth.sed.has(s));
    const n = sed.reduce((a, [, d]) => a + d.length, 0);
    const a = sed.reduce((acc, [, d]) => acc + d.reduce((x, y) => x + y.fraction, 0), 0);
    const d = await db.one<{ students: number; attendance_rate: number }>(
      `SELECT students, attendance_rate FROM w.marts.v_equity_outcomes WHERE scope = 'district' AND tenant = $1 AND group_code = 'SED'`,
      [TENANT],
    );
    expect(d!.students).toBe(sed.length);
    expect(Math.abs(d!.attendance_rate - (1 - a / n))).toBeLessThan(1e-9);
  });

  it('a section’s mean course mark and the correlation of attendance with marks at a school', async () => {
    // the section with the most marked current members
    const sections = [...truth.members].map(([sec, m]) => [sec, [...m].filter((s) => truth.marks.get(s)?.has(sec))] as const).sort((x, y) => y[1].length - x[1].length);
    const [section, marked] = sections[0]!;
    const mean = marked.reduce((acc, s) => acc + truth.marks.get(s)!.get(section)!, 0) / marked.length;
    const r = await db.one<{ mean_course_mark: number; students: number }>(
      `SELECT v.mean_course_mark, v.students FROM w.marts.v_class_section_comparison v JOIN w.marts.dim_section s USING (tenant, section_key)
       WHERE v.tenant = $1 AND s.section_identifier = $2`,
      [TENANT, section],
    );
    expect(r, section).toBeDefined();
    expect(r!.students).toBe(truth.members.get(section)!.size);
    expect(Math.abs(r!.mean_course_mark - mean)).toBeLessThan(1e-9);

    // attendance rate (year to date, across schools) against the mean latest mark, at the school with most marked students
    const bySchool = new Map<string, string[]>();
    for (const [s, e] of truth.enrolled) {
      if (!truth.marks.has(s) || !(truth.days.get(s)?.length)) continue;
      bySchool.set(e.school, [...(bySchool.get(e.school) ?? []), s]);
    }
    const [school, studs] = [...bySchool].sort((x, y) => y[1].length - x[1].length)[0]!;
    const xs: number[] = [];
    const ys: number[] = [];
    for (const s of studs) {
      const days = truth.days.get(s)!;
      xs.push(1 - days.reduce((a, d) => a + d.fraction, 0) / days.length);
      const m = [...truth.marks.get(s)!.values()];
      ys.push(m.reduce((a, x) => a + x, 0) / m.length);
    }
    const rows = await db.all<{ n: number; r: number; r_ci_low: number; r_ci_high: number }>(
      `SELECT sum(n) AS n, any_value(r) AS r, any_value(r_ci_low) AS r_ci_low, any_value(r_ci_high) AS r_ci_high
       FROM w.marts.v_performance_correlations c JOIN w.marts.dim_school s ON s.school_key = c.school_key
       WHERE c.tenant = $1 AND s.school_id = $2 AND c.measure = 'attendance_rate' AND c.outcome = 'course_mark'
       GROUP BY ALL HAVING count(*) = 1`,
      [TENANT, school],
    );
    expect(rows.length, 'one grade band at the school').toBe(1);
    const e = pearson(xs, ys);
    expect(rows[0]!.n).toBe(e.n);
    expect(Math.abs(rows[0]!.r - e.r)).toBeLessThan(1e-9);
    expect(Math.abs(rows[0]!.r_ci_low - e.low)).toBeLessThan(1e-9);
    expect(Math.abs(rows[0]!.r_ci_high - e.high)).toBeLessThan(1e-9);
  });

  it('predictions calibrated on the prior year correlate with the hidden end-of-year scores', async () => {
    const seeds = path.join(root, 'seeds');
    cpSync(DEFAULT_SEEDS_DIR, seeds, { recursive: true });
    const report = await calibrateLake(path.join(root, 'lake'), { seedsDir: seeds, version: 'cal-e2e' });
    expect(report.links.filter((l) => l.origin === 'fitted').length).toBeGreaterThan(0);
    for (const l of report.links.filter((x) => x.origin === 'fitted')) {
      expect(l.r2).toBeGreaterThan(0);
      expect(l.rmse).toBeGreaterThan(0);
    }
    // rebuild the predictions with the new version (in memory, over the lake's refined tables)
    const mem = await Db.open(':memory:');
    await mem.run(`ATTACH ${literal(path.join(root, 'lake', 'work.duckdb'))} AS w (READ_ONLY)`);
    await mem.run('CREATE SCHEMA refined');
    for (const { t } of await mem.all<{ t: string }>(`SELECT table_name AS t FROM duckdb_tables() WHERE database_name = 'w' AND schema_name = 'refined'`)) {
      await mem.run(`CREATE VIEW refined."${t}" AS SELECT * FROM w.refined."${t}"`);
    }
    await runModels(mem, { seedsDir: seeds, select: ['fct_predictions'], skipTests: true });
    const preds = await mem.all<{ student_key: string; subject: string; predicted_scale_score: number; model_version: string }>(
      `SELECT student_key, subject, predicted_scale_score, model_version FROM marts.fct_predictions WHERE tenant = $1`,
      [TENANT],
    );
    mem.close();
    const [head, ...rows] = parseCsv(readFileSync(path.join(out, 'truth', 'students.csv'), 'utf8')).filter((r) => r.length > 1);
    const col = (n: string) => head!.indexOf(n);
    const hidden = new Map(rows.map((r) => [key(r[col('local_id')]!), r]));
    for (const [subject, field] of [['ELA', 'eoy_ela_scale'], ['Math', 'eoy_math_scale']] as const) {
      const xs: number[] = [];
      const ys: number[] = [];
      for (const p of preds.filter((x) => x.subject === subject)) {
        expect(p.model_version).toBe('cal-e2e');
        const v = hidden.get(p.student_key)?.[col(field)];
        if (!v) continue;
        xs.push(p.predicted_scale_score);
        ys.push(Number(v));
      }
      expect(xs.length).toBeGreaterThan(50);
      expect(pearson(xs, ys).r, subject).toBeGreaterThanOrEqual(0.7);
    }
  });
});
