-- One row per student and LMS assignment: the submission status (on time, late, missing) mapped
-- through seeds.descriptor_map, with the SIS section the LMS section teaches.
SELECT
  s.tenant,
  s.student_key,
  s.assignment_id,
  a.lms_section_id,
  ls.section_key,
  a.due_date_time,
  s.submission_date_time,
  d.logical_value AS submission_status,
  d.logical_value IN ('on_time', 'late') AS is_submitted,
  d.logical_value = 'on_time' AS is_on_time,
  s.earned_points,
  a.max_points
FROM refined.lms_submissions s
LEFT JOIN refined.lms_assignments a ON a.tenant = s.tenant AND a.assignment_id = s.assignment_id
LEFT JOIN refined.lms_sections ls ON ls.tenant = a.tenant AND ls.lms_section_id = a.lms_section_id
LEFT JOIN marts.bld_descriptor_values d ON d.descriptor_type = 'SubmissionStatusDescriptor' AND d.descriptor_value = s.submission_status_descriptor
