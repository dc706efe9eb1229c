/**
 * Every defect truth/ lists is really in its file, checked independently: open the file, find the
 * row and the field, and test the value against the reason. Also: no two landing files have the
 * same bytes unless truth lists them as a duplicate delivery; counts stay few and countable.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { type Defect, type Table, makeDistrict, readDefects, readTable, readTruthStudents, walk, relLanding, norm } from './helpers.ts';
import { FILE_REJECTION_REASONS, ROW_QUARANTINE_REASONS, DUPLICATE_FILE } from '../../src/quality/reasons.ts';

let out = '';
let defects: Defect[] = [];
let known = new Set<string>();

beforeAll(async () => {
  out = await makeDistrict('defects', { students: 400, seed: 777, messiness: 'high' });
  defects = readDefects(out);
  known = new Set(readTruthStudents(out).flatMap((s) => [s.local, s.ssid]));
}, 300_000);

/** Documented value ranges (docs/formats) of the scored fields, by normalised header name. */
const RANGES: Record<string, [number, number]> = {
  testritscore: [100, 350],
  testpercentile: [1, 99],
  overallscalescore: [100, 800],
  scaledscore: [0, 1400],
  scalescore: [2100, 3000],
  minutesmissed: [0, 420],
  percent: [0, 100],
  durationdays: [0, 20],
  earnedpoints: [0, 100],
  beri: [20, 120],
};
for (const s of ['bel', 'saf', 'ewb', 'eng']) for (const n of [1, 2, 3, 4]) RANGES[`${s}${n}`] = [1, 5];

/** Natural keys per file layout (docs/formats), by normalised header names. */
const KEYS: Array<[RegExp, string[]]> = [
  [/^sis\/.*\/attendance\.csv$/, ['studentid', 'schoolcode', 'attendancedate|date']],
  [/^sis\/.*\/course_marks\.csv$/, ['studentid', 'sectionid', 'gradingperiod']],
  [/^canvas\/.*\/submissions\.csv$/, ['assignmentsourcesystemidentifier', 'lmsusersourcesystemidentifier']],
  [/^nwea_map\//, ['studentid', 'subject', 'termname']],
  [/^iready\//, ['studentid', 'completiondate']],
  [/^star\//, ['assessmentid']],
  [/^caaspp\//, ['ssid', 'recordtype']],
];

/** A date in any format the layouts use, and a real calendar date. */
function isRealDate(v: string): boolean {
  let y: number, m: number, d: number;
  let mm: RegExpExecArray | null;
  if ((mm = /^(\d{4})-(\d{2})-(\d{2})([ T].*)?$/.exec(v))) [y, m, d] = [Number(mm[1]), Number(mm[2]), Number(mm[3])];
  else if ((mm = /^(\d{1,2})\/(\d{1,2})\/(\d{4})( .*)?$/.exec(v))) [m, d, y] = [Number(mm[1]), Number(mm[2]), Number(mm[3])];
  else if ((mm = /^(\d{2})(\d{2})(\d{4})$/.exec(v))) [m, d, y] = [Number(mm[1]), Number(mm[2]), Number(mm[3])];
  else return false;
  const t = new Date(Date.UTC(y, m - 1, d));
  return t.getUTCFullYear() === y && t.getUTCMonth() === m - 1 && t.getUTCDate() === d;
}

const tables = new Map<string, Table>();
function table(rel: string): Table {
  let t = tables.get(rel);
  if (!t) {
    const file = path.join(out, 'landing', rel);
    t = readTable(file, { delim: rel.startsWith('caaspp/') ? '^' : ',', encoding: rel.startsWith('screener/') ? 'latin1' : 'utf8' });
    tables.set(rel, t);
  }
  return t;
}

describe('injected defects (truth/defects)', () => {
  it('lists defects of every kind with the shared reason codes, few and countable', () => {
    expect(defects.length).toBeGreaterThan(20);
    expect(defects.length).toBeLessThan(3000);
    const reasons = new Set(defects.map((d) => d.reason));
    for (const r of defects.map((d) => d.reason)) {
      expect(Object.hasOwn(FILE_REJECTION_REASONS, r) || Object.hasOwn(ROW_QUARANTINE_REASONS, r) || r === DUPLICATE_FILE, r).toBe(true);
    }
    for (const r of ['unknown_student', 'invalid_date', 'out_of_range', 'missing_required', 'ragged_row', 'conflicting_duplicate', 'empty_file', 'header_only', 'unreadable', 'duplicate_file']) {
      expect(reasons.has(r), r).toBe(true);
    }
  });

  it('every listed defect is really in its file', () => {
    const problems: string[] = [];
    const pairs = new Map<string, number[]>();
    for (const d of defects) {
      const file = path.join(out, 'landing', d.file);
      const where = `${d.file} row ${d.row} ${d.field} ${d.reason}`;
      if (d.row === null) {
        const buf = readFileSync(file);
        if (d.reason === 'empty_file' && buf.length !== 0) problems.push(where);
        if (d.reason === 'header_only') {
          const lines = buf.toString('utf8').split(/\r?\n/).filter((l) => l !== '');
          if (lines.length !== 1) problems.push(where);
        }
        if (d.reason === 'unreadable') {
          const bad = buf.includes(0) || Buffer.from(buf.toString('utf8'), 'utf8').compare(buf) !== 0;
          if (!bad) problems.push(where);
        }
        if (d.reason === 'duplicate_file') {
          const orig = readFileSync(path.join(out, 'landing', d.detail));
          if (!orig.equals(buf) || d.detail === d.file) problems.push(where);
        }
        continue;
      }
      const t = table(d.file);
      const r = t.rows[d.row - 1];
      if (!r) {
        problems.push(`${where}: no such row`);
        continue;
      }
      if (d.reason === 'ragged_row') {
        if (r.length === t.header.length) problems.push(`${where}: row has ${r.length} fields like the header`);
        continue;
      }
      if (r.length !== t.header.length) {
        problems.push(`${where}: unexpectedly ragged`);
        continue;
      }
      const j = t.header.indexOf(d.field);
      if (j < 0) {
        problems.push(`${where}: no column ${d.field}`);
        continue;
      }
      const v = r[j] as string;
      switch (d.reason) {
        case 'unknown_student':
          if (v === '' || known.has(v)) problems.push(`${where}: ${v} is a known student`);
          break;
        case 'invalid_date':
          if (isRealDate(v)) problems.push(`${where}: ${v} is a real date`);
          break;
        case 'out_of_range': {
          const range = RANGES[norm(d.field)];
          const x = Number(v);
          if (!range) problems.push(`${where}: no documented range`);
          else if (!(Number.isFinite(x) && (x < range[0] || x > range[1]))) problems.push(`${where}: ${v} within ${range}`);
          break;
        }
        case 'missing_required':
          if (v !== '') problems.push(`${where}: value ${v}`);
          break;
        case 'conflicting_duplicate': {
          const k = `${d.file}|${d.field}`;
          pairs.set(k, [...(pairs.get(k) ?? []), d.row]);
          break;
        }
        default:
          problems.push(`${where}: unexpected reason`);
      }
    }
    // conflicting duplicates: listed in pairs that share the natural key and differ in the field
    for (const [k, rows] of pairs) {
      const [file, field] = k.split('|') as [string, string];
      const t = table(file);
      const keyDef = KEYS.find(([re]) => re.test(file));
      if (!keyDef) {
        problems.push(`${file}: no documented key`);
        continue;
      }
      const keyCols = keyDef[1].map((alts) => t.header.findIndex((h) => alts.split('|').includes(norm(h))));
      const j = t.header.indexOf(field);
      const sorted = [...rows].sort((a, b) => a - b);
      for (let x = 0; x + 1 < sorted.length; x += 2) {
        const a = t.rows[(sorted[x] as number) - 1] as string[];
        const b = t.rows[(sorted[x + 1] as number) - 1] as string[];
        const sameKey = keyCols.every((c) => c >= 0 && a[c] === b[c]);
        if (!sameKey || a[j] === b[j]) problems.push(`${file} rows ${sorted[x]},${sorted[x + 1]}: not a conflicting duplicate`);
      }
      if (sorted.length % 2 !== 0) problems.push(`${file}: odd number of conflicting duplicate rows`);
    }
    expect(problems).toEqual([]);
  });

  it('no two landing files have identical bytes unless truth lists the second as a duplicate delivery', () => {
    const seen = new Map<string, string>();
    const dupes = new Set(defects.filter((d) => d.reason === 'duplicate_file').map((d) => d.file));
    const unexpected: string[] = [];
    for (const f of walk(path.join(out, 'landing'))) {
      if (statSync(f).size === 0) continue;
      const h = createHash('sha256').update(readFileSync(f)).digest('hex');
      const rel = relLanding(out, f);
      const prev = seen.get(h);
      if (prev !== undefined) {
        if (!dupes.has(rel) && !dupes.has(prev)) unexpected.push(`${rel} = ${prev}`);
      } else seen.set(h, rel);
    }
    expect(unexpected).toEqual([]);
  });

  it('no header-only or empty files other than those truth lists', () => {
    const listed = new Set(defects.filter((d) => d.row === null).map((d) => d.file));
    const unexpected: string[] = [];
    for (const f of walk(path.join(out, 'landing'))) {
      const rel = relLanding(out, f);
      if (listed.has(rel)) continue;
      const text = readFileSync(f).toString('latin1');
      const lines = text.split(/\r?\n/).filter((l) => l !== '');
      if (lines.length < 2 && !rel.endsWith('.ndjson')) unexpected.push(rel);
      if (rel.endsWith('.ndjson') && lines.length < 1) unexpected.push(rel);
    }
    expect(unexpected).toEqual([]);
  });

  it('a district generated with messiness none has no defects and clean files', async () => {
    const clean = await makeDistrict('clean', { students: 120, seed: 5, messiness: 'none', through: '2025-10-31' });
    expect(readDefects(clean)).toEqual([]);
    for (const f of walk(path.join(clean, 'landing'))) {
      const buf = readFileSync(f);
      expect(buf.length, f).toBeGreaterThan(0);
      // no BOM outside the layouts whose vendors write one (i-Ready, Canvas UDM)
      if (!/\/(iready|canvas)\//.test(f)) expect(buf[0] === 0xef && buf[1] === 0xbb, f).toBe(false);
    }
  }, 120_000);
});
