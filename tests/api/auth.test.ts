import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SignJWT, exportJWK, generateKeyPair, UnsecuredJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { AuthenticationError, bearerToken, createVerifier, mintToken, claimAt } from '../../src/auth/jwt.ts';
import { personKey, viewerFor } from '../../src/auth/viewer.ts';

const SECRET = 'test-secret-test-secret-test-secret-0123456789';
const cfg = loadConfig({}, { EDLAKE_JWT_SECRET: SECRET });
const enc = new TextEncoder();

async function hs(claims: Record<string, unknown>, opts: { iss?: string; aud?: string; exp?: number; nbf?: number; secret?: string } = {}) {
  const now = Math.floor(Date.now() / 1000);
  const j = new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setIssuer(opts.iss ?? 'edlake').setAudience(opts.aud ?? 'edlake-api').setExpirationTime(opts.exp ?? now + 600);
  if (opts.nbf !== undefined) j.setNotBefore(opts.nbf);
  return j.sign(enc.encode(opts.secret ?? SECRET));
}

async function refused(verify: Promise<unknown>, pattern: RegExp) {
  await expect(verify).rejects.toBeInstanceOf(AuthenticationError);
  await expect(verify).rejects.toThrow(pattern);
}

describe('token verification (HS256)', () => {
  const v = createVerifier(cfg);

  it('accepts a well-formed token and reads role and staff id', async () => {
    const id = await v.verify(await mintToken(cfg, { role: 'teacher', staffId: ' T-001 ' }));
    expect(id).toMatchObject({ role: 'teacher', staffId: 'T-001' });
  });

  it('refuses a tampered payload', async () => {
    const tok = await mintToken(cfg, { role: 'teacher', staffId: 'T-001' });
    const [h, p, s] = tok.split('.') as [string, string, string];
    const payload = JSON.parse(Buffer.from(p, 'base64url').toString());
    payload.edlake_role = 'data_engineer';
    const forged = `${h}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${s}`;
    await refused(v.verify(forged), /signature/i);
  });

  it('refuses a token signed with another secret', async () => {
    await refused(v.verify(await hs({ edlake_role: 'auditor' }, { secret: 'another-secret-another-secret-another-secret' })), /signature/i);
  });

  it('refuses an expired token (beyond the clock tolerance) and accepts one within it', async () => {
    const now = Math.floor(Date.now() / 1000);
    await refused(v.verify(await hs({ edlake_role: 'auditor' }, { exp: now - 120 })), /expired/);
    await expect(v.verify(await hs({ edlake_role: 'auditor' }, { exp: now - 5 }))).resolves.toMatchObject({ role: 'auditor' });
  });

  it('refuses a token not yet valid', async () => {
    const now = Math.floor(Date.now() / 1000);
    await refused(v.verify(await hs({ edlake_role: 'auditor' }, { nbf: now + 600 })), /nbf/);
  });

  it('refuses the wrong audience and the wrong issuer', async () => {
    await refused(v.verify(await hs({ edlake_role: 'auditor' }, { aud: 'someone-else' })), /aud/);
    await refused(v.verify(await hs({ edlake_role: 'auditor' }, { iss: 'evil' })), /iss/);
  });

  it('refuses alg none', async () => {
    const now = Math.floor(Date.now() / 1000);
    const tok = new UnsecuredJWT({ edlake_role: 'data_engineer' }).setIssuer('edlake').setAudience('edlake-api').setExpirationTime(now + 600).encode();
    await refused(v.verify(tok), /not accepted/);
  });

  it('refuses a token without exp, without a role, with two roles, or a teacher without staff identity', async () => {
    const noExp = await new SignJWT({ edlake_role: 'auditor' }).setProtectedHeader({ alg: 'HS256' }).setIssuer('edlake').setAudience('edlake-api').sign(enc.encode(SECRET));
    await refused(v.verify(noExp), /exp/);
    await refused(v.verify(await hs({})), /no edlake role/);
    await refused(v.verify(await hs({ edlake_role: 'superuser' })), /no edlake role/);
    await refused(v.verify(await hs({ edlake_role: ['teacher', 'data_engineer'] })), /several/);
    await refused(v.verify(await hs({ edlake_role: 'teacher' })), /must name the staff/);
  });

  it('refuses garbage', async () => {
    await refused(v.verify('not-a-token'), /malformed|rejected/);
    await refused(v.verify(''), /malformed/);
    expect(() => bearerToken('Basic abc')).toThrow(AuthenticationError);
    expect(bearerToken(undefined)).toBeUndefined();
    expect(bearerToken('Bearer abc.def.ghi')).toBe('abc.def.ghi');
  });

  it('reads nested, configurable claim paths and role lists', async () => {
    const c2 = loadConfig({}, {
      EDLAKE_JWT_SECRET: SECRET,
      EDLAKE_JWT_ROLE_CLAIM: 'realm_access.roles',
      EDLAKE_JWT_STAFF_CLAIM: 'https://edlake.example/staff_id',
    });
    const v2 = createVerifier(c2);
    const id = await v2.verify(await hs({ realm_access: { roles: ['offline_access', 'Principal'] }, 'https://edlake.example/staff_id': 'P-9' }));
    expect(id).toMatchObject({ role: 'principal', staffId: 'P-9' });
    expect(claimAt({ a: { b: 1 } }, 'a.b')).toBe(1);
    // mintToken writes the same nested paths
    const id2 = await v2.verify(await mintToken(c2, { role: 'teacher', staffId: 'T-7' }));
    expect(id2).toMatchObject({ role: 'teacher', staffId: 'T-7' });
  });

  it('needs a key: no secret and no JWKS is a configuration error', () => {
    expect(() => createVerifier(loadConfig({}, {}))).toThrow(/no way to verify/);
    expect(() => createVerifier(loadConfig({}, { EDLAKE_JWT_SECRET: SECRET, EDLAKE_JWT_ALGORITHMS: 'RS256' }))).toThrow(/no way to verify/);
  });
});

describe('token verification (RS256 / ES256 with a JWKS file)', () => {
  it('accepts tokens of the key set, refuses HS256 signed with the public key (algorithm confusion)', async () => {
    const rsa = await generateKeyPair('RS256', { extractable: true });
    const ec = await generateKeyPair('ES256', { extractable: true });
    const jwkR = { ...(await exportJWK(rsa.publicKey)), kid: 'r1', alg: 'RS256', use: 'sig' };
    const jwkE = { ...(await exportJWK(ec.publicKey)), kid: 'e1', alg: 'ES256', use: 'sig' };
    const dir = mkdtempSync(path.join(tmpdir(), 'edlake-jwks-'));
    const file = path.join(dir, 'jwks.json');
    writeFileSync(file, JSON.stringify({ keys: [jwkR, jwkE] }));
    const c = loadConfig({}, { EDLAKE_JWT_JWKS_FILE: file, EDLAKE_JWT_ISSUER: 'https://idp.example', EDLAKE_JWT_AUDIENCE: 'edlake' });
    const v = createVerifier(c);
    expect(v.algorithms).toEqual(['RS256', 'ES256']);
    const now = Math.floor(Date.now() / 1000);
    const sign = (alg: 'RS256' | 'ES256', kid: string, key: Parameters<SignJWT['sign']>[0]) =>
      new SignJWT({ edlake_role: 'data_analyst' }).setProtectedHeader({ alg, kid }).setIssuer('https://idp.example').setAudience('edlake').setExpirationTime(now + 60).sign(key);
    await expect(v.verify(await sign('RS256', 'r1', rsa.privateKey))).resolves.toMatchObject({ role: 'data_analyst' });
    await expect(v.verify(await sign('ES256', 'e1', ec.privateKey))).resolves.toMatchObject({ role: 'data_analyst' });
    // a key pair that is not in the set
    const other = await generateKeyPair('RS256');
    await refused(v.verify(await sign('RS256', 'r1', other.privateKey)), /signature/i);
    // HS256 with the public key's bytes as the secret: refused, HS256 is not accepted without a secret
    const confused = await new SignJWT({ edlake_role: 'data_engineer' }).setProtectedHeader({ alg: 'HS256', kid: 'r1' }).setIssuer('https://idp.example').setAudience('edlake').setExpirationTime(now + 60).sign(enc.encode(JSON.stringify(jwkR)));
    await refused(v.verify(confused), /not accepted/);
  });
});

describe('viewer', () => {
  it('keys the staff ID as the pipeline does (HMAC over tenant|lower(trim(id)))', async () => {
    const piiKey = 'k'.repeat(40);
    const v = await viewerFor({ role: 'teacher', staffId: ' AB-1 ' }, { piiKey, tenant: 'district' });
    const { createHmac } = await import('node:crypto');
    expect(v.staffKey).toBe(createHmac('sha256', piiKey).update('district|ab-1').digest('hex'));
    expect(personKey(piiKey, 'district', 'ab-1')).toBe(v.staffKey);
  });
});
