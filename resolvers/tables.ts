/**
 * The published tables the API reads, and the columns it needs of each: the serving contract
 * with the marts (docs/decisions/0600-api-serving-contract.md). Every table and column name that
 * appears in the API's SQL is written here once, so adapting to the marts is a change of this file.
 */
export const T = {
  school: 'dim_school',
  staff: 'dim_staff',
  section: 'dim_section',
  student: 'dim_student',
  studentGroup: 'dim_student_group',
  sectionMembership: 'fct_section_membership',
  staffSection: 'fct_staff_section',
  staffAssignment: 'fct_staff_assignment',
  assessmentResult: 'fct_assessment_result',
  predictions: 'predictions',
  chronic: 'v_chronic_absenteeism_risk',
  wellbeing: 'v_wellbeing_risk_profiles',
  equity: 'v_equity_outcomes',
  sectionComparison: 'v_class_section_comparison',
  correlations: 'v_performance_correlations',
  quarantine: 'quarantine_rows',
} as const;

export type TableName = (typeof T)[keyof typeof T];

/** The student group every student belongs to (the "all students" row of the equity view). */
export const ALL_STUDENTS = 'all_students';
