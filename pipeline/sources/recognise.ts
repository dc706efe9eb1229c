/**
 * Recognising a delivered file's layout from its header (CSV), root element (XML) or first
 * object's keys (NDJSON), and resolving the layout's logical columns to the file's columns.
 */
import { normalizeHeader } from '../text.ts';
import type { CsvLayout, Layout, NdjsonLayout, SourceDefinition, XmlLayout } from './types.ts';

export interface Recognised {
  layout: Layout;
  /** Logical column → the file's column (CSV header name as delivered) or JSON path(s). */
  columns: Record<string, string[]>;
}

/** Resolve a CSV layout's logical columns against a header; undefined when an identifying column is missing. */
export function resolveCsv(layout: CsvLayout, header: readonly string[]): Recognised | undefined {
  const byNorm = new Map<string, string>();
  for (const h of header) {
    const n = normalizeHeader(h);
    if (n !== '' && !byNorm.has(n)) byNorm.set(n, h);
  }
  const columns: Record<string, string[]> = {};
  for (const [logical, aliases] of Object.entries(layout.columns)) {
    for (const a of [logical, ...aliases]) {
      const hit = byNorm.get(normalizeHeader(a));
      if (hit !== undefined) {
        columns[logical] = [hit];
        break;
      }
    }
  }
  if (!layout.identify.every((c) => columns[c] !== undefined)) return undefined;
  return { layout, columns };
}

function jsonColumns(layout: Layout): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [logical, paths] of Object.entries(layout.columns)) out[logical] = [...paths];
  return out;
}

export function recogniseCsv(source: SourceDefinition, header: readonly string[], delimiter: string): Recognised | undefined {
  let best: Recognised | undefined;
  let bestScore = -1;
  for (const layout of source.layouts) {
    if (layout.format !== 'csv' || layout.delimiter !== delimiter) continue;
    const r = resolveCsv(layout, header);
    if (!r) continue;
    const score = layout.identify.length * 1000 + Object.keys(r.columns).length;
    if (score > bestScore) {
      best = r;
      bestScore = score;
    }
  }
  return best;
}

export function recogniseNdjson(source: SourceDefinition, firstObject: Record<string, unknown>): Recognised | undefined {
  const keys = new Set(Object.keys(firstObject).map(normalizeHeader));
  let best: NdjsonLayout | undefined;
  for (const layout of source.layouts) {
    if (layout.format !== 'ndjson') continue;
    if (!layout.identify.every((k) => keys.has(normalizeHeader(k)))) continue;
    if (!best || layout.identify.length > best.identify.length) best = layout;
  }
  return best ? { layout: best, columns: jsonColumns(best) } : undefined;
}

export function recogniseXml(source: SourceDefinition, root: string): Recognised | undefined {
  const layout = source.layouts.find((l): l is XmlLayout => l.format === 'xml' && l.root === root);
  return layout ? { layout, columns: jsonColumns(layout) } : undefined;
}
