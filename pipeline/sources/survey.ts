/**
 * The district's student well-being survey (layout in docs/formats/README.md): one row per
 * response, one column per item (BEL belonging, SAF safety, EWB emotional well-being, ENG
 * engagement), Likert 1-5, empty = skipped. Refined long: one record per answered item.
 */
import type { SourceDefinition } from './types.ts';

const items = ['BEL', 'SAF', 'EWB', 'ENG'].flatMap((s) => [1, 2, 3, 4, 5, 6].map((i) => `${s}${i}`));
const ns = 'uri://edlake.org/wellbeing-survey';
const surveyId = `concat_ws('-', {survey_name}, {administration}, CAST(edlake_school_year_of(edlake_date({submitted_at})) AS VARCHAR))`;

export const survey: SourceDefinition = {
  name: 'survey',
  description: 'Student well-being survey (Likert items in four scales).',
  layouts: [
    {
      id: 'survey.wellbeing_responses',
      description: 'wellbeing_responses.csv.',
      format: 'csv',
      delimiter: ',',
      phase: 3,
      identify: ['response_id', 'student_id', 'survey_name', 'administration'],
      columns: {
        response_id: [],
        student_id: [],
        school_code: ['school_id'],
        grade_level: [],
        survey_name: [],
        administration: [],
        submitted_at: ['submitted', 'response_date'],
        ...Object.fromEntries(items.map((i) => [i, []])),
      },
      student: { candidates: ['student_id'], idTypes: ['local', 'state'] },
      mappings: [
        {
          entity: 'surveys',
          derived: true,
          fields: {
            survey_identifier: { sql: surveyId, field: 'survey_name' },
            namespace: { value: ns },
            survey_title: { sql: `concat_ws(' ', {survey_name}, {administration})`, field: 'survey_name' },
            school_year: { sql: `CAST(edlake_school_year_of(edlake_date({submitted_at})) AS VARCHAR)`, field: 'submitted_at' },
          },
        },
        {
          entity: 'survey_question_responses',
          unpivot: { columns: items },
          where: `{__value} IS NOT NULL`,
          fields: {
            student_key: { student: 'student_id' },
            namespace: { value: ns },
            survey_identifier: { sql: surveyId, field: 'survey_name' },
            survey_response_identifier: 'response_id',
            response_date: 'submitted_at',
            school_id: 'school_code',
            survey_section_title: {
              sql: `CASE left({__name}, 3) WHEN 'BEL' THEN 'Belonging' WHEN 'SAF' THEN 'Safety' WHEN 'EWB' THEN 'Emotional well-being' WHEN 'ENG' THEN 'Engagement' END`,
            },
            question_code: { sql: `{__name}` },
            numeric_response: { sql: `{__value}` },
          },
          checks: [
            {
              field: 'numeric_response',
              rule: 'out_of_range',
              sql: `TRY_CAST({value} AS DOUBLE) IS NULL OR TRY_CAST({value} AS DOUBLE) BETWEEN 1 AND 5`,
              description: 'A Likert item is answered 1 (strongly disagree) to 5 (strongly agree).',
            },
          ],
        },
      ],
    },
  ],
};
