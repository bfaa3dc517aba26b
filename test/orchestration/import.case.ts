/**
 * @module The brownfield import wizard and reconciliation through the HTTP API (docs/orchestration.md "Brownfield
 * import", ADRs 0270-0274): the real server on PGlite or PostgreSQL with an emulated pfSense brain that already
 * runs VLANs, DHCP scopes, a static mapping and a DNS override, and RouterOS and OpenWrt limbs whose bridges carry
 * some of those VLANs. All six steps are walked through `POST /import/{id}/step`: discover, roles (checked by the
 * role-map code), scan against a canonical state that already holds a renamed VLAN and an orphan, decisions
 * (refusals name the decision), distribute (the distribution engine writes the missing VLAN to the OpenWrt limb,
 * checked on the device) and verify. Then reconciliation (import with orphans, every alignment status, distribute),
 * bad input, wrong steps, a step 5 refused and run again, cancel, permissions and the retention purge.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serviceContext } from '../../src/core/context.ts';
import { type OpenWrtEmulator, startOpenWrtEmulator } from '../../src/emulators/openwrt/index.ts';
import { type PfRestEmulator, startPfRestEmulator } from '../../src/emulators/pfrest/index.ts';
import { type RouterOsEmulator, startRouterOsEmulator } from '../../src/emulators/routeros/index.ts';
import { purgeImportSessions } from '../../src/orchestration/import/session.ts';
import { parseHostAllowList } from '../../src/net/ssrf.ts';
import { testSettings } from '../access-api/harness.ts';
import type { StoreKind } from '../../src/store/db.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { documentedAcl } from '../openwrt/adapter-harness.ts';

let pf: PfRestEmulator;
let ros: RouterOsEmulator;
let owrt: OpenWrtEmulator;
let h: TestApp;
let site: string;
let brainId: string;
let rosId: string;
let owrtId: string;
let deadId: string;

type Json = Record<string, any>;
type Method = 'GET' | 'POST' | 'PUT' | 'PATCH';

async function call(method: Method, url: string, payload?: object, token = h.ownerToken) {
  const res = await h.call({ method, url, token, ...(payload ? { payload } : {}) });
  return { status: res.statusCode, body: (res.body ? res.json() : null) as Json };
}
async function ok(method: Method, url: string, payload?: object, status = 200): Promise<Json> {
  const res = await call(method, url, payload);
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  return res.body;
}
async function refused(url: string, payload: object, status: number, field?: string): Promise<Json> {
  const res = await call('POST', url, payload);
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  if (field !== undefined) expect(res.body.error.field).toBe(field);
  return res.body;
}
/** A live write applied on the device (how the site's config got there before Portcullis). */
async function seed(gatewayId: string, path: string, body: object): Promise<void> {
  const change = await ok('POST', `/api/v1/firewall/gateways/${gatewayId}/${path}?force=true`, body);
  expect(change.status, JSON.stringify(change.error)).toBe('applied');
}
async function gateway(name: string, vendor: string, url: string, credentials: object, fingerprint?: string | null): Promise<string> {
  const res = await ok('POST', '/api/v1/firewall/gateways', {
    name,
    site_id: site,
    vendor,
    url,
    ...credentials,
    ...(fingerprint ? { fingerprint_sha256: fingerprint } : {}),
  }, 201);
  return res.id as string;
}
const owrtVlans = () =>
  (owrt.state().config.network?.sections ?? []).filter((s) => s.type === 'bridge-vlan').map((s) => Number(s.options.vlan));
const MAPPING_MAC = '00:11:22:33:44:55';

/** The whole suite on one store kind (PGlite in import.pglite.test.ts, PostgreSQL in import.postgres.test.ts). */
export function runImportSuite(kind: StoreKind): void {
  beforeAll(async () => {
    pf = await startPfRestEmulator({ applyDelayMs: 10 });
    ros = await startRouterOsEmulator({ dynamicFilterRule: false });
    owrt = await startOpenWrtEmulator({ reloadDelayMs: 20, aclGroups: documentedAcl() });
    h = await startTestApp(kind, { readOnly: false }, { accessSettings: testSettings({ allowHosts: parseHostAllowList('127.0.0.1') }) });
    site = (await ok('POST', '/api/v1/sites', { name: 'branch' }, 201)).id;
    brainId = await gateway('core-pf', 'pfsense', pf.url, { api_key: pf.apiKey }, pf.fingerprint);
    rosId = await gateway('sw-ros', 'routeros', ros.url, { username: ros.credentials.username, password: ros.credentials.password }, ros.fingerprint);
    const login = owrt.users.find((u) => u.username === 'portcullis');
    if (!login) throw new Error('the OpenWrt emulator has no portcullis login');
    owrtId = await gateway('ap-owrt', 'openwrt', owrt.url, { username: login.username, password: login.password }, owrt.fingerprint);
    // A limb that answers nothing (a closed port): discovery lists it unreachable.
    deadId = await gateway('sw-dead', 'routeros', 'https://127.0.0.1:9', { username: 'admin', password: 'x' });

    // The site as it runs before Portcullis: two VLANs with DHCP on the brain, a static mapping (outside the pool,
    // as pfSense demands), a DNS override; the RouterOS bridge carries VLANs 10, 20 and a limb-only 30; OpenWrt only 10.
    await seed(brainId, 'vlan-interfaces', { parent: 'vtnet2', tag: 10, name: 'STAFF', ipv4: '10.10.0.1/24', ipv6: null, description: 'staff', is_enabled: true });
    await seed(brainId, 'vlan-interfaces', { parent: 'vtnet2', tag: 20, name: 'GUEST', ipv4: '10.20.0.1/24', ipv6: null, description: '', is_enabled: true });
    const interfaces = (await ok('GET', `/api/v1/firewall/gateways/${brainId}/vlan-interfaces`)).items as Json[];
    const ifaceOf = (tag: number) => interfaces.find((i) => i.tag === tag)?.interface_id as string;
    for (const tag of [10, 20]) {
      await seed(brainId, 'dhcp/scopes', { interface: ifaceOf(tag), range_from: `10.${tag}.0.100`, range_to: `10.${tag}.0.199`, gateway: null, dns_servers: [], is_enabled: true });
    }
    await seed(brainId, 'dhcp/static-mappings', { interface: ifaceOf(10), mac: MAPPING_MAC, ip: '10.10.0.20', hostname: 'printer', description: 'office printer' });
    await seed(brainId, 'dns/overrides', { host: 'nas', domain: 'home.arpa', ip: ['10.10.0.5'], description: 'storage' });
    for (const tag of [10, 20, 30]) await seed(rosId, 'bridge-vlans', { bridge: 'bridge', vlan_id: tag, tagged: ['ether2'], untagged: [], description: tag === 30 ? 'cameras' : '' });
    await seed(owrtId, 'bridge-vlans', { bridge: 'br-lan', vlan_id: 10, tagged: ['lan1'], untagged: [] });

    // Canonical state already there: VLAN 20 under another name, and VLAN 99 the brain does not have.
    await ok('POST', '/api/v1/firewall/vlans', { site_id: site, vlan_id: 20, name: 'guests', ipv4_subnet: '10.20.0.0/24' }, 201);
    await ok('POST', '/api/v1/firewall/vlans', { site_id: site, vlan_id: 99, name: 'legacy', ipv4_subnet: '10.99.0.0/24' }, 201);
  }, 180_000);

  afterAll(async () => {
    await h?.close();
    await Promise.all([pf?.close(), ros?.close(), owrt?.close()]);
  });

  describe('brownfield import: all six steps through the API', () => {
    let id: string;
    const step = () => `/api/v1/firewall/import/${id}/step`;
    const at = (session: Json, n: number) => (session.steps as Json[])[n - 1] as Json;
    const resource = (session: Json, key: string) => (at(session, 3).result.resources as Json[]).find((r) => r.key === key) as Json;

    it('step 1 (discover) runs on start: every gateway of the site read live, the dead one listed unreachable', async () => {
      const session = await ok('POST', '/api/v1/firewall/import/start', { site_id: site }, 201);
      id = session.id;
      expect(session).toMatchObject({ status: 'in_progress', current_step: 2 });
      expect(session.next).toMatch(/step 2/);
      expect(at(session, 1)).toMatchObject({ name: 'discover', status: 'done' });
      expect(at(session, 2)).toMatchObject({ name: 'assign_roles', status: 'waiting' });
      const devices = at(session, 1).result.devices as Json[];
      const device = (gid: string) => devices.find((d) => d.gateway_id === gid) as Json;
      expect(device(brainId)).toMatchObject({ reachable: true, possible_roles: ['brain'] });
      expect((device(brainId).vlans as Json[]).map((v) => [v.vlan_id, v.name, v.ipv4_subnet])).toEqual([
        [10, 'STAFF', '10.10.0.0/24'],
        [20, 'GUEST', '10.20.0.0/24'],
      ]);
      expect(device(brainId).dhcp_scopes).toHaveLength(2);
      expect(device(brainId).dhcp_reservations).toEqual([
        { vlan_id: 10, mac: MAPPING_MAC, ip_address: '10.10.0.20', hostname: 'printer', description: 'office printer' },
      ]);
      expect(device(brainId).dns_records).toEqual([{ host: 'nas', domain: 'home.arpa', ip_addresses: ['10.10.0.5'], description: 'storage' }]);
      expect((device(rosId).bridge_vlans as Json[]).map((b) => b.vlan_id).sort()).toEqual([10, 20, 30]);
      expect(device(rosId).possible_roles).toEqual(['limb']);
      expect((device(owrtId).bridge_vlans as Json[]).map((b) => b.vlan_id)).toEqual([10]);
      expect(device(deadId)).toMatchObject({ reachable: false, error: { code: 'device_error' } });
      // Nothing written yet: no role map.
      expect((await call('GET', `/api/v1/firewall/topology/${site}`)).status).toBe(404);
    });

    it('a step other than the one the session waits for is a 409 naming the awaited step', async () => {
      const res = await refused(step(), { step: 4, payload: { decisions: {} } }, 409);
      expect(res.error.message).toMatch(/waits for step 2/);
      await refused(step(), { step: 1 }, 409);
    });

    it.each([
      [{ step: 2 }, 'payload.roles'],
      [{ step: 2, payload: { roles: [] } }, 'payload.roles'],
      [{ step: 2, payload: { roles: {} } }, 'payload.roles'],
      [{ step: 7, payload: {} }, 'step'],
    ])('step 2 refuses %j with 400 naming %s', async (body, field) => {
      await refused(step(), body, 400, field);
    });

    it('step 2 runs the role-map checks: two brains, a limb as brain, an unknown and an unreachable gateway each name the gateway', async () => {
      let res = await refused(step(), { step: 2, payload: { roles: { [brainId]: 'brain', [rosId]: 'brain' } } }, 400, `payload.roles.${rosId}`);
      expect(res.error.message).toMatch(/cannot be a brain|exactly one brain/);
      res = await refused(step(), { step: 2, payload: { roles: { [rosId]: 'brain' } } }, 400, `payload.roles.${rosId}`);
      expect(res.error.message).toMatch(/lacks capability l3_authority/);
      await refused(step(), { step: 2, payload: { roles: { [brainId]: 'brain', [rosId]: 'spine' } } }, 400, `payload.roles.${rosId}`);
      const stranger = '00000000-0000-4000-8000-000000000001';
      await refused(step(), { step: 2, payload: { roles: { [brainId]: 'brain', [stranger]: 'limb' } } }, 400, `payload.roles.${stranger}`);
      res = await refused(step(), { step: 2, payload: { roles: { [brainId]: 'brain', [deadId]: 'limb' } } }, 400, `payload.roles.${deadId}`);
      expect(res.error.message).toMatch(/could not be read/);
      // Still waiting for step 2.
      expect(await ok('GET', `/api/v1/firewall/import/${id}`)).toMatchObject({ status: 'in_progress', current_step: 2 });
    });

    it('step 2 takes the roles and step 3 (scan) runs at once: one status per resource against the canonical state', async () => {
      const session = await ok('POST', step(), { step: 2, payload: { roles: { [brainId]: 'brain', [rosId]: 'limb', [owrtId]: 'limb' } } });
      expect(session).toMatchObject({ status: 'in_progress', current_step: 4 });
      expect(at(session, 2)).toMatchObject({ status: 'done' });
      expect(at(session, 3)).toMatchObject({ name: 'scan', status: 'done' });
      const statuses = Object.fromEntries((at(session, 3).result.resources as Json[]).map((r) => [r.key, r.status]));
      expect(statuses).toEqual({
        'vlan:10': 'extra',
        'vlan:20': 'modified',
        'vlan:30': 'extra',
        'vlan:99': 'missing',
        'dhcp_scope:10:4': 'extra',
        'dhcp_scope:20:4': 'extra',
        [`dhcp_reservation:10:${MAPPING_MAC}`]: 'extra',
        'dns_record:nas.home.arpa': 'extra',
      });
      expect(resource(session, 'vlan:20')).toMatchObject({
        source: 'brain',
        differences: ['name'],
        canonical: { name: 'guests' },
        decisions: ['adopt', 'merge', 'skip', 'ignore'],
        limbs: [
          { gateway_id: rosId, carries: true },
          { gateway_id: owrtId, carries: false },
        ],
      });
      expect(resource(session, 'vlan:30')).toMatchObject({ source: 'limb', device: { description: 'cameras' } });
      expect(at(session, 3).result.counts).toEqual({ aligned: 0, missing: 1, modified: 1, extra: 6, error: 0 });
    });

    it('step 4 refuses bad decisions naming the decision, and adoptions the canonical checks refuse (nothing changes)', async () => {
      await refused(step(), { step: 4, payload: {} }, 400, 'payload.decisions');
      await refused(step(), { step: 4, payload: { decisions: { 'vlan:77': 'adopt' } } }, 400, 'payload.decisions.vlan:77');
      await refused(step(), { step: 4, payload: { decisions: { 'vlan:10': 'delete' } } }, 400, 'payload.decisions.vlan:10');
      let res = await refused(step(), { step: 4, payload: { decisions: { 'vlan:10': 'merge' } } }, 400, 'payload.decisions.vlan:10');
      expect(res.error.message).toMatch(/merge needs the resource on both sides/);
      // A scope whose VLAN is not adopted.
      res = await refused(step(), { step: 4, payload: { decisions: { 'dhcp_scope:10:4': 'adopt' } } }, 400, 'payload.decisions.dhcp_scope:10:4');
      expect(res.error.message).toMatch(/adopt vlan:10 too/);
      // The dry runs changed nothing.
      const vlans = (await ok('GET', `/api/v1/firewall/vlans?site_id=${site}`)).items as Json[];
      expect(vlans.map((v) => [v.vlan_id, v.name])).toEqual([[20, 'guests'], [99, 'legacy']]);
    });

    it('step 4 takes the decisions and shows the plan; step 5 is only reachable next', async () => {
      const session = await ok('POST', step(), {
        step: 4,
        payload: {
          decisions: {
            'vlan:10': 'adopt',
            'vlan:20': 'adopt',
            'vlan:30': 'ignore',
            'vlan:99': 'skip',
            'dhcp_scope:10:4': 'adopt',
            'dhcp_scope:20:4': 'adopt',
            // pfSense's mapping lies outside the pool, inside the subnet: a canonical reservation may (ADR 0290).
            [`dhcp_reservation:10:${MAPPING_MAC}`]: 'adopt',
            'dns_record:nas.home.arpa': 'adopt',
          },
        },
      });
      expect(session).toMatchObject({ status: 'in_progress', current_step: 5 });
      expect(session.next).toMatch(/step 5/);
      const plan = at(session, 4).result.plan as Json;
      expect(plan.changes).toEqual([
        { key: 'vlan:10', action: 'created' },
        { key: 'vlan:20', action: 'updated' },
        { key: 'dhcp_scope:10:4', action: 'created' },
        { key: 'dhcp_scope:20:4', action: 'created' },
        { key: `dhcp_reservation:10:${MAPPING_MAC}`, action: 'created' },
        { key: 'dns_record:nas.home.arpa', action: 'created' },
      ]);
      expect(plan.distribute.map((d: Json) => d.vlan_id)).toEqual([20]);
      expect(at(session, 4).result.decided[`dhcp_reservation:10:${MAPPING_MAC}`]).toBe('adopt');
      await refused(step(), { step: 6 }, 409);
    });

    it('step 5 adopts into the canonical state, saves the role map and distributes VLAN 20 to OpenWrt; step 6 verifies', async () => {
      expect(owrtVlans()).toEqual([10]);
      const session = await ok('POST', step(), { step: 5, force: true });
      expect(session).toMatchObject({ status: 'completed', current_step: 6, next: null });
      const distributed = at(session, 5).result as Json;
      expect(distributed.changes.map((c: Json) => c.key)).toEqual([
        'vlan:10',
        'vlan:20',
        'dhcp_scope:10:4',
        'dhcp_scope:20:4',
        `dhcp_reservation:10:${MAPPING_MAC}`,
        'dns_record:nas.home.arpa',
      ]);
      expect(distributed.distributions).toEqual([
        expect.objectContaining({ vlan_id: 20, error: null, distribution: expect.objectContaining({ status: 'completed' }) }),
      ]);
      // On the device: the OpenWrt bridge carries VLAN 20 now, on its trunk.
      expect(owrtVlans().sort()).toEqual([10, 20]);
      // The canonical state and the role map.
      const vlans = (await ok('GET', `/api/v1/firewall/vlans?site_id=${site}`)).items as Json[];
      expect(vlans.map((v) => [v.vlan_id, v.name, v.ipv4_subnet])).toEqual([
        [10, 'STAFF', '10.10.0.0/24'],
        [20, 'GUEST', '10.20.0.0/24'],
        [99, 'legacy', '10.99.0.0/24'],
      ]);
      const scopes = (await ok('GET', `/api/v1/firewall/dhcp/scopes?site_id=${site}`)).items as Json[];
      expect(scopes.map((s) => [s.range_start, s.range_end]).sort()).toEqual([
        ['10.10.0.100', '10.10.0.199'],
        ['10.20.0.100', '10.20.0.199'],
      ]);
      const reservations = (await ok('GET', `/api/v1/firewall/dhcp/reservations?site_id=${site}`)).items as Json[];
      expect(reservations.map((r) => [r.mac, r.ip_address, r.hostname])).toEqual([[MAPPING_MAC, '10.10.0.20', 'printer']]);
      expect(((await ok('GET', `/api/v1/firewall/dns/records?site_id=${site}`)).items as Json[]).map((d) => [d.host, d.ip_address])).toEqual([['nas', '10.10.0.5']]);
      const topology = await ok('GET', `/api/v1/firewall/topology/${site}`);
      expect(topology.brain.gateway_id).toBe(brainId);
      expect(topology.limbs.map((l: Json) => l.gateway_id).sort()).toEqual([rosId, owrtId].sort());
      // Step 6: every adopted resource aligned on every device; what was skipped or ignored is listed, not counted.
      const verify = at(session, 6);
      expect(verify).toMatchObject({ name: 'verify', status: 'done' });
      expect(verify.result.unaligned).toEqual([]);
      expect(verify.result.aligned).toBe(true);
      const item = (key: string, device: string) => (verify.result.items as Json[]).find((i) => i.key === key && i.device_id === device);
      expect(item('vlan:20', owrtId)).toMatchObject({ status: 'aligned', decision: 'adopt' });
      expect(item(`dhcp_reservation:10:${MAPPING_MAC}`, brainId)).toMatchObject({ status: 'aligned', decision: 'adopt' });
      expect(item('vlan:99', brainId)).toMatchObject({ status: 'missing', decision: 'skip' });
      expect(item('vlan:30', rosId)).toMatchObject({ status: 'extra', decision: 'ignore' });
    }, 60_000);

    it('a completed session takes no step and cannot be cancelled', async () => {
      await refused(step(), { step: 5, force: true }, 409);
      await refused(`/api/v1/firewall/import/${id}/cancel`, {}, 409);
      const list = await ok('GET', `/api/v1/firewall/import?site_id=${site}`);
      expect(list.items.map((s: Json) => s.id)).toContain(id);
    });
  });

  describe('reconciliation without the wizard', () => {
    const base = () => `/api/v1/firewall/reconciliation/${site}`;

    it('alignment reports aligned, missing, modified, extra and error per resource and device', async () => {
      // Make a VLAN differ and put the dead limb in the map.
      await ok('PUT', `/api/v1/firewall/topology/${site}`, {
        assignments: [
          { gateway_id: brainId, role: 'brain' },
          { gateway_id: rosId, role: 'limb' },
          { gateway_id: owrtId, role: 'limb' },
          { gateway_id: deadId, role: 'limb' },
        ],
      });
      const vlans = (await ok('GET', `/api/v1/firewall/vlans?site_id=${site}`)).items as Json[];
      const staff = vlans.find((v) => v.vlan_id === 10) as Json;
      await ok('PATCH', `/api/v1/firewall/vlans/${staff.id}`, { name: 'staff-lan' });
      const report = await ok('GET', `${base()}/alignment`);
      const find = (key: string, device: string) => (report.items as Json[]).find((i) => i.key === key && i.device_id === device);
      expect(find('vlan:20', owrtId)).toMatchObject({ status: 'aligned' });
      expect(find('vlan:99', brainId)).toMatchObject({ status: 'missing' });
      expect(find('vlan:10', brainId)).toMatchObject({ status: 'modified', differences: ['name'] });
      expect(find('vlan:30', rosId)).toMatchObject({ status: 'extra' });
      expect(find(`dhcp_reservation:10:${MAPPING_MAC}`, brainId)).toMatchObject({ status: 'aligned' });
      expect(find(`device:${deadId}`, deadId)).toMatchObject({ status: 'error', kind: 'device' });
      for (const status of ['aligned', 'missing', 'modified', 'extra', 'error']) expect(report.counts[status]).toBeGreaterThan(0);
      expect(report.score).toBeGreaterThan(0);
      expect(report.score).toBeLessThan(100);
    });

    it('import from the brain updates canonical VLANs from it and flags orphans (a dry run changes nothing)', async () => {
      const dry = await ok('POST', `${base()}/import`, { dry_run: true });
      expect(dry).toMatchObject({ dry_run: true, created: 0, updated: 1, unchanged: 1 });
      expect(((await ok('GET', `/api/v1/firewall/vlans?site_id=${site}`)).items as Json[]).find((v) => v.vlan_id === 10)?.name).toBe('staff-lan');
      const done = await ok('POST', `${base()}/import`, {});
      expect(done).toMatchObject({ dry_run: false, created: 0, updated: 1, unchanged: 1, errors: [] });
      expect(done.vlans.map((v: Json) => [v.vlan_id, v.action])).toEqual([[10, 'updated'], [20, 'unchanged']]);
      expect(done.orphaned).toEqual([expect.objectContaining({ vlan_id: 99, name: 'legacy', reason: expect.stringMatching(/brain has no VLAN interface 99/) })]);
      expect(((await ok('GET', `/api/v1/firewall/vlans?site_id=${site}`)).items as Json[]).find((v) => v.vlan_id === 10)?.name).toBe('STAFF');
    });

    it('import reports a VLAN the canonical checks refuse and imports the others', async () => {
      // A canonical VLAN 50 holding the subnet the brain's VLAN 10 would keep: VLAN 10's rename still goes through,
      // a new brain VLAN overlapping it is refused with the field.
      await ok('POST', '/api/v1/firewall/vlans', { site_id: site, vlan_id: 50, name: 'lab', ipv4_subnet: '10.50.0.0/24' }, 201);
      await seed(brainId, 'vlan-interfaces', { parent: 'vtnet2', tag: 51, name: 'LAB2', ipv4: '10.50.0.129/25', ipv6: null, description: '', is_enabled: true });
      const done = await ok('POST', `${base()}/import`, {});
      expect(done.vlans.find((v: Json) => v.vlan_id === 51)).toMatchObject({ action: 'refused' });
      expect(done.errors).toEqual([expect.objectContaining({ vlan_id: 51, field: 'ipv4_subnet' })]);
      expect(done.orphaned.map((o: Json) => o.vlan_id).sort()).toEqual([50, 99]);
    });

    it('distribute pushes canonical VLANs a limb lacks through the distribution engine', async () => {
      await ok('PUT', `/api/v1/firewall/topology/${site}`, {
        assignments: [
          { gateway_id: brainId, role: 'brain' },
          { gateway_id: rosId, role: 'limb' },
          { gateway_id: owrtId, role: 'limb' },
        ],
      });
      await refused(`${base()}/distribute`, { vlan_ids: [4000] }, 400, 'vlan_ids.0');
      const planned = await ok('POST', `${base()}/distribute`, { vlan_ids: [10, 99] });
      expect(planned.skipped).toEqual([{ vlan_id: 10, reason: 'every limb carries it' }]);
      expect(planned.distributed).toEqual([expect.objectContaining({ vlan_id: 99, limbs_missing: expect.arrayContaining([rosId, owrtId]), distribution: expect.objectContaining({ status: 'planned' }) })]);
      expect(owrtVlans()).not.toContain(99);
    });

    it('a site without a role map is a 409; another site\u2019s reconciliation is a 404 for a site-limited user', async () => {
      const other = (await ok('POST', '/api/v1/sites', { name: 'empty' }, 201)).id;
      const res = await call('GET', `/api/v1/firewall/reconciliation/${other}/alignment`);
      expect(res.status).toBe(409);
      expect(res.body.error.message).toMatch(/no role map/);
      const viewer = await h.makeUser('viewer-elsewhere', 'viewer', [other]);
      expect((await call('GET', `${base()}/alignment`, undefined, viewer.token)).status).toBe(404);
      expect((await call('POST', `${base()}/import`, {}, viewer.token)).status).toBe(403);
    });
  });

  describe('sessions: cancel, permissions, retention', () => {
    it('cancel ends a session: no step runs on it afterwards, and nothing was written', async () => {
      const session = await ok('POST', '/api/v1/firewall/import/start', { site_id: site }, 201);
      const cancelled = await ok('POST', `/api/v1/firewall/import/${session.id}/cancel`, {});
      expect(cancelled).toMatchObject({ status: 'cancelled', next: null });
      const res = await refused(`/api/v1/firewall/import/${session.id}/step`, { step: 2, payload: { roles: { [brainId]: 'brain' } } }, 409);
      expect(res.error.message).toMatch(/cancelled/);
      await refused(`/api/v1/firewall/import/${session.id}/cancel`, {}, 409);
    });

    it('a step 5 the canonical checks refuse now writes nothing, keeps the error and can run again', async () => {
      // VLAN 51 on the brain overlaps canonical VLAN 50 (the reconciliation test): take 50 away, decide, put it back.
      const vlanNamed = async (tag: number): Promise<Json | undefined> =>
        ((await ok('GET', `/api/v1/firewall/vlans?site_id=${site}`)).items as Json[]).find((v) => v.vlan_id === tag);
      const remove = async (tag: number) => {
        const res = await h.call({ method: 'DELETE', url: `/api/v1/firewall/vlans/${(await vlanNamed(tag))?.id as string}`, token: h.ownerToken });
        expect(res.statusCode, res.body).toBe(204);
      };
      await remove(50);
      const session = await ok('POST', '/api/v1/firewall/import/start', { site_id: site }, 201);
      const url = `/api/v1/firewall/import/${session.id}/step`;
      await ok('POST', url, { step: 2, payload: { roles: { [brainId]: 'brain', [rosId]: 'limb', [owrtId]: 'limb' } } });
      const decided = await ok('POST', url, { step: 4, payload: { decisions: { 'vlan:51': 'adopt' } } });
      expect(decided.steps[3].result.plan.changes).toEqual([{ key: 'vlan:51', action: 'created' }]);
      await ok('POST', '/api/v1/firewall/vlans', { site_id: site, vlan_id: 50, name: 'lab', ipv4_subnet: '10.50.0.0/24' }, 201);

      const failed = await ok('POST', url, { step: 5 });
      expect(failed).toMatchObject({ status: 'in_progress', current_step: 5 });
      expect(failed.steps[4]).toMatchObject({ status: 'waiting', error: { code: 'validation_failed', field: 'decisions.vlan:51' } });
      expect(failed.steps[4].error.message).toMatch(/overlaps/);
      expect(await vlanNamed(51)).toBeUndefined();

      await remove(50);
      const done = await ok('POST', url, { step: 5 });
      expect(done).toMatchObject({ status: 'completed' });
      expect(done.steps[4]).toMatchObject({ status: 'done', error: null });
      expect(await vlanNamed(51)).toMatchObject({ name: 'LAB2', ipv4_subnet: '10.50.0.128/25' });
      // Without force the distribution is only planned: the verification says the limbs still lack VLAN 51.
      expect(done.steps[4].result.distributions).toEqual([expect.objectContaining({ vlan_id: 51, distribution: expect.objectContaining({ status: 'planned' }) })]);
      expect(done.steps[5].result.aligned).toBe(false);
      expect(done.steps[5].result.unaligned).toEqual(
        expect.arrayContaining([expect.objectContaining({ key: 'vlan:51', device_id: rosId, status: 'missing' })]),
      );
    }, 60_000);

    it('start refuses a site that does not exist (400 naming site_id); an unknown session is a 404', async () => {
      await refused('/api/v1/firewall/import/start', { site_id: '00000000-0000-4000-8000-000000000009' }, 400, 'site_id');
      await refused('/api/v1/firewall/import/start', { site: site }, 400);
      expect((await call('GET', '/api/v1/firewall/import/00000000-0000-4000-8000-000000000009')).status).toBe(404);
    });

    it('the wizard needs gateway.import: an operator is refused', async () => {
      const operator = await h.makeUser('operator-import', 'operator');
      expect((await call('POST', '/api/v1/firewall/import/start', { site_id: site }, operator.token)).status).toBe(403);
    });

    it('sessions untouched for import_retention_days are purged by the retention job', async () => {
      await ok('PATCH', '/api/v1/firewall/settings', { import_retention_days: 1 });
      const fresh = await ok('POST', '/api/v1/firewall/import/start', { site_id: site }, 201);
      const before = ((await ok('GET', '/api/v1/firewall/import')).items as Json[]).length;
      expect(before).toBeGreaterThanOrEqual(3);
      const later = serviceContext(h.store.db, h.keyring, { now: () => new Date(Date.now() + 2 * 86_400_000) });
      expect(await purgeImportSessions(later)).toBe(before);
      expect((await call('GET', `/api/v1/firewall/import/${fresh.id}`)).status).toBe(404);
      const now = serviceContext(h.store.db, h.keyring);
      expect(await purgeImportSessions(now)).toBe(0);
    });
  });
}
