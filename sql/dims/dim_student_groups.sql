-- Long table: one row per student and California reporting group the student belongs to this
-- school year. All students; the race/ethnicity group; program groups for programs that overlap
-- the school year (mapped through seeds.descriptor_map to a group code of seeds.student_groups);
-- English learners also from the English proficiency status.
WITH students AS (
  SELECT DISTINCT e.tenant, e.student_key, a.first_instructional_date, a.as_of_date
  FROM refined.student_school_associations e
  JOIN marts.bld_as_of a ON a.tenant = e.tenant AND a.school_year = e.school_year
),
memberships AS (
  SELECT s.tenant, s.student_key, g.group_code
  FROM students s CROSS JOIN seeds.student_groups g WHERE g.group_kind = 'all'
  UNION
  SELECT s.tenant, s.student_key, r.race_group
  FROM students s JOIN marts.bld_student_race_group r ON r.tenant = s.tenant AND r.student_key = s.student_key
  WHERE r.race_group IS NOT NULL
  UNION
  SELECT s.tenant, s.student_key, d.logical_value
  FROM students s
  JOIN refined.student_program_associations p ON p.tenant = s.tenant AND p.student_key = s.student_key
  JOIN marts.bld_descriptor_values d ON d.descriptor_type = 'ProgramTypeDescriptor' AND d.descriptor_value = p.program_descriptor AND d.is_mapped
  WHERE p.begin_date <= s.as_of_date
    AND (p.end_date IS NULL OR p.end_date >= s.first_instructional_date)
  UNION
  SELECT s.tenant, s.student_key, d.logical_value
  FROM students s
  JOIN refined.student_education_organization_associations o ON o.tenant = s.tenant AND o.student_key = s.student_key
  JOIN marts.bld_descriptor_values d ON d.descriptor_type = 'LimitedEnglishProficiencyDescriptor' AND d.descriptor_value = o.limited_english_proficiency_descriptor AND d.is_mapped
)
SELECT m.tenant, m.student_key, g.group_code, g.group_kind, g.label AS group_label, g.reporting_order
FROM memberships m
JOIN seeds.student_groups g ON g.group_code = m.group_code
