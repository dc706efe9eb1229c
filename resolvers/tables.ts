/**
 * The published tables the API reads (schema `marts` of a snapshot), and the columns it needs of
 * each: the serving contract with the marts (docs/decisions/0600-api-serving-contract.md). Every
 * table name that appears in the API's SQL is written here once.
 */
export const T = {
  school: 'dim_school',
  staff: 'dim_staff',
  section: 'dim_section',
  student: 'dim_student',
  studentGroup: 'dim_student_groups',
  sectionMembership: 'fct_section_membership',
  assessmentResult: 'fct_assessment_results',
  predictions: 'fct_predictions',
  chronic: 'v_chronic_absenteeism_risk',
  wellbeing: 'v_wellbeing_risk_profiles',
  equity: 'v_equity_outcomes',
  sectionComparison: 'v_class_section_comparison',
  correlations: 'v_performance_correlations',
  quarantine: 'quarantine_rows',
} as const;

export type TableName = (typeof T)[keyof typeof T];

/** Refined (analyst-tier) tables the API reads when a snapshot carries them, schema-qualified. */
export const REFINED = {
  staffSections: 'refined.staff_section_associations',
} as const;

/** Schema of the published marts inside a snapshot. */
export const PUBLISHED_SCHEMA = 'marts';

/** The group every student belongs to (the "all students" row of the equity view). */
export const ALL_STUDENTS = 'all';
