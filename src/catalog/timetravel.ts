/**
 * Dates in the district's time zone, for time travel.
 *
 * "As of 3 March" means: the latest snapshot published at or before the end of 3 March in the
 * district's time zone. The end of a local day is the last instant whose local calendar date is that
 * day, computed with Intl (no fixed offsets: DST moves it). Zones whose clocks jump at midnight are
 * handled: where midnight does not exist the next day starts at the jump; where midnight happens
 * twice (a fall-back at 24:00) the day ends at the second one.
 */

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
    });
    formatters.set(tz, f);
  }
  return f;
}

interface LocalParts {
  y: number;
  mo: number;
  d: number;
  h: number;
  mi: number;
  s: number;
}

function localParts(instant: number, tz: string): LocalParts {
  const p: Record<string, number> = {};
  for (const part of formatter(tz).formatToParts(new Date(instant))) {
    if (part.type !== 'literal') p[part.type] = Number(part.value);
  }
  return { y: p['year'] ?? 0, mo: p['month'] ?? 0, d: p['day'] ?? 0, h: p['hour'] ?? 0, mi: p['minute'] ?? 0, s: p['second'] ?? 0 };
}

/** Local calendar date of an instant in a time zone, as YYYY-MM-DD. */
export function localDate(instant: Date | number, tz: string): string {
  const p = localParts(typeof instant === 'number' ? instant : instant.getTime(), tz);
  return `${String(p.y).padStart(4, '0')}-${String(p.mo).padStart(2, '0')}-${String(p.d).padStart(2, '0')}`;
}

/** Offset (local minus UTC, ms) of a zone at an instant, to the second. */
function offsetAt(instant: number, tz: string): number {
  const p = localParts(instant, tz);
  const asUtc = Date.UTC(p.y, p.mo - 1, p.d, p.h, p.mi, p.s);
  return asUtc - Math.floor(instant / 1000) * 1000;
}

export class InvalidDateError extends Error {
  constructor(value: string) {
    super(`expected a date as YYYY-MM-DD, got ${JSON.stringify(value)}`);
    this.name = 'InvalidDateError';
  }
}

function parseDate(date: string): { y: number; mo: number; d: number } {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  if (!m) throw new InvalidDateError(date);
  const y = Number(m[1]);
  const mo = Number(m[2]);
  const d = Number(m[3]);
  const check = new Date(Date.UTC(y, mo - 1, d));
  if (check.getUTCFullYear() !== y || check.getUTCMonth() !== mo - 1 || check.getUTCDate() !== d) throw new InvalidDateError(date);
  return { y, mo, d };
}

/**
 * The first instant (UTC ms) of the local day after `date` in `tz`: a snapshot answers "as of
 * `date`" when it was published strictly before this instant.
 */
export function endOfLocalDayExclusive(date: string, tz: string): number {
  const { y, mo, d } = parseDate(date);
  const next = new Date(Date.UTC(y, mo - 1, d + 1));
  const naive = next.getTime(); // next local midnight read as if it were UTC
  const nextDate = next.toISOString().slice(0, 10);
  // Candidates: naive minus each offset in force around that time (before and after a transition).
  const offsets = new Set([offsetAt(naive - 14 * 3600_000, tz), offsetAt(naive, tz), offsetAt(naive + 14 * 3600_000, tz)]);
  let best: number | undefined;
  for (const off of offsets) {
    const t = naive - off;
    const p = localParts(t, tz);
    if (localDate(t, tz) === nextDate && p.h === 0 && p.mi === 0 && p.s === 0) {
      // The day `date` ends at the LAST midnight that starts `nextDate` (two exist on a fall-back at 24:00).
      if (best === undefined || t > best) best = t;
    }
  }
  if (best !== undefined) return best;
  // Midnight does not exist (clocks jump forward at 24:00): find the first instant of nextDate.
  let lo = naive - 30 * 3600_000;
  let hi = naive + 30 * 3600_000;
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (localDate(mid, tz) >= nextDate) hi = mid;
    else lo = mid;
  }
  return hi;
}
