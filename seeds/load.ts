/**
 * Reference seeds: the CSV tables of `seeds/reference/` loaded into the schema `seeds` of the
 * working database. Every threshold, cut score, tier and code mapping the SQL models use comes
 * from here; a district changes one by editing a CSV, never code.
 *
 * Each table is declared below (columns, types, required fields, ranges, allowed values, key).
 * Loading reads every value as text in DuckDB, checks it in bulk, and stops at the first problem
 * with a message naming the file, the CSV line and the field. Keys are unique case-insensitively,
 * because descriptor codes are matched case-insensitively.
 */
import { createHash } from 'node:crypto';
import { readFileSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { type Db, ident, literal } from '../src/db/duckdb.ts';

export type SeedType = 'VARCHAR' | 'INTEGER' | 'DOUBLE' | 'BOOLEAN';

export interface SeedColumn {
  name: string;
  type: SeedType;
  required: boolean;
  description: string;
  min?: number;
  max?: number;
  allowed?: readonly string[];
}

export interface SeedCheck {
  /** SQL over the loaded table (named by `{t}`) returning the offending rows; none means pass. */
  sql: string;
  message: string;
}

export interface SeedTable {
  name: string;
  description: string;
  /** Columns whose lower-cased, trimmed values identify a row. */
  key: string[];
  columns: SeedColumn[];
  checks?: SeedCheck[];
}

export class SeedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SeedError';
  }
}

export const DEFAULT_SEEDS_DIR = fileURLToPath(new URL('./reference/', import.meta.url));

const v = (name: string, description: string, required = true, extra: Partial<SeedColumn> = {}): SeedColumn => ({
  name,
  type: 'VARCHAR',
  required,
  description,
  ...extra,
});
const n = (name: string, description: string, required = true, extra: Partial<SeedColumn> = {}): SeedColumn => ({
  name,
  type: 'DOUBLE',
  required,
  description,
  ...extra,
});
const i = (name: string, description: string, required = true, extra: Partial<SeedColumn> = {}): SeedColumn => ({
  name,
  type: 'INTEGER',
  required,
  description,
  ...extra,
});
const b = (name: string, description: string, required = true): SeedColumn => ({ name, type: 'BOOLEAN', required, description });

const NAMESPACE = v('namespace', 'descriptor namespace (e.g. uri://ed-fi.org/AttendanceEventCategoryDescriptor); empty matches any namespace and bare codes', false);

export const SEED_TABLES: readonly SeedTable[] = [
  {
    name: 'attendance_codes',
    description: 'Attendance event code (Ed-Fi AttendanceEventCategoryDescriptor or SIS short code) to its category and absent fraction.',
    key: ['namespace', 'code_value'],
    columns: [
      NAMESPACE,
      v('code_value', 'the code as delivered, matched case-insensitively'),
      v('attendance_category', 'logical category', true, {
        allowed: ['present', 'excused_absence', 'unexcused_absence', 'tardy', 'early_departure', 'partial'],
      }),
      n('absent_fraction', 'share of the day counted absent', true, { min: 0, max: 1 }),
      v('note', 'where the code comes from', false),
    ],
  },
  {
    name: 'calendar_events',
    description: 'Calendar event (Ed-Fi CalendarEventDescriptor or SIS code) to whether the day is instructional.',
    key: ['namespace', 'code_value'],
    columns: [NAMESPACE, v('code_value', 'the event code as delivered'), b('is_instructional', 'the day counts as a school day'), v('note', 'source', false)],
  },
  {
    name: 'grade_levels',
    description: 'Grade level code (Ed-Fi GradeLevelDescriptor, OneRoster, SIS) to numeric grade and grade band.',
    key: ['code_value'],
    columns: [
      v('code_value', 'grade code as delivered'),
      i('grade_number', 'numeric grade: -2 PK, -1 TK, 0 K, 1 to 12; empty for ungraded', false, { min: -3, max: 13 }),
      v('grade_label', 'display label'),
      v('grade_band', 'band used by correlations and reports'),
      b('state_tested', 'Smarter Balanced tests this grade (3 to 8 and 11)'),
    ],
  },
  {
    name: 'race_ethnicity',
    description: 'Race or ethnicity code to California reporting group.',
    key: ['code_value'],
    columns: [
      v('code_value', 'race/ethnicity code as delivered'),
      v('kind', 'race, ethnicity (overrides race) or multiple (the group of students with several races)', true, { allowed: ['race', 'ethnicity', 'multiple'] }),
      v('reporting_group', 'student group code (student_groups.group_code)'),
      v('note', 'source', false),
    ],
    checks: [
      {
        sql: `SELECT reporting_group FROM {t} WHERE reporting_group NOT IN (SELECT group_code FROM seeds.student_groups WHERE group_kind = 'race')`,
        message: 'reporting_group must be a race group of student_groups',
      },
    ],
  },
  {
    name: 'student_groups',
    description: 'Student groups reported by California, in reporting order.',
    key: ['group_code'],
    columns: [
      v('group_code', 'group code'),
      v('label', 'display label'),
      v('group_kind', 'all, program or race', true, { allowed: ['all', 'program', 'race'] }),
      i('reporting_order', 'order in reports', true, { min: 1 }),
    ],
  },
  {
    name: 'assessment_thresholds',
    description: 'Threshold (minimum) scale score of each achievement level by assessment, subject and grade.',
    key: ['assessment_family', 'subject', 'grade', 'level'],
    columns: [
      v('assessment_family', 'assessment family (SBAC = Smarter Balanced / CAASPP)'),
      v('subject', 'ELA or Math', true, { allowed: ['ELA', 'Math'] }),
      i('grade', 'grade tested', true, { min: 0, max: 12 }),
      i('level', 'achievement level reached at this score', true, { min: 2, max: 4 }),
      i('min_scale_score', 'lowest scale score of the level', true, { min: 2000, max: 3000 }),
    ],
    checks: [
      {
        sql: `SELECT * FROM {t} a JOIN {t} c ON a.assessment_family = c.assessment_family AND a.subject = c.subject AND a.grade = c.grade AND c.level = a.level + 1 WHERE c.min_scale_score <= a.min_scale_score`,
        message: 'thresholds must increase with the level',
      },
    ],
  },
  {
    name: 'achievement_levels',
    description: 'Achievement levels and whether each counts as proficient.',
    key: ['assessment_family', 'level'],
    columns: [v('assessment_family', 'assessment family'), i('level', 'level number', true, { min: 1, max: 4 }), v('label', 'official label'), b('is_proficient', 'Met or Exceeded')],
  },
  {
    name: 'attendance_tiers',
    description: 'Attendance Works tiers by absence rate: [min, max).',
    key: ['tier_code'],
    columns: [
      v('tier_code', 'tier code'),
      v('label', 'display label'),
      n('min_absence_rate', 'lowest absence rate of the tier (inclusive)', true, { min: 0, max: 1 }),
      n('max_absence_rate', 'absence rate where the next tier starts (exclusive); empty for the last tier', false, { min: 0, max: 1 }),
      i('severity', 'order of severity, 1 best', true, { min: 1 }),
    ],
    checks: [
      {
        sql: `SELECT * FROM (SELECT tier_code, min_absence_rate, lag(max_absence_rate) OVER (ORDER BY min_absence_rate) AS prev_max, row_number() OVER (ORDER BY min_absence_rate) AS k FROM {t}) WHERE (k = 1 AND min_absence_rate <> 0) OR (k > 1 AND (prev_max IS NULL OR prev_max <> min_absence_rate))`,
        message: 'tiers must start at 0 and each must start where the previous ends',
      },
      { sql: `SELECT * FROM (SELECT count(*) FILTER (WHERE max_absence_rate IS NULL) AS open FROM {t}) WHERE open <> 1`, message: 'exactly one tier (the last) has no max_absence_rate' },
    ],
  },
  {
    name: 'chronic_absence_definitions',
    description: 'Definitions of chronic absence (absence-rate threshold, minimum enrolled days); exactly one is active.',
    key: ['definition_code'],
    columns: [
      v('definition_code', 'code'),
      v('label', 'what it is'),
      n('min_absence_rate', 'absence rate at or above which a student is chronically absent', true, { min: 0, max: 1 }),
      i('min_enrolled_days', 'minimum instructional days enrolled for the definition to apply', true, { min: 0 }),
      i('grade_min', 'lowest grade the definition applies to; empty for no limit', false, { min: -3, max: 13 }),
      i('grade_max', 'highest grade the definition applies to; empty for no limit', false, { min: -3, max: 13 }),
      b('is_active', 'the definition the marts use'),
    ],
    checks: [{ sql: `SELECT * FROM (SELECT count(*) FILTER (WHERE is_active) AS k FROM {t}) WHERE k <> 1`, message: 'exactly one definition must be active' }],
  },
  {
    name: 'early_warning_thresholds',
    description: 'Balfanz ABC early warning thresholds.',
    key: ['indicator', 'level'],
    columns: [
      v('indicator', 'indicator', true, { allowed: ['attendance_rate', 'course_grade_math', 'course_grade_ela', 'state_offenses', 'conduct_offenses'] }),
      v('level', 'warning or at_risk', true, { allowed: ['warning', 'at_risk'] }),
      v('operator', 'comparison of the value with the threshold', true, { allowed: ['<', '>'] }),
      n('threshold', 'threshold value'),
      v('description', 'rule in words', false),
    ],
  },
  {
    name: 'letter_grades',
    description: 'Letter grade to number (0 to 100).',
    key: ['letter'],
    columns: [v('letter', 'letter grade as delivered'), n('grade_points', 'numeric grade', true, { min: 0, max: 100 })],
  },
  {
    name: 'interim_linking',
    description: 'Linking of interim scores to the state scale per model version, vendor, subject, grade and testing window: state = slope * interim + intercept.',
    key: ['model_version', 'vendor', 'subject', 'grade', 'testing_window'],
    columns: [
      v('model_version', 'model version (prediction_models)'),
      v('vendor', 'interim vendor', true, { allowed: ['nwea_map', 'iready', 'star', 'cers'] }),
      v('subject', 'ELA or Math', true, { allowed: ['ELA', 'Math'] }),
      i('grade', 'grade of the student at the interim test', true, { min: -3, max: 13 }),
      v('testing_window', 'Fall, Winter or Spring; empty for any window (a window-specific row wins)', false, { allowed: ['Fall', 'Winter', 'Spring'] }),
      v('method', 'linear or identity', true, { allowed: ['linear', 'identity'] }),
      n('slope', 'slope'),
      n('intercept', 'intercept'),
      n('rmse', 'root mean squared error of the link on the state scale', true, { min: 0 }),
      i('n', 'students in the fit; empty for a non-fitted version', false, { min: 0 }),
      n('r2', 'R squared of the fit', false, { min: 0, max: 1 }),
    ],
  },
  {
    name: 'prediction_parameters',
    description: 'Parameters of the end-of-year state score prediction per model version, subject and grade.',
    key: ['model_version', 'subject', 'grade'],
    columns: [
      v('model_version', 'model version'),
      v('subject', 'ELA or Math', true, { allowed: ['ELA', 'Math'] }),
      i('grade', 'grade predicted', true, { min: 0, max: 12 }),
      n('growth_per_year', 'expected state-scale growth over a school year'),
      n('w_interim', 'weight of the interim-based estimate when a prior state score exists', true, { min: 0, max: 1 }),
      n('se_interim_only', 'standard error without a prior state score', true, { min: 0 }),
      n('se_with_prior', 'standard error with a prior state score', true, { min: 0 }),
    ],
  },
  {
    name: 'prediction_models',
    description: 'Prediction model versions; exactly one is active.',
    key: ['model_version'],
    columns: [v('model_version', 'version'), v('created_at', 'ISO time of creation'), v('method', 'how it was made'), b('is_active', 'the version the marts use'), v('note', 'note', false)],
    checks: [{ sql: `SELECT * FROM (SELECT count(*) FILTER (WHERE is_active) AS k FROM {t}) WHERE k <> 1`, message: 'exactly one model version must be active' }],
  },
  {
    name: 'risk_weights',
    description: 'Points each risk component adds to the composite risk score (0 to 100).',
    key: ['component', 'level'],
    columns: [v('component', 'component'), v('level', 'level of the component'), n('points', 'points added', true, { min: 0, max: 100 }), v('reason', 'reason shown to counselors')],
    checks: [
      {
        sql: `SELECT * FROM (SELECT sum(m) AS total FROM (SELECT max(points) AS m FROM {t} GROUP BY component)) WHERE total > 100`,
        message: 'the maximum points of all components together must not exceed 100',
      },
    ],
  },
  {
    name: 'risk_tiers',
    description: 'Tiers of the composite risk score: [min, max).',
    key: ['tier_code'],
    columns: [
      v('tier_code', 'code'),
      v('label', 'label'),
      n('min_score', 'lowest score (inclusive)', true, { min: 0, max: 100 }),
      n('max_score', 'where the next tier starts (exclusive); empty for the last', false, { min: 0, max: 100 }),
      i('severity', 'order', true, { min: 1 }),
    ],
  },
  {
    name: 'parameters',
    description: 'Named numeric parameters (suppression size, windows, flags, data test limits).',
    key: ['parameter'],
    columns: [v('parameter', 'name'), n('value', 'value'), v('description', 'meaning')],
  },
  {
    name: 'descriptor_map',
    description: 'Generic descriptor mapping: descriptor type and code value to a logical value.',
    key: ['descriptor_type', 'namespace', 'code_value'],
    columns: [v('descriptor_type', 'kind of descriptor'), NAMESPACE, v('code_value', 'code as delivered'), v('logical_value', 'meaning edlake uses'), v('note', 'source', false)],
  },
];

/** Parameters the models require to exist in seeds.parameters. */
export const REQUIRED_PARAMETERS = [
  'small_group_max_suppressed',
  'rolling_window_school_days',
  'trend_tolerance',
  'section_min_students',
  'section_flag_abs_z',
  'section_min_peer_sections',
  'correlation_min_n',
  'attendance_freshness_max_days',
  'row_count_change_warn_share',
  'survey_low_scale_mean',
] as const;

export interface LoadedSeed {
  table: string;
  file: string;
  rows: number;
  sha256: string;
}

function castExpr(col: SeedColumn, src: string): string {
  const val = `NULLIF(trim(${src}), '')`;
  return col.type === 'VARCHAR' ? val : `TRY_CAST(${val} AS ${col.type})`;
}

/**
 * Load every seed table from `dir` into schema `seeds` (replacing what was there), in one
 * transaction: either all seeds load or none change.
 */
export async function loadSeeds(db: Db, opts: { dir?: string } = {}): Promise<LoadedSeed[]> {
  const dir = opts.dir ?? DEFAULT_SEEDS_DIR;
  const loaded: LoadedSeed[] = [];
  await db.run('CREATE SCHEMA IF NOT EXISTS seeds');
  await db.run('BEGIN TRANSACTION');
  try {
    for (const t of SEED_TABLES) loaded.push(await loadOne(db, dir, t));
    for (const t of SEED_TABLES) await runChecks(db, dir, t);
    const present = new Set((await db.all<{ p: string }>(`SELECT parameter AS p FROM seeds.parameters`)).map((r) => r.p));
    const missing = REQUIRED_PARAMETERS.filter((p) => !present.has(p));
    if (missing.length > 0) {
      throw new SeedError(`${path.join(dir, 'parameters.csv')}: missing parameter(s) ${missing.join(', ')}`);
    }
    await db.run(`CREATE OR REPLACE TABLE seeds.seed_files (table_name VARCHAR, file VARCHAR, rows INTEGER, sha256 VARCHAR)`);
    for (const l of loaded) {
      await db.run(`INSERT INTO seeds.seed_files VALUES ($1, $2, $3, $4)`, [l.table, path.basename(l.file), l.rows, l.sha256]);
    }
    await db.run('COMMIT');
  } catch (err) {
    await db.run('ROLLBACK');
    throw err;
  }
  return loaded;
}

async function loadOne(db: Db, dir: string, t: SeedTable): Promise<LoadedSeed> {
  const file = path.join(dir, `${t.name}.csv`);
  if (!existsSync(file)) throw new SeedError(`${file}: seed file missing (table seeds.${t.name})`);
  const bytes = readFileSync(file);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const text = bytes.toString('utf8').replace(/^\uFEFF/, '');
  const headerLine = text.split(/\r?\n/, 1)[0] ?? '';
  const header = headerLine.split(',').map((h) => h.trim());
  const expected = t.columns.map((c) => c.name);
  if (header.join(',') !== expected.join(',')) {
    throw new SeedError(`${file} line 1: header is "${header.join(',')}", expected "${expected.join(',')}"`);
  }
  const src = `read_csv(${literal(file)}, header = true, delim = ',', quote = '"', escape = '"', all_varchar = true, auto_detect = false, columns = {${t.columns
    .map((c) => `${literal(c.name)}: 'VARCHAR'`)
    .join(', ')}}, null_padding = false, strict_mode = true)`;
  const staging = `__seed_${t.name}`;
  try {
    await db.run(`CREATE OR REPLACE TEMP TABLE ${ident(staging)} AS SELECT row_number() OVER () + 1 AS __line, * FROM ${src}`);
  } catch (err) {
    throw new SeedError(`${file}: cannot be read as CSV: ${err instanceof Error ? err.message : String(err)}`);
  }
  // Every check of every column in one pass: the first failing line of each, then the first failure in declaration order.
  const checks: Array<{ col: SeedColumn; cond: string; why: string }> = [];
  for (const c of t.columns) {
    const raw = `NULLIF(trim(${ident(c.name)}), '')`;
    const cast = castExpr(c, ident(c.name));
    if (c.required) checks.push({ col: c, cond: `${raw} IS NULL`, why: 'is required but empty' });
    if (c.type !== 'VARCHAR') checks.push({ col: c, cond: `${raw} IS NOT NULL AND ${cast} IS NULL`, why: `is not a valid ${c.type.toLowerCase()}` });
    if (c.min !== undefined) checks.push({ col: c, cond: `${cast} < ${c.min}`, why: `is below the minimum ${c.min}` });
    if (c.max !== undefined) checks.push({ col: c, cond: `${cast} > ${c.max}`, why: `is above the maximum ${c.max}` });
    if (c.allowed) checks.push({ col: c, cond: `${raw} IS NOT NULL AND ${raw} NOT IN (${c.allowed.map(literal).join(', ')})`, why: `is not one of ${c.allowed.join(', ')}` });
  }
  if (checks.length > 0) {
    const firsts = await db.one<Record<string, number | null>>(
      `SELECT ${checks.map((k, n) => `min(__line) FILTER (WHERE coalesce(${k.cond}, false)) AS c${n}`).join(', ')} FROM ${ident(staging)}`,
    );
    for (const [n, k] of checks.entries()) {
      const line = firsts?.[`c${n}`];
      if (line === null || line === undefined) continue;
      const value = await db.scalar<string | null>(`SELECT ${ident(k.col.name)} FROM ${ident(staging)} WHERE __line = $1`, [line]);
      throw new SeedError(`${file} line ${line}, field ${k.col.name}: value ${JSON.stringify(value ?? null)} ${k.why}`);
    }
  }
  const keyExpr = t.key.map((k) => `lower(coalesce(trim(${ident(k)}), ''))`).join(", '|', ");
  const dup = await db.one<{ k: string; lines: string }>(
    `SELECT concat(${keyExpr}) AS k, string_agg(__line::VARCHAR, ', ' ORDER BY __line) AS lines FROM ${ident(staging)} GROUP BY 1 HAVING count(*) > 1 ORDER BY min(__line) LIMIT 1`,
  );
  if (dup) throw new SeedError(`${file} lines ${dup.lines}: duplicate key (${t.key.join(', ')}) = ${JSON.stringify(dup.k)} (keys are compared case-insensitively)`);
  const select = t.columns.map((c) => `${castExpr(c, ident(c.name))} AS ${ident(c.name)}`).join(', ');
  await db.run(`CREATE OR REPLACE TABLE seeds.${ident(t.name)} AS SELECT ${select} FROM ${ident(staging)} ORDER BY __line`);
  const rows = (await db.scalar<number>(`SELECT count(*) FROM seeds.${ident(t.name)}`)) ?? 0;
  await db.run(`DROP TABLE ${ident(staging)}`);
  return { table: t.name, file, rows, sha256 };
}

async function runChecks(db: Db, dir: string, t: SeedTable): Promise<void> {
  for (const c of t.checks ?? []) {
    const sql = c.sql.replaceAll('{t}', `seeds.${ident(t.name)}`);
    const bad = await db.all(`${sql} LIMIT 3`);
    if (bad.length > 0) {
      throw new SeedError(`${path.join(dir, `${t.name}.csv`)}: ${c.message} (offending: ${JSON.stringify(bad)})`);
    }
  }
}
