import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDictionary, type Dictionary } from '../../pipeline/dictionary/build.ts';
import { renderDictionaryHtml } from '../../pipeline/dictionary/render.ts';

const SQL = path.join(import.meta.dirname, 'fixtures', 'sql');

/** Minimal CSV reader for the oracle (the seed files have no quoted commas in these columns). */
async function csvRows(file: string): Promise<Array<Record<string, string>>> {
  const [head, ...lines] = (await fs.readFile(file, 'utf8')).trim().split(/\r?\n/);
  const cols = head!.split(',');
  return lines.map((l) => Object.fromEntries(l.split(',').map((v, i) => [cols[i], v])));
}

describe('data dictionary', () => {
  let d: Dictionary;
  beforeAll(async () => {
    d = await buildDictionary({ sqlDir: SQL, now: new Date('2026-03-03T10:00:00Z') });
  });

  it('documents every model column with meaning, type, PII class and Ed-Fi domain, and the tests', () => {
    const v = d.models.find((m) => m.name === 'v_equity_outcomes')!;
    expect(v.published).toBe(true);
    expect(d.models.find((m) => m.name === 'dim_school')!.published).toBe(false);
    expect(v.columns.map((c) => [c.name, c.type, c.pii, c.edfi_domain])).toEqual([
      ['tenant', 'VARCHAR', 'none', 'Education Organization'],
      ['school_id', 'VARCHAR', 'none', 'Education Organization'],
      ['n_students', 'BIGINT', 'none', 'Enrollment'],
      ['suppressed', 'BOOLEAN', 'none', 'Enrollment'],
    ]);
    expect(v.tests).toEqual([{ name: 'v_equity_outcomes.range_n_students', type: 'range', severity: 'error', description: 'counts are not negative' }]);
    expect(v.business_rules[0]).toMatch(/small_group_max_suppressed/);
  });

  it('carries the threshold values in force from the seeds', async () => {
    const v = d.models.find((m) => m.name === 'v_equity_outcomes')!;
    expect(v.seeds).toEqual(['parameters']);
    const fromCsv = await csvRows(path.resolve('seeds/reference/parameters.csv'));
    const seed = d.seeds.find((s) => s.name === 'parameters')!;
    const inDict = Object.fromEntries(seed.rows.map((r) => [r['parameter'], String(r['value'])]));
    for (const r of fromCsv) expect(Number(inDict[r['parameter']!])).toBe(Number(r['value']));
    expect(inDict['small_group_max_suppressed']).toBe('10');
  });

  it('traces lineage from the delivered format to the published view, by table and by column', () => {
    const has = (from: string, to: string) => d.lineage.edges.some((e) => e.from === from && e.to === to);
    expect(has('format.oneroster.orgs', 'refined.schools')).toBe(true);
    expect(has('refined.schools', 'marts.dim_school')).toBe(true);
    expect(has('marts.dim_school', 'marts.v_equity_outcomes')).toBe(true);
    expect(has('refined.student_school_associations', 'marts.v_equity_outcomes')).toBe(true);
    expect(has('seeds.parameters', 'marts.v_equity_outcomes')).toBe(true);
    // Column level: OneRoster orgs.csv `sourcedId` becomes refined.schools.school_id (oneroster.ts mapping).
    const school = d.refined.find((e) => e.entity === 'schools')!;
    expect(school.columns.find((c) => c.name === 'school_id')!.lineage).toContain('format.oneroster.orgs.sourcedId');
    expect(school.fed_by).toContain('oneroster.orgs');
    const dim = d.models.find((m) => m.name === 'dim_school')!;
    expect(dim.columns.find((c) => c.name === 'name_of_institution')!.lineage).toEqual(['refined.schools.name_of_institution']);
    // Refined columns carry the contract's PII classes: a student key is a key, never direct.
    const students = d.refined.find((e) => e.entity === 'students')!;
    expect(students.columns.find((c) => c.name === 'student_key')!.pii).toBe('key');
    expect(d.refined.flatMap((e) => e.columns).some((c) => c.pii === 'direct')).toBe(false);
  });

  it('renders a page with every published view, its lineage graph, and escaped text', () => {
    const html = renderDictionaryHtml(d, { snapshot: { snapshot_id: 7, published_at: '2026-03-03T10:00:00.000Z', data_through: '2026-03-02' } });
    expect(html).toContain('id="marts.v_equity_outcomes"');
    expect(html).toContain('id="lineage-v_equity_outcomes"');
    expect(html).toContain('snapshot 7, published 2026-03-03T10:00:00.000Z, data through 2026-03-02');
    expect(html).toContain('Name of the school &lt;b&gt;as delivered&lt;/b&gt;.');
    expect(html).not.toContain('<b>as delivered</b>');
    // The view's own graph holds exactly its upstream: not unrelated formats such as MAP Growth.
    const viewSvg = html.slice(html.indexOf('id="lineage-v_equity_outcomes"'), html.indexOf('</svg>', html.indexOf('id="lineage-v_equity_outcomes"')));
    expect(viewSvg).toContain('oneroster.orgs');
    expect(viewSvg).not.toContain('nwea_map.assessment_results');
  });
});

describe('the dictionary page in a real browser', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'edlake-dict-'));
  });
  afterAll(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('renders in headless Chromium, shows every published view and its lineage (screenshot)', async (ctx) => {
    const { launchChromiumOrSkip } = await import('../setup/browser.ts');
    const d = await buildDictionary({ sqlDir: SQL });
    const file = path.join(dir, 'index.html');
    await fs.writeFile(file, renderDictionaryHtml(d));
    const browser = await launchChromiumOrSkip(ctx);
    if (!browser) return;
    try {
      const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
      await page.goto(`file://${file}`);
      const views = d.models.filter((m) => m.published).map((m) => m.name);
      for (const v of views) {
        const h = page.locator(`section[id="marts.${v}"] h3`);
        expect(await h.isVisible()).toBe(true);
        const boxes = await page.locator(`svg[id="lineage-${v}"] g.node`).count();
        expect(boxes).toBeGreaterThan(3);
        const box = await page.locator(`svg[id="lineage-${v}"]`).boundingBox();
        expect(box!.width).toBeGreaterThan(300);
      }
      const shot = path.join(os.tmpdir(), 'edlake-screenshots', 'dictionary.png');
      await fs.mkdir(path.dirname(shot), { recursive: true });
      const png = await page.screenshot({ path: shot, fullPage: false });
      expect(png.subarray(1, 4).toString()).toBe('PNG');
      const graph = path.join(path.dirname(shot), 'dictionary-lineage.png');
      await page.locator(`svg[id="lineage-${views[0]}"]`).screenshot({ path: graph });
      console.log(`dictionary screenshots: ${shot} (${png.length} bytes), ${graph}`);
    } finally {
      await browser.close();
    }
  });
});

describe('the dictionary kept in each snapshot', () => {
  it('a past snapshot shows the dictionary that was true then (also through edlake docs build)', async () => {
    const { Db } = await import('../../src/db/duckdb.ts');
    const { publishStage } = await import('../../pipeline/publish/publish.ts');
    const { openSnapshot } = await import('../../src/catalog/index.ts');
    const { renderSnapshotDocs } = await import('../../pipeline/dictionary/render.ts');
    const { buildNight, TABLES } = await import('../catalog/fixture.ts');
    const { spawnSync } = await import('node:child_process');
    const lake = await fs.mkdtemp(path.join(os.tmpdir(), 'edlake-dict-snap-'));
    const sqlDir = path.join(lake, 'sql');
    await fs.cp(SQL, sqlDir, { recursive: true });
    const db = await Db.open(':memory:');
    const publish = async (night: number) => {
      await buildNight(db, night);
      return publishStage({
        db, lake, runId: `run-${night}`, dataThrough: `2026-03-0${night}`, timezone: 'America/Los_Angeles', tables: TABLES, sourceFiles: [],
        dataTests: null, modelVersions: {}, sqlDir, now: new Date(`2026-03-0${night + 2}T10:00:00Z`),
      });
    };
    await publish(1);
    const yml = path.join(sqlDir, 'views', 'v_equity_outcomes.yml');
    await fs.writeFile(yml, (await fs.readFile(yml, 'utf8')).replace('are flagged suppressed.', 'are flagged suppressed (rule revised on night 2).'));
    await publish(2);
    const then = await openSnapshot(lake, { asOf: '2026-03-03', timezone: 'America/Los_Angeles' });
    const now = await openSnapshot(lake);
    const rule = (m: typeof then.manifest) => JSON.stringify(m.dictionary).match(/Groups of [^"]*/)![0];
    expect(rule(then.manifest)).toBe('Groups of small_group_max_suppressed students or fewer (seeds.parameters) are flagged suppressed.');
    expect(rule(now.manifest)).toMatch(/revised on night 2/);
    expect(renderSnapshotDocs(then.manifest)).toContain('snapshot 1, published 2026-03-03T10:00:00.000Z');
    expect(renderSnapshotDocs(then.manifest)).not.toContain('revised on night 2');
    then.close();
    now.close();
    db.close();
    const out = path.join(lake, 'site');
    const r = spawnSync(process.execPath, ['--import', 'tsx', path.resolve('src/cli.ts'), 'docs', 'build', '--lake', lake, '--snapshot', '1', '--out', out], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const html = await fs.readFile(path.join(out, 'index.html'), 'utf8');
    expect(html).toContain('id="marts.v_equity_outcomes"');
    expect(html).not.toContain('revised on night 2');
    expect(JSON.parse(await fs.readFile(path.join(out, 'dictionary.json'), 'utf8')).dictionary_version).toBe(1);
    await fs.rm(lake, { recursive: true, force: true });
  });
});
