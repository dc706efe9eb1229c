/** Assessment results and predictions. */
import { studentByKey } from '../resolvers/students.ts';
import { RESULT_ORDER } from '../resolvers/assessments.ts';
import { builder } from './builder.ts';
import { PredictionRef, ResultRef, StudentRef, wrapOne } from './refs.ts';

export const ResultOrderEnum = builder.enumType('AssessmentResultOrder', {
  values: Object.keys(RESULT_ORDER) as Array<keyof typeof RESULT_ORDER>,
});

export const ResultFilterInput = builder.inputType('AssessmentResultFilter', {
  fields: (t) => ({
    subject: t.string({ required: false }),
    kind: t.string({ required: false, description: 'state or interim' }),
    schoolKey: t.id({ required: false }),
    schoolYear: t.int({ required: false }),
  }),
});

ResultRef.implement({
  description: 'One assessment result; interim results also on the state scale.',
  fields: (t) => ({
    key: t.id({ resolve: (r) => r.row.result_key }),
    kind: t.string({ resolve: (r) => r.row.assessment_kind }),
    vendor: t.string({ nullable: true, resolve: (r) => r.row.vendor }),
    subject: t.string({ resolve: (r) => r.row.subject }),
    schoolYear: t.int({ nullable: true, resolve: (r) => r.row.school_year }),
    administrationDate: t.field({ type: 'Date', nullable: true, resolve: (r) => r.row.administration_date }),
    scaleScore: t.float({ nullable: true, resolve: (r) => r.row.scale_score }),
    stateScaleScore: t.float({ nullable: true, description: 'The score on the state test scale (linked for interim results).', resolve: (r) => r.row.state_scale_score }),
    performanceLevel: t.int({ nullable: true, resolve: (r) => r.row.performance_level }),
    student: t.field({ type: StudentRef, nullable: true, resolve: async (r) => wrapOne(r.d, await studentByKey(r.d).load(r.row.student_key)) }),
  }),
});

PredictionRef.implement({
  description: 'Predicted end-of-year state scale score of a student in a subject.',
  fields: (t) => ({
    subject: t.string({ resolve: (p) => p.row.subject }),
    predictedScaleScore: t.float({ nullable: true, resolve: (p) => p.row.predicted_scale_score }),
    standardError: t.float({ nullable: true, resolve: (p) => p.row.standard_error }),
    predictedLevel: t.int({ nullable: true, resolve: (p) => p.row.predicted_level }),
    probabilityMet: t.float({ nullable: true, description: 'Probability of reaching Met (level 3) or above.', resolve: (p) => p.row.probability_met }),
    modelVersion: t.string({ resolve: (p) => p.row.model_version }),
    student: t.field({ type: StudentRef, nullable: true, resolve: async (p) => wrapOne(p.d, await studentByKey(p.d).load(p.row.student_key)) }),
  }),
});
