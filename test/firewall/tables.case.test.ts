/**
 * @module The normalized firewall tables over HTTP on a real store: rules (CRUD, validation naming the field,
 * PATCH allow-list, reorder), NAT, VPN (+ stats), IDS alerts (+ stats, acknowledge), logs, site scoping (404 for
 * another site's object) and the audit trail.
 */
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordIdsAlerts } from '../../src/firewall/ids.ts';
import { appendLogs, pruneLogs } from '../../src/firewall/logs.ts';
import { requireDevice } from '../../src/firewall/objects.ts';
import { updateSettings } from '../../src/firewall/settings.ts';
import type { StoreKind } from '../../src/store/db.ts';
import { auditLog } from '../../src/store/schema/audit.ts';
import { DEFAULT_ORG_ID } from '../../src/store/schema/tenancy.ts';
import { storeKinds, testContext } from '../helpers/store.ts';
import { type FirewallHarness, startFirewallHarness } from './harness.ts';

export function runFirewallTablesSuite(kind: StoreKind): void {
  const engine = storeKinds().find((k) => k.kind === kind);
  const suite = engine?.available ? describe : describe.skip;
  suite(`firewall tables (${kind}${engine?.available ? "" : ` — ${engine?.skipReason}`})`, () => {
    let h: FirewallHarness;
    let siteA: string;
    let siteB: string;
    let gwA: string;
    let gwA2: string;
    let gwB: string;
    beforeAll(async () => {
      h = await startFirewallHarness(kind);
      siteA = await h.site('a');
      siteB = await h.site('b');
      gwA = await h.gateway(siteA, 'gw-a');
      gwA2 = await h.gateway(siteA, 'gw-a2');
      gwB = await h.gateway(siteB, 'gw-b');
    });
    afterAll(async () => {
      await h?.close();
    });

    const rule = (extra: Record<string, unknown> = {}) => ({
      device_id: gwA,
      action: 'allow',
      protocol: 'tcp',
      source_address: '10.0.0.0/24',
      dest_address: '192.0.2.10',
      dest_port: '443',
      ...extra,
    });

    it('creates a rule with canonical fields, defaults and the next rule_order, and audits it', async () => {
      const first = await h.ok('POST', '/api/v1/firewall/rules', rule({ dest_address: '2001:DB8::0:1' }), 201);
      expect(first).toMatchObject({
        device_id: gwA,
        site_id: siteA,
        action: 'allow',
        protocol: 'tcp',
        source_address: '10.0.0.0/24',
        source_port: 'any',
        dest_address: '2001:db8::1',
        dest_port: '443',
        log_enabled: false,
        is_enabled: true,
        rule_order: 1,
        hit_count: 0,
        vendor_rule_id: null,
      });
      const second = await h.ok('POST', '/api/v1/firewall/rules', rule({ dest_port: '8000:8080' }), 201);
      expect(second).toMatchObject({ rule_order: 2, dest_port: '8000-8080' });
      const audit = await h.store.db
        .select()
        .from(auditLog)
        .where(and(eq(auditLog.action, 'firewall_rule.create'), eq(auditLog.targetId, first.id)));
      expect(audit).toHaveLength(1);
      expect(audit[0]?.siteId).toBe(siteA);
    });

    it.each([
      [{ source_address: '10.0.0.1/24' }, 'source_address'],
      [{ source_address: '300.1.1.1' }, 'source_address'],
      [{ dest_address: 'not an alias!' }, 'dest_address'],
      [{ dest_port: '70000' }, 'dest_port'],
      [{ dest_port: '90-80' }, 'dest_port'],
      [{ protocol: 'icmp', dest_port: '22' }, 'dest_port'],
      [{ protocol: 'bogus' }, 'protocol'],
      [{ action: 'permit' }, 'action'],
      [{ source_zone: 'bad zone' }, 'source_zone'],
      [{ rule_order: 0 }, 'rule_order'],
      [{ description: 'a\u0007b' }, 'description'],
      [{ device_id: '00000000-0000-4000-8000-00000000dead' }, 'device_id'],
      [{ hit_count: 5 }, 'hit_count'],
    ])('refuses a rule with %o: 400 naming %s', async (extra, field) => {
      const res = await h.call({ method: 'POST', url: '/api/v1/firewall/rules', token: h.ownerToken, payload: rule(extra) });
      expect(res.statusCode).toBe(400);
      expect(res.json().error.field).toBe(field);
    });

    it('accepts negated prefixes, alias names, interface networks and port ranges', async () => {
      const made = await h.ok(
        'POST',
        '/api/v1/firewall/rules',
        rule({ source_address: '!192.168.0.0/16', dest_address: 'WEB_SERVERS', source_zone: 'lan', source_port: 1024 }),
        201,
      );
      expect(made).toMatchObject({ source_address: '!192.168.0.0/16', dest_address: 'WEB_SERVERS', source_port: '1024' });
      expect((await h.ok('POST', '/api/v1/firewall/rules', rule({ source_address: 'lan' }), 201)).source_address).toBe('lan');
    });

    it('PATCH applies allow-listed fields and silently ignores device_id and hit_count', async () => {
      const made = await h.ok('POST', '/api/v1/firewall/rules', rule(), 201);
      const patched = await h.ok('PATCH', `/api/v1/firewall/rules/${made.id}`, {
        description: 'web',
        is_enabled: false,
        device_id: gwB,
        hit_count: 99,
        id: '00000000-0000-4000-8000-00000000beef',
      });
      expect(patched).toMatchObject({ id: made.id, description: 'web', is_enabled: false, device_id: gwA, hit_count: 0 });
      const bad = await h.call({
        method: 'PATCH',
        url: `/api/v1/firewall/rules/${made.id}`,
        token: h.ownerToken,
        payload: { protocol: 'icmp' },
      });
      expect(bad.statusCode).toBe(400);
      expect(bad.json().error.field).toBe('dest_port');
    });

    it('soft-deletes a rule: gone from get and list, row kept with deleted_at', async () => {
      const made = await h.ok('POST', '/api/v1/firewall/rules', rule(), 201);
      await h.ok('DELETE', `/api/v1/firewall/rules/${made.id}`, undefined, 204);
      await h.ok('GET', `/api/v1/firewall/rules/${made.id}`, undefined, 404);
      const list = await h.ok('GET', `/api/v1/firewall/rules?device_id=${gwA}&limit=500`);
      expect(list.items.map((r: { id: string }) => r.id)).not.toContain(made.id);
    });

    it('lists with filters (device_id, action, is_enabled, site_id) and paging', async () => {
      await h.ok('POST', '/api/v1/firewall/rules', rule({ device_id: gwA2, action: 'deny', is_enabled: false }), 201);
      await h.ok('POST', '/api/v1/firewall/rules', rule({ device_id: gwA2, action: 'reject' }), 201);
      await h.ok('POST', '/api/v1/firewall/rules', rule({ device_id: gwA2, action: 'log' }), 201);
      const denies = await h.ok('GET', `/api/v1/firewall/rules?device_id=${gwA2}&action=deny`);
      expect(denies.items).toHaveLength(1);
      const disabled = await h.ok('GET', `/api/v1/firewall/rules?device_id=${gwA2}&is_enabled=false`);
      expect(disabled.items.map((r: { action: string }) => r.action)).toEqual(['deny']);
      const page = await h.ok('GET', `/api/v1/firewall/rules?device_id=${gwA2}&limit=2&offset=1`);
      expect(page.items.map((r: { rule_order: number }) => r.rule_order)).toEqual([2, 3]);
      expect((await h.ok('GET', `/api/v1/firewall/rules?site_id=${siteB}`)).items).toEqual([]);
      const bad = await h.call({ method: 'GET', url: '/api/v1/firewall/rules?action=permit', token: h.ownerToken });
      expect(bad.statusCode).toBe(400);
      expect(bad.json().error.field).toBe('action');
    });

    it('reorder sets 1..n on exactly the listed rules of the device and leaves others alone', async () => {
      const gw = await h.gateway(siteA, 'gw-reorder');
      const ids: string[] = [];
      for (let i = 0; i < 4; i++) ids.push((await h.ok('POST', '/api/v1/firewall/rules', rule({ device_id: gw }), 201)).id);
      const other = await h.ok('POST', '/api/v1/firewall/rules', rule({ device_id: gwA2 }), 201);
      const [r1, r2, r3, r4] = ids as [string, string, string, string];
      const res = await h.ok('POST', `/api/v1/firewall/rules/reorder?device_id=${gw}`, [r3, r1]);
      expect(res).toEqual({ device_id: gw, order: [r3, r1] });
      const orders = Object.fromEntries(
        (await h.ok('GET', `/api/v1/firewall/rules?device_id=${gw}`)).items.map((r: { id: string; rule_order: number }) => [r.id, r.rule_order]),
      );
      expect(orders).toEqual({ [r3]: 1, [r1]: 2, [r2]: 2, [r4]: 4 });
      expect((await h.ok('GET', `/api/v1/firewall/rules/${other.id}`)).rule_order).toBe(other.rule_order);
    });

    it('reorder refuses a foreign, deleted or repeated id with a 400 naming it, changing nothing', async () => {
      const gw = await h.gateway(siteA, 'gw-reorder-bad');
      const a = (await h.ok('POST', '/api/v1/firewall/rules', rule({ device_id: gw }), 201)).id;
      const b = (await h.ok('POST', '/api/v1/firewall/rules', rule({ device_id: gw }), 201)).id;
      const foreign = (await h.ok('POST', '/api/v1/firewall/rules', rule({ device_id: gwA2 }), 201)).id;
      const deleted = (await h.ok('POST', '/api/v1/firewall/rules', rule({ device_id: gw }), 201)).id;
      await h.ok('DELETE', `/api/v1/firewall/rules/${deleted}`, undefined, 204);
      for (const [list, field, named] of [
        [[b, foreign, a], 'body.1', foreign],
        [[b, a, deleted], 'body.2', deleted],
        [[b, b], 'body.1', b],
        [[b, 'nope'], 'body.1', 'body.1'],
      ] as const) {
        const res = await h.call({
          method: 'POST',
          url: `/api/v1/firewall/rules/reorder?device_id=${gw}`,
          token: h.ownerToken,
          payload: list,
        });
        expect(res.statusCode).toBe(400);
        expect(res.json().error.field).toBe(field);
        expect(res.json().error.message).toContain(named);
      }
      const orders = (await h.ok('GET', `/api/v1/firewall/rules?device_id=${gw}`)).items.map((r: { id: string; rule_order: number }) => [r.id, r.rule_order]);
      expect(orders).toEqual([[a, 1], [b, 2]]);
      const noDevice = await h.call({ method: 'POST', url: '/api/v1/firewall/rules/reorder', token: h.ownerToken, payload: [a] });
      expect(noDevice.statusCode).toBe(400);
      expect(noDevice.json().error.field).toBe('device_id');
    });

    it('another site is invisible: 404 on get, patch and delete, filtered from lists; 403 where it can read only', async () => {
      const made = await h.ok('POST', '/api/v1/firewall/rules', rule({ device_id: gwB }), 201);
      const opA = await h.makeUser(`op-a-${kind}`, 'operator', [siteA]);
      for (const [method, payload] of [['GET'], ['PATCH', { description: 'x' }], ['DELETE']] as const) {
        const res = await h.call({ method, url: `/api/v1/firewall/rules/${made.id}`, token: opA.token, ...(payload ? { payload } : {}) });
        expect(res.statusCode).toBe(404);
      }
      const list = await h.ok('GET', '/api/v1/firewall/rules?limit=500', undefined, 200, opA.token);
      expect(list.items.every((r: { site_id: string }) => r.site_id === siteA)).toBe(true);
      const create = await h.call({ method: 'POST', url: '/api/v1/firewall/rules', token: opA.token, payload: rule({ device_id: gwB }) });
      expect(create.statusCode).toBe(400);
      expect(create.json().error.field).toBe('device_id');
      const viewer = await h.makeUser(`viewer-${kind}`, 'viewer');
      expect((await h.call({ method: 'GET', url: `/api/v1/firewall/rules/${made.id}`, token: viewer.token })).statusCode).toBe(200);
      expect(
        (await h.call({ method: 'PATCH', url: `/api/v1/firewall/rules/${made.id}`, token: viewer.token, payload: { description: 'x' } })).statusCode,
      ).toBe(403);
    });

    it('NAT: types, required translation targets, filters', async () => {
      const dnat = await h.ok('POST', '/api/v1/firewall/nat', {
        device_id: gwA,
        nat_type: 'dnat',
        interface: 'wan',
        protocol: 'tcp',
        dest_port: '443',
        translated_address: '10.0.0.5',
        translated_port: 8443,
      }, 201);
      expect(dnat).toMatchObject({ nat_type: 'dnat', translated_address: '10.0.0.5', translated_port: '8443', rule_order: 1 });
      await h.ok('POST', '/api/v1/firewall/nat', { device_id: gwA, nat_type: 'masquerade', interface: 'wan' }, 201);
      for (const [body, field] of [
        [{ nat_type: 'dnat' }, 'translated_address'],
        [{ nat_type: 'redirect' }, 'translated_port'],
        [{ nat_type: 'masquerade', translated_address: '192.0.2.1' }, 'translated_address'],
        [{ nat_type: 'nat64' }, 'nat_type'],
      ] as const) {
        const res = await h.call({ method: 'POST', url: '/api/v1/firewall/nat', token: h.ownerToken, payload: { device_id: gwA, ...body } });
        expect(res.statusCode).toBe(400);
        expect(res.json().error.field).toBe(field);
      }
      expect((await h.ok('GET', `/api/v1/firewall/nat?nat_type=masquerade&device_id=${gwA}`)).items).toHaveLength(1);
      const patched = await h.ok('PATCH', `/api/v1/firewall/nat/${dnat.id}`, { translated_port: '9443', nat_type_x: 1 });
      expect(patched.translated_port).toBe('9443');
    });

    it('VPN: CRUD, filters and stats (total, up, down, error) scoped to visible sites', async () => {
      const base = { device_id: gwA, vpn_type: 'wireguard', remote_networks: ['10.9.0.0/16'] };
      const up = await h.ok('POST', '/api/v1/firewall/vpn', { ...base, name: 'wg-up', vpn_status: 'up', remote_address: 'VPN.Example.net' }, 201);
      expect(up).toMatchObject({ vpn_status: 'up', remote_address: 'vpn.example.net', remote_networks: ['10.9.0.0/16'] });
      await h.ok('POST', '/api/v1/firewall/vpn', { ...base, name: 'wg-down' }, 201);
      await h.ok('POST', '/api/v1/firewall/vpn', { ...base, name: 'ipsec-err', vpn_type: 'ipsec', vpn_status: 'error' }, 201);
      await h.ok('POST', '/api/v1/firewall/vpn', { ...base, device_id: gwB, name: 'b-up', vpn_status: 'up' }, 201);
      expect(await h.ok('GET', `/api/v1/firewall/vpn/stats?site_id=${siteA}`)).toEqual({ total: 3, up: 1, down: 1, error: 1 });
      const opA = await h.makeUser(`vpn-a-${kind}`, 'operator', [siteA]);
      expect(await h.ok('GET', '/api/v1/firewall/vpn/stats', undefined, 200, opA.token)).toEqual({ total: 3, up: 1, down: 1, error: 1 });
      expect((await h.ok('GET', '/api/v1/firewall/vpn?vpn_type=ipsec')).items.map((t: { name: string }) => t.name)).toEqual(['ipsec-err']);
      expect((await h.ok('GET', '/api/v1/firewall/vpn?vpn_status=up')).items).toHaveLength(2);
      const bad = await h.call({ method: 'POST', url: '/api/v1/firewall/vpn', token: h.ownerToken, payload: { ...base, name: 'x', local_networks: ['10.0.0.1/8'] } });
      expect(bad.statusCode).toBe(400);
      expect(bad.json().error.field).toBe('local_networks.0');
      await h.ok('DELETE', `/api/v1/firewall/vpn/${up.id}`, undefined, 204);
      expect((await h.ok('GET', `/api/v1/firewall/vpn/stats?site_id=${siteA}`)).up).toBe(0);
    });

    it('IDS alerts: search, stats, acknowledge (audited, idempotent), site scoping', async () => {
      const ctx = testContext(h.store, { keyring: h.keyring });
      const devA = await requireDevice(ctx, gwA);
      const devB = await requireDevice(ctx, gwB);
      const at = (m: number) => new Date(Date.UTC(2026, 0, 1, 0, m));
      const stored = await recordIdsAlerts(ctx, devA, [
        { vendorAlertId: 'a1', severity: 'critical', signature: 'ET EXPLOIT x', occurredAt: at(1), sourceIp: '203.0.113.5' },
        { vendorAlertId: 'a2', severity: 'low', signature: 'ET INFO y', occurredAt: at(2) },
        { vendorAlertId: 'a3', severity: 'critical', signature: 'ET EXPLOIT z', occurredAt: at(3) },
      ]);
      expect(await recordIdsAlerts(ctx, devA, [{ vendorAlertId: 'a1', severity: 'critical', signature: 'dup', occurredAt: at(1) }])).toEqual([]);
      const [b1] = await recordIdsAlerts(ctx, devB, [{ vendorAlertId: 'b1', severity: 'high', signature: 'ET B', occurredAt: at(4) }]);
      const crit = await h.ok('GET', `/api/v1/firewall/ids/alerts?severity=critical&site_id=${siteA}`);
      expect(crit.items.map((a: { vendor_alert_id: string }) => a.vendor_alert_id)).toEqual(['a3', 'a1']);
      const window = await h.ok('GET', `/api/v1/firewall/ids/alerts?since=${at(2).toISOString()}&until=${at(4).toISOString()}`);
      expect(window.items.map((a: { vendor_alert_id: string }) => a.vendor_alert_id)).toEqual(['a3', 'a2']);
      const first = stored[0]?.id as string;
      const acked = await h.ok('POST', `/api/v1/firewall/ids/alerts/${first}/acknowledge`);
      expect(acked).toMatchObject({ acknowledged: true, acknowledged_by: h.ownerId });
      const again = await h.ok('POST', `/api/v1/firewall/ids/alerts/${first}/acknowledge`);
      expect(again.acknowledged_at).toBe(acked.acknowledged_at);
      expect(await h.ok('GET', `/api/v1/firewall/ids/alerts/stats?site_id=${siteA}`)).toEqual({
        total: 3,
        unacknowledged: 2,
        by_severity: { critical: 2, high: 0, medium: 0, low: 1, info: 0 },
      });
      expect((await h.ok('GET', '/api/v1/firewall/ids/alerts?acknowledged=false')).items).toHaveLength(3);
      const opA = await h.makeUser(`ids-a-${kind}`, 'operator', [siteA]);
      const foreign = await h.call({ method: 'POST', url: `/api/v1/firewall/ids/alerts/${b1?.id}/acknowledge`, token: opA.token });
      expect(foreign.statusCode).toBe(404);
      const viewer = await h.makeUser(`ids-v-${kind}`, 'viewer');
      expect((await h.call({ method: 'POST', url: `/api/v1/firewall/ids/alerts/${b1?.id}/acknowledge`, token: viewer.token })).statusCode).toBe(403);
      const audit = await h.store.db.select().from(auditLog).where(eq(auditLog.action, 'ids_alert.acknowledge'));
      expect(audit).toHaveLength(1);
    });

    it('logs: search by action, addresses and time; view_logs needed; retention prunes old lines', async () => {
      const ctx = testContext(h.store, { keyring: h.keyring, now: () => new Date(Date.UTC(2026, 2, 1)) });
      const dev = await requireDevice(ctx, gwA);
      const day = (d: number) => new Date(Date.UTC(2026, 1, d));
      await appendLogs(ctx, dev, [
        { loggedAt: day(1), action: 'block', sourceIp: '203.0.113.7', destIp: '10.0.0.1', destPort: 22, protocol: 'tcp' },
        { loggedAt: day(20), action: 'pass', sourceIp: '10.0.0.9', destIp: '2001:db8::1', protocol: 'udp' },
        { loggedAt: day(25), action: 'block', sourceIp: '203.0.113.7', destIp: '10.0.0.2', protocol: 'tcp' },
      ]);
      const blocks = await h.ok('GET', '/api/v1/firewall/logs?action=block&source_ip=203.0.113.7');
      expect(blocks.items.map((l: { dest_ip: string }) => l.dest_ip)).toEqual(['10.0.0.2', '10.0.0.1']);
      expect((await h.ok('GET', '/api/v1/firewall/logs?dest_ip=2001:DB8:0::1')).items).toHaveLength(1);
      expect((await h.ok('GET', `/api/v1/firewall/logs?since=${day(10).toISOString()}`)).items).toHaveLength(2);
      const bad = await h.call({ method: 'GET', url: '/api/v1/firewall/logs?source_ip=1.2.3', token: h.ownerToken });
      expect(bad.statusCode).toBe(400);
      expect(bad.json().error.field).toBe('source_ip');
      const noLogs = await h.makeUser(`nologs-${kind}`);
      expect((await h.call({ method: 'GET', url: '/api/v1/firewall/logs', token: noLogs.token })).statusCode).toBe(403);
      await updateSettings(ctx, { log_retention_days: 14 });
      expect(await pruneLogs(ctx)).toBe(1);
      expect((await h.ok('GET', '/api/v1/firewall/logs')).items).toHaveLength(2);
      await updateSettings(ctx, { log_retention_days: 30 });
      expect(DEFAULT_ORG_ID).toBe(ctx.orgId);
    });
  });
}
