/**
 * The oracle: the marts' numbers computed in TypeScript straight from the hand-made district's
 * declarations (tests/marts/district.ts) and ../shared/DOMAIN.md's rules, without any of the SQL.
 */
import { readFileSync } from 'node:fs';
import { DEFAULT_SEEDS_DIR } from '../../seeds/load.ts';
import { type District, S1, S2, calendar, instructionalDay } from './district.ts';

/** DOMAIN.md: Instructional day and Make-up day count; holidays and teacher work days do not (SIS codes per docs/formats). */
const INSTRUCTIONAL = new Set(['instructional day', 'make-up day', 'ins', 'mud']);
/** DOMAIN.md absent fractions; SIS short codes per docs/formats (E, I, U absent; T, L present; H partial). ZZ is unmapped: 0. */
const FRACTION: Record<string, number> = {
  'excused absence': 1,
  'unexcused absence': 1,
  e: 1,
  i: 1,
  u: 1,
  t: 0,
  tardy: 0,
  h: 0.5,
  partial: 0.5,
  zz: 0,
};
const code = (v: string) => (v.includes('#') ? v.slice(v.indexOf('#') + 1) : v).trim().toLowerCase();

/** Attendance Works tiers (DOMAIN.md). */
export function tierOf(absence: number): { code: string; severity: number } {
  if (absence < 0.05) return { code: 'satisfactory', severity: 1 };
  if (absence < 0.1) return { code: 'at_risk', severity: 2 };
  if (absence < 0.2) return { code: 'moderate_chronic', severity: 3 };
  return { code: 'severe_chronic', severity: 4 };
}
/** California Dashboard definition (DOMAIN.md), the active one. */
export const CHRONIC = { minAbsence: 0.1, minDays: 31 };
export const WINDOW = 30;
export const TREND_TOLERANCE = 0.01;

export interface DayRow {
  student: string;
  school: string;
  date: string;
  fraction: number;
}

export interface AttendanceFacts {
  asOf: string;
  through: Map<string, string>;
  days: DayRow[];
}

export function attendanceFacts(d: District): AttendanceFacts {
  const through = new Map<string, string>();
  for (const e of d.events) if ((through.get(e.school) ?? '') < e.date) through.set(e.school, e.date);
  const asOf = [...through.values()].sort().at(-1)!;
  const counted = new Map<string, Set<string>>();
  for (const s of [S1, S2]) {
    const t = through.get(s) ?? asOf;
    counted.set(s, new Set(calendar(s).filter((c) => INSTRUCTIONAL.has(code(c.event)) && c.date <= t).map((c) => c.date)));
  }
  // candidate (school, date) per student; a date goes to the enrollment with the latest entry
  const chosen = new Map<string, { school: string; entry: string }>();
  for (const e of d.enrollments) {
    for (const date of counted.get(e.school)!) {
      if (date < e.entry || (e.exit !== null && date > e.exit)) continue;
      const k = `${e.student}|${date}`;
      const prev = chosen.get(k);
      if (!prev || e.entry > prev.entry || (e.entry === prev.entry && e.school < prev.school)) chosen.set(k, { school: e.school, entry: e.entry });
    }
  }
  const days: DayRow[] = [];
  for (const [k, v] of chosen) {
    const [student, date] = k.split('|') as [string, string];
    const fr = d.events.filter((e) => e.student === student && e.school === v.school && e.date === date).map((e) => FRACTION[code(e.code)] ?? 0);
    days.push({ student, school: v.school, date, fraction: Math.min(1, Math.max(0, ...fr, 0)) });
  }
  days.sort((a, b) => (a.student === b.student ? a.date.localeCompare(b.date) : a.student.localeCompare(b.student)));
  return { asOf, through, days };
}

export interface StudentAttendance {
  student: string;
  school: string;
  daysEnrolled: number;
  daysAbsent: number;
  absenceRate: number;
  attendanceRate: number;
  absenceRate30: number;
  streak: number;
  /** NULL before the student's first counted day. */
  tier: string | null;
  severity: number | null;
  chronic: boolean;
  trend: string;
  projected: number;
}

/** One row per currently enrolled student, as v_chronic_absenteeism_risk must give it. */
export function chronicRisk(d: District): Map<string, StudentAttendance> {
  const f = attendanceFacts(d);
  const out = new Map<string, StudentAttendance>();
  for (const s of d.students) {
    const ens = d.enrollments.filter((e) => e.student === s.name).sort((a, b) => a.entry.localeCompare(b.entry));
    const cur = ens.at(-1)!;
    if (!(cur.entry <= f.asOf && (cur.exit === null || cur.exit >= f.asOf))) continue;
    const days = f.days.filter((x) => x.student === s.name);
    const n = days.length;
    const absent = days.reduce((a, x) => a + x.fraction, 0);
    const last = days.slice(-WINDOW);
    const abs30 = last.reduce((a, x) => a + x.fraction, 0) / last.length;
    let streak = 0;
    let run = 0;
    for (const x of days) {
      run = x.fraction >= 1 ? run + 1 : 0;
      streak = Math.max(streak, run);
    }
    const rate = absent / n;
    const t = n === 0 ? { code: null, severity: null } : tierOf(rate);
    const schoolThrough = f.through.get(cur.school) ?? f.asOf;
    const remaining = calendar(cur.school).filter((c) => INSTRUCTIONAL.has(code(c.event)) && c.date > schoolThrough).length;
    out.set(s.name, {
      student: s.name,
      school: cur.school,
      daysEnrolled: n,
      daysAbsent: absent,
      absenceRate: rate,
      attendanceRate: 1 - rate,
      absenceRate30: abs30,
      streak,
      tier: t.code,
      severity: t.severity,
      chronic: n >= CHRONIC.minDays && rate >= CHRONIC.minAbsence,
      trend: abs30 > rate + TREND_TOLERANCE ? 'worsening' : abs30 < rate - TREND_TOLERANCE ? 'improving' : 'stable',
      projected: (absent + abs30 * remaining) / (n + remaining),
    });
  }
  return out;
}

/** Students of a group (California reporting groups; only those the fixture uses). */
export function inGroup(d: District, student: string, group: string): boolean {
  const s = d.students.find((x) => x.name === student)!;
  if (group === 'ALL') return true;
  if (group === 'SED') return s.programs.includes('SED');
  if (group === 'EL') return s.lep === 'EL';
  throw new Error(`oracle: group ${group} not modelled`);
}

export interface EquityRow {
  students: number;
  attendanceRate: number;
  chronicRate: number | null;
  suspensionRate: number;
}

/** An equity row: scope 'school' counts the school's own days, 'district' the student across schools. */
export function equityRow(d: District, scope: { school: string } | 'district', group: string): EquityRow {
  const f = attendanceFacts(d);
  const per = new Map<string, { n: number; a: number }>();
  for (const x of f.days) {
    if (scope !== 'district' && x.school !== scope.school) continue;
    const p = per.get(x.student) ?? { n: 0, a: 0 };
    p.n += 1;
    p.a += x.fraction;
    per.set(x.student, p);
  }
  const members = [...per.keys()].filter((s) => inGroup(d, s, group));
  const n = members.reduce((a, s) => a + per.get(s)!.n, 0);
  const a = members.reduce((acc, s) => acc + per.get(s)!.a, 0);
  const denom = members.filter((s) => per.get(s)!.n >= CHRONIC.minDays);
  const chronic = denom.filter((s) => per.get(s)!.a / per.get(s)!.n >= CHRONIC.minAbsence);
  const suspended = new Set(d.actions.filter((x) => /oss|iss|suspension/i.test(code(x.code))).map((x) => x.student));
  return {
    students: members.length,
    attendanceRate: 1 - a / n,
    chronicRate: denom.length === 0 ? null : chronic.length / denom.length,
    suspensionRate: members.filter((s) => suspended.has(s)).length / members.length,
  };
}

/** DOMAIN.md letter convention. */
const LETTER: Record<string, number> = { a: 95, b: 85, c: 75, d: 65, f: 55 };
const PERIOD_ORDER: Record<string, number> = { q1: 1, s1: 2, 'first quarter': 1 };

/** Latest mark of each student in each section. */
export function latestMarks(d: District): Map<string, number> {
  const best = new Map<string, { order: number; mark: number }>();
  for (const m of d.marks) {
    const order = PERIOD_ORDER[code(m.period)]!;
    const mark = m.numeric ?? LETTER[m.letter!.toLowerCase()]!;
    const k = `${m.student}|${m.section}`;
    const prev = best.get(k);
    if (!prev || order > prev.order) best.set(k, { order, mark });
  }
  return new Map([...best].map(([k, v]) => [k, v.mark]));
}

const mean = (xs: number[]) => xs.reduce((a, x) => a + x, 0) / xs.length;

export interface SectionMeasure {
  value: number;
  peerMean: number;
  z: number;
}

/**
 * A section's measure beside the other sections of its course (leave-one-out mean), standardized
 * by the between-section SD pooled over every course with two or more sections.
 */
export function sectionComparison(d: District, section: string, measure: 'mean_course_mark' | 'lms_submission_rate'): SectionMeasure & { students: number } {
  const marks = latestMarks(d);
  const value = (sec: string): number | null => {
    const members = d.memberships.filter((m) => m.section === sec).map((m) => m.student);
    if (measure === 'mean_course_mark') return mean(members.map((s) => marks.get(`${s}|${sec}`)!));
    // submissions whose status says whether they were made (Canvas's 'graded' is on time); any other
    // status leaves the submission out of the rate
    const known = ['on_time', 'late', 'missing', 'graded'];
    const subs = d.submissions.filter((x) => x.section === sec && members.includes(x.student) && known.includes(x.status));
    return subs.length === 0 ? null : subs.filter((x) => x.status !== 'missing').length / subs.length;
  };
  let ss = 0;
  let df = 0;
  for (const course of new Set(d.sections.map((s) => s.course))) {
    const xs = d.sections.filter((s) => s.course === course).map((s) => value(s.id)).filter((x): x is number => x !== null);
    if (xs.length < 2) continue;
    const m = mean(xs);
    ss += xs.reduce((a, x) => a + (x - m) ** 2, 0);
    df += xs.length - 1;
  }
  const pooled = Math.sqrt(ss / df);
  const course = d.sections.find((s) => s.id === section)!.course;
  const peers = d.sections.filter((s) => s.course === course && s.id !== section).map((s) => value(s.id)).filter((x): x is number => x !== null);
  const v = value(section)!;
  const peerMean = mean(peers);
  return { value: v, peerMean, z: (v - peerMean) / (pooled * Math.sqrt(1 + 1 / peers.length)), students: d.memberships.filter((m) => m.section === section).length };
}

export interface Correlation {
  n: number;
  r: number;
  low: number;
  high: number;
  slope: number;
}

export function pearson(xs: number[], ys: number[]): Correlation {
  const n = xs.length;
  const mx = mean(xs);
  const my = mean(ys);
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let k = 0; k < n; k++) {
    sxy += (xs[k]! - mx) * (ys[k]! - my);
    sxx += (xs[k]! - mx) ** 2;
    syy += (ys[k]! - my) ** 2;
  }
  const r = sxy / Math.sqrt(sxx * syy);
  const z = Math.atanh(r);
  const h = 1.959963984540054 / Math.sqrt(n - 3);
  return { n, r, low: Math.tanh(z - h), high: Math.tanh(z + h), slope: sxy / sxx };
}

/** Attendance rate (x) against mean latest course mark (y) for the enrolled students of a school. */
export function attendanceMarkCorrelation(d: District, school: string): Correlation {
  const risk = chronicRisk(d);
  const marks = latestMarks(d);
  const xs: number[] = [];
  const ys: number[] = [];
  for (const [s, r] of risk) {
    if (r.school !== school) continue;
    const own = [...marks].filter(([k]) => k.startsWith(`${s}|`)).map(([, v]) => v);
    if (own.length === 0) continue;
    xs.push(r.attendanceRate);
    ys.push(mean(own));
  }
  return pearson(xs, ys);
}

function csv(name: string): Array<Record<string, string>> {
  const [head, ...rows] = readFileSync(`${DEFAULT_SEEDS_DIR}/${name}.csv`, 'utf8').trim().split('\n');
  const cols = head!.split(',');
  return rows.map((r) => Object.fromEntries(r.split(',').map((v, k) => [cols[k]!, v])));
}

/** Standard normal CDF by Simpson integration of the density (independent of the SQL's erf approximation). */
export function normalCdf(x: number): number {
  const a = -10;
  const steps = 20000;
  const h = (x - a) / steps;
  const pdf = (t: number) => Math.exp((-t * t) / 2) / Math.sqrt(2 * Math.PI);
  let s = pdf(a) + pdf(x);
  for (let k = 1; k < steps; k++) s += (k % 2 === 1 ? 4 : 2) * pdf(a + k * h);
  return (s * h) / 3;
}

/** DOMAIN.md thresholds, grade 7 (Math L2, L3, L4; ELA L2, L3, L4). */
const G7 = { Math: [2484, 2567, 2635], ELA: [2479, 2552, 2649] };

export interface Prediction {
  predicted: number;
  se: number;
  level: number;
  pMet: number;
  model: string;
}

/** The math prediction of a grade-7 student, from the seeds' active version (read from the CSVs). */
export function mathPrediction(d: District, student: string): Prediction {
  const model = csv('prediction_models').find((m) => m['is_active'] === 'true')!['model_version']!;
  const p = csv('prediction_parameters').find((x) => x['model_version'] === model && x['subject'] === 'Math' && x['grade'] === '7')!;
  const interim = d.results.filter((r) => r.student === student && r.assessment === 'MAP-MATH').sort((a, b) => a.date.localeCompare(b.date)).at(-1)!;
  const links = csv('interim_linking').filter((l) => l['model_version'] === model && l['vendor'] === 'nwea_map' && l['subject'] === 'Math' && l['grade'] === '7');
  const link = links.find((l) => l['testing_window'] === interim.window) ?? links.find((l) => l['testing_window'] === '')!;
  const prior = d.results.find((r) => r.student === student && r.assessment === 'SBAC-MATH');
  const first = instructionalDay(1);
  const days = calendar(S1).filter((c) => INSTRUCTIONAL.has(code(c.event)));
  const lastDay = days.at(-1)!.date;
  const dd = (a: string, b: string) => (Date.parse(`${b}T00:00:00Z`) - Date.parse(`${a}T00:00:00Z`)) / 86400000;
  const elapsed = dd(first, interim.date) / dd(first, lastDay);
  const linked = Number(link['slope']) * interim.score + Number(link['intercept']);
  const g = Number(p['growth_per_year']);
  const w = Number(p['w_interim']);
  const estI = linked + g * (1 - elapsed);
  const predicted = prior ? w * estI + (1 - w) * (prior.score + g) : estI;
  const se = Number(prior ? p['se_with_prior'] : p['se_interim_only']);
  const level = 1 + G7.Math.filter((t) => t <= predicted).length;
  return { predicted, se, level, pMet: normalCdf((predicted - G7.Math[1]!) / se), model };
}
