/**
 * Identities are consistent across sources: every student a file names (by local ID or by SSID)
 * is on the roster, local ID and SSID pairs agree wherever a file carries both, sections and
 * teachers agree between the SIS, OneRoster, Canvas and vendor files, principals are their
 * schools' administrators. Rows truth/ lists as defective are left out (they are checked in
 * defects.test.ts).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { type Defect, type Table, badFiles, col, defectRows, makeDistrict, readDefects, readTable, readTruthStudents, relLanding, walk } from './helpers.ts';

let out = '';
let defects: Defect[] = [];
let bad = new Set<string>();
let badRows = new Map<string, Set<number>>();
let byLocal = new Map<string, string>();
let bySsid = new Map<string, string>();

beforeAll(async () => {
  out = await makeDistrict('ids', { students: 350, seed: 2024 });
  defects = readDefects(out);
  bad = badFiles(defects);
  badRows = defectRows(defects);
  for (const s of readTruthStudents(out)) {
    byLocal.set(s.local, s.ssid);
    bySsid.set(s.ssid, s.local);
  }
}, 300_000);

/** Tables of a source whose file name matches, without bad files; rows without listed defects. */
function tables(source: string, re: RegExp): Array<Table & { rel: string; good: string[][] }> {
  return walk(path.join(out, 'landing', source))
    .filter((f) => re.test(path.basename(f)))
    .map((f) => {
      const rel = relLanding(out, f);
      return { rel, f };
    })
    .filter((x) => !bad.has(x.rel))
    .map(({ rel, f }) => {
      const t = readTable(f, { delim: source === 'caaspp' ? '^' : ',', encoding: source === 'screener' ? 'latin1' : 'utf8' });
      const skip = badRows.get(rel) ?? new Set<number>();
      return { ...t, rel, good: t.rows.filter((_, k) => !skip.has(k + 1)) };
    });
}

describe('identities across sources', () => {
  it('every student named in a file is on the roster; local ID and SSID agree', () => {
    const problems: string[] = [];
    const checkLocal = (where: string, v: string) => {
      if (!byLocal.has(v)) problems.push(`${where}: unknown local ID ${v}`);
    };
    const checkPair = (where: string, local: string, ssid: string) => {
      if (byLocal.get(local) !== ssid) problems.push(`${where}: ${local} / ${ssid} disagree`);
    };
    let n = 0;
    for (const t of tables('sis', /^(attendance|school_enrollment|program_participation|course_marks|discipline_actions|students)/)) {
      const j = col(t, 'student_id');
      for (const r of t.good) {
        checkLocal(t.rel, r[j] as string);
        n++;
      }
      if (/students\.csv$/.test(t.rel)) {
        const s = col(t, 'state_student_id', 'ssid');
        for (const r of t.good) checkPair(t.rel, r[j] as string, r[s] as string);
      }
    }
    for (const t of tables('oneroster', /^users\.csv$/)) {
      const role = col(t, 'role');
      for (const r of t.good) if (r[role] === 'student') checkPair(t.rel, r[col(t, 'sourcedId')] as string, r[col(t, 'identifier')] as string);
    }
    for (const t of tables('canvas', /^users\.csv$/)) {
      for (const r of t.good) if (r[col(t, 'UserRole')] === 'student') checkLocal(t.rel, r[col(t, 'SISUserIdentifier')] as string);
    }
    for (const t of tables('nwea_map', /^AssessmentResults\.csv$/)) {
      for (const r of t.good) checkPair(t.rel, r[col(t, 'StudentID')] as string, r[col(t, 'Student_StateID')] as string);
    }
    for (const t of tables('star', /^SR_v2\.csv$/)) {
      for (const r of t.good) checkPair(t.rel, r[col(t, 'StudentIdentifier')] as string, r[col(t, 'StudentStateID')] as string);
    }
    for (const t of tables('caaspp', /\.csv$/)) {
      for (const r of t.good) checkPair(t.rel, r[col(t, 'LocalStudentID')] as string, r[col(t, 'SSID')] as string);
    }
    for (const t of tables('cers', /\.csv$/)) {
      for (const r of t.good) if (!bySsid.has(r[col(t, 'StudentIdentifier')] as string)) problems.push(`${t.rel}: unknown SSID`);
    }
    for (const t of tables('screener', /BESS\.csv$/)) {
      for (const r of t.good) checkLocal(t.rel, r[col(t, 'Student Number')] as string);
    }
    for (const t of tables('survey', /^wellbeing_responses\.csv$/)) {
      for (const r of t.good) checkLocal(t.rel, r[col(t, 'student_id')] as string);
    }
    // i-Ready names the student by local ID or by SSID, without saying which
    let ireadyLocal = 0;
    let ireadySsid = 0;
    for (const t of tables('iready', /\.csv$/)) {
      const id = col(t, 'Student ID');
      const st = col(t, 'Student State ID');
      for (const r of t.good) {
        const v = r[id] as string;
        const ssid = byLocal.get(v) ?? (bySsid.has(v) ? v : undefined);
        if (byLocal.has(v)) ireadyLocal++;
        else if (bySsid.has(v)) ireadySsid++;
        else problems.push(`${t.rel}: unknown Student ID ${v}`);
        if (r[st] !== '' && r[st] !== ssid) problems.push(`${t.rel}: Student State ID ${r[st]} disagrees with ${v}`);
      }
    }
    expect(problems.slice(0, 20)).toEqual([]);
    expect(n).toBeGreaterThan(5000);
    expect(ireadyLocal + ireadySsid).toBeGreaterThan(100);
  });

  it('sections, teachers and principals agree between SIS, OneRoster, Canvas and vendors', () => {
    const problems: string[] = [];
    const classes = new Map<string, string>(); // section -> school
    for (const t of tables('oneroster', /^classes\.csv$/)) for (const r of t.good) classes.set(r[col(t, 'sourcedId')] as string, r[col(t, 'schoolSourcedId')] as string);
    const staff = new Map<string, { role: string; org: string }>();
    for (const t of tables('oneroster', /^users\.csv$/)) {
      for (const r of t.good) {
        const role = r[col(t, 'role')] as string;
        if (role !== 'student') staff.set(r[col(t, 'sourcedId')] as string, { role, org: r[col(t, 'orgSourcedIds')] as string });
      }
    }
    const teacherOf = new Map<string, string>();
    for (const t of tables('oneroster', /^enrollments\.csv$/)) {
      for (const r of t.good) {
        const cls = r[col(t, 'classSourcedId')] as string;
        if (!classes.has(cls)) problems.push(`${t.rel}: unknown class ${cls}`);
        if (r[col(t, 'role')] === 'teacher') {
          const who = r[col(t, 'userSourcedId')] as string;
          teacherOf.set(cls, who);
          if (staff.get(who)?.role !== 'teacher') problems.push(`${t.rel}: teacher ${who} is not a OneRoster teacher`);
        }
      }
    }
    expect(classes.size).toBeGreaterThan(20);
    for (const t of tables('sis', /^course_marks\.csv$/)) {
      for (const r of t.good) {
        const sec = r[col(t, 'section_id')] as string;
        if (classes.get(sec) !== r[col(t, 'school_code')]) problems.push(`${t.rel}: section ${sec} not at school ${r[col(t, 'school_code')]}`);
        if (teacherOf.get(sec) !== r[col(t, 'teacher_id')]) problems.push(`${t.rel}: teacher of ${sec}`);
      }
    }
    const canvasSection = new Map<string, string>();
    for (const t of tables('canvas', /^sections\.csv$/)) {
      for (const r of t.good) {
        const sis = r[col(t, 'SISSectionIdentifier')] as string;
        canvasSection.set(r[col(t, 'SourceSystemIdentifier')] as string, sis);
        if (!classes.has(sis)) problems.push(`${t.rel}: Canvas section of unknown class ${sis}`);
      }
    }
    expect(canvasSection.size).toBeGreaterThan(5);
    for (const t of tables('canvas', /^assignments\.csv$/)) {
      for (const r of t.good) if (!canvasSection.has(r[col(t, 'LMSSectionSourceSystemIdentifier')] as string)) problems.push(`${t.rel}: assignment of unknown section`);
    }
    for (const t of tables('star', /^SR_v2\.csv$/)) {
      for (const r of t.good) {
        const teacher = r[col(t, 'TeacherIdentifier')] as string;
        const cls = r[col(t, 'ClassSourcedID')] as string;
        if (teacherOf.get(cls) !== teacher) problems.push(`${t.rel}: Star teacher ${teacher} of ${cls}`);
      }
    }
    // principals: one administrator per school, the one truth names
    const schools = readTable(path.join(out, 'truth', 'schools.csv'));
    for (const r of schools.rows) {
      const principal = r[col(schools, 'principal_id')] as string;
      const s = staff.get(principal);
      if (!s || s.role !== 'administrator' || s.org !== r[0]) problems.push(`principal ${principal} of ${r[0]}`);
    }
    const admins = [...staff.values()].filter((s) => s.role === 'administrator');
    expect(admins.length).toBe(schools.rows.length);
    expect(problems.slice(0, 20)).toEqual([]);
  });
});
