-- One row per school and student of the current school year: the school's own days (school
-- aggregates count each school's days; the student view follows the student across schools).
-- Aggregated on the integer student-day grain (bld_enrollment_days, the rows of
-- fct_student_attendance_daily), keyed afterwards.
WITH per_school AS (
  SELECT school_num, student_num, count(*) AS days_enrolled, sum(absent_fraction) AS days_absent
  FROM marts.bld_enrollment_days
  WHERE is_current_year
  GROUP BY ALL
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
