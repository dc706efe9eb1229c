-- The student-day grain on integers (decision 0203): student (bld_student_numbers) x school
-- (bld_calendar_days.school_num) x counted instructional day inside an enrollment window (entry date
-- to exit date, both inclusive), with the day's absence. fct_student_attendance_daily publishes these
-- rows with their keys; the attendance measures and fct_enrollment aggregate them on integers.
-- Where two enrollments of a student overlap on a day, the later entry (the school the student moved
-- to) keeps the day, so no student is counted twice in a day. Only students with overlapping
-- enrollments need the ranking; everyone else's days pass as they are.
-- A day with no attendance record is a day present; a recorded event counts its absent fraction from
-- seeds.attendance_codes (several events on one day: the largest fraction, at most 1).
-- Built in chunks of students (decision 0207, `chunks:` in the metadata): every row of a student
-- depends only on that student's enrollments and events, so each chunk keeps its students'
-- enrollments and events (edlake_in_chunk) and the chunks together are the whole table.
WITH schools AS (
  SELECT DISTINCT tenant, school_id, school_num FROM marts.bld_calendar_days
),
e AS (
  SELECT s.student_num, c.school_num, e.school_year, e.entry_date,
         coalesce(e.exit_withdraw_date, DATE '9999-12-31') AS until_date,
         coalesce(e.school_year = a.school_year, false) AS is_current_year
  FROM refined.student_school_associations e
  JOIN marts.bld_student_numbers s ON s.tenant = e.tenant AND s.student_key = e.student_key
  JOIN schools c ON c.tenant = e.tenant AND c.school_id = e.school_id
  LEFT JOIN marts.bld_as_of a ON a.tenant = e.tenant
  WHERE edlake_in_chunk(s.student_num)
),
counted AS (
  -- the counted days of each school and year, numbered 1, 2, ... in date order
  SELECT school_num, school_year, calendar_date,
         (row_number() OVER (PARTITION BY school_num, school_year ORDER BY calendar_date))::INTEGER AS counted_number
  FROM marts.bld_calendar_days WHERE is_counted
),
windows AS (
  -- per enrollment: the numbers of its first and last counted day (counted days before the entry
  -- date + 1, counted days up to the exit date), found by ASOF lookups instead of expanding the days
  SELECT e.*,
         coalesce(b.counted_number, 0) + 1 AS first_number,
         coalesce(l.counted_number, 0) AS last_number
  FROM e
  ASOF LEFT JOIN counted b ON b.school_num = e.school_num AND b.school_year = e.school_year AND b.calendar_date < e.entry_date
  ASOF LEFT JOIN counted l ON l.school_num = e.school_num AND l.school_year = e.school_year AND l.calendar_date <= e.until_date
),
windows_offset AS (
  -- a student's enrolled days before this window in the year (only used where windows do not overlap,
  -- so that the windows in entry order are the days in date order)
  SELECT *, coalesce(sum(greatest(last_number - first_number + 1, 0)) OVER (
           PARTITION BY student_num, school_year ORDER BY entry_date, school_num
           ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS days_before
  FROM windows
),
overlapping AS (
  SELECT DISTINCT a.student_num
  FROM e a
  JOIN e b ON b.student_num = a.student_num
   AND (b.entry_date > a.entry_date OR (b.entry_date = a.entry_date AND b.school_num > a.school_num))
   AND b.entry_date <= a.until_date AND a.entry_date <= b.until_date
),
counted_dates AS (
  -- each school's counted days of a year as one list in date order: the counted_number-th day is
  -- dates[counted_number], so a window's days are a slice of the list (no join per student-day)
  SELECT school_num, school_year, list(calendar_date ORDER BY calendar_date) AS dates
  FROM counted GROUP BY ALL
),
events AS (
  -- one row per student, school and event date (several events on a day: the largest fraction)
  SELECT s.student_num, c.school_num, ev.event_date,
         max(coalesce(d.absent_fraction, 0)) AS absent_fraction,
         -- the day's distinct categories in order, as a list aggregate sorted afterwards (an ordered
         -- DISTINCT string_agg sorts inside every group and cost more than the rest of the model)
         array_to_string(list_sort(list_distinct(list(coalesce(d.logical_value, 'unmapped')))), ',') AS attendance_categories
  FROM refined.student_school_attendance_events ev
  JOIN marts.bld_student_numbers s ON s.tenant = ev.tenant AND s.student_key = ev.student_key
  JOIN schools c ON c.tenant = ev.tenant AND c.school_id = ev.school_id
  LEFT JOIN marts.bld_descriptor_values d
    ON d.descriptor_type = 'AttendanceEventCategoryDescriptor' AND d.descriptor_value = ev.attendance_event_category_descriptor
  WHERE edlake_in_chunk(s.student_num)
  GROUP BY ALL
),
window_events AS (
  -- the events inside each window, by their position in it (1 = the window's first counted day):
  -- attached to the windows (about one per enrollment) instead of joined to every student-day, so
  -- that no hash table is built over the days (at 1,000,000 students the day-level join spilled
  -- tens of GB) and the days keep their order
  SELECT w.student_num, w.school_num, w.school_year, w.entry_date,
         list({'position': (c.counted_number - w.first_number + 1)::INTEGER,
               'absent_fraction': ev.absent_fraction,
               'attendance_categories': ev.attendance_categories}) AS events
  FROM windows w
  JOIN events ev ON ev.student_num = w.student_num AND ev.school_num = w.school_num
  JOIN counted c ON c.school_num = w.school_num AND c.school_year = w.school_year AND c.calendar_date = ev.event_date
  WHERE c.counted_number BETWEEN w.first_number AND w.last_number
  GROUP BY w.student_num, w.school_num, w.school_year, w.entry_date
),
window_lists AS (
  -- per window (about one per enrollment, never one per day): whether the student has overlapping
  -- windows, its events and their positions
  SELECT w.student_num, w.school_num, w.school_year, w.entry_date, w.is_current_year,
         w.first_number, w.last_number, (w.days_before + 1)::BIGINT AS first_day_number,
         o.student_num IS NOT NULL AS has_overlap,
         we.events, list_transform(we.events, x -> x.position) AS event_positions
  FROM windows_offset w
  LEFT JOIN overlapping o ON o.student_num = w.student_num
  LEFT JOIN window_events we
    ON we.student_num = w.student_num AND we.school_num = w.school_num AND we.school_year = w.school_year AND we.entry_date = w.entry_date
  WHERE w.last_number >= w.first_number
),
kept AS (
  -- students without overlapping windows: each window's slice of its school's counted dates,
  -- numbered from the window's offset; the windows sorted after the joins (a hash join does not keep
  -- its build side's order), so that the days come out grouped by student
  SELECT student_num, school_num, school_year, unnest(dates) AS calendar_date, entry_date, is_current_year,
         unnest(range(first_day_number, first_day_number + len(dates)))::INTEGER AS day_number,
         unnest(range(1, len(dates) + 1))::INTEGER AS position, events, event_positions
  FROM (
    SELECT w.student_num, w.school_num, w.school_year, w.entry_date, w.is_current_year, w.first_day_number,
           list_slice(c.dates, w.first_number, w.last_number) AS dates, w.events, w.event_positions
    FROM window_lists w
    JOIN counted_dates c ON c.school_num = w.school_num AND c.school_year = w.school_year
    WHERE NOT w.has_overlap
    ORDER BY w.student_num, w.school_year, w.entry_date, w.school_num
  )
  UNION ALL
  -- a student whose windows overlap: the kept days numbered in date order
  SELECT student_num, school_num, school_year, calendar_date, entry_date, is_current_year,
         (row_number() OVER (PARTITION BY student_num, school_year ORDER BY calendar_date))::INTEGER AS day_number,
         position, events, event_positions
  FROM (
    SELECT * FROM (
      SELECT w.student_num, w.school_num, w.school_year,
             unnest(list_slice(c.dates, w.first_number, w.last_number)) AS calendar_date,
             unnest(range(1, w.last_number - w.first_number + 2))::INTEGER AS position,
             w.entry_date, w.is_current_year, w.events, w.event_positions
      FROM window_lists w
      JOIN counted_dates c ON c.school_num = w.school_num AND c.school_year = w.school_year
      WHERE w.has_overlap
    )
    -- the later entry keeps the day; on the same entry date the lower school_id (school_num follows
    -- school_id's order within a tenant)
    QUALIFY row_number() OVER (PARTITION BY student_num, calendar_date ORDER BY entry_date DESC, school_num) = 1
  )
)
SELECT
  k.student_num,
  k.school_num,
  k.school_year,
  k.calendar_date,
  k.entry_date,
  k.is_current_year,
  k.day_number,
  -- the day's event, looked up by its position in the window (a window holds a handful of events)
  least(coalesce(k.events[k.event_index].absent_fraction, 0), 1) AS absent_fraction,
  k.events[k.event_index].attendance_categories AS attendance_categories
FROM (SELECT *, nullif(list_position(event_positions, position), 0) AS event_index FROM kept) k
