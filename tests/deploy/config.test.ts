/**
 * The configuration reference (docs/configuration.md) and .env.example against src/config.ts:
 * they are what `edlake config docs` writes now, every setting is in both, each documented default
 * read back through loadConfig gives the real default, and no EDLAKE_* variable is read, or set by
 * the deployment files, without being documented.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, settings, type SettingName } from '../../src/config.ts';
import { COMPOSE_VARIABLES, configurationMarkdown, envExample } from '../../src/cli/config.ts';
import { main } from '../../src/cli.ts';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const read = (rel: string) => fs.readFileSync(path.join(ROOT, rel), 'utf8');
const NAMES = Object.keys(settings) as SettingName[];

/** `NAME=value` and `# NAME=value` lines of an env file. */
function envLines(text: string): Map<string, { value: string; commented: boolean }> {
  const out = new Map<string, { value: string; commented: boolean }>();
  for (const line of text.split('\n')) {
    const m = /^(# )?([A-Z][A-Z0-9_]*)=(.*)$/.exec(line);
    if (m) {
      expect(out.has(m[2]!), `${m[2]} twice in .env.example`).toBe(false);
      out.set(m[2]!, { value: m[3]!, commented: m[1] !== undefined });
    }
  }
  return out;
}

describe('configuration reference and .env.example', () => {
  it('are what `edlake config docs` writes from src/config.ts (run it after changing a setting)', () => {
    expect(read('docs/configuration.md'), 'docs/configuration.md is stale: run `npm run edlake -- config docs`').toBe(configurationMarkdown());
    expect(read('.env.example'), '.env.example is stale: run `npm run edlake -- config docs`').toBe(envExample());
  });

  it('.env.example names every setting once; its defaults read back through loadConfig are the real defaults', () => {
    const lines = envLines(read('.env.example'));
    const expected = new Set([...NAMES.map((n) => settings[n].env), ...COMPOSE_VARIABLES.map((c) => c.env)]);
    expect(new Set(lines.keys())).toEqual(expected);
    const defaults = loadConfig({}, {});
    for (const n of NAMES) {
      const l = lines.get(settings[n].env)!;
      const production = (settings[n] as { production?: boolean }).production === true;
      // What production must set is left uncommented and empty, so that it stands out.
      expect(l.commented, settings[n].env).toBe(!production);
      if (production) expect(l.value).toBe('');
      const fromExample = loadConfig({}, l.value === '' ? {} : { [settings[n].env]: l.value });
      expect(fromExample[n], `${settings[n].env}=${l.value}`).toEqual(defaults[n]);
    }
  });

  it('docs/configuration.md has one row per setting with its variable, flag and production mark', () => {
    const md = read('docs/configuration.md');
    for (const n of NAMES) {
      const s = settings[n] as { env: string; flag?: string; production?: boolean };
      const rows = md.split('\n').filter((l) => l.startsWith(`| \`${n}\` |`));
      expect(rows, n).toHaveLength(1);
      const row = rows[0]!;
      expect(row).toContain(`\`${s.env}\``);
      if (s.flag) expect(row).toContain(`\`--${s.flag}\``);
      expect(row.includes('**yes**'), n).toBe(s.production === true);
    }
    expect(md).toContain('## What production must set');
  });

  it('every EDLAKE_* variable read by the code or set by the deployment files is a documented setting', () => {
    const documented = new Set([...NAMES.map((n) => settings[n].env), ...COMPOSE_VARIABLES.map((c) => c.env)]);
    const found = new Map<string, string>();
    const walk = (dir: string) => {
      for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, e.name);
        if (e.isDirectory()) walk(p);
        else if (/\.(ts|js|mjs)$/.test(e.name) && !p.endsWith(path.join('src', 'config.ts'))) {
          for (const m of fs.readFileSync(p, 'utf8').matchAll(/process\.env(?:\[['"]|\.)(EDLAKE_[A-Z0-9_]+)/g)) found.set(m[1]!, path.relative(ROOT, p));
        }
      }
    };
    for (const d of ['src', 'pipeline', 'resolvers', 'schema', 'bin']) walk(path.join(ROOT, d));
    for (const f of ['docker-compose.yml', 'Dockerfile']) for (const m of read(f).matchAll(/\b(EDLAKE_[A-Z0-9_]+|METABASE_PORT)\b/g)) found.set(m[1]!, f);
    const undocumented = [...found].filter(([v]) => !documented.has(v) && !v.startsWith('EDLAKE_TEST_'));
    expect(undocumented).toEqual([]);
    // The scan does see what it should (a variable the server reads through config.ts is not counted).
    expect(found.has('EDLAKE_TEST_CRASH_AT')).toBe(true);
  });

  it('`edlake config docs --check` passes here and fails, writing nothing, on a stale copy', async () => {
    const out: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    const errWrite = process.stderr.write.bind(process.stderr);
    process.stdout.write = ((s: string) => (out.push(s), true)) as typeof process.stdout.write;
    process.stderr.write = ((s: string) => (out.push(s), true)) as typeof process.stderr.write;
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'edlake-config-'));
    try {
      expect(await main(['config', 'docs', '--check', '--root', ROOT])).toBe(0);
      fs.mkdirSync(path.join(tmp, 'docs'));
      fs.writeFileSync(path.join(tmp, 'docs', 'configuration.md'), configurationMarkdown().replace('EDLAKE_LAKE', 'EDLAKE_LAKE_OLD'));
      fs.writeFileSync(path.join(tmp, '.env.example'), envExample());
      expect(await main(['config', 'docs', '--check', '--root', tmp])).toBe(1);
      expect(out.join('')).toContain('out of date (run `edlake config docs`): docs/configuration.md');
      expect(fs.readFileSync(path.join(tmp, 'docs', 'configuration.md'), 'utf8')).toContain('EDLAKE_LAKE_OLD');
      expect(await main(['config', 'docs', '--root', tmp])).toBe(0);
      expect(fs.readFileSync(path.join(tmp, 'docs', 'configuration.md'), 'utf8')).toBe(configurationMarkdown());
    } finally {
      process.stdout.write = write;
      process.stderr.write = errWrite;
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
});
