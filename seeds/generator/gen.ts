/**
 * What every source writer shares: the calendar, both districts, the writer context, and
 * per-day enrolment events. Also small helpers to build vendor layouts from real header lines.
 */
import { type SchoolCalendar, dayToIso } from './calendar.ts';
import { District, type Section } from './district.ts';
import type { ColumnSpec, DefectKind, GenContext, Layout } from './writer.ts';

export interface Gen {
  ctx: GenContext;
  cal: SchoolCalendar;
  d: District;
  edfi: District;
  /** per instructional day: students entering, leaving (last day), transferring (first day at the new school) */
  entrants: number[][];
  leavers: number[][];
  transfers: number[][];
  /** daily absence multiplier from the homeroom / ELA teacher, at the first and the transfer school */
  attEff: Float32Array;
  attEffTr: Float32Array;
}

export function buildGen(ctx: GenContext, cal: SchoolCalendar, d: District, edfi: District): Gen {
  const nDays = cal.instructionalDays.length;
  const mk = () => Array.from({ length: nDays }, () => [] as number[]);
  const entrants = mk();
  const leavers = mk();
  const transfers = mk();
  const attEff = new Float32Array(d.n);
  const attEffTr = new Float32Array(d.n);
  for (let i = 0; i < d.n; i++) {
    const e = d.entry[i] as number;
    if (e > 0) (entrants[e] as number[]).push(i);
    const x = d.exit[i] as number;
    if (x >= 0) (leavers[x] as number[]).push(i);
    const t = d.trDay[i] as number;
    if (t >= 0) (transfers[t] as number[]).push(i);
    const s0 = d.sectionAt(i, d.school[i] as number, 0);
    attEff[i] = s0 >= 0 ? (d.sections[s0] as Section).attendanceEffect : 1;
    if (t >= 0) {
      const s1 = d.sectionAt(i, d.trSchool[i] as number, 0);
      attEffTr[i] = s1 >= 0 ? (d.sections[s1] as Section).attendanceEffect : 1;
    }
  }
  return { ctx, cal, d, edfi, entrants, leavers, transfers, attEff, attEffTr };
}

/** Landing-relative path of a file: <source>/<delivery date>/<name>. */
export function rel(source: string, day: number, name: string): string {
  return `${source}/${dayToIso(day)}/${name}`;
}

/** Identity of a file's content: the key from which its style and defects derive. */
export function identity(source: string, kind: string, day: number, extra = ''): string {
  return `${source}|${kind}|${dayToIso(day)}${extra ? `|${extra}` : ''}`;
}

/** A layout from a vendor's exact header line, with roles for some columns. */
export function vendorLayout(
  source: string,
  kind: string,
  header: readonly string[],
  roles: Record<string, Partial<ColumnSpec>>,
  opts: { defects: DefectKind[]; key?: string[]; dupField?: string; delimiter?: string; quoteAll?: boolean; nativeBom?: boolean; nativeCrlf?: boolean },
): Layout {
  for (const name of Object.keys(roles)) if (!header.includes(name)) throw new Error(`internal: ${kind} has no column ${name}`);
  const layout: Layout = {
    source,
    kind,
    columns: header.map((name) => ({ name, ...(roles[name] ?? {}) })),
    defects: opts.defects,
  };
  if (opts.delimiter) layout.delimiter = opts.delimiter;
  if (opts.quoteAll) layout.quoteAll = true;
  if (opts.nativeBom) layout.nativeBom = true;
  if (opts.nativeCrlf) layout.nativeCrlf = true;
  if (opts.key) layout.key = opts.key.map((k) => header.indexOf(k));
  if (opts.dupField) layout.dupField = header.indexOf(opts.dupField);
  return layout;
}

/** Turns a name -> value record into a row in a layout's canonical order. */
export class RowMaker {
  private readonly index: Record<string, number> = Object.create(null) as Record<string, number>;
  private readonly empty: string[];
  readonly width: number;
  constructor(layout: Layout) {
    layout.columns.forEach((c, j) => (this.index[c.name] = j));
    this.width = layout.columns.length;
    this.empty = new Array<string>(this.width).fill('');
  }
  make(values: Record<string, string | number | undefined>): string[] {
    const row = this.empty.slice();
    for (const k in values) {
      const j = this.index[k];
      if (j === undefined) throw new Error(`internal: no column ${k}`);
      const v = values[k];
      if (v !== undefined) row[j] = typeof v === 'string' ? v : String(v);
    }
    return row;
  }
}

export function pad2(n: number): string {
  return String(n).padStart(2, '0');
}

export function clamp(x: number, lo: number, hi: number): number {
  return x < lo ? lo : x > hi ? hi : x;
}

export function logistic(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

/** Login / e-mail local part: first.last + last three characters of the ID, ASCII only. */
export function loginName(first: string, last: string, id: string): string {
  return `${first}.${last}`
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9.]/g, '')
    .concat(id.slice(-3));
}
