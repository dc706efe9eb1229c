/**
 * A small hand-made district written straight into the refined tables (the contracts' DDL), for
 * the marts' oracle tests. Every row is plain data declared here; the expected values are computed
 * from the same declarations by tests/marts/oracle.ts, independently of the SQL.
 *
 * Two schools share a calendar of 66 weekdays with a holiday (Ed-Fi URI), a teacher work day
 * (SIS code) and a second holiday. Named students exercise the rules (streaks, partial days, a
 * transfer, overlapping enrollments, a late entry, an exit, unmapped codes, events outside the
 * enrollment window); filler students drawn from a seeded generator give the groups, sections and
 * correlations enough students.
 */
import { createHash } from 'node:crypto';
import { type Db, ident } from '../../src/db/duckdb.ts';
import { refinedDdl } from '../../pipeline/contracts/index.ts';

export const TENANT = 'district';
export const YEAR = 2026;
export const S1 = '6000001';
export const S2 = '6000002';

export const key = (s: string): string => createHash('sha256').update(s).digest('hex');

/** Deterministic PRNG (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function addDays(iso: string, n: number): string {
  const d = new Date(`${iso}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

export interface CalendarDay {
  date: string;
  /** Event code as delivered. */
  event: string;
}

/** 66 weekdays from Tuesday 2025-09-02; three non-instructional days among them. */
export function calendar(school: string): CalendarDay[] {
  const out: CalendarDay[] = [];
  let d = '2025-09-02';
  while (out.length < 66) {
    const wd = new Date(`${d}T00:00:00Z`).getUTCDay();
    if (wd !== 0 && wd !== 6) {
      const k = out.length;
      let event = school === S1 ? 'uri://ed-fi.org/CalendarEventDescriptor#Instructional day' : 'INS';
      if (k === 10) event = 'uri://ed-fi.org/CalendarEventDescriptor#Holiday';
      if (k === 25) event = 'TWD';
      if (k === 40) event = 'Holiday';
      if (k === 55) event = school === S1 ? 'MUD' : 'uri://ed-fi.org/CalendarEventDescriptor#Make-up day';
      out.push({ date: d, event });
    }
    d = addDays(d, 1);
  }
  return out;
}

/** The n-th (1-based) instructional day of the shared calendar. */
export function instructionalDay(n: number): string {
  const days = calendar(S1).filter((c) => !/holiday|twd/i.test(c.event));
  const d = days[n - 1];
  if (!d) throw new Error(`no instructional day ${n}`);
  return d.date;
}

export interface Enrollment {
  student: string;
  school: string;
  entry: string;
  exit: string | null;
  grade: string;
}
export interface AttendanceEvent {
  student: string;
  school: string;
  date: string;
  code: string;
}
export interface Student {
  name: string;
  sex: string;
  hispanic: boolean;
  races: string[];
  programs: string[];
  lep: string | null;
}
export interface Section {
  id: string;
  school: string;
  course: string;
  teacher: string;
}
export interface Membership {
  student: string;
  section: string;
}
export interface Mark {
  student: string;
  section: string;
  period: string;
  numeric: number | null;
  letter: string | null;
}
export interface Submission {
  student: string;
  assignment: string;
  section: string;
  status: string;
}
export interface AssessmentResult {
  student: string;
  assessment: string;
  date: string;
  year: number;
  window: string;
  grade: string;
  score: number;
  level?: string;
}
export interface SurveyAnswer {
  student: string;
  response: string;
  date: string;
  scale: string;
  question: string;
  value: number;
}
export interface Behavior {
  student: string;
  school: string;
  incident: string;
  date: string;
  behavior: string;
}
export interface Action {
  student: string;
  id: string;
  date: string;
  code: string;
}

export interface District {
  students: Student[];
  enrollments: Enrollment[];
  events: AttendanceEvent[];
  sections: Section[];
  memberships: Membership[];
  marks: Mark[];
  submissions: Submission[];
  results: AssessmentResult[];
  survey: SurveyAnswer[];
  behaviors: Behavior[];
  actions: Action[];
}

export const ASSESSMENTS = [
  { id: 'SBAC-ELA', family: 'state', vendor: 'caaspp', subject: 'uri://ed-fi.org/AcademicSubjectDescriptor#English Language Arts' },
  { id: 'SBAC-MATH', family: 'state', vendor: 'caaspp', subject: 'uri://ed-fi.org/AcademicSubjectDescriptor#Mathematics' },
  { id: 'MAP-MATH', family: 'interim', vendor: 'nwea_map', subject: 'Mathematics' },
  { id: 'MAP-READ', family: 'interim', vendor: 'nwea_map', subject: 'Language Arts' },
  { id: 'BESS', family: 'screener', vendor: 'basc3_bess', subject: null },
] as const;

export const COURSES = [
  { code: 'MATH7', subject: 'uri://ed-fi.org/AcademicSubjectDescriptor#Mathematics' },
  { code: 'ELA7', subject: 'English Language Arts' },
  { code: 'SCI7', subject: 'Science' },
];

const ABS_E = 'uri://ed-fi.org/AttendanceEventCategoryDescriptor#Excused Absence';
const ABS_U = 'uri://ed-fi.org/AttendanceEventCategoryDescriptor#unexcused absence';

/** Build the district's rows. `throughDay` cuts attendance events after that instructional day (a second night adds them). */
export function makeDistrict(opts: { throughDay?: number } = {}): District {
  const day = instructionalDay;
  const students: Student[] = [];
  const enrollments: Enrollment[] = [];
  const events: AttendanceEvent[] = [];
  const st = (name: string, extra: Partial<Student> = {}) => {
    students.push({ name, sex: 'F', hispanic: false, races: ['White'], programs: [], lep: null, ...extra });
  };
  // Named students.
  st('A', { races: ['uri://ed-fi.org/RaceDescriptor#Asian'] });
  enrollments.push({ student: 'A', school: S1, entry: day(1), exit: null, grade: 'uri://ed-fi.org/GradeLevelDescriptor#Seventh grade' });
  for (const n of [1, 2, 3]) events.push({ student: 'A', school: S1, date: day(n), code: ABS_E });
  for (const n of [44, 45, 46, 47, 48]) events.push({ student: 'A', school: S1, date: day(n), code: ABS_U });
  events.push({ student: 'A', school: S1, date: day(10), code: 'T' });

  st('B', { sex: 'M', hispanic: true, programs: ['SED'] });
  enrollments.push({ student: 'B', school: S1, entry: day(1), exit: null, grade: 'SEVENTH GRADE' });
  for (const n of [5, 6, 7, 8]) events.push({ student: 'B', school: S1, date: day(n), code: 'H' });
  events.push({ student: 'B', school: S1, date: day(20), code: 'uri://ed-fi.org/AttendanceEventCategoryDescriptor#Partial' });
  for (const n of [21, 22]) events.push({ student: 'B', school: S1, date: day(n), code: 'Tardy' });
  for (const n of [41, 42, 43, 49, 50]) events.push({ student: 'B', school: S1, date: day(n), code: 'U' });

  st('C', { races: ['600'], programs: ['SED', 'SPED'] });
  enrollments.push({ student: 'C', school: S1, entry: day(1), exit: day(20), grade: '07' });
  enrollments.push({ student: 'C', school: S2, entry: day(21), exit: null, grade: '07' });
  for (const n of [2, 4]) events.push({ student: 'C', school: S1, date: day(n), code: 'E' });
  for (const n of [30, 31, 32]) events.push({ student: 'C', school: S2, date: day(n), code: 'U' });

  st('D', { races: ['White', 'Asian'] });
  enrollments.push({ student: 'D', school: S1, entry: day(30), exit: null, grade: '7' });
  for (const n of [31, 32, 33, 34, 35]) events.push({ student: 'D', school: S1, date: day(n), code: 'I' });

  st('E', { lep: 'EL' });
  enrollments.push({ student: 'E', school: S1, entry: day(1), exit: day(15), grade: '7' });
  for (const n of [3, 9]) events.push({ student: 'E', school: S1, date: day(n), code: 'E' });

  st('F', { programs: ['uri://ed-fi.org/ProgramTypeDescriptor#Homeless'] });
  enrollments.push({ student: 'F', school: S1, entry: day(1), exit: null, grade: '7' });
  enrollments.push({ student: 'F', school: S2, entry: day(10), exit: null, grade: '7' });
  for (const n of [5, 12, 49]) events.push({ student: 'F', school: S1, date: day(n), code: 'U' });
  events.push({ student: 'F', school: S2, date: day(12), code: 'E' });

  st('G');
  enrollments.push({ student: 'G', school: S2, entry: day(5), exit: null, grade: '7' });
  events.push({ student: 'G', school: S2, date: calendar(S2)[10]!.date, code: 'U' }); // a holiday: ignored
  events.push({ student: 'G', school: S2, date: day(2), code: 'U' }); // before entry: ignored
  events.push({ student: 'G', school: S2, date: day(6), code: 'ZZ' }); // unmapped: reported, counts 0
  events.push({ student: 'G', school: S2, date: day(7), code: 'E' });

  // Filler students: 44, half at each school, grade 7, drawn from a seeded generator.
  const r = rng(20260301);
  const raceChoices = [['White'], ['uri://ed-fi.org/RaceDescriptor#Asian'], ['600'], ['400'], ['White', '600']];
  for (let k = 0; k < 44; k++) {
    const name = `P${k}`;
    const school = k % 2 === 0 ? S1 : S2;
    const sed = r() < 0.5;
    st(name, {
      sex: r() < 0.5 ? 'F' : 'M',
      hispanic: r() < 0.4,
      races: raceChoices[Math.floor(r() * raceChoices.length)]!,
      programs: sed ? ['SED'] : [],
      lep: r() < 0.2 ? 'EL' : 'EO',
    });
    enrollments.push({ student: name, school, entry: day(1), exit: null, grade: 'uri://ed-fi.org/GradeLevelDescriptor#Seventh grade' });
    const p = (sed ? 0.1 : 0.03) * (0.5 + r() * 1.5);
    for (let n = 1; n <= (school === S1 ? 50 : 48); n++) if (r() < p) events.push({ student: name, school, date: day(n), code: r() < 0.5 ? 'E' : 'U' });
  }
  // Make sure each school has submitted through its day: S1 through day 50, S2 through day 48.
  events.push({ student: 'P1', school: S2, date: day(48), code: 'T' });
  events.push({ student: 'P0', school: S1, date: day(50), code: 'T' });

  const cut = opts.throughDay;
  const keptEvents = cut === undefined ? events : events.filter((e) => e.date <= day(cut));

  // Sections: MATH7 four sections (three at S1, one at S2), ELA7 one at each school.
  const sections: Section[] = [
    { id: 'M1', school: S1, course: 'MATH7', teacher: 'T1' },
    { id: 'M2', school: S1, course: 'MATH7', teacher: 'T2' },
    { id: 'M3', school: S1, course: 'MATH7', teacher: 'T3' },
    { id: 'M4', school: S2, course: 'MATH7', teacher: 'T4' },
    { id: 'E1', school: S1, course: 'ELA7', teacher: 'T5' },
    { id: 'E2', school: S2, course: 'ELA7', teacher: 'T6' },
    { id: 'C1', school: S1, course: 'SCI7', teacher: 'T7' },
    { id: 'C2', school: S1, course: 'SCI7', teacher: 'T8' },
    { id: 'C3', school: S2, course: 'SCI7', teacher: 'T9' },
    { id: 'C4', school: S2, course: 'SCI7', teacher: 'T7' },
  ];
  const memberships: Membership[] = [];
  const marks: Mark[] = [];
  const submissions: Submission[] = [];
  const results: AssessmentResult[] = [];
  const survey: SurveyAnswer[] = [];
  const enrolled = (s: string) => enrollments.filter((e) => e.student === s);
  const mr = rng(99);
  const s1Math = ['M1', 'M2', 'M3'];
  let k1 = 0;
  for (const s of students) {
    const current = enrolled(s.name).at(-1)!;
    if (current.exit !== null) continue;
    const math = current.school === S1 ? s1Math[k1++ % 3]! : 'M4';
    const ela = current.school === S1 ? 'E1' : 'E2';
    const sci = current.school === S1 ? (k1 % 2 === 0 ? 'C1' : 'C2') : s.name.length % 2 === 0 ? 'C3' : 'C4';
    memberships.push({ student: s.name, section: math }, { student: s.name, section: ela }, { student: s.name, section: sci });
    marks.push({ student: s.name, section: sci, period: 'S1', numeric: Math.round((80 + 8 * (mr() - 0.5)) * 10) / 10, letter: null });
    const ability = mr() * 2 - 1; // -1..1
    const effect = math === 'M1' ? -16 : 0; // M1 marks clearly lower than the other sections
    const m = Math.round((78 + 10 * ability + effect + (mr() - 0.5) * 6) * 10) / 10;
    marks.push({ student: s.name, section: math, period: 'Q1', numeric: Math.min(100, m + 3), letter: null });
    marks.push({ student: s.name, section: math, period: 'S1', numeric: Math.min(100, m), letter: null });
    const letters = ['A', 'B', 'C', 'D', 'F'];
    marks.push({ student: s.name, section: ela, period: 'uri://ed-fi.org/GradingPeriodDescriptor#First Quarter', numeric: null, letter: letters[Math.floor(mr() * letters.length)]! });
    for (let a = 1; a <= 5; a++) {
      const u = mr();
      const status = u < 0.6 + 0.3 * ability ? 'on_time' : u < 0.8 + 0.15 * ability ? 'late' : 'missing';
      submissions.push({ student: s.name, assignment: `${math}-A${a}`, section: math, status: status === 'on_time' && a === 5 ? 'graded' : status });
    }
    // Prior-year state scores (grade 6) and two MAP windows this year (grade 7).
    const elaPrior = Math.round(2530 + 90 * ability + (mr() - 0.5) * 40);
    const mathPrior = Math.round(2545 + 90 * ability + (mr() - 0.5) * 40);
    if (s.name !== 'D') {
      results.push({ student: s.name, assessment: 'SBAC-ELA', date: '2025-04-20', year: 2025, window: 'State', grade: 'Sixth grade', score: elaPrior });
      results.push({ student: s.name, assessment: 'SBAC-MATH', date: '2025-04-21', year: 2025, window: 'State', grade: 'Sixth grade', score: mathPrior });
    }
    const ritFall = Math.round(220 + 14 * ability + (mr() - 0.5) * 6);
    results.push({ student: s.name, assessment: 'MAP-MATH', date: day(12), year: YEAR, window: 'Fall', grade: 'Seventh grade', score: ritFall });
    results.push({ student: s.name, assessment: 'MAP-MATH', date: day(45), year: YEAR, window: 'Winter', grade: 'Seventh grade', score: ritFall + Math.round(2 + mr() * 6) });
    results.push({ student: s.name, assessment: 'MAP-READ', date: day(13), year: YEAR, window: 'Fall', grade: 'Seventh grade', score: Math.round(214 + 14 * ability) });
    if (mr() < 0.3) results.push({ student: s.name, assessment: 'BESS', date: day(20), year: YEAR, window: 'Fall', grade: 'Seventh grade', score: 55, level: mr() < 0.5 ? 'Elevated' : 'Extremely Elevated' });
    // Survey: two items per scale, latest response counts (an earlier one is there too).
    const scales: Array<[string, string]> = [['Belonging', 'BEL'], ['Safety', 'SAF'], ['Emotional well-being', 'EWB'], ['Engagement', 'ENG']];
    for (const [resp, date, shift] of [[`${s.name}-fall`, day(15), -1], [`${s.name}-late`, day(40), 0]] as Array<[string, string, number]>) {
      for (const [title, code] of scales) {
        for (const q of [1, 2]) {
          const v = Math.max(1, Math.min(5, Math.round(3 + 1.5 * ability + (mr() - 0.5) * 2 + shift)));
          survey.push({ student: s.name, response: resp, date, scale: title, question: `${code}${q}`, value: v });
        }
      }
    }
  }
  const behaviors: Behavior[] = [
    { student: 'P2', school: S1, incident: 'I1', date: day(11), behavior: 'FIGHT' },
    { student: 'P4', school: S1, incident: 'I2', date: day(12), behavior: 'DISRUPT' },
    { student: 'P4', school: S1, incident: 'I3', date: day(14), behavior: 'uri://ed-fi.org/BehaviorDescriptor#School Code of Conduct' },
    { student: 'P4', school: S1, incident: 'I4', date: day(16), behavior: 'LANG' },
    { student: 'P3', school: S2, incident: 'I5', date: day(17), behavior: 'TECH' },
  ];
  const actions: Action[] = [
    { student: 'P2', id: 'X1', date: day(11), code: 'OSS' },
    { student: 'P4', id: 'X2', date: day(16), code: 'DET' },
    { student: 'P3', id: 'X3', date: day(17), code: 'uri://ed-fi.org/DisciplineDescriptor#In School Suspension' },
  ];
  // A status the descriptor map does not know ('excused'): unknown whether submitted, so it counts in
  // no submission rate of a section (two members of M1).
  for (const s of memberships.filter((m) => m.section === 'M1').slice(0, 2)) submissions.push({ student: s.student, assignment: 'M1-A6', section: 'M1', status: 'excused' });
  return { students, enrollments, events: keptEvents, sections, memberships, marks, submissions, results, survey, behaviors, actions };
}

type Value = string | number | boolean | null | string[];

async function insert(db: Db, table: string, rows: Array<Record<string, Value>>): Promise<void> {
  if (rows.length === 0) return;
  const cols = Object.keys(rows[0]!);
  const all = [...cols, '_file_sha256', '_row_number', '_source'];
  const batch = 200;
  for (let start = 0; start < rows.length; start += batch) {
    const chunk = rows.slice(start, start + batch);
    const params: Value[] = [];
    const tuples = chunk.map((row, k) => {
      const ph = cols.map((c) => {
        const v = row[c] ?? null;
        params.push(Array.isArray(v) ? `[${v.map((x) => `"${x}"`).join(',')}]` : v);
        return Array.isArray(v) ? `$${params.length}::VARCHAR[]` : `$${params.length}`;
      });
      return `(${ph.join(', ')}, 'fixture', ${start + k + 1}, 'fixture')`;
    });
    await db.run(`INSERT INTO refined.${ident(table)} (${all.map(ident).join(', ')}) VALUES ${tuples.join(', ')}`, params as never);
  }
}

/** Write the district into fresh refined tables (dropping what was there). */
export async function writeDistrict(db: Db, d: District): Promise<void> {
  await db.run('DROP SCHEMA IF EXISTS refined CASCADE');
  for (const s of refinedDdl()) await db.run(s);
  const t = { tenant: TENANT };
  await insert(db, 'schools', [S1, S2].map((s) => ({ ...t, school_id: s, name_of_institution: `School ${s}`, school_category_descriptor: 'Middle School', local_education_agency_id: '6000000' })));
  await insert(db, 'students', d.students.map((s) => ({ ...t, student_key: key(s.name), birth_year: 2013 })));
  await insert(db, 'student_education_organization_associations', d.students.map((s) => ({
    ...t, student_key: key(s.name), education_organization_id: '6000000', sex_descriptor: s.sex,
    hispanic_latino_ethnicity: s.hispanic, races: s.races, limited_english_proficiency_descriptor: s.lep,
  })));
  await insert(db, 'student_school_associations', d.enrollments.map((e) => ({
    ...t, student_key: key(e.student), school_id: e.school, school_year: YEAR, entry_date: e.entry, exit_withdraw_date: e.exit, entry_grade_level_descriptor: e.grade,
  })));
  await insert(db, 'student_program_associations', d.students.flatMap((s) => s.programs.map((p) => ({
    ...t, student_key: key(s.name), education_organization_id: '6000000', program_descriptor: p, begin_date: '2025-08-01', end_date: null,
  }))));
  await insert(db, 'calendar_dates', [S1, S2].flatMap((s) => calendar(s).map((c) => ({ ...t, school_id: s, school_year: YEAR, date: c.date, calendar_event_descriptor: c.event }))));
  await insert(db, 'student_school_attendance_events', d.events.map((e) => ({
    ...t, student_key: key(e.student), school_id: e.school, school_year: YEAR, event_date: e.date, attendance_event_category_descriptor: e.code,
  })));
  const teachers = [...new Set(d.sections.map((s) => s.teacher))];
  await insert(db, 'staffs', [...teachers, 'PR1'].map((s) => ({ ...t, staff_key: key(s) })));
  await insert(db, 'staff_education_organization_assignment_associations', [
    { ...t, staff_key: key('PR1'), education_organization_id: S1, staff_classification_descriptor: 'uri://ed-fi.org/StaffClassificationDescriptor#Principal', position_title: 'Principal', begin_date: '2025-07-01', end_date: null },
  ]);
  await insert(db, 'courses', COURSES.map((c) => ({ ...t, course_code: c.code, education_organization_id: '6000000', course_title: c.code, academic_subject_descriptor: c.subject })));
  await insert(db, 'sections', d.sections.map((s) => ({
    ...t, section_key: key(s.id), local_course_code: s.course, school_id: s.school, school_year: YEAR, section_identifier: s.id, session_name: 'Year', course_title: s.course,
  })));
  await insert(db, 'staff_section_associations', d.sections.map((s) => ({ ...t, staff_key: key(s.teacher), section_key: key(s.id), classroom_position_descriptor: 'Teacher of Record', begin_date: '2025-09-02', end_date: null })));
  await insert(db, 'student_section_associations', d.memberships.map((m) => ({ ...t, student_key: key(m.student), section_key: key(m.section), begin_date: '2025-09-02', end_date: null })));
  await insert(db, 'grades', d.marks.map((m) => ({
    ...t, student_key: key(m.student), section_key: key(m.section), grading_period_descriptor: m.period, grade_type_descriptor: 'Grading Period', letter_grade_earned: m.letter, numeric_grade_earned: m.numeric,
  })));
  const lmsSections = [...new Set(d.submissions.map((s) => s.section))];
  await insert(db, 'lms_sections', lmsSections.map((s) => ({ ...t, lms_section_id: `lms-${s}`, section_key: key(s), title: s, source_system: 'Canvas' })));
  const assignments = [...new Map(d.submissions.map((s) => [s.assignment, s.section])).entries()];
  await insert(db, 'lms_assignments', assignments.map(([a, s]) => ({ ...t, assignment_id: a, lms_section_id: `lms-${s}`, title: a, due_date_time: '2025-10-01 23:59:00', max_points: 10 })));
  await insert(db, 'lms_submissions', d.submissions.map((s) => ({ ...t, student_key: key(s.student), assignment_id: s.assignment, submission_status_descriptor: s.status, submission_date_time: null, earned_points: null })));
  await insert(db, 'assessments', ASSESSMENTS.map((a) => ({
    ...t, assessment_identifier: a.id, namespace: 'uri://fixture', assessment_title: a.id, assessment_family: a.family, vendor: a.vendor, academic_subject_descriptor: a.subject, min_score: 0, max_score: 3000,
  })));
  await insert(db, 'student_assessments', d.results.map((r, k) => ({
    ...t, student_key: key(r.student), assessment_identifier: r.assessment, namespace: 'uri://fixture', student_assessment_identifier: `sa${k}`,
    administration_date: r.date, school_year: r.year, school_id: null, when_assessed_grade_level_descriptor: r.grade, testing_window: r.window,
    scale_score: r.score, scale_score_sem: null, performance_level_descriptor: r.level ?? null, percentile: null,
  })));
  await insert(db, 'surveys', [{ ...t, survey_identifier: 'WB', namespace: 'uri://fixture', survey_title: 'Well-being', school_year: YEAR }]);
  await insert(db, 'survey_question_responses', d.survey.map((s) => ({
    ...t, student_key: key(s.student), namespace: 'uri://fixture', survey_identifier: 'WB', survey_response_identifier: s.response, response_date: s.date, school_id: null,
    survey_section_title: s.scale, question_code: s.question, numeric_response: s.value,
  })));
  await insert(db, 'discipline_incidents', d.behaviors.map((b) => ({ ...t, school_id: b.school, incident_identifier: b.incident, incident_date: b.date, incident_location_descriptor: 'CLS' })));
  await insert(db, 'student_discipline_incident_behavior_associations', d.behaviors.map((b) => ({ ...t, student_key: key(b.student), school_id: b.school, incident_identifier: b.incident, behavior_descriptor: b.behavior })));
  await insert(db, 'discipline_actions', d.actions.map((a) => ({
    ...t, student_key: key(a.student), discipline_action_identifier: a.id, discipline_date: a.date, discipline_descriptor: a.code, actual_discipline_action_length: 1, school_id: null, incident_identifier: null,
  })));
}
