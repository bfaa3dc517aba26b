/**
 * The orchestration API on a real app and store (PGlite): the site role map (one brain, limbs by capability,
 * authority map defaults), canonical VLANs, DHCP scopes and reservations, DNS records and templates, with their
 * validation edge cases (each a 400 naming the field), site scoping and the audit trail.
 */
import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGateway } from '../../src/firewall/gateways.ts';
import { parseHostAllowList } from '../../src/net/ssrf.ts';
import { startFirewallHarness, type FirewallHarness } from '../firewall/harness.ts';
import { testContext } from '../helpers/store.ts';

let h: FirewallHarness;
let n = 0;

const CREDENTIALS: Record<string, Record<string, string>> = {
  pfsense: { api_key: 'k' },
  opnsense: { api_key: 'k', api_secret: 's' },
  routeros: { username: 'admin', password: 'p' },
  openwrt: { username: 'root', password: 'p' },
  nftables: {
    username: 'root',
    ssh_private_key: generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  },
};

async function gateway(siteId: string, vendor: string): Promise<string> {
  const ctx = testContext(h.store, { keyring: h.keyring });
  n++;
  const gw = await createGateway(
    ctx,
    {
      name: `${vendor}-${n}`,
      vendor,
      site_id: siteId,
      url: vendor === 'nftables' ? `ssh://192.0.2.${n}:22` : `https://192.0.2.${n}`,
      ...CREDENTIALS[vendor],
    },
    { allowHosts: parseHostAllowList('') },
  );
  return gw.id;
}

/** Calls the API as the owner and returns status and body. */
async function call(method: string, url: string, payload?: unknown, token = h.ownerToken) {
  const res = await h.call({ method: method, url, token, ...(payload !== undefined ? { payload: payload as object } : {}) });
  return { status: res.statusCode, body: res.body ? res.json() : null };
}

async function expect400(method: string, url: string, payload: unknown, field: string, message?: RegExp) {
  const res = await call(method, url, payload);
  expect(res.status, JSON.stringify(res.body)).toBe(400);
  expect(res.body.error.field).toBe(field);
  if (message) expect(res.body.error.message).toMatch(message);
}

beforeAll(async () => {
  h = await startFirewallHarness('pglite');
});
afterAll(async () => h?.close());

describe('site role map', () => {
  it('stores one brain and limbs with the default authority map, and removes it', async () => {
    const site = await h.site();
    const brain = await gateway(site, 'opnsense');
    const ros = await gateway(site, 'routeros');
    const owrt = await gateway(site, 'openwrt');
    expect((await call('GET', `/api/v1/firewall/topology/${site}`)).status).toBe(404);
    const body = {
      assignments: [
        { gateway_id: brain, role: 'brain' },
        { gateway_id: ros, role: 'limb' },
        { gateway_id: owrt, role: 'limb' },
      ],
    };
    const put = await h.ok('PUT', `/api/v1/firewall/topology/${site}`, body);
    expect(put.brain).toMatchObject({ gateway_id: brain, vendor: 'opnsense', role: 'brain' });
    expect(put.limbs.map((l: { gateway_id: string }) => l.gateway_id).sort()).toEqual([ros, owrt].sort());
    expect(put.authority_map).toEqual({
      vlan_interface: 'brain',
      dhcp: 'brain',
      dns: 'brain',
      firewall_rule: 'brain',
      nat: 'brain',
      vpn: 'brain',
      vlan_l2: 'portcullis',
      port_profile: 'limb',
      ssid: 'limb',
      poe: 'limb',
    });
    const got = await h.ok('GET', `/api/v1/firewall/topology/${site}`);
    expect(got.brain.gateway_id).toBe(brain);
    expect(await h.ok('POST', `/api/v1/firewall/topology/${site}/validate`)).toEqual({ valid: true, problems: [] });

    const changed = await h.ok('PUT', `/api/v1/firewall/topology/${site}`, {
      assignments: [{ gateway_id: brain, role: 'brain' }],
      authority_map: { dns: 'portcullis' },
    });
    expect(changed.limbs).toEqual([]);
    expect(changed.authority_map.dns).toBe('portcullis');
    expect(changed.authority_map.dhcp).toBe('brain');

    await h.ok('DELETE', `/api/v1/firewall/topology/${site}`, undefined, 204);
    expect((await call('GET', `/api/v1/firewall/topology/${site}`)).status).toBe(404);
    expect((await call('DELETE', `/api/v1/firewall/topology/${site}`)).status).toBe(404);
  });

  it('refuses a second brain, a missing brain, wrong vendors, foreign and duplicate gateways', async () => {
    const site = await h.site();
    const other = await h.site();
    const pf = await gateway(site, 'pfsense');
    const opn = await gateway(site, 'opnsense');
    const ros = await gateway(site, 'routeros');
    const nft = await gateway(site, 'nftables');
    const elsewhere = await gateway(other, 'routeros');
    const url = `/api/v1/firewall/topology/${site}`;
    await expect400(
      'PUT',
      url,
      { assignments: [{ gateway_id: pf, role: 'brain' }, { gateway_id: opn, role: 'brain' }] },
      'assignments.1.role',
      /exactly one brain/,
    );
    await expect400('PUT', url, { assignments: [{ gateway_id: ros, role: 'limb' }] }, 'assignments', /one brain/);
    await expect400(
      'PUT',
      url,
      { assignments: [{ gateway_id: ros, role: 'brain' }] },
      'assignments.0.role',
      /lacks capability l3_authority/,
    );
    await expect400(
      'PUT',
      url,
      { assignments: [{ gateway_id: pf, role: 'brain' }, { gateway_id: opn, role: 'limb' }] },
      'assignments.1.role',
      /lacks capability read.bridge_vlans/,
    );
    await expect400(
      'PUT',
      url,
      { assignments: [{ gateway_id: pf, role: 'brain' }, { gateway_id: nft, role: 'limb' }] },
      'assignments.1.role',
      /write.bridge_vlans/,
    );
    await expect400(
      'PUT',
      url,
      { assignments: [{ gateway_id: pf, role: 'brain' }, { gateway_id: elsewhere, role: 'limb' }] },
      'assignments.1.gateway_id',
      /at this site/,
    );
    await expect400(
      'PUT',
      url,
      { assignments: [{ gateway_id: pf, role: 'brain' }, { gateway_id: pf, role: 'limb' }] },
      'assignments.1.gateway_id',
    );
    await expect400('PUT', url, { assignments: [{ gateway_id: pf, role: 'king' }] }, 'assignments.0.role');
    await expect400(
      'PUT',
      url,
      { assignments: [{ gateway_id: pf, role: 'brain' }], authority_map: { dns: 'limb', teleport: 'brain' } },
      'authority_map.teleport',
    );
    await expect400(
      'PUT',
      url,
      { assignments: [{ gateway_id: pf, role: 'brain' }], authority_map: { dns: 'someone' } },
      'authority_map.dns',
    );
    // Nothing was stored by the refusals.
    expect((await call('GET', url)).status).toBe(404);

    const report = await h.ok('POST', `${url}/validate`, {
      assignments: [
        { gateway_id: pf, role: 'brain' },
        { gateway_id: opn, role: 'brain' },
        { gateway_id: nft, role: 'limb' },
      ],
    });
    expect(report.valid).toBe(false);
    expect(report.problems.map((p: { field: string }) => p.field)).toEqual(['assignments.1.role', 'assignments.2.role']);
    expect((await h.ok('POST', `${url}/validate`)).problems[0].message).toMatch(/no role map/);
  });

  it('reports a stored map gone bad when its brain is deleted', async () => {
    const site = await h.site();
    const pf = await gateway(site, 'pfsense');
    await h.ok('PUT', `/api/v1/firewall/topology/${site}`, { assignments: [{ gateway_id: pf, role: 'brain' }] });
    await h.ok('DELETE', `/api/v1/firewall/gateways/${pf}`, undefined, 204);
    const report = await h.ok('POST', `/api/v1/firewall/topology/${site}/validate`);
    expect(report.valid).toBe(false);
    expect(report.problems[0].field).toBe('assignments.0.gateway_id');
  });

  it('is scoped to the caller\u2019s sites', async () => {
    const mine = await h.site();
    const theirs = await h.site();
    const pf = await gateway(theirs, 'pfsense');
    await h.ok('PUT', `/api/v1/firewall/topology/${theirs}`, { assignments: [{ gateway_id: pf, role: 'brain' }] });
    const admin = await h.makeUser(`topo-admin-${++n}`, 'admin', [mine]);
    const viewer = await h.makeUser(`topo-viewer-${++n}`, 'viewer');
    expect((await call('GET', `/api/v1/firewall/topology/${theirs}`, undefined, admin.token)).status).toBe(404);
    expect((await call('DELETE', `/api/v1/firewall/topology/${theirs}`, undefined, admin.token)).status).toBe(404);
    expect((await call('GET', `/api/v1/firewall/topology/${theirs}`, undefined, viewer.token)).status).toBe(200);
    expect((await call('DELETE', `/api/v1/firewall/topology/${theirs}`, undefined, viewer.token)).status).toBe(403);
  });
});

describe('canonical VLANs', () => {
  it('checks VLAN id boundaries 1 and 4094 and refuses 0, 4095 and non-integers', async () => {
    const site = await h.site();
    for (const vlanId of [1, 4094]) {
      await h.ok('POST', '/api/v1/firewall/vlans', { site_id: site, vlan_id: vlanId, name: `v${vlanId}` }, 201);
    }
    for (const vlanId of [0, 4095, -1]) {
      await expect400('POST', '/api/v1/firewall/vlans', { site_id: site, vlan_id: vlanId, name: `bad${vlanId}` }, 'vlan_id', /1 to 4094/);
    }
  });

  it('keeps VLAN ids and names unique per site but not across sites', async () => {
    const a = await h.site();
    const b = await h.site();
    await h.ok('POST', '/api/v1/firewall/vlans', { site_id: a, vlan_id: 10, name: 'users' }, 201);
    await expect400('POST', '/api/v1/firewall/vlans', { site_id: a, vlan_id: 10, name: 'other' }, 'vlan_id');
    await expect400('POST', '/api/v1/firewall/vlans', { site_id: a, vlan_id: 11, name: 'users' }, 'name');
    await h.ok('POST', '/api/v1/firewall/vlans', { site_id: b, vlan_id: 10, name: 'users' }, 201);
    await expect400('POST', '/api/v1/firewall/vlans', { site_id: crypto.randomUUID(), vlan_id: 12, name: 'x' }, 'site_id');
  });

  it('refuses overlapping subnets (v4 and v6) in a site, allows them across sites', async () => {
    const site = await h.site();
    const other = await h.site();
    const create = (s: string, vlanId: number, extra: object) =>
      call('POST', '/api/v1/firewall/vlans', { site_id: s, vlan_id: vlanId, name: `n${vlanId}-${++n}`, ...extra });
    expect((await create(site, 20, { ipv4_subnet: '10.20.0.0/16', ipv6_subnet: '2001:db8:20::/48' })).status).toBe(201);
    await expect400('POST', '/api/v1/firewall/vlans', { site_id: site, vlan_id: 21, name: 'inner', ipv4_subnet: '10.20.5.0/24' }, 'ipv4_subnet', /overlaps 10\.20\.0\.0\/16/);
    await expect400('POST', '/api/v1/firewall/vlans', { site_id: site, vlan_id: 22, name: 'outer', ipv4_subnet: '10.0.0.0/8' }, 'ipv4_subnet');
    await expect400('POST', '/api/v1/firewall/vlans', { site_id: site, vlan_id: 23, name: 'same', ipv4_subnet: '10.20.0.0/16' }, 'ipv4_subnet');
    await expect400('POST', '/api/v1/firewall/vlans', { site_id: site, vlan_id: 24, name: 'v6', ipv6_subnet: '2001:db8:20:1::/64' }, 'ipv6_subnet', /overlaps/);
    // Adjacent prefixes do not overlap.
    expect((await create(site, 25, { ipv4_subnet: '10.21.0.0/16', ipv6_subnet: '2001:db8:21::/48' })).status).toBe(201);
    expect((await create(other, 20, { ipv4_subnet: '10.20.0.0/16' })).status).toBe(201);
    // Shapes: host bits, wrong family, too-wide prefix.
    await expect400('POST', '/api/v1/firewall/vlans', { site_id: site, vlan_id: 26, name: 'hb', ipv4_subnet: '10.30.0.1/24' }, 'ipv4_subnet', /host bits/);
    await expect400('POST', '/api/v1/firewall/vlans', { site_id: site, vlan_id: 26, name: 'fam', ipv4_subnet: '2001:db8:30::/64' }, 'ipv4_subnet', /IPv4/);
    await expect400('POST', '/api/v1/firewall/vlans', { site_id: site, vlan_id: 26, name: 'wide', ipv4_subnet: '0.0.0.0/0' }, 'ipv4_subnet');
    // A PATCH onto a neighbour's subnet is refused the same way.
    const v = await h.ok('POST', '/api/v1/firewall/vlans', { site_id: site, vlan_id: 27, name: 'later', ipv4_subnet: '10.27.0.0/24' }, 201);
    await expect400('PATCH', `/api/v1/firewall/vlans/${v.id}`, { ipv4_subnet: '10.21.1.0/24' }, 'ipv4_subnet');
    await expect400('PATCH', `/api/v1/firewall/vlans/${v.id}`, { vlan_id: 20 }, 'vlan_id');
    expect((await h.ok('PATCH', `/api/v1/firewall/vlans/${v.id}`, { ipv4_subnet: '10.27.0.0/23' })).ipv4_subnet).toBe('10.27.0.0/23');
  });
});

describe('DHCP scopes and reservations', () => {
  async function vlanWithScope() {
    const site = await h.site();
    const vlan = await h.ok(
      'POST',
      '/api/v1/firewall/vlans',
      { site_id: site, vlan_id: 30, name: 'iot', ipv4_subnet: '192.168.30.0/24', ipv6_subnet: '2001:db8:30::/64' },
      201,
    );
    const scope = await h.ok(
      'POST',
      '/api/v1/firewall/dhcp/scopes',
      { canonical_vlan_id: vlan.id, range_start: '192.168.30.100', range_end: '192.168.30.199' },
      201,
    );
    return { site, vlan, scope };
  }

  it('keeps a scope inside its VLAN subnet', async () => {
    const { vlan } = await vlanWithScope();
    const post = (body: object) => ({ canonical_vlan_id: vlan.id, ...body });
    await expect400('POST', '/api/v1/firewall/dhcp/scopes', post({ range_start: '192.168.31.10', range_end: '192.168.31.20' }), 'range_start', /not a host address of 192\.168\.30\.0\/24/);
    await expect400('POST', '/api/v1/firewall/dhcp/scopes', post({ range_start: '192.168.30.10', range_end: '192.168.31.20' }), 'range_end');
    await expect400('POST', '/api/v1/firewall/dhcp/scopes', post({ range_start: '192.168.30.0', range_end: '192.168.30.20' }), 'range_start');
    await expect400('POST', '/api/v1/firewall/dhcp/scopes', post({ range_start: '192.168.30.10', range_end: '192.168.30.255' }), 'range_end');
    await expect400('POST', '/api/v1/firewall/dhcp/scopes', post({ range_start: '192.168.30.50', range_end: '192.168.30.40' }), 'range_end', /before/);
    await expect400('POST', '/api/v1/firewall/dhcp/scopes', post({ range_start: '192.168.30.10', range_end: '2001:db8:30::20' }), 'range_end', /family/);
    await expect400('POST', '/api/v1/firewall/dhcp/scopes', post({ range_start: '192.168.30.10', range_end: '192.168.30.20' }), 'canonical_vlan_id', /already has an IPv4/);
    await expect400('POST', '/api/v1/firewall/dhcp/scopes', post({ range_start: '2001:db8:31::10', range_end: '2001:db8:31::20' }), 'range_start');
    await h.ok('POST', '/api/v1/firewall/dhcp/scopes', post({ range_start: '2001:db8:30::100', range_end: '2001:db8:30::1ff' }), 201);
    await expect400('POST', '/api/v1/firewall/dhcp/scopes', { canonical_vlan_id: crypto.randomUUID(), range_start: '10.0.0.1', range_end: '10.0.0.2' }, 'canonical_vlan_id');
    // The VLAN's subnet may not shrink away from its scope.
    await expect400('PATCH', `/api/v1/firewall/vlans/${vlan.id}`, { ipv4_subnet: '192.168.30.0/26' }, 'ipv4_subnet', /scope/);
    await expect400('PATCH', `/api/v1/firewall/vlans/${vlan.id}`, { ipv4_subnet: null }, 'ipv4_subnet');
  });

  it('keeps reservations inside their scope\'s subnet (pool or not) and unique by MAC and address', async () => {
    const { vlan, scope } = await vlanWithScope();
    const reserve = (body: object) => ({ scope_id: scope.id, ...body });
    const first = await h.ok('POST', '/api/v1/firewall/dhcp/reservations', reserve({ mac: 'AA-BB-CC-00-11-22', ip_address: '192.168.30.100', hostname: 'printer' }), 201);
    expect(first.mac).toBe('aa:bb:cc:00:11:22');
    await h.ok('POST', '/api/v1/firewall/dhcp/reservations', reserve({ mac: 'aa:bb:cc:00:11:23', ip_address: '192.168.30.199' }), 201);
    await expect400('POST', '/api/v1/firewall/dhcp/reservations', reserve({ mac: 'aa:bb:cc:00:11:22', ip_address: '192.168.30.150' }), 'mac', /already/);
    await expect400('POST', '/api/v1/firewall/dhcp/reservations', reserve({ mac: 'aa:bb:cc:00:11:24', ip_address: '192.168.30.100' }), 'ip_address', /already reserved/);
    // Inside the VLAN's subnet, outside the pool (100-199): accepted, as Kea and ISC dhcpd scope reservations (ADR 0290).
    await h.ok('POST', '/api/v1/firewall/dhcp/reservations', reserve({ mac: 'aa:bb:cc:00:11:25', ip_address: '192.168.30.99' }), 201);
    await expect400('POST', '/api/v1/firewall/dhcp/reservations', reserve({ mac: 'aa:bb:cc:00:11:28', ip_address: '192.168.31.5' }), 'ip_address', /not a host address of the scope's subnet 192\.168\.30\.0\/24/);
    await expect400('POST', '/api/v1/firewall/dhcp/reservations', reserve({ mac: 'aa:bb:cc:00:11:28', ip_address: '192.168.30.0' }), 'ip_address', /network and broadcast/);
    await expect400('POST', '/api/v1/firewall/dhcp/reservations', reserve({ mac: 'aa:bb:cc:00:11:28', ip_address: '192.168.30.255' }), 'ip_address', /not a host address/);
    await expect400('POST', '/api/v1/firewall/dhcp/reservations', reserve({ mac: 'aa:bb:cc:00:11:25', ip_address: '2001:db8:30::150' }), 'ip_address', /IPv4/);
    await expect400('POST', '/api/v1/firewall/dhcp/reservations', reserve({ mac: 'not-a-mac', ip_address: '192.168.30.150' }), 'mac');
    await expect400('POST', '/api/v1/firewall/dhcp/reservations', reserve({ mac: '01:00:5e:00:00:01', ip_address: '192.168.30.150' }), 'mac', /unicast/);
    await expect400('POST', '/api/v1/firewall/dhcp/reservations', reserve({ mac: 'aa:bb:cc:00:11:26', ip_address: '192.168.30.150', hostname: 'bad host' }), 'hostname');
    await expect400('POST', '/api/v1/firewall/dhcp/reservations', { scope_id: crypto.randomUUID(), mac: 'aa:bb:cc:00:11:27', ip_address: '192.168.30.150' }, 'scope_id');

    const detail = await h.ok('GET', `/api/v1/firewall/vlans/${vlan.id}`);
    expect(detail.dhcp_scopes).toHaveLength(1);
    expect(detail.dhcp_scopes[0].reservations.map((r: { ip_address: string }) => r.ip_address)).toEqual([
      '192.168.30.100',
      '192.168.30.199',
      '192.168.30.99',
    ]);
    // The VLAN's subnet may not shrink away from a reservation even when the pool still fits: /112 keeps ::100-::1ff
    // but not ::1:5.
    const v6 = await h.ok('POST', '/api/v1/firewall/dhcp/scopes', { canonical_vlan_id: vlan.id, range_start: '2001:db8:30::100', range_end: '2001:db8:30::1ff' }, 201);
    await h.ok('POST', '/api/v1/firewall/dhcp/reservations', { scope_id: v6.id, mac: 'aa:bb:cc:00:11:29', ip_address: '2001:db8:30::1:5' }, 201);
    await expect400('PATCH', `/api/v1/firewall/vlans/${vlan.id}`, { ipv6_subnet: '2001:db8:30::/112' }, 'ipv6_subnet', /reservation 2001:db8:30::1:5/);
    await h.ok('DELETE', `/api/v1/firewall/dhcp/reservations/${first.id}`, undefined, 204);
    expect((await h.ok('GET', `/api/v1/firewall/dhcp/reservations?scope_id=${scope.id}`)).items).toHaveLength(2);
    // Deleting the VLAN takes its scope and reservations with it.
    await h.ok('DELETE', `/api/v1/firewall/vlans/${vlan.id}`, undefined, 204);
    expect((await h.ok('GET', `/api/v1/firewall/dhcp/scopes?canonical_vlan_id=${vlan.id}`)).items).toEqual([]);
    expect((await h.ok('GET', `/api/v1/firewall/dhcp/reservations?scope_id=${scope.id}`)).items).toEqual([]);
  });
});

describe('DNS records and templates', () => {
  it('creates, changes, de-duplicates and deletes DNS host overrides', async () => {
    const site = await h.site();
    const rec = await h.ok('POST', '/api/v1/firewall/dns/records', { site_id: site, host: 'NAS', domain: 'home.arpa', ip_address: '192.168.1.10' }, 201);
    expect(rec).toMatchObject({ host: 'nas', domain: 'home.arpa', record_type: 'A' });
    await expect400('POST', '/api/v1/firewall/dns/records', { site_id: site, host: 'nas', domain: 'home.arpa', ip_address: '192.168.1.10' }, 'ip_address');
    await expect400('POST', '/api/v1/firewall/dns/records', { site_id: site, host: 'a.b', domain: 'home.arpa', ip_address: '192.168.1.10' }, 'host');
    await expect400('POST', '/api/v1/firewall/dns/records', { site_id: site, host: 'x', domain: 'bad..domain', ip_address: '192.168.1.10' }, 'domain');
    await expect400('POST', '/api/v1/firewall/dns/records', { site_id: site, host: 'x', domain: 'home.arpa', ip_address: '192.168.1.300' }, 'ip_address');
    const v6 = await h.ok('PATCH', `/api/v1/firewall/dns/records/${rec.id}`, { ip_address: '2001:DB8::10' });
    expect(v6).toMatchObject({ ip_address: '2001:db8::10', record_type: 'AAAA' });
    await h.ok('DELETE', `/api/v1/firewall/dns/records/${rec.id}`, undefined, 204);
    expect((await h.ok('GET', `/api/v1/firewall/dns/records?site_id=${site}`)).items).toEqual([]);
  });

  it('applies a template to a site with every VLAN check, and audits canonical changes', async () => {
    const site = await h.site();
    const template = await h.ok('POST', '/api/v1/firewall/templates', { name: `IoT-${++n}`, vlan_id: 40, vlan_name: 'iot', ipv4_subnet: '10.40.0.0/24' }, 201);
    await expect400('POST', '/api/v1/firewall/templates', { name: template.name, vlan_id: 41, vlan_name: 'x' }, 'name');
    await expect400('POST', '/api/v1/firewall/templates', { name: 'bad', vlan_id: 4095, vlan_name: 'x' }, 'vlan_id');
    const vlan = await h.ok('POST', `/api/v1/firewall/templates/${template.id}/apply/${site}`, undefined, 201);
    expect(vlan).toMatchObject({ site_id: site, vlan_id: 40, name: 'iot', ipv4_subnet: '10.40.0.0/24', template_id: template.id });
    // Applying again clashes on the VLAN id; an override makes a second VLAN, its subnet still checked.
    await expect400('POST', `/api/v1/firewall/templates/${template.id}/apply/${site}`, {}, 'vlan_id');
    await expect400('POST', `/api/v1/firewall/templates/${template.id}/apply/${site}`, { vlan_id: 41, name: 'iot2' }, 'ipv4_subnet');
    await h.ok('POST', `/api/v1/firewall/templates/${template.id}/apply/${site}`, { vlan_id: 41, name: 'iot2', ipv4_subnet: '10.41.0.0/24' }, 201);
    expect((await call('POST', `/api/v1/firewall/templates/${template.id}/apply/${crypto.randomUUID()}`, {})).status).toBe(404);
    await h.ok('DELETE', `/api/v1/firewall/templates/${template.id}`, undefined, 204);
    expect((await h.ok('GET', `/api/v1/firewall/vlans/${vlan.id}`)).template_id).toBe(template.id);

    const audit = await h.ok('GET', `/api/v1/audit?action=canonical_vlan.create&limit=100`);
    expect(audit.items.some((e: { target_id: string }) => e.target_id === vlan.id)).toBe(true);
  });

  it('scopes canonical objects to the caller\u2019s sites', async () => {
    const mine = await h.site();
    const theirs = await h.site();
    const vlan = await h.ok('POST', '/api/v1/firewall/vlans', { site_id: theirs, vlan_id: 50, name: 'hidden' }, 201);
    const operator = await h.makeUser(`vlan-op-${++n}`, 'operator', [mine]);
    const listed = await call('GET', '/api/v1/firewall/vlans', undefined, operator.token);
    expect(listed.body.items.some((v: { id: string }) => v.id === vlan.id)).toBe(false);
    expect((await call('GET', `/api/v1/firewall/vlans/${vlan.id}`, undefined, operator.token)).status).toBe(404);
    expect((await call('DELETE', `/api/v1/firewall/vlans/${vlan.id}`, undefined, operator.token)).status).toBe(404);
    const create = await call('POST', '/api/v1/firewall/vlans', { site_id: theirs, vlan_id: 51, name: 'x' }, operator.token);
    expect(create.status).toBe(400);
    expect(create.body.error.field).toBe('site_id');
    expect((await call('POST', '/api/v1/firewall/vlans', { site_id: mine, vlan_id: 51, name: 'x' }, operator.token)).status).toBe(201);
    // Templates are org-wide: a site-limited operator may read them but not change them.
    expect((await call('GET', '/api/v1/firewall/templates', undefined, operator.token)).status).toBe(200);
    expect((await call('POST', '/api/v1/firewall/templates', { name: 'no', vlan_id: 9, vlan_name: 'no' }, operator.token)).status).toBe(403);
  });
});
