/**
 * The run log: one JSON record per pipeline run in `<lake>/runs/<run id>.json` (decision 0001),
 * written by the run itself (pipeline/run.ts). This module only lists and summarizes them, reading
 * the fields it knows and tolerating others, so that the record can grow without breaking the list.
 */
import fs from 'node:fs/promises';
import path from 'node:path';

export interface RunSummary {
  runId: string;
  file: string;
  status: string;
  startedAt: string | null;
  finishedAt: string | null;
  durationMs: number | null;
  snapshotId: number | null;
  files: number | null;
  /** Set when the record could not be read; the other fields are then mostly empty. */
  error?: string;
  record: unknown;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

function pick(o: Obj, ...names: string[]): unknown {
  for (const n of names) {
    const parts = n.split('.');
    let v: unknown = o;
    for (const p of parts) v = isObj(v) ? v[p] : undefined;
    if (v !== undefined && v !== null) return v;
  }
  return undefined;
}

const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

export function summarizeRun(file: string, record: unknown): RunSummary {
  const base = path.basename(file, '.json');
  if (!isObj(record)) {
    return { runId: base, file, status: 'unreadable', startedAt: null, finishedAt: null, durationMs: null, snapshotId: null, files: null, error: 'record is not a JSON object', record };
  }
  const startedAt = str(pick(record, 'startedAt', 'started_at'));
  const finishedAt = str(pick(record, 'finishedAt', 'finished_at', 'endedAt', 'ended_at'));
  let durationMs = num(pick(record, 'durationMs', 'duration_ms'));
  if (durationMs === null && startedAt && finishedAt) {
    const d = Date.parse(finishedAt) - Date.parse(startedAt);
    if (Number.isFinite(d)) durationMs = d;
  }
  const filesField = pick(record, 'files');
  let status = str(pick(record, 'status', 'outcome')) ?? 'unknown';
  // A run whose data tests blocked publishing succeeded as a run but published nothing (pipeline/nightly.ts).
  const publish = pick(record, 'stages.publish');
  if (status === 'succeeded' && isObj(publish) && publish['published'] === false) {
    status = `blocked: ${str(publish['reason']) ?? 'not published'}`;
  } else if (status === 'failed' && str(pick(record, 'error'))) {
    status = `failed: ${str(pick(record, 'error'))}`;
  }
  return {
    runId: str(pick(record, 'runId', 'run_id', 'id')) ?? base,
    file,
    status,
    startedAt,
    finishedAt,
    durationMs,
    snapshotId: num(pick(record, 'stages.publish.snapshotId', 'snapshotId', 'snapshot_id', 'publish.snapshotId', 'snapshot.id')),
    files: Array.isArray(filesField) ? filesField.length : num(filesField),
    record,
  };
}

/** Every run record of the lake, newest first (by start time, then run id). */
export async function listRuns(lake: string): Promise<RunSummary[]> {
  const dir = path.join(lake, 'runs');
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  const out: RunSummary[] = [];
  for (const n of names.filter((x) => x.endsWith('.json') && !x.startsWith('.'))) {
    const file = path.join(dir, n);
    try {
      out.push(summarizeRun(file, JSON.parse(await fs.readFile(file, 'utf8'))));
    } catch (e) {
      out.push({
        runId: path.basename(n, '.json'),
        file,
        status: 'unreadable',
        startedAt: null,
        finishedAt: null,
        durationMs: null,
        snapshotId: null,
        files: null,
        error: `${file}: ${(e as Error).message}`,
        record: null,
      });
    }
  }
  return out.sort((a, b) => (b.startedAt ?? '').localeCompare(a.startedAt ?? '') || b.runId.localeCompare(a.runId));
}
