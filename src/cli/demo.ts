/**
 * `edlake demo` (what `npm start` runs): edlake on its built-in sample district, with no setup.
 *
 * 1. creates the demo secrets once (src/demo.ts), outside the lake's data;
 * 2. generates the sample district into <dir> if the lake has no snapshot and no district yet;
 * 3. runs the whole pipeline (raw → refined → marts → tests → published snapshot);
 * 4. serves the API (GraphiQL at /graphql, dictionary at /docs) and prints the URL, one demo token
 *    per role and two example queries.
 * A second run reuses the lake (and picks up any new deliveries in the landing folder).
 */
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { loadConfig, type Config } from '../config.ts';
import { UsageError } from './errors.ts';
import { demoSecrets, pickDemoStaff, type DemoStaff } from '../demo.ts';
import { generate } from '../../seeds/generator/generate.ts';
import { runNightly } from '../../pipeline/nightly.ts';
import { readCurrent } from '../catalog/index.ts';
import { mintToken } from '../auth/jwt.ts';
import { ROLES, type Role } from '../auth/roles.ts';
import { buildApp } from '../server/app.ts';
import { startServer } from '../server/start.ts';
import { CatalogSnapshotSource } from '../server/catalog-source.ts';
import { IdentityStore } from '../../resolvers/identity.ts';

interface DemoOpts {
  dir: string;
  students: string;
  through: string;
  port?: string;
  serve: boolean;
}

const BANNER = [
  '============================================================================',
  ' edlake is running in DEMO MODE on a generated, fictional sample district.',
  ' Demo secrets were created for you; tokens below are for trying the API only.',
  ' Never load real student data into a demo lake.',
  '============================================================================',
];

async function demoTokens(config: Config, staff: DemoStaff | undefined): Promise<Array<{ role: Role; who: string; token: string }>> {
  const out: Array<{ role: Role; who: string; token: string }> = [];
  for (const role of ROLES) {
    const staffId = role === 'teacher' ? staff?.teacherId : role === 'principal' ? staff?.principalId : undefined;
    if ((role === 'teacher' || role === 'principal') && staffId === undefined) continue;
    // the demo lake holds two districts (tenants): district-wide demo tokens carry the "*" tenant
    // claim, which a real deployment grants only to consortium or state roles (decision 0605)
    const token = await mintToken(config, { role, ...(staffId ? { staffId } : {}), ...(staffId ? {} : { tenant: '*' }), subject: staffId ?? `demo-${role}`, ttlSeconds: 12 * 3600 });
    out.push({ role, who: staffId ? `staff ${staffId}` : 'every district of the lake', token });
  }
  return out;
}

const EXAMPLE_TEACHER_QUERY = `{ published { snapshot { id publishedAt dataThrough } sections(first: 5) { totalCount edges { node { courseTitle sectionIdentifier students { name { firstName lastName } attendance { absenceRate tier } } } } } } }`;
const EXAMPLE_ANALYST_QUERY = `{ published { equityOutcomes(districtOnly: true) { tenant groupLabel students attendanceRate chronicAbsenceRate proficiencyRatePrior predictedProficiencyRate suppressed } } }`;

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('run edlake on its built-in sample district: generate it (first time), run the pipeline, serve the API with demo tokens (what `npm start` runs)')
    .option('--dir <dir>', 'folder of the demo: <dir>/landing, <dir>/lake, <dir>/truth', './data')
    .option('--students <n>', 'size of the sample district when it is generated', '2000')
    .option('--through <date>', 'last delivery night of the sample district (YYYY-MM-DD)', '2026-03-13')
    .option('--port <n>', 'TCP port of the API (or EDLAKE_PORT; default 4000)')
    .option('--no-serve', 'build the lake and stop (no server)')
    .action(async (o: DemoOpts) => {
      const dir = resolve(o.dir);
      const landing = join(dir, 'landing');
      const lake = join(dir, 'lake');
      const students = Number(o.students);
      if (!Number.isInteger(students) || students < 50 || students > 200_000) throw new UsageError('--students: expected a whole number between 50 and 200000');
      const say = (m: string) => process.stderr.write(`${m}\n`);
      for (const line of BANNER) say(line);

      const current = await readCurrent(lake);
      const hasDeliveries = existsSync(landing) && readdirSync(landing).length > 0;
      if (!hasDeliveries) {
        say(`Generating the sample district (${students} students, through ${o.through}) into ${dir} ...`);
        const res = await generate({ students, seed: 2026, out: dir, schoolYear: 2026, through: o.through, messiness: 'realistic', log: say });
        say(`  ${res.files} files over ${res.deliveries} delivery nights, ${res.defects} injected defects (see ${join(dir, 'truth')})`);
      }
      // Secrets after the district: the generator writes only into an empty or generated folder.
      const secrets = demoSecrets(lake);
      // The demo's own secrets win over anything set for a real deployment in this shell.
      const config = loadConfig(
        { landing, lake, port: o.port },
        { ...process.env, EDLAKE_PII_KEY: secrets.piiKey, EDLAKE_JWT_SECRET: secrets.jwtSecret, EDLAKE_API_PRODUCTION: 'false', EDLAKE_JWT_JWKS_URL: '', EDLAKE_JWT_JWKS_FILE: '' },
      );
      if (!current || !hasDeliveries) {
        say('Running the pipeline: raw → refined → marts → data tests → published snapshot ...');
      } else {
        say(`Reusing the lake in ${lake} (current snapshot ${current.snapshot_id}); loading any new deliveries ...`);
      }
      const record = await runNightly(config, { log: (m) => say(`  ${m}`) });
      const publish = record.stages['publish'] as { published?: boolean; snapshotId?: number; reason?: string } | undefined;
      if (record.status !== 'succeeded') say(`The pipeline run failed: ${record.error ?? 'see the run record'} (${lake}/runs/${record.runId}.json)`);
      else if (publish?.published) say(`Published snapshot ${publish.snapshotId}.`);
      else if (publish) say(`Nothing new published (${publish.reason ?? 'no reason given'}); serving the current snapshot.`);
      if (!(await readCurrent(lake))) throw new Error(`no snapshot could be published in ${lake}; see ${lake}/runs/${record.runId}.json`);

      if (!o.serve) return;
      const source = new CatalogSnapshotSource({ lake, timezone: config.timezone });
      const app = buildApp({ config, source, identity: IdentityStore.forLake(lake), lake, log: () => {} });
      const started = await startServer(app, config.port, '127.0.0.1');
      const base = `http://localhost:${started.port}`;
      const staff = pickDemoStaff(dir);
      const tokens = await demoTokens(config, staff);
      const out: string[] = [
        '',
        ...BANNER,
        `GraphQL (GraphiQL in a browser): ${base}/graphql`,
        `Data dictionary and lineage:     ${base}/docs`,
        `Health: ${base}/healthz   Readiness: ${base}/readyz   Metrics: ${base}/metrics`,
        '',
        'Demo tokens (valid 12 hours; in GraphiQL add the header {"Authorization": "Bearer <token>"}):',
        ...tokens.map((t) => `  ${t.role.padEnd(13)} (${t.who}):\n    ${t.token}`),
      ];
      if (staff) out.push('', `The teacher teaches mathematics at school ${staff.teacherSchool} (${staff.schoolName}); the principal leads it.`);
      const teacher = tokens.find((t) => t.role === 'teacher') ?? tokens[0];
      const analyst = tokens.find((t) => t.role === 'data_analyst') ?? tokens[0];
      out.push(
        '',
        'Example 1, a teacher’s sections with student names and absence tiers:',
        `  curl -s ${base}/graphql -H 'content-type: application/json' -H 'authorization: Bearer ${teacher?.token ?? ''}' \\`,
        `    -d '${JSON.stringify({ query: EXAMPLE_TEACHER_QUERY })}'`,
        '',
        'Example 2, district equity outcomes by student group, for an analyst:',
        `  curl -s ${base}/graphql -H 'content-type: application/json' -H 'authorization: Bearer ${analyst?.token ?? ''}' \\`,
        `    -d '${JSON.stringify({ query: EXAMPLE_ANALYST_QUERY })}'`,
        '',
        'Press Ctrl+C to stop. `npm start` again reuses this lake.',
      );
      process.stdout.write(`${out.join('\n')}\n`);
      await new Promise<void>((done) => {
        process.once('SIGINT', () => done());
        process.once('SIGTERM', () => done());
      });
      await started.close();
      await source.close();
    });
}
