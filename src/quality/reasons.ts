/**
 * Reason codes for everything the pipeline refuses, shared by the pipeline (which records them)
 * and the sample-district generator (whose `truth/` lists the defects it injected with the reason
 * a correct pipeline must give). One vocabulary, so that tests compare codes, not prose.
 */

/** Why a whole delivered file was rejected (nothing in it could be loaded). */
export const FILE_REJECTION_REASONS = {
  empty_file: 'the file has no bytes at all',
  header_only: 'the file has a header line but no data rows',
  unreadable: 'the bytes are not text in any supported encoding (binary or corrupt)',
  unknown_layout: 'no source definition recognises this header',
  unknown_source: 'the landing folder names no known source',
} as const;
export type FileRejectionReason = keyof typeof FILE_REJECTION_REASONS;

/** Why a delivered row was quarantined. */
export const ROW_QUARANTINE_REASONS = {
  unknown_student: 'the student is not on the roster (no local or state ID matches)',
  unknown_reference: 'a referenced school, section, staff member or assessment does not exist',
  invalid_date: 'a date field is not a real calendar date in any accepted format',
  out_of_range: 'a value is outside the range its contract allows',
  invalid_value: 'a value is not one of the allowed values or formats',
  missing_required: 'a required field is empty',
  ragged_row: 'the row has a different number of fields than the header',
  conflicting_duplicate: 'another row has the same natural key but different values',
} as const;
export type RowQuarantineReason = keyof typeof ROW_QUARANTINE_REASONS;

/** A second delivery of bytes already archived: recorded, not loaded again. */
export const DUPLICATE_FILE = 'duplicate_file' as const;

export function isFileRejectionReason(s: string): s is FileRejectionReason {
  return Object.hasOwn(FILE_REJECTION_REASONS, s);
}
export function isRowQuarantineReason(s: string): s is RowQuarantineReason {
  return Object.hasOwn(ROW_QUARANTINE_REASONS, s);
}
