-- One row per currently enrolled student: the early warning indicators (attendance, behavior,
-- course performance; seeds.early_warning_thresholds), survey scales, screener risk and predicted
-- state-test levels; a composite risk score 0-100 (points per component level from
-- seeds.risk_weights) with its tier (seeds.risk_tiers) and the reasons that raised it.
WITH met AS (SELECT min(level) AS met_level FROM seeds.achievement_levels WHERE is_proficient),
pred AS (
  SELECT tenant, student_key,
         max(predicted_level) FILTER (WHERE subject = 'ELA') AS predicted_level_ela,
         max(predicted_level) FILTER (WHERE subject = 'Math') AS predicted_level_math,
         max(probability_met) FILTER (WHERE subject = 'ELA') AS probability_met_ela,
         max(probability_met) FILTER (WHERE subject = 'Math') AS probability_met_math,
         min(predicted_level) AS lowest_predicted_level
  FROM marts.fct_predictions GROUP BY ALL
),
st AS (
  SELECT
    s.tenant, s.student_key, s.school_key, s.school_id, s.grade_number,
    a.attendance_rate,
    coalesce(b.state_offenses, 0) AS state_offenses,
    coalesce(b.conduct_offenses, 0) AS conduct_offenses,
    c.math_course_mark,
    c.ela_course_mark,
    sv.belonging AS survey_belonging,
    sv.safety AS survey_safety,
    sv.wellbeing AS survey_wellbeing,
    sv.engagement AS survey_engagement,
    sc.screener_risk,
    p.predicted_level_ela,
    p.predicted_level_math,
    p.probability_met_ela,
    p.probability_met_math,
    p.lowest_predicted_level
  FROM marts.dim_student s
  LEFT JOIN marts.msr_student_attendance a ON a.tenant = s.tenant AND a.student_key = s.student_key
  LEFT JOIN marts.msr_student_behavior b ON b.tenant = s.tenant AND b.student_key = s.student_key
  LEFT JOIN marts.msr_student_course_performance c ON c.tenant = s.tenant AND c.student_key = s.student_key
  LEFT JOIN marts.msr_student_survey sv ON sv.tenant = s.tenant AND sv.student_key = s.student_key
  LEFT JOIN marts.msr_student_screener sc ON sc.tenant = s.tenant AND sc.student_key = s.student_key
  LEFT JOIN pred p ON p.tenant = s.tenant AND p.student_key = s.student_key
  WHERE s.is_enrolled
),
indicators AS (
  SELECT tenant, student_key, 'attendance' AS component, 'attendance_rate' AS indicator, attendance_rate AS value FROM st
  UNION ALL SELECT tenant, student_key, 'course_performance', 'course_grade_math', math_course_mark FROM st
  UNION ALL SELECT tenant, student_key, 'course_performance', 'course_grade_ela', ela_course_mark FROM st
  UNION ALL SELECT tenant, student_key, 'behavior', 'state_offenses', state_offenses FROM st
  UNION ALL SELECT tenant, student_key, 'behavior', 'conduct_offenses', conduct_offenses FROM st
),
hits AS (
  SELECT i.tenant, i.student_key, i.component, e.level
  FROM indicators i
  JOIN seeds.early_warning_thresholds e ON e.indicator = i.indicator
  WHERE i.value IS NOT NULL AND edlake_cmp(i.value, e.operator, e.threshold)
  UNION ALL
  SELECT tenant, student_key, 'survey', 'low' FROM st
  WHERE least(survey_belonging, survey_safety, survey_wellbeing, survey_engagement) < edlake_param('survey_low_scale_mean')
  UNION ALL
  SELECT tenant, student_key, 'screener', screener_risk FROM st WHERE screener_risk IS NOT NULL
  UNION ALL
  SELECT tenant, student_key, 'predicted_level', 'below_met' FROM st WHERE lowest_predicted_level < (SELECT met_level FROM met)
),
components AS (
  SELECT h.tenant, h.student_key, h.component,
         arg_max(w.level, w.points) AS level, max(w.points) AS points, arg_max(w.reason, w.points) AS reason
  FROM hits h
  JOIN seeds.risk_weights w ON w.component = h.component AND w.level = h.level
  GROUP BY ALL
),
scored AS (
  SELECT tenant, student_key,
         least(100, sum(points)) AS risk_score,
         list(reason ORDER BY points DESC, component) FILTER (WHERE points > 0) AS reasons,
         max(level) FILTER (WHERE component = 'attendance') AS attendance_level,
         max(level) FILTER (WHERE component = 'behavior') AS behavior_level,
         max(level) FILTER (WHERE component = 'course_performance') AS course_performance_level
  FROM components GROUP BY ALL
),
final AS (
  SELECT st.*,
         sc.attendance_level, sc.behavior_level, sc.course_performance_level,
         coalesce(sc.risk_score, 0) AS risk_score,
         coalesce(sc.reasons, []::VARCHAR[]) AS reasons
  FROM st LEFT JOIN scored sc ON sc.tenant = st.tenant AND sc.student_key = st.student_key
)
SELECT
  f.* EXCLUDE (lowest_predicted_level),
  t.tier_code AS risk_tier,
  t.label AS risk_tier_label
FROM final f
LEFT JOIN seeds.risk_tiers t ON f.risk_score >= t.min_score AND (t.max_score IS NULL OR f.risk_score < t.max_score)
