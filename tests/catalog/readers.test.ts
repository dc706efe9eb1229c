import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { Db } from '../../src/db/duckdb.ts';
import { writeSnapshot } from '../../src/catalog/index.ts';
import { buildNight, TABLES } from './fixture.ts';

const CHILD = path.join(import.meta.dirname, 'fixtures', 'reader-child.ts');

type Result = { seen: number[]; queries: number; mismatches: number; errors: number };

function reader(lake: string, last: number): { ready: Promise<void>; done: Promise<Result> } {
  let onReady: () => void = () => {};
  const ready = new Promise<void>((r) => (onReady = r));
  const done = new Promise<Result>((resolve, reject) => {
    const c = spawn(process.execPath, ['--import', 'tsx', CHILD, lake, String(last)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    c.stdout.on('data', (b: Buffer) => (out += b.toString()));
    c.stderr.on('data', (b: Buffer) => {
      err += b.toString();
      if (err.includes('ready')) onReady();
    });
    c.on('error', reject);
    c.on('close', (code) => (code === 0 ? resolve(JSON.parse(out) as Result) : reject(new Error(`reader exited ${code}: ${err}`))));
  });
  return { ready, done };
}

describe('several reader processes while the pipeline publishes', () => {
  it('each answer is one whole snapshot, and readers move to new snapshots without a restart', async () => {
    const lake = await fs.mkdtemp(path.join(os.tmpdir(), 'edlake-readers-'));
    const db = await Db.open(':memory:');
    const publish = async (night: number) => {
      await buildNight(db, night);
      await writeSnapshot({
        lake, db, tables: TABLES, runId: `run-${night}`, dataThrough: null, sourceFiles: [], dataTests: null,
        modelVersions: {}, dictionary: null, timezone: 'America/Los_Angeles',
      });
    };
    await publish(1);
    const readers = [reader(lake, 4), reader(lake, 4)];
    // Once both readers answer, publish three more nights while they query.
    await Promise.all(readers.map((r) => r.ready));
    for (const night of [2, 3, 4]) {
      await publish(night);
      await new Promise((r) => setTimeout(r, 400));
    }
    const results = await Promise.all(readers.map((r) => r.done));
    db.close();
    for (const r of results) {
      expect(r.errors).toBe(0);
      expect(r.mismatches).toBe(0);
      expect(r.queries).toBeGreaterThan(10);
      // Ids only move forward, several were seen, and the last publish was picked up.
      expect([...r.seen].sort((a, b) => a - b)).toEqual(r.seen);
      expect(r.seen.length).toBeGreaterThanOrEqual(2);
      expect(r.seen[r.seen.length - 1]).toBe(4);
    }
    await fs.rm(lake, { recursive: true, force: true });
  });
});
