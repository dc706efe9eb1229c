/**
 * The living data dictionary: built at each publish from what is true for that run, and kept in the
 * snapshot's manifest, so that the dictionary of a past snapshot is the one that was true then.
 *
 * Built from:
 * - the source definitions (`pipeline/sources/`): delivered formats, their columns and header aliases;
 * - the refined contracts (`pipeline/contracts/`): entities, columns, types, PII class, rules;
 * - the model metadata beside each SQL model (`sql/<layer>/<model>.yml`, read by
 *   `pipeline/models/project.ts`): meaning, grain, business rules, columns, tests, dependencies;
 * - the seeds in force (`seeds.*` of the run's working database, or the CSVs when built outside a
 *   run): the threshold values the business rules use;
 * - the published tables themselves (actual DuckDB column types), when a database is given.
 *
 * Lineage: table level from format to refined entity (source mappings), refined entity and seeds to
 * model, model to model (the SQL's references); column level from delivered header to refined column
 * (the mappings' expressions) and, for models, to the same-named columns of the relations a model
 * reads (marked `by name`: the SQL is not parsed deeper).
 */
import { Db, ident } from '../../src/db/duckdb.ts';
import { ENTITIES, STANDARD_COLUMNS, type ColumnContract } from '../contracts/index.ts';
import { allLayouts } from '../sources/index.ts';
import type { Expr } from '../sources/types.ts';
import { loadProject, type Project } from '../models/project.ts';
import { testName } from '../models/metadata.ts';
import { loadSeeds, SEED_TABLES } from '../../seeds/load.ts';

export * from './types.ts';
import type { DictColumn, DictFormat, DictModel, DictRefined, DictSeed, Dictionary, LineageEdge, LineageNode } from './types.ts';

export const SEED_ROW_LIMIT = 500;

export interface BuildOptions {
  /** The run's working database: seeds in force and actual column types are read from it. */
  db?: Db;
  /** SQL project folder (default `sql/`). */
  sqlDir?: string;
  /** Seeds folder, used when `db` has no `seeds` schema (default `seeds/reference/`). */
  seedsDir?: string;
  now?: Date;
}

/** Logical columns an expression reads. */
export function exprColumns(e: Expr): string[] {
  if (typeof e === 'string') return [e];
  if ('sql' in e) {
    const out = new Set<string>();
    for (const m of e.sql.matchAll(/\{([A-Za-z0-9_ ]+)\}/g)) {
      const c = m[1] as string;
      if (c !== 'tenant' && c !== '__name' && c !== '__value') out.add(c);
    }
    if (e.field && out.size === 0) out.add(e.field);
    return [...out];
  }
  if ('value' in e) return [];
  if ('student' in e) return [e.student];
  if ('person' in e) return [e.person];
  if ('key' in e) return [...new Set(e.key.flatMap(exprColumns))];
  if ('sectionOf' in e) return [e.sectionOf];
  return [];
}

function contractRules(c: ColumnContract): string[] {
  const r: string[] = [];
  if (c.required) r.push('required');
  if (c.descriptor) r.push(`Ed-Fi descriptor ${c.descriptor}, mapped through seeds.descriptor_map`);
  if (c.allowed) r.push(`one of: ${c.allowed.join(', ')}`);
  if (c.min !== undefined || c.max !== undefined) r.push(`between ${c.min ?? '-∞'} and ${c.max ?? '∞'}`);
  if (c.pattern) r.push(`matches ${c.pattern}`);
  if (c.references) r.push(`references refined.${c.references.entity}.${c.references.column}`);
  return r;
}

async function actualColumns(db: Db | undefined, schema: string, table: string): Promise<Map<string, string>> {
  const m = new Map<string, string>();
  if (!db) return m;
  const rows = await db.all<{ column_name: string; data_type: string }>(
    `select column_name, data_type from information_schema.columns where table_schema = $1 and table_name = $2 and table_catalog = current_database() order by ordinal_position`,
    [schema, table],
  );
  for (const r of rows) m.set(r.column_name, r.data_type);
  return m;
}

async function seedsInForce(opts: BuildOptions): Promise<DictSeed[]> {
  let db = opts.db;
  let own: Db | undefined;
  const hasSeeds = db
    ? ((await db.scalar<number>(`select count(*) from information_schema.tables where table_schema = 'seeds' and table_catalog = current_database()`)) ?? 0) > 0
    : false;
  if (!db || !hasSeeds) {
    own = await Db.open(':memory:');
    await loadSeeds(own, opts.seedsDir ? { dir: opts.seedsDir } : {});
    db = own;
  }
  try {
    const out: DictSeed[] = [];
    for (const t of SEED_TABLES) {
      const exists = await db.scalar<number>(
        `select count(*) from information_schema.tables where table_schema = 'seeds' and table_name = $1 and table_catalog = current_database()`,
        [t.name],
      );
      if (!exists) continue;
      const n = (await db.scalar<number>(`select count(*) from seeds.${ident(t.name)}`)) ?? 0;
      const rows = await db.all(`select * from seeds.${ident(t.name)} limit ${SEED_ROW_LIMIT}`);
      out.push({
        node: `seeds.${t.name}`,
        name: t.name,
        description: t.description,
        columns: t.columns.map((c) => ({ name: c.name, type: c.type, description: c.description })),
        row_count: n,
        rows: rows.map((r) => {
          const o: Record<string, string | number | boolean | null> = {};
          for (const [k, v] of Object.entries(r)) o[k] = v === null || typeof v !== 'object' ? v : JSON.stringify(v);
          return o;
        }),
      });
    }
    return out;
  } finally {
    own?.close();
  }
}

/** Build the dictionary. Throws (naming the file) when a model's metadata is missing or wrong. */
export async function buildDictionary(opts: BuildOptions = {}): Promise<Dictionary> {
  const project: Project = loadProject(opts.sqlDir);
  const nodes: LineageNode[] = [];
  const edges: LineageEdge[] = [];
  const edgeSet = new Set<string>();
  const addEdge = (from: string, to: string) => {
    const k = `${from}→${to}`;
    if (!edgeSet.has(k)) {
      edgeSet.add(k);
      edges.push({ from, to });
    }
  };

  // Delivered formats → refined entities, with column lineage from headers.
  const formats: DictFormat[] = [];
  const refinedLineage = new Map<string, Map<string, Set<string>>>(); // entity → column → upstream
  const fedBy = new Map<string, Set<string>>();
  for (const { layout, source } of allLayouts()) {
    const node = `format.${layout.id}`;
    const entities = [...new Set(layout.mappings.map((m) => m.entity))];
    formats.push({
      id: layout.id,
      node,
      source: source.name,
      source_description: source.description,
      description: layout.description,
      format: layout.format === 'csv' ? `csv (${layout.delimiter === '\t' ? 'tab' : layout.delimiter})` : layout.format,
      columns: Object.entries(layout.columns).map(([name, headers]) => ({ name, headers: [name, ...headers.filter((h) => h !== name)] })),
      entities,
    });
    nodes.push({ id: node, kind: 'format', label: layout.id, layer: 'format' });
    for (const m of layout.mappings) {
      const target = `refined.${m.entity}`;
      addEdge(node, target);
      if (!fedBy.has(m.entity)) fedBy.set(m.entity, new Set());
      fedBy.get(m.entity)!.add(layout.id);
      const cols = refinedLineage.get(m.entity) ?? new Map<string, Set<string>>();
      refinedLineage.set(m.entity, cols);
      for (const [field, expr] of Object.entries(m.fields)) {
        const set = cols.get(field) ?? new Set<string>();
        cols.set(field, set);
        const srcCols = m.unpivot && typeof expr !== 'string' && 'sql' in expr && /\{__(name|value)\}/.test(expr.sql) ? [...m.unpivot.columns] : [];
        for (const c of [...exprColumns(expr), ...srcCols]) set.add(`${node}.${c}`);
      }
    }
  }

  // Refined entities (contracts).
  const refined: DictRefined[] = [];
  for (const e of ENTITIES) {
    const node = `refined.${e.entity}`;
    nodes.push({ id: node, kind: 'refined', label: e.entity, layer: 'refined' });
    const actual = await actualColumns(opts.db, 'refined', e.entity);
    const lin = refinedLineage.get(e.entity);
    refined.push({
      node,
      entity: e.entity,
      edfi_resource: e.edfiResource,
      edfi_domain: e.edfiDomain,
      description: e.description,
      primary_key: [...e.primaryKey],
      columns: [...e.columns, ...STANDARD_COLUMNS].map((c) => ({
        name: c.name,
        type: c.type,
        actual_type: actual.get(c.name) ?? null,
        description: c.description,
        pii: c.pii,
        edfi_domain: e.edfiDomain,
        rules: contractRules(c),
        lineage: [...(lin?.get(c.name) ?? [])].sort(),
        lineage_by_name: false,
      })),
      checks: (e.checks ?? []).map((c) => `${c.name}: ${c.description}`),
      fed_by: [...(fedBy.get(e.entity) ?? [])].sort(),
    });
  }

  // Seeds in force.
  const seeds = await seedsInForce(opts);
  for (const s of seeds) nodes.push({ id: s.node, kind: 'seed', label: s.name, layer: 'seed' });

  // Models, in dependency order.
  const colsOf = new Map<string, Set<string>>();
  for (const r of refined) colsOf.set(r.node, new Set(r.columns.map((c) => c.name)));
  for (const s of seeds) colsOf.set(s.node, new Set(s.columns.map((c) => c.name)));
  const models: DictModel[] = [];
  for (const name of project.order) {
    const m = project.models.get(name)!;
    const node = `marts.${name}`;
    const published = m.layer === 'view';
    nodes.push({ id: node, kind: published ? 'view' : 'model', label: name, layer: m.layer });
    const inputs = [...m.dependsOn.map((d) => `marts.${d}`), ...m.sources];
    for (const i of inputs) {
      if (i.startsWith('refined.') || i.startsWith('marts.') || i.startsWith('seeds.')) addEdge(i, node);
    }
    const actual = await actualColumns(opts.db, 'marts', name);
    const columns: DictColumn[] = m.meta.columns.map((c) => {
      const up = inputs.filter((i) => colsOf.get(i)?.has(c.name)).map((i) => `${i}.${c.name}`);
      return {
        name: c.name,
        type: c.type,
        actual_type: actual.get(c.name) ?? null,
        description: c.description,
        pii: c.pii,
        edfi_domain: c.edfi_domain,
        rules: [],
        lineage: up,
        lineage_by_name: up.length > 0,
      };
    });
    colsOf.set(node, new Set(columns.map((c) => c.name)));
    models.push({
      node,
      name,
      layer: m.layer,
      published,
      overview: m.meta.overview,
      grain: m.meta.grain,
      primary_key: m.meta.primary_key,
      business_rules: m.meta.business_rules,
      columns,
      tests: m.meta.tests.map((t) => ({ name: testName(name, t), type: t.type, severity: t.severity, description: t.description ?? '' })),
      depends_on: m.dependsOn,
      reads: m.sources,
      seeds: m.sources.filter((s) => s.startsWith('seeds.')).map((s) => s.slice('seeds.'.length)),
      example_query: m.meta.example_query,
    });
  }

  // Keep only nodes that exist (edges may name relations outside the dictionary, e.g. meta.*).
  const ids = new Set(nodes.map((n) => n.id));
  return {
    dictionary_version: 1,
    built_at: (opts.now ?? new Date()).toISOString(),
    overview: project.meta.overview,
    formats,
    refined,
    models,
    seeds,
    project_tests: project.meta.tests.map((t) => ({ name: testName('project', t), type: t.type, severity: t.severity, description: t.description ?? '' })),
    lineage: { nodes, edges: edges.filter((e) => ids.has(e.from) && ids.has(e.to)) },
  };
}

