/** Small helpers shared by source definitions (SQL snippets over logical columns). */
import type { Expr, Mapping } from './types.ts';

/** `{col}` as a date in any accepted delivered format. */
export const date = (col: string): Expr => ({ sql: `{${col}}`, field: col });

/** The district (LEA) code of the tenant, from its refined schools; the tenant code when none is known yet. */
export const districtOfTenant: Expr = {
  sql: `coalesce((SELECT max(s.local_education_agency_id) FROM refined.schools s WHERE s.tenant = {tenant}), {tenant})`,
};

/** Testing window from a date: August-November Fall, December-February Winter, March-July Spring. */
export const windowOfDate = (dateSql: string): string =>
  `CASE WHEN edlake_date(${dateSql}) IS NULL THEN NULL WHEN month(edlake_date(${dateSql})) BETWEEN 8 AND 11 THEN 'Fall' WHEN month(edlake_date(${dateSql})) IN (12, 1, 2) THEN 'Winter' ELSE 'Spring' END`;

/** Testing window from a vendor's term/window name ("Fall 2025-2026", "Winter (November 16 - March 1)"). */
export const windowOfName = (col: string): string =>
  `CASE WHEN {${col}} ILIKE 'fall%' THEN 'Fall' WHEN {${col}} ILIKE 'winter%' THEN 'Winter' WHEN {${col}} ILIKE 'spring%' THEN 'Spring' ELSE {${col}} END`;

/** Race descriptors of the OneRoster / vendor yes-no flag columns that are true. */
export const racesFromFlags = (flags: ReadonlyArray<readonly [string, string]>): Expr => ({
  sql: `list_filter([${flags.map(([col, race]) => `CASE WHEN edlake_bool({${col}}) THEN '${race}' END`).join(', ')}], x -> x IS NOT NULL)`,
  field: flags[0]?.[0],
});

export interface AssessmentSpec {
  /** SQL template giving the assessment identifier (per row; e.g. by subject). */
  identifier: string;
  namespace: string;
  /** SQL template giving the title. */
  title: string;
  family: 'state' | 'interim' | 'screener';
  vendor: string;
  subject?: Expr;
  minScore: number;
  maxScore: number;
}

/** The derived `assessments` record of a score row (its score range bounds the row's scale score). */
export function assessmentOf(a: AssessmentSpec): Mapping {
  return {
    entity: 'assessments',
    derived: true,
    fields: {
      assessment_identifier: { sql: a.identifier },
      namespace: { value: a.namespace },
      assessment_title: { sql: a.title },
      assessment_family: { value: a.family },
      vendor: { value: a.vendor },
      ...(a.subject ? { academic_subject_descriptor: a.subject } : {}),
      min_score: { value: a.minScore },
      max_score: { value: a.maxScore },
    },
  };
}
