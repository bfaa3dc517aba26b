/**
 * @module RouterOS bridge VLANs (docs/reference/routeros-api.md §9): the emulator's `interface/bridge`,
 * `interface/bridge/port` and `interface/bridge/vlan` menus and their refusals, then the adapter's `bridge_vlan`
 * reads and writes against it — access ports' pvid set and reset, `vlan-filtering` never touched, multi-id entries
 * round-tripped through `vendor_data`, refusals naming the field, a device failure mid-write.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { LiveGateway } from '../../src/adapters/live.ts';
import type { LiveBridgeVlanBody, LiveWriter } from '../../src/adapters/live-write.ts';
import { RouterOsAdapter, routerOsLiveView, routerOsLiveWriter } from '../../src/adapters/routeros/index.ts';
import { bridgeVlanRows } from '../../src/adapters/routeros/bridge-vlan.ts';
import { RouterOsError } from '../../src/adapters/routeros/errors.ts';
import { type RouterOsEmulator, startRouterOsEmulator } from '../../src/emulators/routeros/index.ts';
import { rosAdapterFor, rows } from './adapter-helpers.ts';
import { client } from './helpers.ts';

let emu: RouterOsEmulator;
let call: ReturnType<typeof client>;

beforeAll(async () => {
  emu = await startRouterOsEmulator({ tls: false });
  call = client(emu);
  // A third bridge port for the access-port cases.
  const port = await call('PUT', '/rest/interface/bridge/port', { bridge: 'bridge', interface: 'ether1' });
  expect(port.status).toBe(201);
});
afterAll(async () => {
  await emu.close();
});

/** Removes every static VLAN entry and puts every port back on pvid 1. */
async function resetVlans(): Promise<void> {
  for (const row of (await call('GET', '/rest/interface/bridge/vlan')).json as Array<Record<string, string>>)
    await call('DELETE', `/rest/interface/bridge/vlan/${row['.id']}`);
  for (const row of (await call('GET', '/rest/interface/bridge/port')).json as Array<Record<string, string>>)
    await call('PATCH', `/rest/interface/bridge/port/${row['.id']}`, { pvid: '1' });
}

describe('emulator: bridge menus (§9)', () => {
  beforeEach(resetVlans);

  it('seeds defconf: bridge with vlan-filtering off, ether2/ether3 as ports with pvid 1', async () => {
    const bridges = (await call('GET', '/rest/interface/bridge')).json as Array<Record<string, string>>;
    expect(bridges).toEqual([expect.objectContaining({ name: 'bridge', 'vlan-filtering': 'false', pvid: '1' })]);
    const ports = (await call('GET', '/rest/interface/bridge/port?bridge=bridge')).json as Array<Record<string, string>>;
    expect(ports.map((p) => [p.interface, p.pvid])).toEqual([
      ['ether2', '1'],
      ['ether3', '1'],
      ['ether1', '1'],
    ]);
  });

  it('stores an entry with every value a string and prints current-tagged/untagged', async () => {
    const put = await call('PUT', '/rest/interface/bridge/vlan', {
      bridge: 'bridge',
      'vlan-ids': '10,20-21',
      tagged: 'bridge,ether2',
      untagged: 'ether3',
      comment: 'mgmt',
    });
    expect(put.status).toBe(201);
    expect(put.json).toMatchObject({
      bridge: 'bridge',
      'vlan-ids': '10,20-21',
      tagged: 'bridge,ether2',
      untagged: 'ether3',
      'current-tagged': 'bridge,ether2',
      'current-untagged': 'ether3',
      disabled: 'false',
      dynamic: 'false',
      comment: 'mgmt',
    });
  });

  it.each([
    [{ 'vlan-ids': '0' }, 'invalid value for argument vlan-ids'],
    [{ 'vlan-ids': '4095' }, 'invalid value for argument vlan-ids'],
    [{ 'vlan-ids': '30-20' }, 'invalid value for argument vlan-ids'],
    [{ 'vlan-ids': '30', tagged: 'ether9' }, 'failure: ether9 is not a bridge port of bridge'],
    [{ 'vlan-ids': '30', tagged: 'ether2', untagged: 'ether2' }, 'failure: ether2 can not be tagged and untagged at the same time'],
    [{ 'vlan-ids': '30', bridge: 'nosuch' }, 'input does not match any value of bridge'],
  ])('refuses %j with 400 %s', async (values, detail) => {
    const res = await call('PUT', '/rest/interface/bridge/vlan', { bridge: 'bridge', ...values });
    expect(res.status).toBe(400);
    expect(res.json).toEqual({ detail, error: 400, message: 'Bad Request' });
  });

  it('refuses a port listed for the same id in a second entry, not for another id', async () => {
    expect((await call('PUT', '/rest/interface/bridge/vlan', { bridge: 'bridge', 'vlan-ids': '40-41', tagged: 'ether2' })).status).toBe(201);
    const clash = await call('PUT', '/rest/interface/bridge/vlan', { bridge: 'bridge', 'vlan-ids': '41', tagged: 'ether2' });
    expect(clash.json.detail).toBe('failure: vlan already has interface ether2');
    expect((await call('PUT', '/rest/interface/bridge/vlan', { bridge: 'bridge', 'vlan-ids': '42', tagged: 'ether2' })).status).toBe(201);
  });

  it('keeps a port in one bridge and pvid in 1-4094', async () => {
    expect((await call('PUT', '/rest/interface/bridge', { name: 'br2' })).status).toBe(201);
    const twice = await call('PUT', '/rest/interface/bridge/port', { bridge: 'br2', interface: 'ether2' });
    expect(twice.json.detail).toBe('failure: device already added as bridge port');
    const port = (await call('GET', '/rest/interface/bridge/port?interface=ether2')).json[0] as Record<string, string>;
    expect((await call('PATCH', `/rest/interface/bridge/port/${port['.id']}`, { pvid: '4095' })).json.detail).toBe(
      'invalid value for argument pvid',
    );
    const br2 = (await call('GET', '/rest/interface/bridge?name=br2')).json[0] as Record<string, string>;
    expect((await call('DELETE', `/rest/interface/bridge/${br2['.id']}`)).status).toBe(204);
  });
});

describe('adapter: bridge_vlan reads and writes (§9)', () => {
  let ros: RouterOsAdapter;
  let view: LiveGateway;
  let writer: LiveWriter;
  beforeAll(() => {
    ros = rosAdapterFor(emu);
    view = routerOsLiveView(ros);
    writer = routerOsLiveWriter(ros);
  });
  afterAll(async () => {
    await ros.close();
  });
  beforeEach(async () => {
    emu.clearFaults();
    await resetVlans();
  });

  const pvidOf = (iface: string) => rows(emu, 'interface/bridge/port').find((p) => p.interface === iface)?.pvid ?? '1';
  const body = (over: Partial<LiveBridgeVlanBody> = {}): LiveBridgeVlanBody => ({
    bridge: 'bridge',
    vlan_id: 20,
    tagged: ['ether2'],
    untagged: ['ether3'],
    description: 'users',
    ...over,
  });

  it('creates the entry, sets the access port pvid, leaves vlan-filtering off and lists it in the view', async () => {
    const { target, pending } = await writer.write({ kind: 'bridge_vlan', op: 'create', target: null, body: body() });
    expect(pending).toEqual([]);
    expect(target).toMatch(/^\*[0-9A-F]+$/);
    expect(pvidOf('ether3')).toBe('20');
    expect(pvidOf('ether2')).toBe('1');
    expect(await writer.read('bridge_vlan', target as string)).toEqual(body());
    const listed = (await view.bridgeVlans?.())?.items ?? [];
    expect(listed).toEqual([
      expect.objectContaining({ write_target: target, bridge: 'bridge', vlan_id: 20, vlan_filtering: false, description: 'users' }),
    ]);
    expect(rows(emu, 'interface/bridge')[0]?.['vlan-filtering'] ?? 'false').toBe('false');
  });

  it('update moves the access port back to pvid 1; delete removes the entry and resets its access ports', async () => {
    const { target } = await writer.write({ kind: 'bridge_vlan', op: 'create', target: null, body: body({ untagged: ['ether1', 'ether3'] }) });
    expect([pvidOf('ether1'), pvidOf('ether3')]).toEqual(['20', '20']);
    await writer.write({ kind: 'bridge_vlan', op: 'update', target: target as string, body: body({ untagged: ['ether1'], description: '' }) });
    expect([pvidOf('ether1'), pvidOf('ether3')]).toEqual(['20', '1']);
    expect(await writer.read('bridge_vlan', target as string)).toEqual(body({ untagged: ['ether1'], description: '' }));
    await writer.write({ kind: 'bridge_vlan', op: 'delete', target: target as string, body: {} });
    expect(pvidOf('ether1')).toBe('1');
    expect(await writer.read('bridge_vlan', target as string)).toBeNull();
  });

  it('reads a multi-id entry once per id and writes the read body back unchanged', async () => {
    const put = await call('PUT', '/rest/interface/bridge/vlan', { bridge: 'bridge', 'vlan-ids': '30,32-33', tagged: 'bridge,ether2', disabled: 'true' });
    const id = put.json['.id'] as string;
    const listed = ((await view.bridgeVlans?.())?.items ?? []).filter((v) => v.write_target === id);
    expect(listed.map((v) => v.vlan_id)).toEqual([30, 32, 33]);
    const before = await writer.read('bridge_vlan', id);
    expect(before).toMatchObject({ vlan_id: 30, tagged: ['bridge', 'ether2'], vendor_data: { 'vlan-ids': '30,32-33', disabled: 'true' } });
    await writer.write({ kind: 'bridge_vlan', op: 'update', target: id, body: body({ vlan_id: 30, tagged: ['ether2'], untagged: [], description: '' }) });
    await writer.write({ kind: 'bridge_vlan', op: 'update', target: id, body: before as unknown as LiveBridgeVlanBody });
    expect(await writer.read('bridge_vlan', id)).toEqual(before);
  });

  it.each([
    [body({ bridge: 'nosuch' }), 'bridge'],
    [body({ tagged: ['ether9'] }), 'tagged'],
    [body({ tagged: ['ether3'], untagged: ['ether3'] }), 'untagged'],
    [body({ vlan_id: 4095 }), 'vlan_id'],
  ])('refuses before writing: %j names %s', async (b, field) => {
    const before = rows(emu, 'interface/bridge/vlan').length;
    const err = await writer.write({ kind: 'bridge_vlan', op: 'create', target: null, body: b }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RouterOsError);
    expect((err as RouterOsError).field).toBe(field);
    expect(rows(emu, 'interface/bridge/vlan')).toHaveLength(before);
  });

  it('refuses a second entry for the same VLAN on a port, and an access port of two VLANs (one pvid)', async () => {
    await writer.write({ kind: 'bridge_vlan', op: 'create', target: null, body: body() });
    const same = await writer.write({ kind: 'bridge_vlan', op: 'create', target: null, body: body({ untagged: [] }) }).catch((e: unknown) => e);
    expect((same as RouterOsError).field).toBe('vlan_id');
    const access = await writer.write({ kind: 'bridge_vlan', op: 'create', target: null, body: body({ vlan_id: 21, tagged: [] }) }).catch((e: unknown) => e);
    expect((access as RouterOsError).field).toBe('untagged');
    expect((access as RouterOsError).message).toContain('one pvid');
  });

  it('a device refusal surfaces as a RouterOS error and writes nothing', async () => {
    emu.fault({ kind: 'status', status: 400, detail: 'failure: vlan already has interface ether2', method: 'PUT', path: '/interface/bridge/vlan', times: 1 });
    const err = await writer.write({ kind: 'bridge_vlan', op: 'create', target: null, body: body() }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RouterOsError);
    expect((err as RouterOsError).message).toContain('vlan already has interface ether2');
    expect(rows(emu, 'interface/bridge/vlan')).toHaveLength(0);
    expect(pvidOf('ether3')).toBe('1');
  });

  it('a dynamic entry (RouterOS made it from a pvid) is listed without a write target', () => {
    const listed = bridgeVlanRows(
      [{ '.id': '*9', bridge: 'bridge', 'vlan-ids': '99', untagged: 'ether1', dynamic: 'true' }],
      [{ name: 'bridge', 'vlan-filtering': 'true' }],
    );
    expect(listed).toEqual([expect.objectContaining({ write_target: null, vlan_id: 99, untagged: ['ether1'], vlan_filtering: true })]);
  });
});
