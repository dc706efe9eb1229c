/**
 * Roles and tiers of the access matrix (../shared/DOMAIN.md, "Pseudonymization and access").
 * This file is the matrix in code; every authorization decision of the API reads it.
 */
export const ROLES = ['data_engineer', 'data_analyst', 'data_steward', 'auditor', 'principal', 'teacher'] as const;
export type Role = (typeof ROLES)[number];

/** Normalise a role as providers spell it ("Data-Analyst", "data analyst") to edlake's code, or undefined. */
export function parseRole(value: string): Role | undefined {
  const code = value.trim().toLowerCase().replace(/[\s-]+/g, '_');
  return (ROLES as readonly string[]).includes(code) ? (code as Role) : undefined;
}

/** Which rows of the published marts a role sees. */
export type RowScope = 'all' | 'own_schools' | 'own_sections';

export interface RolePolicy {
  /** raw: delivered files, raw rows, quarantine, pipeline runs. */
  raw: boolean;
  /** refined: Ed-Fi entities, keyed. */
  refined: boolean;
  /** published marts. */
  rows: RowScope;
  /** aggregates over 10 students or fewer are suppressed (marked, values withheld). */
  suppressSmallGroups: boolean;
  /** names of students: never, by audited re-identification, or joined for rows in scope. */
  names: 'none' | 'reidentify' | 'in_scope';
}

export const POLICY: Record<Role, RolePolicy> = {
  data_engineer: { raw: true, refined: true, rows: 'all', suppressSmallGroups: false, names: 'none' },
  data_analyst: { raw: false, refined: true, rows: 'all', suppressSmallGroups: false, names: 'none' },
  data_steward: { raw: false, refined: true, rows: 'all', suppressSmallGroups: false, names: 'reidentify' },
  auditor: { raw: false, refined: false, rows: 'all', suppressSmallGroups: true, names: 'none' },
  principal: { raw: false, refined: false, rows: 'own_schools', suppressSmallGroups: true, names: 'in_scope' },
  teacher: { raw: false, refined: false, rows: 'own_sections', suppressSmallGroups: true, names: 'in_scope' },
};

/** Groups of this many students or fewer are suppressed for the roles that suppress. */
export const SMALL_GROUP_MAX = 10;
