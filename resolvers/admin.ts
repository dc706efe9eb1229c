/**
 * Raw tier, for data engineers only (the schema checks the role): pipeline run records kept in the
 * lake (<lake>/runs/<run id>.json) and quarantined rows when a snapshot publishes them.
 */
import { listRuns, type RunSummary } from '../pipeline/publish/runlog.ts';
import type { Row } from '../src/db/duckdb.ts';
import type { SnapshotData } from './context.ts';
import { fetchPage, type Page, type PageArgs } from './page.ts';
import type { Params } from './runner.ts';
import { T } from './tables.ts';

export type { RunSummary } from '../pipeline/publish/runlog.ts';

/** Run records, newest first, read by the run log's own reader (a record that cannot be read is listed as such). */
export async function pipelineRuns(lake: string | undefined, limit: number): Promise<RunSummary[]> {
  if (lake === undefined) return [];
  return (await listRuns(lake)).slice(0, limit);
}

export interface QuarantineRow extends Row {
  run_id: string | null;
  file: string | null;
  row_number: number | null;
  source: string | null;
  entity: string | null;
  field: string | null;
  rule: string | null;
  value: string | null;
  reason: string | null;
}

export async function listQuarantine(d: SnapshotData, args: PageArgs, f: { source?: string | null | undefined; entity?: string | null | undefined }): Promise<Page<QuarantineRow> | null> {
  if (!d.q.has(T.quarantine)) return null;
  const where = ['TRUE'];
  const params: Params = {};
  if (f.source != null) { where.push('q.source = $f_source'); params.f_source = f.source; }
  if (f.entity != null) { where.push('q.entity = $f_entity'); params.f_entity = f.entity; }
  return fetchPage<QuarantineRow>(d.q, {
    select: 'q.run_id, q.file, q.row_number, q.source, q.entity, q.field, q.rule, CAST(q.value AS VARCHAR) AS value, q.reason',
    from: `FROM ${T.quarantine} q WHERE ${where.join(' AND ')}`,
    params,
    ordering: 'quarantine:FILE_ROW',
    orderBy: 'q.file, q.row_number, q.field, q.rule',
  }, args);
}
