-- One row per school and student of the current school year: the school's own days (school
-- aggregates count each school's days; the student view follows the student across schools).
-- Counted without one row per student-day (decision 0209): days enrolled from the student's runs of
-- days at the school (bld_enrollment_segments), days absent from the days with an event there
-- (bld_attendance_event_days); keyed afterwards.
WITH enrolled AS (
  SELECT school_num, student_num, sum(days)::BIGINT AS days_enrolled
  FROM marts.bld_enrollment_segments
  WHERE is_current_year
  GROUP BY ALL
),
absent AS (
  SELECT school_num, student_num, sum(absent_fraction) AS days_absent
  FROM marts.bld_attendance_event_days
  WHERE is_current_year
  GROUP BY ALL
),
per_school AS (
  SELECT e.school_num, e.student_num, e.days_enrolled, coalesce(a.days_absent, 0) AS days_absent
  FROM enrolled e
  LEFT JOIN absent a ON a.school_num = e.school_num AND a.student_num = e.student_num
),
schools AS (
  SELECT DISTINCT school_num, tenant, school_key, school_id FROM marts.bld_calendar_days
)
SELECT
  c.tenant,
  c.school_key,
  c.school_id,
  n.student_key,
  p.days_enrolled,
  p.days_absent,
  1 - p.days_absent / p.days_enrolled AS attendance_rate,
  p.days_absent / p.days_enrolled AS absence_rate
FROM per_school p
JOIN marts.bld_student_numbers n ON n.student_num = p.student_num
JOIN schools c ON c.school_num = p.school_num
