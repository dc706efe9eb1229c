/**
 * The whole nightly run: raw → refined (pipeline/run.ts) → models and data tests
 * (pipeline/models) → publish (pipeline/publish), as one `runPipeline` with its stages.
 *
 * Publishing runs only when the data tests passed (`publishingBlocked`); a blocked run keeps its
 * record (with the failing tests and sample rows) and leaves the previous snapshot current.
 */
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { readCurrent, readManifest } from '../src/catalog/index.ts';
import type { Config } from '../src/config.ts';
import type { Json } from '../src/catalog/format.ts';
import type { Progress } from '../src/progress.ts';
import { modelsStage, publishingBlocked, MODELS_STAGE, type ModelsStageResult } from './models/stage.ts';
import { loadProject } from './models/project.ts';
import { publishStage } from './publish/publish.ts';
import { writeServingFile } from './publish/serving.ts';
import { runPipeline, type RunOptions, type RunRecord, type Stage } from './run.ts';

export const PUBLISH_STAGE = 'publish';

export interface PublishStageRecord {
  published: boolean;
  reason?: string;
  snapshotId?: number;
  dataThrough?: string | null;
  filesWritten?: number;
  filesShared?: number;
  bytesWritten?: number;
  /** `<lake>/serving/current.duckdb` (views for BI tools) rewritten for this snapshot, or why not. */
  servingFile?: string;
  servingError?: string;
}

const SEEDS_DIR = fileURLToPath(new URL('../seeds/reference/', import.meta.url));

/**
 * Version of each model: the first 16 hex digits of the sha256 of its SQL and metadata; plus
 * `seeds/reference`, the same over the seed CSVs in force (thresholds change results too).
 */
export function modelVersions(sqlDir?: string, seedsDir = SEEDS_DIR): Record<string, string> {
  const project = loadProject(sqlDir);
  const out: Record<string, string> = {};
  for (const [name, m] of project.models) {
    out[name] = createHash('sha256').update(m.sql).update('\0').update(JSON.stringify(m.meta)).digest('hex').slice(0, 16);
  }
  const seeds = createHash('sha256');
  for (const f of readdirSync(seedsDir).filter((n) => n.endsWith('.csv')).sort()) seeds.update(f).update('\0').update(readFileSync(join(seedsDir, f)));
  out['seeds/reference'] = seeds.digest('hex').slice(0, 16);
  return out;
}

function sameVersions(a: Record<string, string>, b: Record<string, string>): boolean {
  const ka = Object.keys(a).sort();
  const kb = Object.keys(b).sort();
  return ka.length === kb.length && ka.every((k, i) => k === kb[i] && a[k] === b[k]);
}

/** The publish step as a stage: skipped (with the reason) when the data tests blocked it. */
export function publishingStage(opts: { sqlDir?: string; progress?: Progress; log?: (m: string) => void } = {}): Stage {
  return {
    name: PUBLISH_STAGE,
    async run(ctx): Promise<PublishStageRecord> {
      if (publishingBlocked(ctx.record.stages)) {
        const reason = ctx.record.stages[MODELS_STAGE] ? 'a data test of severity error failed' : 'the models stage did not run';
        opts.log?.(`not publishing: ${reason}; the previous snapshot stays current`);
        return { published: false, reason };
      }
      const models = ctx.record.stages[MODELS_STAGE] as ModelsStageResult;
      const versions = modelVersions(opts.sqlDir);
      // Nothing delivered and the same models and seeds: the current snapshot already says it all.
      const current = await readCurrent(ctx.lake);
      if (current && ctx.record.summary.seen === 0) {
        const loaded = await readManifest(ctx.lake, current.snapshot_id);
        if (loaded && sameVersions(loaded.manifest.model_versions, versions)) {
          const reason = `nothing new since snapshot ${current.snapshot_id} (no new delivery, same models and seeds)`;
          opts.log?.(`not publishing: ${reason}`);
          return { published: false, reason, snapshotId: current.snapshot_id };
        }
      }
      // The data run through the latest delivery the lake has loaded.
      const dataThrough =
        (await ctx.db.scalar<string | null>(`select max(delivery_date)::varchar from raw.files where status = 'loaded'`)) ?? null;
      const dataTests = JSON.parse(JSON.stringify(models.tests)) as Json;
      const result = await publishStage({
        db: ctx.db,
        lake: ctx.lake,
        runId: ctx.runId,
        dataThrough,
        timezone: ctx.config.timezone,
        dataTests,
        modelVersions: versions,
        ...(opts.sqlDir ? { sqlDir: opts.sqlDir } : {}),
        ...(opts.progress ? { progress: opts.progress } : {}),
      });
      opts.log?.(`published snapshot ${result.snapshotId} (data through ${dataThrough ?? 'unknown'})`);
      // The snapshot is published whatever happens here: a failed serving file keeps showing the
      // previous snapshot (its files stay until expiry) and the run records why.
      let serving: { servingFile: string } | { servingError: string };
      try {
        serving = { servingFile: (await writeServingFile(ctx.lake, result.snapshotId)).file };
      } catch (e) {
        serving = { servingError: e instanceof Error ? e.message : String(e) };
        opts.log?.(`serving file not updated: ${serving.servingError}`);
      }
      return {
        ...serving,
        published: true,
        snapshotId: result.snapshotId,
        dataThrough,
        filesWritten: result.filesWritten,
        filesShared: result.filesShared,
        bytesWritten: result.bytesWritten,
      };
    },
  };
}

export type Until = 'refined' | 'marts' | 'published';

/** The stages after refine, up to `until` (default: published). */
export function nightlyStages(opts: { until?: Until; sqlDir?: string; progress?: Progress; log?: (m: string) => void } = {}): Stage[] {
  const until = opts.until ?? 'published';
  if (until === 'refined') return [];
  const log = opts.log;
  const stages: Stage[] = [modelsStage({ ...(log ? { log } : {}), ...(opts.sqlDir ? { sqlDir: opts.sqlDir } : {}) })];
  if (until === 'published') stages.push(publishingStage(opts));
  return stages;
}

/** One full run: raw, refined, models and tests, publish. */
export function runNightly(config: Config, opts: RunOptions & { until?: Until; sqlDir?: string; progress?: Progress } = {}): Promise<RunRecord> {
  const { until, sqlDir, progress, ...runOpts } = opts;
  const stages = nightlyStages({
    ...(until ? { until } : {}),
    ...(sqlDir ? { sqlDir } : {}),
    ...(progress ? { progress } : {}),
    ...(runOpts.log ? { log: runOpts.log } : {}),
  });
  return runPipeline(config, { ...runOpts, stages: [...(runOpts.stages ?? []), ...stages] });
}
