/**
 * The caller's scope, derived from the data of the current snapshot (never from client arguments),
 * and the SQL that applies it.
 *
 * - teacher: sections of their active staff-section associations (as of the snapshot's data-through
 *   date), and the schools of those sections;
 * - principal: schools of their active assignments with a principal position;
 * - every other role: the whole district.
 * Tenants (decision 0605): every scope names the tenant whose rows it reads (the token's tenant
 * claim, else the served tenant EDLAKE_TENANT); a district-wide role limited to one tenant is a
 * `schools` scope over all that tenant's schools with `district: true` (so that every check of a
 * school scope, the serving index's included, keeps other tenants out), and its SQL predicates read
 * the tenant column every mart carries. Only a `*` tenant claim gives `all` (every tenant).
 *
 * Scope keys are bound as parameters of every statement (`$scope_sections`, `$scope_schools`), so
 * a statement cannot run without them and cached rows are keyed by them.
 */
import { POLICY, type Role } from '../src/auth/roles.ts';
import { inList, type Params, type SnapshotQueries } from './runner.ts';
import { REFINED, T } from './tables.ts';
import { staffSectionsTable } from './snapshots.ts';

export type Scope =
  /** Every row of every tenant of the lake (district-wide role with a `*` tenant claim). */
  | { kind: 'all' }
  /**
   * The rows of these schools; `district`: a district-wide role over one tenant (schoolKeys are all
   * of its schools), which also reads the tenant's district rows (school NULL) and its staff.
   */
  | { kind: 'schools'; schoolKeys: string[]; tenant?: string; district?: boolean }
  | { kind: 'sections'; sectionKeys: string[]; schoolKeys: string[]; tenant?: string };

/** The snapshot's data-through date, else its publish date. */
export function activeOn(q: SnapshotQueries): string {
  return q.snap.info.dataThrough ?? q.snap.info.publishedAt.slice(0, 10);
}

/**
 * Derive the scope of a caller from the current snapshot. `staffKey` undefined: no staff record.
 * - teacher: their active staff-section associations on the snapshot's data-through date (refined
 *   tier, when published), else sections of the current school year whose teacher of record they are;
 * - principal: schools of the caller's active principal assignments (dim_staff.principal_school_ids).
 */
export async function deriveScope(q: SnapshotQueries, role: Role, staffKey: string | undefined, tenant: string | null = null): Promise<Scope> {
  const rows = POLICY[role].rows;
  const t = tenant === null ? {} : { tenant };
  if (rows === 'all') {
    if (tenant === null) return { kind: 'all' };
    const r = await q.all<{ school_key: string }>(`SELECT sc.school_key FROM ${T.school} sc WHERE sc.tenant = $tenant ORDER BY 1`, { tenant });
    return { kind: 'schools', schoolKeys: r.map((x) => x.school_key), tenant, district: true };
  }
  if (staffKey === undefined) {
    return rows === 'own_schools' ? { kind: 'schools', schoolKeys: [], ...t } : { kind: 'sections', sectionKeys: [], schoolKeys: [], ...t };
  }
  // staff keys are keyed by tenant already; the tenant test keeps a school of another tenant with
  // the same school ID out of a principal's scope
  if (rows === 'own_schools') {
    const r = await q.all<{ school_key: string }>(
      `SELECT DISTINCT sc.school_key FROM ${T.staff} sf, unnest(sf.principal_school_ids) AS p(school_id)
         JOIN ${T.school} sc ON sc.school_id = p.school_id AND sc.tenant = sf.tenant
        WHERE sf.staff_key = $staff AND sf.is_principal AND ($tenant IS NULL OR sf.tenant = $tenant)
        ORDER BY 1`,
      { staff: staffKey, tenant },
    );
    return { kind: 'schools', schoolKeys: r.map((x) => x.school_key), ...t };
  }
  // the teacher's active staff-section associations when the snapshot carries them (refined tier),
  // else the sections of the current school year whose teacher of record they are
  const r = q.has(REFINED.staffSections)
    ? await q.all<{ section_key: string; school_key: string }>(
        `SELECT DISTINCT s.section_key, s.school_key FROM ${staffSectionsTable(q.snap)} ss JOIN ${T.section} s ON s.section_key = ss.section_key
          WHERE ss.staff_key = $staff AND ($tenant IS NULL OR s.tenant = $tenant)
            AND (ss.begin_date IS NULL OR ss.begin_date <= $on::DATE) AND (ss.end_date IS NULL OR ss.end_date >= $on::DATE)
          ORDER BY 1`,
        { staff: staffKey, on: activeOn(q), tenant },
      )
    : await q.all<{ section_key: string; school_key: string }>(
        `SELECT s.section_key, s.school_key FROM ${T.section} s
          WHERE s.teacher_staff_key = $staff AND ($tenant IS NULL OR s.tenant = $tenant)
            AND s.school_year = (SELECT max(school_year) FROM ${T.section})
          ORDER BY 1`,
        { staff: staffKey, tenant },
      );
  return {
    kind: 'sections',
    sectionKeys: r.map((x) => x.section_key),
    schoolKeys: [...new Set(r.map((x) => x.school_key))].sort(),
    ...t,
  };
}

/** A stable text of a scope, for logs-free cache keys and metrics labels. */
export function scopeKey(scope: Scope): string {
  if (scope.kind === 'all') return 'all';
  const t = scope.tenant === undefined ? '' : `tenant:${scope.tenant}:`;
  if (scope.kind === 'schools') return `${t}${scope.district ? 'district' : 'schools'}:${scope.schoolKeys.join(',')}`;
  return `${t}sections:${scope.sectionKeys.join(',')}`;
}

/** A district-wide scope over one tenant (the tenant column decides, not the school list). */
export function tenantWide(scope: Scope): scope is { kind: 'schools'; schoolKeys: string[]; tenant: string; district: true } {
  return scope.kind === 'schools' && scope.district === true && scope.tenant !== undefined;
}

/**
 * SQL predicates applying the scope, and the parameters they need. Each takes the alias of a
 * table that has the named key column. The membership predicate is evaluated in the snapshot being
 * read (a past snapshot's roster for a past date), with the scope of the current snapshot.
 */
export class ScopeSql {
  /**
   * `staffSections`: the table of the snapshot's staff-section associations (staffSectionsTable)
   * when it publishes them (co-teachers are staff of a section too), else null.
   */
  constructor(
    readonly scope: Scope,
    readonly staffSections: string | null = null,
  ) {}

  /** Staff associated with sections matching a condition over `{sec}` (a dim_section alias): teacher of record, and every association when published. */
  private staffOfSections(alias: string, sectionCond: string): string {
    const ofRecord = `${alias}.staff_key IN (SELECT sc.teacher_staff_key FROM ${T.section} sc WHERE ${sectionCond.replaceAll('{sec}', 'sc')})`;
    if (!this.staffSections) return ofRecord;
    return `(${ofRecord} OR ${alias}.staff_key IN (SELECT ss2.staff_key FROM ${this.staffSections} ss2 JOIN ${T.section} sc2 ON sc2.section_key = ss2.section_key WHERE ${sectionCond.replaceAll('{sec}', 'sc2')}))`;
  }

  get params(): Params {
    if (this.scope.kind === 'all') return {};
    if (tenantWide(this.scope)) return { scope_tenant: this.scope.tenant };
    if (this.scope.kind === 'schools') return { scope_schools: this.scope.schoolKeys };
    return { scope_sections: this.scope.sectionKeys, scope_schools: this.scope.schoolKeys };
  }

  /** Whether the scope is one tenant's district-wide rows (predicates read `<alias>.tenant`). */
  get tenantWide(): boolean {
    return tenantWide(this.scope);
  }

  /** Rows of the district-wide tenant scope: every mart carries its tenant. */
  private tenantRows(alias: string): string {
    return `${alias}.tenant = $scope_tenant`;
  }

  /** Rows of students (alias has student_key, and school_key when `schoolCol` is given). */
  students(alias: string, schoolCol: string | null = 'school_key'): string {
    const s = this.scope;
    if (s.kind === 'all') return 'TRUE';
    if (tenantWide(s)) return this.tenantRows(alias);
    if (s.kind === 'schools') {
      if (schoolCol === null) {
        return `${alias}.student_key IN (SELECT st.student_key FROM ${T.student} st WHERE st.school_key IN ${inList('scope_schools')})`;
      }
      return `${alias}.${schoolCol} IN ${inList('scope_schools')}`;
    }
    return `${alias}.student_key IN (SELECT m.student_key FROM ${T.sectionMembership} m
        WHERE m.section_key IN ${inList('scope_sections')} AND m.is_active)`;
  }

  /** Rows of sections (alias has section_key and school_key). */
  sections(alias: string): string {
    const s = this.scope;
    if (s.kind === 'all') return 'TRUE';
    if (tenantWide(s)) return this.tenantRows(alias);
    if (s.kind === 'schools') return `${alias}.school_key IN ${inList('scope_schools')}`;
    return `${alias}.section_key IN ${inList('scope_sections')}`;
  }

  /**
   * School-grain rows (alias has school_key, NULL = the district's row): a principal's schools, none
   * for a teacher (their marts are their sections), every row of the tenant (district rows
   * included) for a district-wide role.
   */
  schoolGrain(alias: string): string {
    const s = this.scope;
    if (s.kind === 'all') return 'TRUE';
    if (tenantWide(s)) return this.tenantRows(alias);
    if (s.kind === 'schools') return `${alias}.school_key IN ${inList('scope_schools')}`;
    return 'FALSE';
  }

  /** Rows of schools (alias has school_key). */
  schools(alias: string): string {
    if (this.scope.kind === 'all') return 'TRUE';
    if (tenantWide(this.scope)) return this.tenantRows(alias);
    return `${alias}.school_key IN ${inList('scope_schools')}`;
  }

  /** Rows of a membership table (alias has section_key and student_key): only in-scope sections' rows. */
  memberships(alias: string): string {
    const s = this.scope;
    if (s.kind === 'all') return 'TRUE';
    if (tenantWide(s)) return this.tenantRows(alias);
    if (s.kind === 'schools') {
      return `${alias}.section_key IN (SELECT sc.section_key FROM ${T.section} sc WHERE sc.school_key IN ${inList('scope_schools')})`;
    }
    return `${alias}.section_key IN ${inList('scope_sections')}`;
  }

  /** Rows keyed by staff (alias has staff_key): teachers of in-scope sections, principals of in-scope schools. */
  staff(alias: string): string {
    const s = this.scope;
    if (s.kind === 'all') return 'TRUE';
    if (tenantWide(s)) return this.tenantRows(alias);
    if (s.kind === 'schools') {
      return `(${this.staffOfSections(alias, `{sec}.school_key IN ${inList('scope_schools')}`)}
           OR ${alias}.staff_key IN (SELECT sf.staff_key FROM ${T.staff} sf, unnest(sf.principal_school_ids) AS p(school_id)
                 JOIN ${T.school} so ON so.school_id = p.school_id AND so.tenant = sf.tenant WHERE so.school_key IN ${inList('scope_schools')}))`;
    }
    return this.staffOfSections(alias, `{sec}.section_key IN ${inList('scope_sections')}`);
  }
}
