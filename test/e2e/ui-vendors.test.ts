/**
 * @module The console's Vendors page and the gateway form's credential fields in Debian's Chromium against
 * `npm start`'s server process (embedded store, the emulated lab on). The Vendors page shows the capability matrix
 * from `GET /api/v1/firewall/vendors` with the reason of every flag that is off (tooltip and list). The "Add gateway"
 * form shows the credential fields of the chosen vendor's shape: the server registers only pfSense in this branch,
 * so the browser is answered a vendor list with one extra vendor per other shape (key + secret, username +
 * password, username + SSH key) and the connection test the form sends is captured, to check that exactly the
 * chosen shape's fields go out. Every page passes axe and leaves a screenshot in `.tmp/screenshots/`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type AxeViolation, choose, CHROMIUM_MISSING, field, launchChromium, openConsolePage, screenshot, seriousA11yViolations, signInToConsole } from './support/browser.ts';
import { E2E_OWNER, type ServerProcess, spawnServer } from './support/server-process.ts';
import { ensureWebBuild } from './support/web-build.ts';

interface VendorItem {
  id: string;
  name: string;
  api: string;
  credentials: { shape: string; fields: string[] };
  capabilities: Record<string, boolean>;
  unavailable: Record<string, string>;
}

/** One extra vendor per credential shape pfSense does not use. */
const EXTRA_SHAPES = [
  { id: 'e2e_keysecret', name: 'KeySecretWall', shape: 'key_secret', fields: ['api_key', 'api_secret'], labels: ['API key', 'API secret'] },
  { id: 'e2e_userpass', name: 'UserPassWall', shape: 'username_password', fields: ['username', 'password'], labels: ['Username', 'Password'] },
  { id: 'e2e_sshkey', name: 'SshKeyWall', shape: 'ssh_key', fields: ['username', 'ssh_private_key'], labels: ['Username', 'SSH private key (PEM)'] },
] as const;
const ALL_LABELS = ['API key', 'API secret', 'Username', 'Password', 'SSH private key (PEM)'];

describe.skipIf(CHROMIUM_MISSING !== null)(`console vendors in Chromium ${CHROMIUM_MISSING ?? ''}`, () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'portcullis-e2e-ui-vendors-'));
  let server: ServerProcess;
  let browser: Browser;
  const violations: Record<string, AxeViolation[]> = {};
  const consoleErrors: string[] = [];

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

  let current: Page | null = null;
  afterEach(async (ctx) => {
    if (ctx.task.result?.state === 'fail' && current && !current.isClosed()) {
      await screenshot(current, `FAILED-vendors-${ctx.task.name.slice(0, 40).replace(/\W+/g, '-')}`).catch(() => undefined);
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
      // As in ui-firewall.test.ts: an HTTP 4xx the page answers is shown to the person; anything else is a bug.
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

  it('the Vendors page shows the capability matrix with the reason of every flag that is off', async () => {
    const page = await consolePage();
    await openConsolePage(page, 'Vendors');
    const matrix = page.getByRole('table', { name: 'Capability matrix' });
    await matrix.getByRole('columnheader', { name: /pfSense/ }).waitFor();
    const row = matrix.getByRole('row', { name: /^alias\.write/ });
    await expect.poll(() => row.textContent()).toMatch(/yes/);
    const expiry = page.getByTestId('cap-pfsense-native_expiry');
    expect(await expiry.textContent()).toMatch(/^no \(\d+\)$/);
    expect(await expiry.getAttribute('aria-label')).toMatch(/pfsense native_expiry: no — .*no timeout/);
    await expiry.hover();
    await page.getByRole('tooltip').getByText(/no timeout/).waitFor();
    const reasons = page.getByRole('list', { name: 'Why a capability is off' });
    expect(await reasons.textContent()).toMatch(/pfsense read\.routes: pfRest has no endpoint/);
    await visit(page, 'console-vendors');
  }, 120_000);

  it('the gateway form shows the credential fields of the chosen vendor and sends only those', async () => {
    const page = await consolePage();
    await page.route('**/api/v1/firewall/vendors', async (route) => {
      const response = await route.fetch();
      const body = (await response.json()) as { items: VendorItem[] };
      const base = body.items.find((v) => v.id === 'pfsense') as VendorItem;
      const extra = EXTRA_SHAPES.map((s) => ({ ...base, id: s.id, name: s.name, api: 'e2e', credentials: { shape: s.shape, fields: [...s.fields] } }));
      await route.fulfill({ response, json: { items: [...body.items, ...extra] } });
    });
    const sent: Record<string, unknown>[] = [];
    await page.route('**/api/v1/firewall/gateways/test', async (route) => {
      sent.push(route.request().postDataJSON() as Record<string, unknown>);
      await route.fulfill({
        json: { ok: false, version: null, api_version: null, error: { code: 'E2E000', message: 'not a real gateway' }, certificate: null },
      });
    });
    await openConsolePage(page, 'Gateways');
    await page.getByRole('button', { name: 'Add gateway' }).click();
    const dialog = page.getByRole('dialog', { name: 'Add gateway' });
    const shown = async () => {
      const visible: string[] = [];
      for (const label of ALL_LABELS) if (await field(dialog, label).isVisible()) visible.push(label);
      return visible;
    };
    // pfSense (the first vendor): one API key.
    await expect.poll(shown).toEqual(['API key']);
    await field(dialog, 'Name').fill('shape-test');
    await choose(page, dialog, 'Site', 'lab');
    await field(dialog, 'URL').fill('https://192.0.2.10');
    for (const s of EXTRA_SHAPES) {
      await choose(page, dialog, 'Vendor', `${s.name} (e2e, beta)`);
      await expect.poll(shown).toEqual([...s.labels]);
      for (const label of s.labels) await field(dialog, label).fill(`${s.id}-${label}`);
      await visit(page, `console-gateway-add-${s.shape}`);
      await dialog.getByRole('button', { name: 'Test connection' }).click();
      await dialog.getByText('Test failed: E2E000').waitFor();
      const body = sent.at(-1) ?? {};
      expect(body.vendor).toBe(s.id);
      const credentialKeys = Object.keys(body).filter((k) => ['api_key', 'api_secret', 'username', 'password', 'ssh_private_key'].includes(k));
      expect(credentialKeys.sort()).toEqual([...s.fields].sort());
    }
    expect(sent).toHaveLength(EXTRA_SHAPES.length);
  }, 120_000);

  it('no page has a serious or critical axe violation, and no page logged an error', () => {
    expect(Object.keys(violations).length).toBeGreaterThanOrEqual(4);
    expect(Object.fromEntries(Object.entries(violations).filter(([, v]) => v.length > 0))).toEqual({});
    expect(consoleErrors).toEqual([]);
  });
});
