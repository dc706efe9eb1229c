-- The student-days with an attendance event (decision 0209): each recorded event that falls on a day
-- of one of the student's enrollment segments (bld_enrollment_segments), with the student's day
-- number, the day's absent fraction and its categories. Every other day of a segment is a day
-- present with no event, so the segments and these rows together are the whole student-day grain
-- without one row per day: the attendance measures read both, fct_student_attendance_daily expands
-- the segments and joins these rows on.
-- An event's absent fraction comes from seeds.attendance_codes (several events on one day: the
-- largest fraction, at most 1). Events on days that are not counted (not instructional, after the
-- school's attendance-through date), outside the enrollment windows, at a school that does not keep
-- the day (overlapping enrollments) or at a school the student is not enrolled in do not count.
-- Built in chunks of students (decision 0207, `chunks:` in the metadata): each chunk keeps its
-- students' events and segments (edlake_in_chunk), and the per-day aggregate is one chunk's.
WITH schools AS (
  SELECT DISTINCT tenant, school_id, school_num FROM marts.bld_calendar_days
),
counted AS (
  SELECT school_num, school_year, calendar_date, counted_day_number AS counted_number
  FROM marts.bld_calendar_days WHERE is_counted
),
categories AS (
  -- the event categories numbered in name order ('unmapped' for a code nothing maps), so that a day's
  -- categories are aggregated as integers (min and max of text cost twice as much at 1,000,000 students)
  SELECT category, (row_number() OVER (ORDER BY category))::INTEGER AS category_number
  FROM (SELECT logical_value AS category FROM marts.bld_descriptor_values WHERE descriptor_type = 'AttendanceEventCategoryDescriptor'
        UNION SELECT 'unmapped')
),
recorded AS (
  -- each recorded event with its student and school numbers and its mapped category
  SELECT s.student_num, c.school_num, ev.event_date,
         coalesce(d.absent_fraction, 0) AS absent_fraction,
         k.category_number
  FROM refined.student_school_attendance_events ev
  JOIN marts.bld_student_numbers s ON s.tenant = ev.tenant AND s.student_key = ev.student_key
  JOIN schools c ON c.tenant = ev.tenant AND c.school_id = ev.school_id
  LEFT JOIN marts.bld_descriptor_values d
    ON d.descriptor_type = 'AttendanceEventCategoryDescriptor' AND d.descriptor_value = ev.attendance_event_category_descriptor
  JOIN categories k ON k.category = coalesce(d.logical_value, 'unmapped')
  WHERE edlake_in_chunk(s.student_num)
),
per_day AS (
  -- one row per student, school and event date (several events on a day: the largest fraction);
  -- plain aggregates only: nearly every day has one category, its lowest and highest number
  SELECT student_num, school_num, event_date, max(absent_fraction) AS absent_fraction,
         min(category_number) AS lowest_category, max(category_number) AS highest_category
  FROM recorded
  GROUP BY ALL
),
mixed AS (
  -- the few days with more than one category: the distinct categories in order (a list aggregate
  -- over every day cost a third of the model at 1,000,000 students)
  SELECT r.student_num, r.school_num, r.event_date,
         array_to_string(list_sort(list_distinct(list(k.category))), ',') AS attendance_categories
  FROM recorded r
  JOIN categories k ON k.category_number = r.category_number
  SEMI JOIN (SELECT * FROM per_day WHERE lowest_category <> highest_category) m
    ON m.student_num = r.student_num AND m.school_num = r.school_num AND m.event_date = r.event_date
  GROUP BY ALL
),
events AS MATERIALIZED (
  -- each event day with its school year and the school's counted-day number of the date (events on
  -- days that are not counted drop out here). Materialized so that the runs are joined to these
  -- event days and not the other way round: joined first to the counted days, the runs expand into
  -- every student-day (187 M rows at 1,000,000 students), the work this model exists to avoid
  SELECT p.student_num, p.school_num, c.school_year, c.counted_number, p.event_date, p.absent_fraction,
         CASE WHEN p.lowest_category = p.highest_category THEN k.category ELSE m.attendance_categories END AS attendance_categories
  FROM per_day p
  JOIN counted c ON c.school_num = p.school_num AND c.calendar_date = p.event_date
  JOIN categories k ON k.category_number = p.lowest_category
  LEFT JOIN mixed m ON p.lowest_category <> p.highest_category
   AND m.student_num = p.student_num AND m.school_num = p.school_num AND m.event_date = p.event_date
),
placed AS (
  SELECT g.student_num, g.school_num, g.school_year, ev.event_date AS calendar_date, g.entry_date, g.is_current_year,
         (g.first_day_number + ev.counted_number - g.first_number)::INTEGER AS day_number,
         ev.counted_number, g.first_day_number AS run_first_day_number,
         (g.first_day_number + g.days - 1)::INTEGER AS run_last_day_number,
         least(ev.absent_fraction, 1) AS absent_fraction,
         ev.attendance_categories
  FROM events ev
  JOIN marts.bld_enrollment_segments g
    ON g.student_num = ev.student_num AND g.school_num = ev.school_num AND g.school_year = ev.school_year
   AND ev.counted_number BETWEEN g.first_number AND g.last_number
  WHERE edlake_in_chunk(g.student_num)
)
SELECT student_num, school_num, school_year, calendar_date, entry_date, is_current_year, day_number,
       counted_number, run_first_day_number,
       -- the days present (no event) in the run between the previous event day and this one, and
       -- after the run's last event day: with these fct_student_attendance_daily makes the days
       -- present by expanding the gaps, without looking up an event for each of the run's days
       (day_number - coalesce(lag(day_number) OVER run, run_first_day_number - 1) - 1)::INTEGER AS present_days_before,
       (CASE WHEN lead(day_number) OVER run IS NULL THEN run_last_day_number - day_number ELSE 0 END)::INTEGER AS present_days_after,
       absent_fraction, attendance_categories
FROM placed
WINDOW run AS (PARTITION BY student_num, school_year, run_first_day_number ORDER BY day_number)
