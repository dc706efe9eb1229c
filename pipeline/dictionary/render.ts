/**
 * The data dictionary as one static HTML page (no framework, no script): every published view and
 * model, refined entity, delivered format and reference table, with hand-drawn SVG lineage graphs
 * (the whole flow, and each view's own upstream). The API serves it at `/docs` from the snapshot it
 * answers with; `edlake docs build --out DIR` writes the same page to files.
 */
import type { Manifest } from '../../src/catalog/format.ts';
import { asDictionary, upstream, type DictColumn, type DictModel, type DictSeed, type Dictionary, type LineageNode } from './types.ts';

export interface RenderContext {
  snapshot?: { snapshot_id: number; published_at: string; data_through: string | null } | null;
  title?: string;
}

export function esc(s: unknown): string {
  return String(s ?? '')
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

const COLUMNS: Array<{ key: string; title: string; match: (n: LineageNode) => boolean }> = [
  { key: 'format', title: 'delivered formats', match: (n) => n.kind === 'format' },
  { key: 'refined', title: 'refined (Ed-Fi) and seeds', match: (n) => n.kind === 'refined' || n.kind === 'seed' },
  { key: 'build', title: 'build', match: (n) => n.layer === 'build' },
  { key: 'dimension', title: 'dimensions', match: (n) => n.layer === 'dimension' },
  { key: 'fact', title: 'facts', match: (n) => n.layer === 'fact' },
  { key: 'measure', title: 'measures', match: (n) => n.layer === 'measure' },
  { key: 'view', title: 'published views', match: (n) => n.kind === 'view' },
];

const KIND_COLOR: Record<LineageNode['kind'], string> = {
  format: '#fde2c8',
  refined: '#d6e9f8',
  seed: '#e8e2f4',
  model: '#e1f2dd',
  view: '#ffd966',
};

/** Hand-drawn lineage graph: one column per stage, nodes ordered to keep edges short, bezier edges. */
export function lineageSvg(d: Dictionary, only?: Set<string>, id = 'lineage'): string {
  const nodes = d.lineage.nodes.filter((n) => !only || only.has(n.id));
  const keep = new Set(nodes.map((n) => n.id));
  const edges = d.lineage.edges.filter((e) => keep.has(e.from) && keep.has(e.to));
  const preds = new Map<string, string[]>();
  for (const e of edges) preds.set(e.to, [...(preds.get(e.to) ?? []), e.from]);
  const cols = COLUMNS.map((c) => ({ ...c, nodes: nodes.filter(c.match) })).filter((c) => c.nodes.length > 0);
  const nodeW = 200;
  const gap = 70;
  const rowH = 24;
  const top = 30;
  const pos = new Map<string, { x: number; y: number }>();
  cols.forEach((c, ci) => {
    // Barycentre ordering: a node goes near the mean position of what it reads.
    const score = (n: LineageNode) => {
      const ys = (preds.get(n.id) ?? []).map((p) => pos.get(p)?.y).filter((y): y is number => y !== undefined);
      return ys.length ? ys.reduce((a, b) => a + b, 0) / ys.length : Number.MAX_SAFE_INTEGER;
    };
    const kindRank = (n: LineageNode) => (n.kind === 'seed' ? 1 : 0); // seeds below the refined entities
    const ordered =
      ci === 0
        ? [...c.nodes].sort((a, b) => a.label.localeCompare(b.label))
        : [...c.nodes].sort((a, b) => kindRank(a) - kindRank(b) || score(a) - score(b) || a.label.localeCompare(b.label));
    ordered.forEach((n, i) => pos.set(n.id, { x: ci * (nodeW + gap) + 10, y: top + i * rowH }));
  });
  const height = top + Math.max(1, ...cols.map((c) => c.nodes.length)) * rowH + 10;
  const width = cols.length * (nodeW + gap) - gap + 20;
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" class="lineage" id="${esc(id)}" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="lineage graph">`,
  );
  cols.forEach((c, ci) => parts.push(`<text x="${ci * (nodeW + gap) + 10}" y="16" class="colhead">${esc(c.title)}</text>`));
  for (const e of edges) {
    const a = pos.get(e.from);
    const b = pos.get(e.to);
    if (!a || !b) continue;
    const x1 = a.x + nodeW;
    const y1 = a.y + 9;
    const x2 = b.x;
    const y2 = b.y + 9;
    const dx = Math.max(30, Math.abs(x2 - x1) / 2);
    // An edge that skips a stage is dashed: it passes behind the boxes of the stages between.
    const long = x2 - x1 > gap + 1;
    parts.push(`<path d="M${x1},${y1} C${x1 + dx},${y1} ${x2 - dx},${y2} ${x2},${y2}" class="edge${long ? ' long' : ''}"/>`);
  }
  for (const n of nodes) {
    const p = pos.get(n.id);
    if (!p) continue;
    const label = n.label.length > 30 ? `${n.label.slice(0, 29)}…` : n.label;
    parts.push(
      `<a href="#${esc(n.id)}"><g class="node ${n.kind}"><title>${esc(n.id)}</title><rect x="${p.x}" y="${p.y}" width="${nodeW}" height="18" rx="4" fill="${KIND_COLOR[n.kind]}"/><text x="${p.x + 6}" y="${p.y + 13}">${esc(label)}</text></g></a>`,
    );
  }
  parts.push('</svg>');
  return parts.join('');
}

function columnsTable(cols: DictColumn[]): string {
  const rows = cols
    .map(
      (c) =>
        `<tr><td><code>${esc(c.name)}</code></td><td>${esc(c.type)}${c.actual_type && c.actual_type !== c.type ? ` <span class="muted">(${esc(c.actual_type)})</span>` : ''}</td><td>${esc(c.description)}${
          c.rules.length ? `<div class="rules">${c.rules.map(esc).join('; ')}</div>` : ''
        }</td><td><span class="pii pii-${esc(c.pii)}">${esc(c.pii)}</span></td><td>${esc(c.edfi_domain ?? '')}</td><td class="lin">${c.lineage
          .map((l) => `<code>${esc(l)}</code>`)
          .join('<br>')}${c.lineage_by_name ? ' <span class="muted">(by name)</span>' : ''}</td></tr>`,
    )
    .join('');
  return `<table class="cols"><thead><tr><th>column</th><th>type</th><th>meaning and rules</th><th>PII</th><th>Ed-Fi domain</th><th>lineage</th></tr></thead><tbody>${rows}</tbody></table>`;
}

function seedTable(s: DictSeed): string {
  const head = s.columns.map((c) => `<th title="${esc(c.description)}">${esc(c.name)}</th>`).join('');
  const body = s.rows.map((r) => `<tr>${s.columns.map((c) => `<td>${esc(r[c.name])}</td>`).join('')}</tr>`).join('');
  const more = s.row_count > s.rows.length ? `<p class="muted">${s.row_count - s.rows.length} more rows not shown.</p>` : '';
  return `<table class="seed"><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>${more}`;
}

function modelSection(d: Dictionary, m: DictModel, seedsByName: Map<string, DictSeed>): string {
  const seeds = m.seeds.map((s) => seedsByName.get(s)).filter((s): s is DictSeed => s !== undefined);
  return `<section class="model ${m.published ? 'published' : ''}" id="${esc(m.node)}">
<h3>${esc(m.name)} <span class="tag">${esc(m.layer)}</span>${m.published ? ' <span class="tag pub">published view</span>' : ''}</h3>
<p>${esc(m.overview)}</p>
<dl><dt>grain</dt><dd>${esc(m.grain)}</dd><dt>primary key</dt><dd><code>${m.primary_key.map(esc).join(', ')}</code></dd>
<dt>reads</dt><dd>${[...m.depends_on.map((x) => `marts.${x}`), ...m.reads].map((r) => `<a href="#${esc(r)}"><code>${esc(r)}</code></a>`).join(' ') || '-'}</dd></dl>
${m.business_rules.length ? `<h4>Business rules</h4><ul>${m.business_rules.map((r) => `<li>${esc(r)}</li>`).join('')}</ul>` : ''}
${seeds.length ? `<h4>Threshold values in force</h4>${seeds.map((s) => `<details><summary><code>seeds.${esc(s.name)}</code>: ${esc(s.description)}</summary>${seedTable(s)}</details>`).join('')}` : ''}
<h4>Columns</h4>${columnsTable(m.columns)}
${m.tests.length ? `<h4>Tests</h4><ul>${m.tests.map((t) => `<li><code>${esc(t.name)}</code> (${esc(t.type)}, ${esc(t.severity)})${t.description ? `: ${esc(t.description)}` : ''}</li>`).join('')}</ul>` : ''}
<h4>Example query</h4><pre>${esc(m.example_query)}</pre>
${m.published ? `<h4>Lineage</h4><div class="graph">${lineageSvg(d, upstream(d, m.node), `lineage-${m.name}`)}</div>` : ''}
</section>`;
}

export function renderDictionaryHtml(d: Dictionary, ctx: RenderContext = {}): string {
  const title = ctx.title ?? 'edlake data dictionary';
  const seedsByName = new Map(d.seeds.map((s) => [s.name, s]));
  const views = d.models.filter((m) => m.published);
  const others = d.models.filter((m) => !m.published);
  const snap = ctx.snapshot
    ? `snapshot ${ctx.snapshot.snapshot_id}, published ${esc(ctx.snapshot.published_at)}, data through ${esc(ctx.snapshot.data_through ?? '-')}`
    : 'not from a snapshot (built from the repository)';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<style>
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#1d2330;background:#fafbfc}
header{background:#1f3a5f;color:#fff;padding:14px 24px}header h1{margin:0;font-size:22px}header p{margin:4px 0 0;opacity:.85}
nav{padding:8px 24px;background:#e9eef5;position:sticky;top:0;z-index:2}nav a{margin-right:14px;color:#1f3a5f}
main{padding:8px 24px 40px}section.model,section.entity,section.format{background:#fff;border:1px solid #dde3ea;border-radius:6px;padding:10px 16px;margin:12px 0}
section.published{border-left:5px solid #e0a800}h2{margin-top:28px;border-bottom:2px solid #1f3a5f}h3{margin:4px 0}
.tag{font-size:11px;background:#e9eef5;border-radius:3px;padding:1px 6px;font-weight:normal}.tag.pub{background:#ffd966}
table{border-collapse:collapse;margin:6px 0;font-size:13px}td,th{border:1px solid #dde3ea;padding:3px 6px;text-align:left;vertical-align:top}th{background:#f1f4f8}
.muted{color:#6b7684}.rules{color:#6b7684;font-size:12px}.lin code{font-size:11px}.pii{border-radius:3px;padding:0 4px}.pii-key{background:#d6e9f8}.pii-quasi{background:#fde2c8}.pii-direct{background:#f7c6c6}
dl{display:grid;grid-template-columns:110px 1fr;gap:2px 8px}dt{color:#6b7684}dd{margin:0}pre{background:#f1f4f8;padding:8px;overflow:auto}
.graph{overflow:auto;border:1px solid #dde3ea;background:#fff;max-height:640px}
svg.lineage text{font-size:11px;font-family:inherit}svg.lineage .colhead{font-weight:bold;fill:#1f3a5f}svg.lineage .edge{fill:none;stroke:#8a97a8;stroke-width:1;opacity:.6}svg.lineage .edge.long{stroke-dasharray:4 3}
svg.lineage .node rect{stroke:#8a97a8}svg.lineage .view rect{stroke:#a67c00;stroke-width:1.5}
</style></head>
<body>
<header><h1>${esc(title)}</h1><p>${snap}; dictionary built ${esc(d.built_at)}</p></header>
<nav><a href="#views">Published views (${views.length})</a><a href="#lineage-all">Lineage</a><a href="#marts">Marts (${others.length})</a><a href="#refined">Refined (${d.refined.length})</a><a href="#formats">Delivered formats (${d.formats.length})</a><a href="#seeds">Reference values (${d.seeds.length})</a></nav>
<main>
${d.overview ? `<p>${esc(d.overview)}</p>` : ''}
<h2 id="views">Published views</h2>
<ul class="toc">${views.map((v) => `<li><a href="#${esc(v.node)}">${esc(v.name)}</a>: ${esc(v.overview)}</li>`).join('')}</ul>
${views.map((m) => modelSection(d, m, seedsByName)).join('\n')}
<h2 id="lineage-all">Lineage: from delivered file to published view</h2>
<p class="muted">Each box links to its entry. Edges: a format feeds a refined entity (source mappings); a model reads refined entities, seeds and other models (its SQL).</p>
<div class="graph">${lineageSvg(d, undefined, 'lineage-graph')}</div>
<h2 id="marts">Marts: build steps, dimensions, facts, measures</h2>
${others.map((m) => modelSection(d, m, seedsByName)).join('\n')}
<h2 id="refined">Refined entities (analyst tier, Ed-Fi aligned, keyed)</h2>
${d.refined
  .map(
    (e) => `<section class="entity" id="${esc(e.node)}"><h3>${esc(e.entity)} <span class="tag">Ed-Fi ${esc(e.edfi_resource)}</span> <span class="tag">${esc(e.edfi_domain)}</span></h3>
<p>${esc(e.description)}</p><dl><dt>primary key</dt><dd><code>${e.primary_key.map(esc).join(', ')}</code></dd><dt>fed by</dt><dd>${e.fed_by.map((f) => `<a href="#format.${esc(f)}"><code>${esc(f)}</code></a>`).join(' ') || '-'}</dd></dl>
${e.checks.length ? `<h4>Row checks</h4><ul>${e.checks.map((c) => `<li>${esc(c)}</li>`).join('')}</ul>` : ''}
${columnsTable(e.columns)}</section>`,
  )
  .join('\n')}
<h2 id="formats">Delivered formats</h2>
${d.formats
  .map(
    (f) => `<section class="format" id="${esc(f.node)}"><h3>${esc(f.id)} <span class="tag">${esc(f.format)}</span></h3><p>${esc(f.source_description)} ${esc(f.description)}</p>
<dl><dt>feeds</dt><dd>${f.entities.map((e) => `<a href="#refined.${esc(e)}"><code>${esc(e)}</code></a>`).join(' ')}</dd></dl>
<details><summary>${f.columns.length} columns and their header names</summary><table><tbody>${f.columns.map((c) => `<tr><td><code>${esc(c.name)}</code></td><td>${c.headers.map(esc).join(' | ')}</td></tr>`).join('')}</tbody></table></details></section>`,
  )
  .join('\n')}
<h2 id="seeds">Reference values in force</h2>
${d.seeds.map((s) => `<section class="entity" id="${esc(s.node)}"><h3>seeds.${esc(s.name)}</h3><p>${esc(s.description)}</p>${seedTable(s)}</section>`).join('\n')}
${d.project_tests.length ? `<h2>Tests across layers</h2><ul>${d.project_tests.map((t) => `<li><code>${esc(t.name)}</code> (${esc(t.severity)}): ${esc(t.description)}</li>`).join('')}</ul>` : ''}
</main></body></html>
`;
}

/**
 * The `/docs` page of a snapshot: the dictionary that was true when it was published. The API calls
 * this with the manifest of the snapshot it answers with (current, or as of a date).
 */
export function renderSnapshotDocs(manifest: Manifest, title?: string): string {
  const snapshot = { snapshot_id: manifest.snapshot_id, published_at: manifest.published_at, data_through: manifest.data_through };
  const d = asDictionary(manifest.dictionary);
  if (!d) {
    return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(title ?? 'edlake data dictionary')}</title></head><body><h1>${esc(
      title ?? 'edlake data dictionary',
    )}</h1><p>Snapshot ${manifest.snapshot_id} (published ${esc(manifest.published_at)}) was published without a data dictionary.</p></body></html>\n`;
  }
  return renderDictionaryHtml(d, { snapshot, ...(title ? { title } : {}) });
}
