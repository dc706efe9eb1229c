-- One row per student who answered the well-being survey: the scale means of the student's
-- latest response (latest response date).
WITH latest AS (
  SELECT tenant, student_key, survey_response_identifier
  FROM marts.fct_survey_responses
  QUALIFY row_number() OVER (PARTITION BY tenant, student_key ORDER BY response_date DESC, survey_response_identifier DESC) = 1
)
SELECT
  r.tenant,
  r.student_key,
  min(r.response_date) AS response_date,
  avg(r.scale_mean) FILTER (WHERE r.scale = 'belonging') AS belonging,
  avg(r.scale_mean) FILTER (WHERE r.scale = 'safety') AS safety,
  avg(r.scale_mean) FILTER (WHERE r.scale = 'wellbeing') AS wellbeing,
  avg(r.scale_mean) FILTER (WHERE r.scale = 'engagement') AS engagement
FROM marts.fct_survey_responses r
JOIN latest l ON l.tenant = r.tenant AND l.student_key = r.student_key AND l.survey_response_identifier = r.survey_response_identifier
GROUP BY ALL
