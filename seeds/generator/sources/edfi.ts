/**
 * `edfi`: Ed-Fi API JSON (Data Standard 5.x resource shapes, descriptors as URIs) of the second,
 * smaller district: one NDJSON file per resource. Every resource at the opening delivery; each
 * instructional day the studentSchoolAttendanceEvents of that day, and the enrolment changes.
 */
import { writeWhole } from '../writer.ts';
import { type Gen, rel } from '../gen.ts';
import { FLAG, type District, type School, type Section } from '../district.ts';
import { dayToIso } from '../calendar.ts';
import { hashKey, u01 } from '../rng.ts';
import { attendanceCode, dayFactor } from './sis.ts';

const ED = 'uri://ed-fi.org';

const GRADE_NAMES: Record<number, string> = {
  0: 'Kindergarten',
  1: 'First grade',
  2: 'Second grade',
  3: 'Third grade',
  4: 'Fourth grade',
  5: 'Fifth grade',
  6: 'Sixth grade',
  7: 'Seventh grade',
  8: 'Eighth grade',
  9: 'Ninth grade',
  10: 'Tenth grade',
  11: 'Eleventh grade',
  12: 'Twelfth grade',
};
function gradeDescriptor(d: District, g: number): string {
  // TK is a California grade: the district's own namespace
  if (g === -1) return `uri://${d.domain}/GradeLevelDescriptor#Transitional Kindergarten`;
  return `${ED}/GradeLevelDescriptor#${GRADE_NAMES[g]}`;
}

const ATTENDANCE: Record<string, string> = {
  E: 'Excused Absence',
  I: 'Excused Absence',
  U: 'Unexcused Absence',
  T: 'Tardy',
  L: 'Early departure',
  H: 'Partial',
};

const SUBJECT_DESCRIPTOR: Record<string, string> = {
  homeroom: 'Other',
  ela: 'English Language Arts',
  math: 'Mathematics',
  science: 'Science',
  social: 'Social Studies',
  pe: 'Physical, Health, and Safety Education',
  elective: 'Fine and Performing Arts',
};

const PROGRAMS: Array<{ bit: number; name: string; type: string }> = [
  { bit: FLAG.EL, name: 'English Learner Program', type: `${ED}/ProgramTypeDescriptor#English as a Second Language (ESL)` },
  { bit: FLAG.S504, name: 'Section 504 Plan', type: `${ED}/ProgramTypeDescriptor#Section 504 Placement` },
  { bit: FLAG.HOMELESS, name: 'Homeless Education', type: `${ED}/ProgramTypeDescriptor#Homeless` },
  { bit: FLAG.FOSTER, name: 'Foster Youth Services', type: 'FOSTER' },
  { bit: FLAG.SED, name: 'Free and Reduced Price Meals', type: 'SED' },
];
function programType(d: District, t: string): string {
  if (t === 'FOSTER') return `uri://${d.domain}/ProgramTypeDescriptor#Foster Youth`;
  if (t === 'SED') return `uri://${d.domain}/ProgramTypeDescriptor#Socioeconomically Disadvantaged`;
  return t;
}

function ndjson(objs: unknown[]): string {
  return objs.map((o) => JSON.stringify(o)).join('\n') + (objs.length > 0 ? '\n' : '');
}

function leaId(d: District): number {
  return Number(d.districtCode);
}
function schoolId(sc: School): number {
  return Number(sc.code);
}
function sessionName(d: District): string {
  return `${d.schoolYear - 1}-${d.schoolYear} Year Round`;
}
function sectionRef(d: District, sec: Section) {
  const sc = d.schools[sec.school] as School;
  return { localCourseCode: sec.course.code, schoolId: schoolId(sc), schoolYear: d.schoolYear, sectionIdentifier: sec.id, sessionName: sessionName(d) };
}

function studentOf(d: District, i: number) {
  const det = d.detail(i);
  const o: Record<string, unknown> = {
    studentUniqueId: d.localIdOf(i),
    birthDate: dayToIso(det.birthDay),
    firstName: det.first,
    lastSurname: det.last,
  };
  if (det.middle) o['middleName'] = det.middle;
  return o;
}

function seoaOf(d: District, i: number) {
  const det = d.detail(i);
  const fl = d.flags[i] as number;
  const races = new Set<string>();
  for (const c of det.raceCodes) {
    if (c === '100') races.add('American Indian or Alaska Native');
    else if (c.startsWith('2') || c === '400') races.add('Asian');
    else if (c.startsWith('3')) races.add('Native Hawaiian or Pacific Islander');
    else if (c === '600') races.add('Black or African American');
    else if (c === '700') races.add('White');
  }
  const o: Record<string, unknown> = {
    educationOrganizationReference: { educationOrganizationId: leaId(d) },
    studentReference: { studentUniqueId: d.localIdOf(i) },
    sexDescriptor: `${ED}/SexDescriptor#${det.sex === 'M' ? 'Male' : det.sex === 'F' ? 'Female' : 'Not Selected'}`,
    hispanicLatinoEthnicity: (fl & FLAG.HISPANIC) !== 0,
    races: [...races].map((r) => ({ raceDescriptor: `${ED}/RaceDescriptor#${r}` })),
    studentIdentificationCodes: [
      { assigningOrganizationIdentificationCode: 'CA', studentIdentificationSystemDescriptor: `${ED}/StudentIdentificationSystemDescriptor#State`, identificationCode: d.ssidOf(i) },
    ],
    studentCharacteristics: (fl & FLAG.SED) !== 0 ? [{ studentCharacteristicDescriptor: `${ED}/StudentCharacteristicDescriptor#Economic Disadvantaged` }] : [],
  };
  if ((fl & FLAG.EL) !== 0) o['limitedEnglishProficiencyDescriptor'] = `${ED}/LimitedEnglishProficiencyDescriptor#Limited`;
  if (det.raceCodes.includes('400')) o['ancestryEthnicOrigins'] = [{ ancestryEthnicOriginDescriptor: `uri://${d.domain}/AncestryEthnicOriginDescriptor#Filipino` }];
  return o;
}

function ssaOf(d: District, i: number, sc: School, entryDay: number, exitDay: number | null, exitType: string) {
  const o: Record<string, unknown> = {
    entryDate: dayToIso(entryDay),
    schoolReference: { schoolId: schoolId(sc) },
    studentReference: { studentUniqueId: d.localIdOf(i) },
    entryGradeLevelDescriptor: gradeDescriptor(d, d.grade[i] as number),
  };
  if (exitDay !== null) {
    o['exitWithdrawDate'] = dayToIso(exitDay);
    o['exitWithdrawTypeDescriptor'] = `${ED}/ExitWithdrawTypeDescriptor#${exitType}`;
  }
  return o;
}

function sectionAssocs(d: District, i: number, s: number, beginDay: number, endDay: number | null) {
  const out: unknown[] = [];
  for (let slot = 0; slot < d.slotsOf(s); slot++) {
    const x = d.sectionAt(i, s, slot);
    if (x < 0) continue;
    const o: Record<string, unknown> = { beginDate: dayToIso(beginDay), sectionReference: sectionRef(d, d.sections[x] as Section), studentReference: { studentUniqueId: d.localIdOf(i) } };
    if (endDay !== null) o['endDate'] = dayToIso(endDay);
    out.push(o);
  }
  return out;
}

/** Every resource of the second district, at the opening delivery. */
export async function writeEdfiBulk(g: Gen, deliveryDay: number): Promise<void> {
  const d = g.edfi;
  const cal = g.cal;
  const days = cal.instructionalDays;
  const first = days[0] as number;
  const last = days[days.length - 1] as number;
  const w = (name: string, objs: unknown[]) => writeWhole(g.ctx, rel('edfi', deliveryDay, `${name}.ndjson`), ndjson(objs));
  await w('localEducationAgencies', [
    {
      localEducationAgencyId: leaId(d),
      nameOfInstitution: d.districtName,
      localEducationAgencyCategoryDescriptor: `${ED}/LocalEducationAgencyCategoryDescriptor#Regular public school district`,
      categories: [{ educationOrganizationCategoryDescriptor: `${ED}/EducationOrganizationCategoryDescriptor#Local Education Agency` }],
      addresses: [],
    },
  ]);
  await w(
    'schools',
    d.schools.map((sc) => ({
      schoolId: schoolId(sc),
      nameOfInstitution: sc.name,
      localEducationAgencyReference: { localEducationAgencyId: leaId(d) },
      educationOrganizationCategories: [{ educationOrganizationCategoryDescriptor: `${ED}/EducationOrganizationCategoryDescriptor#School` }],
      schoolCategories: [{ schoolCategoryDescriptor: `${ED}/SchoolCategoryDescriptor#${sc.level === 'E' ? 'Elementary School' : sc.level === 'M' ? 'Middle School' : 'High School'}` }],
      gradeLevels: sc.grades.map((gr) => ({ gradeLevelDescriptor: gradeDescriptor(d, gr) })),
    })),
  );
  await w(
    'sessions',
    d.schools.map((sc) => ({
      schoolReference: { schoolId: schoolId(sc) },
      schoolYearTypeReference: { schoolYear: d.schoolYear },
      sessionName: sessionName(d),
      beginDate: dayToIso(first),
      endDate: dayToIso(last),
      termDescriptor: `${ED}/TermDescriptor#Year Round`,
      totalInstructionalDays: days.length,
    })),
  );
  await w(
    'calendars',
    d.schools.map((sc) => ({
      calendarCode: `${sc.code}-${d.schoolYear}`,
      schoolReference: { schoolId: schoolId(sc) },
      schoolYearTypeReference: { schoolYear: d.schoolYear },
      calendarTypeDescriptor: `${ED}/CalendarTypeDescriptor#School`,
      gradeLevels: [],
    })),
  );
  const eventName: Record<string, string> = { INS: 'Instructional day', HOL: 'Holiday', TWD: 'Teacher only day' };
  const calendarDates: unknown[] = [];
  for (const sc of d.schools) {
    for (const cd of cal.days) {
      calendarDates.push({
        calendarReference: { calendarCode: `${sc.code}-${d.schoolYear}`, schoolId: schoolId(sc), schoolYear: d.schoolYear },
        date: dayToIso(cd.day),
        calendarEvents: [{ calendarEventDescriptor: `${ED}/CalendarEventDescriptor#${eventName[cd.type]}` }],
      });
    }
  }
  await w('calendarDates', calendarDates);
  await w(
    'staffs',
    d.staff.map((st) => ({ staffUniqueId: st.id, firstName: st.first, lastSurname: st.last })),
  );
  await w(
    'staffEducationOrganizationAssignmentAssociations',
    d.staff.map((st) => ({
      beginDate: dayToIso(deliveryDay),
      educationOrganizationReference: { educationOrganizationId: schoolId(d.schools[st.school] as School) },
      staffReference: { staffUniqueId: st.id },
      staffClassificationDescriptor: `${ED}/StaffClassificationDescriptor#${st.role === 'administrator' ? 'Principal' : 'Teacher'}`,
      positionTitle: st.role === 'administrator' ? 'Principal' : 'Teacher',
    })),
  );
  await w(
    'courses',
    d.courses.map((c) => ({
      courseCode: c.code,
      educationOrganizationReference: { educationOrganizationId: leaId(d) },
      courseTitle: c.title,
      numberOfParts: 1,
      academicSubjects: [{ academicSubjectDescriptor: `${ED}/AcademicSubjectDescriptor#${SUBJECT_DESCRIPTOR[c.subject]}` }],
      offeredGradeLevels: [{ gradeLevelDescriptor: gradeDescriptor(d, c.grade) }],
    })),
  );
  const offerings = new Map<string, unknown>();
  for (const sec of d.sections) {
    const sc = d.schools[sec.school] as School;
    const key = `${sc.code}|${sec.course.code}`;
    if (!offerings.has(key)) {
      offerings.set(key, {
        localCourseCode: sec.course.code,
        courseReference: { courseCode: sec.course.code, educationOrganizationId: leaId(d) },
        schoolReference: { schoolId: schoolId(sc) },
        sessionReference: { schoolId: schoolId(sc), schoolYear: d.schoolYear, sessionName: sessionName(d) },
        localCourseTitle: sec.course.title,
      });
    }
  }
  await w('courseOfferings', [...offerings.values()]);
  await w(
    'sections',
    d.sections.map((sec) => {
      const sc = d.schools[sec.school] as School;
      return {
        sectionIdentifier: sec.id,
        courseOfferingReference: { localCourseCode: sec.course.code, schoolId: schoolId(sc), schoolYear: d.schoolYear, sessionName: sessionName(d) },
        sectionName: `${sec.course.title} (${String(sec.num).padStart(2, '0')})`,
        sequenceOfCourse: 1,
      };
    }),
  );
  await w(
    'staffSectionAssociations',
    d.sections.flatMap((sec) => {
      const t = d.staff[sec.teacher];
      if (!t) return [];
      return [{ beginDate: dayToIso(first), sectionReference: sectionRef(d, sec), staffReference: { staffUniqueId: t.id }, classroomPositionDescriptor: `${ED}/ClassroomPositionDescriptor#Teacher of Record` }];
    }),
  );
  await w(
    'programs',
    [{ name: 'Special Education', type: `${ED}/ProgramTypeDescriptor#Special Education` }, ...PROGRAMS.map((p) => ({ name: p.name, type: programType(d, p.type) }))].map((p) => ({
      educationOrganizationReference: { educationOrganizationId: leaId(d) },
      programName: p.name,
      programTypeDescriptor: p.type,
    })),
  );
  const students: unknown[] = [];
  const seoas: unknown[] = [];
  const ssas: unknown[] = [];
  const secAssocs: unknown[] = [];
  const programs: unknown[] = [];
  const sped: unknown[] = [];
  const fallJuly1 = Math.floor(Date.UTC(d.schoolYear - 1, 6, 1) / 86_400_000);
  for (let i = 0; i < d.n; i++) {
    if ((d.entry[i] as number) > 0) continue;
    const sc = d.schools[d.school[i] as number] as School;
    students.push(studentOf(d, i));
    seoas.push(seoaOf(d, i));
    ssas.push(ssaOf(d, i, sc, first, null, ''));
    secAssocs.push(...sectionAssocs(d, i, sc.idx, first, null));
    const fl = d.flags[i] as number;
    for (const p of PROGRAMS) {
      if ((fl & p.bit) === 0) continue;
      const type = programType(d, p.type);
      programs.push({
        beginDate: dayToIso(fallJuly1),
        educationOrganizationReference: { educationOrganizationId: leaId(d) },
        programReference: { educationOrganizationId: leaId(d), programName: p.name, programTypeDescriptor: type },
        studentReference: { studentUniqueId: d.localIdOf(i) },
      });
    }
    if ((fl & FLAG.SWD) !== 0) {
      const k = hashKey(d.seed, 'edfi-sped', i);
      sped.push({
        beginDate: dayToIso(fallJuly1 - 365 - (k % 900)),
        educationOrganizationReference: { educationOrganizationId: leaId(d) },
        programReference: { educationOrganizationId: leaId(d), programName: 'Special Education', programTypeDescriptor: `${ED}/ProgramTypeDescriptor#Special Education` },
        studentReference: { studentUniqueId: d.localIdOf(i) },
        ideaEligibility: true,
        specialEducationSettingDescriptor: `${ED}/SpecialEducationSettingDescriptor#${k % 4 === 0 ? 'Inside regular class 40% through 79% of the day' : 'Inside regular class 80% or more of the day'}`,
        disabilities: [{ disabilityDescriptor: `${ED}/DisabilityDescriptor#${['Specific Learning Disability', 'Speech or Language Impairment', 'Autism', 'Other Health Impairment'][(k >>> 4) % 4]}` }],
      });
    }
  }
  await w('students', students);
  await w('studentEducationOrganizationAssociations', seoas);
  await w('studentSchoolAssociations', ssas);
  await w('studentSectionAssociations', secAssocs);
  await w('studentProgramAssociations', programs);
  await w('studentSpecialEducationProgramAssociations', sped);
}

/** One instructional day of the second district: attendance events and enrolment changes. */
export async function writeEdfiDaily(g: Gen, dayIdx: number): Promise<void> {
  const d = g.edfi;
  const days = g.cal.instructionalDays;
  const day = days[dayIdx] as number;
  const kAtt = hashKey(d.seed, 'attendance', dayIdx);
  const fac = dayFactor(g, dayIdx);
  // descriptor capitalisation differs between Ed-Fi versions; some nights use lower case
  const lower = g.ctx.messiness !== 'none' && hashKey(d.seed, 'edfi-case', dayIdx) % 5 === 0;
  const events: unknown[] = [];
  const newStudents: unknown[] = [];
  const newSeoas: unknown[] = [];
  const ssas: unknown[] = [];
  const secAssocs: unknown[] = [];
  for (let i = 0; i < d.n; i++) {
    const s = d.schoolOn(i, dayIdx);
    const entry = d.entry[i] as number;
    const tr = d.trDay[i] as number;
    const ex = d.exit[i] as number;
    if (entry === dayIdx && dayIdx > 0) {
      const sc = d.schools[d.school[i] as number] as School;
      newStudents.push(studentOf(d, i));
      newSeoas.push(seoaOf(d, i));
      ssas.push(ssaOf(d, i, sc, day, null, ''));
      secAssocs.push(...sectionAssocs(d, i, sc.idx, day, null));
    }
    if (ex === dayIdx) {
      const sc = d.schools[d.school[i] as number] as School;
      ssas.push(ssaOf(d, i, sc, entry > 0 ? (days[entry] as number) : (days[0] as number), day, 'Transferred'));
    }
    if (tr === dayIdx) {
      const from = d.schools[d.school[i] as number] as School;
      const to = d.schools[d.trSchool[i] as number] as School;
      ssas.push(ssaOf(d, i, from, entry > 0 ? (days[entry] as number) : (days[0] as number), days[tr - 1] as number, 'Transferred'));
      ssas.push(ssaOf(d, i, to, day, null, ''));
      secAssocs.push(...sectionAssocs(d, i, from.idx, days[entry] as number, days[tr - 1] as number));
      secAssocs.push(...sectionAssocs(d, i, to.idx, day, null));
    }
    if (s < 0) continue;
    const code = attendanceCode(d.absProp[i] as number, fac, u01(kAtt, i, 0));
    if (code === '') continue;
    const sc = d.schools[s] as School;
    let cat = ATTENDANCE[code] as string;
    if (lower) cat = cat.toLowerCase();
    events.push({
      attendanceEventCategoryDescriptor: `${ED}/AttendanceEventCategoryDescriptor#${cat}`,
      eventDate: dayToIso(day),
      schoolReference: { schoolId: schoolId(sc) },
      sessionReference: { schoolId: schoolId(sc), schoolYear: d.schoolYear, sessionName: sessionName(d) },
      studentReference: { studentUniqueId: d.localIdOf(i) },
      ...(code === 'I' ? { attendanceEventReason: 'Illness' } : {}),
    });
  }
  const w = (name: string, objs: unknown[]) => (objs.length > 0 ? writeWhole(g.ctx, rel('edfi', day, `${name}.ndjson`), ndjson(objs)) : Promise.resolve());
  await w('students', newStudents);
  await w('studentEducationOrganizationAssociations', newSeoas);
  await w('studentSchoolAssociations', ssas);
  await w('studentSectionAssociations', secAssocs);
  await w('studentSchoolAttendanceEvents', events);
}
