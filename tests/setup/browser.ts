/**
 * Finds Debian's Chromium for browser tests. Tests call `findChromium()` and skip with the returned
 * message when it is missing (install it with `npm run setup:browser`).
 */
import { existsSync } from 'node:fs';

const CANDIDATES = [process.env['EDLAKE_CHROMIUM'], '/usr/bin/chromium', '/usr/bin/chromium-browser'].filter(
  (p): p is string => typeof p === 'string' && p.length > 0,
);

export function findChromium(): { path: string } | { missing: string } {
  for (const p of CANDIDATES) if (existsSync(p)) return { path: p };
  return { missing: 'Chromium not found (looked in /usr/bin/chromium): run `npm run setup:browser` to install Debian’s chromium; browser test skipped' };
}

/** Launch options that work as root in this sandbox with no outside network. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

/**
 * Launch headless Chromium for a browser test, or skip the test with the reason when it is missing.
 * Returns undefined after skipping.
 */
export async function launchChromiumOrSkip(ctx: { skip: () => void }): Promise<import('playwright-core').Browser | undefined> {
  const found = findChromium();
  if ('missing' in found) {
    console.warn(found.missing);
    ctx.skip();
    return undefined;
  }
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath: found.path, args: CHROMIUM_ARGS });
}
