-- Per tenant: the current school year, the date the data runs through (the last attendance date
-- any school submitted), and the first and last instructional days of the year's calendar.
WITH years AS (
  SELECT tenant, max(school_year) AS school_year FROM refined.student_school_associations GROUP BY tenant
),
cal AS (
  SELECT c.tenant, c.school_year,
         min(c.date) FILTER (WHERE d.is_instructional) AS first_instructional_date,
         max(c.date) FILTER (WHERE d.is_instructional) AS last_instructional_date
  FROM refined.calendar_dates c
  JOIN marts.bld_descriptor_values d ON d.descriptor_type = 'CalendarEventDescriptor' AND d.descriptor_value = c.calendar_event_descriptor
  GROUP BY ALL
),
att AS (
  SELECT tenant, school_year, max(event_date) AS last_attendance_date FROM refined.student_school_attendance_events GROUP BY ALL
)
SELECT y.tenant, y.school_year,
       coalesce(a.last_attendance_date, c.first_instructional_date) AS as_of_date,
       a.last_attendance_date,
       c.first_instructional_date,
       c.last_instructional_date
FROM years y
LEFT JOIN cal c ON c.tenant = y.tenant AND c.school_year = y.school_year
LEFT JOIN att a ON a.tenant = y.tenant AND a.school_year = y.school_year
