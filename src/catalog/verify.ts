/**
 * `verify`: recheck every checksum of every file that a snapshot references and the hash chain of
 * the manifests, and name what was altered. Left-overs of an interrupted publish (data files no
 * manifest references, a manifest above CURRENT, temp files) are reported as notes: they are not
 * part of any snapshot, so they do not make the catalog inconsistent.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { layout, type Manifest } from './format.ts';
import { hashFile } from './fsutil.ts';
import { listManifestIds, listTombstones, readCurrent, readManifest } from './store.ts';

export interface Problem {
  /** Snapshot(s) concerned, when known. */
  snapshots: number[];
  /** File concerned, relative to <lake>/snapshots/. */
  path: string;
  problem: string;
}

export interface VerifyReport {
  ok: boolean;
  currentSnapshot: number | null;
  snapshotsChecked: number;
  filesChecked: number;
  bytesChecked: number;
  errors: Problem[];
  notes: Problem[];
}

async function walk(dir: string, base: string): Promise<string[]> {
  let entries: import('node:fs').Dirent[];
  try {
    entries = await fs.readdir(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const e of entries) {
    const rel = base ? `${base}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...(await walk(path.join(dir, e.name), rel)));
    else out.push(rel);
  }
  return out;
}

/** Every file under the catalog's folders, relative to <lake>/snapshots/. */
export async function listCatalogFiles(lake: string, sub: 'data' | 'tmp' | 'manifests'): Promise<string[]> {
  return walk(path.join(layout(lake).root, sub), sub);
}

/** Temp files of the CURRENT pointer left in the catalog's root folder. */
export async function rootTempFiles(lake: string): Promise<string[]> {
  try {
    return (await fs.readdir(layout(lake).root)).filter((n) => n.startsWith('.CURRENT.') && n.endsWith('.tmp'));
  } catch {
    return [];
  }
}

export async function verifyCatalog(lake: string): Promise<VerifyReport> {
  const L = layout(lake);
  const errors: Problem[] = [];
  const notes: Problem[] = [];
  let current = null;
  try {
    current = await readCurrent(lake);
  } catch (e) {
    errors.push({ snapshots: [], path: 'CURRENT', problem: (e as Error).message });
  }
  const curId = current?.snapshot_id ?? 0;
  const ids = await listManifestIds(lake);
  const manifests = new Map<number, Manifest>();
  const shas = new Map<number, string>();
  for (const id of ids) {
    if (id > curId) {
      notes.push({ snapshots: [id], path: L.manifestRel(id), problem: 'manifest above CURRENT (left by an interrupted publish); not part of any snapshot' });
      continue;
    }
    try {
      const l = await readManifest(lake, id);
      if (l) {
        manifests.set(id, l.manifest);
        shas.set(id, l.sha256);
      }
    } catch (e) {
      errors.push({ snapshots: [id], path: L.manifestRel(id), problem: `unreadable manifest: ${(e as Error).message}` });
    }
  }
  const tombstones = new Map((await listTombstones(lake)).map((t) => [t.snapshot_id, t]));

  // The chain: every id from 1 to CURRENT is a manifest or a tombstone, each naming its predecessor's hash.
  if (current) {
    const curSha = shas.get(curId);
    if (curSha === undefined && !errors.some((p) => p.snapshots.includes(curId))) {
      errors.push({ snapshots: [curId], path: L.manifestRel(curId), problem: 'CURRENT names this manifest but it is missing' });
    } else if (curSha !== undefined && curSha !== current.manifest_sha256) {
      errors.push({
        snapshots: [curId],
        path: L.manifestRel(curId),
        problem: `manifest was altered: its sha256 is ${curSha}, CURRENT records ${current.manifest_sha256}`,
      });
    }
    for (let id = 1; id <= curId; id++) {
      const m = manifests.get(id);
      const t = tombstones.get(id);
      if (!m && !t) {
        if (!errors.some((p) => p.snapshots.includes(id))) {
          errors.push({ snapshots: [id], path: L.manifestRel(id), problem: 'snapshot missing: neither its manifest nor an expiry tombstone exists' });
        }
        continue;
      }
      const prevSha = m ? m.previous_manifest_sha256 : (t?.previous_manifest_sha256 ?? null);
      if (m && m.previous_snapshot_id !== (id === 1 ? null : id - 1)) {
        errors.push({ snapshots: [id], path: L.manifestRel(id), problem: `names previous snapshot ${m.previous_snapshot_id}, expected ${id === 1 ? 'none' : id - 1}` });
      }
      if (id === 1) {
        if (prevSha !== null) errors.push({ snapshots: [id], path: L.manifestRel(id), problem: 'first snapshot names a previous manifest' });
        continue;
      }
      const actualPrev = shas.get(id - 1) ?? tombstones.get(id - 1)?.manifest_sha256;
      if (actualPrev !== undefined && prevSha !== actualPrev) {
        const prevIsManifest = shas.has(id - 1);
        errors.push({
          snapshots: [id - 1],
          path: prevIsManifest ? L.manifestRel(id - 1) : `expired/${id - 1}.json`,
          problem: `hash chain broken: snapshot ${id} records ${prevSha} for snapshot ${id - 1}, whose ${prevIsManifest ? 'manifest' : 'tombstone'} now hashes to ${actualPrev} (altered)`,
        });
      }
    }
  }

  // Files: each distinct file once, checked against every snapshot that references it.
  const refs = new Map<string, { sha256: string; bytes: number; snapshots: number[] }>();
  for (const [id, m] of manifests) {
    for (const t of m.tables) {
      for (const f of t.files) {
        const r = refs.get(f.path);
        if (!r) refs.set(f.path, { sha256: f.sha256, bytes: f.bytes, snapshots: [id] });
        else {
          r.snapshots.push(id);
          if (r.sha256 !== f.sha256 || r.bytes !== f.bytes) {
            errors.push({ snapshots: [...r.snapshots], path: f.path, problem: 'snapshots record different checksums for the same file' });
          }
        }
      }
    }
  }
  let filesChecked = 0;
  let bytesChecked = 0;
  for (const [rel, r] of [...refs].sort((a, b) => a[0].localeCompare(b[0]))) {
    const abs = L.abs(rel);
    let actual: { sha256: string; bytes: number };
    try {
      actual = await hashFile(abs);
    } catch (e) {
      errors.push({ snapshots: r.snapshots, path: rel, problem: `data file missing or unreadable (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})` });
      continue;
    }
    filesChecked++;
    bytesChecked += actual.bytes;
    if (actual.sha256 !== r.sha256 || actual.bytes !== r.bytes) {
      errors.push({
        snapshots: r.snapshots,
        path: rel,
        problem: `data file altered: sha256 ${actual.sha256} (${actual.bytes} bytes), manifest records ${r.sha256} (${r.bytes} bytes)`,
      });
    }
  }

  for (const rel of await listCatalogFiles(lake, 'data')) {
    if (!refs.has(rel)) notes.push({ snapshots: [], path: rel, problem: 'data file no snapshot references (left by an interrupted publish or an expiry); `expire` removes it' });
  }
  for (const rel of await listCatalogFiles(lake, 'tmp')) {
    notes.push({ snapshots: [], path: rel, problem: 'temporary file of an interrupted publish; `expire` removes it' });
  }
  for (const rel of await listCatalogFiles(lake, 'manifests')) {
    if (/\.tmp$/.test(rel)) notes.push({ snapshots: [], path: rel, problem: 'temporary manifest of an interrupted publish; `expire` removes it' });
  }
  for (const rel of await rootTempFiles(lake)) {
    notes.push({ snapshots: [], path: rel, problem: 'temporary pointer of an interrupted publish; `expire` removes it' });
  }

  return {
    ok: errors.length === 0,
    currentSnapshot: current?.snapshot_id ?? null,
    snapshotsChecked: manifests.size,
    filesChecked,
    bytesChecked,
    errors,
    notes,
  };
}
