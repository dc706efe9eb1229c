-- One row per section of the current school year with current students: its measures beside the
-- mean of the other sections of the same course (same course code, tenant and year) and the
-- standardized difference z = (section - mean of the others) / (pooled between-section SD x
-- sqrt(1 + 1 / other sections)), the SD pooled over all courses of the year for that measure (a
-- course has too few sections to estimate its own). A section is flagged when |z| reaches
-- section_flag_abs_z on any measure, it has at least section_min_students students, and the course
-- has at least section_min_peer_sections other sections with the measure.
WITH cur AS (SELECT tenant, school_year FROM marts.bld_as_of),
met AS (SELECT min(level) AS met_level FROM seeds.achievement_levels WHERE is_proficient),
members AS (
  SELECT m.tenant, m.section_key, m.student_key, s.subject
  FROM marts.fct_section_membership m
  JOIN marts.dim_section s ON s.tenant = m.tenant AND s.section_key = m.section_key
  JOIN cur c ON c.tenant = s.tenant AND c.school_year = s.school_year
  WHERE m.is_active
),
growth AS (
  -- per student and subject: latest minus first state-scale interim result of this year
  SELECT r.tenant, r.student_key, r.subject,
         arg_max(r.state_scale_score, r.administration_date) - arg_min(r.state_scale_score, r.administration_date) AS interim_growth
  FROM marts.fct_assessment_results r JOIN cur c ON c.tenant = r.tenant AND r.school_year = c.school_year
  WHERE r.assessment_family = 'interim' AND r.state_scale_score IS NOT NULL
  GROUP BY ALL
  HAVING count(DISTINCT r.administration_date) >= 2
),
section_measures AS (
  SELECT
    mb.tenant, mb.section_key,
    count(DISTINCT mb.student_key) AS students,
    1 - sum(a.days_absent) / sum(a.days_enrolled) AS attendance_rate,
    avg(CASE WHEN ch.is_chronically_absent THEN 1.0 ELSE 0.0 END) AS chronic_absence_rate
  FROM members mb
  LEFT JOIN marts.msr_student_attendance a ON a.tenant = mb.tenant AND a.student_key = mb.student_key
  LEFT JOIN marts.v_chronic_absenteeism_risk ch ON ch.tenant = mb.tenant AND ch.student_key = mb.student_key
  GROUP BY ALL
),
section_growth AS (
  SELECT mb.tenant, mb.section_key, avg(g.interim_growth) AS interim_growth
  FROM members mb
  JOIN growth g ON g.tenant = mb.tenant AND g.student_key = mb.student_key
   AND (g.subject = mb.subject OR mb.subject IS NULL OR mb.subject NOT IN (SELECT DISTINCT subject FROM seeds.prediction_parameters))
  GROUP BY ALL
),
section_pred AS (
  SELECT mb.tenant, mb.section_key,
         avg(CASE WHEN p.predicted_level >= (SELECT met_level FROM met) THEN 1.0 ELSE 0.0 END) AS predicted_proficiency_rate
  FROM members mb
  JOIN marts.fct_predictions p ON p.tenant = mb.tenant AND p.student_key = mb.student_key
   AND (p.subject = mb.subject OR mb.subject IS NULL OR mb.subject NOT IN (SELECT DISTINCT subject FROM seeds.prediction_parameters))
  GROUP BY ALL
),
section_marks AS (
  SELECT m.tenant, m.section_key, avg(m.mark) AS mean_course_mark
  FROM marts.fct_course_marks m
  JOIN members mb ON mb.tenant = m.tenant AND mb.section_key = m.section_key AND mb.student_key = m.student_key
  WHERE m.is_latest AND m.mark IS NOT NULL
  GROUP BY ALL
),
member_rows AS (
  -- how many active membership rows each (section, student) has: a student listed twice in a section
  -- counts each submission twice, as the join of every submission with every membership row did
  SELECT tenant, section_key, student_key, count(*) AS member_rows FROM members GROUP BY ALL
),
section_lms AS (
  -- the submission rate over (submission with a status x membership row): the same mean as the
  -- row-by-row join, from the counts per student and section instead of one row per submission
  SELECT l.tenant, l.section_key,
         sum(l.submitted * mb.member_rows) / sum(l.assignments_with_status * mb.member_rows) AS lms_submission_rate
  FROM marts.msr_student_section_lms l
  JOIN member_rows mb ON mb.tenant = l.tenant AND mb.section_key = l.section_key AND mb.student_key = l.student_key
  WHERE l.assignments_with_status > 0
  GROUP BY ALL
),
wide AS (
  SELECT s.tenant, s.section_key, s.school_key, s.school_year, s.course_code, s.course_key, s.subject, s.teacher_staff_key,
         sm.students, sm.attendance_rate, sm.chronic_absence_rate, sg.interim_growth, sp.predicted_proficiency_rate,
         mk.mean_course_mark, lm.lms_submission_rate
  FROM section_measures sm
  JOIN marts.dim_section s ON s.tenant = sm.tenant AND s.section_key = sm.section_key
  LEFT JOIN section_growth sg ON sg.tenant = sm.tenant AND sg.section_key = sm.section_key
  LEFT JOIN section_pred sp ON sp.tenant = sm.tenant AND sp.section_key = sm.section_key
  LEFT JOIN section_marks mk ON mk.tenant = sm.tenant AND mk.section_key = sm.section_key
  LEFT JOIN section_lms lm ON lm.tenant = sm.tenant AND lm.section_key = sm.section_key
),
long AS (
  UNPIVOT wide ON attendance_rate, chronic_absence_rate, interim_growth, predicted_proficiency_rate, mean_course_mark, lms_submission_rate
  INTO NAME measure VALUE value
),
peers AS (
  SELECT l.*,
    count(value) OVER w - 1 AS peer_sections,
    sum(value) OVER w AS s1,
    avg(value) OVER w AS course_mean
  FROM long l
  WINDOW w AS (PARTITION BY tenant, school_year, lower(course_code), measure)
),
pooled AS (
  -- typical section-to-section variation of a measure: the between-section SD around each
  -- course's mean, pooled over every course with two or more sections
  SELECT tenant, school_year, measure,
         sqrt(sum((value - course_mean) * (value - course_mean)) / nullif(sum(peer_sections / (peer_sections + 1)), 0)) AS pooled_sd
  FROM peers WHERE value IS NOT NULL AND peer_sections >= 1
  GROUP BY ALL
),
zz AS (
  SELECT p.tenant, p.section_key, p.measure, p.value, p.peer_sections,
    CASE WHEN p.peer_sections >= 1 THEN (p.s1 - p.value) / p.peer_sections END AS peer_mean,
    CASE WHEN p.peer_sections >= 1 AND q.pooled_sd > 0
         THEN (p.value - (p.s1 - p.value) / p.peer_sections) / (q.pooled_sd * sqrt(1 + 1 / p.peer_sections)) END AS z
  FROM peers p
  LEFT JOIN pooled q ON q.tenant = p.tenant AND q.school_year = p.school_year AND q.measure = p.measure
  WHERE p.value IS NOT NULL
),
flags AS (
  SELECT *, peer_sections >= edlake_param('section_min_peer_sections') AND abs(z) >= edlake_param('section_flag_abs_z') AS stands_apart
  FROM zz
),
pivoted AS (
  SELECT tenant, section_key,
    max(peer_mean) FILTER (WHERE measure = 'attendance_rate') AS attendance_rate_peer_mean,
    max(z) FILTER (WHERE measure = 'attendance_rate') AS attendance_rate_z,
    max(peer_mean) FILTER (WHERE measure = 'chronic_absence_rate') AS chronic_absence_rate_peer_mean,
    max(z) FILTER (WHERE measure = 'chronic_absence_rate') AS chronic_absence_rate_z,
    max(peer_mean) FILTER (WHERE measure = 'interim_growth') AS interim_growth_peer_mean,
    max(z) FILTER (WHERE measure = 'interim_growth') AS interim_growth_z,
    max(peer_mean) FILTER (WHERE measure = 'predicted_proficiency_rate') AS predicted_proficiency_rate_peer_mean,
    max(z) FILTER (WHERE measure = 'predicted_proficiency_rate') AS predicted_proficiency_rate_z,
    max(peer_mean) FILTER (WHERE measure = 'mean_course_mark') AS mean_course_mark_peer_mean,
    max(z) FILTER (WHERE measure = 'mean_course_mark') AS mean_course_mark_z,
    max(peer_mean) FILTER (WHERE measure = 'lms_submission_rate') AS lms_submission_rate_peer_mean,
    max(z) FILTER (WHERE measure = 'lms_submission_rate') AS lms_submission_rate_z,
    max(peer_sections) AS peer_sections,
    list(measure ORDER BY measure) FILTER (WHERE stands_apart) AS measures_apart
  FROM flags GROUP BY ALL
)
SELECT
  w.tenant, w.section_key, w.school_key, w.school_year, w.course_code, w.course_key, w.subject, w.teacher_staff_key,
  w.students,
  coalesce(p.peer_sections, 0) AS peer_sections,
  w.attendance_rate, p.attendance_rate_peer_mean, p.attendance_rate_z,
  w.chronic_absence_rate, p.chronic_absence_rate_peer_mean, p.chronic_absence_rate_z,
  w.interim_growth, p.interim_growth_peer_mean, p.interim_growth_z,
  w.predicted_proficiency_rate, p.predicted_proficiency_rate_peer_mean, p.predicted_proficiency_rate_z,
  w.mean_course_mark, p.mean_course_mark_peer_mean, p.mean_course_mark_z,
  w.lms_submission_rate, p.lms_submission_rate_peer_mean, p.lms_submission_rate_z,
  coalesce(p.measures_apart, []::VARCHAR[]) AS measures_apart,
  w.students >= edlake_param('section_min_students') AND len(coalesce(p.measures_apart, []::VARCHAR[])) > 0 AS stands_apart
FROM wide w
LEFT JOIN pivoted p ON p.tenant = w.tenant AND p.section_key = w.section_key
