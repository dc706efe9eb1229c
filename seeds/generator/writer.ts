/**
 * Streaming file writer with deterministic messiness.
 *
 * A file is described by a layout (columns in canonical order, their roles, the natural key) and
 * an identity key (seed, source, file kind, delivery date). From the identity key alone the
 * writer derives the file's style (column order, header spelling, date format, BOM, line ending,
 * encoding) and which rows get which defect; it records every injected defect for truth/.
 * Rows are handed over as arrays of strings in canonical order; the writer buffers them into
 * large chunks and awaits the stream's drain (decision 0101).
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { once } from 'node:events';
import path from 'node:path';
import iconv from 'iconv-lite';
import { Rng, hashKey, u01, h32 } from './rng.ts';
import { type DateFormat, formatDate, impossibleDate } from './calendar.ts';
import type { FileRejectionReason, RowQuarantineReason } from '../../src/quality/reasons.ts';
import type { DUPLICATE_FILE } from '../../src/quality/reasons.ts';

export type Messiness = 'none' | 'low' | 'realistic' | 'high';
export const MESSINESS_LEVELS: readonly Messiness[] = ['none', 'low', 'realistic', 'high'];

export type DefectKind = 'unknown_student' | 'invalid_date' | 'out_of_range' | 'missing_required' | 'ragged_row' | 'conflicting_duplicate';

/** How a date column is written when it is not in the file's (SIS) date format. */
export type DateStyle = 'file' | 'iso' | 'mdy' | 'mdy_short' | 'mmddyyyy' | 'datetime' | 'isoz';

export interface ColumnSpec {
  name: string;
  /** a true alias the header may use instead of the name (district layouts only) */
  alias?: string;
  role?: 'student' | 'ssid' | 'date' | 'score' | 'required';
  dateStyle?: DateStyle;
  min?: number;
  max?: number;
}

export interface Layout {
  source: string;
  kind: string;
  columns: ColumnSpec[];
  delimiter?: string;
  quoteAll?: boolean;
  /** district-defined layout: header spelling variants and column reordering apply */
  district?: boolean;
  /** vendor-native traits (not messiness) */
  nativeBom?: boolean;
  nativeCrlf?: boolean;
  /** column indices of the natural key */
  key?: number[];
  /** column changed in a conflicting duplicate, and values to choose from (numbers: +7) */
  dupField?: number;
  dupValues?: string[];
  defects: DefectKind[];
}

export interface DefectRecord {
  source: string;
  file: string;
  row: number | null;
  field: string;
  reason: RowQuarantineReason | FileRejectionReason | typeof DUPLICATE_FILE;
  detail: string;
}

export interface GenContext {
  seed: number;
  messiness: Messiness;
  landing: string;
  schoolYear: number;
  /** a student ID that is on no roster, for the k-th unknown-student defect */
  unknownLocalId(k: number): string;
  unknownSsid(k: number): string;
  defects: DefectRecord[];
  /** total bytes written (for the benchmark report) */
  bytes: number;
  files: number;
}

const ROW_DEFECT_RATE: Record<Messiness, number> = { none: 0, low: 0.0003, realistic: 0.001, high: 0.004 };
/** chance that a delivery of a district-defined file changes its style */
const STYLE_RATE: Record<Messiness, number> = { none: 0, low: 0.05, realistic: 0.12, high: 0.3 };

export interface FileStyle {
  bom: boolean;
  crlf: boolean;
  encoding: 'utf8' | 'win1252';
  headerStyle: 0 | 1 | 2 | 3;
  order: number[];
  dateFormat: DateFormat;
}

export function styleFor(ctx: GenContext, layout: Layout, identity: string, opts: { win1252?: boolean } = {}): FileStyle {
  const n = layout.columns.length;
  const order = Array.from({ length: n }, (_, i) => i);
  const style: FileStyle = {
    bom: layout.nativeBom ?? false,
    crlf: layout.nativeCrlf ?? false,
    encoding: opts.win1252 && ctx.messiness !== 'none' ? 'win1252' : 'utf8',
    headerStyle: 0,
    order,
    dateFormat: 'iso',
  };
  const rate = STYLE_RATE[ctx.messiness];
  if (rate === 0) return style;
  const r = Rng.of(ctx.seed, 'style', identity);
  if (layout.district) {
    if (r.next() < rate) style.headerStyle = r.pick([1, 2, 3] as const);
    if (r.next() < rate) {
      const shuffled = r.shuffle(order);
      style.order = shuffled;
    }
    const d = r.next();
    if (d < rate * 2) style.dateFormat = d < rate * 1.3 ? 'mdy' : 'mdy_short';
    if (!layout.nativeBom && r.next() < rate) style.bom = true;
    if (!layout.nativeCrlf && r.next() < rate * 1.5) style.crlf = true;
  } else if (layout.source === 'oneroster') {
    if (r.next() < rate) style.crlf = true;
    if (r.next() < rate) style.bom = true;
  }
  return style;
}

function headerName(c: ColumnSpec, style: 0 | 1 | 2 | 3): string {
  const name = c.name;
  switch (style) {
    case 0:
      return name;
    case 1:
      return name
        .split('_')
        .map((w) => (w === 'id' ? 'ID' : w.length > 0 ? (w[0] as string).toUpperCase() + w.slice(1) : w))
        .join(' ');
    case 2:
      return name.toUpperCase();
    case 3:
      return c.alias ?? name.replace(/_([a-z0-9])/g, (_, x: string) => x.toUpperCase());
  }
}

const NEEDS_QUOTE: Record<string, RegExp> = { ',': /[",\n\r]/, '^': /["^\n\r]/ };
export function csvField(v: string, delim: string, quoteAll: boolean): string {
  if (quoteAll) return v.includes('"') ? `"${v.replace(/"/g, '""')}"` : `"${v}"`;
  if (v.length === 0) return v;
  const re = NEEDS_QUOTE[delim];
  if (re ? re.test(v) : v.includes(delim) || v.includes('"') || v.includes('\n') || v.includes('\r')) return `"${v.replace(/"/g, '""')}"`;
  return v;
}

const CHUNK = 1 << 20;

export class CsvFile {
  readonly rel: string;
  readonly style: FileStyle;
  readonly header: string[];
  private readonly abs: string;
  private readonly tmp: string;
  private stream: WriteStream | null = null;
  private parts: string[] = [];
  private size = 0;
  private rowNo = 0;
  private readonly fileKey: number;
  private readonly rate: number;
  private readonly eol: string;
  private readonly delim: string;
  private readonly quoteAll: boolean;
  private unknownCount = 0;
  private wroteBom = false;
  bytes = 0;

  private constructor(
    private readonly ctx: GenContext,
    readonly layout: Layout,
    rel: string,
    identity: string,
    style: FileStyle,
    private readonly recordDefects: boolean,
  ) {
    this.rel = rel;
    this.abs = path.join(ctx.landing, rel);
    this.tmp = `${this.abs}.partial`;
    this.style = style;
    this.header = style.order.map((j) => headerName(layout.columns[j] as ColumnSpec, style.headerStyle));
    this.fileKey = hashKey(ctx.seed, 'defects', identity);
    this.rate = layout.defects.length > 0 ? ROW_DEFECT_RATE[ctx.messiness] : 0;
    this.eol = style.crlf ? '\r\n' : '\n';
    this.delim = layout.delimiter ?? ',';
    this.quoteAll = layout.quoteAll ?? false;
  }

  /**
   * Open a file for writing. `identity` names the file's content (source, kind, date...): the
   * style and the defects derive from it, so writing the same identity to another path gives the
   * same bytes (used for duplicate deliveries, with recordDefects false).
   */
  static async open(ctx: GenContext, layout: Layout, rel: string, identity: string, opts: { win1252?: boolean; recordDefects?: boolean; header?: boolean } = {}): Promise<CsvFile> {
    const f = new CsvFile(ctx, layout, rel, identity, styleFor(ctx, layout, identity, opts), opts.recordDefects ?? true);
    await mkdir(path.dirname(f.abs), { recursive: true });
    f.stream = createWriteStream(f.tmp, { highWaterMark: 1 << 22 });
    if (opts.header !== false) f.line(f.header.map((h) => csvField(h, f.delim, f.quoteAll)).join(f.delim));
    return f;
  }

  /** Format a date for a column written in the file's date format. */
  date(day: number): string {
    return formatDate(day, this.style.dateFormat);
  }

  get rows(): number {
    return this.rowNo;
  }

  private line(s: string): void {
    this.parts.push(s, this.eol);
    this.size += s.length + 2;
  }

  private record(row: number | null, col: number | null, reason: DefectRecord['reason'], detail: string): void {
    if (!this.recordDefects) return;
    const field = col === null ? '' : headerName(this.layout.columns[col] as ColumnSpec, this.style.headerStyle);
    this.ctx.defects.push({ source: this.layout.source, file: this.rel.split(path.sep).join('/'), row, field, reason, detail });
  }

  private serialize(values: string[]): string[] {
    const order = this.style.order;
    const out = new Array<string>(order.length);
    for (let k = 0; k < order.length; k++) out[k] = csvField(values[order[k] as number] ?? '', this.delim, this.quoteAll);
    return out;
  }

  /**
   * Append one data row (values in canonical column order). Returns true when the buffer is full:
   * the caller then awaits `flush()` (keeps the hot loops free of a promise per row).
   */
  row(values: string[]): boolean {
    const rowNo = ++this.rowNo;
    if (this.rate > 0 && u01(this.fileKey, rowNo) < this.rate) {
      this.injectDefect(values, rowNo);
    } else {
      this.line(this.serialize(values).join(this.delim));
    }
    return this.size >= CHUNK;
  }

  /** Append a row and flush when the buffer is full. */
  async add(values: string[]): Promise<void> {
    if (this.row(values)) await this.flush();
  }

  private injectDefect(values: string[], rowNo: number): void {
    const L = this.layout;
    const pick = h32(this.fileKey, rowNo, 7);
    const candidates: Array<{ kind: DefectKind; col: number }> = [];
    L.columns.forEach((c, j) => {
      const v = values[j] ?? '';
      if (L.defects.includes('unknown_student') && (c.role === 'student' || c.role === 'ssid') && v !== '') candidates.push({ kind: 'unknown_student', col: j });
      if (L.defects.includes('invalid_date') && c.role === 'date' && v !== '') candidates.push({ kind: 'invalid_date', col: j });
      if (L.defects.includes('out_of_range') && c.role === 'score' && v !== '' && c.max !== undefined) candidates.push({ kind: 'out_of_range', col: j });
      if (L.defects.includes('missing_required') && (c.role === 'required' || c.role === 'student') && v !== '') candidates.push({ kind: 'missing_required', col: j });
    });
    if (L.defects.includes('ragged_row')) candidates.push({ kind: 'ragged_row', col: -1 });
    if (L.defects.includes('conflicting_duplicate') && L.dupField !== undefined && (values[L.dupField] ?? '') !== '') candidates.push({ kind: 'conflicting_duplicate', col: L.dupField });
    if (candidates.length === 0) {
      this.line(this.serialize(values).join(this.delim));
      return;
    }
    const { kind, col } = candidates[pick % candidates.length] as { kind: DefectKind; col: number };
    const v = values.slice();
    const spec = L.columns[col];
    switch (kind) {
      case 'unknown_student': {
        const k = h32(this.fileKey, rowNo, 11) + this.unknownCount++;
        v[col] = spec?.role === 'ssid' ? this.ctx.unknownSsid(k) : this.ctx.unknownLocalId(k);
        this.record(rowNo, col, 'unknown_student', `${values[col]} replaced by ${v[col]}`);
        break;
      }
      case 'invalid_date': {
        v[col] = badDate(spec?.dateStyle ?? 'file', this.style.dateFormat, this.ctx.schoolYear);
        this.record(rowNo, col, 'invalid_date', v[col] as string);
        break;
      }
      case 'out_of_range': {
        const max = spec?.max as number;
        const min = spec?.min ?? 0;
        const x = max + Math.max(1, Math.round((max - min) * 0.5));
        v[col] = String(x);
        this.record(rowNo, col, 'out_of_range', `${v[col]} outside ${min}..${max}`);
        break;
      }
      case 'missing_required': {
        v[col] = '';
        this.record(rowNo, col, 'missing_required', `was ${values[col]}`);
        break;
      }
      case 'ragged_row': {
        const fields = this.serialize(v);
        fields.pop();
        this.line(fields.join(this.delim));
        this.record(rowNo, null, 'ragged_row', `${fields.length} fields, header has ${this.header.length}`);
        return;
      }
      case 'conflicting_duplicate': {
        this.line(this.serialize(v).join(this.delim));
        const w = v.slice();
        const orig = values[col] ?? '';
        if (L.dupValues) {
          const alt = L.dupValues.filter((x) => x !== orig);
          w[col] = alt[pick % alt.length] as string;
        } else if (/^-?\d+(\.\d+)?$/.test(orig)) {
          w[col] = String(Number(orig) + 7);
        } else {
          w[col] = `${orig}X`;
        }
        const dupRow = ++this.rowNo;
        this.line(this.serialize(w).join(this.delim));
        this.record(rowNo, col, 'conflicting_duplicate', `row ${dupRow} has the same key`);
        this.record(dupRow, col, 'conflicting_duplicate', `row ${rowNo} has the same key`);
        return;
      }
    }
    this.line(this.serialize(v).join(this.delim));
  }

  async flush(): Promise<void> {
    if (this.parts.length === 0 || !this.stream) return;
    let text = this.parts.join('');
    this.parts = [];
    this.size = 0;
    if (!this.wroteBom) {
      this.wroteBom = true;
      if (this.style.bom && this.style.encoding === 'utf8') text = `\uFEFF${text}`;
    }
    const buf = this.style.encoding === 'win1252' ? iconv.encode(text, 'win1252') : Buffer.from(text, 'utf8');
    this.bytes += buf.length;
    if (!this.stream.write(buf)) await once(this.stream, 'drain');
  }

  async close(): Promise<void> {
    // a file that came out without data rows (a tiny district, a quiet night) is what a correct
    // pipeline rejects as header_only: truth says so
    if (this.rowNo === 0) this.record(null, null, 'header_only', 'header line, no data rows');
    await this.flush();
    if (!this.wroteBom) {
      // a file with nothing written at all still gets its BOM
      this.wroteBom = true;
      if (this.style.bom && this.style.encoding === 'utf8' && this.stream) {
        this.stream.write(Buffer.from('\uFEFF', 'utf8'));
        this.bytes += 3;
      }
    }
    const s = this.stream;
    this.stream = null;
    if (s) {
      s.end();
      await once(s, 'finish');
    }
    await rename(this.tmp, this.abs);
    this.ctx.bytes += this.bytes;
    this.ctx.files += 1;
  }
}

function badDate(style: DateStyle, fileFormat: DateFormat, year: number): string {
  switch (style) {
    case 'file':
      return impossibleDate(year, fileFormat);
    case 'iso':
      return `${year}-02-30`;
    case 'mdy':
      return `02/30/${year}`;
    case 'mdy_short':
      return `2/30/${year}`;
    case 'mmddyyyy':
      return `0230${year}`;
    case 'datetime':
      return `${year}-02-30 10:15:00`;
    case 'isoz':
      return `${year}-02-30T10:15:00Z`;
  }
}

/** Write a whole small file at once (JSON, NDJSON, manifests): bytes as given. */
export async function writeWhole(ctx: GenContext, rel: string, data: string | Buffer): Promise<void> {
  const abs = path.join(ctx.landing, rel);
  await mkdir(path.dirname(abs), { recursive: true });
  await writeFile(`${abs}.partial`, data);
  await rename(`${abs}.partial`, abs);
  ctx.bytes += typeof data === 'string' ? Buffer.byteLength(data) : data.length;
  ctx.files += 1;
}

/** Random bytes that are no text in any encoding (NULs and invalid UTF-8), for an `unreadable` file. */
export function garbageBytes(seed: number, identity: string, n: number): Buffer {
  const r = Rng.of(seed, 'garbage', identity);
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = r.nextU32() & 0xff;
  // a zip-like magic number and guaranteed NULs and invalid UTF-8 sequences
  b[0] = 0x50;
  b[1] = 0x4b;
  b[2] = 0x03;
  b[3] = 0x04;
  for (let i = 8; i < n; i += 97) b[i] = 0;
  for (let i = 13; i + 1 < n; i += 101) {
    b[i] = 0xc3;
    b[i + 1] = 0x28;
  }
  return b;
}
