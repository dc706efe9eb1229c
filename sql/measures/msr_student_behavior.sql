-- One row per student of the current school year: state-reportable and code-of-conduct offenses
-- and suspensions during the year (early warning behavior indicator; equity suspension rate).
WITH years AS (SELECT tenant, first_instructional_date, last_instructional_date FROM marts.bld_as_of),
beh AS (
  SELECT b.tenant, b.student_key,
         count(*) FILTER (WHERE b.behavior_type = 'state_reportable') AS state_offenses,
         count(*) FILTER (WHERE b.behavior_type = 'conduct') AS conduct_offenses
  FROM marts.fct_discipline_behaviors b JOIN years y ON y.tenant = b.tenant
  WHERE b.incident_date IS NULL OR b.incident_date BETWEEN y.first_instructional_date AND y.last_instructional_date
  GROUP BY ALL
),
act AS (
  SELECT x.tenant, x.student_key,
         count(*) FILTER (WHERE x.action_type = 'suspension') AS suspensions,
         count(*) FILTER (WHERE x.action_type = 'expulsion') AS expulsions
  FROM marts.fct_discipline_actions x JOIN years y ON y.tenant = x.tenant
  WHERE x.discipline_date BETWEEN y.first_instructional_date AND y.last_instructional_date
  GROUP BY ALL
)
SELECT
  coalesce(b.tenant, a.tenant) AS tenant,
  coalesce(b.student_key, a.student_key) AS student_key,
  coalesce(b.state_offenses, 0) AS state_offenses,
  coalesce(b.conduct_offenses, 0) AS conduct_offenses,
  coalesce(a.suspensions, 0) AS suspensions,
  coalesce(a.expulsions, 0) AS expulsions
FROM beh b FULL JOIN act a ON a.tenant = b.tenant AND a.student_key = b.student_key
