/**
 * Single sign-on with OpenID Connect against a real OpenID provider in the test process (oidc-provider 9):
 * sign-in through the browser flow (discovery, code + PKCE S256, state, nonce, ID token validated by
 * openid-client), just-in-time provisioning, group mapping to a knoc, the grant lifetime from a claim, the
 * provider's logout ending the session and its grants over back-channel logout, and refusals: a forged,
 * expired or foreign-audience ID token (from a provider stub answering the token request), and logout tokens
 * forged, expired, for another audience or carrying a nonce.
 */
import { generateKeyPairSync } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builtinRoleIds, createRoleBinding } from '../../src/identity/roles.ts';
import { DEFAULT_ORG_ID } from '../../src/store/schema/tenancy.ts';
import { type AccessHarness, startAccessHarness } from '../access-api/harness.ts';
import { startTestApp } from '../helpers/app.ts';
import { testContext } from '../helpers/store.ts';
import { Browser, listenOpenIdProvider, signJwt, type TestOpenIdProvider } from '../helpers/oidc-provider.ts';

let h: AccessHarness;
let op: TestOpenIdProvider;
let url: string;
let providerId: string;
let engineers: string;
let consoleProviderId: string;
const CLIENT = { id: 'portcullis-portal', secret: 'portal-client-secret-0123456789abcdef' };
const CONSOLE_CLIENT = { id: 'portcullis-console', secret: 'console-client-secret-0123456789abcdef' };

async function json(res: { statusCode: number; body: string; json(): unknown }, status: number) {
  expect(res.statusCode, res.body).toBe(status);
  return res.json() as Record<string, unknown> & { id: string };
}

beforeAll(async () => {
  h = await startAccessHarness('pglite');
  url = await h.app.listen({ host: '127.0.0.1', port: 0 });
  op = await listenOpenIdProvider();
  const gatewayId = await h.gateway(await h.site());
  engineers = (await json(await h.call({ method: 'POST', url: '/api/v1/groups', token: h.ownerToken, payload: { name: 'engineers' } }), 201)).id;
  await h.knoc({ gateway_id: gatewayId, alias_name: 'pc_sso', groups: [engineers], grant_ttl_seconds: 3600, max_ttl_seconds: 7200 });
  const created = await json(
    await h.call({
      method: 'POST',
      url: '/api/v1/identity-providers',
      token: h.ownerToken,
      payload: {
        name: 'Corporate IdP',
        kind: 'oidc',
        audience: 'portal',
        issuer: op.issuer,
        client_id: CLIENT.id,
        client_secret: CLIENT.secret,
        scopes: ['openid', 'profile', 'email', 'groups', 'access'],
        group_claim: 'groups',
        group_map: { eng: engineers },
        lifetime_claim: 'grant_ttl',
      },
    }),
    201,
  );
  providerId = created.id;
  expect(JSON.stringify(created)).not.toContain(CLIENT.secret);
  expect(created.has_client_secret).toBe(true);
  // The MSP's own staff sign in to the console through a second client of (here) the same provider.
  const operators = (await json(await h.call({ method: 'POST', url: '/api/v1/groups', token: h.ownerToken, payload: { name: 'operators' } }), 201)).id;
  const roles = await builtinRoleIds(h.store.db, DEFAULT_ORG_ID);
  await createRoleBinding(testContext(h.store, { keyring: h.keyring }), { roleId: roles.get('admin') as string, groupId: operators, siteIds: null });
  consoleProviderId = (
    await json(
      await h.call({
        method: 'POST',
        url: '/api/v1/identity-providers',
        token: h.ownerToken,
        payload: {
          name: 'MSP staff',
          kind: 'oidc',
          audience: 'console',
          issuer: op.issuer,
          client_id: CONSOLE_CLIENT.id,
          client_secret: CONSOLE_CLIENT.secret,
          scopes: ['openid', 'profile', 'groups'],
          group_map: { 'msp-ops': operators, eng: engineers },
        },
      }),
      201,
    )
  ).id;
  op.start([
    {
      client_id: CONSOLE_CLIENT.id,
      client_secret: CONSOLE_CLIENT.secret,
      redirect_uris: [`${url}/api/v1/auth/oidc/${consoleProviderId}/callback`],
    },
    {
      client_id: CLIENT.id,
      client_secret: CLIENT.secret,
      redirect_uris: [`${url}/api/v1/auth/oidc/${providerId}/callback`],
      backchannel_logout_uri: `${url}/api/v1/auth/oidc/${providerId}/backchannel-logout`,
      backchannel_logout_session_required: true,
      post_logout_redirect_uris: [`${url}/login`],
    },
  ]);
});

afterAll(async () => {
  await h?.close();
  await op?.close();
});

async function signIn(browser: Browser, login: string) {
  return browser.follow(`${url}/api/v1/auth/oidc/${providerId}/start`, login);
}

const portalMe = (browser: Browser) =>
  fetch(`${url}/api/v1/portal/me`, { headers: { cookie: browser.cookieHeader() } });

describe('sign-in through the OpenID provider', () => {
  it('lists the provider for the sign-in page without its settings', async () => {
    const res = await fetch(`${url}/api/v1/auth/providers`);
    const body = (await res.json()) as { local_login: boolean; providers: Record<string, unknown>[] };
    expect(body.local_login).toBe(true);
    expect(body.providers).toEqual([
      { id: providerId, name: 'Corporate IdP', kind: 'oidc', audience: 'portal', start_url: `/api/v1/auth/oidc/${providerId}/start` },
      { id: consoleProviderId, name: 'MSP staff', kind: 'oidc', audience: 'console', start_url: `/api/v1/auth/oidc/${consoleProviderId}/start` },
    ]);
  });

  it('starts with PKCE S256, state and nonce at the discovered authorization endpoint', async () => {
    const res = await new Browser().request(`${url}/api/v1/auth/oidc/${providerId}/start`);
    expect(res.status).toBe(302);
    const location = new URL(res.headers.get('location') as string);
    expect(location.origin).toBe(op.issuer);
    expect(location.searchParams.get('response_type')).toBe('code');
    expect(location.searchParams.get('code_challenge_method')).toBe('S256');
    expect(location.searchParams.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(location.searchParams.get('state')).toBeTruthy();
    expect(location.searchParams.get('nonce')).toBeTruthy();
    expect(location.searchParams.get('redirect_uri')).toBe(`${url}/api/v1/auth/oidc/${providerId}/callback`);
    expect(res.headers.get('set-cookie')).toMatch(/pc_sso=.*HttpOnly.*SameSite=Lax/i);
  });

  it('provisions the person, maps their group and grants for the lifetime the claim asks', async () => {
    op.accounts.set('alice', { claims: { preferred_username: 'alice', email: 'alice@example.net', name: 'Alice A', groups: ['eng', 'sales'], grant_ttl: 900 } });
    const browser = new Browser();
    const done = await signIn(browser, 'alice');
    expect(done.res.status, done.body).toBe(200);
    expect(done.url).toContain(`/api/v1/auth/oidc/${providerId}/callback`);
    expect(done.body).toContain('http-equiv="refresh"');
    expect(browser.cookies.has('pc_session')).toBe(true);

    const users = (await json(await h.call({ method: 'GET', url: '/api/v1/users?search=alice', token: h.ownerToken }), 200)) as unknown as { items: { id: string; username: string; email: string }[] };
    const alice = users.items.find((u) => u.username === 'alice');
    expect(alice).toMatchObject({ email: 'alice@example.net' });
    const members = (await json(await h.call({ method: 'GET', url: `/api/v1/groups/${engineers}/members`, token: h.ownerToken }), 200)) as unknown as { items: { username: string }[] };
    expect(members.items.map((m) => m.username)).toContain('alice');

    const me = (await (await portalMe(browser)).json()) as { grants: { seconds_left: number; method: string }[] };
    expect(me.grants).toHaveLength(1);
    expect(me.grants[0]?.method).toBe('login');
    expect(me.grants[0]?.seconds_left).toBeGreaterThan(850);
    expect(me.grants[0]?.seconds_left).toBeLessThanOrEqual(900);

    // A portal sign-in manages nothing, even for a user who could.
    const admin = await fetch(`${url}/api/v1/users`, { headers: { cookie: browser.cookieHeader() } });
    expect(admin.status).toBe(403);
  });

  it('drops a mapped group the claim no longer carries on the next sign-in', async () => {
    op.accounts.set('bob', { claims: { preferred_username: 'bob', groups: ['eng'] } });
    expect((await signIn(new Browser(), 'bob')).res.status).toBe(200);
    op.accounts.set('bob', { claims: { preferred_username: 'bob', groups: [] } });
    const again = new Browser();
    expect((await signIn(again, 'bob')).res.status).toBe(200);
    const members = (await json(await h.call({ method: 'GET', url: `/api/v1/groups/${engineers}/members`, token: h.ownerToken }), 200)) as unknown as { items: { username: string }[] };
    expect(members.items.map((m) => m.username)).not.toContain('bob');
    const me = (await (await portalMe(again)).json()) as { knocs: unknown[] };
    expect(me.knocs).toHaveLength(0);
  });

  it('ends the session and its grants when the person signs out at the provider (back-channel logout)', async () => {
    op.accounts.set('carol', { claims: { preferred_username: 'carol', groups: ['eng'] } });
    const browser = new Browser();
    expect((await signIn(browser, 'carol')).res.status).toBe(200);
    const before = (await (await portalMe(browser)).json()) as { grants: { grant_id: string }[] };
    expect(before.grants).toHaveLength(1);
    const grantId = before.grants[0]?.grant_id as string;

    const logoutPage = await browser.request(`${op.issuer}/session/end`);
    const html = await logoutPage.text();
    const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(html)?.[1];
    expect(action && xsrf, html).toBeTruthy();
    await browser.request(new URL(action as string, op.issuer).href, { form: { xsrf: xsrf as string, logout: 'yes' } });
    expect(op.errors).toEqual([]);

    expect((await portalMe(browser)).status).toBe(401);
    const grant = await json(await h.call({ method: 'GET', url: `/api/v1/access/grants/${grantId}`, token: h.ownerToken }), 200);
    expect(grant).toMatchObject({ status: 'ended', end_reason: 'logout' });
  });

  it('shows the provider\'s refusal when the person cancels at the provider', async () => {
    const browser = new Browser();
    let res = await browser.request(`${url}/api/v1/auth/oidc/${providerId}/start`);
    let current = `${url}/api/v1/auth/oidc/${providerId}/start`;
    while (res.status >= 300 && res.status < 400) {
      current = new URL(res.headers.get('location') as string, current).href;
      res = await browser.request(current);
    }
    const abort = /href="([^"]*\/abort)"/.exec(await res.text())?.[1];
    expect(abort).toBeTruthy();
    const done = await browser.follow(new URL(abort as string, current).href, 'nobody');
    expect(done.res.status).toBe(401);
    expect(done.body).toContain('access_denied');
    expect(browser.cookies.has('pc_session')).toBe(false);
  });

  it('refuses a callback whose state was already used, or from a browser that did not start it', async () => {
    op.accounts.set('dave', { claims: { preferred_username: 'dave' } });
    const browser = new Browser();
    const done = await signIn(browser, 'dave');
    expect(done.res.status).toBe(200);
    const replay = await new Browser().request(done.url);
    expect(replay.status).toBe(401);
    expect(await replay.text()).toContain('already used');

    const other = new Browser();
    const start = await other.request(`${url}/api/v1/auth/oidc/${providerId}/start`);
    const state = new URL(start.headers.get('location') as string).searchParams.get('state') as string;
    const stranger = await new Browser().request(`${url}/api/v1/auth/oidc/${providerId}/callback?code=x&state=${state}`);
    expect(stranger.status).toBe(401);
    expect(await stranger.text()).toContain('another browser');
  });
});

describe('the console provider', () => {
  it('signs staff in with the rights of their mapped group and grants nothing', async () => {
    op.accounts.set('olga', { claims: { preferred_username: 'olga', groups: ['msp-ops', 'eng'] } });
    const browser = new Browser();
    const done = await browser.follow(`${url}/api/v1/auth/oidc/${consoleProviderId}/start`, 'olga');
    expect(done.res.status, done.body).toBe(200);
    expect(done.body).toContain('url=/admin');
    // The built-in admin role (everything but users.manage) through the mapped group.
    const knocs = await fetch(`${url}/api/v1/access/knocs`, { headers: { cookie: browser.cookieHeader() } });
    expect(knocs.status).toBe(200);
    const users = await fetch(`${url}/api/v1/users`, { headers: { cookie: browser.cookieHeader() } });
    expect(users.status).toBe(403);
    const me = (await (await portalMe(browser)).json()) as { grants: unknown[]; knocs: unknown[] };
    expect(me.knocs).toHaveLength(1);
    expect(me.grants).toHaveLength(0);
  });
});

describe('password sign-in switched off', () => {
  it('refuses /auth/login and /portal/login with PC_ERR_LOCAL_LOGIN_DISABLED and says so to the sign-in page', async () => {
    const off = await startTestApp('pglite', { localLogin: false });
    try {
      for (const path of ['/api/v1/auth/login', '/api/v1/portal/login']) {
        const res = await off.call({ method: 'POST', url: path, payload: { username: 'owner', password: 'correct horse battery staple' } });
        expect(res.statusCode).toBe(403);
        expect(res.json().error.code).toBe('PC_ERR_LOCAL_LOGIN_DISABLED');
      }
      const providers = await off.call({ method: 'GET', url: '/api/v1/auth/providers' });
      expect(providers.json()).toEqual({ local_login: false, providers: [] });
    } finally {
      await off.close();
    }
  });
});

describe('logout tokens', () => {
  const post = (token: string) =>
    fetch(`${url}/api/v1/auth/oidc/${providerId}/backchannel-logout`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ logout_token: token }).toString(),
    });
  const claims = () => ({
    iss: op.issuer,
    aud: CLIENT.id,
    iat: Math.floor(Date.now() / 1000),
    exp: Math.floor(Date.now() / 1000) + 120,
    jti: `j-${Math.random()}`,
    sub: 'erin',
    events: { 'http://schemas.openid.net/event/backchannel-logout': {} },
  });

  it('ends the sessions of the subject a valid token names', async () => {
    op.accounts.set('erin', { claims: { preferred_username: 'erin', groups: ['eng'] } });
    const browser = new Browser();
    expect((await signIn(browser, 'erin')).res.status).toBe(200);
    const res = await post(signJwt(claims(), op.signingKey, { typ: 'logout+jwt' }));
    expect(res.status, await res.clone().text()).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(await res.json()).toEqual({ ended_sessions: 1, ended_grants: 1 });
    expect((await portalMe(browser)).status).toBe(401);
  });

  it.each([
    ['signed with another key', () => signJwt(claims(), generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey), 'signature'],
    ['expired', () => signJwt({ ...claims(), iat: 1_000, exp: 2_000 }, op.signingKey), 'expired'],
    ['for another audience', () => signJwt({ ...claims(), aud: 'someone-else' }, op.signingKey), 'audience'],
    ['from another issuer', () => signJwt({ ...claims(), iss: 'https://evil.example' }, op.signingKey), 'issuer'],
    ['with a nonce (an ID token)', () => signJwt({ ...claims(), nonce: 'n' }, op.signingKey), 'nonce'],
    ['without the logout event', () => signJwt({ ...claims(), events: {} }, op.signingKey), 'event'],
    ['unsigned', () => `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify(claims())).toString('base64url')}.`, 'asymmetric'],
  ])('refuses one %s', async (_name, token, reason) => {
    const res = await post(token());
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { code: string; field: string; message: string } };
    expect(body.error).toMatchObject({ code: 'PC_ERR_VALIDATION', field: 'logout_token' });
    expect(body.error.message).toContain(reason);
  });
});

describe('ID tokens a provider stub returns', () => {
  // The stub publishes discovery and keys and answers the token request with the ID token the test chooses.
  let stub: Server;
  let stubIssuer: string;
  let stubProviderId: string;
  let idToken: (nonce: string) => string = () => '';
  const key = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = { ...key.publicKey.export({ format: 'jwk' }), kid: 'test-rs256', alg: 'RS256', use: 'sig' };
  let lastNonce = '';

  beforeAll(async () => {
    stub = createServer((req, res) => {
      const path = new URL(req.url ?? '/', stubIssuer).pathname;
      const send = (body: unknown) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      if (path === '/.well-known/openid-configuration') {
        send({
          issuer: stubIssuer,
          authorization_endpoint: `${stubIssuer}/auth`,
          token_endpoint: `${stubIssuer}/token`,
          jwks_uri: `${stubIssuer}/jwks`,
          response_types_supported: ['code'],
          subject_types_supported: ['public'],
          id_token_signing_alg_values_supported: ['RS256'],
        });
      } else if (path === '/jwks') send({ keys: [jwk] });
      else if (path === '/token') send({ access_token: 'at', token_type: 'Bearer', expires_in: 60, id_token: idToken(lastNonce) });
      else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => stub.listen(0, '127.0.0.1', resolve));
    stubIssuer = `http://127.0.0.1:${(stub.address() as AddressInfo).port}`;
    stubProviderId = (
      await json(
        await h.call({
          method: 'POST',
          url: '/api/v1/identity-providers',
          token: h.ownerToken,
          payload: { name: 'Stub', kind: 'oidc', audience: 'portal', issuer: stubIssuer, client_id: 'stub-client', client_secret: 'stub-secret' },
        }),
        201,
      )
    ).id;
  });
  afterAll(() => new Promise<void>((resolve) => stub.close(() => resolve())));

  const idClaims = (nonce: string) => ({
    iss: stubIssuer,
    aud: 'stub-client',
    sub: 'stub-user',
    preferred_username: 'stubuser',
    nonce,
    iat: Math.floor(Date.now() / 1000),
    exp: Math.floor(Date.now() / 1000) + 300,
  });

  async function callback() {
    const browser = new Browser();
    const start = await browser.request(`${url}/api/v1/auth/oidc/${stubProviderId}/start`);
    const location = new URL(start.headers.get('location') as string);
    lastNonce = location.searchParams.get('nonce') as string;
    const state = location.searchParams.get('state') as string;
    const res = await browser.request(`${url}/api/v1/auth/oidc/${stubProviderId}/callback?code=c&state=${state}&iss=${encodeURIComponent(stubIssuer)}`);
    return { res, text: await res.text(), browser };
  }

  it.each([
    ['forged (signed with another key)', (n: string) => signJwt(idClaims(n), generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey)],
    ['expired', (n: string) => signJwt({ ...idClaims(n), iat: 1_000, exp: 2_000 }, key.privateKey)],
    ['for another audience', (n: string) => signJwt({ ...idClaims(n), aud: 'another-client' }, key.privateKey)],
    ['with another nonce', () => signJwt(idClaims('not-the-nonce'), key.privateKey)],
  ])('refuses an ID token %s', async (_name, make) => {
    idToken = make;
    const { res, text, browser } = await callback();
    expect(res.status).toBe(401);
    expect(text).toContain('Sign-in failed');
    expect(browser.cookies.has('pc_session')).toBe(false);
  });

  it('accepts the same token when it is right (the refusals above are not a broken stub)', async () => {
    idToken = (n) => signJwt(idClaims(n), key.privateKey);
    const { res, browser } = await callback();
    expect(res.status).toBe(200);
    expect(browser.cookies.has('pc_session')).toBe(true);
  });
});
