/**
 * `sis`: the district SIS exports OneRoster does not carry (layouts in docs/formats/README.md):
 * students, school enrolment spans, program participation, calendar, daily attendance,
 * discipline incidents and actions, course marks.
 */
import { CsvFile, type Layout, type ColumnSpec } from '../writer.ts';
import { type Gen, rel, identity, clamp } from '../gen.ts';
import { FLAG, sisGrade, type Section, type School } from '../district.ts';
import { hashKey, u01, h32, normalInv } from '../rng.ts';
import { letterOf } from '../model.ts';
import { marksDeliveryIdx, dayToIso } from '../calendar.ts';

function col(name: string, extra: Partial<ColumnSpec> = {}): ColumnSpec {
  return { name, ...extra };
}

export const SIS_STUDENTS: Layout = {
  source: 'sis',
  kind: 'students',
  district: true,
  columns: [
    col('student_id', { role: 'student' }),
    col('state_student_id', { alias: 'ssid' }),
    col('last_name', { role: 'required' }),
    col('first_name', { role: 'required' }),
    col('middle_name'),
    col('birth_date', { role: 'date' }),
    col('gender'),
    col('grade_level', { role: 'required' }),
    col('hispanic_latino'),
    col('race_code_1'),
    col('race_code_2'),
    col('race_code_3'),
    col('home_language_code'),
    col('el_status'),
    col('parent_ed_level'),
  ],
  key: [0],
  defects: ['invalid_date', 'missing_required', 'ragged_row'],
};

export const SIS_ENROLLMENT: Layout = {
  source: 'sis',
  kind: 'school_enrollment',
  district: true,
  columns: [
    col('student_id', { role: 'student' }),
    col('school_code', { role: 'required' }),
    col('grade_level'),
    col('entry_date', { role: 'date' }),
    col('entry_code'),
    col('exit_date', { role: 'date' }),
    col('exit_code'),
  ],
  key: [0, 1, 3],
  defects: ['unknown_student', 'invalid_date', 'missing_required', 'ragged_row'],
};

export const SIS_PROGRAMS: Layout = {
  source: 'sis',
  kind: 'program_participation',
  district: true,
  columns: [
    col('student_id', { role: 'student' }),
    col('program_code', { role: 'required' }),
    col('program_name'),
    col('start_date', { role: 'date' }),
    col('end_date', { role: 'date' }),
  ],
  key: [0, 1, 3],
  defects: ['unknown_student', 'invalid_date', 'missing_required', 'ragged_row'],
};

export const SIS_CALENDAR: Layout = {
  source: 'sis',
  kind: 'calendar',
  district: true,
  columns: [col('school_code', { role: 'required' }), col('calendar_date', { role: 'date' }), col('day_type_code', { role: 'required' }), col('description')],
  key: [0, 1],
  defects: ['invalid_date', 'missing_required', 'ragged_row'],
};

function attendanceLayout(withMinutes: boolean): Layout {
  const columns = [
    col('student_id', { role: 'student' }),
    col('school_code', { role: 'required' }),
    col('attendance_date', { role: 'date', alias: 'date' }),
    col('attendance_code', { role: 'required', alias: 'att_code' }),
  ];
  if (withMinutes) columns.push(col('minutes_missed', { role: 'score', min: 0, max: 420 }));
  return {
    source: 'sis',
    kind: withMinutes ? 'attendance_v2' : 'attendance',
    district: true,
    columns,
    key: [0, 1, 2],
    dupField: 3,
    dupValues: ['E', 'U', 'T', 'I'],
    defects: ['unknown_student', 'invalid_date', 'out_of_range', 'missing_required', 'ragged_row', 'conflicting_duplicate'],
  };
}
export const SIS_ATTENDANCE_V1 = attendanceLayout(false);
export const SIS_ATTENDANCE_V2 = attendanceLayout(true);

export const SIS_INCIDENTS: Layout = {
  source: 'sis',
  kind: 'discipline_incidents',
  district: true,
  columns: [
    col('incident_id', { role: 'required' }),
    col('school_code', { role: 'required' }),
    col('incident_date', { role: 'date' }),
    col('incident_time'),
    col('location_code'),
    col('behavior_code', { role: 'required' }),
    col('behavior_description'),
    col('state_reportable'),
    col('reported_by_staff_id'),
  ],
  key: [0],
  defects: ['invalid_date', 'missing_required', 'ragged_row'],
};

export const SIS_ACTIONS: Layout = {
  source: 'sis',
  kind: 'discipline_actions',
  district: true,
  columns: [
    col('action_id', { role: 'required' }),
    col('incident_id', { role: 'required' }),
    col('student_id', { role: 'student' }),
    col('action_code', { role: 'required' }),
    col('action_start_date', { role: 'date' }),
    col('duration_days', { role: 'score', min: 0, max: 20 }),
  ],
  key: [0],
  defects: ['unknown_student', 'invalid_date', 'out_of_range', 'missing_required', 'ragged_row'],
};

export const SIS_MARKS: Layout = {
  source: 'sis',
  kind: 'course_marks',
  district: true,
  columns: [
    col('student_id', { role: 'student' }),
    col('school_code', { role: 'required' }),
    col('section_id', { role: 'required' }),
    col('course_code'),
    col('grading_period', { role: 'required' }),
    col('mark', { role: 'required' }),
    col('percent', { role: 'score', min: 0, max: 100 }),
    col('teacher_id'),
    col('posted_date', { role: 'date' }),
  ],
  key: [0, 2, 4],
  dupField: 5,
  dupValues: ['A', 'B', 'C', 'D', 'F'],
  defects: ['unknown_student', 'invalid_date', 'out_of_range', 'missing_required', 'ragged_row', 'conflicting_duplicate'],
};

export const PROGRAM_NAMES: Record<string, string> = {
  SPED: 'Special Education',
  EL: 'English Learner Program',
  '504': 'Section 504 Plan',
  SED: 'Socioeconomically Disadvantaged',
  FOSTER: 'Foster Youth',
  HOMELESS: 'Homeless (McKinney-Vento)',
};
const PROGRAM_BITS = FLAG.SWD | FLAG.EL | FLAG.S504 | FLAG.SED | FLAG.FOSTER | FLAG.HOMELESS;
const PROGRAM_FLAGS: Array<[string, number]> = [
  ['SPED', FLAG.SWD],
  ['EL', FLAG.EL],
  ['504', FLAG.S504],
  ['SED', FLAG.SED],
  ['FOSTER', FLAG.FOSTER],
  ['HOMELESS', FLAG.HOMELESS],
];

export const BEHAVIORS: Array<{ code: string; desc: string; reportable: boolean; weight: number; secondaryOnly?: boolean }> = [
  { code: 'DISRUPT', desc: 'Disruption or defiance', reportable: false, weight: 30 },
  { code: 'LANG', desc: 'Inappropriate language', reportable: false, weight: 12 },
  { code: 'TECH', desc: 'Device misuse', reportable: false, weight: 12 },
  { code: 'DRESS', desc: 'Dress code violation', reportable: false, weight: 5 },
  { code: 'FIGHT', desc: 'Fighting, physical injury', reportable: true, weight: 15 },
  { code: 'HARASS', desc: 'Harassment or bullying', reportable: true, weight: 8 },
  { code: 'TOBACCO', desc: 'Tobacco or vaping', reportable: true, weight: 7, secondaryOnly: true },
  { code: 'THEFT', desc: 'Theft', reportable: true, weight: 5 },
  { code: 'DRUG', desc: 'Controlled substance', reportable: true, weight: 4, secondaryOnly: true },
  { code: 'WEAPON', desc: 'Possession of a weapon', reportable: true, weight: 1 },
];
const BEHAVIOR_TOTAL = BEHAVIORS.reduce((a, b) => a + b.weight, 0);
const LOCATIONS = ['CLS', 'CLS', 'CLS', 'HALL', 'CAF', 'PLAY', 'BUS', 'OFF'];

function entryCode(g: Gen, i: number): string {
  const d = g.d;
  if ((d.entry[i] as number) > 0) return h32(d.seed, i, 31) % 10 < 3 ? 'E1' : 'E2';
  const gr = d.grade[i] as number;
  return gr <= 0 || gr === 6 || gr === 9 ? 'E2' : 'E3';
}
function exitCode(g: Gen, i: number): string {
  const v = h32(g.d.seed, i, 37) % 10;
  return v < 6 ? 'T160' : v < 8 ? 'T200' : 'T370';
}

/** Enrolment spans of a student known on a given instructional day (entries and exits up to it). */
function spans(g: Gen, i: number, asOf: number): Array<{ school: School; entry: number; entryCode: string; exit: number | null; exitCode: string }> {
  const d = g.d;
  const days = g.cal.instructionalDays;
  const out: Array<{ school: School; entry: number; entryCode: string; exit: number | null; exitCode: string }> = [];
  const e = d.entry[i] as number;
  if (e > asOf) return out;
  const tr = d.trDay[i] as number;
  const ex = d.exit[i] as number;
  const first = { school: d.schools[d.school[i] as number] as School, entry: days[e] as number, entryCode: entryCode(g, i), exit: null as number | null, exitCode: '' };
  if (ex >= 0 && ex <= asOf) {
    first.exit = days[ex] as number;
    first.exitCode = exitCode(g, i);
  }
  if (tr >= 0 && tr <= asOf) {
    first.exit = days[tr - 1] as number;
    first.exitCode = 'T165';
  }
  out.push(first);
  if (tr >= 0 && tr <= asOf) out.push({ school: d.schools[d.trSchool[i] as number] as School, entry: days[tr] as number, entryCode: 'E3', exit: null, exitCode: '' });
  return out;
}

function studentRow(g: Gen, f: CsvFile, i: number): string[] {
  const d = g.d;
  const det = d.detail(i);
  const fl = d.flags[i] as number;
  return [
    d.localIdOf(i),
    d.ssidOf(i),
    det.last,
    det.first,
    det.middle,
    f.date(det.birthDay),
    det.sex,
    sisGrade(d.grade[i] as number),
    fl & FLAG.HISPANIC ? 'Y' : 'N',
    det.raceCodes[0] ?? '',
    det.raceCodes[1] ?? '',
    det.raceCodes[2] ?? '',
    det.homeLanguage,
    det.elStatus,
    det.parentEd,
  ];
}

function programRows(g: Gen, f: CsvFile, i: number, startDay: number): string[][] {
  const d = g.d;
  const fl = d.flags[i] as number;
  const rows: string[][] = [];
  const fallJuly1 = Math.floor(Date.UTC(g.cal.schoolYear - 1, 6, 1) / 86_400_000);
  for (const [code, bit] of PROGRAM_FLAGS) {
    if ((fl & bit) === 0) continue;
    // programs that began before this year keep their original start date
    let start: number;
    if (code === 'SED') start = Math.max(fallJuly1, startDay);
    else if ((d.entry[i] as number) > 0) start = startDay;
    else start = fallJuly1 - 30 - (h32(d.seed, i, bit) % 1400);
    rows.push([d.localIdOf(i), code, PROGRAM_NAMES[code] as string, f.date(start), '']);
  }
  return rows;
}

/** Bulk SIS files of the opening delivery (D0, asOf 0) and the spring-term start. */
export async function writeSisBulk(g: Gen, deliveryDay: number, asOf: number, withCalendar: boolean): Promise<void> {
  const d = g.d;
  const st = await CsvFile.open(g.ctx, SIS_STUDENTS, rel('sis', deliveryDay, 'students.csv'), identity('sis', 'students', deliveryDay));
  const en = await CsvFile.open(g.ctx, SIS_ENROLLMENT, rel('sis', deliveryDay, 'school_enrollment.csv'), identity('sis', 'school_enrollment', deliveryDay));
  const pr = await CsvFile.open(g.ctx, SIS_PROGRAMS, rel('sis', deliveryDay, 'program_participation.csv'), identity('sis', 'program_participation', deliveryDay));
  const days = g.cal.instructionalDays;
  for (let i = 0; i < d.n; i++) {
    const sp = spans(g, i, asOf);
    if (sp.length === 0) continue;
    if (st.row(studentRow(g, st, i))) await st.flush();
    for (const s of sp) {
      if (en.row([d.localIdOf(i), s.school.code, sisGrade(d.grade[i] as number), en.date(s.entry), s.entryCode, s.exit === null ? '' : en.date(s.exit), s.exitCode])) await en.flush();
    }
    for (const r of programRows(g, pr, i, days[d.entry[i] as number] as number)) if (pr.row(r)) await pr.flush();
  }
  await st.close();
  await en.close();
  await pr.close();
  if (withCalendar) await writeCalendar(g, deliveryDay);
}

async function writeCalendar(g: Gen, deliveryDay: number): Promise<void> {
  const f = await CsvFile.open(g.ctx, SIS_CALENDAR, rel('sis', deliveryDay, 'calendar.csv'), identity('sis', 'calendar', deliveryDay));
  for (const sc of g.d.schools) {
    for (const day of g.cal.days) await f.add([sc.code, f.date(day.day), day.type, day.description]);
  }
  await f.close();
}

/** Nightly enrolment changes (entries, exits, transfers of that instructional day). */
export async function writeSisChanges(g: Gen, dayIdx: number): Promise<void> {
  const d = g.d;
  const day = g.cal.instructionalDays[dayIdx] as number;
  const ent = g.entrants[dayIdx] as number[];
  const lv = g.leavers[dayIdx] as number[];
  const tr = g.transfers[dayIdx] as number[];
  if (ent.length + lv.length + tr.length === 0) return;
  const changed = [...ent, ...lv, ...tr].sort((a, b) => a - b);
  const en = await CsvFile.open(g.ctx, SIS_ENROLLMENT, rel('sis', day, 'school_enrollment.csv'), identity('sis', 'school_enrollment', day));
  for (const i of changed) {
    for (const s of spans(g, i, dayIdx)) {
      const isChange = s.entry === day || s.exit === day || (s.exitCode === 'T165' && (d.trDay[i] as number) === dayIdx);
      if (!isChange) continue;
      await en.add([d.localIdOf(i), s.school.code, sisGrade(d.grade[i] as number), en.date(s.entry), s.entryCode, s.exit === null ? '' : en.date(s.exit), s.exitCode]);
    }
  }
  await en.close();
  if (ent.length > 0) {
    const st = await CsvFile.open(g.ctx, SIS_STUDENTS, rel('sis', day, 'students.csv'), identity('sis', 'students', day));
    for (const i of ent) await st.add(studentRow(g, st, i));
    await st.close();
    // only when a new student takes part in a program (no header-only files)
    if (ent.some((i) => ((d.flags[i] as number) & PROGRAM_BITS) !== 0)) {
      const pr = await CsvFile.open(g.ctx, SIS_PROGRAMS, rel('sis', day, 'program_participation.csv'), identity('sis', 'program_participation', day));
      for (const i of ent) for (const r of programRows(g, pr, i, day)) await pr.add(r);
      await pr.close();
    }
  }
}

/**
 * The attendance code of a student on a day ('' = present all day) from their absence propensity,
 * the day's and teacher's multiplier and a uniform draw: absences (E, I, U, H partial) with
 * probability p, tardies and early departures (T, L) with a smaller probability after that.
 */
export function attendanceCode(absProp: number, multiplier: number, u: number): string {
  const p = absProp * multiplier;
  if (u < p) {
    const v = u / p;
    return v < 0.08 ? 'H' : v < 0.3 ? 'I' : v < 0.55 ? 'E' : 'U';
  }
  const pT = 0.012 + 0.25 * absProp;
  if (u < p + pT) return (u - p) / pT < 0.8 ? 'T' : 'L';
  return '';
}

export function attendanceMinutes(code: string, mu: number): number {
  switch (code) {
    case 'H':
      return 150 + Math.floor(mu * 60);
    case 'T':
      return 5 + Math.floor(mu * 40);
    case 'L':
      return 30 + Math.floor(mu * 120);
    default:
      return 360;
  }
}

/** Day factor of absence: Mondays and Fridays, December, the first week. */
export function dayFactor(g: Gen, dayIdx: number): number {
  const day = g.cal.instructionalDays[dayIdx] as number;
  const wd = (day + 4) % 7;
  let f = wd === 1 || wd === 5 ? 1.15 : 0.92;
  const month = new Date(day * 86_400_000).getUTCMonth();
  if (month === 11 || month === 1) f *= 1.15;
  if (dayIdx < 5) f *= 0.8;
  return f;
}

/**
 * One instructional day: the attendance file (absences and tardies only) and the discipline
 * files. Walks every student once.
 */
export async function writeSisDaily(g: Gen, dayIdx: number, opts: { resendOn?: number } = {}): Promise<void> {
  const d = g.d;
  const cal = g.cal;
  const day = cal.instructionalDays[dayIdx] as number;
  const withMinutes = g.ctx.messiness === 'none' || day >= cal.minutesColumnFrom;
  const layout = withMinutes ? SIS_ATTENDANCE_V2 : SIS_ATTENDANCE_V1;
  const original = rel('sis', day, 'attendance.csv');
  const resend = opts.resendOn;
  const target = resend === undefined ? original : rel('sis', resend, `attendance_${dayToIso(day).replace(/-/g, '')}.csv`);
  const att = await CsvFile.open(g.ctx, layout, target, identity('sis', 'attendance', day), { recordDefects: resend === undefined });
  const dateStr = att.date(day);
  const kAtt = hashKey(d.seed, 'attendance', dayIdx);
  const kDisc = hashKey(d.seed, 'discipline', dayIdx);
  const kMin = hashKey(d.seed, 'minutes', dayIdx);
  const fac = dayFactor(g, dayIdx);
  const incidents: Array<{ i: number; s: number; partner: number }> = [];
  for (let i = 0; i < d.n; i++) {
    const s = d.schoolOn(i, dayIdx);
    if (s < 0) continue;
    const eff = s === d.school[i] ? (g.attEff[i] as number) : (g.attEffTr[i] as number);
    const code = attendanceCode(d.absProp[i] as number, eff * fac, u01(kAtt, i, 0));
    if (code !== '') {
      const minutes = attendanceMinutes(code, u01(kMin, i, 0));
      const sc = d.schools[s] as School;
      const row = withMinutes ? [d.localIdOf(i), sc.code, dateStr, code, String(minutes)] : [d.localIdOf(i), sc.code, dateStr, code];
      if (att.row(row)) await att.flush();
    }
    if (code !== 'E' && code !== 'I' && code !== 'U' && u01(kDisc, i, 0) < (d.discProp[i] as number)) {
      const partner = i + 1 < d.n && d.schoolOn(i + 1, dayIdx) === s ? i + 1 : -1;
      incidents.push({ i, s, partner });
    }
  }
  await att.close();
  if (resend !== undefined) {
    g.ctx.defects.push({ source: 'sis', file: att.rel, row: null, field: '', reason: 'duplicate_file', detail: original });
    return;
  }
  if (incidents.length > 0) await writeDiscipline(g, dayIdx, incidents);
}

async function writeDiscipline(g: Gen, dayIdx: number, incidents: Array<{ i: number; s: number; partner: number }>): Promise<void> {
  const d = g.d;
  const day = g.cal.instructionalDays[dayIdx] as number;
  const inc = await CsvFile.open(g.ctx, SIS_INCIDENTS, rel('sis', day, 'discipline_incidents.csv'), identity('sis', 'discipline_incidents', day));
  const act = await CsvFile.open(g.ctx, SIS_ACTIONS, rel('sis', day, 'discipline_actions.csv'), identity('sis', 'discipline_actions', day));
  const ymd = inc.date(day);
  const compact = new Date(day * 86_400_000).toISOString().slice(0, 10).replace(/-/g, '');
  let seq = 0;
  for (const { i, s, partner } of incidents) {
    const sc = d.schools[s] as School;
    const key = hashKey(d.seed, 'incident', dayIdx, i);
    let u = (key % 100000) / 100000;
    let b = BEHAVIORS[0] as (typeof BEHAVIORS)[number];
    let acc = 0;
    for (const x of BEHAVIORS) {
      acc += x.weight / BEHAVIOR_TOTAL;
      if (u < acc) {
        b = x;
        break;
      }
    }
    if (b.secondaryOnly && sc.level === 'E') b = BEHAVIORS[0] as (typeof BEHAVIORS)[number];
    seq++;
    const incidentId = `${sc.code}-${compact}-${String(seq).padStart(3, '0')}`;
    const minute = 8 * 60 + ((key >>> 8) % 420);
    const time = `${String(Math.floor(minute / 60)).padStart(2, '0')}:${String(minute % 60).padStart(2, '0')}`;
    const sec0 = d.sectionAt(i, s, 0);
    const reporter = sec0 >= 0 ? (d.staff[(d.sections[sec0] as Section).teacher]?.id ?? '') : '';
    await inc.add([incidentId, sc.code, ymd, time, LOCATIONS[(key >>> 4) % LOCATIONS.length] as string, b.code, b.desc, b.reportable ? 'Y' : 'N', reporter]);
    const people = b.code === 'FIGHT' && partner >= 0 ? [i, partner] : [i];
    let k = 0;
    for (const who of people) {
      k++;
      u = u01(key, who, 3);
      let code: string;
      let days = 0;
      switch (b.code) {
        case 'FIGHT':
          [code, days] = u < 0.6 ? ['OSS', 1 + Math.floor(u * 5)] : ['ISS', 1];
          break;
        case 'WEAPON':
          [code, days] = u < 0.5 ? ['EXPREC', 5] : ['OSS', 5];
          break;
        case 'DRUG':
          [code, days] = ['OSS', 3 + Math.floor(u * 3)];
          break;
        case 'TOBACCO':
          [code, days] = u < 0.5 ? ['ISS', 1] : ['OSS', 1];
          break;
        case 'HARASS':
        case 'THEFT':
          [code, days] = u < 0.5 ? ['OSS', 1 + Math.floor(u * 4)] : ['CONF', 0];
          break;
        case 'DRESS':
          [code, days] = ['WARN', 0];
          break;
        default:
          [code, days] = u < 0.4 ? ['DET', 1] : u < 0.7 ? ['CONF', 0] : ['WARN', 0];
      }
      await act.add([`${incidentId}-${k}`, incidentId, d.localIdOf(who), code, ymd, String(days)]);
    }
  }
  await inc.close();
  await act.close();
}

export const GRADING_PERIODS = ['Q1', 'S1', 'Q3', 'S2'];

/** Course mark percent of a student in a section in a grading period (also used by tests' oracle via truth). */
export function markPercent(g: Gen, i: number, sec: Section, q: number): number {
  const d = g.d;
  const subj = sec.course.subject;
  const abil = subj === 'ela' ? (d.abilE[i] as number) : subj === 'math' ? (d.abilM[i] as number) : ((d.abilE[i] as number) + (d.abilM[i] as number)) / 2;
  const noise = normalInv(u01(hashKey(d.seed, 'mark', q), i, sec.idx));
  const x = 80 + 7.5 * (0.55 * abil + 0.45 * (d.engage[i] as number)) + 6 * sec.markEffect + 4 * noise;
  return Math.round(clamp(x, 0, 100) * 10) / 10;
}

/** Course marks of one grading period (grades 6-12), delivered five instructional days after its end. */
export async function writeMarks(g: Gen, q: number): Promise<void> {
  const d = g.d;
  const cal = g.cal;
  const endIdx = (cal.quarters[q] as [number, number])[1];
  const day = cal.instructionalDays[marksDeliveryIdx(cal, q)] as number;
  const f = await CsvFile.open(g.ctx, SIS_MARKS, rel('sis', day, 'course_marks.csv'), identity('sis', 'course_marks', day));
  const period = GRADING_PERIODS[q] as string;
  const posted = f.date(day);
  for (let i = 0; i < d.n; i++) {
    if ((d.grade[i] as number) < 6) continue;
    const s = d.schoolOn(i, endIdx);
    if (s < 0) continue;
    const sc = d.schools[s] as School;
    for (let slot = 0; slot < 6; slot++) {
      const secIdx = d.sectionAt(i, s, slot);
      if (secIdx < 0) continue;
      const sec = d.sections[secIdx] as Section;
      const pct = markPercent(g, i, sec, q);
      if (f.row([d.localIdOf(i), sc.code, sec.id, sec.course.code, period, letterOf(pct), pct.toFixed(1), d.staff[sec.teacher]?.id ?? '', posted])) await f.flush();
    }
  }
  await f.close();
}
