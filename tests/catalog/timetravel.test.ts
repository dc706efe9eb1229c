import { describe, expect, it } from 'vitest';
import { endOfLocalDayExclusive, InvalidDateError, localDate } from '../../src/catalog/index.ts';

// Expected instants written by hand from the published DST rules (oracle), not computed.
const cases: Array<[string, string, string]> = [
  ['America/Los_Angeles', '2026-03-03', '2026-03-04T08:00:00.000Z'], // PST
  ['America/Los_Angeles', '2026-03-07', '2026-03-08T08:00:00.000Z'], // day before spring forward
  ['America/Los_Angeles', '2026-03-08', '2026-03-09T07:00:00.000Z'], // 23-hour day, ends in PDT
  ['America/Los_Angeles', '2026-10-31', '2026-11-01T07:00:00.000Z'],
  ['America/Los_Angeles', '2026-11-01', '2026-11-02T08:00:00.000Z'], // 25-hour day
  ['America/Los_Angeles', '2026-12-31', '2027-01-01T08:00:00.000Z'], // year boundary
  ['UTC', '2026-03-03', '2026-03-04T00:00:00.000Z'],
  ['Asia/Kolkata', '2026-03-03', '2026-03-03T18:30:00.000Z'],
  // Chile jumps from 24:00 to 01:00 on 6 Sept 2026: 6 Sept starts at 01:00 -03.
  ['America/Santiago', '2026-09-05', '2026-09-06T04:00:00.000Z'],
  // Chile falls back from 24:00 to 23:00 on 4/5 April 2026: 4 April lasts 25 hours.
  ['America/Santiago', '2026-04-04', '2026-04-05T04:00:00.000Z'],
];

describe('end of a local day', () => {
  it.each(cases)('%s %s ends before %s', (tz, date, iso) => {
    const end = endOfLocalDayExclusive(date, tz);
    expect(new Date(end).toISOString()).toBe(iso);
    expect(localDate(end - 1, tz)).toBe(date);
    expect(localDate(end, tz) > date).toBe(true);
  });

  it('refuses what is not a calendar date', () => {
    expect(() => endOfLocalDayExclusive('2026-02-29', 'UTC')).toThrow(InvalidDateError);
    expect(() => endOfLocalDayExclusive('3 March', 'UTC')).toThrow(/expected a date as YYYY-MM-DD/);
  });
});
