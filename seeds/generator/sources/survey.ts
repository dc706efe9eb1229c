/**
 * `survey`: the student well-being survey (layout defined in docs/formats) twice a year, grades
 * 3-12; `screener`: BASC-3 BESS teacher forms for elementary grades (real layout, Windows-1252).
 */
import { CsvFile, type Layout, type ColumnSpec } from '../writer.ts';
import { type Gen, rel, identity, vendorLayout, RowMaker, pad2, clamp } from '../gen.ts';
import { FLAG, RACE_GROUPS, sisGrade, type School, type Section } from '../district.ts';
import { BESS_HEADER } from '../headers.ts';
import { type Window, mdySlash, formatDate, dayToIso } from '../calendar.ts';
import { hashKey, h32, u01, normalInv } from '../rng.ts';

export const SURVEY_SCALES = ['BEL', 'SAF', 'EWB', 'ENG'] as const;
const ITEMS = SURVEY_SCALES.flatMap((s) => [1, 2, 3, 4].map((n) => `${s}${n}`));

export const SURVEY: Layout = {
  source: 'survey',
  kind: 'wellbeing_responses',
  district: true,
  nativeCrlf: true,
  columns: [
    { name: 'response_id', role: 'required' },
    { name: 'student_id', role: 'student' },
    { name: 'school_code', role: 'required' },
    { name: 'grade_level' },
    { name: 'survey_name' },
    { name: 'administration', role: 'required' },
    { name: 'submitted_at', role: 'date', dateStyle: 'datetime' },
    ...ITEMS.map((name): ColumnSpec => ({ name, role: 'score', min: 1, max: 5 })),
  ],
  key: [0],
  defects: ['unknown_student', 'invalid_date', 'out_of_range', 'missing_required', 'ragged_row'],
};

/** Scale-specific shifts: safety a bit higher, emotional well-being lower in high school. */
function itemValue(wb: number, scale: string, grade: number, noise: number): number {
  let mu = 3.6 + 0.75 * wb;
  if (scale === 'SAF') mu += 0.2;
  if (scale === 'EWB') mu -= grade >= 9 ? 0.35 : 0.1;
  if (scale === 'ENG') mu -= grade >= 7 ? 0.25 : 0;
  return clamp(Math.round(mu + 0.8 * noise), 1, 5);
}

export async function writeSurvey(g: Gen, win: Window, administration: 'Fall' | 'Spring', opts: { headerOnlyExtra?: boolean } = {}): Promise<void> {
  const d = g.d;
  const Y = g.cal.schoolYear;
  const day = win.delivery;
  const f = await CsvFile.open(g.ctx, SURVEY, rel('survey', day, 'wellbeing_responses.csv'), identity('survey', 'wellbeing', day));
  const kw = hashKey(d.seed, 'survey', administration);
  const span = win.last - win.first + 1;
  const name = `Student Well-Being Survey ${administration} ${Y - 1}-${String(Y).slice(2)}`;
  for (let i = 0; i < d.n; i++) {
    const gr = d.grade[i] as number;
    if (gr < 3) continue;
    const k = h32(kw, i, 0);
    const idx = win.first + (k % span);
    const s = d.schoolOn(i, idx);
    if (s < 0) continue;
    if (u01(kw, i, 1) >= 0.8 - 0.6 * (d.absProp[i] as number)) continue;
    const sc = d.schools[s] as School;
    const wb = (d.wellb[i] as number) + (administration === 'Spring' ? 0.15 * normalInv(u01(kw, i, 2)) - 0.05 : 0);
    const items = ITEMS.map((it, j) => {
      if (u01(kw, i, 100 + j) < 0.03) return '';
      return String(itemValue(wb + 0.35 * normalInv(u01(kw, i, 200 + Math.floor(j / 4))), it.slice(0, 3), gr, normalInv(u01(kw, i, 300 + j))));
    });
    const minute = 8 * 60 + 30 + ((k >>> 7) % 400);
    const dayOf = g.cal.instructionalDays[idx] as number;
    const submitted =
      f.style.dateFormat === 'iso'
        ? `${dayToIso(dayOf)} ${pad2(Math.floor(minute / 60))}:${pad2(minute % 60)}:${pad2(k % 60)}`
        : `${formatDate(dayOf, f.style.dateFormat)} ${pad2(Math.floor(minute / 60))}:${pad2(minute % 60)}`;
    const row = [`${administration[0]}${Y}-${d.localIdOf(i)}`, d.localIdOf(i), sc.code, sisGrade(gr), name, administration, submitted, ...items];
    if (f.row(row)) await f.flush();
  }
  await f.close();
  if (opts.headerOnlyExtra) {
    // a second export of the make-up session that came out empty: header only
    const h = await CsvFile.open(g.ctx, SURVEY, rel('survey', day, 'wellbeing_responses_makeup.csv'), identity('survey', 'wellbeing-makeup', day), { recordDefects: false });
    await h.close();
    g.ctx.defects.push({ source: 'survey', file: h.rel, row: null, field: '', reason: 'header_only', detail: 'header line, no data rows' });
  }
}

const BESS: Layout = vendorLayout(
  'screener',
  'bess',
  BESS_HEADER,
  { 'Student Number': { role: 'student' }, Submitted: { role: 'date', dateStyle: 'mdy' }, BERI: { role: 'score', min: 20, max: 120 } },
  { defects: ['unknown_student', 'invalid_date', 'out_of_range', 'missing_required', 'ragged_row'] },
);
const BESS_MK = new RowMaker(BESS);

function risk(t: number): string {
  return t >= 70 ? 'Extremely Elevated' : t >= 61 ? 'Elevated' : 'Normal';
}
function indexRisk(t: number): string {
  return t >= 70 ? 'Extremely Elevated Risk' : t >= 61 ? 'Elevated Risk' : 'Normal Risk';
}

export async function writeBess(g: Gen, win: Window, wname: 'Fall' | 'Winter'): Promise<void> {
  const d = g.d;
  const day = win.delivery;
  const f = await CsvFile.open(g.ctx, BESS, rel('screener', day, 'BESS.csv'), identity('screener', 'BESS', day), { win1252: true });
  const kw = hashKey(d.seed, 'bess', wname);
  const span = win.last - win.first + 1;
  for (let i = 0; i < d.n; i++) {
    const gr = d.grade[i] as number;
    if (gr > 5) continue;
    const k = h32(kw, i, 0);
    const idx = win.first + (k % span);
    const s = d.schoolOn(i, idx);
    if (s < 0) continue;
    if (u01(kw, i, 1) >= 0.92) continue;
    const sc = d.schools[s] as School;
    const secIdx = d.sectionAt(i, s, 0);
    const teacher = secIdx >= 0 ? d.staff[(d.sections[secIdx] as Section).teacher] : undefined;
    const det = d.detail(i);
    const b = (d.behav[i] as number) * 0.85 + 0.4 * normalInv(u01(kw, i, 2));
    const beri = clamp(Math.round(50 + 10 * b), 30, 100);
    const idxT = (j: number, w: number) => clamp(Math.round(50 + 10 * (w * b + Math.sqrt(1 - w * w) * normalInv(u01(kw, i, 10 + j)))), 30, 100);
    const eri = idxT(1, 0.8);
    const iri = idxT(2, 0.6);
    const ari = idxT(3, 0.7);
    const row = BESS_MK.make({
      'School Name': sc.name,
      'Student Name': `${det.first} ${det.last}`,
      'Student Number': d.localIdOf(i),
      Grade: gr <= 0 ? 'K' : String(gr),
      Gender: det.sex === 'X' ? '' : det.sex,
      'Race/Ethnicity': RACE_GROUPS[d.race[i] as number] === 'African American' ? 'Black or African American' : (RACE_GROUPS[d.race[i] as number] as string),
      'Is Special Education': (d.flags[i] as number) & FLAG.SWD ? 'Yes' : '',
      Teacher: teacher ? `${teacher.first} ${teacher.last}` : '',
      Respondent: 'Teacher',
      'Respondent Gender': '',
      Relationship: 'Teacher',
      Submitted: mdySlash(g.cal.instructionalDays[idx] as number),
      Form: gr <= 0 ? 'BESS-3 (Preschool Teacher)' : 'BESS-3 (Teacher)',
      BERI: String(beri),
      'BERI Raw Score': String(clamp(Math.round((beri - 30) * 0.9), 0, 75)),
      'BERI Percentile': String(clamp(Math.round(100 * (0.5 + 0.5 * Math.tanh((beri - 50) / 12))), 1, 99)),
      'BERI Risk': risk(beri),
      ERI: String(eri),
      'ERI Risk': indexRisk(eri),
      IRI: String(iri),
      'IRI Risk': indexRisk(iri),
      ARI: String(ari),
      'ARI Risk': indexRisk(ari),
    });
    if (f.row(row)) await f.flush();
  }
  await f.close();
}

export { BESS };
