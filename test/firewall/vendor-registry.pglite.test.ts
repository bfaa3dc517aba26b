/**
 * @module The vendor registry end to end: a fake vendor registered here — nothing in src/access or
 * src/firewall knows it — gets a gateway (credentials validated against its shape, 400 naming the field),
 * a knoc (its list-name rules, 422 for a capability it lacks) and a grant that lands on its in-memory
 * device; a gateway PATCH rebuilds its adapter with the new credentials. `GET /api/v1/firewall/vendors`
 * lists the registry. Real app and PGlite store.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CAPABILITIES,
  type Capability,
  type ClosableAdapter,
  type Credentials,
  NO_REASON,
  registerVendor,
  unregisterVendor,
  type VendorDescriptor,
} from '../../src/adapters/registry.ts';
import type { AliasEntry, DeviceAlias } from '../../src/adapters/types.ts';
import { type AccessHarness, startAccessHarness } from '../access-api/harness.ts';

/** One fake device: its address lists, and every adapter built for it with the credentials it got. */
const device = {
  lists: new Map<string, AliasEntry[]>(),
  built: [] as Credentials[],
  applies: 0,
  kills: 0,
};

const ON: ReadonlySet<Capability> = new Set<Capability>(['alias.read', 'alias.write', 'alias.create']);

const fakeVendor: VendorDescriptor = {
  id: 'fakewall',
  name: 'Fakewall',
  api: 'fake REST',
  maturity: 'preview',
  capabilities: Object.fromEntries(CAPABILITIES.map((flag) => [flag, ON.has(flag)])) as Record<
    Capability,
    boolean
  >,
  credentials: 'username_password',
  unavailable: { kill_states: 'no state table on this fake' },
  checkCredentials: (creds) =>
    creds.username === 'root' ? { field: 'username', message: 'fakewall refuses root' } : null,
  errors: {
    family: 'FAK',
    connect: 'FAK000',
    tls: 'FAK003',
    aliasNotFound: 'FAK103',
    aliasUnusable: 'FAK102',
    verifyMismatch: 'FAK400',
  },
  listNaming: {
    noun: 'list',
    maxLength: 16,
    check: (name) =>
      /^[a-z][a-z0-9-]{0,15}$/.test(name)
        ? { ok: true }
        : { ok: false, message: 'a fakewall list name is 1-16 of a-z, 0-9 and -, starting with a letter' },
  },
  createAdapter: (conn): ClosableAdapter => {
    device.built.push(conn.credentials);
    const read = (name: string): DeviceAlias | null => {
      const entries = device.lists.get(name);
      return entries === undefined ? null : { name, type: 'host', descr: '', entries: [...entries] };
    };
    return {
      vendor: 'fakewall',
      warnings: [],
      version: async () => ({ product: 'fakewall 1.0', api: 'v1' }),
      getAlias: async (name) => read(name),
      createAlias: async (name) => {
        device.lists.set(name, []);
      },
      setAliasEntries: async (name, entries) => {
        device.lists.set(name, [...entries]);
      },
      apply: async () => {
        device.applies++;
        return { applied: true, pending: [] };
      },
      killStates: async () => {
        device.kills++;
        return 0;
      },
      close: async () => {},
    };
  },
  testConnection: (adapter) => adapter.version(),
};

let h: AccessHarness;
let siteId: string;

beforeAll(async () => {
  registerVendor(fakeVendor);
  h = await startAccessHarness('pglite');
  siteId = await h.site();
});
afterAll(async () => {
  await h?.close();
  unregisterVendor(fakeVendor.id);
});

const post = (url: string, payload: object) => h.call({ method: 'POST', url, token: h.ownerToken, payload });
const gatewayBody = (extra: Record<string, unknown>) => ({
  name: `fake-${Math.random().toString(36).slice(2, 8)}`,
  site_id: siteId,
  vendor: 'fakewall',
  url: 'https://127.0.0.1:9',
  ...extra,
});

describe('GET /api/v1/firewall/vendors', () => {
  it('lists every vendor with its tier, capability flags, credential shape and error family', async () => {
    const res = await h.call({ method: 'GET', url: '/api/v1/firewall/vendors', token: h.ownerToken });
    expect(res.statusCode).toBe(200);
    const items = res.json().items as Array<Record<string, unknown>>;
    const pfsense = items.find((v) => v.id === 'pfsense');
    expect(pfsense).toMatchObject({
      maturity: 'beta',
      credentials: { shape: 'api_key', fields: ['api_key'] },
      error_code_family: 'PFS',
      list_naming: { noun: 'alias', max_length: 31 },
    });
    expect(pfsense?.capabilities).toMatchObject({ 'alias.write': true, kill_states: true, native_expiry: false });
    expect(Object.keys(pfsense?.capabilities as object).sort()).toEqual([...CAPABILITIES].sort());
    expect(items.find((v) => v.id === 'fakewall')).toMatchObject({
      maturity: 'preview',
      credentials: { shape: 'username_password', fields: ['username', 'password'] },
      capabilities: { kill_states: false, apply: false },
    });
  });

  it('gives a reason for every flag that is off, and none for a flag that is on', async () => {
    const res = await h.call({ method: 'GET', url: '/api/v1/firewall/vendors', token: h.ownerToken });
    for (const vendor of res.json().items as Array<{ id: string; capabilities: Record<string, boolean>; unavailable: Record<string, string> }>) {
      const off = Object.keys(vendor.capabilities).filter((flag) => !vendor.capabilities[flag]);
      expect(Object.keys(vendor.unavailable).sort(), vendor.id).toEqual(off.sort());
      for (const flag of off) expect(vendor.unavailable[flag], `${vendor.id} ${flag}`).toMatch(/\S/);
    }
    const pfsense = (res.json().items as Array<{ id: string; unavailable: Record<string, string> }>).find((v) => v.id === 'pfsense');
    // pfSense states its own reason for each flag it leaves off (no generic fallback).
    for (const why of Object.values(pfsense?.unavailable ?? {})) expect(why).not.toBe(NO_REASON);
    expect(pfsense?.unavailable.native_expiry).toContain('no timeout');
    const fake = (res.json().items as Array<{ id: string; unavailable: Record<string, string> }>).find((v) => v.id === 'fakewall');
    expect(fake?.unavailable).toMatchObject({ kill_states: 'no state table on this fake', 'read.rules': NO_REASON });
  });

  it('is declared with gateway.view (the route walk in test/server/access.case.test.ts denies it without)', () => {
    expect(h.app.declaredRoutes.find((r) => r.url === '/api/v1/firewall/vendors')?.access).toEqual({
      permission: 'gateway.view',
    });
  });
});

describe('a fake vendor drives a gateway and a knoc', () => {
  it.each([
    { row: 'its password missing', body: { username: 'ops' }, field: 'password' },
    { row: 'a blank username', body: { username: '  ', password: 'pw' }, field: 'username' },
    { row: "another shape's api_key", body: { username: 'ops', password: 'pw', api_key: 'k' }, field: 'api_key' },
    { row: 'its own credential rule broken', body: { username: 'root', password: 'pw' }, field: 'username' },
    { row: 'an unknown vendor', body: { vendor: 'nosuchwall', username: 'ops', password: 'pw' }, field: 'vendor' },
  ])('refuses a gateway with $row (400 naming $field, nothing written)', async ({ body, field }) => {
    const before = await h.store.query<{ n: number }>('select count(*)::int as n from gateways');
    const res = await post('/api/v1/firewall/gateways', gatewayBody(body));
    expect(res.statusCode, res.body).toBe(400);
    expect(res.json().error).toMatchObject({ code: 'PC_ERR_VALIDATION', field });
    expect(await h.store.query('select count(*)::int as n from gateways')).toEqual(before);
  });

  it('tests, saves, grants through and re-keys a fake gateway; refuses what the vendor lacks', async () => {
    const tested = await post('/api/v1/firewall/gateways/test', {
      vendor: 'fakewall',
      url: 'https://127.0.0.1:9',
      username: 'ops',
      password: 'first-password',
    });
    expect(tested.json()).toEqual({ ok: true, version: 'fakewall 1.0', api_version: 'v1', error: null, certificate: null });

    const created = await post('/api/v1/firewall/gateways', gatewayBody({ username: 'ops', password: 'first-password' }));
    expect(created.statusCode, created.body).toBe(201);
    const gateway = created.json();
    expect(gateway).toMatchObject({ vendor: 'fakewall', has_credentials: true });
    expect(JSON.stringify(gateway)).not.toContain('first-password');
    const [stored] = await h.store.query<{ api_key_enc: string }>('select api_key_enc from gateways where id = $1', [
      gateway.id,
    ]);
    expect(stored?.api_key_enc).not.toContain('first-password');

    const knocBody = { name: 'fake-knoc', gateway_id: gateway.id, alias_name: 'fake-list', create_alias_if_missing: true };
    const lacking = await post('/api/v1/access/knocs', { ...knocBody, kill_states_on_revoke: true });
    expect(lacking.statusCode, lacking.body).toBe(422);
    expect(lacking.json().error).toMatchObject({ code: 'PC_ERR_CAPABILITY_UNSUPPORTED', field: 'kill_states_on_revoke' });
    const badName = await post('/api/v1/access/knocs', { ...knocBody, alias_name: 'Fake_List' });
    expect(badName.statusCode).toBe(400);
    expect(badName.json().error).toMatchObject({ field: 'alias_name' });
    expect(badName.json().error.message).toContain('fakewall list name');

    const knoc = await post('/api/v1/access/knocs', knocBody);
    expect(knoc.statusCode, knoc.body).toBe(201);
    expect(knoc.json().kill_states_on_revoke).toBe(false);
    const grant = await post('/api/v1/access/grants', { knoc_id: knoc.json().id, ip: '198.51.100.7', reason: 'fake' });
    expect(grant.statusCode, grant.body).toBe(201);
    await h.settled();
    expect(device.lists.get('fake-list')?.map((e) => e.address)).toEqual(['198.51.100.7']);
    // No apply step on a vendor whose writes are live at once.
    expect(device.applies).toBe(0);
    const status = await h.call({ method: 'GET', url: `/api/v1/access/knocs/${knoc.json().id}/status`, token: h.ownerToken });
    expect(status.json()).toMatchObject({ desired_count: 1, device_count: 1, error: null });
    expect(device.built.at(-1)).toEqual({ username: 'ops', password: 'first-password' });

    // A PATCH drops the cached adapter: the next run builds one with the new password (username kept).
    const built = device.built.length;
    const patched = await h.call({
      method: 'PATCH',
      url: `/api/v1/firewall/gateways/${gateway.id}`,
      token: h.ownerToken,
      payload: { password: 'second-password' },
    });
    expect(patched.statusCode, patched.body).toBe(200);
    await post('/api/v1/access/grants', { knoc_id: knoc.json().id, ip: '198.51.100.8', reason: 'fake' });
    await h.settled();
    expect(device.built.length).toBe(built + 1);
    expect(device.built.at(-1)).toEqual({ username: 'ops', password: 'second-password' });
    expect(device.lists.get('fake-list')?.map((e) => e.address).sort()).toEqual(['198.51.100.7', '198.51.100.8']);

    // Turning kill_states on later is refused the same way.
    const later = await h.call({
      method: 'PATCH',
      url: `/api/v1/access/knocs/${knoc.json().id}`,
      token: h.ownerToken,
      payload: { kill_states_on_revoke: true },
    });
    expect(later.statusCode).toBe(422);
    expect(later.json().error.field).toBe('kill_states_on_revoke');
    expect(later.json().error.message).toContain('fakewall');
    expect(later.json().error.message).toContain('kill_states');
    expect(later.json().error.message).toContain('no state table on this fake');

    // A live read or write the vendor lacks is refused before the device is contacted, naming vendor and flag.
    const read = await h.call({ method: 'GET', url: `/api/v1/firewall/gateways/${gateway.id}/firewall-rules`, token: h.ownerToken });
    expect(read.statusCode, read.body).toBe(501);
    expect(read.json().error.code).toBe('PC_ERR_CAPABILITY_UNAVAILABLE');
    expect(read.json().error.message).toMatch(/read\.rules.*fakewall/);
    const write = await h.call({ method: 'POST', url: `/api/v1/firewall/gateways/${gateway.id}/reboot`, token: h.ownerToken });
    expect(write.statusCode, write.body).toBe(501);
    expect(write.json().error.code).toBe('PC_ERR_CAPABILITY_UNAVAILABLE');
    expect(write.json().error.message).toMatch(/write\.power.*fakewall/);
  });
});
