import { totalmem } from 'node:os';
import { describe, expect, it } from 'vitest';
import { defaultMemoryLimit } from '../../pipeline/run.ts';
import { loadConfig } from '../../src/config.ts';

describe('pipeline memory limit', () => {
  const totalMb = totalmem() / 1048576;
  it('defaults to 60% of the machine, takes an amount as given, and a share of the machine', () => {
    expect(defaultMemoryLimit()).toBe(`${Math.floor(totalMb * 0.6)}MB`);
    expect(defaultMemoryLimit('8GB')).toBe('8GB');
    expect(defaultMemoryLimit('25%')).toBe(`${Math.floor(totalMb * 0.25)}MB`);
  });
  it('refuses a setting that is neither an amount nor a share, naming it', () => {
    expect(() => loadConfig({}, { EDLAKE_PIPELINE_MEMORY: 'lots' })).toThrow(/--memory \(or EDLAKE_PIPELINE_MEMORY\): expected an amount/);
  });
});
