/**
 * @module Staged, gated live writes (src/firewall/pending.ts, docs/firewall.md "Live writes") through the HTTP
 * API against the real pfSense adapter and the pfRest emulator over loopback HTTPS: the dual gate (read-only
 * refuses `force` and apply with nothing sent to the device), `force`, staged → list → detail (redacted) → apply
 * → verified on the box, one device apply for a batch, `confirmed` for deletes and power, a double apply that
 * applies once, the reaper, the per-org cap, a device fault (`failed` with the vendor code, the batch restored),
 * a read-back mismatch (`failed_verification`, restored), revert, deploy of a normalized rule, site scoping,
 * permissions and bad input naming the field.
 */
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { StoredEvent } from '../../src/events/types.ts';
import { reapStuckPendingChanges } from '../../src/firewall/pending.ts';
import { pendingChanges } from '../../src/store/schema/firewall.ts';
import { type AccessHarness, startAccessHarness } from '../access-api/harness.ts';

/** Applies allowed (PORTCULLIS_READ_ONLY=false). */
let h: AccessHarness;
/** A new install: read-only (the default), with a small cap on open changes; same emulator. */
let ro: AccessHarness;
let siteId: string;
let gatewayId: string;
let roGatewayId: string;
const events: StoredEvent[] = [];

const gw = (path: string, id = gatewayId) => `/api/v1/firewall/gateways/${id}/${path}`;

const rule = (overrides: Record<string, unknown> = {}) => ({
  action: 'allow',
  interface: 'lan',
  protocol: 'tcp',
  source_address: 'lan',
  dest_address: '10.0.0.5',
  dest_port: '443',
  description: 'web to the app server',
  ...overrides,
});

async function call(
  harness: AccessHarness,
  method: 'GET' | 'POST' | 'PUT' | 'DELETE',
  url: string,
  payload?: unknown,
  token = harness.ownerToken,
) {
  return harness.call({ method, url, token, ...(payload !== undefined ? { payload: payload as object } : {}) });
}

/** Calls as the owner and fails the test on an unexpected status. */
async function ok(harness: AccessHarness, method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: unknown, status = 200) {
  const res = await call(harness, method, url, payload);
  if (res.statusCode !== status) throw new Error(`${method} ${url}: expected ${status}, got ${res.statusCode}: ${res.body}`);
  return res.json();
}

const deviceRequests = (harness = h) =>
  harness.emulator.requests().filter((r) => r.path.startsWith('/api/v2/'));
const rulesOnBox = () => h.emulator.state().rules.map((r) => ({ tracker: String(r.tracker), descr: r.descr }));

beforeAll(async () => {
  h = await startAccessHarness('pglite', {}, { applyDelayMs: 0, config: { readOnly: false } });
  ro = await startAccessHarness('pglite', {}, { emulator: h.emulator, config: { maxPendingChanges: 2 } });
  siteId = await h.site('pending-site');
  gatewayId = await h.gateway(siteId, 'pending-gw');
  roGatewayId = await ro.gateway(await ro.site('ro-site'), 'ro-gw');
  h.app.events.on((event) => events.push(event));
});
afterAll(async () => {
  await ro?.close();
  await h?.close();
});
beforeEach(() => {
  h.emulator.clearFaults();
  h.emulator.clearRequests();
});

describe('gate 1: a read-only deployment (PORTCULLIS_READ_ONLY, the default) sends nothing to a device', () => {
  it('refuses force=true with 409 PC_ERR_READ_ONLY, stores nothing and contacts no device', async () => {
    const res = await call(ro, 'POST', `${gw('firewall-rules', roGatewayId)}?force=true`, rule());
    expect(res.statusCode).toBe(409);
    expect(res.json().error.code).toBe('PC_ERR_READ_ONLY');
    expect((await ok(ro, 'GET', '/api/v1/firewall/pending')).items).toEqual([]);
    expect(deviceRequests(ro)).toEqual([]);
  });

  it('stages a write without force (its preview only reads the device), and refuses to apply it (nothing written)', async () => {
    const staged = await ok(ro, 'POST', gw('firewall-rules', roGatewayId), rule(), 201);
    expect(staged).toMatchObject({ status: 'pending', target_type: 'firewall_rule', operation: 'create' });
    const res = await call(ro, 'POST', `/api/v1/firewall/pending/${staged.id}/apply?confirmed=true`);
    expect(res.statusCode).toBe(409);
    expect(res.json().error.code).toBe('PC_ERR_READ_ONLY');
    expect((await ok(ro, 'GET', `/api/v1/firewall/pending/${staged.id}`)).status).toBe('pending');
    expect(deviceRequests(ro).filter((r) => r.method !== 'GET')).toEqual([]);
    await ok(ro, 'POST', `/api/v1/firewall/pending/${staged.id}/discard`);
  });

  it('caps open changes per organisation (PORTCULLIS_MAX_PENDING_CHANGES): one more is a 409, a discard frees a slot', async () => {
    const first = await ok(ro, 'POST', gw('firewall-rules', roGatewayId), rule({ description: 'one' }), 201);
    await ok(ro, 'POST', gw('firewall-rules', roGatewayId), rule({ description: 'two' }), 201);
    const res = await call(ro, 'POST', gw('firewall-rules', roGatewayId), rule({ description: 'three' }));
    expect(res.statusCode).toBe(409);
    expect(res.json().error).toMatchObject({ code: 'PC_ERR_CONFLICT' });
    expect(res.json().error.message).toContain('PORTCULLIS_MAX_PENDING_CHANGES');
    await ok(ro, 'POST', `/api/v1/firewall/pending/${first.id}/discard`);
    await ok(ro, 'POST', gw('firewall-rules', roGatewayId), rule({ description: 'three' }), 201);
  });
});

describe('gate 2: force applies at once; otherwise the change is staged for review', () => {
  it('force=true writes, applies and verifies in one request (200, applied, the rule on the box)', async () => {
    const change = await ok(h, 'POST', `${gw('firewall-rules')}?force=true`, rule({ description: 'forced' }));
    expect(change).toMatchObject({ status: 'applied', error: null, before_image: { object: null } });
    expect(change.verification).toMatchObject({ ok: true, differences: [], pending_subsystems: [] });
    expect(rulesOnBox()).toContainEqual({ tracker: change.target_vendor_id, descr: 'forced' });
    expect(events.filter((e) => e.type === 'firewall.pending.applied').map((e) => e.payload.pending_change_id)).toContain(
      change.id,
    );
  });

  it('staged → listed (filters) → detail with the payload redacted → applied → the box shows it', async () => {
    const secretish = 'Bearer abcdefghijklmnopqrstuvwxyz123456';
    const staged = await ok(h, 'POST', gw('firewall-rules'), rule({ description: secretish }), 201);
    expect(staged.status).toBe('pending');
    expect(deviceRequests().filter((r) => r.method !== 'GET')).toEqual([]);

    const listed = await ok(h, 'GET', `/api/v1/firewall/pending?status=pending&device_id=${gatewayId}`);
    expect(listed.items.map((c: { id: string }) => c.id)).toContain(staged.id);
    const other = await ok(h, 'GET', '/api/v1/firewall/pending?status=applied&target_type=alias');
    expect(other.items.map((c: { id: string }) => c.id)).not.toContain(staged.id);

    const detail = await ok(h, 'GET', `/api/v1/firewall/pending/${staged.id}`);
    expect(detail.payload.description).toBe('[redacted]');
    expect(JSON.stringify(detail)).not.toContain('abcdefghijklmnop');
    // The semantic preview on the live configuration, its strings redacted like the payload.
    expect(detail.preview).toMatchObject({ available: true, version: 1, lockout: 'unknown', lockout_check: { status: 'unknown' } });
    expect(detail.preview.counts).toEqual(expect.objectContaining({ newly_pass: expect.any(Number) }));

    const applied = await ok(h, 'POST', `/api/v1/firewall/pending/${staged.id}/apply`);
    expect(applied).toMatchObject({ status: 'applied', applied_at: expect.any(String) });
    // The sealed original went to the device, not the redaction marker.
    expect(rulesOnBox()).toContainEqual({ tracker: applied.target_vendor_id, descr: secretish });
  });

  it('applies several changes of one gateway with ONE firewall apply call', async () => {
    const ids = [
      (await ok(h, 'POST', gw('firewall-rules'), rule({ description: 'batch a' }), 201)).id,
      (await ok(h, 'POST', gw('firewall-rules'), rule({ description: 'batch b', dest_port: '8443' }), 201)).id,
      (
        await ok(
          h,
          'POST',
          gw('aliases'),
          { name: 'pc_batch', type: 'host', description: 'batch', entries: [{ address: '192.0.2.7' }] },
          201,
        )
      ).id,
    ];
    h.emulator.clearRequests();
    const { items } = await ok(h, 'POST', '/api/v1/firewall/pending/apply', { ids });
    expect(items.map((c: { status: string }) => c.status)).toEqual(['applied', 'applied', 'applied']);
    const applies = deviceRequests().filter((r) => r.method === 'POST' && r.path === '/api/v2/firewall/apply');
    expect(applies).toHaveLength(1);
    expect(rulesOnBox().map((r) => r.descr)).toEqual(expect.arrayContaining(['batch a', 'batch b']));
    expect(h.emulator.state().aliases.map((a) => a.name)).toContain('pc_batch');
  });

  it('every kind goes through the same path: forced, written, applied and read back equal', async () => {
    const kinds: Array<[string, Record<string, unknown>]> = [
      ['firewall-rules', rule({ source_port: '1024-65535', description: 'ranged' })],
      [
        'port-forwards',
        { interface: 'wan', dest_address: 'wan:ip', dest_port: '8443', target_address: '192.168.1.10', target_port: '443' },
      ],
      ['source-nat', { interface: 'wan', source_address: '192.168.1.0/24', target_address: '203.0.113.5' }],
      ['aliases', { name: 'pc_kinds', type: 'network', entries: [{ address: '10.1.0.0/16', detail: 'lab' }] }],
      ['routes/static', { network: '10.20.0.0/16', gateway: 'WAN_DHCP', description: 'data centre' }],
      ['dns/overrides', { host: 'app', domain: 'example.internal', ip: ['10.0.0.5', 'FD00::0:6'] }],
      ['dhcp/static-mappings', { interface: 'lan', mac: '00:11:22:33:44:AA', ip: '192.168.1.50', hostname: 'printer' }],
    ];
    for (const [path, body] of kinds) {
      const change = await ok(h, 'POST', `${gw(path)}?force=true`, body);
      expect(change.status, `${path}: ${JSON.stringify(change.error)} ${JSON.stringify(change.verification)}`).toBe('applied');
      expect(change.verification.checked, path).toBe(true);
    }
    // Canonical forms on the wire: the range in the devices' notation, IPv6 compressed, the MAC lower-case.
    const ranged = h.emulator.state().rules.find((r) => r.descr === 'ranged');
    expect(ranged?.source_port).toBe('1024:65535');
    const service = await ok(h, 'POST', `${gw('services/unbound/control')}?force=true`, { action: 'stop' });
    expect(service).toMatchObject({ status: 'applied', verification: { checked: true, differences: [] } });
    const back = await ok(h, 'POST', `/api/v1/firewall/pending/${service.id}/revert`, undefined, 201);
    expect(back.payload).toEqual({ name: 'unbound', action: 'start' });
    await ok(h, 'POST', `/api/v1/firewall/pending/${back.id}/discard`);
  });

  it('a VLAN interface, then a DHCP scope on it, go through the same path (docs/reference/brain-l3.md §4)', async () => {
    const bad = await call(h, 'POST', gw('vlan-interfaces'), { parent: 'vtnet2', tag: 4095, name: 'IOT' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.field).toBe('tag');
    const vlan = await ok(h, 'POST', `${gw('vlan-interfaces')}?force=true`, {
      parent: 'vtnet2',
      tag: 30,
      name: 'IOT',
      ipv4: '10.30.0.1/24',
      description: 'cameras',
    });
    expect(vlan.status, JSON.stringify(vlan.error)).toBe('applied');
    expect(vlan.target_vendor_id).toBe('vtnet2.30');
    expect(vlan.verification.checked).toBe(true);
    const iface = h.emulator.state().interfaces.find((i) => i.if === 'vtnet2.30');
    expect(iface).toMatchObject({ descr: 'IOT', ipaddr: '10.30.0.1', subnet: 24 });
    // The interface apply ran with the VLAN's change: the scope's range is checked against the live address.
    const scope = await ok(h, 'POST', `${gw('dhcp/scopes')}?force=true`, {
      interface: iface?.id,
      range_from: '10.30.0.100',
      range_to: '10.30.0.200',
      dns_servers: ['10.30.0.1'],
    });
    expect(scope.status, JSON.stringify(scope.error)).toBe('applied');
    expect(scope.verification).toMatchObject({ checked: true, differences: [] });
    expect(h.emulator.state().dhcpServers[iface?.id as string]).toMatchObject({ enable: true, range_from: '10.30.0.100' });
  });

  it('refuses a batch across gateways (400 naming ids) and applies nothing', async () => {
    const other = await h.gateway(siteId, 'pending-gw-2');
    const a = await ok(h, 'POST', gw('firewall-rules'), rule({ description: 'gw one' }), 201);
    const b = await ok(h, 'POST', gw('firewall-rules', other), rule({ description: 'gw two' }), 201);
    const res = await call(h, 'POST', '/api/v1/firewall/pending/apply', { ids: [a.id, b.id] });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.field).toBe('ids');
    expect((await ok(h, 'GET', `/api/v1/firewall/pending/${a.id}`)).status).toBe('pending');
    await ok(h, 'POST', `/api/v1/firewall/pending/${a.id}/discard`);
    await ok(h, 'POST', `/api/v1/firewall/pending/${b.id}/discard`);
  });
});

describe('confirmation: deletes, reboot and halt need confirmed=true at apply time', () => {
  it('a staged delete is applied only with confirmed=true', async () => {
    const created = await ok(h, 'POST', `${gw('firewall-rules')}?force=true`, rule({ description: 'to delete' }));
    const tracker = created.target_vendor_id as string;
    const staged = await ok(h, 'DELETE', gw(`firewall-rules/${tracker}`), undefined, 201);
    expect(staged).toMatchObject({ requires_confirmation: true, operation: 'delete' });
    const refused = await call(h, 'POST', `/api/v1/firewall/pending/${staged.id}/apply`);
    expect(refused.statusCode).toBe(400);
    expect(refused.json().error.field).toBe('confirmed');
    expect(rulesOnBox().map((r) => r.tracker)).toContain(tracker);
    const applied = await ok(h, 'POST', `/api/v1/firewall/pending/${staged.id}/apply?confirmed=true`);
    expect(applied.status).toBe('applied');
    expect(applied.before_image.object).toMatchObject({ description: 'to delete' });
    expect(rulesOnBox().map((r) => r.tracker)).not.toContain(tracker);
  });

  it('reboot: firewall.admin only, confirmed=true even with force; then the box reboots', async () => {
    const operator = await h.makeUser('pending-operator', 'operator');
    const denied = await call(h, 'POST', `${gw('reboot')}?force=true&confirmed=true`, undefined, operator.token);
    expect(denied.statusCode).toBe(403);
    const unconfirmed = await call(h, 'POST', `${gw('reboot')}?force=true`);
    expect(unconfirmed.statusCode).toBe(400);
    expect(unconfirmed.json().error.field).toBe('confirmed');
    expect(deviceRequests().filter((r) => r.path.includes('reboot'))).toEqual([]);
    const staged = await ok(h, 'POST', gw('halt'), undefined, 201);
    expect(staged).toMatchObject({ target_type: 'power', operation: 'halt', requires_confirmation: true });
    // Applying a power change needs firewall.admin too.
    const opApply = await call(h, 'POST', `/api/v1/firewall/pending/${staged.id}/apply?confirmed=true`, undefined, operator.token);
    expect(opApply.statusCode).toBe(403);
    await ok(h, 'POST', `/api/v1/firewall/pending/${staged.id}/discard`);
    const rebooted = await ok(h, 'POST', `${gw('reboot')}?force=true&confirmed=true`);
    expect(rebooted.status).toBe('applied');
    expect(h.emulator.state().live.power).toBe('rebooting');
    h.emulator.setLive({ power: 'on' });
  });
});

describe('apply is an atomic claim', () => {
  it('two concurrent applies of one change: exactly one applies, the other is a 409', async () => {
    const staged = await ok(h, 'POST', gw('firewall-rules'), rule({ description: 'raced' }), 201);
    const results = await Promise.all([
      call(h, 'POST', `/api/v1/firewall/pending/${staged.id}/apply`),
      call(h, 'POST', `/api/v1/firewall/pending/${staged.id}/apply`),
    ]);
    expect(results.map((r) => r.statusCode).sort()).toEqual([200, 409]);
    expect(rulesOnBox().filter((r) => r.descr === 'raced')).toHaveLength(1);
    const again = await call(h, 'POST', `/api/v1/firewall/pending/${staged.id}/apply`);
    expect(again.statusCode).toBe(409);
  });

  it('the reaper fails rows stuck in applying past the limit (and only those), with an event', async () => {
    const stuck = await ok(h, 'POST', gw('firewall-rules'), rule({ description: 'stuck' }), 201);
    const fresh = await ok(h, 'POST', gw('firewall-rules'), rule({ description: 'fresh claim' }), 201);
    const now = new Date();
    const claim = (id: string, at: Date) =>
      h.store.db
        .update(pendingChanges)
        .set({ status: 'applying', claimedAt: at, claimedBy: 'node-that-died' })
        .where(eq(pendingChanges.id, id));
    // A node claimed these and stopped (simulated: the claim is what a dead node leaves behind).
    await claim(stuck.id, new Date(now.getTime() - 11 * 60_000));
    await claim(fresh.id, new Date(now.getTime() - 60_000));
    const reaped = await reapStuckPendingChanges({ db: h.store.db, events: h.app.events }, now);
    expect(reaped).toEqual([stuck.id]);
    expect((await ok(h, 'GET', `/api/v1/firewall/pending/${stuck.id}`)).error).toMatchObject({ code: 'apply_interrupted' });
    expect((await ok(h, 'GET', `/api/v1/firewall/pending/${fresh.id}`)).status).toBe('applying');
    expect(events.filter((e) => e.type === 'firewall.pending.failed').map((e) => e.payload.pending_change_id)).toContain(
      stuck.id,
    );
    expect(await reapStuckPendingChanges({ db: h.store.db, events: null }, new Date(now.getTime() + 11 * 60_000))).toEqual([
      fresh.id,
    ]);
  });
});

describe('device faults and verification', () => {
  it('a device fault leaves the change failed with the vendor code, and nothing half-applied', async () => {
    const before = rulesOnBox();
    h.emulator.injectFault({ kind: 'status', status: 500, path: '/api/v2/firewall/rule', method: 'POST' });
    const change = await ok(h, 'POST', `${gw('firewall-rules')}?force=true`, rule({ description: 'faulted' }));
    expect(change.status).toBe('failed');
    expect(change.error).toMatchObject({ code: 'device_error', vendor_code: expect.stringMatching(/^PFS\d{3}$/) });
    expect(change.applied_at).toBeNull();
    expect(rulesOnBox()).toEqual(before);
    expect(events.filter((e) => e.type === 'firewall.pending.failed').map((e) => e.payload.pending_change_id)).toContain(
      change.id,
    );
  });

  it('a fault in the middle of a batch restores what the batch already wrote', async () => {
    const before = rulesOnBox();
    const ruleChange = await ok(h, 'POST', gw('firewall-rules'), rule({ description: 'batch then fault' }), 201);
    const aliasChange = await ok(h, 'POST', gw('aliases'), { name: 'pc_faulted', type: 'host', entries: [] }, 201);
    h.emulator.injectFault({ kind: 'status', status: 500, path: '/api/v2/firewall/alias', method: 'POST' });
    const { items } = await ok(h, 'POST', '/api/v1/firewall/pending/apply', { ids: [ruleChange.id, aliasChange.id] });
    const [r, a] = items;
    expect(a).toMatchObject({ status: 'failed', error: { code: 'device_error', vendor_code: expect.stringMatching(/^PFS/) } });
    expect(r).toMatchObject({ status: 'failed', error: { code: 'batch_failed' } });
    expect(r.verification).toMatchObject({ restored: true, restore_errors: [] });
    expect(rulesOnBox()).toEqual(before);
    expect(h.emulator.state().aliases.map((x) => x.name)).not.toContain('pc_faulted');
  });

  it('a read-back that differs marks the change failed_verification with the difference and restores', async () => {
    const staged = await ok(
      h,
      'POST',
      gw('aliases'),
      { name: 'pc_verified', type: 'host', description: 'as written', entries: [{ address: '192.0.2.9', detail: '' }] },
      201,
    );
    // The read-back (the first alias list read after the write) shows something else than what was written.
    const shown = { name: 'pc_verified', type: 'host', descr: 'changed behind our back', address: ['192.0.2.9'], detail: [''] };
    h.emulator.injectFault({
      kind: 'raw',
      status: 200,
      method: 'GET',
      path: '/api/v2/firewall/aliases',
      contentType: 'application/json',
      body: JSON.stringify({ code: 200, status: 'ok', response_id: 'SUCCESS', message: '', data: [shown] }),
    });
    const change = await ok(h, 'POST', `/api/v1/firewall/pending/${staged.id}/apply`);
    expect(change.status).toBe('failed_verification');
    expect(change.error.code).toBe('verification_failed');
    expect(change.verification).toMatchObject({
      ok: false,
      restored: true,
      differences: [{ field: 'description', expected: 'as written', actual: 'changed behind our back' }],
    });
    expect(h.emulator.state().aliases.map((a) => a.name)).not.toContain('pc_verified');
    expect(events.filter((e) => e.type === 'firewall.pending.failed').map((e) => e.payload.status)).toContain(
      'failed_verification',
    );
  });
});

describe('revert and deploy', () => {
  it('revert stages the inverse (a created rule deleted); applying it marks the original reverted', async () => {
    const created = await ok(h, 'POST', `${gw('firewall-rules')}?force=true`, rule({ description: 'to revert' }));
    const inverse = await ok(h, 'POST', `/api/v1/firewall/pending/${created.id}/revert`, undefined, 201);
    expect(inverse).toMatchObject({
      status: 'pending',
      operation: 'delete',
      target_vendor_id: created.target_vendor_id,
      reverts_id: created.id,
      requires_confirmation: true,
    });
    const twice = await call(h, 'POST', `/api/v1/firewall/pending/${created.id}/revert`);
    expect(twice.statusCode).toBe(409);
    await ok(h, 'POST', `/api/v1/firewall/pending/${inverse.id}/apply?confirmed=true`);
    expect(rulesOnBox().map((r) => r.tracker)).not.toContain(created.target_vendor_id);
    expect((await ok(h, 'GET', `/api/v1/firewall/pending/${created.id}`)).status).toBe('reverted');
  });

  it('revert of a delete puts the rule back where it was (in front of the rule that followed it)', async () => {
    const made: string[] = [];
    for (const name of ['order a', 'order b', 'order c']) {
      made.push((await ok(h, 'POST', `${gw('firewall-rules')}?force=true`, rule({ description: name }))).target_vendor_id);
    }
    const order = () => rulesOnBox().map((r) => String(r.descr)).filter((d) => d.startsWith('order '));
    const deleted = await ok(h, 'DELETE', `${gw(`firewall-rules/${made[1]}`)}?force=true&confirmed=true`);
    expect(deleted).toMatchObject({ status: 'applied', before_image: { next_rule: made[2] } });
    expect(order()).toEqual(['order a', 'order c']);
    const back = await ok(h, 'POST', `/api/v1/firewall/pending/${deleted.id}/revert`, undefined, 201);
    expect(back).toMatchObject({ operation: 'create', place_before: made[2] });
    const restored = await ok(h, 'POST', `/api/v1/firewall/pending/${back.id}/apply`);
    expect(restored.status).toBe('applied');
    expect(order()).toEqual(['order a', 'order b', 'order c']);
  });

  it('revert of a toggle stages the rule back to its before-image', async () => {
    const created = await ok(h, 'POST', `${gw('firewall-rules')}?force=true`, rule({ description: 'toggled' }));
    const tracker = created.target_vendor_id as string;
    const off = await ok(h, 'POST', `${gw(`firewall-rules/${tracker}/toggle`)}?enabled=false&force=true`);
    expect(off.status).toBe('applied');
    expect(h.emulator.state().rules.find((r) => String(r.tracker) === tracker)?.disabled).toBe(true);
    const back = await ok(h, 'POST', `/api/v1/firewall/pending/${off.id}/revert`, undefined, 201);
    expect(back).toMatchObject({ operation: 'toggle', payload: { is_enabled: true } });
    await ok(h, 'POST', `/api/v1/firewall/pending/${back.id}/apply`);
    expect(h.emulator.state().rules.find((r) => String(r.tracker) === tracker)?.disabled).toBe(false);
  });

  it('a normalized rule is deployed to its gateway and keeps the device rule id; a second deploy updates it', async () => {
    const normalized = await ok(
      h,
      'POST',
      '/api/v1/firewall/rules',
      {
        device_id: gatewayId,
        action: 'deny',
        source_zone: 'lan',
        protocol: 'tcp',
        dest_address: '10.9.9.9',
        dest_port: '22',
        description: 'deployed',
      },
      201,
    );
    const deployed = await ok(h, 'POST', `/api/v1/firewall/rules/${normalized.id}/deploy?force=true`);
    expect(deployed).toMatchObject({ status: 'applied', operation: 'create', source_rule_id: normalized.id });
    const tracker = deployed.target_vendor_id as string;
    expect(rulesOnBox()).toContainEqual({ tracker, descr: 'deployed' });
    expect((await ok(h, 'GET', `/api/v1/firewall/rules/${normalized.id}`)).vendor_rule_id).toBe(tracker);
    const again = await ok(h, 'POST', `/api/v1/firewall/rules/${normalized.id}/deploy`, undefined, 201);
    expect(again).toMatchObject({ operation: 'update', target_vendor_id: tracker });
    await ok(h, 'POST', `/api/v1/firewall/pending/${again.id}/discard`);

    const logOnly = await ok(h, 'POST', '/api/v1/firewall/rules', { device_id: gatewayId, action: 'log', source_zone: 'lan' }, 201);
    const refused = await call(h, 'POST', `/api/v1/firewall/rules/${logOnly.id}/deploy`);
    expect(refused.statusCode).toBe(400);
    expect(refused.json().error.field).toBe('action');
  });
});

describe('scoping and input', () => {
  it("another site's pending change is a 404 to a site-limited user, for reads and writes", async () => {
    const otherSite = await h.site('pending-other-site');
    const otherGw = await h.gateway(otherSite, 'pending-other-gw');
    const theirs = await ok(h, 'POST', gw('firewall-rules', otherGw), rule({ description: 'theirs' }), 201);
    const limited = await h.makeUser('pending-limited', 'operator', [siteId]);
    for (const [method, url] of [
      ['GET', `/api/v1/firewall/pending/${theirs.id}`],
      ['POST', `/api/v1/firewall/pending/${theirs.id}/apply`],
      ['POST', `/api/v1/firewall/pending/${theirs.id}/discard`],
      ['POST', gw('firewall-rules', otherGw)],
    ] as const) {
      const res = await call(h, method, url, method === 'POST' && url.endsWith('firewall-rules') ? rule() : undefined, limited.token);
      expect(res.statusCode, `${method} ${url}`).toBe(404);
    }
    const listed = await call(h, 'GET', '/api/v1/firewall/pending', undefined, limited.token);
    expect(listed.json().items.map((c: { id: string }) => c.id)).not.toContain(theirs.id);
    expect((await ok(h, 'GET', `/api/v1/firewall/pending/${theirs.id}`)).status).toBe('pending');
  });

  it('bad input is a 400 naming the field, and nothing is staged', async () => {
    const count = async () => (await ok(h, 'GET', '/api/v1/firewall/pending?limit=500')).items.length;
    const before = await count();
    const cases: Array<[string, unknown, string]> = [
      ['firewall-rules', { action: 'allow' }, 'interface'],
      ['firewall-rules', rule({ dest_address: 'not an address!' }), 'dest_address'],
      ['firewall-rules', rule({ protocol: 'any', dest_port: '443' }), 'dest_port'],
      ['firewall-rules', rule({ action: 'log' }), 'action'],
      ['aliases', { name: 'bad name', type: 'host' }, 'name'],
      ['aliases', { name: 'pc_ok', type: 'network', entries: [{ address: '10.0.0.1/8' }] }, 'entries.0.address'],
      ['routes/static', { network: '10.0.0.0/33', gateway: 'WAN_DHCP' }, 'network'],
      ['dns/overrides', { host: 'app', domain: 'example.org', ip: ['300.1.1.1'] }, 'ip.0'],
      ['dhcp/static-mappings', { interface: 'lan', mac: 'zz', ip: '10.0.0.9' }, 'mac'],
      ['port-forwards', { interface: 'wan', dest_address: 'wanip', dest_port: '80', target_address: 'host', target_port: '80' }, 'target_address'],
    ];
    for (const [path, body, field] of cases) {
      const res = await call(h, 'POST', gw(path), body);
      expect(res.statusCode, `${path} ${JSON.stringify(body)}`).toBe(400);
      expect(res.json().error.field, `${path} ${JSON.stringify(body)}`).toBe(field);
    }
    const badQuery = await call(h, 'POST', `${gw('firewall-rules')}?override_lockout=true`, rule());
    expect(badQuery.statusCode).toBe(400);
    expect(badQuery.json().error.field).toBe('override_reason');
    const badApply = await call(h, 'POST', '/api/v1/firewall/pending/apply', { ids: [] });
    expect(badApply.statusCode).toBe(400);
    expect(badApply.json().error.field).toBe('ids');
    expect(await count()).toBe(before);
  });

  it('a pending change that does not exist is a 404; discarding an applied one a 409', async () => {
    const missing = await call(h, 'GET', '/api/v1/firewall/pending/00000000-0000-4000-8000-00000000dead');
    expect(missing.statusCode).toBe(404);
    const applied = await ok(h, 'POST', `${gw('firewall-rules')}?force=true`, rule({ description: 'done' }));
    const res = await call(h, 'POST', `/api/v1/firewall/pending/${applied.id}/discard`);
    expect(res.statusCode).toBe(409);
  });
});

describe("the gateway's policy tests gate every apply (docs/policy.md \"Policy tests\")", () => {
  const mustStayClosed = {
    version: 1,
    flows: [
      {
        name: 'no admin UI from the internet',
        interface: 'wan',
        protocol: 'tcp',
        source: '8.8.4.4',
        destination: '192.168.1.10',
        destination_port: 8443,
        expect: 'block',
      },
    ],
  };
  const opener = rule({ interface: 'wan', source_address: 'any', dest_address: '192.168.1.10', dest_port: '8443', description: 'admin UI' });

  it('a change the tests allow applies without any override', async () => {
    await ok(h, 'PUT', gw('policy-tests'), mustStayClosed);
    try {
      const staged = await ok(h, 'POST', gw('firewall-rules'), rule({ description: 'lan only' }), 201);
      expect((await ok(h, 'POST', `/api/v1/firewall/pending/${staged.id}/apply`)).status).toBe('applied');
    } finally {
      await ok(h, 'PUT', gw('policy-tests'), { version: 1, flows: [] });
    }
  });

  it('a change that breaks a test is refused at apply (409, nothing sent), and applies with override_tests + a reason (audited)', async () => {
    await ok(h, 'PUT', gw('policy-tests'), mustStayClosed);
    try {
      const staged = await ok(h, 'POST', gw('firewall-rules'), opener, 201);
      h.emulator.clearRequests();
      const refused = await call(h, 'POST', `/api/v1/firewall/pending/${staged.id}/apply`);
      expect(refused.statusCode, refused.body).toBe(409);
      expect(refused.json().error).toMatchObject({ code: 'PC_ERR_POLICY_TESTS', field: 'override_tests' });
      expect(refused.json().error.message).toContain('no admin UI from the internet');
      expect(deviceRequests().filter((r) => r.method !== 'GET')).toEqual([]);
      expect((await ok(h, 'GET', `/api/v1/firewall/pending/${staged.id}`)).status).toBe('pending');

      const noReason = await call(h, 'POST', `/api/v1/firewall/pending/${staged.id}/apply?override_tests=true`);
      expect(noReason.statusCode).toBe(400);
      expect(noReason.json().error.field).toBe('override_reason');

      const forced = await call(h, 'POST', `${gw('firewall-rules')}?force=true`, opener);
      expect(forced.statusCode).toBe(409);
      expect(forced.json().error.code).toBe('PC_ERR_POLICY_TESTS');

      const reason = 'vendor support session, closed again at 17:00';
      const applied = await ok(
        h,
        'POST',
        `/api/v1/firewall/pending/${staged.id}/apply?override_tests=true&override_reason=${encodeURIComponent(reason)}`,
      );
      expect(applied.status).toBe('applied');
      const audit = await ok(h, 'GET', '/api/v1/audit?action=pending_change.override_tests');
      expect(JSON.stringify(audit.items)).toContain(reason);
    } finally {
      await ok(h, 'PUT', gw('policy-tests'), { version: 1, flows: [] });
    }
  });
});

describe('the lock-out check refuses a change that cuts the path to the API (docs/firewall.md "Semantic preview")', () => {
  it("with the gateway's management path set, deleting the rule that carries it is refused unless overridden", async () => {
    const set = await h.call({
      method: 'PATCH',
      url: `/api/v1/firewall/gateways/${gatewayId}`,
      token: h.ownerToken,
      payload: { management_source: '192.168.1.100', management_interface: 'lan' },
    });
    expect(set.statusCode, set.body).toBe(200);
    expect(set.json()).toMatchObject({ management_source: '192.168.1.100', management_interface: 'lan' });
    try {
      const lanRule = h.emulator.state().rules.find((r) => String(r.descr).includes('Default allow LAN to any'));
      const target = String(lanRule?.tracker);
      const refused = await call(h, 'DELETE', gw(`firewall-rules/${target}`));
      expect(refused.statusCode, refused.body).toBe(409);
      expect(refused.json().error).toMatchObject({ code: 'PC_ERR_LOCKOUT', field: 'override_lockout' });
      const reason = 'moving management to the out-of-band port first';
      const staged = await ok(
        h,
        'DELETE',
        `${gw(`firewall-rules/${target}`)}?override_lockout=true&override_reason=${encodeURIComponent(reason)}`,
        undefined,
        201,
      );
      expect(staged).toMatchObject({ status: 'pending', override_lockout: true, override_reason: reason });
      expect(staged.preview).toMatchObject({ available: true, lockout: 'cut', lockout_check: { status: 'cut' } });
      await ok(h, 'POST', `/api/v1/firewall/pending/${staged.id}/discard`);
      const bad = await h.call({
        method: 'PATCH',
        url: `/api/v1/firewall/gateways/${gatewayId}`,
        token: h.ownerToken,
        payload: { management_source: 'not-an-ip' },
      });
      expect(bad.statusCode).toBe(400);
      expect(bad.json().error.field).toBe('management_source');
    } finally {
      await h.call({
        method: 'PATCH',
        url: `/api/v1/firewall/gateways/${gatewayId}`,
        token: h.ownerToken,
        payload: { management_source: null, management_interface: null },
      });
    }
  });
});
