/**
 * The pipeline against a generated district and the generator's truth/ (an oracle written by the
 * generator, not by the pipeline): every injected defect is quarantined or rejected with the
 * expected reason and field, and nothing else; every file is conserved; the ID column of every
 * vendor file is the right one; keys agree across sources and tenants; no personal data reaches
 * the refined tables.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { literal } from '../../src/db/duckdb.ts';
import { identityPath } from '../../src/identity/store.ts';
import { ENTITIES } from '../../pipeline/contracts/index.ts';
import { edlakeKey } from '../../pipeline/keys.ts';
import type { RunRecord } from '../../pipeline/run.ts';
import { generateDistrict, hmacKey, listFiles, readCsv, removeDir, run, sha256File, tempDir, withLake } from './helpers.ts';

let district: string;
let lake: string;
let record: RunRecord;
const TENANT = 'district';

beforeAll(async () => {
  district = await generateDistrict(300, 1);
  lake = tempDir('lake');
  record = await run(join(district, 'landing'), lake);
}, 300_000);

afterAll(() => {
  removeDir(district);
  removeDir(lake);
});

interface Defect {
  source: string;
  file: string;
  row: string;
  field: string;
  reason: string;
  detail: string;
}

const norm = (s: string) => s.toLowerCase().replace(/[^a-z0-9]/g, '');

function truthDefects(): Defect[] {
  return listFiles(join(district, 'truth', 'defects')).flatMap((f) => readCsv(join(district, 'truth', 'defects', f)) as unknown as Defect[]);
}

/** Data rows of a delivered text file, counted independently: lines after the header (CSV) or non-empty lines (NDJSON). */
function deliveredRows(path: string): number {
  const text = readFileSync(path, 'utf8');
  const lines = text.split(/\r?\n/);
  if (lines[lines.length - 1] === '') lines.pop();
  if (path.endsWith('.ndjson')) return lines.filter((l) => l.trim() !== '').length;
  return Math.max(0, lines.length - 1);
}

describe('a generated district through raw and refined', () => {
  it('succeeds', () => {
    expect(record.error).toBeUndefined();
    expect(record.status).toBe('succeeded');
  });

  it('quarantines or rejects every injected defect with the expected reason and field, and nothing else', async () => {
    const defects = truthDefects();
    expect(defects.length).toBeGreaterThan(10);
    const landing = join(district, 'landing');
    // Oracle for duplicates: same bytes as a file earlier in delivery order that is itself loaded.
    const fileReasons = new Map(defects.filter((d) => d.row === '').map((d) => [d.file, d.reason]));
    const firstLoaded = new Map<string, string>();
    const expected = new Set<string>();
    for (const f of listFiles(landing)) {
      const sha = sha256File(join(landing, f));
      const reason = fileReasons.get(f);
      if (reason && reason !== 'duplicate_file') {
        expected.add(`${f}||${reason}`);
        continue;
      }
      const first = firstLoaded.get(sha);
      if (first) expected.add(`${f}||duplicate_file`);
      else firstLoaded.set(sha, f);
    }
    for (const d of defects) if (d.row !== '') expected.add(`${d.file}|${d.row}|${d.reason}`);

    const got = new Set<string>();
    for (const f of record.files) {
      if (f.status === 'rejected') got.add(`${f.path}||${f.reason}`);
      if (f.status === 'duplicate') got.add(`${f.path}||duplicate_file`);
    }
    const rows = await withLake(lake, (db) => db.all<{ path: string; row_number: number; rule: string; field: string | null }>(`SELECT DISTINCT path, row_number, rule, field FROM quarantine.rows`));
    for (const r of rows) got.add(`${r.path}|${r.row_number}|${r.rule}`);
    expect([...got].filter((g) => !expected.has(g)).sort()).toEqual([]);
    expect([...expected].filter((e) => !got.has(e)).sort()).toEqual([]);

    // the field as written in the file's header
    for (const d of defects) {
      if (d.row === '' || d.field === '') continue;
      const fields = rows.filter((r) => r.path === d.file && String(r.row_number) === d.row && r.rule === d.reason).map((r) => r.field);
      expect(fields, `${d.file} row ${d.row}`).toContain(d.field);
    }
    // a duplicate names the file it duplicates
    for (const d of defects.filter((x) => x.reason === 'duplicate_file')) {
      expect(record.files.find((f) => f.path === d.file)?.duplicateOf).toBe(d.detail);
    }
  });

  it('conserves every row of every file: delivered = refined + quarantined + duplicate + skipped', () => {
    const landing = join(district, 'landing');
    const all = listFiles(landing);
    expect(record.files.map((f) => f.path).sort()).toEqual(all);
    for (const f of record.files) {
      const r = f.rows;
      expect(r.refined + r.quarantined + r.duplicate + r.skipped, f.path).toBe(r.delivered);
      if (f.status !== 'rejected') expect(r.delivered, f.path).toBe(deliveredRows(join(landing, f.path)));
      // rows are skipped only for record types their source declares out of the refined model
      for (const why of Object.keys(f.skippedReasons ?? {})) expect(why, f.path).not.toMatch(/^no mapping/);
    }
    const total = record.summary.rows;
    expect(total.refined + total.quarantined + total.duplicate + total.skipped).toBe(total.delivered);
  });

  it('detects the student ID column of every vendor file', () => {
    const expectedColumn: Record<string, string> = {
      nwea_map: 'StudentID',
      iready: 'Student ID',
      star: 'StudentIdentifier',
      cers: 'StudentIdentifier',
      caaspp: 'LocalStudentID',
      screener: 'Student Number',
      survey: 'student_id',
      canvas: 'LMSUserSourceSystemIdentifier',
    };
    const vendorFiles = record.files.filter((f) => f.status === 'loaded' && expectedColumn[f.source] && f.layout !== 'canvas.users' && f.layout !== 'canvas.sections' && f.layout !== 'canvas.section_associations' && f.layout !== 'canvas.assignments' && f.rows.delivered > 0);
    expect(vendorFiles.length).toBeGreaterThan(20);
    for (const f of vendorFiles) {
      const d = record.idDetection.find((x) => x.path === f.path);
      expect(d, f.path).toBeDefined();
      // header spellings vary between deliveries of district-defined files (survey, sis)
      expect(norm(d!.column ?? ''), f.path).toBe(norm(expectedColumn[f.source]!));
      expect(d!.matchRate, f.path).toBeGreaterThan(0.95);
    }
    // CERS names students by SSID only; i-Ready by SSID at the schools whose account is set so
    const cers = record.idDetection.filter((d) => d.source === 'cers');
    for (const d of cers) expect(Object.keys(d.matchedBy)).toEqual(['state']);
    const schools = readCsv(join(district, 'truth', 'schools.csv'));
    if (schools.some((s) => s['iready_student_id'] === 'ssid' && (s['ela_vendor'] === 'iready' || s['math_vendor'] === 'iready'))) {
      expect(record.idDetection.some((d) => d.source === 'iready' && (d.matchedBy['state'] ?? 0) > 0)).toBe(true);
    }
  });

  it('keys the same student identically in every source (HMAC of tenant and local ID, computed here)', async () => {
    const students = readCsv(join(district, 'truth', 'students.csv'));
    const localOf = new Map<string, string>();
    for (const s of students) {
      localOf.set(s['local_id']!.toLowerCase(), s['local_id']!);
      localOf.set(s['ssid']!.toLowerCase(), s['local_id']!);
    }
    // Canvas names students by its own user id: the users files say which SIS ID it is.
    for (const f of record.files.filter((x) => x.layout === 'canvas.users')) {
      for (const u of readCsv(join(district, 'landing', f.path))) {
        const local = localOf.get((u['SISUserIdentifier'] ?? '').toLowerCase());
        if (local) localOf.set(`lms:${u['SourceSystemIdentifier']}`, local);
      }
    }
    const idColumn: Record<string, string> = {
      nwea_map: 'StudentID',
      star: 'StudentIdentifier',
      cers: 'StudentIdentifier',
      caaspp: 'LocalStudentID',
      screener: 'Student Number',
      iready: 'Student ID',
      survey: 'student_id',
      canvas: 'LMSUserSourceSystemIdentifier',
      sis: 'student_id',
    };
    const tables: Record<string, string> = {
      nwea_map: 'student_assessments',
      star: 'student_assessments',
      cers: 'student_assessments',
      caaspp: 'student_assessments',
      screener: 'student_assessments',
      iready: 'student_assessments',
      survey: 'survey_question_responses',
      canvas: 'lms_submissions',
      sis: 'student_school_attendance_events',
    };
    let checked = 0;
    const sources = new Set<string>();
    await withLake(lake, async (db) => {
      for (const f of record.files) {
        const table = tables[f.source];
        if (f.status !== 'loaded' || !table || f.rows.refined === 0) continue;
        if (f.source === 'canvas' && f.layout !== 'canvas.submissions') continue;
        if (f.source === 'sis' && f.layout !== 'sis.attendance') continue;
        const rowsFile = join(lake, 'raw', 'rows', `${f.sha256}.parquet`);
        const cols = await db.all<{ column_name: string }>(`SELECT column_name FROM (DESCRIBE SELECT * FROM read_parquet(${literal(rowsFile)}))`);
        const col = cols.find((c) => norm(c.column_name) === norm(idColumn[f.source]!))?.column_name;
        expect(col, f.path).toBeDefined();
        const pairs = await db.all<{ id: string; student_key: string }>(
          `SELECT DISTINCT trim(p.${JSON.stringify(col)}) AS id, t.student_key
           FROM read_parquet(${literal(rowsFile)}) p JOIN refined.${table} t ON t._file_sha256 = p._file_sha256 AND t._row_number = p._row_number`,
        );
        for (const p of pairs) {
          const local = localOf.get((f.source === 'canvas' ? `lms:${p.id}` : p.id).toLowerCase());
          expect(local, `${f.path}: ${p.id}`).toBeDefined();
          expect(p.student_key, `${f.path}: ${p.id}`).toBe(hmacKey(TENANT, local!));
          checked++;
          sources.add(f.source);
        }
      }
    });
    expect(checked).toBeGreaterThan(1000);
    expect([...sources].sort()).toEqual(expect.arrayContaining(['canvas', 'cers', 'nwea_map', 'sis', 'survey']));
  });

  it('keeps the two districts apart by tenant: every student of each on its own roster, keyed with its tenant', async () => {
    const main = readCsv(join(district, 'truth', 'students.csv')).map((s) => hmacKey(TENANT, s['local_id']!));
    const edfiStudents = readCsv(join(district, 'truth', 'edfi_students.csv'));
    const edfiTenant = record.files.find((f) => f.source === 'edfi' && f.tenant)?.tenant;
    expect(edfiTenant).toMatch(/^edfi-\d+$/);
    const edfi = edfiStudents.map((s) => hmacKey(edfiTenant!, s['student_unique_id']!));
    await withLake(lake, async (db) => {
      const keys = await db.all<{ tenant: string; student_key: string }>(`SELECT tenant, student_key FROM refined.students`);
      expect(keys.filter((k) => k.tenant === TENANT).map((k) => k.student_key).sort()).toEqual([...main].sort());
      expect(keys.filter((k) => k.tenant === edfiTenant).map((k) => k.student_key).sort()).toEqual([...edfi].sort());
      const tenants = await db.all<{ tenant: string }>(`SELECT DISTINCT tenant FROM refined.student_school_attendance_events ORDER BY 1`);
      expect(tenants.map((t) => t.tenant).sort()).toEqual([TENANT, edfiTenant].sort());
    });
  });

  it('keys sections by their Ed-Fi natural key, the same in SQL as in TypeScript, and links marks and LMS sections to them', async () => {
    await withLake(lake, async (db) => {
      const sections = await db.all<{ tenant: string; section_key: string; local_course_code: string; school_id: string; school_year: number; section_identifier: string; session_name: string }>(
        `SELECT tenant, section_key, local_course_code, school_id, school_year, section_identifier, session_name FROM refined.sections`,
      );
      expect(sections.length).toBeGreaterThan(20);
      for (const s of sections) {
        expect(s.section_key).toBe(edlakeKey(s.tenant, [s.local_course_code, s.school_id, s.school_year, s.section_identifier, s.session_name]));
      }
      const orphans = await db.scalar<number>(
        `SELECT count(*)::INTEGER FROM refined.grades g WHERE NOT EXISTS (SELECT 1 FROM refined.sections s WHERE s.tenant = g.tenant AND s.section_key = g.section_key)`,
      );
      expect(orphans).toBe(0);
      const linked = await db.scalar<number>(`SELECT count(*)::INTEGER FROM refined.lms_sections WHERE section_key IS NOT NULL`);
      expect(linked).toBeGreaterThan(0);
    });
  });

  it('lets no name, birth date, e-mail, phone or state ID into any refined table', async () => {
    expect(statSync(identityPath(lake)).mode & 0o777).toBe(0o600);
    await withLake(lake, async (db) => {
      // names alone are matched exactly, and not in descriptor columns (coded vocabularies such as
      // the location code HALL can equal a surname); full names, e-mails, phones, birth dates and
      // state IDs are searched as substrings of every value.
      const pii = await db.all<{ kind: string; v: string }>(
        `SELECT DISTINCT 'name' AS kind, lower(v) AS v FROM (SELECT unnest([first_name, last_name, middle_name]) AS v FROM identity.persons) WHERE v IS NOT NULL AND length(v) >= 2
         UNION SELECT DISTINCT 'contains', lower(v) FROM (SELECT unnest([email, state_id, birth_date, phone, full_name, first_name || ' ' || last_name]) AS v FROM identity.persons) WHERE v IS NOT NULL AND length(v) >= 6`,
      );
      const ssids = readCsv(join(district, 'truth', 'students.csv')).map((s) => s['ssid']!.toLowerCase());
      expect(pii.filter((p) => p.v.includes('@')).length).toBeGreaterThan(100);
      expect(pii.filter((p) => /^\d{4}-\d{2}-\d{2}$/.test(p.v)).length).toBeGreaterThan(100);
      await db.run(`CREATE TEMP TABLE pii (kind VARCHAR, v VARCHAR)`);
      const appender = await db.connection.createAppender('pii', 'main', 'temp');
      for (const p of [...pii, ...ssids.map((v) => ({ kind: 'contains', v }))]) {
        appender.appendVarchar(p.kind);
        appender.appendVarchar(p.v);
        appender.endRow();
      }
      appender.closeSync();
      const columns = await db.all<{ table_name: string; column_name: string; data_type: string }>(
        `SELECT table_name, column_name, data_type FROM duckdb_columns() WHERE schema_name = 'refined' AND database_name <> 'identity' AND data_type IN ('VARCHAR', 'VARCHAR[]')`,
      );
      expect(columns.length).toBeGreaterThan(50);
      const descriptors = new Set(ENTITIES.flatMap((e) => e.columns.filter((c) => c.descriptor).map((c) => `${e.entity}.${c.name}`)));
      for (const c of columns) {
        const v = c.data_type === 'VARCHAR[]' ? `unnest("${c.column_name}")` : `"${c.column_name}"`;
        const names = !descriptors.has(`${c.table_name}.${c.column_name}`);
        const hits = await db.all<{ value: string; pii: string }>(
          `WITH vals AS (SELECT DISTINCT lower(${v}) AS value FROM refined."${c.table_name}")
           SELECT value, p.v AS pii FROM vals JOIN pii p ON (${names} AND p.kind = 'name' AND vals.value = p.v) OR (p.kind = 'contains' AND contains(vals.value, p.v)) LIMIT 5`,
        );
        expect(hits, `refined.${c.table_name}.${c.column_name}`).toEqual([]);
      }
    });
  });

  it('reports delivered descriptor codes that no seed maps, and only those', () => {
    expect(record.warnings).toEqual([]);
    const seedCodes = new Set(readCsv(join(process.cwd(), 'seeds', 'reference', 'attendance_codes.csv')).map((r) => r['code_value']!.toLowerCase()));
    const delivered = new Set<string>();
    for (const f of record.files.filter((x) => x.layout === 'sis.attendance' && x.status === 'loaded')) {
      for (const r of readCsv(join(district, 'landing', f.path))) {
        const key = Object.keys(r).find((k) => norm(k) === 'attendancecode' || norm(k) === 'attcode');
        const code = key ? r[key] : undefined;
        if (code) delivered.add(code);
      }
    }
    expect(delivered.size).toBeGreaterThan(3);
    const reported = new Set(record.unmappedDescriptors.filter((u) => u.descriptor === 'AttendanceEventCategoryDescriptor').map((u) => u.code));
    const expected = [...delivered].filter((c) => !seedCodes.has(c.toLowerCase()) && !seedCodes.has(c.replace(/^.*#/, '').toLowerCase()));
    // every SIS code without a seed is reported (Ed-Fi URIs of the second district may add more)
    for (const c of expected) expect(reported.has(c), c).toBe(true);
    for (const c of reported) expect(seedCodes.has(c.toLowerCase()) || seedCodes.has(c.replace(/^.*#/, '').toLowerCase()), c).toBe(false);
  });

  it('refines the LMS enrollments of students and teachers and the OneRoster academic sessions (decision 0303)', async () => {
    const landing = join(district, 'landing');
    const defects = new Set(truthDefects().map((d) => `${d.file}|${d.row}`));
    // Oracle: the delivered files. Canvas user id → role (users files, later deliveries win).
    const role = new Map<string, string>();
    const expected = new Map<string, string>();
    const sessions = new Map<string, Record<string, string>>();
    for (const f of listFiles(landing)) {
      if (/^canvas\/.*users\.csv$/.test(f)) for (const u of readCsv(join(landing, f))) role.set(u['SourceSystemIdentifier']!, u['UserRole']!.toLowerCase());
    }
    for (const f of listFiles(landing)) {
      if (/^canvas\/.*section-associations\.csv$/.test(f)) {
        readCsv(join(landing, f)).forEach((r, i) => {
          if (!defects.has(`${f}|${i + 1}`)) expected.set(r['SourceSystemIdentifier']!, role.get(r['LMSUserSourceSystemIdentifier']!) === 'student' ? 'student' : 'staff');
        });
      }
      if (/^oneroster\/.*academicSessions\.csv$/.test(f)) for (const r of readCsv(join(landing, f))) sessions.set(r['sourcedId']!, r);
    }
    expect([...expected.values()].filter((v) => v === 'student').length).toBeGreaterThan(100);
    expect([...expected.values()].filter((v) => v === 'staff').length).toBeGreaterThan(5);
    expect(sessions.size).toBeGreaterThan(2);
    await withLake(lake, async (db) => {
      const got = await db.all<{ id: string; who: string }>(
        `SELECT lms_section_association_id AS id, CASE WHEN student_key IS NOT NULL AND staff_key IS NULL THEN 'student' WHEN staff_key IS NOT NULL AND student_key IS NULL THEN 'staff' END AS who
         FROM refined.lms_section_associations WHERE tenant = $1`,
        [TENANT],
      );
      expect(new Map(got.map((g) => [g.id, g.who]))).toEqual(expected);
      const refined = await db.all<{ session_id: string; begin_date: string; end_date: string; term_descriptor: string }>(
        `SELECT session_id, strftime(begin_date, '%Y-%m-%d') AS begin_date, strftime(end_date, '%Y-%m-%d') AS end_date, term_descriptor FROM refined.sessions WHERE tenant = $1`,
        [TENANT],
      );
      expect(new Map(refined.map((r) => [r.session_id, [r.begin_date, r.end_date, r.term_descriptor]]))).toEqual(
        new Map([...sessions].map(([id, r]) => [id, [r['startDate'], r['endDate'], r['type']]])),
      );
    });
    expect(record.unmappedDescriptors.filter((u) => u.descriptor === 'TermDescriptor')).toEqual([]);
  });

  it('loads nothing twice: a second run over the same landing finds no new file and changes no refined row', async () => {
    const count = async () =>
      withLake(lake, (db) =>
        db.all<{ t: string; n: number }>(
          `SELECT table_name AS t, estimated_size AS n FROM duckdb_tables() WHERE schema_name = 'refined' ORDER BY 1`,
        ),
      );
    const before = await count();
    const again = await run(join(district, 'landing'), lake);
    expect(again.status).toBe('succeeded');
    expect(again.summary.seen).toBe(0);
    expect(await count()).toEqual(before);
  });
});
