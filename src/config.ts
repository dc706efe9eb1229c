/**
 * Configuration: every setting edlake reads, in one place.
 *
 * A setting comes from (highest first) a command-line flag, an `EDLAKE_*` environment
 * variable, or its default. Each one is validated with zod; a wrong value stops the
 * program with a message naming the flag, the variable and what was expected.
 * `docs/configuration.md` is written from this table (see `describeSettings`).
 */
import { z } from 'zod';

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

interface Setting<T extends z.ZodType> {
  /** Environment variable that sets it. */
  env: string;
  /** Command-line flag (long form, without dashes) that sets it, if any. */
  flag?: string;
  /** What it means, for `--help` and the configuration reference. */
  description: string;
  /** Whether a production deployment must set it explicitly. */
  production?: boolean;
  schema: T;
}

function setting<T extends z.ZodType>(s: Setting<T>): Setting<T> {
  return s;
}

const intFromString = (min: number, max: number) =>
  z.coerce
    .number({ error: 'expected a whole number' })
    .int({ error: 'expected a whole number' })
    .min(min, { error: `expected a whole number of at least ${min}` })
    .max(max, { error: `expected a whole number of at most ${max}` });

const isoDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, { error: 'expected a date as YYYY-MM-DD' })
  .refine((s) => !Number.isNaN(Date.parse(`${s}T00:00:00Z`)) && new Date(`${s}T00:00:00Z`).toISOString().startsWith(s), {
    error: 'expected a real calendar date as YYYY-MM-DD',
  });

const timeZone = z.string().refine(
  (tz) => {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: tz });
      return true;
    } catch {
      return false;
    }
  },
  { error: 'expected an IANA time zone such as America/Los_Angeles' },
);

export const settings = {
  landing: setting({
    env: 'EDLAKE_LANDING',
    flag: 'landing',
    description: 'Folder where districts and vendors deliver files, as <source>/<delivery date>/<files>.',
    schema: z.string().min(1).default('./data/landing'),
  }),
  lake: setting({
    env: 'EDLAKE_LAKE',
    flag: 'lake',
    description: 'Folder of the lake: raw archive, working database, snapshots, run records.',
    schema: z.string().min(1).default('./data/lake'),
  }),
  tenant: setting({
    env: 'EDLAKE_TENANT',
    flag: 'tenant',
    description: 'Default tenant (district) code used in keys when a source does not name one.',
    schema: z
      .string()
      .regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, { error: 'expected a lower-case code of letters, digits, - or _' })
      .default('district'),
  }),
  timezone: setting({
    env: 'EDLAKE_TIMEZONE',
    flag: 'timezone',
    description: "District's time zone: schedules and time travel by date are read in it.",
    schema: timeZone.default('America/Los_Angeles'),
  }),
  piiKey: setting({
    env: 'EDLAKE_PII_KEY',
    description:
      'Secret key of the keyed hash (HMAC-SHA256) that pseudonymizes student and staff IDs. At least 32 characters. Keep it outside the lake.',
    production: true,
    schema: z.string().min(32, { error: 'expected a secret of at least 32 characters' }).optional(),
  }),
  jwtSecret: setting({
    env: 'EDLAKE_JWT_SECRET',
    description: 'Shared secret for HS256 bearer tokens (demo and small deployments). At least 32 characters.',
    schema: z.string().min(32, { error: 'expected a secret of at least 32 characters' }).optional(),
  }),
  jwtJwksUrl: setting({
    env: 'EDLAKE_JWT_JWKS_URL',
    description: 'URL of the JSON Web Key Set of the OpenID Connect provider (RS256/ES256 tokens). Production keys: disables demo tokens.',
    production: true,
    schema: z.string().url({ error: 'expected an https URL of a JWKS' }).optional(),
  }),
  jwtJwksFile: setting({
    env: 'EDLAKE_JWT_JWKS_FILE',
    description: 'File holding a JSON Web Key Set (RS256/ES256 tokens) when the provider’s keys are installed locally. Production keys: disables demo tokens.',
    schema: z.string().min(1).optional(),
  }),
  jwtAlgorithms: setting({
    env: 'EDLAKE_JWT_ALGORITHMS',
    description: 'Comma-separated allow-list of token signature algorithms (HS256, RS256, ES256).',
    schema: z
      .string()
      .default('HS256,RS256,ES256')
      .transform((s) => s.split(',').map((a) => a.trim()).filter((a) => a !== ''))
      .pipe(z.array(z.enum(['HS256', 'RS256', 'ES256'], { error: 'expected HS256, RS256 or ES256' })).min(1)),
  }),
  jwtIssuer: setting({
    env: 'EDLAKE_JWT_ISSUER',
    description: 'Required "iss" claim of bearer tokens.',
    schema: z.string().min(1).default('edlake'),
  }),
  jwtAudience: setting({
    env: 'EDLAKE_JWT_AUDIENCE',
    description: 'Required "aud" claim of bearer tokens.',
    schema: z.string().min(1).default('edlake-api'),
  }),
  jwtClockTolerance: setting({
    env: 'EDLAKE_JWT_CLOCK_TOLERANCE',
    description: 'Seconds of clock skew tolerated when checking "exp" and "nbf".',
    schema: intFromString(0, 300).default(30),
  }),
  jwtRoleClaim: setting({
    env: 'EDLAKE_JWT_ROLE_CLAIM',
    description: 'Dotted path of the claim holding the edlake role (a string or a list), e.g. realm_access.roles.',
    schema: z.string().min(1).default('edlake_role'),
  }),
  jwtStaffClaim: setting({
    env: 'EDLAKE_JWT_STAFF_CLAIM',
    description: 'Dotted path of the claim holding the staff unique ID of the caller.',
    schema: z.string().min(1).default('staff_id'),
  }),
  jwtEmailClaim: setting({
    env: 'EDLAKE_JWT_EMAIL_CLAIM',
    description: 'Dotted path of the claim holding the e-mail of the caller (used when the staff ID claim is absent).',
    schema: z.string().min(1).default('email'),
  }),
  jwtTenantClaim: setting({
    env: 'EDLAKE_JWT_TENANT_CLAIM',
    description:
      'Dotted path of the claim naming the tenant (district) of the caller: its rows only. "*" gives a district-wide role every tenant of the lake (consortium, state). A token without it sees EDLAKE_TENANT only.',
    schema: z.string().min(1).default('edlake_tenant'),
  }),
  apiProduction: setting({
    env: 'EDLAKE_API_PRODUCTION',
    description: 'Production mode of the API: no GraphiQL, no introspection.',
    schema: z.enum(['true', 'false'], { error: 'expected true or false' }).default('false').transform((v) => v === 'true'),
  }),
  apiQueryTimeout: setting({
    env: 'EDLAKE_API_QUERY_TIMEOUT_MS',
    description: 'Milliseconds after which a GraphQL request’s running SQL is interrupted.',
    schema: intFromString(100, 600_000).default(10_000),
  }),
  apiCorsOrigins: setting({
    env: 'EDLAKE_API_CORS_ORIGINS',
    description: 'Comma-separated origins allowed to call the API from a browser (empty: same origin only).',
    schema: z
      .string()
      .default('')
      .transform((s) => s.split(',').map((a) => a.trim()).filter((a) => a !== '')),
  }),
  port: setting({
    env: 'EDLAKE_PORT',
    flag: 'port',
    description: 'TCP port of the API server.',
    schema: intFromString(0, 65535).default(4000),
  }),
  pipelineMemory: setting({
    env: 'EDLAKE_PIPELINE_MEMORY',
    flag: 'memory',
    description:
      'Memory the pipeline’s DuckDB may use (e.g. 8GB or 70%); beyond it DuckDB spills to the run’s staging folder where it can. Default: 60% of the machine’s memory.',
    schema: z
      .string()
      .regex(/^(\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)|\d{1,2}%)$/i, { error: 'expected an amount such as 8GB, 512MB or a share such as 60%' })
      .optional(),
  }),
  modelConcurrency: setting({
    env: 'EDLAKE_MODEL_CONCURRENCY',
    description:
      'SQL models the pipeline builds at once, each on its own DuckDB connection, once what they read is built (decision 0208). A model built in chunks is always built alone. 1 builds one model at a time; at most 4, the size of Node’s thread pool on which DuckDB’s queries run.',
    schema: intFromString(1, 4).default(2),
  }),
  sqlProfile: setting({
    env: 'EDLAKE_SQL_PROFILE',
    description:
      'For engineers finding where time goes: a file to which every DuckDB statement run through edlake appends one JSON line (wall milliseconds and the statement). Off when empty (decision 0305).',
    schema: z.string().optional(),
  }),
  sqlProfileChars: setting({
    env: 'EDLAKE_SQL_PROFILE_CHARS',
    description: 'Characters of each statement kept in the SQL profile.',
    schema: intFromString(1, 10_000_000).default(400),
  }),
  quarantineLimit: setting({
    env: 'EDLAKE_QUARANTINE_LIMIT',
    flag: 'quarantine-limit',
    description: 'Share of a source’s delivered rows (0 to 1) that may be quarantined before the run marks that source failed.',
    schema: z.coerce
      .number({ error: 'expected a number between 0 and 1' })
      .min(0, { error: 'expected a number between 0 and 1' })
      .max(1, { error: 'expected a number between 0 and 1' })
      .default(0.1),
  }),
} as const;

export type SettingName = keyof typeof settings;
export type Config = { [K in SettingName]: z.output<(typeof settings)[K]['schema']> };

/** Names of the settings a command wants, and the raw values it was given by flags. */
export type FlagValues = Partial<Record<SettingName, unknown>>;

function describeSource(name: SettingName): string {
  const s: Setting<z.ZodType> = settings[name];
  return s.flag ? `--${s.flag} (or ${s.env})` : s.env;
}

/**
 * Resolve the configuration from flags, the environment and defaults.
 * Throws ConfigError naming every wrong setting.
 */
export function loadConfig(flags: FlagValues = {}, env: NodeJS.ProcessEnv = process.env): Config {
  const out: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const name of Object.keys(settings) as SettingName[]) {
    const s: Setting<z.ZodType> = settings[name];
    const fromFlag = flags[name];
    const fromEnv = env[s.env];
    const raw = fromFlag !== undefined ? fromFlag : fromEnv !== undefined && fromEnv !== '' ? fromEnv : undefined;
    const parsed = s.schema.safeParse(raw);
    if (parsed.success) {
      out[name] = parsed.data;
    } else {
      const why = parsed.error.issues.map((i) => i.message).join('; ');
      const origin = fromFlag !== undefined ? `--${s.flag}` : s.env;
      problems.push(`${describeSource(name)}: ${why} (got ${JSON.stringify(raw)} from ${origin})`);
    }
  }
  if (problems.length > 0) {
    throw new ConfigError(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
  }
  return out as Config;
}

/** The settings table, for `--help` texts and the configuration reference. */
export function describeSettings(): Array<{ name: SettingName; env: string; flag?: string; description: string; production: boolean; default?: unknown }> {
  return (Object.keys(settings) as SettingName[]).map((name) => {
    const s: Setting<z.ZodType> = settings[name];
    const d = s.schema.safeParse(undefined);
    return {
      name,
      env: s.env,
      ...(s.flag ? { flag: s.flag } : {}),
      description: s.description,
      production: s.production ?? false,
      ...(d.success && d.data !== undefined ? { default: d.data } : {}),
    };
  });
}

export { isoDate, intFromString };
