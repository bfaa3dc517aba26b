/**
 * @module Bad input (a 4xx naming the field, nothing written), site scoping of gateways/knocs/grants, portal
 * entitlement and source conditions, the machine-client knock, and the EDL feed's key and source rules.
 * PGlite, real emulator on loopback; the portal's client address is set per request (`remoteAddress`).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REFUSED_ROWS_PER_WINDOW } from '../../src/access/service/feed.ts';
import { totpCode } from '../../src/identity/totp.ts';
import { type AccessHarness, startAccessHarness } from './harness.ts';

let h: AccessHarness;
let siteId: string;
let gatewayId: string;
let n = 0;
const alias = () => `pc_in${++n}`;

beforeAll(async () => {
  h = await startAccessHarness('pglite');
  siteId = await h.site();
  gatewayId = await h.gateway(siteId);
});
afterAll(async () => {
  await h?.close();
});

const count = async (table: string) =>
  (await h.store.query<{ n: number }>(`select count(*)::int as n from ${table}`))[0]?.n;

describe('bad input: 400 naming the field, nothing written', () => {
  const gatewayBody = () => ({
    name: `g-${++n}`,
    site_id: siteId,
    url: h.emulator.url,
    api_key: 'k'.repeat(20),
  });
  it.each([
    { name: 'URL without scheme', patch: { url: '127.0.0.1:8443' }, field: 'url' },
    { name: 'metadata address', patch: { url: 'https://169.254.169.254' }, field: 'url' },
    { name: 'loopback not allow-listed', patch: { url: 'https://127.0.0.2' }, field: 'url' },
    { name: 'ftp scheme', patch: { url: 'ftp://192.0.2.1' }, field: 'url' },
    { name: 'unknown vendor', patch: { vendor: 'no_such_vendor_x' }, field: 'vendor' },
    { name: 'bad fingerprint', patch: { fingerprint_sha256: 'abcd' }, field: 'fingerprint_sha256' },
    { name: 'ca_pem not PEM', patch: { ca_pem: 'hello' }, field: 'ca_pem' },
    { name: 'API key with a control character', patch: { api_key: `${'k'.repeat(10)}\u0007k` }, field: 'api_key' },
    { name: 'API key beyond ASCII', patch: { api_key: `${'k'.repeat(10)}é` }, field: 'api_key' },
    { name: 'unknown site', patch: { site_id: '00000000-0000-4000-8000-0000000000ff' }, field: 'site_id' },
  ])('gateway: $name → 400 on $field', async ({ patch, field }) => {
    const before = await count('gateways');
    const res = await h.call({
      method: 'POST',
      url: '/api/v1/firewall/gateways',
      token: h.ownerToken,
      payload: { ...gatewayBody(), ...patch },
    });
    expect(res.statusCode, res.body).toBe(400);
    expect(res.json().error.field).toBe(field);
    expect(await count('gateways')).toBe(before);
  });

  it.each([
    { name: 'alias name with a dash', patch: { alias_name: 'my-alias' }, field: 'alias_name' },
    { name: 'alias name a pf keyword', patch: { alias_name: 'table' }, field: 'alias_name' },
    { name: 'alias name too long', patch: { alias_name: 'a'.repeat(32) }, field: 'alias_name' },
    { name: 'alias name a service', patch: { alias_name: 'ssh' }, field: 'alias_name' },
    {
      name: 'bad allowed CIDR',
      patch: { allowed_sources: ['10.0.0.0/8', '10.0.0.0/33'] },
      field: 'allowed_sources.1',
    },
    { name: 'bad denied CIDR', patch: { denied_sources: ['nope'] }, field: 'denied_sources.0' },
    {
      name: 'ttl over max',
      patch: { grant_ttl_seconds: 7200, max_ttl_seconds: 3600 },
      field: 'grant_ttl_seconds',
    },
    { name: 'unknown user', patch: { users: ['00000000-0000-4000-8000-0000000000aa'] }, field: 'users.0' },
    { name: 'bad mode', patch: { mode: 'sometimes' }, field: 'mode' },
  ])('knoc: $name → 400 on $field', async ({ patch, field }) => {
    const before = await count('knocs');
    const res = await h.call({
      method: 'POST',
      url: '/api/v1/access/knocs',
      token: h.ownerToken,
      payload: { name: `k-${++n}`, gateway_id: gatewayId, alias_name: alias(), ...patch },
    });
    expect(res.statusCode, res.body).toBe(400);
    expect(res.json().error.field).toBe(field);
    expect(await count('knocs')).toBe(before);
  });

  it('knoc on a deleted gateway → 400 on gateway_id (create and grant)', async () => {
    const doomed = await h.gateway(siteId);
    const knoc = await h.knoc({ gateway_id: doomed, alias_name: alias() });
    // Move the knoc away, delete the gateway, then point at it again.
    await h.call({
      method: 'PATCH',
      url: `/api/v1/access/knocs/${knoc.id}`,
      token: h.ownerToken,
      payload: { gateway_id: gatewayId },
    });
    expect(
      (await h.call({ method: 'DELETE', url: `/api/v1/firewall/gateways/${doomed}`, token: h.ownerToken }))
        .statusCode,
    ).toBe(204);
    const res = await h.call({
      method: 'POST',
      url: '/api/v1/access/knocs',
      token: h.ownerToken,
      payload: { name: `k-${++n}`, gateway_id: doomed, alias_name: alias() },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.field).toBe('gateway_id');
  });

  it.each([
    { name: 'not an address', ip: 'example.com', field: 'ip' },
    { name: 'a CIDR', ip: '198.51.100.0/24', field: 'ip' },
    { name: 'outside the allowed ranges', ip: '203.0.113.9', field: 'ip' },
    { name: 'in a denied range', ip: '10.1.2.3', field: 'ip' },
    { name: 'ttl over the maximum', ip: '192.168.1.5', ttl_seconds: 999_999, field: 'ttl_seconds' },
  ])('admin grant: $name → 400 on $field', async ({ name: _case, ip, field, ...extra }) => {
    const knoc = await h.knoc({
      gateway_id: gatewayId,
      alias_name: alias(),
      allowed_sources: ['192.168.0.0/16', '10.0.0.0/8'],
      denied_sources: ['10.1.0.0/16'],
    });
    const before = await count('grants');
    const res = await h.call({
      method: 'POST',
      url: '/api/v1/access/grants',
      token: h.ownerToken,
      payload: { knoc_id: knoc.id, ip, reason: 'x', ...extra },
    });
    expect(res.statusCode, res.body).toBe(400);
    expect(res.json().error.field).toBe(field);
    expect(await count('grants')).toBe(before);
  });
});

describe('site scoping', () => {
  it("an operator limited to one site sees only that site's gateways, knocs and grants", async () => {
    const otherSite = await h.site();
    const otherGateway = await h.gateway(otherSite);
    const mine = await h.knoc({ gateway_id: gatewayId, alias_name: alias() });
    const theirs = await h.knoc({ gateway_id: otherGateway, alias_name: alias() });
    const theirGrant = await h.call({
      method: 'POST',
      url: '/api/v1/access/grants',
      token: h.ownerToken,
      payload: { knoc_id: theirs.id, ip: '198.51.100.77', reason: 'x' },
    });
    const op = await h.makeUser(`op${++n}`, 'operator', [siteId]);
    const gws = (await h.call({ method: 'GET', url: '/api/v1/firewall/gateways', token: op.token }))
      .json()
      .items.map((g: { id: string }) => g.id);
    expect(gws).toContain(gatewayId);
    expect(gws).not.toContain(otherGateway);
    const knocs = (await h.call({ method: 'GET', url: '/api/v1/access/knocs', token: op.token }))
      .json()
      .items.map((k: { id: string }) => k.id);
    expect(knocs).toContain(mine.id);
    expect(knocs).not.toContain(theirs.id);
    const grants = (
      await h.call({ method: 'GET', url: '/api/v1/access/grants?status=all', token: op.token })
    ).json().items;
    expect(grants.every((g: { site_id: string }) => g.site_id === siteId)).toBe(true);
    expect(
      (await h.call({ method: 'GET', url: `/api/v1/firewall/gateways/${otherGateway}`, token: op.token }))
        .statusCode,
    ).toBe(404);
    expect(
      (await h.call({ method: 'GET', url: `/api/v1/access/knocs/${theirs.id}`, token: op.token })).statusCode,
    ).toBe(404);
    expect(
      (await h.call({ method: 'GET', url: `/api/v1/access/grants/${theirGrant.json().id}`, token: op.token }))
        .statusCode,
    ).toBe(404);
    // An operator may not make break-glass grants at all.
    const denied = await h.call({
      method: 'POST',
      url: '/api/v1/access/grants',
      token: op.token,
      payload: { knoc_id: mine.id, ip: '198.51.100.78', reason: 'x' },
    });
    expect(denied.statusCode).toBe(403);
  });
});

describe('portal', () => {
  it('grants only allowed knocs at sign-in, refusing the others with the reason; the admin console sign-in grants nothing', async () => {
    const user = await h.makeUser(`pat${++n}`);
    const groupRes = await h.call({
      method: 'POST',
      url: '/api/v1/groups',
      token: h.ownerToken,
      payload: { name: `grp${n}` },
    });
    const groupId = groupRes.json().id;
    await h.call({
      method: 'POST',
      url: `/api/v1/groups/${groupId}/members`,
      token: h.ownerToken,
      payload: { user_id: user.id },
    });
    const open = await h.knoc({ gateway_id: gatewayId, alias_name: alias(), groups: [groupId] });
    const lan = await h.knoc({
      gateway_id: gatewayId,
      alias_name: alias(),
      users: [user.id],
      allowed_sources: ['10.0.0.0/8'],
    });
    await h.knoc({ gateway_id: gatewayId, alias_name: alias() }); // not assigned

    const admin = await h.call({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { username: user.username, password: user.password },
      remoteAddress: '203.0.113.50',
    });
    expect(admin.statusCode).toBe(200);
    expect(
      (
        await h.call({ method: 'GET', url: `/api/v1/access/grants?user_id=${user.id}`, token: h.ownerToken })
      ).json().items,
    ).toEqual([]);

    const res = await h.call({
      method: 'POST',
      url: '/api/v1/portal/login',
      payload: { username: user.username, password: user.password },
      remoteAddress: '203.0.113.50',
    });
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json();
    expect(body.ip).toBe('203.0.113.50');
    expect(body.granted.map((g: { knoc_id: string }) => g.knoc_id)).toEqual([open.id]);
    expect(body.refused).toMatchObject([{ knoc_id: lan.id, reason: 'source_not_allowed' }]);
    await h.settled();

    // Signing in again replaces the grant instead of stacking a second one.
    const again = await h.call({
      method: 'POST',
      url: '/api/v1/portal/login',
      payload: { username: user.username, password: user.password },
      remoteAddress: '203.0.113.51',
    });
    const grants = (
      await h.call({
        method: 'GET',
        url: `/api/v1/access/grants?user_id=${user.id}&status=all`,
        token: h.ownerToken,
      })
    ).json().items;
    expect(grants.map((g: { end_reason: string | null; ip: string }) => [g.ip, g.end_reason])).toEqual([
      ['203.0.113.51', null],
      ['203.0.113.50', 'replaced'],
    ]);
    await h.settled();
    expect(h.applied(open.alias_name as string)).toEqual(['203.0.113.51']);

    // Click-to-grant on the LAN knoc from an allowed address; unassigned knocs are 404.
    const cookie = `pc_session=${again.cookies.find((c) => c.name === 'pc_session')?.value}`;
    const csrf = again.json().csrf_token;
    const click = await h.call({
      method: 'POST',
      url: `/api/v1/portal/grants/${lan.id}`,
      headers: { cookie, 'x-csrf-token': csrf },
      remoteAddress: '10.20.30.40',
    });
    expect(click.statusCode, click.body).toBe(200);
    expect(click.json().granted).toMatchObject([{ knoc_id: lan.id }]);
    const stranger = await h.call({
      method: 'POST',
      url: `/api/v1/portal/grants/${randomUUID()}`,
      headers: { cookie, 'x-csrf-token': csrf },
    });
    expect(stranger.statusCode).toBe(404);
  });

  it('the machine client knocks with an API token (named knoc or all), in the sign-in answer shape', async () => {
    const bot = await h.makeUser(`bot${++n}`);
    const a = await h.knoc({ gateway_id: gatewayId, alias_name: alias(), users: [bot.id] });
    const b = await h.knoc({ gateway_id: gatewayId, alias_name: alias(), users: [bot.id] });
    const all = await h.call({
      method: 'POST',
      url: '/api/v1/portal/knock',
      token: bot.token,
      payload: {},
      remoteAddress: '2001:db8::42',
    });
    expect(all.statusCode, all.body).toBe(200);
    expect(all.json()).toMatchObject({ ip: '2001:db8::42', refused: [] });
    expect(
      all
        .json()
        .granted.map((g: { knoc_name: string }) => g.knoc_name)
        .sort(),
    ).toEqual([a.name, b.name].sort());
    const one = await h.call({
      method: 'POST',
      url: '/api/v1/portal/knock',
      token: bot.token,
      payload: { knoc: a.name },
      remoteAddress: '2001:db8::43',
    });
    expect(one.json().granted).toMatchObject([{ knoc_id: a.id, knoc_name: a.name }]);
    expect(Object.keys(one.json().granted[0]).sort()).toEqual([
      'expires_at',
      'grant_id',
      'knoc_id',
      'knoc_name',
      'seconds_left',
    ]);
    const missing = await h.call({
      method: 'POST',
      url: '/api/v1/portal/knock',
      token: bot.token,
      payload: { knoc: 'nope' },
    });
    expect(missing.statusCode).toBe(404);
    await h.settled();
    // A run that timed out on a loaded machine is retried after a backoff `settled()` does not wait for.
    await expect.poll(() => h.applied(a.alias_name as string), { timeout: 15_000 }).toEqual(['2001:db8::43']);
    await expect.poll(() => h.applied(b.alias_name as string), { timeout: 15_000 }).toEqual(['2001:db8::42']);
  });
});

describe('portal sign-in checks', () => {
  it('a TOTP account gets no grant without a valid code, and its grants with one', async () => {
    const user = await h.makeUser(`totp${++n}`);
    const knoc = await h.knoc({ gateway_id: gatewayId, alias_name: alias(), users: [user.id] });
    const session = await h.call({ method: 'POST', url: '/api/v1/auth/login', payload: { username: user.username, password: user.password } });
    const cookie = `pc_session=${session.cookies.find((c) => c.name === 'pc_session')?.value}`;
    const headers = { cookie, 'x-csrf-token': session.json().csrf_token };
    const enrolled = (await h.call({ method: 'POST', url: '/api/v1/auth/totp/enroll', headers, payload: { current_password: user.password } })).json();
    const verify = await h.call({ method: 'POST', url: '/api/v1/auth/totp/verify', headers, payload: { code: totpCode(enrolled.secret, new Date()) } });
    expect(verify.statusCode, verify.body).toBe(204);
    const credentials = { username: user.username, password: user.password };
    const missing = await h.call({ method: 'POST', url: '/api/v1/portal/login', payload: credentials });
    expect(missing.json().error.code).toBe('PC_ERR_TOTP_REQUIRED');
    const wrong = await h.call({ method: 'POST', url: '/api/v1/portal/login', payload: { ...credentials, totp_code: '000000' } });
    expect(wrong.statusCode).toBe(401);
    const grants = () => h.call({ method: 'GET', url: `/api/v1/access/grants?knoc_id=${knoc.id}&status=all`, token: h.ownerToken });
    expect((await grants()).json().items).toEqual([]);
    // The enrolment consumed this step's code; the next step's is accepted (window ±1).
    const next = totpCode(enrolled.secret, new Date(Date.now() + 30_000));
    const ok = await h.call({ method: 'POST', url: '/api/v1/portal/login', payload: { ...credentials, totp_code: next } });
    expect(ok.statusCode, ok.body).toBe(200);
    expect((await grants()).json().items).toHaveLength(1);
  });
});

describe('grant listing', () => {
  it('filters by knoc, user, ip and status, newest first, with paging', async () => {
    const knoc = await h.knoc({ gateway_id: gatewayId, alias_name: alias() });
    const user = await h.makeUser(`lst${++n}`);
    const ids: string[] = [];
    for (const ip of ['192.0.2.61', '192.0.2.62', '2001:db8::63']) {
      const res = await h.call({ method: 'POST', url: '/api/v1/access/grants', token: h.ownerToken, payload: { knoc_id: knoc.id, ip, reason: 'list', user_id: user.id } });
      ids.push(res.json().id);
    }
    await h.call({ method: 'DELETE', url: `/api/v1/access/grants/${ids[0]}`, token: h.ownerToken });
    const list = async (query: string) =>
      (await h.call({ method: 'GET', url: `/api/v1/access/grants?knoc_id=${knoc.id}&${query}`, token: h.ownerToken })).json().items.map((g: { id: string }) => g.id);
    expect(await list('status=all')).toEqual([...ids].reverse());
    expect(await list('status=live')).toEqual([ids[2], ids[1]]);
    expect(await list('status=ended')).toEqual([ids[0]]);
    expect(await list(`user_id=${user.id}&ip=2001:0db8::63`)).toEqual([ids[2]]);
    expect(await list('status=all&limit=1&offset=1')).toEqual([ids[1]]);
    const bad = await h.call({ method: 'GET', url: '/api/v1/access/grants?ip=nope', token: h.ownerToken });
    expect(bad.json().error.field).toBe('ip');
  });
});

describe('EDL feed', () => {
  it('serves the live addresses with the key; 401 without or with a wrong key; 403 from a disallowed source; fetches logged', async () => {
    const created = await h.knoc({
      gateway_id: gatewayId,
      alias_name: alias(),
      mode: 'passive',
      feed_allowed_sources: ['192.0.2.0/24'],
    });
    const key = created.feed_key as string;
    const token = created.feed_token as string;
    expect(key).toMatch(/^[0-9a-f]{64}$/);
    const [row] = await h.store.query<{ feed_key_hash: string }>(
      'select feed_key_hash from knocs where id = $1',
      [created.id],
    );
    expect(row?.feed_key_hash).not.toBe(key);
    await h.call({
      method: 'POST',
      url: '/api/v1/access/grants',
      token: h.ownerToken,
      payload: { knoc_id: created.id, ip: '198.51.100.1', reason: 'x' },
    });
    await h.call({
      method: 'POST',
      url: '/api/v1/access/grants',
      token: h.ownerToken,
      payload: { knoc_id: created.id, ip: '2001:db8::1', reason: 'x' },
    });

    const fetchFeed = (path: string, headers: Record<string, string> = {}, remoteAddress = '192.0.2.10') =>
      h.call({ method: 'GET', url: path, headers, remoteAddress });
    const txt = await fetchFeed(`/edl/${token}.txt`, { 'x-api-key': key });
    expect(txt.statusCode).toBe(200);
    expect(txt.body.split('\n').filter(Boolean).sort()).toEqual(['198.51.100.1', '2001:db8::1']);
    const json = await fetchFeed(`/edl/${token}.json?key=${key}`);
    expect(json.json()).toMatchObject({ count: 2 });
    expect((await fetchFeed(`/edl/${token}.txt`)).statusCode).toBe(401);
    expect((await fetchFeed(`/edl/${token}.txt`, { 'x-api-key': 'f'.repeat(64) })).statusCode).toBe(401);
    expect((await fetchFeed(`/edl/${token}.txt`, { 'x-api-key': key }, '203.0.113.1')).statusCode).toBe(403);
    expect((await fetchFeed(`/edl/${'x'.repeat(43)}.txt`, { 'x-api-key': key })).statusCode).toBe(404);
    // Nothing is pushed to the device for a passive knoc.
    expect(h.applied(created.alias_name as string)).toEqual([]);

    const fetches = (
      await h.call({ method: 'GET', url: `/api/v1/access/knocs/${created.id}/fetches`, token: h.ownerToken })
    ).json().items;
    expect(
      fetches.map((f: { status: number; entries: number | null; source_ip: string }) => [
        f.status,
        f.entries,
        f.source_ip,
      ]),
    ).toEqual([
      [403, null, '203.0.113.1'],
      [401, null, '192.0.2.10'],
      [401, null, '192.0.2.10'],
      [200, 2, '192.0.2.10'],
      [200, 2, '192.0.2.10'],
    ]);
    const knoc = (
      await h.call({ method: 'GET', url: `/api/v1/access/knocs/${created.id}`, token: h.ownerToken })
    ).json();
    expect(knoc.last_fetch_at).not.toBeNull();

    // One call rotates token and key; the old ones stop working.
    const rotated = (
      await h.call({
        method: 'POST',
        url: `/api/v1/access/knocs/${created.id}/feed/rotate`,
        token: h.ownerToken,
        payload: {},
      })
    ).json();
    expect(rotated.feed_token).not.toBe(token);
    expect((await fetchFeed(`/edl/${token}.txt`, { 'x-api-key': key })).statusCode).toBe(404);
    expect((await fetchFeed(`/edl/${rotated.feed_token}.txt`, { 'x-api-key': key })).statusCode).toBe(401);
    expect(
      (await fetchFeed(`/edl/${rotated.feed_token}.txt`, { 'x-api-key': rotated.feed_key })).statusCode,
    ).toBe(200);
  });

  it('a flood of wrong keys writes at most REFUSED_ROWS_PER_WINDOW rows; every fetch is still refused (security finding 6)', async () => {
    const created = await h.knoc({ gateway_id: gatewayId, alias_name: alias(), mode: 'passive' });
    const refusedRows = async () =>
      (
        await h.store.query<{ n: number }>(
          'select count(*)::int as n from edl_fetches where knoc_id = $1 and status <> 200',
          [created.id],
        )
      )[0]?.n;
    const statuses = [];
    for (let i = 0; i < REFUSED_ROWS_PER_WINDOW + 15; i++) {
      const res = await h.call({
        method: 'GET',
        url: `/edl/${created.feed_token as string}.txt`,
        headers: { 'x-api-key': `wrong-${i}` },
      });
      statuses.push(res.statusCode);
    }
    expect(new Set(statuses)).toEqual(new Set([401]));
    expect(await refusedRows()).toBe(REFUSED_ROWS_PER_WINDOW);
    // The right key is still served and recorded.
    const ok = await h.call({
      method: 'GET',
      url: `/edl/${created.feed_token as string}.txt`,
      headers: { 'x-api-key': created.feed_key as string },
    });
    expect(ok.statusCode).toBe(200);
  });
});
