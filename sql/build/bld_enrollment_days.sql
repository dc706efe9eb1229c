-- Student x school x counted instructional day inside an enrollment window (entry date to exit
-- date, both inclusive). Where two enrollments of a student overlap on a day, the later entry
-- (the school the student moved to) keeps the day, so no student is counted twice in a day.
-- Only students with overlapping enrollments need the ranking; everyone else's days pass as they are.
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
)
SELECT * EXCLUDE (has_overlap) FROM days WHERE NOT has_overlap
UNION ALL
SELECT * EXCLUDE (has_overlap) FROM (
  SELECT * FROM days WHERE has_overlap
  QUALIFY row_number() OVER (PARTITION BY tenant, student_key, calendar_date ORDER BY entry_date DESC, school_id) = 1
)
