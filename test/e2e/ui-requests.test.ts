/**
 * @module Access requests in Debian's Chromium against `npm start`'s server process (embedded store) and a pfRest
 * emulator: a knoc that requires approval by one of an approver group; the requester asks in the portal (what:
 * the knoc card, how long: the duration, why: the justification — an empty one is refused under the field), sees
 * it under "My requests"; the approver opens the console's Requests page, approves with a comment; the grant
 * goes live on the emulated firewall and the requester's portal shows it. A second request is denied through its
 * signed link on the /decide page. axe-core finds no serious or critical violation. Screenshots: `.tmp/screenshots/`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type PfRestEmulator, startPfRestEmulator } from '../../src/emulators/pfrest/index.ts';
import { type AccessWorld, accessWorld, appliedAddresses, type Person } from './support/access-world.ts';
import { type AxeViolation, CHROMIUM_MISSING, field, launchChromium, screenshot, seriousA11yViolations } from './support/browser.ts';
import { eventually, ownerToken, type ServerProcess, spawnServer } from './support/server-process.ts';
import { ensureWebBuild } from './support/web-build.ts';

const ALIAS = 'pc_requests_e2e';

describe.skipIf(CHROMIUM_MISSING !== null)(`access requests in Chromium ${CHROMIUM_MISSING ?? ''}`, () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'portcullis-e2e-requests-'));
  let server: ServerProcess;
  let emulator: PfRestEmulator;
  let browser: Browser;
  let world: AccessWorld;
  let rita: Person;
  let abe: Person;
  let knoc: { id: string; name: string };
  const violations: Record<string, AxeViolation[]> = {};
  const consoleErrors: string[] = [];
  const webhookBodies: string[] = [];
  const receiver = createServer((req, res) => {
    let text = '';
    req.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
    req.on('end', () => {
      webhookBodies.push(text);
      res.writeHead(204).end();
    });
  });

  beforeAll(async () => {
    ensureWebBuild();
    emulator = await startPfRestEmulator();
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    server = await spawnServer({
      dataDir,
      env: { PORTCULLIS_ALLOW_GATEWAY_HOSTS: '127.0.0.1', PORTCULLIS_ALLOW_WEBHOOK_HOSTS: '127.0.0.1' },
    });
    world = await accessWorld(server.url, await ownerToken(server.url), emulator);
    await world.admin.call('POST', '/api/v1/webhooks', {
      name: 'approvals-mail',
      url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`,
      event_types: ['access.request.created'],
    });
    rita = await world.person('rita');
    abe = await world.person('abe');
    const roles = await world.admin.call<{ items: { id: string; name: string }[] }>('GET', '/api/v1/roles');
    await world.admin.call('POST', '/api/v1/role-bindings', {
      role_id: roles.items.find((r) => r.name === 'viewer')?.id,
      user_id: abe.id,
    });
    const group = await world.admin.call<{ id: string }>('POST', '/api/v1/groups', { name: 'db-approvers' });
    await world.admin.call('POST', `/api/v1/groups/${group.id}/members`, { user_id: abe.id });
    knoc = await world.admin.call<{ id: string; name: string }>('POST', '/api/v1/access/knocs', {
      name: 'db-admin',
      gateway_id: world.gatewayId,
      alias_name: ALIAS,
      create_alias_if_missing: true,
      users: [rita.id],
      requires_justification: true,
      requires_approval: true,
      approver_group_id: group.id,
      approvals_required: 1,
    });
    browser = await launchChromium();
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop('SIGTERM');
    await emulator?.close();
    receiver.close();
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

  async function newPage(): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 860 }, reducedMotion: 'reduce' });
    const page = await context.newPage();
    current = page;
    page.setDefaultTimeout(20_000);
    page.on('console', (m) => {
      if (m.type() === 'error' && !/responded with a status of 4\d\d/.test(m.text())) consoleErrors.push(m.text());
    });
    page.on('pageerror', (e) => consoleErrors.push(String(e)));
    return page;
  }

  async function visit(page: Page, name: string): Promise<void> {
    violations[name] = await seriousA11yViolations(page);
    await screenshot(page, name);
  }

  async function signIn(page: Page, where: 'portal' | 'console', who: Person) {
    await page.goto(`${server.url}${where === 'portal' ? '/login' : '/admin/login'}`);
    await field(page, 'Username').fill(who.username);
    await field(page, 'Password').fill(who.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
  }

  it('request in the portal -> approve in the console -> the grant is live on the firewall', async () => {
    const portal = await newPage();
    await signIn(portal, 'portal', rita);
    const card = portal.getByRole('region', { name: 'db-admin' });
    await card.getByText('No access').waitFor();
    await card.getByRole('button', { name: 'Request access' }).click();
    // Why is required: the server's 400 names the field.
    await card.getByText(/requires a justification/).waitFor();
    await field(card, 'Why do you need access? (sent to the approvers)').fill('rotate the replica credentials');
    await field(card, 'Duration').click();
    await portal.getByRole('option', { name: '2 h', exact: true }).click();
    await card.getByRole('button', { name: 'Request access' }).click();
    await card.getByText(/Request sent: it needs 1 approval/).waitFor();
    const mine = portal.getByRole('region', { name: 'My requests' });
    await mine.getByText('pending 0/1').waitFor();
    await visit(portal, 'portal-request-pending');
    expect(appliedAddresses(emulator, ALIAS)).toEqual([]);

    const consolePage = await browser.newPage();
    await consolePage.goto(`${server.url}/admin/login`);
    await field(consolePage, 'Username').fill(abe.username);
    await field(consolePage, 'Password').fill(abe.password);
    await consolePage.getByRole('button', { name: 'Sign in' }).click();
    await consolePage.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Requests', exact: true }).click();
    await consolePage.getByRole('heading', { level: 1, name: 'Requests' }).waitFor();
    await consolePage.getByText('rotate the replica credentials').waitFor();
    violations['console-requests'] = await seriousA11yViolations(consolePage);
    await screenshot(consolePage, 'console-requests');
    await consolePage.getByRole('button', { name: 'Approve request of rita on db-admin' }).click();
    const dialog = consolePage.getByRole('dialog', { name: 'Approve access' });
    await field(dialog, 'Comment (optional)').fill('go ahead');
    await dialog.getByRole('button', { name: 'Approve', exact: true }).click();
    await dialog.waitFor({ state: 'hidden' });
    await consolePage.getByText('Nothing awaits your decision.').waitFor();
    await consolePage.getByText('Approved', { exact: true }).click();
    await consolePage.getByText(/abe approved .*: go ahead/).waitFor();
    await consolePage.close();

    await eventually(() => (appliedAddresses(emulator, ALIAS).includes('127.0.0.1') ? true : undefined), 'the approved grant on the alias');
    await card.getByText('Live on firewall').waitFor({ timeout: 60_000 });
    await mine.getByText('approved 1/1').waitFor();
    await expect(card.getByTestId('countdown').textContent()).resolves.toMatch(/^(1h 59m|2h 00m)/);
    await visit(portal, 'portal-request-approved');
  });

  it('a signed link from the webhook payload denies on the /decide page; used again it is refused', async () => {
    // Rita's grant from the first test is revoked so she can ask again.
    const grants = await world.admin.call<{ items: { id: string }[] }>('GET', `/api/v1/access/grants?knoc_id=${knoc.id}&status=live`);
    for (const g of grants.items) await world.admin.call('DELETE', `/api/v1/access/grants/${g.id}`);
    const asked = await fetch(`${server.url}/api/v1/portal/grants/${knoc.id}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${rita.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ justification: 'one more time' }),
    });
    expect(asked.status).toBe(202);
    const requestId = ((await asked.json()) as { requested: { id: string }[] }).requested[0]?.id;
    // The link abe receives, as the webhook (or the mail gateway behind it) carries it.
    const denyPath = await eventually(() => {
      for (const text of webhookBodies) {
        const body = JSON.parse(text) as {
          type: string;
          payload: { request_id: string; decision_links: { approver_id: string; deny_path: string }[] };
        };
        if (body.type === 'access.request.created' && body.payload.request_id === requestId)
          return body.payload.decision_links.find((l) => l.approver_id === abe.id)?.deny_path;
      }
      return undefined;
    }, 'the webhook delivery');
    expect(denyPath).toMatch(/^\/decide#token=/);
    const page = await newPage();
    await page.goto(`${server.url}${denyPath}`);
    await page.getByRole('heading', { name: 'Deny access request' }).waitFor();
    await field(page, 'Comment (optional)').fill('not today');
    await page.getByRole('button', { name: 'Deny', exact: true }).click();
    await page.getByText(/request for db-admin is now denied/).waitFor();
    await visit(page, 'decide-link-denied');
    await page.reload();
    await page.getByRole('button', { name: 'Deny', exact: true }).click();
    await page.getByText(/already denied/).waitFor();
    const view = await world.admin.call<{ status: string; decisions: { via: string; comment: string }[] }>(
      'GET',
      `/api/v1/access/requests/${requestId}`,
    );
    expect(view).toMatchObject({ status: 'denied', decisions: [{ via: 'link', comment: 'not today' }] });
  });

  it('no serious accessibility violations and no console errors', () => {
    expect(violations).toEqual(Object.fromEntries(Object.keys(violations).map((k) => [k, []])));
    expect(consoleErrors).toEqual([]);
  });
});
