/**
 * OneRoster 1.1 CSV: the roster as SIS products (Skyward and others) export it.
 * Headers as the standard spells them; the older column sets of OneRoster 1.0 / the LMS Toolkit
 * sample (termSourcedId, orgSourcedIds...) are aliases.
 */
import { districtOfTenant, racesFromFlags } from './common.ts';
import type { SourceDefinition } from './types.ts';

/** OneRoster's enrollment and assignment rows carry no start date when the SIS leaves beginDate empty:
 * the person is taken to be enrolled from the night the roster first showed them (the delivery date). */
const beginOr = (col: string) => ({ sql: `coalesce({${col}}, CAST({_delivered_at} AS VARCHAR))`, field: col });

export const oneroster: SourceDefinition = {
  name: 'oneroster',
  description: 'OneRoster 1.1 CSV roster (orgs, academic sessions, courses, classes, users, enrollments, demographics).',
  layouts: [
    {
      id: 'oneroster.manifest',
      description: 'manifest.csv: which files are bulk or delta. Read for provenance only.',
      format: 'csv',
      delimiter: ',',
      phase: 0,
      identify: ['propertyName', 'value'],
      columns: { propertyName: [], value: [] },
      mappings: [],
      skip: { '*': 'the OneRoster manifest describes the delivery; it holds no roster records' },
    },
    {
      id: 'oneroster.orgs',
      description: 'orgs.csv: the district and its schools.',
      format: 'csv',
      delimiter: ',',
      phase: 0,
      identify: ['sourcedId', 'name', 'type', 'parentSourcedId'],
      columns: { sourcedId: [], status: [], name: [], type: [], identifier: [], parentSourcedId: [] },
      mappings: [
        {
          entity: 'schools',
          where: `lower({type}) = 'school'`,
          fields: { school_id: 'sourcedId', name_of_institution: 'name', local_education_agency_id: 'parentSourcedId' },
        },
      ],
      skip: { '*': 'an org that is not a school (the district itself, departments): the tenant, not a refined school' },
    },
    {
      id: 'oneroster.academic_sessions',
      description: 'academicSessions.csv: school years, terms and grading periods.',
      format: 'csv',
      delimiter: ',',
      phase: 0,
      identify: ['sourcedId', 'title', 'type', 'startDate', 'endDate'],
      columns: { sourcedId: [], title: [], type: [], startDate: [], endDate: [], parentSourcedId: [], schoolYear: [] },
      mappings: [
        {
          entity: 'sessions',
          fields: {
            session_id: 'sourcedId',
            session_name: 'title',
            // OneRoster 1.1 names the school year (its ending year); files without the column: the year the session ends in
            school_year: { sql: `coalesce(edlake_school_year({schoolYear}), edlake_school_year_of(edlake_date({endDate})))`, field: 'schoolYear' },
            begin_date: 'startDate',
            end_date: 'endDate',
            term_descriptor: 'type',
            parent_session_id: 'parentSourcedId',
          },
        },
      ],
    },
    {
      id: 'oneroster.courses',
      description: 'courses.csv.',
      format: 'csv',
      delimiter: ',',
      phase: 0,
      identify: ['sourcedId', 'title', 'courseCode', 'orgSourcedId'],
      columns: { sourcedId: [], title: [], courseCode: [], orgSourcedId: [], subjects: [], grades: ['grade'], schoolYearSourcedId: ['schoolYearId'] },
      mappings: [
        {
          entity: 'courses',
          fields: {
            course_code: { sql: `coalesce({courseCode}, {sourcedId})`, field: 'courseCode' },
            education_organization_id: 'orgSourcedId',
            course_title: 'title',
            academic_subject_descriptor: 'subjects',
          },
        },
      ],
    },
    {
      id: 'oneroster.classes',
      description: 'classes.csv: sections.',
      format: 'csv',
      delimiter: ',',
      phase: 0,
      identify: ['sourcedId', 'courseSourcedId', 'schoolSourcedId', 'termSourcedIds'],
      columns: {
        sourcedId: [],
        title: [],
        courseSourcedId: [],
        classCode: [],
        classType: [],
        schoolSourcedId: [],
        termSourcedIds: ['termSourcedId'],
      },
      mappings: [
        {
          entity: 'sections',
          fields: {
            section_key: {
              key: [
                { sql: `regexp_replace({courseSourcedId}, '-\\d{4}$', '')`, field: 'courseSourcedId' },
                'schoolSourcedId',
                {
                  sql: `coalesce(CASE WHEN regexp_matches({termSourcedIds}, '\\d{4}-\\d{4}') THEN edlake_school_year({termSourcedIds}) END, try_cast(regexp_extract({termSourcedIds}, '^(\\d{4})-', 1) AS INTEGER))`,
                  field: 'termSourcedIds',
                },
                'sourcedId',
                'termSourcedIds',
              ],
            },
            // the course code: generated course sourcedIds are <course code>-<school year>
            local_course_code: { sql: `regexp_replace({courseSourcedId}, '-\\d{4}$', '')`, field: 'courseSourcedId' },
            school_id: 'schoolSourcedId',
            school_year: {
              sql: `coalesce(CASE WHEN regexp_matches({termSourcedIds}, '\\d{4}-\\d{4}') THEN edlake_school_year({termSourcedIds}) END, try_cast(regexp_extract({termSourcedIds}, '^(\\d{4})-', 1) AS INTEGER))`,
              field: 'termSourcedIds',
            },
            section_identifier: 'sourcedId',
            session_name: 'termSourcedIds',
            course_title: 'title',
          },
        },
      ],
    },
    {
      id: 'oneroster.users',
      emptyAllowed: true,
      description: 'users.csv: students (define the roster), teachers and administrators. Names, e-mail, phone and the state ID (identifier) go to the identity store only.',
      format: 'csv',
      delimiter: ',',
      phase: 1,
      identify: ['sourcedId', 'role', 'givenName', 'familyName'],
      columns: {
        sourcedId: [],
        status: [],
        dateLastModified: [],
        orgSourcedIds: [],
        role: [],
        username: [],
        identifier: [],
        givenName: [],
        familyName: [],
        middleName: [],
        email: [],
        sms: [],
        phone: [],
        grades: [],
      },
      mappings: [
        { entity: 'students', where: `lower({role}) = 'student'`, fields: { student_key: { person: 'sourcedId' } } },
        { entity: 'staffs', where: `lower({role}) IN ('teacher', 'administrator', 'aide', 'proctor')`, fields: { staff_key: { person: 'sourcedId' } } },
        {
          entity: 'staff_education_organization_assignment_associations',
          where: `lower({role}) IN ('teacher', 'administrator', 'aide', 'proctor') AND {orgSourcedIds} IS NOT NULL`,
          fields: {
            staff_key: { person: 'sourcedId' },
            education_organization_id: { sql: `trim(split_part({orgSourcedIds}, ',', 1))`, field: 'orgSourcedIds' },
            staff_classification_descriptor: 'role',
            begin_date: beginOr('dateLastModified'),
          },
        },
      ],
      identity: [
        {
          kind: 'student',
          where: `lower({role}) = 'student'`,
          id: 'sourcedId',
          stateId: 'identifier',
          firstName: 'givenName',
          middleName: 'middleName',
          lastName: 'familyName',
          email: 'email',
          phone: 'phone',
          defines: true,
        },
        {
          kind: 'staff',
          where: `lower({role}) IN ('teacher', 'administrator', 'aide', 'proctor')`,
          id: 'sourcedId',
          firstName: 'givenName',
          middleName: 'middleName',
          lastName: 'familyName',
          email: 'email',
          phone: 'phone',
          defines: true,
        },
      ],
      skip: { '*': 'a user who is neither student nor staff (parent, guardian, relative): contacts are not part of the refined layer' },
    },
    {
      id: 'oneroster.enrollments',
      emptyAllowed: true,
      description: 'enrollments.csv: students and teachers in classes.',
      format: 'csv',
      delimiter: ',',
      phase: 2,
      identify: ['sourcedId', 'classSourcedId', 'userSourcedId', 'role'],
      columns: { sourcedId: [], classSourcedId: [], schoolSourcedId: [], userSourcedId: [], role: [], status: [], dateLastModified: [], primary: [], beginDate: [], endDate: [] },
      mappings: [
        {
          entity: 'student_section_associations',
          where: `lower({role}) = 'student'`,
          fields: {
            student_key: { student: 'userSourcedId' },
            section_key: { sectionOf: 'classSourcedId' },
            begin_date: beginOr('beginDate'),
            end_date: 'endDate',
          },
        },
        {
          entity: 'staff_section_associations',
          where: `lower({role}) IN ('teacher', 'aide')`,
          fields: {
            staff_key: { person: 'userSourcedId' },
            section_key: { sectionOf: 'classSourcedId' },
            classroom_position_descriptor: { sql: `CASE WHEN edlake_bool({primary}) THEN 'Teacher of Record' ELSE {role} END`, field: 'primary' },
            begin_date: beginOr('beginDate'),
            end_date: 'endDate',
          },
        },
      ],
      skip: { '*': 'an enrollment of another role (parent, guardian): not part of the refined layer' },
    },
    {
      id: 'oneroster.demographics',
      emptyAllowed: true,
      description: 'demographics.csv: sex, ethnicity and races per student; the birth date goes to the identity store, its year to refined.students.',
      format: 'csv',
      delimiter: ',',
      phase: 2,
      identify: ['userSourcedId', 'birthDate', 'sex'],
      columns: {
        userSourcedId: [],
        birthDate: ['birthdate'],
        sex: [],
        americanIndianOrAlaskaNative: [],
        asian: [],
        blackOrAfricanAmerican: [],
        nativeHawaiianOrOtherPacificIslander: [],
        white: [],
        demographicRaceTwoOrMoreRaces: [],
        hispanicOrLatinoEthnicity: [],
      },
      mappings: [
        {
          entity: 'student_education_organization_associations',
          fields: {
            student_key: { student: 'userSourcedId' },
            education_organization_id: districtOfTenant,
            sex_descriptor: 'sex',
            hispanic_latino_ethnicity: 'hispanicOrLatinoEthnicity',
            races: racesFromFlags([
              ['americanIndianOrAlaskaNative', 'American Indian - Alaska Native'],
              ['asian', 'Asian'],
              ['blackOrAfricanAmerican', 'Black - African American'],
              ['nativeHawaiianOrOtherPacificIslander', 'Native Hawaiian - Pacific Islander'],
              ['white', 'White'],
            ]),
          },
        },
        {
          entity: 'students',
          fields: { student_key: { student: 'userSourcedId' }, birth_year: { sql: `CAST(year(edlake_date({birthDate})) AS VARCHAR)`, field: 'birthDate' } },
        },
      ],
      identity: [{ kind: 'student', id: 'userSourcedId', birthDate: 'birthDate', defines: false }],
    },
  ],
};
