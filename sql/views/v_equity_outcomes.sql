-- One row per school (scope 'school') and for the district (scope 'district', school_key NULL) x
-- student group: students, attendance and chronic absence, last year's proficiency, predicted
-- proficiency, mean course mark, suspension rate, and each one's gap to all students and to the
-- best group. Groups of small_group_max_suppressed students or fewer carry is_suppressed.
WITH cur AS (SELECT tenant, school_year FROM marts.bld_as_of),
defn AS (SELECT * FROM seeds.chronic_absence_definitions WHERE is_active),
met AS (SELECT min(level) AS met_level FROM seeds.achievement_levels WHERE is_proficient),
prior_prof AS (
  SELECT r.tenant, r.student_key, count(*) AS prior_results, count(*) FILTER (WHERE r.is_proficient) AS prior_proficient
  FROM marts.fct_assessment_results r JOIN cur c ON c.tenant = r.tenant AND r.school_year = c.school_year - 1
  WHERE r.assessment_family = 'state' AND r.is_proficient IS NOT NULL
  GROUP BY ALL
),
pred AS (
  SELECT tenant, student_key, count(*) AS predictions, count(*) FILTER (WHERE predicted_level >= (SELECT met_level FROM met)) AS predicted_proficient
  FROM marts.fct_predictions GROUP BY ALL
),
population AS (
  -- school scope: each school's own days; district scope: the student across the district.
  SELECT 'school' AS scope, m.tenant, m.school_key, m.student_key, m.days_enrolled, m.days_absent, m.absence_rate FROM marts.msr_school_student_attendance m
  UNION ALL
  SELECT 'district', m.tenant, NULL, m.student_key, m.days_enrolled, m.days_absent, m.absence_rate FROM marts.msr_student_attendance m
),
per_student AS (
  SELECT p.*,
    p.days_enrolled >= d.min_enrolled_days
      AND (d.grade_min IS NULL OR s.grade_number >= d.grade_min) AND (d.grade_max IS NULL OR s.grade_number <= d.grade_max) AS in_chronic_denominator,
    p.absence_rate >= d.min_absence_rate AS over_chronic_threshold,
    pp.prior_results, pp.prior_proficient,
    pr.predictions, pr.predicted_proficient,
    c.mean_course_mark,
    coalesce(b.suspensions, 0) > 0 AS was_suspended
  FROM population p
  CROSS JOIN defn d
  LEFT JOIN marts.dim_student s ON s.tenant = p.tenant AND s.student_key = p.student_key
  LEFT JOIN prior_prof pp ON pp.tenant = p.tenant AND pp.student_key = p.student_key
  LEFT JOIN pred pr ON pr.tenant = p.tenant AND pr.student_key = p.student_key
  LEFT JOIN marts.msr_student_course_performance c ON c.tenant = p.tenant AND c.student_key = p.student_key
  LEFT JOIN marts.msr_student_behavior b ON b.tenant = p.tenant AND b.student_key = p.student_key
),
agg AS (
  SELECT
    ps.scope, ps.tenant, ps.school_key, g.group_code, g.group_label, g.group_kind, g.reporting_order,
    count(*) AS students,
    1 - sum(ps.days_absent) / sum(ps.days_enrolled) AS attendance_rate,
    count(*) FILTER (WHERE ps.in_chronic_denominator) AS chronic_denominator,
    edlake_ratio(count(*) FILTER (WHERE ps.in_chronic_denominator AND ps.over_chronic_threshold),
                 count(*) FILTER (WHERE ps.in_chronic_denominator)) AS chronic_absence_rate,
    coalesce(sum(ps.prior_results), 0)::BIGINT AS prior_results,
    edlake_ratio(sum(ps.prior_proficient), sum(ps.prior_results)) AS proficiency_rate_prior,
    coalesce(sum(ps.predictions), 0)::BIGINT AS predictions,
    edlake_ratio(sum(ps.predicted_proficient), sum(ps.predictions)) AS predicted_proficiency_rate,
    avg(ps.mean_course_mark) AS mean_course_mark,
    count(*) FILTER (WHERE ps.was_suspended) / count(*) AS suspension_rate
  FROM per_student ps
  JOIN marts.dim_student_groups g ON g.tenant = ps.tenant AND g.student_key = ps.student_key
  GROUP BY ALL
),
flagged AS (
  SELECT a.*, a.students <= edlake_param('small_group_max_suppressed') AS is_suppressed FROM agg a
),
refs AS (
  SELECT scope, tenant, school_key,
    max(attendance_rate) FILTER (WHERE group_kind = 'all') AS all_attendance_rate,
    max(chronic_absence_rate) FILTER (WHERE group_kind = 'all') AS all_chronic_absence_rate,
    max(proficiency_rate_prior) FILTER (WHERE group_kind = 'all') AS all_proficiency_rate_prior,
    max(predicted_proficiency_rate) FILTER (WHERE group_kind = 'all') AS all_predicted_proficiency_rate,
    max(mean_course_mark) FILTER (WHERE group_kind = 'all') AS all_mean_course_mark,
    max(suspension_rate) FILTER (WHERE group_kind = 'all') AS all_suspension_rate,
    max(attendance_rate) FILTER (WHERE group_kind <> 'all' AND NOT is_suppressed) AS best_attendance_rate,
    min(chronic_absence_rate) FILTER (WHERE group_kind <> 'all' AND NOT is_suppressed) AS best_chronic_absence_rate,
    max(proficiency_rate_prior) FILTER (WHERE group_kind <> 'all' AND NOT is_suppressed) AS best_proficiency_rate_prior,
    max(predicted_proficiency_rate) FILTER (WHERE group_kind <> 'all' AND NOT is_suppressed) AS best_predicted_proficiency_rate,
    max(mean_course_mark) FILTER (WHERE group_kind <> 'all' AND NOT is_suppressed) AS best_mean_course_mark,
    min(suspension_rate) FILTER (WHERE group_kind <> 'all' AND NOT is_suppressed) AS best_suspension_rate
  FROM flagged GROUP BY ALL
)
SELECT
  f.scope,
  f.tenant,
  f.school_key,
  f.group_code,
  f.group_label,
  f.group_kind,
  f.reporting_order,
  f.students,
  f.is_suppressed,
  f.attendance_rate,
  f.chronic_denominator,
  f.chronic_absence_rate,
  f.prior_results,
  f.proficiency_rate_prior,
  f.predictions,
  f.predicted_proficiency_rate,
  f.mean_course_mark,
  f.suspension_rate,
  f.attendance_rate - r.all_attendance_rate AS attendance_rate_gap_to_all,
  f.attendance_rate - r.best_attendance_rate AS attendance_rate_gap_to_best,
  f.chronic_absence_rate - r.all_chronic_absence_rate AS chronic_absence_rate_gap_to_all,
  f.chronic_absence_rate - r.best_chronic_absence_rate AS chronic_absence_rate_gap_to_best,
  f.proficiency_rate_prior - r.all_proficiency_rate_prior AS proficiency_rate_prior_gap_to_all,
  f.proficiency_rate_prior - r.best_proficiency_rate_prior AS proficiency_rate_prior_gap_to_best,
  f.predicted_proficiency_rate - r.all_predicted_proficiency_rate AS predicted_proficiency_rate_gap_to_all,
  f.predicted_proficiency_rate - r.best_predicted_proficiency_rate AS predicted_proficiency_rate_gap_to_best,
  f.mean_course_mark - r.all_mean_course_mark AS mean_course_mark_gap_to_all,
  f.mean_course_mark - r.best_mean_course_mark AS mean_course_mark_gap_to_best,
  f.suspension_rate - r.all_suspension_rate AS suspension_rate_gap_to_all,
  f.suspension_rate - r.best_suspension_rate AS suspension_rate_gap_to_best
FROM flagged f
JOIN refs r ON r.scope = f.scope AND r.tenant = f.tenant AND r.school_key IS NOT DISTINCT FROM f.school_key
