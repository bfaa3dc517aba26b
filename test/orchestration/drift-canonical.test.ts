/**
 * @module Drift of the canonical state (docs/drift.md, ADRs 0275, 0276) on a site with an emulated pfSense brain and
 * two limbs, an emulated RouterOS and an emulated OpenWrt, through the real app on PGlite: the brain is held to the
 * canonical VLANs (VLAN interfaces), DHCP scopes and reservations and DNS records, each limb to the VLANs it must
 * carry on its bridge. Devices are changed through the gateways' live writes: for canonical resources the
 * expectation is the canonical state, so any divergence is drift whoever made it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseHostAllowList } from '../../src/net/ssrf.ts';
import { testSettings } from '../access-api/harness.ts';
import type { ScenarioDevice } from '../contract/access-scenarios.case.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { openwrtAccessHarness } from '../openwrt/access-harness.ts';
import { pfsenseAccessHarness } from '../pfsense/access-harness.ts';
import { routerOsAccessHarness } from '../routeros/access-harness.ts';

interface GatewayCheck {
  gateway_id: string;
  outcome: string;
  opened: string[];
  updated: number;
  cleared: number;
  skipped: Array<{ resource_type: string }>;
  error: { vendor_code: string | null } | null;
}

interface DriftEventBody {
  id: string;
  device_id: string;
  resource_type: string;
  resource_key: string;
  drift_type: string;
  severity: string;
  status: string;
  resolution: string | null;
  occurrences: number;
  details: Record<string, unknown>;
}

const CANONICAL_TYPES = ['vlan_interface', 'dhcp_scope', 'dhcp_reservation', 'dns_override', 'bridge_vlan'];

let h: TestApp;
const devices: Record<'pf' | 'ros' | 'owrt', ScenarioDevice | undefined> = { pf: undefined, ros: undefined, owrt: undefined };
let siteId: string;
const gw = { brain: '', ros: '', owrt: '', loose: '' };
let vlan20: string;
let brainIface: string;

const call = (method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', url: string, payload?: object) =>
  h.call({ method, url, token: h.ownerToken, ...(payload ? { payload } : {}) });
async function ok<T = Record<string, unknown>>(method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', url: string, payload?: object, status = 200): Promise<T> {
  const res = await call(method, url, payload);
  expect(res.statusCode, `${method} ${url}: ${res.body}`).toBe(status);
  return (status === 204 ? undefined : res.json<T>()) as T;
}
/** A live write on a gateway, applied at once through the pending-change engine. */
async function write(gatewayId: string, path: string, payload?: object, method: 'POST' | 'PUT' | 'DELETE' = 'POST') {
  const url = `/api/v1/firewall/gateways/${gatewayId}/${path}?force=true${method === 'DELETE' ? '&confirmed=true' : ''}`;
  const change = await ok<{ status: string; target_vendor_id: string; error: unknown }>(method, url, payload);
  expect(change.status, `${url}: ${JSON.stringify(change.error)}`).toBe('applied');
  return change;
}
const liveList = async <T>(gatewayId: string, path: string) => (await ok<{ items: T[] }>('GET', `/api/v1/firewall/gateways/${gatewayId}/${path}`)).items;

async function check(): Promise<Record<string, GatewayCheck>> {
  const body = await ok<{ gateways: GatewayCheck[] }>('POST', `/api/v1/firewall/drift/check/${siteId}`);
  return Object.fromEntries(body.gateways.map((g) => [g.gateway_id, g]));
}
async function open(gatewayId: string, resourceType?: string): Promise<DriftEventBody[]> {
  const qs = new URLSearchParams({ device_id: gatewayId, limit: '500', ...(resourceType ? { resource_type: resourceType } : {}) });
  return (await ok<{ items: DriftEventBody[] }>('GET', `/api/v1/firewall/drift/events?${qs.toString()}`)).items.filter((e) => e.status !== 'resolved');
}
const reapply = (id: string) =>
  ok<{ event: DriftEventBody; pending_change: { status: string } }>('POST', `/api/v1/firewall/drift/events/${id}/resolve`, { resolution: 'reapply', force: true, confirmed: true });

async function addGateway(name: string, vendor: string, device: ScenarioDevice): Promise<string> {
  const created = await ok<{ id: string }>(
    'POST',
    '/api/v1/firewall/gateways',
    { name, site_id: siteId, vendor, url: device.url, ...device.credentials, ...(device.fingerprint ? { fingerprint_sha256: device.fingerprint } : {}) },
    201,
  );
  return created.id;
}

beforeAll(async () => {
  [devices.pf, devices.ros, devices.owrt] = await Promise.all([pfsenseAccessHarness.start(), routerOsAccessHarness.start(), openwrtAccessHarness.start()]);
  h = await startTestApp('pglite', { readOnly: false }, { accessSettings: testSettings({ allowHosts: parseHostAllowList('127.0.0.1') }) });
  siteId = (await ok<{ id: string }>('POST', '/api/v1/sites', { name: 'canonical-drift' }, 201)).id;
  gw.brain = await addGateway('brain-pf', 'pfsense', devices.pf);
  gw.ros = await addGateway('limb-ros', 'routeros', devices.ros);
  gw.owrt = await addGateway('limb-owrt', 'openwrt', devices.owrt);
  gw.loose = await addGateway('no-role', 'pfsense', devices.pf);
  await ok('PUT', `/api/v1/firewall/topology/${siteId}`, {
    assignments: [
      { gateway_id: gw.brain, role: 'brain' },
      { gateway_id: gw.ros, role: 'limb' },
      { gateway_id: gw.owrt, role: 'limb' },
    ],
  });

  // The devices as the canonical state will describe them: VLAN 20 routed by the brain, VLAN 30 L2 only.
  await write(gw.brain, 'vlan-interfaces', { parent: 'vtnet2', tag: 20, name: 'IOT', ipv4: '10.20.0.1/24', ipv6: null, description: 'iot', is_enabled: true });
  brainIface = ((await liveList<{ tag: number; interface_id: string }>(gw.brain, 'vlan-interfaces')).find((v) => v.tag === 20) as { interface_id: string }).interface_id;
  await write(gw.brain, 'dhcp/scopes', { interface: brainIface, range_from: '10.20.0.100', range_to: '10.20.0.199', gateway: null, dns_servers: [], is_enabled: true });
  await write(gw.brain, 'dns/overrides', { host: 'nas', domain: 'home.arpa', ip: ['10.20.0.10'], description: '' });
  for (const [limb, bridge, trunk] of [[gw.ros, 'bridge', 'ether2'], [gw.owrt, 'br-lan', 'lan1']] as const) {
    // OpenWrt's bridge-vlan section has no option for a description (ADR 0257).
    for (const id of [20, 30]) await write(limb, 'bridge-vlans', { bridge, vlan_id: id, tagged: [trunk], untagged: [], description: '' });
  }
  vlan20 = (await ok<{ id: string }>('POST', '/api/v1/firewall/vlans', { site_id: siteId, vlan_id: 20, name: 'iot', ipv4_subnet: '10.20.0.0/24' }, 201)).id;
  await ok('POST', '/api/v1/firewall/vlans', { site_id: siteId, vlan_id: 30, name: 'cameras' }, 201);
  const scope = await ok<{ id: string }>('POST', '/api/v1/firewall/dhcp/scopes', { canonical_vlan_id: vlan20, range_start: '10.20.0.100', range_end: '10.20.0.199' }, 201);
  await ok('POST', '/api/v1/firewall/dhcp/reservations', { scope_id: scope.id, mac: '00:11:22:33:44:55', ip_address: '10.20.0.50', hostname: 'cam1' }, 201);
  await ok('POST', '/api/v1/firewall/dns/records', { site_id: siteId, host: 'nas', domain: 'home.arpa', ip_address: '10.20.0.10' }, 201);
}, 180_000);

afterAll(async () => {
  await h?.close();
  for (const device of Object.values(devices)) await device?.close();
});

describe('drift of the canonical state on a brain and its limbs', () => {
  it('devices matching the canonical state have no canonical drift but the reservation not on the brain', async () => {
    const first = await check();
    for (const id of [gw.brain, gw.ros, gw.owrt, gw.loose]) expect(first[id]).toMatchObject({ outcome: 'ok', skipped: [] });
    expect((await open(gw.brain)).map((e) => [e.resource_type, e.resource_key, e.drift_type, e.severity])).toEqual([
      ['dhcp_reservation', 'vlan:20/00:11:22:33:44:55', 'resource_missing', 'warning'],
    ]);
    for (const id of [gw.ros, gw.owrt]) {
      expect((await open(id)).filter((e) => CANONICAL_TYPES.includes(e.resource_type))).toEqual([]);
    }
  });

  it('a canonical VLAN the devices lack is missing on the brain and the limbs; deleted from the canonical state, cleared; a gateway of no role map is not held to it', async () => {
    // The same pfSense box, as a gateway in no role map, is checked for its rules and aliases only.
    await ok('POST', '/api/v1/firewall/vlans', { site_id: siteId, vlan_id: 99, name: 'planned', ipv4_subnet: '10.99.0.0/24' }, 201);
    const second = await check();
    expect(second[gw.loose]).toMatchObject({ opened: [] });
    expect((await open(gw.brain, 'vlan_interface')).map((e) => [e.resource_key, e.drift_type, e.severity])).toEqual([['vlan:99', 'resource_missing', 'critical']]);
    expect((await open(gw.ros, 'bridge_vlan')).map((e) => [e.resource_key, e.drift_type])).toEqual([['vlan:99', 'resource_missing']]);
    const planned = (await ok<{ items: Array<{ id: string; vlan_id: number }> }>('GET', `/api/v1/firewall/vlans?site_id=${siteId}`)).items.find((v) => v.vlan_id === 99);
    await ok('DELETE', `/api/v1/firewall/vlans/${planned?.id ?? ''}`, undefined, 204);
    const third = await check();
    expect(third[gw.brain]?.cleared).toBe(1);
    expect(third[gw.ros]?.cleared).toBe(1);
    expect(third[gw.owrt]?.cleared).toBe(1);
  });

  it('a changed DHCP range, a VLAN gone from a limb and a DNS override nobody declared are each reported once', async () => {
    const [scope] = await liveList<{ target: string; interface: string }>(gw.brain, 'dhcp/scopes').then((all) => all.filter((s) => s.interface === brainIface));
    await write(gw.brain, `dhcp/scopes/${scope?.target ?? ''}`, { interface: brainIface, range_from: '10.20.0.100', range_to: '10.20.0.150', gateway: null, dns_servers: [], is_enabled: true }, 'PUT');
    const rosVlan = (await liveList<{ vlan_id: number; write_target: string }>(gw.ros, 'bridge-vlans')).find((v) => v.vlan_id === 20);
    await write(gw.ros, `bridge-vlans/${rosVlan?.write_target ?? ''}`, undefined, 'DELETE');
    await write(gw.brain, 'dns/overrides', { host: 'printer', domain: 'home.arpa', ip: ['10.20.0.11'], description: 'by hand' });
    const first = await check();
    expect(first[gw.brain]?.opened).toHaveLength(2);
    expect(first[gw.brain]?.updated).toBe(1);
    expect(first[gw.ros]?.opened).toHaveLength(1);
    expect(first[gw.owrt]?.opened).toEqual([]);
    for (let i = 0; i < 2; i++) {
      const again = await check();
      expect(again[gw.brain]).toMatchObject({ opened: [], updated: 3 });
      expect(again[gw.ros]).toMatchObject({ opened: [], updated: 1 });
    }
    const brain = await open(gw.brain);
    expect(brain.find((e) => e.resource_type === 'dhcp_scope')).toMatchObject({ resource_key: 'vlan:20', drift_type: 'resource_modified', severity: 'warning', occurrences: 3, details: { fields: ['range_to'] } });
    expect(brain.find((e) => e.resource_type === 'dns_override')).toMatchObject({ resource_key: 'printer.home.arpa', drift_type: 'resource_added', severity: 'info' });
    expect(await open(gw.ros)).toMatchObject([{ resource_type: 'bridge_vlan', resource_key: 'vlan:20', drift_type: 'resource_missing', severity: 'critical' }]);
  });

  it('accept is refused (the canonical state is the expectation); reapply restores each device through the staged path', async () => {
    const [scopeEvent] = await open(gw.brain, 'dhcp_scope');
    const accept = await call('POST', `/api/v1/firewall/drift/events/${scopeEvent?.id ?? ''}/resolve`, { resolution: 'accept' });
    expect(accept.statusCode).toBe(409);
    expect(accept.json()).toMatchObject({ error: { field: 'resolution' } });
    // Reapplied scope first, then the rest (the reservation lies outside the pool either way).
    const order = ['dhcp_scope', 'dns_override', 'dhcp_reservation', 'bridge_vlan'];
    const events = [...(await open(gw.brain)), ...(await open(gw.ros))].sort((a, b) => order.indexOf(a.resource_type) - order.indexOf(b.resource_type));
    expect(events).toHaveLength(4);
    for (const event of events) {
      const done = await reapply(event.id);
      expect(done.pending_change, event.resource_type).toMatchObject({ status: 'applied' });
    }
    const scopes = await liveList<{ interface: string; range_to: string }>(gw.brain, 'dhcp/scopes');
    expect(scopes.find((s) => s.interface === brainIface)?.range_to).toBe('10.20.0.199');
    expect((await liveList<{ host: string }>(gw.brain, 'dns/overrides')).map((o) => o.host)).not.toContain('printer');
    expect(await liveList(gw.brain, 'dhcp/static-mappings')).toEqual([
      expect.objectContaining({ interface: brainIface, mac: '00:11:22:33:44:55', ip: '10.20.0.50', hostname: 'cam1' }),
    ]);
    expect(await liveList<{ vlan_id: number; tagged: string[] }>(gw.ros, 'bridge-vlans')).toEqual(
      expect.arrayContaining([expect.objectContaining({ vlan_id: 20, tagged: ['ether2'] })]),
    );
    const after = await check();
    expect(after[gw.brain]).toMatchObject({ opened: [], updated: 0 });
    expect(after[gw.ros]).toMatchObject({ opened: [], updated: 0 });
    expect(await open(gw.brain)).toEqual([]);
  });

  it('a new canonical VLAN is missing on the brain and both limbs until reapplied there', async () => {
    await ok('POST', '/api/v1/firewall/vlans', { site_id: siteId, vlan_id: 40, name: 'guest wifi', ipv4_subnet: '10.40.0.0/24' }, 201);
    const found = await check();
    expect(found[gw.brain]?.opened).toHaveLength(1);
    expect(found[gw.owrt]?.opened).toHaveLength(1);
    const [brainEvent] = await open(gw.brain);
    const restored = await reapply(brainEvent?.id as string);
    expect(restored.pending_change).toMatchObject({ status: 'applied' });
    expect(await liveList(gw.brain, 'vlan-interfaces')).toEqual(
      expect.arrayContaining([expect.objectContaining({ tag: 40, parent: 'vtnet2', ipv4: '10.40.0.1/24', name: 'guest_wifi' })]),
    );
    const [owrtEvent] = await open(gw.owrt);
    expect((await reapply(owrtEvent?.id as string)).pending_change).toMatchObject({ status: 'applied' });
    expect(await liveList(gw.owrt, 'bridge-vlans')).toEqual(expect.arrayContaining([expect.objectContaining({ bridge: 'br-lan', vlan_id: 40, tagged: ['lan1'] })]));
    // Applied at once, the reapplies closed their events; the next check finds both devices as the canonical state says.
    const after = await check();
    expect(after[gw.brain]).toMatchObject({ opened: [], updated: 0 });
    expect(after[gw.owrt]).toMatchObject({ opened: [], updated: 0 });
    expect(after[gw.ros]).toMatchObject({ opened: [], updated: 1 });
    expect(await open(gw.brain)).toEqual([]);
  });

  it('the authority map decides: a limb that owns its L2 plan is not held to the canonical VLANs', async () => {
    await ok('PUT', `/api/v1/firewall/topology/${siteId}`, {
      assignments: [
        { gateway_id: gw.brain, role: 'brain' },
        { gateway_id: gw.ros, role: 'limb' },
        { gateway_id: gw.owrt, role: 'limb' },
      ],
      authority_map: { vlan_l2: 'limb' },
    });
    await ok('POST', '/api/v1/firewall/vlans', { site_id: siteId, vlan_id: 50, name: 'lab' }, 201);
    const result = await check();
    expect(result[gw.owrt]).toMatchObject({ opened: [], updated: 0 });
    expect((await open(gw.owrt, 'bridge_vlan')).map((e) => e.resource_key)).toEqual([]);
  });

  it('suppressions take the canonical resource types; an unknown type is a 400 naming resource_type', async () => {
    const silence = await call('POST', '/api/v1/firewall/drift/suppressions', { site_id: siteId, resource_type: 'dns_override', pattern: '*.lab.home.arpa', reason: 'lab names come and go' });
    expect(silence.statusCode, silence.body).toBe(201);
    const bad = await call('POST', '/api/v1/firewall/drift/suppressions', { site_id: siteId, resource_type: 'vlan', pattern: '*', reason: 'x' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ error: { field: 'resource_type' } });
    await write(gw.brain, 'dns/overrides', { host: 'box', domain: 'lab.home.arpa', ip: ['10.20.0.12'], description: '' });
    expect((await check())[gw.brain]).toMatchObject({ opened: [], suppressed: 1 });
  });

  it('a brain that cannot be reached fails its check with the vendor code; the limbs are still checked', async () => {
    await devices.pf?.outage(true);
    try {
      const result = await check();
      expect(result[gw.brain]).toMatchObject({ outcome: 'failed', error: { vendor_code: devices.pf?.outageCode } });
      expect(result[gw.ros]).toMatchObject({ outcome: 'ok' });
    } finally {
      await devices.pf?.outage(false);
    }
  });
});
