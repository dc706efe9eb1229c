-- A dense INTEGER number for every enrolled student (decision 0203): the student-day models
-- (bld_enrollment_segments, bld_attendance_event_days and what reads them) join, sort and group on it instead of the 64-character
-- keyed hash, which is carried again only where a model publishes it.
SELECT tenant, student_key, (row_number() OVER (ORDER BY tenant, student_key))::INTEGER AS student_num
FROM (SELECT DISTINCT tenant, student_key FROM refined.student_school_associations)
