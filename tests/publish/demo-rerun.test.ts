/**
 * `edlake demo` (what `npm start` runs) twice on the same folder: the second run reuses the lake,
 * finds nothing new delivered and publishes no new snapshot (the current one keeps serving).
 * Runs the real command (generate, pipeline, publish) without the server, on a small district.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli.ts';
import { listManifestIds, readCurrent } from '../../src/catalog/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'edlake-demo-rerun-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Run `edlake demo --no-serve` in this process and capture what it says on stderr. */
async function demo(): Promise<{ code: number; said: string }> {
  const chunks: string[] = [];
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((c: string | Uint8Array) => {
    chunks.push(typeof c === 'string' ? c : Buffer.from(c).toString('utf8'));
    return true;
  }) as typeof process.stderr.write;
  try {
    const code = await main(['demo', '--dir', dir, '--students', '60', '--through', '2025-08-29', '--no-serve']);
    return { code, said: chunks.join('') };
  } finally {
    process.stderr.write = write;
  }
}

describe('npm start twice (edlake demo)', () => {
  it('publishes once, then reuses the lake without a new snapshot', async () => {
    const lake = join(dir, 'lake');
    const first = await demo();
    expect(first.code, first.said).toBe(0);
    expect(first.said).toMatch(/Published snapshot \d+\./);
    const ids = await listManifestIds(lake);
    expect(ids.length).toBe(1);
    const current = await readCurrent(lake);
    const runs = readdirSync(join(lake, 'runs')).length;

    const second = await demo();
    expect(second.code, second.said).toBe(0);
    expect(second.said).toMatch(new RegExp(`Reusing the lake in .* \\(current snapshot ${current?.snapshot_id}\\)`));
    expect(second.said).toMatch(/Nothing new published \(nothing new since snapshot \d+/);
    expect(second.said).not.toMatch(/Published snapshot/);
    expect(await listManifestIds(lake)).toEqual(ids);
    expect((await readCurrent(lake))?.snapshot_id).toBe(current?.snapshot_id);
    // the second run is recorded (it ran and found nothing), it just did not publish
    expect(readdirSync(join(lake, 'runs')).length).toBe(runs + 1);
  });
});
