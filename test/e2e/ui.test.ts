/**
 * @module The web UI in Debian's Chromium against `npm start`'s server process (embedded store, the emulated lab
 * on, plus a pfRest emulator in the test for a gateway an admin adds). What a newcomer and an admin do, found by
 * labels and roles: the first-run demo grant on the lab; adding a gateway (test before save, "trust this
 * certificate?" pins the fingerprint), a site, a user, a role binding and a knoc assigned to the user; the
 * user's portal sign-in with TOTP → grant with countdown → live on the emulated alias → extend → revoke → gone; a
 * site-limited operator seeing only their site; API tokens shown once and nothing secret in browser storage;
 * axe-core finds no serious or critical violation on any page. Screenshots of every page: `.tmp/screenshots/`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { Agent, fetch as undiciFetch } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type PfRestEmulator, startPfRestEmulator } from '../../src/emulators/pfrest/index.ts';
import { totpCode } from '../../src/identity/totp.ts';
import { appliedAddresses } from './support/access-world.ts';
import { type AxeViolation, CHROMIUM_MISSING, choose, field, launchChromium, screenshot, seriousA11yViolations } from './support/browser.ts';
import { caller, E2E_OWNER, eventually, ownerToken, type ServerProcess, spawnServer } from './support/server-process.ts';
import { ensureWebBuild } from './support/web-build.ts';

const ALIAS = 'pc_ui_e2e';
const PAT = { username: 'pat', password: 'pat e2e password 1234' };
const OPAL = { username: 'opal', password: 'opal e2e password 1234' };

describe.skipIf(CHROMIUM_MISSING !== null)(`web UI in Chromium ${CHROMIUM_MISSING ?? ''}`, () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'portcullis-e2e-ui-'));
  let server: ServerProcess;
  let emulator: PfRestEmulator;
  let browser: Browser;
  let labUrl: string;
  const violations: Record<string, AxeViolation[]> = {};
  const consoleErrors: string[] = [];

  beforeAll(async () => {
    ensureWebBuild();
    emulator = await startPfRestEmulator();
    server = await spawnServer({ dataDir, env: { PORTCULLIS_ALLOW_GATEWAY_HOSTS: '127.0.0.1', PORTCULLIS_LAB: undefined } });
    labUrl = /^ - pfSense .* at (https:\/\/127\.0\.0\.1:\d+)$/m.exec(server.stderr())?.[1] ?? '';
    browser = await launchChromium();
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop('SIGTERM');
    await emulator?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  let current: Page | null = null;
  afterEach(async (ctx) => {
    // A failed step leaves its page open: keep a picture of it for the CI artifacts.
    if (ctx.task.result?.state === 'fail' && current && !current.isClosed()) {
      await screenshot(current, `FAILED-${ctx.task.name.slice(0, 40).replace(/\W+/g, '-')}`).catch(() => undefined);
    }
    await current?.context().close().catch(() => undefined);
    current = null;
  });

  async function newPage(viewport = { width: 1280, height: 860 }): Promise<Page> {
    // Reduced motion: no transitions, so axe never sees a half-faded element.
    const context = await browser.newContext({ viewport, reducedMotion: 'reduce' });
    const page = await context.newPage();
    current = page;
    page.setDefaultTimeout(20_000);
    page.on('console', (m) => {
      // API refusals (401 on /auth/me before sign-in, the 400 a test provokes) are answers the UI shows; a
      // CSP refusal, a script error or a 5xx is a bug.
      if (m.type() === 'error' && !/responded with a status of 4\d\d/.test(m.text())) consoleErrors.push(m.text());
    });
    page.on('pageerror', (e) => consoleErrors.push(String(e)));
    return page;
  }

  /** Axe check + screenshot of the page as it is. */
  async function visit(page: Page, name: string): Promise<void> {
    violations[name] = await seriousA11yViolations(page);
    await screenshot(page, name);
  }

  async function signIn(page: Page, where: 'portal' | 'console', who: { username: string; password: string }) {
    await page.goto(`${server.url}${where === 'portal' ? '/login' : '/admin/login'}`);
    await field(page, 'Username').fill(who.username);
    await field(page, 'Password').fill(who.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
  }

  async function openConsolePage(page: Page, label: string, heading = label) {
    await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: label, exact: true }).click();
    await page.getByRole('heading', { level: 1, name: heading }).waitFor();
  }

  async function labTable(alias: string): Promise<string[]> {
    const agent = new Agent({ connect: { rejectUnauthorized: false } });
    try {
      const state = (await (await undiciFetch(`${labUrl}/__emulator/state`, { dispatcher: agent })).json()) as {
        tables: Record<string, string[]>;
      };
      return state.tables[alias] ?? [];
    } finally {
      await agent.close();
    }
  }

  it('first run: the sign-in page says how to sign in; the console offers a one-click demo grant that goes live on the lab', async () => {
    expect(labUrl).toMatch(/^https:/);
    const page = await newPage();
    await page.goto(`${server.url}/`);
    await page.getByRole('heading', { name: 'Sign in for access' }).waitFor();
    await expect(page.getByText('First start?').isVisible()).resolves.toBe(true);
    await expect(page.getByText(/prints its password once/).isVisible()).resolves.toBe(true);
    await visit(page, 'portal-sign-in');
    await page.getByRole('link', { name: /sign in to the console/ }).click();
    await page.getByRole('heading', { name: 'Sign in to the console' }).waitFor();
    await visit(page, 'console-sign-in');

    await signIn(page, 'console', E2E_OWNER);
    await page.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();
    const demo = page.getByRole('region', { name: /demo grant/ });
    await demo.getByRole('button', { name: 'Demo grant on lab-demo' }).click();
    await demo.getByText('Live on firewall').waitFor({ timeout: 60_000 });
    expect(await labTable('portcullis_lab')).toContain('127.0.0.1');
    await expect(demo.getByTestId('countdown').textContent()).resolves.toMatch(/^(59m|1h)/);
    await page.getByText('lab-pfsense: online').waitFor({ timeout: 30_000 });
    await visit(page, 'console-dashboard');
  }, 180_000);

  it('an admin adds a site and a gateway (tested before saving, its certificate trusted and pinned), a user, a role binding and a knoc assigned to the user', async () => {
    const page = await newPage();
    await signIn(page, 'console', E2E_OWNER);
    await page.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();

    await openConsolePage(page, 'Sites');
    await page.getByRole('button', { name: 'New site' }).click();
    const siteDialog = page.getByRole('dialog', { name: 'New site' });
    await field(siteDialog, 'Name').fill('branch');
    await siteDialog.getByRole('button', { name: 'Create site' }).click();
    await page.getByRole('cell', { name: 'branch', exact: true }).waitFor();
    await visit(page, 'console-sites');

    await openConsolePage(page, 'Gateways');
    await page.getByRole('cell', { name: 'lab-pfsense', exact: true }).waitFor();
    await page.getByRole('button', { name: 'Add gateway' }).click();
    const dialog = page.getByRole('dialog', { name: 'Add gateway' });
    await field(dialog, 'Name').fill('branch-fw');
    await choose(page, dialog, 'Site', 'branch');
    await field(dialog, 'URL').fill(emulator.url);
    await field(dialog, 'API key').fill(emulator.apiKey);
    const save = dialog.getByRole('button', { name: 'Save gateway' });
    expect(await save.isDisabled()).toBe(true);
    await dialog.getByRole('button', { name: 'Test connection' }).click();
    await dialog.getByText('Test failed: PFS003').waitFor();
    await dialog.getByText('Trust this certificate?').waitFor();
    const shown = await dialog.getByTestId('presented-fingerprint').textContent();
    const hex = (f: string) => f.replace(/:/g, '').toLowerCase();
    expect(hex(shown ?? '')).toBe(hex(emulator.fingerprint));
    await visit(page, 'console-gateway-add-trust');
    await dialog.getByRole('button', { name: 'Trust and pin this certificate' }).click();
    await dialog.getByText('Connection works').waitFor();
    expect(await save.isDisabled()).toBe(false);
    await save.click();
    await dialog.waitFor({ state: 'hidden' });
    await page.getByRole('cell', { name: 'branch-fw', exact: true }).waitFor();
    await page.getByRole('button', { name: 'Test gateway branch-fw' }).click();
    await page.getByText(/online ·/).first().waitFor();
    await visit(page, 'console-gateways');
    const admin = caller(server.url, { token: await ownerToken(server.url) });
    const gateways = await admin.call<{ items: { name: string; fingerprint_sha256: string | null }[] }>('GET', '/api/v1/firewall/gateways');
    expect(hex(gateways.items.find((g) => g.name === 'branch-fw')?.fingerprint_sha256 ?? '')).toBe(hex(emulator.fingerprint));

    await openConsolePage(page, 'Users');
    await page.getByRole('button', { name: 'New user' }).click();
    const userDialog = page.getByRole('dialog', { name: 'New user' });
    await field(userDialog, 'Username').fill(PAT.username);
    await field(userDialog, 'Password').fill(PAT.password);
    await userDialog.getByRole('button', { name: 'Create user' }).click();
    await page.getByRole('cell', { name: PAT.username, exact: true }).waitFor();
    await visit(page, 'console-users');

    await openConsolePage(page, 'Role bindings');
    await page.getByRole('button', { name: 'New binding' }).click();
    const bindingDialog = page.getByRole('dialog', { name: 'New role binding' });
    await choose(page, bindingDialog, 'Role', 'viewer');
    await choose(page, bindingDialog, 'User', PAT.username);
    await bindingDialog.getByRole('button', { name: 'Create binding' }).click();
    await page.getByRole('cell', { name: `user ${PAT.username}`, exact: true }).waitFor();
    await visit(page, 'console-role-bindings');

    await openConsolePage(page, 'Knocs');
    await page.getByRole('button', { name: 'New knoc' }).click();
    const knocDialog = page.getByRole('dialog', { name: 'New knoc' });
    await field(knocDialog, 'Name').fill('ssh-e2e');
    await choose(page, knocDialog, 'Gateway', 'branch-fw');
    // A name pfSense refuses: the server's error appears under the field it names.
    await field(knocDialog, 'Alias name').fill('bad alias!');
    await choose(page, knocDialog, 'Users', PAT.username);
    await knocDialog.getByRole('heading', { name: 'New knoc' }).click();
    await knocDialog.getByRole('button', { name: 'Create knoc' }).click();
    const aliasInput = field(knocDialog, 'Alias name');
    await expect.poll(() => aliasInput.getAttribute('aria-invalid')).toBe('true');
    const errorId = (await aliasInput.getAttribute('aria-describedby'))?.split(' ').find((id) => id.includes('error'));
    expect(await page.locator(`[id="${errorId}"]`).textContent()).toMatch(/alias/i);
    await visit(page, 'console-knoc-field-error');
    await aliasInput.fill(ALIAS);
    await knocDialog.getByRole('button', { name: 'Create knoc' }).click();
    await knocDialog.waitFor({ state: 'hidden' });
    await page.getByRole('cell', { name: 'ssh-e2e', exact: true }).waitFor();
    await visit(page, 'console-knocs');
    const knocs = await admin.call<{ items: { name: string; users: string[] }[] }>('GET', '/api/v1/access/knocs');
    const users = await admin.call<{ items: { id: string; username: string }[] }>('GET', '/api/v1/users');
    const patId = users.items.find((u) => u.username === PAT.username)?.id;
    expect(knocs.items.find((k) => k.name === 'ssh-e2e')?.users).toEqual([patId]);
    await page.getByRole('button', { name: 'Details of knoc ssh-e2e' }).click();
    await page.getByRole('dialog', { name: 'Knoc ssh-e2e' }).getByText('Assigned people').waitFor();
    await visit(page, 'console-knoc-details');
  }, 240_000);

  it('portal: sign-in with TOTP → the grant with a countdown → live on the emulated alias → extend → revoke → gone', async () => {
    const page = await newPage();
    // Enrol TOTP in the account page (password-only sign-in before that).
    await signIn(page, 'portal', PAT);
    await page.getByTestId('client-ip').waitFor();
    await page.getByRole('link', { name: 'Account' }).click();
    await field(page, 'Current password, to confirm it is you').fill(PAT.password);
    await page.getByRole('button', { name: 'Set up two-factor sign-in' }).click();
    await page.getByRole('img', { name: 'QR code to scan with your authenticator app' }).waitFor();
    const secret = await field(page, 'Setup key').inputValue();
    await visit(page, 'account-totp-enrol');
    await field(page, 'Code from your app').fill(totpCode(secret, new Date()));
    await page.getByRole('button', { name: 'Confirm and turn on' }).click();
    await page.getByText('Two-factor sign-in is on').waitFor();
    await visit(page, 'account');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in for access' }).waitFor();
    await eventually(() => (appliedAddresses(emulator, ALIAS).includes('127.0.0.1') ? undefined : true), 'sign-out to clear the alias');

    // Password, then the code the server asks for (the next step: the enrolment used this one).
    await signIn(page, 'portal', PAT);
    await field(page, 'Authentication code').waitFor();
    await visit(page, 'portal-sign-in-totp');
    await field(page, 'Authentication code').fill(totpCode(secret, new Date(Date.now() + 30_000)));
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.getByTestId('client-ip').textContent()).resolves.toBe('127.0.0.1');
    const card = page.getByRole('region', { name: 'ssh-e2e' });
    await card.getByText('Live on firewall').waitFor({ timeout: 60_000 });
    expect(appliedAddresses(emulator, ALIAS)).toContain('127.0.0.1');
    const countdown = card.getByTestId('countdown');
    const first = await countdown.textContent();
    expect(first).toMatch(/^(59m|1h)/);
    await expect.poll(() => countdown.textContent(), { timeout: 5_000 }).not.toBe(first);
    await visit(page, 'portal-live');
    // Extend: the choices stop at the knoc maximum (1 d); 4 h moves the expiry to now + 4 h.
    await field(card, 'Duration').click();
    expect(await page.getByRole('option').allTextContents()).toEqual(['15 min', '30 min', '1 h', '2 h', '4 h', '8 h', '1 d (maximum)']);
    await page.getByRole('option', { name: '4 h', exact: true }).click();
    await card.getByRole('button', { name: 'Extend' }).click();
    await expect.poll(() => countdown.textContent(), { timeout: 10_000 }).toMatch(/^(3h 59m|4h 00m)/);

    await card.getByRole('button', { name: 'Revoke' }).click();
    await card.getByText('No access').waitFor();
    await eventually(() => (appliedAddresses(emulator, ALIAS).includes('127.0.0.1') ? undefined : true), 'the address off the alias');
    await visit(page, 'portal-revoked');

    // Nothing secret is kept by the browser: the cookie is HttpOnly, storage holds only the colour scheme.
    const stored = await page.evaluate<{ cookie: string; local: string[]; session: string[] }>(
      '({ cookie: document.cookie, local: Object.keys(localStorage), session: Object.keys(sessionStorage) })',
    );
    expect(stored.cookie).not.toContain('pc_session');
    expect(stored.local.filter((k) => k !== 'portcullis-color-scheme')).toEqual([]);
    expect(stored.session).toEqual([]);

    // A phone-sized portal, in dark mode.
    await page.setViewportSize({ width: 390, height: 844 });
    await page.getByRole('button', { name: 'Switch to dark mode' }).click();
    await page.getByRole('button', { name: 'Switch to light mode' }).waitFor();
    await card.getByRole('button', { name: 'Get access' }).waitFor();
    expect(await page.evaluate('document.documentElement.scrollWidth <= window.innerWidth')).toBe(true);
    await visit(page, 'portal-phone-dark');
    // The header's links fold into a menu that stays on screen.
    const menu = page.getByRole('button', { name: 'Menu', exact: true });
    const box = await menu.boundingBox();
    expect((box?.x ?? 0) + (box?.width ?? 0)).toBeLessThanOrEqual(390);
    await menu.click();
    await page.getByRole('menuitem', { name: 'Sign out' }).waitFor();
    await visit(page, 'portal-phone-menu');
  }, 240_000);

  it('a site-limited operator sees only their site’s objects on every console page', async () => {
    const admin = caller(server.url, { token: await ownerToken(server.url) });
    const sites = await admin.call<{ items: { id: string; name: string }[] }>('GET', '/api/v1/sites');
    const roles = await admin.call<{ items: { id: string; name: string }[] }>('GET', '/api/v1/roles');
    const lab = sites.items.find((s) => s.name === 'lab');
    const user = await admin.call<{ id: string }>('POST', '/api/v1/users', OPAL);
    await admin.call('POST', '/api/v1/role-bindings', {
      role_id: roles.items.find((r) => r.name === 'operator')?.id,
      user_id: user.id,
      site_ids: [lab?.id],
    });
    const page = await newPage();
    await signIn(page, 'console', OPAL);
    await page.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();
    const main = page.getByRole('main');
    for (const [label, mine, theirs] of [
      ['Gateways', 'lab-pfsense', 'branch-fw'],
      ['Knocs', 'lab-demo', 'ssh-e2e'],
      ['Sites', 'lab', 'branch'],
    ] as const) {
      await openConsolePage(page, label);
      await main.getByRole('cell', { name: mine, exact: true }).waitFor();
      expect(await main.getByText(theirs, { exact: true }).count(), `${label}: ${theirs}`).toBe(0);
      await visit(page, `operator-${label.toLowerCase()}`);
    }
    await openConsolePage(page, 'Grants');
    await main.getByRole('cell', { name: 'lab-demo', exact: true }).first().waitFor();
    await page.getByText('All', { exact: true }).click();
    expect(await main.getByRole('cell', { name: 'ssh-e2e', exact: true }).count()).toBe(0);
    await visit(page, 'operator-grants');
    // The people pages need users.manage, which an operator does not hold.
    const nav = page.getByRole('navigation', { name: 'Console' });
    expect(await nav.getByRole('link', { name: 'Users' }).count()).toBe(0);
  }, 180_000);

  it('every remaining console page opens and passes axe; an API token is shown once', async () => {
    const page = await newPage();
    await signIn(page, 'console', E2E_OWNER);
    await page.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();
    await openConsolePage(page, 'Grants');
    await page.getByRole('button', { name: 'Break-glass grant' }).click();
    const glass = page.getByRole('dialog', { name: 'Break-glass grant' });
    await glass.getByRole('button', { name: 'Grant now' }).click();
    await glass.getByText(/A reason is required/).waitFor();
    await visit(page, 'console-grants-break-glass');
    await page.keyboard.press('Escape');
    await visit(page, 'console-grants');
    for (const label of ['Groups', 'Roles', 'Audit log']) {
      await openConsolePage(page, label);
      await page.getByLabel('Loading').waitFor({ state: 'detached' });
      await visit(page, `console-${label.toLowerCase().replace(' ', '-')}`);
    }
    // The Audit page says where audit events also go as syslog (none in this deployment).
    await page.getByText('Syslog copy: not configured (PORTCULLIS_SYSLOG_URL)').waitFor();
    // A passive knoc: its EDL URL and key are shown once; a fetch by the firewall shows up in the fetch log.
    await openConsolePage(page, 'Knocs');
    await page.getByRole('button', { name: 'New knoc' }).click();
    const knocDialog = page.getByRole('dialog', { name: 'New knoc' });
    await field(knocDialog, 'Name').fill('feed-e2e');
    await choose(page, knocDialog, 'Gateway', 'lab-pfsense');
    await knocDialog.getByText('Passive (firewall reads an EDL feed)').click();
    await field(knocDialog, 'Alias name').fill('pc_feed_e2e');
    await knocDialog.getByRole('button', { name: 'Create knoc' }).click();
    await knocDialog.waitFor({ state: 'hidden' });
    const feedUrl = await field(page, 'EDL URL').inputValue();
    const feedKey = await field(page, 'EDL key').inputValue();
    expect(feedUrl).toMatch(new RegExp(`^${server.url}/edl/[^/]+\\.txt$`));
    await page.getByRole('button', { name: 'Copy EDL key' }).waitFor();
    await visit(page, 'console-knoc-feed-once');
    const fetched = await fetch(feedUrl, { headers: { 'x-api-key': feedKey } });
    await page.getByRole('button', { name: 'Details of knoc feed-e2e' }).click();
    const details = page.getByRole('dialog', { name: 'Knoc feed-e2e' });
    await details.getByRole('cell', { name: String(fetched.status), exact: true }).waitFor();
    await visit(page, 'console-knoc-feed-details');
    await page.keyboard.press('Escape');

    await openConsolePage(page, 'API tokens');
    await field(page, 'Token name').fill('ci');
    await page.getByRole('button', { name: 'Create token' }).click();
    const token = await field(page, 'API token').inputValue();
    expect(token).toMatch(/^pc_/);
    await page.getByRole('cell', { name: 'ci', exact: true }).waitFor();
    await visit(page, 'console-tokens');
    await page.reload();
    await page.getByRole('cell', { name: 'ci', exact: true }).waitFor();
    expect(await page.content()).not.toContain(token);
  }, 180_000);

  it('no page has a serious or critical axe violation, and no page logged an error (e.g. a CSP refusal)', () => {
    expect(Object.keys(violations).length).toBeGreaterThanOrEqual(20);
    expect(Object.fromEntries(Object.entries(violations).filter(([, v]) => v.length > 0))).toEqual({});
    expect(consoleErrors).toEqual([]);
  });
});
