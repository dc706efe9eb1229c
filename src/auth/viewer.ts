/**
 * The viewer: who is calling (from the verified token) and which staff record that is.
 *
 * The token only names the caller (staff unique ID or e-mail) and the role. The staff key is the
 * keyed hash of decision 0001 (HMAC-SHA256 with EDLAKE_PII_KEY over tenant|lower(trim(id))), the
 * same function the pipeline uses to key staff; without that key, and for an e-mail, the identity
 * store is asked.
 * What the viewer may see (its scope) is derived from the snapshot's roster: resolvers/scope.ts.
 */
import { createHmac } from 'node:crypto';
import type { Identity } from './jwt.ts';
import type { Role } from './roles.ts';

export interface Viewer {
  role: Role;
  identity: Identity;
  /** Key of the caller's staff record, when it can be worked out. */
  staffKey: string | undefined;
  /** Tenant whose rows the caller reads; null: every tenant (a `*` claim). */
  tenant: string | null;
}

/** Looks up staff keys by e-mail or staff unique ID (the identity store). */
export interface StaffDirectory {
  /** `tenant`: look up within this tenant (default: the directory's served tenant). */
  staffKeyByEmail(email: string, tenant?: string): Promise<string | undefined>;
  staffKeyById(staffUniqueId: string, tenant?: string): Promise<string | undefined>;
}

export interface KeyConfig {
  piiKey: string | undefined;
  tenant: string;
}

/** Person key of decision 0001 (same definition as the pipeline's personKey). */
export function personKey(piiKey: string, tenant: string, naturalId: string): string {
  return createHmac('sha256', piiKey).update(`${tenant}|${naturalId.trim().toLowerCase()}`, 'utf8').digest('hex');
}

/**
 * The tenant whose rows a caller reads: the token's tenant claim, else the served tenant
 * (EDLAKE_TENANT); null for `*` (every tenant of the lake; district-wide roles only). Decision 0605.
 */
export function viewerTenant(identity: Identity, servedTenant: string): string | null {
  if (identity.tenant === '*') return null;
  return identity.tenant ?? servedTenant;
}

export async function viewerFor(identity: Identity, keys: KeyConfig, directory?: StaffDirectory): Promise<Viewer> {
  let staffKey: string | undefined;
  // staff are resolved within the caller's tenant: staff IDs are unique only within a district
  const tenant = viewerTenant(identity, keys.tenant) ?? keys.tenant;
  if (identity.staffId !== undefined && keys.piiKey !== undefined) {
    staffKey = personKey(keys.piiKey, tenant, identity.staffId);
  } else if (identity.staffId !== undefined && directory !== undefined) {
    // without the PII key, the identity store maps the staff unique ID to its key
    staffKey = await directory.staffKeyById(identity.staffId, tenant);
  } else if (identity.email !== undefined && directory !== undefined) {
    staffKey = await directory.staffKeyByEmail(identity.email, tenant);
  }
  return { role: identity.role, identity, staffKey, tenant: viewerTenant(identity, keys.tenant) };
}
