-- One row per student with LMS assignments: submission rate (submitted on time or late / assigned),
-- on-time rate (on time / assigned) and activity (number of submissions made).
SELECT
  tenant,
  student_key,
  count(*) AS assignments,
  count(*) FILTER (WHERE is_submitted) AS lms_activity,
  count(*) FILTER (WHERE is_submitted) / count(*) AS submission_rate,
  count(*) FILTER (WHERE is_on_time) / count(*) AS on_time_rate,
  count(*) FILTER (WHERE submission_status = 'missing') AS missing
FROM marts.fct_lms_submissions
GROUP BY ALL
