-- Student x school x instructional day inside the enrollment window (DOMAIN.md grain). A day with
-- no attendance record is a day present; a recorded event counts its absent fraction from
-- seeds.attendance_codes (several events on one day: the largest fraction, at most 1).
WITH events AS (
  SELECT ev.tenant, ev.student_key, ev.school_id, ev.event_date,
         max(coalesce(d.absent_fraction, 0)) AS absent_fraction,
         string_agg(DISTINCT coalesce(d.logical_value, 'unmapped'), ',' ORDER BY coalesce(d.logical_value, 'unmapped')) AS attendance_categories
  FROM refined.student_school_attendance_events ev
  LEFT JOIN marts.bld_descriptor_values d
    ON d.descriptor_type = 'AttendanceEventCategoryDescriptor' AND d.descriptor_value = ev.attendance_event_category_descriptor
  GROUP BY ALL
)
SELECT
  e.tenant,
  e.student_key,
  e.school_key,
  e.school_id,
  e.school_year,
  e.calendar_date,
  least(coalesce(ev.absent_fraction, 0), 1) AS absent_fraction,
  least(coalesce(ev.absent_fraction, 0), 1) >= 1 AS is_full_day_absence,
  ev.attendance_categories
FROM marts.bld_enrollment_days e
LEFT JOIN events ev
  ON ev.tenant = e.tenant AND ev.student_key = e.student_key AND ev.school_id = e.school_id AND ev.event_date = e.calendar_date
