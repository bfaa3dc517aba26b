/**
 * @module The access API on PGlite against the real pfRest emulator on loopback: grants by admin, revoke,
 * extend, expiry at `expires_at`, shared addresses, manual entries, state killing, device faults → PFS codes
 * and convergence, events and audit, gateway credentials at rest. Waits poll the emulator or the API; nothing
 * asserts on a duration.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { liveState } from '../pfsense/helpers.ts';
import { type AccessHarness, startAccessHarness } from './harness.ts';

let h: AccessHarness;
let siteId: string;
let gatewayId: string;
let aliasCounter = 0;
const nextAlias = () => `pc_t${++aliasCounter}`;

beforeAll(async () => {
  h = await startAccessHarness('pglite');
  siteId = await h.site();
  gatewayId = await h.gateway(siteId);
});
afterAll(async () => {
  await h?.close();
});

/** Polls `check` until it returns true (a wait, not a timing assertion). */
async function until(check: () => boolean | Promise<boolean>, what: string, limitMs = 15_000): Promise<void> {
  const end = Date.now() + limitMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const owner = () => h.ownerToken;
const post = (url: string, payload: unknown, token = owner()) =>
  h.call({ method: 'POST', url, payload: payload as object, token });
const get = (url: string, token = owner()) => h.call({ method: 'GET', url, token });

async function adminGrant(knocId: string, ip: string, extra: Record<string, unknown> = {}) {
  const res = await post('/api/v1/access/grants', {
    knoc_id: knocId,
    ip,
    reason: 'break-glass test',
    ...extra,
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json<{ id: string; ip: string; expires_at: string; sync_state: string }>();
}

describe('admin grants, revoke and extend', () => {
  it('an admin grant (IPv4 and IPv6) lands on the alias, is audited with its reason, and revoke removes it', async () => {
    const alias = nextAlias();
    const knoc = await h.knoc({ gateway_id: gatewayId, alias_name: alias });
    const v4 = await adminGrant(knoc.id, '198.51.100.7');
    const v6 = await adminGrant(knoc.id, '2001:DB8::0:7');
    expect(v6.ip).toBe('2001:db8::7');
    await h.settled();
    expect(h.applied(alias).sort()).toEqual(['198.51.100.7', '2001:db8::7']);
    const listed = await get(`/api/v1/access/grants?knoc_id=${knoc.id}&status=live`);
    expect(listed.json().items.map((g: { sync_state: string }) => g.sync_state)).toEqual(['live', 'live']);

    const audit = await get(`/api/v1/audit?action=grant.create&target_id=${v4.id}`);
    expect(audit.json().items[0]).toMatchObject({
      action: 'grant.create',
      after: { reason: 'break-glass test', ip: '198.51.100.7' },
    });

    expect(
      (await h.call({ method: 'DELETE', url: `/api/v1/access/grants/${v4.id}`, token: owner() })).statusCode,
    ).toBe(204);
    await h.settled();
    expect(h.applied(alias)).toEqual(['2001:db8::7']);
    const ended = await get(`/api/v1/access/grants/${v4.id}`);
    expect(ended.json()).toMatchObject({
      status: 'ended',
      end_reason: 'revoked',
      sync_state: 'removed',
      method: 'admin',
    });
    // Revoking twice is a conflict, not a second end.
    expect(
      (await h.call({ method: 'DELETE', url: `/api/v1/access/grants/${v4.id}`, token: owner() })).statusCode,
    ).toBe(409);
  });

  it('extend moves expires_at up to the knoc maximum; over it is a 400 naming ttl_seconds and changes nothing', async () => {
    const knoc = await h.knoc({
      gateway_id: gatewayId,
      alias_name: nextAlias(),
      grant_ttl_seconds: 60,
      max_ttl_seconds: 600,
    });
    const grant = await adminGrant(knoc.id, '198.51.100.8');
    const ok = await post(`/api/v1/access/grants/${grant.id}/extend`, { ttl_seconds: 600 });
    expect(ok.statusCode, ok.body).toBe(200);
    expect(Date.parse(ok.json().expires_at)).toBeGreaterThan(Date.parse(grant.expires_at));
    const over = await post(`/api/v1/access/grants/${grant.id}/extend`, { ttl_seconds: 601 });
    expect(over.statusCode).toBe(400);
    expect(over.json().error.field).toBe('ttl_seconds');
    expect((await get(`/api/v1/access/grants/${grant.id}`)).json().expires_at).toBe(ok.json().expires_at);
  });

  it('an expired grant leaves the applied table at its expiry and is ended with reason expired', async () => {
    const alias = nextAlias();
    const knoc = await h.knoc({ gateway_id: gatewayId, alias_name: alias });
    const grant = await adminGrant(knoc.id, '198.51.100.9', { ttl_seconds: 1 });
    await until(() => h.applied(alias).includes('198.51.100.9'), 'the grant to be applied');
    await until(() => !h.applied(alias).includes('198.51.100.9'), 'the expired address to leave');
    await h.settled();
    const row = (await get(`/api/v1/access/grants/${grant.id}`)).json();
    expect(row).toMatchObject({
      status: 'ended',
      end_reason: 'expired',
      ended_at: grant.expires_at,
      sync_state: 'removed',
    });
    const events = await h.store.query<{ type: string }>(
      `select type from events where grant_id = $1 order by id`,
      [grant.id],
    );
    expect(events.map((e) => e.type)).toEqual(['grant.created', 'grant.ended']);
  });
});

describe('what the alias keeps', () => {
  it('a shared address stays until the last grant for it ends', async () => {
    const alias = nextAlias();
    const knoc = await h.knoc({ gateway_id: gatewayId, alias_name: alias });
    const a = await adminGrant(knoc.id, '198.51.100.20');
    const b = await adminGrant(knoc.id, '198.51.100.20');
    await h.settled();
    await h.call({ method: 'DELETE', url: `/api/v1/access/grants/${a.id}`, token: owner() });
    await h.settled();
    expect(h.applied(alias)).toEqual(['198.51.100.20']);
    await h.call({ method: 'DELETE', url: `/api/v1/access/grants/${b.id}`, token: owner() });
    await h.settled();
    expect(h.applied(alias)).toEqual([]);
  });

  it("keeps an admin's manual entries in place and kills the states of a revoked address", async () => {
    const alias = nextAlias();
    const knoc = await h.knoc({ gateway_id: gatewayId, alias_name: alias });
    const first = await adminGrant(knoc.id, '198.51.100.30');
    await h.settled();
    // An admin adds an entry by hand next to ours.
    const stored = h.emulator.state().aliases.find((x) => x.name === alias);
    expect(stored).toBeDefined();
    const res = await fetch(`${h.emulator.url}/api/v2/firewall/alias`, {
      method: 'PATCH',
      headers: {
        'x-api-key': h.emulator.apiKey,
        'content-type': 'application/json',
        accept: 'application/json',
      },
      body: JSON.stringify({
        id: h.emulator.state().aliases.findIndex((x) => x.name === alias),
        address: ['10.9.9.9', ...(stored?.address ?? [])],
        detail: ['jump host', ...(stored?.detail ?? [])],
      }),
      // @ts-expect-error undici option: trust the emulator's self-signed certificate for this one call
      dispatcher: new (await import('undici')).Agent({ connect: { ca: h.emulator.caPem } }),
    });
    expect(res.status).toBe(200);
    h.emulator.setStates([
      liveState('198.51.100.30:50000', '192.168.1.10:22'),
      liveState('198.51.100.99:40000', '192.168.1.10:22'),
    ]);
    await h.call({ method: 'DELETE', url: `/api/v1/access/grants/${first.id}`, token: owner() });
    await h.settled();
    const after = h.emulator.state().aliases.find((x) => x.name === alias);
    expect(after).toMatchObject({ address: ['10.9.9.9'], detail: ['jump host'] });
    expect(h.emulator.state().states.map((s) => s.source)).toEqual(['198.51.100.99:40000']);
  });

  it('deleting a knoc revokes its grants and takes its entries off the alias', async () => {
    const alias = nextAlias();
    const knoc = await h.knoc({ gateway_id: gatewayId, alias_name: alias });
    const grant = await adminGrant(knoc.id, '198.51.100.40');
    await h.settled();
    expect(h.applied(alias)).toEqual(['198.51.100.40']);
    expect(
      (await h.call({ method: 'DELETE', url: `/api/v1/access/knocs/${knoc.id}`, token: owner() })).statusCode,
    ).toBe(204);
    await h.settled();
    expect(h.applied(alias)).toEqual([]);
    expect((await get(`/api/v1/access/grants/${grant.id}`)).json()).toMatchObject({ end_reason: 'revoked' });
  });
});

describe('inactive users', () => {
  it("a disabled user's grants end (revoked) at the next reconcile of their alias", async () => {
    const alias = nextAlias();
    const dave = await h.makeUser('dave');
    const knoc = await h.knoc({ gateway_id: gatewayId, alias_name: alias, users: [dave.id] });
    const signIn = await h.call({
      method: 'POST',
      url: '/api/v1/portal/login',
      payload: { username: 'dave', password: dave.password },
      remoteAddress: '198.51.100.70',
    });
    const grantId = signIn.json().granted[0].grant_id;
    await h.settled();
    expect(h.applied(alias)).toEqual(['198.51.100.70']);
    const off = await h.call({
      method: 'PATCH',
      url: `/api/v1/users/${dave.id}`,
      token: owner(),
      payload: { disabled: true },
    });
    expect(off.statusCode, off.body).toBe(200);
    // Any run of the alias (a poke here; the periodic run otherwise) takes the address off.
    await adminGrant(knoc.id, '198.51.100.71');
    await h.settled();
    expect(h.applied(alias)).toEqual(['198.51.100.71']);
    expect((await get(`/api/v1/access/grants/${grantId}`)).json()).toMatchObject({
      end_reason: 'revoked',
      sync_state: 'removed',
    });
  });
});

describe('device failures: the PFS code on the knoc, grants pending, convergence after recovery', () => {
  it.each([
    { name: '401 bad key', fault: { kind: 'status' as const, status: 401 }, code: 'PFS001' },
    { name: '403 missing privilege', fault: { kind: 'status' as const, status: 403 }, code: 'PFS002' },
    { name: 'pfRest absent', fault: { kind: 'package-absent' as const }, code: 'PFS005' },
    {
      name: '500 on alias read',
      fault: { kind: 'status' as const, status: 500, path: '/api/v2/firewall/alias' },
      code: 'PFS100',
    },
    { name: 'hang', fault: { kind: 'hang' as const }, code: 'PFS004' },
    {
      name: '503 on apply',
      fault: { kind: 'status' as const, status: 503, path: '/api/v2/firewall/apply' },
      code: 'PFS200',
    },
    { name: '404 on alias read', fault: { kind: 'status' as const, status: 404, path: '/api/v2/firewall/alias' }, code: 'PFS100' },
    { name: 'answer not JSON', fault: { kind: 'non-json' as const }, code: 'PFS400' },
  ])('$name → $code', async ({ fault, code }) => {
    const alias = nextAlias();
    const knoc = await h.knoc({ gateway_id: gatewayId, alias_name: alias });
    await h.settled();
    h.emulator.injectFault({ ...fault, times: 1_000_000 });
    const grant = await adminGrant(knoc.id, '198.51.100.50');
    try {
      await until(
        async () => (await get(`/api/v1/access/knocs/${knoc.id}/status`)).json().error?.code === code,
        `error ${code}`,
      );
      const status = (await get(`/api/v1/access/knocs/${knoc.id}/status`)).json();
      expect(status).toMatchObject({ pending: true, error: { code } });
      expect(status.error.message).not.toContain(h.emulator.apiKey);
      expect((await get(`/api/v1/access/grants/${grant.id}`)).json().sync_state).toBe('pending');
    } finally {
      h.emulator.clearFaults();
    }
    await until(() => h.applied(alias).includes('198.51.100.50'), 'convergence after recovery');
    await until(
      async () => (await get(`/api/v1/access/knocs/${knoc.id}/status`)).json().error === null,
      'the error to clear',
    );
    await until(
      async () => (await get(`/api/v1/access/grants/${grant.id}`)).json().sync_state === 'live',
      'the grant to turn live',
    );
    const events = await h.store.query<{ type: string }>(
      `select type from events where knoc_id = $1 and type like 'sync.%' order by id`,
      [knoc.id],
    );
    expect(events.map((e) => e.type)).toEqual(['sync.failed', 'sync.recovered']);
  });

  it('a refused connection is PFS000; fixing the gateway URL converges', async () => {
    const broken = await post('/api/v1/firewall/gateways', {
      name: `gw-refused-${randomUUID().slice(0, 8)}`,
      site_id: siteId,
      url: 'https://127.0.0.1:1',
      api_key: h.emulator.apiKey,
      ca_pem: h.emulator.caPem,
    });
    expect(broken.statusCode, broken.body).toBe(201);
    const alias = nextAlias();
    const knoc = await h.knoc({ gateway_id: broken.json().id, alias_name: alias });
    await adminGrant(knoc.id, '198.51.100.60');
    await until(
      async () => (await get(`/api/v1/access/knocs/${knoc.id}/status`)).json().error?.code === 'PFS000',
      'PFS000',
    );
    const fixed = await h.call({
      method: 'PATCH',
      url: `/api/v1/firewall/gateways/${broken.json().id}`,
      token: owner(),
      payload: { url: h.emulator.url },
    });
    expect(fixed.statusCode, fixed.body).toBe(200);
    await until(() => h.applied(alias).includes('198.51.100.60'), 'convergence on the fixed gateway');
  });
});

describe('gateways', () => {
  it('never returns the key, stores it encrypted, and tests saved and unsaved connections', async () => {
    const res = await get(`/api/v1/firewall/gateways/${gatewayId}`);
    expect(res.json()).toMatchObject({ id: gatewayId, has_credentials: true });
    expect(res.body).not.toContain(h.emulator.apiKey);
    const [row] = await h.store.query<{ api_key_enc: string }>(
      'select api_key_enc from gateways where id = $1',
      [gatewayId],
    );
    expect(row?.api_key_enc).not.toContain(h.emulator.apiKey);

    const saved = await post(`/api/v1/firewall/gateways/${gatewayId}/test`, {});
    expect(saved.json()).toMatchObject({ ok: true, error: null });
    expect(saved.json().version).toEqual(expect.any(String));
    const wrongKey = await post(`/api/v1/firewall/gateways/${gatewayId}/test`, {
      api_key: 'not-the-key-0000',
    });
    expect(wrongKey.json()).toMatchObject({ ok: false, version: null, error: { code: 'PFS001' } });
    expect(wrongKey.body).not.toContain('not-the-key-0000');
    const unsaved = await post('/api/v1/firewall/gateways/test', {
      url: h.emulator.url,
      api_key: h.emulator.apiKey,
      fingerprint_sha256: h.emulator.fingerprint,
    });
    expect(unsaved.json()).toMatchObject({ ok: true });
    const badTls = await post('/api/v1/firewall/gateways/test', {
      url: h.emulator.url,
      api_key: h.emulator.apiKey,
    });
    expect(badTls.json()).toMatchObject({ ok: false, error: { code: 'PFS003' } });
    expect(unsaved.json().certificate).toBeNull();
    expect(wrongKey.json().certificate).toBeNull();
  });

  it('a TLS failure shows the presented certificate; pinning its fingerprint makes the test pass', async () => {
    const unpinned = await post('/api/v1/firewall/gateways/test', { url: h.emulator.url, api_key: h.emulator.apiKey });
    const { certificate } = unpinned.json();
    expect(certificate).toMatchObject({ self_signed: expect.any(Boolean), subject: expect.any(String) });
    const hex = (f: string) => f.replace(/:/g, '').toLowerCase();
    expect(hex(certificate.fingerprint_sha256)).toBe(hex(h.emulator.fingerprint));
    expect(Date.parse(certificate.valid_to)).toBeGreaterThan(Date.now());
    const pinned = await post('/api/v1/firewall/gateways/test', {
      url: h.emulator.url,
      api_key: h.emulator.apiKey,
      fingerprint_sha256: certificate.fingerprint_sha256,
    });
    expect(pinned.json()).toMatchObject({ ok: true, error: null, certificate: null });
    // A pin of another certificate is refused, and the answer offers the one actually presented.
    const wrongPin = await post('/api/v1/firewall/gateways/test', {
      url: h.emulator.url,
      api_key: h.emulator.apiKey,
      fingerprint_sha256: 'ab'.repeat(32),
    });
    expect(wrongPin.json()).toMatchObject({ ok: false, error: { code: 'PFS003' } });
    expect(hex(wrongPin.json().certificate.fingerprint_sha256)).toBe(hex(h.emulator.fingerprint));
  });

  it('a PATCH with a new key replaces the stored one (the old key stops being used)', async () => {
    const id = await h.gateway(siteId);
    const patched = await h.call({
      method: 'PATCH',
      url: `/api/v1/firewall/gateways/${id}`,
      token: owner(),
      payload: { api_key: 'wrong-key-1234' },
    });
    expect(patched.statusCode).toBe(200);
    expect((await post(`/api/v1/firewall/gateways/${id}/test`, {})).json().error.code).toBe('PFS001');
    await h.call({
      method: 'PATCH',
      url: `/api/v1/firewall/gateways/${id}`,
      token: owner(),
      payload: { api_key: h.emulator.apiKey },
    });
    expect((await post(`/api/v1/firewall/gateways/${id}/test`, {})).json().ok).toBe(true);
  });

  it('soft delete: gone from the list, refused while a knoc uses it', async () => {
    const id = await h.gateway(siteId);
    const knoc = await h.knoc({ gateway_id: id, alias_name: nextAlias() });
    expect(
      (await h.call({ method: 'DELETE', url: `/api/v1/firewall/gateways/${id}`, token: owner() })).statusCode,
    ).toBe(409);
    await h.call({ method: 'DELETE', url: `/api/v1/access/knocs/${knoc.id}`, token: owner() });
    expect(
      (await h.call({ method: 'DELETE', url: `/api/v1/firewall/gateways/${id}`, token: owner() })).statusCode,
    ).toBe(204);
    expect((await get(`/api/v1/firewall/gateways/${id}`)).statusCode).toBe(404);
    const [row] = await h.store.query<{ deleted_at: Date | null }>(
      'select deleted_at from gateways where id = $1',
      [id],
    );
    expect(row?.deleted_at).not.toBeNull();
  });
});
