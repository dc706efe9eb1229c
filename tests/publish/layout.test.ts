import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Db, literal } from '../../src/db/duckdb.ts';
import { layout } from '../../src/catalog/index.ts';
import { discoverTables, publishStage, SERVING_ROW_GROUP_SIZE } from '../../pipeline/publish/publish.ts';

describe('publish stage', () => {
  it('publishes every marts and refined table, in the serving layout the API asked for', async () => {
    const lake = await fs.mkdtemp(path.join(os.tmpdir(), 'edlake-layout-'));
    const db = await Db.open(':memory:');
    await db.run('create schema marts; create schema refined; create schema raw; create schema seeds');
    // 100,000 memberships inserted in an order unrelated to school and section.
    await db.run(
      `create table marts.fct_section_membership as select 'sec' || lpad(((i * 7919) % 4000)::varchar, 5, '0') as section_key, 'sch' || lpad(((i * 7919) % 4000 % 50)::varchar, 3, '0') as school_key, 'stu' || i as student_key, true as is_active from range(100000) r(i)`,
    );
    await db.run(`create table marts.fct_student_attendance_daily as select 'stu' || i as student_key, 'sch' || (i % 50) as school_key, 0.0 as absent_fraction from range(1000) r(i)`);
    await db.run(`create view marts.v_small as select 1 as x`);
    await db.run(`create table marts.bld_scratch as select 1 as x`); // a build step: not published
    await db.run(`create table refined.students as select 'stu' || i as student_key from range(10) r(i)`);
    await db.run(`create table seeds.parameters as select 'a' as parameter`); // not published
    await db.run(`create table raw.files (sha256 varchar, path varchar, source varchar, bytes bigint, status varchar)`);
    await db.run(`insert into raw.files values ($1, 'landing/sis/2026-03-02/a.csv', 'sis', 10, 'loaded'), ($2, 'landing/sis/2026-03-02/b.csv', 'sis', 0, 'rejected')`, ['a'.repeat(64), 'b'.repeat(64)]);

    const tables = await discoverTables(db);
    expect(tables.map((t) => `${t.schema}.${t.table}:${t.tier}:${(t.sortKeys ?? []).join('+')}:${t.rowGroupSize ?? ''}`)).toEqual([
      'marts.fct_section_membership:published:school_key+section_key:32768',
      'marts.fct_student_attendance_daily:published:student_key:',
      'marts.v_small:published::',
      'refined.students:refined:student_key:',
    ]);
    const r = await publishStage({ db, lake, runId: 'r1', dataThrough: '2026-03-02', timezone: 'UTC', dataTests: null, modelVersions: {}, dictionary: null });
    expect(r.manifest.source_files).toEqual([{ path: 'landing/sis/2026-03-02/a.csv', sha256: 'a'.repeat(64), source: 'sis', bytes: 10 }]);
    const m = r.manifest.tables.find((t) => t.name === 'fct_section_membership')!;
    expect(m.sort_keys).toEqual(['school_key', 'section_key']);
    const file = layout(lake).abs(m.files[0]!.path);
    // The file's own row order is sorted by school then section...
    const inFile = await db.all<{ k: string }>(`select school_key || '|' || section_key as k from read_parquet(${literal(file)})`);
    const keys = inFile.map((x) => x.k);
    expect(keys).toEqual([...keys].sort());
    // ...in row groups of at most 32,768 rows, each covering a narrow range of schools.
    const groups = await db.all<{ n: number; lo: string; hi: string }>(
      `select row_group_num_rows as n, stats_min_value as lo, stats_max_value as hi from parquet_metadata(${literal(file)}) where path_in_schema = 'school_key' order by row_group_id`,
    );
    expect(groups.length).toBeGreaterThanOrEqual(Math.ceil(100000 / SERVING_ROW_GROUP_SIZE));
    expect(Math.max(...groups.map((g) => g.n))).toBeLessThanOrEqual(SERVING_ROW_GROUP_SIZE);
    const oneSchool = groups.filter((g) => g.lo <= 'sch017' && 'sch017' <= g.hi).length;
    expect(oneSchool).toBeLessThanOrEqual(2);
    db.close();
    await fs.rm(lake, { recursive: true, force: true });
  });

  it('splits a large daily table by month and sorts each month by student and day', async () => {
    const lake = await fs.mkdtemp(path.join(os.tmpdir(), 'edlake-layout-'));
    const db = await Db.open(':memory:');
    await db.run('create schema marts; create schema refined');
    // 600,000 rows (5,000 students x 120 days from 1 Sept), inserted day by day in a scrambled student order.
    await db.run(
      `create table marts.fct_daily as select 'stu' || lpad(((s * 7919) % 5000)::varchar, 5, '0') as student_key, date '2025-09-01' + d::integer as calendar_date, (s + d) % 9 = 0 as absent from range(120) a(d), range(5000) b(s)`,
    );
    const [t] = await discoverTables(db);
    expect(t).toEqual({ schema: 'marts', table: 'fct_daily', tier: 'published', sortKeys: ['student_key', 'calendar_date'], partitionByMonthOf: 'calendar_date' });
    const r = await publishStage({ db, lake, runId: 'r1', dataThrough: null, timezone: 'UTC', tables: [t!], sourceFiles: [], dataTests: null, modelVersions: {}, dictionary: null });
    const files = r.manifest.tables[0]!.files;
    // 1 Sept + 120 days runs to 29 Dec: four months, 30/31/30/29 days of 5,000 students.
    expect(files.map((f) => [f.partition, f.row_count])).toEqual([
      ['2025-09', 150000],
      ['2025-10', 155000],
      ['2025-11', 150000],
      ['2025-12', 145000],
    ]);
    const oct = layout(lake).abs(files[1]!.path);
    const keys = (await db.all<{ k: string }>(`select student_key || strftime(calendar_date, '%Y%m%d') as k from read_parquet(${literal(oct)})`)).map((x) => x.k);
    expect(keys).toEqual([...keys].sort());
    db.close();
    await fs.rm(lake, { recursive: true, force: true });
  });
});
