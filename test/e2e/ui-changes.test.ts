/**
 * @module The console's pending-change, packet-tracer, policy-test, gateway-sync and lint pages in Debian's Chromium
 * against `npm start`'s server process (embedded store, the emulated lab, live writes allowed:
 * PORTCULLIS_READ_ONLY=false). Found by labels and roles: the tracer names the deciding rule of a packet on a
 * fixture config (and puts a bad packet's error under the field); policy tests run; a firewall rule staged through
 * the API is reviewed and applied on the page and shows applied; a delete without "confirmed" shows the refusal
 * under the checkbox and is discarded; "Sync now" on the lab gateway shows what the sync did and the server's counts;
 * the lint page groups a fixture's findings by severity with the rule each names and why.
 * axe-core finds no serious or critical violation on any page. Screenshots: `.tmp/screenshots/`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ensureWebBuild } from './support/web-build.ts';
import { type AxeViolation, CHROMIUM_MISSING, field, launchChromium, screenshot, seriousA11yViolations, signInToConsole } from './support/browser.ts';
import { type ApiCaller, caller, E2E_OWNER, eventually, ownerToken, type ServerProcess, spawnServer } from './support/server-process.ts';

const root = new URL('../../', import.meta.url).pathname;
const FIXTURE = join(root, 'test/policy/fixtures/default-2.7.xml');
/** A config with lint findings of every severity (docs/policy-lint.md). */
const LINT_FIXTURE = join(root, 'test/policy/fixtures/office-2.7.xml');
const LAB_GATEWAY = 'lab-pfsense';

interface Change {
  id: string;
  status: string;
  target_vendor_id: string | null;
}

describe.skipIf(CHROMIUM_MISSING !== null)(`console change pages in Chromium ${CHROMIUM_MISSING ?? ''}`, () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'portcullis-e2e-ui-changes-'));
  let server: ServerProcess;
  let browser: Browser;
  let owner: ApiCaller;
  let gatewayId: string;
  const violations: Record<string, AxeViolation[]> = {};
  const consoleErrors: string[] = [];

  beforeAll(async () => {
    ensureWebBuild();
    server = await spawnServer({ dataDir, env: { PORTCULLIS_LAB: undefined, PORTCULLIS_READ_ONLY: 'false' } });
    owner = caller(server.url, { token: await ownerToken(server.url) });
    gatewayId = await eventually(async () => {
      const list = await owner.call<{ items: { id: string; name: string }[] }>('GET', '/api/v1/firewall/gateways');
      return list.items.find((g) => g.name === LAB_GATEWAY)?.id;
    }, 'the lab gateway');
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
      await screenshot(current, `FAILED-${ctx.task.name.slice(0, 40).replace(/\W+/g, '-')}`).catch(() => undefined);
    }
    await current?.context().close().catch(() => undefined);
    current = null;
  });

  async function signedIn(colorScheme: 'light' | 'dark' = 'light'): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, reducedMotion: 'reduce', colorScheme });
    const page = await context.newPage();
    current = page;
    page.setDefaultTimeout(20_000);
    page.on('console', (m) => {
      // The 4xx answers the tests provoke are shown on the page; a script error or a 5xx is a bug.
      if (m.type() === 'error' && !/responded with a status of 4\d\d/.test(m.text())) consoleErrors.push(m.text());
    });
    page.on('pageerror', (e) => consoleErrors.push(String(e)));
    await signInToConsole(page, server.url, E2E_OWNER);
    return page;
  }

  async function open(page: Page, label: string) {
    await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: label, exact: true }).click();
    await page.getByRole('heading', { level: 1, name: label }).waitFor();
  }

  async function visit(page: Page, name: string): Promise<void> {
    violations[name] = await seriousA11yViolations(page);
    await screenshot(page, name);
  }

  it('the packet tracer reads a config file in the browser and names the deciding rule; a bad packet is refused under the field', async () => {
    const page = await signedIn();
    await open(page, 'Packet tracer');
    await page.locator('input[type=file]').setInputFiles(FIXTURE);
    await expect.poll(() => field(page, 'Configuration').inputValue()).toContain('<pfsense>');

    await field(page, 'Packet').fill('lan in tcp 10.0.0.1 8.8.8.8');
    await page.getByRole('button', { name: 'Trace packet' }).click();
    await expect.poll(() => field(page, 'Packet').getAttribute('aria-invalid')).toBe('true');

    // By keyboard: Enter in the packet field sends the form.
    await field(page, 'Packet').fill('lan in tcp 192.168.1.50:40000 -> 8.8.8.8:443 flags S');
    await field(page, 'Packet').press('Enter');
    await expect.poll(() => page.getByTestId('verdict').textContent()).toBe('pass');
    await expect(page.getByTestId('deciding-rule').textContent()).resolves.toContain('Default allow LAN to any rule');
    await page.getByRole('table', { name: /Rules the packet met/ }).getByText('Default allow LAN to any rule').first().waitFor();
    await visit(page, 'console-packet-tracer');

    // A blocked packet offers the smallest fix, each re-verified by the engine.
    await field(page, 'Packet').fill('wan in tcp 8.8.8.8:40000 -> 192.168.1.10:22 flags S');
    await field(page, 'Packet').press('Enter');
    await expect.poll(() => page.getByTestId('verdict').textContent()).toBe('block');
    await page.getByRole('button', { name: 'Suggest the smallest fix' }).click();
    const fixes = page.getByRole('table', { name: /Edits that make the packet pass/ });
    await fixes.getByRole('cell', { name: 'pass', exact: true }).first().waitFor({ timeout: 60_000 });
    await visit(page, 'console-packet-tracer-fixes');
  }, 180_000);

  it("a knoc shows what a grant on it opens on its gateway now", async () => {
    const page = await signedIn();
    await open(page, 'Knocs');
    await page.getByRole('button', { name: 'Details of knoc lab-demo' }).click();
    const drawer = page.getByRole('dialog', { name: 'Knoc lab-demo' });
    await drawer.getByRole('button', { name: 'Compute on the gateway now' }).click();
    // No rule of the lab uses the demo alias: an address on it gains nothing beyond any address.
    await drawer.getByText('A grant on this knoc opens nothing beyond what any address reaches already.').waitFor({ timeout: 30_000 });
    await visit(page, 'console-knoc-exposure');
  }, 120_000);

  it('policy tests run against a config: a passing flow passes, a wrong expectation fails, refused tests show under the field; a gateway\'s tests are saved and run', async () => {
    const page = await signedIn('dark');
    await open(page, 'Policy tests');
    await page.locator('input[type=file]').setInputFiles(FIXTURE);
    await expect.poll(() => field(page, 'Configuration').inputValue()).toContain('<pfsense>');
    await page.getByRole('button', { name: 'Run these tests' }).click();
    await expect.poll(() => page.getByTestId('tests-passed').textContent()).toBe('all passed');

    const blocked = { version: 1, flows: [{ name: 'LAN cannot reach the web', interface: 'lan', protocol: 'tcp', source: '192.168.1.50', destination: '8.8.8.8', destination_port: 443, expect: 'block' }] };
    await field(page, 'Policy tests (JSON)').fill(JSON.stringify(blocked));
    await page.getByRole('button', { name: 'Run these tests' }).click();
    await expect.poll(() => page.getByTestId('tests-passed').textContent()).toBe('not passed');
    await page.getByRole('cell', { name: 'LAN cannot reach the web' }).waitFor();
    await visit(page, 'console-policy-tests-dark');

    await page.getByRole('combobox', { name: 'Gateway' }).click();
    await page.getByRole('option', { name: LAB_GATEWAY }).click();
    await expect.poll(() => field(page, 'Policy tests (JSON)').inputValue()).toMatch(/"flows": \[\]/);
    await field(page, 'Policy tests (JSON)').fill('{ not json');
    await page.getByRole('button', { name: 'Save tests to the gateway' }).click();
    await expect.poll(() => field(page, 'Policy tests (JSON)').getAttribute('aria-invalid')).toBe('true');
    // The server's refusal of a flow without its fields also lands under the tests.
    await field(page, 'Policy tests (JSON)').fill('{"version": 1, "flows": [{"name": "half a flow"}]}');
    await page.getByRole('button', { name: 'Save tests to the gateway' }).click();
    await page.getByText(/flows\[0\]/).first().waitFor();
    expect(await owner.call<{ document: { flows: unknown[] } }>('GET', `/api/v1/firewall/gateways/${gatewayId}/policy-tests`)).toMatchObject({ document: { flows: [] } });

    const passing = { version: 1, flows: [{ name: 'LAN reaches the web', interface: 'lan', protocol: 'tcp', source: '192.168.1.50', destination: '8.8.8.8', destination_port: 443, expect: 'pass' }] };
    await field(page, 'Policy tests (JSON)').fill(JSON.stringify(passing));
    await page.getByRole('button', { name: 'Save tests to the gateway' }).click();
    await page.getByRole('status').getByText('Saved.').waitFor();
    try {
      expect(await owner.call<{ document: unknown }>('GET', `/api/v1/firewall/gateways/${gatewayId}/policy-tests`)).toMatchObject({ document: passing });
      await page.getByRole('button', { name: 'Run the saved tests' }).click();
      await expect.poll(() => page.getByTestId('tests-passed').textContent()).toBe('all passed');
      await page.getByRole('cell', { name: 'LAN reaches the web' }).waitFor();
    } finally {
      // The saved tests would gate the applies of the next test.
      await owner.call('PUT', `/api/v1/firewall/gateways/${gatewayId}/policy-tests`, { version: 1, flows: [] });
    }
  }, 120_000);

  it('a firewall rule staged through the API is reviewed and applied on the page; a delete needs "confirmed" and is discarded', async () => {
    const staged = await owner.call<Change>('POST', `/api/v1/firewall/gateways/${gatewayId}/firewall-rules`, {
      action: 'allow',
      interface: 'lan',
      protocol: 'tcp',
      source_address: 'any',
      dest_address: 'any',
      dest_port: '8443',
      description: 'e2e staged rule',
    });
    expect(staged.status).toBe('pending');

    const page = await signedIn();
    await open(page, 'Pending changes');
    await page.getByRole('button', { name: `Review create firewall rule on ${LAB_GATEWAY}` }).click();
    const dialog = page.getByRole('dialog', { name: 'Review change' });
    await expect.poll(() => dialog.getByTestId('payload').textContent()).toContain('e2e staged rule');
    await dialog.getByText(/semantic preview/i).first().waitFor();
    await visit(page, 'console-pending-review');
    await dialog.getByRole('button', { name: 'Apply change' }).click();
    await expect.poll(() => dialog.getByTestId(`status-${staged.id}`).textContent(), { timeout: 60_000 }).toBe('applied');
    await expect(dialog.getByRole('button', { name: 'Stage a revert' }).isVisible()).resolves.toBe(true);
    const applied = await owner.call<Change>('GET', `/api/v1/firewall/pending/${staged.id}`);
    expect(applied.status).toBe('applied');
    await visit(page, 'console-pending-applied');

    // A delete of the rule just applied: apply without "confirmed" is refused, and the refusal sits under the box.
    const removal = await owner.call<Change>('DELETE', `/api/v1/firewall/gateways/${gatewayId}/firewall-rules/${applied.target_vendor_id}`);
    // Staging sends no event: a reload shows it at once rather than at the next poll.
    await page.reload();
    await page.getByRole('heading', { level: 1, name: 'Pending changes' }).waitFor();
    await page.getByRole('button', { name: `Review delete firewall rule ${applied.target_vendor_id} on ${LAB_GATEWAY}` }).click();
    await dialog.getByRole('button', { name: 'Apply change' }).click();
    await expect.poll(() => dialog.getByRole('checkbox', { name: /Confirmed: delete/ }).getAttribute('aria-invalid')).toBe('true');
    await visit(page, 'console-pending-confirm-refused');
    await dialog.getByRole('button', { name: 'Discard change' }).click();
    await expect.poll(() => dialog.getByTestId(`status-${removal.id}`).textContent()).toBe('discarded');
    await expect(owner.call<Change>('GET', `/api/v1/firewall/pending/${removal.id}`)).resolves.toMatchObject({ status: 'discarded' });
  }, 180_000);

  it('"Sync now" on the lab gateway shows what it synced and the counts the server gives; a refused test override is shown under its field', async () => {
    const page = await signedIn('dark');
    await page.getByRole('region', { name: 'Gateway counts' }).getByText('Never synced').waitFor();
    await visit(page, 'console-dashboard-dark');
    await open(page, 'Gateway sync');
    await page.getByRole('button', { name: `Sync now: ${LAB_GATEWAY}` }).click();
    await expect.poll(() => page.getByTestId(`sync-${LAB_GATEWAY}`).textContent(), { timeout: 60_000 }).toMatch(/synced.*rules \+\d+/);
    const after = await owner.call<{ sync: { ok: number; never: number } }>('GET', '/api/v1/firewall/gateways/summary');
    expect(after.sync).toMatchObject({ never: 0 });
    expect(after.sync.ok).toBeGreaterThanOrEqual(1);
    await expect
      .poll(() => page.getByRole('region', { name: 'Gateway counts' }).getByText('Synced', { exact: true }).locator('xpath=..').textContent())
      .toBe(`Synced${after.sync.ok}`);
    await visit(page, 'console-gateway-sync');

    // The connection test with an override: the saved settings work; an override the server refuses (the lab's
    // loopback host is allowed only as saved) is shown under the field it names.
    await page.getByRole('button', { name: `Test ${LAB_GATEWAY} with overrides` }).click();
    const dialog = page.getByRole('dialog', { name: `Test ${LAB_GATEWAY}` });
    await dialog.getByRole('button', { name: 'Test connection' }).click();
    await dialog.getByText('Connection works').waitFor({ timeout: 30_000 });
    await field(dialog, 'Port').fill('1');
    await dialog.getByRole('button', { name: 'Test connection' }).click();
    await expect.poll(() => field(dialog, 'Port').getAttribute('aria-invalid')).toBe('true');
    await dialog.getByText(/loopback address/).waitFor();
    await expect(dialog.getByText('Connection works').count()).resolves.toBe(0);
    await visit(page, 'console-gateway-test-override');
  }, 120_000);

  it('lint findings of a config file are grouped by severity with the rule and why; a bad config is refused under the field', async () => {
    const page = await signedIn('dark');
    await open(page, 'Lint findings');
    await field(page, 'Configuration').fill('<pfsense><filter>');
    await page.getByRole('button', { name: 'Lint configuration' }).click();
    await expect.poll(() => field(page, 'Configuration').getAttribute('aria-invalid')).toBe('true');

    await page.locator('input[type=file]').setInputFiles(LINT_FIXTURE);
    await expect.poll(() => field(page, 'Configuration').inputValue()).toContain('<pfsense>');
    await page.getByRole('button', { name: 'Lint configuration' }).click();
    await page.getByRole('heading', { level: 3, name: 'Errors', exact: true }).waitFor();
    const errors = page.getByRole('table', { name: /^Errors:/ });
    const shadowed = errors.getByRole('row').filter({ hasText: 'LINT001 shadowed' }).first();
    await expect(shadowed.textContent()).resolves.toContain('lan #3 "No direct SMTP to the internet (inverted destination)"');
    await expect(shadowed.textContent()).resolves.toContain('Default allow LAN to any rule');
    await page.getByRole('heading', { level: 3, name: 'Warnings', exact: true }).waitFor();
    await expect(page.getByTestId('lint-summary').textContent()).resolves.toBe('7 findings: 2 errors, 4 warnings, 1 note');
    await expect(field(page, 'Configuration').getAttribute('aria-invalid')).resolves.not.toBe('true');
    await visit(page, 'console-lint-findings-dark');
  }, 120_000);

  it('no page had a serious accessibility violation or a console error', () => {
    expect(Object.keys(violations).length).toBeGreaterThanOrEqual(5);
    expect(violations).toEqual(Object.fromEntries(Object.keys(violations).map((k) => [k, []])));
    expect(consoleErrors).toEqual([]);
  });
});
