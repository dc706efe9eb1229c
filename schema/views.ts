/** The five operational views. */
import { schoolByKey } from '../resolvers/schools.ts';
import { sectionByKey } from '../resolvers/sections.ts';
import { studentByKey } from '../resolvers/students.ts';
import { builder } from './builder.ts';
import { ChronicRef, ComparisonRef, CorrelationRef, EquityRef, SchoolRef, SectionRef, StudentRef, WellbeingRef, wrapOne } from './refs.ts';

ChronicRef.implement({
  description: 'v_chronic_absenteeism_risk: one row per enrolled student.',
  fields: (t) => ({
    student: t.field({ type: StudentRef, nullable: true, resolve: async (c) => wrapOne(c.d, await studentByKey(c.d).load(c.row.student_key)) }),
    daysEnrolled: t.field({ type: 'NonNegativeInt', nullable: true, resolve: (c) => c.row.days_enrolled }),
    daysAbsent: t.field({ type: 'NonNegativeFloat', nullable: true, resolve: (c) => c.row.days_absent }),
    absenceRate: t.float({ nullable: true, description: 'Year-to-date absence rate.', resolve: (c) => c.row.absence_rate_ytd }),
    absenceRate30d: t.float({ nullable: true, description: 'Absence rate over the last 30 school days.', resolve: (c) => c.row.absence_rate_30d }),
    tier: t.string({ nullable: true, description: 'Attendance Works tier.', resolve: (c) => c.row.tier }),
    chronic: t.boolean({ nullable: true, description: 'Whether the configured chronic-absence definition is met.', resolve: (c) => c.row.is_chronic }),
    trend: t.string({ nullable: true, resolve: (c) => c.row.trend }),
    projectedAbsenceRate: t.float({ nullable: true, resolve: (c) => c.row.projected_absence_rate }),
    longestAbsenceStreak: t.field({ type: 'NonNegativeInt', nullable: true, resolve: (c) => c.row.longest_absence_streak }),
    newlyWorseTier: t.boolean({ nullable: true, resolve: (c) => c.row.newly_worse_tier }),
  }),
});

WellbeingRef.implement({
  description: 'v_wellbeing_risk_profiles: one row per enrolled student.',
  fields: (t) => ({
    student: t.field({ type: StudentRef, nullable: true, resolve: async (w) => wrapOne(w.d, await studentByKey(w.d).load(w.row.student_key)) }),
    riskScore: t.float({ nullable: true, description: 'Composite risk score, 0 to 100.', resolve: (w) => w.row.risk_score }),
    riskTier: t.string({ nullable: true, resolve: (w) => w.row.risk_tier }),
    reasons: t.stringList({ description: 'Why the score is what it is.', resolve: (w) => w.row.reasons ?? [] }),
  }),
});

EquityRef.implement({
  description: 'v_equity_outcomes: one row per school (or the district) and student group. Groups of 10 students or fewer are suppressed for the roles that suppress: marked, measures withheld.',
  fields: (t) => ({
    school: t.field({ type: SchoolRef, nullable: true, description: 'Null for district rows.', resolve: async (e) => (e.row.school_key === null ? null : wrapOne(e.d, await schoolByKey(e.d).load(e.row.school_key))) }),
    schoolKey: t.id({ nullable: true, resolve: (e) => e.row.school_key }),
    tenant: t.string({ description: 'Tenant (district) the row belongs to; with school null, that district’s row.', resolve: (e) => e.row.tenant }),
    studentGroup: t.string({ description: 'Group code (seeds.student_groups).', resolve: (e) => e.row.student_group }),
    groupLabel: t.string({ nullable: true, resolve: (e) => e.row.group_label }),
    students: t.field({ type: 'NonNegativeInt', resolve: (e) => e.row.n_students }),
    suppressed: t.boolean({ resolve: (e) => e.row.suppressed }),
    attendanceRate: t.float({ nullable: true, resolve: (e) => e.row.attendance_rate }),
    chronicAbsenceRate: t.float({ nullable: true, resolve: (e) => e.row.chronic_absence_rate }),
    proficiencyRatePrior: t.float({ nullable: true, description: 'Proficiency rate on last year’s state test.', resolve: (e) => e.row.proficiency_rate }),
    predictedProficiencyRate: t.float({ nullable: true, resolve: (e) => e.row.predicted_proficiency_rate }),
    meanCourseMark: t.float({ nullable: true, resolve: (e) => e.row.mean_course_mark }),
    suspensionRate: t.float({ nullable: true, resolve: (e) => e.row.suspension_rate }),
    attendanceRateGapToAll: t.float({ nullable: true, resolve: (e) => e.row.attendance_rate_gap_to_all }),
    attendanceRateGapToBest: t.float({ nullable: true, resolve: (e) => e.row.attendance_rate_gap_to_best }),
    chronicAbsenceRateGapToAll: t.float({ nullable: true, resolve: (e) => e.row.chronic_absence_rate_gap_to_all }),
    chronicAbsenceRateGapToBest: t.float({ nullable: true, resolve: (e) => e.row.chronic_absence_rate_gap_to_best }),
    predictedProficiencyRateGapToAll: t.float({ nullable: true, resolve: (e) => e.row.predicted_proficiency_rate_gap_to_all }),
    predictedProficiencyRateGapToBest: t.float({ nullable: true, resolve: (e) => e.row.predicted_proficiency_rate_gap_to_best }),
  }),
});

ComparisonRef.implement({
  description: 'v_class_section_comparison: a section beside the mean of the other sections of its course.',
  fields: (t) => ({
    section: t.field({ type: SectionRef, nullable: true, resolve: async (c) => wrapOne(c.d, await sectionByKey(c.d).load(c.row.section_key)) }),
    sectionKey: t.id({ resolve: (c) => c.row.section_key }),
    tenant: t.string({ description: 'Tenant (district) the row belongs to.', resolve: (c) => c.row.tenant }),
    teacherKey: t.id({ nullable: true, resolve: (c) => c.row.staff_key }),
    courseCode: t.string({ resolve: (c) => c.row.course_code }),
    students: t.field({ type: 'NonNegativeInt', resolve: (c) => c.row.n_students }),
    suppressed: t.boolean({ resolve: (c) => c.row.suppressed }),
    attendanceRate: t.float({ nullable: true, resolve: (c) => c.row.attendance_rate }),
    attendanceRateCourseMean: t.float({ nullable: true, description: 'Mean of the other sections of the course.', resolve: (c) => c.row.attendance_rate_course_mean }),
    attendanceRateZ: t.float({ nullable: true, description: 'Standardized difference from the other sections.', resolve: (c) => c.row.attendance_rate_z }),
    chronicAbsenceRate: t.float({ nullable: true, resolve: (c) => c.row.chronic_absence_rate }),
    chronicAbsenceRateCourseMean: t.float({ nullable: true, resolve: (c) => c.row.chronic_absence_rate_course_mean }),
    interimGrowth: t.float({ nullable: true, description: 'Mean interim growth since the first window, state-scale points.', resolve: (c) => c.row.interim_growth }),
    interimGrowthCourseMean: t.float({ nullable: true, resolve: (c) => c.row.interim_growth_course_mean }),
    predictedProficiencyRate: t.float({ nullable: true, resolve: (c) => c.row.predicted_proficiency_rate }),
    predictedProficiencyRateCourseMean: t.float({ nullable: true, resolve: (c) => c.row.predicted_proficiency_rate_course_mean }),
    meanCourseMark: t.float({ nullable: true, resolve: (c) => c.row.mean_course_mark }),
    meanCourseMarkCourseMean: t.float({ nullable: true, resolve: (c) => c.row.mean_course_mark_course_mean }),
    lmsSubmissionRate: t.float({ nullable: true, resolve: (c) => c.row.lms_submission_rate }),
    lmsSubmissionRateCourseMean: t.float({ nullable: true, resolve: (c) => c.row.lms_submission_rate_course_mean }),
    standsApart: t.boolean({ nullable: true, resolve: (c) => c.row.stands_apart }),
    measuresApart: t.stringList({ nullable: true, resolve: (c) => c.row.measures_apart }),
  }),
});

CorrelationRef.implement({
  description: 'v_performance_correlations: school × grade band × (engagement measure, outcome).',
  fields: (t) => ({
    school: t.field({ type: SchoolRef, nullable: true, resolve: async (c) => (c.row.school_key === null ? null : wrapOne(c.d, await schoolByKey(c.d).load(c.row.school_key))) }),
    tenant: t.string({ description: 'Tenant (district) the row belongs to.', resolve: (c) => c.row.tenant }),
    gradeBand: t.string({ resolve: (c) => c.row.grade_band }),
    measure: t.string({ resolve: (c) => c.row.measure }),
    outcome: t.string({ resolve: (c) => c.row.outcome }),
    n: t.field({ type: 'NonNegativeInt', resolve: (c) => c.row.n }),
    suppressed: t.boolean({ resolve: (c) => c.row.suppressed }),
    r: t.float({ nullable: true, description: 'Pearson r.', resolve: (c) => c.row.r }),
    ciLow: t.float({ nullable: true, resolve: (c) => c.row.ci_low }),
    ciHigh: t.float({ nullable: true, resolve: (c) => c.row.ci_high }),
    slope: t.float({ nullable: true, resolve: (c) => c.row.slope }),
  }),
});
