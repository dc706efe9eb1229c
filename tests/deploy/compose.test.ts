/**
 * The deployment files without a Docker engine: docker-compose.yml parses and declares what a
 * one-server deployment needs; the Dockerfile is multi-stage; and the image's start command is run
 * here, from a folder holding only what the Dockerfile copies into the runtime stage, against a lake
 * with a snapshot: it serves /healthz and /readyz and refuses an unauthenticated GraphQL call.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, parseDocument } from 'yaml';
import { Db } from '../../src/db/duckdb.ts';
import { writeSnapshot } from '../../src/catalog/index.ts';
import { buildNight, TABLES } from '../catalog/fixture.ts';
import { startProcess, JWT_SECRET, type Served } from '../reliability/lib.ts';

const ROOT = path.resolve(import.meta.dirname, '..', '..');

interface Service {
  image?: string;
  build?: unknown;
  command?: string[];
  entrypoint?: string[];
  environment?: Record<string, string>;
  env_file?: string | string[];
  volumes?: string[];
  restart?: string;
  init?: boolean;
  depends_on?: Record<string, { condition: string }> | string[];
  healthcheck?: { test: string[]; interval?: string; timeout?: string; retries?: number; start_period?: string };
}
interface Compose {
  services: Record<string, Service>;
  volumes: Record<string, unknown>;
}

/** Dockerfile instructions, with line continuations joined; JSON-form arguments parsed. */
function dockerfile(text: string): Array<{ op: string; args: string; json?: string[] }> {
  const out: Array<{ op: string; args: string; json?: string[] }> = [];
  const joined = text.replace(/\\\n/g, ' ');
  for (const raw of joined.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([A-Z]+)\s+(.*)$/.exec(line);
    if (!m) throw new Error(`Dockerfile: cannot read line ${JSON.stringify(line)}`);
    const args = m[2]!.trim();
    let json: string[] | undefined;
    if (args.startsWith('[')) json = JSON.parse(args) as string[];
    out.push({ op: m[1]!, args, ...(json ? { json } : {}) });
  }
  return out;
}

const compose = parse(fs.readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8')) as Compose;
const instructions = dockerfile(fs.readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8'));
/** Volume mounts of a service: named volume or host path → container path, read-only or not. */
const mounts = (s: Service) =>
  (s.volumes ?? []).map((v) => {
    const [src, dst, mode] = v.split(':');
    return { src: src!, dst: dst!, ro: mode === 'ro' };
  });

describe('docker-compose.yml', () => {
  it('parses without errors or warnings', () => {
    const doc = parseDocument(fs.readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8'));
    expect(doc.errors).toEqual([]);
    expect(doc.warnings).toEqual([]);
  });

  it('has the api, pipeline and metabase services, each with a restart policy and a health check', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['api', 'metabase', 'pipeline']);
    for (const [name, s] of Object.entries(compose.services)) {
      expect(['always', 'unless-stopped', 'on-failure'], name).toContain(s.restart);
      expect(s.healthcheck?.test?.length, name).toBeGreaterThan(1);
      expect(['CMD', 'CMD-SHELL'], name).toContain(s.healthcheck!.test[0]);
      for (const k of ['interval', 'timeout'] as const) expect(s.healthcheck![k], `${name} healthcheck ${k}`).toMatch(/^\d+(ms|s|m|h)$/);
      expect(s.healthcheck!.retries, name).toBeGreaterThan(0);
    }
    // The API's health check asks the readiness endpoint of the port it serves on.
    expect(compose.services['api']!.healthcheck!.test.join(' ')).toContain('http://127.0.0.1:4000/readyz');
    expect(compose.services['metabase']!.healthcheck!.test.join(' ')).toContain('/api/health');
  });

  it('shares one lake volume: the pipeline writes it, the API and Metabase read it, all at /lake', () => {
    expect(Object.keys(compose.volumes)).toContain('lake');
    const lakeMount = (name: string) => mounts(compose.services[name]!).find((m) => m.src === 'lake');
    expect(lakeMount('pipeline')).toEqual({ src: 'lake', dst: '/lake', ro: false });
    expect(lakeMount('api')).toEqual({ src: 'lake', dst: '/lake', ro: true });
    // The serving file names Parquet files by absolute path: Metabase must see the lake where the pipeline wrote it.
    expect(lakeMount('metabase')).toEqual({ src: 'lake', dst: '/lake', ro: true });
    const mb = compose.services['metabase']!;
    expect(mounts(mb).find((m) => m.src === './metabase-plugins')).toEqual({ src: './metabase-plugins', dst: mb.environment!['MB_PLUGINS_DIR']!, ro: true });
  });

  it('runs the image for api and pipeline with secrets from .env, and the API in production mode', () => {
    for (const name of ['api', 'pipeline']) {
      const s = compose.services[name]!;
      expect(s.image, name).toBe('edlake:latest');
      expect(s.build, name).toBeDefined();
      expect([s.env_file].flat(), name).toContain('.env');
      expect(s.environment?.['EDLAKE_LAKE'], name).toBe('/lake');
      expect(s.init, `${name}: init forwards signals and reaps children`).toBe(true);
    }
    expect(compose.services['api']!.environment!['EDLAKE_API_PRODUCTION']).toBe('true');
    expect(compose.services['api']!.command).toEqual(['serve', '--lake', '/lake']);
    expect(compose.services['pipeline']!.command!.slice(0, 2)).toEqual(['pipeline', 'schedule']);
    // No secret is written in the compose file itself.
    const text = fs.readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8');
    expect(text).not.toMatch(/EDLAKE_(PII_KEY|JWT_SECRET)\s*[:=]/);
  });
});

describe('Dockerfile', () => {
  const froms = instructions.filter((i) => i.op === 'FROM');
  const runtimeStart = instructions.lastIndexOf(froms[froms.length - 1]!);
  const runtime = instructions.slice(runtimeStart);

  it('is multi-stage: dependencies installed from the lockfile in one stage, copied into the runtime stage', () => {
    expect(froms.length).toBeGreaterThanOrEqual(2);
    const stages = froms.map((f) => /\bAS\s+(\S+)/i.exec(f.args)?.[1]);
    expect(stages.every((s) => s !== undefined)).toBe(true);
    const firstStage = instructions.slice(0, runtimeStart);
    expect(firstStage.some((i) => i.op === 'RUN' && /npm ci\b.*--omit=dev/.test(i.args))).toBe(true);
    expect(runtime.some((i) => i.op === 'COPY' && /--from=(\S+)/.exec(i.args)?.[1] === stages[0])).toBe(true);
    expect(runtime.some((i) => i.op === 'USER' && i.args !== 'root' && i.args !== '0')).toBe(true);
    expect(runtime.some((i) => i.op === 'HEALTHCHECK')).toBe(true);
  });

  it('starts `edlake serve` as the tests do', () => {
    const entry = runtime.find((i) => i.op === 'ENTRYPOINT')?.json;
    const cmd = runtime.find((i) => i.op === 'CMD')?.json;
    expect(entry).toEqual(['node', '--import', 'tsx', 'src/cli.ts']);
    expect(cmd).toEqual(['serve']);
  });
});

describe('the image start command, run from what the image contains', () => {
  let dir: string;
  let app: string;
  let lake: string;
  let served: Served | undefined;
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edlake-image-'));
    app = path.join(dir, 'app');
    lake = path.join(dir, 'lake');
    fs.mkdirSync(app);
    // The runtime stage's COPY instructions, done here (node_modules linked rather than copied).
    const froms = instructions.filter((i) => i.op === 'FROM');
    const runtime = instructions.slice(instructions.lastIndexOf(froms[froms.length - 1]!));
    for (const i of runtime.filter((x) => x.op === 'COPY')) {
      const parts = i.args.split(/\s+/);
      if (parts[0]!.startsWith('--from=')) {
        expect(parts.slice(1)).toEqual(['/app/node_modules', './node_modules']);
        fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(app, 'node_modules'));
        continue;
      }
      const dest = parts[parts.length - 1]!;
      const srcs = parts.slice(0, -1);
      for (const s of srcs) {
        const target = dest.endsWith('/') ? path.join(app, dest, path.basename(s)) : path.join(app, dest);
        fs.cpSync(path.join(ROOT, s), target, { recursive: true });
      }
    }
    const db = await Db.open(':memory:');
    await buildNight(db, 1);
    await writeSnapshot({
      lake, db, tables: TABLES, runId: 'run-1', dataThrough: '2026-03-01', sourceFiles: [], dataTests: null,
      modelVersions: {}, dictionary: null, timezone: 'America/Los_Angeles',
    });
    db.close();
  });
  afterAll(async () => {
    await served?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('serves health and readiness, and refuses GraphQL without a token', async () => {
    const entry = instructions.find((i) => i.op === 'ENTRYPOINT')!.json!;
    const cmd = compose.services['api']!.command!.map((a) => (a === '/lake' ? lake : a));
    const env: Record<string, string> = {};
    for (const i of instructions.filter((x) => x.op === 'ENV')) {
      for (const m of i.args.matchAll(/([A-Z_]+)=(\S+)/g)) env[m[1]!] = m[2]!;
    }
    expect(env['EDLAKE_LAKE']).toBe('/lake');
    served = await startProcess(entry[0]!, [...entry.slice(1), ...cmd], {
      cwd: app,
      env: { ...env, ...compose.services['api']!.environment, EDLAKE_LAKE: lake, EDLAKE_LANDING: path.join(dir, 'landing'), EDLAKE_PORT: '0', EDLAKE_JWT_SECRET: JWT_SECRET },
    });
    const health = await fetch(`http://127.0.0.1:${served.port}/healthz`);
    expect(health.status).toBe(200);
    const ready = await fetch(`http://127.0.0.1:${served.port}/readyz`);
    expect(ready.status).toBe(200);
    expect(((await ready.json()) as { snapshot: { id: string } }).snapshot.id).toBe('1');
    const gql = await fetch(`http://127.0.0.1:${served.port}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":"{ snapshots { id } }"}' });
    expect(gql.status).toBe(401);
    // SIGTERM (docker stop) reaches the server itself, which exits cleanly.
    expect(await served.stop()).toBe(0);
    served = undefined;
  });
});
