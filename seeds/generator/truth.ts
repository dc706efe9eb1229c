/**
 * truth/: the oracle beside the landing folder. Hidden parameters of every student, schools,
 * sections, and (per delivery date) every injected defect. Never read by the pipeline.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, rename } from 'node:fs/promises';
import { once } from 'node:events';
import path from 'node:path';
import type { Gen } from './gen.ts';
import { FLAG, RACE_GROUPS, sisGrade, type District, type School } from './district.ts';
import { dayToIso } from './calendar.ts';
import type { DefectRecord } from './writer.ts';
import { csvField } from './writer.ts';

class TextOut {
  private parts: string[] = [];
  private size = 0;
  private constructor(
    private readonly file: string,
    private readonly stream: ReturnType<typeof createWriteStream>,
  ) {}
  static async open(file: string): Promise<TextOut> {
    await mkdir(path.dirname(file), { recursive: true });
    return new TextOut(file, createWriteStream(`${file}.partial`));
  }
  async line(fields: Array<string | number>): Promise<void> {
    const s = fields.map((f) => csvField(String(f), ',', false)).join(',');
    this.parts.push(s, '\n');
    this.size += s.length + 1;
    if (this.size > 1 << 20) await this.flush();
  }
  private async flush(): Promise<void> {
    if (this.parts.length === 0) return;
    const ok = this.stream.write(this.parts.join(''));
    this.parts = [];
    this.size = 0;
    if (!ok) await once(this.stream, 'drain');
  }
  async close(): Promise<void> {
    await this.flush();
    this.stream.end();
    await once(this.stream, 'finish');
    await rename(`${this.file}.partial`, this.file);
  }
}

const fmt = (x: number) => (Math.round(x * 10000) / 10000).toString();
const flag = (f: number, bit: number) => ((f & bit) !== 0 ? '1' : '0');

function enrolmentDates(g: Gen, d: District, i: number) {
  const days = g.cal.instructionalDays;
  const e = d.entry[i] as number;
  const x = d.exit[i] as number;
  const t = d.trDay[i] as number;
  return {
    entry: dayToIso(days[e] as number),
    exit: x >= 0 ? dayToIso(days[x] as number) : '',
    trSchool: t >= 0 ? (d.schools[d.trSchool[i] as number] as School).code : '',
    trDate: t >= 0 ? dayToIso(days[t] as number) : '',
  };
}

export const TRUTH_STUDENT_COLUMNS = [
  'local_id', 'ssid', 'school_code', 'grade_level', 'entry_date', 'exit_date', 'transfer_school_code', 'transfer_date',
  'sex', 'race_group', 'hispanic', 'sed', 'el', 'swd', 's504', 'foster', 'homeless',
  'absence_propensity', 'attendance_effect', 'engagement', 'ability_ela', 'ability_math',
  'prior_ela_scale', 'prior_math_scale', 'eoy_ela_scale', 'eoy_math_scale', 'eoy_ela_level', 'eoy_math_level',
  'interim_vendor_ela', 'interim_vendor_math', 'iready_id_kind',
];

export async function writeTruth(g: Gen, dir: string): Promise<void> {
  const d = g.d;
  const st = await TextOut.open(path.join(dir, 'truth', 'students.csv'));
  await st.line(TRUTH_STUDENT_COLUMNS);
  for (let i = 0; i < d.n; i++) {
    const sc = d.schools[d.school[i] as number] as School;
    const f = d.flags[i] as number;
    const s = d.scores(i);
    const e = enrolmentDates(g, d, i);
    const det = d.detail(i);
    await st.line([
      d.localIdOf(i),
      d.ssidOf(i),
      sc.code,
      sisGrade(d.grade[i] as number),
      e.entry,
      e.exit,
      e.trSchool,
      e.trDate,
      det.sex,
      RACE_GROUPS[d.race[i] as number] as string,
      flag(f, FLAG.HISPANIC),
      flag(f, FLAG.SED),
      flag(f, FLAG.EL),
      flag(f, FLAG.SWD),
      flag(f, FLAG.S504),
      flag(f, FLAG.FOSTER),
      flag(f, FLAG.HOMELESS),
      fmt(d.absProp[i] as number),
      fmt(g.attEff[i] as number),
      fmt(d.engage[i] as number),
      fmt(d.abilE[i] as number),
      fmt(d.abilM[i] as number),
      s.prior.ela ?? '',
      s.prior.math ?? '',
      s.eoy.ela ?? '',
      s.eoy.math ?? '',
      s.eoyLevel.ela ?? '',
      s.eoyLevel.math ?? '',
      (d.grade[i] as number) >= 0 && (d.grade[i] as number) <= 11 ? sc.elaVendor : '',
      (d.grade[i] as number) >= 0 && (d.grade[i] as number) <= 11 ? sc.mathVendor : '',
      sc.ireadyIdIsSsid ? 'ssid' : 'local',
    ]);
  }
  await st.close();

  const sch = await TextOut.open(path.join(dir, 'truth', 'schools.csv'));
  await sch.line(['school_code', 'school_name', 'level', 'low_grade', 'high_grade', 'ela_vendor', 'math_vendor', 'iready_student_id', 'principal_id']);
  for (const sc of d.schools) {
    await sch.line([sc.code, sc.name, sc.level, sisGrade(sc.grades[0] as number), sisGrade(sc.grades[sc.grades.length - 1] as number), sc.elaVendor, sc.mathVendor, sc.ireadyIdIsSsid ? 'ssid' : 'local', d.staff[sc.principal]?.id ?? '']);
  }
  await sch.close();

  const sec = await TextOut.open(path.join(dir, 'truth', 'sections.csv'));
  await sec.line(['section_id', 'school_code', 'course_code', 'subject', 'teacher_id', 'mark_effect', 'attendance_effect']);
  for (const s of d.sections) {
    await sec.line([s.id, (d.schools[s.school] as School).code, s.course.code, s.course.subject, d.staff[s.teacher]?.id ?? '', fmt(s.markEffect), fmt(s.attendanceEffect)]);
  }
  await sec.close();

  const e = g.edfi;
  const es = await TextOut.open(path.join(dir, 'truth', 'edfi_students.csv'));
  await es.line(['student_unique_id', 'ssid', 'school_id', 'grade_level', 'entry_date', 'exit_date', 'transfer_school_id', 'transfer_date', 'sed', 'absence_propensity', 'ability_ela', 'ability_math']);
  for (let i = 0; i < e.n; i++) {
    const x = enrolmentDates(g, e, i);
    await es.line([
      e.localIdOf(i),
      e.ssidOf(i),
      (e.schools[e.school[i] as number] as School).code,
      sisGrade(e.grade[i] as number),
      x.entry,
      x.exit,
      x.trSchool,
      x.trDate,
      flag(e.flags[i] as number, FLAG.SED),
      fmt(e.absProp[i] as number),
      fmt(e.abilE[i] as number),
      fmt(e.abilM[i] as number),
    ]);
  }
  await es.close();
}

export const DEFECT_COLUMNS = ['source', 'file', 'row', 'field', 'reason', 'detail'];

/** truth/defects/<delivery date>.csv (only when that night has defects). */
export async function writeDefects(dir: string, day: number, defects: DefectRecord[]): Promise<void> {
  if (defects.length === 0) return;
  const out = await TextOut.open(path.join(dir, 'truth', 'defects', `${dayToIso(day)}.csv`));
  await out.line(DEFECT_COLUMNS);
  for (const x of defects) await out.line([x.source, x.file, x.row ?? '', x.field, x.reason, x.detail]);
  await out.close();
}
