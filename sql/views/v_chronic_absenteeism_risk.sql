-- One row per currently enrolled student: attendance year to date and over the last school days,
-- Attendance Works tier, chronic absence under the active definition, trend, projection to the
-- end of the year, longest run of absences, and whether the student entered a worse tier since the
-- previous snapshot (meta.chronic_tier_snapshots, decision 0201).
WITH defn AS (SELECT * FROM seeds.chronic_absence_definitions WHERE is_active),
remaining AS (
  SELECT cd.tenant, cd.school_id,
         count(*) FILTER (WHERE cd.is_instructional AND cd.calendar_date > cd.attendance_through_date) AS remaining_days
  FROM marts.bld_calendar_days cd
  JOIN marts.bld_as_of a ON a.tenant = cd.tenant AND a.school_year = cd.school_year
  GROUP BY ALL
),
prev_date AS (
  SELECT a.tenant, max(s.as_of_date) AS previous_as_of_date
  FROM marts.bld_as_of a
  JOIN meta.chronic_tier_snapshots s ON s.tenant = a.tenant AND s.as_of_date < a.as_of_date
  GROUP BY ALL
),
prev AS (
  SELECT s.tenant, s.student_key, s.tier_code, s.severity, s.as_of_date
  FROM meta.chronic_tier_snapshots s
  JOIN prev_date p ON p.tenant = s.tenant AND p.previous_as_of_date = s.as_of_date
),
base AS (
  SELECT
    st.tenant,
    st.student_key,
    st.school_key,
    st.school_id,
    st.grade_number,
    a.as_of_date,
    coalesce(m.days_enrolled, 0) AS days_enrolled,
    coalesce(m.days_absent, 0) AS days_absent,
    m.attendance_rate,
    m.absence_rate,
    m.days_enrolled_30d,
    m.days_absent_30d,
    m.attendance_rate_30d,
    m.absence_rate_30d,
    coalesce(m.longest_absence_streak, 0) AS longest_absence_streak,
    coalesce(r.remaining_days, 0) AS remaining_instructional_days
  FROM marts.dim_student st
  JOIN marts.bld_as_of a ON a.tenant = st.tenant
  LEFT JOIN marts.msr_student_attendance m ON m.tenant = st.tenant AND m.student_key = st.student_key
  LEFT JOIN remaining r ON r.tenant = st.tenant AND r.school_id = st.school_id
  WHERE st.is_enrolled
)
SELECT
  b.*,
  t.tier_code,
  t.label AS tier_label,
  t.severity AS tier_severity,
  d.definition_code AS chronic_definition,
  coalesce(b.days_enrolled >= d.min_enrolled_days
           AND b.absence_rate >= d.min_absence_rate
           AND (d.grade_min IS NULL OR b.grade_number >= d.grade_min)
           AND (d.grade_max IS NULL OR b.grade_number <= d.grade_max), false) AS is_chronically_absent,
  CASE
    WHEN b.absence_rate_30d IS NULL THEN NULL
    WHEN b.absence_rate_30d > b.absence_rate + edlake_param('trend_tolerance') THEN 'worsening'
    WHEN b.absence_rate_30d < b.absence_rate - edlake_param('trend_tolerance') THEN 'improving'
    ELSE 'stable'
  END AS trend,
  edlake_ratio(b.days_absent + coalesce(b.absence_rate_30d, b.absence_rate) * b.remaining_instructional_days,
               b.days_enrolled + b.remaining_instructional_days) AS projected_absence_rate_eoy,
  p.tier_code AS previous_tier_code,
  p.as_of_date AS previous_as_of_date,
  coalesce(t.severity > p.severity, false) AS entered_worse_tier
FROM base b
CROSS JOIN defn d
LEFT JOIN seeds.attendance_tiers t
  ON b.absence_rate >= t.min_absence_rate AND (t.max_absence_rate IS NULL OR b.absence_rate < t.max_absence_rate)
LEFT JOIN prev p ON p.tenant = b.tenant AND p.student_key = b.student_key
