/**
 * The serving file for Metabase (<lake>/serving/current.duckdb): opened read-only by a separate
 * process with nothing of edlake loaded (as Metabase's DuckDB driver opens it), its views give the
 * manifest's row counts and the oracle's rows; it is replaced atomically at each publish.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuckDBInstance } from '@duckdb/node-api';
import { Db } from '../../src/db/duckdb.ts';
import { readCurrent, readManifest, writeSnapshot, type Manifest } from '../../src/catalog/index.ts';
import { servingPath, writeServingFile } from '../../pipeline/publish/serving.ts';
import { buildNight, equityRows, SCHOOLS, TABLES } from '../catalog/fixture.ts';

const run = promisify(execFile);

/** Plain Node + @duckdb/node-api in another process: open read-only, count every view. */
const CHILD = `
import { DuckDBInstance } from '@duckdb/node-api';
const [file] = process.argv.slice(1);
const inst = await DuckDBInstance.create(file, { access_mode: 'READ_ONLY' });
const c = await inst.connect();
const rows = async (sql) => (await c.runAndReadAll(sql)).getRowObjectsJson();
const views = await rows("select schema_name, view_name from duckdb_views() where not internal order by 1, 2");
const counts = {};
for (const v of views) counts[v.schema_name + '.' + v.view_name] = Number((await rows('select count(*)::integer n from "' + v.schema_name + '"."' + v.view_name + '"'))[0].n);
const snap = (await rows('select snapshot_id, data_through::varchar d from edlake_snapshot'))[0];
const equity = await rows('select school_key, student_group, attendance_rate from marts.v_equity_outcomes order by 1, 2');
let writeRefused = false;
try { await c.run('create table x (a int)'); } catch { writeRefused = true; }
console.log(JSON.stringify({ counts, snap, equity, writeRefused }));
`;

type ChildOut = {
  counts: Record<string, number>;
  snap: { snapshot_id: number; d: string | null };
  equity: Array<{ school_key: string; student_group: string; attendance_rate: number }>;
  writeRefused: boolean;
};

async function readInChild(file: string): Promise<ChildOut> {
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', CHILD, file], { cwd: process.cwd() });
  return JSON.parse(stdout) as ChildOut;
}

describe('serving file for Metabase', () => {
  let dir: string;
  let lake: string;
  let db: Db;
  const publish = async (night: number) => {
    await buildNight(db, night);
    await writeSnapshot({
      lake, db, tables: TABLES, runId: `run-${night}`, dataThrough: `2026-03-0${night}`, sourceFiles: [], dataTests: null,
      modelVersions: {}, dictionary: null, timezone: 'America/Los_Angeles',
    });
  };
  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'edlake-serving-'));
    lake = path.join(dir, 'lake');
    db = await Db.open(':memory:');
  });
  afterAll(async () => {
    db.close();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('has one view per published table, opens read-only elsewhere, and gives the manifest row counts and the oracle rows', async () => {
    await publish(1);
    const r = await writeServingFile(lake);
    expect(r.file).toBe(servingPath(lake));
    const out = await readInChild(r.file);
    const cur = await readCurrent(lake);
    const m = (await readManifest(lake, cur!.snapshot_id))!.manifest;
    const expected = Object.fromEntries(m.tables.filter((t) => t.tier === 'published').map((t) => [`${t.schema}.${t.name}`, t.row_count]));
    expect(out.counts).toEqual(expected);
    // The analyst tier stays out by default; the counts are the oracle's.
    expect(Object.keys(out.counts).some((k) => k.startsWith('refined.'))).toBe(false);
    expect(out.counts['marts.dim_school']).toBe(SCHOOLS.length);
    expect(out.counts['marts.v_equity_outcomes']).toBe(equityRows(1).length);
    const oracle = equityRows(1)
      .map((x) => ({ school_key: x.school_key, student_group: x.student_group, attendance_rate: x.attendance_rate }))
      .sort((a, b) => a.school_key.localeCompare(b.school_key) || a.student_group.localeCompare(b.student_group));
    expect(out.equity).toEqual(oracle);
    expect(out.snap).toEqual({ snapshot_id: 1, d: '2026-03-01' });
    expect(out.writeRefused).toBe(true);
    // Views only: the file stays small whatever the data.
    expect(r.bytes).toBeLessThan(2_000_000);
  });

  it('is replaced atomically: an open reader keeps its snapshot, a new one sees the next, a failed write leaves the file as it was', async () => {
    const before = await fs.readFile(servingPath(lake));
    // A reader holding the old file open (as Metabase does between syncs).
    const old = await DuckDBInstance.create(servingPath(lake), { access_mode: 'READ_ONLY' });
    const oc = await old.connect();
    await publish(2);
    // A crash between the complete temporary file and the rename changes nothing.
    await expect(writeServingFile(lake, undefined, { beforeRename: () => { throw new Error('simulated crash'); } })).rejects.toThrow('simulated crash');
    expect(Buffer.compare(await fs.readFile(servingPath(lake)), before)).toBe(0);
    expect((await fs.readdir(path.dirname(servingPath(lake)))).sort()).toEqual(['current.duckdb']);
    // Asking for a snapshot other than the current one is refused.
    await expect(writeServingFile(lake, 1)).rejects.toThrow(/not the current snapshot/);
    await writeServingFile(lake, 2);
    const out = await readInChild(servingPath(lake));
    expect(out.snap.snapshot_id).toBe(2);
    const rate = (rows: Array<{ school_key: string; student_group: string; attendance_rate: number }>) =>
      rows.find((x) => x.school_key === 'a1' && x.student_group === 'all')?.attendance_rate;
    expect(rate(out.equity)).toBe(rate(equityRows(2)));
    const oldSnap = (await oc.runAndReadAll('select snapshot_id from edlake_snapshot')).getRowObjectsJson();
    expect(oldSnap).toEqual([{ snapshot_id: 1 }]);
    const oldRows = (await oc.runAndReadAll(`select attendance_rate from marts.v_equity_outcomes where school_key = 'a1' and student_group = 'all'`)).getRowObjectsJson();
    expect(oldRows).toEqual([{ attendance_rate: rate(equityRows(1)) }]);
    oc.closeSync();
    old.closeSync();
  });

  it('can expose the analyst tier when asked, with the manifest counts', async () => {
    await writeServingFile(lake, undefined, { tiers: ['published', 'refined'] });
    const out = await readInChild(servingPath(lake));
    const m: Manifest = (await readManifest(lake, 2))!.manifest;
    expect(out.counts).toEqual(Object.fromEntries(m.tables.map((t) => [`${t.schema}.${t.name}`, t.row_count])));
    expect(out.counts['refined.students']).toBe(60);
    await writeServingFile(lake);
  });
});
