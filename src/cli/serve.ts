/**
 * `edlake serve [--lake DIR] [--port N] [--with-pipeline]`: the GraphQL API over the lake's
 * published snapshots (GraphQL at /graphql; /healthz, /readyz, /metrics).
 */
import type { Command } from 'commander';
import { loadConfig } from '../config.ts';
import { buildApp } from '../server/app.ts';
import { startServer } from '../server/start.ts';
import { CatalogSnapshotSource } from '../server/catalog-source.ts';
import { IdentityStore } from '../../resolvers/identity.ts';
import { startScheduler } from '../../pipeline/schedule/scheduler.ts';
import { usesProductionKeys } from '../auth/jwt.ts';

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('serve the published snapshots over GraphQL (/graphql), with /healthz, /readyz and /metrics')
    .option('--lake <dir>', 'lake folder (or EDLAKE_LAKE)')
    .option('--port <n>', 'TCP port (or EDLAKE_PORT; 0 picks a free one)')
    .option('--with-pipeline', 'also run the pipeline schedule in this process (nightly, see `edlake pipeline schedule`)')
    .action(async (o: { lake?: string; port?: string; withPipeline?: boolean }) => {
      const cfg = loadConfig({ lake: o.lake, port: o.port });
      const log = (e: Record<string, unknown>) => process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), ...e })}\n`);
      const source = new CatalogSnapshotSource({ lake: cfg.lake, timezone: cfg.timezone });
      const app = buildApp({ config: cfg, source, identity: IdentityStore.forLake(cfg.lake, cfg.tenant), lake: cfg.lake });
      const started = await startServer(app, cfg.port);
      log({
        level: 'info',
        msg: 'edlake API listening',
        port: started.port,
        graphql: `http://localhost:${started.port}/graphql`,
        production: cfg.apiProduction,
        token_keys: usesProductionKeys(cfg) ? 'jwks' : 'shared secret',
      });
      const scheduler = o.withPipeline
        ? startScheduler({ lake: cfg.lake, landing: cfg.landing, timezone: cfg.timezone, log: (line) => log({ level: 'info', msg: 'scheduler', detail: line }) })
        : undefined;
      if (scheduler) log({ level: 'info', msg: 'pipeline schedule running', cron: scheduler.cron, next_run: scheduler.nextRun()?.toISOString() ?? null });
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      log({ level: 'info', msg: 'stopping' });
      await scheduler?.stop();
      await started.close();
      await source.close();
    });
}
