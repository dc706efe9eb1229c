/** The data dictionary's shape (kept in each snapshot's manifest as JSON). */
import type { Json } from '../../src/catalog/format.ts';

export type DictColumn = {
  name: string;
  type: string;
  /** Type found in the published table, when the dictionary was built against one. */
  actual_type: string | null;
  description: string;
  pii: string;
  edfi_domain: string | null;
  rules: string[];
  /** Upstream columns: `<node id>.<column>` (node ids as in `lineage.nodes`). */
  lineage: string[];
  lineage_by_name: boolean;
};

export type DictFormat = {
  id: string;
  node: string;
  source: string;
  source_description: string;
  description: string;
  format: string;
  /** Logical column → header names that deliver it (first is the canonical name). */
  columns: Array<{ name: string; headers: string[] }>;
  entities: string[];
};

export type DictRefined = {
  node: string;
  entity: string;
  edfi_resource: string;
  edfi_domain: string;
  description: string;
  primary_key: string[];
  columns: DictColumn[];
  checks: string[];
  fed_by: string[];
};

export type DictTest = { name: string; type: string; severity: string; description: string };

export type DictModel = {
  node: string;
  name: string;
  layer: string;
  published: boolean;
  overview: string;
  grain: string;
  primary_key: string[];
  business_rules: string[];
  columns: DictColumn[];
  tests: DictTest[];
  depends_on: string[];
  reads: string[];
  seeds: string[];
  example_query: string;
};

export type DictSeed = {
  node: string;
  name: string;
  description: string;
  columns: Array<{ name: string; type: string; description: string }>;
  row_count: number;
  /** The values in force (at most `SEED_ROW_LIMIT` rows). */
  rows: Array<Record<string, string | number | boolean | null>>;
};

export type LineageNode = { id: string; kind: 'format' | 'refined' | 'seed' | 'model' | 'view'; label: string; layer: string };
export type LineageEdge = { from: string; to: string };

export type Dictionary = {
  dictionary_version: 1;
  built_at: string;
  overview: string;
  formats: DictFormat[];
  refined: DictRefined[];
  models: DictModel[];
  seeds: DictSeed[];
  project_tests: DictTest[];
  lineage: { nodes: LineageNode[]; edges: LineageEdge[] };
};


/** The dictionary stored in a manifest, or null when the manifest has none (or an unknown version). */
export function asDictionary(j: Json | undefined): Dictionary | null {
  if (j === null || j === undefined || typeof j !== 'object' || Array.isArray(j)) return null;
  if (j['dictionary_version'] !== 1) return null;
  for (const k of ['formats', 'refined', 'models', 'seeds', 'project_tests']) if (!Array.isArray(j[k])) return null;
  const lin = j['lineage'];
  if (lin === null || typeof lin !== 'object' || Array.isArray(lin) || !Array.isArray(lin['nodes']) || !Array.isArray(lin['edges'])) return null;
  return j as unknown as Dictionary;
}

/** Every node upstream of `id` (inclusive), for a view's own lineage graph. */
export function upstream(d: Dictionary, id: string): Set<string> {
  const into = new Map<string, string[]>();
  for (const e of d.lineage.edges) into.set(e.to, [...(into.get(e.to) ?? []), e.from]);
  const seen = new Set<string>([id]);
  const stack = [id];
  while (stack.length) {
    const n = stack.pop() as string;
    for (const f of into.get(n) ?? []) {
      if (!seen.has(f)) {
        seen.add(f);
        stack.push(f);
      }
    }
  }
  return seen;
}
