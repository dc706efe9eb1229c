-- One row per discipline action taken for a student, with its kind (suspension, expulsion, other)
-- from seeds.descriptor_map (DisciplineDescriptor).
SELECT
  x.tenant,
  x.student_key,
  x.discipline_action_identifier,
  x.discipline_date,
  CASE WHEN x.school_id IS NOT NULL THEN edlake_key(x.tenant, [x.school_id]) END AS school_key,
  x.school_id,
  x.incident_identifier,
  edlake_code(x.discipline_descriptor) AS discipline_code,
  d.logical_value AS action_type,
  x.actual_discipline_action_length AS length_days
FROM refined.discipline_actions x
LEFT JOIN marts.bld_descriptor_values d ON d.descriptor_type = 'DisciplineDescriptor' AND d.descriptor_value = x.discipline_descriptor
