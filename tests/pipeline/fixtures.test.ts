/**
 * Every real sample file in ../shared/fixtures/ (written by others: vendors, Ed-Fi, the LMS
 * Toolkit) loads through its source definition and produces refined rows; the California state
 * file layouts of ../shared/formats/ are recognised from their headers. The fixtures are read in
 * place (the landing folder holds symbolic links); a missing ../shared skips with a message.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunRecord } from '../../pipeline/run.ts';
import { hmacKey, readCsv, removeDir, run, tempDir, withLake } from './helpers.ts';

const shared = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'shared');
const fixtures = join(shared, 'fixtures');
const formats = join(shared, 'formats');
const present = existsSync(fixtures) && existsSync(formats);
if (!present) console.warn(`tests/pipeline/fixtures.test.ts: skipped: ${fixtures} is absent (the shared fixtures sit beside the checkout)`);

/** Fixture folder → landing source folder. */
const SOURCES: Record<string, string> = {
  oneroster: 'oneroster',
  nwea_map_growth: 'nwea_map',
  iready: 'iready',
  star: 'star',
  basc3_bess: 'screener',
  edfi_xml_grand_bend: 'edfi',
  lms_udm_canvas: 'canvas',
};
const DATE = '2021-08-20';

function walk(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((n) => (statSync(join(dir, n)).isDirectory() ? walk(join(dir, n)) : [join(dir, n)]));
}

let landing: string;
let lake: string;
let record: RunRecord;
/** landing path → fixture path */
const linked = new Map<string, string>();

beforeAll(async () => {
  if (!present) return;
  landing = tempDir('fixtures');
  lake = tempDir('fixtures-lake');
  for (const [folder, source] of Object.entries(SOURCES)) {
    for (const file of walk(join(fixtures, folder))) {
      const rel = `${source}/${DATE}/${file.slice(join(fixtures, folder).length + 1)}`;
      mkdirSync(dirname(join(landing, rel)), { recursive: true });
      symlinkSync(file, join(landing, rel));
      linked.set(rel, file);
    }
  }
  // The BESS sample names students 100..500, on no roster of the other samples: a small SIS
  // roster for them, derived here (names are placeholders).
  const bess = readFileSync(join(fixtures, 'basc3_bess', 'BESS.csv'), 'utf8');
  const ids = bess
    .split(/\r?\n/)
    .slice(1)
    .filter((l) => l.trim() !== '')
    .map((l) => l.split(',')[2]);
  mkdirSync(join(landing, 'sis', DATE), { recursive: true });
  writeFileSync(
    join(landing, 'sis', DATE, 'students.csv'),
    `student_id,state_student_id,last_name,first_name,middle_name,birth_date,gender,grade_level\n${ids.map((id, i) => `${id},${9000000000 + i},Screened,Student${i},,2016-01-0${i + 1},F,2`).join('\n')}\n`,
  );
  // California state files: the published headers, with two data rows derived here.
  const caaspp = readFileSync(join(formats, 'caaspp_student_score_data_file_2024.header'), 'utf8').trim().split('^');
  const row = (values: Record<string, string>) => caaspp.map((h) => values[h] ?? '').join('^');
  mkdirSync(join(landing, 'caaspp', DATE), { recursive: true });
  writeFileSync(
    join(landing, 'caaspp', DATE, 'score_data_file.txt'),
    [caaspp.join('^'), row({ RecordType: '01', SSID: '604821', LocalStudentID: '604821', GradeAssessed: '05', FinalTestCompletedDate: '04152024', ScaleScore: '2502', StandardErrorMeasurement: '23', AchievementLevels: '3' }), row({ RecordType: '02', SSID: '604822', LocalStudentID: '604822', GradeAssessed: '08', FinalTestCompletedDate: '04162024', ScaleScore: '2611', StandardErrorMeasurement: '25', AchievementLevels: '4' })].join('\n') + '\n',
  );
  mkdirSync(join(landing, 'cers', DATE), { recursive: true });
  for (const [name, file] of [['cers_59.csv', 'cers_export_59_columns.header'], ['cers_64.csv', 'cers_export_64_columns.header']] as const) {
    const header = readFileSync(join(formats, file), 'utf8').trim();
    const cols = header.split(',').map((h) => h.replace(/^"|"$/g, ''));
    const v: Record<string, string> = { StudentIdentifier: name === 'cers_59.csv' ? '604823' : '604824', SubmitDateTime: '2021-11-18T10:15:00.000Z', SchoolYear: '2022', AssessmentType: 'Interim', AssessmentSubType: 'ICA', AssessmentName: 'Grade 6 ELA ICA', Subject: 'ELA', GradeLevelWhenAssessed: '06', ScaleScore: '2480', ScaleScoreStandardError: '30', ScaleScoreAchievementLevel: '2', Sex: 'Female' };
    writeFileSync(join(landing, 'cers', DATE, name), `${header}\n${cols.map((c) => v[c] ?? '').join(',')}\n`);
  }
  record = await run(landing, lake, {}, { tenant: 'edfi-255901' });
}, 300_000);

afterAll(() => {
  if (!present) return;
  removeDir(landing);
  removeDir(lake);
});

/** Fixture files whose every row is, by design, outside the refined model (with why): none since decision 0303. */
const NOTHING_TO_REFINE: Record<string, string> = {};

describe.skipIf(!present)('the shared fixtures', () => {
  it('all load through their sources, and every row is accounted for', () => {
    expect(record.status).toBe('succeeded');
    expect(record.rejected).toEqual([]);
    for (const f of record.files) {
      expect(f.status, f.path).toBe('loaded');
      const r = f.rows;
      expect(r.refined + r.quarantined + r.duplicate + r.skipped, f.path).toBe(r.delivered);
    }
    expect(record.files.filter((f) => linked.has(f.path))).toHaveLength(linked.size);
    expect(linked.size).toBe(55);
  });

  it('produce refined rows (except the files whose records the refined model does not hold)', () => {
    for (const f of record.files) {
      const exception = Object.keys(NOTHING_TO_REFINE).find((k) => f.path.includes(k));
      if (exception) expect(f.rows.skipped, f.path).toBe(f.rows.delivered);
      else expect(f.rows.refined, f.path).toBeGreaterThan(0);
    }
  });

  it('refine the Canvas section enrollments and the OneRoster academic sessions (decision 0303)', async () => {
    const tenant = 'edfi-255901';
    // Oracle: the fixture files themselves. Canvas user id → SIS ID from the users file.
    const sisOf = new Map<string, string>();
    for (const f of walk(join(fixtures, 'lms_udm_canvas', 'users'))) for (const u of readCsv(f)) if (u['UserRole'] === 'student') sisOf.set(u['SourceSystemIdentifier']!, u['SISUserIdentifier']!);
    const enrollments = walk(join(fixtures, 'lms_udm_canvas')).filter((f) => f.includes('section-associations')).flatMap((f) => readCsv(f));
    expect(enrollments.length).toBeGreaterThan(100);
    const sessions = readCsv(join(fixtures, 'oneroster', 'academicSessions.csv'));
    await withLake(lake, async (db) => {
      const got = await db.all<{ lms_section_association_id: string; lms_section_id: string; student_key: string | null; staff_key: string | null; enrollment_status: string }>(
        `SELECT lms_section_association_id, lms_section_id, student_key, staff_key, enrollment_status FROM refined.lms_section_associations WHERE tenant = $1 ORDER BY 1`,
        [tenant],
      );
      const expected = enrollments
        .map((e) => ({
          lms_section_association_id: e['SourceSystemIdentifier']!,
          lms_section_id: e['LMSSectionSourceSystemIdentifier']!,
          student_key: hmacKey(tenant, sisOf.get(e['LMSUserSourceSystemIdentifier']!)!),
          staff_key: null,
          enrollment_status: e['EnrollmentStatus']!,
        }))
        .sort((a, b) => (a.lms_section_association_id < b.lms_section_association_id ? -1 : 1));
      expect(got).toEqual(expected);
      const refined = await db.all<{ session_id: string; session_name: string; school_year: number; begin_date: string; end_date: string; term_descriptor: string }>(
        `SELECT session_id, session_name, school_year, strftime(begin_date, '%Y-%m-%d') AS begin_date, strftime(end_date, '%Y-%m-%d') AS end_date, term_descriptor FROM refined.sessions WHERE tenant = $1 ORDER BY 1`,
        [tenant],
      );
      const springYear = (d: string) => Number(d.slice(0, 4)) + (Number(d.slice(5, 7)) >= 7 ? 1 : 0);
      expect(refined).toEqual(
        sessions
          .map((r) => ({ session_id: r['sourcedId']!, session_name: r['title']!, school_year: springYear(r['endDate']!), begin_date: r['startDate']!, end_date: r['endDate']!, term_descriptor: r['type']! }))
          .sort((a, b) => (a.session_id < b.session_id ? -1 : 1)),
      );
    });
    // the OneRoster session types are mapped to Ed-Fi TermDescriptor codes by the seeds: none reported unmapped
    expect(record.unmappedDescriptors.filter((u) => u.descriptor === 'TermDescriptor')).toEqual([]);
    expect(record.descriptorTypesWithoutSeeds).not.toContain('TermDescriptor');
  });

  it('recognise the California state layouts from their headers', () => {
    const layout = (p: string) => record.files.find((f) => f.path.endsWith(p))?.layout;
    expect(layout('score_data_file.txt')).toBe('caaspp.student_score_data_file');
    expect(layout('cers_59.csv')).toBe('cers.export_59');
    expect(layout('cers_64.csv')).toBe('cers.export_64');
    expect(record.files.find((f) => f.path.endsWith('score_data_file.txt'))?.rows.refined).toBe(2);
  });

  it('quarantine only the ragged last row of the NWEA sample', async () => {
    const rows = await withLake(lake, (db) => db.all(`SELECT path, row_number, rule FROM quarantine.rows ORDER BY ALL`));
    expect(rows).toEqual([{ path: `nwea_map/${DATE}/AssessmentResults.csv`, row_number: 7, rule: 'ragged_row' }]);
  });

  it('recognise the student ID columns of the vendor samples against the Grand Bend roster', () => {
    const byPath = (p: string) => record.idDetection.find((d) => d.path.endsWith(p));
    expect(byPath('AssessmentResults.csv')?.column).toBe('StudentID');
    expect(byPath('diagnostic_results_ela.csv')?.column).toBe('Student ID');
    expect(byPath('SR_v2.csv')?.column).toBe('StudentIdentifier');
    expect(byPath('BESS.csv')?.column).toBe('Student Number');
    for (const d of record.idDetection) expect(d.matchRate, d.path).toBe(1);
  });
});
