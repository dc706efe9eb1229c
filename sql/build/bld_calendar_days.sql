-- One row per school and calendar date: whether it is an instructional day (a day with any
-- instructional event, mapped through seeds.calendar_events) and whether it counts, i.e. it is
-- instructional and on or before the last date the school has submitted attendance for.
WITH days AS (
  SELECT c.tenant, c.school_id, c.school_year, c.date AS calendar_date,
         coalesce(bool_or(d.is_instructional), false) AS is_instructional
  FROM refined.calendar_dates c
  LEFT JOIN marts.bld_descriptor_values d
    ON d.descriptor_type = 'CalendarEventDescriptor' AND d.descriptor_value = c.calendar_event_descriptor
  GROUP BY ALL
),
through AS (
  SELECT tenant, school_id, school_year, max(event_date) AS last_attendance_date
  FROM refined.student_school_attendance_events GROUP BY ALL
)
SELECT
  d.tenant,
  edlake_key(d.tenant, [d.school_id]) AS school_key,
  d.school_id,
  d.school_year,
  d.calendar_date,
  d.is_instructional,
  coalesce(t.last_attendance_date, a.last_attendance_date) AS attendance_through_date,
  d.is_instructional AND d.calendar_date <= coalesce(t.last_attendance_date, a.last_attendance_date) AS is_counted,
  CASE WHEN d.is_instructional THEN count(*) FILTER (WHERE d.is_instructional)
       OVER (PARTITION BY d.tenant, d.school_id, d.school_year ORDER BY d.calendar_date) END AS instructional_day_number,
  -- the counted days numbered 1, 2, ... per school and year in date order (the numbering the runs of
  -- student-days are expressed in, decision 0209); NULL on days that do not count
  (CASE WHEN d.is_instructional AND d.calendar_date <= coalesce(t.last_attendance_date, a.last_attendance_date)
        THEN count(*) FILTER (WHERE d.is_instructional AND d.calendar_date <= coalesce(t.last_attendance_date, a.last_attendance_date))
             OVER (PARTITION BY d.tenant, d.school_id, d.school_year ORDER BY d.calendar_date) END)::INTEGER AS counted_day_number,
  -- dense integer surrogate of (tenant, school_id) for the student-day models (decision 0203)
  (dense_rank() OVER (ORDER BY d.tenant, d.school_id))::INTEGER AS school_num
FROM days d
LEFT JOIN through t ON t.tenant = d.tenant AND t.school_id = d.school_id AND t.school_year = d.school_year
LEFT JOIN marts.bld_as_of a ON a.tenant = d.tenant AND a.school_year = d.school_year
