/**
 * The delivered-date readers of the working database (edlake_date, edlake_timestamp): every format
 * the sources use, the fast path for plain ISO values (decision 0306) and the values that must stay
 * NULL. Expected values are written by hand.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Db } from '../../src/db/duckdb.ts';
import { WORK_DDL } from '../../pipeline/workdb.ts';

let db: Db;
beforeAll(async () => {
  db = await Db.open(':memory:');
  for (const s of WORK_DDL) await db.run(s);
});
afterAll(() => db.close());

const read = async (fn: 'edlake_date' | 'edlake_timestamp', v: string | null) =>
  db.scalar<string | null>(`SELECT CAST(${fn}($1) AS VARCHAR)`, [v]);

const DATES: Array<[string | null, string | null]> = [
  ['2025-09-03', '2025-09-03'],
  [' 2025-09-03 ', '2025-09-03'],
  ['2025-9-3', '2025-09-03'],
  ['2025-09-03T10:15:30Z', '2025-09-03'],
  ['2025-09-03 10:15', '2025-09-03'],
  ['09/03/2025', '2025-09-03'],
  ['9/3/2025 10:00', '2025-09-03'],
  ['09-03-2025', '2025-09-03'],
  ['20250903', '2025-09-03'],
  ['09032025', '2025-09-03'],
  ['2025-02-30', null],
  ['2025-13-01', null],
  ['+025-09-03', null],
  ['-025-09-03', null],
  ['abcd-ef-gh', null],
  ['', null],
  [null, null],
];

const TIMESTAMPS: Array<[string | null, string | null]> = [
  ['2025-09-03T10:15:30', '2025-09-03 10:15:30'],
  ['2025-09-03 10:15:30', '2025-09-03 10:15:30'],
  ['2025-09-03T10:15:30Z', '2025-09-03 10:15:30'],
  // the offset is dropped, the local time kept
  ['2025-09-03T10:15:30+05:00', '2025-09-03 10:15:30'],
  ['2025-09-03T10:15:30.250', '2025-09-03 10:15:30.25'],
  ['2025-09-03 10:15', '2025-09-03 10:15:00'],
  ['9/3/2025 10:15', '2025-09-03 10:15:00'],
  ['9/3/2025 10:15:07', '2025-09-03 10:15:07'],
  ['2025-09-03', '2025-09-03 00:00:00'],
  ['2025-09-03T25:00:00', null],
  ['2025-09-03T10:15:3x', '2025-09-03 00:00:00'],
  ['+025-09-03T10:15:30', null],
  ['', null],
];

for (const [fn, cases] of [
  ['edlake_date', DATES],
  ['edlake_timestamp', TIMESTAMPS],
] as const) {
  describe(fn, () => {
    for (const [v, want] of cases) it(`reads ${JSON.stringify(v)} as ${want}`, async () => expect(await read(fn, v)).toBe(want));
  });
}
