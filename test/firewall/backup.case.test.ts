/**
 * @module Backup and restore of the firewall module: a restore into an empty install round-trips exactly;
 * credentials never leave; the document is checked whole (400 naming the field) and written all or nothing;
 * an id that exists already is a 409; only org-wide firewall admins may do either.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StoreKind } from '../../src/store/db.ts';
import { storeKinds } from '../helpers/store.ts';
import { type FirewallHarness, startFirewallHarness } from './harness.ts';

export function runBackupSuite(kind: StoreKind): void {
  const engine = storeKinds().find((k) => k.kind === kind);
  const suite = engine?.available ? describe : describe.skip;
  suite(`firewall backup (${kind}${engine?.available ? '' : ` — ${engine?.skipReason}`})`, () => {
    let source: FirewallHarness;
    let target: FirewallHarness;
    /** Stays empty: every bad restore into it must write nothing. */
    let empty: FirewallHarness;
    let backup: Record<string, any>;
    beforeAll(async () => {
      source = await startFirewallHarness(kind);
      target = await startFirewallHarness(kind);
      empty = await startFirewallHarness(kind);
      const siteA = await source.site('backup-a');
      const siteB = await source.site('backup-b');
      const gwA = await source.gateway(siteA, 'backup-gw-a');
      const gwB = await source.gateway(siteB, 'backup-gw-b');
      for (const [device, extra] of [
        [gwA, { action: 'allow', protocol: 'tcp', dest_port: '443', description: 'web', vendor_rule_id: '1700000001' }],
        [gwA, { action: 'deny', source_address: '!10.0.0.0/8', log_enabled: true }],
        [gwB, { action: 'reject', protocol: 'udp', dest_address: '2001:db8::/32', dest_port: '53', is_enabled: false }],
      ] as const) {
        await source.ok('POST', '/api/v1/firewall/rules', { device_id: device, ...extra }, 201);
      }
      const gone = await source.ok('POST', '/api/v1/firewall/rules', { device_id: gwA, action: 'log' }, 201);
      await source.ok('DELETE', `/api/v1/firewall/rules/${gone.id}`, undefined, 204);
      await source.ok('POST', '/api/v1/firewall/nat', { device_id: gwA, nat_type: 'dnat', protocol: 'tcp', dest_port: '8443', translated_address: '10.0.0.5' }, 201);
      await source.ok('POST', '/api/v1/firewall/nat', { device_id: gwB, nat_type: 'masquerade', interface: 'wan' }, 201);
      await source.ok('POST', '/api/v1/firewall/vpn', { device_id: gwB, name: 'wg0', vpn_type: 'wireguard', vpn_status: 'up', remote_networks: ['10.8.0.0/24'] }, 201);
      // Orchestration's canonical state (docs/orchestration.md): a role map, a template and a VLAN made from it with
      // a DHCP scope and a reservation, a DNS record — and a site with canonical state only.
      await source.ok('PUT', `/api/v1/firewall/topology/${siteA}`, { assignments: [{ gateway_id: gwA, role: 'brain' }], authority_map: { dns: 'portcullis' } });
      const template = await source.ok('POST', '/api/v1/firewall/templates', { name: 'IoT', vlan_id: 30, vlan_name: 'iot', ipv4_subnet: '10.30.0.0/24' }, 201);
      const vlan = await source.ok('POST', `/api/v1/firewall/templates/${template.id}/apply/${siteA}`, {}, 201);
      const scope = await source.ok('POST', '/api/v1/firewall/dhcp/scopes', { canonical_vlan_id: vlan.id, range_start: '10.30.0.100', range_end: '10.30.0.200' }, 201);
      await source.ok('POST', '/api/v1/firewall/dhcp/reservations', { scope_id: scope.id, mac: '00:11:22:33:44:55', ip_address: '10.30.0.150', hostname: 'cam' }, 201);
      const siteC = await source.site('backup-c');
      await source.ok('POST', '/api/v1/firewall/dns/records', { site_id: siteC, host: 'nas', domain: 'home.arpa', ip_address: '10.40.0.5' }, 201);
      const res = await source.call({ method: 'GET', url: '/api/v1/firewall/backup', token: source.ownerToken });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-disposition']).toMatch(/^attachment; filename="portcullis-firewall-/);
      backup = res.json();
    });
    afterAll(async () => {
      await source?.close();
      await target?.close();
      await empty?.close();
    });

    it('holds live objects with a format version, and no credential', () => {
      expect(backup).toMatchObject({ format: 'portcullis.firewall-backup', format_version: 1 });
      expect(backup.sites).toHaveLength(3);
      expect(Object.fromEntries(Object.entries(backup.orchestration).map(([k, v]) => [k, (v as unknown[]).length]))).toEqual({
        topologies: 1,
        vlan_templates: 1,
        vlans: 1,
        dhcp_scopes: 1,
        dhcp_reservations: 1,
        dns_records: 1,
      });
      expect(backup.gateways).toHaveLength(2);
      expect(backup.firewall_rules).toHaveLength(3);
      expect(backup.nat_rules).toHaveLength(2);
      expect(backup.vpn_tunnels).toHaveLength(1);
      const text = JSON.stringify(backup);
      expect(text).not.toContain('key-backup-gw');
      expect(text).not.toContain('api_key');
    });

    it('restores into an empty install and backs up to the same document', async () => {
      const result = await target.ok('POST', '/api/v1/firewall/restore', backup);
      expect(result).toEqual({
        sites_created: 3,
        sites_reused: 0,
        gateways: 2,
        firewall_rules: 3,
        nat_rules: 2,
        vpn_tunnels: 1,
        orchestration: { vlan_templates: 1, vlans: 1, dhcp_scopes: 1, dhcp_reservations: 1, dns_records: 1, topologies: 1 },
      });
      const again = await target.ok('GET', '/api/v1/firewall/backup');
      expect({ ...again, exported_at: null }).toEqual({ ...backup, exported_at: null });
      const gw = await target.ok('GET', `/api/v1/firewall/gateways/${backup.gateways[0].id}`);
      expect(gw.has_credentials).toBe(false);
      const rules = await target.ok('GET', `/api/v1/firewall/rules?device_id=${backup.gateways[0].id}`);
      expect(rules.items.length).toBeGreaterThan(0);
    });

    it('refuses to restore over existing ids (409) and writes nothing', async () => {
      const before = await target.ok('GET', '/api/v1/firewall/backup');
      const res = await target.call({ method: 'POST', url: '/api/v1/firewall/restore', token: target.ownerToken, payload: backup });
      expect(res.statusCode).toBe(409);
      expect({ ...(await target.ok('GET', '/api/v1/firewall/backup')), exported_at: null }).toEqual({ ...before, exported_at: null });
    });

    it.each([
      [(b: any) => ({ ...b, format_version: 2 }), 'format_version'],
      [(b: any) => ({ ...b, format: 'freesdn' }), 'format'],
      [(b: any) => ({ ...b, firewall_rules: [{ ...b.firewall_rules[0], dest_port: '99999' }] }), 'firewall_rules.0.dest_port'],
      [(b: any) => ({ ...b, nat_rules: [{ ...b.nat_rules[0], device_id: '00000000-0000-4000-8000-00000000dead' }] }), 'nat_rules.0.device_id'],
      [(b: any) => ({ ...b, gateways: [{ ...b.gateways[0], url: 'https://127.0.0.1' }, b.gateways[1]] }), 'gateways.0.url'],
      [(b: any) => ({ ...b, vpn_tunnels: [{ ...b.vpn_tunnels[0], vpn_type: 'pptp' }] }), 'vpn_tunnels.0.vpn_type'],
      [(b: any) => ({ ...b, orchestration: { ...b.orchestration, vlans: [{ ...b.orchestration.vlans[0], vlan_id: 4095 }] } }), 'orchestration.vlans.0.vlan_id'],
      [(b: any) => ({ ...b, orchestration: { ...b.orchestration, dhcp_reservations: [{ ...b.orchestration.dhcp_reservations[0], ip_address: '10.31.0.99' }] } }), 'orchestration.dhcp_reservations.0.ip_address'],
    ])('a bad document is a 400 naming the field (%#) and writes nothing', async (mutate, field) => {
      const res = await empty.call({ method: 'POST', url: '/api/v1/firewall/restore', token: empty.ownerToken, payload: mutate(backup) });
      expect(res.statusCode).toBe(400);
      expect(res.json().error.field).toBe(field);
      const after = await empty.ok('GET', '/api/v1/firewall/backup');
      expect([after.sites, after.gateways, after.firewall_rules]).toEqual([[], [], []]);
    });

    it('needs firewall.admin for the whole organisation', async () => {
      const operator = await source.makeUser(`backup-op-${kind}`, 'operator');
      expect((await source.call({ method: 'GET', url: '/api/v1/firewall/backup', token: operator.token })).statusCode).toBe(403);
      const admin = await source.makeUser(`backup-admin-${kind}`, 'admin');
      expect((await source.call({ method: 'GET', url: '/api/v1/firewall/backup', token: admin.token })).statusCode).toBe(200);
    });
  });
}
