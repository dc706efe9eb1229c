/**
 * The district SIS exports that OneRoster does not carry (layouts in docs/formats/README.md):
 * students, school enrollment, program participation, calendar, daily attendance, discipline,
 * course marks. Header names arrive in spelling variants (matched after normalization) and in
 * any order; the aliases below are the true renames. Codes are stored as delivered and mapped
 * through the seeds downstream.
 */
import { districtOfTenant } from './common.ts';
import type { SourceDefinition } from './types.ts';

export const sis: SourceDefinition = {
  name: 'sis',
  description: 'District SIS exports (students, enrollment, programs, calendar, attendance, discipline, course marks).',
  layouts: [
    {
      id: 'sis.calendar',
      description: 'calendar.csv: one row per school and calendar day with its day type.',
      format: 'csv',
      delimiter: ',',
      phase: 0,
      identify: ['school_code', 'calendar_date', 'day_type_code'],
      columns: { school_code: ['school_id'], calendar_date: ['date'], day_type_code: ['day_type'], description: [] },
      mappings: [
        {
          entity: 'calendar_dates',
          fields: {
            school_id: 'school_code',
            school_year: { sql: `CAST(edlake_school_year_of(edlake_date({calendar_date})) AS VARCHAR)`, field: 'calendar_date' },
            date: 'calendar_date',
            calendar_event_descriptor: 'day_type_code',
          },
        },
      ],
    },
    {
      id: 'sis.students',
      emptyAllowed: true,
      description: 'students.csv: the roster with demographics. Names, birth date and state ID go to the identity store only.',
      format: 'csv',
      delimiter: ',',
      phase: 1,
      identify: ['student_id', 'state_student_id', 'last_name', 'first_name', 'birth_date'],
      columns: {
        student_id: [],
        state_student_id: ['ssid'],
        last_name: [],
        first_name: [],
        middle_name: [],
        birth_date: ['dob', 'date_of_birth'],
        gender: ['sex'],
        grade_level: [],
        hispanic_latino: [],
        race_code_1: [],
        race_code_2: [],
        race_code_3: [],
        home_language_code: [],
        el_status: [],
        parent_ed_level: [],
      },
      mappings: [
        {
          entity: 'students',
          fields: { student_key: { person: 'student_id' }, birth_year: { sql: `CAST(year(edlake_date({birth_date})) AS VARCHAR)`, field: 'birth_date' } },
        },
        {
          entity: 'student_education_organization_associations',
          fields: {
            student_key: { person: 'student_id' },
            education_organization_id: districtOfTenant,
            sex_descriptor: 'gender',
            hispanic_latino_ethnicity: 'hispanic_latino',
            races: { sql: `list_filter([{race_code_1}, {race_code_2}, {race_code_3}], x -> x IS NOT NULL)`, field: 'race_code_1' },
            limited_english_proficiency_descriptor: 'el_status',
          },
        },
      ],
      identity: [
        {
          kind: 'student',
          id: 'student_id',
          stateId: 'state_student_id',
          firstName: 'first_name',
          middleName: 'middle_name',
          lastName: 'last_name',
          birthDate: 'birth_date',
          defines: true,
        },
      ],
    },
    {
      id: 'sis.school_enrollment',
      emptyAllowed: true,
      description: 'school_enrollment.csv: entry and exit per student and school (upserts by student, school, entry date).',
      format: 'csv',
      delimiter: ',',
      phase: 2,
      identify: ['student_id', 'school_code', 'entry_date'],
      columns: { student_id: [], school_code: ['school_id'], grade_level: [], entry_date: [], entry_code: [], exit_date: [], exit_code: [] },
      mappings: [
        {
          entity: 'student_school_associations',
          fields: {
            student_key: { student: 'student_id' },
            school_id: 'school_code',
            school_year: { sql: `CAST(edlake_school_year_of(edlake_date({entry_date})) AS VARCHAR)`, field: 'entry_date' },
            entry_date: 'entry_date',
            exit_withdraw_date: 'exit_date',
            entry_grade_level_descriptor: 'grade_level',
            exit_withdraw_type_descriptor: 'exit_code',
          },
        },
      ],
    },
    {
      id: 'sis.program_participation',
      emptyAllowed: true,
      description: 'program_participation.csv: special education, English learner, 504, SED, foster, homeless.',
      format: 'csv',
      delimiter: ',',
      phase: 2,
      identify: ['student_id', 'program_code', 'start_date'],
      columns: { student_id: [], program_code: [], program_name: [], start_date: ['begin_date'], end_date: [] },
      mappings: [
        {
          entity: 'student_program_associations',
          fields: {
            student_key: { student: 'student_id' },
            education_organization_id: districtOfTenant,
            program_descriptor: 'program_code',
            begin_date: 'start_date',
            end_date: 'end_date',
          },
        },
      ],
    },
    {
      id: 'sis.attendance',
      emptyAllowed: true,
      description: 'attendance.csv: the day’s absences and tardies (no row = present). minutes_missed appears mid-year.',
      format: 'csv',
      delimiter: ',',
      phase: 3,
      identify: ['student_id', 'school_code', 'attendance_date', 'attendance_code'],
      columns: { student_id: [], school_code: ['school_id'], attendance_date: ['date'], attendance_code: ['att_code'], minutes_missed: [] },
      mappings: [
        {
          entity: 'student_school_attendance_events',
          fields: {
            student_key: { student: 'student_id' },
            school_id: 'school_code',
            school_year: { sql: `CAST(edlake_school_year_of(edlake_date({attendance_date})) AS VARCHAR)`, field: 'attendance_date' },
            event_date: 'attendance_date',
            attendance_event_category_descriptor: 'attendance_code',
          },
          // the SIS writes one row per student, school and day
          sourceKey: ['tenant', 'student_key', 'school_id', 'event_date'],
        },
      ],
    },
    {
      id: 'sis.discipline_incidents',
      emptyAllowed: true,
      description: 'discipline_incidents.csv: incidents; their behavior code is kept for the students’ behavior associations.',
      format: 'csv',
      delimiter: ',',
      phase: 2,
      identify: ['incident_id', 'school_code', 'incident_date', 'behavior_code'],
      columns: {
        incident_id: [],
        school_code: ['school_id'],
        incident_date: [],
        incident_time: [],
        location_code: [],
        behavior_code: [],
        behavior_description: [],
        state_reportable: [],
        reported_by_staff_id: [],
      },
      mappings: [
        {
          entity: 'discipline_incidents',
          fields: { school_id: 'school_code', incident_identifier: 'incident_id', incident_date: 'incident_date', incident_location_descriptor: 'location_code' },
        },
      ],
      aux: { table: 'incident_behaviors', key: 'incident_id', columns: ['school_code', 'behavior_code'] },
    },
    {
      id: 'sis.discipline_actions',
      emptyAllowed: true,
      description: 'discipline_actions.csv: one action per student and incident; also gives the student’s behavior association.',
      format: 'csv',
      delimiter: ',',
      phase: 3,
      identify: ['action_id', 'incident_id', 'student_id', 'action_code'],
      columns: { action_id: [], incident_id: [], student_id: [], action_code: [], action_start_date: ['action_date', 'start_date'], duration_days: [] },
      mappings: [
        {
          entity: 'discipline_actions',
          fields: {
            student_key: { student: 'student_id' },
            discipline_action_identifier: 'action_id',
            discipline_date: 'action_start_date',
            discipline_descriptor: 'action_code',
            actual_discipline_action_length: 'duration_days',
            school_id: { sql: `(SELECT a.school_code FROM meta.aux_incident_behaviors a WHERE a.tenant = {tenant} AND a.incident_id = {incident_id})`, field: 'incident_id' },
            incident_identifier: 'incident_id',
          },
        },
        {
          entity: 'student_discipline_incident_behavior_associations',
          derived: true,
          fields: {
            student_key: { student: 'student_id' },
            school_id: { sql: `(SELECT a.school_code FROM meta.aux_incident_behaviors a WHERE a.tenant = {tenant} AND a.incident_id = {incident_id})`, field: 'incident_id' },
            incident_identifier: 'incident_id',
            behavior_descriptor: { sql: `(SELECT a.behavior_code FROM meta.aux_incident_behaviors a WHERE a.tenant = {tenant} AND a.incident_id = {incident_id})`, field: 'incident_id' },
          },
        },
      ],
    },
    {
      id: 'sis.course_marks',
      description: 'course_marks.csv: progress and semester marks, grades 6-12.',
      format: 'csv',
      delimiter: ',',
      phase: 3,
      identify: ['student_id', 'section_id', 'grading_period', 'mark'],
      columns: { student_id: [], school_code: [], section_id: [], course_code: [], grading_period: [], mark: [], percent: [], teacher_id: [], posted_date: [] },
      mappings: [
        {
          entity: 'grades',
          fields: {
            student_key: { student: 'student_id' },
            section_key: { sectionOf: 'section_id' },
            grading_period_descriptor: 'grading_period',
            grade_type_descriptor: { sql: `CASE WHEN upper({grading_period}) LIKE 'S%' THEN 'Semester' WHEN upper({grading_period}) LIKE 'F%' THEN 'Final' ELSE 'Grading Period' END`, field: 'grading_period' },
            letter_grade_earned: 'mark',
            numeric_grade_earned: 'percent',
          },
          checks: [
            { field: 'letter_grade_earned', rule: 'missing_required', sql: `{value} IS NOT NULL`, description: 'A course mark row carries its mark.' },
            { column: 'posted_date', rule: 'invalid_date', sql: `{value} IS NULL OR edlake_date({value}) IS NOT NULL`, description: 'The posting date is a real date.' },
          ],
        },
      ],
    },
  ],
};
