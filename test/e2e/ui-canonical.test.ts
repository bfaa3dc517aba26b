/**
 * @module The console's write forms for canonical state and the staged live writes of a site's brain and limb, in
 * Debian's Chromium against `npm start`'s server process with the emulated lab (pfSense brain and RouterOS limb,
 * live writes allowed). VLANs: an id out of range is refused under "VLAN ID", a VLAN is created and edited (a bad
 * subnet refused under its input), a DHCP scope outside the subnet is refused under "Range start", a scope and a
 * reservation (in the subnet, outside the pool: ADR 0290) are created and deleted; a DNS record is added, edited (a bad address refused under "Address") and
 * deleted; a template is applied to the site and deleted. Topology: "Check" reports a RouterOS brain and passes the
 * pfSense brain with the RouterOS limb. Gateway pages: a VLAN interface, a DHCP scope (pfSense) and a bridge VLAN
 * (RouterOS) are staged, each bad field refused under its input, then edited and deleted as staged changes. A
 * viewer sees no write control. Every page passes axe and leaves a screenshot.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type AxeViolation, choose, CHROMIUM_MISSING, field, launchChromium, openConsolePage, screenshot, seriousA11yViolations, signInToConsole } from './support/browser.ts';
import { type ApiCaller, caller, E2E_OWNER, eventually, ownerToken, type ServerProcess, spawnServer } from './support/server-process.ts';
import { ensureWebBuild } from './support/web-build.ts';

interface Change {
  id: string;
  target_type: string;
  operation: string;
  status: string;
}

const VIEWER = { username: 'val', password: 'val e2e password 1234' };

describe.skipIf(CHROMIUM_MISSING !== null)(`console canonical-state and live-write forms in Chromium ${CHROMIUM_MISSING ?? ''}`, () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'portcullis-e2e-ui-canon-'));
  let server: ServerProcess;
  let browser: Browser;
  let admin: ApiCaller;
  let siteId = '';
  let brainId = '';
  let limbId = '';
  const violations: Record<string, AxeViolation[]> = {};
  const consoleErrors: string[] = [];

  beforeAll(async () => {
    ensureWebBuild();
    server = await spawnServer({
      dataDir,
      env: { PORTCULLIS_LAB: undefined, PORTCULLIS_LAB_VENDORS: 'pfsense,routeros', PORTCULLIS_READ_ONLY: 'false', PORTCULLIS_JOBS: 'off' },
    });
    admin = caller(server.url, { token: await ownerToken(server.url) });
    const gateways = await eventually(async () => {
      const list = await admin.call<{ items: { id: string; name: string; site_id: string }[] }>('GET', '/api/v1/firewall/gateways');
      const brain = list.items.find((g) => g.name === 'lab-pfsense');
      const limb = list.items.find((g) => g.name === 'lab-routeros');
      return brain && limb ? { brain, limb } : undefined;
    }, 'the lab gateways');
    brainId = gateways.brain.id;
    limbId = gateways.limb.id;
    siteId = gateways.brain.site_id;
    const roles = await admin.call<{ items: { id: string; name: string }[] }>('GET', '/api/v1/roles');
    const viewer = await admin.call<{ id: string }>('POST', '/api/v1/users', VIEWER);
    await admin.call('POST', '/api/v1/role-bindings', { role_id: roles.items.find((r) => r.name === 'viewer')?.id, user_id: viewer.id });
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
      await screenshot(current, `FAILED-canon-${ctx.task.name.slice(0, 40).replace(/\W+/g, '-')}`).catch(() => undefined);
    }
    await current?.context().close().catch(() => undefined);
    current = null;
  });

  async function consolePage(who = E2E_OWNER): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, reducedMotion: 'reduce' });
    const page = await context.newPage();
    current = page;
    page.setDefaultTimeout(20_000);
    page.on('console', (m) => {
      // The 4xx answers the tests provoke are shown on the page, and so is the 501 of a read the vendor lacks
      // (RouterOS has no VLAN interfaces); anything else is a bug.
      if (m.type() === 'error' && !/responded with a status of (4\d\d|501)/.test(m.text())) consoleErrors.push(m.text());
    });
    page.on('pageerror', (e) => consoleErrors.push(String(e)));
    // Deletes ask first (window.confirm).
    page.on('dialog', (d) => void d.accept());
    await signInToConsole(page, server.url, who);
    return page;
  }

  async function visit(page: Page, name: string): Promise<void> {
    violations[name] = await seriousA11yViolations(page);
    await screenshot(page, name);
  }

  async function gatewayTab(page: Page, gatewayId: string, name: string, tab: string): Promise<void> {
    await page.goto(`${server.url}/admin/gateways/${gatewayId}`);
    await page.getByRole('heading', { level: 1, name: `Gateway ${name}` }).waitFor();
    await page.getByRole('tab', { name: tab, exact: true }).click();
    await page.getByRole('tabpanel').getByRole('table').first().or(page.getByRole('tabpanel').getByRole('alert').first()).first().waitFor();
  }

  async function errorOf(page: Page, scope: Page | Locator, label: string): Promise<string> {
    const input = field(scope, label);
    await expect.poll(() => input.getAttribute('aria-invalid'), { timeout: 15_000 }).toBe('true');
    const ids = (await input.getAttribute('aria-describedby'))?.split(/\s+/).filter(Boolean) ?? [];
    const texts = await Promise.all(ids.map((id) => page.locator(`[id="${id}"]`).textContent()));
    return texts.join(' ');
  }

  const pending = async (gatewayId: string) =>
    (await admin.call<{ items: Change[] }>('GET', `/api/v1/firewall/pending?device_id=${gatewayId}&status=pending`)).items;

  it('VLANs: create (bad id refused), edit (bad subnet refused), DHCP scope and reservation create/delete, DNS record, template', async () => {
    const page = await consolePage();
    await openConsolePage(page, 'VLANs');
    await page.getByText('No VLANs at this site yet.').waitFor();

    await page.getByRole('button', { name: 'New VLAN' }).click();
    const create = page.getByRole('dialog', { name: 'New VLAN' });
    await field(create, 'VLAN ID').fill('0');
    await field(create, 'Name').fill('users');
    await field(create, 'IPv4 subnet').fill('10.20.0.0/24');
    await create.getByRole('button', { name: 'Create VLAN' }).click();
    expect(await errorOf(page, create, 'VLAN ID')).toMatch(/vlan_id must be an integer from 1 to 4094/);
    await field(create, 'VLAN ID').fill('20');
    await create.getByRole('button', { name: 'Create VLAN' }).click();
    await create.waitFor({ state: 'hidden' });
    await page.getByRole('cell', { name: 'users', exact: true }).waitFor();

    await page.getByRole('button', { name: 'Edit VLAN users' }).click();
    const edit = page.getByRole('dialog', { name: 'Edit VLAN users' });
    await field(edit, 'Name').fill('staff');
    await field(edit, 'IPv4 subnet').fill('10.20.0.0/33');
    await edit.getByRole('button', { name: 'Save VLAN' }).click();
    expect(await errorOf(page, edit, 'IPv4 subnet')).toMatch(/ipv4_subnet/);
    await visit(page, 'console-vlan-edit-field-error');
    await field(edit, 'IPv4 subnet').fill('10.20.0.0/24');
    await edit.getByRole('button', { name: 'Save VLAN' }).click();
    await edit.waitFor({ state: 'hidden' });
    await page.getByRole('cell', { name: 'staff', exact: true }).waitFor();

    await page.getByRole('button', { name: 'DHCP of VLAN staff' }).click();
    const drawer = page.getByRole('dialog', { name: 'DHCP of VLAN staff' });
    const scopeForm = drawer.getByRole('form', { name: 'New DHCP scope' });
    await field(scopeForm, 'Range start').fill('10.21.0.10');
    await field(scopeForm, 'Range end').fill('10.21.0.99');
    await scopeForm.getByRole('button', { name: 'Add scope' }).click();
    expect(await errorOf(page, scopeForm, 'Range start')).toMatch(/not a host address of 10\.20\.0\.0\/24/);
    await field(scopeForm, 'Range start').fill('10.20.0.10');
    await field(scopeForm, 'Range end').fill('10.20.0.99');
    await scopeForm.getByRole('button', { name: 'Add scope' }).click();
    await drawer.getByRole('heading', { name: 'IPv4 scope 10.20.0.10 – 10.20.0.99' }).waitFor();
    const reservation = drawer.getByRole('form', { name: 'New IPv4 reservation' });
    await field(reservation, 'MAC').fill('aa:bb:cc:dd:ee:02');
    await field(reservation, 'Address').fill('10.20.0.150');
    await reservation.getByRole('button', { name: 'Reserve' }).click();
    await drawer.getByRole('cell', { name: 'aa:bb:cc:dd:ee:02', exact: true }).waitFor();
    await visit(page, 'console-vlan-dhcp-reservation');
    await drawer.getByRole('button', { name: 'Delete reservation aa:bb:cc:dd:ee:02' }).click();
    await drawer.getByText('No reservations.').waitFor();
    await drawer.getByRole('button', { name: 'Delete scope IPv4' }).click();
    await drawer.getByText('No DHCP scope yet.').waitFor();
    expect((await admin.call<{ items: unknown[] }>('GET', `/api/v1/firewall/dhcp/scopes?site_id=${siteId}`)).items).toEqual([]);
    await page.keyboard.press('Escape');
    await drawer.waitFor({ state: 'hidden' });

    await page.getByRole('tab', { name: 'DNS records' }).click();
    const dns = page.getByRole('form', { name: 'New DNS record' });
    await field(dns, 'Host').fill('nas');
    await field(dns, 'Address').fill('10.20.0.5');
    await dns.getByRole('button', { name: 'Add record' }).click();
    await page.getByRole('cell', { name: 'nas.home.arpa', exact: true }).waitFor();
    await page.getByRole('button', { name: 'Edit DNS record nas.home.arpa' }).click();
    const dnsEdit = page.getByRole('dialog', { name: 'Edit DNS record nas.home.arpa' });
    await field(dnsEdit, 'Address').fill('10.20.0.999');
    await dnsEdit.getByRole('button', { name: 'Save record' }).click();
    expect(await errorOf(page, dnsEdit, 'Address')).toMatch(/ip_address/);
    await visit(page, 'console-dns-edit-field-error');
    await field(dnsEdit, 'Address').fill('10.20.0.6');
    await dnsEdit.getByRole('button', { name: 'Save record' }).click();
    await dnsEdit.waitFor({ state: 'hidden' });
    await page.getByRole('cell', { name: '10.20.0.6', exact: true }).waitFor();
    await page.getByRole('button', { name: 'Delete DNS record nas.home.arpa' }).click();
    await page.getByText('No DNS records at this site yet.').waitFor();

    await page.getByRole('tab', { name: 'Templates' }).click();
    const template = page.getByRole('form', { name: 'New template' });
    await field(template, 'Template name').fill('Guests');
    await field(template, 'Template VLAN ID').fill('40');
    await field(template, 'VLAN name').fill('guests');
    await field(template, 'Template IPv4 subnet').fill('10.40.0.0/24');
    await template.getByRole('button', { name: 'Add template' }).click();
    await page.getByRole('button', { name: 'Apply to site: template Guests' }).click();
    await page.getByText('VLAN 40 (guests) created at this site.').waitFor();
    await page.getByRole('button', { name: 'Delete template Guests' }).click();
    await page.getByText('No templates yet.').waitFor();
    await visit(page, 'console-vlan-templates-applied');

    const vlans = await admin.call<{ items: { vlan_id: number; name: string }[] }>('GET', `/api/v1/firewall/vlans?site_id=${siteId}`);
    expect(vlans.items.map((v) => [v.vlan_id, v.name])).toEqual([
      [20, 'staff'],
      [40, 'guests'],
    ]);
  }, 240_000);

  it('topology: Check reports a RouterOS brain, passes the pfSense brain with the RouterOS limb; the map is saved', async () => {
    const page = await consolePage();
    await openConsolePage(page, 'Topology');
    const form = page.getByRole('form', { name: 'Role map' });
    // The site's gateways have loaded once their limb boxes show (the Brain list is empty before).
    await form.getByRole('checkbox', { name: 'lab-routeros (routeros)' }).waitFor();
    await choose(page, form, 'Brain', 'lab-routeros (routeros)');
    await form.getByRole('button', { name: 'Check' }).click();
    await page.getByText(/cannot be a brain: it lacks capability l3_authority/).waitFor();
    await choose(page, form, 'Brain', 'lab-pfsense (pfsense)');
    await form.getByRole('checkbox', { name: 'lab-routeros (routeros)' }).check();
    await form.getByRole('button', { name: 'Check' }).click();
    await page.getByText('Role map is valid').waitFor();
    await visit(page, 'console-topology-valid');
    await form.getByRole('button', { name: 'Save role map' }).click();
    await page.getByText(/Brain: lab-pfsense \(pfsense\); limbs: lab-routeros \(routeros\)/).waitFor();
    const stored = await admin.call<{ brain: { gateway_id: string }; limbs: { gateway_id: string }[] }>('GET', `/api/v1/firewall/topology/${siteId}`);
    expect([stored.brain.gateway_id, stored.limbs.map((l) => l.gateway_id)]).toEqual([brainId, [limbId]]);
  }, 180_000);

  it('brain: a VLAN interface and a DHCP scope are staged (bad fields refused under their inputs), then edited and deleted', async () => {
    const page = await consolePage();
    await gatewayTab(page, brainId, 'lab-pfsense', 'VLAN interfaces');
    await page.getByRole('button', { name: 'Stage a new VLAN interface' }).click();
    let dialog = page.getByRole('dialog', { name: 'New VLAN interface' });
    await field(dialog, 'Parent port').fill('vtnet2');
    await field(dialog, 'VLAN tag').fill('4095');
    await field(dialog, 'Interface name').fill('IOT');
    await field(dialog, 'IPv4 address').fill('10.30.0.1/24');
    await dialog.getByRole('button', { name: 'Stage VLAN interface' }).click();
    expect(await errorOf(page, dialog, 'VLAN tag')).toMatch(/tag/);
    await visit(page, 'console-gateway-vlan-interface-field-error');
    await field(dialog, 'VLAN tag').fill('30');
    await dialog.getByRole('button', { name: 'Stage VLAN interface' }).click();
    await dialog.waitFor({ state: 'hidden' });
    await page.getByRole('status').filter({ hasText: 'Change staged' }).waitFor();
    const [created] = await pending(brainId);
    expect(created).toMatchObject({ target_type: 'vlan_interface', operation: 'create', status: 'pending' });
    // Applied (as the Pending changes page would), the interface is on the device and listed with its controls.
    const applied = await admin.call<Change>('POST', `/api/v1/firewall/pending/${created?.id ?? ''}/apply`, {});
    expect(applied.status).toBe('applied');

    await gatewayTab(page, brainId, 'lab-pfsense', 'VLAN interfaces');
    await page.getByRole('button', { name: 'Edit VLAN interface vtnet2.30 IOT' }).click();
    dialog = page.getByRole('dialog', { name: 'Edit VLAN interface vtnet2.30 IOT' });
    await expect(field(dialog, 'Parent port').isDisabled()).resolves.toBe(true);
    await field(dialog, 'IPv4 address').fill('10.30.0.1');
    await dialog.getByRole('button', { name: 'Stage change' }).click();
    expect(await errorOf(page, dialog, 'IPv4 address')).toMatch(/prefix length/);
    await field(dialog, 'IPv4 address').fill('10.30.0.2/24');
    await dialog.getByRole('button', { name: 'Stage change' }).click();
    await dialog.waitFor({ state: 'hidden' });
    await page.getByRole('button', { name: 'Delete VLAN interface vtnet2.30 IOT' }).click();
    await page.getByRole('status').filter({ hasText: 'a delete is applied only when confirmed' }).waitFor();
    await visit(page, 'console-gateway-vlan-interfaces');
    expect((await pending(brainId)).map((c) => `${c.target_type} ${c.operation}`).sort()).toEqual(['vlan_interface delete', 'vlan_interface update']);

    const live = await admin.call<{ items: { interface_id: string; tag: number }[] }>('GET', `/api/v1/firewall/gateways/${brainId}/vlan-interfaces`);
    const interfaceId = live.items.find((i) => i.tag === 30)?.interface_id ?? '';
    await gatewayTab(page, brainId, 'lab-pfsense', 'DHCP scopes');
    await page.getByRole('button', { name: 'Stage a new DHCP scope' }).click();
    dialog = page.getByRole('dialog', { name: 'New DHCP scope' });
    await field(dialog, 'Interface').fill(interfaceId);
    await field(dialog, 'Range from').fill('10.30.0.300');
    await field(dialog, 'Range to').fill('10.30.0.200');
    await dialog.getByRole('button', { name: 'Stage DHCP scope' }).click();
    expect(await errorOf(page, dialog, 'Range from')).toMatch(/range_from/);
    await field(dialog, 'Range from').fill('10.30.0.100');
    await field(dialog, 'DNS servers').fill('10.30.0.1, 10.30.0.2');
    await dialog.getByRole('button', { name: 'Stage DHCP scope' }).click();
    await dialog.waitFor({ state: 'hidden' });
    await page.getByRole('status').filter({ hasText: 'Change staged' }).waitFor();
    const scope = (await pending(brainId)).find((c) => c.target_type === 'dhcp_scope');
    expect(scope).toMatchObject({ operation: 'create', status: 'pending' });
    await visit(page, 'console-gateway-dhcp-scopes');
  }, 240_000);

  it('limb: a bridge VLAN is staged on RouterOS (a port both tagged and untagged refused under "Untagged ports")', async () => {
    const page = await consolePage();
    await gatewayTab(page, limbId, 'lab-routeros', 'Bridge VLANs');
    // RouterOS has no VLAN interface write: that tab offers no write control.
    await page.getByRole('button', { name: 'Stage a new bridge VLAN' }).click();
    const dialog = page.getByRole('dialog', { name: 'New bridge VLAN' });
    await field(dialog, 'Bridge').fill('bridge');
    await field(dialog, 'VLAN ID').fill('30');
    await field(dialog, 'Tagged ports').fill('ether2');
    await field(dialog, 'Untagged ports').fill('ether2');
    await dialog.getByRole('button', { name: 'Stage bridge VLAN' }).click();
    expect(await errorOf(page, dialog, 'Untagged ports')).toMatch(/ether2 is also tagged/);
    await field(dialog, 'Untagged ports').fill('ether3');
    await dialog.getByRole('button', { name: 'Stage bridge VLAN' }).click();
    await dialog.waitFor({ state: 'hidden' });
    await page.getByRole('status').filter({ hasText: 'Change staged' }).waitFor();
    await visit(page, 'console-gateway-bridge-vlans');
    expect((await pending(limbId)).map((c) => `${c.target_type} ${c.operation}`)).toEqual(['bridge_vlan create']);

    await page.getByRole('tab', { name: 'VLAN interfaces', exact: true }).click();
    await page.getByRole('tabpanel').getByRole('alert').or(page.getByRole('tabpanel').getByRole('table')).first().waitFor();
    expect(await page.getByRole('button', { name: 'Stage a new VLAN interface' }).count()).toBe(0);
  }, 180_000);

  it('a viewer sees the canonical state and live views with no write control', async () => {
    const page = await consolePage(VIEWER);
    await openConsolePage(page, 'VLANs');
    await page.getByRole('cell', { name: 'staff', exact: true }).waitFor();
    expect(await page.getByRole('button', { name: /^(New VLAN|Edit VLAN staff|Delete VLAN staff)$/ }).count()).toBe(0);
    await page.getByRole('tab', { name: 'Templates' }).click();
    await page.getByText('No templates yet.').waitFor();
    expect(await page.getByRole('form', { name: 'New template' }).count()).toBe(0);

    await gatewayTab(page, brainId, 'lab-pfsense', 'VLAN interfaces');
    await page.getByRole('table', { name: /VLAN interfaces/ }).first().waitFor();
    expect(await page.getByRole('button', { name: 'Stage a new VLAN interface' }).count()).toBe(0);
    await visit(page, 'console-gateway-viewer');
  }, 180_000);

  it('no page has a serious or critical axe violation, and no page logged an error', () => {
    expect(Object.keys(violations).length).toBeGreaterThanOrEqual(8);
    expect(Object.fromEntries(Object.entries(violations).filter(([, v]) => v.length > 0))).toEqual({});
    expect(consoleErrors).toEqual([]);
  });
});
