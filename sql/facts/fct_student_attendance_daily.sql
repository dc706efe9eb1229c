-- Student x school x instructional day inside the enrollment window (DOMAIN.md grain). The days are
-- resolved on integer keys as runs (bld_enrollment_segments: windows, overlaps and day numbers) and
-- the days with an event as rows (bld_attendance_event_days) (decisions 0203, 0209). This view is
-- the only place where the student-days become one row per day: the event days as they are, and the
-- days present expanded from the gaps around them (and from the runs without any event), each a
-- slice of the school's counted days - so no day is looked up or joined one by one, and the keys are
-- joined onto the runs and gaps before they are expanded. Publishing writes it to Parquet.
WITH schools AS (
  SELECT DISTINCT school_num, tenant, school_key, school_id FROM marts.bld_calendar_days
),
counted_dates AS (
  -- each school's counted days of a year as one list in date order: the n-th counted day is
  -- dates[n], so a stretch of counted numbers is a slice of the list
  SELECT school_num, school_year, list(calendar_date ORDER BY calendar_date) AS dates
  FROM marts.bld_calendar_days WHERE is_counted GROUP BY ALL
),
present AS (
  -- stretches of days present, as ranges of the school's counted numbers
  SELECT g.student_num, g.school_num, g.school_year, g.first_number AS from_number, g.last_number AS to_number
  FROM marts.bld_enrollment_segments g
  ANTI JOIN marts.bld_attendance_event_days e
    ON e.student_num = g.student_num AND e.school_year = g.school_year AND e.run_first_day_number = g.first_day_number
  UNION ALL
  SELECT student_num, school_num, school_year, counted_number - present_days_before, counted_number - 1
  FROM marts.bld_attendance_event_days WHERE present_days_before > 0
  UNION ALL
  SELECT student_num, school_num, school_year, counted_number + 1, counted_number + present_days_after
  FROM marts.bld_attendance_event_days WHERE present_days_after > 0
),
keyed AS (
  -- the keys joined onto the stretches before they are expanded
  SELECT s.student_key, k.tenant, k.school_key, k.school_id, p.school_year, p.from_number, p.to_number, c.dates
  FROM present p
  JOIN counted_dates c ON c.school_num = p.school_num AND c.school_year = p.school_year
  JOIN marts.bld_student_numbers s ON s.student_num = p.student_num
  JOIN schools k ON k.school_num = p.school_num
),
days AS (
  SELECT tenant, student_key, school_key, school_id, school_year,
         unnest(list_slice(dates, from_number, to_number)) AS calendar_date,
         0::DOUBLE AS absent_fraction, NULL::VARCHAR AS attendance_categories
  FROM keyed
  UNION ALL
  SELECT k.tenant, s.student_key, k.school_key, k.school_id, e.school_year, e.calendar_date, e.absent_fraction, e.attendance_categories
  FROM marts.bld_attendance_event_days e
  JOIN marts.bld_student_numbers s ON s.student_num = e.student_num
  JOIN schools k ON k.school_num = e.school_num
)
SELECT tenant, student_key, school_key, school_id, school_year, calendar_date, absent_fraction,
       absent_fraction >= 1 AS is_full_day_absence, attendance_categories
FROM days
