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
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { buildCalendar, dayToIso, isoToDay, marksDeliveryIdx } from './calendar.ts';
import { isoDate } from '../../src/config.ts';
import { District } from './district.ts';
import { buildGen, type Gen, rel } from './gen.ts';
import { MESSINESS_LEVELS, type DefectRecord, type GenContext, type Messiness, garbageBytes, writeWhole } from './writer.ts';
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
  /** run lane 1 in a child process; default: from PARALLEL_FROM students on (output is the same either way) */
  parallel?: boolean;
}

export interface GenerateResult {
  through: string;
  deliveries: number;
  files: number;
  bytes: number;
  defects: number;
  skippedThrough: string | null;
  /** peak resident memory of each generator process, MB */
  peakRssMb: number[];
  /** CPU seconds of each generator process */
  cpuSeconds: number[];
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
    if (!isoDate.safeParse(t).success) throw new GenerateArgumentError(`--through must be a real date as YYYY-MM-DD, got ${JSON.stringify(t)}`);
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
  label: string;
  /** lanes run in parallel processes (decision 0102); file contents do not depend on the lane */
  lane: 0 | 1;
  run: () => Promise<void>;
}

/** Every delivery of the year, in date order (stable within a date). */
function plan(g: Gen, level: Messiness): Task[] {
  const cal = g.cal;
  const days = cal.instructionalDays;
  const tasks: Task[] = [];
  const at = (day: number, label: string, lane: 0 | 1, run: () => Promise<void>) => tasks.push({ day, label, lane, run });
  const d0 = cal.d0;
  at(d0, 'oneroster bulk', 0, () => writeOneRosterBulk(g, d0, 0));
  at(d0, 'sis bulk', 0, () => writeSisBulk(g, d0, 0, true));
  at(d0, 'canvas opening', 1, () => writeCanvasOpening(g, d0));
  at(d0, 'caaspp', 1, () => writeCaaspp(g, d0));
  at(d0, 'edfi bulk', 0, () => writeEdfiBulk(g, d0));
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
      at(day, 'oneroster bulk', 0, () => writeOneRosterBulk(g, day, idx));
      at(day, 'sis bulk', 0, () => writeSisBulk(g, day, idx, false));
    } else {
      at(day, 'sis changes', 0, () => writeSisChanges(g, idx));
      at(day, 'oneroster delta', 0, () => writeOneRosterDelta(g, idx));
    }
    at(day, 'sis daily', 0, () => writeSisDaily(g, idx));
    at(day, 'edfi daily', 0, () => writeEdfiDaily(g, idx));
    const w = weeks.get(day);
    if (w) at(day, 'canvas week', 1, () => writeCanvasWeek(g, w));
    const q = marks.get(day);
    if (q !== undefined) at(day, 'course marks', 1, () => writeMarks(g, q));
    for (const [wname, win] of vendorWins) {
      if (win.delivery !== day) continue;
      at(day, 'nwea_map', 1, () => writeMap(g, wname, win));
      at(day, 'iready', 0, () => writeIready(g, wname, win));
      at(day, 'star', 0, () => writeStar(g, wname, win));
      if (wname === 'Winter' && (level === 'realistic' || level === 'high')) {
        at(day, 'bad file', 1, async () => {
          const r = rel('nwea_map', day, 'AssessmentResults_2.csv');
          await writeWhole(g.ctx, r, garbageBytes(g.d.seed, r, 4096));
          g.ctx.defects.push({ source: 'nwea_map', file: r, row: null, field: '', reason: 'unreadable', detail: 'binary bytes (a truncated zip), not text' });
        });
      }
      if (wname === 'Spring' && level === 'high') {
        at(day, 'bad file', 0, async () => {
          const r = rel('star', day, 'SR_v2_export.csv');
          await writeWhole(g.ctx, r, garbageBytes(g.d.seed, r, 2048));
          g.ctx.defects.push({ source: 'star', file: r, row: null, field: '', reason: 'unreadable', detail: 'binary bytes, not text' });
        });
      }
    }
    if (cal.iabFall.delivery === day) at(day, 'cers', 0, () => writeCers(g, cal.iabFall, 'IAB'));
    if (cal.ica.delivery === day) at(day, 'cers', 0, () => writeCers(g, cal.ica, 'ICA'));
    if (cal.iabSpring.delivery === day) at(day, 'cers', 0, () => writeCers(g, cal.iabSpring, 'IAB'));
    if (cal.surveyFall.delivery === day) at(day, 'survey', 0, () => writeSurvey(g, cal.surveyFall, 'Fall', { headerOnlyExtra: level !== 'none' }));
    if (cal.surveySpring.delivery === day) at(day, 'survey', 0, () => writeSurvey(g, cal.surveySpring, 'Spring'));
    if (cal.screenerFall.delivery === day) at(day, 'screener', 0, () => writeBess(g, cal.screenerFall, 'Fall'));
    if (cal.screenerWinter.delivery === day) at(day, 'screener', 0, () => writeBess(g, cal.screenerWinter, 'Winter'));
    if (dupDays.includes(idx)) {
      // yesterday's attendance file delivered again under another name: identical bytes
      at(day, 'duplicate file', 0, () => writeSisDaily(g, idx - 1, { resendOn: day }));
    }
    if (emptyDays.includes(idx)) {
      at(day, 'bad file', 0, async () => {
        const r = rel('sis', day, 'attendance_correction.csv');
        await writeWhole(g.ctx, r, '');
        g.ctx.defects.push({ source: 'sis', file: r, row: null, field: '', reason: 'empty_file', detail: '0 bytes' });
      });
    }
  }
  // stable sort by day: tasks of one night keep their order
  return tasks.map((t, k) => ({ t, k })).sort((a, b) => a.t.day - b.t.day || a.k - b.k).map((x) => x.t);
}

/** Built once per process: calendar, both districts, writer context. */
export function buildWorld(opts: GenerateOptions): Gen {
  const cal = buildCalendar(opts.schoolYear);
  const ctx: GenContext = {
    seed: opts.seed,
    messiness: opts.messiness,
    landing: path.join(opts.out, 'landing'),
    schoolYear: opts.schoolYear,
    unknownLocalId: () => '',
    unknownSsid: () => '',
    defects: [],
    bytes: 0,
    files: 0,
  };
  const d = new District({ key: 'main', seed: opts.seed, students: opts.students, schoolYear: opts.schoolYear }, cal);
  const edfi = new District({ key: 'edfi', seed: opts.seed, students: Math.max(50, Math.round(opts.students / 10)), schoolYear: opts.schoolYear }, cal);
  ctx.unknownLocalId = (k) => d.unknownLocalId(k);
  ctx.unknownSsid = (k) => d.unknownSsid(k);
  return buildGen(ctx, cal, d, edfi);
}

export interface LaneResult {
  /** ISO delivery date -> defects injected that night in this lane's files */
  defects: Record<string, DefectRecord[]>;
  files: number;
  bytes: number;
  /** milliseconds per task label */
  timings: Record<string, number>;
  maxRssMb: number;
  /** CPU seconds (user + system) of the process that ran the lane, when it finished */
  cpuSeconds: number;
  /** delivery dates this lane wrote */
  days: string[];
}

/** Run one lane's deliveries (or all) with day in (afterDay, throughDay]. */
export async function runLane(g: Gen, level: Messiness, lane: 0 | 1 | 'all', afterDay: number, throughDay: number, log: (m: string) => void = () => {}): Promise<LaneResult> {
  const tasks = plan(g, level).filter((t) => (lane === 'all' || t.lane === lane) && t.day <= throughDay && t.day > afterDay);
  const res: LaneResult = { defects: {}, files: 0, bytes: 0, timings: {}, maxRssMb: 0, cpuSeconds: 0, days: [] };
  const days = new Set<string>();
  let lastLog = Date.now();
  for (const t of tasks) {
    const t0 = performance.now();
    await t.run();
    res.timings[t.label] = (res.timings[t.label] ?? 0) + (performance.now() - t0);
    days.add(dayToIso(t.day));
    if (g.ctx.defects.length > 0) {
      const key = dayToIso(t.day);
      (res.defects[key] ??= []).push(...g.ctx.defects);
      g.ctx.defects = [];
    }
    if (Date.now() - lastLog > 15_000) {
      lastLog = Date.now();
      log(`lane ${lane}: at ${dayToIso(t.day)}, ${g.ctx.files} files, ${(g.ctx.bytes / 1e6).toFixed(0)} MB`);
    }
  }
  res.files = g.ctx.files;
  res.bytes = g.ctx.bytes;
  res.maxRssMb = Math.round(process.resourceUsage().maxRSS / 1024);
  const cpu = process.cpuUsage();
  res.cpuSeconds = Math.round((cpu.user + cpu.system) / 1e5) / 10;
  res.days = [...days];
  return res;
}

/** Lane 1 in a child process (Node with tsx), so that two cores work. */
function forkLane(opts: GenerateOptions, afterDay: number, throughDay: number): Promise<LaneResult> {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(new URL('./lane.ts', import.meta.url)), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    let result: LaneResult | null = null;
    child.on('message', (m) => {
      result = m as LaneResult;
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code === 0 && result) resolve(result);
      else reject(new Error(`generator lane 1 failed (exit code ${code})`));
    });
    const plain: GenerateOptions = { students: opts.students, seed: opts.seed, out: opts.out, schoolYear: opts.schoolYear, messiness: opts.messiness };
    child.send({ opts: plain, afterDay, throughDay, verbose: opts.log !== undefined });
  });
}

/** Parallel lanes from this many students on (below, one process is faster than forking). */
export const PARALLEL_FROM = 20_000;

export async function generate(opts: GenerateOptions): Promise<GenerateResult> {
  const log = opts.log ?? (() => {});
  const t0 = Date.now();
  const previous = await checkOutDir(opts);
  const g = buildWorld(opts);
  const cal = g.cal;
  const lastDay = cal.instructionalDays[cal.instructionalDays.length - 1] as number;
  const through = opts.through ?? dayToIso(lastDay);
  log(`district built: ${g.d.schools.length} schools, ${g.d.sections.length} sections, ${g.d.staff.length} staff (${Date.now() - t0} ms)`);

  await mkdir(g.ctx.landing, { recursive: true });
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
  const done = manifest.completedThrough;
  const throughDay = isoToDay(through);
  const doneDay = done === null ? -Infinity : isoToDay(done);
  const parallel = (opts.parallel ?? opts.students >= PARALLEL_FROM) && throughDay > doneDay;
  const laneP = parallel ? forkLane(opts, doneDay, throughDay) : null;
  await writeTruth(g, opts.out);
  log(`truth written (${Date.now() - t0} ms)`);
  const results: LaneResult[] = [];
  if (laneP) {
    const [r0, r1] = await Promise.all([runLane(g, opts.messiness, 0, doneDay, throughDay, log), laneP]);
    results.push(r0, r1);
  } else {
    results.push(await runLane(g, opts.messiness, 'all', doneDay, throughDay, log));
  }
  // truth/defects/<date>.csv, one per night, in a canonical order (independent of the lanes)
  const byDay = new Map<string, DefectRecord[]>();
  for (const r of results) for (const [k, v] of Object.entries(r.defects)) byDay.set(k, [...(byDay.get(k) ?? []), ...v]);
  let defects = 0;
  for (const [k, v] of [...byDay].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    v.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : (a.row ?? 0) - (b.row ?? 0) || (a.reason < b.reason ? -1 : a.reason > b.reason ? 1 : 0)));
    await writeDefects(opts.out, isoToDay(k), v);
    defects += v.length;
  }
  if (throughDay > doneDay) {
    manifest.completedThrough = through;
    await writeManifest();
  }
  const timings: Record<string, number> = {};
  for (const r of results) for (const [k, v] of Object.entries(r.timings)) timings[k] = (timings[k] ?? 0) + v;
  const files = results.reduce((a, r) => a + r.files, 0);
  const bytes = results.reduce((a, r) => a + r.bytes, 0);
  const deliveries = new Set<string>(results.flatMap((r) => r.days));
  log(`time per task (s): ${Object.entries(timings).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${(v / 1000).toFixed(1)}`).join(', ')}`);
  const rss = results.map((r) => r.maxRssMb);
  const cpu = results.map((r) => r.cpuSeconds);
  rss[0] = Math.round(process.resourceUsage().maxRSS / 1024);
  const c0 = process.cpuUsage();
  cpu[0] = Math.round((c0.user + c0.system) / 1e5) / 10;
  log(`done: ${files} files, ${(bytes / 1e6).toFixed(1)} MB, ${defects} defects, peak RSS per process ${rss.join(' + ')} MB (${Date.now() - t0} ms)`);
  return {
    through,
    deliveries: deliveries.size,
    files,
    bytes,
    defects,
    skippedThrough: done !== null && throughDay <= doneDay ? done : null,
    peakRssMb: rss,
    cpuSeconds: cpu,
  };
}
