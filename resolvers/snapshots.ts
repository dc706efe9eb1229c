/**
 * Which published snapshot answers a request, and the pooled DuckDB connections over it.
 *
 * The API reads only published snapshots. A `SnapshotSource` lists them, resolves a selection
 * (`snapshotId`, or `asOf` a date in the district's time zone) and opens one: an in-memory DuckDB
 * with one view per published table, served through a small connection pool. The catalog adapter
 * (src/server/catalog-source.ts) opens snapshots of a lake; tests build small snapshots in memory.
 */
import type { DuckDBInstance } from '@duckdb/node-api';
import { Pool, defaultPoolSize } from '../src/db/pool.ts';
import { PUBLISHED_SCHEMA, REFINED, T } from './tables.ts';
import { Db } from '../src/db/duckdb.ts';

export interface SnapshotInfo {
  id: number;
  /** ISO timestamp of publication. */
  publishedAt: string;
  /** Date the data runs through (YYYY-MM-DD), when known. */
  dataThrough: string | null;
  runId: string | null;
}

export interface OpenedSnapshot {
  info: SnapshotInfo;
  pool: Pool;
  /** Tables the snapshot publishes: marts by bare name, refined ones as `refined.<name>`. */
  tables: ReadonlySet<string>;
  /** The data dictionary and lineage kept in the snapshot's manifest. */
  dictionary: unknown;
  /** Tables computed from the published ones when the snapshot was opened (schema `serving`, e.g. AGG tables). */
  derived?: ReadonlySet<string>;
}

export interface SnapshotSelection {
  snapshotId?: number | undefined;
  /** A calendar date YYYY-MM-DD, read in the district's time zone. */
  asOf?: string | undefined;
}

/** A selection that names no snapshot: unknown id, or a date before the first snapshot. */
export class SnapshotNotFoundError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SnapshotNotFoundError';
  }
}

export interface SnapshotSource {
  /** Every readable snapshot, oldest first. */
  list(): Promise<SnapshotInfo[]>;
  /** The snapshot a selection names (the current one when it names none). */
  resolve(sel: SnapshotSelection): Promise<SnapshotInfo>;
  /** Open (or reuse) a snapshot for serving. */
  open(id: number): Promise<OpenedSnapshot>;
  close(): Promise<void>;
}

/**
 * End of a calendar day in a time zone, as a UTC instant: the first instant of the next day there.
 * (A date resolves to the latest snapshot published at or before the end of that day.)
 */
export function endOfDayUtc(date: string, timeZone: string): Date {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  const nextMidnightUtc = Date.UTC(y, m - 1, d + 1);
  // offset of the zone at that moment: local wall time minus UTC
  const offsetAt = (t: number): number => {
    const parts = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    }).formatToParts(new Date(t));
    const get = (type: string) => Number(parts.find((p) => p.type === type)?.value);
    return Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second')) - t;
  };
  // local midnight of the next day = nextMidnightUtc - offset (iterate once for DST edges)
  let guess = nextMidnightUtc - offsetAt(nextMidnightUtc);
  guess = nextMidnightUtc - offsetAt(guess);
  return new Date(guess);
}

/** Resolve a selection against a list of snapshots (oldest first). */
export function resolveSelection(list: SnapshotInfo[], sel: SnapshotSelection, timeZone: string): SnapshotInfo {
  if (list.length === 0) throw new SnapshotNotFoundError('no snapshot has been published yet');
  if (sel.snapshotId !== undefined && sel.asOf !== undefined) {
    throw new SnapshotNotFoundError('give either snapshotId or asOf, not both');
  }
  if (sel.snapshotId !== undefined) {
    const s = list.find((x) => x.id === sel.snapshotId);
    if (!s) throw new SnapshotNotFoundError(`snapshot ${sel.snapshotId} does not exist (or has expired)`);
    return s;
  }
  if (sel.asOf !== undefined) {
    const end = endOfDayUtc(sel.asOf, timeZone).getTime();
    let found: SnapshotInfo | undefined;
    for (const s of list) if (Date.parse(s.publishedAt) < end) found = s;
    if (!found) {
      throw new SnapshotNotFoundError(
        `no snapshot was published on or before ${sel.asOf} (${timeZone}); the first is ${list[0]?.id} of ${list[0]?.publishedAt}`,
      );
    }
    return found;
  }
  return list[list.length - 1] as SnapshotInfo;
}

/** Published tables copied into memory when a snapshot is opened, with the order they are kept in. */
export const SERVING_TABLES: Record<string, string> = {
  dim_school: 'school_key',
  dim_staff: 'staff_key',
  dim_section: 'school_key, section_key',
  dim_student: 'school_key, student_key',
  dim_student_groups: 'student_key',
  fct_section_membership: 'section_key, student_key',
  fct_assessment_results: 'student_key',
  fct_predictions: 'student_key',
  v_chronic_absenteeism_risk: 'school_key, student_key',
  v_wellbeing_risk_profiles: 'school_key, student_key',
  v_equity_outcomes: 'school_key',
  v_class_section_comparison: 'school_key, section_key',
  v_performance_correlations: 'school_key',
};

/** Schema of the in-memory copies; the search path puts it before the published schema. */
export const SERVING_SCHEMA = 'serving';

/** In-memory copy of the refined staff-section associations (the teacher scope's lookup), in SERVING_SCHEMA. */
export const SERVING_STAFF_SECTIONS = 'staff_section_associations';

/**
 * Where a snapshot's staff-section associations are read: the in-memory copy ordered by staff key
 * when the snapshot was opened with it (the same rows), else the published refined table. Every
 * reader of the associations (scope, scope predicates, section staff) goes through here.
 */
export function staffSectionsTable(snap: Pick<OpenedSnapshot, 'derived'>): string {
  return snap.derived?.has(SERVING_STAFF_SECTIONS) ? `${SERVING_SCHEMA}.${SERVING_STAFF_SECTIONS}` : REFINED.staffSections;
}

/**
 * Grouped measures computed once when a snapshot opens (decision 0609), in DuckDB, at the finest
 * grain the aggregates of resolvers/aggregates.ts group by: every per-caller aggregate whose scope is
 * whole schools or tenants (district-wide roles, principals) re-adds these few thousand cells instead
 * of joining every student of the district again. Additive measures only (counts and sums), so that
 * any coarser grouping, filter and suppression is computed from them in SQL per call.
 */
export const AGG = {
  /** (tenant, school, grade): students, attendance-view rows, chronic students, days absent and enrolled. */
  attendance: 'agg_attendance',
  /** The same per student group (dim_student_groups holds a student at most once per group). */
  attendanceGroups: 'agg_attendance_groups',
} as const;

const ATTENDANCE_MEASURES = `count(*) AS students, count(c.student_key) AS attendance_rows,
       count(*) FILTER (WHERE c.is_chronically_absent) AS chronic_students,
       sum(c.days_absent) AS days_absent, sum(c.days_enrolled) AS days_enrolled`;

/**
 * Copy the snapshot's hot published views (Parquet) into native in-memory tables, so that the
 * resolvers' statements read decoded columns instead of decoding Parquet on every call (only views
 * are copied: a snapshot built as tables is already in memory), and compute the AGG tables. Returns
 * the search path to use and the AGG tables built.
 */
export async function materializeServingTables(db: Db): Promise<{ searchPath: string; derived: Set<string> }> {
  const views = await db.all<{ name: string; type: string }>(
    `SELECT table_name AS name, table_type AS type FROM information_schema.tables WHERE table_schema = $schema`,
    { schema: PUBLISHED_SCHEMA },
  );
  const present = new Set(views.filter((v) => v.type === 'VIEW').map((v) => v.name));
  const published = new Set(views.map((v) => v.name));
  await db.run(`CREATE SCHEMA IF NOT EXISTS ${SERVING_SCHEMA}`);
  for (const [t, order] of Object.entries(SERVING_TABLES)) {
    if (!present.has(t)) continue;
    await db.run(`CREATE OR REPLACE TABLE ${SERVING_SCHEMA}.${t} AS SELECT * FROM ${PUBLISHED_SCHEMA}.${t} ORDER BY ${order}`);
  }
  const src = (t: string) => (present.has(t) ? `${SERVING_SCHEMA}.${t}` : `${PUBLISHED_SCHEMA}.${t}`);
  const derived = new Set<string>();
  // A teacher's scope is looked up by staff key on every first request (resolvers/scope.ts): an
  // in-memory copy ordered by staff key lets DuckDB's zone maps skip to the caller's rows instead of
  // scanning the snapshot's Parquet (about 40 ms per caller at 100,000 students, 2026-12-01).
  const [refinedSchema, staffSectionsTable] = REFINED.staffSections.split('.') as [string, string];
  const staffSections = await db.all<{ name: string }>(
    `SELECT table_name AS name FROM information_schema.tables WHERE table_schema = $schema AND table_name = $name`,
    { schema: refinedSchema, name: staffSectionsTable },
  );
  if (staffSections.length > 0) {
    await db.run(`CREATE OR REPLACE TABLE ${SERVING_SCHEMA}.${SERVING_STAFF_SECTIONS} AS SELECT * FROM ${REFINED.staffSections} ORDER BY staff_key`);
    derived.add(SERVING_STAFF_SECTIONS);
  }
  if (published.has(T.student) && published.has(T.chronic)) {
    // one row per student (LEFT JOIN: students without an attendance row count as students only)
    await db.run(`CREATE OR REPLACE TABLE ${SERVING_SCHEMA}.${AGG.attendance} AS
      SELECT st.tenant, st.school_key, st.grade_number, ${ATTENDANCE_MEASURES}
        FROM ${src(T.student)} st LEFT JOIN ${src(T.chronic)} c ON c.student_key = st.student_key
       GROUP BY st.tenant, st.school_key, st.grade_number
       ORDER BY st.tenant, st.school_key, st.grade_number`);
    derived.add(AGG.attendance);
    if (published.has(T.studentGroup)) {
      await db.run(`CREATE OR REPLACE TABLE ${SERVING_SCHEMA}.${AGG.attendanceGroups} AS
        SELECT st.tenant, st.school_key, st.grade_number, g.group_code, ${ATTENDANCE_MEASURES}
          FROM ${src(T.student)} st LEFT JOIN ${src(T.chronic)} c ON c.student_key = st.student_key
          JOIN ${src(T.studentGroup)} g ON g.student_key = st.student_key
         GROUP BY st.tenant, st.school_key, st.grade_number, g.group_code
         ORDER BY st.tenant, st.school_key, st.grade_number, g.group_code`);
      derived.add(AGG.attendanceGroups);
    }
  }
  return { searchPath: `${SERVING_SCHEMA},${PUBLISHED_SCHEMA}`, derived };
}

export interface InstanceSnapshot {
  info: SnapshotInfo;
  instance: DuckDBInstance;
  dictionary?: unknown;
}

/**
 * Snapshots given as DuckDB instances that already hold the published tables (views or tables) in
 * the `marts` schema.
 * The catalog adapter and the tests build on it.
 */
export class InstanceSnapshotSource implements SnapshotSource {
  private readonly opened = new Map<number, Promise<OpenedSnapshot>>();

  constructor(
    private readonly snapshots: () => Promise<InstanceSnapshot[]> | InstanceSnapshot[],
    private readonly timeZone: string,
    private readonly poolSize = defaultPoolSize(),
  ) {}

  async list(): Promise<SnapshotInfo[]> {
    const all = await this.snapshots();
    return all.map((s) => s.info).sort((a, b) => a.id - b.id);
  }

  async resolve(sel: SnapshotSelection): Promise<SnapshotInfo> {
    return resolveSelection(await this.list(), sel, this.timeZone);
  }

  open(id: number): Promise<OpenedSnapshot> {
    let p = this.opened.get(id);
    if (!p) {
      p = this.openUncached(id);
      this.opened.set(id, p);
      p.catch(() => this.opened.delete(id));
    }
    return p;
  }

  private async openUncached(id: number): Promise<OpenedSnapshot> {
    const snap = (await this.snapshots()).find((s) => s.info.id === id);
    if (!snap) throw new SnapshotNotFoundError(`snapshot ${id} does not exist (or has expired)`);
    const setup = new Db(await snap.instance.connect());
    let serving: { searchPath: string; derived: Set<string> };
    try {
      serving = await materializeServingTables(setup);
    } finally {
      setup.close();
    }
    const pool = await Pool.create(snap.instance, this.poolSize, [`SET search_path = '${serving.searchPath}'`]);
    const tables = new Set<string>();
    await pool.use(async (db) => {
      for (const r of await db.all<{ schema: string; name: string }>(
        `SELECT table_schema AS schema, table_name AS name FROM information_schema.tables WHERE table_schema IN ($published, 'refined')`,
        { published: PUBLISHED_SCHEMA },
      )) {
        // published tables by bare name (the search path), refined ones schema-qualified
        tables.add(r.schema === PUBLISHED_SCHEMA ? r.name : `${r.schema}.${r.name}`);
      }
    });
    return { info: snap.info, pool, tables, dictionary: snap.dictionary ?? null, derived: serving.derived };
  }

  async close(): Promise<void> {
    for (const p of this.opened.values()) {
      try {
        (await p).pool.close();
      } catch {
        // failed to open: nothing to close
      }
    }
    this.opened.clear();
  }
}
