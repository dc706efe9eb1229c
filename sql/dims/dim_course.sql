SELECT
  c.tenant,
  edlake_key(c.tenant, [c.education_organization_id, c.course_code]) AS course_key,
  c.education_organization_id,
  c.course_code,
  c.course_title,
  d.logical_value AS subject
FROM refined.courses c
LEFT JOIN marts.bld_descriptor_values d ON d.descriptor_type = 'AcademicSubjectDescriptor' AND d.descriptor_value = c.academic_subject_descriptor
