import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { printedSchema } from '../../schema/index.ts';

describe('schema', () => {
  it('matches the committed SDL (run `npx tsx schema/print.ts` after a deliberate change)', () => {
    const committed = readFileSync(new URL('../../schema/schema.graphql', import.meta.url), 'utf8');
    expect(printedSchema()).toBe(committed);
  });

  it('exposes the five views, aggregates, time travel and the tiered fields', () => {
    const sdl = printedSchema();
    for (const f of ['chronicAbsenteeismRisk', 'wellbeingRiskProfiles', 'equityOutcomes', 'classSectionComparison', 'performanceCorrelations', 'attendanceSummary', 'snapshots', 'pipelineRuns', 'reidentify', 'dataDictionary']) {
      expect(sdl).toContain(`${f}`);
    }
    expect(sdl).toMatch(/published\(asOf: Date, snapshotId: ID\): Published!/);
    expect(sdl).toMatch(/scalar NonNegativeInt/);
  });
});
