-- One row per student and SIS section with LMS assignments (section_key NULL for assignments of an
-- LMS section that teaches no SIS section): the assignments counted by status. The submissions are
-- summed here once for both readers, msr_student_lms (per student) and v_class_section_comparison
-- (per section); each used to aggregate the 36 M submissions of a 1,000,000-student district itself.
SELECT
  tenant,
  student_key,
  section_key,
  count(*) AS assignments,
  count(submission_status) AS assignments_with_status,
  count(*) FILTER (WHERE is_submitted) AS submitted,
  count(*) FILTER (WHERE is_on_time) AS on_time,
  count(*) FILTER (WHERE submission_status = 'missing') AS missing
FROM marts.fct_lms_submissions
GROUP BY ALL
