/** Assessment results (state and interim, each also on the state scale) and predictions. */
import type { Row } from '../src/db/duckdb.ts';
import { groupBy, type SnapshotData } from './context.ts';
import { fetchPage, type Page, type PageArgs } from './page.ts';
import { inList, type Params } from './runner.ts';
import { T } from './tables.ts';

export interface ResultRow extends Row {
  result_key: string;
  student_key: string;
  assessment_kind: string;
  vendor: string | null;
  subject: string;
  school_year: number | null;
  administration_date: string | null;
  scale_score: number | null;
  state_scale_score: number | null;
  performance_level: number | null;
}

export interface PredictionRow extends Row {
  student_key: string;
  subject: string;
  predicted_scale_score: number | null;
  standard_error: number | null;
  predicted_level: number | null;
  probability_met: number | null;
  model_version: string;
}

const RCOLS = 'r.result_key, r.student_key, r.assessment_family AS assessment_kind, r.vendor, r.subject, r.school_year, r.administration_date, r.scale_score, r.state_scale_score, r.achievement_level AS performance_level';
const PCOLS = 'p.student_key, p.subject, p.predicted_scale_score, p.standard_error, p.predicted_level, p.probability_met, p.model_version';

export interface ResultFilter {
  subject?: string | null | undefined;
  kind?: string | null | undefined;
  schoolKey?: string | null | undefined;
  schoolYear?: number | null | undefined;
}

export const RESULT_ORDER = {
  DATE_DESC: 'r.administration_date DESC NULLS LAST, r.result_key',
  STUDENT: 'r.student_key, r.result_key',
} as const;
export type ResultOrder = keyof typeof RESULT_ORDER;

export function listResults(d: SnapshotData, args: PageArgs, filter: ResultFilter = {}, order: ResultOrder = 'STUDENT'): Promise<Page<ResultRow>> {
  const where = [d.scope.students('r', null)];
  const params: Params = { ...d.scope.params };
  if (filter.subject != null) { where.push('lower(r.subject) = lower($f_subject)'); params.f_subject = filter.subject; }
  if (filter.kind != null) { where.push('r.assessment_family = $f_kind'); params.f_kind = filter.kind; }
  if (filter.schoolYear != null) { where.push('r.school_year = $f_year'); params.f_year = filter.schoolYear; }
  if (filter.schoolKey != null) {
    where.push(`r.student_key IN (SELECT s.student_key FROM ${T.student} s WHERE s.school_key = $f_school)`);
    params.f_school = filter.schoolKey;
  }
  return fetchPage<ResultRow>(d.q, {
    select: RCOLS,
    from: `FROM ${T.assessmentResult} r WHERE ${where.join(' AND ')}`,
    params,
    ordering: `result:${order}`,
    orderBy: RESULT_ORDER[order],
  }, args);
}

export function resultsByStudent(d: SnapshotData) {
  return d.loader<ResultRow[]>('resultsByStudent', async (keys) => {
    const rows = await d.q.all<ResultRow>(
      `SELECT ${RCOLS} FROM ${T.assessmentResult} r WHERE r.student_key IN ${inList('keys')} AND ${d.scope.students('r', null)}
        ORDER BY ${RESULT_ORDER.DATE_DESC}`,
      { keys: [...keys], ...d.scope.params },
    );
    return groupBy(keys, rows, 'student_key');
  });
}

export function predictionsByStudent(d: SnapshotData) {
  return d.loader<PredictionRow[]>('predictionsByStudent', async (keys) => {
    const rows = await d.q.all<PredictionRow>(
      `SELECT ${PCOLS} FROM ${T.predictions} p WHERE p.student_key IN ${inList('keys')} AND ${d.scope.students('p', null)}
        ORDER BY p.subject`,
      { keys: [...keys], ...d.scope.params },
    );
    return groupBy(keys, rows, 'student_key');
  });
}

export function listPredictions(d: SnapshotData, args: PageArgs, filter: { subject?: string | null | undefined } = {}): Promise<Page<PredictionRow>> {
  const where = [d.scope.students('p', null)];
  const params: Params = { ...d.scope.params };
  if (filter.subject != null) { where.push('lower(p.subject) = lower($f_subject)'); params.f_subject = filter.subject; }
  return fetchPage<PredictionRow>(d.q, {
    select: PCOLS,
    from: `FROM ${T.predictions} p WHERE ${where.join(' AND ')}`,
    params,
    ordering: 'prediction:STUDENT',
    orderBy: 'p.student_key, p.subject',
  }, args);
}
