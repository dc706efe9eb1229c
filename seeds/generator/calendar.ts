/**
 * The generated district's school calendar, testing windows and delivery dates.
 *
 * Dates are handled as epoch days (UTC days since 1970-01-01) and written as ISO strings.
 * The calendar is a pure function of the school year (named by its spring year).
 */

export const DAY_MS = 86_400_000;

export function isoToDay(iso: string): number {
  return Math.floor(Date.parse(`${iso}T00:00:00Z`) / DAY_MS);
}
const isoCache = new Map<number, string>();
export function dayToIso(day: number): string {
  let s = isoCache.get(day);
  if (s === undefined) {
    s = new Date(day * DAY_MS).toISOString().slice(0, 10);
    if (isoCache.size < 100_000) isoCache.set(day, s);
  }
  return s;
}
/** 0 = Sunday ... 6 = Saturday. */
export function weekday(day: number): number {
  return (day + 4) % 7; // 1970-01-01 was a Thursday
}
function ymd(y: number, m: number, d: number): number {
  return Math.floor(Date.UTC(y, m - 1, d) / DAY_MS);
}
/** The n-th given weekday (0 Sunday) of a month; n = -1 for the last. */
function nthWeekday(y: number, m: number, wd: number, n: number): number {
  if (n > 0) {
    const first = ymd(y, m, 1);
    const off = (wd - weekday(first) + 7) % 7;
    return first + off + (n - 1) * 7;
  }
  const last = ymd(y, m + 1, 1) - 1;
  const off = (weekday(last) - wd + 7) % 7;
  return last - off;
}

export type DayType = 'INS' | 'HOL' | 'TWD';

export interface CalendarDay {
  day: number;
  type: DayType;
  description: string;
}

export interface Window {
  name: string;
  /** indices into instructionalDays, inclusive */
  first: number;
  last: number;
  /** delivery date (epoch day): the window's last instructional day */
  delivery: number;
}

export interface SchoolCalendar {
  schoolYear: number;
  /** listed weekdays: instructional days, holidays, teacher work days, in date order */
  days: CalendarDay[];
  /** the instructional days, in order (epoch days) */
  instructionalDays: number[];
  /** epoch day -> instructional day index, or -1 */
  indexOf(day: number): number;
  /** opening delivery: the first teacher work day, two days before the first instructional day */
  d0: number;
  /** first instructional day of the spring term */
  springStartIdx: number;
  /** grading periods Q1..Q4, as [first, last] instructional day indices */
  quarters: Array<[number, number]>;
  vendorWindows: { fall: Window; winter: Window; spring: Window };
  iabFall: Window;
  ica: Window;
  iabSpring: Window;
  surveyFall: Window;
  surveySpring: Window;
  screenerFall: Window;
  screenerWinter: Window;
  /** the day on or after which attendance files carry the added column `minutes_missed` */
  minutesColumnFrom: number;
}

export const INSTRUCTIONAL_DAYS = 180;

export function buildCalendar(schoolYear: number): SchoolCalendar {
  const fy = schoolYear - 1; // fall calendar year
  // First instructional day: the first Wednesday on or after August 10.
  const aug10 = ymd(fy, 8, 10);
  const firstDay = aug10 + ((3 - weekday(aug10) + 7) % 7);
  const holidays = new Map<number, string>();
  const addHol = (d: number, name: string) => {
    if (weekday(d) !== 0 && weekday(d) !== 6) holidays.set(d, name);
  };
  addHol(nthWeekday(fy, 9, 1, 1), 'Labor Day');
  let vet = ymd(fy, 11, 11);
  if (weekday(vet) === 6) vet -= 1;
  if (weekday(vet) === 0) vet += 1;
  addHol(vet, 'Veterans Day');
  const thanks = nthWeekday(fy, 11, 4, 4);
  for (let d = thanks - 3; d <= thanks + 1; d++) addHol(d, d === thanks ? 'Thanksgiving Day' : 'Thanksgiving Break');
  // Winter break: two weeks from the Monday on or before December 22.
  const dec22 = ymd(fy, 12, 22);
  const wbStart = dec22 - ((weekday(dec22) - 1 + 7) % 7);
  for (let d = wbStart; d < wbStart + 12; d++) addHol(d, 'Winter Break');
  const teacherDays = new Map<number, string>();
  teacherDays.set(firstDay - 2, 'Teacher Work Day');
  teacherDays.set(firstDay - 1, 'Teacher Work Day');
  const springTwd = wbStart + 14; // Monday after the break
  teacherDays.set(springTwd, 'Teacher Work Day (semester break)');
  addHol(nthWeekday(schoolYear, 1, 1, 3), 'Martin Luther King Jr. Day');
  addHol(nthWeekday(schoolYear, 2, 1, 3), "Presidents' Day");
  // Spring break: the week starting the last Monday of March.
  const sb = nthWeekday(schoolYear, 3, 1, -1);
  for (let d = sb; d < sb + 5; d++) addHol(d, 'Spring Break');
  addHol(nthWeekday(schoolYear, 5, 1, -1), 'Memorial Day');

  const days: CalendarDay[] = [];
  const instructionalDays: number[] = [];
  for (const [d, desc] of [...teacherDays].filter(([d]) => d < firstDay)) days.push({ day: d, type: 'TWD', description: desc });
  let d = firstDay;
  while (instructionalDays.length < INSTRUCTIONAL_DAYS) {
    const wd = weekday(d);
    if (wd !== 0 && wd !== 6) {
      const hol = holidays.get(d);
      const twd = teacherDays.get(d);
      if (hol !== undefined) days.push({ day: d, type: 'HOL', description: hol });
      else if (twd !== undefined) days.push({ day: d, type: 'TWD', description: twd });
      else {
        days.push({ day: d, type: 'INS', description: 'Instructional Day' });
        instructionalDays.push(d);
      }
    }
    d++;
  }
  const idx = new Map<number, number>();
  instructionalDays.forEach((x, i) => idx.set(x, i));
  const indexOf = (day: number) => idx.get(day) ?? -1;
  const firstIdxOnOrAfter = (day: number) => {
    const i = instructionalDays.findIndex((x) => x >= day);
    return i < 0 ? instructionalDays.length - 1 : i;
  };
  const lastIdxOnOrBefore = (day: number) => {
    let r = 0;
    for (let i = 0; i < instructionalDays.length; i++) if ((instructionalDays[i] as number) <= day) r = i;
    return r;
  };
  const win = (name: string, from: number, to: number): Window => {
    const first = firstIdxOnOrAfter(from);
    const last = lastIdxOnOrBefore(to);
    return { name, first, last, delivery: instructionalDays[last] as number };
  };
  const springStartIdx = firstIdxOnOrAfter(springTwd);
  const q1End = 44;
  const s1End = springStartIdx - 1;
  const q3End = springStartIdx + Math.floor((INSTRUCTIONAL_DAYS - springStartIdx) / 2) - 1;
  return {
    schoolYear,
    days,
    instructionalDays,
    indexOf,
    d0: firstDay - 2,
    springStartIdx,
    quarters: [
      [0, q1End],
      [q1End + 1, s1End],
      [springStartIdx, q3End],
      [q3End + 1, INSTRUCTIONAL_DAYS - 1],
    ],
    vendorWindows: {
      fall: win('Fall', ymd(fy, 9, 2), ymd(fy, 9, 26)),
      winter: win('Winter', ymd(schoolYear, 1, 12), ymd(schoolYear, 1, 30)),
      spring: win('Spring', ymd(schoolYear, 4, 27), ymd(schoolYear, 5, 22)),
    },
    iabFall: win('IAB Fall', ymd(fy, 11, 3), ymd(fy, 11, 21)),
    ica: win('ICA', ymd(schoolYear, 2, 2), ymd(schoolYear, 2, 27)),
    iabSpring: win('IAB Spring', ymd(schoolYear, 3, 9), ymd(schoolYear, 3, 27)),
    surveyFall: win('Fall', ymd(fy, 10, 6), ymd(fy, 10, 24)),
    surveySpring: win('Spring', ymd(schoolYear, 3, 2), ymd(schoolYear, 3, 20)),
    screenerFall: win('Fall', ymd(fy, 10, 13), ymd(fy, 10, 31)),
    screenerWinter: win('Winter', ymd(schoolYear, 2, 2), ymd(schoolYear, 2, 20)),
    minutesColumnFrom: ymd(schoolYear, 2, 1),
  };
}

/** Delivery date of a grading period's marks: five instructional days after its end (the last at year end). */
export function marksDeliveryIdx(cal: SchoolCalendar, q: number): number {
  const end = (cal.quarters[q] as [number, number])[1];
  return Math.min(end + 5, cal.instructionalDays.length - 1);
}

/** Date formats the SIS exports use (one per file). */
export type DateFormat = 'iso' | 'mdy' | 'mdy_short';

export function formatDate(day: number, f: DateFormat): string {
  const iso = dayToIso(day);
  if (f === 'iso') return iso;
  const y = iso.slice(0, 4);
  const m = iso.slice(5, 7);
  const dd = iso.slice(8, 10);
  if (f === 'mdy') return `${m}/${dd}/${y}`;
  return `${Number(m)}/${Number(dd)}/${y}`;
}

/** An impossible date (February 30) in the given format, for invalid_date defects. */
export function impossibleDate(year: number, f: DateFormat): string {
  if (f === 'iso') return `${year}-02-30`;
  if (f === 'mdy') return `02/30/${year}`;
  return `2/30/${year}`;
}

/** MMDDYYYY (CAASPP). */
export function mmddyyyy(day: number): string {
  const iso = dayToIso(day);
  return `${iso.slice(5, 7)}${iso.slice(8, 10)}${iso.slice(0, 4)}`;
}
/** MM/DD/YYYY (NWEA, BESS). */
export function mdySlash(day: number): string {
  return formatDate(day, 'mdy');
}
/** M/D/YYYY (i-Ready). */
export function mdyShort(day: number): string {
  return formatDate(day, 'mdy_short');
}
