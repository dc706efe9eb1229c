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
LEFT JOIN (SELECT tenant, student_key, school_id, entry_date, count(*) AS days_enrolled FROM marts.bld_enrollment_days GROUP BY ALL) n
  ON n.tenant = e.tenant AND n.student_key = e.student_key AND n.school_id = e.school_id AND n.entry_date = e.entry_date
LEFT JOIN marts.bld_as_of a ON a.tenant = e.tenant
LEFT JOIN marts.bld_descriptor_values g ON g.descriptor_type = 'GradeLevelDescriptor' AND g.descriptor_value = e.entry_grade_level_descriptor
