/**
 * `edlake model list | run | calibrate`: the SQL models of `sql/` for development, and the
 * calibration of the prediction model.
 *
 * - `list` shows the models in run order with their layer and what they read.
 * - `run [model...]` builds the models (the named ones with their dependencies only) in the lake's
 *   working database, holding the lake's lock, then runs their data tests; exit code 4 when an
 *   error-severity test fails (the pipeline would not publish).
 * - `calibrate` reads the lake's working database (read only), fits the linking and prediction
 *   parameters on history, appends them to the seed CSVs as a new active model version and reports
 *   the fit (R², RMSE). The next pipeline run predicts with it.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { CommanderError, type Command } from 'commander';
import { loadConfig } from '../config.ts';
import { Db, ident, literal } from '../db/duckdb.ts';
import { UsageError } from './errors.ts';
import { acquireLakeLock, LakeLockedError } from '../../pipeline/lock.ts';
import { loadProject, withDependencies } from '../../pipeline/models/project.ts';
import { runModels, type RunModelsResult } from '../../pipeline/models/runner.ts';
import { MetadataError } from '../../pipeline/models/metadata.ts';
import { DEFAULT_SEEDS_DIR } from '../../seeds/load.ts';
import { CALIBRATION_METHOD, fitCalibration, newModelVersion, writeCalibration, type CalibrationReport } from '../../pipeline/predict/calibrate.ts';

interface LakeOpts {
  lake?: string;
  seeds?: string;
  json?: boolean;
}

function workDb(lake: string): string {
  const file = path.join(lake, 'work.duckdb');
  if (!existsSync(file)) throw new UsageError(`no working database at ${file}: run \`edlake pipeline run --lake ${lake}\` first`);
  return file;
}

function seedsDir(dir: string | undefined): string {
  const d = path.resolve(dir ?? DEFAULT_SEEDS_DIR);
  if (!existsSync(path.join(d, 'prediction_models.csv'))) throw new UsageError(`--seeds ${d}: not a seeds folder (no prediction_models.csv)`);
  return d;
}

export function summarizeRun(r: RunModelsResult): string {
  const lines = r.models.map((m) => `${m.name.padEnd(34)} ${String(m.rows).padStart(10)} rows ${String(m.ms.toFixed(0)).padStart(8)} ms`);
  const failing = r.tests.filter((t) => t.status === 'fail' || t.status === 'error');
  const passed = r.tests.filter((t) => t.status === 'pass').length;
  lines.push(`data tests: ${passed} passed, ${failing.length} failing, ${r.tests.filter((t) => t.status === 'skipped').length} skipped`);
  for (const t of failing) {
    lines.push(`  ${t.severity.toUpperCase()} ${t.name}: ${t.status}, ${t.failures} row(s)${t.message ? ` (${t.message})` : ''}`);
    if (t.sample[0]) lines.push(`    e.g. ${JSON.stringify(t.sample[0])}`);
  }
  if (r.tests.length === 0) lines.push(`built in ${r.ms} ms; data tests not run (this build must not be published)`);
  else lines.push(r.blocked ? 'blocked: an error-severity test failed; this build must not be published' : `ok in ${r.ms} ms`);
  return lines.join('\n');
}

export function summarizeCalibration(c: CalibrationReport): string {
  const lines = [`model version ${c.modelVersion} (from ${c.previousVersion}), now active`, 'links (state = slope x interim + intercept):'];
  for (const l of c.links.filter((x) => x.origin === 'fitted')) {
    lines.push(`  ${l.vendor.padEnd(9)} ${l.subject.padEnd(5)} grade ${String(l.grade).padStart(2)} ${(l.window ?? 'any').padEnd(6)}: n ${String(l.n).padStart(6)}  slope ${l.slope.toFixed(3)}  intercept ${l.intercept.toFixed(1)}  R² ${l.r2.toFixed(3)}  RMSE ${l.rmse.toFixed(1)}`);
  }
  const pooled = c.links.filter((x) => x.origin === 'pooled').length;
  if (pooled > 0) lines.push(`  ${pooled} link(s) of grades without their own history pooled over the vendor's grades`);
  const kept = c.links.filter((x) => x.origin === 'previous').length;
  if (kept > 0) lines.push(`  ${kept} link(s) without enough history kept from ${c.previousVersion}`);
  for (const e of c.errors) {
    lines.push(`error ${e.subject}: sigma interim ${e.sigmaInterim.toFixed(1)}, sigma prior ${e.sigmaPrior.toFixed(1)} (${e.origin}, ${e.students} students in two windows)`);
  }
  for (const p of c.predictions) {
    lines.push(`  ${p.subject.padEnd(5)} grade ${String(p.grade).padStart(2)}: growth ${p.growthPerYear.toFixed(1)} (${p.growthOrigin}), w interim ${p.wInterim.toFixed(2)}, SE ${p.seInterimOnly.toFixed(1)} / ${p.seWithPrior.toFixed(1)} with prior`);
  }
  return lines.join('\n');
}

/**
 * Calibrate from a lake: the lake's working database attached read-only under an in-memory
 * database, the needed models built there, the fit written to the seed CSVs.
 */
export async function calibrateLake(lake: string, opts: { seedsDir: string; version?: string }): Promise<CalibrationReport> {
  const db = await Db.open(':memory:');
  try {
    await db.run(`ATTACH ${literal(workDb(lake))} AS work (READ_ONLY)`);
    await db.run('CREATE SCHEMA refined');
    const tables = await db.all<{ t: string }>(`SELECT table_name AS t FROM duckdb_tables() WHERE database_name = 'work' AND schema_name = 'refined'`);
    if (tables.length === 0) throw new UsageError(`${workDb(lake)} has no refined tables: run the pipeline first`);
    for (const { t } of tables) await db.run(`CREATE VIEW refined.${ident(t)} AS SELECT * FROM work.refined.${ident(t)}`);
    await runModels(db, { seedsDir: opts.seedsDir, select: ['fct_assessment_results', 'bld_as_of', 'dim_student'], skipTests: true });
    const report = await fitCalibration(db, opts.version ?? newModelVersion());
    writeCalibration(report, { seedsDir: opts.seedsDir, method: CALIBRATION_METHOD });
    return report;
  } finally {
    db.close();
  }
}

export function registerModel(program: Command): void {
  const model = program.command('model').description('the SQL models (sql/): list them, build them for development, calibrate the prediction model');

  model
    .command('list')
    .description('list the models in run order, with their layer and the relations they read')
    .option('--json', 'print as JSON')
    .action((o: { json?: boolean }) => {
      let project;
      try {
        project = loadProject();
      } catch (err) {
        if (err instanceof MetadataError) throw new UsageError(err.message);
        throw err;
      }
      const rows = project.order.map((n) => {
        const m = project.models.get(n)!;
        return { name: n, layer: m.layer, reads: [...m.dependsOn.map((d) => `marts.${d}`), ...m.sources], grain: m.meta.grain };
      });
      process.stdout.write(o.json ? `${JSON.stringify(rows, null, 2)}\n` : `${rows.map((r) => `${r.layer.padEnd(10)} ${r.name.padEnd(34)} ${r.reads.join(', ')}`).join('\n')}\n`);
    });

  model
    .command('run')
    .description('build models in the lake’s working database (the named ones and what they read; all without names), then run their data tests')
    .argument('[models...]', 'models to build, with their dependencies')
    .option('--lake <dir>', 'lake folder (or EDLAKE_LAKE; default ./data/lake)')
    .option('--seeds <dir>', 'seeds folder (default: the repository’s seeds/reference)')
    .option('--no-tests', 'skip the data tests (development only)')
    .option('--json', 'print the result as JSON')
    .action(async (names: string[], o: LakeOpts & { tests: boolean }) => {
      const config = loadConfig({ lake: o.lake });
      const file = workDb(config.lake);
      try {
        withDependencies(loadProject(), names);
      } catch (err) {
        if (err instanceof MetadataError) throw new UsageError(err.message);
        throw err;
      }
      let lock;
      try {
        lock = acquireLakeLock(config.lake, 'edlake model run');
      } catch (err) {
        if (err instanceof LakeLockedError) throw new UsageError(err.message);
        throw err;
      }
      try {
        const db = await Db.open(file);
        const result = await runModels(db, {
          seedsDir: seedsDir(o.seeds),
          ...(names.length > 0 ? { select: names } : {}),
          skipTests: !o.tests,
          onModel: o.json ? undefined : (m, k, total) => process.stderr.write(`[${k + 1}/${total}] ${m.name} ${m.rows} rows ${m.ms.toFixed(0)} ms\n`),
        });
        db.close();
        process.stdout.write(o.json ? `${JSON.stringify(result, null, 2)}\n` : `${summarizeRun(result)}\n`);
        if (o.tests && result.blocked) throw new CommanderError(4, 'edlake.model.blocked', 'an error-severity data test failed');
      } finally {
        lock.release();
      }
    });

  model
    .command('calibrate')
    .description('fit the interim-to-state linking and prediction parameters on the lake’s history (students with interim and prior state scores), write them to the seeds as a new active model version, and report R² and RMSE')
    .option('--lake <dir>', 'lake folder (or EDLAKE_LAKE; default ./data/lake)')
    .option('--seeds <dir>', 'seeds folder to write (default: the repository’s seeds/reference)')
    .option('--version <name>', 'name of the new model version (default cal-<UTC time>)')
    .option('--json', 'print the fit as JSON')
    .action(async (o: LakeOpts & { version?: string }) => {
      const config = loadConfig({ lake: o.lake });
      if (o.version !== undefined && !/^[A-Za-z0-9._-]{1,64}$/.test(o.version)) {
        throw new UsageError(`--version ${JSON.stringify(o.version)}: expected letters, digits, '.', '_' or '-' (at most 64)`);
      }
      const report = await calibrateLake(config.lake, { seedsDir: seedsDir(o.seeds), ...(o.version ? { version: o.version } : {}) });
      process.stdout.write(o.json ? `${JSON.stringify(report, null, 2)}\n` : `${summarizeCalibration(report)}\n`);
    });
}
