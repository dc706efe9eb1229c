/**
 * `edlake generate`: the sample-district generator.
 *
 * Writes DIR/landing/<source>/<delivery date>/<files> and DIR/truth/, deterministically from
 * (seed, students, school year, messiness). Deliveries are produced night by night in date order;
 * every file's content derives only from the seed and the file's identity, so a later --through
 * only adds the new nights' files (decision 0100). DIR/generator.json records the arguments and
 * the last completed night.
 */
import { mkdir, readdir, readFile, stat, writeFile, rename } from 'node:fs/promises';
import path from 'node:path';
import { buildCalendar, dayToIso, isoToDay, marksDeliveryIdx } from './calendar.ts';
import { District } from './district.ts';
import { buildGen, type Gen, rel } from './gen.ts';
import { MESSINESS_LEVELS, type GenContext, type Messiness, garbageBytes, writeWhole } from './writer.ts';
import { writeTruth, writeDefects } from './truth.ts';
import { writeOneRosterBulk, writeOneRosterDelta } from './sources/oneroster.ts';
import { writeSisBulk, writeSisChanges, writeSisDaily, writeMarks } from './sources/sis.ts';
import { canvasWeeks, writeCanvasOpening, writeCanvasWeek } from './sources/canvas.ts';
import { writeCaaspp, writeCers, writeIready, writeMap, writeStar } from './sources/assessments.ts';
import { writeBess, writeSurvey } from './sources/survey.ts';
import { writeEdfiBulk, writeEdfiDaily } from './sources/edfi.ts';
import type { WindowName } from './model.ts';

export const GENERATOR_ID = 'edlake-generate';
/** Bump when a layout or the generation model changes: an older folder is then refused. */
export const FORMAT_VERSION = 1;
export const MAX_STUDENTS = 5_000_000;

export interface GenerateOptions {
  students: number;
  seed: number;
  out: string;
  schoolYear: number;
  /** ISO date; undefined = the last instructional day */
  through?: string;
  messiness: Messiness;
  log?: (msg: string) => void;
}

export interface GenerateResult {
  through: string;
  deliveries: number;
  files: number;
  bytes: number;
  defects: number;
  skippedThrough: string | null;
}

export interface Manifest {
  generator: string;
  formatVersion: number;
  seed: number;
  students: number;
  schoolYear: number;
  messiness: Messiness;
  completedThrough: string | null;
}

/** A bad argument: the message names it. Thrown before anything is written. */
export class GenerateArgumentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GenerateArgumentError';
  }
}

function wholeNumber(name: string, raw: string | number | undefined, min: number, max: number): number {
  if (raw === undefined || raw === '') throw new GenerateArgumentError(`${name} is required`);
  const s = String(raw).trim();
  if (!/^-?\d+$/.test(s)) throw new GenerateArgumentError(`${name} must be a whole number, got ${JSON.stringify(raw)}`);
  const n = Number(s);
  if (n < min || n > max) throw new GenerateArgumentError(`${name} must be between ${min} and ${max}, got ${s}`);
  return n;
}

/** Parse and check the command's raw arguments (strings from the command line). */
export function parseArgs(raw: { students?: string; seed?: string; out?: string; schoolYear?: string; through?: string; messiness?: string }): GenerateOptions {
  const students = wholeNumber('--students', raw.students, 1, MAX_STUDENTS);
  const seed = wholeNumber('--seed', raw.seed, 0, 4_294_967_295);
  if (!raw.out || raw.out.trim() === '') throw new GenerateArgumentError('--out is required (the folder to write the district into)');
  const schoolYear = wholeNumber('--school-year', raw.schoolYear ?? '2026', 2000, 2100);
  const messiness = (raw.messiness ?? 'realistic') as Messiness;
  if (!MESSINESS_LEVELS.includes(messiness)) throw new GenerateArgumentError(`--messiness must be one of ${MESSINESS_LEVELS.join(', ')}, got ${JSON.stringify(raw.messiness)}`);
  const opts: GenerateOptions = { students, seed, out: raw.out, schoolYear, messiness };
  if (raw.through !== undefined) {
    const t = raw.through;
    if (!/^\d{4}-\d{2}-\d{2}$/.test(t) || dayToIso(isoToDay(t)) !== t) throw new GenerateArgumentError(`--through must be a real date as YYYY-MM-DD, got ${JSON.stringify(t)}`);
    const lo = `${schoolYear - 1}-07-01`;
    const hi = `${schoolYear}-06-30`;
    if (t < lo || t > hi) throw new GenerateArgumentError(`--through must fall within school year ${schoolYear} (${lo} to ${hi}), got ${t}`);
    opts.through = t;
  }
  return opts;
}

/** Check the output folder: absent, empty, or a generated district with the same arguments. */
export async function checkOutDir(opts: GenerateOptions): Promise<Manifest | null> {
  let st;
  try {
    st = await stat(opts.out);
  } catch {
    return null;
  }
  if (!st.isDirectory()) throw new GenerateArgumentError(`--out ${opts.out} exists and is not a folder`);
  const entries = await readdir(opts.out);
  if (entries.length === 0) return null;
  let m: Manifest;
  try {
    m = JSON.parse(await readFile(path.join(opts.out, 'generator.json'), 'utf8')) as Manifest;
  } catch {
    throw new GenerateArgumentError(`--out ${opts.out} already holds files that are not an edlake generated district (no readable generator.json); choose an empty or new folder`);
  }
  if (m.generator !== GENERATOR_ID) throw new GenerateArgumentError(`--out ${opts.out}: generator.json was not written by edlake generate`);
  const diffs: string[] = [];
  if (m.formatVersion !== FORMAT_VERSION) diffs.push(`format version ${m.formatVersion} (this generator writes ${FORMAT_VERSION})`);
  if (m.seed !== opts.seed) diffs.push(`--seed ${m.seed}`);
  if (m.students !== opts.students) diffs.push(`--students ${m.students}`);
  if (m.schoolYear !== opts.schoolYear) diffs.push(`--school-year ${m.schoolYear}`);
  if (m.messiness !== opts.messiness) diffs.push(`--messiness ${m.messiness}`);
  if (diffs.length > 0) throw new GenerateArgumentError(`--out ${opts.out} holds a district generated with other arguments (${diffs.join(', ')}); use the same arguments or another folder`);
  return m;
}

interface Task {
  day: number;
  run: () => Promise<void>;
}

/** Every delivery of the year, in date order (stable within a date). */
function plan(g: Gen, level: Messiness): Task[] {
  const cal = g.cal;
  const days = cal.instructionalDays;
  const tasks: Task[] = [];
  const at = (day: number, run: () => Promise<void>) => tasks.push({ day, run });
  const d0 = cal.d0;
  at(d0, () => writeOneRosterBulk(g, d0, 0));
  at(d0, () => writeSisBulk(g, d0, 0, true));
  at(d0, () => writeCanvasOpening(g, d0));
  at(d0, () => writeCaaspp(g, d0));
  at(d0, () => writeEdfiBulk(g, d0));
  const weeks = new Map<number, ReturnType<typeof canvasWeeks>[number]>();
  for (const w of canvasWeeks(g)) weeks.set(w.delivery, w);
  const marks = new Map<number, number>();
  for (let q = 0; q < 4; q++) marks.set(days[marksDeliveryIdx(cal, q)] as number, q);
  const vendorWins: Array<[WindowName, typeof cal.vendorWindows.fall]> = [
    ['Fall', cal.vendorWindows.fall],
    ['Winter', cal.vendorWindows.winter],
    ['Spring', cal.vendorWindows.spring],
  ];
  const dupDays = level === 'none' ? [] : level === 'high' ? [1, 60, 120] : [1];
  const emptyDays = level === 'realistic' ? [30] : level === 'high' ? [30, 90] : [];
  for (let idx = 0; idx < days.length; idx++) {
    const day = days[idx] as number;
    if (idx === cal.springStartIdx) {
      at(day, () => writeOneRosterBulk(g, day, idx));
      at(day, () => writeSisBulk(g, day, idx, false));
    } else {
      at(day, () => writeSisChanges(g, idx));
      at(day, () => writeOneRosterDelta(g, idx));
    }
    at(day, () => writeSisDaily(g, idx));
    at(day, () => writeEdfiDaily(g, idx));
    const w = weeks.get(day);
    if (w) at(day, () => writeCanvasWeek(g, w));
    const q = marks.get(day);
    if (q !== undefined) at(day, () => writeMarks(g, q));
    for (const [wname, win] of vendorWins) {
      if (win.delivery !== day) continue;
      at(day, () => writeMap(g, wname, win));
      at(day, () => writeIready(g, wname, win));
      at(day, () => writeStar(g, wname, win));
      if (wname === 'Winter' && (level === 'realistic' || level === 'high')) {
        at(day, async () => {
          const r = rel('nwea_map', day, 'AssessmentResults_2.csv');
          await writeWhole(g.ctx, r, garbageBytes(g.d.seed, r, 4096));
          g.ctx.defects.push({ source: 'nwea_map', file: r, row: null, field: '', reason: 'unreadable', detail: 'binary bytes (a truncated zip), not text' });
        });
      }
      if (wname === 'Spring' && level === 'high') {
        at(day, async () => {
          const r = rel('star', day, 'SR_v2_export.csv');
          await writeWhole(g.ctx, r, garbageBytes(g.d.seed, r, 2048));
          g.ctx.defects.push({ source: 'star', file: r, row: null, field: '', reason: 'unreadable', detail: 'binary bytes, not text' });
        });
      }
    }
    if (cal.iabFall.delivery === day) at(day, () => writeCers(g, cal.iabFall, 'IAB'));
    if (cal.ica.delivery === day) at(day, () => writeCers(g, cal.ica, 'ICA'));
    if (cal.iabSpring.delivery === day) at(day, () => writeCers(g, cal.iabSpring, 'IAB'));
    if (cal.surveyFall.delivery === day) at(day, () => writeSurvey(g, cal.surveyFall, 'Fall', { headerOnlyExtra: level !== 'none' }));
    if (cal.surveySpring.delivery === day) at(day, () => writeSurvey(g, cal.surveySpring, 'Spring'));
    if (cal.screenerFall.delivery === day) at(day, () => writeBess(g, cal.screenerFall, 'Fall'));
    if (cal.screenerWinter.delivery === day) at(day, () => writeBess(g, cal.screenerWinter, 'Winter'));
    if (dupDays.includes(idx)) {
      // yesterday's attendance file delivered again under another name: identical bytes
      at(day, () => writeSisDaily(g, idx - 1, { resendOn: day }));
    }
    if (emptyDays.includes(idx)) {
      at(day, async () => {
        const r = rel('sis', day, 'attendance_correction.csv');
        await writeWhole(g.ctx, r, '');
        g.ctx.defects.push({ source: 'sis', file: r, row: null, field: '', reason: 'empty_file', detail: '0 bytes' });
      });
    }
  }
  // stable sort by day: tasks of one night keep their order
  return tasks.map((t, k) => ({ t, k })).sort((a, b) => a.t.day - b.t.day || a.k - b.k).map((x) => x.t);
}

export async function generate(opts: GenerateOptions): Promise<GenerateResult> {
  const log = opts.log ?? (() => {});
  const cal = buildCalendar(opts.schoolYear);
  const lastDay = cal.instructionalDays[cal.instructionalDays.length - 1] as number;
  const through = opts.through ?? dayToIso(lastDay);
  const previous = await checkOutDir(opts);
  const landing = path.join(opts.out, 'landing');
  const ctx: GenContext = {
    seed: opts.seed,
    messiness: opts.messiness,
    landing,
    schoolYear: opts.schoolYear,
    unknownLocalId: () => '',
    unknownSsid: () => '',
    defects: [],
    bytes: 0,
    files: 0,
  };
  const t0 = Date.now();
  const d = new District({ key: 'main', seed: opts.seed, students: opts.students, schoolYear: opts.schoolYear }, cal);
  const edfi = new District({ key: 'edfi', seed: opts.seed, students: Math.max(50, Math.round(opts.students / 10)), schoolYear: opts.schoolYear }, cal);
  ctx.unknownLocalId = (k) => d.unknownLocalId(k);
  ctx.unknownSsid = (k) => d.unknownSsid(k);
  const g = buildGen(ctx, cal, d, edfi);
  log(`district built: ${d.schools.length} schools, ${d.sections.length} sections, ${d.staff.length} staff (${Date.now() - t0} ms)`);

  await mkdir(landing, { recursive: true });
  const manifest: Manifest = {
    generator: GENERATOR_ID,
    formatVersion: FORMAT_VERSION,
    seed: opts.seed,
    students: opts.students,
    schoolYear: opts.schoolYear,
    messiness: opts.messiness,
    completedThrough: previous?.completedThrough ?? null,
  };
  const writeManifest = async () => {
    const f = path.join(opts.out, 'generator.json');
    await writeFile(`${f}.partial`, `${JSON.stringify(manifest, null, 2)}\n`);
    await rename(`${f}.partial`, f);
  };
  await writeManifest();
  await writeTruth(g, opts.out);
  log(`truth written (${Date.now() - t0} ms)`);

  const done = manifest.completedThrough;
  const throughDay = isoToDay(through);
  const doneDay = done === null ? -Infinity : isoToDay(done);
  const tasks = plan(g, opts.messiness).filter((t) => t.day <= throughDay && t.day > doneDay);
  let deliveries = 0;
  let defects = 0;
  let curDay: number | null = null;
  const finishDay = async (day: number) => {
    await writeDefects(opts.out, day, ctx.defects);
    defects += ctx.defects.length;
    ctx.defects = [];
    deliveries++;
    manifest.completedThrough = dayToIso(day);
    await writeManifest();
  };
  for (const t of tasks) {
    if (curDay !== null && t.day !== curDay) {
      await finishDay(curDay);
      if (deliveries % 20 === 0) log(`through ${dayToIso(curDay)}: ${ctx.files} files, ${(ctx.bytes / 1e6).toFixed(0)} MB (${Date.now() - t0} ms)`);
    }
    curDay = t.day;
    await t.run();
  }
  if (curDay !== null) await finishDay(curDay);
  if (done === null || throughDay > doneDay) {
    manifest.completedThrough = through > (manifest.completedThrough ?? '') ? through : manifest.completedThrough;
    await writeManifest();
  }
  log(`done: ${deliveries} delivery nights, ${ctx.files} files, ${(ctx.bytes / 1e6).toFixed(1)} MB, ${defects} defects (${Date.now() - t0} ms)`);
  return {
    through,
    deliveries,
    files: ctx.files,
    bytes: ctx.bytes,
    defects,
    skippedThrough: done !== null && throughDay <= doneDay ? done : null,
  };
}
