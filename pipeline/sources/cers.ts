/**
 * CERS student results export (California Educator Reporting System): interim results, ICA and
 * IAB, on the Smarter Balanced scale. 59 columns up to 2023-24, 64 from 2024-25 (adds Sex,
 * Section504Status, IDEAIndicator, LEPStatus, MilitaryConnectedStudentIndicator); both layouts
 * share the columns read here. StudentIdentifier is the SSID.
 */
import { assessmentOf, windowOfDate } from './common.ts';
import type { CsvLayout, SourceDefinition } from './types.ts';

const identifier = `concat_ws('-', 'CERS', {AssessmentSubType}, {Subject}, {AssessmentName})`;

const columns = {
  DistrictId: [],
  SchoolId: [],
  StudentIdentifier: [],
  SubmitDateTime: [],
  SchoolYear: [],
  TestSessionId: [],
  AssessmentType: [],
  AssessmentSubType: [],
  AssessmentName: [],
  Subject: [],
  GradeLevelWhenAssessed: [],
  ScaleScoreAchievementLevel: [],
  ScaleScore: [],
  ScaleScoreStandardError: [],
  Sex: [],
  Section504Status: [],
};

const layout = (id: string, identify: string[], description: string): CsvLayout => ({
  id,
  description,
  format: 'csv',
  delimiter: ',',
  phase: 3,
  identify,
  columns,
  student: { candidates: ['StudentIdentifier'], idTypes: ['state', 'local'] },
  mappings: [
    assessmentOf({
      identifier,
      namespace: 'uri://cers.caaspp.org',
      title: `coalesce({AssessmentName}, ${identifier})`,
      family: 'interim',
      vendor: 'cers',
      subject: 'Subject',
      minScore: 2100,
      maxScore: 2900,
    }),
    {
      entity: 'student_assessments',
      fields: {
        student_key: { student: 'StudentIdentifier' },
        assessment_identifier: { sql: identifier, field: 'AssessmentName' },
        namespace: { value: 'uri://cers.caaspp.org' },
        student_assessment_identifier: { sql: `coalesce({TestSessionId} || '|' || {SubmitDateTime}, {SubmitDateTime})`, field: 'SubmitDateTime' },
        administration_date: 'SubmitDateTime',
        school_year: { sql: `coalesce(CAST(edlake_school_year({SchoolYear}) AS VARCHAR), {SchoolYear})`, field: 'SchoolYear' },
        when_assessed_grade_level_descriptor: 'GradeLevelWhenAssessed',
        testing_window: { sql: `CASE WHEN upper({AssessmentSubType}) = 'ICA' THEN 'Winter' ELSE ${windowOfDate('{SubmitDateTime}')} END`, field: 'SubmitDateTime' },
        scale_score: 'ScaleScore',
        scale_score_sem: 'ScaleScoreStandardError',
        performance_level_descriptor: 'ScaleScoreAchievementLevel',
      },
    },
  ],
});

export const cers: SourceDefinition = {
  name: 'cers',
  description: 'CERS student results export (Smarter Balanced interim: ICA and IAB).',
  layouts: [
    layout('cers.export_64', ['StudentIdentifier', 'AssessmentSubType', 'ScaleScore', 'Sex', 'Section504Status'], 'CERS export, 64 columns (2024-25 on).'),
    layout('cers.export_59', ['StudentIdentifier', 'AssessmentSubType', 'ScaleScore'], 'CERS export, 59 columns (to 2023-24).'),
  ],
};
