/**
 * @module Portal first load in Debian's Chromium (cold cache, loopback): bytes transferred on the wire (gzip as
 * served) and time to interactive, for the sign-in page and for the signed-in portal. Baseline in the same run:
 * the uncompressed size of the same responses.
 *
 *   npm run bench:ui        (needs /usr/bin/chromium and a built UI: npm run build:web)
 *
 * Time to interactive = navigation start → the page's main control is visible and enabled (the "Sign in" button;
 * the address card of the portal, which needs the API answer). Five cold runs each; median and max.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { launchChromium } from '../../test/e2e/support/browser.ts';
import { E2E_OWNER, spawnServer } from '../../test/e2e/support/server-process.ts';

const RUNS = 5;

interface Load {
  transferred: number;
  decoded: number;
  requests: number;
  ttiMs: number;
}

async function coldLoad(browser: Browser, url: string, ready: string, signIn?: string): Promise<Load> {
  const context = await browser.newContext();
  if (signIn) {
    // The session cookie lands in the context's jar; the page cache stays cold.
    await context.request.post(`${signIn}/api/v1/portal/login`, { data: { username: E2E_OWNER.username, password: E2E_OWNER.password } });
  }
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
  let transferred = 0;
  let decoded = 0;
  let requests = 0;
  const sizes = new Map<string, number>();
  cdp.on('Network.dataReceived', (e) => sizes.set(e.requestId, (sizes.get(e.requestId) ?? 0) + e.dataLength));
  cdp.on('Network.loadingFinished', (e) => {
    requests += 1;
    transferred += e.encodedDataLength;
    decoded += sizes.get(e.requestId) ?? 0;
  });
  const started = performance.now();
  await page.goto(url);
  await page.locator(ready).first().waitFor({ state: 'visible' });
  const ttiMs = performance.now() - started;
  await page.waitForLoadState('networkidle').catch(() => undefined);
  await context.close();
  return { transferred, decoded, requests, ttiMs };
}

function summary(name: string, loads: Load[]): void {
  const tti = loads.map((l) => l.ttiMs).sort((a, b) => a - b);
  const last = loads.at(-1) as Load;
  const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;
  console.log(
    `${name}: ${kb(last.transferred)} transferred (${kb(last.decoded)} uncompressed, ${last.requests} requests); ` +
      `time to interactive median ${tti[Math.floor(tti.length / 2)]?.toFixed(0)} ms, max ${tti.at(-1)?.toFixed(0)} ms`,
  );
}

const dataDir = mkdtempSync(join(tmpdir(), 'portcullis-bench-ui-'));
const server = await spawnServer({ dataDir });
const browser = await launchChromium();
try {
  const signInPage: Load[] = [];
  const portal: Load[] = [];
  for (let i = 0; i < RUNS; i++) {
    signInPage.push(await coldLoad(browser, `${server.url}/login`, 'button[type=submit]:not([disabled])'));
    portal.push(await coldLoad(browser, `${server.url}/`, '[data-testid=client-ip]', server.url));
  }
  summary('portal sign-in page /login', signInPage);
  summary('signed-in portal /', portal);
} finally {
  await browser.close();
  await server.stop('SIGTERM');
  rmSync(dataDir, { recursive: true, force: true });
}
