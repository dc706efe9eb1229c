/**
 * `oneroster`: OneRoster 1.1 CSV, the SIS roster export (bulk at the opening delivery and at the
 * spring-term start, delta on nights with enrolment changes). Headers as the real files
 * (../shared/fixtures/oneroster) plus manifest.csv.
 */
import { CsvFile, writeWhole, type Layout } from '../writer.ts';
import { type Gen, rel, identity, vendorLayout, RowMaker } from '../gen.ts';
import { loginName } from '../gen.ts';
import { FLAG, orGrade, type School, type Section } from '../district.ts';
import { OR_ACADEMICSESSIONS_HEADER, OR_CLASSES_HEADER, OR_COURSES_HEADER, OR_DEMOGRAPHICS_HEADER, OR_ENROLLMENTS_HEADER, OR_ORGS_HEADER, OR_USERS_HEADER } from '../headers.ts';
import { dayToIso } from '../calendar.ts';

const L = {
  orgs: vendorLayout('oneroster', 'orgs', OR_ORGS_HEADER, {}, { defects: [] }),
  academicSessions: vendorLayout('oneroster', 'academicSessions', OR_ACADEMICSESSIONS_HEADER, {}, { defects: [] }),
  courses: vendorLayout('oneroster', 'courses', OR_COURSES_HEADER, {}, { defects: [] }),
  classes: vendorLayout('oneroster', 'classes', OR_CLASSES_HEADER, { sourcedId: { role: 'required' } }, { defects: ['missing_required', 'ragged_row'] }),
  users: vendorLayout('oneroster', 'users', OR_USERS_HEADER, { sourcedId: { role: 'required' }, familyName: { role: 'required' } }, { defects: ['missing_required', 'ragged_row'] }),
  enrollments: vendorLayout(
    'oneroster',
    'enrollments',
    OR_ENROLLMENTS_HEADER,
    { userSourcedId: { role: 'student' }, classSourcedId: { role: 'required' } },
    { defects: ['unknown_student', 'missing_required', 'ragged_row'] },
  ),
  demographics: vendorLayout(
    'oneroster',
    'demographics',
    OR_DEMOGRAPHICS_HEADER,
    { userSourcedId: { role: 'student' }, birthdate: { role: 'date', dateStyle: 'iso' } },
    { defects: ['invalid_date', 'ragged_row'] },
  ),
} satisfies Record<string, Layout>;

const M = {
  orgs: new RowMaker(L.orgs),
  sessions: new RowMaker(L.academicSessions),
  courses: new RowMaker(L.courses),
  classes: new RowMaker(L.classes),
  users: new RowMaker(L.users),
  enrollments: new RowMaker(L.enrollments),
  demographics: new RowMaker(L.demographics),
};

function tf(b: boolean): string {
  return b ? 'TRUE' : 'FALSE';
}

function userRow(g: Gen, i: number, status: string, modified: string, schoolCode: string): string[] {
  const d = g.d;
  const det = d.detail(i);
  const lid = d.localIdOf(i);
  const username = loginName(det.first, det.last, lid);
  return M.users.make({
    sourcedId: lid,
    status,
    dateLastModified: modified,
    orgSourcedIds: schoolCode,
    role: 'student',
    username,
    userId: lid,
    givenName: det.first,
    familyName: det.last,
    identifier: d.ssidOf(i),
    email: `${username}@students.${d.domain}`,
  });
}

function demographicsRow(g: Gen, i: number, status: string, modified: string): string[] {
  const d = g.d;
  const det = d.detail(i);
  const codes = det.raceCodes;
  const has = (pred: (c: string) => boolean) => codes.some(pred);
  const fl = d.flags[i] as number;
  return M.demographics.make({
    userSourcedId: d.localIdOf(i),
    status,
    dateLastModified: modified,
    birthdate: dayToIso(det.birthDay),
    sex: det.sex === 'M' ? 'Male' : det.sex === 'F' ? 'Female' : 'Other',
    americanIndianOrAlaskaNative: tf(has((c) => c === '100')),
    asian: tf(has((c) => c.startsWith('2') || c === '400')),
    blackOrAfricanAmerican: tf(has((c) => c === '600')),
    nativeHawaiianOrOtherPacificIslander: tf(has((c) => c.startsWith('3'))),
    white: tf(has((c) => c === '700')),
    demographicRaceTwoOrMoreRaces: tf(codes.length > 1),
    hispanicOrLatinoEthnicity: tf((fl & FLAG.HISPANIC) !== 0),
    countryOfBirthCode: 'US',
    stateOfBirthAbbreviation: 'CA',
    cityOfBirth: '',
    publicSchoolResidenceStatus: '',
  });
}

function enrollmentRow(sec: Section, school: School, userId: string, role: 'student' | 'teacher', status: string, modified: string): string[] {
  return M.enrollments.make({
    sourcedId: `${sec.id}-${userId}`,
    classSourcedId: sec.id,
    schoolSourcedId: school.code,
    userSourcedId: userId,
    role,
    status,
    dateLastModified: modified,
    primary: role === 'teacher' ? 'true' : 'false',
  });
}

function manifest(files: Record<string, 'bulk' | 'delta' | 'absent'>, exportDay: number): string {
  const lines = ['propertyName,value', 'manifest.version,1.0', 'oneroster.version,1.1'];
  for (const name of ['academicSessions', 'categories', 'classes', 'classResources', 'courses', 'courseResources', 'demographics', 'enrollments', 'lineItems', 'orgs', 'resources', 'results', 'users']) {
    lines.push(`file.${name},${files[name] ?? 'absent'}`);
  }
  lines.push('source.systemName,edlake sample SIS', 'source.systemCode,edlake', `source.exportDate,${dayToIso(exportDay)}`);
  return `${lines.join('\n')}\n`;
}

/** Bulk roster as of an instructional day index (0 at the opening delivery). */
export async function writeOneRosterBulk(g: Gen, deliveryDay: number, asOf: number): Promise<void> {
  const d = g.d;
  const Y = g.cal.schoolYear;
  const modified = `${dayToIso(deliveryDay)}T02:00:00Z`;
  const open = (kind: keyof typeof L) => CsvFile.open(g.ctx, L[kind], rel('oneroster', deliveryDay, `${kind}.csv`), identity('oneroster', kind, deliveryDay));
  const orgs = await open('orgs');
  await orgs.add(M.orgs.make({ sourcedId: d.districtCode, status: 'active', dateLastModified: modified, name: d.districtName, type: 'district', identifier: d.districtCode, 'metadata.classification': 'public' }));
  for (const sc of d.schools) {
    await orgs.add(M.orgs.make({ sourcedId: sc.code, status: 'active', dateLastModified: modified, name: sc.name, type: 'school', identifier: sc.code, 'metadata.classification': 'public', parentSourcedId: d.districtCode }));
  }
  await orgs.close();
  const ses = await open('academicSessions');
  const cal = g.cal;
  const days = cal.instructionalDays;
  const dIso = (idx: number) => dayToIso(days[idx] as number);
  await ses.add(M.sessions.make({ sourcedId: String(Y), status: 'active', dateLastModified: modified, title: `${Y - 1}-${Y} School Year`, type: 'schoolYear', startDate: dIso(0), endDate: dIso(days.length - 1) }));
  const q = cal.quarters;
  await ses.add(M.sessions.make({ sourcedId: `${Y}-S1`, status: 'active', dateLastModified: modified, title: `${Y - 1}-${Y} Fall Semester`, type: 'semester', startDate: dIso(0), endDate: dIso(q[1]?.[1] ?? 0), parentSourcedId: String(Y) }));
  await ses.add(M.sessions.make({ sourcedId: `${Y}-S2`, status: 'active', dateLastModified: modified, title: `${Y - 1}-${Y} Spring Semester`, type: 'semester', startDate: dIso(q[2]?.[0] ?? 0), endDate: dIso(days.length - 1), parentSourcedId: String(Y) }));
  for (let k = 0; k < 4; k++) {
    const [a, b] = q[k] as [number, number];
    await ses.add(M.sessions.make({ sourcedId: `${Y}-Q${k + 1}`, status: 'active', dateLastModified: modified, title: `Quarter ${k + 1}`, type: 'gradingPeriod', startDate: dIso(a), endDate: dIso(b), parentSourcedId: `${Y}-S${k < 2 ? 1 : 2}` }));
  }
  await ses.close();
  const courses = await open('courses');
  for (const c of d.courses) {
    await courses.add(M.courses.make({ sourcedId: `${c.code}-${Y}`, status: 'active', dateLastModified: modified, schoolYearId: String(Y), title: c.title, courseCode: c.code, grade: orGrade(c.grade), orgSourcedId: d.districtCode, subjects: c.subject }));
  }
  await courses.close();
  const classes = await open('classes');
  for (const sec of d.sections) {
    const sc = d.schools[sec.school] as School;
    await classes.add(
      M.classes.make({
        sourcedId: sec.id,
        status: 'active',
        dateLastModified: modified,
        title: `${sec.course.title} (${String(sec.num).padStart(2, '0')})`,
        grade: orGrade(sec.course.grade),
        courseSourcedId: `${sec.course.code}-${Y}`,
        classCode: `${sec.course.code}-${String(sec.num).padStart(2, '0')}`,
        classType: sec.course.subject === 'homeroom' ? 'homeroom' : 'scheduled',
        location: sec.room,
        schoolSourcedId: sc.code,
        termSourcedId: `${Y}-S1,${Y}-S2`,
        subjects: sec.course.subject,
      }),
    );
  }
  await classes.close();
  const users = await open('users');
  const enr = await open('enrollments');
  const dem = await open('demographics');
  for (const st of d.staff) {
    const sc = d.schools[st.school] as School;
    const username = loginName(st.first, st.last, st.id);
    await users.add(M.users.make({ sourcedId: st.id, status: 'active', dateLastModified: modified, orgSourcedIds: sc.code, role: st.role, username, userId: st.id, givenName: st.first, familyName: st.last, identifier: st.id, email: `${username}@${d.domain}` }));
  }
  for (const sec of d.sections) {
    const t = d.staff[sec.teacher];
    if (t) await enr.add(enrollmentRow(sec, d.schools[sec.school] as School, t.id, 'teacher', 'active', modified));
  }
  for (let i = 0; i < d.n; i++) {
    const s = d.schoolOn(i, asOf);
    // the roster as at the end of that night: a student whose last day it was is gone
    if (s < 0 || (asOf > 0 && (d.exit[i] as number) === asOf)) continue;
    const sc = d.schools[s] as School;
    if (users.row(userRow(g, i, 'active', modified, sc.code))) await users.flush();
    if (dem.row(demographicsRow(g, i, 'active', modified))) await dem.flush();
    const lid = d.localIdOf(i);
    for (let slot = 0; slot < d.slotsOf(s); slot++) {
      const secIdx = d.sectionAt(i, s, slot);
      if (secIdx >= 0 && enr.row(enrollmentRow(d.sections[secIdx] as Section, sc, lid, 'student', 'active', modified))) await enr.flush();
    }
  }
  await users.close();
  await enr.close();
  await dem.close();
  await writeWhole(
    g.ctx,
    rel('oneroster', deliveryDay, 'manifest.csv'),
    manifest({ academicSessions: 'bulk', classes: 'bulk', courses: 'bulk', demographics: 'bulk', enrollments: 'bulk', orgs: 'bulk', users: 'bulk' }, deliveryDay),
  );
}

/** Delta roster of one night's enrolment changes. */
export async function writeOneRosterDelta(g: Gen, dayIdx: number): Promise<void> {
  const d = g.d;
  const day = g.cal.instructionalDays[dayIdx] as number;
  const ent = g.entrants[dayIdx] as number[];
  const lv = g.leavers[dayIdx] as number[];
  const tr = g.transfers[dayIdx] as number[];
  if (ent.length + lv.length + tr.length === 0) return;
  const modified = `${dayToIso(day)}T02:00:00Z`;
  const open = (kind: keyof typeof L) => CsvFile.open(g.ctx, L[kind], rel('oneroster', day, `${kind}.csv`), identity('oneroster', kind, day));
  const users = await open('users');
  const enr = await open('enrollments');
  const sectionsOf = (i: number, s: number) => {
    const out: Section[] = [];
    for (let slot = 0; slot < d.slotsOf(s); slot++) {
      const x = d.sectionAt(i, s, slot);
      if (x >= 0) out.push(d.sections[x] as Section);
    }
    return out;
  };
  const all = [...ent, ...lv, ...tr].sort((a, b) => a - b);
  for (const i of all) {
    const lid = d.localIdOf(i);
    if ((d.entry[i] as number) === dayIdx) {
      const sc = d.schools[d.school[i] as number] as School;
      await users.add(userRow(g, i, 'active', modified, sc.code));
      for (const sec of sectionsOf(i, sc.idx)) await enr.add(enrollmentRow(sec, sc, lid, 'student', 'active', modified));
    } else if ((d.exit[i] as number) === dayIdx) {
      // the student leaves after today: their user and enrolments are to be deleted
      const sc = d.schools[d.school[i] as number] as School;
      await users.add(userRow(g, i, 'tobedeleted', modified, sc.code));
      for (const sec of sectionsOf(i, sc.idx)) await enr.add(enrollmentRow(sec, sc, lid, 'student', 'tobedeleted', modified));
    } else {
      const from = d.schools[d.school[i] as number] as School;
      const to = d.schools[d.trSchool[i] as number] as School;
      await users.add(userRow(g, i, 'active', modified, to.code));
      for (const sec of sectionsOf(i, from.idx)) await enr.add(enrollmentRow(sec, from, lid, 'student', 'tobedeleted', modified));
      for (const sec of sectionsOf(i, to.idx)) await enr.add(enrollmentRow(sec, to, lid, 'student', 'active', modified));
    }
  }
  await users.close();
  await enr.close();
  const files: Record<string, 'bulk' | 'delta' | 'absent'> = { users: 'delta', enrollments: 'delta' };
  if (ent.length > 0) {
    const dem = await open('demographics');
    for (const i of ent) await dem.add(demographicsRow(g, i, 'active', modified));
    await dem.close();
    files['demographics'] = 'delta';
  }
  await writeWhole(g.ctx, rel('oneroster', day, 'manifest.csv'), manifest(files, day));
}
