-- One row per student with marks this year: mean of the latest mark of each section, and the
-- means for mathematics and English language arts sections (early warning course indicator).
SELECT
  m.tenant,
  m.student_key,
  avg(m.mark) AS mean_course_mark,
  avg(m.mark) FILTER (WHERE m.subject = 'Math') AS math_course_mark,
  avg(m.mark) FILTER (WHERE m.subject = 'ELA') AS ela_course_mark,
  count(*) AS sections_marked
FROM marts.fct_course_marks m
WHERE m.is_latest AND m.mark IS NOT NULL
GROUP BY ALL
