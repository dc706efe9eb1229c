/**
 * Bearer token verification with jose.
 *
 * - HS256 with the shared secret (EDLAKE_JWT_SECRET), RS256/ES256 with a JWKS (URL or file).
 * - Algorithms are an allow-list; `alg: none` and anything else are refused by jose before any key
 *   is looked up. HS256 is only accepted when a secret is configured, RS256/ES256 only with a JWKS,
 *   so a public key can never be used as an HMAC secret (algorithm confusion).
 * - Issuer, audience, expiry and not-before are checked with a small clock tolerance; `exp` is required.
 * - Which claim holds the role, the staff unique ID and the e-mail are configurable dotted paths.
 */
import { readFileSync } from 'node:fs';
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  errors as joseErrors,
  jwtVerify,
  SignJWT,
  type JWTPayload,
  type JWTVerifyGetKey,
} from 'jose';
import { LRUCache } from 'lru-cache';
import type { Config } from '../config.ts';
import { parseRole, ROLES, type Role } from './roles.ts';

export type Algorithm = 'HS256' | 'RS256' | 'ES256';

/** Who the caller is, as the token says. Scope is NOT here: it comes from the data. */
export interface Identity {
  role: Role;
  /** Staff unique ID, when the token carries one. */
  staffId?: string;
  /** E-mail, when the token carries one (used when no staff ID is given). */
  email?: string;
  /** Subject claim, for logs (never personal data beyond an opaque subject). */
  subject?: string;
  /**
   * Tenant (district) the caller belongs to, from the tenant claim: a tenant code, or `*` (every
   * tenant, district-wide roles only). Absent: the served tenant (EDLAKE_TENANT). Decision 0605.
   */
  tenant?: string;
}

/** A token that is missing, malformed, badly signed, expired, for someone else or without a role. */
export class AuthenticationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AuthenticationError';
  }
}

export type AuthConfig = Pick<
  Config,
  | 'jwtSecret'
  | 'jwtJwksUrl'
  | 'jwtJwksFile'
  | 'jwtAlgorithms'
  | 'jwtIssuer'
  | 'jwtAudience'
  | 'jwtClockTolerance'
  | 'jwtRoleClaim'
  | 'jwtStaffClaim'
  | 'jwtEmailClaim'
> &
  Partial<Pick<Config, 'jwtTenantClaim'>>;

/** Tenant claim read when the configuration names none (the setting's default). */
export const DEFAULT_TENANT_CLAIM = 'edlake_tenant';
/** A tenant code (as EDLAKE_TENANT), or `*` for every tenant. */
const TENANT_CLAIM_VALUE = /^(\*|[a-z0-9][a-z0-9_-]{0,62})$/;

/** Read a claim by dotted path ("realm_access.roles"); a claim whose own name has a dot is tried first. */
export function claimAt(payload: JWTPayload, path: string): unknown {
  if (path in payload) return payload[path];
  let cur: unknown = payload;
  for (const part of path.split('.')) {
    if (cur === null || typeof cur !== 'object' || Array.isArray(cur)) return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

/** True when the server is configured with production (asymmetric) keys: demo tokens are refused. */
export function usesProductionKeys(cfg: Pick<Config, 'jwtJwksUrl' | 'jwtJwksFile'>): boolean {
  return cfg.jwtJwksUrl !== undefined || cfg.jwtJwksFile !== undefined;
}

export interface Verifier {
  verify(token: string): Promise<Identity>;
  /** Algorithms actually accepted (allow-list ∩ configured keys). */
  readonly algorithms: Algorithm[];
}

export function createVerifier(cfg: AuthConfig): Verifier {
  const allowed = new Set<Algorithm>(cfg.jwtAlgorithms as Algorithm[]);
  const secret = cfg.jwtSecret !== undefined ? new TextEncoder().encode(cfg.jwtSecret) : undefined;
  let jwks: JWTVerifyGetKey | undefined;
  if (cfg.jwtJwksFile !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(cfg.jwtJwksFile, 'utf8'));
    } catch (err) {
      throw new Error(`EDLAKE_JWT_JWKS_FILE ${cfg.jwtJwksFile}: cannot read a JSON key set (${(err as Error).message})`);
    }
    if (parsed === null || typeof parsed !== 'object' || !Array.isArray((parsed as { keys?: unknown }).keys)) {
      throw new Error(`EDLAKE_JWT_JWKS_FILE ${cfg.jwtJwksFile}: expected an object with a "keys" array`);
    }
    jwks = createLocalJWKSet(parsed as Parameters<typeof createLocalJWKSet>[0]);
  } else if (cfg.jwtJwksUrl !== undefined) {
    jwks = createRemoteJWKSet(new URL(cfg.jwtJwksUrl), { cooldownDuration: 30_000, cacheMaxAge: 600_000 });
  }
  const symmetric: Algorithm[] = secret ? (['HS256'] as Algorithm[]).filter((a) => allowed.has(a)) : [];
  const asymmetric: Algorithm[] = jwks ? (['RS256', 'ES256'] as Algorithm[]).filter((a) => allowed.has(a)) : [];
  const algorithms = [...symmetric, ...asymmetric];
  if (algorithms.length === 0) {
    throw new Error(
      'no way to verify bearer tokens: set EDLAKE_JWT_SECRET (HS256) or EDLAKE_JWT_JWKS_URL / EDLAKE_JWT_JWKS_FILE (RS256, ES256), with the algorithm in EDLAKE_JWT_ALGORITHMS',
    );
  }

  const common = {
    issuer: cfg.jwtIssuer,
    audience: cfg.jwtAudience,
    clockTolerance: cfg.jwtClockTolerance,
    requiredClaims: ['exp'],
  };

  async function verifyPayload(token: string): Promise<JWTPayload> {
    // Route by the (untrusted) header only to pick the key family; jose re-checks alg against the list.
    const alg = headerAlg(token);
    if (alg === 'HS256' && secret && symmetric.includes('HS256')) {
      return (await jwtVerify(token, secret, { ...common, algorithms: symmetric })).payload;
    }
    if ((alg === 'RS256' || alg === 'ES256') && jwks && asymmetric.includes(alg)) {
      return (await jwtVerify(token, jwks, { ...common, algorithms: asymmetric })).payload;
    }
    throw new AuthenticationError(`token algorithm ${JSON.stringify(alg)} is not accepted`);
  }

  // Verified tokens, by token text: a token that verified once is the same identity until it
  // expires (its signature cannot change), so the signature and claims are not re-checked on every
  // request. An entry lives until the token's exp (plus the clock tolerance jose grants) and at
  // most VERIFIED_TTL_MS, so a key removed from a JWKS stops being honoured within that time.
  // Refused tokens are never cached. Bounded LRU.
  const verified = new LRUCache<string, { identity: Identity; until: number }>({ max: VERIFIED_MAX });

  return {
    algorithms,
    async verify(token: string): Promise<Identity> {
      const hit = verified.get(token);
      if (hit !== undefined) {
        if (Date.now() < hit.until) return hit.identity;
        verified.delete(token);
      }
      let payload: JWTPayload;
      try {
        payload = await verifyPayload(token);
      } catch (err) {
        if (err instanceof AuthenticationError) throw err;
        if (err instanceof joseErrors.JWTExpired) throw new AuthenticationError('token expired');
        if (err instanceof joseErrors.JWTClaimValidationFailed) throw new AuthenticationError(`token claim "${err.claim}" rejected: ${err.reason}`);
        if (err instanceof joseErrors.JOSEError) throw new AuthenticationError(`token rejected (${err.code})`);
        throw new AuthenticationError('token rejected');
      }
      const identity = identityFrom(payload, cfg);
      if (typeof payload.exp === 'number') {
        const until = Math.min((payload.exp + cfg.jwtClockTolerance) * 1000, Date.now() + VERIFIED_TTL_MS);
        verified.set(token, { identity: Object.freeze({ ...identity }), until });
      }
      return identity;
    },
  };
}

/** Verified tokens kept (by token text) and for how long at most. */
const VERIFIED_MAX = 10_000;
const VERIFIED_TTL_MS = 5 * 60_000;

function headerAlg(token: string): string | undefined {
  const first = token.split('.')[0];
  if (first === undefined || first === '') throw new AuthenticationError('malformed token');
  try {
    const header: unknown = JSON.parse(Buffer.from(first, 'base64url').toString('utf8'));
    if (header === null || typeof header !== 'object') throw new Error('not an object');
    const alg = (header as { alg?: unknown }).alg;
    return typeof alg === 'string' ? alg : undefined;
  } catch {
    throw new AuthenticationError('malformed token');
  }
}

function identityFrom(payload: JWTPayload, cfg: AuthConfig): Identity {
  const rawRole = claimAt(payload, cfg.jwtRoleClaim);
  const candidates = (Array.isArray(rawRole) ? rawRole : [rawRole]).filter((r): r is string => typeof r === 'string');
  const roles = [...new Set(candidates.map(parseRole).filter((r): r is Role => r !== undefined))];
  if (roles.length === 0) {
    throw new AuthenticationError(`token has no edlake role in claim "${cfg.jwtRoleClaim}" (one of ${ROLES.join(', ')})`);
  }
  if (roles.length > 1) {
    throw new AuthenticationError(`token names several edlake roles (${roles.join(', ')}); a token must carry exactly one`);
  }
  const role = roles[0] as Role;
  const staffId = claimAt(payload, cfg.jwtStaffClaim);
  const email = claimAt(payload, cfg.jwtEmailClaim);
  const id: Identity = { role };
  if (typeof staffId === 'string' && staffId.trim() !== '') id.staffId = staffId.trim();
  if (typeof email === 'string' && email.trim() !== '') id.email = email.trim().toLowerCase();
  if (typeof payload.sub === 'string') id.subject = payload.sub;
  const tenantClaim = cfg.jwtTenantClaim ?? DEFAULT_TENANT_CLAIM;
  const tenant = claimAt(payload, tenantClaim);
  if (tenant !== undefined && tenant !== null) {
    if (typeof tenant !== 'string' || !TENANT_CLAIM_VALUE.test(tenant.trim().toLowerCase())) {
      throw new AuthenticationError(`token claim "${tenantClaim}" is not a tenant code (or "*")`);
    }
    id.tenant = tenant.trim().toLowerCase();
    if (id.tenant === '*' && (role === 'teacher' || role === 'principal')) {
      throw new AuthenticationError(`a ${role} token must name one tenant in claim "${tenantClaim}", not "*"`);
    }
  }
  if ((role === 'teacher' || role === 'principal') && id.staffId === undefined && id.email === undefined) {
    throw new AuthenticationError(
      `a ${role} token must name the staff member (claim "${cfg.jwtStaffClaim}" or "${cfg.jwtEmailClaim}")`,
    );
  }
  return id;
}

/** Pull the token out of an Authorization header; undefined when there is none. */
export function bearerToken(header: string | null | undefined): string | undefined {
  if (header === null || header === undefined || header.trim() === '') return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!m) throw new AuthenticationError('Authorization header is not "Bearer <token>"');
  return m[1];
}

export interface MintOptions {
  role: Role;
  staffId?: string;
  email?: string;
  subject?: string;
  /** Tenant claim: a tenant code, or `*` (every tenant). */
  tenant?: string;
  /** Lifetime in seconds (default 8 hours). */
  ttlSeconds?: number;
}

/** Mint an HS256 token with the shared secret (demo and tests). */
export async function mintToken(cfg: AuthConfig, opts: MintOptions): Promise<string> {
  if (cfg.jwtSecret === undefined) throw new Error('EDLAKE_JWT_SECRET is not set: cannot mint an HS256 token');
  const claims: JWTPayload = {};
  setClaim(claims, cfg.jwtRoleClaim, opts.role);
  if (opts.staffId !== undefined) setClaim(claims, cfg.jwtStaffClaim, opts.staffId);
  if (opts.email !== undefined) setClaim(claims, cfg.jwtEmailClaim, opts.email);
  if (opts.tenant !== undefined) setClaim(claims, cfg.jwtTenantClaim ?? DEFAULT_TENANT_CLAIM, opts.tenant);
  const jwt = new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuer(cfg.jwtIssuer)
    .setAudience(cfg.jwtAudience)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + (opts.ttlSeconds ?? 8 * 3600));
  if (opts.subject !== undefined) jwt.setSubject(opts.subject);
  return jwt.sign(new TextEncoder().encode(cfg.jwtSecret));
}

function setClaim(target: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split('.');
  let cur = target;
  for (const part of parts.slice(0, -1)) {
    const next = cur[part];
    if (next === undefined || next === null || typeof next !== 'object') cur[part] = {};
    cur = cur[part] as Record<string, unknown>;
  }
  cur[parts[parts.length - 1] as string] = value;
}
