/**
 * @module The distribution engine end to end (docs/orchestration.md "Distribution"): the real server on PGlite, a
 * site whose brain is the pfRest emulator and whose limbs are the RouterOS and OpenWrt emulators. A VLAN with its
 * DHCP scope, reservation and DNS record is planned, distributed (checked by reading the emulators' own state),
 * found already in place on a second run, rolled back; a fault injected at the last limb makes the saga compensate
 * every completed step (the devices are clean again), and so does an unexpected database fault (ADR 0269, a
 * compensation that fails too is recorded while the others run); a failing policy test of a limb or of the brain
 * refuses that device's write; retry, lock contention (409), lock expiry and its clean-up job, bad input (400 naming
 * the field) and permissions (403).
 */
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type OpenWrtEmulator, startOpenWrtEmulator } from '../../src/emulators/openwrt/index.ts';
import { type PfRestEmulator, startPfRestEmulator } from '../../src/emulators/pfrest/index.ts';
import { type RouterOsEmulator, startRouterOsEmulator } from '../../src/emulators/routeros/index.ts';
import type { StoredEvent } from '../../src/events/types.ts';
import { parseHostAllowList } from '../../src/net/ssrf.ts';
import { cleanupDistributionLocks } from '../../src/orchestration/distribution/index.ts';
import { distributionLocks } from '../../src/store/schema/distribution.ts';
import { testSettings } from '../access-api/harness.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { documentedAcl } from '../openwrt/adapter-harness.ts';

let pf: PfRestEmulator;
let ros: RouterOsEmulator;
let owrt: OpenWrtEmulator;
let h: TestApp;
let siteId: string;
let brainId: string;
let rosId: string;
let owrtId: string;
let vlanId: string;
let scopeId: string;
const bus: StoredEvent[] = [];

interface Step {
  tier: number;
  kind: string;
  action: string;
  status: string;
  device_id: string;
  compensation: unknown;
  verification: Record<string, unknown> | null;
  error: Record<string, unknown> | null;
}
interface Distribution {
  id: string;
  status: string;
  attempt: number;
  error: { code: string; message: string } | null;
  placement: { brain_parent: string; limbs: Record<string, { bridge: string; tagged: string[] }> };
  steps: Step[];
  history: Step[];
}

const call = (method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: object, token = h.ownerToken) =>
  h.call({ method, url, token, ...(payload ? { payload } : {}) });
const BASE = '/api/v1/firewall/distribution';

const pfVlans = () => pf.state().vlans.filter((v) => v.tag === 30);
const pfInterface = () => pf.state().interfaces.find((i) => i.if === 'vtnet1.30');
const pfMappings = () => Object.values(pf.state().dhcpStaticMappings).flat();
const pfOverrides = () => pf.state().hostOverrides.filter((o) => o.host === 'cam1');
const rosVlans = () => (ros.state().tables['interface/bridge/vlan']?.rows ?? []).filter((r) => r.values['vlan-ids'] === '30');
const owrtVlans = () => (owrt.state().config.network?.sections ?? []).filter((s) => s.type === 'bridge-vlan' && s.options.vlan === '30');

const placement = () => ({
  limbs: { [rosId]: { bridge: 'bridge', tagged: ['ether2'] }, [owrtId]: { bridge: 'br-lan', tagged: ['lan1'], untagged: ['lan3'] } },
});

async function trigger(body: Record<string, unknown>, token?: string) {
  return call('POST', `${BASE}/trigger`, { site_id: siteId, vlan_id: vlanId, placement: placement(), ...body }, token);
}

function expectClean(): void {
  expect(pfVlans()).toEqual([]);
  expect(pfInterface()).toBeUndefined();
  expect(pfMappings()).toEqual([]);
  expect(pfOverrides()).toEqual([]);
  expect(rosVlans()).toEqual([]);
  expect(owrtVlans()).toEqual([]);
}

beforeAll(async () => {
  [pf, ros, owrt] = await Promise.all([
    startPfRestEmulator(),
    startRouterOsEmulator({ dynamicFilterRule: false }),
    startOpenWrtEmulator({ reloadDelayMs: 5, aclGroups: documentedAcl() }),
  ]);
  h = await startTestApp('pglite', { readOnly: false }, { accessSettings: testSettings({ allowHosts: parseHostAllowList('127.0.0.1') }) });
  h.app.events.on((event) => bus.push(event));
  siteId = (await call('POST', '/api/v1/sites', { name: 'dist-site' })).json().id as string;
  const gateway = async (body: Record<string, unknown>) => {
    const res = await call('POST', '/api/v1/firewall/gateways', { site_id: siteId, ...body });
    expect(res.statusCode, res.body).toBe(201);
    return res.json().id as string;
  };
  brainId = await gateway({ name: 'brain', vendor: 'pfsense', url: pf.url, api_key: pf.apiKey, fingerprint_sha256: pf.fingerprint });
  rosId = await gateway({ name: 'limb-ros', vendor: 'routeros', url: ros.url, ...ros.credentials, fingerprint_sha256: ros.fingerprint });
  const login = owrt.users.find((u) => u.username === 'portcullis');
  if (login === undefined) throw new Error('the OpenWrt emulator has no portcullis login');
  owrtId = await gateway({ name: 'limb-owrt', vendor: 'openwrt', url: owrt.url, username: login.username, password: login.password, fingerprint_sha256: owrt.fingerprint });
  const topo = await call('PUT', `/api/v1/firewall/topology/${siteId}`, {
    assignments: [
      { gateway_id: brainId, role: 'brain' },
      { gateway_id: rosId, role: 'limb' },
      { gateway_id: owrtId, role: 'limb' },
    ],
  });
  expect(topo.statusCode, topo.body).toBe(200);
  const vlan = await call('POST', '/api/v1/firewall/vlans', { site_id: siteId, vlan_id: 30, name: 'cameras', ipv4_subnet: '10.30.0.0/24' });
  expect(vlan.statusCode, vlan.body).toBe(201);
  vlanId = vlan.json().id;
  const scope = await call('POST', '/api/v1/firewall/dhcp/scopes', { canonical_vlan_id: vlanId, range_start: '10.30.0.100', range_end: '10.30.0.199' });
  expect(scope.statusCode, scope.body).toBe(201);
  const reservation = await call('POST', '/api/v1/firewall/dhcp/reservations', {
    scope_id: scope.json().id,
    mac: 'aa:bb:cc:00:00:30',
    // Outside the pool, inside the subnet: pfSense refuses a static mapping inside its DHCP range (ADR 0290).
    ip_address: '10.30.0.50',
    hostname: 'cam1',
  });
  expect(reservation.statusCode, reservation.body).toBe(201);
  scopeId = scope.json().id;
  const dns = await call('POST', '/api/v1/firewall/dns/records', { site_id: siteId, host: 'cam1', domain: 'example.lan', ip_address: '10.30.0.150' });
  expect(dns.statusCode, dns.body).toBe(201);
}, 120_000);

afterAll(async () => {
  await h?.close();
  await Promise.all([pf?.close(), ros?.close(), owrt?.close()]);
});

describe('distribution of a canonical VLAN to a pfSense brain and RouterOS + OpenWrt limbs', () => {
  it('without force it is only planned: tier 0 read, every step shown as a create, nothing written', async () => {
    const res = await trigger({});
    expect(res.statusCode, res.body).toBe(201);
    const d = res.json<Distribution>();
    expect(d.status).toBe('planned');
    expect(d.placement.brain_parent).toBe('vtnet1'); // worked out: the brain's lan port
    expect(d.steps.map((s) => [s.tier, s.kind, s.action])).toEqual([
      [0, 'reachability', 'check'],
      [0, 'reachability', 'check'],
      [0, 'reachability', 'check'],
      [1, 'vlan_interface', 'create'],
      [1, 'dhcp_scope', 'create'],
      [1, 'dhcp_static_mapping', 'create'],
      [1, 'dns_override', 'create'],
      [2, 'bridge_vlan', 'create'],
      [3, 'bridge_vlan', 'create'],
    ]);
    expectClean();
  });

  it('a reservation inside the pool is refused for the pfSense brain before any write, naming the field', async () => {
    const inPool = await call('POST', '/api/v1/firewall/dhcp/reservations', { scope_id: scopeId, mac: 'aa:bb:cc:00:00:31', ip_address: '10.30.0.150' });
    expect(inPool.statusCode, inPool.body).toBe(201);
    try {
      for (const force of [false, true]) {
        const res = await trigger({ force });
        expect(res.statusCode, res.body).toBe(201);
        const d = res.json<Distribution & { error: { field?: string } }>();
        expect(d.status).toBe(force ? 'failed' : 'planned');
        // n is the reservation's position in the VLAN's scope (GET /vlans/{id}, ordered by the address text).
        expect(d.error).toMatchObject({ code: 'reservation_in_pool', field: 'reservations.0.ip_address' });
        expect(d.error?.message).toMatch(/10\.30\.0\.150.*inside the DHCP pool 10\.30\.0\.100-10\.30\.0\.199.*pfSense refuses.*pfrest-contract\.md/);
        expect(d.steps).toEqual([]);
        expectClean();
      }
    } finally {
      expect((await call('DELETE', `/api/v1/firewall/dhcp/reservations/${inPool.json().id as string}`)).statusCode).toBe(204);
    }
  });

  it('with force every tier runs and is verified; the devices hold the VLAN; a second run is all no-ops', async () => {
    const res = await trigger({ force: true });
    expect(res.statusCode, res.body).toBe(201);
    const d = res.json<Distribution>();
    expect(d.status, JSON.stringify(d.error)).toBe('completed');
    expect(d.steps.every((s) => s.status === 'done')).toBe(true);
    for (const step of d.steps.filter((s) => s.tier > 0)) {
      expect(step.verification).toMatchObject({ ok: true });
      expect(step.compensation).toMatchObject({ op: 'delete' });
    }
    expect(pfVlans()).toEqual([expect.objectContaining({ if: 'vtnet1', tag: 30 })]);
    const iface = pfInterface();
    expect(iface).toMatchObject({ descr: 'cameras', ipaddr: '10.30.0.1', subnet: 24, enable: true });
    expect(pf.state().dhcpServers[iface?.id as string]).toMatchObject({ range_from: '10.30.0.100', range_to: '10.30.0.199', enable: true });
    expect(pfMappings()).toEqual([expect.objectContaining({ mac: 'aa:bb:cc:00:00:30', ipaddr: '10.30.0.50', hostname: 'cam1' })]);
    expect(pfOverrides()).toEqual([expect.objectContaining({ domain: 'example.lan', ip: ['10.30.0.150'] })]);
    expect(rosVlans().map((r) => r.values)).toEqual([expect.objectContaining({ bridge: 'bridge', tagged: 'ether2' })]);
    expect(owrtVlans().map((s) => s.options)).toEqual([{ device: 'br-lan', vlan: '30', ports: ['lan1:t', 'lan3:u*'] }]);
    expect(bus.some((e) => e.type === 'distribution.completed' && e.payload.distribution_id === d.id)).toBe(true);

    const again = (await trigger({ force: true })).json<Distribution>();
    expect(again.status).toBe('completed');
    expect(again.steps.filter((s) => s.tier > 0).map((s) => s.action)).toEqual(Array(6).fill('noop'));
    expect(again.steps.every((s) => s.compensation === null)).toBe(true);
    // Its rollback has nothing to undo; the first one's removes everything, verified on each device.
    expect((await call('POST', `${BASE}/${again.id}/rollback`, { confirmed: true })).statusCode).toBe(409);
    const refused = await call('POST', `${BASE}/${d.id}/rollback`, {});
    expect(refused.statusCode).toBe(400);
    expect(refused.json().error.field).toBe('confirmed');
    const back = await call('POST', `${BASE}/${d.id}/rollback`, { confirmed: true });
    expect(back.statusCode, back.body).toBe(200);
    const rolled = back.json<Distribution>();
    expect(rolled.status).toBe('rolled_back');
    expect(rolled.steps.filter((s) => s.tier > 0).map((s) => s.status)).toEqual(Array(6).fill('compensated'));
    expectClean();
  });

  it('a fault at the last limb compensates every completed step, newest first, verified on the devices; retry then completes', async () => {
    // Limbs run in name order: limb-owrt (tier 2), then limb-ros (tier 3), the last one, which refuses the create.
    ros.fault({ kind: 'status', status: 500, detail: 'failure: not enough permissions', path: '/interface/bridge/vlan', method: 'PUT', times: 1_000 });
    const res = await trigger({ force: true });
    expect(res.statusCode, res.body).toBe(201);
    const d = res.json<Distribution>();
    expect(d.status).toBe('failed');
    expect(d.error?.message).toContain('Every completed step was compensated');
    const byKind = d.steps.filter((s) => s.tier > 0).map((s) => [s.kind, s.status]);
    expect(byKind).toEqual([
      ['vlan_interface', 'compensated'],
      ['dhcp_scope', 'compensated'],
      ['dhcp_static_mapping', 'compensated'],
      ['dns_override', 'compensated'],
      ['bridge_vlan', 'compensated'],
      ['bridge_vlan', 'failed'],
    ]);
    for (const step of d.steps.filter((s) => s.status === 'compensated')) expect(step.verification).toMatchObject({ ok: true, read_back: 'absent' });
    expectClean();
    expect(bus.some((e) => e.type === 'distribution.failed' && e.payload.distribution_id === d.id)).toBe(true);

    ros.clearFaults();
    const retried = await call('POST', `${BASE}/${d.id}/retry`, {});
    expect(retried.statusCode, retried.body).toBe(200);
    const r = retried.json<Distribution>();
    expect(r).toMatchObject({ status: 'completed', attempt: 2 });
    expect(r.history.length).toBe(d.steps.length);
    expect(rosVlans()).toHaveLength(1);
    expect(owrtVlans()).toHaveLength(1);
    expect(pfVlans()).toHaveLength(1);
    expect((await call('POST', `${BASE}/${d.id}/rollback`, { confirmed: true })).json<Distribution>().status).toBe('rolled_back');
    expectClean();
  });

  it('an unexpected error after completed steps still compensates them; a compensation that fails is recorded and the rest run', async () => {
    // A real fault below the saga: the database refuses the limb-ros write's pending change (not a device refusal,
    // not a domain error) and, during the unwind, the DNS override's compensation (ADR 0269).
    await h.store.db.execute(sql`create function distfix_refuse() returns trigger language plpgsql as $$
      begin raise exception 'injected database fault'; end $$`);
    await h.store.db.execute(sql`create trigger distfix_refuse before insert on pending_changes for each row
      when ((new.device_id = ${sql.raw(`'${rosId}'`)} and new.operation = 'create') or (new.target_type = 'dns_override' and new.operation = 'delete'))
      execute function distfix_refuse()`);
    let d: Distribution;
    try {
      const res = await trigger({ force: true });
      expect(res.statusCode, res.body).toBe(500);
      expect(res.body).not.toContain('injected database fault');
      const list = (await call('GET', `${BASE}?site_id=${siteId}`)).json<{ items: Array<{ id: string; created_at: string }> }>();
      const latest = [...list.items].sort((a, b) => b.created_at.localeCompare(a.created_at))[0];
      d = (await call('GET', `${BASE}/${latest?.id}`)).json<Distribution>();
    } finally {
      await h.store.db.execute(sql`drop trigger distfix_refuse on pending_changes`);
      await h.store.db.execute(sql`drop function distfix_refuse()`);
    }
    expect(d.status).toBe('rollback_failed');
    expect(d.error).toMatchObject({ code: 'internal' });
    expect(d.error?.message).toContain('Some compensations failed');
    expect(d.steps.filter((s) => s.tier > 0).map((s) => [s.kind, s.status, s.error?.code ?? null])).toEqual([
      ['vlan_interface', 'compensated', null],
      ['dhcp_scope', 'compensated', null],
      ['dhcp_static_mapping', 'compensated', null],
      ['dns_override', 'compensation_failed', 'internal'],
      ['bridge_vlan', 'compensated', null],
      ['bridge_vlan', 'failed', 'internal'],
    ]);
    expect(JSON.stringify(d.steps)).not.toContain('injected database fault');
    // Every other compensation ran and was read back: only the override the database refused to undo is left.
    expect(pfVlans()).toEqual([]);
    expect(pfMappings()).toEqual([]);
    expect(owrtVlans()).toEqual([]);
    expect(rosVlans()).toEqual([]);
    expect(pfOverrides()).toHaveLength(1);
    // The fault gone, a rollback finishes the job.
    const back = await call('POST', `${BASE}/${d.id}/rollback`, { confirmed: true });
    expect(back.statusCode, back.body).toBe(200);
    expect(back.json<Distribution>().status).toBe('rolled_back');
    expectClean();
  });

  it('a policy test of the last limb that fails refuses its write: the distribution fails there and every completed step is undone', async () => {
    // The gate runs a gateway's tests on the configuration any forced write leaves; a VLAN write changes no rule, so
    // a test already failing on the limb refuses it (docs/orchestration.md "Distribution", policy tests).
    const tests = {
      version: 1,
      flows: [{ name: 'the monitor reaches the limb', interface: 'ether1', protocol: 'tcp', source: '10.9.9.9', destination: '10.9.9.1', destination_port: 8291, expect: 'pass' }],
    };
    expect((await call('PUT', `/api/v1/firewall/gateways/${rosId}/policy-tests`, tests)).statusCode).toBe(200);
    let d: Distribution;
    try {
      const res = await trigger({ force: true });
      expect(res.statusCode, res.body).toBe(201);
      d = res.json<Distribution>();
    } finally {
      await call('PUT', `/api/v1/firewall/gateways/${rosId}/policy-tests`, { version: 1, flows: [] });
    }
    expect(d.status).toBe('failed');
    expect(d.error).toMatchObject({ code: 'policy_tests' });
    expect(d.error?.message).toContain('the monitor reaches the limb');
    const failed = d.steps.find((s) => s.status === 'failed');
    expect(failed).toMatchObject({ kind: 'bridge_vlan', device_id: rosId, error: { code: 'policy_tests' } });
    expect(String(failed?.error?.message)).toContain('the monitor reaches the limb');
    expect(d.steps.filter((s) => s.tier > 0 && s !== failed).every((s) => s.status === 'compensated')).toBe(true);
    expectClean();
  });

  it('a policy test of the brain that fails stops the distribution at its first write: nothing is written anywhere', async () => {
    const tests = {
      version: 1,
      flows: [{ name: 'no SSH from the internet', interface: 'wan', protocol: 'tcp', source: '93.184.216.34', destination: '192.168.1.1', destination_port: 22, expect: 'pass' }],
    };
    expect((await call('PUT', `/api/v1/firewall/gateways/${brainId}/policy-tests`, tests)).statusCode).toBe(200);
    pf.clearRequests();
    let d: Distribution;
    try {
      d = (await trigger({ force: true })).json<Distribution>();
    } finally {
      await call('PUT', `/api/v1/firewall/gateways/${brainId}/policy-tests`, { version: 1, flows: [] });
    }
    expect(d).toMatchObject({ status: 'failed', error: { code: 'policy_tests' } });
    expect(d.error?.message).toContain('no SSH from the internet');
    expect(d.steps.filter((s) => s.tier > 0).map((s) => s.status)).toEqual(['failed', 'skipped', 'skipped', 'skipped', 'skipped', 'skipped']);
    expect(pf.requests().filter((r) => r.method !== 'GET')).toEqual([]);
    expectClean();
  });

  it('one distribution per site: a held lock is a 409 naming the holder; expired, the clean-up job removes it', async () => {
    const planned = (await trigger({})).json<Distribution>();
    const now = new Date();
    await h.store.db.insert(distributionLocks).values({
      siteId,
      orgId: (await h.store.db.select().from(distributionLocks)).at(0)?.orgId ?? (await orgOf()),
      distributionId: planned.id,
      acquiredAt: now,
      expiresAt: new Date(now.getTime() + 300_000),
    });
    const busy = await trigger({ force: true });
    expect(busy.statusCode).toBe(409);
    expect(busy.json().error.message).toContain(planned.id);
    expect((await call('POST', `${BASE}/${planned.id}/retry`, {})).statusCode).toBe(409);
    // Not yet expired: the job leaves it.
    expect(await cleanupDistributionLocks({ db: h.store.db, events: null }, now)).toEqual([]);
    expect(await cleanupDistributionLocks({ db: h.store.db, events: null }, new Date(now.getTime() + 301_000))).toEqual([planned.id]);
    expect(await h.store.db.select().from(distributionLocks).where(eq(distributionLocks.siteId, siteId))).toEqual([]);
    const run = await call('POST', `${BASE}/${planned.id}/retry`, {});
    expect(run.json<Distribution>().status).toBe('completed');
    expect((await call('POST', `${BASE}/${planned.id}/rollback`, { confirmed: true })).json<Distribution>().status).toBe('rolled_back');
    expectClean();
  });

  it('two triggers at once: one runs, the other is a 409 naming it', async () => {
    const [a, b] = await Promise.all([trigger({ force: true }), trigger({ force: true })]);
    const codes = [a.statusCode, b.statusCode].sort();
    expect(codes).toEqual([201, 409]);
    const winner = (a.statusCode === 201 ? a : b).json<Distribution>();
    const loser = (a.statusCode === 201 ? b : a).json<{ error: { message: string; field: string } }>();
    expect(winner.status).toBe('completed');
    expect(loser.error).toMatchObject({ field: 'site_id' });
    expect(loser.error.message).toContain(winner.id);
    expect((await call('POST', `${BASE}/${winner.id}/rollback`, { confirmed: true })).json<Distribution>().status).toBe('rolled_back');
    expectClean();
  });

  it('an expired lock of a distribution that was running fails it (lock_expired)', async () => {
    const planned = (await trigger({})).json<Distribution>();
    const [site] = await h.store.db.select().from(distributionLocks);
    expect(site).toBeUndefined();
    await h.store.db.insert(distributionLocks).values({ siteId, orgId: await orgOf(), distributionId: planned.id, acquiredAt: new Date(0), expiresAt: new Date(1000) });
    const { distributions } = await import('../../src/store/schema/distribution.ts');
    await h.store.db.update(distributions).set({ status: 'running' }).where(eq(distributions.id, planned.id));
    expect(await cleanupDistributionLocks({ db: h.store.db, events: h.app.events })).toEqual([planned.id]);
    const after = (await call('GET', `${BASE}/${planned.id}`)).json<Distribution>();
    expect(after).toMatchObject({ status: 'failed', error: { code: 'lock_expired' } });
  });

  it.each([
    [{ vlan_id: 'nope' }, 'vlan_id'],
    [{ site_id: 'nope' }, 'site_id'],
    [{ vlan_id: '00000000-0000-4000-8000-000000000000' }, 'vlan_id'],
    [{ placement: { brain_parent: 'bad port!' } }, 'placement.brain_parent'],
    [{ placement: { limbs: { '00000000-0000-4000-8000-000000000001': { bridge: 'x' } } } }, 'placement.limbs.00000000-0000-4000-8000-000000000001'],
  ])('refuses %j with 400 naming %s', async (body, field) => {
    const res = await trigger(body);
    expect(res.statusCode, res.body).toBe(400);
    expect(res.json().error.field).toBe(field);
  });

  it('lists and details need gateway.view; trigger, retry and rollback need gateway.distribute (viewer: 403)', async () => {
    const viewer = await h.makeUser('dist-viewer', 'viewer');
    const list = await call('GET', `${BASE}?site_id=${siteId}`, undefined, viewer.token);
    expect(list.statusCode).toBe(200);
    expect(list.json().total).toBeGreaterThan(0);
    expect((await trigger({}, viewer.token)).statusCode).toBe(403);
    const id = list.json().items[0].id as string;
    expect((await call('GET', `${BASE}/${id}`, undefined, viewer.token)).statusCode).toBe(200);
    expect((await call('POST', `${BASE}/${id}/rollback`, { confirmed: true }, viewer.token)).statusCode).toBe(403);
    const elsewhere = await h.makeUser('dist-op-elsewhere', 'operator', [(await call('POST', '/api/v1/sites', { name: 'other' })).json().id]);
    expect((await call('GET', `${BASE}/${id}`, undefined, elsewhere.token)).statusCode).toBe(404);
    const hidden = await trigger({}, elsewhere.token);
    expect(hidden.statusCode).toBe(400);
    expect(hidden.json().error.field).toBe('site_id');
  });
});

async function orgOf(): Promise<string> {
  const { sites } = await import('../../src/store/schema/tenancy.ts');
  const [site] = await h.store.db.select({ orgId: sites.orgId }).from(sites).where(eq(sites.id, siteId));
  return site?.orgId as string;
}
