/**
 * @module Gateway sync, summary, health transitions and the test override against the real pfRest emulator over
 * loopback HTTPS, on one engine (`.pglite` / `.postgres` files run it): a second sync updates rather than
 * duplicates, a rule deleted on the device is marked, the firewall log is ingested once, events fire on
 * transitions only, and the saved-gateway test with a wrong port fails naming it without a credential in sight.
 */
import { request as httpsRequest } from 'node:https';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { pollGatewayHealth } from '../../src/firewall/health.ts';
import { updateSettings } from '../../src/firewall/settings.ts';
import { liveGateway } from '../../src/firewall/live.ts';
import type { StoreKind } from '../../src/store/db.ts';
import { storeKinds, testContext } from '../helpers/store.ts';
import { type AccessHarness, startAccessHarness } from './harness.ts';

export function runGatewaySyncSuite(kind: StoreKind): void {
  const engine = storeKinds().find((k) => k.kind === kind);
  const suite = engine?.available ? describe : describe.skip;
  suite(`gateway sync (${kind}${engine?.available ? '' : ` — ${engine?.skipReason}`})`, () => {
  let h: AccessHarness;
  let siteId: string;
  let gatewayId: string;

  const sync = async (body?: object, status = 200) => {
    const res = await h.call({
      method: 'POST',
      url: `/api/v1/firewall/gateways/${gatewayId}/sync`,
      token: h.ownerToken,
      ...(body ? { payload: body } : {}),
    });
    expect(res.statusCode, res.body).toBe(status);
    return res.json();
  };
  const rows = (sql: string) => h.store.query<Record<string, unknown>>(sql, [gatewayId]);
  const eventTypes = async () =>
    (await h.store.query<{ type: string }>('select type from events where gateway_id = $1 order by id', [gatewayId])).map(
      (e) => e.type,
    );
  /** A pfRest call on the emulator, as an admin on the box would make it. */
  const onDevice = (method: string, path: string, body: object | null) =>
    new Promise<{ code: number }>((resolve, reject) => {
      const req = httpsRequest(
        `${h.emulator.url}${path}`,
        {
          method,
          ca: h.emulator.caPem,
          headers: {
            'x-api-key': h.emulator.apiKey,
            accept: 'application/json',
            ...(body === null ? {} : { 'content-type': 'application/json' }),
          },
        },
        (res) => {
          let text = '';
          res.on('data', (chunk: Buffer) => (text += chunk.toString()));
          res.on('end', () => resolve(JSON.parse(text) as { code: number }));
        },
      );
      req.on('error', reject);
      req.end(body === null ? undefined : JSON.stringify(body));
    });

  beforeAll(async () => {
    h = await startAccessHarness(kind);
    siteId = await h.site('sync-site');
    gatewayId = await h.gateway(siteId, 'sync-gw');
  });
  afterAll(async () => {
    await h?.close();
  });
  beforeEach(() => h.emulator.clearFaults());

  describe('sync into the tables', () => {
    it('the first sync stores rules, NAT, interfaces, aliases and the log with the vendor ids', async () => {
      await onDevice('POST', '/api/v2/firewall/alias', { name: 'web_servers', type: 'host', address: ['192.0.2.10'] });
      const report = await sync({ full_sync: true });
      const deviceRules = h.emulator.state().rules;
      expect(report).toMatchObject({ gateway_id: gatewayId, full_sync: true });
      expect(report.rules).toMatchObject({ created: deviceRules.length, updated: 0, deleted: 0 });
      expect(report.interfaces.created).toBe(h.emulator.state().interfaces.length);
      expect(report.aliases.created).toBe(1);
      expect(report.logs).toEqual({ ingested: 2, unreadable: 0, ignored: 0 });
      const stored = await rows(
        'select vendor_rule_id, description, last_synced_at from firewall_rules where device_id = $1 order by rule_order',
      );
      expect(stored.map((r) => r.vendor_rule_id)).toEqual(deviceRules.map((r) => String(r.tracker)));
      expect(stored.every((r) => r.last_synced_at !== null)).toBe(true);
      const alias = await rows("select alias_type, entries from firewall_aliases where device_id = $1 and name = 'web_servers'");
      expect(alias).toEqual([{ alias_type: 'host', entries: ['192.0.2.10'] }]);
      const logs = await rows('select action, dest_port, vendor_rule_id from firewall_logs where device_id = $1 order by id');
      expect(logs).toEqual([
        { action: 'block', dest_port: 22, vendor_rule_id: '1000000103' },
        { action: 'pass', dest_port: 443, vendor_rule_id: '1770000101' },
      ]);
    });

    it('a second sync updates rather than duplicates; a changed rule is updated; logs are not re-ingested', async () => {
      const before = await rows('select count(*)::int as n from firewall_rules where device_id = $1');
      expect((await onDevice('PATCH', '/api/v2/firewall/rule', { id: 0, descr: 'changed on the box' })).code).toBe(200);
      const report = await sync();
      expect(report.rules).toMatchObject({ created: 0, updated: 1, deleted: 0 });
      expect(report.rules.unchanged).toBe(h.emulator.state().rules.length - 1);
      expect(report.logs).toEqual({ ingested: 0, unreadable: 0, ignored: 2 });
      // Nothing else changed on the box: no other row is rewritten.
      expect(report.interfaces).toMatchObject({ created: 0, updated: 0, unchanged: h.emulator.state().interfaces.length });
      expect(report.aliases).toMatchObject({ created: 0, updated: 0, unchanged: 1 });
      expect(await rows('select count(*)::int as n from firewall_rules where device_id = $1')).toEqual(before);
      const tracker = String(h.emulator.state().rules[0]?.tracker);
      const [row] = await h.store.query<{ description: string }>(
        'select description from firewall_rules where device_id = $1 and vendor_rule_id = $2',
        [gatewayId, tracker],
      );
      expect(row?.description).toBe('changed on the box');
      expect(await rows('select count(*)::int as n from firewall_logs where device_id = $1')).toEqual([{ n: 2 }]);
    });

    it('a rule deleted on the device is marked, not removed; full_sync rewrites every row', async () => {
      const created = await onDevice('POST', '/api/v2/firewall/rule', {
        type: 'block',
        interface: ['wan'],
        ipprotocol: 'inet',
        protocol: 'tcp',
        source: 'any',
        destination: 'any',
        destination_port: '23',
        descr: 'no telnet',
      });
      expect(created.code).toBe(200);
      expect((await sync()).rules).toMatchObject({ created: 1, updated: 0, unchanged: 1 });
      const last = h.emulator.state().rules.length - 1;
      const gone = String(h.emulator.state().rules[last]?.tracker);
      expect((await onDevice('DELETE', `/api/v2/firewall/rule?id=${last}`, null)).code).toBe(200);
      const report = await sync();
      expect(report.rules.deleted).toBe(1);
      const [marked] = await h.store.query<{ device_deleted_at: Date | null; deleted_at: Date | null }>(
        'select device_deleted_at, deleted_at from firewall_rules where device_id = $1 and vendor_rule_id = $2',
        [gatewayId, gone],
      );
      expect(marked?.device_deleted_at).toBeInstanceOf(Date);
      expect(marked?.deleted_at).toBeNull();
      expect((await sync()).rules.deleted).toBe(0);
      const full = await sync({ full_sync: true });
      expect(full.rules).toMatchObject({ created: 0, updated: h.emulator.state().rules.length, unchanged: 0 });
    });

    it('a new log line on the box is ingested once', async () => {
      const log = h.emulator.state().live.firewallLog;
      h.emulator.setLive({
        firewallLog: [
          ...log,
          'Dec  6 21:59:30 pfSense filterlog[29415]: 5,,,1000000103,vtnet0,match,block,in,6,0x00,0x00000,64,udp,17,40,2001:db8::9,2001:db8::1,5353,53,12',
          'not a filterlog line',
        ],
      });
      expect((await sync()).logs).toEqual({ ingested: 1, unreadable: 1, ignored: 2 });
      expect((await sync()).logs).toEqual({ ingested: 0, unreadable: 1, ignored: 3 });
      const [v6] = await rows("select ip_version, source_ip from firewall_logs where device_id = $1 and ip_version = 6");
      expect(v6).toEqual({ ip_version: 6, source_ip: '2001:db8::9' });
    });

    it('entries older than log_retention_days, and blocked ones while log_blocked is off, are not stored', async () => {
      const ctx = testContext(h.store, { keyring: h.keyring });
      await updateSettings(ctx, { log_retention_days: 7, log_blocked: false });
      const log = h.emulator.state().live.firewallLog;
      const line = (time: string, action: string, port: number) =>
        `${time} pfSense filterlog[29415]: 9,,,1000000109,vtnet0,match,${action},in,4,0x0,,64,0,0,DF,17,udp,40,198.51.100.20,203.0.113.10,4000,${port},12`;
      const now = new Date();
      const stamp = (d: Date) =>
        `${d.toLocaleString('en-US', { month: 'short', timeZone: 'UTC' })} ${String(d.getUTCDate()).padStart(2, ' ')} ${d.toISOString().slice(11, 19)}`;
      const recent = new Date(now.getTime() - 60_000);
      const old = new Date(now.getTime() - 20 * 86_400_000);
      h.emulator.setLive({
        firewallLog: [...log, line(stamp(old), 'pass', 1), line(stamp(recent), 'block', 2), line(stamp(recent), 'pass', 3)],
      });
      // A gateway with no stored log yet, so only retention and log_blocked decide.
      const fresh = await h.gateway(siteId, 'sync-gw-retention');
      try {
        const res = await h.call({ method: 'POST', url: `/api/v1/firewall/gateways/${fresh}/sync`, token: h.ownerToken });
        expect(res.statusCode).toBe(200);
        const stored = await h.store.query(
          'select dest_port from firewall_logs where device_id = $1 and dest_port in (1, 2, 3)',
          [fresh],
        );
        expect(stored).toEqual([{ dest_port: 3 }]);
      } finally {
        await updateSettings(ctx, { log_retention_days: 30, log_blocked: true });
        await h.call({ method: 'DELETE', url: `/api/v1/firewall/gateways/${fresh}`, token: h.ownerToken });
      }
    });

    it('bad input names the field; another site’s viewer cannot sync; an unknown gateway is a 404', async () => {
      const bad = await h.call({
        method: 'POST',
        url: `/api/v1/firewall/gateways/${gatewayId}/sync`,
        token: h.ownerToken,
        payload: { full_sync: 'yes' },
      });
      expect(bad.statusCode).toBe(400);
      expect(bad.body).toContain('full_sync');
      const viewer = await h.makeUser('sync-viewer', 'viewer');
      const denied = await h.call({ method: 'POST', url: `/api/v1/firewall/gateways/${gatewayId}/sync`, token: viewer.token });
      expect(denied.statusCode).toBe(403);
      const missing = await h.call({
        method: 'POST',
        url: '/api/v1/firewall/gateways/00000000-0000-4000-8000-00000000dead/sync',
        token: h.ownerToken,
      });
      expect(missing.statusCode).toBe(404);
    });
  });

  describe('transition events', () => {
    it('sync completed once, failed once while the device keeps failing, completed again on recovery', async () => {
      const count = async (type: string) => (await eventTypes()).filter((t) => t === type).length;
      expect(await count('gateway.sync.completed')).toBe(1);
      h.emulator.injectFault({ kind: 'status', status: 500, times: 20, path: '/api/v2/firewall/rules' });
      const failed = await h.call({ method: 'POST', url: `/api/v1/firewall/gateways/${gatewayId}/sync`, token: h.ownerToken });
      expect(failed.statusCode).toBe(502);
      await h.call({ method: 'POST', url: `/api/v1/firewall/gateways/${gatewayId}/sync`, token: h.ownerToken });
      expect(await count('gateway.sync.failed')).toBe(1);
      const [gw] = await rows('select sync_status, sync_error_code from gateways where id = $1');
      expect(gw).toMatchObject({ sync_status: 'failed' });
      expect(gw?.sync_error_code).toMatch(/^PFS/);
      h.emulator.clearFaults();
      await sync();
      await sync();
      expect(await count('gateway.sync.completed')).toBe(2);
    });

    it('health poll: unreachable and online once per transition; WAN down and up once each', async () => {
      const ctx = testContext(h.store, { keyring: h.keyring });
      const poll = async () => {
        const { vendor, adapter } = await h.app.access.adapters.get(gatewayId);
        return pollGatewayHealth(ctx, h.app.events, gatewayId, liveGateway(vendor, adapter));
      };
      const health = async () => (await eventTypes()).filter((t) => t.startsWith('firewall.event.'));
      await poll(); // never polled → online: nothing to report
      expect(await health()).toEqual([]);
      h.emulator.setLive({ power: 'halted' });
      await poll();
      await poll();
      expect(await health()).toEqual(['firewall.event.gateway_unreachable']);
      h.emulator.setLive({ power: 'on' });
      await poll();
      await poll();
      expect(await health()).toEqual(['firewall.event.gateway_unreachable', 'firewall.event.gateway_online']);
      const wan = h.emulator.state().live.gatewayStatus;
      h.emulator.setLive({ gatewayStatus: wan.map((g) => ({ ...g, status: 'down' })) });
      await poll();
      await poll();
      h.emulator.setLive({ gatewayStatus: wan });
      await poll();
      await poll();
      expect((await health()).slice(2)).toEqual(['firewall.event.wan_down', 'firewall.event.wan_up']);
    });
  });

  describe('summary', () => {
    it('counts online / offline / never polled and sync states of the sites you can see', async () => {
      const other = await h.site('summary-other');
      await h.gateway(other, 'never-synced');
      const owner = await h.call({ method: 'GET', url: '/api/v1/firewall/gateways/summary', token: h.ownerToken });
      expect(owner.statusCode).toBe(200);
      expect(owner.json()).toEqual({ total: 2, online: 1, offline: 0, unknown: 1, sync: { never: 1, ok: 1, failed: 0 } });
      const scoped = await h.makeUser('summary-viewer', 'viewer', [other]);
      const mine = await h.call({ method: 'GET', url: '/api/v1/firewall/gateways/summary', token: scoped.token });
      expect(mine.json()).toEqual({ total: 1, online: 0, offline: 0, unknown: 1, sync: { never: 1, ok: 0, failed: 0 } });
      const bySite = await h.call({ method: 'GET', url: `/api/v1/firewall/gateways/summary?site_id=${siteId}`, token: h.ownerToken });
      expect(bySite.json().total).toBe(1);
      const one = await h.call({ method: 'GET', url: `/api/v1/firewall/gateways/${gatewayId}`, token: h.ownerToken });
      expect(one.json()).toMatchObject({ is_online: true, sync_status: 'ok', sync_error_code: null });
      expect(one.json().last_sync_at).toEqual(expect.any(String));
      const bad = await h.call({ method: 'GET', url: '/api/v1/firewall/gateways/summary?site_id=nope', token: h.ownerToken });
      expect(bad.statusCode).toBe(400);
    });
  });

  describe('test with an override of the saved connection', () => {
    const test = (payload?: object) =>
      h.call({
        method: 'POST',
        url: `/api/v1/firewall/gateways/${gatewayId}/test`,
        token: h.ownerToken,
        ...(payload ? { payload } : {}),
      });

    it('the stored connection answers; a wrong port fails naming it; no credential in any answer', async () => {
      const ok = await test();
      expect(ok.json()).toMatchObject({ ok: true });
      const closed = await test({ host: '127.0.0.1', port: 9 });
      expect(closed.statusCode).toBe(200);
      const body = closed.json();
      expect(body.ok).toBe(false);
      expect(body.error.message).toContain(':9');
      for (const res of [ok, closed]) expect(res.body).not.toContain(h.emulator.apiKey);
      const rightPort = await test({ port: h.emulator.port, verify_ssl: true });
      expect(rightPort.json().ok).toBe(true);
    });

    it('bad override values name the field; a host outside the allow-list is refused', async () => {
      const port = await test({ port: 70_000 });
      expect(port.statusCode).toBe(400);
      expect(port.body).toContain('port');
      const host = await test({ host: 'bad host' });
      expect(host.statusCode).toBe(400);
      expect(host.body).toContain('host');
      // Refused by the SSRF guard before anything is sent.
      const outside = await test({ host: '169.254.169.254' });
      expect(outside.statusCode).toBe(400);
      expect(outside.json().error.field ?? outside.body).toContain('host');
    });
  });

  describe('a gateway PATCH drops the cached adapter', () => {
    it('the next sync uses the changed URL, and the restored one again', async () => {
      const patch = (url: string) =>
        h.call({ method: 'PATCH', url: `/api/v1/firewall/gateways/${gatewayId}`, token: h.ownerToken, payload: { url } });
      expect((await patch('https://127.0.0.1:9')).statusCode).toBe(200);
      const failed = await h.call({ method: 'POST', url: `/api/v1/firewall/gateways/${gatewayId}/sync`, token: h.ownerToken });
      expect(failed.statusCode).toBe(502);
      expect((await patch(h.emulator.url)).statusCode).toBe(200);
      expect((await sync()).rules).not.toBeNull();
    });
  });

  });
}
