-- Macros shared by every model. The key macro edlake_key(tenant, [part, ...]) is defined once, in
-- pipeline/keys.ts (EDLAKE_KEY_MACRO, decision 0001), and created by the runner before this file.

-- The code value of a descriptor, without its namespace:
--   'uri://ed-fi.org/AttendanceEventCategoryDescriptor#Tardy'                      -> 'Tardy'
--   'http://ed-fi.org/Descriptor/AttendanceEventCategoryDescriptor.xml/Tardy'       -> 'Tardy'  (Ed-Fi 2.x)
--   'T'                                                                             -> 'T'
CREATE OR REPLACE MACRO edlake_code(v) AS trim(CASE
  WHEN strpos(v, '#') > 0 THEN substr(v, strpos(v, '#') + 1)
  WHEN regexp_matches(v, '^https?://.*\.xml/') THEN regexp_extract(v, '^https?://.*?\.xml/(.*)$', 1)
  ELSE v END);

-- The namespace of a descriptor, or NULL for a bare code.
CREATE OR REPLACE MACRO edlake_ns(v) AS CASE
  WHEN strpos(v, '#') > 0 THEN trim(substr(v, 1, strpos(v, '#') - 1))
  WHEN regexp_matches(v, '^https?://.*\.xml/') THEN regexp_extract(v, '^(https?://.*?\.xml)/', 1)
  ELSE NULL END;

-- A named parameter of seeds.parameters (NULL when absent; the seed loader refuses a missing one).
CREATE OR REPLACE MACRO edlake_param(p) AS (SELECT value FROM seeds.parameters WHERE parameter = p);

-- Compare a value with a seed threshold using the seed's operator ('<' or '>').
CREATE OR REPLACE MACRO edlake_cmp(v, op, t) AS CASE op WHEN '<' THEN v < t WHEN '>' THEN v > t END;

-- Standard normal cumulative distribution (Abramowitz and Stegun 7.1.26, |error| < 1.5e-7).
CREATE OR REPLACE MACRO edlake_erf(z) AS sign(z) * (1 - (
  ((((1.061405429 * (1 / (1 + 0.3275911 * abs(z))) - 1.453152027) * (1 / (1 + 0.3275911 * abs(z)))
     + 1.421413741) * (1 / (1 + 0.3275911 * abs(z))) - 0.284496736) * (1 / (1 + 0.3275911 * abs(z)))
     + 0.254829592) * (1 / (1 + 0.3275911 * abs(z)))) * exp(-z * z));
CREATE OR REPLACE MACRO edlake_norm_cdf(x) AS 0.5 * (1 + edlake_erf(x / sqrt(2)));

-- Safe ratio: NULL when the denominator is 0 or NULL.
CREATE OR REPLACE MACRO edlake_ratio(num, den) AS CASE WHEN den IS NULL OR den = 0 THEN NULL ELSE num / den END;

-- Whether x is in the chunk being built. A model declared with `chunks:` in its metadata is built one
-- range of an integer column at a time (decision 0207); the runner sets the two variables for each
-- range and resets them after the model. The project refuses a model that calls this macro without
-- declaring chunks (outside a chunked build the range is not set and nothing would be selected).
CREATE OR REPLACE MACRO edlake_in_chunk(x) AS x >= getvariable('edlake_chunk_from') AND x < getvariable('edlake_chunk_to');
