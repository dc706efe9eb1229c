import { describe, it, expect, vi, afterEach } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { main } from '../../src/cli.ts';
import { loadProject } from '../../pipeline/models/project.ts';

function capture(): { out: () => string; err: () => string } {
  let out = '';
  let err = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => {
    out += String(s);
    return true;
  });
  vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => {
    err += String(s);
    return true;
  });
  return { out: () => out, err: () => err };
}

describe('edlake model', () => {
  afterEach(() => vi.restoreAllMocks());

  it('list prints every model in run order', async () => {
    const c = capture();
    expect(await main(['model', 'list', '--json'])).toBe(0);
    const rows = JSON.parse(c.out()) as Array<{ name: string; layer: string; reads: string[] }>;
    expect(rows.map((r) => r.name)).toEqual(loadProject().order);
    expect(rows.find((r) => r.name === 'v_equity_outcomes')!.reads).toContain('marts.msr_student_attendance');
  });

  it('run and calibrate refuse a lake without a working database, a bad version name and a folder that is not seeds', async () => {
    const lake = mkdtempSync(path.join(tmpdir(), 'edlake-cli-'));
    try {
      const c = capture();
      expect(await main(['model', 'run', '--lake', lake])).toBe(2);
      expect(c.err()).toMatch(/no working database at .*work\.duckdb/);
      expect(await main(['model', 'calibrate', '--lake', lake, '--version', 'bad name'])).toBe(2);
      expect(c.err()).toMatch(/--version "bad name": expected letters/);
      expect(await main(['model', 'calibrate', '--lake', lake, '--seeds', lake])).toBe(2);
      expect(c.err()).toMatch(/not a seeds folder/);
    } finally {
      rmSync(lake, { recursive: true, force: true });
    }
  });
});
