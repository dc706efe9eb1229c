/**
 * Keys of the refined layer (decision 0001).
 *
 * - Person keys (students, staff): HMAC-SHA256(EDLAKE_PII_KEY, tenant || '|' || lower(trim(id))), hex.
 *   `personKey()` here, and in bulk in DuckDB with `personKeySql()` (the same HMAC written with
 *   DuckDB's sha256 over the key's inner and outer pads, passed as bound parameters; a test checks
 *   they agree). Refine keys a batch's distinct IDs in SQL (decision 0313).
 * - Other keys: sha256(tenant || '|' || lower(parts joined by '|')), hex: `edlakeKey()` here and the
 *   `edlake_key(tenant, parts)` SQL macro (same definition; a test checks they agree).
 */
import { createHash, createHmac } from 'node:crypto';
import type { DuckDBValue } from '@duckdb/node-api';

export function personKey(piiKey: string, tenant: string, naturalId: string): string {
  return createHmac('sha256', piiKey).update(`${tenant}|${naturalId.trim().toLowerCase()}`, 'utf8').digest('hex');
}

export function edlakeKey(tenant: string, parts: Array<string | number | null | undefined>): string {
  const joined = parts.map((p) => (p === null || p === undefined ? '' : String(p))).join('|');
  return createHash('sha256').update(`${tenant}|${joined.toLowerCase()}`, 'utf8').digest('hex');
}

/**
 * SQL twin of edlakeKey: `edlake_key(tenant, [part, ...])`. NULL parts count as ''.
 * DuckDB's lower() and JS toLowerCase() agree on the characters IDs are made of; trimming is
 * not part of the definition (the caller trims natural IDs before keying).
 */
export const EDLAKE_KEY_MACRO = `CREATE OR REPLACE MACRO edlake_key(tenant, parts) AS
  sha256(tenant || '|' || lower(array_to_string(list_transform(parts, x -> coalesce(CAST(x AS VARCHAR), '')), '|')))`;

/**
 * HMAC-SHA256 in DuckDB SQL (RFC 2104): sha256((K ^ opad) || sha256((K ^ ipad) || message)), K the
 * key padded to SHA-256's 64-byte block (a longer key is hashed first, as node:crypto does). The
 * pads go in as bound parameters `$pk_ipad` and `$pk_opad` (hex), never into the statement's text
 * (which the SQL profile may log). `message` is a SQL expression of type VARCHAR; the result is the
 * same lower-case hex as `createHmac(...).digest('hex')`.
 */
export function personKeySql(message: string): string {
  return `sha256(unhex($pk_opad) || unhex(sha256(unhex($pk_ipad) || encode(${message}))))`;
}

/** The bound parameters of `personKeySql` for a PII key. */
export function personKeyParams(piiKey: string): Record<string, DuckDBValue> {
  const raw = Buffer.from(piiKey, 'utf8');
  const block = Buffer.alloc(64);
  (raw.length > 64 ? createHash('sha256').update(raw).digest() : raw).copy(block);
  const pad = (x: number) => Buffer.from(block.map((b) => b ^ x)).toString('hex');
  return { pk_ipad: pad(0x36), pk_opad: pad(0x5c) };
}

/**
 * IDs whose key SQL computes exactly as `personKey()` does: printable ASCII, where DuckDB's lower()
 * and trim() agree with JavaScript's toLowerCase() and trim(). Other IDs (non-ASCII letters, a tab,
 * a no-break space inside the ID: DuckDB's trim already removed those at its ends) are keyed by
 * `personKey()` in Node, so that a key never depends on where it was computed.
 */
export const SQL_KEYABLE_ID = `'[\x20-\x7e]*'`;
