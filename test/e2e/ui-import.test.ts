/**
 * @module The console's Import page in Debian's Chromium against `npm start`'s server process (embedded store, the
 * emulated lab with a pfSense and a RouterOS box in site `lab`, live writes allowed). Before Portcullis the pfSense
 * box runs VLAN 30 with an address and the RouterOS bridge carries it. On the page: a role assignment with no brain
 * is refused (the message names roles); then the wizard is walked — start, roles (pre-picked by capability), scan
 * (VLAN 30 `extra`), decisions, "Adopt and distribute", verification aligned — and the reconciliation's alignment
 * lists VLAN 30 aligned on both boxes. The canonical state holds VLAN 30 afterwards. axe-core finds no serious or
 * critical violation. Screenshots: `.tmp/screenshots/`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type AxeViolation, choose, CHROMIUM_MISSING, field, launchChromium, screenshot, seriousA11yViolations, signInToConsole } from './support/browser.ts';
import { type ApiCaller, caller, E2E_OWNER, eventually, ownerToken, type ServerProcess, spawnServer } from './support/server-process.ts';
import { ensureWebBuild } from './support/web-build.ts';

interface GatewayRow {
  id: string;
  name: string;
  site_id: string;
}

describe.skipIf(CHROMIUM_MISSING !== null)(`console import page in Chromium ${CHROMIUM_MISSING ?? ''}`, () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'portcullis-e2e-ui-import-'));
  let server: ServerProcess;
  let browser: Browser;
  let owner: ApiCaller;
  let siteId: string;
  let siteName: string;
  const consoleErrors: string[] = [];
  let violations: AxeViolation[] = [];

  beforeAll(async () => {
    ensureWebBuild();
    server = await spawnServer({
      dataDir,
      env: { PORTCULLIS_LAB: undefined, PORTCULLIS_LAB_VENDORS: 'pfsense,routeros', PORTCULLIS_READ_ONLY: 'false', PORTCULLIS_JOBS: 'off' },
    });
    owner = caller(server.url, { token: await ownerToken(server.url) });
    const boxes = await eventually(async () => {
      const list = await owner.call<{ items: GatewayRow[] }>('GET', '/api/v1/firewall/gateways');
      const pf = list.items.find((g) => g.name === 'lab-pfsense');
      const ros = list.items.find((g) => g.name === 'lab-routeros');
      return pf && ros ? { pf, ros } : undefined;
    }, 'the lab gateways');
    siteId = boxes.pf.site_id;
    siteName = (await owner.call<{ items: { id: string; name: string }[] }>('GET', '/api/v1/sites')).items.find((s) => s.id === siteId)?.name as string;
    // The site as it ran before Portcullis.
    const seed = async (id: string, path: string, body: object) => {
      const change = await owner.call<{ status: string }>('POST', `/api/v1/firewall/gateways/${id}/${path}?force=true`, body);
      expect(change.status).toBe('applied');
    };
    await seed(boxes.pf.id, 'vlan-interfaces', { parent: 'vtnet1', tag: 30, name: 'CAMS', ipv4: '10.30.0.1/24', ipv6: null, description: 'cameras', is_enabled: true });
    await seed(boxes.ros.id, 'bridge-vlans', { bridge: 'bridge', vlan_id: 30, tagged: ['ether2'], untagged: [], description: 'cameras' });
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
      await screenshot(current, `FAILED-import-${ctx.task.name.slice(0, 40).replace(/\W+/g, '-')}`).catch(() => undefined);
    }
    await current?.context().close().catch(() => undefined);
    current = null;
  });

  async function importPage(): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 }, reducedMotion: 'reduce' });
    const page = await context.newPage();
    current = page;
    page.setDefaultTimeout(30_000);
    page.on('console', (m) => {
      // The 400 of the refused roles is an answer the page shows; anything else is a bug.
      if (m.type() === 'error' && !/responded with a status of 4\d\d/.test(m.text())) consoleErrors.push(m.text());
    });
    page.on('pageerror', (e) => consoleErrors.push(String(e)));
    await signInToConsole(page, server.url, E2E_OWNER);
    await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Import', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: 'Import' }).waitFor();
    await choose(page, page.getByRole('main'), 'Site', siteName);
    return page;
  }

  it('refuses roles without a brain, then walks all six steps and shows the alignment', async () => {
    const page = await importPage();
    const main = page.getByRole('main');

    // A session where nobody is the brain: the server's refusal is shown.
    await page.getByRole('button', { name: 'Start import' }).click();
    const devices = main.getByRole('table', { name: /Gateways of the site/ });
    await devices.getByRole('cell', { name: 'lab-pfsense (pfsense)' }).waitFor();
    await choose(page, main, 'Role of lab-pfsense', 'not used');
    await choose(page, main, 'Role of lab-routeros', 'not used');
    await page.getByRole('button', { name: 'Assign roles and scan' }).click();
    await main.getByRole('alert').filter({ hasText: /roles/ }).waitFor();
    await page.getByRole('button', { name: 'Cancel import' }).click();
    await main.getByText('Session cancelled').waitFor();

    // The real run: roles as pre-picked (pfSense brain, RouterOS limb).
    await page.getByRole('button', { name: 'Start import' }).click();
    await main.getByText('Session in progress').waitFor();
    expect(await field(main, 'Role of lab-pfsense').inputValue()).toBe('brain');
    expect(await field(main, 'Role of lab-routeros').inputValue()).toBe('limb');
    await page.getByRole('button', { name: 'Assign roles and scan' }).click();
    const scan = main.getByRole('table', { name: /one row per resource/ });
    const vlanRow = scan.getByRole('row').filter({ has: page.getByText('vlan:30', { exact: true }) });
    await vlanRow.getByText('extra').waitFor();
    expect(await field(main, 'Decision for vlan:30').inputValue()).toBe('adopt');
    violations = await seriousA11yViolations(page);
    await screenshot(page, 'console-import-scan');

    await page.getByRole('button', { name: 'Check decisions' }).click();
    await main.getByText(/Canonical changes: created vlan:30/).waitFor();
    await page.getByRole('button', { name: 'Adopt and distribute' }).click();
    await main.getByText('Every adopted resource is aligned').waitFor();
    const verification = main.getByRole('table', { name: /Verification/ });
    await verification.getByRole('row').filter({ hasText: 'lab-routeros (limb)' }).filter({ hasText: 'vlan:30' }).getByText('aligned').waitFor();
    await screenshot(page, 'console-import-verified');

    // Reconciliation of the same site.
    await page.getByRole('button', { name: 'Check alignment' }).click();
    const alignment = main.getByRole('table', { name: /Alignment/ });
    await alignment.getByRole('row').filter({ hasText: 'lab-pfsense (brain)' }).filter({ hasText: 'vlan:30' }).getByText('aligned').waitFor();
    violations.push(...(await seriousA11yViolations(page)));

    const vlans = await owner.call<{ items: { vlan_id: number; name: string; ipv4_subnet: string | null }[] }>('GET', `/api/v1/firewall/vlans?site_id=${siteId}`);
    expect(vlans.items.map((v) => [v.vlan_id, v.name, v.ipv4_subnet])).toEqual([[30, 'CAMS', '10.30.0.0/24']]);
    expect(violations).toEqual([]);
    expect(consoleErrors).toEqual([]);
  }, 240_000);
});
