/**
 * Every file parses in its documented layout: DuckDB reads each CSV with the documented delimiter
 * (all VARCHAR) and finds the header's columns and the rows our own reader finds; vendor and
 * standard files carry exactly the real headers (../shared); SIS and survey headers are the
 * columns docs/formats/README.md documents; NDJSON lines are Ed-Fi resources. Also the messiness
 * the brief asks for is really there.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { Db } from '../../src/db/duckdb.ts';
import { HAVE_SHARED, SHARED, type Defect, badFiles, decode, makeDistrict, norm, parseCsv, readDefects, readTable, relLanding, walk } from './helpers.ts';

let out = '';
let defects: Defect[] = [];
let db: Db;

beforeAll(async () => {
  out = await makeDistrict('layouts', { students: 300, seed: 99 });
  defects = readDefects(out);
  db = await Db.open(':memory:');
}, 300_000);
afterAll(() => {
  db?.connection.closeSync();
});

function delimOf(rel: string): string {
  return rel.startsWith('caaspp/') ? '^' : ',';
}
function encodingOf(rel: string): 'utf8' | 'latin1' {
  return rel.startsWith('screener/') ? 'latin1' : 'utf8';
}

describe('landing files parse in their documented layouts', () => {
  it('DuckDB reads every CSV with the header column count and the expected rows', async () => {
    const bad = badFiles(defects);
    const ragged = new Map<string, number>();
    for (const d of defects) if (d.reason === 'ragged_row') ragged.set(d.file, (ragged.get(d.file) ?? 0) + 1);
    const problems: string[] = [];
    let checked = 0;
    for (const f of walk(path.join(out, 'landing'))) {
      const rel = relLanding(out, f);
      if (bad.has(rel) || !rel.endsWith('.csv')) continue;
      const text = decode(readFileSync(f), encodingOf(rel));
      const rows = parseCsv(text, delimOf(rel));
      const header = rows.shift() as string[];
      const nRagged = ragged.get(rel) ?? 0;
      const sql = `SELECT count(*)::INTEGER AS n FROM read_csv($1, delim=$2, header=true, all_varchar=true, quote='"', escape='"', encoding=$3, ignore_errors=$4, auto_detect=false, columns=$5)`;
      const columns: Record<string, string> = {};
      header.forEach((h, j) => (columns[`c${j}`] = 'VARCHAR'));
      try {
        const n = await db.scalar<number>(sql.replace('columns=$5', `columns={${Object.keys(columns).map((k) => `'${k}': 'VARCHAR'`).join(', ')}}`).replace(', $5', ''), [
          f,
          delimOf(rel),
          encodingOf(rel) === 'latin1' ? 'latin-1' : 'utf-8',
          nRagged > 0,
        ]);
        if (n !== rows.length - nRagged) problems.push(`${rel}: DuckDB read ${n} rows, expected ${rows.length - nRagged}`);
      } catch (err) {
        problems.push(`${rel}: ${(err as Error).message.split('\n')[0]}`);
      }
      const wrong = rows.filter((r) => r.length !== header.length).length;
      if (wrong !== nRagged) problems.push(`${rel}: ${wrong} rows with another field count than the header, truth lists ${nRagged}`);
      checked++;
    }
    expect(problems).toEqual([]);
    expect(checked).toBeGreaterThan(300);
  }, 300_000);

  it('vendor and standard files carry exactly the real headers', (ctx) => {
    if (!HAVE_SHARED) {
      ctx.skip('../shared/fixtures is absent: real headers cannot be compared');
      return;
    }
    const fx = (p: string, delim = ',') => (parseCsv(decode(readFileSync(path.join(SHARED, p))), delim)[0] as string[]).map((h) => h.trim());
    const udm = (sub: string) => {
      const dir = path.join(SHARED, 'fixtures/lms_udm_canvas');
      const find = (d: string): string => {
        for (const e of readdirSync(d, { withFileTypes: true })) {
          const p = path.join(d, e.name);
          if (e.isDirectory()) {
            const r = find(p);
            if (r) return r;
          } else if (p.includes(`/${sub}/`)) return p;
        }
        return '';
      };
      return parseCsv(decode(readFileSync(find(dir))))[0] as string[];
    };
    const expected: Array<[RegExp, string[]]> = [
      [/^nwea_map\/.*\/AssessmentResults\.csv$/, fx('fixtures/nwea_map_growth/AssessmentResults.csv')],
      [/^iready\/.*ela\.csv$/, fx('fixtures/iready/diagnostic_results_ela.csv')],
      [/^iready\/.*math\.csv$/, fx('fixtures/iready/diagnostic_results_math.csv')],
      [/^star\/.*\/SR_v2\.csv$/, fx('fixtures/star/SR_v2.csv')],
      [/^screener\/.*\/BESS\.csv$/, fx('fixtures/basc3_bess/BESS.csv')],
      [/^caaspp\//, fx('formats/caaspp_student_score_data_file_2024.header', '^')],
      [/^cers\//, fx('formats/cers_export_64_columns.header')],
      [/^canvas\/.*\/users\.csv$/, udm('users')],
      [/^canvas\/.*\/sections\.csv$/, udm('sections')],
      [/^canvas\/.*\/section-associations\.csv$/, udm('section-associations')],
      [/^canvas\/.*\/assignments\.csv$/, udm('assignments')],
      [/^canvas\/.*\/submissions\.csv$/, udm('submissions')],
      ...['orgs', 'academicSessions', 'courses', 'classes', 'users', 'enrollments', 'demographics'].map(
        (n): [RegExp, string[]] => [new RegExp(`^oneroster/.*/${n}\\.csv$`), fx(`fixtures/oneroster/${n}.csv`)],
      ),
    ];
    const bad = badFiles(defects);
    const problems: string[] = [];
    let matched = 0;
    for (const f of walk(path.join(out, 'landing'))) {
      const rel = relLanding(out, f);
      if (bad.has(rel)) continue;
      const e = expected.find(([re]) => re.test(rel));
      if (!e) continue;
      const t = readTable(f, { delim: delimOf(rel), encoding: encodingOf(rel) });
      if (t.header.join('|') !== e[1].join('|')) problems.push(rel);
      matched++;
    }
    expect(problems).toEqual([]);
    expect(matched).toBeGreaterThan(100);
  });

  it('SIS and survey headers are the columns documented in docs/formats', () => {
    const doc = readFileSync(path.resolve(import.meta.dirname, '../../docs/formats/README.md'), 'utf8');
    // "### `name.csv`..." followed by a line of back-quoted, comma-separated column names
    const documented = new Map<string, string[]>();
    const re = /###\s+`([a-z_]+\.csv)`[^\n]*\n`([^`]+)`/g;
    for (const m of doc.matchAll(re)) documented.set(m[1] as string, (m[2] as string).split(',').map((s) => s.trim()));
    const surveyLine = /`(response_id, student_id[^`]+)`/.exec(doc);
    if (surveyLine) documented.set('wellbeing_responses.csv', (surveyLine[1] as string).split(',').map((s) => s.trim()));
    expect(documented.size).toBeGreaterThanOrEqual(8);
    const aliases: Record<string, string> = { ssid: 'statestudentid', attcode: 'attendancecode', date: 'attendancedate' };
    const expand = (cols: string[]) =>
      cols.flatMap((c) => {
        const m = /^([A-Z]+)1\.\.([A-Z]+)4$/.exec(c);
        return m ? [1, 2, 3, 4].map((n) => `${m[1]}${n}`) : [c];
      });
    const bad = badFiles(defects);
    const problems: string[] = [];
    let n = 0;
    for (const source of ['sis', 'survey']) {
      for (const f of walk(path.join(out, 'landing', source))) {
        const rel = relLanding(out, f);
        if (bad.has(rel)) continue;
        const name = path.basename(f).replace(/^attendance_\d{8}\.csv$/, 'attendance.csv');
        const cols = documented.get(name);
        if (!cols) {
          problems.push(`${rel}: no documented layout for ${name}`);
          continue;
        }
        const want = new Set(expand(cols).map(norm));
        const got = readTable(f).header.map((h) => aliases[norm(h)] ?? norm(h));
        const missing = [...want].filter((c) => !got.includes(c) && !(c === 'minutesmissed' && name === 'attendance.csv'));
        const extra = got.filter((c) => !want.has(c));
        if (missing.length + extra.length > 0) problems.push(`${rel}: missing ${missing.join(',')} extra ${extra.join(',')}`);
        n++;
      }
    }
    expect(problems).toEqual([]);
    expect(n).toBeGreaterThan(180);
  });

  it('Ed-Fi NDJSON lines are resources with their natural keys and descriptor URIs', () => {
    const problems: string[] = [];
    const need: Record<string, (o: Record<string, unknown>) => boolean> = {
      students: (o) => typeof o['studentUniqueId'] === 'string',
      schools: (o) => typeof o['schoolId'] === 'number',
      studentSchoolAssociations: (o) => typeof o['entryDate'] === 'string' && typeof (o['studentReference'] as Record<string, unknown>)?.['studentUniqueId'] === 'string',
      studentSchoolAttendanceEvents: (o) => String(o['attendanceEventCategoryDescriptor']).startsWith('uri://ed-fi.org/AttendanceEventCategoryDescriptor#') && typeof o['eventDate'] === 'string',
      sections: (o) => typeof o['sectionIdentifier'] === 'string',
      staffs: (o) => typeof o['staffUniqueId'] === 'string',
    };
    let lines = 0;
    const leas = new Set<number>();
    for (const f of walk(path.join(out, 'landing', 'edfi'))) {
      const resource = path.basename(f, '.ndjson');
      for (const line of readFileSync(f, 'utf8').split('\n')) {
        if (line === '') continue;
        lines++;
        const o = JSON.parse(line) as Record<string, unknown>;
        const check = need[resource];
        if (check && !check(o)) problems.push(`${relLanding(out, f)}: ${line.slice(0, 120)}`);
        if (resource === 'localEducationAgencies') leas.add(o['localEducationAgencyId'] as number);
      }
    }
    expect(problems).toEqual([]);
    expect(lines).toBeGreaterThan(1000);
    // its own district, not the main one
    const mainDistrict = readTable(walk(path.join(out, 'landing', 'oneroster')).find((f) => f.endsWith('orgs.csv')) as string).rows[0]?.[0];
    expect([...leas]).toHaveLength(1);
    expect(String([...leas][0])).not.toBe(mainDistrict);
  });

  it('carries the messiness the brief asks for', () => {
    const sis = walk(path.join(out, 'landing', 'sis')).filter((f) => path.basename(f) === 'attendance.csv');
    const orders = new Set(sis.map((f) => readTable(f).header.join(',')));
    expect(orders.size).toBeGreaterThan(2); // reordered columns and header variants
    const bytes = sis.map((f) => readFileSync(f));
    expect(bytes.some((b) => b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf)).toBe(true); // BOM
    expect(bytes.some((b) => b.includes('\r\n'))).toBe(true); // CRLF
    expect(bytes.some((b) => !b.includes('\r\n'))).toBe(true);
    // a column added mid-year: minutes_missed only from February
    for (const f of sis) {
      const day = path.basename(path.dirname(f));
      const has = readTable(f).header.some((h) => norm(h) === 'minutesmissed');
      expect(has, f).toBe(day >= '2026-02-01');
    }
    // dates in several formats
    const formats = new Set<string>();
    for (const f of sis) {
      const t = readTable(f);
      const j = t.header.findIndex((h) => ['attendancedate', 'date'].includes(norm(h)));
      const v = t.rows[0]?.[j] ?? '';
      formats.add(/^\d{4}-/.test(v) ? 'iso' : /^\d{2}\//.test(v) ? 'mdy' : /^\d\//.test(v) || /^\d{1,2}\/\d\//.test(v) ? 'short' : 'other');
    }
    expect(formats.size).toBeGreaterThan(1);
    // one source in Windows-1252 with accented names
    const bess = walk(path.join(out, 'landing', 'screener')).filter((f) => f.endsWith('BESS.csv'));
    expect(bess.length).toBe(2);
    for (const f of bess) {
      const b = readFileSync(f);
      expect(Buffer.from(b.toString('utf8'), 'utf8').equals(b), 'not valid UTF-8').toBe(false);
      expect(/[éëñáíóúÉÁ]/.test(b.toString('latin1'))).toBe(true);
    }
    expect(existsSync(path.join(out, 'truth', 'students.csv'))).toBe(true);
  });
});
