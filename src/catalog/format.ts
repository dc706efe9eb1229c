/**
 * The snapshot format: the one thing the pipeline (writer) and the API (reader) share.
 *
 * Layout under `<lake>/snapshots/` (documented for other engines in docs/snapshot-format.md):
 *
 *   CURRENT                                   pointer to the current snapshot (JSON), replaced atomically
 *   manifests/<id>.json                       one manifest per snapshot, immutable
 *   data/<schema>/<table>/<sha256>.parquet    data files, content-addressed, immutable, shared between snapshots
 *   expired/<id>.json                         tombstone of an expired snapshot (keeps the hash chain checkable)
 *   tmp/                                      files being written (never referenced by a manifest)
 *
 * Every path inside a manifest is relative to `<lake>/snapshots/` and uses '/'.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import { z } from 'zod';

export const FORMAT_NAME = 'edlake-snapshot';
export const FORMAT_VERSION = 1;

/** A JSON value (test results, model versions, dictionary are carried as given). */
export type Json = string | number | boolean | null | Json[] | { [k: string]: Json };
const json: z.ZodType<Json> = z.lazy(() =>
  z.union([z.string(), z.number(), z.boolean(), z.null(), z.array(json), z.record(z.string(), json)]),
);

export type Tier = 'published' | 'refined';

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, { error: 'expected a lower-case hex sha256' });
const relPath = z
  .string()
  .min(1)
  .refine((p) => !p.startsWith('/') && !p.split('/').includes('..') && !p.includes('\\'), {
    error: 'expected a relative path inside the snapshots folder',
  });
const sqlName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: 'expected a plain SQL name' });

export const dataFileSchema = z.object({
  path: relPath,
  sha256: sha256Hex,
  bytes: z.number().int().nonnegative(),
  row_count: z.number().int().nonnegative(),
  /** Partition value of the file ('YYYY-MM' for a table split by month), when the table is split. */
  partition: z.string().nullable().optional(),
  /** Fingerprint of the file's rows (partitioned tables), to share unchanged partitions. */
  content_fingerprint: z.string().optional(),
});
export type DataFile = z.infer<typeof dataFileSchema>;

export const columnSchema = z.object({ name: z.string().min(1), type: z.string().min(1) });
export type Column = z.infer<typeof columnSchema>;

export const tableEntrySchema = z.object({
  schema: sqlName,
  name: sqlName,
  tier: z.enum(['published', 'refined']),
  row_count: z.number().int().nonnegative(),
  /** Order-independent fingerprint of the content, computed in DuckDB; used to share unchanged files. */
  content_fingerprint: z.string().min(1),
  sort_keys: z.array(z.string()),
  /** Rows per Parquet row group requested from the writer (null: DuckDB's default). */
  row_group_size: z.number().int().positive().nullable().optional(),
  /** Column whose calendar month splits the table into files (null: one file). */
  partition_by: z.string().nullable().optional(),
  columns: z.array(columnSchema),
  files: z.array(dataFileSchema),
});
export type TableEntry = z.infer<typeof tableEntrySchema>;

export const sourceFileSchema = z.object({
  path: z.string().min(1),
  sha256: sha256Hex,
  source: z.string().nullable().optional(),
  bytes: z.number().int().nonnegative().nullable().optional(),
});
export type SourceFile = z.infer<typeof sourceFileSchema>;

export const manifestSchema = z.object({
  format: z.literal(FORMAT_NAME),
  format_version: z.literal(FORMAT_VERSION),
  snapshot_id: z.number().int().positive(),
  published_at: z.iso.datetime(),
  run_id: z.string().min(1),
  data_through: z.string().regex(/^\d{4}-\d{2}-\d{2}$/).nullable(),
  timezone: z.string().min(1),
  previous_snapshot_id: z.number().int().positive().nullable(),
  previous_manifest_sha256: sha256Hex.nullable(),
  writer: z.object({ edlake: z.string(), duckdb: z.string() }),
  source_files: z.array(sourceFileSchema),
  tables: z.array(tableEntrySchema),
  data_tests: json,
  model_versions: z.record(z.string(), z.string()),
  dictionary: json,
});
export type Manifest = z.infer<typeof manifestSchema>;

export const currentPointerSchema = z.object({
  snapshot_id: z.number().int().positive(),
  manifest: relPath,
  manifest_sha256: sha256Hex,
  published_at: z.iso.datetime(),
});
export type CurrentPointer = z.infer<typeof currentPointerSchema>;

export const tombstoneSchema = z.object({
  snapshot_id: z.number().int().positive(),
  manifest_sha256: sha256Hex,
  previous_manifest_sha256: sha256Hex.nullable(),
  published_at: z.iso.datetime(),
  expired_at: z.iso.datetime(),
});
export type Tombstone = z.infer<typeof tombstoneSchema>;

/** A manifest, or the pointer, that cannot be read as the format says. */
export class CatalogFormatError extends Error {
  constructor(
    message: string,
    readonly file: string,
  ) {
    super(message);
    this.name = 'CatalogFormatError';
  }
}

function describeZod(err: z.ZodError): string {
  return err.issues.map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`).join('; ');
}

export function parseJsonFile<T>(schema: z.ZodType<T>, text: string, file: string): T {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new CatalogFormatError(`${file}: not valid JSON (${(e as Error).message})`, file);
  }
  const r = schema.safeParse(raw);
  if (!r.success) throw new CatalogFormatError(`${file}: ${describeZod(r.error)}`, file);
  return r.data;
}

/** Paths of the catalog inside a lake. */
export function layout(lake: string) {
  const root = path.join(lake, 'snapshots');
  return {
    root,
    current: path.join(root, 'CURRENT'),
    manifests: path.join(root, 'manifests'),
    data: path.join(root, 'data'),
    expired: path.join(root, 'expired'),
    tmp: path.join(root, 'tmp'),
    manifestRel: (id: number) => `manifests/${id}.json`,
    manifestFile: (id: number) => path.join(root, 'manifests', `${id}.json`),
    tombstoneFile: (id: number) => path.join(root, 'expired', `${id}.json`),
    /** The quarantine rows as of a snapshot (PII withheld), written beside the catalog, not in it (decision 0608). */
    quarantineFile: (id: number) => path.join(lake, 'quarantine', `snapshot-${id}.parquet`),
    dataRel: (schema: string, table: string, sha: string) => `data/${schema}/${table}/${sha}.parquet`,
    abs: (rel: string) => path.join(root, ...rel.split('/')),
  };
}
export type Layout = ReturnType<typeof layout>;

/** Manifest ids found in `manifests/` (any order is returned sorted ascending). */
export function manifestIdFromName(name: string): number | undefined {
  const m = /^([1-9][0-9]*)\.json$/.exec(name);
  return m ? Number(m[1]) : undefined;
}

export function sha256(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Manifests are written as pretty JSON with a final newline; the hash is over these exact bytes. */
export function serializeManifest(m: Manifest): string {
  return `${JSON.stringify(m, null, 2)}\n`;
}
