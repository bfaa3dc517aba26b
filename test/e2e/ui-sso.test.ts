/**
 * @module Single sign-on in Debian's Chromium against `npm start`'s server process (embedded store, the emulated
 * lab on) and a real OpenID provider in the test process (oidc-provider, its development login form): the owner
 * adds the provider on the console's Identity providers page; a person then clicks "Sign in with …" on the portal's
 * sign-in page, signs in at the provider, approves, and lands on the portal signed in with access on the lab knoc
 * their mapped group is assigned to, live on the firewall. Pages pass axe and leave screenshots in `.tmp/screenshots/`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listenOpenIdProvider, type TestOpenIdProvider } from '../helpers/oidc-provider.ts';
import { choose, CHROMIUM_MISSING, field, launchChromium, screenshot, seriousA11yViolations, signInToConsole } from './support/browser.ts';
import { caller, E2E_OWNER, type ServerProcess, signIn, spawnServer } from './support/server-process.ts';
import { ensureWebBuild } from './support/web-build.ts';

const CLIENT = { id: 'portcullis-e2e', secret: 'e2e-client-secret-0123456789abcdef' };

describe.skipIf(CHROMIUM_MISSING !== null)(`single sign-on in Chromium ${CHROMIUM_MISSING ?? ''}`, () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'portcullis-e2e-sso-'));
  let server: ServerProcess;
  let browser: Browser;
  let op: TestOpenIdProvider;

  beforeAll(async () => {
    ensureWebBuild();
    op = await listenOpenIdProvider();
    server = await spawnServer({ dataDir, env: { PORTCULLIS_LAB: undefined, PORTCULLIS_JOBS: 'off' } });
    browser = await launchChromium();
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop('SIGTERM');
    await op?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function newPage(): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 860 }, reducedMotion: 'reduce' });
    const page = await context.newPage();
    page.setDefaultTimeout(20_000);
    return page;
  }

  it('the owner adds the provider on the console; a person signs in to the portal through it and gets access', async () => {
    // The group the provider's "staff" claim maps to, assigned to the lab's knoc.
    const owner = await signIn(server.url, E2E_OWNER.username, E2E_OWNER.password);
    const api = caller(server.url, { cookie: owner.cookie, csrf: owner.csrf });
    const group = await api.call<{ id: string }>('POST', '/api/v1/groups', { name: 'sso-staff' });
    const knocs = await api.call<{ items: { id: string; name: string }[] }>('GET', '/api/v1/access/knocs');
    const lab = knocs.items.find((k) => k.name === 'lab-demo');
    expect(lab).toBeDefined();
    await api.call('PATCH', `/api/v1/access/knocs/${lab?.id}`, { groups: [group.id] });

    const consolePage = await newPage();
    await signInToConsole(consolePage, server.url, E2E_OWNER);
    await consolePage.getByRole('link', { name: 'Identity providers' }).click();
    await consolePage.getByRole('heading', { level: 1, name: 'Identity providers' }).waitFor();
    await consolePage.getByRole('button', { name: 'New identity provider' }).click();
    const dialog = consolePage.getByRole('dialog', { name: 'New identity provider' });
    await field(dialog, 'Name').fill('Corporate IdP');
    await field(dialog, 'Issuer').fill(op.issuer);
    await field(dialog, 'Client ID').fill(CLIENT.id);
    await field(dialog, 'Client secret').fill(CLIENT.secret);
    await field(dialog, 'Scopes').fill('openid profile groups');
    await field(dialog, 'Group mapping').fill('staff = sso-staff');
    await choose(consolePage, dialog, 'For', 'Portal (its users get access)');
    await dialog.getByRole('button', { name: 'Add identity provider' }).click();
    const settings = consolePage.getByRole('dialog', { name: /Corporate IdP: register these/ });
    const redirect = (await settings.getByText(/\/callback$/).textContent()) ?? '';
    expect(redirect).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/api\/v1\/auth\/oidc\/[0-9a-f-]{36}\/callback$/);
    expect(await seriousA11yViolations(consolePage)).toEqual([]);
    await screenshot(consolePage, 'sso-console-provider');
    await consolePage.context().close();

    op.accounts.set('alice', { claims: { preferred_username: 'alice', name: 'Alice Example', groups: ['staff'] } });
    op.start([{ client_id: CLIENT.id, client_secret: CLIENT.secret, redirect_uris: [redirect] }]);

    const page = await newPage();
    await page.goto(`${server.url}/login`);
    const button = page.getByRole('link', { name: 'Sign in with Corporate IdP' });
    await button.waitFor();
    expect(await seriousA11yViolations(page)).toEqual([]);
    await screenshot(page, 'sso-portal-sign-in');
    await button.click();
    // The provider's own (development) login and consent pages.
    await page.locator('input[name="login"]').fill('alice');
    await page.locator('input[name="password"]').fill('anything');
    await page.getByRole('button', { name: 'Sign-in' }).click();
    await page.getByRole('button', { name: 'Continue' }).click();

    await page.getByText('Signed in as Alice Example').waitFor();
    expect(new URL(page.url()).pathname).toBe('/');
    const card = page.getByRole('region', { name: 'lab-demo' });
    await card.getByText('Live on firewall').waitFor({ timeout: 60_000 });
    await screenshot(page, 'sso-portal-signed-in');
  });
});
