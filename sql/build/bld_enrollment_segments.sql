-- The days each student was expected at a school, as runs of consecutive counted days instead of one
-- row per day (decision 0209): student (bld_student_numbers) x school (bld_calendar_days.school_num)
-- x enrollment window, cut where an overlapping enrollment takes days away. A segment covers the
-- school's counted days number first_number to last_number (bld_calendar_days, counted days numbered
-- 1, 2, ... per school and year) and is the student's days first_day_number to
-- first_day_number + days - 1 of the year, in date order across schools. The attendance measures
-- and fct_enrollment count days from the segments; only fct_student_attendance_daily expands them.
-- Where two enrollments of a student overlap on a day, the later entry (the school the student moved
-- to) keeps the day, so no student is counted twice in a day. Only students with overlapping
-- enrollments have their days expanded here, to resolve the overlap; everyone else's windows are
-- their segments as they are.
WITH schools AS (
  SELECT DISTINCT tenant, school_id, school_num FROM marts.bld_calendar_days
),
e AS (
  SELECT s.student_num, c.school_num, e.school_year, e.entry_date,
         coalesce(e.exit_withdraw_date, DATE '9999-12-31') AS until_date,
         coalesce(e.school_year = a.school_year, false) AS is_current_year
  FROM refined.student_school_associations e
  JOIN marts.bld_student_numbers s ON s.tenant = e.tenant AND s.student_key = e.student_key
  JOIN schools c ON c.tenant = e.tenant AND c.school_id = e.school_id
  LEFT JOIN marts.bld_as_of a ON a.tenant = e.tenant
),
counted AS (
  -- the counted days of each school and year, numbered 1, 2, ... in date order
  SELECT school_num, school_year, calendar_date, counted_day_number AS counted_number
  FROM marts.bld_calendar_days WHERE is_counted
),
windows AS (
  -- per enrollment: the numbers of its first and last counted day (counted days before the entry
  -- date + 1, counted days up to the exit date), found by ASOF lookups instead of expanding the days
  SELECT e.*,
         coalesce(b.counted_number, 0) + 1 AS first_number,
         coalesce(l.counted_number, 0) AS last_number
  FROM e
  ASOF LEFT JOIN counted b ON b.school_num = e.school_num AND b.school_year = e.school_year AND b.calendar_date < e.entry_date
  ASOF LEFT JOIN counted l ON l.school_num = e.school_num AND l.school_year = e.school_year AND l.calendar_date <= e.until_date
),
overlapping AS (
  SELECT DISTINCT a.student_num
  FROM e a
  JOIN e b ON b.student_num = a.student_num
   AND (b.entry_date > a.entry_date OR (b.entry_date = a.entry_date AND b.school_num > a.school_num))
   AND b.entry_date <= a.until_date AND a.entry_date <= b.until_date
),
whole AS (
  -- students without overlapping windows: each window with counted days is one segment; the days of
  -- the student's earlier windows of the year come before it (the windows do not overlap, so entry
  -- order is date order)
  SELECT w.student_num, w.school_num, w.school_year, w.entry_date, w.is_current_year,
         w.first_number, w.last_number,
         (coalesce(sum(w.last_number - w.first_number + 1) OVER (
            PARTITION BY w.student_num, w.school_year ORDER BY w.entry_date, w.school_num
            ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) + 1)::INTEGER AS first_day_number
  FROM windows w
  WHERE w.last_number >= w.first_number
    AND w.student_num NOT IN (SELECT student_num FROM overlapping)
),
overlap_days AS (
  -- a student whose windows overlap: every counted day of every window, the later entry keeping a
  -- day (on the same entry date the lower school_id: school_num follows school_id's order within a
  -- tenant), then numbered in date order
  SELECT *, (row_number() OVER (PARTITION BY student_num, school_year ORDER BY calendar_date))::INTEGER AS day_number
  FROM (
    SELECT w.student_num, w.school_num, w.school_year, w.entry_date, w.is_current_year,
           c.counted_number, c.calendar_date
    FROM windows w
    JOIN counted c ON c.school_num = w.school_num AND c.school_year = w.school_year
     AND c.counted_number BETWEEN w.first_number AND w.last_number
    WHERE w.student_num IN (SELECT student_num FROM overlapping)
    QUALIFY row_number() OVER (PARTITION BY w.student_num, c.calendar_date ORDER BY w.entry_date DESC, w.school_num) = 1
  )
),
split AS (
  -- ... and cut back into runs: a run is a stretch of a window's kept days whose counted numbers and
  -- day numbers both go up by one from day to day (another school's day can come between two of
  -- the school's counted days, and the other school can take some of them); each numbering minus
  -- the day's rank in the window is constant along a run and changes at every gap of that numbering
  SELECT student_num, school_num, school_year, entry_date, any_value(is_current_year) AS is_current_year,
         min(counted_number) AS first_number, max(counted_number) AS last_number,
         min(day_number) AS first_day_number
  FROM (
    SELECT *, row_number() OVER (PARTITION BY student_num, school_num, school_year, entry_date ORDER BY counted_number) AS rank_in_window
    FROM overlap_days
  )
  GROUP BY student_num, school_num, school_year, entry_date, counted_number - rank_in_window, day_number - rank_in_window
),
segments AS (
  SELECT * FROM whole
  UNION ALL
  SELECT * FROM split
)
SELECT s.student_num, s.school_num, s.school_year, s.entry_date, s.is_current_year,
       s.first_number, s.last_number, s.first_day_number,
       (s.last_number - s.first_number + 1)::INTEGER AS days,
       f.calendar_date AS first_date, l.calendar_date AS last_date
FROM segments s
JOIN counted f ON f.school_num = s.school_num AND f.school_year = s.school_year AND f.counted_number = s.first_number
JOIN counted l ON l.school_num = s.school_num AND l.school_year = s.school_year AND l.counted_number = s.last_number
