/** Aggregates for integrators: counts and rates by school, grade and student group, computed in DuckDB. */
import { attendanceAggregate, proficiencyAggregate, type Dimension, type ProficiencyAggregateRow } from '../resolvers/aggregates.ts';
import { schoolByKey } from '../resolvers/schools.ts';
import { builder } from './builder.ts';
import { AttendanceAggregateRef, PublishedRef, SchoolRef, wrap, wrapOne, type In } from './refs.ts';

const DimensionEnum = builder.enumType('AggregateDimension', {
  values: ['SCHOOL', 'GRADE', 'STUDENT_GROUP'] as const,
});

const AggregateFilter = builder.inputType('AggregateFilter', {
  fields: (t) => ({
    schoolKey: t.id({ required: false }),
    gradeLevel: t.int({ required: false }),
    studentGroup: t.string({ required: false }),
  }),
});

AttendanceAggregateRef.implement({
  description: 'Attendance of a group of the caller’s students. Groups of 10 students or fewer are suppressed for the roles that suppress.',
  fields: (t) => ({
    school: t.field({ type: SchoolRef, nullable: true, resolve: async (a) => (a.row.school_key === null ? null : wrapOne(a.d, await schoolByKey(a.d).load(a.row.school_key))) }),
    schoolKey: t.id({ nullable: true, resolve: (a) => a.row.school_key }),
    gradeLevel: t.int({ nullable: true, resolve: (a) => a.row.grade_level }),
    studentGroup: t.string({ nullable: true, resolve: (a) => a.row.student_group }),
    students: t.field({ type: 'NonNegativeInt', resolve: (a) => a.row.students }),
    suppressed: t.boolean({ resolve: (a) => a.row.suppressed }),
    chronicStudents: t.field({ type: 'NonNegativeInt', nullable: true, resolve: (a) => a.row.chronic_students }),
    chronicAbsenceRate: t.float({ nullable: true, resolve: (a) => a.row.chronic_absence_rate }),
    attendanceRate: t.float({ nullable: true, resolve: (a) => a.row.attendance_rate }),
  }),
});

const ProficiencyAggregateRef = builder.objectRef<In<ProficiencyAggregateRow>>('ProficiencyAggregate').implement({
  description: 'State-test proficiency (Met or Exceeded) of a group of the caller’s students: latest state result of the year per student. Groups of 10 or fewer suppressed for the roles that suppress.',
  fields: (t) => ({
    school: t.field({ type: SchoolRef, nullable: true, resolve: async (a) => (a.row.school_key === null ? null : wrapOne(a.d, await schoolByKey(a.d).load(a.row.school_key))) }),
    schoolKey: t.id({ nullable: true, resolve: (a) => a.row.school_key }),
    gradeLevel: t.int({ nullable: true, resolve: (a) => a.row.grade_level }),
    studentGroup: t.string({ nullable: true, resolve: (a) => a.row.student_group }),
    tested: t.field({ type: 'NonNegativeInt', resolve: (a) => a.row.tested }),
    suppressed: t.boolean({ resolve: (a) => a.row.suppressed }),
    proficient: t.field({ type: 'NonNegativeInt', nullable: true, resolve: (a) => a.row.proficient }),
    proficiencyRate: t.float({ nullable: true, resolve: (a) => a.row.proficiency_rate }),
    meanScaleScore: t.float({ nullable: true, resolve: (a) => a.row.mean_scale_score }),
  }),
});

builder.objectFields(PublishedRef, (t) => ({
  proficiencySummary: t.field({
    type: [ProficiencyAggregateRef],
    args: {
      subject: t.arg.string({ required: true, description: 'ELA or Math.' }),
      schoolYear: t.arg.int({ required: false, description: 'Default: the latest year with state results in the subject.' }),
      groupBy: t.arg({ type: [DimensionEnum], required: true }),
      filter: t.arg({ type: AggregateFilter, required: false }),
    },
    resolve: async (d, args) =>
      wrap(d, await proficiencyAggregate(d, args.groupBy as Dimension[], {
        subject: args.subject,
        schoolYear: args.schoolYear,
        schoolKey: args.filter?.schoolKey == null ? null : String(args.filter.schoolKey),
        gradeLevel: args.filter?.gradeLevel,
        studentGroup: args.filter?.studentGroup,
      })),
  }),
  attendanceSummary: t.field({
    type: [AttendanceAggregateRef],
    args: {
      groupBy: t.arg({ type: [DimensionEnum], required: true }),
      filter: t.arg({ type: AggregateFilter, required: false }),
    },
    resolve: async (d, args) =>
      wrap(d, await attendanceAggregate(d, args.groupBy as Dimension[], {
        schoolKey: args.filter?.schoolKey == null ? null : String(args.filter.schoolKey),
        gradeLevel: args.filter?.gradeLevel,
        studentGroup: args.filter?.studentGroup,
      })),
  }),
}));
