/**
 * @module The console's firewall pages in Debian's Chromium against `npm start`'s server process (embedded store,
 * the emulated lab on): a rule created in the rules table is listed (and a bad address is refused under its
 * field), a settings value out of range is refused under its field, a webhook's secret is shown once, a
 * gateway's live tabs show the lab emulator's data (and say so when the vendor lacks a read), and the events
 * stream turns a grant live without a reload. Every page passes axe (no serious or critical violation) and
 * leaves a screenshot in `.tmp/screenshots/`.
 */
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type AxeViolation, choose, CHROMIUM_MISSING, field, launchChromium, openConsolePage, screenshot, seriousA11yViolations, signInToConsole } from './support/browser.ts';
import { type ApiCaller, caller, E2E_OWNER, ownerToken, type ServerProcess, spawnServer } from './support/server-process.ts';
import { ensureWebBuild } from './support/web-build.ts';

describe.skipIf(CHROMIUM_MISSING !== null)(`console firewall pages in Chromium ${CHROMIUM_MISSING ?? ''}`, () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'portcullis-e2e-ui-fw-'));
  let server: ServerProcess;
  let browser: Browser;
  let admin: ApiCaller;
  /** A webhook receiver on loopback: counts what it is sent. */
  let receiver: Server;
  let receiverUrl = '';
  const received: string[] = [];
  const violations: Record<string, AxeViolation[]> = {};
  const consoleErrors: string[] = [];

  beforeAll(async () => {
    ensureWebBuild();
    receiver = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        received.push(body);
        response.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const address = receiver.address();
    receiverUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/hook`;
    // No background jobs: the lab's periodic sync would fill the rules table this test starts empty.
    server = await spawnServer({
      dataDir,
      env: { PORTCULLIS_ALLOW_WEBHOOK_HOSTS: '127.0.0.1', PORTCULLIS_LAB: undefined, PORTCULLIS_JOBS: 'off' },
    });
    admin = caller(server.url, { token: await ownerToken(server.url) });
    browser = await launchChromium();
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop('SIGTERM');
    await new Promise((resolve) => receiver?.close(resolve));
    rmSync(dataDir, { recursive: true, force: true });
  });

  let current: Page | null = null;
  afterEach(async (ctx) => {
    if (ctx.task.result?.state === 'fail' && current && !current.isClosed()) {
      await screenshot(current, `FAILED-fw-${ctx.task.name.slice(0, 40).replace(/\W+/g, '-')}`).catch(() => undefined);
    }
    await current?.context().close().catch(() => undefined);
    current = null;
  });

  async function consolePage(): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 860 }, reducedMotion: 'reduce' });
    const page = await context.newPage();
    current = page;
    page.setDefaultTimeout(20_000);
    page.on('console', (m) => {
      // The 400s and 501s these tests provoke are answers the UI shows; anything else is a bug.
      if (m.type() === 'error' && !/responded with a status of (4\d\d|501)/.test(m.text())) consoleErrors.push(m.text());
    });
    page.on('pageerror', (e) => consoleErrors.push(String(e)));
    await signInToConsole(page, server.url, E2E_OWNER);
    return page;
  }

  async function visit(page: Page, name: string): Promise<void> {
    violations[name] = await seriousA11yViolations(page);
    await screenshot(page, name);
  }

  /** The error text an input is described by (Mantine wires `aria-describedby` to its error). */
  async function errorOf(page: Page, scope: Page | Locator, label: string): Promise<string> {
    const input = field(scope, label);
    await expect.poll(() => input.getAttribute('aria-invalid'), { timeout: 15_000 }).toBe('true');
    const ids = (await input.getAttribute('aria-describedby'))?.split(/\s+/).filter(Boolean) ?? [];
    const texts = await Promise.all(ids.map((id) => page.locator(`[id="${id}"]`).textContent()));
    return texts.join(' ');
  }

  it('firewall rules: a bad address is refused under its field; a rule created in the table is listed and can be moved', async () => {
    const page = await consolePage();
    await openConsolePage(page, 'Firewall rules');
    await page.getByText('No rules match.').waitFor();
    await visit(page, 'console-firewall-rules-empty');
    for (const description of ['e2e first', 'e2e ssh']) {
      await page.getByRole('button', { name: 'New rule' }).click();
      const dialog = page.getByRole('dialog', { name: 'New rule' });
      await choose(page, dialog, 'Gateway', 'lab-pfsense');
      await field(dialog, 'Destination port').fill('22');
      await field(dialog, 'Description').fill(description);
      if (description === 'e2e ssh') {
        await choose(page, dialog, 'Protocol', 'tcp');
        await field(dialog, 'Destination address').fill('10.0.0.1/8');
        await dialog.getByRole('button', { name: 'Create rule' }).click();
        expect(await errorOf(page, dialog, 'Destination address')).toMatch(/dest_address/);
        await visit(page, 'console-firewall-rule-field-error');
        await field(dialog, 'Destination address').fill('10.0.0.0/8');
      } else {
        await choose(page, dialog, 'Protocol', 'tcp');
      }
      await dialog.getByRole('button', { name: 'Create rule' }).click();
      await dialog.waitFor({ state: 'hidden' });
      await page.getByRole('cell', { name: description, exact: true }).waitFor();
    }
    const rules = await admin.call<{ items: { description: string; rule_order: number; dest_address: string }[] }>('GET', '/api/v1/firewall/rules');
    expect(rules.items.find((r) => r.description === 'e2e ssh')?.dest_address).toBe('10.0.0.0/8');
    const orderOf = async (d: string) =>
      (await admin.call<{ items: { description: string; rule_order: number }[] }>('GET', '/api/v1/firewall/rules')).items.find((r) => r.description === d)?.rule_order;
    const before = await orderOf('e2e ssh');
    await page.getByRole('button', { name: 'Move rule e2e ssh up' }).click();
    await expect.poll(() => orderOf('e2e ssh')).toBe((before ?? 0) - 1);
    // Edit: the form opens with the rule's values; the change is listed.
    await page.getByRole('button', { name: 'Edit rule e2e first' }).click();
    const edit = page.getByRole('dialog', { name: 'Edit rule' });
    expect(await field(edit, 'Destination port').inputValue()).toBe('22');
    await field(edit, 'Description').fill('e2e first, edited');
    await edit.getByRole('button', { name: 'Save rule' }).click();
    await edit.waitFor({ state: 'hidden' });
    await page.getByRole('cell', { name: 'e2e first, edited', exact: true }).waitFor();
    await visit(page, 'console-firewall-rules');
    // Filters: "deny" lists none of them.
    await choose(page, page.getByRole('main'), 'Action', 'deny');
    await page.getByText('No rules match.').waitFor();
    await visit(page, 'console-firewall-rules-filtered');
  }, 180_000);

  it('settings: a value out of range is refused under its field; a value in range is saved', async () => {
    const page = await consolePage();
    await openConsolePage(page, 'Firewall settings');
    const retention = field(page, 'Log retention days');
    await retention.fill('3');
    await page.getByRole('button', { name: 'Save settings' }).click();
    expect(await errorOf(page, page, 'Log retention days')).toMatch(/log_retention_days must be an integer from 7 to 365/);
    await visit(page, 'console-firewall-settings-error');
    await retention.fill('45');
    await page.getByRole('button', { name: 'Save settings' }).click();
    await expect.poll(async () => (await admin.call<{ log_retention_days: number }>('GET', '/api/v1/firewall/settings')).log_retention_days).toBe(45);
    await visit(page, 'console-firewall-settings');
  }, 120_000);

  it('webhooks: the signing secret is shown once and never again', async () => {
    const page = await consolePage();
    await openConsolePage(page, 'Webhooks');
    await page.getByRole('button', { name: 'New webhook' }).click();
    const dialog = page.getByRole('dialog', { name: 'New webhook' });
    await field(dialog, 'Name').fill('e2e-hook');
    await field(dialog, 'URL').fill(receiverUrl);
    await dialog.getByRole('button', { name: 'Create webhook' }).click();
    await dialog.waitFor({ state: 'hidden' });
    const secret = await field(page, 'Signing secret').inputValue();
    expect(secret.length).toBeGreaterThanOrEqual(16);
    await page.getByRole('cell', { name: 'e2e-hook', exact: true }).waitFor();
    await visit(page, 'console-webhooks-secret-once');
    const listed = await admin.call<{ items: Record<string, unknown>[] }>('GET', '/api/v1/webhooks');
    expect(JSON.stringify(listed)).not.toContain(secret);
    await page.reload();
    await page.getByRole('cell', { name: 'e2e-hook', exact: true }).waitFor();
    expect(await page.content()).not.toContain(secret);
    expect(await field(page, 'Signing secret').count()).toBe(0);
  }, 120_000);

  it("a gateway's live tabs show the lab emulator's data, and say so when the vendor lacks a read", async () => {
    const page = await consolePage();
    await openConsolePage(page, 'Gateways');
    // Vendor and maturity tier on the list.
    await page.getByRole('cell', { name: 'pfSense beta', exact: true }).first().waitFor();
    await page.getByRole('link', { name: 'lab-pfsense', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: 'Gateway lab-pfsense' }).waitFor();
    const gateways = await admin.call<{ items: { id: string; name: string }[] }>('GET', '/api/v1/firewall/gateways');
    const lab = gateways.items.find((g) => g.name === 'lab-pfsense');
    const status = await admin.call<{ product_version: string }>('GET', `/api/v1/firewall/gateways/${lab?.id}/status`);
    const facts = page.getByRole('table', { name: 'Status of lab-pfsense, read live' });
    await facts.getByRole('row', { name: `product_version ${status.product_version}` }).waitFor();
    await visit(page, 'console-gateway-status');
    await page.getByRole('tab', { name: 'Aliases' }).click();
    await page.getByRole('cell', { name: 'portcullis_lab', exact: true }).waitFor({ timeout: 30_000 });
    await visit(page, 'console-gateway-aliases');
    // The DHCP scope of the lab's LAN (pfRest's DHCP server of `lan`, docs/reference/brain-l3.md §4.2).
    await page.getByRole('tab', { name: 'DHCP scopes' }).click();
    await page.getByRole('cell', { name: '192.168.1.100', exact: true }).waitFor({ timeout: 30_000 });
    await page.getByRole('tab', { name: 'VLAN interfaces' }).click();
    await page.getByText('No items.').waitFor();
    await page.getByRole('tab', { name: 'Routes' }).click();
    await page.getByText(/offers no routes read/).waitFor();
    await page.getByText('PC_ERR_CAPABILITY_UNAVAILABLE').waitFor();
    await visit(page, 'console-gateway-capability');
    // Bridge VLANs are read where the device keeps a bridge VLAN table (RouterOS, OpenWrt); pfSense says it has none.
    await page.getByRole('tab', { name: 'Bridge VLANs' }).click();
    await page.getByText(/offers no bridge vlans read/).waitFor();
    // Keyboard: arrow keys move between tabs.
    await page.getByRole('tab', { name: 'Routes' }).focus();
    await page.keyboard.press('ArrowRight');
    await expect.poll(() => page.getByRole('tab', { name: 'pf info' }).getAttribute('aria-selected')).toBe('true');
  }, 120_000);

  it('the events stream turns a grant live on the dashboard without a reload; the webhook delivers it', async () => {
    const page = await consolePage();
    await page.getByTestId('stream-state').getByText('live').waitFor();
    const demo = page.getByRole('region', { name: /demo grant/ });
    await demo.getByRole('button', { name: 'Demo grant on lab-demo' }).waitFor();
    // The grant is made outside this page (the API, as another tab or the knock client would).
    const me = await admin.call<{ knocs: { knoc_id: string; knoc_name: string }[] }>('GET', '/api/v1/portal/me');
    const knoc = me.knocs.find((k) => k.knoc_name === 'lab-demo');
    const startedAt = Date.now();
    await admin.call('POST', `/api/v1/portal/grants/${knoc?.knoc_id}`, {});
    // Without the stream the page would re-read only every 60 s; the event makes it re-read at once.
    await page.getByRole('cell', { name: 'grant.created', exact: true }).waitFor({ timeout: 10_000 });
    await demo.getByText('Live on firewall').waitFor({ timeout: 30_000 });
    expect(Date.now() - startedAt).toBeLessThan(40_000);
    await visit(page, 'console-dashboard-stream');
    // The webhook made earlier carries the same event to its receiver.
    await expect.poll(() => received.some((body) => body.includes('"grant.created"')), { timeout: 30_000 }).toBe(true);
    // … and its delivery log says so.
    await openConsolePage(page, 'Webhooks');
    await page.getByRole('button', { name: 'Deliveries of webhook e2e-hook' }).click();
    const drawer = page.getByRole('dialog', { name: 'Deliveries of e2e-hook' });
    await drawer.getByRole('row', { name: /grant\.created succeeded/ }).waitFor({ timeout: 30_000 });
    await visit(page, 'console-webhook-deliveries');
  }, 120_000);

  it('the other new pages open and pass axe', async () => {
    const page = await consolePage();
    // These pages in dark mode: axe checks their contrast there.
    await page.getByRole('button', { name: 'Switch to dark mode' }).click();
    await page.getByRole('button', { name: 'Switch to light mode' }).waitFor();
    for (const [label, heading] of [
      ['NAT', 'NAT'],
      ['VPN', 'VPN tunnels'],
      ['IDS alerts', 'IDS alerts'],
      ['Traffic logs', 'Traffic logs'],
      ['Policy diff', 'Policy diff'],
    ] as const) {
      await openConsolePage(page, label, heading);
      await visit(page, `console-${label.toLowerCase().replace(/\s+/g, '-')}-dark`);
    }
    // Logs: a malformed address is refused under its filter.
    await openConsolePage(page, 'Traffic logs');
    await field(page, 'Source address').fill('not-an-ip');
    await field(page, 'Source address').press('Enter');
    expect(await errorOf(page, page, 'Source address')).toMatch(/source_ip/);
    // Policy diff: a side that is not a configuration is refused under that side.
    await openConsolePage(page, 'Policy diff');
    await field(page, 'Before').fill('not a config');
    await field(page, 'After').fill('{"rules": []}');
    await page.getByRole('button', { name: 'Compare' }).click();
    expect(await errorOf(page, page, 'Before')).toMatch(/before/);
    await visit(page, 'console-policy-diff-error');
  }, 180_000);

  it('no page has a serious or critical axe violation, and no page logged an error', () => {
    expect(Object.keys(violations).length).toBeGreaterThanOrEqual(12);
    expect(Object.fromEntries(Object.entries(violations).filter(([, v]) => v.length > 0))).toEqual({});
    expect(consoleErrors).toEqual([]);
  });
});
