/**
 * Canvas data in the Ed-Fi LMS Unifying Data Model CSV layout (LMS Toolkit): users, sections,
 * section associations (students and teachers enrolled in LMS sections), assignments, submissions. Canvas names students by its own user id; the
 * users file links that id to the SIS ID, and the link is kept in the identity store (id type
 * `lms`), so that submissions are recognised against the roster like any vendor file.
 */
import type { SourceDefinition } from './types.ts';

const common = { SourceSystemIdentifier: [], SourceSystem: [], CreateDate: [], LastModifiedDate: [] } as const;

/** The staff member whose Canvas user id a row names (registered from the users files). */
const STAFF_LMS_ID = `SELECT p.person_key FROM identity.person_ids p WHERE p.tenant = {tenant} AND p.kind = 'staff' AND p.id_type = 'lms' AND p.id_value = lower({LMSUserSourceSystemIdentifier})`;

export const canvas: SourceDefinition = {
  name: 'canvas',
  description: 'Canvas LMS data in the Ed-Fi LMS Unifying Data Model CSV layout.',
  layouts: [
    {
      id: 'canvas.users',
      emptyAllowed: true,
      description: 'LMS users: links the Canvas user id to the SIS ID; names and e-mail go to the identity store only.',
      format: 'csv',
      delimiter: ',',
      phase: 2,
      identify: ['SourceSystemIdentifier', 'UserRole', 'SISUserIdentifier', 'EmailAddress'],
      columns: { ...common, UserRole: [], LocalUserIdentifier: [], SISUserIdentifier: [], Name: [], EmailAddress: [] },
      mappings: [],
      identity: [
        {
          kind: 'student',
          where: `lower({UserRole}) = 'student'`,
          id: 'SISUserIdentifier',
          otherIds: [['lms', 'SourceSystemIdentifier']],
          fullName: 'Name',
          email: 'EmailAddress',
          defines: false,
        },
        {
          kind: 'staff',
          where: `lower({UserRole}) <> 'student'`,
          id: 'SISUserIdentifier',
          otherIds: [['lms', 'SourceSystemIdentifier']],
          fullName: 'Name',
          email: 'EmailAddress',
          defines: false,
        },
      ],
    },
    {
      id: 'canvas.sections',
      description: 'LMS sections, linked to SIS sections by SISSectionIdentifier.',
      format: 'csv',
      delimiter: ',',
      phase: 2,
      identify: ['SourceSystemIdentifier', 'SISSectionIdentifier', 'Title', 'LMSSectionStatus'],
      columns: { ...common, SISSectionIdentifier: [], Title: [], SectionDescription: [], Term: [], LMSSectionStatus: [] },
      mappings: [
        {
          entity: 'lms_sections',
          fields: { lms_section_id: 'SourceSystemIdentifier', section_key: { sectionOf: 'SISSectionIdentifier' }, title: 'Title', source_system: 'SourceSystem' },
        },
      ],
    },
    {
      id: 'canvas.section_associations',
      emptyAllowed: true,
      description: 'LMS section enrollments.',
      format: 'csv',
      delimiter: ',',
      phase: 2,
      identify: ['SourceSystemIdentifier', 'EnrollmentStatus', 'LMSUserSourceSystemIdentifier', 'LMSSectionSourceSystemIdentifier'],
      columns: { ...common, EnrollmentStatus: [], LMSUserSourceSystemIdentifier: [], LMSSectionSourceSystemIdentifier: [] },
      // Students are recognised like in submissions (Canvas user id → SIS ID through the users files);
      // teachers' Canvas ids are registered by the users files too (staff, id type lms).
      student: { candidates: ['LMSUserSourceSystemIdentifier'], idTypes: ['lms', 'local', 'state'] },
      mappings: [
        {
          entity: 'lms_section_associations',
          where: `NOT EXISTS (${STAFF_LMS_ID}) OR {LMSUserSourceSystemIdentifier} IS NULL`,
          fields: {
            lms_section_association_id: 'SourceSystemIdentifier',
            lms_section_id: 'LMSSectionSourceSystemIdentifier',
            student_key: { student: 'LMSUserSourceSystemIdentifier' },
            enrollment_status: 'EnrollmentStatus',
            source_system: 'SourceSystem',
          },
          checks: [{ column: 'LMSUserSourceSystemIdentifier', rule: 'missing_required', sql: '{value} IS NOT NULL', description: 'An enrollment names its LMS user.' }],
        },
        {
          entity: 'lms_section_associations',
          where: `EXISTS (${STAFF_LMS_ID})`,
          fields: {
            lms_section_association_id: 'SourceSystemIdentifier',
            lms_section_id: 'LMSSectionSourceSystemIdentifier',
            staff_key: { sql: `SELECT min(p.person_key) FROM (${STAFF_LMS_ID}) p` },
            enrollment_status: 'EnrollmentStatus',
            source_system: 'SourceSystem',
          },
        },
      ],
    },
    {
      id: 'canvas.assignments',
      emptyAllowed: true,
      description: 'Assignments of LMS sections.',
      format: 'csv',
      delimiter: ',',
      phase: 3,
      identify: ['SourceSystemIdentifier', 'Title', 'DueDateTime', 'LMSSectionSourceSystemIdentifier'],
      columns: {
        ...common,
        Title: [],
        AssignmentCategory: [],
        AssignmentDescription: [],
        StartDateTime: [],
        EndDateTime: [],
        DueDateTime: [],
        SubmissionType: [],
        MaxPoints: [],
        LMSSectionSourceSystemIdentifier: [],
      },
      mappings: [
        {
          entity: 'lms_assignments',
          fields: { assignment_id: 'SourceSystemIdentifier', lms_section_id: 'LMSSectionSourceSystemIdentifier', title: 'Title', due_date_time: 'DueDateTime', max_points: 'MaxPoints' },
        },
      ],
    },
    {
      id: 'canvas.submissions',
      emptyAllowed: true,
      description: 'Submissions (on time, late, missing) of assignments by students.',
      format: 'csv',
      delimiter: ',',
      phase: 3,
      identify: ['SourceSystemIdentifier', 'SubmissionStatus', 'AssignmentSourceSystemIdentifier', 'LMSUserSourceSystemIdentifier'],
      columns: { ...common, SubmissionStatus: [], SubmissionDateTime: [], EarnedPoints: [], Grade: [], AssignmentSourceSystemIdentifier: [], LMSUserSourceSystemIdentifier: [] },
      student: { candidates: ['LMSUserSourceSystemIdentifier'], idTypes: ['lms', 'local', 'state'] },
      mappings: [
        {
          entity: 'lms_submissions',
          fields: {
            student_key: { student: 'LMSUserSourceSystemIdentifier' },
            assignment_id: 'AssignmentSourceSystemIdentifier',
            submission_status_descriptor: 'SubmissionStatus',
            submission_date_time: 'SubmissionDateTime',
            earned_points: 'EarnedPoints',
          },
          checks: [
            {
              field: 'earned_points',
              rule: 'out_of_range',
              sql: `TRY_CAST({value} AS DOUBLE) IS NULL OR TRY_CAST({value} AS DOUBLE) <= greatest(100, coalesce((SELECT max(a.max_points) FROM refined.lms_assignments a WHERE a.tenant = {tenant} AND a.assignment_id = s.assignment_id), 0))`,
              description: 'Points earned are at most 100, or the assignment’s points possible when it allows more (extra credit within 100 is accepted).',
            },
          ],
        },
      ],
    },
  ],
};
