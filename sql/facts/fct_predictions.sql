-- One row per student and subject with an interim result this school year that can be put on the
-- state scale: the predicted end-of-year state scale score, its standard error, the predicted
-- achievement level and the probability of reaching Standard Met (decision 0202).
--   interim estimate = latest interim on the state scale + growth_per_year x (share of the year still to come)
--   prior estimate   = last year's state score + growth_per_year
--   prediction       = interim estimate, or w_interim x interim estimate + (1 - w_interim) x prior estimate
-- Parameters: seeds.prediction_parameters of the active model version (seeds.prediction_models).
WITH active AS (SELECT model_version FROM seeds.prediction_models WHERE is_active),
cur AS (SELECT tenant, school_year, first_instructional_date, last_instructional_date FROM marts.bld_as_of),
latest_interim AS (
  SELECT r.tenant, r.student_key, r.subject, r.vendor, r.administration_date, r.state_scale_score, r.grade_number,
         c.first_instructional_date, c.last_instructional_date
  FROM marts.fct_assessment_results r
  JOIN cur c ON c.tenant = r.tenant AND r.school_year = c.school_year
  WHERE r.assessment_family = 'interim' AND r.state_scale_score IS NOT NULL
  QUALIFY row_number() OVER (PARTITION BY r.tenant, r.student_key, r.subject ORDER BY r.administration_date DESC, r.result_key) = 1
),
prior AS (
  SELECT r.tenant, r.student_key, r.subject, r.scale_score AS prior_scale_score
  FROM marts.fct_assessment_results r
  JOIN cur c ON c.tenant = r.tenant AND r.school_year = c.school_year - 1
  WHERE r.assessment_family = 'state' AND r.scale_score IS NOT NULL
  QUALIFY row_number() OVER (PARTITION BY r.tenant, r.student_key, r.subject ORDER BY r.administration_date DESC, r.result_key) = 1
),
met AS (SELECT assessment_family, min(level) AS met_level FROM seeds.achievement_levels WHERE is_proficient GROUP BY ALL),
base AS (
  SELECT
    i.tenant,
    i.student_key,
    i.subject,
    coalesce(s.grade_number, i.grade_number) AS grade_number,
    i.vendor AS interim_vendor,
    i.administration_date AS interim_date,
    i.state_scale_score AS interim_state_scale_score,
    p.prior_scale_score,
    greatest(0, least(1, edlake_ratio(date_diff('day', i.first_instructional_date, i.administration_date)::DOUBLE,
                                      date_diff('day', i.first_instructional_date, i.last_instructional_date)::DOUBLE))) AS year_elapsed,
    pp.model_version,
    pp.growth_per_year, pp.w_interim, pp.se_interim_only, pp.se_with_prior
  FROM latest_interim i
  LEFT JOIN marts.dim_student s ON s.tenant = i.tenant AND s.student_key = i.student_key
  LEFT JOIN prior p ON p.tenant = i.tenant AND p.student_key = i.student_key AND p.subject = i.subject
  JOIN seeds.prediction_parameters pp
    ON pp.model_version = (SELECT model_version FROM active) AND pp.subject = i.subject AND pp.grade = coalesce(s.grade_number, i.grade_number)
),
predicted AS (
  SELECT *,
    interim_state_scale_score + growth_per_year * (1 - coalesce(year_elapsed, 0)) AS interim_estimate,
    prior_scale_score + growth_per_year AS prior_estimate
  FROM base
),
scored AS (
  SELECT *,
    CASE WHEN prior_estimate IS NULL THEN interim_estimate
         ELSE w_interim * interim_estimate + (1 - w_interim) * prior_estimate END AS predicted_scale_score,
    CASE WHEN prior_estimate IS NULL THEN se_interim_only ELSE se_with_prior END AS standard_error
  FROM predicted
)
SELECT
  sc.tenant,
  sc.student_key,
  sc.subject,
  sc.grade_number,
  sc.interim_vendor,
  sc.interim_date,
  sc.interim_state_scale_score,
  sc.prior_scale_score,
  sc.year_elapsed,
  sc.predicted_scale_score,
  sc.standard_error,
  1 + len(list_filter(c.cuts, x -> x <= sc.predicted_scale_score)) AS predicted_level,
  edlake_norm_cdf((sc.predicted_scale_score - m.min_scale_score) / sc.standard_error) AS probability_met,
  sc.model_version
FROM scored sc
JOIN (SELECT subject, grade, list(min_scale_score ORDER BY level) AS cuts FROM seeds.assessment_thresholds GROUP BY ALL) c
  ON c.subject = sc.subject AND c.grade = sc.grade_number
JOIN seeds.assessment_thresholds m
  ON m.subject = sc.subject AND m.grade = sc.grade_number
 AND m.level = (SELECT met_level FROM met WHERE met.assessment_family = m.assessment_family)
