import { DuckDBInstance } from '@duckdb/node-api';
import { describe, expect, it } from 'vitest';
import { Db } from '../../src/db/duckdb.ts';
import { Pool } from '../../src/db/pool.ts';

describe('connection pool', () => {
  it('prepared statements return the same converted rows as Db.all, for every type the marts use', async () => {
    const inst = await DuckDBInstance.create(':memory:');
    const db = new Db(await inst.connect());
    await db.run(`CREATE TABLE t AS SELECT 'k' || i AS k, i::BIGINT AS big, (i * 1.5)::DECIMAL(9,2) AS dec, i::DOUBLE / 3 AS dbl,
      DATE '2026-03-01' + i::INTEGER AS d, TIMESTAMP '2026-03-01 10:00:00' AS ts, i % 2 = 0 AS b, ['a', 'b'][1:(i % 3)] AS lst,
      CASE WHEN i = 3 THEN NULL ELSE i END AS maybe FROM range(6) r(i)`);
    const pool = await Pool.create(inst, 2);
    const sql = 'SELECT * FROM t WHERE big >= $min ORDER BY k';
    for (const min of [0, 2, 5]) {
      const expected = await db.all(sql, { min });
      expect(await pool.use((c) => c.query(sql, { min }))).toEqual(expected);
    }
    await db.run(`CREATE TABLE u AS SELECT 9007199254740993::BIGINT AS x`);
    await expect(pool.use((c) => c.query('SELECT x FROM u'))).rejects.toThrow(/safe range/);
    pool.close();
    db.close();
  });

  it('lends each connection to one caller at a time: concurrent callers never see each other’s rows', async () => {
    const inst = await DuckDBInstance.create(':memory:', { threads: '2' });
    const db = new Db(await inst.connect());
    await db.run(`CREATE TABLE m AS SELECT 's' || (i % 50) AS section, 'st' || i AS student FROM range(5000) r(i)`);
    const pool = await Pool.create(inst, 3);
    const sql = 'SELECT student FROM m WHERE section = $s ORDER BY student';
    const expected = new Map<string, string[]>();
    for (let s = 0; s < 50; s++) expected.set(`s${s}`, (await db.all<{ student: string }>(sql, { s: `s${s}` })).map((r) => r.student));
    const calls = Array.from({ length: 1600 }, (_, i) => `s${(i * 7) % 50}`);
    const got = await Promise.all(calls.map((s) => pool.use((c) => c.query<{ student: string }>(sql, { s })).then((rows) => [s, rows.map((r) => r.student)] as const)));
    let wrong = 0;
    for (const [s, rows] of got) if (JSON.stringify(rows) !== JSON.stringify(expected.get(s))) wrong++;
    expect(wrong).toBe(0);
    expect(pool.stats()).toEqual({ size: 3, inUse: 0, waiting: 0 });
    pool.close();
    db.close();
  });
});
