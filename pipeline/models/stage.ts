/**
 * The marts as a stage of `edlake pipeline run` (pipeline/run.ts `opts.stages`): seeds, models in
 * dependency order, data tests. Its result goes into the run record under `stages.models`; the
 * publishing stage must not publish when `blocked` is true.
 */
import type { Stage, StageContext } from '../run.ts';
import { type RunModelsOptions, type RunModelsResult, runModels } from './runner.ts';

export const MODELS_STAGE = 'models';

/** Sample rows of failing tests are already limited; the record keeps everything else as is. */
export type ModelsStageResult = RunModelsResult;

export function modelsStage(opts: Omit<RunModelsOptions, 'runId'> & { log?: (m: string) => void } = {}): Stage {
  return {
    name: MODELS_STAGE,
    async run(ctx: StageContext): Promise<ModelsStageResult> {
      const { log, ...rest } = opts;
      await recordFileCounts(ctx);
      const result = await runModels(ctx.db, {
        ...rest,
        runId: ctx.runId,
        // ctx.db is the run's staging copy, discarded when the run fails (decision 0302): commit as
        // each model is built rather than hold the whole build as one transaction (decision 0205)
        commit: 'each-model',
        // independent models at once, each on its own connection (decision 0208)
        concurrency: rest.concurrency ?? ctx.config.modelConcurrency,
        connect: ctx.connect,
        onModel: (m, k, total) => log?.(`model ${k + 1}/${total} ${m.name}: ${m.rows} rows in ${m.ms} ms`),
      });
      const failed = result.tests.filter((t) => t.status === 'fail' || t.status === 'error');
      for (const t of failed) log?.(`data test ${t.name} (${t.severity}): ${t.status}, ${t.failures} failing row(s)${t.message ? ` - ${t.message}` : ''}`);
      if (result.blocked) log?.('data tests failed with severity error: this run must not be published');
      return result;
    },
  };
}

/**
 * This run's per-file row counts (delivered = refined + quarantined + duplicate + skipped), kept in
 * meta.run_file_counts for the data test project.conservation_raw_to_refined.
 */
export async function recordFileCounts(ctx: StageContext): Promise<void> {
  await ctx.db.run(`CREATE SCHEMA IF NOT EXISTS meta`);
  await ctx.db.run(`CREATE OR REPLACE TABLE meta.run_file_counts (run_id VARCHAR, sha256 VARCHAR, path VARCHAR, source VARCHAR, status VARCHAR,
    delivered BIGINT, refined BIGINT, quarantined BIGINT, duplicate BIGINT, skipped BIGINT)`);
  for (const f of ctx.record.files) {
    await ctx.db.run(`INSERT INTO meta.run_file_counts VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`, [
      ctx.runId, f.sha256, f.path, f.source, f.status, f.rows.delivered, f.rows.refined, f.rows.quarantined, f.rows.duplicate, f.rows.skipped,
    ]);
  }
}

/** Whether a run record's models stage blocks publishing (true when the stage did not run). */
export function publishingBlocked(stages: Record<string, unknown>): boolean {
  const r = stages[MODELS_STAGE] as Partial<RunModelsResult> | null | undefined;
  return !r || r.blocked !== false;
}
