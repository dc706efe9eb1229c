/** Section: a class, with its school, teachers (keyed), roster and comparison row, in scope. */
import { schoolByKey } from '../resolvers/schools.ts';
import { sectionByKey, SECTION_ORDER, staffBySection, teachersBySection, type SectionStaffRow } from '../resolvers/sections.ts';
import { studentsBySection } from '../resolvers/students.ts';
import { staffByKey, type StaffRow } from '../resolvers/staff.ts';
import { listComparison } from '../resolvers/views.ts';
import { builder } from './builder.ts';
import { ComparisonRef, nodeId, parseNodeId, SchoolRef, SectionRef, StaffRef, StudentRef, wrap, wrapOne, type In } from './refs.ts';

const SectionStaffRef = builder.objectRef<In<SectionStaffRow>>('SectionStaff').implement({
  description: 'A staff member’s active association with a section (staffSectionAssociation). Staff are keyed: no name is served.',
  fields: (t) => ({
    staffKey: t.id({ resolve: (a) => a.row.staff_key }),
    staff: t.field({ type: StaffRef, nullable: true, resolve: async (a) => wrapOne(a.d, await staffByKey(a.d).load(a.row.staff_key)) }),
    classroomPosition: t.string({ nullable: true, description: 'ClassroomPositionDescriptor code (Teacher of Record, Assistant Teacher, ...), as delivered.', resolve: (a) => a.row.classroom_position }),
    teacherOfRecord: t.boolean({ description: 'The section’s teacher of record (dim_section).', resolve: (a) => a.row.teacher_of_record }),
    beginDate: t.field({ type: 'Date', nullable: true, resolve: (a) => a.row.begin_date }),
    endDate: t.field({ type: 'Date', nullable: true, resolve: (a) => a.row.end_date }),
  }),
});

export const SectionOrderEnum = builder.enumType('SectionOrder', {
  values: Object.keys(SECTION_ORDER) as Array<keyof typeof SECTION_ORDER>,
});

export const SectionFilterInput = builder.inputType('SectionFilter', {
  fields: (t) => ({
    schoolKey: t.id({ required: false }),
    subject: t.string({ required: false }),
    courseCode: t.string({ required: false }),
    schoolYear: t.int({ required: false }),
  }),
});

builder.node(SectionRef, {
  description: 'A section (class) of a course, as published in one snapshot.',
  id: { resolve: (s) => nodeId(s.d, s.row.section_key) },
  loadOne: async (id, ctx) => {
    const { snapshotId, key } = parseNodeId(id);
    const d = await ctx.data.byId(snapshotId);
    return wrapOne(d, await sectionByKey(d).load(key));
  },
  fields: (t) => ({
    tenant: t.string({ description: 'Tenant (district) the row belongs to.', resolve: (s) => s.row.tenant }),
    key: t.id({ resolve: (s) => s.row.section_key }),
    courseCode: t.string({ resolve: (s) => s.row.course_code }),
    courseTitle: t.string({ nullable: true, resolve: (s) => s.row.course_title }),
    subject: t.string({ nullable: true, resolve: (s) => s.row.subject }),
    sectionIdentifier: t.string({ resolve: (s) => s.row.section_identifier }),
    sessionName: t.string({ nullable: true, resolve: (s) => s.row.session_name }),
    schoolYear: t.int({ nullable: true, resolve: (s) => s.row.school_year }),
    school: t.field({
      type: SchoolRef,
      nullable: true,
      resolve: async (s) => wrapOne(s.d, await schoolByKey(s.d).load(s.row.school_key)),
    }),
    teachers: t.field({
      type: [StaffRef],
      description: 'Every staff member with an active association with the section, teacher of record first (keyed). Positions: staffAssociations.',
      resolve: async (s) => {
        const keys = await teachersBySection(s.d).load(s.row.section_key);
        const rows = await staffByKey(s.d).loadMany(keys);
        const found: StaffRow[] = [];
        for (const r of rows) if (r !== null && !(r instanceof Error)) found.push(r);
        return wrap(s.d, found);
      },
    }),
    staffAssociations: t.field({
      type: [SectionStaffRef],
      description: 'Active staff-section associations (as of the snapshot’s data-through date), with each staff member’s classroom position.',
      resolve: async (s) => wrap(s.d, await staffBySection(s.d).load(s.row.section_key)),
    }),
    students: t.field({
      type: [StudentRef],
      description: 'The section roster: its active students as of the snapshot’s data-through date.',
      resolve: async (s) => wrap(s.d, await studentsBySection(s.d).load(s.row.section_key)),
    }),
    comparison: t.field({
      type: ComparisonRef,
      nullable: true,
      description: 'The section beside the mean of the other sections of its course.',
      resolve: async (s) => {
        const row = (await s.d.loader('comparisonBySection', async (keys) => {
          const rows = await listComparison(s.d, { sectionKeys: keys });
          const m = new Map(rows.map((r) => [r.section_key, r]));
          return keys.map((k) => m.get(k) ?? null);
        }).load(s.row.section_key)) as Awaited<ReturnType<typeof listComparison>>[number] | null;
        return wrapOne(s.d, row);
      },
    }),
  }),
});
