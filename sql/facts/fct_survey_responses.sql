-- One row per student survey response and scale: the mean of the answered items of the scale.
SELECT
  r.tenant,
  r.student_key,
  r.survey_identifier,
  r.survey_response_identifier,
  min(r.response_date) AS response_date,
  d.logical_value AS scale,
  avg(r.numeric_response) AS scale_mean,
  count(r.numeric_response) AS items_answered
FROM refined.survey_question_responses r
JOIN marts.bld_descriptor_values d ON d.descriptor_type = 'SurveySectionTitle' AND d.descriptor_value = r.survey_section_title AND d.is_mapped
GROUP BY r.tenant, r.student_key, r.survey_identifier, r.survey_response_identifier, d.logical_value
