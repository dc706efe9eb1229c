/**
 * Assessments: the prior year's CAASPP Student Score Data File (`caaspp`), this year's CERS
 * interim export (`cers`), and the interim vendors (`nwea_map`, `iready`, `star`), each in its
 * real layout. Scores track the student's hidden latent position (District.scores) on each
 * vendor's scale with measurement noise (model.ts).
 */
import { CsvFile } from '../writer.ts';
import { type Gen, rel, identity, vendorLayout, RowMaker, pad2, clamp } from '../gen.ts';
import { loginName } from '../gen.ts';
import { FLAG, type District, type School, type Section } from '../district.ts';
import { CAASPP_2024_HEADER, CERS_64_HEADER, IREADY_ELA_HEADER, IREADY_MATH_HEADER, NWEA_MAP_HEADER, STAR_SR_V2_HEADER } from '../headers.ts';
import { type Window, dayToIso, mmddyyyy, mdySlash, mdyShort } from '../calendar.ts';
import { hashKey, h32, u01, normalInv, normalCdf } from '../rng.ts';
import {
  type Subject,
  type Vendor,
  type WindowName,
  INTERIM_NOISE_SD,
  ICA_NOISE_SD,
  SBAC_SEM,
  SBAC_THRESHOLDS,
  VENDOR_SCALES,
  WINDOW_FRACTION,
  isTestedGrade,
  sbacLevel,
  scaleMean,
  scaleSd,
  vendorScore,
} from '../model.ts';

const CAASPP = vendorLayout(
  'caaspp',
  'student_score_data_file',
  CAASPP_2024_HEADER,
  {
    SSID: { role: 'ssid' },
    LocalStudentID: { role: 'student' },
    DateofBirth: { role: 'date', dateStyle: 'mmddyyyy' },
    FinalTestCompletedDate: { role: 'date', dateStyle: 'mmddyyyy' },
    ScaleScore: { role: 'score', min: 2100, max: 3000 },
  },
  { defects: ['unknown_student', 'invalid_date', 'out_of_range', 'missing_required', 'ragged_row', 'conflicting_duplicate'], delimiter: '^', key: ['SSID', 'RecordType'], dupField: 'ScaleScore' },
);
const CERS = vendorLayout(
  'cers',
  'cers_64',
  CERS_64_HEADER,
  { StudentIdentifier: { role: 'ssid' }, SubmitDateTime: { role: 'date', dateStyle: 'isoz' }, ScaleScore: { role: 'score', min: 2100, max: 3000 } },
  { defects: ['unknown_student', 'invalid_date', 'out_of_range', 'missing_required', 'ragged_row'] },
);
const MAP = vendorLayout(
  'nwea_map',
  'assessment_results',
  NWEA_MAP_HEADER,
  {
    StudentID: { role: 'student' },
    Student_StateID: { role: 'ssid' },
    TestStartDate: { role: 'date', dateStyle: 'mdy' },
    TestRITScore: { role: 'score', min: 100, max: 350 },
    TestPercentile: { role: 'score', min: 1, max: 99 },
  },
  { defects: ['unknown_student', 'invalid_date', 'out_of_range', 'missing_required', 'ragged_row', 'conflicting_duplicate'], quoteAll: true, key: ['StudentID', 'Subject', 'TermName'], dupField: 'TestRITScore' },
);
function ireadyLayout(subject: Subject) {
  return vendorLayout(
    'iready',
    subject === 'ela' ? 'diagnostic_results_ela' : 'diagnostic_results_math',
    subject === 'ela' ? IREADY_ELA_HEADER : IREADY_MATH_HEADER,
    {
      'Student ID': { role: 'student' },
      'Completion Date': { role: 'date', dateStyle: 'mdy_short' },
      'Overall Scale Score': { role: 'score', min: 100, max: 800 },
    },
    { defects: ['unknown_student', 'invalid_date', 'out_of_range', 'missing_required', 'ragged_row', 'conflicting_duplicate'], nativeBom: true, nativeCrlf: true, key: ['Student ID', 'Completion Date'], dupField: 'Overall Scale Score' },
  );
}
const IREADY: Record<Subject, ReturnType<typeof ireadyLayout>> = { ela: ireadyLayout('ela'), math: ireadyLayout('math') };
const STAR = vendorLayout(
  'star',
  'sr_v2',
  STAR_SR_V2_HEADER,
  {
    StudentIdentifier: { role: 'student' },
    StudentStateID: { role: 'ssid' },
    CompletedDate: { role: 'date', dateStyle: 'isoz' },
    ScaledScore: { role: 'score', min: 0, max: 1400 },
  },
  { defects: ['unknown_student', 'invalid_date', 'out_of_range', 'missing_required', 'ragged_row', 'conflicting_duplicate'], key: ['AssessmentID'], dupField: 'ScaledScore' },
);

const MK = {
  caaspp: new RowMaker(CAASPP),
  cers: new RowMaker(CERS),
  map: new RowMaker(MAP),
  iready: { ela: new RowMaker(IREADY.ela), math: new RowMaker(IREADY.math) },
  star: new RowMaker(STAR),
};

const yesNo = (b: boolean) => (b ? 'Yes' : 'No');

/** Last year's school of a student: their school, or a feeder school for those who changed level. */
function lastYearSchool(d: District, i: number): School {
  const g = d.grade[i] as number;
  const sc = d.schools[d.school[i] as number] as School;
  if (g === 6 || g === 9) {
    const prevLevel = g === 6 ? 'E' : 'M';
    const cands = d.schools.filter((s) => s.level === prevLevel);
    return cands[h32(d.seed, i, 41) % cands.length] as School;
  }
  return sc;
}

/** Prior-year CAASPP Student Score Data File (by enrolled LEA, as of the opening delivery). */
export async function writeCaaspp(g: Gen, deliveryDay: number): Promise<void> {
  const d = g.d;
  const Y = g.cal.schoolYear;
  const f = await CsvFile.open(g.ctx, CAASPP, rel('caaspp', deliveryDay, `CAASPP_Student_Score_Data_File_${Y - 1}.csv`), identity('caaspp', 'ssdf', deliveryDay));
  const springLast = Math.floor(Date.UTC(Y - 1, 4, 5) / 86_400_000);
  for (let i = 0; i < d.n; i++) {
    if ((d.entry[i] as number) > 0) continue;
    const g0 = (d.grade[i] as number) - 1;
    if (!isTestedGrade(g0)) continue;
    const sc = d.scores(i);
    const det = d.detail(i);
    const fl = d.flags[i] as number;
    const school = lastYearSchool(d, i);
    const codes = det.raceCodes;
    for (const [rt, subject] of [
      ['01', 'ela'],
      ['02', 'math'],
    ] as Array<[string, Subject]>) {
      const score = sc.prior[subject];
      if (score === null) continue;
      const k = hashKey(d.seed, 'caaspp', i, rt);
      const sem = SBAC_SEM + (k % 8);
      const testDay = springLast + (k % 20);
      const claimPl = (off: number) => String(clamp(Math.round(2 + (score - (SBAC_THRESHOLDS[subject][g0]?.[1] ?? 2500)) / 60 + normalInv(u01(k, off)) * 0.5), 1, 3));
      const row = MK.caaspp.make({
        RecordType: rt,
        SSID: d.ssidOf(i),
        StudentLastName: det.last,
        StudentFirstName: det.first,
        StudentMiddleName: det.middle,
        DateofBirth: mmddyyyy(det.birthDay),
        Gender: det.sex === 'X' ? 'N' : det.sex,
        CALPADSGrade: pad2(g0),
        GradeAssessed: pad2(g0),
        CALPADSDistrictCode: d.districtCode,
        CALPADSDistrictName: d.districtName,
        CALPADSSchoolCode: school.code,
        CALPADSSchoolName: school.name,
        CALPADSCharterSchoolIndicator: 'No',
        Section504Status: yesNo((fl & FLAG.S504) !== 0),
        CALPADSSpecialEducation: yesNo((fl & FLAG.SWD) !== 0),
        ELStatus: yesNo((fl & FLAG.EL) !== 0),
        FosterStatus: yesNo((fl & FLAG.FOSTER) !== 0),
        HomelessStatus: yesNo((fl & FLAG.HOMELESS) !== 0),
        EconomicDisadvantageStatus: yesNo((fl & FLAG.SED) !== 0),
        HispanicorLatino: yesNo((fl & FLAG.HISPANIC) !== 0),
        AmericanIndianorAlaskaNative: yesNo(codes.includes('100')),
        Asian: yesNo(codes.some((c) => c.startsWith('2'))),
        HawaiianOrOtherPacificIslander: yesNo(codes.some((c) => c.startsWith('3'))),
        Filipino: yesNo(codes.includes('400')),
        BlackorAfricanAmerican: yesNo(codes.includes('600')),
        White: yesNo(codes.includes('700')),
        TwoorMoreRaces: yesNo(codes.length > 1),
        TestedDistrictName1: d.districtName,
        TestedDistrictCode1: d.districtCode,
        TestedSchoolName1: school.name,
        TestedSchoolCode1: school.code,
        TestStartDate1: mmddyyyy(testDay),
        TestCompletedDate1: mmddyyyy(testDay + 1),
        FinalTestedDistrictName: d.districtName,
        FinalTestedDistrictCode: d.districtCode,
        FinalTestedSchoolName: school.name,
        FinalTestedSchoolCode: school.code,
        FinalTestCompletedDate: mmddyyyy(testDay + 1),
        Attemptedness: 'Y',
        ScoreStatus: 'Scored',
        TestMode: 'O',
        IncludeIndicator: 'Y',
        ScaleScore: score,
        StandardErrorMeasurement: sem,
        SmarterScaleScoresErrorBandsMin: score - sem,
        SmarterScaleScoresErrorBandsMax: score + sem,
        AchievementLevels: sbacLevel(subject, g0, score),
        SmarterClaim1PL: claimPl(1),
        SmarterClaim2PL: claimPl(2),
        SmarterClaim3PL: claimPl(3),
        SmarterClaim4PL: subject === 'ela' ? claimPl(4) : '',
        LocalStudentID: d.localIdOf(i),
        EndofRecord: 'Y',
      });
      if (f.row(row)) await f.flush();
    }
  }
  await f.close();
}

const IAB_BLOCKS: Record<Subject, string[]> = {
  ela: ['Read Literary Texts', 'Read Informational Texts', 'Revision', 'Listen and Interpret', 'Research'],
  math: ['Operations and Algebraic Thinking', 'Number and Operations', 'Measurement and Data', 'Geometry', 'Expressions and Equations'],
};

/** CERS interim export at the end of an ICA or IAB window. */
export async function writeCers(g: Gen, win: Window, sub: 'ICA' | 'IAB'): Promise<void> {
  const d = g.d;
  const Y = g.cal.schoolYear;
  const day = win.delivery;
  const f = await CsvFile.open(g.ctx, CERS, rel('cers', day, `cers_student_results_${sub.toLowerCase()}_${dayToIso(day)}.csv`), identity('cers', sub, day));
  const span = win.last - win.first + 1;
  const frac = (win.first + span / 2) / g.cal.instructionalDays.length;
  const kw = hashKey(d.seed, 'cers', sub, win.first);
  for (let i = 0; i < d.n; i++) {
    const gr = d.grade[i] as number;
    if (!isTestedGrade(gr)) continue;
    const k = h32(kw, i, 0);
    const testIdx = win.first + (k % span);
    const s = d.schoolOn(i, testIdx);
    if (s < 0) continue;
    const take = sub === 'ICA' ? u01(kw, i, 1) < 0.85 : u01(kw, i, 1) < 0.35;
    if (!take) continue;
    const sc = d.scores(i);
    const det = d.detail(i);
    const fl = d.flags[i] as number;
    const school = d.schools[s] as School;
    const codes = det.raceCodes;
    const testDay = g.cal.instructionalDays[testIdx] as number;
    for (const subject of ['ela', 'math'] as Subject[]) {
      const z = d.interimZ(i, sc, subject, frac, hashKey(kw, subject === 'ela' ? 1 : 2), ICA_NOISE_SD);
      // mid-year: the grade's scale, less the growth still to come
      const mean = scaleMean(subject, gr - 1) + (scaleMean(subject, gr) - scaleMean(subject, gr - 1)) * (0.4 + 0.6 * frac);
      const score = Math.round(clamp(mean + scaleSd(subject, gr) * z, 2100, 2950));
      const se = sub === 'ICA' ? 25 + (k % 10) : 45 + (k % 15);
      let level: number;
      let name: string;
      if (sub === 'ICA') {
        level = sbacLevel(subject, gr, score);
        name = `Grade ${gr} ${subject === 'ela' ? 'ELA' : 'Math'} - Interim Comprehensive Assessment`;
      } else {
        const l3 = (SBAC_THRESHOLDS[subject][gr] as [number, number, number])[1];
        level = score > l3 + 1.5 * se ? 3 : score < l3 - 1.5 * se ? 1 : 2;
        const blocks = IAB_BLOCKS[subject];
        name = `Grade ${gr} ${subject === 'ela' ? 'ELA' : 'Math'} - IAB - ${blocks[(k >>> 4) % blocks.length]}`;
      }
      const minute = 8 * 60 + 30 + ((k >>> 8) % 360);
      const submit = `${dayToIso(testDay)}T${pad2(Math.floor(minute / 60) + 8)}:${pad2(minute % 60)}:00.000Z`;
      const row = MK.cers.make({
        DistrictId: d.districtCode,
        DistrictName: d.districtName,
        NcesId: `06${d.districtCode.slice(2)}`,
        SchoolId: school.code,
        SchoolName: school.name,
        StudentIdentifier: d.ssidOf(i),
        FirstName: det.first,
        LastOrSurname: det.last,
        SubmitDateTime: submit,
        SchoolYear: Y,
        TestSessionId: `${school.code.slice(-4)}-${sub}-${(k >>> 12) % 90 + 10}`,
        AssessmentType: 'Interim',
        AssessmentSubType: sub,
        AssessmentName: name,
        Subject: subject === 'ela' ? 'ELA' : 'Math',
        GradeLevelWhenAssessed: pad2(gr),
        Completeness: 'Complete',
        AdministrationCondition: 'Valid',
        ScaleScoreAchievementLevel: level,
        ScaleScore: score,
        ScaleScoreStandardError: se,
        Sex: det.sex === 'M' ? 'Male' : det.sex === 'F' ? 'Female' : 'Nonbinary',
        MigrantStatus: 'No',
        Section504Status: yesNo((fl & FLAG.S504) !== 0),
        IDEAIndicator: yesNo((fl & FLAG.SWD) !== 0),
        LEPStatus: yesNo((fl & FLAG.EL) !== 0),
        LanguageCode: det.homeLanguage === '01' ? 'spa' : det.homeLanguage === '00' ? 'eng' : 'oth',
        MilitaryConnectedStudentIndicator: 'No',
        EnglishLanguageAcquisitionStatus: det.elStatus,
        HispanicOrLatinoEthnicity: yesNo((fl & FLAG.HISPANIC) !== 0),
        AmericanIndianOrAlaskaNative: yesNo(codes.includes('100')),
        Asian: yesNo(codes.some((c) => c.startsWith('2'))),
        BlackOrAfricanAmerican: yesNo(codes.includes('600')),
        White: yesNo(codes.includes('700')),
        NativeHawaiianOrOtherPacificIslander: yesNo(codes.some((c) => c.startsWith('3'))),
        TwoOrMoreRaces: yesNo(codes.length > 1),
        Filipino: yesNo(codes.includes('400')),
      });
      if (f.row(row)) await f.flush();
    }
  }
  await f.close();
}

// ------------------------------------------------------------------ interim vendors

export interface VendorTest {
  i: number;
  school: School;
  testIdx: number;
  testDay: number;
  score: number;
  percentile: number;
  z: number;
}

/** The tests one vendor gives in a window for a subject (grades K-11, 96 % participation). */
export function* vendorTests(g: Gen, vendor: Vendor, subject: Subject, wname: WindowName, win: Window): Generator<VendorTest> {
  const d = g.d;
  const span = win.last - win.first + 1;
  const kw = hashKey(d.seed, 'interim', vendor, subject, wname);
  const frac = WINDOW_FRACTION[wname];
  const sc0 = VENDOR_SCALES[vendor][subject];
  if (!sc0) return;
  for (let i = 0; i < d.n; i++) {
    const gr = d.grade[i] as number;
    if (gr < 0 || gr > 11) continue;
    const k = h32(kw, i, 0);
    const testIdx = win.first + (k % span);
    const s = d.schoolOn(i, testIdx);
    if (s < 0) continue;
    const school = d.schools[s] as School;
    if ((subject === 'ela' ? school.elaVendor : school.mathVendor) !== vendor) continue;
    if (u01(kw, i, 1) >= 0.96) continue;
    const sc = d.scores(i);
    const z = d.interimZ(i, sc, subject, frac, kw, INTERIM_NOISE_SD);
    const score = vendorScore(vendor, subject, gr, wname, z);
    const gg = Math.max(0, gr);
    const mean = (sc0.fallMean[gg] as number) + (sc0.growth[gg] as number) * (frac - 0.1) / 0.8;
    const pct = clamp(Math.round(100 * normalCdf((score - mean) / (sc0.sd[gg] as number))), 1, 99);
    yield { i, school, testIdx, testDay: g.cal.instructionalDays[testIdx] as number, score, percentile: pct, z };
  }
}

function quintile(p: number): string {
  return p <= 20 ? 'Low' : p <= 40 ? 'LoAvg' : p <= 60 ? 'Avg' : p <= 80 ? 'HiAvg' : 'High';
}

const MAP_GOALS: Record<Subject, string[]> = {
  ela: ['Literary Text: Key Ideas and Details', 'Literary Text: Language, Craft, and Structure', 'Informational Text: Key Ideas and Details', 'Vocabulary: Acquisition and Use'],
  math: ['Operations and Algebraic Thinking', 'Number and Operations', 'Measurement and Data', 'Geometry'],
};

export async function writeMap(g: Gen, wname: WindowName, win: Window): Promise<void> {
  const d = g.d;
  const Y = g.cal.schoolYear;
  const day = win.delivery;
  const f = await CsvFile.open(g.ctx, MAP, rel('nwea_map', day, 'AssessmentResults.csv'), identity('nwea_map', 'AssessmentResults', day));
  for (const subject of ['ela', 'math'] as Subject[]) {
    for (const t of vendorTests(g, 'nwea_map', subject, wname, win)) {
      const gr = Math.max(0, d.grade[t.i] as number);
      const k = hashKey(d.seed, 'map', subject, wname, t.i);
      const goals: Record<string, string> = {};
      MAP_GOALS[subject].forEach((name, j) => {
        const rit = clamp(Math.round(t.score + 6 * normalInv(u01(k, j + 1))), 100, 350);
        goals[`Goal${j + 1}Name`] = name;
        goals[`Goal${j + 1}RitScore`] = String(rit);
        goals[`Goal${j + 1}StdErr`] = (5.5 + ((k >>> j) % 10) / 10).toFixed(1);
        goals[`Goal${j + 1}Range`] = `${rit - 6}-${rit + 6}`;
        goals[`Goal${j + 1}Adjective`] = quintile(clamp(t.percentile + Math.round(10 * normalInv(u01(k, j + 11))), 1, 99));
      });
      const minute = 8 * 60 + 15 + ((k >>> 6) % 390);
      const reading = subject === 'ela';
      const row = MK.map.make({
        TermName: `${wname} ${Y - 1}-${Y}`,
        DistrictName: d.districtName,
        District_StateID: d.districtCode,
        SchoolName: t.school.name,
        School_StateID: t.school.code,
        StudentID: d.localIdOf(t.i),
        Student_StateID: d.ssidOf(t.i),
        Subject: reading ? 'Language Arts' : 'Mathematics',
        Course: reading ? 'Reading' : gr >= 6 ? 'Math 6+' : 'Math K-12',
        GrowthMeasureYN: 'TRUE',
        NormsReferenceData: '2020',
        WISelectedAYFall: wname === 'Fall' ? '1' : '',
        WISelectedAYWinter: wname === 'Winter' ? '1' : '',
        WISelectedAYSpring: wname === 'Spring' ? '1' : '',
        TestType: 'Survey With Goals',
        TestName: reading ? (gr <= 2 ? 'Growth: Reading K-2 CA 2010 V2' : 'Growth: Reading 2-12 CA 2010 V2') : gr <= 5 ? 'Growth: Math 2-5 CA 2010 V2' : 'Growth: Math 6+ CA 2010 V2',
        TestID: String(700_000_000 + (k % 99_999_999)),
        TestStartDate: mdySlash(t.testDay),
        TestStartTime: `${pad2(Math.floor(minute / 60))}:${pad2(minute % 60)}:${pad2(k % 60)}`,
        TestDurationMinutes: String(25 + (k % 50)),
        TestRITScore: String(t.score),
        TestStandardError: (3.0 + ((k >>> 3) % 5) / 10).toFixed(2),
        TestPercentile: String(t.percentile),
        AchievementQuintile: quintile(t.percentile),
        PercentCorrect: String(45 + ((k >>> 9) % 30)),
        RapidGuessingPercentage: '0.0000',
        ...goals,
      });
      if (f.row(row)) await f.flush();
    }
  }
  await f.close();
}

const NORMING: Record<WindowName, string> = {
  Fall: 'Fall (July 1 - November 15)',
  Winter: 'Winter (November 16 - March 1)',
  Spring: 'Spring (March 2 - June 30)',
};

function ireadyPlacement(subject: Subject, grade: number, wname: WindowName, score: number): [string, string, number] {
  const sc = VENDOR_SCALES.iready[subject] as { fallMean: number[]; growth: number[]; sd: number[] };
  const frac = WINDOW_FRACTION[wname];
  const at = (g: number) => (sc.fallMean[g] as number) + (sc.growth[g] as number) * (frac - 0.1) / 0.8;
  let pg = 0;
  for (let g = 0; g <= 12; g++) if (score >= at(g) - 0.5 * (sc.sd[g] as number) * 0.5) pg = g;
  const gr = Math.max(0, grade);
  const diff = pg - gr;
  const placement = `Grade ${pg === 0 ? 'K' : pg}`;
  const rel = diff >= 0 ? (score >= at(gr) ? 'Mid or Above Grade Level' : 'Early On Grade Level') : diff === -1 ? '1 Grade Level Below' : diff === -2 ? '2 Grade Levels Below' : '3 or More Grade Levels Below';
  const mid = Math.round(at(gr) + 0.2 * (sc.sd[gr] as number));
  return [placement, rel, mid];
}

export async function writeIready(g: Gen, wname: WindowName, win: Window): Promise<void> {
  const d = g.d;
  const Y = g.cal.schoolYear;
  const day = win.delivery;
  for (const subject of ['ela', 'math'] as Subject[]) {
    const name = subject === 'ela' ? 'diagnostic_results_ela.csv' : 'diagnostic_results_math.csv';
    const idn = identity('iready', name, day);
    const f = await CsvFile.open(g.ctx, IREADY[subject], rel('iready', day, name), idn);
    // in some deliveries the vendor leaves the state ID column empty
    const blankStateId = g.ctx.messiness !== 'none' && hashKey(d.seed, 'iready-blank-ssid', idn) % 4 === 0;
    const mk = MK.iready[subject];
    for (const t of vendorTests(g, 'iready', subject, wname, win)) {
      const gr = d.grade[t.i] as number;
      const det = d.detail(t.i);
      const fl = d.flags[t.i] as number;
      const k = hashKey(d.seed, 'iready', subject, wname, t.i);
      const [placement, relPl, mid] = ireadyPlacement(subject, gr, wname, t.score);
      const sec0 = d.sectionAt(t.i, t.school.idx, t.school.level === 'E' ? 0 : subject === 'ela' ? 0 : 1);
      const sec = sec0 >= 0 ? (d.sections[sec0] as Section) : undefined;
      const teacher = sec ? d.staff[sec.teacher] : undefined;
      const dom = (j: number) => String(clamp(Math.round(t.score + 18 * normalInv(u01(k, j))), 100, 800));
      const values: Record<string, string> = {
        'Last Name': det.last,
        'First Name': det.first,
        'Student ID': t.school.ireadyIdIsSsid ? d.ssidOf(t.i) : d.localIdOf(t.i),
        'Student Grade': gr <= 0 ? 'K' : String(gr),
        'Academic Year': `${Y - 1}-${Y}`,
        School: t.school.name,
        Enrolled: 'Enrolled',
        'District State ID': d.districtCode,
        'School State ID': t.school.code,
        'Student State ID': blankStateId ? '' : d.ssidOf(t.i),
        'User Name': loginName(det.first, det.last, d.localIdOf(t.i)),
        Sex: det.sex === 'M' ? 'male' : det.sex === 'F' ? 'female' : 'non-binary',
        'Hispanic or Latino': (fl & FLAG.HISPANIC) !== 0 ? 'Y' : 'N',
        'English Language Learner': (fl & FLAG.EL) !== 0 ? 'Y' : 'N',
        'Special Education': (fl & FLAG.SWD) !== 0 ? 'Y' : 'N',
        'Economically Disadvantaged': (fl & FLAG.SED) !== 0 ? 'Y' : 'N',
        'Class(es)': sec ? `${sec.course.title} (${pad2(sec.num)})` : '',
        'Class Teacher(s)': teacher ? `${teacher.last}, ${teacher.first}` : '',
        'Start Date': mdyShort(t.testDay),
        'Completion Date': mdyShort(t.testDay),
        'Norming Window': NORMING[wname],
        'Baseline Diagnostic (Y/N)': wname === 'Fall' ? 'Y' : 'N',
        'Most Recent Diagnostic YTD (Y/N)': 'Y',
        'Duration (min)': String(25 + (k % 45)),
        'Read Aloud': 'Off',
        'Overall Scale Score': String(t.score),
        'Overall Placement': placement,
        'Overall Relative Placement': relPl,
        Percentile: String(t.percentile),
        Grouping: String(1 + Math.floor(t.percentile / 20.01)),
        'Diagnostic Gain': wname === 'Fall' ? '0' : String(Math.round(12 + 10 * normalInv(u01(k, 30)))),
        'Annual Typical Growth Measure': String(Math.round((VENDOR_SCALES.iready[subject]?.growth[Math.max(0, gr)] ?? 20) as number)),
        'Annual Stretch Growth Measure': String(Math.round(1.6 * ((VENDOR_SCALES.iready[subject]?.growth[Math.max(0, gr)] ?? 20) as number))),
        'Mid On Grade Level Scale Score': String(mid),
      };
      if (subject === 'ela') {
        values['Lexile Measure'] = `${Math.max(0, Math.round((t.score - 350) * 2.5))}L`;
        values['Phonics Scale Score'] = dom(1);
        values['High-Frequency Words Scale Score'] = dom(2);
        values['Vocabulary Scale Score'] = dom(3);
        values['Comprehension: Overall Scale Score'] = dom(4);
        values['Comprehension: Literature Scale Score'] = dom(5);
        values['Comprehension: Informational Text Scale Score'] = dom(6);
        values['Reading Difficulty Indicator (Y/N)'] = gr <= 3 && t.percentile < 20 ? 'Y' : 'N';
      } else {
        values['Quantile Measure'] = `${Math.max(0, Math.round((t.score - 350) * 4))}Q`;
        values['Number and Operations Scale Score'] = dom(1);
        values['Algebra and Algebraic Thinking Scale Score'] = dom(2);
        values['Measurement and Data Scale Score'] = dom(3);
        values['Geometry Scale Score'] = dom(4);
      }
      if (f.row(mk.make(values))) await f.flush();
    }
    await f.close();
  }
}

function uuidFrom(k: number, n: number): string {
  const a = (k >>> 0).toString(16).padStart(8, '0');
  const b = (n >>> 0).toString(16).padStart(12, '0');
  return `${a}-0000-4000-8000-${b}`;
}

export async function writeStar(g: Gen, wname: WindowName, win: Window): Promise<void> {
  const d = g.d;
  const Y = g.cal.schoolYear;
  const day = win.delivery;
  const f = await CsvFile.open(g.ctx, STAR, rel('star', day, 'SR_v2.csv'), identity('star', 'SR_v2', day));
  const ys = `${dayToIso(g.cal.instructionalDays[0] as number)}T00:00:00Z`;
  const ye = `${dayToIso(g.cal.instructionalDays[g.cal.instructionalDays.length - 1] as number)}T00:00:00Z`;
  for (const t of vendorTests(g, 'star', 'ela', wname, win)) {
    const gr = Math.max(0, d.grade[t.i] as number);
    const det = d.detail(t.i);
    const fl = d.flags[t.i] as number;
    const k = hashKey(d.seed, 'star', wname, t.i);
    const secIdx = d.sectionAt(t.i, t.school.idx, 0);
    const sec = secIdx >= 0 ? (d.sections[secIdx] as Section) : undefined;
    const teacher = sec ? d.staff[sec.teacher] : undefined;
    const minute = 15 * 60 + ((k >>> 5) % 400); // UTC
    const completed = `${dayToIso(t.testDay)}T${pad2(Math.floor(minute / 60))}:${pad2(minute % 60)}:${pad2(k % 60)}.${String(k % 1000).padStart(3, '0')}Z`;
    const local = `${dayToIso(t.testDay)}T${pad2(Math.floor(minute / 60) - 7)}:${pad2(minute % 60)}:${pad2(k % 60)}.${String(k % 1000).padStart(3, '0')}`;
    const launchedMin = minute - 15;
    const launch = `${dayToIso(t.testDay)}T${pad2(Math.floor(launchedMin / 60))}:${pad2(launchedMin % 60)}:00.000Z`;
    const codes = det.raceCodes;
    const frac = WINDOW_FRACTION[wname];
    const unified = Math.round(700 + 40 * gr + 30 * frac + 60 * t.z);
    const level = t.percentile < 10 ? 4 : t.percentile < 25 ? 3 : t.percentile < 40 ? 2 : 1;
    const bench = ['At/Above Benchmark', 'On Watch', 'Intervention', 'Urgent Intervention'][level - 1] as string;
    const row = MK.star.make({
      RenaissanceClientID: '7310',
      SchoolYear: `${Y - 1}-${Y}`,
      SchoolYearStartDate: ys,
      SchoolYearEndDate: ye,
      StudentRenaissanceID: uuidFrom(hashKey(d.seed, 'star-student'), t.i),
      StudentSourcedID: d.localIdOf(t.i),
      StudentIdentifier: d.localIdOf(t.i),
      StudentUserID: d.localIdOf(t.i),
      StudentStateID: d.ssidOf(t.i),
      StudentFirstName: det.first,
      StudentMiddleName: det.middle,
      StudentLastName: det.last,
      Gender: det.sex,
      BirthDate: `${dayToIso(det.birthDay)}T00:00:00Z`,
      MultiRace: codes.length > 1 ? 'Yes' : 'No',
      HispanicOrLatino: yesNo((fl & FLAG.HISPANIC) !== 0),
      AmericanIndianOrAlaskaNative: yesNo(codes.includes('100')),
      Asian: yesNo(codes.some((c) => c.startsWith('2') || c === '400')),
      BlackOrAfricanAmerican: yesNo(codes.includes('600')),
      NativeHawaiianOrOtherPacificIslander: yesNo(codes.some((c) => c.startsWith('3'))),
      White: yesNo(codes.includes('700')),
      CurrentGrade: gr === 0 ? 'K' : String(gr),
      EnrollmentStatus: 'Enrolled',
      DistrictSourcedID: d.districtCode,
      DistrictIdentifier: d.districtCode,
      DistrictStateID: d.districtCode,
      DistrictName: d.districtName,
      SchoolRenaissanceID: uuidFrom(hashKey(d.seed, 'star-school'), t.school.idx),
      SchoolSourcedID: t.school.code,
      SchoolIdentifier: t.school.code,
      SchoolStateID: t.school.code,
      SchoolName: t.school.name,
      CourseSourcedID: sec ? `${sec.course.code}-${Y}` : '',
      CourseCode: sec?.course.code ?? '',
      CourseName: sec?.course.title ?? '',
      ClassSourcedID: sec?.id ?? '',
      ClassCode: sec ? pad2(sec.num) : '',
      GroupOrClassName: sec ? `${sec.course.title} (${pad2(sec.num)})` : '',
      TeacherSourcedID: teacher?.id ?? '',
      TeacherIdentifier: teacher?.id ?? '',
      TeacherUserID: teacher?.id ?? '',
      TeacherEmail: teacher ? `${loginName(teacher.first, teacher.last, teacher.id)}@${d.domain}` : '',
      TeacherFirstName: teacher?.first ?? '',
      TeacherLastName: teacher?.last ?? '',
      AssessmentID: uuidFrom(hashKey(d.seed, 'star-assessment', wname), t.i),
      LaunchDate: launch,
      CompletedDate: completed,
      CompletedDateLocal: local,
      AssessmentNumber: String(wname === 'Fall' ? 1 : wname === 'Winter' ? 2 : 3),
      AssessmentType: 'Enterprise',
      AssessmentStatus: 'Active',
      GradePlacement: (gr + frac * 0.9).toFixed(2),
      Grade: gr === 0 ? 'K' : String(gr),
      ExtraTime: 'No',
      ScaledScore: String(t.score),
      StandardErrorOfMeasurement: (0.3 + ((k >>> 7) % 100) / 1000).toFixed(6),
      UnifiedScore: String(unified),
      PercentileRank: String(t.percentile),
      NormalCurveEquivalent: String(clamp(Math.round(50 + 21.06 * normalInv(t.percentile / 100)), 1, 99)),
      TotalTimeInSeconds: String(600 + (k % 900)),
      TotalCorrect: String(10 + (k % 20)),
      TotalPossible: '34',
      ScreeningPeriodWindowName: wname,
      ScreeningWindowStartDate: `${dayToIso(g.cal.instructionalDays[win.first] as number)}T00:00:00Z`,
      ScreeningWindowEndDate: `${dayToIso(win.delivery)}T00:00:00Z`,
      RenaissanceBenchmarkCategoryName: bench,
      RenaissanceBenchmarkCategoryLevel: String(level),
      RenaissanceBenchmarkCategoryNumberOfLevels: '4',
      CurrentSGP: '',
      TakenAt: 'school',
      StudentDisplayID: d.localIdOf(t.i),
      TeacherDisplayID: teacher?.id ?? '',
    });
    if (f.row(row)) await f.flush();
  }
  await f.close();
}

