import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Db } from '../../src/db/duckdb.ts';
import {
  SnapshotCatalog,
  SnapshotNotFoundError,
  expireSnapshots,
  layout,
  listManifestIds,
  openSnapshot,
  readCurrent,
  readManifest,
  verifyCatalog,
  writeSnapshot,
  type Manifest,
} from '../../src/catalog/index.ts';
import { buildNight, equityRows, sortEquity, STUDENTS, TABLES } from './fixture.ts';

const run = promisify(execFile);
const TZ = 'America/Los_Angeles';

async function tempLake(): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), 'edlake-catalog-'));
}

async function publishNight(db: Db, lake: string, night: number, now: Date) {
  await buildNight(db, night);
  return writeSnapshot({
    lake,
    db,
    tables: TABLES,
    runId: `run-${night}`,
    dataThrough: `2026-03-${String(night).padStart(2, '0')}`,
    sourceFiles: [{ path: `landing/sis/2026-03-0${night}/attendance.csv`, sha256: 'a'.repeat(63) + String(night), source: 'sis' }],
    dataTests: { passed: 12, failed: 0 },
    modelVersions: { prediction: `v${night}` },
    dictionary: { tables: [] },
    timezone: TZ,
    now,
  });
}

describe('two nights, two snapshots, time travel', () => {
  let lake: string;
  let db: Db;
  beforeAll(async () => {
    lake = await tempLake();
    db = await Db.open(':memory:');
    // Night 1 published at 02:00 PST on 3 March, night 2 at 02:00 PST on 4 March.
    await publishNight(db, lake, 1, new Date('2026-03-03T10:00:00Z'));
    await publishNight(db, lake, 2, new Date('2026-03-04T10:00:00Z'));
  });
  afterAll(async () => {
    db.close();
    await fs.rm(lake, { recursive: true, force: true });
  });

  it('numbers snapshots 1 and 2, chains them and shares unchanged files', async () => {
    const cur = await readCurrent(lake);
    expect(cur?.snapshot_id).toBe(2);
    const m1 = (await readManifest(lake, 1))!;
    const m2 = (await readManifest(lake, 2))!;
    expect(m2.manifest.previous_manifest_sha256).toBe(m1.sha256);
    expect(m1.manifest.previous_manifest_sha256).toBeNull();
    const file = (m: Manifest, name: string) => m.tables.find((t) => t.name === name)!.files[0]!.path;
    // dim_school and refined.students did not change: the same file serves both snapshots.
    expect(file(m2.manifest, 'dim_school')).toBe(file(m1.manifest, 'dim_school'));
    expect(file(m2.manifest, 'students')).toBe(file(m1.manifest, 'students'));
    expect(file(m2.manifest, 'v_equity_outcomes')).not.toBe(file(m1.manifest, 'v_equity_outcomes'));
    const dataFiles = await fs.readdir(path.join(layout(lake).data, 'marts', 'dim_school'));
    expect(dataFiles).toHaveLength(1);
    const eq = m2.manifest.tables.find((t) => t.name === 'v_equity_outcomes')!;
    expect(eq.row_count).toBe(equityRows(2).length);
    expect(eq.tier).toBe('published');
    expect(eq.columns.map((c) => `${c.name} ${c.type}`)).toEqual([
      'school_key VARCHAR',
      'student_group VARCHAR',
      'n_students INTEGER',
      'attendance_rate DOUBLE',
      'suppressed BOOLEAN',
      'data_through DATE',
    ]);
    expect(m2.manifest.run_id).toBe('run-2');
    expect(m2.manifest.data_through).toBe('2026-03-02');
    expect(m2.manifest.model_versions).toEqual({ prediction: 'v2' });
  });

  it("asking for the first night's date after the second run returns the first night's numbers", async () => {
    const h = await openSnapshot(lake, { asOf: '2026-03-03', timezone: TZ });
    expect(h.snapshotId).toBe(1);
    const rows = await h.db.all('select * from marts.v_equity_outcomes');
    expect(sortEquity(rows)).toEqual(sortEquity(equityRows(1)));
    h.close();
    const h2 = await openSnapshot(lake, { asOf: '2026-03-04', timezone: TZ });
    expect(h2.snapshotId).toBe(2);
    expect(sortEquity(await h2.db.all('select * from marts.v_equity_outcomes'))).toEqual(sortEquity(equityRows(2)));
    expect(await h2.db.all('select * from refined.students order by student_key')).toEqual(STUDENTS);
    h2.close();
    const cur = await openSnapshot(lake);
    expect(cur.snapshotId).toBe(2);
    cur.close();
  });

  it('resolves an id to itself and refuses unknown ids and dates before the first snapshot', async () => {
    const cat = new SnapshotCatalog(lake, { timezone: TZ });
    expect((await cat.resolve({ snapshotId: 1 })).manifest.snapshot_id).toBe(1);
    await expect(cat.resolve({ snapshotId: 3 })).rejects.toMatchObject({ code: 'UNKNOWN_SNAPSHOT' });
    const err = await cat.resolve({ asOf: '2026-03-02' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SnapshotNotFoundError);
    expect((err as SnapshotNotFoundError).code).toBe('BEFORE_FIRST_SNAPSHOT');
    expect((err as Error).message).toMatch(/no snapshot was published on or before 2026-03-02 in America\/Los_Angeles; the first snapshot was published 2026-03-03T10:00:00.000Z/);
    await expect(cat.resolve({ asOf: '2026-02-30' })).rejects.toMatchObject({ code: 'BAD_SELECTOR' });
    await cat.close();
  });

  it('reads the day in the district time zone: 23:59 local on 4 March is still 4 March', async () => {
    const lake2 = await tempLake();
    const db2 = await Db.open(':memory:');
    // 2026-03-05T07:59:59Z is 23:59:59 PST on 4 March; 08:00:00Z is midnight of 5 March.
    await publishNight(db2, lake2, 1, new Date('2026-03-05T07:59:59Z'));
    await publishNight(db2, lake2, 2, new Date('2026-03-05T08:00:00Z'));
    const cat = new SnapshotCatalog(lake2, { timezone: TZ });
    expect((await cat.resolve({ asOf: '2026-03-04' })).manifest.snapshot_id).toBe(1);
    expect((await cat.resolve({ asOf: '2026-03-05' })).manifest.snapshot_id).toBe(2);
    // In UTC the same instants fall on 5 March for both.
    const utc = new SnapshotCatalog(lake2, { timezone: 'UTC' });
    await expect(utc.resolve({ asOf: '2026-03-04' })).rejects.toMatchObject({ code: 'BEFORE_FIRST_SNAPSHOT' });
    db2.close();
    await fs.rm(lake2, { recursive: true, force: true });
  });

  it("a snapshot's Parquet files read in plain DuckDB (nothing of edlake loaded) give the reader's rows", async () => {
    // A separate Node process with only @duckdb/node-api: it reads CURRENT, the manifest, and the files.
    const script = `
      import { DuckDBInstance } from '@duckdb/node-api';
      import fs from 'node:fs';
      import path from 'node:path';
      const root = path.join(process.argv[1], 'snapshots');
      const cur = JSON.parse(fs.readFileSync(path.join(root, 'CURRENT'), 'utf8'));
      const m = JSON.parse(fs.readFileSync(path.join(root, cur.manifest), 'utf8'));
      const t = m.tables.find((x) => x.schema === 'marts' && x.name === 'v_equity_outcomes');
      const files = t.files.map((f) => "'" + path.join(root, f.path).replaceAll("'", "''") + "'").join(', ');
      const db = await (await DuckDBInstance.create(':memory:')).connect();
      const r = await db.runAndReadAll('select school_key, student_group, n_students, attendance_rate, suppressed, strftime(data_through, \\'%Y-%m-%d\\') as data_through from read_parquet([' + files + '])');
      process.stdout.write(JSON.stringify(r.getRowObjectsJson()));
    `;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script, lake], { cwd: process.cwd() });
    const plain = JSON.parse(stdout) as Array<Record<string, unknown>>;
    const h = await openSnapshot(lake);
    const viaReader = await h.db.all('select * from marts.v_equity_outcomes');
    h.close();
    expect(sortEquity(plain)).toEqual(sortEquity(viaReader));
    expect(sortEquity(plain)).toEqual(sortEquity(equityRows(2)));
  });

  it('verify is clean, then names the file when one byte of a published file is altered', async () => {
    const ok = await verifyCatalog(lake);
    expect(ok.errors).toEqual([]);
    expect(ok.ok).toBe(true);
    expect(ok.snapshotsChecked).toBe(2);
    expect(ok.filesChecked).toBe(4); // dim_school and students shared, two equity files

    const copy = await tempLake();
    await fs.cp(lake, copy, { recursive: true });
    const m1 = (await readManifest(copy, 1))!.manifest;
    const shared = m1.tables.find((t) => t.name === 'dim_school')!.files[0]!.path;
    const abs = layout(copy).abs(shared);
    const bytes = await fs.readFile(abs);
    bytes[Math.floor(bytes.length / 2)] = (bytes[Math.floor(bytes.length / 2)]! + 1) % 256;
    await fs.writeFile(abs, bytes);
    const bad = await verifyCatalog(copy);
    expect(bad.ok).toBe(false);
    expect(bad.errors).toHaveLength(1);
    expect(bad.errors[0]!.path).toBe(shared);
    expect(bad.errors[0]!.snapshots).toEqual([1, 2]);
    expect(bad.errors[0]!.problem).toMatch(/data file altered/);
    await fs.rm(copy, { recursive: true, force: true });
  });

  it('verify names an altered manifest through the hash chain', async () => {
    const copy = await tempLake();
    await fs.cp(lake, copy, { recursive: true });
    const f = layout(copy).manifestFile(1);
    const text = await fs.readFile(f, 'utf8');
    // Rewrite a recorded number (a forger editing history) keeping valid JSON.
    await fs.writeFile(f, text.replace('"run_id": "run-1"', '"run_id": "run-X"'));
    const bad = await verifyCatalog(copy);
    expect(bad.ok).toBe(false);
    expect(bad.errors.map((e) => e.path)).toEqual(['manifests/1.json']);
    expect(bad.errors[0]!.problem).toMatch(/hash chain broken: snapshot 2 records/);
    // Altering the newest manifest is caught by CURRENT's checksum.
    const f2 = layout(copy).manifestFile(2);
    await fs.writeFile(f2, (await fs.readFile(f2, 'utf8')).replace('"run_id": "run-2"', '"run_id": "run-Y"'));
    const bad2 = await verifyCatalog(copy);
    expect(bad2.errors.map((e) => e.path).sort()).toEqual(['manifests/1.json', 'manifests/2.json']);
    await fs.rm(copy, { recursive: true, force: true });
  });
});

describe('a long-lived reader', () => {
  it('picks up a new snapshot without a restart and keeps the old one answering', async () => {
    const lake = await tempLake();
    const db = await Db.open(':memory:');
    const cat = new SnapshotCatalog(lake, { timezone: TZ });
    await expect(cat.open()).rejects.toMatchObject({ code: 'NO_SNAPSHOTS' });
    await publishNight(db, lake, 1, new Date('2026-03-03T10:00:00Z'));
    const h1 = await cat.open();
    expect(h1.snapshotId).toBe(1);
    expect(await cat.open()).toBe(h1); // reused while CURRENT is unchanged
    await publishNight(db, lake, 2, new Date('2026-03-04T10:00:00Z'));
    const h2 = await cat.open();
    expect(h2.snapshotId).toBe(2);
    // The handle opened before the publish still answers with its own snapshot's rows.
    expect(sortEquity(await h1.db.all('select * from marts.v_equity_outcomes'))).toEqual(sortEquity(equityRows(1)));
    expect((await cat.list()).map((s) => s.snapshot_id)).toEqual([1, 2]);
    // Concurrent connections on one snapshot share its views.
    const c = await h2.connect();
    expect(await c.scalar('select count(*) from marts.dim_school')).toBe(3);
    c.close();
    await cat.close();
    db.close();
    await fs.rm(lake, { recursive: true, force: true });
  });
});

describe('expire', () => {
  it('removes only old snapshots and only files no kept snapshot references', async () => {
    const lake = await tempLake();
    const db = await Db.open(':memory:');
    const day = (d: number) => new Date(Date.parse('2026-01-01T10:00:00Z') + d * 86_400_000);
    for (const [i, d] of [0, 10, 20, 30].entries()) await publishNight(db, lake, i + 1, day(d));
    // An orphan left by an interrupted publish.
    const orphan = path.join(layout(lake).data, 'marts', 'v_equity_outcomes', `${'0'.repeat(64)}.parquet`);
    await fs.writeFile(orphan, 'partial');
    expect((await verifyCatalog(lake)).ok).toBe(true);

    const before = new Map<number, Manifest>();
    for (const id of await listManifestIds(lake)) before.set(id, (await readManifest(lake, id))!.manifest);
    const filesOf = (ids: number[]) => new Set(ids.flatMap((id) => before.get(id)!.tables.flatMap((t) => t.files.map((f) => f.path))));

    // now = day 35, keep 20 days: the cut is day 15, so snapshots 1 (day 0) and 2 (day 10) go.
    const rep = await expireSnapshots(lake, { keepDays: 20, now: day(35), graceMs: 0 });
    expect(rep.expiredSnapshots).toEqual([1, 2]);
    expect(rep.keptSnapshots).toEqual([3, 4]);
    const keptFiles = filesOf([3, 4]);
    const goneFiles = [...filesOf([1, 2])].filter((f) => !keptFiles.has(f));
    // Oracle from the manifests: every file a kept snapshot needs is still there...
    for (const f of keptFiles) await expect(fs.access(layout(lake).abs(f))).resolves.toBeUndefined();
    // ...including the shared ones first written by snapshot 1.
    expect([...filesOf([1])].filter((f) => keptFiles.has(f)).length).toBe(2);
    // ...and exactly the others (plus the orphan) were removed.
    expect(rep.removedFiles.sort()).toEqual([...goneFiles, 'manifests/1.json', 'manifests/2.json', path.relative(layout(lake).root, orphan)].sort());
    for (const f of goneFiles) await expect(fs.access(layout(lake).abs(f))).rejects.toThrow();

    const v = await verifyCatalog(lake);
    expect(v.errors).toEqual([]);
    expect(v.notes).toEqual([]);
    // The kept snapshots still answer; the expired date says so clearly.
    const h = await openSnapshot(lake, { snapshotId: 3 });
    expect(sortEquity(await h.db.all('select * from marts.v_equity_outcomes'))).toEqual(sortEquity(equityRows(3)));
    h.close();
    await expect(openSnapshot(lake, { asOf: '2026-01-12', timezone: TZ })).rejects.toMatchObject({ code: 'EXPIRED_SNAPSHOT' });
    await expect(openSnapshot(lake, { snapshotId: 1 })).rejects.toMatchObject({ code: 'EXPIRED_SNAPSHOT' });

    // A long-lived reader that had read snapshot 3's manifest learns it expired, too.
    const cat = new SnapshotCatalog(lake, { timezone: TZ });
    expect((await cat.resolve({ snapshotId: 3 })).manifest.snapshot_id).toBe(3);

    // Never the newest: keep 0 days removes snapshot 3 but keeps 4.
    const rep2 = await expireSnapshots(lake, { keepDays: 0, now: day(400), graceMs: 0 });
    expect(rep2.expiredSnapshots).toEqual([3]);
    expect(rep2.keptSnapshots).toEqual([4]);
    await expect(cat.resolve({ snapshotId: 3 })).rejects.toMatchObject({ code: 'EXPIRED_SNAPSHOT' });
    expect((await cat.list()).map((s) => s.snapshot_id)).toEqual([4]);
    expect((await verifyCatalog(lake)).ok).toBe(true);
    const h4 = await openSnapshot(lake);
    expect(h4.snapshotId).toBe(4);
    expect(await h4.db.scalar('select count(*) from refined.students')).toBe(STUDENTS.length);
    h4.close();
    db.close();
    await fs.rm(lake, { recursive: true, force: true });
  });

  it('removes the quarantine file of each expired snapshot and keeps the others', async () => {
    const lake = await tempLake();
    const db = await Db.open(':memory:');
    const day = (d: number) => new Date(Date.parse('2026-01-01T10:00:00Z') + d * 86_400_000);
    for (const [i, d] of [0, 10, 20].entries()) await publishNight(db, lake, i + 1, day(d));
    // The publisher writes <lake>/quarantine/snapshot-<id>.parquet beside the catalog (decision 0608).
    const q = (id: number) => path.join(lake, 'quarantine', `snapshot-${id}.parquet`);
    await fs.mkdir(path.join(lake, 'quarantine'), { recursive: true });
    for (const id of [1, 2, 3]) await fs.writeFile(q(id), `quarantine of ${id}`);

    const dry = await expireSnapshots(lake, { keepDays: 15, now: day(25), graceMs: 0, dryRun: true });
    expect(dry.removedFiles).toContain('../quarantine/snapshot-1.parquet');
    await expect(fs.access(q(1))).resolves.toBeUndefined();

    const rep = await expireSnapshots(lake, { keepDays: 15, now: day(25), graceMs: 0 });
    expect(rep.expiredSnapshots).toEqual([1]);
    expect(rep.removedFiles).toContain('../quarantine/snapshot-1.parquet');
    await expect(fs.access(q(1))).rejects.toThrow();
    for (const id of [2, 3]) expect(await fs.readFile(q(id), 'utf8')).toBe(`quarantine of ${id}`);
    expect((await verifyCatalog(lake)).ok).toBe(true);
    db.close();
    await fs.rm(lake, { recursive: true, force: true });
  });

  it('keeps young left-overs (a publish may be writing them)', async () => {
    const lake = await tempLake();
    const db = await Db.open(':memory:');
    await publishNight(db, lake, 1, new Date('2026-03-03T10:00:00Z'));
    await fs.writeFile(path.join(layout(lake).tmp, 'x.parquet'), 'in progress');
    const rep = await expireSnapshots(lake, { keepDays: 1 });
    expect(rep.removedFiles).toEqual([]);
    expect((await verifyCatalog(lake)).notes.map((n) => n.path)).toEqual(['tmp/x.parquet']);
    db.close();
    await fs.rm(lake, { recursive: true, force: true });
  });
});
