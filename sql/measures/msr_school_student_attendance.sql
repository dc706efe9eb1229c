-- One row per school and student of the current school year: the school's own days (school
-- aggregates count each school's days; the student view follows the student across schools).
SELECT
  f.tenant,
  f.school_key,
  f.school_id,
  f.student_key,
  count(*) AS days_enrolled,
  sum(f.absent_fraction) AS days_absent,
  1 - sum(f.absent_fraction) / count(*) AS attendance_rate,
  sum(f.absent_fraction) / count(*) AS absence_rate
FROM marts.fct_student_attendance_daily f
JOIN marts.bld_as_of a ON a.tenant = f.tenant AND a.school_year = f.school_year
GROUP BY ALL
