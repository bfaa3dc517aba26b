/**
 * Single sign-on with SAML 2.0 for the portal, against a test IdP that signs with xml-crypto (the library and
 * version node-saml verifies with): SP-initiated sign-in with provisioning, group mapping and a grant; refusals
 * of a forged, unsigned, expired, foreign-audience, unsolicited and replayed response; single logout (a signed
 * LogoutRequest) ending the session and its grants, an unsigned one refused; and our SP metadata.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import selfsigned from 'selfsigned';
import { type AccessHarness, startAccessHarness } from '../access-api/harness.ts';
import { Browser } from '../helpers/oidc-provider.ts';
import { createSamlIdp, readAuthnRequest, samlLogoutRequest, samlRedirectLogoutQuery, samlResponse, type TestSamlIdp } from '../helpers/saml-idp.ts';

let h: AccessHarness;
let idp: TestSamlIdp;
let url: string;
let providerId: string;
let engineers: string;

async function json(res: { statusCode: number; body: string; json(): unknown }, status: number) {
  expect(res.statusCode, res.body).toBe(status);
  return res.json() as Record<string, unknown> & { id: string };
}

beforeAll(async () => {
  h = await startAccessHarness('pglite');
  url = await h.app.listen({ host: '127.0.0.1', port: 0 });
  idp = await createSamlIdp();
  const gatewayId = await h.gateway(await h.site());
  engineers = (await json(await h.call({ method: 'POST', url: '/api/v1/groups', token: h.ownerToken, payload: { name: 'saml-engineers' } }), 201)).id;
  await h.knoc({ gateway_id: gatewayId, alias_name: 'pc_saml', groups: [engineers], grant_ttl_seconds: 3600, max_ttl_seconds: 7200 });
  providerId = (
    await json(
      await h.call({
        method: 'POST',
        url: '/api/v1/identity-providers',
        token: h.ownerToken,
        payload: {
          name: 'Corporate SAML',
          kind: 'saml',
          audience: 'portal',
          saml_entry_point: idp.ssoUrl,
          saml_idp_entity_id: idp.entityId,
          saml_idp_certs: [idp.certPem],
          group_claim: 'memberOf',
          group_map: { engineering: engineers },
          lifetime_claim: 'accessSeconds',
        },
      }),
      201,
    )
  ).id;
});

afterAll(async () => {
  await h?.close();
});

/** Starts at our SAML start URL and returns the AuthnRequest the IdP would receive. */
async function start(browser: Browser) {
  const res = await browser.request(`${url}/api/v1/auth/saml/${providerId}/start`);
  expect(res.status).toBe(302);
  const location = res.headers.get('location') as string;
  expect(location.startsWith(idp.ssoUrl)).toBe(true);
  return readAuthnRequest(location);
}

const post = (browser: Browser, response: string) =>
  browser.request(`${url}/api/v1/auth/saml/${providerId}/acs`, { form: { SAMLResponse: response } });

const portalMe = (browser: Browser) => fetch(`${url}/api/v1/portal/me`, { headers: { cookie: browser.cookieHeader() } });

describe('SAML sign-in', () => {
  it('provisions the person, maps their group and grants for the lifetime the attribute asks', async () => {
    const browser = new Browser();
    const request = await start(browser);
    expect(request.acsUrl).toBe(`${url}/api/v1/auth/saml/${providerId}/acs`);
    expect(request.issuer).toBe(`${url}/api/v1/auth/saml/${providerId}/metadata`);
    const res = await post(
      browser,
      samlResponse(idp, {
        inResponseTo: request.id,
        acsUrl: request.acsUrl,
        audience: request.issuer,
        nameId: 'frank@example.net',
        sessionIndex: '_session-frank',
        attributes: { memberOf: ['engineering', 'finance'], accessSeconds: ['1200'] },
      }),
    );
    expect(res.status, await res.clone().text()).toBe(200);
    expect(browser.cookies.has('pc_session')).toBe(true);
    const me = (await (await portalMe(browser)).json()) as { user: { username: string }; grants: { seconds_left: number }[] };
    expect(me.user.username).toBe('frank@example.net');
    expect(me.grants).toHaveLength(1);
    expect(me.grants[0]?.seconds_left).toBeGreaterThan(1150);
    expect(me.grants[0]?.seconds_left).toBeLessThanOrEqual(1200);
  });

  it('ends the session and its grants on a signed LogoutRequest, and refuses an unsigned one', async () => {
    const browser = new Browser();
    const request = await start(browser);
    const response = samlResponse(idp, {
      inResponseTo: request.id,
      acsUrl: request.acsUrl,
      audience: request.issuer,
      nameId: 'gina',
      sessionIndex: '_session-gina',
      attributes: { memberOf: ['engineering'] },
    });
    expect((await post(browser, response)).status).toBe(200);
    const slo = `${url}/api/v1/auth/saml/${providerId}/slo`;

    const unsigned = await new Browser().request(slo, {
      form: { SAMLRequest: samlLogoutRequest(idp, { destination: slo, nameId: 'gina', sessionIndex: '_session-gina', unsigned: true }) },
    });
    expect(unsigned.status).toBe(400);
    expect((await portalMe(browser)).status).toBe(200);

    const signed = await new Browser().request(slo, {
      form: { SAMLRequest: samlLogoutRequest(idp, { destination: slo, nameId: 'gina', sessionIndex: '_session-gina' }) },
    });
    expect(signed.status, await signed.clone().text()).toBe(200);
    expect(await signed.json()).toEqual({ ended_sessions: 1, ended_grants: 1 });
    expect((await portalMe(browser)).status).toBe(401);
  });

  it('ends them on a signed HTTP-Redirect LogoutRequest too, and refuses one without a signature', async () => {
    const browser = new Browser();
    const request = await start(browser);
    const response = samlResponse(idp, {
      inResponseTo: request.id,
      acsUrl: request.acsUrl,
      audience: request.issuer,
      nameId: 'ivan',
      sessionIndex: '_session-ivan',
      attributes: { memberOf: ['engineering'] },
    });
    expect((await post(browser, response)).status).toBe(200);
    const slo = `${url}/api/v1/auth/saml/${providerId}/slo`;
    const logout = { destination: slo, nameId: 'ivan', sessionIndex: '_session-ivan' };

    const unsigned = await fetch(`${slo}?${samlRedirectLogoutQuery(idp, { ...logout, unsigned: true })}`);
    expect(unsigned.status).toBe(400);
    expect((await portalMe(browser)).status).toBe(200);

    const signed = await fetch(`${slo}?${samlRedirectLogoutQuery(idp, logout)}`);
    expect(signed.status, await signed.clone().text()).toBe(200);
    expect(await signed.json()).toEqual({ ended_sessions: 1, ended_grants: 1 });
    expect((await portalMe(browser)).status).toBe(401);
  });

  it('serves our SP metadata with the ACS and entity id', async () => {
    const res = await fetch(`${url}/api/v1/auth/saml/${providerId}/metadata`);
    const xml = await res.text();
    expect(res.status).toBe(200);
    expect(xml).toContain(`entityID="${url}/api/v1/auth/saml/${providerId}/metadata"`);
    expect(xml).toContain(`Location="${url}/api/v1/auth/saml/${providerId}/acs"`);
  });
});

describe('SAML refusals', () => {
  let otherKeyPem: string;
  beforeAll(async () => {
    otherKeyPem = (await selfsigned.generate([{ name: 'commonName', value: 'forger' }], { keyType: 'rsa', keySize: 2048 })).private;
  });

  const cases: [string, (r: { id: string; acsUrl: string; issuer: string }) => Parameters<typeof samlResponse>[1], string][] = [
    ['signed with another key', (r) => ({ ...base(r), signingKeyPem: otherKeyPem }), 'signature'],
    ['unsigned', (r) => ({ ...base(r), unsigned: true }), 'signature'],
    ['expired', (r) => ({ ...base(r), validForMs: -10 * 60_000 }), 'no valid subject confirmation'],
    ['for another audience', (r) => ({ ...base(r), audience: 'https://someone-else.example' }), 'audience'],
    ['not answering our request', (r) => ({ ...base(r), inResponseTo: '_never-asked' }), 'InResponseTo'],
  ];
  function base(r: { id: string; acsUrl: string; issuer: string }) {
    return { inResponseTo: r.id, acsUrl: r.acsUrl, audience: r.issuer, nameId: 'mallory', sessionIndex: '_m' };
  }

  it.each(cases)('refuses a response %s', async (_name, make, reason) => {
    const browser = new Browser();
    const request = await start(browser);
    const res = await post(browser, samlResponse(idp, make(request)));
    const text = await res.text();
    expect(res.status, text).toBe(401);
    expect(text.toLowerCase()).toContain(reason.toLowerCase());
    expect(browser.cookies.has('pc_session')).toBe(false);
  });

  it('refuses a response replayed after it was used', async () => {
    const browser = new Browser();
    const request = await start(browser);
    const response = samlResponse(idp, { ...base(request), nameId: 'henry', sessionIndex: '_h' });
    expect((await post(browser, response)).status).toBe(200);
    const replay = await post(new Browser(), response);
    expect(replay.status).toBe(401);
  });
});
