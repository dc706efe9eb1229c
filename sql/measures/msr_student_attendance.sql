-- One row per student of the current school year, following the student across the district's
-- schools (a mid-year transfer does not reset the rate): days enrolled and absent year to date and
-- over the student's last N enrolled instructional days (N = rolling_window_school_days), and the
-- longest run of consecutive full-day absences.
WITH days AS (
  -- fct_student_attendance_daily has one row per student and day (bld_enrollment_days resolves overlaps)
  SELECT f.tenant, f.student_key, f.calendar_date, f.absent_fraction, f.is_full_day_absence
  FROM marts.fct_student_attendance_daily f
  JOIN marts.bld_as_of a ON a.tenant = f.tenant AND a.school_year = f.school_year
),
ranked AS (
  -- one sort per student: recency from the row number, and runs of absences numbered by the
  -- count of non-absent days before them (constant along a run)
  SELECT *,
    count(*) OVER (PARTITION BY tenant, student_key) - row_number() OVER w + 1 AS recency,
    count(*) FILTER (WHERE NOT is_full_day_absence) OVER w AS island
  FROM days
  WINDOW w AS (PARTITION BY tenant, student_key ORDER BY calendar_date)
),
streaks AS (
  SELECT tenant, student_key, max(n) AS longest_absence_streak
  FROM (SELECT tenant, student_key, island, count(*) AS n FROM ranked WHERE is_full_day_absence GROUP BY ALL)
  GROUP BY ALL
)
SELECT
  r.tenant,
  r.student_key,
  count(*) AS days_enrolled,
  sum(r.absent_fraction) AS days_absent,
  1 - sum(r.absent_fraction) / count(*) AS attendance_rate,
  sum(r.absent_fraction) / count(*) AS absence_rate,
  count(*) FILTER (WHERE r.recency <= edlake_param('rolling_window_school_days')) AS days_enrolled_30d,
  coalesce(sum(r.absent_fraction) FILTER (WHERE r.recency <= edlake_param('rolling_window_school_days')), 0) AS days_absent_30d,
  coalesce(sum(r.absent_fraction) FILTER (WHERE r.recency <= edlake_param('rolling_window_school_days')), 0)
    / count(*) FILTER (WHERE r.recency <= edlake_param('rolling_window_school_days')) AS absence_rate_30d,
  1 - coalesce(sum(r.absent_fraction) FILTER (WHERE r.recency <= edlake_param('rolling_window_school_days')), 0)
    / count(*) FILTER (WHERE r.recency <= edlake_param('rolling_window_school_days')) AS attendance_rate_30d,
  coalesce(max(s.longest_absence_streak), 0) AS longest_absence_streak,
  min(r.calendar_date) AS first_enrolled_date,
  max(r.calendar_date) AS last_enrolled_date
FROM ranked r
LEFT JOIN streaks s ON s.tenant = r.tenant AND s.student_key = r.student_key
GROUP BY r.tenant, r.student_key
