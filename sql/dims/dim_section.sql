-- One row per section: school, course (the school's own course definition when there is one,
-- else the district's), subject, and the teacher of record (the earliest-starting active teacher).
WITH course_match AS (
  SELECT s.tenant, s.section_key, c.course_key, c.subject, c.course_title
  FROM refined.sections s
  JOIN marts.dim_course c ON c.tenant = s.tenant AND lower(c.course_code) = lower(s.local_course_code)
  QUALIFY row_number() OVER (PARTITION BY s.tenant, s.section_key ORDER BY (c.education_organization_id = s.school_id) DESC, c.education_organization_id) = 1
),
teacher AS (
  SELECT t.tenant, t.section_key, t.staff_key
  FROM refined.staff_section_associations t
  JOIN marts.bld_as_of a ON a.tenant = t.tenant
  QUALIFY row_number() OVER (PARTITION BY t.tenant, t.section_key
                             ORDER BY (t.end_date IS NULL OR t.end_date >= a.as_of_date) DESC, t.begin_date, t.staff_key) = 1
)
SELECT
  s.tenant,
  s.section_key,
  edlake_key(s.tenant, [s.school_id]) AS school_key,
  s.school_id,
  s.school_year,
  s.local_course_code AS course_code,
  cm.course_key,
  coalesce(cm.course_title, s.course_title) AS course_title,
  cm.subject,
  s.section_identifier,
  s.session_name,
  t.staff_key AS teacher_staff_key
FROM refined.sections s
LEFT JOIN course_match cm ON cm.tenant = s.tenant AND cm.section_key = s.section_key
LEFT JOIN teacher t ON t.tenant = s.tenant AND t.section_key = s.section_key
