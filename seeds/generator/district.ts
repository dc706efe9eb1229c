/**
 * The fictional district: schools, courses, sections, staff and students.
 *
 * Structure (schools, sections, staff) is small and held as objects. Students are held as a few
 * typed arrays of their hidden parameters (about 60 bytes a student: 60 MB at a million); their
 * names and other details are re-derived from (seed, student index) whenever a file needs them,
 * so the district is never materialised as rows in memory.
 */
import { Rng, hashKey, u01, normalInv } from './rng.ts';
import type { SchoolCalendar } from './calendar.ts';
import { FIRST_F, FIRST_M, LAST_BY_GROUP, STAFF_FIRST, STAFF_LAST, SCHOOL_NAMES } from './names.ts';
import { type Subject, type Vendor, scaleMean, scaleSd, SBAC_SEM, isTestedGrade, sbacLevel } from './model.ts';

export type Level = 'E' | 'M' | 'H';
export type CourseSubject = 'homeroom' | 'ela' | 'math' | 'science' | 'social' | 'pe' | 'elective';

/** Grade codes: -1 TK, 0 K, 1..12. */
export const GRADES = [-1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];
export function gradeLevelsOf(level: Level): number[] {
  return level === 'E' ? [-1, 0, 1, 2, 3, 4, 5] : level === 'M' ? [6, 7, 8] : [9, 10, 11, 12];
}
export function levelOfGrade(g: number): Level {
  return g <= 5 ? 'E' : g <= 8 ? 'M' : 'H';
}
/** SIS grade code: TK, K, 1..12. */
export function sisGrade(g: number): string {
  return g === -1 ? 'TK' : g === 0 ? 'K' : String(g);
}
/** OneRoster grade code: TK, KG, 01..12. */
export function orGrade(g: number): string {
  return g === -1 ? 'TK' : g === 0 ? 'KG' : String(g).padStart(2, '0');
}

export const FLAG = { SED: 1, EL: 2, SWD: 4, S504: 8, FOSTER: 16, HOMELESS: 32, HISPANIC: 64 } as const;

/** California reporting groups, in code order. */
export const RACE_GROUPS = [
  'Hispanic or Latino',
  'White',
  'Asian',
  'African American',
  'Filipino',
  'Two or More Races',
  'American Indian or Alaska Native',
  'Pacific Islander',
  'Not Reported',
] as const;
const RACE_WEIGHTS: Array<readonly [number, number]> = [
  [0, 55],
  [1, 20],
  [2, 10],
  [3, 5],
  [4, 2.5],
  [5, 4],
  [6, 0.5],
  [7, 0.5],
  [8, 2.5],
];
/** Ability shift by race group (gaps between student groups, in SD units). */
const RACE_ABILITY = [-0.12, 0.3, 0.45, -0.35, 0.22, 0.15, -0.2, -0.12, 0];
const RACE_SED = [0.75, 0.35, 0.4, 0.65, 0.35, 0.45, 0.6, 0.6, 0.5];
const RACE_EL = [1.45, 0.12, 1.3, 0.1, 0.8, 0.15, 0.15, 0.5, 0.2];

export interface School {
  idx: number;
  code: string;
  name: string;
  level: Level;
  grades: number[];
  principal: number;
  elaVendor: Vendor;
  mathVendor: Vendor;
  /** whether i-Ready's "Student ID" carries the SSID at this school (else the local ID) */
  ireadyIdIsSsid: boolean;
  /** first student index and count per grade (initial assignment, entrants included) */
  gradeStart: Map<number, [number, number]>;
}

export interface Course {
  code: string;
  title: string;
  grade: number;
  subject: CourseSubject;
  /** slot within the grade's schedule: 0 for homeroom / ELA, 1 math, ... */
  slot: number;
}

export interface Section {
  idx: number;
  id: string;
  school: number;
  course: Course;
  num: number;
  teacher: number;
  room: string;
  /** teacher effect on marks and engagement, in SD units of the mark */
  markEffect: number;
  /** multiplicative effect on daily absence (homeroom / ELA section) */
  attendanceEffect: number;
  canvasId: number;
}

export interface Staff {
  idx: number;
  id: string;
  first: string;
  last: string;
  role: 'teacher' | 'administrator';
  school: number;
  canvasId: number;
}

export interface DistrictSpec {
  key: 'main' | 'edfi';
  seed: number;
  students: number;
  schoolYear: number;
}

const SIZE: Record<Level, number> = { E: 550, M: 900, H: 1800 };
const CLASS_SIZE: Record<Level, number> = { E: 24, M: 30, H: 30 };

function coursesFor(level: Level, g: number): Course[] {
  if (level === 'E') {
    const code = `HR${g === -1 ? 'TK' : g === 0 ? 'K' : g}`;
    return [{ code, title: `Homeroom ${g === -1 ? 'TK' : g === 0 ? 'Kindergarten' : `Grade ${g}`}`, grade: g, subject: 'homeroom', slot: 0 }];
  }
  if (level === 'M') {
    return [
      { code: `ELA${g}`, title: `English Language Arts ${g}`, grade: g, subject: 'ela', slot: 0 },
      { code: `MATH${g}`, title: `Mathematics ${g}`, grade: g, subject: 'math', slot: 1 },
      { code: `SCI${g}`, title: `Science ${g}`, grade: g, subject: 'science', slot: 2 },
      { code: `SS${g}`, title: `Social Studies ${g}`, grade: g, subject: 'social', slot: 3 },
      { code: `PE${g}`, title: `Physical Education ${g}`, grade: g, subject: 'pe', slot: 4 },
      { code: `ELEC${g}`, title: `Elective ${g}`, grade: g, subject: 'elective', slot: 5 },
    ];
  }
  const math: Record<number, [string, string]> = { 9: ['ALG1', 'Algebra I'], 10: ['GEOM', 'Geometry'], 11: ['ALG2', 'Algebra II'], 12: ['PRECALC', 'Precalculus'] };
  const sci: Record<number, [string, string]> = { 9: ['BIO', 'Biology'], 10: ['CHEM', 'Chemistry'], 11: ['PHYS', 'Physics'], 12: ['ENVSCI', 'Environmental Science'] };
  const soc: Record<number, [string, string]> = { 9: ['ETHSTU', 'Ethnic Studies'], 10: ['WHIST', 'World History'], 11: ['USHIST', 'U.S. History'], 12: ['GOVECON', 'Government and Economics'] };
  const m = math[g] as [string, string];
  const s = sci[g] as [string, string];
  const o = soc[g] as [string, string];
  return [
    { code: `ELA${g}`, title: `English ${g}`, grade: g, subject: 'ela', slot: 0 },
    { code: m[0], title: m[1], grade: g, subject: 'math', slot: 1 },
    { code: s[0], title: s[1], grade: g, subject: 'science', slot: 2 },
    { code: o[0], title: o[1], grade: g, subject: 'social', slot: 3 },
    { code: `PE${g}`, title: g <= 10 ? `Physical Education ${g}` : `Health and Fitness ${g}`, grade: g, subject: 'pe', slot: 4 },
    { code: `ELEC${g}`, title: `Elective ${g}`, grade: g, subject: 'elective', slot: 5 },
  ];
}

export interface StudentScores {
  /** latent position last spring, this year's end, per subject */
  zPrev: Record<Subject, number>;
  zEoy: Record<Subject, number>;
  /** prior-year observed CAASPP scale score (if the student tested last year) */
  prior: Record<Subject, number | null>;
  /** end-of-year state scale score this year (tested grades) */
  eoy: Record<Subject, number | null>;
  eoyLevel: Record<Subject, number | null>;
}

export interface StudentDetail {
  first: string;
  middle: string;
  last: string;
  birthDay: number;
  sex: 'M' | 'F' | 'X';
  raceCodes: string[];
  homeLanguage: string;
  elStatus: string;
  parentEd: string;
}

export class District {
  readonly key: 'main' | 'edfi';
  readonly seed: number;
  readonly n: number;
  readonly schoolYear: number;
  readonly cal: SchoolCalendar;
  readonly districtCode: string;
  readonly districtName: string;
  readonly domain: string;
  readonly schools: School[] = [];
  readonly staff: Staff[] = [];
  readonly sections: Section[] = [];
  readonly courses: Course[] = [];
  /** section index base per school, grade and slot: [first section idx, count] */
  private readonly secIndex = new Map<string, [number, number]>();
  /** the same as flat arrays, indexed by ((school * 14) + grade + 1) * 6 + slot (hot path) */
  private secFirst = new Int32Array(0);
  private secCount = new Int32Array(0);
  private lastDetailI = -1;
  private lastDetail: StudentDetail | null = null;

  // hidden parameters per student
  readonly school: Uint16Array;
  readonly grade: Int8Array;
  readonly pos: Int32Array;
  readonly entry: Int16Array;
  readonly exit: Int16Array;
  readonly trDay: Int16Array;
  readonly trSchool: Uint16Array;
  readonly trPos: Int32Array;
  readonly flags: Uint8Array;
  readonly race: Uint8Array;
  readonly sex: Uint8Array;
  readonly absProp: Float32Array;
  readonly abilE: Float32Array;
  readonly abilM: Float32Array;
  readonly engage: Float32Array;
  readonly behav: Float32Array;
  readonly wellb: Float32Array;
  readonly discProp: Float32Array;

  constructor(spec: DistrictSpec, cal: SchoolCalendar) {
    this.key = spec.key;
    this.seed = spec.seed;
    this.n = spec.students;
    this.schoolYear = spec.schoolYear;
    this.cal = cal;
    const main = spec.key === 'main';
    this.districtCode = main ? '4369999' : '4369998';
    this.districtName = main ? 'Sierra Vista Unified School District' : 'Mesa Verde Unified School District';
    this.domain = main ? 'sierravistausd.org' : 'mesaverdeusd.org';
    const n = this.n;
    this.school = new Uint16Array(n);
    this.grade = new Int8Array(n);
    this.pos = new Int32Array(n);
    this.entry = new Int16Array(n);
    this.exit = new Int16Array(n);
    this.trDay = new Int16Array(n);
    this.trSchool = new Uint16Array(n);
    this.trPos = new Int32Array(n);
    this.flags = new Uint8Array(n);
    this.race = new Uint8Array(n);
    this.sex = new Uint8Array(n);
    this.absProp = new Float32Array(n);
    this.abilE = new Float32Array(n);
    this.abilM = new Float32Array(n);
    this.engage = new Float32Array(n);
    this.behav = new Float32Array(n);
    this.wellb = new Float32Array(n);
    this.discProp = new Float32Array(n);
    this.buildSchools();
    this.buildStudents();
    this.buildSections();
    this.indexSections();
  }

  private k(...parts: Array<string | number>): number {
    return hashKey(this.seed, this.key, ...parts);
  }

  // ---------------------------------------------------------------- structure

  private buildSchools(): void {
    const weights = GRADES.map((g) => (g === -1 ? 0.5 : 1));
    const wsum = weights.reduce((a, b) => a + b, 0);
    const perGrade = GRADES.map((_, j) => Math.floor((this.n * (weights[j] as number)) / wsum));
    let rest = this.n - perGrade.reduce((a, b) => a + b, 0);
    for (let j = 1; rest > 0; j = (j + 1) % GRADES.length, rest--) perGrade[j] = (perGrade[j] as number) + 1;
    const countOf = (g: number) => perGrade[GRADES.indexOf(g)] as number;
    const nameRng = Rng.of(this.seed, this.key, 'school-names');
    const names = nameRng.shuffle(SCHOOL_NAMES);
    const codeOffset = this.k('school-code') % 1000;
    const vendorOffset = this.k('vendors') % 3;
    let start = 0;
    let nameIdx = 0;
    for (const level of ['E', 'M', 'H'] as Level[]) {
      const grades = gradeLevelsOf(level);
      const total = grades.reduce((a, g) => a + countOf(g), 0);
      const nSchools = Math.max(1, Math.round(total / SIZE[level]));
      for (let s = 0; s < nSchools; s++) {
        const idx = this.schools.length;
        const base = names[nameIdx % names.length] as string;
        const round = Math.floor(nameIdx / names.length);
        nameIdx++;
        const suffix = level === 'E' ? 'Elementary School' : level === 'M' ? 'Middle School' : 'High School';
        const code = String((this.key === 'main' ? 6010000 : 6510000) + (idx + 1) * 1013 + codeOffset);
        const v = (idx + vendorOffset) % 3;
        const gradeStart = new Map<number, [number, number]>();
        for (const g of grades) {
          const c = countOf(g);
          const cnt = Math.floor(c / nSchools) + (s < c % nSchools ? 1 : 0);
          gradeStart.set(g, [start, cnt]);
          start += cnt;
        }
        this.schools.push({
          idx,
          code,
          name: `${base}${round > 0 ? ` ${round + 1}` : ''} ${suffix}`,
          level,
          grades,
          principal: -1,
          elaVendor: v === 0 ? 'nwea_map' : v === 1 ? 'iready' : 'star',
          mathVendor: v === 0 ? 'nwea_map' : 'iready',
          ireadyIdIsSsid: this.k('iready-id', idx) % 2 === 0,
          gradeStart,
        });
      }
    }
    if (start !== this.n) throw new Error(`internal: assigned ${start} of ${this.n} students`);
  }

  private newStaff(role: 'teacher' | 'administrator', school: number): number {
    const idx = this.staff.length;
    const r = Rng.of(this.seed, this.key, 'staff', idx);
    const first = r.pick(STAFF_FIRST);
    const last = r.pick(STAFF_LAST);
    this.staff.push({
      idx,
      id: `${this.key === 'main' ? 'E' : 'F'}${100000 + idx}`,
      first,
      last,
      role,
      school,
      canvasId: 900_000_000 + idx,
    });
    return idx;
  }

  private indexSections(): void {
    const size = this.schools.length * 14 * 6;
    this.secFirst = new Int32Array(size).fill(-1);
    this.secCount = new Int32Array(size);
    for (const [key, [first, count]] of this.secIndex) {
      const [sc, g, slot] = key.split(':').map(Number) as [number, number, number];
      const j = (sc * 14 + g + 1) * 6 + slot;
      this.secFirst[j] = first;
      this.secCount[j] = count;
    }
  }

  private buildSections(): void {
    // count transfer-ins per school and grade so that sections are sized for them
    const extra = new Map<string, number>();
    for (let i = 0; i < this.n; i++) {
      if (this.trDay[i] as number >= 0) {
        const key = `${this.trSchool[i]}:${this.grade[i]}`;
        extra.set(key, (extra.get(key) ?? 0) + 1);
      }
    }
    const courseByCode = new Map<string, Course>();
    for (const sc of this.schools) {
      sc.principal = this.newStaff('administrator', sc.idx);
      const bySubject = new Map<CourseSubject, number[]>();
      for (const g of sc.grades) {
        const [, cnt] = sc.gradeStart.get(g) as [number, number];
        const total = cnt + (extra.get(`${sc.idx}:${g}`) ?? 0);
        const nSec = Math.max(1, Math.ceil(total / CLASS_SIZE[sc.level]));
        for (const course of coursesFor(sc.level, g)) {
          if (!courseByCode.has(course.code)) {
            courseByCode.set(course.code, course);
            this.courses.push(course);
          }
          this.secIndex.set(`${sc.idx}:${g}:${course.slot}`, [this.sections.length, nSec]);
          for (let num = 1; num <= nSec; num++) {
            const idx = this.sections.length;
            const r = Rng.of(this.seed, this.key, 'section', sc.code, course.code, num);
            // most teachers are alike; about one section in sixteen differs clearly
            const special = r.next() < 0.0625;
            const markEffect = special ? (r.next() < 0.5 ? -1.1 : 0.9) : 0.25 * r.normal();
            const attendanceEffect = special ? (markEffect < 0 ? 1.6 : 0.75) : Math.exp(0.08 * r.normal());
            this.sections.push({
              idx,
              id: `${sc.code}-${course.code}-${String(num).padStart(2, '0')}-${this.schoolYear}`,
              school: sc.idx,
              course,
              num,
              teacher: -1,
              room: String(100 + ((idx * 7) % 140)),
              markEffect,
              attendanceEffect,
              canvasId: 200_000_000 + idx,
            });
            const list = bySubject.get(course.subject) ?? [];
            list.push(idx);
            bySubject.set(course.subject, list);
          }
        }
      }
      // teachers: one per homeroom; secondary teachers teach five sections of their subject
      for (const [subject, list] of bySubject) {
        const per = subject === 'homeroom' ? 1 : 5;
        let t = -1;
        list.forEach((secIdx, j) => {
          if (j % per === 0) t = this.newStaff('teacher', sc.idx);
          (this.sections[secIdx] as Section).teacher = t;
        });
      }
    }
  }

  // ---------------------------------------------------------------- students

  private buildStudents(): void {
    const nInLevel = new Map<Level, number[]>();
    for (const sc of this.schools) {
      const l = nInLevel.get(sc.level) ?? [];
      l.push(sc.idx);
      nInLevel.set(sc.level, l);
    }
    const last = this.cal.instructionalDays.length - 1;
    for (const sc of this.schools) {
      for (const [g, [start, cnt]] of sc.gradeStart) {
        for (let p = 0; p < cnt; p++) {
          const i = start + p;
          const r = Rng.of(this.seed, this.key, 'student', i);
          this.school[i] = sc.idx;
          this.grade[i] = g;
          this.pos[i] = p;
          const race = r.weighted(RACE_WEIGHTS);
          this.race[i] = race;
          const su = r.next();
          const sex = su < 0.51 ? 0 : su < 0.995 ? 1 : 2; // M, F, X
          this.sex[i] = sex;
          let f = 0;
          if (race === 0) f |= FLAG.HISPANIC;
          if (r.next() < (RACE_SED[race] as number)) f |= FLAG.SED;
          const elBase = g <= 5 ? 0.24 : g <= 8 ? 0.16 : 0.12;
          if (r.next() < elBase * (RACE_EL[race] as number)) f |= FLAG.EL;
          if (r.next() < (sex === 0 ? 0.17 : 0.09)) f |= FLAG.SWD;
          else if (r.next() < 0.034) f |= FLAG.S504;
          if (r.next() < 0.004) f |= FLAG.FOSTER;
          if (r.next() < ((f & FLAG.SED) !== 0 ? 0.045 : 0.008)) f |= FLAG.HOMELESS | FLAG.SED;
          this.flags[i] = f;
          const sed = (f & FLAG.SED) !== 0;
          // daily absence probability: log-normal, more among SED, homeless, foster, SWD, high school
          const absZ = r.normal();
          let mu = Math.log(0.045) + (sed ? 0.26 : -0.3);
          if (f & FLAG.HOMELESS) mu += 0.45;
          if (f & FLAG.FOSTER) mu += 0.35;
          if (f & FLAG.SWD) mu += 0.18;
          if (g >= 9) mu += 0.22;
          if (g <= 0) mu += 0.12;
          this.absProp[i] = Math.min(0.6, Math.exp(mu + 0.78 * absZ));
          // abilities per subject (correlated), with gaps between groups
          const common = r.normal();
          // gaps between groups; the constant centres the district's latent mean near 0
          const shift =
            0.31 + (RACE_ABILITY[race] as number) + (sed ? -0.3 : 0.1) + (f & FLAG.SWD ? -0.75 : 0) - 0.12 * absZ;
          const elE = f & FLAG.EL ? -0.55 : 0;
          const elM = f & FLAG.EL ? -0.35 : 0;
          this.abilE[i] = shift + elE + 0.8 * common + 0.5 * r.normal();
          this.abilM[i] = shift + elM + 0.8 * common + 0.5 * r.normal();
          const abil = ((this.abilE[i] as number) + (this.abilM[i] as number)) / 2;
          this.engage[i] = 0.45 * abil - 0.3 * absZ + 0.8 * r.normal();
          const b = r.normal() + 0.3 * absZ + (f & FLAG.SWD ? 0.4 : 0) + (sex === 0 ? 0.25 : 0);
          this.behav[i] = b;
          this.wellb[i] = r.normal() - 0.2 * absZ + 0.2 * (this.engage[i] as number);
          const gf = g >= 6 && g <= 10 ? 1.8 : g >= 11 ? 1.2 : 0.5;
          this.discProp[i] = Math.exp(Math.log(0.00035) + 0.9 * b) * gf;
          // enrolment: entrants, leavers, transfers within the district
          this.entry[i] = 0;
          this.exit[i] = -1;
          this.trDay[i] = -1;
          const mv = r.next();
          const peers = nInLevel.get(sc.level) as number[];
          if (mv < 0.06) this.entry[i] = r.int(3, last - 10);
          else if (mv < 0.11) this.exit[i] = r.int(5, last - 5);
          else if (mv < 0.13 && peers.length > 1) {
            this.trDay[i] = r.int(15, last - 15);
            const others = peers.filter((x) => x !== sc.idx);
            this.trSchool[i] = others[r.int(0, others.length - 1)] as number;
          }
        }
      }
    }
    // positions of transfer-ins at their new school (after the school's own students)
    const nextPos = new Map<string, number>();
    for (let i = 0; i < this.n; i++) {
      if ((this.trDay[i] as number) >= 0) {
        const sc = this.schools[this.trSchool[i] as number] as School;
        const key = `${sc.idx}:${this.grade[i]}`;
        const [, cnt] = sc.gradeStart.get(this.grade[i] as number) as [number, number];
        const p = nextPos.get(key) ?? cnt;
        this.trPos[i] = p;
        nextPos.set(key, p + 1);
      }
    }
  }

  // ---------------------------------------------------------------- identities

  private lidOff = -1;
  private ssidOff = -1;
  localIdOf(i: number): string {
    if (this.lidOff < 0) this.lidOff = this.k('lid');
    if (this.key === 'main') return String(1_000_000 + ((i * 7919 + (this.lidOff % 7_000_000)) % 7_000_000));
    return String(8_000_000 + ((i * 7919 + (this.lidOff % 1_000_000)) % 1_000_000));
  }
  ssidOf(i: number): string {
    if (this.ssidOff < 0) this.ssidOff = this.k('ssid') % 999_999_937;
    const off = this.ssidOff;
    if (this.key === 'main') return String(1_000_000_000 + ((i * 1103515249 + off) % 8_000_000_000));
    return String(9_000_000_000 + ((i * 1103515249 + off) % 999_999_999));
  }
  /** A local ID that belongs to no student (bijection beyond the population). */
  unknownLocalId(k: number): string {
    return this.localIdOf(this.n + 1000 + (k % 100_000));
  }
  unknownSsid(k: number): string {
    return this.ssidOf(this.n + 1000 + (k % 100_000));
  }
  canvasUserId(i: number): number {
    return 100_000_000 + i;
  }

  detail(i: number): StudentDetail {
    if (i === this.lastDetailI && this.lastDetail) return this.lastDetail;
    const det = this.drawDetail(i);
    this.lastDetailI = i;
    this.lastDetail = det;
    return det;
  }

  private drawDetail(i: number): StudentDetail {
    const r = Rng.of(this.seed, this.key, 'detail', i);
    const sex = this.sex[i] === 0 ? 'M' : this.sex[i] === 1 ? 'F' : 'X';
    const fem = sex === 'F' || (sex === 'X' && r.next() < 0.5);
    const first = r.pick(fem ? FIRST_F : FIRST_M);
    const middle = r.next() < 0.6 ? r.pick(fem ? FIRST_F : FIRST_M) : '';
    const race = this.race[i] as number;
    const lastGroup = race === 0 ? 'hispanic' : race === 1 ? 'white' : race === 2 ? 'asian' : race === 3 ? 'black' : race === 4 ? 'filipino' : race === 5 ? r.pick(['white', 'hispanic', 'black', 'asian']) : 'other';
    const last = r.pick(LAST_BY_GROUP[lastGroup] as string[]);
    const g = this.grade[i] as number;
    // age on September 1 of the fall: grade + 5 (TK: 4)
    const fallYear = this.schoolYear - 1;
    const birthYear = fallYear - (g + 6) + (r.next() < 0.75 ? 0 : 1) - (r.next() < 0.04 ? 1 : 0);
    const birthDay = Math.floor(Date.UTC(birthYear, 8, 2) / 86_400_000) - r.int(0, 364);
    let raceCodes: string[];
    switch (race) {
      case 0:
        raceCodes = [r.next() < 0.8 ? '700' : '100'];
        break;
      case 1:
        raceCodes = ['700'];
        break;
      case 2:
        raceCodes = [r.pick(['201', '202', '203', '204', '205', '299'])];
        break;
      case 3:
        raceCodes = ['600'];
        break;
      case 4:
        raceCodes = ['400'];
        break;
      case 5:
        raceCodes = r.pick([['700', '600'], ['201', '700'], ['600', '100'], ['400', '700'], ['204', '600']]);
        break;
      case 6:
        raceCodes = ['100'];
        break;
      case 7:
        raceCodes = [r.pick(['301', '399'])];
        break;
      default:
        raceCodes = [];
    }
    const f = this.flags[i] as number;
    const el = (f & FLAG.EL) !== 0;
    const homeLanguage = el
      ? race === 0
        ? '01'
        : race === 2
          ? r.pick(['02', '03', '04', '07'])
          : race === 4
            ? '05'
            : r.pick(['11', '99'])
      : race === 0 && r.next() < 0.45
        ? '01'
        : '00';
    const elStatus = el ? 'EL' : homeLanguage === '00' ? 'EO' : r.next() < 0.6 ? 'RFEP' : 'IFEP';
    const parentEd = (f & FLAG.SED) !== 0 ? r.pick(['13', '14', '14', '12', '15']) : r.pick(['10', '11', '11', '12', '13']);
    return { first, middle, last, birthDay, sex, raceCodes, homeLanguage, elStatus, parentEd };
  }

  // ---------------------------------------------------------------- enrolment

  /** School index the student attends on an instructional day index, or -1. */
  schoolOn(i: number, dayIdx: number): number {
    if (dayIdx < (this.entry[i] as number)) return -1;
    const ex = this.exit[i] as number;
    if (ex >= 0 && dayIdx > ex) return -1;
    const tr = this.trDay[i] as number;
    if (tr >= 0 && dayIdx >= tr) return this.trSchool[i] as number;
    return this.school[i] as number;
  }

  /** Section index of the student's course slot at a school (their first school or the one they moved to). */
  sectionAt(i: number, schoolIdx: number, slot: number): number {
    const g = this.grade[i] as number;
    const j = (schoolIdx * 14 + g + 1) * 6 + slot;
    const first = this.secFirst[j] as number;
    if (first < 0 || slot > 5) return -1;
    const nSec = this.secCount[j] as number;
    const p = schoolIdx === this.school[i] ? (this.pos[i] as number) : (this.trPos[i] as number);
    return first + ((p + Math.floor(p / nSec) * slot) % nSec);
  }

  slotsOf(schoolIdx: number): number {
    return (this.schools[schoolIdx] as School).level === 'E' ? 1 : 6;
  }

  /** Section indices a school offers for a grade and slot. */
  sectionRange(schoolIdx: number, grade: number, slot: number): [number, number] | undefined {
    return this.secIndex.get(`${schoolIdx}:${grade}:${slot}`);
  }

  // ---------------------------------------------------------------- scores

  scores(i: number): StudentScores {
    const r = Rng.of(this.seed, this.key, 'scores', i);
    const g = this.grade[i] as number;
    const out: StudentScores = {
      zPrev: { ela: 0, math: 0 },
      zEoy: { ela: 0, math: 0 },
      prior: { ela: null, math: null },
      eoy: { ela: null, math: null },
      eoyLevel: { ela: null, math: null },
    };
    for (const s of ['ela', 'math'] as Subject[]) {
      const a = s === 'ela' ? (this.abilE[i] as number) : (this.abilM[i] as number);
      const zPrev = a - 0.05 + 0.3 * r.normal();
      const zEoy = a + 0.15 * r.normal();
      out.zPrev[s] = zPrev;
      out.zEoy[s] = zEoy;
      const semNoise = r.normal();
      const testedLastYear = r.next() < 0.95;
      if (isTestedGrade(g - 1) && testedLastYear) {
        const x = Math.round(scaleMean(s, g - 1) + scaleSd(s, g - 1) * zPrev + SBAC_SEM * semNoise);
        out.prior[s] = Math.max(2100, Math.min(2950, x));
      }
      const eoyNoise = r.normal();
      if (isTestedGrade(g)) {
        // the score the state test will report: true position plus measurement error
        const x = Math.max(2100, Math.min(2950, Math.round(scaleMean(s, g) + scaleSd(s, g) * zEoy + SBAC_SEM * eoyNoise)));
        out.eoy[s] = x;
        out.eoyLevel[s] = sbacLevel(s, g, x);
      }
    }
    return out;
  }

  /** Latent position at a point of the year (fraction 0..1) plus measurement noise. */
  interimZ(i: number, sc: StudentScores, s: Subject, fraction: number, noiseKey: number, noiseSd: number): number {
    const z = sc.zPrev[s] + (sc.zEoy[s] - sc.zPrev[s]) * fraction;
    return z + noiseSd * normalInv(u01(noiseKey, i, s === 'ela' ? 1 : 2));
  }
}
