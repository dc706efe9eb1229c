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
      const result = await runModels(ctx.db, {
        ...rest,
        runId: ctx.runId,
        onModel: (m, k, total) => log?.(`model ${k + 1}/${total} ${m.name}: ${m.rows} rows in ${m.ms} ms`),
      });
      const failed = result.tests.filter((t) => t.status === 'fail' || t.status === 'error');
      for (const t of failed) log?.(`data test ${t.name} (${t.severity}): ${t.status}, ${t.failures} failing row(s)${t.message ? ` - ${t.message}` : ''}`);
      if (result.blocked) log?.('data tests failed with severity error: this run must not be published');
      return result;
    },
  };
}

/** Whether a run record's models stage blocks publishing (true when the stage did not run). */
export function publishingBlocked(stages: Record<string, unknown>): boolean {
  const r = stages[MODELS_STAGE] as Partial<RunModelsResult> | null | undefined;
  return !r || r.blocked !== false;
}
