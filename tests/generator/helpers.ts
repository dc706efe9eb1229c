/**
 * Test helpers for the generator tests: an independent RFC 4180 reader (not the generator's
 * writer), file walking, hashing, and a cached small district per test file.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, statSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { generate, type GenerateOptions } from '../../seeds/generator/generate.ts';

export const SHARED = path.resolve(import.meta.dirname, '../../../shared');
export const HAVE_SHARED = existsSync(path.join(SHARED, 'fixtures'));

export function tmp(prefix: string): string {
  return mkdtempSync(path.join(tmpdir(), `edlake-gen-${prefix}-`));
}

export async function makeDistrict(prefix: string, opts: Partial<GenerateOptions> = {}): Promise<string> {
  const out = path.join(tmp(prefix), 'district');
  await generate({ students: 300, seed: 42, schoolYear: 2026, messiness: 'realistic', out, ...opts });
  return out;
}

export function walk(dir: string): string[] {
  const out: string[] = [];
  const rec = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) rec(p);
      else out.push(p);
    }
  };
  rec(dir);
  return out.sort();
}

export function hashTree(dir: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const f of walk(dir)) m.set(path.relative(dir, f), createHash('sha256').update(readFileSync(f)).digest('hex'));
  return m;
}

/** Decode a delivered file: BOM-aware UTF-8, or latin1/Windows-1252 when asked. */
export function decode(buf: Buffer, encoding: 'utf8' | 'latin1' = 'utf8'): string {
  if (encoding === 'latin1') return buf.toString('latin1');
  const s = buf.toString('utf8');
  return s.charCodeAt(0) === 0xfeff ? s.slice(1) : s;
}

/** RFC 4180 reader: rows of fields; accepts LF or CRLF; quotes with doubled quotes. */
export function parseCsv(text: string, delim = ','): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let i = 0;
  let quoted = false;
  let atStart = true;
  while (i < text.length) {
    const c = text[i] as string;
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
        i++;
        continue;
      }
      field += c;
      i++;
      continue;
    }
    if (c === '"' && field === '') {
      quoted = true;
      atStart = false;
      i++;
      continue;
    }
    if (c === delim) {
      row.push(field);
      field = '';
      atStart = false;
      i++;
      continue;
    }
    if (c === '\r' && text[i + 1] === '\n') {
      i++;
      continue;
    }
    if (c === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      atStart = true;
      i++;
      continue;
    }
    field += c;
    atStart = false;
    i++;
  }
  if (!atStart || field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

export interface Table {
  file: string;
  header: string[];
  rows: string[][];
}

export function readTable(file: string, opts: { delim?: string; encoding?: 'utf8' | 'latin1' } = {}): Table {
  const rows = parseCsv(decode(readFileSync(file), opts.encoding ?? 'utf8'), opts.delim ?? ',');
  const header = rows.shift() ?? [];
  return { file, header, rows };
}

/** Header names compared as the formats doc says: lower case, letters and digits only. */
export function norm(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]/g, '');
}

export function col(t: Table, ...names: string[]): number {
  for (const n of names) {
    const j = t.header.findIndex((h) => norm(h) === norm(n));
    if (j >= 0) return j;
  }
  throw new Error(`${t.file}: no column ${names.join(' / ')} in ${t.header.join(',')}`);
}

export interface Defect {
  source: string;
  file: string;
  row: number | null;
  field: string;
  reason: string;
  detail: string;
}

export function readDefects(out: string): Defect[] {
  const dir = path.join(out, 'truth', 'defects');
  if (!existsSync(dir)) return [];
  const all: Defect[] = [];
  for (const f of readdirSync(dir).sort()) {
    const t = readTable(path.join(dir, f));
    for (const r of t.rows) {
      all.push({ source: r[0] as string, file: r[1] as string, row: r[2] === '' ? null : Number(r[2]), field: r[3] as string, reason: r[4] as string, detail: r[5] as string });
    }
  }
  return all;
}

/** Rows of a file that truth/ lists as defective (file path relative to landing/). */
export function defectRows(defects: Defect[]): Map<string, Set<number>> {
  const m = new Map<string, Set<number>>();
  for (const d of defects) {
    if (d.row === null) continue;
    const s = m.get(d.file) ?? new Set<number>();
    s.add(d.row);
    m.set(d.file, s);
  }
  return m;
}

export function badFiles(defects: Defect[]): Set<string> {
  return new Set(defects.filter((d) => d.row === null).map((d) => d.file));
}

export interface TruthStudent {
  local: string;
  ssid: string;
  row: Record<string, string>;
}

export function readTruthStudents(out: string): TruthStudent[] {
  const t = readTable(path.join(out, 'truth', 'students.csv'));
  return t.rows.map((r) => {
    const row: Record<string, string> = {};
    t.header.forEach((h, j) => (row[h] = r[j] ?? ''));
    return { local: row['local_id'] as string, ssid: row['ssid'] as string, row };
  });
}

export function filesOf(out: string, source: string, nameRe: RegExp): string[] {
  const dir = path.join(out, 'landing', source);
  if (!existsSync(dir)) return [];
  return walk(dir).filter((f) => nameRe.test(path.basename(f)) && statSync(f).size >= 0);
}

export function relLanding(out: string, file: string): string {
  return path.relative(path.join(out, 'landing'), file).split(path.sep).join('/');
}

export function pearson(xs: number[], ys: number[]): number {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = (xs[i] as number) - mx;
    const dy = (ys[i] as number) - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  return sxy / Math.sqrt(sxx * syy);
}
