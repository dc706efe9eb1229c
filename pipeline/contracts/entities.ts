/**
 * The refined layer: one contract per Ed-Fi entity. See `types.ts` for the vocabulary and
 * `docs/decisions/0001-lake-layout-and-keys.md` for how keys are built.
 *
 * Conventions:
 * - natural identifiers of organisations, courses, sections and assessments are kept as VARCHAR
 *   (leading zeros in California codes matter);
 * - people appear only by key (`student_key`, `staff_key`: HMAC-SHA256 of tenant and natural ID);
 * - descriptors are stored as delivered, in Ed-Fi URI form when the source gives one
 *   (`uri://ed-fi.org/AttendanceEventCategoryDescriptor#Excused Absence`) or as the source's own
 *   code otherwise; their meaning comes from `seeds.descriptor_map`, never from string compares.
 */
import type { ColumnContract, EntityContract } from './types.ts';

const studentKey: ColumnContract = {
  name: 'student_key',
  type: 'VARCHAR',
  required: true,
  pii: 'key',
  description: 'Keyed hash (HMAC-SHA256) of tenant and the student’s local ID (studentUniqueId).',
  pattern: '[0-9a-f]{64}',
};
const staffKey: ColumnContract = {
  name: 'staff_key',
  type: 'VARCHAR',
  required: true,
  pii: 'key',
  description: 'Keyed hash (HMAC-SHA256) of tenant and the staff member’s staffUniqueId.',
  pattern: '[0-9a-f]{64}',
};
const sectionKey: ColumnContract = {
  name: 'section_key',
  type: 'VARCHAR',
  required: true,
  pii: 'none',
  description: 'Hash of tenant and the section’s natural key (localCourseCode, schoolId, schoolYear, sectionIdentifier, sessionName).',
  pattern: '[0-9a-f]{64}',
  references: { entity: 'sections', column: 'section_key', sameTenant: true },
};
const schoolId = (description = 'Ed-Fi schoolId of the school (California: 7-digit school code).'): ColumnContract => ({
  name: 'school_id',
  type: 'VARCHAR',
  required: true,
  pii: 'none',
  description,
  references: { entity: 'schools', column: 'school_id', sameTenant: true },
});
const schoolYear: ColumnContract = {
  name: 'school_year',
  type: 'INTEGER',
  required: true,
  pii: 'none',
  description: 'School year named by its spring year (2025-26 is 2026).',
  min: 1990,
  max: 2100,
};
const date = (name: string, description: string, required = true): ColumnContract => ({
  name,
  type: 'DATE',
  required,
  pii: 'quasi',
  description,
  min: '1990-01-01',
  max: '2100-12-31',
});
const descriptor = (name: string, type: string, description: string, required = true): ColumnContract => ({
  name,
  type: 'VARCHAR',
  required,
  pii: 'none',
  descriptor: type,
  description,
});
const text = (name: string, description: string, required = false, pii: ColumnContract['pii'] = 'none'): ColumnContract => ({
  name,
  type: 'VARCHAR',
  required,
  pii,
  description,
});
const studentRef: ColumnContract = { ...studentKey, references: { entity: 'students', column: 'student_key', sameTenant: true } };
const staffRef: ColumnContract = { ...staffKey, references: { entity: 'staffs', column: 'staff_key', sameTenant: true } };

export const ENTITIES: readonly EntityContract[] = [
  {
    entity: 'schools',
    edfiResource: 'schools',
    edfiDomain: 'Education Organization',
    description: 'A school of the district.',
    primaryKey: ['tenant', 'school_id'],
    columns: [
      { name: 'school_id', type: 'VARCHAR', required: true, pii: 'none', description: 'Ed-Fi schoolId (California: 7-digit school code).' },
      text('name_of_institution', 'Name of the school.', true),
      descriptor('school_category_descriptor', 'SchoolCategoryDescriptor', 'Elementary School, Middle School, High School...', false),
      { name: 'local_education_agency_id', type: 'VARCHAR', pii: 'none', description: 'The district (LEA) the school belongs to.' },
    ],
  },
  {
    entity: 'students',
    edfiResource: 'students',
    edfiDomain: 'Student Identification and Demographics',
    description: 'A student, by key only. Names, birth date and state ID are in the identity store.',
    primaryKey: ['tenant', 'student_key'],
    columns: [
      studentKey,
      { name: 'birth_year', type: 'INTEGER', pii: 'quasi', description: 'Year of birth (the full birth date stays in the identity store).', min: 1990, max: 2030 },
    ],
  },
  {
    entity: 'student_education_organization_associations',
    edfiResource: 'studentEducationOrganizationAssociations',
    edfiDomain: 'Student Identification and Demographics',
    description: 'Demographics a district records for a student: sex, Hispanic/Latino ethnicity, races.',
    primaryKey: ['tenant', 'student_key', 'education_organization_id'],
    columns: [
      studentRef,
      { name: 'education_organization_id', type: 'VARCHAR', required: true, pii: 'none', description: 'The district (LEA) or school that records the demographics.' },
      descriptor('sex_descriptor', 'SexDescriptor', 'Sex as recorded (Female, Male, Not Selected...).', false),
      { name: 'hispanic_latino_ethnicity', type: 'BOOLEAN', pii: 'quasi', description: 'Hispanic or Latino ethnicity.' },
      { name: 'races', type: 'VARCHAR[]', pii: 'quasi', description: 'RaceDescriptor values (multi-valued in Ed-Fi).', descriptor: 'RaceDescriptor' },
      descriptor('limited_english_proficiency_descriptor', 'LimitedEnglishProficiencyDescriptor', 'English proficiency status as recorded.', false),
    ],
  },
  {
    entity: 'student_school_associations',
    edfiResource: 'studentSchoolAssociations',
    edfiDomain: 'Enrollment',
    description: 'A student’s enrollment in a school: entry date to exit date (inclusive).',
    primaryKey: ['tenant', 'student_key', 'school_id', 'entry_date'],
    columns: [
      studentRef,
      schoolId(),
      schoolYear,
      date('entry_date', 'First day of enrollment.'),
      date('exit_withdraw_date', 'Last day of enrollment (inclusive); empty while enrolled.', false),
      descriptor('entry_grade_level_descriptor', 'GradeLevelDescriptor', 'Grade level at entry.'),
      descriptor('exit_withdraw_type_descriptor', 'ExitWithdrawTypeDescriptor', 'Why the student left, when they did.', false),
    ],
    checks: [
      {
        name: 'exit_not_before_entry',
        field: 'exit_withdraw_date',
        rule: 'invalid_date',
        description: 'The exit date is not before the entry date.',
        sql: 'r.exit_withdraw_date is null or r.exit_withdraw_date >= r.entry_date',
      },
    ],
  },
  {
    entity: 'student_program_associations',
    edfiResource: 'studentProgramAssociations',
    edfiDomain: 'Student Academic Record',
    description: 'Participation in a program: special education, English learner, 504, socioeconomically disadvantaged, foster, homeless, migrant.',
    primaryKey: ['tenant', 'student_key', 'program_descriptor', 'begin_date'],
    columns: [
      studentRef,
      { name: 'education_organization_id', type: 'VARCHAR', pii: 'none', description: 'District or school running the program.' },
      { ...descriptor('program_descriptor', 'ProgramTypeDescriptor', 'The program, as delivered.'), pii: 'quasi' },
      date('begin_date', 'First day of participation.'),
      date('end_date', 'Last day of participation; empty while it lasts.', false),
    ],
  },
  {
    entity: 'staffs',
    edfiResource: 'staffs',
    edfiDomain: 'Staff',
    description: 'A staff member, by key only. Names and e-mail are in the identity store.',
    primaryKey: ['tenant', 'staff_key'],
    columns: [staffKey],
  },
  {
    entity: 'staff_education_organization_assignment_associations',
    edfiResource: 'staffEducationOrganizationAssignmentAssociations',
    edfiDomain: 'Staff',
    description: 'A staff member’s assignment to a school or the district (principals are found here).',
    primaryKey: ['tenant', 'staff_key', 'education_organization_id', 'staff_classification_descriptor', 'begin_date'],
    columns: [
      staffRef,
      { name: 'education_organization_id', type: 'VARCHAR', required: true, pii: 'none', description: 'School (or district) of the assignment.' },
      descriptor('staff_classification_descriptor', 'StaffClassificationDescriptor', 'Principal, Teacher, Counselor...'),
      text('position_title', 'Position title as the source gives it.'),
      date('begin_date', 'First day of the assignment.'),
      date('end_date', 'Last day; empty while active.', false),
    ],
  },
  {
    entity: 'courses',
    edfiResource: 'courses',
    edfiDomain: 'Teaching and Learning',
    description: 'A course offered by a school or the district.',
    primaryKey: ['tenant', 'education_organization_id', 'course_code'],
    columns: [
      { name: 'course_code', type: 'VARCHAR', required: true, pii: 'none', description: 'Course code (Ed-Fi courseCode / localCourseCode).' },
      { name: 'education_organization_id', type: 'VARCHAR', required: true, pii: 'none', description: 'District or school that defines the course.' },
      text('course_title', 'Title of the course.', true),
      descriptor('academic_subject_descriptor', 'AcademicSubjectDescriptor', 'Subject (English Language Arts, Mathematics...).', false),
    ],
  },
  {
    entity: 'sessions',
    edfiResource: 'sessions',
    edfiDomain: 'School Calendar',
    description: 'A school year, term or grading period of the district (OneRoster academic session), with its dates and term type.',
    primaryKey: ['tenant', 'session_id'],
    columns: [
      { name: 'session_id', type: 'VARCHAR', required: true, pii: 'none', description: 'Identifier of the session in its source (OneRoster sourcedId).' },
      { name: 'session_name', type: 'VARCHAR', required: true, pii: 'none', description: 'Session name (OneRoster title), as sections name their session.' },
      schoolYear,
      { ...date('begin_date', 'First day of the session.'), pii: 'none' },
      { ...date('end_date', 'Last day of the session.'), pii: 'none' },
      descriptor('term_descriptor', 'TermDescriptor', 'Kind of session as delivered (OneRoster type: schoolYear, semester, term, gradingPeriod), mapped to the Ed-Fi TermDescriptor through seeds.descriptor_map.'),
      { name: 'parent_session_id', type: 'VARCHAR', pii: 'none', description: 'The session it is part of (a term of a school year), when the source says.' },
    ],
    checks: [
      {
        name: 'end_not_before_begin',
        field: 'end_date',
        rule: 'invalid_date',
        description: 'The session does not end before it begins.',
        sql: 'r.end_date >= r.begin_date',
      },
    ],
  },
  {
    entity: 'sections',
    edfiResource: 'sections',
    edfiDomain: 'Teaching and Learning',
    description: 'A class section of a course in a session of a school year.',
    primaryKey: ['tenant', 'section_key'],
    columns: [
      { ...sectionKey, references: undefined },
      { name: 'local_course_code', type: 'VARCHAR', required: true, pii: 'none', description: 'Course code as the school offers it.' },
      schoolId(),
      schoolYear,
      { name: 'section_identifier', type: 'VARCHAR', required: true, pii: 'none', description: 'The section’s identifier within the course offering (SIS class ID).' },
      { name: 'session_name', type: 'VARCHAR', required: true, pii: 'none', description: 'Session (term) name.' },
      text('course_title', 'Title of the course, for convenience.'),
    ],
  },
  {
    entity: 'staff_section_associations',
    edfiResource: 'staffSectionAssociations',
    edfiDomain: 'Teaching and Learning',
    description: 'A teacher of a section. A teacher’s scope in the API is their active associations.',
    primaryKey: ['tenant', 'staff_key', 'section_key', 'begin_date'],
    columns: [
      staffRef,
      sectionKey,
      descriptor('classroom_position_descriptor', 'ClassroomPositionDescriptor', 'Teacher of Record, Assistant Teacher...', false),
      date('begin_date', 'First day.'),
      date('end_date', 'Last day; empty while active.', false),
    ],
  },
  {
    entity: 'student_section_associations',
    edfiResource: 'studentSectionAssociations',
    edfiDomain: 'Teaching and Learning',
    description: 'A student’s membership of a section.',
    primaryKey: ['tenant', 'student_key', 'section_key', 'begin_date'],
    columns: [studentRef, sectionKey, date('begin_date', 'First day in the section.'), date('end_date', 'Last day; empty while active.', false)],
  },
  {
    entity: 'calendar_dates',
    edfiResource: 'calendarDates',
    edfiDomain: 'School Calendar',
    description: 'A day of a school’s calendar with its event (Instructional day, Holiday...).',
    primaryKey: ['tenant', 'school_id', 'school_year', 'date', 'calendar_event_descriptor'],
    columns: [
      schoolId(),
      schoolYear,
      { ...date('date', 'The calendar day.'), pii: 'none' },
      descriptor('calendar_event_descriptor', 'CalendarEventDescriptor', 'Instructional day, Make-up day, Holiday, Teacher only day...'),
    ],
  },
  {
    entity: 'student_school_attendance_events',
    edfiResource: 'studentSchoolAttendanceEvents',
    edfiDomain: 'Student Attendance',
    description: 'A daily attendance event recorded for a student at a school (usually only absences and tardies).',
    primaryKey: ['tenant', 'student_key', 'school_id', 'event_date', 'attendance_event_category_descriptor'],
    columns: [
      studentRef,
      schoolId(),
      schoolYear,
      date('event_date', 'The school day of the event.'),
      { ...descriptor('attendance_event_category_descriptor', 'AttendanceEventCategoryDescriptor', 'Excused Absence, Unexcused Absence, Tardy, Early departure, Partial, In Attendance.'), pii: 'quasi' },
      { name: 'event_duration', type: 'DOUBLE', pii: 'quasi', description: 'Share of the day the event covers, when the source gives one.', min: 0, max: 1 },
    ],
  },
  {
    entity: 'assessments',
    edfiResource: 'assessments',
    edfiDomain: 'Assessment',
    description: 'An assessment (state test, interim, screener) with its score range.',
    primaryKey: ['tenant', 'assessment_identifier', 'namespace'],
    columns: [
      { name: 'assessment_identifier', type: 'VARCHAR', required: true, pii: 'none', description: 'Identifier of the assessment (e.g. SBAC-ELA-G5, NWEA-MAP-Math).' },
      { name: 'namespace', type: 'VARCHAR', required: true, pii: 'none', description: 'Namespace of the assessment (uri://vendor...).' },
      text('assessment_title', 'Title.', true),
      { name: 'assessment_family', type: 'VARCHAR', required: true, pii: 'none', description: 'state | interim | screener | survey_scale.', allowed: ['state', 'interim', 'screener'] },
      text('vendor', 'Vendor or program: caaspp, cers, nwea_map, iready, star, basc3_bess, edfi.', true),
      descriptor('academic_subject_descriptor', 'AcademicSubjectDescriptor', 'Subject assessed (ELA, Mathematics, Social-emotional...).', false),
      { name: 'min_score', type: 'DOUBLE', pii: 'none', description: 'Lowest possible scale score.' },
      { name: 'max_score', type: 'DOUBLE', pii: 'none', description: 'Highest possible scale score.' },
    ],
  },
  {
    entity: 'student_assessments',
    edfiResource: 'studentAssessments',
    edfiDomain: 'Assessment',
    description: 'One administration of an assessment to a student, with its scale score and performance level.',
    primaryKey: ['tenant', 'assessment_identifier', 'namespace', 'student_assessment_identifier', 'student_key'],
    columns: [
      studentRef,
      { name: 'assessment_identifier', type: 'VARCHAR', required: true, pii: 'none', description: 'The assessment.' },
      { name: 'namespace', type: 'VARCHAR', required: true, pii: 'none', description: 'Namespace of the assessment.' },
      { name: 'student_assessment_identifier', type: 'VARCHAR', required: true, pii: 'none', description: 'Identifier of this administration (vendor test ID or a hash of student, assessment and date).' },
      { ...date('administration_date', 'Date the student took the assessment.'), min: '2000-01-01' },
      schoolYear,
      { ...schoolId('School where the student tested, when known.'), required: false },
      descriptor('when_assessed_grade_level_descriptor', 'GradeLevelDescriptor', 'Grade level when assessed.', false),
      { name: 'testing_window', type: 'VARCHAR', pii: 'none', description: 'Fall, Winter, Spring, or the state window.', allowed: ['Fall', 'Winter', 'Spring', 'State'] },
      { name: 'scale_score', type: 'DOUBLE', pii: 'quasi', description: 'Scale score on the assessment’s own scale.' },
      { name: 'scale_score_sem', type: 'DOUBLE', pii: 'quasi', description: 'Standard error of measurement of the scale score.', min: 0 },
      { ...descriptor('performance_level_descriptor', 'PerformanceLevelDescriptor', 'Performance level as delivered (e.g. Standard Met, Tier 2).', false), pii: 'quasi' },
      { name: 'percentile', type: 'DOUBLE', pii: 'quasi', description: 'National percentile rank, when the vendor gives one.', min: 0, max: 100 },
    ],
    checks: [
      {
        name: 'scale_score_in_assessment_range',
        field: 'scale_score',
        rule: 'out_of_range',
        description: 'The scale score lies within the assessment’s minimum and maximum score.',
        sql: `r.scale_score is null or not exists (
          select 1 from refined.assessments a
          where a.tenant = r.tenant and a.assessment_identifier = r.assessment_identifier and a.namespace = r.namespace
            and (r.scale_score < a.min_score or r.scale_score > a.max_score))`,
      },
    ],
  },
  {
    entity: 'discipline_incidents',
    edfiResource: 'disciplineIncidents',
    edfiDomain: 'Discipline',
    description: 'A behavior incident at a school.',
    primaryKey: ['tenant', 'school_id', 'incident_identifier'],
    columns: [
      schoolId(),
      { name: 'incident_identifier', type: 'VARCHAR', required: true, pii: 'none', description: 'Identifier of the incident within the school.' },
      { ...date('incident_date', 'Date of the incident.'), pii: 'quasi' },
      descriptor('incident_location_descriptor', 'IncidentLocationDescriptor', 'Where it happened.', false),
    ],
  },
  {
    entity: 'student_discipline_incident_behavior_associations',
    edfiResource: 'studentDisciplineIncidentBehaviorAssociations',
    edfiDomain: 'Discipline',
    description: 'A student’s behavior in an incident. Whether a behavior is state-reportable comes from seeds.descriptor_map.',
    primaryKey: ['tenant', 'student_key', 'school_id', 'incident_identifier', 'behavior_descriptor'],
    columns: [
      studentRef,
      schoolId(),
      { name: 'incident_identifier', type: 'VARCHAR', required: true, pii: 'none', description: 'The incident.' },
      { ...descriptor('behavior_descriptor', 'BehaviorDescriptor', 'The behavior (e.g. Fighting, Defiance, State Offense).'), pii: 'quasi' },
    ],
  },
  {
    entity: 'discipline_actions',
    edfiResource: 'disciplineActions',
    edfiDomain: 'Discipline',
    description: 'An action taken after an incident (suspension, detention...).',
    primaryKey: ['tenant', 'discipline_action_identifier', 'discipline_date', 'student_key'],
    columns: [
      studentRef,
      { name: 'discipline_action_identifier', type: 'VARCHAR', required: true, pii: 'none', description: 'Identifier of the action.' },
      date('discipline_date', 'Date of the action.'),
      { ...descriptor('discipline_descriptor', 'DisciplineDescriptor', 'In-school suspension, Out-of-school suspension, Expulsion...'), pii: 'quasi' },
      { name: 'actual_discipline_action_length', type: 'DOUBLE', pii: 'quasi', description: 'Length in school days.', min: 0, max: 365 },
      { ...schoolId('School responsible for the action.'), required: false },
      { name: 'incident_identifier', type: 'VARCHAR', pii: 'none', description: 'The incident that led to it, when known.' },
    ],
  },
  {
    entity: 'grades',
    edfiResource: 'grades',
    edfiDomain: 'Student Academic Record',
    description: 'A course mark for a student in a section and grading period.',
    primaryKey: ['tenant', 'student_key', 'section_key', 'grading_period_descriptor', 'grade_type_descriptor'],
    columns: [
      studentRef,
      sectionKey,
      descriptor('grading_period_descriptor', 'GradingPeriodDescriptor', 'Grading period (First Quarter, Semester 1...).'),
      descriptor('grade_type_descriptor', 'GradeTypeDescriptor', 'Grading Period, Semester, Final...'),
      { name: 'letter_grade_earned', type: 'VARCHAR', pii: 'quasi', description: 'Letter grade (A, B+, ...).' },
      { name: 'numeric_grade_earned', type: 'DOUBLE', pii: 'quasi', description: 'Numeric grade 0 to 100, when given.', min: 0, max: 100 },
    ],
  },
  {
    entity: 'surveys',
    edfiResource: 'surveys',
    edfiDomain: 'Survey',
    description: 'A survey or survey administration (well-being survey).',
    primaryKey: ['tenant', 'namespace', 'survey_identifier'],
    columns: [
      { name: 'survey_identifier', type: 'VARCHAR', required: true, pii: 'none', description: 'Identifier of the survey administration.' },
      { name: 'namespace', type: 'VARCHAR', required: true, pii: 'none', description: 'Namespace.' },
      text('survey_title', 'Title.', true),
      { ...schoolYear, required: false },
    ],
  },
  {
    entity: 'survey_question_responses',
    edfiResource: 'surveyQuestionResponses',
    edfiDomain: 'Survey',
    description: 'A student’s numeric answer to one survey question, with the scale (survey section) it belongs to.',
    primaryKey: ['tenant', 'namespace', 'survey_identifier', 'survey_response_identifier', 'question_code'],
    columns: [
      studentRef,
      { name: 'namespace', type: 'VARCHAR', required: true, pii: 'none', description: 'Namespace of the survey.' },
      { name: 'survey_identifier', type: 'VARCHAR', required: true, pii: 'none', description: 'The survey.' },
      { name: 'survey_response_identifier', type: 'VARCHAR', required: true, pii: 'none', description: 'One student’s response to the survey.' },
      date('response_date', 'Date of the response.'),
      { ...schoolId('School of the respondent, when known.'), required: false },
      { name: 'survey_section_title', type: 'VARCHAR', pii: 'none', description: 'Scale the question belongs to (belonging, safety, emotional well-being, engagement).' },
      { name: 'question_code', type: 'VARCHAR', required: true, pii: 'none', description: 'Question code.' },
      { name: 'numeric_response', type: 'DOUBLE', pii: 'quasi', description: 'Answer on the item’s numeric scale (Likert 1 to 5).', min: 0, max: 10 },
    ],
  },
  {
    entity: 'lms_sections',
    edfiResource: 'LMS UDM LMSSection',
    edfiDomain: 'Teaching and Learning (LMS)',
    description: 'A course section in the LMS, linked to its SIS section when the LMS carries the SIS ID.',
    primaryKey: ['tenant', 'lms_section_id'],
    columns: [
      { name: 'lms_section_id', type: 'VARCHAR', required: true, pii: 'none', description: 'Section identifier in the LMS (SourceSystemIdentifier).' },
      { ...sectionKey, required: false, description: 'The SIS section it teaches, when known.' },
      text('title', 'Section title in the LMS.'),
      text('source_system', 'LMS (Canvas, Schoology, Google Classroom).', true),
    ],
  },
  {
    entity: 'lms_section_associations',
    edfiResource: 'LMS UDM LMSSectionAssociation',
    edfiDomain: 'Teaching and Learning (LMS)',
    description: 'A person’s enrollment in an LMS section: a student (student_key) or a teacher or other staff member (staff_key), never both.',
    primaryKey: ['tenant', 'lms_section_association_id'],
    columns: [
      { name: 'lms_section_association_id', type: 'VARCHAR', required: true, pii: 'none', description: 'Identifier of the enrollment in the LMS (SourceSystemIdentifier).' },
      { name: 'lms_section_id', type: 'VARCHAR', required: true, pii: 'none', description: 'The LMS section.', references: { entity: 'lms_sections', column: 'lms_section_id', sameTenant: true } },
      { ...studentRef, required: false, description: 'The student enrolled (keyed hash), when the LMS user is a student.' },
      { ...staffRef, required: false, description: 'The teacher or staff member enrolled (keyed hash), when the LMS user is staff.' },
      { name: 'enrollment_status', type: 'VARCHAR', pii: 'quasi', description: 'Enrollment status as the LMS writes it (Active, Inactive, Completed...).' },
      text('source_system', 'LMS (Canvas, Schoology, Google Classroom).', true),
    ],
    checks: [
      {
        name: 'one_person',
        field: 'student_key',
        rule: 'missing_required',
        description: 'The enrollment names exactly one person: a student or a staff member.',
        sql: '(r.student_key is null) <> (r.staff_key is null)',
      },
    ],
  },
  {
    entity: 'lms_assignments',
    edfiResource: 'LMS UDM Assignment',
    edfiDomain: 'Teaching and Learning (LMS)',
    description: 'An assignment of an LMS section.',
    primaryKey: ['tenant', 'assignment_id'],
    columns: [
      { name: 'assignment_id', type: 'VARCHAR', required: true, pii: 'none', description: 'Assignment identifier in the LMS.' },
      { name: 'lms_section_id', type: 'VARCHAR', required: true, pii: 'none', description: 'Its LMS section.', references: { entity: 'lms_sections', column: 'lms_section_id', sameTenant: true } },
      text('title', 'Title.'),
      { name: 'due_date_time', type: 'TIMESTAMP', pii: 'none', description: 'When it is due.' },
      { name: 'max_points', type: 'DOUBLE', pii: 'none', description: 'Points possible.', min: 0 },
    ],
  },
  {
    entity: 'lms_submissions',
    edfiResource: 'LMS UDM AssignmentSubmission',
    edfiDomain: 'Teaching and Learning (LMS)',
    description: 'A student’s submission (or missing submission) of an assignment.',
    primaryKey: ['tenant', 'assignment_id', 'student_key'],
    columns: [
      studentRef,
      { name: 'assignment_id', type: 'VARCHAR', required: true, pii: 'none', description: 'The assignment.', references: { entity: 'lms_assignments', column: 'assignment_id', sameTenant: true } },
      { ...descriptor('submission_status_descriptor', 'SubmissionStatusDescriptor', 'on-time, late, missing (as the LMS writes them).'), pii: 'quasi' },
      { name: 'submission_date_time', type: 'TIMESTAMP', pii: 'quasi', description: 'When it was submitted; empty when missing.' },
      { name: 'earned_points', type: 'DOUBLE', pii: 'quasi', description: 'Points earned.', min: 0 },
    ],
  },
];

const byName = new Map(ENTITIES.map((e) => [e.entity, e]));

export function entity(name: string): EntityContract {
  const e = byName.get(name);
  if (!e) throw new Error(`no refined contract named ${JSON.stringify(name)}`);
  return e;
}
