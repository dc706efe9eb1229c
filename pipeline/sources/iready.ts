/**
 * Curriculum Associates i-Ready Diagnostic Results (ELA and Math exports; UTF-8 with BOM, CRLF).
 * `Student ID` holds the local ID at some schools and the SSID at others, and `Student State ID`
 * may be blank: the column is recognised against both ID sets of the roster.
 */
import { assessmentOf, windowOfName } from './common.ts';
import type { CsvLayout, SourceDefinition } from './types.ts';

const columns = {
  StudentID: ['Student ID'],
  StudentStateID: ['Student State ID'],
  StudentGrade: ['Student Grade'],
  AcademicYear: ['Academic Year'],
  SchoolStateID: ['School State ID'],
  StartDate: ['Start Date'],
  CompletionDate: ['Completion Date'],
  NormingWindow: ['Norming Window'],
  OverallScaleScore: ['Overall Scale Score'],
  OverallPlacement: ['Overall Placement'],
  OverallRelativePlacement: ['Overall Relative Placement'],
  Percentile: ['Percentile'],
  LexileMeasure: ['Lexile Measure'],
  QuantileMeasure: ['Quantile Measure'],
};

const layout = (id: string, subject: 'ELA' | 'Math', marker: 'LexileMeasure' | 'QuantileMeasure'): CsvLayout => {
  const identifier = `'IREADY-DIAGNOSTIC-${subject.toUpperCase()}'`;
  return {
    id,
    description: `i-Ready Diagnostic results, ${subject} (recognised by its ${marker === 'LexileMeasure' ? 'Lexile' : 'Quantile'} column).`,
    format: 'csv',
    delimiter: ',',
    phase: 3,
    identify: ['StudentID', 'AcademicYear', 'CompletionDate', 'OverallScaleScore', marker],
    columns,
    student: { candidates: ['StudentID', 'StudentStateID'], idTypes: ['local', 'state'] },
    mappings: [
      assessmentOf({ identifier, namespace: 'uri://i-ready.com', title: `'i-Ready Diagnostic ${subject}'`, family: 'interim', vendor: 'iready', subject: { value: subject }, minScore: 100, maxScore: 800 }),
      {
        entity: 'student_assessments',
        fields: {
          student_key: { student: 'StudentID' },
          assessment_identifier: { sql: identifier },
          namespace: { value: 'uri://i-ready.com' },
          student_assessment_identifier: { sql: `concat_ws('|', {NormingWindow}, {StartDate}, {CompletionDate})`, field: 'CompletionDate' },
          administration_date: 'CompletionDate',
          school_year: { sql: `CAST(edlake_school_year({AcademicYear}) AS VARCHAR)`, field: 'AcademicYear' },
          when_assessed_grade_level_descriptor: 'StudentGrade',
          testing_window: { sql: windowOfName('NormingWindow'), field: 'NormingWindow' },
          scale_score: 'OverallScaleScore',
          performance_level_descriptor: 'OverallRelativePlacement',
          percentile: 'Percentile',
        },
      },
    ],
  };
};

export const iready: SourceDefinition = {
  name: 'iready',
  description: 'i-Ready Diagnostic (ELA and Math).',
  layouts: [layout('iready.diagnostic_ela', 'ELA', 'LexileMeasure'), layout('iready.diagnostic_math', 'Math', 'QuantileMeasure')],
};
