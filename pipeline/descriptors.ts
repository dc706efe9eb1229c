/**
 * Descriptor codes delivered in this run that no seed table maps: reported, never dropped or
 * guessed (DOMAIN.md: map each code through a mapping table, case-insensitively; report codes that
 * nothing maps). Refined rows keep the code as delivered; the marts map it through the seeds.
 */
import type { Db } from '../src/db/duckdb.ts';
import { ident, literal } from '../src/db/duckdb.ts';
import { ENTITIES } from './contracts/index.ts';

/** Seed table (and its code column) that maps each descriptor type; the rest are in seeds.descriptor_map. */
const SEED_OF: Record<string, { table: string; where?: string }> = {
  AttendanceEventCategoryDescriptor: { table: 'attendance_codes' },
  CalendarEventDescriptor: { table: 'calendar_events' },
  GradeLevelDescriptor: { table: 'grade_levels' },
  RaceDescriptor: { table: 'race_ethnicity' },
};

export interface UnmappedDescriptor {
  entity: string;
  column: string;
  descriptor: string;
  code: string;
  rows: number;
}

/**
 * Codes of rows refined from this run's files that no seed maps (by full value or by the code after
 * '#'). Descriptor types for which the seeds hold no mapping at all are listed once, by name, in
 * `withoutSeeds` (their codes are all unmapped by construction).
 */
export async function unmappedDescriptors(db: Db, fileShas: string[], maxPerColumn = 25, withoutSeeds: string[] = []): Promise<UnmappedDescriptor[]> {
  if (fileShas.length === 0) return [];
  const seeds = new Set((await db.all<{ t: string }>(`SELECT table_name AS t FROM duckdb_tables() WHERE schema_name = 'seeds'`)).map((r) => r.t));
  const out: UnmappedDescriptor[] = [];
  await db.run(`CREATE OR REPLACE TEMP TABLE tmp_run_files AS SELECT unnest([${fileShas.map(literal).join(', ')}]) AS sha`);
  for (const e of ENTITIES) {
    for (const c of e.columns) {
      if (!c.descriptor) continue;
      const own = SEED_OF[c.descriptor];
      const seed = own ? own.table : 'descriptor_map';
      if (!seeds.has(seed)) continue;
      const codes = own
        ? `SELECT lower(code_value) AS code FROM seeds.${ident(seed)}`
        : `SELECT lower(code_value) AS code FROM seeds.descriptor_map WHERE lower(descriptor_type) = lower(${literal(c.descriptor)})`;
      if (!own) {
        const n = await db.scalar<number>(`SELECT count(*)::INTEGER FROM seeds.descriptor_map WHERE lower(descriptor_type) = lower($1)`, [c.descriptor]);
        if (!n) {
          if (!withoutSeeds.includes(c.descriptor)) withoutSeeds.push(c.descriptor);
          continue;
        }
      }
      const values = c.type === 'VARCHAR[]' ? `unnest(t.${ident(c.name)})` : `t.${ident(c.name)}`;
      const rows = await db.all<{ code: string; n: number }>(
        `WITH v AS (SELECT ${values} AS code FROM refined.${ident(e.entity)} t WHERE t._file_sha256 IN (SELECT sha FROM tmp_run_files)),
              known AS (${codes})
         SELECT code, count(*)::INTEGER AS n FROM v
         WHERE code IS NOT NULL AND lower(code) NOT IN (SELECT code FROM known) AND lower(regexp_replace(code, '^.*#', '')) NOT IN (SELECT code FROM known)
         GROUP BY code ORDER BY n DESC, code LIMIT ${maxPerColumn}`,
      );
      for (const r of rows) out.push({ entity: e.entity, column: c.name, descriptor: c.descriptor, code: r.code, rows: r.n });
    }
  }
  return out;
}
