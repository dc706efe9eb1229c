-- One row per student of the current school year, following the student across the district's
-- schools (a mid-year transfer does not reset the rate): days enrolled and absent year to date and
-- over the student's last N enrolled instructional days (N = rolling_window_school_days), and the
-- longest run of consecutive full-day absences. Computed without one row per student-day (decision
-- 0209): the days enrolled are the sum of the student's runs of days (bld_enrollment_segments), and
-- every absence is a day with an event (bld_attendance_event_days) whose day_number numbers the
-- student's days of the year 1..n in date order - the rolling window is day_number > n - N, and a
-- run of absences is a run of consecutive day numbers. A day without an event is a day present.
WITH per_student AS (
  SELECT student_num, sum(days)::BIGINT AS days_enrolled,
         min(first_date) AS first_enrolled_date, max(last_date) AS last_enrolled_date
  FROM marts.bld_enrollment_segments
  WHERE is_current_year
  GROUP BY student_num
),
absent AS (
  SELECT student_num, sum(absent_fraction) AS days_absent
  FROM marts.bld_attendance_event_days
  WHERE is_current_year
  GROUP BY student_num
),
absences AS (
  -- the days with an absence, with their recency (1 = the student's last enrolled day)
  SELECT d.student_num, d.day_number, d.absent_fraction, p.days_enrolled - d.day_number + 1 AS recency
  FROM marts.bld_attendance_event_days d
  JOIN per_student p ON p.student_num = d.student_num
  WHERE d.is_current_year AND d.absent_fraction > 0
),
recent AS (
  SELECT student_num, sum(absent_fraction) AS days_absent_30d
  FROM absences WHERE recency <= edlake_param('rolling_window_school_days')
  GROUP BY student_num
),
streaks AS (
  -- consecutive full-day absences share day_number - (their rank among the student's full-day absences)
  SELECT student_num, max(n) AS longest_absence_streak
  FROM (
    SELECT student_num, island, count(*) AS n
    FROM (SELECT student_num, day_number - row_number() OVER (PARTITION BY student_num ORDER BY day_number) AS island
          FROM absences WHERE absent_fraction >= 1)
    GROUP BY ALL
  )
  GROUP BY ALL
),
rolling AS (
  SELECT p.*, coalesce(a.days_absent, 0) AS days_absent,
         -- the days with recency 1..N: N of them, or all when the student has fewer
         least(p.days_enrolled, greatest(floor(edlake_param('rolling_window_school_days')), 0)::BIGINT) AS days_enrolled_30d,
         coalesce(r.days_absent_30d, 0) AS days_absent_30d,
         coalesce(s.longest_absence_streak, 0) AS longest_absence_streak
  FROM per_student p
  LEFT JOIN absent a ON a.student_num = p.student_num
  LEFT JOIN recent r ON r.student_num = p.student_num
  LEFT JOIN streaks s ON s.student_num = p.student_num
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
  p.longest_absence_streak,
  p.first_enrolled_date,
  p.last_enrolled_date
FROM rolling p
JOIN marts.bld_student_numbers n ON n.student_num = p.student_num
