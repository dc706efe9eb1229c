-- Student x school x instructional day inside the enrollment window (DOMAIN.md grain). Enrollment
-- windows run from entry date to exit date, both inclusive, over the school's counted days
-- (bld_calendar_days). Where two enrollments of a student overlap on a day, the later entry (the
-- school the student moved to) keeps the day, so no student is counted twice in a day; only
-- students with overlapping enrollments need that ranking. A day with no attendance record is a
-- day present; a recorded event counts its absent fraction from seeds.attendance_codes (several
-- events on one day: the largest fraction, at most 1).
WITH e AS (
  SELECT tenant, student_key, school_id, school_year, entry_date, exit_withdraw_date,
         coalesce(exit_withdraw_date, DATE '9999-12-31') AS until_date
  FROM refined.student_school_associations
),
overlapping AS (
  SELECT DISTINCT a.tenant, a.student_key
  FROM e a
  JOIN e b ON b.tenant = a.tenant AND b.student_key = a.student_key
   AND (b.entry_date > a.entry_date OR (b.entry_date = a.entry_date AND b.school_id > a.school_id))
   AND b.entry_date <= a.until_date AND a.entry_date <= b.until_date
),
days AS (
  SELECT
    e.tenant,
    e.student_key,
    e.school_id,
    cd.school_key,
    e.school_year,
    cd.calendar_date,
    e.entry_date,
    e.exit_withdraw_date,
    o.student_key IS NOT NULL AS has_overlap
  FROM e
  JOIN marts.bld_calendar_days cd
    ON cd.tenant = e.tenant AND cd.school_id = e.school_id AND cd.school_year = e.school_year
   AND cd.is_counted
   AND cd.calendar_date >= e.entry_date
   AND cd.calendar_date <= e.until_date
  LEFT JOIN overlapping o ON o.tenant = e.tenant AND o.student_key = e.student_key
),
enrollment_days AS (
  SELECT * EXCLUDE (has_overlap) FROM days WHERE NOT has_overlap
  UNION ALL
  SELECT * EXCLUDE (has_overlap) FROM (
    SELECT * FROM days WHERE has_overlap
    QUALIFY row_number() OVER (PARTITION BY tenant, student_key, calendar_date ORDER BY entry_date DESC, school_id) = 1
  )
),
events AS (
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
  e.entry_date,
  least(coalesce(ev.absent_fraction, 0), 1) AS absent_fraction,
  least(coalesce(ev.absent_fraction, 0), 1) >= 1 AS is_full_day_absence,
  ev.attendance_categories
FROM enrollment_days e
LEFT JOIN events ev
  ON ev.tenant = e.tenant AND ev.student_key = e.student_key AND ev.school_id = e.school_id AND ev.event_date = e.calendar_date
