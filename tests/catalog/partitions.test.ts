import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Db } from '../../src/db/duckdb.ts';
import { openSnapshot, verifyCatalog, writeSnapshot, type PublishTable } from '../../src/catalog/index.ts';

/** Days of attendance, 40 students a day, from 2025-08-20 for `days` days; the oracle is computed here. */
async function attendance(db: Db, days: number): Promise<void> {
  await db.run('create schema if not exists marts');
  await db.run(
    `create or replace table marts.fct_attendance as select 's' || s as student_key, date '2025-08-20' + d::integer as calendar_date, ((s * 31 + d) % 10 = 0)::integer as absent from range(${days}) a(d), range(40) b(s)`,
  );
  await db.run(`insert into marts.fct_attendance values ('late-entry', null, 0)`);
}

function monthsBetween(days: number): Map<string, number> {
  const m = new Map<string, number>();
  for (let d = 0; d < days; d++) {
    const k = new Date(Date.UTC(2025, 7, 20 + d)).toISOString().slice(0, 7);
    m.set(k, (m.get(k) ?? 0) + 40);
  }
  m.set('none', 1);
  return m;
}

describe('a table split by month', () => {
  it('writes one file per month and rewrites only the changed month the next night', async () => {
    const lake = await fs.mkdtemp(path.join(os.tmpdir(), 'edlake-parts-'));
    const db = await Db.open(':memory:');
    const tables: PublishTable[] = [{ schema: 'marts', table: 'fct_attendance', tier: 'published', partitionByMonthOf: 'calendar_date' }];
    const publish = (night: number) =>
      writeSnapshot({ lake, db, tables, runId: `r${night}`, dataThrough: null, sourceFiles: [], dataTests: null, modelVersions: {}, dictionary: null, timezone: 'UTC' });

    await attendance(db, 60); // 20 Aug to 18 Oct: three months
    const r1 = await publish(1);
    const t1 = r1.manifest.tables[0]!;
    expect(t1.partition_by).toBe('calendar_date');
    const expected = monthsBetween(60);
    expect(new Map(t1.files.map((f) => [f.partition, f.row_count]))).toEqual(expected);
    expect(t1.row_count).toBe(60 * 40 + 1);

    await attendance(db, 61); // one more day, in October
    const r2 = await publish(2);
    expect(r2.filesWritten).toBe(1);
    expect(r2.filesShared).toBe(3);
    const t2 = r2.manifest.tables[0]!;
    const changed = t2.files.filter((f) => !t1.files.some((g) => g.path === f.path)).map((f) => f.partition);
    expect(changed).toEqual(['2025-10']);

    // The reader sees the whole table, month files together, equal to the oracle.
    const h = await openSnapshot(lake);
    expect(await h.db.scalar('select count(*) from marts.fct_attendance')).toBe(61 * 40 + 1);
    let absent = 0;
    for (let d = 0; d < 61; d++) for (let s = 0; s < 40; s++) if ((s * 31 + d) % 10 === 0) absent++;
    expect(await h.db.scalar('select sum(absent) from marts.fct_attendance')).toBe(absent);
    h.close();
    const old = await openSnapshot(lake, { snapshotId: 1 });
    expect(await old.db.scalar('select count(*) from marts.fct_attendance')).toBe(60 * 40 + 1);
    old.close();
    expect((await verifyCatalog(lake)).ok).toBe(true);

    // An empty table still gets one (empty) file, so readers see its columns.
    await db.run('delete from marts.fct_attendance');
    const r3 = await publish(3);
    expect(r3.manifest.tables[0]!.files).toHaveLength(1);
    const e = await openSnapshot(lake);
    expect(await e.db.scalar('select count(*) from marts.fct_attendance')).toBe(0);
    e.close();
    db.close();
    await fs.rm(lake, { recursive: true, force: true });
  });

  it('refuses a partition column that is not a date', async () => {
    const lake = await fs.mkdtemp(path.join(os.tmpdir(), 'edlake-parts-'));
    const db = await Db.open(':memory:');
    await db.run(`create schema marts; create table marts.t as select 1 as x`);
    await expect(
      writeSnapshot({ lake, db, tables: [{ schema: 'marts', table: 't', tier: 'published', partitionByMonthOf: 'x' }], runId: 'r', dataThrough: null, sourceFiles: [], dataTests: null, modelVersions: {}, dictionary: null, timezone: 'UTC' }),
    ).rejects.toThrow(/partition column x is INTEGER, expected DATE or TIMESTAMP/);
    db.close();
    await fs.rm(lake, { recursive: true, force: true });
  });
});
