/**
 * Ed-Fi: API JSON resources (NDJSON, one file per resource, as `GET /data/v3/ed-fi/<resource>`
 * returns them; Data Standard 5.x) and the XML interchanges of the Grand Bend sample. Columns are
 * JSON paths into each record (XML records are converted to JSON on inhale: an element's children
 * become keys, repeated children arrays, attributes "@name").
 *
 * Tenant: Ed-Fi data names its own district, so its tenant is `edfi-<localEducationAgencyId>`
 * (decision 0001), taken from the delivery's local education agency record or the schools' LEA
 * reference, and remembered for later deliveries of the source.
 */
import type { Expr, Mapping, NdjsonLayout, SourceDefinition, XmlLayout } from './types.ts';

// ----------------------------------------------------------------------------- NDJSON (API JSON)

const sectionRef = (prefix: string) => ({
  localCourseCode: [`$.${prefix}.localCourseCode`],
  schoolId: [`$.${prefix}.schoolId`],
  schoolYear: [`$.${prefix}.schoolYear`],
  sectionIdentifier: [`$.${prefix}.sectionIdentifier`],
  sessionName: [`$.${prefix}.sessionName`],
});
const sectionKeyOf: Expr = { key: ['localCourseCode', 'schoolId', 'schoolYear', 'sectionIdentifier', 'sessionName'] };

const nd = (id: string, resource: string, identify: string[], phase: 0 | 1 | 2 | 3, columns: Record<string, string[]>, mappings: Mapping[], extra: Partial<NdjsonLayout> = {}): NdjsonLayout => ({
  id: `edfi.${id}`,
  description: `Ed-Fi API resource ${resource} (NDJSON).`,
  format: 'ndjson',
  resource,
  identify,
  phase,
  columns,
  mappings,
  ...extra,
});

const ndjsonLayouts: NdjsonLayout[] = [
  nd('local_education_agencies', 'localEducationAgencies', ['localEducationAgencyId', 'nameOfInstitution'], 0, { localEducationAgencyId: ['$.localEducationAgencyId'] }, [], {
    skip: { '*': 'the local education agency is the tenant itself' },
    tenantFromLea: { column: 'localEducationAgencyId' },
  }),
  nd(
    'schools',
    'schools',
    ['schoolId', 'nameOfInstitution'],
    0,
    {
      schoolId: ['$.schoolId'],
      nameOfInstitution: ['$.nameOfInstitution'],
      lea: ['$.localEducationAgencyReference.localEducationAgencyId'],
      category: ['$.schoolCategories[0].schoolCategoryDescriptor'],
    },
    [{ entity: 'schools', fields: { school_id: 'schoolId', name_of_institution: 'nameOfInstitution', school_category_descriptor: 'category', local_education_agency_id: 'lea' } }],
    { tenantFromLea: { column: 'lea' } },
  ),
  nd(
    'students',
    'students',
    ['studentUniqueId', 'birthDate', 'firstName'],
    1,
    {
      studentUniqueId: ['$.studentUniqueId'],
      firstName: ['$.firstName'],
      middleName: ['$.middleName'],
      lastSurname: ['$.lastSurname'],
      birthDate: ['$.birthDate'],
    },
    [{ entity: 'students', fields: { student_key: { person: 'studentUniqueId' }, birth_year: { sql: `CAST(year(edlake_date({birthDate})) AS VARCHAR)`, field: 'birthDate' } } }],
    { identity: [{ kind: 'student', id: 'studentUniqueId', firstName: 'firstName', middleName: 'middleName', lastName: 'lastSurname', birthDate: 'birthDate', defines: true }] },
  ),
  nd(
    'student_education_organization_associations',
    'studentEducationOrganizationAssociations',
    ['educationOrganizationReference', 'studentReference'],
    2,
    {
      studentUniqueId: ['$.studentReference.studentUniqueId'],
      educationOrganizationId: ['$.educationOrganizationReference.educationOrganizationId'],
      sexDescriptor: ['$.sexDescriptor'],
      hispanicLatinoEthnicity: ['$.hispanicLatinoEthnicity'],
      limitedEnglishProficiencyDescriptor: ['$.limitedEnglishProficiencyDescriptor'],
    },
    [
      {
        entity: 'student_education_organization_associations',
        fields: {
          student_key: { student: 'studentUniqueId' },
          education_organization_id: 'educationOrganizationId',
          sex_descriptor: 'sexDescriptor',
          hispanic_latino_ethnicity: 'hispanicLatinoEthnicity',
          races: { sql: `coalesce(json_extract_string({json}, '$.races[*].raceDescriptor'), CAST([] AS VARCHAR[]))` },
          limited_english_proficiency_descriptor: 'limitedEnglishProficiencyDescriptor',
        },
      },
    ],
    {
      identity: [
        {
          kind: 'student',
          id: 'studentUniqueId',
          email: 'email',
          phone: 'phone',
          stateId: 'stateId',
          defines: false,
        },
      ],
      columns: {
        studentUniqueId: ['$.studentReference.studentUniqueId'],
        educationOrganizationId: ['$.educationOrganizationReference.educationOrganizationId'],
        sexDescriptor: ['$.sexDescriptor'],
        hispanicLatinoEthnicity: ['$.hispanicLatinoEthnicity'],
        limitedEnglishProficiencyDescriptor: ['$.limitedEnglishProficiencyDescriptor'],
        email: ['$.electronicMails[0].electronicMailAddress'],
        phone: ['$.telephones[0].telephoneNumber'],
        stateId: ['$.studentIdentificationCodes[0].identificationCode'],
      },
    },
  ),
  nd(
    'student_school_associations',
    'studentSchoolAssociations',
    ['entryDate', 'schoolReference', 'studentReference'],
    2,
    {
      studentUniqueId: ['$.studentReference.studentUniqueId'],
      schoolId: ['$.schoolReference.schoolId'],
      schoolYear: ['$.schoolYearTypeReference.schoolYear', '$.schoolYear'],
      entryDate: ['$.entryDate'],
      exitWithdrawDate: ['$.exitWithdrawDate'],
      entryGradeLevelDescriptor: ['$.entryGradeLevelDescriptor'],
      exitWithdrawTypeDescriptor: ['$.exitWithdrawTypeDescriptor'],
    },
    [
      {
        entity: 'student_school_associations',
        fields: {
          student_key: { student: 'studentUniqueId' },
          school_id: 'schoolId',
          school_year: { sql: `coalesce({schoolYear}, CAST(edlake_school_year_of(edlake_date({entryDate})) AS VARCHAR))`, field: 'schoolYear' },
          entry_date: 'entryDate',
          exit_withdraw_date: 'exitWithdrawDate',
          entry_grade_level_descriptor: 'entryGradeLevelDescriptor',
          exit_withdraw_type_descriptor: 'exitWithdrawTypeDescriptor',
        },
      },
    ],
  ),
  nd(
    'staffs',
    'staffs',
    ['staffUniqueId', 'firstName', 'lastSurname'],
    1,
    {
      staffUniqueId: ['$.staffUniqueId'],
      firstName: ['$.firstName'],
      middleName: ['$.middleName'],
      lastSurname: ['$.lastSurname'],
      email: ['$.electronicMails[0].electronicMailAddress'],
    },
    [{ entity: 'staffs', fields: { staff_key: { person: 'staffUniqueId' } } }],
    { identity: [{ kind: 'staff', id: 'staffUniqueId', firstName: 'firstName', middleName: 'middleName', lastName: 'lastSurname', email: 'email', defines: true }] },
  ),
  nd(
    'staff_education_organization_assignment_associations',
    'staffEducationOrganizationAssignmentAssociations',
    ['staffClassificationDescriptor', 'staffReference', 'educationOrganizationReference'],
    2,
    {
      staffUniqueId: ['$.staffReference.staffUniqueId'],
      educationOrganizationId: ['$.educationOrganizationReference.educationOrganizationId'],
      staffClassificationDescriptor: ['$.staffClassificationDescriptor'],
      positionTitle: ['$.positionTitle'],
      beginDate: ['$.beginDate'],
      endDate: ['$.endDate'],
    },
    [
      {
        entity: 'staff_education_organization_assignment_associations',
        fields: {
          staff_key: { person: 'staffUniqueId' },
          education_organization_id: 'educationOrganizationId',
          staff_classification_descriptor: 'staffClassificationDescriptor',
          position_title: 'positionTitle',
          begin_date: 'beginDate',
          end_date: 'endDate',
        },
      },
    ],
  ),
  nd(
    'courses',
    'courses',
    ['courseCode', 'courseTitle', 'educationOrganizationReference'],
    0,
    {
      courseCode: ['$.courseCode'],
      educationOrganizationId: ['$.educationOrganizationReference.educationOrganizationId'],
      courseTitle: ['$.courseTitle'],
      academicSubjectDescriptor: ['$.academicSubjectDescriptor'],
    },
    [{ entity: 'courses', fields: { course_code: 'courseCode', education_organization_id: 'educationOrganizationId', course_title: 'courseTitle', academic_subject_descriptor: 'academicSubjectDescriptor' } }],
  ),
  nd('course_offerings', 'courseOfferings', ['localCourseCode', 'courseReference', 'sessionReference'], 0, { localCourseCode: ['$.localCourseCode'] }, [], {
    skip: { '*': 'course offerings are carried by the sections that reference them' },
  }),
  nd(
    'sections',
    'sections',
    ['sectionIdentifier', 'courseOfferingReference'],
    0,
    { ...sectionRef('courseOfferingReference'), sectionIdentifier: ['$.sectionIdentifier'], sectionName: ['$.sectionName'] },
    [
      {
        entity: 'sections',
        fields: {
          section_key: sectionKeyOf,
          local_course_code: 'localCourseCode',
          school_id: 'schoolId',
          school_year: 'schoolYear',
          section_identifier: 'sectionIdentifier',
          session_name: 'sessionName',
          course_title: 'sectionName',
        },
      },
    ],
  ),
  nd(
    'staff_section_associations',
    'staffSectionAssociations',
    ['sectionReference', 'staffReference'],
    2,
    {
      ...sectionRef('sectionReference'),
      staffUniqueId: ['$.staffReference.staffUniqueId'],
      classroomPositionDescriptor: ['$.classroomPositionDescriptor'],
      beginDate: ['$.beginDate'],
      endDate: ['$.endDate'],
    },
    [
      {
        entity: 'staff_section_associations',
        fields: {
          staff_key: { person: 'staffUniqueId' },
          section_key: sectionKeyOf,
          classroom_position_descriptor: 'classroomPositionDescriptor',
          begin_date: 'beginDate',
          end_date: 'endDate',
        },
      },
    ],
  ),
  nd(
    'student_section_associations',
    'studentSectionAssociations',
    ['sectionReference', 'studentReference', 'beginDate'],
    2,
    { ...sectionRef('sectionReference'), studentUniqueId: ['$.studentReference.studentUniqueId'], beginDate: ['$.beginDate'], endDate: ['$.endDate'] },
    [{ entity: 'student_section_associations', fields: { student_key: { student: 'studentUniqueId' }, section_key: sectionKeyOf, begin_date: 'beginDate', end_date: 'endDate' } }],
  ),
  nd('programs', 'programs', ['programName', 'programTypeDescriptor', 'educationOrganizationReference'], 0, { programName: ['$.programName'] }, [], {
    skip: { '*': 'programs are named by the student program associations that reference them' },
  }),
  nd('sessions', 'sessions', ['sessionName', 'schoolReference', 'beginDate', 'endDate'], 0, { sessionName: ['$.sessionName'] }, [], {
    skip: { '*': 'sessions have no refined entity: sections carry their session name' },
  }),
  nd('calendars', 'calendars', ['calendarCode', 'schoolReference', 'calendarTypeDescriptor'], 0, { calendarCode: ['$.calendarCode'] }, [], {
    skip: { '*': 'calendars are carried by their calendar dates' },
  }),
  nd(
    'calendar_dates',
    'calendarDates',
    ['date', 'calendarReference'],
    0,
    { date: ['$.date'], schoolId: ['$.calendarReference.schoolId'], schoolYear: ['$.calendarReference.schoolYear'], event: ['$.calendarEvents[0].calendarEventDescriptor'] },
    [{ entity: 'calendar_dates', fields: { school_id: 'schoolId', school_year: 'schoolYear', date: 'date', calendar_event_descriptor: 'event' } }],
  ),
  nd(
    'student_school_attendance_events',
    'studentSchoolAttendanceEvents',
    ['attendanceEventCategoryDescriptor', 'eventDate', 'studentReference'],
    3,
    {
      studentUniqueId: ['$.studentReference.studentUniqueId'],
      schoolId: ['$.schoolReference.schoolId', '$.sessionReference.schoolId'],
      schoolYear: ['$.sessionReference.schoolYear', '$.schoolYear'],
      eventDate: ['$.eventDate'],
      category: ['$.attendanceEventCategoryDescriptor'],
      eventDuration: ['$.eventDuration'],
    },
    [
      {
        entity: 'student_school_attendance_events',
        fields: {
          student_key: { student: 'studentUniqueId' },
          school_id: 'schoolId',
          school_year: { sql: `coalesce({schoolYear}, CAST(edlake_school_year_of(edlake_date({eventDate})) AS VARCHAR))`, field: 'schoolYear' },
          event_date: 'eventDate',
          attendance_event_category_descriptor: 'category',
          event_duration: 'eventDuration',
        },
      },
    ],
  ),
  ...(['studentProgramAssociations', 'studentSpecialEducationProgramAssociations'] as const).map((resource) =>
    nd(
      resource === 'studentProgramAssociations' ? 'student_program_associations' : 'student_special_education_program_associations',
      resource,
      resource === 'studentProgramAssociations' ? ['programReference', 'studentReference', 'beginDate'] : ['programReference', 'studentReference', 'beginDate', 'specialEducationSettingDescriptor'],
      2,
      {
        studentUniqueId: ['$.studentReference.studentUniqueId'],
        educationOrganizationId: ['$.educationOrganizationReference.educationOrganizationId'],
        program: ['$.programReference.programTypeDescriptor', '$.programReference.programName'],
        beginDate: ['$.beginDate'],
        endDate: ['$.endDate'],
      },
      [
        {
          entity: 'student_program_associations',
          fields: {
            student_key: { student: 'studentUniqueId' },
            education_organization_id: 'educationOrganizationId',
            program_descriptor: 'program',
            begin_date: 'beginDate',
            end_date: 'endDate',
          },
        },
      ],
    ),
  ),
];

// ----------------------------------------------------------------------------- XML interchanges

const studentId = ['$.StudentReference.StudentIdentity.StudentUniqueId'];
const xmlSchoolYear = (path: string) => ({ sql: `CAST(edlake_school_year({${path}}) AS VARCHAR)`, field: path });

const xmlLayouts: XmlLayout[] = [
  {
    id: 'edfi.xml.education_organization',
    description: 'InterchangeEducationOrganization: the LEA (tenant), schools and courses.',
    format: 'xml',
    root: 'InterchangeEducationOrganization',
    phase: 0,
    columns: {
      leaId: ['$.LocalEducationAgencyId'],
      schoolId: ['$.SchoolId'],
      name: ['$.NameOfInstitution'],
      schoolLea: ['$.LocalEducationAgencyReference.LocalEducationAgencyIdentity.LocalEducationAgencyId'],
      schoolCategory: ['$.SchoolCategory'],
      courseCode: ['$.CourseCode'],
      courseTitle: ['$.CourseTitle'],
      courseOrg: ['$.EducationOrganizationReference.EducationOrganizationIdentity.EducationOrganizationId'],
      subject: ['$.AcademicSubject'],
    },
    mappings: [
      {
        entity: 'schools',
        recordType: 'School',
        fields: { school_id: 'schoolId', name_of_institution: 'name', school_category_descriptor: 'schoolCategory', local_education_agency_id: 'schoolLea' },
      },
      {
        entity: 'courses',
        recordType: 'Course',
        fields: { course_code: 'courseCode', education_organization_id: 'courseOrg', course_title: 'courseTitle', academic_subject_descriptor: 'subject' },
      },
    ],
    tenantFromLea: { recordType: 'LocalEducationAgency', column: 'leaId' },
    skip: {
      LocalEducationAgency: 'the local education agency is the tenant itself',
      EducationServiceCenter: 'regional service centers are outside the district',
      ClassPeriod: 'class periods have no refined entity',
      Location: 'classroom locations have no refined entity',
      Program: 'programs are named by the student program associations that reference them',
      AccountabilityRating: 'accountability ratings have no refined entity',
      CommunityOrganization: 'community organizations are outside the district',
      CommunityProvider: 'community providers are outside the district',
      CommunityProviderLicense: 'community provider licenses are outside the district',
      OrganizationDepartment: 'departments have no refined entity',
      PostSecondaryInstitution: 'post-secondary institutions are outside the district',
      '*': 'an education organization record with no refined entity',
    },
  },
  {
    id: 'edfi.xml.student',
    description: 'InterchangeStudent: the roster; names and birth dates go to the identity store only.',
    format: 'xml',
    root: 'InterchangeStudent',
    phase: 1,
    columns: {
      studentUniqueId: ['$.StudentUniqueId'],
      firstName: ['$.Name.FirstName'],
      middleName: ['$.Name.MiddleName'],
      lastSurname: ['$.Name.LastSurname'],
      birthDate: ['$.BirthData.BirthDate'],
    },
    mappings: [
      {
        entity: 'students',
        recordType: 'Student',
        fields: { student_key: { person: 'studentUniqueId' }, birth_year: { sql: `CAST(year(edlake_date({birthDate})) AS VARCHAR)`, field: 'birthDate' } },
      },
    ],
    identity: [{ kind: 'student', recordType: 'Student', id: 'studentUniqueId', firstName: 'firstName', middleName: 'middleName', lastName: 'lastSurname', birthDate: 'birthDate', defines: true }],
    skip: { Person: 'person records (parents, contacts) are not part of the refined layer', '*': 'a student interchange record with no refined entity' },
  },
  {
    id: 'edfi.xml.student_attendance',
    description: 'InterchangeStudentAttendance: school attendance events.',
    format: 'xml',
    root: 'InterchangeStudentAttendance',
    phase: 3,
    columns: {
      studentUniqueId: studentId,
      schoolId: ['$.SchoolReference.SchoolIdentity.SchoolId'],
      schoolYear: ['$.SessionReference.SessionIdentity.SchoolYear'],
      eventDate: ['$.AttendanceEvent.EventDate'],
      category: ['$.AttendanceEvent.AttendanceEventCategory'],
      duration: ['$.AttendanceEvent.EventDuration'],
    },
    mappings: [
      {
        entity: 'student_school_attendance_events',
        recordType: 'StudentSchoolAttendanceEvent',
        fields: {
          student_key: { student: 'studentUniqueId' },
          school_id: 'schoolId',
          school_year: { sql: `coalesce(CAST(edlake_school_year({schoolYear}) AS VARCHAR), CAST(edlake_school_year_of(edlake_date({eventDate})) AS VARCHAR))`, field: 'schoolYear' },
          event_date: 'eventDate',
          attendance_event_category_descriptor: 'category',
          event_duration: 'duration',
        },
      },
    ],
    skip: { '*': 'an attendance record with no refined entity (section attendance is not refined yet)' },
  },
  {
    id: 'edfi.xml.assessment_metadata',
    description: 'InterchangeAssessmentMetadata: assessments with their score ranges.',
    format: 'xml',
    root: 'InterchangeAssessmentMetadata',
    phase: 0,
    columns: {
      identifier: ['$.AssessmentIdentifier'],
      namespace: ['$.Namespace'],
      title: ['$.AssessmentTitle'],
      subject: ['$.AcademicSubject'],
    },
    mappings: [
      {
        entity: 'assessments',
        recordType: 'Assessment',
        fields: {
          assessment_identifier: 'identifier',
          namespace: { sql: `coalesce({namespace}, 'uri://ed-fi.org/Assessment/Assessment.xml')`, field: 'namespace' },
          assessment_title: 'title',
          assessment_family: { value: 'state' },
          vendor: { value: 'edfi' },
          academic_subject_descriptor: 'subject',
          // the scale of reported scores: Scale score, else Vertical score
          min_score: {
            sql: `json_extract_string(coalesce(list_filter(edlake_json_list({json}, '$.AssessmentScore'), x -> json_extract_string(x, '$.AssessmentReportingMethod') ILIKE '%#scale score')[1], list_filter(edlake_json_list({json}, '$.AssessmentScore'), x -> json_extract_string(x, '$.AssessmentReportingMethod') ILIKE '%#vertical score')[1]), '$.MinimumScore')`,
          },
          max_score: {
            sql: `json_extract_string(coalesce(list_filter(edlake_json_list({json}, '$.AssessmentScore'), x -> json_extract_string(x, '$.AssessmentReportingMethod') ILIKE '%#scale score')[1], list_filter(edlake_json_list({json}, '$.AssessmentScore'), x -> json_extract_string(x, '$.AssessmentReportingMethod') ILIKE '%#vertical score')[1]), '$.MaximumScore')`,
          },
        },
      },
    ],
    skip: { ObjectiveAssessment: 'objective assessments (item groups) are not refined yet', '*': 'an assessment metadata record with no refined entity' },
  },
  {
    id: 'edfi.xml.student_assessment',
    description: 'InterchangeStudentAssessment: results, scale (or vertical) score and performance level.',
    format: 'xml',
    root: 'InterchangeStudentAssessment',
    phase: 3,
    columns: {
      studentUniqueId: studentId,
      identifier: ['$.AssessmentReference.AssessmentIdentity.AssessmentIdentifier'],
      namespace: ['$.AssessmentReference.AssessmentIdentity.Namespace'],
      studentAssessmentIdentifier: ['$.StudentAssessmentIdentifier'],
      administrationDate: ['$.AdministrationDate'],
      grade: ['$.WhenAssessedGradeLevel'],
    },
    mappings: [
      {
        entity: 'student_assessments',
        recordType: 'StudentAssessment',
        fields: {
          student_key: { student: 'studentUniqueId' },
          assessment_identifier: 'identifier',
          namespace: 'namespace',
          student_assessment_identifier: 'studentAssessmentIdentifier',
          administration_date: 'administrationDate',
          school_year: { sql: `CAST(edlake_school_year_of(edlake_date({administrationDate})) AS VARCHAR)`, field: 'administrationDate' },
          when_assessed_grade_level_descriptor: 'grade',
          testing_window: { value: 'State' },
          scale_score: {
            sql: `json_extract_string(coalesce(list_filter(edlake_json_list({json}, '$.ScoreResult'), x -> json_extract_string(x, '$.AssessmentReportingMethod') ILIKE '%#scale score')[1], list_filter(edlake_json_list({json}, '$.ScoreResult'), x -> json_extract_string(x, '$.AssessmentReportingMethod') ILIKE '%#vertical score')[1]), '$.Result')`,
            field: 'ScoreResult',
          },
          performance_level_descriptor: { sql: `json_extract_string(edlake_json_list({json}, '$.PerformanceLevel')[1], '$.PerformanceLevel')` },
        },
      },
    ],
    skip: { '*': 'a student assessment record with no refined entity' },
  },
  {
    id: 'edfi.xml.student_discipline',
    description: 'InterchangeStudentDiscipline: incidents, students’ behaviors, actions.',
    format: 'xml',
    root: 'InterchangeStudentDiscipline',
    phase: 3,
    columns: {
      incidentIdentifier: ['$.IncidentIdentifier'],
      incidentDate: ['$.IncidentDate'],
      incidentLocation: ['$.IncidentLocation'],
      schoolId: ['$.SchoolReference.SchoolIdentity.SchoolId'],
      studentUniqueId: studentId,
      incidentRef: ['$.DisciplineIncidentReference."@ref"'],
      refIncidentIdentifier: ['$.DisciplineIncidentReference.DisciplineIncidentIdentity.IncidentIdentifier'],
      refSchoolId: ['$.DisciplineIncidentReference.DisciplineIncidentIdentity.SchoolReference.SchoolIdentity.SchoolId'],
      behavior: ['$.Behavior'],
      actionIdentifier: ['$.DisciplineActionIdentifier'],
      discipline: ['$.Discipline'],
      disciplineDate: ['$.DisciplineDate'],
      actualLength: ['$.ActualDisciplineActionLength'],
      responsibleSchool: ['$.ResponsibilitySchoolReference.SchoolIdentity.SchoolId'],
      actionIncident: [
        '$.StudentDisciplineIncidentBehaviorAssociationReference.StudentDisciplineIncidentBehaviorAssociationIdentity.DisciplineIncidentReference.DisciplineIncidentIdentity.IncidentIdentifier',
      ],
    },
    mappings: [
      {
        entity: 'discipline_incidents',
        recordType: 'DisciplineIncident',
        fields: { school_id: 'schoolId', incident_identifier: 'incidentIdentifier', incident_date: 'incidentDate', incident_location_descriptor: 'incidentLocation' },
      },
      {
        entity: 'student_discipline_incident_behavior_associations',
        recordType: 'StudentDisciplineIncidentBehaviorAssociation',
        fields: {
          student_key: { student: 'studentUniqueId' },
          // the incident is named by identity, or by an XML reference to the incident's id attribute
          school_id: {
            sql: `coalesce({refSchoolId}, (SELECT json_extract_string(i.json, '$.SchoolReference.SchoolIdentity.SchoolId') FROM {_rows} i WHERE i._record_type = 'DisciplineIncident' AND json_extract_string(i.json, '$."@id"') = {incidentRef}))`,
            field: 'incidentRef',
          },
          incident_identifier: {
            sql: `coalesce({refIncidentIdentifier}, (SELECT json_extract_string(i.json, '$.IncidentIdentifier') FROM {_rows} i WHERE i._record_type = 'DisciplineIncident' AND json_extract_string(i.json, '$."@id"') = {incidentRef}))`,
            field: 'incidentRef',
          },
          behavior_descriptor: 'behavior',
        },
      },
      {
        entity: 'discipline_actions',
        recordType: 'DisciplineAction',
        fields: {
          student_key: { student: 'studentUniqueId' },
          discipline_action_identifier: 'actionIdentifier',
          discipline_date: 'disciplineDate',
          discipline_descriptor: 'discipline',
          actual_discipline_action_length: 'actualLength',
          school_id: 'responsibleSchool',
          incident_identifier: 'actionIncident',
        },
      },
    ],
    skip: {
      StaffDisciplineIncidentAssociation: 'staff involvement in incidents has no refined entity',
      StudentDisciplineIncidentNonOffenderAssociation: 'non-offender participation (victims, witnesses) is not refined',
      '*': 'a discipline record with no refined entity',
    },
  },
  {
    id: 'edfi.xml.survey',
    description: 'InterchangeSurvey: surveys and students’ numeric answers (the respondent of a question response is found through its survey response).',
    format: 'xml',
    root: 'InterchangeSurvey',
    phase: 3,
    columns: {
      surveyIdentifier: ['$.SurveyIdentifier'],
      namespace: ['$.Namespace'],
      title: ['$.SurveyTitle'],
      schoolYear: ['$.SchoolYear'],
      qSurvey: ['$.SurveyQuestionReference.SurveyQuestionIdentity.SurveyReference.SurveyIdentity.SurveyIdentifier'],
      qNamespace: ['$.SurveyQuestionReference.SurveyQuestionIdentity.SurveyReference.SurveyIdentity.Namespace'],
      questionCode: ['$.SurveyQuestionReference.SurveyQuestionIdentity.QuestionCode'],
      responseId: ['$.SurveyResponseReference.SurveyResponseIdentity.SurveyResponseIdentifier'],
      numeric: ['$.SurveyQuestionResponseValue.NumericResponse', '$.SurveyQuestionMatrixElementResponse.NumericResponse'],
      respondent: ['$.__respondent'],
    },
    mappings: [
      {
        entity: 'surveys',
        recordType: 'Survey',
        fields: { survey_identifier: 'surveyIdentifier', namespace: 'namespace', survey_title: 'title', school_year: xmlSchoolYear('schoolYear') },
      },
      {
        entity: 'survey_question_responses',
        recordType: 'SurveyQuestionResponse',
        // only answers of students (the respondent is on the survey response)
        where: `EXISTS (SELECT 1 FROM {_rows} x WHERE x._record_type = 'SurveyResponse' AND json_extract_string(x.json, '$.SurveyResponseIdentifier') = {responseId}
                  AND json_extract_string(x.json, '$.StudentReference.StudentIdentity.StudentUniqueId') IS NOT NULL)`,
        fields: {
          student_key: {
            sql: `(SELECT min(k.person_key) FROM {_rows} x JOIN identity.person_ids k ON k.tenant = {tenant} AND k.kind = 'student' AND k.id_type = 'local'
                    AND k.id_value = lower(json_extract_string(x.json, '$.StudentReference.StudentIdentity.StudentUniqueId'))
                  WHERE x._record_type = 'SurveyResponse' AND json_extract_string(x.json, '$.SurveyResponseIdentifier') = {responseId})`,
            field: 'responseId',
          },
          namespace: 'qNamespace',
          survey_identifier: 'qSurvey',
          survey_response_identifier: 'responseId',
          response_date: {
            sql: `(SELECT min(json_extract_string(x.json, '$.ResponseDate')) FROM {_rows} x WHERE x._record_type = 'SurveyResponse' AND json_extract_string(x.json, '$.SurveyResponseIdentifier') = {responseId})`,
            field: 'responseId',
          },
          question_code: 'questionCode',
          numeric_response: 'numeric',
        },
      },
    ],
    skip: {
      SurveyQuestionResponse: 'an answer of a respondent who is not a student (parent, staff or anonymous): the refined layer keeps students’ answers',
      SurveyResponse: 'the response header (respondent, date) is carried by its question responses; the respondent’s name and e-mail are not refined',
      SurveySection: 'survey sections are carried by their questions',
      SurveyQuestion: 'question texts and choices have no refined entity',
      SurveyCourseAssociation: 'survey targets have no refined entity',
      SurveyProgramAssociation: 'survey targets have no refined entity',
      SurveySectionAssociation: 'survey targets have no refined entity',
      SurveySectionResponse: 'section-level ratings have no refined entity',
      SurveyResponseEducationOrganizationTargetAssociation: 'survey targets have no refined entity',
      SurveyResponseStaffTargetAssociation: 'survey targets have no refined entity',
      SurveySectionResponseEducationOrganizationTargetAssociation: 'survey targets have no refined entity',
      SurveySectionResponseStaffTargetAssociation: 'survey targets have no refined entity',
      '*': 'a survey record with no refined entity',
    },
  },
];

export const edfi: SourceDefinition = {
  name: 'edfi',
  description: 'Ed-Fi API JSON resources (NDJSON) and Ed-Fi XML interchanges.',
  layouts: [...ndjsonLayouts, ...xmlLayouts],
};
