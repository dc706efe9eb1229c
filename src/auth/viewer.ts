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
}

/** Looks up staff keys by e-mail or staff unique ID (the identity store). */
export interface StaffDirectory {
  staffKeyByEmail(email: string): Promise<string | undefined>;
  staffKeyById(staffUniqueId: string): Promise<string | undefined>;
}

export interface KeyConfig {
  piiKey: string | undefined;
  tenant: string;
}

/** Person key of decision 0001 (same definition as the pipeline's personKey). */
export function personKey(piiKey: string, tenant: string, naturalId: string): string {
  return createHmac('sha256', piiKey).update(`${tenant}|${naturalId.trim().toLowerCase()}`, 'utf8').digest('hex');
}

export async function viewerFor(identity: Identity, keys: KeyConfig, directory?: StaffDirectory): Promise<Viewer> {
  let staffKey: string | undefined;
  if (identity.staffId !== undefined && keys.piiKey !== undefined) {
    staffKey = personKey(keys.piiKey, keys.tenant, identity.staffId);
  } else if (identity.staffId !== undefined && directory !== undefined) {
    // without the PII key, the identity store maps the staff unique ID to its key
    staffKey = await directory.staffKeyById(identity.staffId);
  } else if (identity.email !== undefined && directory !== undefined) {
    staffKey = await directory.staffKeyByEmail(identity.email);
  }
  return { role: identity.role, identity, staffKey };
}
