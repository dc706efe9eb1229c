-- One row per staff member, by key: roles from active assignments (principals are found here) and
-- the number of sections taught.
WITH assignments AS (
  SELECT x.tenant, x.staff_key, d.logical_value AS role, x.education_organization_id
  FROM refined.staff_education_organization_assignment_associations x
  JOIN marts.bld_as_of a ON a.tenant = x.tenant
  LEFT JOIN marts.bld_descriptor_values d ON d.descriptor_type = 'StaffClassificationDescriptor' AND d.descriptor_value = x.staff_classification_descriptor
  WHERE x.begin_date <= a.as_of_date AND (x.end_date IS NULL OR x.end_date >= a.as_of_date)
),
sections AS (
  SELECT tenant, staff_key, count(DISTINCT section_key) AS sections_taught
  FROM refined.staff_section_associations GROUP BY ALL
)
SELECT
  s.tenant,
  s.staff_key,
  coalesce(bool_or(x.role = 'principal'), false) AS is_principal,
  coalesce(bool_or(x.role = 'teacher'), false) OR coalesce(max(sec.sections_taught), 0) > 0 AS is_teacher,
  coalesce(list(DISTINCT x.education_organization_id ORDER BY x.education_organization_id) FILTER (WHERE x.role = 'principal'), []::VARCHAR[]) AS principal_school_ids,
  coalesce(max(sec.sections_taught), 0) AS sections_taught
FROM refined.staffs s
LEFT JOIN assignments x ON x.tenant = s.tenant AND x.staff_key = s.staff_key
LEFT JOIN sections sec ON sec.tenant = s.tenant AND sec.staff_key = s.staff_key
GROUP BY s.tenant, s.staff_key
