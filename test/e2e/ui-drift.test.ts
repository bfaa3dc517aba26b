/**
 * @module The console's Drift page in Debian's Chromium against `npm start`'s server process (embedded store, the
 * emulated pfSense lab, live writes allowed). "Check now" on the lab site takes the baseline; an alias then added on
 * the lab box by hand (with the box's own key from the lab record, as an admin on the device would) appears after
 * the next check as `resource_added`; "Reapply" stages its removal as a pending change (the page says so and the
 * event shows remediating); a suppression is created from the form and deactivated. Then the lab box becomes its
 * site's brain with a canonical VLAN and DNS record it lacks: the check shows them as canonical drift (compared with
 * the canonical state, no Accept offered), the resource-type filter narrows the table, the VLAN interface's reapply
 * is refused with the reason (no trunk port to learn on that box) and the DNS override's is staged. axe-core finds
 * no serious or critical violation. Screenshots: `.tmp/screenshots/`.
 */
import { lookup } from 'node:dns';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { VendorDescriptor } from '../../src/adapters/registry.ts';
import { findVendor } from '../../src/adapters/vendors.ts';
import { type AxeViolation, choose, CHROMIUM_MISSING, field, launchChromium, screenshot, seriousA11yViolations, signInToConsole } from './support/browser.ts';
import { type ApiCaller, caller, E2E_OWNER, eventually, ownerToken, type ServerProcess, spawnServer } from './support/server-process.ts';
import { ensureWebBuild } from './support/web-build.ts';

const LAB_GATEWAY = 'lab-pfsense';

describe.skipIf(CHROMIUM_MISSING !== null)(`console drift page in Chromium ${CHROMIUM_MISSING ?? ''}`, () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'portcullis-e2e-ui-drift-'));
  let server: ServerProcess;
  let browser: Browser;
  let owner: ApiCaller;
  let siteName: string;
  let siteId: string;
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
    const sites = await owner.call<{ items: { id: string; name: string }[] }>('GET', '/api/v1/sites');
    siteName = sites.items.find((s) => s.id === gateway.site_id)?.name as string;
    siteId = gateway.site_id;
    gatewayId = gateway.id;
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
      await screenshot(current, `FAILED-drift-${ctx.task.name.slice(0, 40).replace(/\W+/g, '-')}`).catch(() => undefined);
    }
    await current?.context().close().catch(() => undefined);
    current = null;
  });

  /** An alias put on the lab box directly, with the box's own credentials (outside Portcullis). */
  async function aliasByHand(name: string): Promise<void> {
    const record = JSON.parse(readFileSync(join(dataDir, 'lab', 'lab.json'), 'utf8')) as {
      boxes: Record<string, { port: number; credentials: { api_key: string } }>;
    };
    const box = record.boxes.pfsense as { port: number; credentials: { api_key: string } };
    const vendor = findVendor('pfsense') as VendorDescriptor;
    const adapter = vendor.createAdapter({ url: `https://127.0.0.1:${box.port}`, credentials: box.credentials, tls: { mode: 'insecure' }, lookup });
    try {
      await adapter.createAlias(name, 'host', 'made on the box');
      await adapter.apply();
    } finally {
      await adapter.close();
    }
  }

  it('checks a site, shows drift made on the box, stages its reapply and manages suppressions', async () => {
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 }, reducedMotion: 'reduce' });
    const page = await context.newPage();
    current = page;
    page.setDefaultTimeout(20_000);
    page.on('console', (m) => {
      if (m.type() === 'error' && !/responded with a status of 4\d\d/.test(m.text())) consoleErrors.push(m.text());
    });
    page.on('pageerror', (e) => consoleErrors.push(String(e)));
    await signInToConsole(page, server.url, E2E_OWNER);
    await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Drift', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: 'Drift' }).waitFor();

    await choose(page, page.getByRole('main'), 'Site to check', siteName);
    await page.getByRole('button', { name: 'Check now' }).click();
    const results = page.getByRole('list', { name: 'Check results' });
    await results.getByText(`${LAB_GATEWAY}: baseline taken`).waitFor();

    await aliasByHand('by_hand_e2e');
    await page.getByRole('button', { name: 'Check now' }).click();
    await results.getByText(`${LAB_GATEWAY}: 1 new`).waitFor();
    const listed = await owner.call<{ items: { resource_key: string; drift_type: string }[] }>('GET', '/api/v1/firewall/drift/events');
    expect(listed.items.filter((e) => e.resource_key === 'by_hand_e2e')).toEqual([expect.objectContaining({ drift_type: 'resource_added' })]);
    const events = page.getByRole('table', { name: /Drift events/ });
    await events.getByRole('cell', { name: 'alias by_hand_e2e', exact: true }).waitFor();
    await events.getByRole('cell', { name: 'resource added', exact: true }).waitFor();
    violations = await seriousA11yViolations(page);
    await screenshot(page, 'console-drift');

    await page.getByRole('button', { name: 'Reapply by_hand_e2e' }).click();
    await page.getByText(/by_hand_e2e: the restoring write is staged as pending change/).waitFor();
    await events.getByRole('cell', { name: 'remediating', exact: true }).waitFor();
    const pending = await owner.call<{ items: { target_type: string; operation: string; target_vendor_id: string }[] }>(
      'GET',
      '/api/v1/firewall/pending?status=pending',
    );
    expect(pending.items).toContainEqual(expect.objectContaining({ target_type: 'alias', operation: 'delete', target_vendor_id: 'by_hand_e2e' }));

    await page.getByRole('button', { name: 'New suppression' }).click();
    const dialog = page.getByRole('dialog', { name: 'New suppression' });
    await choose(page, dialog, 'Site', siteName);
    await choose(page, dialog, 'Resource type', 'alias');
    await field(dialog, 'Pattern').fill('scratch_*');
    await field(dialog, 'Reason').fill('scratch lists come and go');
    await dialog.getByRole('button', { name: 'Create suppression' }).click();
    const suppressions = page.getByRole('table', { name: /Active suppressions/ });
    await suppressions.getByRole('cell', { name: 'alias scratch_*', exact: true }).waitFor();
    await page.getByRole('button', { name: 'Deactivate suppression scratch_*' }).click();
    await page.getByText('No suppressions.').waitFor();
    await screenshot(page, 'console-drift-after');

    expect(violations).toEqual([]);
    expect(consoleErrors).toEqual([]);
  }, 180_000);

  it('shows canonical drift of the brain: no Accept, filtered by resource type, reapply refused with its reason or staged', async () => {
    await owner.call('PUT', `/api/v1/firewall/topology/${siteId}`, { assignments: [{ gateway_id: gatewayId, role: 'brain' }] });
    await owner.call('POST', '/api/v1/firewall/vlans', { site_id: siteId, vlan_id: 20, name: 'iot', ipv4_subnet: '10.20.0.0/24' });
    await owner.call('POST', '/api/v1/firewall/dns/records', { site_id: siteId, host: 'nas', domain: 'home.arpa', ip_address: '10.20.0.10' });
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 }, reducedMotion: 'reduce' });
    const page = await context.newPage();
    current = page;
    page.setDefaultTimeout(20_000);
    const errors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' && !/responded with a status of 4\d\d/.test(m.text())) errors.push(m.text());
    });
    await signInToConsole(page, server.url, E2E_OWNER);
    await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Drift', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: 'Drift' }).waitFor();
    await choose(page, page.getByRole('main'), 'Site to check', siteName);
    await page.getByRole('button', { name: 'Check now' }).click();
    await page.getByRole('list', { name: 'Check results' }).getByText(new RegExp(`${LAB_GATEWAY}: [1-9]\\d* new`)).waitFor();

    const events = page.getByRole('table', { name: /Drift events/ });
    const vlanRow = events.getByRole('row').filter({ hasText: 'vlan interface VLAN 20 (iot)' });
    await vlanRow.getByRole('cell', { name: 'canonical state', exact: true }).waitFor();
    await vlanRow.getByRole('cell', { name: 'critical', exact: true }).waitFor();
    expect(await page.getByRole('button', { name: 'Accept VLAN 20 (iot)' }).count()).toBe(0);
    await choose(page, page.getByRole('main'), 'Resource type', 'dns override');
    await events.getByRole('cell', { name: 'dns override nas.home.arpa', exact: true }).waitFor();
    await vlanRow.waitFor({ state: 'detached' });
    violations = await seriousA11yViolations(page);
    await screenshot(page, 'console-drift-canonical');

    await page.getByRole('button', { name: 'Reapply nas.home.arpa' }).click();
    await page.getByText(/nas\.home\.arpa: the restoring write is staged as pending change/).waitFor();
    const pending = await owner.call<{ items: { target_type: string; operation: string }[] }>('GET', '/api/v1/firewall/pending?status=pending');
    expect(pending.items).toContainEqual(expect.objectContaining({ target_type: 'dns_override', operation: 'create' }));

    await choose(page, page.getByRole('main'), 'Resource type', 'vlan interface');
    await page.getByRole('button', { name: 'Reapply VLAN 20 (iot)' }).click();
    await page.getByText(/cannot be re-created: the brain has no other VLAN interface/).waitFor();
    expect(violations).toEqual([]);
    expect(errors).toEqual([]);
  }, 180_000);
});
