/**
 * Raw tier, for data engineers only (the schema checks the role): pipeline run records kept in the
 * lake (<lake>/runs/<run id>.json) and the quarantine as of a snapshot (<lake>/quarantine/).
 */
import { listRuns, type RunSummary } from '../pipeline/publish/runlog.ts';
import type { Row } from '../src/db/duckdb.ts';
import type { SnapshotData } from './context.ts';
import { fetchPage, type Page, type PageArgs } from './page.ts';
import type { Params } from './runner.ts';
import { existsSync } from 'node:fs';
import { literal } from '../src/db/duckdb.ts';
import { quarantineFile } from '../pipeline/publish/quarantine.ts';

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
  reason: string | null;
  /** The offending value; null when withheld (value_redacted) or when the row had none. */
  value: string | null;
  value_redacted: boolean;
  pii_class: string | null;
  delivery_date: string | null;
  delivered_at: string | null;
}

export interface QuarantineFilter {
  source?: string | null | undefined;
  entity?: string | null | undefined;
  rule?: string | null | undefined;
  runId?: string | null | undefined;
  file?: string | null | undefined;
}

/**
 * Quarantined rows as of a snapshot (decision 0608): the file the publish step wrote beside it,
 * `<lake>/quarantine/snapshot-<id>.parquet`, with PII values already withheld. Null when the API
 * serves no lake or the snapshot has no such file (published before quarantine files existed, or
 * its file could not be written). Filters are bound parameters; the path is the server's own.
 */
export async function listQuarantine(d: SnapshotData, args: PageArgs, f: QuarantineFilter): Promise<Page<QuarantineRow> | null> {
  if (d.req.lake === undefined) return null;
  const file = quarantineFile(d.req.lake, d.info.id);
  if (!existsSync(file)) return null;
  const where = ['TRUE'];
  const params: Params = {};
  if (f.source != null) { where.push('q.source = $f_source'); params.f_source = f.source; }
  if (f.entity != null) { where.push('q.entity = $f_entity'); params.f_entity = f.entity; }
  if (f.rule != null) { where.push('q.rule = $f_rule'); params.f_rule = f.rule; }
  if (f.runId != null) { where.push('q.run_id = $f_run'); params.f_run = f.runId; }
  if (f.file != null) { where.push('q.file = $f_file'); params.f_file = f.file; }
  return fetchPage<QuarantineRow>(d.q, {
    select: `q.run_id, q.file, q.row_number, q.source, q.entity, q.field, q.rule, q.reason, q.value, q.value_redacted, q.pii_class,
             CAST(q.delivery_date AS VARCHAR) AS delivery_date, strftime(q.delivered_at, '%Y-%m-%dT%H:%M:%S.%g') || 'Z' AS delivered_at`,
    from: `FROM read_parquet(${literal(file)}) q WHERE ${where.join(' AND ')}`,
    params,
    ordering: 'quarantine:FILE_ROW',
    orderBy: 'q.file, q.row_number NULLS FIRST, q.field NULLS FIRST, q.rule, q.run_id',
  }, args);
}
