/**
 * CAASPP Student Score Data File: caret-delimited, unquoted, one row per student and test
 * (Smarter Balanced ELA = RecordType 01, Mathematics = 02). The layout changes by year (columns
 * renamed or blanked): the aliases absorb the renames; blanked columns arrive empty.
 * Names, birth dates and the SSID in this file are not carried into the refined layer.
 */
import { assessmentOf } from './common.ts';
import type { SourceDefinition } from './types.ts';

const subject = `CASE {RecordType} WHEN '01' THEN 'ELA' WHEN '1' THEN 'ELA' WHEN '02' THEN 'Math' WHEN '2' THEN 'Math' ELSE {RecordType} END`;
const identifier = `'CAASPP-SB-' || ${subject}`;

export const caaspp: SourceDefinition = {
  name: 'caaspp',
  description: 'CAASPP Student Score Data File (Smarter Balanced summative, prior year).',
  layouts: [
    {
      id: 'caaspp.student_score_data_file',
      description: 'Student Score Data File, 2024 layout (375 columns) and the earlier layouts it renamed.',
      format: 'csv',
      delimiter: '^',
      phase: 3,
      identify: ['RecordType', 'SSID', 'GradeAssessed', 'ScaleScore'],
      columns: {
        RecordType: [],
        SSID: ['StateStudentID'],
        LocalStudentID: ['LocalID', 'LocalStudentIdentifier', 'StudentLocalID'],
        GradeAssessed: ['GradeLevelAssessed'],
        CALPADSSchoolCode: ['SchoolCode'],
        FinalTestCompletedDate: ['TestCompletedDate', 'FinalTestCompletionDate', 'TestCompletedDate1'],
        ScaleScore: ['SBScaleScore', 'ScaleScoreSB', 'SmarterScaleScore'],
        StandardErrorMeasurement: ['SEM', 'StandardError', 'SmarterStandardErrorMeasurement'],
        AchievementLevels: ['AchievementLevel', 'ScaleScoreAchievementLevel', 'SmarterAchievementLevel'],
        TestRegistrationID: [],
      },
      student: { candidates: ['LocalStudentID', 'SSID'], idTypes: ['local', 'state'] },
      mappings: [
        assessmentOf({
          identifier,
          namespace: 'uri://caaspp.org',
          title: `'Smarter Balanced Summative ' || ${subject}`,
          family: 'state',
          vendor: 'caaspp',
          subject: { sql: subject, field: 'RecordType' },
          minScore: 2100,
          maxScore: 2900,
        }),
        {
          entity: 'student_assessments',
          fields: {
            student_key: { student: 'LocalStudentID' },
            assessment_identifier: { sql: identifier, field: 'RecordType' },
            namespace: { value: 'uri://caaspp.org' },
            student_assessment_identifier: { sql: `concat_ws('|', ${identifier}, {FinalTestCompletedDate})`, field: 'FinalTestCompletedDate' },
            administration_date: 'FinalTestCompletedDate',
            school_year: { sql: `CAST(edlake_school_year_of(edlake_date({FinalTestCompletedDate})) AS VARCHAR)`, field: 'FinalTestCompletedDate' },
            when_assessed_grade_level_descriptor: 'GradeAssessed',
            testing_window: { value: 'State' },
            scale_score: 'ScaleScore',
            scale_score_sem: 'StandardErrorMeasurement',
            performance_level_descriptor: 'AchievementLevels',
          },
        },
      ],
    },
  ],
};
