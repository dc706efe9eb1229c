/**
 * The identity store (<lake>/identity/identity.duckdb, written by the pipeline): names of students
 * for entitled callers, staff keys by e-mail, and audited re-identification for data stewards.
 *
 * The store is opened read-only for each batch and closed at once: a DuckDB file held open by the
 * API would lock out the pipeline that writes it. Names never enter the marts or the logs.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, openSync, fsyncSync, closeSync } from 'node:fs';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { Db, type Row } from '../src/db/duckdb.ts';
import type { StaffDirectory } from '../src/auth/viewer.ts';

/** Tables and columns of the identity store the API reads (decision 0600). */
export const IDENTITY = {
  students: 'students',
  staff: 'staff',
} as const;

export interface PersonName {
  firstName: string | null;
  lastName: string | null;
}

export interface ReidentifiedStudent extends PersonName {
  studentKey: string;
  studentUniqueId: string | null;
}

export class IdentityUnavailableError extends Error {}

export class IdentityStore implements StaffDirectory {
  constructor(
    readonly file: string,
    readonly auditFile: string,
    /** Tenant (district) whose staff the API serves: staff IDs are only unique within a tenant. */
    readonly tenant?: string,
  ) {}

  static forLake(lake: string, tenant?: string): IdentityStore {
    return new IdentityStore(path.join(lake, 'identity', 'identity.duckdb'), path.join(lake, 'audit', 'reidentification.jsonl'), tenant);
  }

  private async withDb<T>(fn: (db: Db) => Promise<T>): Promise<T> {
    if (!existsSync(this.file)) throw new IdentityUnavailableError(`identity store ${this.file} does not exist`);
    let inst: DuckDBInstance;
    try {
      inst = await DuckDBInstance.create(this.file, { access_mode: 'READ_ONLY', threads: '1' });
    } catch (err) {
      throw new IdentityUnavailableError(`identity store ${this.file} cannot be opened: ${(err as Error).message}`);
    }
    const db = new Db(await inst.connect());
    try {
      return await fn(db);
    } finally {
      db.close();
      inst.closeSync();
    }
  }

  async namesOf(studentKeys: readonly string[]): Promise<Map<string, PersonName>> {
    const out = new Map<string, PersonName>();
    if (studentKeys.length === 0) return out;
    const rows = await this.withDb((db) =>
      db.all<Row & { student_key: string; first_name: string | null; last_name: string | null }>(
        `SELECT student_key, first_name, last_name FROM ${IDENTITY.students}
          WHERE student_key IN (SELECT unnest(from_json($keys, '["VARCHAR"]')))`,
        { keys: JSON.stringify(studentKeys) },
      ),
    );
    for (const r of rows) out.set(r.student_key, { firstName: r.first_name, lastName: r.last_name });
    return out;
  }

  /** `tenant`: the caller's tenant (token claim), else the served tenant of the store. */
  async staffKeyByEmail(email: string, tenant?: string): Promise<string | undefined> {
    const rows = await this.withDb((db) =>
      db.all<Row & { staff_key: string }>(
        `SELECT DISTINCT staff_key FROM ${IDENTITY.staff} WHERE lower(trim(email)) = lower(trim($email)) AND ($tenant IS NULL OR tenant = $tenant)`,
        { email, tenant: tenant ?? this.tenant ?? null },
      ),
    );
    // an e-mail shared by two staff records names nobody
    return rows.length === 1 ? rows[0]?.staff_key : undefined;
  }

  async staffKeyById(staffUniqueId: string, tenant?: string): Promise<string | undefined> {
    const rows = await this.withDb((db) =>
      db.all<Row & { staff_key: string }>(
        `SELECT DISTINCT staff_key FROM ${IDENTITY.staff} WHERE lower(trim(staff_unique_id)) = lower(trim($id)) AND ($tenant IS NULL OR tenant = $tenant)`,
        { id: staffUniqueId, tenant: tenant ?? this.tenant ?? null },
      ),
    );
    return rows.length === 1 ? rows[0]?.staff_key : undefined;
  }

  /**
   * Re-identify one student for a data steward. The audit entry is written (and flushed) before the
   * identity is returned; if it cannot be written, nothing is returned.
   */
  async reidentify(studentKey: string, who: { subject: string | undefined; role: string; staffKey: string | undefined }, reason: string, requestId: string): Promise<ReidentifiedStudent | null> {
    const rows = await this.withDb((db) =>
      db.all<Row & { student_key: string; student_unique_id: string | null; first_name: string | null; last_name: string | null }>(
        `SELECT student_key, student_unique_id, first_name, last_name FROM ${IDENTITY.students} WHERE student_key = $key`,
        { key: studentKey },
      ),
    );
    const r = rows[0];
    appendAudit(this.auditFile, {
      at: new Date().toISOString(),
      request_id: requestId,
      subject: who.subject ?? null,
      role: who.role,
      staff_key: who.staffKey ?? null,
      student_key: studentKey,
      found: r !== undefined,
      reason,
    });
    if (!r) return null;
    return { studentKey: r.student_key, studentUniqueId: r.student_unique_id, firstName: r.first_name, lastName: r.last_name };
  }
}

/**
 * Append one entry to the audit log (JSON lines), chained: each entry carries the sha256 of the
 * previous line, so that a removed or altered entry shows.
 */
export function appendAudit(file: string, entry: Record<string, unknown>): void {
  mkdirSync(path.dirname(file), { recursive: true });
  let prev: string | null = null;
  if (existsSync(file)) {
    const text = readFileSync(file, 'utf8');
    const lines = text.split('\n').filter((l) => l !== '');
    const last = lines[lines.length - 1];
    if (last !== undefined) prev = createHash('sha256').update(last).digest('hex');
  }
  const line = `${JSON.stringify({ ...entry, prev_sha256: prev })}\n`;
  appendFileSync(file, line, { mode: 0o600 });
  const fd = openSync(file, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Check the chain of an audit log; returns the 1-based number of the first broken line, or null. */
export function verifyAudit(file: string): number | null {
  if (!existsSync(file)) return null;
  const lines = readFileSync(file, 'utf8').split('\n').filter((l) => l !== '');
  let prev: string | null = null;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    let e: { prev_sha256?: unknown };
    try {
      e = JSON.parse(line) as { prev_sha256?: unknown };
    } catch {
      return i + 1;
    }
    if ((e.prev_sha256 ?? null) !== prev) return i + 1;
    prev = createHash('sha256').update(line).digest('hex');
  }
  return null;
}
