/** A run that finds nothing new to load, with the same models and seeds, publishes no new snapshot. */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generate, parseArgs } from '../../seeds/generator/generate.ts';
import { loadConfig } from '../../src/config.ts';
import { listManifestIds, readCurrent } from '../../src/catalog/index.ts';
import { runNightly, type PublishStageRecord } from '../../pipeline/nightly.ts';
import { tempDir } from '../pipeline/helpers.ts';

const dir = tempDir('nothing-new');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('publishing when nothing changed', () => {
  it('keeps the current snapshot and says why', async () => {
    const out = join(dir, 'district');
    await generate(parseArgs({ students: '120', seed: '5', out, through: '2025-08-22' }));
    const config = loadConfig({ landing: join(out, 'landing'), lake: join(dir, 'lake') }, { EDLAKE_PII_KEY: 'nothing-new-test-key-0123456789abcdef' });
    const first = await runNightly(config);
    expect(first.status).toBe('succeeded');
    const p1 = first.stages['publish'] as PublishStageRecord;
    expect(p1.published).toBe(true);

    const second = await runNightly(config);
    expect(second.status).toBe('succeeded');
    expect(second.summary.seen).toBe(0);
    const p2 = second.stages['publish'] as PublishStageRecord;
    expect(p2.published).toBe(false);
    expect(p2.reason).toMatch(new RegExp(`nothing new since snapshot ${p1.snapshotId}`));
    expect((await readCurrent(config.lake))?.snapshot_id).toBe(p1.snapshotId);
    expect(await listManifestIds(config.lake)).toEqual([p1.snapshotId]);
  });
});
