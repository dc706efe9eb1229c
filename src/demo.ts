/**
 * The demo's secrets and sample staff: what `npm start` needs to run edlake on its built-in
 * sample district without any configuration.
 *
 * Secrets (the PII key and the HS256 token secret) are created once, at random, in
 * `<lake>/../.edlake/demo-secrets.json` (mode 0600): beside the lake, outside its data, kept
 * across runs so that keys and tokens stay valid. They are for the demo only: a real deployment
 * sets EDLAKE_PII_KEY and EDLAKE_JWT_SECRET (or a JWKS) itself.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { demoSecretsPath, resolvePiiKey } from '../pipeline/secrets.ts';

export interface DemoSecrets {
  piiKey: string;
  jwtSecret: string;
  path: string;
}

/** Create (once) and return the demo secrets of a lake. */
export function demoSecrets(lake: string): DemoSecrets {
  const { key: piiKey } = resolvePiiKey({ lake }, { demo: true });
  const path = demoSecretsPath(lake);
  const stored = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  let jwtSecret = stored['jwtSecret'];
  if (typeof jwtSecret !== 'string' || jwtSecret.length < 32) {
    jwtSecret = randomBytes(32).toString('hex');
    const tmp = `${path}.tmp-${process.pid}`;
    writeFileSync(tmp, `${JSON.stringify({ ...stored, jwtSecret }, null, 2)}\n`, { mode: 0o600 });
    renameSync(tmp, path);
    chmodSync(path, 0o600);
  }
  return { piiKey, jwtSecret: jwtSecret as string, path };
}

export interface DemoStaff {
  teacherId: string;
  teacherSchool: string;
  principalId: string;
  schoolName: string;
}

/** Parse a small CSV written by the generator (no quoted fields in these files). */
function readCsv(path: string): Array<Record<string, string>> {
  const [header, ...lines] = readFileSync(path, 'utf8').split(/\r?\n/).filter((l) => l.length > 0);
  if (!header) return [];
  const cols = header.split(',');
  return lines.map((l) => {
    const cells = l.split(',');
    return Object.fromEntries(cols.map((c, i) => [c, cells[i] ?? '']));
  });
}

/**
 * A teacher of a middle-school mathematics section and their principal, from the generated
 * district's `truth/` (the demo's own district), for the printed example tokens.
 */
export function pickDemoStaff(generatedDir: string): DemoStaff | undefined {
  const schoolsFile = join(generatedDir, 'truth', 'schools.csv');
  const sectionsFile = join(generatedDir, 'truth', 'sections.csv');
  if (!existsSync(schoolsFile) || !existsSync(sectionsFile)) return undefined;
  const schools = readCsv(schoolsFile);
  const sections = readCsv(sectionsFile);
  const middle = new Set(schools.filter((s) => s['level'] === 'M').map((s) => s['school_code']));
  const section =
    sections.find((s) => s['subject'] === 'math' && middle.has(s['school_code'])) ?? sections.find((s) => s['subject'] === 'math') ?? sections[0];
  if (!section) return undefined;
  const school = schools.find((s) => s['school_code'] === section['school_code']);
  if (!school || !school['principal_id'] || !section['teacher_id']) return undefined;
  return {
    teacherId: section['teacher_id'],
    teacherSchool: section['school_code'] ?? '',
    principalId: school['principal_id'],
    schoolName: school['school_name'] ?? '',
  };
}
