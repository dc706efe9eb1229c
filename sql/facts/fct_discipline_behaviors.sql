-- One row per student behavior in a discipline incident, with whether the behavior is
-- state-reportable or a code-of-conduct offense (seeds.descriptor_map, BehaviorDescriptor).
SELECT
  b.tenant,
  b.student_key,
  edlake_key(b.tenant, [b.school_id]) AS school_key,
  b.school_id,
  b.incident_identifier,
  i.incident_date,
  edlake_code(b.behavior_descriptor) AS behavior_code,
  d.logical_value AS behavior_type
FROM refined.student_discipline_incident_behavior_associations b
LEFT JOIN refined.discipline_incidents i
  ON i.tenant = b.tenant AND i.school_id = b.school_id AND i.incident_identifier = b.incident_identifier
LEFT JOIN marts.bld_descriptor_values d ON d.descriptor_type = 'BehaviorDescriptor' AND d.descriptor_value = b.behavior_descriptor
