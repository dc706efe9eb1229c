/**
 * The vocabulary of refined-layer contracts.
 *
 * A contract declares one refined entity (one table in schema `refined`): its Ed-Fi resource and
 * domain, natural/primary key, and every column with its DuckDB type, whether it is required, its
 * PII class and the rules a value must satisfy. Contracts are data: the pipeline enforces them in
 * bulk in DuckDB (one set-based query per rule) and the data dictionary documents them.
 */
import type { RowQuarantineReason } from '../../src/quality/reasons.ts';

/**
 * PII classes:
 * - `none`: not about a person, or an aggregate;
 * - `key`: a keyed hash (HMAC) standing for a person; not reversible without the key;
 * - `quasi`: a trait of a person that, combined with others, could single them out (sex, race,
 *   programs, grade, dates of events); allowed in refined and marts, suppressed in small aggregates;
 * - `direct`: identifies a person by itself (name, birth date, address, e-mail, phone, state ID).
 *   Never in a refined table: such fields go to the identity store.
 */
export type PiiClass = 'none' | 'key' | 'quasi' | 'direct';

export type ColumnType = 'VARCHAR' | 'INTEGER' | 'DOUBLE' | 'DATE' | 'TIMESTAMP' | 'BOOLEAN' | 'VARCHAR[]';

export interface ColumnContract {
  name: string;
  type: ColumnType;
  description: string;
  pii: PiiClass;
  /** An empty or missing value quarantines the row (`missing_required`). */
  required?: boolean;
  /** The value is an Ed-Fi descriptor of this type, mapped through `seeds.descriptor_map`. */
  descriptor?: string;
  /** Allowed values (compared case-insensitively); anything else is `invalid_value`. */
  allowed?: readonly string[];
  /** Inclusive numeric or date range; outside it is `out_of_range`. */
  min?: number | string;
  max?: number | string;
  /** A regular expression (DuckDB `regexp_full_match`) the text must match (`invalid_value`). */
  pattern?: string;
  /** The value must exist in another refined entity (`unknown_reference`). */
  references?: { entity: string; column: string; sameTenant: true };
}

/** A rule over a whole row, written as a boolean SQL expression over the row's columns (alias `r`). */
export interface RowCheck {
  name: string;
  field: string;
  rule: RowQuarantineReason;
  description: string;
  /** True when the row is acceptable. Trusted code only: never built from delivered values. */
  sql: string;
}

export interface EntityContract {
  /** Refined table name (schema `refined`), snake_case of the Ed-Fi resource. */
  entity: string;
  edfiResource: string;
  edfiDomain: string;
  description: string;
  /** Columns that identify a row; a second row with the same key and other values is a `conflicting_duplicate`. */
  primaryKey: readonly string[];
  columns: readonly ColumnContract[];
  checks?: readonly RowCheck[];
}

/**
 * Columns every refined table carries besides its contract's columns: the tenant (part of every key)
 * and the provenance of the row (the delivered file and the row in it).
 */
export const STANDARD_COLUMNS: readonly ColumnContract[] = [
  { name: 'tenant', type: 'VARCHAR', required: true, pii: 'none', description: 'District (tenant) the row belongs to; part of every key.', pattern: '[a-z0-9][a-z0-9_-]*' },
  { name: '_file_sha256', type: 'VARCHAR', required: true, pii: 'none', description: 'SHA-256 of the delivered file the row came from (raw.files).' },
  { name: '_row_number', type: 'INTEGER', required: true, pii: 'none', description: '1-based data row number in that file (header not counted).' },
  { name: '_source', type: 'VARCHAR', required: true, pii: 'none', description: 'Source folder of the delivery (oneroster, sis, canvas, ...).' },
];
