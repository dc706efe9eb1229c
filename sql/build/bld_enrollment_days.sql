-- Student x school x counted instructional day inside an enrollment window (entry date to exit
-- date, both inclusive). Where two enrollments of a student overlap on a day, the later entry
-- (the school the student moved to) keeps the day, so no student is counted twice in a day.
SELECT
  e.tenant,
  e.student_key,
  e.school_id,
  cd.school_key,
  e.school_year,
  cd.calendar_date,
  e.entry_date,
  e.exit_withdraw_date
FROM refined.student_school_associations e
JOIN marts.bld_calendar_days cd
  ON cd.tenant = e.tenant AND cd.school_id = e.school_id AND cd.school_year = e.school_year
 AND cd.is_counted
 AND cd.calendar_date >= e.entry_date
 AND (e.exit_withdraw_date IS NULL OR cd.calendar_date <= e.exit_withdraw_date)
QUALIFY row_number() OVER (PARTITION BY e.tenant, e.student_key, cd.calendar_date ORDER BY e.entry_date DESC, e.school_id) = 1
