/**
 * Renaissance Star Reading exports: SR_v2 (one row per test), and the SkillArea and Dashboard
 * Standards extracts linked by AssessmentID (domain and standard mastery, refined as results of
 * objective assessments of Star Reading: one assessment per skill area or standard, 0-100).
 * Student names, e-mails and birth dates in SR_v2 are not carried into the refined layer.
 */
import { assessmentOf, windowOfDate, windowOfName } from './common.ts';
import type { CsvLayout, SourceDefinition } from './types.ts';

const ids = {
  StudentSourcedID: [],
  StudentIdentifier: [],
  StudentUserID: [],
  StudentStateID: [],
  SchoolYear: [],
  AssessmentID: [],
  LaunchDate: [],
  CompletedDate: [],
  CompletedDateLocal: [],
};
const candidates = ['StudentIdentifier', 'StudentSourcedID', 'StudentStateID', 'StudentUserID'];
const ns = 'uri://renaissance.com/star-reading';

const srV2: CsvLayout = {
  id: 'star.sr_v2',
  description: 'SR_v2.csv: Star Reading tests.',
  format: 'csv',
  delimiter: ',',
  phase: 3,
  identify: ['StudentRenaissanceID', 'AssessmentID', 'ScaledScore', 'CompletedDate'],
  columns: {
    ...ids,
    StudentRenaissanceID: [],
    SchoolIdentifier: [],
    TeacherIdentifier: [],
    CurrentGrade: [],
    Grade: [],
    ScaledScore: ['ScaleScore'],
    StandardErrorOfMeasurement: ['SEM'],
    UnifiedScore: [],
    PercentileRank: ['PR'],
    ScreeningPeriodWindowName: ['ScreeningWindowName'],
    AssessmentStatus: [],
  },
  student: { candidates, idTypes: ['local', 'state'] },
  mappings: [
    assessmentOf({ identifier: `'STAR-READING'`, namespace: ns, title: `'Star Reading'`, family: 'interim', vendor: 'star', subject: { value: 'ELA' }, minScore: 0, maxScore: 1400 }),
    {
      entity: 'student_assessments',
      fields: {
        student_key: { student: 'StudentIdentifier' },
        assessment_identifier: { value: 'STAR-READING' },
        namespace: { value: ns },
        student_assessment_identifier: 'AssessmentID',
        administration_date: { sql: `coalesce({CompletedDateLocal}, {CompletedDate})`, field: 'CompletedDateLocal' },
        school_year: { sql: `CAST(edlake_school_year({SchoolYear}) AS VARCHAR)`, field: 'SchoolYear' },
        when_assessed_grade_level_descriptor: { sql: `coalesce({Grade}, {CurrentGrade})`, field: 'Grade' },
        testing_window: { sql: `coalesce(${windowOfName('ScreeningPeriodWindowName')}, ${windowOfDate('coalesce({CompletedDateLocal}, {CompletedDate})')})`, field: 'ScreeningPeriodWindowName' },
        scale_score: 'ScaledScore',
        scale_score_sem: 'StandardErrorOfMeasurement',
        percentile: 'PercentileRank',
      },
    },
  ],
};

const objective = (id: string, description: string, identify: string[], extra: Record<string, string[]>, name: string, score: string, level: string | undefined): CsvLayout => {
  const identifier = `'STAR-READING:' || {${name}}`;
  return {
    id,
    description,
    format: 'csv',
    delimiter: ',',
    phase: 3,
    identify,
    columns: { ...ids, ...extra },
    student: { candidates, idTypes: ['local', 'state'] },
    mappings: [
      assessmentOf({ identifier, namespace: ns, title: `'Star Reading: ' || {${name}}`, family: 'interim', vendor: 'star', subject: { value: 'ELA' }, minScore: 0, maxScore: 100 }),
      {
        entity: 'student_assessments',
        fields: {
          student_key: { student: 'StudentIdentifier' },
          assessment_identifier: { sql: identifier, field: name },
          namespace: { value: ns },
          student_assessment_identifier: 'AssessmentID',
          administration_date: { sql: `coalesce({CompletedDateLocal}, {CompletedDate})`, field: 'CompletedDateLocal' },
          school_year: { sql: `CAST(edlake_school_year({SchoolYear}) AS VARCHAR)`, field: 'SchoolYear' },
          testing_window: { sql: windowOfDate('coalesce({CompletedDateLocal}, {CompletedDate})'), field: 'CompletedDateLocal' },
          scale_score: score,
          ...(level ? { performance_level_descriptor: level } : {}),
        },
      },
    ],
  };
};

export const star: SourceDefinition = {
  name: 'star',
  description: 'Renaissance Star Reading.',
  layouts: [
    srV2,
    objective(
      'star.skill_area_v1',
      'SR_SkillArea_v1.csv: mastery score per skill area of a Star Reading test.',
      ['AssessmentID', 'SkillAreaName', 'SkillAreaMasteryScore'],
      { FamilyName: [], DomainName: [], DomainScore: [], SkillAreaName: [], SkillAreaMasteryScore: [] },
      'SkillAreaName',
      'SkillAreaMasteryScore',
      undefined,
    ),
    objective(
      'star.dashboard_standards_v2',
      'SR_Dashboard_Standards_v2.csv: mastery per state standard of a Star Reading test.',
      ['AssessmentID', 'StandardName', 'StandardPercentMastery'],
      { DomainGroup: [], DomainName: [], DomainPercentMastery: [], StandardName: [], StandardPercentMastery: [], StandardMasteryLevel: [] },
      'StandardName',
      'StandardPercentMastery',
      'StandardMasteryLevel',
    ),
  ],
};
