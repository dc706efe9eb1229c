import { describe, expect, it } from 'vitest';
import { Db, ident, UnsafeIntegerError } from '../src/db/duckdb.ts';

describe('DuckDB access', () => {
  it('converts BIGINT, DECIMAL, DATE and TIMESTAMP deliberately', async () => {
    const db = await Db.open(':memory:');
    const row = await db.one(
      "select 42::bigint as b, 12.50::decimal(6,2) as d, date '2026-03-03' as day, timestamp '2026-03-03 10:00:00' as ts, [1,2]::bigint[] as l",
    );
    expect(row).toEqual({ b: 42, d: 12.5, day: '2026-03-03', ts: '2026-03-03T10:00:00.000Z', l: [1, 2] });
    db.close();
  });

  it('refuses to turn an unsafe BIGINT into an inexact number', async () => {
    const db = await Db.open(':memory:');
    await expect(db.all('select 9007199254740993::bigint as x')).rejects.toBeInstanceOf(UnsafeIntegerError);
    db.close();
  });

  it('binds parameters instead of interpolating them', async () => {
    const db = await Db.open(':memory:');
    const evil = "x'; drop table t; --";
    await db.run('create table t (s varchar)');
    await db.run('insert into t values ($1)', [evil]);
    expect(await db.scalar('select count(*) from t where s = $1', [evil])).toBe(1);
    db.close();
  });

  it('only quotes identifiers that are plain names', () => {
    expect(ident('fact_attendance')).toBe('"fact_attendance"');
    expect(() => ident('x"; drop')).toThrow(/not a safe SQL identifier/);
  });
});
