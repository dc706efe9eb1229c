-- One row per student of the current school year, following the student across the district's
-- schools (a mid-year transfer does not reset the rate): days enrolled and absent year to date and
-- over the student's last N enrolled instructional days (N = rolling_window_school_days), and the
-- longest run of consecutive full-day absences. Computed on the integer student-day grain
-- (bld_enrollment_days: the rows of fct_student_attendance_daily, one per student and day).
WITH ranked AS (
  -- one sort per student: recency from the row number, and runs of absences numbered by the
  -- count of non-absent days before them (constant along a run)
  SELECT student_num, calendar_date, absent_fraction, absent_fraction >= 1 AS is_full_day_absence,
    count(*) OVER (PARTITION BY student_num) - row_number() OVER w + 1 AS recency,
    count(*) FILTER (WHERE absent_fraction < 1) OVER w AS island
  FROM marts.bld_enrollment_days
  WHERE is_current_year
  WINDOW w AS (PARTITION BY student_num ORDER BY calendar_date)
),
streaks AS (
  SELECT student_num, max(n) AS longest_absence_streak
  FROM (SELECT student_num, island, count(*) AS n FROM ranked WHERE is_full_day_absence GROUP BY ALL)
  GROUP BY ALL
),
per_student AS (
  SELECT
    r.student_num,
    count(*) AS days_enrolled,
    sum(r.absent_fraction) AS days_absent,
    count(*) FILTER (WHERE r.recency <= edlake_param('rolling_window_school_days')) AS days_enrolled_30d,
    coalesce(sum(r.absent_fraction) FILTER (WHERE r.recency <= edlake_param('rolling_window_school_days')), 0) AS days_absent_30d,
    min(r.calendar_date) AS first_enrolled_date,
    max(r.calendar_date) AS last_enrolled_date
  FROM ranked r
  GROUP BY r.student_num
)
SELECT
  n.tenant,
  n.student_key,
  p.days_enrolled,
  p.days_absent,
  1 - p.days_absent / p.days_enrolled AS attendance_rate,
  p.days_absent / p.days_enrolled AS absence_rate,
  p.days_enrolled_30d,
  p.days_absent_30d,
  p.days_absent_30d / p.days_enrolled_30d AS absence_rate_30d,
  1 - p.days_absent_30d / p.days_enrolled_30d AS attendance_rate_30d,
  coalesce(s.longest_absence_streak, 0) AS longest_absence_streak,
  p.first_enrolled_date,
  p.last_enrolled_date
FROM per_student p
JOIN marts.bld_student_numbers n ON n.student_num = p.student_num
LEFT JOIN streaks s ON s.student_num = p.student_num
