-- Every descriptor value present in the refined layer, resolved through the seeds.
-- A namespace-specific seed row wins over a namespace-free one; codes match case-insensitively.
WITH seen AS (
  SELECT DISTINCT 'AttendanceEventCategoryDescriptor' AS descriptor_type, attendance_event_category_descriptor AS descriptor_value FROM refined.student_school_attendance_events
  UNION SELECT 'CalendarEventDescriptor', calendar_event_descriptor FROM refined.calendar_dates
  UNION SELECT 'GradeLevelDescriptor', entry_grade_level_descriptor FROM refined.student_school_associations
  UNION SELECT 'GradeLevelDescriptor', when_assessed_grade_level_descriptor FROM refined.student_assessments
  UNION SELECT 'RaceDescriptor', unnest(races) FROM refined.student_education_organization_associations
  UNION SELECT 'SexDescriptor', sex_descriptor FROM refined.student_education_organization_associations
  UNION SELECT 'LimitedEnglishProficiencyDescriptor', limited_english_proficiency_descriptor FROM refined.student_education_organization_associations
  UNION SELECT 'ProgramTypeDescriptor', program_descriptor FROM refined.student_program_associations
  UNION SELECT 'BehaviorDescriptor', behavior_descriptor FROM refined.student_discipline_incident_behavior_associations
  UNION SELECT 'DisciplineDescriptor', discipline_descriptor FROM refined.discipline_actions
  UNION SELECT 'AcademicSubjectDescriptor', academic_subject_descriptor FROM refined.courses
  UNION SELECT 'AcademicSubjectDescriptor', academic_subject_descriptor FROM refined.assessments
  UNION SELECT 'SubmissionStatusDescriptor', submission_status_descriptor FROM refined.lms_submissions
  UNION SELECT 'PerformanceLevelDescriptor', sa.performance_level_descriptor
        FROM refined.student_assessments sa
        JOIN refined.assessments a ON a.tenant = sa.tenant AND a.assessment_identifier = sa.assessment_identifier AND a.namespace = sa.namespace
        WHERE a.assessment_family = 'screener'
  UNION SELECT 'GradingPeriodDescriptor', grading_period_descriptor FROM refined.grades
  UNION SELECT 'SurveySectionTitle', survey_section_title FROM refined.survey_question_responses
  UNION SELECT 'StaffClassificationDescriptor', staff_classification_descriptor FROM refined.staff_education_organization_assignment_associations
),
maps AS (
  SELECT 'AttendanceEventCategoryDescriptor' AS descriptor_type, namespace, code_value, attendance_category AS logical_value,
         absent_fraction, NULL::BOOLEAN AS is_instructional, NULL::INTEGER AS grade_number, NULL::VARCHAR AS grade_band,
         NULL::BOOLEAN AS state_tested, NULL::VARCHAR AS race_kind
  FROM seeds.attendance_codes
  UNION ALL
  SELECT 'CalendarEventDescriptor', namespace, code_value, CASE WHEN is_instructional THEN 'instructional' ELSE 'non_instructional' END,
         NULL, is_instructional, NULL, NULL, NULL, NULL
  FROM seeds.calendar_events
  UNION ALL
  SELECT 'GradeLevelDescriptor', NULL, code_value, grade_label, NULL, NULL, grade_number, grade_band, state_tested, NULL
  FROM seeds.grade_levels
  UNION ALL
  SELECT 'RaceDescriptor', NULL, code_value, reporting_group, NULL, NULL, NULL, NULL, NULL, kind
  FROM seeds.race_ethnicity
  UNION ALL
  SELECT descriptor_type, namespace, code_value, logical_value, NULL, NULL, NULL, NULL, NULL, NULL
  FROM seeds.descriptor_map
)
SELECT
  s.descriptor_type,
  s.descriptor_value,
  edlake_code(s.descriptor_value) AS code_value,
  edlake_ns(s.descriptor_value) AS namespace,
  m.code_value IS NOT NULL AS is_mapped,
  m.logical_value,
  m.absent_fraction,
  m.is_instructional,
  m.grade_number,
  m.grade_band,
  m.state_tested,
  m.race_kind
FROM seen s
LEFT JOIN maps m
  ON m.descriptor_type = s.descriptor_type
 AND lower(trim(m.code_value)) = lower(edlake_code(s.descriptor_value))
 AND (m.namespace IS NULL OR lower(trim(m.namespace)) = lower(edlake_ns(s.descriptor_value)))
WHERE s.descriptor_value IS NOT NULL
QUALIFY row_number() OVER (PARTITION BY s.descriptor_type, s.descriptor_value ORDER BY m.namespace IS NULL, m.code_value) = 1
