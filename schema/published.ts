/** The data fields of a snapshot: lists (cursor connections) and lookups, each scoped in SQL. */
import { listSchools, schoolByKey } from '../resolvers/schools.ts';
import { listSections, sectionByKey } from '../resolvers/sections.ts';
import { listStudents, studentByKey } from '../resolvers/students.ts';
import { listStaff, staffByKey } from '../resolvers/staff.ts';
import { listPredictions, listResults } from '../resolvers/assessments.ts';
import { listChronic, listComparison, listCorrelations, listEquity, listWellbeing } from '../resolvers/views.ts';
import { builder } from './builder.ts';
import {
  ChronicRef, ComparisonRef, connection, CorrelationRef, EquityRef, PredictionRef, PublishedRef, ResultRef, SchoolRef,
  SectionRef, StaffRef, StudentRef, WellbeingRef, wrap, wrapOne,
} from './refs.ts';
import { SchoolOrderEnum } from './school.ts';
import { SectionFilterInput, SectionOrderEnum } from './section.ts';
import { StudentFilterInput, StudentOrderEnum } from './student.ts';
import { ResultFilterInput, ResultOrderEnum } from './assessment.ts';

const StudentViewFilter = builder.inputType('StudentViewFilter', {
  fields: (t) => ({
    schoolKey: t.id({ required: false }),
    tier: t.string({ required: false }),
    gradeLevel: t.int({ required: false }),
  }),
});

builder.objectFields(PublishedRef, (t) => ({
  schools: t.connection(
    {
      type: SchoolRef,
      args: { orderBy: t.arg({ type: SchoolOrderEnum, required: false }) },
      resolve: async (d, args) => connection(d, await listSchools(d, args, args.orderBy ?? 'NAME')),
    },
    { name: 'SchoolConnection', fields: (tc) => ({ totalCount: tc.field({ type: 'NonNegativeInt', resolve: (c) => (c as unknown as { totalCount: number }).totalCount }) }) },
  ),
  school: t.field({
    type: SchoolRef,
    nullable: true,
    args: { key: t.arg.id({ required: true }) },
    resolve: async (d, args) => wrapOne(d, await schoolByKey(d).load(String(args.key))),
  }),
  sections: t.connection(
    {
      type: SectionRef,
      args: { filter: t.arg({ type: SectionFilterInput, required: false }), orderBy: t.arg({ type: SectionOrderEnum, required: false }) },
      resolve: async (d, args) =>
        connection(d, await listSections(d, args, { ...args.filter, schoolKey: args.filter?.schoolKey == null ? null : String(args.filter.schoolKey) }, args.orderBy ?? 'COURSE')),
    },
    { name: 'SectionConnection', fields: (tc) => ({ totalCount: tc.field({ type: 'NonNegativeInt', resolve: (c) => (c as unknown as { totalCount: number }).totalCount }) }) },
  ),
  section: t.field({
    type: SectionRef,
    nullable: true,
    args: { key: t.arg.id({ required: true }) },
    resolve: async (d, args) => wrapOne(d, await sectionByKey(d).load(String(args.key))),
  }),
  students: t.connection(
    {
      type: StudentRef,
      args: { filter: t.arg({ type: StudentFilterInput, required: false }), orderBy: t.arg({ type: StudentOrderEnum, required: false }) },
      resolve: async (d, args) => {
        const f = args.filter;
        return connection(d, await listStudents(d, args, {
          schoolKey: f?.schoolKey == null ? null : String(f.schoolKey),
          sectionKey: f?.sectionKey == null ? null : String(f.sectionKey),
          gradeLevel: f?.gradeLevel, tier: f?.tier, riskTier: f?.riskTier, studentGroup: f?.studentGroup,
        }, args.orderBy ?? 'KEY'));
      },
    },
    { name: 'StudentConnection', fields: (tc) => ({ totalCount: tc.field({ type: 'NonNegativeInt', resolve: (c) => (c as unknown as { totalCount: number }).totalCount }) }) },
  ),
  student: t.field({
    type: StudentRef,
    nullable: true,
    args: { key: t.arg.id({ required: true }) },
    resolve: async (d, args) => wrapOne(d, await studentByKey(d).load(String(args.key))),
  }),
  staff: t.connection(
    { type: StaffRef, resolve: async (d, args) => connection(d, await listStaff(d, args)) },
    { name: 'StaffConnection', fields: (tc) => ({ totalCount: tc.field({ type: 'NonNegativeInt', resolve: (c) => (c as unknown as { totalCount: number }).totalCount }) }) },
  ),
  staffMember: t.field({
    type: StaffRef,
    nullable: true,
    args: { key: t.arg.id({ required: true }) },
    resolve: async (d, args) => wrapOne(d, await staffByKey(d).load(String(args.key))),
  }),
  assessmentResults: t.connection(
    {
      type: ResultRef,
      args: { filter: t.arg({ type: ResultFilterInput, required: false }), orderBy: t.arg({ type: ResultOrderEnum, required: false }) },
      resolve: async (d, args) =>
        connection(d, await listResults(d, args, { ...args.filter, schoolKey: args.filter?.schoolKey == null ? null : String(args.filter.schoolKey) }, args.orderBy ?? 'STUDENT')),
    },
    { name: 'AssessmentResultConnection', fields: (tc) => ({ totalCount: tc.field({ type: 'NonNegativeInt', resolve: (c) => (c as unknown as { totalCount: number }).totalCount }) }) },
  ),
  predictions: t.connection(
    {
      type: PredictionRef,
      args: { subject: t.arg.string({ required: false }) },
      resolve: async (d, args) => connection(d, await listPredictions(d, args, { subject: args.subject })),
    },
    { name: 'PredictionConnection', fields: (tc) => ({ totalCount: tc.field({ type: 'NonNegativeInt', resolve: (c) => (c as unknown as { totalCount: number }).totalCount }) }) },
  ),
  chronicAbsenteeismRisk: t.connection(
    {
      type: ChronicRef,
      args: { filter: t.arg({ type: StudentViewFilter, required: false }) },
      description: 'Students by absence rate, highest first.',
      resolve: async (d, args) => connection(d, await listChronic(d, args, { ...args.filter, schoolKey: args.filter?.schoolKey == null ? null : String(args.filter.schoolKey) })),
    },
    { name: 'ChronicAbsenteeismRiskConnection', fields: (tc) => ({ totalCount: tc.field({ type: 'NonNegativeInt', resolve: (c) => (c as unknown as { totalCount: number }).totalCount }) }) },
  ),
  wellbeingRiskProfiles: t.connection(
    {
      type: WellbeingRef,
      args: { filter: t.arg({ type: StudentViewFilter, required: false }) },
      description: 'Students by composite risk score, highest first.',
      resolve: async (d, args) => connection(d, await listWellbeing(d, args, { ...args.filter, schoolKey: args.filter?.schoolKey == null ? null : String(args.filter.schoolKey) })),
    },
    { name: 'WellbeingRiskProfileConnection', fields: (tc) => ({ totalCount: tc.field({ type: 'NonNegativeInt', resolve: (c) => (c as unknown as { totalCount: number }).totalCount }) }) },
  ),
  equityOutcomes: t.field({
    type: [EquityRef],
    args: { schoolKey: t.arg.id({ required: false }), studentGroup: t.arg.string({ required: false }), districtOnly: t.arg.boolean({ required: false }) },
    resolve: async (d, args) => wrap(d, await listEquity(d, { schoolKey: args.schoolKey == null ? null : String(args.schoolKey), studentGroup: args.studentGroup, districtOnly: args.districtOnly })),
  }),
  classSectionComparison: t.field({
    type: [ComparisonRef],
    args: { schoolKey: t.arg.id({ required: false }), courseCode: t.arg.string({ required: false }), sectionKey: t.arg.id({ required: false }) },
    resolve: async (d, args) => wrap(d, await listComparison(d, {
      schoolKey: args.schoolKey == null ? null : String(args.schoolKey), courseCode: args.courseCode, sectionKey: args.sectionKey == null ? null : String(args.sectionKey),
    })),
  }),
  performanceCorrelations: t.field({
    type: [CorrelationRef],
    args: { schoolKey: t.arg.id({ required: false }), measure: t.arg.string({ required: false }), outcome: t.arg.string({ required: false }) },
    resolve: async (d, args) => wrap(d, await listCorrelations(d, { schoolKey: args.schoolKey == null ? null : String(args.schoolKey), measure: args.measure, outcome: args.outcome })),
  }),
}));
