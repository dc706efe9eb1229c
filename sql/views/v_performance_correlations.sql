-- One row per school x grade band x engagement measure x outcome, over currently enrolled students
-- with both values: n, Pearson r, its 95 % confidence interval (Fisher z: tanh(atanh(r) +/- 1.96 /
-- sqrt(n - 3))), and the least-squares slope of the outcome on the measure. r, interval and slope
-- are reported when n reaches correlation_min_n.
WITH st AS (
  SELECT s.tenant, s.student_key, s.school_key, s.grade_band
  FROM marts.dim_student s WHERE s.is_enrolled
),
measures AS (
  SELECT st.tenant, st.student_key, 'lms_submission_rate' AS measure, l.submission_rate AS x FROM st JOIN marts.msr_student_lms l ON l.tenant = st.tenant AND l.student_key = st.student_key
  UNION ALL SELECT st.tenant, st.student_key, 'lms_on_time_rate', l.on_time_rate FROM st JOIN marts.msr_student_lms l ON l.tenant = st.tenant AND l.student_key = st.student_key
  UNION ALL SELECT st.tenant, st.student_key, 'lms_activity', l.lms_activity FROM st JOIN marts.msr_student_lms l ON l.tenant = st.tenant AND l.student_key = st.student_key
  UNION ALL SELECT st.tenant, st.student_key, 'attendance_rate', a.attendance_rate FROM st JOIN marts.msr_student_attendance a ON a.tenant = st.tenant AND a.student_key = st.student_key
  UNION ALL SELECT st.tenant, st.student_key, 'survey_engagement', v.engagement FROM st JOIN marts.msr_student_survey v ON v.tenant = st.tenant AND v.student_key = st.student_key
),
outcomes AS (
  SELECT st.tenant, st.student_key, 'course_mark' AS outcome, c.mean_course_mark AS y FROM st JOIN marts.msr_student_course_performance c ON c.tenant = st.tenant AND c.student_key = st.student_key
  UNION ALL
  SELECT p.tenant, p.student_key, 'predicted_state_score', avg(p.predicted_scale_score) FROM marts.fct_predictions p JOIN st ON st.tenant = p.tenant AND st.student_key = p.student_key GROUP BY ALL
),
pairs AS (
  SELECT st.tenant, st.school_key, st.grade_band, m.measure, o.outcome, m.x, o.y
  FROM st
  JOIN measures m ON m.tenant = st.tenant AND m.student_key = st.student_key
  JOIN outcomes o ON o.tenant = st.tenant AND o.student_key = st.student_key
  WHERE m.x IS NOT NULL AND o.y IS NOT NULL
),
stats AS (
  SELECT tenant, school_key, grade_band, measure, outcome,
         count(*) AS n, corr(y, x) AS r, regr_slope(y, x) AS slope, avg(x) AS mean_measure, avg(y) AS mean_outcome
  FROM pairs GROUP BY ALL
)
SELECT
  tenant, school_key, grade_band, measure, outcome, n,
  CASE WHEN n >= edlake_param('correlation_min_n') AND NOT isnan(r) THEN r END AS r,
  CASE WHEN n >= edlake_param('correlation_min_n') AND n > 3 AND abs(r) < 1 THEN tanh(atanh(r) - 1.959963984540054 / sqrt(n - 3)) END AS r_ci_low,
  CASE WHEN n >= edlake_param('correlation_min_n') AND n > 3 AND abs(r) < 1 THEN tanh(atanh(r) + 1.959963984540054 / sqrt(n - 3)) END AS r_ci_high,
  CASE WHEN n >= edlake_param('correlation_min_n') THEN slope END AS slope,
  mean_measure,
  mean_outcome
FROM stats
