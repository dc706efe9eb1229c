/**
 * Every source definition, in one place. Adding a vendor = one file here and one line below.
 */
import { caaspp } from './caaspp.ts';
import { canvas } from './canvas.ts';
import { cers } from './cers.ts';
import { edfi } from './edfi.ts';
import { iready } from './iready.ts';
import { nwea_map } from './nwea_map.ts';
import { oneroster } from './oneroster.ts';
import { screener } from './screener.ts';
import { sis } from './sis.ts';
import { star } from './star.ts';
import { survey } from './survey.ts';
import type { Layout, SourceDefinition } from './types.ts';

export const SOURCES: readonly SourceDefinition[] = [oneroster, sis, edfi, canvas, caaspp, cers, nwea_map, iready, star, survey, screener];

const byName = new Map(SOURCES.map((s) => [s.name, s]));

export function sourceByName(name: string): SourceDefinition | undefined {
  return byName.get(name);
}

const layouts = new Map<string, { layout: Layout; source: SourceDefinition; rank: number }>();
let rank = 0;
for (const s of SOURCES) for (const l of s.layouts) layouts.set(l.id, { layout: l, source: s, rank: rank++ });

export function layoutById(id: string): { layout: Layout; source: SourceDefinition; rank: number } | undefined {
  return layouts.get(id);
}

export function allLayouts(): Array<{ layout: Layout; source: SourceDefinition; rank: number }> {
  return [...layouts.values()];
}

export type { Layout, SourceDefinition } from './types.ts';
