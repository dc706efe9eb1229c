SELECT
  m.tenant,
  m.student_key,
  m.section_key,
  s.school_key,
  s.course_key,
  s.subject,
  m.begin_date,
  m.end_date,
  coalesce(m.begin_date <= a.as_of_date AND (m.end_date IS NULL OR m.end_date >= a.as_of_date), false) AS is_active
FROM refined.student_section_associations m
LEFT JOIN marts.dim_section s ON s.tenant = m.tenant AND s.section_key = m.section_key
LEFT JOIN marts.bld_as_of a ON a.tenant = m.tenant
