/**
 * Model metadata: the YAML file beside each SQL model (`sql/<layer>/<name>.yml`).
 *
 * The format is documented in `sql/README.md`; the data dictionary is built from these files, so
 * it is validated strictly here (zod) and a wrong file stops the run with a message naming the
 * file and the field.
 */
import { z } from 'zod';
import { parse as parseYaml } from 'yaml';

export const PII_CLASSES = ['none', 'key', 'quasi', 'direct'] as const;
export const SEVERITIES = ['error', 'warn'] as const;
export type Severity = (typeof SEVERITIES)[number];

export const LAYERS = {
  build: { folder: 'build', prefix: 'bld_' },
  dimension: { folder: 'dims', prefix: 'dim_' },
  fact: { folder: 'facts', prefix: 'fct_' },
  measure: { folder: 'measures', prefix: 'msr_' },
  view: { folder: 'views', prefix: 'v_' },
} as const;
export type Layer = keyof typeof LAYERS;

const severity = z.enum(SEVERITIES).default('error');
const name = z.string().regex(/^[a-z][a-z0-9_]*$/, { error: 'expected a snake_case name' });

const testBase = {
  /** Optional explicit name; default derived from type and columns. */
  name: name.optional(),
  severity,
  description: z.string().optional(),
  /** Relations (schema.table) that must exist for the test to run; otherwise it is skipped. */
  requires: z.array(z.string().regex(/^[a-z_]+\.[a-z_][a-z0-9_]*$/)).optional(),
};

export const TestSpec = z.discriminatedUnion('type', [
  z.object({ type: z.literal('unique'), columns: z.array(name).min(1), ...testBase }).strict(),
  z.object({ type: z.literal('not_null'), columns: z.array(name).min(1), ...testBase }).strict(),
  z.object({
    type: z.literal('relationships'),
    column: name,
    /** `<model>.<column>` in marts, or `<schema>.<table>.<column>`. */
    to: z.string().regex(/^([a-z_]+\.)?[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*$/),
    ...testBase,
  }).strict(),
  z.object({
    type: z.literal('accepted_values'),
    column: name,
    values: z.array(z.union([z.string(), z.number(), z.boolean()])).optional(),
    /** `seeds.<table>.<column>`: the allowed values are read from a seed. */
    values_from: z.string().regex(/^seeds\.[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*$/).optional(),
    ...testBase,
  }).strict(),
  z.object({ type: z.literal('range'), column: name, min: z.number().optional(), max: z.number().optional(), ...testBase }).strict(),
  z.object({
    type: z.literal('expression'),
    /** A query returning the failing rows (none = pass). Trusted SQL from the repository. */
    sql: z.string().min(1),
    ...testBase,
    name,
  }).strict(),
  z.object({ type: z.literal('row_count_change'), ...testBase, severity: z.enum(SEVERITIES).default('warn') }).strict(),
  z.object({
    type: z.literal('freshness'),
    /** A query returning one row per unit (e.g. school) with a column `lag_days`; rows over the limit fail. */
    sql: z.string().min(1),
    /** Name of the parameter in seeds.parameters that gives the limit in days. */
    max_days_parameter: name,
    ...testBase,
  }).strict(),
]);
export type TestSpec = z.infer<typeof TestSpec>;

export const ColumnMeta = z
  .object({
    name,
    type: z.string().min(1),
    description: z.string().min(1),
    pii: z.enum(PII_CLASSES),
    edfi_domain: z.string().min(1),
  })
  .strict();
export type ColumnMeta = z.infer<typeof ColumnMeta>;

export const ModelMeta = z
  .object({
    name,
    overview: z.string().min(1),
    grain: z.string().min(1),
    primary_key: z.array(name).min(1),
    /**
     * `table` (default): built once per run. `view`: a view over the models it reads, computed
     * where it is read (publishing writes it to Parquet like a table). For a model that only
     * re-keys a large build step: it saves writing the rows twice (decision 0206).
     */
    materialized: z.enum(['table', 'view']).default('table'),
    /**
     * Build the table in chunks, one range of an integer column of a model it reads at a time
     * (decision 0207): the runner splits that column's range into ceil(rows / rows_per_chunk)
     * ranges, creates the table from the first and appends the others. The SQL keeps its rows to
     * the current range with `edlake_in_chunk(<column>)`. For a model whose intermediate state
     * grows with the district (at 1,000,000 students, the student-day build) so that its memory
     * stays that of one chunk.
     */
    chunks: z
      .object({
        /** `<model>.<column>`: an integer column of a model this one reads, e.g. a student number. */
        over: z.string().regex(/^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$/, { error: 'expected <model>.<column>' }),
        /** Rows of that model per chunk. */
        rows_per_chunk: z.number().int().positive(),
      })
      .strict()
      .optional(),
    business_rules: z.array(z.string().min(1)).default([]),
    columns: z.array(ColumnMeta).min(1),
    tests: z.array(TestSpec).default([]),
    example_query: z.string().min(1),
  })
  .strict();
export type ModelMeta = z.infer<typeof ModelMeta>;

export const ProjectMeta = z
  .object({
    overview: z.string().min(1),
    tests: z.array(TestSpec).default([]),
  })
  .strict();
export type ProjectMeta = z.infer<typeof ProjectMeta>;

export class MetadataError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MetadataError';
  }
}

function parseWith<T>(schema: z.ZodType<T>, text: string, file: string): T {
  let doc: unknown;
  try {
    doc = parseYaml(text, { prettyErrors: true });
  } catch (err) {
    throw new MetadataError(`${file}: not valid YAML: ${err instanceof Error ? err.message : String(err)}`);
  }
  const r = schema.safeParse(doc);
  if (!r.success) {
    const issues = r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new MetadataError(`${file}: ${issues}`);
  }
  return r.data;
}

export function parseModelMeta(text: string, file: string): ModelMeta {
  return parseWith(ModelMeta, text, file);
}

export function parseProjectMeta(text: string, file: string): ProjectMeta {
  return parseWith(ProjectMeta, text, file);
}

/** The name a test is reported under: explicit, or derived from its type and columns. */
export function testName(model: string, t: TestSpec): string {
  if (t.name) return `${model}.${t.name}`;
  switch (t.type) {
    case 'unique':
    case 'not_null':
      return `${model}.${t.type}_${t.columns.join('_')}`;
    case 'relationships':
      return `${model}.relationships_${t.column}`;
    case 'accepted_values':
      return `${model}.accepted_values_${t.column}`;
    case 'range':
      return `${model}.range_${t.column}`;
    case 'row_count_change':
      return `${model}.row_count_change`;
    case 'freshness':
      return `${model}.freshness`;
    case 'expression':
      return `${model}.${t.name}`;
  }
}
