-- Student x school x instructional day inside the enrollment window (DOMAIN.md grain). The days,
-- overlaps and absences are resolved on integer keys in bld_enrollment_days (decision 0203); this
-- model publishes them with the tenant, the student's keyed hash and the school's key.
WITH schools AS (
  SELECT DISTINCT school_num, tenant, school_key, school_id FROM marts.bld_calendar_days
)
SELECT
  c.tenant,
  s.student_key,
  c.school_key,
  c.school_id,
  d.school_year,
  d.calendar_date,
  d.absent_fraction,
  d.absent_fraction >= 1 AS is_full_day_absence,
  d.attendance_categories
FROM marts.bld_enrollment_days d
JOIN marts.bld_student_numbers s ON s.student_num = d.student_num
JOIN schools c ON c.school_num = d.school_num
