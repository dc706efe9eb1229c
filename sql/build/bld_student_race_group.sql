-- One California race/ethnicity reporting group per student: Hispanic or Latino when the student
-- has that ethnicity (flag or code), otherwise Two or More Races when the races map to several
-- groups (or an explicit multi-race code), otherwise the one group. Groups come from seeds.race_ethnicity.
WITH races AS (
  SELECT s.tenant, s.student_key, d.logical_value AS reporting_group, d.race_kind
  FROM (SELECT tenant, student_key, unnest(races) AS race FROM refined.student_education_organization_associations) s
  JOIN marts.bld_descriptor_values d ON d.descriptor_type = 'RaceDescriptor' AND d.descriptor_value = s.race AND d.is_mapped
),
flags AS (
  SELECT tenant, student_key, bool_or(coalesce(hispanic_latino_ethnicity, false)) AS hispanic
  FROM refined.student_education_organization_associations GROUP BY ALL
),
per_student AS (
  SELECT f.tenant, f.student_key,
         f.hispanic OR coalesce(bool_or(r.race_kind = 'ethnicity'), false) AS hispanic,
         coalesce(bool_or(r.race_kind = 'multiple'), false) AS explicit_multiple,
         count(DISTINCT r.reporting_group) FILTER (WHERE r.race_kind = 'race') AS race_groups,
         min(r.reporting_group) FILTER (WHERE r.race_kind = 'race') AS single_group
  FROM flags f LEFT JOIN races r ON r.tenant = f.tenant AND r.student_key = f.student_key
  GROUP BY f.tenant, f.student_key, f.hispanic
)
SELECT tenant, student_key,
  CASE
    WHEN hispanic THEN (SELECT min(reporting_group) FROM seeds.race_ethnicity WHERE kind = 'ethnicity')
    WHEN explicit_multiple OR race_groups > 1 THEN (SELECT min(reporting_group) FROM seeds.race_ethnicity WHERE kind = 'multiple')
    ELSE single_group
  END AS race_group
FROM per_student
