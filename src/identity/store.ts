/**
 * The identity store: the only place where names, birth dates, contact details and state IDs of
 * students and staff are kept, and where natural IDs map to person keys (decision 0001).
 *
 * A DuckDB file of its own, `<lake>/identity/identity.duckdb`, mode 0600 in a 0700 folder. The
 * pipeline writes it (attached as `identity` to its working database, on a copy committed with the
 * run); the API opens it read-only to join names for entitled roles.
 *
 * Tables:
 * - `person_ids(tenant, kind, id_type, id_value, person_key)`: every ID that names a person:
 *   `local` (student's SIS ID / staffUniqueId), `state` (SSID), or another system's user id
 *   (`lms`). `id_value` is lower(trim(id)). This is how vendor files that name students by state
 *   ID or LMS id are recognised.
 * - `persons(tenant, kind, person_key, natural_id, state_id, first_name, middle_name, last_name,
 *   full_name, birth_date, email, phone, ...provenance)`: the identity facts, latest delivery wins
 *   per fact (a later file that leaves a fact empty keeps the earlier value).
 * Views `students` and `staff` present them per kind.
 */
import { chmodSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Db } from '../db/duckdb.ts';

export function identityDir(lake: string): string {
  return join(lake, 'identity');
}

export function identityPath(lake: string): string {
  return join(identityDir(lake), 'identity.duckdb');
}

export type PersonKind = 'student' | 'staff';

/** DDL of the identity store, for a database attached under `schema`. */
export function identityDdl(schema = 'identity'): string[] {
  const s = `"${schema}"`;
  return [
    `CREATE TABLE IF NOT EXISTS ${s}.person_ids (
      tenant VARCHAR NOT NULL, kind VARCHAR NOT NULL, id_type VARCHAR NOT NULL, id_value VARCHAR NOT NULL,
      person_key VARCHAR NOT NULL, first_run VARCHAR, PRIMARY KEY (tenant, kind, id_type, id_value))`,
    `CREATE TABLE IF NOT EXISTS ${s}.persons (
      tenant VARCHAR NOT NULL, kind VARCHAR NOT NULL, person_key VARCHAR NOT NULL, natural_id VARCHAR NOT NULL,
      state_id VARCHAR, first_name VARCHAR, middle_name VARCHAR, last_name VARCHAR, full_name VARCHAR,
      birth_date VARCHAR, email VARCHAR, phone VARCHAR,
      _source VARCHAR, _file_sha256 VARCHAR, _row_number INTEGER, updated_run VARCHAR,
      PRIMARY KEY (tenant, kind, person_key))`,
    `CREATE OR REPLACE VIEW ${s}.students AS SELECT tenant, person_key AS student_key, natural_id AS student_unique_id, state_id,
      first_name, middle_name, last_name, coalesce(full_name, concat_ws(' ', first_name, last_name)) AS full_name, birth_date, email, phone
      FROM ${s}.persons WHERE kind = 'student'`,
    `CREATE OR REPLACE VIEW ${s}.staff AS SELECT tenant, person_key AS staff_key, natural_id AS staff_unique_id,
      first_name, middle_name, last_name, coalesce(full_name, concat_ws(' ', first_name, last_name)) AS full_name, email, phone
      FROM ${s}.persons WHERE kind = 'staff'`,
  ];
}

/** Make the store's folder 0700 and file 0600 (readable only by its owner). */
export function secureIdentityFiles(lake: string, file = identityPath(lake)): void {
  const dir = identityDir(lake);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  if (existsSync(file)) chmodSync(file, 0o600);
  const wal = `${file}.wal`;
  if (existsSync(wal)) chmodSync(wal, 0o600);
}

/**
 * Every direct identifier value the store holds (names, birth dates, e-mails, phones, state IDs),
 * for scans proving that none of them reached the refined layer.
 */
export async function directIdentifierValues(db: Db, schema = 'identity'): Promise<Array<{ kind: string; field: string; value: string }>> {
  const s = `"${schema}"`;
  return db.all<{ kind: string; field: string; value: string }>(
    `SELECT DISTINCT kind, field, value FROM (
       UNPIVOT (SELECT kind, state_id, first_name, middle_name, last_name, full_name, birth_date, email, phone FROM ${s}.persons)
       ON state_id, first_name, middle_name, last_name, full_name, birth_date, email, phone INTO NAME field VALUE value)
     WHERE value IS NOT NULL AND trim(value) <> ''`,
  );
}
