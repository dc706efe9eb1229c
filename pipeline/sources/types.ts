/**
 * The vocabulary of source definitions: one declarative definition per delivered format.
 *
 * A source (`oneroster`, `sis`, `nwea_map`...) is a landing folder; it delivers files in one or more
 * layouts. A layout says
 * - how to recognise a file (from its header line / root element / first object, never its name),
 * - how to parse it (format, delimiter),
 * - its columns: logical names and the header names (aliases) or JSON paths that deliver them, so
 *   that spelling variants and renamed columns across years are a one-line change,
 * - how its rows map to refined entities (the contracts in `pipeline/contracts/`), and
 * - how its rows name the student (candidate ID columns tried against the roster) or feed the roster.
 *
 * Field expressions are data, turned into SQL by `pipeline/refine.ts`. SQL templates are trusted code
 * written here; `{Column}` placeholders refer to logical columns and never interpolate delivered values.
 */
import type { RowQuarantineReason } from '../../src/quality/reasons.ts';
import type { Delimiter } from '../text.ts';

/** An expression for one refined column, evaluated per raw row (all raw values are VARCHAR). */
export type Expr =
  /** A logical column: its trimmed value, empty as NULL. */
  | string
  /** A SQL template over logical columns (`{col}`, trimmed, empty as NULL) and `{tenant}`. */
  | { sql: string; field?: string }
  /** A constant. */
  | { value: string | number | boolean }
  /** The student's key, found through the roster (identity store) from the ID in this column. */
  | { student: string }
  /** A person key (HMAC) of the ID in this column, computed directly (staff; roster-defining rows). */
  | { person: string }
  /** A key: edlake_key(tenant, [parts...]) over other expressions. */
  | { key: readonly Expr[] }
  /** The section key of a section named by its SIS section identifier (refined.sections lookup). */
  | { sectionOf: string };

export interface Mapping {
  /** Contract (refined table) this mapping feeds. */
  entity: string;
  /** XML / NDJSON: only records of this type (XML element name under the interchange root). */
  recordType?: string;
  /** SQL template over logical columns: only rows where it is true. */
  where?: string;
  /**
   * A derived mapping (e.g. the assessment a score row belongs to): many rows give the same record.
   * Its rows are deduplicated by key (first wins); duplicates and differences do not count against
   * the row. Contract failures still quarantine the row.
   */
  derived?: boolean;
  fields: Readonly<Record<string, Expr>>;
  /**
   * Wide to long: one record per listed logical column present in the file (e.g. survey items);
   * templates read the column's name as `{__name}` and its value as `{__value}`.
   */
  unpivot?: { columns: readonly string[] };
  /**
   * Facts of the format that the entity's contract cannot know (e.g. a Likert item is 1 to 5, a
   * course mark has a posting date). Each checks either a mapped `field` or a delivered logical
   * `column` the contract does not keep; `sql` is a boolean over `{value}` (that text), `{tenant}`
   * and the staged fields as `s.<field>`, true when the row is acceptable.
   */
  checks?: ReadonlyArray<{ field?: string; column?: string; rule: RowQuarantineReason; sql: string; description: string }>;
  /**
   * The key that identifies one delivered record in the source, when it is narrower than the
   * contract's primary key (e.g. the SIS writes one attendance row per student, school and day,
   * while Ed-Fi allows several events a day): two rows of one file with the same source key and
   * different values are conflicting duplicates.
   */
  sourceKey?: readonly string[];
}

/** Rows that feed the identity store (names, birth dates, contacts, IDs). */
export interface IdentityFeed {
  kind: 'student' | 'staff';
  recordType?: string;
  where?: string;
  /** The person's natural ID (local student ID / staffUniqueId). */
  id: string;
  /** State student ID (SSID), recognised later in vendor files. */
  stateId?: string;
  /** Other IDs that name the same person in some system (e.g. the LMS user id), as [idType, column]. */
  otherIds?: ReadonlyArray<readonly [string, string]>;
  firstName?: string;
  middleName?: string;
  lastName?: string;
  /** Full name in one column, when first and last are not apart. */
  fullName?: string;
  birthDate?: string;
  email?: string;
  phone?: string;
  /**
   * true: these rows define the roster (new IDs become students/staff);
   * false: they only add identity facts to people already on the roster (the ID must be known).
   */
  defines: boolean;
}

/** How a vendor file names its students: columns to try against the roster's IDs. */
export interface StudentIdSpec {
  /** Logical columns that may hold a student ID, in order of preference (ties go to the first). */
  candidates: readonly string[];
  /** ID types to try: 'local', 'state', or another system's IDs registered by an IdentityFeed. */
  idTypes: readonly string[];
}

export type Phase =
  /** schools, sessions, courses, sections, calendars */
  | 0
  /** roster: students and staff */
  | 1
  /** associations that reference the roster (enrollments, demographics, programs, LMS users) */
  | 2
  /** events and results (attendance, discipline, marks, LMS activity, assessments, surveys) */
  | 3;

interface LayoutBase {
  /** Stable id recorded in raw.files.layout, e.g. `nwea_map.assessment_results`. */
  id: string;
  description: string;
  /** Processing order across a run: earlier phases first, so references resolve. */
  phase: Phase;
  /** Logical columns → header names (CSV, matched after normalization) or JSON paths (NDJSON/XML). */
  columns: Readonly<Record<string, readonly string[]>>;
  mappings: readonly Mapping[];
  identity?: readonly IdentityFeed[];
  student?: StudentIdSpec;
  /**
   * Record types (XML elements / resources) that this layout delivers but the refined layer does not
   * model, with why. Their rows are counted as `skipped` in the run record, never silently.
   */
  skip?: Readonly<Record<string, string>>;
  /**
   * An auxiliary lookup kept in `meta.aux_<table>` (tenant, key, columns; all text; latest row wins):
   * facts another layout needs but no contract holds (e.g. an incident's behavior code, read by the
   * discipline actions that name the students).
   */
  aux?: { table: string; key: string; columns: readonly string[] };
  /** Ed-Fi sources: the tenant is `edfi-<leaId>`, from this logical column of the records that carry it. */
  tenantFromLea?: { recordType?: string; column: string };
}

export interface CsvLayout extends LayoutBase {
  format: 'csv';
  delimiter: Delimiter;
  /** Logical columns that must all be present for the file to be this layout. */
  identify: readonly string[];
  /**
   * A nightly delta export: a file with a header and no rows means "no changes" and is loaded
   * (0 rows), not rejected as header_only.
   */
  emptyAllowed?: boolean;
  /** More specific layouts of the same source win: the layout matching the most `identify` columns is chosen. */
}

export interface NdjsonLayout extends LayoutBase {
  format: 'ndjson';
  /** Top-level keys of the first object that must all be present. */
  identify: readonly string[];
  /** The Ed-Fi resource (record type of every row). */
  resource: string;
}

export interface XmlLayout extends LayoutBase {
  format: 'xml';
  /** Root element name of the interchange (namespace ignored). */
  root: string;
}

export type Layout = CsvLayout | NdjsonLayout | XmlLayout;

export interface SourceDefinition {
  /** Landing folder name. */
  name: string;
  description: string;
  layouts: readonly Layout[];
}
