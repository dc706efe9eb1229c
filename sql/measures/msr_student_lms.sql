-- One row per student with LMS assignments: submission rate (submitted on time or late / assigned),
-- on-time rate (on time / assigned) and activity (number of submissions made), summed over the
-- student's sections from msr_student_section_lms.
SELECT
  tenant,
  student_key,
  CAST(sum(assignments) AS BIGINT) AS assignments,
  CAST(sum(submitted) AS BIGINT) AS lms_activity,
  sum(submitted) / sum(assignments) AS submission_rate,
  sum(on_time) / sum(assignments) AS on_time_rate,
  CAST(sum(missing) AS BIGINT) AS missing
FROM marts.msr_student_section_lms
GROUP BY ALL
