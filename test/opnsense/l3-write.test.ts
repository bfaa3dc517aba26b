/**
 * @module OPNsense DNS host overrides (Unbound) and DHCP scopes / static mappings (Kea) through the vendor's live
 * writer against the OPNsense emulator: refused inputs reach the caller as OPN500 naming the neutral field, writes
 * stay in config until the service reconfigure, and what the adapter checks itself (one address per override, a
 * range inside the interface subnet — Kea's DHCPv4 model does not check it) is checked before anything is sent
 * (docs/reference/brain-l3.md §5.2, §5.3). Round trips: test/contract/live.case.test.ts.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { LiveDhcpScopeBody, LiveWriter } from '../../src/adapters/live-write.ts';
import { opnsenseVendor } from '../../src/adapters/opnsense/index.ts';
import type { ClosableAdapter } from '../../src/adapters/registry.ts';
import { type OpnsenseEmulator, startOpnsenseEmulator } from '../../src/emulators/opnsense/index.ts';
import { adapterAt } from './helpers.ts';

let emu: OpnsenseEmulator;
let adapter: ClosableAdapter;

beforeAll(async () => {
  emu = await startOpnsenseEmulator({ tls: false });
});
afterAll(async () => {
  await emu.close();
});
afterEach(async () => {
  await adapter.close();
});

function open(): LiveWriter {
  adapter = adapterAt(emu.url, { api_key: emu.credentials.key, api_secret: emu.credentials.secret });
  const writes = opnsenseVendor.writes;
  if (writes === undefined) throw new Error('OPNsense declares no writes');
  return writes.open(adapter);
}

async function failure(fn: () => Promise<unknown>): Promise<Error & { code?: string; field?: string }> {
  try {
    await fn();
  } catch (err) {
    return err as Error & { code?: string; field?: string };
  }
  throw new Error('expected the call to fail');
}

const writes = () => emu.requests().filter((r) => r.method === 'POST').length;

const scope = (overrides: Partial<LiveDhcpScopeBody> = {}): LiveDhcpScopeBody => ({
  interface: 'lan',
  range_from: '192.168.1.100',
  range_to: '192.168.1.199',
  gateway: null,
  dns_servers: [],
  is_enabled: true,
  ...overrides,
});

describe('DNS host overrides on Unbound (docs/reference/brain-l3.md §5.3)', () => {
  it('stages in config, is live after the Unbound reconfigure, and reads back', async () => {
    const w = open();
    const body = { host: 'nas', domain: 'home.example', ip: ['2001:db8::5'], description: 'storage' };
    const created = await w.write({ kind: 'dns_override', op: 'create', target: null, body });
    expect(created.pending).toEqual(['unbound']);
    expect(emu.state().runtime.unboundHosts ?? []).toEqual([]);
    await w.apply();
    expect(await w.pendingSubsystems()).toEqual([]);
    expect(emu.state().runtime.unboundHosts?.map((h) => [h.hostname, h.rr, h.server])).toEqual([['nas', 'AAAA', '2001:db8::5']]);
    expect(await w.read('dns_override', created.target as string)).toEqual(body);
    await w.write({ kind: 'dns_override', op: 'delete', target: created.target as string, body: {} });
    await w.apply();
  });

  it('refuses several addresses (one record holds one) before sending anything, naming `ip`', async () => {
    const w = open();
    const before = writes();
    const err = await failure(() =>
      w.write({ kind: 'dns_override', op: 'create', target: null, body: { host: 'a', domain: 'example.org', ip: ['192.0.2.1', '192.0.2.2'], description: '' } }),
    );
    expect(err).toMatchObject({ code: 'OPN500', field: 'ip' });
    expect(writes()).toBe(before);
  });

  it('names the neutral field of an Unbound validation failure', async () => {
    const err = await failure(() =>
      open().write({ kind: 'dns_override', op: 'create', target: null, body: { host: 'a', domain: 'bad domain', ip: ['192.0.2.1'], description: '' } }),
    );
    expect(err).toMatchObject({ code: 'OPN500', field: 'domain' });
  });

  it('an update of an unknown override is refused, not created (set_* would create it)', async () => {
    const uuid = '00000000-0000-4000-8000-000000000001';
    const err = await failure(() =>
      open().write({ kind: 'dns_override', op: 'update', target: uuid, body: { host: 'a', domain: 'example.org', ip: ['192.0.2.1'], description: '' } }),
    );
    expect(err).toMatchObject({ code: 'OPN500', field: 'target' });
    expect(emu.state().config.unboundHosts ?? []).toEqual([]);
  });
});

describe('DHCP on Kea (docs/reference/brain-l3.md §5.2)', () => {
  it('a scope is the subnet of the interface network, served when enabled; live after the Kea reconfigure', async () => {
    const w = open();
    const created = await w.write({ kind: 'dhcp_scope', op: 'create', target: null, body: scope({ dns_servers: ['192.168.1.53'] }) });
    expect(created).toEqual({ target: 'lan', pending: ['kea'] });
    const config = emu.state().config.kea;
    expect(config?.subnets.map((s) => [s.subnet, s.pools, s.routers, s.domain_name_servers])).toEqual([
      ['192.168.1.0/24', '192.168.1.100-192.168.1.199', '192.168.1.1', '192.168.1.53'],
    ]);
    expect(config?.general).toEqual({ enabled: '1', interfaces: 'lan' });
    expect(emu.state().runtime.kea).toBeUndefined();
    await w.apply();
    expect(emu.state().runtime.kea?.subnets).toHaveLength(1);

    await w.write({ kind: 'dhcp_scope', op: 'update', target: 'lan', body: scope({ is_enabled: false }) });
    expect(emu.state().config.kea?.general.interfaces).toBe('');
    expect(await w.read('dhcp_scope', 'lan')).toEqual(scope({ is_enabled: false }));
    await w.write({ kind: 'dhcp_scope', op: 'delete', target: 'lan', body: {} });
    await w.apply();
    expect(await w.read('dhcp_scope', 'lan')).toBeNull();
  });

  it('refuses a range outside the interface subnet before sending it (Kea DHCPv4 would store it), naming the field', async () => {
    const w = open();
    const before = writes();
    const err = await failure(() => w.write({ kind: 'dhcp_scope', op: 'create', target: null, body: scope({ range_to: '192.168.2.10' }) }));
    expect(err).toMatchObject({ code: 'OPN500', field: 'range_to' });
    const gateway = await failure(() => w.write({ kind: 'dhcp_scope', op: 'create', target: null, body: scope({ gateway: '10.0.0.1' }) }));
    expect(gateway).toMatchObject({ field: 'gateway' });
    expect(writes()).toBe(before);
  });

  it('refuses an unknown interface (404), a second scope (409) and deleting a scope that has mappings (409)', async () => {
    const w = open();
    expect(await failure(() => w.write({ kind: 'dhcp_scope', op: 'create', target: null, body: scope({ interface: 'opt9' }) }))).toMatchObject({
      field: 'interface',
    });
    await w.write({ kind: 'dhcp_scope', op: 'create', target: null, body: scope() });
    expect(await failure(() => w.write({ kind: 'dhcp_scope', op: 'create', target: null, body: scope() }))).toMatchObject({
      field: 'interface',
    });
    const mapping = await w.write({
      kind: 'dhcp_static_mapping',
      op: 'create',
      target: null,
      body: { interface: 'lan', mac: '02:00:00:00:00:41', ip: '192.168.1.41', hostname: 'cam', description: '' },
    });
    expect(await failure(() => w.write({ kind: 'dhcp_scope', op: 'delete', target: 'lan', body: {} }))).toMatchObject({ field: 'target' });
    await w.write({ kind: 'dhcp_static_mapping', op: 'delete', target: mapping.target as string, body: {} });
    await w.write({ kind: 'dhcp_scope', op: 'delete', target: 'lan', body: {} });
    await w.apply();
  });

  it('a static mapping needs the interface scope, an address in its subnet and a MAC unique in it', async () => {
    const w = open();
    const map = (ip: string, mac: string) => ({ interface: 'lan', mac, ip, hostname: '', description: '' });
    expect(await failure(() => w.write({ kind: 'dhcp_static_mapping', op: 'create', target: null, body: map('192.168.1.41', '02:00:00:00:00:41') }))).toMatchObject({
      field: 'interface',
    });
    await w.write({ kind: 'dhcp_scope', op: 'create', target: null, body: scope() });
    expect(await failure(() => w.write({ kind: 'dhcp_static_mapping', op: 'create', target: null, body: map('10.9.9.9', '02:00:00:00:00:41') }))).toMatchObject({
      code: 'OPN500',
      field: 'ip',
    });
    const first = await w.write({ kind: 'dhcp_static_mapping', op: 'create', target: null, body: map('192.168.1.41', '02:00:00:00:00:41') });
    expect(await failure(() => w.write({ kind: 'dhcp_static_mapping', op: 'create', target: null, body: map('192.168.1.42', '02:00:00:00:00:41') }))).toMatchObject({
      field: 'mac',
    });
    await w.write({ kind: 'dhcp_static_mapping', op: 'delete', target: first.target as string, body: {} });
    await w.write({ kind: 'dhcp_scope', op: 'delete', target: 'lan', body: {} });
    await w.apply();
  });
});
