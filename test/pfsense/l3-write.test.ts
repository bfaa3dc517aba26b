/**
 * @module pfSense VLAN interfaces and DHCP scopes (src/adapters/pfsense/l3-write.ts) against the pfRest emulator:
 * what pfRest refuses reaches the caller as PFS500 naming the neutral field, the emulator keeps pfRest's rules
 * (docs/reference/brain-l3.md §1-§3), a refused assignment leaves no VLAN behind, and the least-privilege key of
 * each kind is enough. The round trips themselves run in the live contract (test/contract/live.case.test.ts).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { LiveDhcpScopeBody, LiveVlanInterfaceBody, LiveWriter } from '../../src/adapters/live-write.ts';
import { LIVE_WRITE_PRIVILEGES, type PfSenseAdapter, pfsenseVendor } from '../../src/adapters/pfsense/index.ts';
import { type PfRestEmulator, startPfRestEmulator } from '../../src/emulators/pfrest/index.ts';
import { adapterFor, failure } from './helpers.ts';

let emu: PfRestEmulator;
let adapter: PfSenseAdapter;

beforeAll(async () => {
  emu = await startPfRestEmulator();
});
afterAll(async () => {
  await emu.close();
});
afterEach(async () => {
  emu.reset();
  await adapter.close();
});

function open(apiKey?: string): LiveWriter {
  adapter = adapterFor(emu, apiKey === undefined ? {} : { apiKey });
  const writes = pfsenseVendor.writes;
  if (writes === undefined) throw new Error('pfSense declares no writes');
  return writes.open(adapter);
}

const vlan = (overrides: Partial<LiveVlanInterfaceBody> = {}): LiveVlanInterfaceBody => ({
  parent: 'vtnet2',
  tag: 20,
  name: 'GUEST',
  ipv4: '10.20.0.1/24',
  ipv6: '2001:db8:20::1/64',
  description: 'guest wifi',
  is_enabled: true,
  ...overrides,
});

const scope = (iface: string, overrides: Partial<LiveDhcpScopeBody> = {}): LiveDhcpScopeBody => ({
  interface: iface,
  range_from: '10.20.0.100',
  range_to: '10.20.0.199',
  gateway: null,
  dns_servers: ['10.20.0.1'],
  is_enabled: true,
  ...overrides,
});

/** Creates a VLAN interface and applies it; returns its target and interface id. */
async function applied(w: LiveWriter, body = vlan()): Promise<{ target: string; iface: string }> {
  const created = await w.write({ kind: 'vlan_interface', op: 'create', target: null, body });
  expect(created.pending).toEqual(['interfaces']);
  expect(await w.pendingSubsystems()).toContain('interfaces');
  await w.apply();
  expect(await w.pendingSubsystems()).toEqual([]);
  const read = (await w.read('vlan_interface', created.target as string)) as Record<string, unknown>;
  return { target: created.target as string, iface: read.interface_id as string };
}

describe('VLAN interfaces (docs/reference/brain-l3.md §1, §4.1)', () => {
  it('creates the VLAN device <parent>.<tag> and its interface with both addresses', async () => {
    const w = open();
    const { target, iface } = await applied(w);
    expect(target).toBe('vtnet2.20');
    expect(iface).toBe('opt1');
    expect(await w.read('vlan_interface', target)).toEqual({ ...vlan(), interface_id: 'opt1' });
  });

  it('refuses a tag already used on the parent, naming `tag`, and leaves no second VLAN', async () => {
    const w = open();
    await applied(w);
    const err = await failure(() =>
      w.write({ kind: 'vlan_interface', op: 'create', target: null, body: vlan({ name: 'OTHER', ipv4: '10.21.0.1/24', ipv6: null }) }),
    );
    expect(err).toMatchObject({ code: 'PFS500', field: 'tag', responseId: 'MODEL_FIELDS_NOT_UNIQUE_TOGETHER' });
    const list = pfsenseVendor.live?.open(adapter);
    expect((await list?.vlanInterfaces?.())?.items.map((v) => v.target)).toEqual(['vtnet2.20']);
  });

  it('refuses a parent port the box does not have, naming `parent`', async () => {
    const err = await failure(() =>
      open().write({ kind: 'vlan_interface', op: 'create', target: null, body: vlan({ parent: 'igb7' }) }),
    );
    expect(err).toMatchObject({ code: 'PFS500', field: 'parent', responseId: 'VLAN_INTERFACE_PARENT_NOT_FOUND' });
  });

  it('refuses a tag outside 1-4094 (pfRest IntegerField maximum), naming `tag`', async () => {
    const err = await failure(() =>
      open().write({ kind: 'vlan_interface', op: 'create', target: null, body: vlan({ tag: 4095 }) }),
    );
    expect(err).toMatchObject({ code: 'PFS500', field: 'tag' });
  });

  it('a refused assignment (address already in use) takes the new VLAN back', async () => {
    const w = open();
    const err = await failure(() =>
      w.write({ kind: 'vlan_interface', op: 'create', target: null, body: vlan({ ipv4: '192.168.1.1/24' }) }),
    );
    expect(err).toMatchObject({ code: 'PFS500', field: 'ipv4', responseId: 'INTERFACE_IPADDR_ALREADY_IN_USE' });
    expect(await w.read('vlan_interface', 'vtnet2.20')).toBeNull();
  });

  it('refuses the network address as the interface address, naming `ipv4`', async () => {
    const err = await failure(() =>
      open().write({ kind: 'vlan_interface', op: 'create', target: null, body: vlan({ ipv4: '10.20.0.0/24' }) }),
    );
    expect(err).toMatchObject({ field: 'ipv4', responseId: 'NETWORK_INTERFACE_IPADDR_CANNOT_USE_NETWORK_ADDRESS' });
  });

  it('refuses an interface name that is not a filter name, naming `name`', async () => {
    const err = await failure(() =>
      open().write({ kind: 'vlan_interface', op: 'create', target: null, body: vlan({ name: 'guest-wifi' }) }),
    );
    expect(err).toMatchObject({ code: 'PFS500', field: 'name' });
  });

  it('an update cannot move the VLAN to another tag; the description and addresses change in place', async () => {
    const w = open();
    const { target } = await applied(w);
    const moved = await failure(() => w.write({ kind: 'vlan_interface', op: 'update', target, body: vlan({ tag: 21 }) }));
    expect(moved).toMatchObject({ code: 'PFS500', field: 'tag' });
    const body = vlan({ ipv6: null, description: 'guests', is_enabled: false });
    await w.write({ kind: 'vlan_interface', op: 'update', target, body });
    await w.apply();
    expect(await w.read('vlan_interface', target)).toMatchObject(body);
  });

  it('a delete removes the interface and the VLAN, live at once', async () => {
    const w = open();
    const { target } = await applied(w);
    const deleted = await w.write({ kind: 'vlan_interface', op: 'delete', target, body: {} });
    expect(deleted.pending).toEqual([]);
    expect(await w.read('vlan_interface', target)).toBeNull();
    const missing = await failure(() => w.write({ kind: 'vlan_interface', op: 'delete', target, body: {} }));
    expect(missing).toMatchObject({ code: 'PFS500', field: 'target' });
  });
});

describe('DHCP scopes (docs/reference/brain-l3.md §2, §4.2)', () => {
  it('refuses a scope on an interface whose change is not applied yet, naming `interface`', async () => {
    const w = open();
    const created = await w.write({ kind: 'vlan_interface', op: 'create', target: null, body: vlan() });
    expect(created.pending).toEqual(['interfaces']);
    const err = await failure(() => w.write({ kind: 'dhcp_scope', op: 'create', target: null, body: scope('opt1') }));
    expect(err).toMatchObject({ code: 'PFS500', field: 'interface' });
  });

  it('refuses a range outside the interface subnet, naming `range_from`', async () => {
    const w = open();
    const { iface } = await applied(w);
    const err = await failure(() =>
      w.write({ kind: 'dhcp_scope', op: 'create', target: null, body: scope(iface, { range_from: '10.19.0.10' }) }),
    );
    expect(err).toMatchObject({ code: 'PFS500', field: 'range_from', responseId: 'DHCP_SERVER_RANGE_FROM_OUTSIDE_OF_SUBNET' });
  });

  it('refuses range_from above range_to and a gateway outside the subnet', async () => {
    const w = open();
    const { iface } = await applied(w);
    const reversed = await failure(() =>
      w.write({ kind: 'dhcp_scope', op: 'create', target: null, body: scope(iface, { range_from: '10.20.0.200' }) }),
    );
    expect(reversed).toMatchObject({ field: 'range_from', responseId: 'DHCP_SERVER_RANGE_FROM_CANNOT_BE_GREATER_THAN_RANGE_TO' });
    const gateway = await failure(() =>
      w.write({ kind: 'dhcp_scope', op: 'create', target: null, body: scope(iface, { gateway: '10.30.0.1' }) }),
    );
    expect(gateway).toMatchObject({ field: 'gateway', responseId: 'DHCP_SERVER_GATEWAY_NOT_WITHIN_SUBNET' });
  });

  it('refuses a second scope on the same interface (409), and LAN already has one', async () => {
    const w = open();
    const lan = await failure(() =>
      w.write({
        kind: 'dhcp_scope',
        op: 'create',
        target: null,
        body: scope('lan', { range_from: '192.168.1.10', range_to: '192.168.1.20', dns_servers: [] }),
      }),
    );
    expect(lan).toMatchObject({ code: 'PFS500', field: 'interface' });
    expect(await w.read('dhcp_scope', 'lan')).toMatchObject({ interface: 'lan', range_from: '192.168.1.100' });
  });

  it('refuses a range over an existing static mapping (409), and a delete while mappings remain', async () => {
    const w = open();
    const mapping = await w.write({
      kind: 'dhcp_static_mapping',
      op: 'create',
      target: null,
      body: { interface: 'lan', mac: '02:00:00:00:00:31', ip: '192.168.1.50', hostname: 'printer', description: '' },
    });
    await w.apply();
    const overlap = await failure(() =>
      w.write({
        kind: 'dhcp_scope',
        op: 'update',
        target: 'lan',
        body: scope('lan', { range_from: '192.168.1.40', range_to: '192.168.1.60', dns_servers: [] }),
      }),
    );
    expect(overlap).toMatchObject({ field: 'range_from', responseId: 'DHCP_SERVER_PRIMARY_POOL_OVERLAPS_EXISTING_OBJECT' });
    const kept = await failure(() => w.write({ kind: 'dhcp_scope', op: 'delete', target: 'lan', body: {} }));
    expect(kept).toMatchObject({ code: 'PFS500', field: 'target' });
    await w.write({ kind: 'dhcp_static_mapping', op: 'delete', target: mapping.target as string, body: {} });
    const gone = await w.write({ kind: 'dhcp_scope', op: 'delete', target: 'lan', body: {} });
    expect(gone.pending).toEqual(['dhcpd']);
    await w.apply();
    expect(await w.read('dhcp_scope', 'lan')).toBeNull();
  });

  it('keeps what pfSense stores beyond the neutral fields as vendor_data, and writes it back', async () => {
    const w = open();
    const { iface } = await applied(w);
    const body = scope(iface, { vendor_data: { defaultleasetime: 3600, maxleasetime: 7200 } });
    await w.write({ kind: 'dhcp_scope', op: 'create', target: null, body });
    await w.apply();
    expect(await w.read('dhcp_scope', iface)).toEqual(body);
    const short = await failure(() =>
      w.write({ kind: 'dhcp_scope', op: 'update', target: iface, body: { ...body, vendor_data: { maxleasetime: 60 } } }),
    );
    expect(short).toMatchObject({ code: 'PFS500', field: 'vendor_data.maxleasetime' });
  });
});

describe('privileges (docs/reference/pfsense-live-writes.md §6)', () => {
  it('a key holding exactly the documented privileges runs a VLAN interface and DHCP scope cycle', async () => {
    const held = [...LIVE_WRITE_PRIVILEGES.vlan_interface, ...LIVE_WRITE_PRIVILEGES.dhcp_scope, ...LIVE_WRITE_PRIVILEGES.apply];
    const w = open(emu.addKey([...new Set(held)]));
    const { target, iface } = await applied(w);
    await w.write({ kind: 'dhcp_scope', op: 'create', target: null, body: scope(iface) });
    await w.apply();
    await w.write({ kind: 'dhcp_scope', op: 'delete', target: iface, body: {} });
    await w.write({ kind: 'vlan_interface', op: 'delete', target, body: {} });
    await w.apply();
    expect(await w.pendingSubsystems()).toEqual([]);
  });

  it('a rules-only key never touches the interface apply', async () => {
    const w = open(emu.addKey([...LIVE_WRITE_PRIVILEGES.firewall_rule, ...LIVE_WRITE_PRIVILEGES.apply]));
    expect(await w.pendingSubsystems()).toEqual([]);
    await w.apply();
  });
});
