/**
 * @module The console's Distribution page in Debian's Chromium against `npm start`'s server process (embedded store,
 * the emulated pfSense lab as the site's brain, live writes allowed). A canonical VLAN is planned from the page (every
 * step a create, nothing written), run ("Run"): the detail shows each step done with its compensation, and the lab
 * box holds the VLAN interface; "Roll back" undoes it (the box no longer lists it). axe-core finds no serious or
 * critical violation. Screenshots: `.tmp/screenshots/`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type AxeViolation, choose, CHROMIUM_MISSING, launchChromium, screenshot, seriousA11yViolations, signInToConsole } from './support/browser.ts';
import { type ApiCaller, caller, E2E_OWNER, eventually, ownerToken, type ServerProcess, spawnServer } from './support/server-process.ts';
import { ensureWebBuild } from './support/web-build.ts';

const LAB_GATEWAY = 'lab-pfsense';

describe.skipIf(CHROMIUM_MISSING !== null)(`console distribution page in Chromium ${CHROMIUM_MISSING ?? ''}`, () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'portcullis-e2e-ui-distribution-'));
  let server: ServerProcess;
  let browser: Browser;
  let owner: ApiCaller;
  let siteName: string;
  let gatewayId: string;
  const consoleErrors: string[] = [];
  let violations: AxeViolation[] = [];

  beforeAll(async () => {
    ensureWebBuild();
    server = await spawnServer({ dataDir, env: { PORTCULLIS_LAB: undefined, PORTCULLIS_READ_ONLY: 'false', PORTCULLIS_JOBS: 'off' } });
    owner = caller(server.url, { token: await ownerToken(server.url) });
    const gateway = await eventually(async () => {
      const list = await owner.call<{ items: { id: string; name: string; site_id: string }[] }>('GET', '/api/v1/firewall/gateways');
      return list.items.find((g) => g.name === LAB_GATEWAY);
    }, 'the lab gateway');
    gatewayId = gateway.id;
    const sites = await owner.call<{ items: { id: string; name: string }[] }>('GET', '/api/v1/sites');
    siteName = sites.items.find((s) => s.id === gateway.site_id)?.name as string;
    await owner.call('PUT', `/api/v1/firewall/topology/${gateway.site_id}`, { assignments: [{ gateway_id: gateway.id, role: 'brain' }] });
    await owner.call('POST', '/api/v1/firewall/vlans', { site_id: gateway.site_id, vlan_id: 77, name: 'printers', ipv4_subnet: '10.77.0.0/24' });
    browser = await launchChromium();
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop('SIGTERM');
    rmSync(dataDir, { recursive: true, force: true });
  });

  let current: Page | null = null;
  afterEach(async (ctx) => {
    if (ctx.task.result?.state === 'fail' && current && !current.isClosed()) {
      await screenshot(current, `FAILED-distribution-${ctx.task.name.slice(0, 40).replace(/\W+/g, '-')}`).catch(() => undefined);
    }
    await current?.context().close().catch(() => undefined);
    current = null;
  });

  const onBox = async () =>
    (await owner.call<{ items: { tag: number; parent: string }[] }>('GET', `/api/v1/firewall/gateways/${gatewayId}/vlan-interfaces`)).items.filter(
      (v) => v.tag === 77,
    );

  it('plans, runs and rolls back a distribution from the page', async () => {
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 }, reducedMotion: 'reduce' });
    const page = await context.newPage();
    current = page;
    page.setDefaultTimeout(20_000);
    page.on('console', (m) => {
      if (m.type() === 'error' && !/responded with a status of 4\d\d/.test(m.text())) consoleErrors.push(m.text());
    });
    page.on('pageerror', (e) => consoleErrors.push(String(e)));
    await signInToConsole(page, server.url, E2E_OWNER);
    await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Distribution', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: 'Distribution' }).waitFor();

    const main = page.getByRole('main');
    await choose(page, main, 'Site', siteName);
    await choose(page, main, 'Canonical VLAN', '77 printers');
    await page.getByRole('button', { name: 'Distribute' }).click();
    const detail = page.getByLabel('Distribution detail');
    const steps = detail.getByRole('table', { name: 'Plan and per-step results' });
    await detail.getByText('planned').first().waitFor();
    await steps.getByRole('cell', { name: 'vlan interface vtnet1.77', exact: true }).waitFor();
    expect(await onBox()).toEqual([]);
    violations = await seriousA11yViolations(page);
    await screenshot(page, 'console-distribution-planned');

    await detail.getByRole('button', { name: 'Run' }).click();
    await detail.getByText('completed').first().waitFor();
    await steps.getByRole('cell', { name: 'delete vtnet1.77', exact: true }).waitFor();
    expect(await onBox()).toEqual([expect.objectContaining({ parent: 'vtnet1', tag: 77 })]);
    await screenshot(page, 'console-distribution-completed');

    await detail.getByRole('button', { name: 'Roll back' }).click();
    await detail.getByText('rolled back').first().waitFor();
    await steps.getByRole('cell', { name: 'compensated', exact: true }).waitFor();
    expect(await onBox()).toEqual([]);

    expect(violations).toEqual([]);
    expect(consoleErrors).toEqual([]);
  }, 180_000);
});
