/**
 * Student: keyed; grade, school, groups and programs, attendance summary, risk profile, results,
 * predictions, sections. The name is joined from the identity store only for teachers and principals,
 * and only for their own students; any other role asking for it gets FORBIDDEN.
 */
import { groupsByStudent, studentByKey, STUDENT_ORDER } from '../resolvers/students.ts';
import { schoolByKey } from '../resolvers/schools.ts';
import { sectionsByStudent } from '../resolvers/sections.ts';
import { predictionsByStudent, resultsByStudent } from '../resolvers/assessments.ts';
import { chronicByStudent, wellbeingByStudent } from '../resolvers/views.ts';
import { builder } from './builder.ts';
import { ChronicRef, nodeId, parseNodeId, PredictionRef, ResultRef, SchoolRef, SectionRef, StudentRef, WellbeingRef, wrap, wrapOne } from './refs.ts';

export const StudentOrderEnum = builder.enumType('StudentOrder', {
  values: Object.keys(STUDENT_ORDER) as Array<keyof typeof STUDENT_ORDER>,
});

export const StudentFilterInput = builder.inputType('StudentFilter', {
  fields: (t) => ({
    schoolKey: t.id({ required: false }),
    sectionKey: t.id({ required: false }),
    gradeLevel: t.int({ required: false }),
    tier: t.string({ required: false, description: 'Attendance Works tier (satisfactory, at_risk, moderate_chronic, severe_chronic).' }),
    riskTier: t.string({ required: false, description: 'Tier of the composite wellbeing risk score.' }),
    studentGroup: t.string({ required: false }),
  }),
});

export const PersonNameRef = builder
  .objectRef<{ firstName: string | null; lastName: string | null }>('PersonName')
  .implement({
    fields: (t) => ({
      firstName: t.string({ nullable: true, resolve: (n) => n.firstName }),
      lastName: t.string({ nullable: true, resolve: (n) => n.lastName }),
    }),
  });

builder.node(StudentRef, {
  description: 'A student (keyed), as published in one snapshot.',
  id: { resolve: (s) => nodeId(s.d, s.row.student_key) },
  loadOne: async (id, ctx) => {
    const { snapshotId, key } = parseNodeId(id);
    const d = await ctx.data.byId(snapshotId);
    return wrapOne(d, await studentByKey(d).load(key));
  },
  fields: (t) => ({
    tenant: t.string({
      nullable: true,
      description: 'Tenant (district) the student belongs to (that of their school).',
      resolve: async (s) => s.row.tenant ?? (await schoolByKey(s.d).load(s.row.school_key))?.tenant ?? null,
    }),
    key: t.id({ description: 'Student key (keyed hash; not reversible without the identity store).', resolve: (s) => s.row.student_key }),
    gradeLevel: t.int({ nullable: true, description: 'Numeric grade (-2 PK, -1 TK, 0 K, 1-12).', resolve: (s) => s.row.grade_level }),
    gradeBand: t.string({ nullable: true, resolve: (s) => s.row.grade_band }),
    school: t.field({ type: SchoolRef, nullable: true, resolve: async (s) => wrapOne(s.d, await schoolByKey(s.d).load(s.row.school_key)) }),
    studentGroups: t.stringList({ resolve: (s) => groupsByStudent(s.d).load(s.row.student_key) }),
    name: t.field({
      type: PersonNameRef,
      nullable: true,
      authScopes: { namesInScope: true },
      description: 'Name from the identity store: teachers (their current sections) and principals (their schools) only.',
      resolve: (s) => s.d.req.names().load(s.row.student_key),
    }),
    attendance: t.field({
      type: ChronicRef,
      nullable: true,
      description: 'Attendance summary and chronic absenteeism risk.',
      resolve: async (s) => wrapOne(s.d, await chronicByStudent(s.d).load(s.row.student_key)),
    }),
    riskProfile: t.field({
      type: WellbeingRef,
      nullable: true,
      resolve: async (s) => wrapOne(s.d, await wellbeingByStudent(s.d).load(s.row.student_key)),
    }),
    assessmentResults: t.field({
      type: [ResultRef],
      resolve: async (s) => wrap(s.d, await resultsByStudent(s.d).load(s.row.student_key)),
    }),
    predictions: t.field({
      type: [PredictionRef],
      resolve: async (s) => wrap(s.d, await predictionsByStudent(s.d).load(s.row.student_key)),
    }),
    sections: t.field({
      type: [SectionRef],
      description: 'Active sections of the student that the caller may see.',
      resolve: async (s) => wrap(s.d, await sectionsByStudent(s.d).load(s.row.student_key)),
    }),
  }),
});
