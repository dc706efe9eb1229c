/**
 * Raw tier, for data engineers only (the schema checks the role): pipeline run records kept in the
 * lake (<lake>/runs/<run id>.json) and quarantined rows published with a snapshot.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Row } from '../src/db/duckdb.ts';
import type { SnapshotData } from './context.ts';
import { fetchPage, type Page, type PageArgs } from './page.ts';
import type { Params } from './runner.ts';
import { T } from './tables.ts';

export interface RunRecord {
  runId: string;
  status: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  record: unknown;
}

/** Run records, newest first. A record that cannot be read is reported as such, not skipped. */
export function pipelineRuns(lake: string | undefined, limit: number): RunRecord[] {
  if (lake === undefined) return [];
  const dir = path.join(lake, 'runs');
  if (!existsSync(dir)) return [];
  const files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort().reverse().slice(0, limit);
  return files.map((f) => {
    const runId = f.slice(0, -'.json'.length);
    try {
      const rec = JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as Record<string, unknown>;
      const str = (k: string) => (typeof rec[k] === 'string' ? (rec[k] as string) : null);
      return { runId: str('run_id') ?? str('id') ?? runId, status: str('status'), startedAt: str('started_at'), finishedAt: str('finished_at'), record: rec };
    } catch (err) {
      return { runId, status: 'unreadable', startedAt: null, finishedAt: null, record: { error: (err as Error).message } };
    }
  });
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
