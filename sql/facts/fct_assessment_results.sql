-- One row per student assessment administration: state tests (CAASPP), interim assessments (CERS
-- ICA/IAB, NWEA MAP, i-Ready, Star) and screeners. Every interim result is also put on the state
-- scale with the active model version's linking parameters (seeds.interim_linking, by vendor,
-- subject, grade and testing window; a window-specific row wins over an any-window one); achievement
-- levels on the state scale come from seeds.assessment_thresholds by subject and grade.
WITH active AS (SELECT model_version FROM seeds.prediction_models WHERE is_active),
-- the active version's links; joined on equalities only (a condition on one side of a LEFT JOIN,
-- such as the assessment family, made DuckDB compare every result with every link: a nested loop)
links AS (SELECT * FROM seeds.interim_linking WHERE model_version = (SELECT model_version FROM active)),
enrolled_grade AS (
  SELECT e.tenant, e.student_key, e.school_year, g.grade_number
  FROM refined.student_school_associations e
  JOIN marts.bld_descriptor_values g ON g.descriptor_type = 'GradeLevelDescriptor' AND g.descriptor_value = e.entry_grade_level_descriptor
  QUALIFY row_number() OVER (PARTITION BY e.tenant, e.student_key, e.school_year ORDER BY e.entry_date DESC) = 1
),
base AS (
  SELECT
    sa.tenant,
    edlake_key(sa.tenant, [sa.assessment_identifier, sa.namespace, sa.student_assessment_identifier, sa.student_key]) AS result_key,
    sa.student_key,
    sa.assessment_identifier,
    a.assessment_family,
    a.vendor,
    subj.logical_value AS subject,
    sa.administration_date,
    sa.school_year,
    sa.testing_window,
    coalesce(g.grade_number, eg.grade_number) AS grade_number,
    CASE WHEN sa.school_id IS NOT NULL THEN edlake_key(sa.tenant, [sa.school_id]) END AS school_key,
    sa.scale_score,
    sa.scale_score_sem,
    sa.percentile,
    pl.logical_value AS screener_risk,
    -- join keys that are NULL (match nothing) unless the result is an interim one
    CASE WHEN a.assessment_family = 'interim' THEN lower(a.vendor) END AS link_vendor
  FROM refined.student_assessments sa
  JOIN refined.assessments a ON a.tenant = sa.tenant AND a.assessment_identifier = sa.assessment_identifier AND a.namespace = sa.namespace
  LEFT JOIN marts.bld_descriptor_values subj ON subj.descriptor_type = 'AcademicSubjectDescriptor' AND subj.descriptor_value = a.academic_subject_descriptor
  LEFT JOIN marts.bld_descriptor_values g ON g.descriptor_type = 'GradeLevelDescriptor' AND g.descriptor_value = sa.when_assessed_grade_level_descriptor
  LEFT JOIN enrolled_grade eg ON eg.tenant = sa.tenant AND eg.student_key = sa.student_key AND eg.school_year = sa.school_year
  LEFT JOIN marts.bld_descriptor_values pl
    ON pl.descriptor_type = 'PerformanceLevelDescriptor'
   AND pl.descriptor_value = CASE WHEN a.assessment_family = 'screener' THEN sa.performance_level_descriptor END
),
linked AS (
  -- a window-specific link wins over the any-window one
  SELECT b.* EXCLUDE (link_vendor),
    CASE
      WHEN b.assessment_family = 'state' THEN b.scale_score
      WHEN b.assessment_family = 'interim' AND coalesce(lw.method, la.method) = 'identity' THEN b.scale_score
      WHEN b.assessment_family = 'interim' THEN coalesce(lw.slope, la.slope) * b.scale_score + coalesce(lw.intercept, la.intercept)
    END AS state_scale_score,
    CASE WHEN b.assessment_family = 'interim' THEN coalesce(lw.model_version, la.model_version) END AS linking_model_version
  FROM base b
  LEFT JOIN links lw
    ON lw.vendor = b.link_vendor AND lw.subject = b.subject AND lw.grade = b.grade_number AND lw.testing_window = b.testing_window
  LEFT JOIN (SELECT * FROM links WHERE testing_window IS NULL) la
    ON la.vendor = b.link_vendor AND la.subject = b.subject AND la.grade = b.grade_number
),
cuts AS (
  SELECT assessment_family, subject, grade, list(min_scale_score ORDER BY level) AS cuts
  FROM seeds.assessment_thresholds GROUP BY ALL
),
leveled AS (
  SELECT
    l.*,
    c.assessment_family AS threshold_family,
    CASE WHEN l.state_scale_score IS NOT NULL AND c.cuts IS NOT NULL
         THEN 1 + len(list_filter(c.cuts, x -> x <= l.state_scale_score)) END AS achievement_level
  FROM linked l
  LEFT JOIN cuts c ON c.subject = l.subject AND c.grade = l.grade_number
)
SELECT
  v.* EXCLUDE (threshold_family),
  al.is_proficient
FROM leveled v
LEFT JOIN seeds.achievement_levels al ON al.assessment_family = v.threshold_family AND al.level = v.achievement_level
