/**
 * Refine batches side by side (decision 0310): the result must be the one of refining them one
 * after another. Oracle: the same landing refined with one batch at a time, compared table by
 * table (every row, both ways), and file by file in the run record. The access sets that decide
 * which batches may overlap are checked against what the source definitions say, read here by hand.
 */
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Db, literal } from '../../src/db/duckdb.ts';
import { identityPath } from '../../src/identity/store.ts';
import { batchAccess, batchesConflict } from '../../pipeline/refine.ts';
import type { RunRecord } from '../../pipeline/run.ts';
import { layoutById } from '../../pipeline/sources/index.ts';
import { workDbPath } from '../../pipeline/workdb.ts';
import { generateDistrict, removeDir, run, tempDir } from './helpers.ts';

const access = (id: string) => {
  const l = layoutById(id);
  if (!l) throw new Error(`no layout ${id}`);
  return batchAccess(l.layout);
};

describe('which batches may be refined side by side', () => {
  it('knows what a layout reads and writes', () => {
    // canvas submissions: written to refined.lms_submissions; the points check reads the assignments
    // (canvas.ts); students are found through the identity store
    const subs = access('canvas.submissions');
    expect([...subs.writes]).toEqual(['refined.lms_submissions']);
    expect(subs.reads).toContain('refined.lms_assignments');
    expect(subs.reads).toContain('identity.person_ids');
    expect(subs.reads).toContain('run_refs.lms_assignments');
    // SIS discipline actions read the incidents' behaviors kept by the incidents layout (sis.ts)
    expect(access('sis.discipline_actions').reads).toContain('meta.aux_incident_behaviors');
    expect(access('sis.discipline_incidents').writes).toContain('meta.aux_incident_behaviors');
    // roster-defining layouts register IDs and write identity facts; demographics only add facts
    // (birth dates) to students already on the roster (oneroster.ts)
    expect(access('oneroster.users').writes).toEqual(
      new Set([
        'refined.students',
        'refined.staffs',
        'refined.staff_education_organization_assignment_associations',
        'identity.person_ids',
        'identity.persons',
        // the run's quarantined student and staff keys, which other records reference
        'run_refs.students',
        'run_refs.staffs',
      ]),
    );
    expect(access('oneroster.demographics').writes).toContain('identity.persons');
    expect(access('oneroster.demographics').writes).not.toContain('identity.person_ids');
    // Canvas users bring the LMS user ids, which the Canvas files name their students by (canvas.ts)
    expect(access('canvas.users').writes).toContain('identity.person_ids');
  });

  it('keeps the order of batches that touch the same thing, and only of those', () => {
    expect(batchesConflict(access('oneroster.users'), access('canvas.submissions'))).toBe(true);
    expect(batchesConflict(access('canvas.submissions'), access('oneroster.users'))).toBe(true);
    expect(batchesConflict(access('sis.discipline_incidents'), access('sis.discipline_actions'))).toBe(true);
    expect(batchesConflict(access('canvas.assignments'), access('canvas.submissions'))).toBe(true);
    expect(batchesConflict(access('canvas.users'), access('canvas.submissions'))).toBe(true);
    expect(batchesConflict(access('sis.students'), access('oneroster.demographics'))).toBe(true);
    expect(batchesConflict(access('canvas.submissions'), access('sis.attendance'))).toBe(false);
    // enrollments look students up; demographics add birth dates to the identity facts
    expect(batchesConflict(access('oneroster.enrollments'), access('oneroster.demographics'))).toBe(false);
  });
});

describe('a district refined side by side and one batch at a time', () => {
  let district: string;
  const lakes: Record<'one' | 'side', string> = { one: '', side: '' };
  const records: Partial<Record<'one' | 'side', RunRecord>> = {};

  beforeAll(async () => {
    district = await generateDistrict(200, 11, '2025-09-19');
    for (const [k, concurrency] of [['one', 1], ['side', 3]] as const) {
      lakes[k] = tempDir(`lake-${k}`);
      records[k] = await run(join(district, 'landing'), lakes[k], { refineConcurrency: concurrency });
    }
  }, 300_000);

  afterAll(() => {
    removeDir(district);
    for (const l of Object.values(lakes)) if (l) removeDir(l);
  });

  it('gives every file the same outcome', () => {
    const one = records.one!;
    const side = records.side!;
    expect(one.status).toBe('succeeded');
    expect(side.status).toBe('succeeded');
    const byPath = (r: RunRecord) => Object.fromEntries(r.files.map((f) => [f.path, { status: f.status, rows: f.rows, rules: f.quarantineByRule, skipped: f.skippedReasons ?? {} }]));
    expect(byPath(side)).toEqual(byPath(one));
    expect(side.entities).toEqual(one.entities);
    const detections = (r: RunRecord) => [...r.idDetection].sort((a, b) => a.path.localeCompare(b.path));
    expect(detections(side)).toEqual(detections(one));
    expect(one.idDetection.length).toBeGreaterThan(0);
    expect(side.summary.rows.quarantined).toBeGreaterThan(0);
  });

  it('writes the same refined, quarantine and identity rows', async () => {
    const instance = await DuckDBInstance.create(':memory:');
    const db = new Db(await instance.connect());
    try {
      for (const k of ['one', 'side'] as const) {
        await db.run(`ATTACH ${literal(workDbPath(lakes[k]))} AS w_${k} (READ_ONLY)`);
        await db.run(`ATTACH ${literal(identityPath(lakes[k]))} AS i_${k} (READ_ONLY)`);
      }
      const tables = await db.all<{ db: string; schema: string; name: string }>(
        `SELECT database_name AS db, schema_name AS schema, table_name AS name FROM duckdb_tables()
         WHERE database_name IN ('w_one', 'i_one') AND (schema_name IN ('refined', 'quarantine') OR database_name = 'i_one' OR table_name LIKE 'aux\\_%' ESCAPE '\\') ORDER BY ALL`,
      );
      expect(tables.map((t) => t.name)).toEqual(expect.arrayContaining(['students', 'sections', 'lms_submissions', 'rows', 'person_ids', 'persons', 'aux_incident_behaviors']));
      let compared = 0;
      for (const t of tables) {
        // run ids differ between the two lakes by construction
        const cols = (await db.all<{ c: string }>(`SELECT column_name AS c FROM duckdb_columns() WHERE database_name = $1 AND schema_name = $2 AND table_name = $3`, [t.db, t.schema, t.name]))
          .map((r) => r.c)
          .filter((c) => !['run_id', 'first_run', 'updated_run'].includes(c));
        const list = cols.map((c) => `"${c}"`).join(', ');
        const other = t.db.replace('_one', '_side');
        for (const [a, b] of [[t.db, other], [other, t.db]]) {
          const n = await db.scalar<number>(`SELECT count(*)::INTEGER FROM (SELECT ${list} FROM ${a}."${t.schema}"."${t.name}" EXCEPT ALL SELECT ${list} FROM ${b}."${t.schema}"."${t.name}")`);
          expect(n, `${t.schema}.${t.name}: rows of ${a} not in ${b}`).toBe(0);
        }
        compared += (await db.scalar<number>(`SELECT count(*)::INTEGER FROM ${t.db}."${t.schema}"."${t.name}"`)) ?? 0;
      }
      expect(compared).toBeGreaterThan(1000);
      expect(await db.scalar<number>(`SELECT count(*)::INTEGER FROM w_one.meta.aux_incident_behaviors`)).toBeGreaterThan(0);
      // the run's table of quarantined keys does not outlive the refine stage
      expect(await db.scalar<number>(`SELECT count(*)::INTEGER FROM duckdb_tables() WHERE table_name = 'refine_run_refs'`)).toBe(0);
    } finally {
      db.close();
      instance.closeSync();
    }
  });
});
