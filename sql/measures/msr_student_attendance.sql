-- One row per student of the current school year, following the student across the district's
-- schools (a mid-year transfer does not reset the rate): days enrolled and absent year to date and
-- over the student's last N enrolled instructional days (N = rolling_window_school_days), and the
-- longest run of consecutive full-day absences.
WITH days AS (
  SELECT f.tenant, f.student_key, f.calendar_date, max(f.absent_fraction) AS absent_fraction,
         bool_or(f.is_full_day_absence) AS is_full_day_absence
  FROM marts.fct_student_attendance_daily f
  JOIN marts.bld_as_of a ON a.tenant = f.tenant AND a.school_year = f.school_year
  GROUP BY ALL
),
ranked AS (
  SELECT *,
    row_number() OVER (PARTITION BY tenant, student_key ORDER BY calendar_date DESC) AS recency,
    row_number() OVER (PARTITION BY tenant, student_key ORDER BY calendar_date)
      - row_number() OVER (PARTITION BY tenant, student_key, is_full_day_absence ORDER BY calendar_date) AS island
  FROM days
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
