/**
 * Bad arguments stop `edlake generate` with exit code 2, a message naming the argument, and
 * nothing written.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { main } from '../../src/cli.ts';
import { hashTree, tmp } from './helpers.ts';

let stderr = '';
beforeEach(() => {
  stderr = '';
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  });
  vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
});
afterEach(() => {
  vi.restoreAllMocks();
});

async function run(args: string[]): Promise<number> {
  return main(['generate', ...args]);
}

describe('edlake generate: bad arguments', () => {
  const cases: Array<[string, string[], RegExp]> = [
    ['negative students', ['--students', '-5', '--seed', '1'], /--students/],
    ['zero students', ['--students', '0', '--seed', '1'], /--students/],
    ['students not a number', ['--students', 'many', '--seed', '1'], /--students/],
    ['unknown messiness', ['--students', '10', '--seed', '1', '--messiness', 'chaotic'], /--messiness/],
    ['impossible date', ['--students', '10', '--seed', '1', '--through', '2026-02-30'], /--through/],
    ['date outside the school year', ['--students', '10', '--seed', '1', '--through', '2027-01-10'], /--through/],
    ['bad seed', ['--students', '10', '--seed', '-1'], /--seed/],
    ['bad school year', ['--students', '10', '--seed', '1', '--school-year', '26'], /--school-year/],
  ];
  for (const [name, args, re] of cases) {
    it(`${name}: exit 2, names the argument, writes nothing`, async () => {
      const out = path.join(tmp('args'), 'out');
      const code = await run([...args, '--out', out]);
      expect(code).toBe(2);
      expect(stderr).toMatch(re);
      expect(existsSync(out)).toBe(false);
    });
  }

  it('refuses an output folder that holds something else, and leaves it untouched', async () => {
    const out = tmp('foreign');
    writeFileSync(path.join(out, 'notes.txt'), 'not a district');
    mkdirSync(path.join(out, 'landing'));
    const before = hashTree(out);
    const code = await run(['--students', '10', '--seed', '1', '--out', out]);
    expect(code).toBe(2);
    expect(stderr).toMatch(/--out/);
    expect(hashTree(out)).toEqual(before);
    expect(readdirSync(out).sort()).toEqual(['landing', 'notes.txt']);
  });

  it('refuses a generated folder made with other arguments, and leaves it untouched', async () => {
    const out = path.join(tmp('other'), 'd');
    expect(await run(['--students', '60', '--seed', '1', '--out', out, '--through', '2025-08-20', '--quiet'])).toBe(0);
    const before = hashTree(out);
    const code = await run(['--students', '61', '--seed', '1', '--out', out, '--quiet']);
    expect(code).toBe(2);
    expect(stderr).toMatch(/--students 60/);
    expect(hashTree(out)).toEqual(before);
  });

  it('refuses a file as output folder', async () => {
    const f = path.join(tmp('file'), 'x.csv');
    writeFileSync(f, 'a,b\n');
    expect(await run(['--students', '10', '--seed', '1', '--out', f])).toBe(2);
    expect(stderr).toMatch(/--out/);
  });
});
