/** GraphiQL loads in a real headless browser (Debian's Chromium) and runs a query with a token. */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type Started } from '../../src/server/start.ts';
import { harness, type Harness } from './helpers.ts';

let h: Harness;
let started: Started;
beforeAll(async () => {
  h = await harness();
  started = await startServer(h.app, 0, '127.0.0.1');
});
afterAll(async () => {
  await started.close();
  await h.close();
});

describe('GraphiQL', () => {
  it('loads without a CDN and runs a query with a bearer token (screenshot)', async (ctx) => {
    const { launchChromiumOrSkip } = await import('../setup/browser.ts');
    const browser = await launchChromiumOrSkip(ctx);
    if (!browser) return;
    const t = h.fx.district.teachers[0]!;
    const token = await h.token({ role: 'teacher', staffId: t.staff_unique_id });
    try {
      const context = await browser.newContext({ viewport: { width: 1400, height: 900 }, extraHTTPHeaders: { authorization: `Bearer ${token}` } });
      const page = await context.newPage();
      const outside: string[] = [];
      page.on('request', (r) => {
        if (!r.url().startsWith(`http://127.0.0.1:${started.port}`) && !r.url().startsWith('blob:') && !r.url().startsWith('data:')) outside.push(r.url());
      });
      await page.goto(`http://127.0.0.1:${started.port}/graphql`);
      await page.locator('.graphiql-execute-button').waitFor({ timeout: 30_000 });
      const response = page.waitForResponse((r) => r.url().endsWith('/graphql') && r.request().method() === 'POST' && (r.request().postData() ?? '').includes('published'));
      await page.locator('.graphiql-execute-button').click();
      const res = await response;
      expect(res.status()).toBe(200);
      const body = (await res.json()) as { data: { viewer: { role: string }; published: { snapshot: { id: string } } } };
      expect(body.data.viewer.role).toBe('teacher');
      expect(body.data.published.snapshot.id).toBe('2');
      // the response pane shows the answer (GraphiQL renders it in its editor)
      await expect
        .poll(async () => (await page.locator('.graphiql-response').innerText().catch(() => '')).replace(/\s+/g, ' '), { timeout: 20_000 })
        .toMatch(/dataThrough.{1,6}2026-03-27/);
      expect(outside).toEqual([]);
      const shot = path.join(os.tmpdir(), 'edlake-screenshots', 'graphiql.png');
      await fs.mkdir(path.dirname(shot), { recursive: true });
      const png = await page.screenshot({ path: shot });
      expect(png.subarray(1, 4).toString()).toBe('PNG');
      console.log(`GraphiQL screenshot: ${shot} (${png.length} bytes)`);
    } finally {
      await browser.close();
    }
  });
});
