/** The snapshot catalog shared by the pipeline (writing) and the API (reading). See docs/snapshot-format.md. */
export * from './format.ts';
export { readCurrent, readManifest, listManifestIds, listTombstones, type LoadedManifest } from './store.ts';
export { writeSnapshot, PUBLISH_STEPS, PublishError, type PublishInput, type PublishResult, type PublishStep, type PublishTable } from './writer.ts';
export {
  SnapshotCatalog,
  SnapshotHandle,
  SnapshotNotFoundError,
  attachSnapshot,
  openSnapshot,
  summarize,
  type CatalogOptions,
  type SnapshotErrorCode,
  type SnapshotSelector,
  type SnapshotSummary,
} from './reader.ts';
export { endOfLocalDayExclusive, localDate, InvalidDateError } from './timetravel.ts';
export { verifyCatalog, type Problem, type VerifyReport } from './verify.ts';
export { expireSnapshots, type ExpireOptions, type ExpireReport } from './expire.ts';
