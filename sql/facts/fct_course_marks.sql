-- One row per student, section and grading period: the mark as a number (the numeric grade, else
-- the letter through seeds.letter_grades), the period's order in the year, and whether it is the
-- student's latest mark in the section (the mark that counts).
WITH marks AS (
  SELECT
    g.tenant,
    g.student_key,
    g.section_key,
    edlake_code(g.grading_period_descriptor) AS grading_period,
    TRY_CAST(gp.logical_value AS INTEGER) AS period_order,
    edlake_code(g.grade_type_descriptor) AS grade_type,
    g.letter_grade_earned,
    coalesce(g.numeric_grade_earned, lg.grade_points) AS mark
  FROM refined.grades g
  LEFT JOIN marts.bld_descriptor_values gp ON gp.descriptor_type = 'GradingPeriodDescriptor' AND gp.descriptor_value = g.grading_period_descriptor
  LEFT JOIN seeds.letter_grades lg ON lower(lg.letter) = lower(trim(g.letter_grade_earned))
)
SELECT
  m.*,
  s.subject,
  s.course_key,
  s.school_key,
  row_number() OVER (PARTITION BY m.tenant, m.student_key, m.section_key
                     ORDER BY m.period_order DESC NULLS LAST, m.grading_period DESC, m.grade_type DESC) = 1 AS is_latest
FROM marks m
LEFT JOIN marts.dim_section s ON s.tenant = m.tenant AND s.section_key = m.section_key
