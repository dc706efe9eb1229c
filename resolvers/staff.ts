/** Staff: keyed only (dim_staff); names are not published. Scoped to the staff of the caller's sections or schools. */
import type { Row } from '../src/db/duckdb.ts';
import { oneBy, type SnapshotData } from './context.ts';
import { fetchPage, type Page, type PageArgs } from './page.ts';
import { inList } from './runner.ts';
import { T } from './tables.ts';

export interface StaffRow extends Row {
  tenant: string;
  staff_key: string;
}

export function listStaff(d: SnapshotData, args: PageArgs): Promise<Page<StaffRow>> {
  return fetchPage<StaffRow>(d.q, {
    select: 'sf.tenant, sf.staff_key',
    from: `FROM ${T.staff} sf WHERE ${d.scope.staff('sf')}`,
    params: d.scope.params,
    ordering: 'staff:KEY',
    orderBy: 'sf.staff_key',
  }, args);
}

export function staffByKey(d: SnapshotData) {
  return d.loader<StaffRow | null>('staff', async (keys) => {
    const rows = await d.q.all<StaffRow>(
      `SELECT sf.tenant, sf.staff_key FROM ${T.staff} sf WHERE sf.staff_key IN ${inList('keys')} AND ${d.scope.staff('sf')}`,
      { keys: [...keys], ...d.scope.params },
    );
    return oneBy(keys, rows, 'staff_key');
  });
}
