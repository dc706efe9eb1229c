/**
 * Keys of the refined layer (decision 0001).
 *
 * - Person keys (students, staff): HMAC-SHA256(EDLAKE_PII_KEY, tenant || '|' || lower(trim(id))), hex.
 *   Computed here in node:crypto, for the distinct IDs of a batch, then joined in bulk in DuckDB.
 * - Other keys: sha256(tenant || '|' || lower(parts joined by '|')), hex: `edlakeKey()` here and the
 *   `edlake_key(tenant, parts)` SQL macro (same definition; a test checks they agree).
 */
import { createHash, createHmac } from 'node:crypto';

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
