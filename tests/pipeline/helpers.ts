/**
 * Helpers of the pipeline tests: a generated district (the generator's own API), runs of the
 * pipeline, and read-only access to a lake. Oracles live in the tests, not here.
 */
import { createHmac, createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { loadConfig, type Config } from '../../src/config.ts';
import { Db, literal } from '../../src/db/duckdb.ts';
import { identityPath } from '../../src/identity/store.ts';
import { generate, parseArgs } from '../../seeds/generator/generate.ts';
import { runPipeline, type RunOptions, type RunRecord } from '../../pipeline/run.ts';
import { workDbPath } from '../../pipeline/workdb.ts';

export const TEST_PII_KEY = 'test-key-0123456789abcdef0123456789abcdef';

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `edlake-${prefix}-`));
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** Generate a district with the generator (quiet). Returns its folder (landing/ and truth/). */
export async function generateDistrict(students: number, seed: number, through?: string): Promise<string> {
  const out = tempDir('district');
  removeDir(out);
  await generate(parseArgs({ students: String(students), seed: String(seed), out, ...(through ? { through } : {}) }));
  return out;
}

export function config(landing: string, lake: string, extra: Record<string, string> = {}, flags: Record<string, string> = {}): Config {
  return loadConfig({ landing, lake, ...flags }, { EDLAKE_PII_KEY: TEST_PII_KEY, ...extra });
}

export async function run(landing: string, lake: string, opts: RunOptions = {}, flags: Record<string, string> = {}): Promise<RunRecord> {
  return runPipeline(config(landing, lake, {}, flags), opts);
}

/** Open a lake's working database read-only (a fresh instance: runs replace the file), identity attached. */
export async function withLake<T>(lake: string, fn: (db: Db) => Promise<T>): Promise<T> {
  const instance = await DuckDBInstance.create(workDbPath(lake), { access_mode: 'READ_ONLY' });
  const db = new Db(await instance.connect());
  try {
    if (existsSync(identityPath(lake))) await db.run(`ATTACH ${literal(identityPath(lake))} AS identity (READ_ONLY)`);
    return await fn(db);
  } finally {
    db.close();
    instance.closeSync();
  }
}

export function hmacKey(tenant: string, id: string, key = TEST_PII_KEY): string {
  return createHmac('sha256', key).update(`${tenant}|${id.trim().toLowerCase()}`).digest('hex');
}

export function sha256File(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** Every file under a folder, as paths relative to it with '/' separators, sorted. */
export function listFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const n of readdirSync(d).sort()) {
      const p = join(d, n);
      if (statSync(p).isDirectory()) walk(p);
      else out.push(relative(root, p).split(sep).join('/'));
    }
  };
  walk(root);
  return out;
}

/** Minimal RFC 4180 CSV parser for oracles (the tests do not trust the code under test to read truth files). */
export function parseCsv(text: string): Array<Record<string, string>> {
  const rows: string[][] = [];
  let row: string[] = [];
  let cur = '';
  let inQ = false;
  const t = text.replace(/^\uFEFF/, '');
  for (let i = 0; i < t.length; i++) {
    const c = t[i] as string;
    if (inQ) {
      if (c === '"') {
        if (t[i + 1] === '"') {
          cur += '"';
          i++;
        } else inQ = false;
      } else cur += c;
    } else if (c === '"') inQ = true;
    else if (c === ',') {
      row.push(cur);
      cur = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && t[i + 1] === '\n') i++;
      row.push(cur);
      rows.push(row);
      row = [];
      cur = '';
    } else cur += c;
  }
  if (cur !== '' || row.length > 0) {
    row.push(cur);
    rows.push(row);
  }
  const [header, ...data] = rows;
  if (!header) return [];
  return data.filter((r) => r.length > 1 || r[0] !== '').map((r) => Object.fromEntries(header.map((h, i) => [h, r[i] ?? ''])));
}

export function readCsv(path: string): Array<Record<string, string>> {
  return parseCsv(readFileSync(path, 'utf8'));
}
