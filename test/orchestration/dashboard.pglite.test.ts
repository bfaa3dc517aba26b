/**
 * The orchestration dashboard (`GET /api/v1/firewall/dashboard/overview`, docs/reference/freesdn-firewall-module.md
 * §18) on a real app and store (PGlite): a site whose brain is the OPNsense emulator, synced through the real
 * sync, with canonical VLANs. The roll-up counts and the brain's cached snapshots match what the sync stored (the
 * dashboard itself calls no device), and a user limited to another site sees nothing of it (§21). The CLI
 * (`portcullis dashboard`, human and --json) runs as a script would, against the app on loopback.
 */
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OpnSenseAdapter, opnsenseVendor } from '../../src/adapters/opnsense/index.ts';
import { startOpnsenseEmulator, type OpnsenseEmulator } from '../../src/emulators/opnsense/index.ts';
import { syncGateway } from '../../src/firewall/sync.ts';
import { dashboardOverview, DHCP_LEASES_ABSENT } from '../../src/orchestration/dashboard.ts';
import { gateways } from '../../src/store/schema/access.ts';
import { driftEvents } from '../../src/store/schema/drift.ts';
import { DEFAULT_ORG_ID } from '../../src/store/schema/tenancy.ts';
import { startFirewallHarness, type FirewallHarness } from '../firewall/harness.ts';
import { testContext } from '../helpers/store.ts';

const OVERVIEW = '/api/v1/firewall/dashboard/overview';
let h: FirewallHarness;
let emu: OpnsenseEmulator;
let adapter: OpnSenseAdapter;
let site: string;
let brain: string;

beforeAll(async () => {
  h = await startFirewallHarness('pglite');
  emu = await startOpnsenseEmulator({ version: '26.7' });
  adapter = new OpnSenseAdapter({
    url: emu.url,
    apiKey: emu.credentials.key,
    apiSecret: emu.credentials.secret,
    tls: { mode: 'fingerprint', sha256: emu.fingerprint },
  });
  site = await h.site('dash-site');
  const [gw] = await h.store.db
    .insert(gateways)
    .values({ orgId: DEFAULT_ORG_ID, siteId: site, name: 'dash-brain', vendor: 'opnsense', url: emu.url })
    .returning();
  brain = gw?.id as string;
  emu.addAlerts([
    { timestamp: '2026-12-07T03:01:00.000000+0000', flow_id: 1, event_type: 'alert', alert: { signature: 'ET SCAN Dashboard probe', signature_id: 2000537, action: 'blocked', severity: 2, category: 'Attempted Information Leak' }, src_ip: '203.0.113.9', src_port: 4444, dest_ip: '10.0.0.1', dest_port: 22, proto: 'TCP' },
  ]);
  await adapter.call({ code: 'OPN500', what: 'seed a rule' }, 'POST', '/api/firewall/filter/add_rule', {
    rule: { action: 'block', interface: 'lan', source_net: '192.0.2.0/24', description: 'dashboard seed' },
  });
  const live = opnsenseVendor.live?.open(adapter);
  if (!live) throw new Error('no live view');
  await syncGateway(testContext(h.store), null, brain, async () => ({ vendor: opnsenseVendor, live }), { fullSync: true });
  await h.ok('PUT', `/api/v1/firewall/topology/${site}`, { assignments: [{ gateway_id: brain, role: 'brain' }] });
  await h.ok('POST', '/api/v1/firewall/vlans', { site_id: site, vlan_id: 10, name: 'staff', ipv4_subnet: '10.10.0.0/24' }, 201);
  await h.ok('POST', '/api/v1/firewall/vlans', { site_id: site, vlan_id: 20, name: 'guests' }, 201);
  // One open drift event on the brain, as a drift check records it.
  await h.store.db.insert(driftEvents).values({
    orgId: DEFAULT_ORG_ID,
    siteId: site,
    deviceId: brain,
    resourceType: 'alias',
    resourceKey: 'by_hand',
    resourceName: 'by_hand',
    driftType: 'resource_added',
    severity: 'warning',
    message: 'alias by_hand exists on the device only',
    actualHash: 'h',
  });
}, 60_000);
afterAll(async () => {
  await adapter?.close();
  await emu?.close();
  await h?.close();
});

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const env = { ...process.env };
    delete env.PORTCULLIS_TOKEN;
    const child = spawn(process.execPath, ['bin/portcullis.js', ...args], { cwd: new URL('../../', import.meta.url).pathname, env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

const rowCount = async (table: string) =>
  Number((await h.store.query<{ n: string }>(`select count(*) as n from ${table} where device_id = $1`, [brain]))[0]?.n);

describe('dashboard overview', () => {
  it('rolls up gateways, role maps, canonical VLANs and drift, with the brain\u2019s cached snapshots', async () => {
    // A second, unorchestrated site: its gateway counts, it adds no orchestrated site.
    await h.gateway(await h.site());
    const body = await h.ok('GET', OVERVIEW);
    expect(body.gateways.total).toBe(2);
    expect(body.gateways.never_synced).toBe(1);
    expect(body.sites_with_orchestration).toBe(1);
    expect(body.canonical_vlans).toBe(2);
    expect(body.drift).toMatchObject({ total: 1, pending: 1, warning: 1, pending_by_severity: { warning: 1 } });
    expect(body.sites).toHaveLength(1);
    const mine = body.sites[0];
    expect(mine).toMatchObject({ site_id: site, site_name: 'dash-site', limbs: 0, canonical_vlans: 2 });
    expect(mine.brain).toMatchObject({ gateway_id: brain, vendor: 'opnsense', sync_status: 'ok' });
    expect(Date.parse(mine.brain.last_sync_at)).not.toBeNaN();

    const snap = mine.snapshots;
    // The snapshots are the synced tables: counts equal the stored rows, and a sync time is given.
    const rules = await rowCount('firewall_rules');
    expect(rules).toBeGreaterThan(0);
    expect(snap.rules.count).toBe(rules);
    expect(snap.rules.items).toHaveLength(Math.min(rules, 50));
    expect(Date.parse(snap.rules.last_synced_at)).not.toBeNaN();
    expect(snap.rules.items.map((r: { description: string }) => r.description)).toContain('dashboard seed');
    expect(snap.nat.count).toBe(await rowCount('firewall_nat_rules'));
    const interfaces = await rowCount('firewall_interfaces');
    expect(interfaces).toBeGreaterThan(0);
    expect(snap.interfaces.count).toBe(interfaces);
    expect(snap.interfaces.items.map((i: { vendor_interface_id: string }) => i.vendor_interface_id)).toContain('lan');
    // OPNsense's adapter reads no VPN (docs/opnsense.md): an empty snapshot, never synced.
    expect(snap.vpn_tunnels).toEqual({ count: 0, last_synced_at: null, items: [] });
    expect(snap.ids_events.count).toBe(1);
    expect(snap.ids_events.items[0]).toMatchObject({ signature: 'ET SCAN Dashboard probe', source_ip: '203.0.113.9', action_taken: 'blocked' });
    expect(snap.dhcp_leases).toEqual({ available: false, reason: DHCP_LEASES_ABSENT });
  });

  it('shows a user limited to another site nothing of this one', async () => {
    const other = await h.site();
    const outsider = await h.makeUser('dash-outsider', 'admin', [other]);
    const res = await h.call({ method: 'GET', url: OVERVIEW, token: outsider.token });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.sites).toEqual([]);
    expect(body.sites_with_orchestration).toBe(0);
    expect(body.canonical_vlans).toBe(0);
    expect(body.gateways.total).toBe(0);
    expect(body.drift.total).toBe(0);
    expect(JSON.stringify(body)).not.toContain(brain);
    // Without any grant on the overview's permission, the route answers 403.
    const noRole = await h.makeUser('dash-nobody');
    expect((await h.call({ method: 'GET', url: OVERVIEW, token: noRole.token })).statusCode).toBe(403);
  });

  it('leaves out the snapshots of a site where the caller lacks firewall.view, keeping the roll-up', async () => {
    const overview = await dashboardOverview(testContext(h.store), { view: [site], drift: [], firewall: [] });
    expect(overview.sites_with_orchestration).toBe(1);
    expect(overview.canonical_vlans).toBe(2);
    expect(overview.gateways.total).toBe(1);
    expect(overview.sites[0]?.brain?.gateway_id).toBe(brain);
    expect(overview.sites[0]?.snapshots).toBeNull();
    // Without gateway.drift on the site, its drift is not counted.
    expect(overview.drift.total).toBe(0);
  });

  it('is printed by `portcullis dashboard` for people and, with --json, for scripts', async () => {
    const url = await h.app.listen({ host: '127.0.0.1', port: 0 });
    const auth = ['--url', url, '--token', h.ownerToken];
    const json = await cli(['dashboard', ...auth, '--json']);
    expect(json.stderr).toBe('');
    expect(json.code).toBe(0);
    const parsed = JSON.parse(json.stdout);
    expect(parsed.sites_with_orchestration).toBe(1);
    expect(parsed.sites[0].snapshots.ids_events.items[0].signature).toBe('ET SCAN Dashboard probe');
    const human = await cli(['dashboard', ...auth]);
    expect(human.code).toBe(0);
    expect(human.stdout).toContain('sites with orchestration: 1; canonical VLANs: 2');
    expect(human.stdout).toMatch(/dash-site\s*│\s*dash-brain \(opnsense\)\s*│\s*ok/);
    const refused = await cli(['dashboard', '--url', url, '--token', 'not-a-token', '--json']);
    expect(refused.code).toBe(1);
    expect(JSON.parse(refused.stderr).error.code).toMatch(/^PC_ERR_/);
  }, 60_000);
});
