/**
 * NWEA MAP Growth AssessmentResults export (143 columns, every field quoted). Names students by
 * StudentID (local) and Student_StateID (SSID), but vendors' labels are not trusted: both are tried
 * against the roster. Older exports spell some headers differently (aliases).
 */
import { assessmentOf, windowOfName } from './common.ts';
import type { SourceDefinition } from './types.ts';

const identifier = `'NWEA-MAP-' || {Subject}`;

export const nwea_map: SourceDefinition = {
  name: 'nwea_map',
  description: 'NWEA MAP Growth (RIT scale).',
  layouts: [
    {
      id: 'nwea_map.assessment_results',
      description: 'AssessmentResults.csv (the combined data file).',
      format: 'csv',
      delimiter: ',',
      phase: 3,
      identify: ['TermName', 'StudentID', 'Subject', 'TestRITScore'],
      columns: {
        TermName: [],
        DistrictName: [],
        SchoolName: [],
        School_StateID: ['SchoolStateID'],
        StudentID: ['Student ID', 'StudentLocalID'],
        Student_StateID: ['StudentStateID', 'Student State ID'],
        Subject: ['MeasurementScale'],
        Course: [],
        TestName: [],
        TestID: [],
        TestStartDate: ['TestDate'],
        TestStartTime: [],
        TestRITScore: ['RITScore', 'TestRIT'],
        TestStandardError: ['StandardError'],
        TestPercentile: ['Percentile'],
        AchievementQuintile: [],
      },
      student: { candidates: ['StudentID', 'Student_StateID'], idTypes: ['local', 'state'] },
      mappings: [
        assessmentOf({ identifier, namespace: 'uri://nwea.org', title: `'MAP Growth ' || {Subject}`, family: 'interim', vendor: 'nwea_map', subject: 'Subject', minScore: 100, maxScore: 350 }),
        {
          entity: 'student_assessments',
          fields: {
            student_key: { student: 'StudentID' },
            assessment_identifier: { sql: identifier, field: 'Subject' },
            namespace: { value: 'uri://nwea.org' },
            student_assessment_identifier: { sql: `concat_ws('|', {TermName}, {TestStartDate}, {TestStartTime})`, field: 'TestStartDate' },
            administration_date: 'TestStartDate',
            school_year: { sql: `CAST(edlake_school_year({TermName}) AS VARCHAR)`, field: 'TermName' },
            testing_window: { sql: windowOfName('TermName'), field: 'TermName' },
            scale_score: 'TestRITScore',
            scale_score_sem: 'TestStandardError',
            performance_level_descriptor: 'AchievementQuintile',
            percentile: 'TestPercentile',
          },
        },
      ],
    },
  ],
};
