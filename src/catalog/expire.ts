/**
 * `expire`: remove snapshots older than the retention (never the current, newest one) and every file
 * that no kept snapshot references (including left-overs of interrupted publishes).
 *
 * An expired snapshot leaves a small tombstone (`expired/<id>.json`: its manifest hash and its
 * predecessor's), written before its manifest is removed, so that `verify` can still check the hash
 * chain of the snapshots that remain.
 *
 * Run it while holding the lake lock (the CLI does): a publish in progress writes files no manifest
 * references yet. As a second guard, left-overs younger than `graceMs` are kept.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { layout, type Tombstone } from './format.ts';
import { atomicWrite } from './fsutil.ts';
import { listManifestIds, readCurrent, readManifest } from './store.ts';
import { listCatalogFiles, rootTempFiles } from './verify.ts';

export interface ExpireOptions {
  keepDays: number;
  now?: Date;
  /** Unreferenced files younger than this are kept (a publish may be writing them). Default 1 hour. */
  graceMs?: number;
  dryRun?: boolean;
}

export interface ExpireReport {
  expiredSnapshots: number[];
  keptSnapshots: number[];
  removedFiles: string[];
  freedBytes: number;
  dryRun: boolean;
}

export async function expireSnapshots(lake: string, opts: ExpireOptions): Promise<ExpireReport> {
  if (!Number.isInteger(opts.keepDays) || opts.keepDays < 0) throw new Error(`keep-days must be a whole number of at least 0, got ${opts.keepDays}`);
  const L = layout(lake);
  const now = (opts.now ?? new Date()).getTime();
  const cutoff = now - opts.keepDays * 86_400_000;
  const grace = opts.graceMs ?? 3_600_000;
  const dry = opts.dryRun ?? false;
  const current = await readCurrent(lake);
  const curId = current?.snapshot_id ?? 0;

  const expired: number[] = [];
  const kept: number[] = [];
  const referenced = new Set<string>();
  /** Files of the expired snapshots: known, finished files, removable at once when nothing kept needs them. */
  const ofExpired = new Set<string>();
  const removed: string[] = [];
  let freed = 0;

  const removeFile = async (rel: string, minAgeMs: number): Promise<void> => {
    const abs = L.abs(rel);
    let st;
    try {
      st = await fs.stat(abs);
    } catch {
      return;
    }
    // Grace is measured on the real clock (file times are real), retention on `now`.
    if (minAgeMs > 0 && Date.now() - st.mtimeMs < minAgeMs) return;
    if (!dry) await fs.rm(abs, { force: true });
    removed.push(rel);
    freed += st.size;
  };

  /** The snapshot's quarantine file (beside the catalog, decision 0608) goes with the snapshot. */
  const removeQuarantine = async (id: number): Promise<void> => {
    const abs = L.quarantineFile(id);
    const st = await fs.stat(abs).catch(() => undefined);
    if (!st) return;
    if (!dry) await fs.rm(abs, { force: true });
    removed.push(path.relative(L.root, abs).split(path.sep).join('/'));
    freed += st.size;
  };

  for (const id of await listManifestIds(lake)) {
    if (id > curId) {
      // An interrupted publish's manifest: not a snapshot; its files stay protected while it is young.
      const st = await fs.stat(L.manifestFile(id));
      if (Date.now() - st.mtimeMs < grace) {
        const l = await readManifest(lake, id).catch(() => undefined);
        for (const t of l?.manifest.tables ?? []) for (const f of t.files) referenced.add(f.path);
      } else {
        await removeFile(L.manifestRel(id), grace);
      }
      continue;
    }
    const l = await readManifest(lake, id);
    if (!l) continue;
    const old = Date.parse(l.manifest.published_at) < cutoff;
    if (old && id !== curId) {
      expired.push(id);
      for (const t of l.manifest.tables) for (const f of t.files) ofExpired.add(f.path);
      if (!dry) {
        const tomb: Tombstone = {
          snapshot_id: id,
          manifest_sha256: l.sha256,
          previous_manifest_sha256: l.manifest.previous_manifest_sha256,
          published_at: l.manifest.published_at,
          expired_at: new Date(now).toISOString(),
        };
        await atomicWrite(L.tombstoneFile(id), `${JSON.stringify(tomb, null, 2)}\n`);
      }
      await removeFile(L.manifestRel(id), 0);
      await removeQuarantine(id);
    } else {
      kept.push(id);
      for (const t of l.manifest.tables) for (const f of t.files) referenced.add(f.path);
    }
  }

  for (const rel of await listCatalogFiles(lake, 'data')) {
    if (!referenced.has(rel)) await removeFile(rel, ofExpired.has(rel) ? 0 : grace);
  }
  for (const rel of await listCatalogFiles(lake, 'tmp')) await removeFile(rel, grace);
  for (const rel of await listCatalogFiles(lake, 'manifests')) if (rel.endsWith('.tmp')) await removeFile(rel, grace);
  for (const rel of await rootTempFiles(lake)) await removeFile(rel, grace);
  if (!dry) await removeEmptyDirs(L.data, false);

  return { expiredSnapshots: expired, keptSnapshots: kept, removedFiles: removed, freedBytes: freed, dryRun: dry };
}

async function removeEmptyDirs(dir: string, removeSelf: boolean): Promise<boolean> {
  let entries: import('node:fs').Dirent[];
  try {
    entries = await fs.readdir(dir, { withFileTypes: true });
  } catch {
    return false;
  }
  let empty = true;
  for (const e of entries) {
    if (e.isDirectory()) {
      if (!(await removeEmptyDirs(path.join(dir, e.name), true))) empty = false;
    } else empty = false;
  }
  if (empty && removeSelf) {
    await fs.rmdir(dir).catch(() => undefined);
    return true;
  }
  return empty;
}
