/**
 * @module The console's Topology and VLANs pages in Debian's Chromium against `npm start`'s server process
 * (embedded store, lab off, gateways registered through the API and never contacted). Topology: "Check" lists the
 * problem of a RouterOS brain (capability `l3_authority` missing), and a valid map is saved. VLANs: an id out of
 * 1-4094 and an overlapping subnet are refused under their inputs; a VLAN is created, gets a DHCP scope (a range
 * outside its subnet refused under "Range start") and a reservation (a duplicate MAC refused under "MAC"); a DNS
 * record is added; a template is applied to the site. The Dashboard's Orchestration section then shows the site
 * with its brain and VLAN count. Every page passes axe and leaves a screenshot.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type AxeViolation, choose, CHROMIUM_MISSING, field, launchChromium, openConsolePage, screenshot, seriousA11yViolations, signInToConsole } from './support/browser.ts';
import { type ApiCaller, caller, E2E_OWNER, ownerToken, type ServerProcess, spawnServer } from './support/server-process.ts';
import { ensureWebBuild } from './support/web-build.ts';

interface Vlan {
  id: string;
  vlan_id: number;
  name: string;
  ipv4_subnet: string | null;
}

describe.skipIf(CHROMIUM_MISSING !== null)(`console orchestration pages in Chromium ${CHROMIUM_MISSING ?? ''}`, () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'portcullis-e2e-ui-orch-'));
  let server: ServerProcess;
  let browser: Browser;
  let admin: ApiCaller;
  let siteId = '';
  let brainId = '';
  const violations: Record<string, AxeViolation[]> = {};
  const consoleErrors: string[] = [];

  beforeAll(async () => {
    ensureWebBuild();
    server = await spawnServer({ dataDir, env: { PORTCULLIS_LAB: 'false', PORTCULLIS_JOBS: 'off' } });
    admin = caller(server.url, { token: await ownerToken(server.url) });
    siteId = (await admin.call<{ id: string }>('POST', '/api/v1/sites', { name: 'e2e-topo' })).id;
    const gateway = (body: Record<string, unknown>) =>
      admin.call<{ id: string }>('POST', '/api/v1/firewall/gateways', { site_id: siteId, ...body });
    brainId = (await gateway({ name: 'edge-opn', vendor: 'opnsense', url: 'https://192.0.2.20', api_key: 'k', api_secret: 's' })).id;
    await gateway({ name: 'core-switch', vendor: 'routeros', url: 'https://192.0.2.21', username: 'admin', password: 'p' });
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
      await screenshot(current, `FAILED-orch-${ctx.task.name.slice(0, 40).replace(/\W+/g, '-')}`).catch(() => undefined);
    }
    await current?.context().close().catch(() => undefined);
    current = null;
  });

  async function consolePage(): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, reducedMotion: 'reduce' });
    const page = await context.newPage();
    current = page;
    page.setDefaultTimeout(20_000);
    page.on('console', (m) => {
      // The 400s (and the 404 of a site without a role map) are answers the UI shows; anything else is a bug.
      if (m.type() === 'error' && !/responded with a status of 4\d\d/.test(m.text())) consoleErrors.push(m.text());
    });
    page.on('pageerror', (e) => consoleErrors.push(String(e)));
    await signInToConsole(page, server.url, E2E_OWNER);
    return page;
  }

  async function visit(page: Page, name: string): Promise<void> {
    violations[name] = await seriousA11yViolations(page);
    await screenshot(page, name);
  }

  async function errorOf(page: Page, scope: Page | Locator, label: string): Promise<string> {
    const input = field(scope, label);
    await expect.poll(() => input.getAttribute('aria-invalid'), { timeout: 15_000 }).toBe('true');
    const ids = (await input.getAttribute('aria-describedby'))?.split(/\s+/).filter(Boolean) ?? [];
    const texts = await Promise.all(ids.map((id) => page.locator(`[id="${id}"]`).textContent()));
    return texts.join(' ');
  }

  it('topology: a RouterOS brain is reported by Check; a valid role map is saved', async () => {
    const page = await consolePage();
    await openConsolePage(page, 'Topology');
    await page.getByText('This site has no role map yet').waitFor();
    const form = page.getByRole('form', { name: 'Role map' });
    await choose(page, form, 'Brain', 'core-switch (routeros)');
    await form.getByRole('button', { name: 'Check' }).click();
    await page.getByText(/cannot be a brain: it lacks capability l3_authority/).waitFor();
    await visit(page, 'console-topology-problems');
    await choose(page, form, 'Brain', 'edge-opn (opnsense)');
    await form.getByRole('checkbox', { name: 'core-switch (routeros)' }).check();
    await form.getByRole('button', { name: 'Save role map' }).click();
    await page.getByText(/Brain: edge-opn \(opnsense\); limbs: core-switch \(routeros\)/).waitFor();
    const stored = await admin.call<{ brain: { gateway_id: string }; limbs: unknown[] }>('GET', `/api/v1/firewall/topology/${siteId}`);
    expect(stored.brain.gateway_id).toBe(brainId);
    expect(stored.limbs).toHaveLength(1);
    await visit(page, 'console-topology');
  }, 180_000);

  it('VLANs: refusals under their fields; a VLAN with a DHCP scope and reservation, a DNS record, a template applied', async () => {
    const page = await consolePage();
    await openConsolePage(page, 'VLANs');
    await page.getByText('No VLANs at this site yet.').waitFor();

    await page.getByRole('button', { name: 'New VLAN' }).click();
    let dialog = page.getByRole('dialog', { name: 'New VLAN' });
    await field(dialog, 'VLAN ID').fill('4095');
    await field(dialog, 'Name').fill('users');
    await field(dialog, 'IPv4 subnet').fill('10.20.0.0/24');
    await dialog.getByRole('button', { name: 'Create VLAN' }).click();
    expect(await errorOf(page, dialog, 'VLAN ID')).toMatch(/vlan_id must be an integer from 1 to 4094/);
    await visit(page, 'console-vlans-field-error');
    await field(dialog, 'VLAN ID').fill('20');
    await dialog.getByRole('button', { name: 'Create VLAN' }).click();
    await dialog.waitFor({ state: 'hidden' });
    await page.getByRole('cell', { name: 'users', exact: true }).waitFor();

    await page.getByRole('button', { name: 'New VLAN' }).click();
    dialog = page.getByRole('dialog', { name: 'New VLAN' });
    await field(dialog, 'VLAN ID').fill('21');
    await field(dialog, 'Name').fill('guests');
    await field(dialog, 'IPv4 subnet').fill('10.20.0.128/25');
    await dialog.getByRole('button', { name: 'Create VLAN' }).click();
    expect(await errorOf(page, dialog, 'IPv4 subnet')).toMatch(/overlaps 10\.20\.0\.0\/24 of VLAN 20/);
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });

    // DHCP: a range outside the subnet is refused; then a scope and a reservation; a duplicate MAC is refused.
    await page.getByRole('button', { name: 'DHCP of VLAN users' }).click();
    const drawer = page.getByRole('dialog', { name: 'DHCP of VLAN users' });
    const scopeForm = drawer.getByRole('form', { name: 'New DHCP scope' });
    await field(scopeForm, 'Range start').fill('10.20.1.10');
    await field(scopeForm, 'Range end').fill('10.20.1.99');
    await scopeForm.getByRole('button', { name: 'Add scope' }).click();
    expect(await errorOf(page, scopeForm, 'Range start')).toMatch(/not a host address of 10\.20\.0\.0\/24/);
    await field(scopeForm, 'Range start').fill('10.20.0.10');
    await field(scopeForm, 'Range end').fill('10.20.0.99');
    await scopeForm.getByRole('button', { name: 'Add scope' }).click();
    await drawer.getByRole('heading', { name: 'IPv4 scope 10.20.0.10 – 10.20.0.99' }).waitFor();
    const reservation = drawer.getByRole('form', { name: 'New IPv4 reservation' });
    await field(reservation, 'MAC').fill('aa:bb:cc:dd:ee:01');
    await field(reservation, 'Address').fill('10.20.0.50');
    await reservation.getByRole('button', { name: 'Reserve' }).click();
    await drawer.getByRole('cell', { name: 'aa:bb:cc:dd:ee:01', exact: true }).waitFor();
    await field(reservation, 'MAC').fill('AA-BB-CC-DD-EE-01');
    await field(reservation, 'Address').fill('10.20.0.51');
    await reservation.getByRole('button', { name: 'Reserve' }).click();
    expect(await errorOf(page, reservation, 'MAC')).toMatch(/already has a reservation/);
    await visit(page, 'console-vlan-dhcp');
    await page.keyboard.press('Escape');
    await drawer.waitFor({ state: 'hidden' });

    await page.getByRole('tab', { name: 'DNS records' }).click();
    const dns = page.getByRole('form', { name: 'New DNS record' });
    await field(dns, 'Host').fill('nas');
    await field(dns, 'Address').fill('10.20.0.5');
    await dns.getByRole('button', { name: 'Add record' }).click();
    await page.getByRole('cell', { name: 'nas.home.arpa', exact: true }).waitFor();
    await visit(page, 'console-dns-records');

    await page.getByRole('tab', { name: 'Templates' }).click();
    const template = page.getByRole('form', { name: 'New template' });
    await field(template, 'Template name').fill('IoT');
    await field(template, 'Template VLAN ID').fill('30');
    await field(template, 'VLAN name').fill('iot');
    await field(template, 'Template IPv4 subnet').fill('10.30.0.0/24');
    await template.getByRole('button', { name: 'Add template' }).click();
    await page.getByRole('button', { name: 'Apply to site: template IoT' }).click();
    await page.getByText('VLAN 30 (iot) created at this site.').waitFor();
    await visit(page, 'console-vlan-templates');

    const vlans = await admin.call<{ items: Vlan[] }>('GET', `/api/v1/firewall/vlans?site_id=${siteId}`);
    expect(vlans.items.map((v) => [v.vlan_id, v.name, v.ipv4_subnet])).toEqual([
      [20, 'users', '10.20.0.0/24'],
      [30, 'iot', '10.30.0.0/24'],
    ]);
  }, 240_000);

  it('dashboard: the Orchestration section counts the role map and VLANs of the site, with its brain', async () => {
    const page = await consolePage();
    const section = page.getByRole('region', { name: 'Orchestration' });
    await section.getByText('Sites with orchestration').waitFor();
    const row = section.getByRole('row').filter({ has: page.getByRole('cell', { name: 'e2e-topo', exact: true }) });
    // Brain edge-opn, never synced (never contacted here), one limb, the two VLANs made above.
    await expect.poll(() => row.locator('td').allTextContents()).toEqual([
      'e2e-topo', 'edge-opn (opnsense)', 'never', '1', '2', '0', '0', '0', '0', '0', 'never',
    ]);
    await visit(page, 'console-dashboard-orchestration');
  }, 120_000);

  it('no page has a serious or critical axe violation, and no page logged an error', () => {
    expect(Object.keys(violations).length).toBeGreaterThanOrEqual(5);
    expect(Object.fromEntries(Object.entries(violations).filter(([, v]) => v.length > 0))).toEqual({});
    expect(consoleErrors).toEqual([]);
  });
});
