/**
 * The SQL model project: discovery of `sql/<layer folder>/<name>.sql` with metadata beside it,
 * and the dependency graph worked out from the SQL itself (every `marts.<model>` it reads).
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { LAYERS, type Layer, type ModelMeta, type ProjectMeta, MetadataError, parseModelMeta, parseProjectMeta } from './metadata.ts';

export const DEFAULT_SQL_DIR = fileURLToPath(new URL('../../sql/', import.meta.url));

export interface Model {
  name: string;
  layer: Layer;
  sqlFile: string;
  metaFile: string;
  sql: string;
  meta: ModelMeta;
  /** Models of `marts` this one reads. */
  dependsOn: string[];
  /** Other relations it reads (`refined.x`, `seeds.x`, `meta.x`, `raw.x`). */
  sources: string[];
}

export interface Project {
  dir: string;
  macrosSql: string;
  models: Map<string, Model>;
  /** Models in an order where each comes after everything it reads. */
  order: string[];
  meta: ProjectMeta;
}

/** Remove SQL comments so that a commented-out reference is not a dependency. */
export function stripComments(sql: string): string {
  return sql.replace(/\/\*[\s\S]*?\*\//g, ' ').replace(/--[^\n]*/g, ' ');
}

/** The relations a model's SQL reads, as `schema.table`, lower-cased and de-duplicated. */
export function referencedRelations(sql: string): string[] {
  const s = stripComments(sql).replace(/'(?:[^']|'')*'/g, "''");
  const out = new Set<string>();
  for (const m of s.matchAll(/\b(marts|refined|seeds|meta|raw|quarantine)\s*\.\s*("?)([A-Za-z_][A-Za-z0-9_]*)\2/gi)) {
    out.add(`${m[1]!.toLowerCase()}.${m[3]!.toLowerCase()}`);
  }
  // the macro edlake_param(name) reads seeds.parameters (sql/macros.sql)
  if (/\bedlake_param\s*\(/i.test(s)) out.add('seeds.parameters');
  return [...out].sort();
}

export function loadProject(dir: string = DEFAULT_SQL_DIR): Project {
  const models = new Map<string, Model>();
  for (const [layer, spec] of Object.entries(LAYERS) as Array<[Layer, (typeof LAYERS)[Layer]]>) {
    const folder = path.join(dir, spec.folder);
    if (!existsSync(folder)) continue;
    for (const f of readdirSync(folder).sort()) {
      if (!f.endsWith('.sql')) continue;
      const name = f.slice(0, -4);
      const sqlFile = path.join(folder, f);
      if (!name.startsWith(spec.prefix)) {
        throw new MetadataError(`${sqlFile}: a model in ${spec.folder}/ must be named ${spec.prefix}<name>`);
      }
      if (models.has(name)) throw new MetadataError(`${sqlFile}: a model named ${name} already exists in ${models.get(name)!.sqlFile}`);
      const metaFile = path.join(folder, `${name}.yml`);
      if (!existsSync(metaFile)) throw new MetadataError(`${sqlFile}: metadata file ${name}.yml is missing beside it`);
      const meta = parseModelMeta(readFileSync(metaFile, 'utf8'), metaFile);
      if (meta.name !== name) throw new MetadataError(`${metaFile}: name is ${meta.name}, expected ${name}`);
      const sql = readFileSync(sqlFile, 'utf8');
      const refs = referencedRelations(sql);
      models.set(name, {
        name,
        layer,
        sqlFile,
        metaFile,
        sql,
        meta,
        dependsOn: refs.filter((r) => r.startsWith('marts.')).map((r) => r.slice('marts.'.length)),
        sources: refs.filter((r) => !r.startsWith('marts.')),
      });
    }
  }
  for (const m of models.values()) {
    for (const d of m.dependsOn) {
      if (d === m.name) throw new MetadataError(`${m.sqlFile}: the model reads itself (marts.${d})`);
      if (!models.has(d)) throw new MetadataError(`${m.sqlFile}: reads marts.${d}, which no model in ${dir} creates`);
    }
    checkChunks(m);
  }
  const macrosFile = path.join(dir, 'macros.sql');
  const projectFile = path.join(dir, 'project.yml');
  return {
    dir,
    macrosSql: existsSync(macrosFile) ? readFileSync(macrosFile, 'utf8') : '',
    models,
    order: topologicalOrder(models),
    meta: existsSync(projectFile) ? parseProjectMeta(readFileSync(projectFile, 'utf8'), projectFile) : { overview: '', tests: [] },
  };
}

/**
 * A chunked model (decision 0207) is a table, reads the model its chunks are taken over, and keeps
 * its rows to the chunk with edlake_in_chunk; a model that calls edlake_in_chunk declares chunks
 * (outside a chunked build the macro's range is not set and it would select nothing).
 */
function checkChunks(m: Model): void {
  const sql = stripComments(m.sql);
  const usesMacro = /\bedlake_in_chunk\s*\(/i.test(sql);
  const c = m.meta.chunks;
  if (!c) {
    if (usesMacro) throw new MetadataError(`${m.metaFile}: the SQL calls edlake_in_chunk but the metadata declares no chunks`);
    return;
  }
  if (m.meta.materialized !== 'table') throw new MetadataError(`${m.metaFile}: chunks: only a table can be built in chunks, not a ${m.meta.materialized}`);
  const over = c.over.split('.')[0]!;
  if (!m.dependsOn.includes(over)) throw new MetadataError(`${m.metaFile}: chunks.over: ${c.over} is not a column of a model the SQL reads (marts.${over})`);
  if (!usesMacro) throw new MetadataError(`${m.metaFile}: chunks: the SQL must keep its rows to the chunk with edlake_in_chunk(<column>)`);
  // every call filters on the column the chunks are taken over (a range of another column would
  // drop or repeat rows)
  const column = c.over.split('.')[1]!;
  for (const call of sql.matchAll(/\bedlake_in_chunk\s*\(([^()]*)\)/gi)) {
    const arg = call[1]!.trim().replace(/"/g, '');
    if (arg.split('.').at(-1)!.toLowerCase() !== column) {
      throw new MetadataError(`${m.metaFile}: chunks: edlake_in_chunk(${call[1]!.trim()}) must filter on ${column}, the column of chunks.over`);
    }
  }
}

/** Kahn's algorithm, alphabetical among ready models so that the order is stable. Names a cycle. */
export function topologicalOrder(models: Map<string, Pick<Model, 'name' | 'dependsOn'>>): string[] {
  const remaining = new Map<string, Set<string>>();
  for (const m of models.values()) remaining.set(m.name, new Set(m.dependsOn));
  const order: string[] = [];
  while (remaining.size > 0) {
    const ready = [...remaining].filter(([, deps]) => deps.size === 0).map(([n]) => n).sort();
    if (ready.length === 0) {
      throw new MetadataError(`dependency cycle among models: ${findCycle(remaining).join(' → ')}`);
    }
    for (const n of ready) {
      order.push(n);
      remaining.delete(n);
      for (const deps of remaining.values()) deps.delete(n);
    }
  }
  return order;
}

function findCycle(graph: Map<string, Set<string>>): string[] {
  const start = [...graph.keys()].sort()[0]!;
  const seen: string[] = [];
  let cur = start;
  while (!seen.includes(cur)) {
    seen.push(cur);
    cur = [...(graph.get(cur) ?? [])].filter((d) => graph.has(d)).sort()[0]!;
  }
  return [...seen.slice(seen.indexOf(cur)), cur];
}

/** The selected models and everything they read, transitively, in run order. */
export function withDependencies(project: Project, selected: readonly string[]): string[] {
  const need = new Set<string>();
  const visit = (n: string) => {
    const m = project.models.get(n);
    if (!m) throw new MetadataError(`no model named ${JSON.stringify(n)} (see edlake model list)`);
    if (need.has(n)) return;
    need.add(n);
    m.dependsOn.forEach(visit);
  };
  selected.forEach(visit);
  return project.order.filter((n) => need.has(n));
}
