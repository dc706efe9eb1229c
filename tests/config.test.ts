import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.ts';

describe('configuration', () => {
  it('uses defaults when nothing is set', () => {
    const c = loadConfig({}, {});
    expect(c.lake).toBe('./data/lake');
    expect(c.landing).toBe('./data/landing');
    expect(c.port).toBe(4000);
    expect(c.timezone).toBe('America/Los_Angeles');
    expect(c.piiKey).toBeUndefined();
  });

  it('reads EDLAKE_* variables and lets flags win over them', () => {
    const c = loadConfig({ port: '5001' }, { EDLAKE_PORT: '5000', EDLAKE_LAKE: '/srv/lake' });
    expect(c.port).toBe(5001);
    expect(c.lake).toBe('/srv/lake');
  });

  it('names the setting, the variable and what was expected when a value is wrong', () => {
    let err: unknown;
    try {
      loadConfig({}, { EDLAKE_PORT: 'eighty', EDLAKE_TIMEZONE: 'Mars/Olympus' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const msg = (err as Error).message;
    expect(msg).toMatch(/--port \(or EDLAKE_PORT\): expected a whole number/);
    expect(msg).toMatch(/EDLAKE_TIMEZONE.*IANA time zone/);
    expect(msg).toContain('"eighty"');
  });

  it('refuses a short PII key', () => {
    expect(() => loadConfig({}, { EDLAKE_PII_KEY: 'short' })).toThrow(/EDLAKE_PII_KEY: expected a secret of at least 32 characters/);
  });
});
