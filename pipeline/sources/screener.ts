/**
 * BASC-3 Behavioral and Emotional Screening System (BESS) export: one row per completed form,
 * with the Behavioral and Emotional Risk Index (BERI, a T-score) and its risk level. Written in
 * Windows-1252 by the vendor (converted on inhale). Student names are not carried into the
 * refined layer.
 */
import { assessmentOf, windowOfDate } from './common.ts';
import type { SourceDefinition } from './types.ts';

const identifier = `'BASC3-BESS:' || coalesce({Form}, 'BESS-3')`;
const ns = 'uri://pearsonassessments.com/basc-3-bess';

export const screener: SourceDefinition = {
  name: 'screener',
  description: 'BASC-3 BESS behavioral and emotional screener.',
  layouts: [
    {
      id: 'screener.bess',
      description: 'BESS.csv (27 columns).',
      format: 'csv',
      delimiter: ',',
      phase: 3,
      identify: ['StudentNumber', 'Form', 'BERI', 'BERIRisk'],
      columns: {
        SchoolName: ['School Name'],
        StudentNumber: ['Student Number', 'Student ID'],
        Grade: [],
        Respondent: [],
        Submitted: [],
        Form: [],
        BERI: [],
        BERIRawScore: ['BERI Raw Score'],
        BERIPercentile: ['BERI Percentile'],
        BERIRisk: ['BERI Risk'],
      },
      student: { candidates: ['StudentNumber'], idTypes: ['local', 'state'] },
      mappings: [
        assessmentOf({ identifier, namespace: ns, title: `'BASC-3 BESS ' || coalesce({Form}, '')`, family: 'screener', vendor: 'basc3_bess', subject: { value: 'Social-emotional' }, minScore: 10, maxScore: 120 }),
        {
          entity: 'student_assessments',
          fields: {
            student_key: { student: 'StudentNumber' },
            assessment_identifier: { sql: identifier, field: 'Form' },
            namespace: { value: ns },
            student_assessment_identifier: { sql: `concat_ws('|', {Form}, {Submitted}, {Respondent})`, field: 'Submitted' },
            administration_date: 'Submitted',
            school_year: { sql: `CAST(edlake_school_year_of(edlake_date({Submitted})) AS VARCHAR)`, field: 'Submitted' },
            when_assessed_grade_level_descriptor: 'Grade',
            testing_window: { sql: windowOfDate('{Submitted}'), field: 'Submitted' },
            scale_score: 'BERI',
            performance_level_descriptor: 'BERIRisk',
            percentile: 'BERIPercentile',
          },
        },
      ],
    },
  ],
};
