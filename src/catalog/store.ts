/** Reading the catalog's small files: the CURRENT pointer, manifests, tombstones. */
import fs from 'node:fs/promises';
import {
  currentPointerSchema,
  layout,
  manifestIdFromName,
  manifestSchema,
  parseJsonFile,
  sha256,
  tombstoneSchema,
  type CurrentPointer,
  type Manifest,
  type Tombstone,
} from './format.ts';

function isMissing(e: unknown): boolean {
  return (e as NodeJS.ErrnoException).code === 'ENOENT';
}

/** The CURRENT pointer, or null when nothing was ever published. */
export async function readCurrent(lake: string): Promise<CurrentPointer | null> {
  const file = layout(lake).current;
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (e) {
    if (isMissing(e)) return null;
    throw e;
  }
  return parseJsonFile(currentPointerSchema, text, file);
}

export interface LoadedManifest {
  manifest: Manifest;
  /** sha256 of the manifest file's exact bytes. */
  sha256: string;
  bytes: number;
}

/** Read and check one manifest; undefined when the file does not exist. */
export async function readManifest(lake: string, id: number): Promise<LoadedManifest | undefined> {
  const file = layout(lake).manifestFile(id);
  let buf: Buffer;
  try {
    buf = await fs.readFile(file);
  } catch (e) {
    if (isMissing(e)) return undefined;
    throw e;
  }
  const manifest = parseJsonFile(manifestSchema, buf.toString('utf8'), file);
  if (manifest.snapshot_id !== id) {
    throw new Error(`${file}: names snapshot ${manifest.snapshot_id}, expected ${id}`);
  }
  return { manifest, sha256: sha256(buf), bytes: buf.length };
}

/** Ids of the manifest files present, ascending (may include an orphan above CURRENT after a crash). */
export async function listManifestIds(lake: string): Promise<number[]> {
  let names: string[];
  try {
    names = await fs.readdir(layout(lake).manifests);
  } catch (e) {
    if (isMissing(e)) return [];
    throw e;
  }
  return names
    .map(manifestIdFromName)
    .filter((x): x is number => x !== undefined)
    .sort((a, b) => a - b);
}

export async function listTombstones(lake: string): Promise<Tombstone[]> {
  const dir = layout(lake).expired;
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch (e) {
    if (isMissing(e)) return [];
    throw e;
  }
  const out: Tombstone[] = [];
  for (const n of names) {
    if (manifestIdFromName(n) === undefined) continue;
    const file = `${dir}/${n}`;
    out.push(parseJsonFile(tombstoneSchema, await fs.readFile(file, 'utf8'), file));
  }
  return out.sort((a, b) => a.snapshot_id - b.snapshot_id);
}
