/**
 * @module The console's Cluster page in Debian's Chromium against `npm start`'s server process (embedded store,
 * the emulated lab on): one node, alive and marked as the answering one, holding the lease of the lab's demo
 * alias. Several nodes are test/scale/cluster.postgres.test.ts; this checks the page. Passes axe and leaves a
 * screenshot in `.tmp/screenshots/`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM_MISSING, launchChromium, screenshot, seriousA11yViolations, signInToConsole } from './support/browser.ts';
import { E2E_OWNER, type ServerProcess, spawnServer } from './support/server-process.ts';
import { ensureWebBuild } from './support/web-build.ts';

describe.skipIf(CHROMIUM_MISSING !== null)(`console cluster page in Chromium ${CHROMIUM_MISSING ?? ''}`, () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'portcullis-e2e-ui-cluster-'));
  let server: ServerProcess;
  let browser: Browser;

  beforeAll(async () => {
    ensureWebBuild();
    server = await spawnServer({ dataDir, env: { PORTCULLIS_LAB: undefined, PORTCULLIS_JOBS: 'off' } });
    browser = await launchChromium();
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop('SIGTERM');
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('lists this node, alive, with the alias it reconciles', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 860 }, reducedMotion: 'reduce' });
    const page = await context.newPage();
    page.setDefaultTimeout(20_000);
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    try {
      await signInToConsole(page, server.url, E2E_OWNER);
      await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Cluster', exact: true }).click();
      await page.getByRole('heading', { level: 1, name: 'Cluster' }).waitFor();
      const table = page.getByRole('table', { name: 'Nodes and the aliases each reconciles' });
      await table.waitFor();
      const rows = table.getByRole('row');
      expect(await rows.count()).toBe(2);
      const row = rows.nth(1);
      await row.getByText('this node').waitFor();
      await row.getByText('alive').waitFor();
      // The lab's demo knoc puts one alias on this node.
      await expect.poll(async () => (await row.textContent()) ?? '', { timeout: 15_000 }).toMatch(/portcullis_lab/);
      await page.getByText(/1 of 1 node alive on the embedded store/).waitFor();
      expect(await seriousA11yViolations(page)).toEqual([]);
      await screenshot(page, 'console-cluster');
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  }, 120_000);
});
