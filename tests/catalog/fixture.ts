/**
 * A small working database for catalog tests: the rows are computed here in plain TypeScript
 * (the oracle), inserted with parameters, and published; tests compare what comes back to them.
 */
import { Db } from '../../src/db/duckdb.ts';
import type { PublishTable } from '../../src/catalog/index.ts';

export interface EquityRow {
  school_key: string;
  student_group: string;
  n_students: number;
  attendance_rate: number;
  suppressed: boolean;
  data_through: string;
}

export const SCHOOLS = [
  { school_key: 'a1', name: 'Alder Elementary' },
  { school_key: 'b2', name: "O'Brien Middle" },
  { school_key: 'c3', name: 'Cedar High' },
];
const GROUPS = ['all', 'english_learner', 'foster', 'hispanic'];

/** The v_equity_outcomes rows of night `n` (1-based): numbers move a little every night. */
export function equityRows(night: number): EquityRow[] {
  const out: EquityRow[] = [];
  SCHOOLS.forEach((s, i) => {
    GROUPS.forEach((g, j) => {
      const n = 5 + i * 40 + j * 7;
      out.push({
        school_key: s.school_key,
        student_group: g,
        n_students: n,
        attendance_rate: Math.round((0.9 - 0.01 * j + 0.003 * night + 0.001 * i) * 10000) / 10000,
        suppressed: n <= 10,
        data_through: `2026-03-${String(night).padStart(2, '0')}`,
      });
    });
  });
  return out;
}

export const STUDENTS = Array.from({ length: 60 }, (_, i) => ({
  student_key: `s${String(i).padStart(3, '0')}`,
  school_key: SCHOOLS[i % 3]!.school_key,
  grade_level: 1 + (i % 12),
}));

export const TABLES: PublishTable[] = [
  { schema: 'marts', table: 'dim_school', tier: 'published', sortKeys: ['school_key'] },
  { schema: 'marts', table: 'v_equity_outcomes', tier: 'published', sortKeys: ['school_key'] },
  { schema: 'refined', table: 'students', tier: 'refined', sortKeys: ['school_key', 'student_key'] },
];

/** Fill (or refill) the working database with night `night`'s tables. */
export async function buildNight(db: Db, night: number): Promise<void> {
  await db.run('create schema if not exists marts; create schema if not exists refined;');
  await db.run('create or replace table marts.dim_school (school_key varchar, name varchar)');
  for (const s of SCHOOLS) await db.run('insert into marts.dim_school values ($1, $2)', [s.school_key, s.name]);
  await db.run(
    'create or replace table marts.v_equity_outcomes (school_key varchar, student_group varchar, n_students integer, attendance_rate double, suppressed boolean, data_through date)',
  );
  for (const r of equityRows(night)) {
    await db.run('insert into marts.v_equity_outcomes values ($1, $2, $3, $4, $5, $6::date)', [
      r.school_key,
      r.student_group,
      r.n_students,
      r.attendance_rate,
      r.suppressed,
      r.data_through,
    ]);
  }
  await db.run('create or replace table refined.students (student_key varchar, school_key varchar, grade_level integer)');
  for (const s of STUDENTS) await db.run('insert into refined.students values ($1, $2, $3)', [s.student_key, s.school_key, s.grade_level]);
}

export function sortEquity<T extends object>(rows: T[]): T[] {
  const k = (r: T) => {
    const o = r as Record<string, unknown>;
    return `${String(o['school_key'])}|${String(o['student_group'])}`;
  };
  return [...rows].sort((a, b) => k(a).localeCompare(k(b)));
}
