SELECT
  e.tenant,
  edlake_key(e.tenant, [e.student_key, e.school_id, e.entry_date::VARCHAR]) AS enrollment_key,
  e.student_key,
  edlake_key(e.tenant, [e.school_id]) AS school_key,
  e.school_id,
  e.school_year,
  e.entry_date,
  e.exit_withdraw_date,
  g.grade_number,
  edlake_code(e.exit_withdraw_type_descriptor) AS exit_withdraw_type,
  coalesce(e.school_year = a.school_year AND e.entry_date <= a.as_of_date
           AND (e.exit_withdraw_date IS NULL OR e.exit_withdraw_date >= a.as_of_date), false) AS is_active,
  coalesce(n.days_enrolled, 0) AS days_enrolled
FROM refined.student_school_associations e
LEFT JOIN (
  -- days per enrollment: the sum of its runs of days (overlaps resolved), on integer keys and keyed
  -- afterwards (decisions 0203, 0209)
  SELECT s.tenant, s.student_key, c.school_id, d.entry_date, d.days_enrolled
  FROM (SELECT student_num, school_num, entry_date, sum(days)::BIGINT AS days_enrolled FROM marts.bld_enrollment_segments GROUP BY ALL) d
  JOIN marts.bld_student_numbers s ON s.student_num = d.student_num
  JOIN (SELECT DISTINCT school_num, school_id FROM marts.bld_calendar_days) c ON c.school_num = d.school_num
) n
  ON n.tenant = e.tenant AND n.student_key = e.student_key AND n.school_id = e.school_id AND n.entry_date = e.entry_date
LEFT JOIN marts.bld_as_of a ON a.tenant = e.tenant
LEFT JOIN marts.bld_descriptor_values g ON g.descriptor_type = 'GradeLevelDescriptor' AND g.descriptor_value = e.entry_grade_level_descriptor
