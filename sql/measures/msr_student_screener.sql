-- One row per screened student: the risk of the latest behavioral screener result.
SELECT tenant, student_key, administration_date AS screened_on, screener_risk
FROM marts.fct_assessment_results
WHERE assessment_family = 'screener' AND screener_risk IS NOT NULL
QUALIFY row_number() OVER (PARTITION BY tenant, student_key ORDER BY administration_date DESC, result_key) = 1
