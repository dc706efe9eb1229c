/**
 * `edlake pipeline run [--landing DIR] [--lake DIR] [--json] [--demo-key]`: the pipeline's raw and
 * refined stages (later stages are appended to the same run; see pipeline/run.ts).
 * Exit codes: 0 succeeded; 1 the run failed (nothing it did was kept); 3 the run succeeded but a
 * source passed its quarantine limit; 2 bad arguments, missing key, or the lake is locked.
 */
import { CommanderError, type Command } from 'commander';
import { loadConfig } from '../config.ts';
import { UsageError } from './errors.ts';
import { LakeLockedError } from '../../pipeline/lock.ts';
import { MissingPiiKeyError } from '../../pipeline/secrets.ts';
import { type RunRecord } from '../../pipeline/run.ts';
import { runNightly, type Until } from '../../pipeline/nightly.ts';

interface RunOpts {
  landing?: string;
  lake?: string;
  tenant?: string;
  quarantineLimit?: string;
  json?: boolean;
  demoKey?: boolean;
  quiet?: boolean;
  until?: string;
  memory?: string;
}

export function summarize(r: RunRecord): string {
  const lines = [
    `run ${r.runId}: ${r.status}${r.error ? ` (${r.error})` : ''}`,
    `files: ${r.summary.seen} new (${r.summary.loaded} loaded, ${r.summary.duplicate} duplicate, ${r.summary.rejected} rejected)`,
    `rows: ${r.summary.rows.delivered} delivered = ${r.summary.rows.refined} refined + ${r.summary.rows.quarantined} quarantined + ${r.summary.rows.duplicate} duplicate + ${r.summary.rows.skipped} skipped`,
  ];
  for (const [name, s] of Object.entries(r.sources)) {
    lines.push(`  ${name.padEnd(10)} ${String(s.files).padStart(4)} file(s) ${String(s.rows.delivered).padStart(9)} rows, ${(s.quarantineShare * 100).toFixed(2)}% quarantined${s.status === 'failed' ? '  FAILED (over the quarantine limit)' : ''}`);
  }
  const rules = Object.entries(r.quarantineByRule);
  if (rules.length > 0) lines.push(`quarantine by rule: ${rules.map(([k, v]) => `${k} ${v}`).join(', ')}`);
  for (const f of r.rejected) lines.push(`rejected ${f.path}: ${f.reason}${f.detail ? ` (${f.detail})` : ''}`);
  const models = r.stages['models'] as { models?: unknown[]; tests?: Array<{ status: string; severity: string }>; blocked?: boolean } | null | undefined;
  if (models?.models && models.tests) {
    const failed = models.tests.filter((t) => t.status === 'fail' || t.status === 'error');
    lines.push(
      `models: ${models.models.length} built; data tests: ${models.tests.length - failed.length} passed or skipped, ${failed.filter((t) => t.severity === 'error').length} failed (error), ${failed.filter((t) => t.severity !== 'error').length} failed (warn)`,
    );
  }
  const publish = r.stages['publish'] as { published?: boolean; reason?: string; snapshotId?: number; dataThrough?: string | null } | null | undefined;
  if (publish) {
    lines.push(publish.published ? `published snapshot ${publish.snapshotId} (data through ${publish.dataThrough ?? 'unknown'})` : `not published: ${publish.reason ?? 'unknown reason'}; the previous snapshot stays current`);
  }
  lines.push(`took ${((r.durations['total'] ?? 0) / 1000).toFixed(1)} s; record in ${r.lake}/runs/${r.runId}.json`);
  return lines.join('\n');
}

export function registerPipeline(program: Command): void {
  const pipeline = program.command('pipeline').description('the data pipeline: raw → refined → marts (models, data tests) → published snapshot');
  pipeline
    .command('run')
    .description('inhale the new files of the landing folder into the lake: archive them (raw), check them against the contracts, pseudonymize and refine them (bad rows are quarantined with a reason); then build the marts, run the data tests and, when they pass, publish a snapshot')
    .option('--landing <dir>', 'landing folder, <source>/<delivery date>/<files> (or EDLAKE_LANDING; default ./data/landing)')
    .option('--lake <dir>', 'lake folder (or EDLAKE_LAKE; default ./data/lake)')
    .option('--tenant <code>', 'default tenant (district) code used in keys (or EDLAKE_TENANT)')
    .option('--quarantine-limit <share>', 'share of a source’s rows (0-1) that may be quarantined before the source is marked failed (or EDLAKE_QUARANTINE_LIMIT)')
    .option('--json', 'print the run record as JSON on standard output')
    .option('--demo-key', 'demo only: without EDLAKE_PII_KEY, create (once) a key in <lake>/../.edlake/demo-secrets.json')
    .option('--quiet', 'no progress messages on standard error')
    .option('--memory <amount>', 'memory the run’s DuckDB may use, e.g. 8GB or 60% (or EDLAKE_PIPELINE_MEMORY; default 60% of the machine)')
    .option('--until <stage>', 'stop after this stage: refined, marts (models and data tests) or published (default)', 'published')
    .action(async (o: RunOpts) => {
      const until = o.until ?? 'published';
      if (until !== 'refined' && until !== 'marts' && until !== 'published') {
        throw new UsageError(`--until: expected refined, marts or published (got ${JSON.stringify(until)})`);
      }
      const config = loadConfig({ landing: o.landing, lake: o.lake, tenant: o.tenant, quarantineLimit: o.quarantineLimit, pipelineMemory: o.memory });
      let record: RunRecord;
      try {
        record = await runNightly(config, {
          until: until satisfies Until,
          demoKey: o.demoKey ?? false,
          log: o.quiet || o.json ? () => {} : (m) => process.stderr.write(`${m}\n`),
        });
      } catch (err) {
        if (err instanceof MissingPiiKeyError || err instanceof LakeLockedError) throw new UsageError(err.message);
        throw err;
      }
      process.stdout.write(o.json ? `${JSON.stringify(record, null, 2)}\n` : `${summarize(record)}\n`);
      // main() turns a CommanderError into the process exit code (nothing more is printed).
      if (record.status === 'failed') throw new CommanderError(1, 'edlake.pipeline.failed', record.error ?? 'the run failed');
      if (record.failedSources.length > 0) throw new CommanderError(3, 'edlake.pipeline.sourceFailed', `sources over the quarantine limit: ${record.failedSources.join(', ')}`);
    });
}
