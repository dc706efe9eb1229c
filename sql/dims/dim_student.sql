-- One row per student: current (latest) enrollment, grade, demographics and program flags.
WITH cur AS (
  SELECT e.*, row_number() OVER (PARTITION BY e.tenant, e.student_key ORDER BY e.school_year DESC, e.entry_date DESC, e.school_id) AS k
  FROM refined.student_school_associations e
),
demo AS (
  SELECT o.tenant, o.student_key,
         min(sx.logical_value) AS sex,
         bool_or(coalesce(o.hispanic_latino_ethnicity, false)) AS hispanic_latino_ethnicity
  FROM refined.student_education_organization_associations o
  LEFT JOIN marts.bld_descriptor_values sx ON sx.descriptor_type = 'SexDescriptor' AND sx.descriptor_value = o.sex_descriptor
  GROUP BY ALL
),
programs AS (
  SELECT p.tenant, p.student_key, list(DISTINCT d.logical_value ORDER BY d.logical_value) AS program_codes
  FROM refined.student_program_associations p
  JOIN marts.bld_as_of a ON a.tenant = p.tenant
  JOIN marts.bld_descriptor_values d ON d.descriptor_type = 'ProgramTypeDescriptor' AND d.descriptor_value = p.program_descriptor AND d.is_mapped
  WHERE p.begin_date <= a.as_of_date AND (p.end_date IS NULL OR p.end_date >= a.first_instructional_date)
  GROUP BY ALL
),
groups AS (
  SELECT tenant, student_key, list(group_code ORDER BY reporting_order) AS group_codes
  FROM marts.dim_student_groups GROUP BY ALL
)
SELECT
  st.tenant,
  st.student_key,
  st.birth_year,
  c.school_id,
  edlake_key(c.tenant, [c.school_id]) AS school_key,
  c.school_year,
  g.grade_number,
  g.grade_band,
  c.entry_date,
  c.exit_withdraw_date,
  coalesce(c.school_year = a.school_year AND c.entry_date <= a.as_of_date
           AND (c.exit_withdraw_date IS NULL OR c.exit_withdraw_date >= a.as_of_date), false) AS is_enrolled,
  d.sex,
  coalesce(d.hispanic_latino_ethnicity, false) AS hispanic_latino_ethnicity,
  r.race_group,
  coalesce(p.program_codes, []::VARCHAR[]) AS program_codes,
  coalesce(gr.group_codes, []::VARCHAR[]) AS group_codes
FROM refined.students st
LEFT JOIN cur c ON c.tenant = st.tenant AND c.student_key = st.student_key AND c.k = 1
LEFT JOIN marts.bld_descriptor_values g ON g.descriptor_type = 'GradeLevelDescriptor' AND g.descriptor_value = c.entry_grade_level_descriptor
LEFT JOIN marts.bld_as_of a ON a.tenant = st.tenant
LEFT JOIN demo d ON d.tenant = st.tenant AND d.student_key = st.student_key
LEFT JOIN marts.bld_student_race_group r ON r.tenant = st.tenant AND r.student_key = st.student_key
LEFT JOIN programs p ON p.tenant = st.tenant AND p.student_key = st.student_key
LEFT JOIN groups gr ON gr.tenant = st.tenant AND gr.student_key = st.student_key
