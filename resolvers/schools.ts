/** Schools: dim_school, scoped to the caller's schools (teachers: the schools of their sections). */
import type { Row } from '../src/db/duckdb.ts';
import { oneBy, type SnapshotData } from './context.ts';
import { fetchPage, type Page, type PageArgs } from './page.ts';
import { inList } from './runner.ts';
import { T } from './tables.ts';

export interface SchoolRow extends Row {
  tenant: string;
  school_key: string;
  school_id: string;
  school_name: string;
  school_level: string | null;
}

const COLS = 'sc.tenant, sc.school_key, sc.school_id, sc.school_name, sc.school_category AS school_level';

export const SCHOOL_ORDER = {
  NAME: 'sc.school_name, sc.school_key',
  SCHOOL_ID: 'sc.school_id, sc.school_key',
} as const;
export type SchoolOrder = keyof typeof SCHOOL_ORDER;

export function listSchools(d: SnapshotData, args: PageArgs, order: SchoolOrder = 'NAME'): Promise<Page<SchoolRow>> {
  return fetchPage<SchoolRow>(d.q, {
    select: COLS,
    from: `FROM ${T.school} sc WHERE ${d.scope.schools('sc')}`,
    params: d.scope.params,
    ordering: `school:${order}`,
    orderBy: SCHOOL_ORDER[order],
  }, args);
}

export function schoolByKey(d: SnapshotData) {
  return d.loader<SchoolRow | null>('school', async (keys) => {
    const rows = await d.q.all<SchoolRow>(
      `SELECT ${COLS} FROM ${T.school} sc WHERE sc.school_key IN ${inList('keys')} AND ${d.scope.schools('sc')}`,
      { keys: [...keys], ...d.scope.params },
    );
    return oneBy(keys, rows, 'school_key');
  });
}
