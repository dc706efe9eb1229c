/**
 * `edlake snapshots list | show | verify | expire`, and the run log and scheduler commands
 * (`edlake pipeline runs`, `edlake pipeline schedule`; see decision 0501 for where they attach).
 */
import { Command, CommanderError, Option } from 'commander';
import { loadConfig } from '../config.ts';
import { UsageError } from './errors.ts';
import {
  SnapshotCatalog,
  SnapshotNotFoundError,
  expireSnapshots,
  localDate,
  summarize,
  verifyCatalog,
  type LoadedManifest,
} from '../catalog/index.ts';
import { listRuns } from '../../pipeline/publish/runlog.ts';
import { acquireLakeLock, LakeLockedError } from '../../pipeline/lock.ts';
import { DEFAULT_CRON, ScheduleError, startScheduler } from '../../pipeline/schedule/scheduler.ts';
import { buildDictionary } from '../../pipeline/dictionary/build.ts';
import { renderDictionaryHtml, renderSnapshotDocs } from '../../pipeline/dictionary/render.ts';
import fs from 'node:fs/promises';
import path from 'node:path';

interface CommonOpts {
  lake?: string;
  timezone?: string;
  json?: boolean;
}

const out = (s: string): void => {
  process.stdout.write(s.endsWith('\n') ? s : `${s}\n`);
};

function common(cmd: Command): Command {
  return cmd
    .option('--lake <dir>', 'lake folder (or EDLAKE_LAKE)')
    .option('--timezone <tz>', "district's time zone for dates (or EDLAKE_TIMEZONE)")
    .option('--json', 'print JSON instead of a table');
}

function config(o: CommonOpts) {
  return loadConfig({ lake: o.lake, timezone: o.timezone });
}

export function fmtBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 ? 2 : 1)} ${units[i]}`;
}

function fmtLocal(iso: string, tz: string): string {
  const d = new Date(iso);
  const t = new Intl.DateTimeFormat('en-US', { timeZone: tz, hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZoneName: 'short' }).format(d);
  return `${localDate(d, tz)} ${t}`;
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}

/** A selector from the command line: a snapshot id or a date. */
function parseSelector(arg: string): { snapshotId: number } | { asOf: string } {
  if (/^\d+$/.test(arg)) return { snapshotId: Number(arg) };
  if (/^\d{4}-\d{2}-\d{2}$/.test(arg)) return { asOf: arg };
  throw new UsageError(`expected a snapshot id (a whole number) or a date as YYYY-MM-DD, got ${JSON.stringify(arg)}`);
}

function fail(code: number, message: string): never {
  process.stderr.write(`edlake: ${message}\n`);
  throw new CommanderError(code, 'edlake.failed', message);
}

function showManifest(l: LoadedManifest, tz: string): string {
  const m = l.manifest;
  const s = summarize(l);
  const lines = [
    `snapshot ${m.snapshot_id}`,
    `  published      ${m.published_at} (${fmtLocal(m.published_at, tz)})`,
    `  data through   ${m.data_through ?? '-'}`,
    `  run            ${m.run_id}`,
    `  manifest       manifests/${m.snapshot_id}.json sha256 ${l.sha256}`,
    `  previous       ${m.previous_snapshot_id ?? '-'}${m.previous_manifest_sha256 ? ` sha256 ${m.previous_manifest_sha256}` : ''}`,
    `  written by     edlake ${m.writer.edlake}, DuckDB ${m.writer.duckdb}`,
    `  source files   ${m.source_files.length}`,
    `  model versions ${Object.entries(m.model_versions).map(([k, v]) => `${k}=${v}`).join(', ') || '-'}`,
    `  tables         ${s.tables} (${s.rows.toLocaleString('en-US')} rows, ${fmtBytes(s.bytes)})`,
    '',
  ];
  const rows = [['table', 'tier', 'rows', 'size', 'columns', 'file']];
  for (const t of m.tables) {
    const bytes = t.files.reduce((a, f) => a + f.bytes, 0);
    rows.push([
      `${t.schema}.${t.name}`,
      t.tier,
      t.row_count.toLocaleString('en-US'),
      fmtBytes(bytes),
      String(t.columns.length),
      t.files.length === 1 ? t.files[0]!.path : `${t.files.length} files${t.partition_by ? ` (one per month of ${t.partition_by})` : ''}`,
    ]);
  }
  return lines.join('\n') + table(rows);
}

export function registerSnapshots(program: Command): void {
  const snaps = program.command('snapshots').description('published snapshots: list, show, verify, expire');

  common(snaps.command('list'))
    .description('list the snapshots readers can use, oldest first (* marks the current one)')
    .action(async (o: CommonOpts) => {
      const cfg = config(o);
      const cat = new SnapshotCatalog(cfg.lake, { timezone: cfg.timezone });
      const list = await cat.list();
      const cur = await cat.currentPointer();
      if (o.json) return out(JSON.stringify({ current: cur?.snapshot_id ?? null, snapshots: list }, null, 2));
      if (list.length === 0) return out(`no snapshot published yet in ${cfg.lake}`);
      const rows = [['', 'id', `published (${cfg.timezone})`, 'data through', 'run', 'tables', 'rows', 'size']];
      for (const s of list) {
        rows.push([
          s.snapshot_id === cur?.snapshot_id ? '*' : '',
          String(s.snapshot_id),
          fmtLocal(s.published_at, cfg.timezone),
          s.data_through ?? '-',
          s.run_id,
          String(s.tables),
          s.rows.toLocaleString('en-US'),
          fmtBytes(s.bytes),
        ]);
      }
      out(table(rows));
    });

  common(snaps.command('show').argument('<snapshot>', 'snapshot id, or a date (the snapshot that answered on that day)'))
    .description("show a snapshot's manifest: run, data-through date, tables, files, checksums")
    .action(async (arg: string, o: CommonOpts) => {
      const cfg = config(o);
      const cat = new SnapshotCatalog(cfg.lake, { timezone: cfg.timezone });
      let l: LoadedManifest;
      try {
        l = await cat.resolve(parseSelector(arg));
      } catch (e) {
        if (e instanceof SnapshotNotFoundError) fail(1, e.message);
        throw e;
      }
      out(o.json ? JSON.stringify(l.manifest, null, 2) : showManifest(l, cfg.timezone));
    });

  common(snaps.command('verify'))
    .description('recheck every checksum of every snapshot file and the hash chain of the manifests; exit 1 and name what was altered')
    .action(async (o: CommonOpts) => {
      const cfg = config(o);
      const r = await verifyCatalog(cfg.lake);
      if (o.json) out(JSON.stringify(r, null, 2));
      else {
        for (const e of r.errors) out(`ALTERED ${e.path}${e.snapshots.length ? ` (snapshot ${e.snapshots.join(', ')})` : ''}: ${e.problem}`);
        for (const n of r.notes) out(`note    ${n.path}: ${n.problem}`);
        out(
          `${r.ok ? 'ok' : 'FAILED'}: ${r.snapshotsChecked} snapshots, ${r.filesChecked} files (${fmtBytes(r.bytesChecked)}) checked; current snapshot ${r.currentSnapshot ?? 'none'}; ${r.errors.length} problems, ${r.notes.length} notes`,
        );
      }
      if (!r.ok) throw new CommanderError(1, 'edlake.verifyFailed', 'verify found altered or missing files');
    });

  common(snaps.command('expire'))
    .description('remove snapshots published more than N days ago (never the current one) and files no kept snapshot references')
    .requiredOption('--keep-days <n>', 'retention in days')
    .option('--dry-run', 'say what would be removed, remove nothing')
    .action(async (o: CommonOpts & { keepDays: string; dryRun?: boolean }) => {
      const cfg = config(o);
      if (!/^\d+$/.test(o.keepDays)) throw new UsageError(`--keep-days: expected a whole number of days, got ${JSON.stringify(o.keepDays)}`);
      let lock;
      try {
        lock = acquireLakeLock(cfg.lake, 'snapshots expire');
      } catch (e) {
        if (e instanceof LakeLockedError) fail(3, e.message);
        throw e;
      }
      try {
        const r = await expireSnapshots(cfg.lake, { keepDays: Number(o.keepDays), dryRun: o.dryRun ?? false });
        if (o.json) return out(JSON.stringify(r, null, 2));
        const verb = r.dryRun ? 'would remove' : 'removed';
        out(
          `${verb} snapshots [${r.expiredSnapshots.join(', ') || 'none'}], kept [${r.keptSnapshots.join(', ') || 'none'}]; ${verb} ${r.removedFiles.length} files (${fmtBytes(r.freedBytes)})`,
        );
      } finally {
        lock.release();
      }
    });

  const docs = program.command('docs').description('the living data dictionary');
  docs
    .command('build')
    .description("write the data dictionary as static HTML (index.html) and JSON: a snapshot's dictionary (default the current one), or the repository's")
    .requiredOption('--out <dir>', 'folder to write into (created if needed)')
    .option('--lake <dir>', 'lake folder (or EDLAKE_LAKE)')
    .option('--timezone <tz>', "district's time zone for --snapshot dates (or EDLAKE_TIMEZONE)")
    .option('--snapshot <id|date>', 'the snapshot whose dictionary to write (default: current)')
    .option('--from-repo', 'build from the repository (sql/, contracts, sources, seed CSVs) instead of a snapshot')
    .option('--sql <dir>', 'SQL project folder for --from-repo (default sql/)')
    .action(async (o: { out: string; lake?: string; timezone?: string; snapshot?: string; fromRepo?: boolean; sql?: string }) => {
      const cfg = loadConfig({ lake: o.lake, timezone: o.timezone });
      await fs.mkdir(o.out, { recursive: true });
      let html: string;
      let json: unknown;
      let what: string;
      if (o.fromRepo) {
        const d = await buildDictionary(o.sql ? { sqlDir: path.resolve(o.sql) } : {});
        html = renderDictionaryHtml(d);
        json = d;
        what = 'the repository';
      } else {
        const cat = new SnapshotCatalog(cfg.lake, { timezone: cfg.timezone });
        let l: LoadedManifest;
        try {
          l = await cat.resolve(o.snapshot ? parseSelector(o.snapshot) : {});
        } catch (e) {
          if (e instanceof SnapshotNotFoundError) fail(1, `${e.message} (use --from-repo to build from the repository)`);
          throw e;
        }
        html = renderSnapshotDocs(l.manifest);
        json = l.manifest.dictionary;
        what = `snapshot ${l.manifest.snapshot_id}`;
      }
      await fs.writeFile(path.join(o.out, 'index.html'), html);
      await fs.writeFile(path.join(o.out, 'dictionary.json'), `${JSON.stringify(json, null, 2)}\n`);
      out(`wrote the data dictionary of ${what} to ${path.join(o.out, 'index.html')} and dictionary.json`);
    });

  // The run log and the scheduler belong under `edlake pipeline`; attach there when that command
  // is registered before this one, else offer them as top-level `edlake runs` / `edlake schedule`.
  const pipeline = program.commands.find((c) => c.name() === 'pipeline');
  addPipelineSubcommands(pipeline ?? program);
}

/** Add `runs` and `schedule` to a command (the pipeline command, or the program as a fallback). */
export function addPipelineSubcommands(parent: Command): void {
  common(parent.command('runs'))
    .description('list the pipeline runs recorded in the lake (successful, failed, blocked by tests), newest first')
    .option('--limit <n>', 'show at most n runs', '50')
    .option('--status <status>', 'only runs with this status')
    .action(async (o: CommonOpts & { limit: string; status?: string }) => {
      const cfg = config(o);
      if (!/^\d+$/.test(o.limit)) throw new UsageError(`--limit: expected a whole number, got ${JSON.stringify(o.limit)}`);
      let runs = await listRuns(cfg.lake);
      if (o.status) runs = runs.filter((r) => r.status === o.status);
      runs = runs.slice(0, Number(o.limit));
      if (o.json) return out(JSON.stringify(runs.map((r) => r.record ?? { runId: r.runId, error: r.error }), null, 2));
      if (runs.length === 0) return out(`no pipeline run recorded in ${cfg.lake}`);
      const rows = [['run', `started (${cfg.timezone})`, 'status', 'duration', 'files', 'snapshot']];
      for (const r of runs) {
        rows.push([
          r.runId,
          r.startedAt ? fmtLocal(r.startedAt, cfg.timezone) : '-',
          r.error ? `unreadable: ${r.error}` : r.status,
          r.durationMs !== null ? `${(r.durationMs / 1000).toFixed(1)} s` : '-',
          r.files !== null ? String(r.files) : '-',
          r.snapshotId !== null ? String(r.snapshotId) : '-',
        ]);
      }
      out(table(rows));
    });

  parent
    .command('schedule')
    .description(`run the pipeline on a cron schedule in the district's time zone (default "${DEFAULT_CRON}", nightly at 02:00); skips while another process holds the lake`)
    .option('--lake <dir>', 'lake folder (or EDLAKE_LAKE)')
    .option('--landing <dir>', 'landing folder (or EDLAKE_LANDING)')
    .option('--timezone <tz>', "district's time zone (or EDLAKE_TIMEZONE)")
    .option('--cron <expr>', 'cron expression (5 fields, or 6 with seconds)', DEFAULT_CRON)
    .addOption(new Option('--run-now', 'also start a run immediately'))
    .action(async (o: { lake?: string; landing?: string; timezone?: string; cron: string; runNow?: boolean }) => {
      const cfg = loadConfig({ lake: o.lake, landing: o.landing, timezone: o.timezone });
      let s;
      try {
        s = startScheduler({ lake: cfg.lake, landing: cfg.landing, cron: o.cron, timezone: cfg.timezone });
      } catch (e) {
        if (e instanceof ScheduleError) throw new UsageError(`--cron: ${e.message}`);
        throw e;
      }
      if (o.runNow) void s.runNow();
      await new Promise<void>((resolve) => {
        const stop = () => {
          process.stderr.write('schedule: stopping (a run in progress is asked to stop and awaited)\n');
          void s.stop().then(resolve);
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });
}
