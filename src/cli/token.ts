/**
 * `edlake token --role R --staff ID`: mint a demo bearer token with the shared secret
 * (EDLAKE_JWT_SECRET). Refused when the server is configured for production keys (a JWKS).
 */
import type { Command } from 'commander';
import { loadConfig } from '../config.ts';
import { mintToken, usesProductionKeys } from '../auth/jwt.ts';
import { parseRole, ROLES } from '../auth/roles.ts';
import { UsageError } from './errors.ts';

export function registerToken(program: Command): void {
  program
    .command('token')
    .description('mint a demo bearer token for the API (HS256 with EDLAKE_JWT_SECRET); refused with production keys')
    .requiredOption('--role <role>', `role: ${ROLES.join(', ')}`)
    .option('--staff <id>', 'staff unique ID of the caller (teachers and principals)')
    .option('--email <email>', 'e-mail of the caller, instead of a staff ID')
    .option('--tenant <code>', 'tenant claim: the district whose rows the caller reads, or "*" for every tenant (district-wide roles); default: none (EDLAKE_TENANT only)')
    .option('--hours <n>', 'lifetime in hours', '8')
    .action(async (o: { role: string; staff?: string; email?: string; tenant?: string; hours: string }) => {
      const cfg = loadConfig();
      if (usesProductionKeys(cfg)) {
        throw new UsageError('the API is configured for production keys (EDLAKE_JWT_JWKS_URL or EDLAKE_JWT_JWKS_FILE): demo tokens are refused; get a token from the identity provider');
      }
      if (cfg.jwtSecret === undefined) throw new UsageError('EDLAKE_JWT_SECRET is not set (the demo sets it): no secret to sign with');
      const role = parseRole(o.role);
      if (!role) throw new UsageError(`--role: ${JSON.stringify(o.role)} is not a role (one of ${ROLES.join(', ')})`);
      if ((role === 'teacher' || role === 'principal') && o.staff === undefined && o.email === undefined) {
        throw new UsageError(`--staff (or --email) is required for a ${role}: their scope comes from the roster`);
      }
      const hours = Number(o.hours);
      if (!Number.isFinite(hours) || hours <= 0 || hours > 24 * 30) throw new UsageError('--hours: expected a number of hours between 0 and 720');
      const token = await mintToken(cfg, {
        role,
        ...(o.staff !== undefined ? { staffId: o.staff } : {}),
        ...(o.email !== undefined ? { email: o.email } : {}),
        ...(o.tenant !== undefined ? { tenant: o.tenant } : {}),
        subject: o.staff ?? o.email ?? `demo-${role}`,
        ttlSeconds: Math.round(hours * 3600),
      });
      process.stdout.write(`${token}\n`);
    });
}
