/**
 * Raw and refined on small hand-written deliveries: column drift, duplicates, unreadable files,
 * encodings, a failed run, the key, the CLI's --json record.
 */
import { createHash, createHmac } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import iconv from 'iconv-lite';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { identityPath } from '../../src/identity/store.ts';
import { main } from '../../src/cli.ts';
import { Db } from '../../src/db/duckdb.ts';
import { EDLAKE_KEY_MACRO, edlakeKey, personKeyParams, personKeySql } from '../../pipeline/keys.ts';
import { runPipeline } from '../../pipeline/run.ts';
import { demoSecretsPath, MissingPiiKeyError } from '../../pipeline/secrets.ts';
import { workDbPath } from '../../pipeline/workdb.ts';
import { hmacKey, removeDir, run, sha256File, tempDir, TEST_PII_KEY, withLake } from './helpers.ts';

const dirs: string[] = [];
const dir = (p: string) => {
  const d = tempDir(p);
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach(removeDir));

function put(landing: string, path: string, content: string | Buffer): void {
  const full = join(landing, path);
  mkdirSync(dirname(full), { recursive: true });
  writeFileSync(full, content);
}

const ORGS = 'sourcedId,status,dateLastModified,name,type,identifier,metadata.classification,metadata.gender,metadata.boarding,parentSourcedId\n6000001,,,Test District,district,,,,,\n6011111,,,Test Elementary,school,6011111,,,,6000001\n';
const STUDENTS =
  'student_id,state_student_id,last_name,first_name,middle_name,birth_date,gender,grade_level,hispanic_latino,race_code_1,race_code_2,race_code_3,home_language_code,el_status,parent_ed_level\n' +
  '1000001,3000000001,Garcia,Ana,,2015-03-04,F,4,Y,700,,,01,EL,12\n' +
  '1000002,3000000002,Nguyen,Bao,,2015-07-19,M,4,N,204,,,02,EO,13\n' +
  '1000003,3000000003,Smith,Cara,Lee,2014-11-30,F,5,N,600,700,,00,EO,14\n';
const ATTENDANCE = 'student_id,school_code,attendance_date,attendance_code,minutes_missed\n1000001,6011111,2025-09-03,U,\n1000002,6011111,2025-09-03,T,12\n1000003,6011111,2025-09-03,E,\n';
// the same rows: columns reordered, spelled differently (one by its alias), one added, one missing
const ATTENDANCE_DRIFTED = 'Attendance Code,DATE,School_Code,Student ID,Comment\nU,09/03/2025,6011111,1000001,called in\nT,09/03/2025,6011111,1000002,\nE,09/03/2025,6011111,1000003,\n';

function baseLanding(): string {
  const landing = dir('landing');
  put(landing, 'oneroster/2025-09-01/orgs.csv', ORGS);
  put(landing, 'sis/2025-09-01/students.csv', STUDENTS);
  return landing;
}

async function attendanceRows(lake: string) {
  return withLake(lake, (db) =>
    db.all(
      `SELECT tenant, student_key, school_id, school_year, CAST(event_date AS VARCHAR) AS d, attendance_event_category_descriptor AS code
       FROM refined.student_school_attendance_events ORDER BY ALL`,
    ),
  );
}

describe('column drift', () => {
  it('loads a file with reordered, renamed, added and missing columns as the original', async () => {
    const a = baseLanding();
    put(a, 'sis/2025-09-03/attendance.csv', ATTENDANCE);
    const b = baseLanding();
    put(b, 'sis/2025-09-03/attendance.csv', ATTENDANCE_DRIFTED);
    const lakeA = dir('lake');
    const lakeB = dir('lake');
    const ra = await run(a, lakeA);
    const rb = await run(b, lakeB);
    expect(ra.status).toBe('succeeded');
    expect(rb.status).toBe('succeeded');
    const rowsA = await attendanceRows(lakeA);
    expect(rowsA).toHaveLength(3);
    expect(rowsA.map((r) => r['student_key']).sort()).toEqual(['1000001', '1000002', '1000003'].map((id) => hmacKey('district', id)).sort());
    expect(await attendanceRows(lakeB)).toEqual(rowsA);
    for (const r of [ra, rb]) {
      const f = r.files.find((x) => x.path.endsWith('attendance.csv'))!;
      expect(f.rows).toEqual({ delivered: 3, refined: 3, quarantined: 0, duplicate: 0, skipped: 0 });
    }
  });
});

describe('deliveries', () => {
  it('loads the same bytes delivered twice once, and a re-run finds nothing new', async () => {
    const landing = baseLanding();
    put(landing, 'sis/2025-09-03/attendance.csv', ATTENDANCE);
    put(landing, 'sis/2025-09-04/attendance_again.csv', ATTENDANCE);
    const lake = dir('lake');
    const r = await run(landing, lake);
    const dup = r.files.find((f) => f.path === 'sis/2025-09-04/attendance_again.csv')!;
    expect(dup.status).toBe('duplicate');
    expect(dup.duplicateOf).toBe('sis/2025-09-03/attendance.csv');
    expect(dup.rows).toEqual({ delivered: 3, refined: 0, quarantined: 0, duplicate: 3, skipped: 0 });
    expect(await attendanceRows(lake)).toHaveLength(3);
    // archived once, content-addressed
    const archived = readdirSync(join(lake, 'raw', 'files'));
    expect(archived.filter((n) => n.startsWith(sha256File(join(landing, 'sis/2025-09-03/attendance.csv'))))).toHaveLength(1);
    const again = await run(landing, lake);
    expect(again.summary.seen).toBe(0);
    expect(await attendanceRows(lake)).toHaveLength(3);
  });

  it('a later delivery replaces a changed row, counts an unchanged one as a duplicate and adds a new one, in one run or across runs', async () => {
    const header = 'student_id,school_code,grade_level,entry_date,entry_code,exit_date,exit_code\n';
    const first = header + '1000001,6011111,4,2025-08-20,E1,,\n1000002,6011111,4,2025-08-20,E1,,\n1000003,6011111,5,2025-08-20,E1,,\n';
    // a day later: 1000002 withdrew (exit date and code), 1000003 re-entered after a gap (a new enrollment)
    const later = header + '1000001,6011111,4,2025-08-20,E1,,\n1000002,6011111,4,2025-08-20,E1,2025-09-01,T1\n1000003,6011111,5,2025-08-20,E1,,\n1000003,6011111,5,2025-09-02,E2,,\n';
    const enrollments = (lake: string) =>
      withLake(lake, (db) => db.all(`SELECT student_key, CAST(entry_date AS VARCHAR) AS entry, CAST(exit_withdraw_date AS VARCHAR) AS exit FROM refined.student_school_associations ORDER BY ALL`));
    const expected = [
      ['1000001', '2025-08-20', null],
      ['1000002', '2025-08-20', '2025-09-01'],
      ['1000003', '2025-08-20', null],
      ['1000003', '2025-09-02', null],
    ]
      .map(([id, entry, exit]) => ({ student_key: hmacKey('district', id as string), entry, exit }))
      .sort((a, b) => (a.student_key === b.student_key ? (a.entry! < b.entry! ? -1 : 1) : a.student_key < b.student_key ? -1 : 1));
    const laterFile = (r: Awaited<ReturnType<typeof run>>) => r.files.find((f) => f.path === 'sis/2025-09-02/school_enrollment.csv')?.rows;
    const changed = { delivered: 4, refined: 2, quarantined: 0, duplicate: 2, skipped: 0 };

    const apart = baseLanding();
    put(apart, 'sis/2025-09-01/school_enrollment.csv', first);
    const lakeApart = dir('lake');
    expect((await run(apart, lakeApart)).entities['student_school_associations']).toEqual({ inserted: 3, updated: 0 });
    put(apart, 'sis/2025-09-02/school_enrollment.csv', later);
    const second = await run(apart, lakeApart);
    expect(laterFile(second)).toEqual(changed);
    expect(second.entities['student_school_associations']).toEqual({ inserted: 1, updated: 1 });
    expect(await enrollments(lakeApart)).toEqual(expected);
    // provenance: the changed and the new row name the later file and their row in it; unchanged rows keep the first
    const sha = (text: string) => createHash('sha256').update(text).digest('hex');
    const provenance = await withLake(lakeApart, (db) =>
      db.all<{ student_key: string; entry: string; sha: string; row: number }>(
        `SELECT student_key, CAST(entry_date AS VARCHAR) AS entry, _file_sha256 AS sha, _row_number AS row, _source AS source FROM refined.student_school_associations`,
      ),
    );
    const at = (id: string, entry: string) => provenance.find((p) => p.student_key === hmacKey('district', id) && p.entry === entry);
    expect(at('1000001', '2025-08-20')).toMatchObject({ sha: sha(first), row: 1, source: 'sis' });
    expect(at('1000002', '2025-08-20')).toMatchObject({ sha: sha(later), row: 2, source: 'sis' });
    expect(at('1000003', '2025-08-20')).toMatchObject({ sha: sha(first), row: 3, source: 'sis' });
    expect(at('1000003', '2025-09-02')).toMatchObject({ sha: sha(later), row: 4, source: 'sis' });

    const together = baseLanding();
    put(together, 'sis/2025-09-01/school_enrollment.csv', first);
    put(together, 'sis/2025-09-02/school_enrollment.csv', later);
    const lakeTogether = dir('lake');
    const both = await run(together, lakeTogether);
    expect(laterFile(both)).toEqual(changed);
    expect(both.entities['student_school_associations']).toEqual({ inserted: 4, updated: 0 });
    expect(await enrollments(lakeTogether)).toEqual(expected);
  });

  it('writes a derived record (the assessment of score rows) once, from its first row, in one run or across runs', async () => {
    // Star skill-area extracts: each row is a score of one skill area and derives the assessment
    // 'STAR-READING:<skill area>'. The later file repeats one skill area and brings a new one.
    const header = 'SchoolYear,StudentIdentifier,AssessmentID,CompletedDate,SkillAreaName,SkillAreaMasteryScore\n';
    const at = (d: string) => `${d}T15:28:02Z`;
    const first =
      header +
      [`2025-2026,1000001,A1,${at('2025-09-26')},Word Knowledge,80`, `2025-2026,1000001,A1,${at('2025-09-26')},Comprehension,75`, `2025-2026,1000002,A2,${at('2025-09-26')},Word Knowledge,60`, `2025-2026,1000002,A2,${at('2025-09-26')},Comprehension,65`].join('\n') +
      '\n';
    const later = header + [`2025-2026,1000003,A3,${at('2025-12-15')},Comprehension,70`, `2025-2026,1000003,A3,${at('2025-12-15')},Vocabulary,72`, `2025-2026,1000001,A4,${at('2025-12-15')},Vocabulary,85`].join('\n') + '\n';
    const sha = (text: string) => createHash('sha256').update(text).digest('hex');
    // Oracle: each skill area once, with the file and row that first delivered it.
    const expected = [
      { id: 'STAR-READING:Comprehension', sha: sha(first), row: 2 },
      { id: 'STAR-READING:Vocabulary', sha: sha(later), row: 2 },
      { id: 'STAR-READING:Word Knowledge', sha: sha(first), row: 1 },
    ];
    const assessments = (lake: string) =>
      withLake(lake, (db) => db.all(`SELECT assessment_identifier AS id, _file_sha256 AS sha, _row_number AS row FROM refined.assessments ORDER BY id`));
    const scores = (lake: string) => withLake(lake, (db) => db.scalar<number>(`SELECT count(*)::INTEGER FROM refined.student_assessments`));
    const files = { first: 'star/2025-09-26/SR_SkillArea_v1.csv', later: 'star/2025-12-15/SR_SkillArea_v1.csv' };
    const rowsOf = (r: Awaited<ReturnType<typeof run>>, path: string) => r.files.find((f) => f.path === path)?.rows;

    const apart = baseLanding();
    put(apart, files.first, first);
    const lakeApart = dir('lake');
    const one = await run(apart, lakeApart);
    expect(one.entities['assessments']).toEqual({ inserted: 2, updated: 0 });
    expect(rowsOf(one, files.first)).toEqual({ delivered: 4, refined: 4, quarantined: 0, duplicate: 0, skipped: 0 });
    put(apart, files.later, later);
    const two = await run(apart, lakeApart);
    expect(two.entities['assessments']).toEqual({ inserted: 1, updated: 0 });
    expect(rowsOf(two, files.later)).toEqual({ delivered: 3, refined: 3, quarantined: 0, duplicate: 0, skipped: 0 });
    expect(await assessments(lakeApart)).toEqual(expected);
    expect(await scores(lakeApart)).toBe(7);

    const together = baseLanding();
    put(together, files.first, first);
    put(together, files.later, later);
    const lakeTogether = dir('lake');
    const both = await run(together, lakeTogether);
    expect(both.entities['assessments']).toEqual({ inserted: 3, updated: 0 });
    expect(await assessments(lakeTogether)).toEqual(expected);
    expect(await scores(lakeTogether)).toBe(7);
  });

  it('quarantines every row of a key delivered twice in one file with different values, and refines neither', async () => {
    const header = 'student_id,school_code,grade_level,entry_date,entry_code,exit_date,exit_code\n';
    // 1000002's enrollment twice, once open and once withdrawn: which one is true is not ours to guess
    const file = header + '1000001,6011111,4,2025-08-20,E1,,\n1000002,6011111,4,2025-08-20,E1,,\n1000002,6011111,4,2025-08-20,E1,2025-09-01,T1\n';
    const landing = baseLanding();
    put(landing, 'sis/2025-09-01/school_enrollment.csv', file);
    const lake = dir('lake');
    const r = await run(landing, lake);
    const f = r.files.find((x) => x.path === 'sis/2025-09-01/school_enrollment.csv')!;
    expect(f.rows).toEqual({ delivered: 3, refined: 1, quarantined: 2, duplicate: 0, skipped: 0 });
    expect(f.quarantineByRule).toEqual({ conflicting_duplicate: 2 });
    const refined = await withLake(lake, (db) => db.all(`SELECT student_key FROM refined.student_school_associations`));
    expect(refined).toEqual([{ student_key: hmacKey('district', '1000001') }]);
    const quarantined = await withLake(lake, (db) => db.all(`SELECT row_number, rule FROM quarantine.rows WHERE path = $1 ORDER BY row_number`, ['sis/2025-09-01/school_enrollment.csv']));
    expect(quarantined).toEqual([
      { row_number: 2, rule: 'conflicting_duplicate' },
      { row_number: 3, rule: 'conflicting_duplicate' },
    ]);
  });

  it('quarantines two attendance rows of one student, school and day with different codes (the source key is narrower than the contract key)', async () => {
    // the SIS writes one row per student, school and day: 1000002 absent (U) and tardy (T) on 09-03 cannot both be true;
    // the contract's key also holds the code, so the two rows are two different keys there
    const file = 'student_id,school_code,attendance_date,attendance_code,minutes_missed\n1000001,6011111,2025-09-03,U,\n1000002,6011111,2025-09-03,U,\n1000002,6011111,2025-09-03,T,12\n';
    const landing = baseLanding();
    put(landing, 'sis/2025-09-03/attendance.csv', file);
    const lake = dir('lake');
    const r = await run(landing, lake);
    const f = r.files.find((x) => x.path === 'sis/2025-09-03/attendance.csv')!;
    expect(f.rows).toEqual({ delivered: 3, refined: 1, quarantined: 2, duplicate: 0, skipped: 0 });
    expect(f.quarantineByRule).toEqual({ conflicting_duplicate: 2 });
    const quarantined = await withLake(lake, (db) => db.all(`SELECT row_number, rule, field FROM quarantine.rows WHERE path = $1 ORDER BY row_number`, ['sis/2025-09-03/attendance.csv']));
    expect(quarantined).toEqual([
      { row_number: 2, rule: 'conflicting_duplicate', field: 'attendance_code' },
      { row_number: 3, rule: 'conflicting_duplicate', field: 'attendance_code' },
    ]);
  });

  it('keeps each row with its own file when a delivery adds a column named file_index', async () => {
    // DuckDB's multi-file scan names the file of a row `file_index`; a delivered column of that name must not take its place
    const landing = baseLanding();
    const plain = ATTENDANCE;
    const withColumn = 'student_id,school_code,attendance_date,attendance_code,minutes_missed,file_index\n1000001,6011111,2025-09-04,T,5,0\n1000002,6011111,2025-09-04,U,,0\n1000003,6011111,2025-09-04,T,9,0\n';
    put(landing, 'sis/2025-09-03/attendance.csv', plain);
    put(landing, 'sis/2025-09-04/attendance.csv', withColumn);
    const lake = dir('lake');
    const r = await run(landing, lake);
    for (const d of ['03', '04']) {
      expect(r.files.find((x) => x.path === `sis/2025-09-${d}/attendance.csv`)?.rows).toEqual({ delivered: 3, refined: 3, quarantined: 0, duplicate: 0, skipped: 0 });
    }
    const sha = (text: string) => createHash('sha256').update(text).digest('hex');
    const byFile = await withLake(lake, (db) =>
      db.all<{ sha: string; day: string; n: number }>(
        `SELECT _file_sha256 AS sha, CAST(event_date AS VARCHAR) AS day, count(*)::INTEGER AS n FROM refined.student_school_attendance_events GROUP BY ALL ORDER BY day`,
      ),
    );
    expect(byFile).toEqual([
      { sha: sha(plain), day: '2025-09-03', n: 3 },
      { sha: sha(withColumn), day: '2025-09-04', n: 3 },
    ]);
  });

  it('inhales files in parallel with the outcome of one at a time: repeats in a run are duplicates of the first in path order', async () => {
    const landing = baseLanding();
    for (const d of ['03', '04', '05']) put(landing, `sis/2025-09-${d}/attendance.csv`, ATTENDANCE);
    // the same bytes under an unknown source (rejected) and under sis (a layout no sis file has):
    // the second is read on its own, not recorded as a duplicate of a rejected file
    put(landing, 'mystery/2025-09-03/file.csv', 'a,b\n1,2\n');
    put(landing, 'sis/2025-09-06/file.csv', 'a,b\n1,2\n');
    const outcome = (r: Awaited<ReturnType<typeof run>>) =>
      r.files.map((f) => ({ path: f.path, status: f.status, reason: f.reason ?? null, duplicateOf: f.duplicateOf ?? null, rows: f.rows }));
    const one = await run(landing, dir('lake'), { threads: 1 });
    const two = await run(landing, dir('lake'), { threads: 2 });
    expect(outcome(two)).toEqual(outcome(one));
    const byPath = new Map(outcome(two).map((f) => [f.path, f]));
    expect(byPath.get('sis/2025-09-03/attendance.csv')).toMatchObject({ status: 'loaded', rows: { delivered: 3, refined: 3 } });
    for (const d of ['04', '05']) {
      expect(byPath.get(`sis/2025-09-${d}/attendance.csv`)).toMatchObject({ status: 'duplicate', duplicateOf: 'sis/2025-09-03/attendance.csv', rows: { delivered: 3, duplicate: 3 } });
    }
    expect(byPath.get('mystery/2025-09-03/file.csv')).toMatchObject({ status: 'rejected', reason: 'unknown_source' });
    expect(byPath.get('sis/2025-09-06/file.csv')).toMatchObject({ status: 'rejected', reason: 'unknown_layout' });
  });

  it('records unreadable, empty, header-only and unknown files as rejected and goes on', async () => {
    const landing = baseLanding();
    put(landing, 'sis/2025-09-03/attendance.csv', ATTENDANCE);
    put(landing, 'sis/2025-09-03/garbage.csv', Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x00, 0x00, 0xff, 0x10, 0x00, 0x00, 0x01, 0x02]));
    put(landing, 'sis/2025-09-03/nothing.csv', '');
    put(landing, 'survey/2025-09-03/wellbeing_responses.csv', 'response_id,student_id,school_code,grade_level,survey_name,administration,submitted_at,BEL1\r\n');
    put(landing, 'mystery/2025-09-03/file.csv', 'a,b\n1,2\n');
    put(landing, 'sis/2025-09-03/weird.csv', 'alpha,beta,gamma\n1,2,3\n');
    const lake = dir('lake');
    const r = await run(landing, lake);
    expect(r.status).toBe('succeeded');
    const reason = (p: string) => r.files.find((f) => f.path === p)?.reason;
    expect(reason('sis/2025-09-03/garbage.csv')).toBe('unreadable');
    expect(reason('sis/2025-09-03/nothing.csv')).toBe('empty_file');
    expect(reason('survey/2025-09-03/wellbeing_responses.csv')).toBe('header_only');
    expect(reason('mystery/2025-09-03/file.csv')).toBe('unknown_source');
    expect(reason('sis/2025-09-03/weird.csv')).toBe('unknown_layout');
    expect(r.rejected).toHaveLength(5);
    expect(r.files.find((f) => f.path === 'sis/2025-09-03/attendance.csv')?.status).toBe('loaded');
    expect(await attendanceRows(lake)).toHaveLength(3);
    // rejected files are archived too (the raw stage keeps every delivered byte)
    expect(existsSync(join(lake, 'raw', 'files', `${sha256File(join(landing, 'sis/2025-09-03/garbage.csv'))}.csv`))).toBe(true);
  });

  it('reads Windows-1252, a BOM and CRLF, and marks ragged rows', async () => {
    const landing = dir('landing');
    put(landing, 'oneroster/2025-09-01/orgs.csv', ORGS);
    const students = STUDENTS.replace('Garcia,Ana', 'Muñoz,José').replace(/\n/g, '\r\n');
    put(landing, 'sis/2025-09-01/students.csv', iconv.encode(students, 'windows-1252'));
    const ragged = ATTENDANCE.replace('1000002,6011111,2025-09-03,T,12', '1000002,6011111,2025-09-03');
    put(landing, 'sis/2025-09-03/attendance.csv', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(ragged.replace(/\n/g, '\r\n'))]));
    const lake = dir('lake');
    const r = await run(landing, lake);
    expect(r.files.find((f) => f.path.endsWith('students.csv'))?.encoding).toBe('windows-1252');
    expect(r.files.find((f) => f.path.endsWith('attendance.csv'))?.encoding).toBe('utf-8-bom');
    const att = r.files.find((f) => f.path.endsWith('attendance.csv'))!;
    expect(att.rows).toEqual({ delivered: 3, refined: 2, quarantined: 1, duplicate: 0, skipped: 0 });
    expect(att.quarantineByRule).toEqual({ ragged_row: 1 });
    await withLake(lake, async (db) => {
      const names = await db.all(`SELECT first_name, last_name FROM identity.persons WHERE natural_id = '1000001'`);
      expect(names).toEqual([{ first_name: 'José', last_name: 'Muñoz' }]);
      const q = await db.all(`SELECT row_number, rule, field FROM quarantine.rows`);
      expect(q).toEqual([{ row_number: 2, rule: 'ragged_row', field: null }]);
    });
    expect(statSync(identityPath(lake)).mode & 0o777).toBe(0o600);
  });
});

describe('a failed run', () => {
  it('leaves everything earlier runs produced untouched and says why', async () => {
    const landing = baseLanding();
    put(landing, 'sis/2025-09-03/attendance.csv', ATTENDANCE);
    const lake = dir('lake');
    expect((await run(landing, lake)).status).toBe('succeeded');
    const before = { work: sha256File(workDbPath(lake)), identity: sha256File(identityPath(lake)), files: readdirSync(join(lake, 'raw', 'files')).sort(), rows: readdirSync(join(lake, 'raw', 'rows')).sort() };
    put(landing, 'sis/2025-09-04/attendance.csv', ATTENDANCE.replaceAll('2025-09-03', '2025-09-04'));
    put(landing, 'sis/2025-09-04/students.csv', STUDENTS.replace('1000003,3000000003,Smith,Cara', '1000004,3000000004,Jones,Dee'));
    const failed = await run(landing, lake, { stages: [{ name: 'boom', run: async () => Promise.reject(new Error('a later stage failed')) }] });
    expect(failed.status).toBe('failed');
    expect(failed.error).toBe('a later stage failed');
    expect(sha256File(workDbPath(lake))).toBe(before.work);
    expect(sha256File(identityPath(lake))).toBe(before.identity);
    expect(readdirSync(join(lake, 'raw', 'files')).sort()).toEqual(before.files);
    expect(readdirSync(join(lake, 'raw', 'rows')).sort()).toEqual(before.rows);
    expect(readdirSync(join(lake, 'runs'))).toHaveLength(2);
    expect(existsSync(join(lake, '.lock'))).toBe(false);
    // the next run does the work
    const next = await run(landing, lake);
    expect(next.status).toBe('succeeded');
    expect(next.summary.loaded).toBe(2);
    expect(await attendanceRows(lake)).toHaveLength(6);
  });
});

describe('the PII key', () => {
  it('is required, except for the demo, which keeps one outside the lake', async () => {
    const landing = baseLanding();
    const lake = join(dir('demo'), 'lake');
    const noKey = loadConfig({ landing, lake }, {});
    await expect(runPipeline(noKey)).rejects.toBeInstanceOf(MissingPiiKeyError);
    const r1 = await runPipeline(noKey, { demoKey: true });
    expect(r1.piiKeyOrigin).toBe('demo-file');
    const secrets = demoSecretsPath(lake);
    expect(secrets.startsWith(join(lake, ''))).toBe(false);
    expect(statSync(secrets).mode & 0o777).toBe(0o600);
    const keys1 = await withLake(lake, (db) => db.all(`SELECT student_key FROM refined.students ORDER BY 1`));
    put(landing, 'sis/2025-09-02/students.csv', STUDENTS.replace('1000003,3000000003,Smith,Cara', '1000004,3000000004,Jones,Dee'));
    expect((await runPipeline(noKey, { demoKey: true })).status).toBe('succeeded');
    const keys2 = await withLake(lake, (db) => db.all(`SELECT student_key FROM refined.students ORDER BY 1`));
    expect(keys2).toEqual(expect.arrayContaining(keys1));
    expect(keys2).toHaveLength(4);
  });

  it('computes non-person keys the same way in SQL and TypeScript', async () => {
    const db = await Db.open(':memory:');
    try {
      await db.run(EDLAKE_KEY_MACRO);
      const sql = await db.scalar<string>(`SELECT edlake_key('district', ['ALG1', '6011111', '2026', 'S-01', NULL, 'Fall Semester'])`);
      expect(sql).toBe(edlakeKey('district', ['ALG1', '6011111', 2026, 'S-01', null, 'Fall Semester']));
    } finally {
      db.close();
    }
    expect(hmacKey('district', ' ABC ')).toBe(hmacKey('district', 'abc', TEST_PII_KEY));
  });

  it('computes person keys (HMAC) in SQL exactly as node:crypto does, whatever the key length', async () => {
    const db = await Db.open(':memory:');
    try {
      // keys shorter than, equal to and longer than SHA-256's 64-byte block, and one with non-ASCII bytes
      for (const key of [TEST_PII_KEY, 'k'.repeat(64), 'a-much-longer-secret-'.repeat(5), 'clé-secrète-ünïcode-0123456789abcdef']) {
        for (const msg of ['district|1000001', 'edfi-255901|abc 12', 'district|', 'district|x'.repeat(40)]) {
          const sql = await db.scalar<string>(`SELECT ${personKeySql('$msg')}`, { ...personKeyParams(key), msg });
          expect(sql, `${key.length}-char key, ${msg}`).toBe(createHmac('sha256', key).update(msg, 'utf8').digest('hex'));
        }
      }
    } finally {
      db.close();
    }
  });

  it('gives every student the key of the definition, IDs outside printable ASCII included', async () => {
    const landing = dir('landing');
    put(landing, 'oneroster/2025-09-01/orgs.csv', ORGS);
    // upper-case letters (lowered before keying), a trailing no-break space (trimmed by DuckDB too),
    // a letter outside ASCII, a tab and a no-break space inside the ID, and a trailing and a leading
    // tab, which DuckDB's trim keeps and the definition's removes
    const ids = ['AB-1000001', '1000002\u00a0', 'élève-3', 'x\ty-4', 'z-5\t', '10\u00a0006', '\tw-7'];
    const body = ids.map((id, i) => `"${id}",300000000${i},Last${i},First${i},,2015-03-04,F,4,N,700,,,01,EO,12`).join('\n');
    put(landing, 'sis/2025-09-01/students.csv', `${STUDENTS.split('\n')[0]}\n${body}\n`);
    const lake = dir('lake');
    expect((await run(landing, lake)).status).toBe('succeeded');
    const keys = await withLake(lake, (db) => db.all<{ k: string }>(`SELECT student_key AS k FROM refined.students ORDER BY 1`));
    expect(keys.map((r) => r.k)).toEqual(ids.map((id) => hmacKey('district', id)).sort());
  });
});

describe('edlake pipeline run --json', () => {
  it('prints the run record with its files', async () => {
    const landing = baseLanding();
    const lake = dir('lake');
    const out: string[] = [];
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => {
      out.push(String(s));
      return true;
    });
    const env = process.env['EDLAKE_PII_KEY'];
    process.env['EDLAKE_PII_KEY'] = TEST_PII_KEY;
    try {
      expect(await main(['pipeline', 'run', '--until', 'refined', '--landing', landing, '--lake', lake, '--json'])).toBe(0);
    } finally {
      spy.mockRestore();
      if (env === undefined) delete process.env['EDLAKE_PII_KEY'];
      else process.env['EDLAKE_PII_KEY'] = env;
    }
    const record = JSON.parse(out.join('')) as { files: Array<{ path: string; source: string; status: string; rows: Record<string, number> }> };
    expect(record.files.map((f) => [f.path, f.source, f.status, f.rows['delivered']])).toEqual([
      ['oneroster/2025-09-01/orgs.csv', 'oneroster', 'loaded', 2],
      ['sis/2025-09-01/students.csv', 'sis', 'loaded', 3],
    ]);
  });
});
