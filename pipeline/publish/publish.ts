/**
 * The publish stage of `edlake pipeline run`: after the data tests pass, write the working
 * database's marts (tier published) and refined tables (tier analyst) as a snapshot.
 *
 * It only gathers what the snapshot needs (which tables, the source files of raw.files, test
 * results, model versions, the dictionary) and hands it to the catalog writer
 * (src/catalog/writer.ts), which owns the format and the atomic publish.
 */
import { Db, ident } from '../../src/db/duckdb.ts';
import { writeSnapshot, type Json, type PublishResult, type PublishTable, type SourceFile } from '../../src/catalog/index.ts';
import { silentProgress, type Progress } from '../../src/progress.ts';
import { buildDictionary } from '../dictionary/build.ts';
import { writeQuarantineFile } from './quarantine.ts';

/** Schemas of the working database that are published, and their tier (decision 0001). */
export const PUBLISHED_SCHEMAS: ReadonlyArray<{ schema: string; tier: PublishTable['tier'] }> = [
  { schema: 'marts', tier: 'published' },
  { schema: 'refined', tier: 'refined' },
];

/**
 * Serving layout asked by the API (decision 0600): the tables its scoped lookups read are sorted by
 * school then section or student, in row groups small enough that Parquet min/max statistics let
 * DuckDB skip all but a few for one section or one school. Keys a table lacks are left out.
 */
export const SERVING_LAYOUT: Readonly<Record<string, readonly string[]>> = {
  'marts.fct_section_membership': ['school_key', 'section_key'],
  'marts.dim_section': ['school_key', 'section_key'],
  'marts.v_class_section_comparison': ['school_key', 'section_key'],
  'marts.dim_student': ['school_key', 'student_key'],
  'marts.v_chronic_absenteeism_risk': ['school_key', 'student_key'],
  'marts.v_wellbeing_risk_profiles': ['school_key', 'student_key'],
};
export const SERVING_ROW_GROUP_SIZE = 32_768;

/**
 * Tables that grow by the day are split into one file per month of their day column, so a nightly
 * snapshot rewrites only the current month (the earlier months' files are shared). Applied to tables
 * of at least `PARTITION_MIN_ROWS` rows with one of these DATE columns.
 */
export const PARTITION_COLUMNS = ['calendar_date', 'event_date'] as const;
export const PARTITION_MIN_ROWS = 500_000;

/**
 * Any other table with a student key is written sorted by it (then by its day column): the keys are
 * 64-hex hashes that do not compress, and the models emit rows in no particular order, so a Parquet
 * row group of scattered students carries a dictionary of nearly every key. Measured at 100,000
 * students: one month of daily attendance (1.98 million rows) is 67.7 MB unsorted, 4.9 MB sorted by
 * student and date, for about 10% more write time; LMS submissions 70.7 MB → 31.3 MB.
 */
export const STUDENT_SORT_COLUMN = 'student_key';

/** Build steps (`bld_*`) are intermediate results of the models, not published marts. */
export const UNPUBLISHED_PREFIXES = ['bld_'] as const;

/**
 * Every table and view of the published schemas. Other files keep the table's own row order
 * (DuckDB preserves insertion order): sorting is a full sort at each publish of that table
 * (measured: 12 million attendance rows, 2.3 s unsorted, 19 s sorted by school, 75 s by school and
 * student, on a loaded 2-core machine), so it is kept for the tables the API looks up.
 * `sortKeys` overrides the layout per table (`'marts.x': []` turns sorting off).
 */
export async function discoverTables(
  db: Db,
  opts: {
    exclude?: (schema: string, table: string) => boolean;
    sortKeys?: Record<string, string[]>;
    partition?: boolean;
    /** Also publish the models' build steps (`bld_*`). */
    includeBuildSteps?: boolean;
  } = {},
): Promise<PublishTable[]> {
  const out: PublishTable[] = [];
  for (const { schema, tier } of PUBLISHED_SCHEMAS) {
    const rows = await db.all<{ table_name: string }>(
      `select table_name from information_schema.tables where table_schema = $1 and table_catalog = current_database() order by table_name`,
      [schema],
    );
    for (const r of rows) {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(r.table_name) || opts.exclude?.(schema, r.table_name)) continue;
      if (schema === 'marts' && !opts.includeBuildSteps && UNPUBLISHED_PREFIXES.some((p) => r.table_name.startsWith(p))) continue;
      const q = `${schema}.${r.table_name}`;
      const cols = await db.all<{ column_name: string; data_type: string }>(
        `select column_name, data_type from information_schema.columns where table_schema = $1 and table_name = $2 and table_catalog = current_database()`,
        [schema, r.table_name],
      );
      const have = new Set(cols.map((c) => c.column_name));
      const dayCol = PARTITION_COLUMNS.find((c) => cols.some((x) => x.column_name === c && x.data_type === 'DATE'));
      let keys = opts.sortKeys?.[q];
      const serving = keys === undefined && SERVING_LAYOUT[q] !== undefined;
      if (serving) keys = SERVING_LAYOUT[q]!.filter((k) => have.has(k));
      else if (keys === undefined && have.has(STUDENT_SORT_COLUMN)) keys = [STUDENT_SORT_COLUMN, ...(dayCol ? [dayCol] : [])];
      const sorted = keys !== undefined && keys.length > 0;
      let partition: string | undefined;
      if (!serving && dayCol && opts.partition !== false) {
        const n = (await db.scalar<number>(`select count(*) from ${ident(schema)}.${ident(r.table_name)}`)) ?? 0;
        if (n >= PARTITION_MIN_ROWS) partition = dayCol;
      }
      out.push({
        schema,
        table: r.table_name,
        tier,
        ...(sorted ? { sortKeys: keys } : {}),
        ...(serving && sorted ? { rowGroupSize: SERVING_ROW_GROUP_SIZE } : {}),
        ...(partition ? { partitionByMonthOf: partition } : {}),
      });
    }
  }
  return out;
}

/**
 * The delivered files the run's data was built from, from `raw.files` (decision 0001): loaded
 * files with their content hash. Columns are found by name so that the raw stage may add others.
 */
export async function sourceFilesFromRaw(db: Db): Promise<SourceFile[]> {
  const cols = await db.all<{ column_name: string }>(
    `select column_name from information_schema.columns where table_schema = 'raw' and table_name = 'files' and table_catalog = current_database()`,
  );
  const names = new Set(cols.map((c) => c.column_name));
  if (names.size === 0) return [];
  const hash = ['sha256', 'hash', 'content_hash'].find((c) => names.has(c));
  const pathCol = ['path', 'landing_path', 'original_path', 'file_path'].find((c) => names.has(c));
  if (!hash || !pathCol) return [];
  const source = names.has('source') ? 'source' : null;
  const bytes = ['bytes', 'size', 'size_bytes'].find((c) => names.has(c));
  const where = names.has('status') ? `where status = 'loaded'` : '';
  const rows = await db.all<{ path: string; sha256: string; source: string | null; bytes: number | null }>(
    `select "${pathCol}"::varchar as path, lower("${hash}"::varchar) as sha256, ${source ? `"${source}"::varchar` : 'null'} as source,
            ${bytes ? `"${bytes}"::bigint` : 'null'} as bytes
       from raw.files ${where} order by 1, 2`,
  );
  return rows.filter((r) => /^[0-9a-f]{64}$/.test(r.sha256));
}

export interface PublishStageInput {
  db: Db;
  lake: string;
  runId: string;
  dataThrough: string | null;
  timezone: string;
  /** Tables to publish; default: every table and view of `marts` and `refined`. */
  tables?: PublishTable[];
  /** Source files; default: the loaded files of `raw.files`. */
  sourceFiles?: SourceFile[];
  dataTests: Json;
  modelVersions: Record<string, string>;
  /**
   * The data dictionary to keep in the manifest. Default: built now from the run's database, the
   * model metadata (`sqlDir`), contracts, sources and seeds in force. `null` publishes without one.
   */
  dictionary?: Json;
  /** SQL project folder for the dictionary (default `sql/`). */
  sqlDir?: string;
  progress?: Progress;
  now?: Date;
}

/** Publish the run's tables as a new snapshot. Call it only when the blocking data tests passed. */
export async function publishStage(input: PublishStageInput): Promise<PublishResult> {
  const progress = input.progress ?? silentProgress;
  const tables = input.tables ?? (await discoverTables(input.db));
  if (tables.length === 0) throw new Error('nothing to publish: no table in the marts or refined schemas');
  let dictionary: Json;
  if (input.dictionary !== undefined) dictionary = input.dictionary;
  else {
    progress.stage('dictionary');
    dictionary = await buildDictionary({ db: input.db, ...(input.sqlDir ? { sqlDir: input.sqlDir } : {}) });
    progress.done();
  }
  progress.stage('publish', tables.length);
  const result = await writeSnapshot({
    lake: input.lake,
    db: input.db,
    tables,
    runId: input.runId,
    dataThrough: input.dataThrough,
    sourceFiles: input.sourceFiles ?? (await sourceFilesFromRaw(input.db)),
    dataTests: input.dataTests,
    modelVersions: input.modelVersions,
    dictionary,
    timezone: input.timezone,
    ...(input.now ? { now: input.now } : {}),
    onTable: (t) => progress.item(`${t.schema}.${t.table}${t.shared ? ' (unchanged, shared)' : ''}`, { rows: t.rows }),
  });
  progress.done(
    `snapshot ${result.snapshotId}: ${result.filesWritten} files written (${result.bytesWritten} bytes), ${result.filesShared} shared`,
  );
  // The quarantine as of this snapshot, beside it (raw tier, PII values withheld; decision 0608).
  // The snapshot is published already: a failure here leaves it without a quarantine file (the API
  // then answers quarantine with null) and is reported, not thrown.
  progress.stage('quarantine');
  try {
    const n = await writeQuarantineFile(input.db, input.lake, result.snapshotId);
    progress.done(n === null ? 'no quarantine store in this database' : `${n} quarantined row(s) as of snapshot ${result.snapshotId}`);
  } catch (err) {
    progress.done(`quarantine file of snapshot ${result.snapshotId} not written: ${(err as Error).message}`);
  }
  return result;
}
