SELECT
  s.tenant,
  edlake_key(s.tenant, [s.school_id]) AS school_key,
  s.school_id,
  s.name_of_institution AS school_name,
  edlake_code(s.school_category_descriptor) AS school_category,
  s.local_education_agency_id
FROM refined.schools s
