/**
 * @module Webhooks end to end on PGlite with real receivers on 127.0.0.1: transition events reach a webhook
 * signed (HMAC-SHA256 over timestamp + body) and verified by the receiver; type and site filters; the secret is
 * shown once and stored encrypted; retries with backoff, the delivery log, auto-disable; a hanging receiver
 * neither blocks the bus nor other webhooks; permission and site scoping of the CRUD routes.
 */
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { storeEvents } from '../../src/events/bus.ts';
import { recordGatewayHealth, recordSyncOutcome } from '../../src/firewall/health.ts';
import { parseHostAllowList } from '../../src/net/ssrf.ts';
import { webhookDeliveries, webhooks } from '../../src/store/schema/events.ts';
import { DEFAULT_ORG_ID } from '../../src/store/schema/tenancy.ts';
import { testContext } from '../helpers/store.ts';
import { type FirewallHarness, startFirewallHarness } from '../firewall/harness.ts';
import { type Receiver, startReceiver } from './receiver.ts';

let h: FirewallHarness;
let siteA: string;
let siteB: string;
let gwA: string;
let gwB: string;
const receivers: Receiver[] = [];
const ctx = () => testContext(h.store, { keyring: h.keyring });

beforeAll(async () => {
  h = await startFirewallHarness('pglite');
  h.app.webhooks.tune({
    allowHosts: parseHostAllowList('127.0.0.1'),
    // Generous: a loaded test machine must not turn a prompt 200 into a timeout (and a retry).
    timeoutMs: 3_000,
    backoffMs: [50],
    pollIntervalMs: 50,
    maxAttempts: 3,
    disableAfter: 50,
  });
  siteA = await h.site('hooks-a');
  siteB = await h.site('hooks-b');
  gwA = await h.gateway(siteA, 'hooks-gw-a');
  gwB = await h.gateway(siteB, 'hooks-gw-b');
});
afterAll(async () => {
  await h?.close();
  for (const r of receivers) await r.close();
});
beforeEach(async () => {
  // Each test starts with no enabled webhook, so earlier ones do not receive its events.
  await h.store.db.update(webhooks).set({ enabled: false });
});

async function receiverHook(body: Record<string, unknown> = {}, token = h.ownerToken) {
  const receiver = await startReceiver();
  receivers.push(receiver);
  const made = await h.ok('POST', '/api/v1/webhooks', { name: `hook-${receivers.length}`, url: receiver.url, ...body }, 201, token);
  receiver.secret = made.secret;
  return { receiver, hook: made };
}

it('a gateway going unreachable reaches the webhook once, signed; the same state again sends nothing', async () => {
  const { receiver, hook } = await receiverHook({ event_types: ['firewall.event.gateway_unreachable', 'firewall.event.gateway_online'] });
  expect(hook.secret).toMatch(/^whsec_/);
  const events = await recordGatewayHealth(ctx(), h.app.events, gwA, { online: false });
  expect(events.map((e) => e.type)).toEqual(['firewall.event.gateway_unreachable']);
  expect(await recordGatewayHealth(ctx(), h.app.events, gwA, { online: false })).toEqual([]);
  await recordGatewayHealth(ctx(), h.app.events, gwA, { online: true });
  const got = await receiver.waitFor(2);
  await h.app.webhooks.idle();
  expect(got.map((r) => r.json.type)).toEqual(['firewall.event.gateway_unreachable', 'firewall.event.gateway_online']);
  expect(got.every((r) => r.signatureValid)).toBe(true);
  expect(got[0]?.json).toMatchObject({ site_id: siteA, gateway_id: gwA, org_id: DEFAULT_ORG_ID, webhook_id: hook.id });
  expect(got[0]?.headers['x-portcullis-event']).toBe('firewall.event.gateway_unreachable');
  // A body altered in transit no longer verifies.
  const { verify } = await import('./receiver.ts');
  expect(verify(hook.secret, got[0]!.headers, got[0]!.body.replace(siteA, siteB))).toBe(false);
  const log = await h.ok('GET', `/api/v1/webhooks/${hook.id}/deliveries`);
  expect(log.items.map((d: { status: string }) => d.status)).toEqual(['succeeded', 'succeeded']);
  expect(log.items[0]).toMatchObject({ attempts: 1, response_status: 200, error: null });
});

it('WAN and sync transitions raise their events only on change', async () => {
  const c = ctx();
  expect((await recordGatewayHealth(c, null, gwB, { online: true, wan: { WAN_DHCP: true } })).map((e) => e.type)).toEqual([]);
  expect((await recordGatewayHealth(c, null, gwB, { online: true, wan: { WAN_DHCP: false } })).map((e) => e.type)).toEqual([
    'firewall.event.wan_down',
  ]);
  expect(await recordGatewayHealth(c, null, gwB, { online: true, wan: { WAN_DHCP: false } })).toEqual([]);
  expect((await recordGatewayHealth(c, null, gwB, { online: true, wan: { WAN_DHCP: true } })).map((e) => e.type)).toEqual([
    'firewall.event.wan_up',
  ]);
  expect((await recordSyncOutcome(c, null, gwB, { ok: false, code: 'timeout', message: 'x' })).map((e) => e.type)).toEqual([
    'gateway.sync.failed',
  ]);
  expect(await recordSyncOutcome(c, null, gwB, { ok: false, code: 'timeout', message: 'x' })).toEqual([]);
  expect((await recordSyncOutcome(c, null, gwB, { ok: true })).map((e) => e.type)).toEqual(['gateway.sync.completed']);
  expect(await recordSyncOutcome(c, null, gwB, { ok: true })).toEqual([]);
});

it('filters by event type and by site', async () => {
  const { receiver: onlyA } = await receiverHook({ site_ids: [siteA] });
  const { receiver: onlyAccess } = await receiverHook({ event_types: ['grant.created'] });
  await recordGatewayHealth(ctx(), h.app.events, gwB, { online: false });
  await recordGatewayHealth(ctx(), h.app.events, gwA, { online: false });
  const stored = await storeEvents(h.store.db, [
    { type: 'grant.created', orgId: DEFAULT_ORG_ID, siteId: siteB, payload: { ip: '192.0.2.1' } },
  ]);
  h.app.events.emit(stored);
  await onlyA.waitFor(1);
  await onlyAccess.waitFor(1);
  await h.app.webhooks.idle();
  await new Promise((r) => setTimeout(r, 150));
  expect(onlyA.received.map((r) => [r.json.type, r.json.site_id])).toEqual([['firewall.event.gateway_unreachable', siteA]]);
  expect(onlyAccess.received.map((r) => r.json.type)).toEqual(['grant.created']);
});

it('the secret is shown once and stored only as a keyring ciphertext', async () => {
  const { hook } = await receiverHook();
  const read = await h.ok('GET', `/api/v1/webhooks/${hook.id}`);
  expect(read.secret).toBeUndefined();
  expect(JSON.stringify(await h.ok('GET', '/api/v1/webhooks'))).not.toContain(hook.secret);
  const [row] = await h.store.db.select().from(webhooks).where(eq(webhooks.id, hook.id));
  expect(row?.secretEnc).toBeTruthy();
  expect(row?.secretEnc).not.toContain(hook.secret.slice(6));
});

it('retries with backoff until the receiver accepts, logging each failure', async () => {
  const { receiver, hook } = await receiverHook();
  receiver.script = [500, 503];
  await recordSyncOutcome(ctx(), h.app.events, gwA, { ok: false, code: 'x', message: 'y' });
  const got = await receiver.waitFor(3);
  await h.app.webhooks.idle();
  expect(got.map((r) => r.json.id)).toEqual([got[0]?.json.id, got[0]?.json.id, got[0]?.json.id]);
  const [delivery] = (await h.ok('GET', `/api/v1/webhooks/${hook.id}/deliveries`)).items;
  expect(delivery).toMatchObject({ status: 'succeeded', attempts: 3, response_status: 200 });
  expect((await h.ok('GET', `/api/v1/webhooks/${hook.id}`)).consecutive_failures).toBe(0);
});

it('gives up a delivery after maxAttempts (failed, last error kept) while the webhook stays enabled', async () => {
  const { receiver, hook } = await receiverHook();
  receiver.script = [500, 502, 500, 500];
  await recordSyncOutcome(ctx(), h.app.events, gwA, { ok: true });
  await receiver.waitFor(3);
  await h.app.webhooks.idle();
  await new Promise((r) => setTimeout(r, 300));
  await h.app.webhooks.idle();
  expect(receiver.received).toHaveLength(3);
  const [delivery] = (await h.ok('GET', `/api/v1/webhooks/${hook.id}/deliveries?status=failed`)).items;
  expect(delivery).toMatchObject({ status: 'failed', attempts: 3, response_status: 500, error: 'http_500' });
  expect(await h.ok('GET', `/api/v1/webhooks/${hook.id}`)).toMatchObject({ enabled: true, consecutive_failures: 3 });
});

it('gives up after maxAttempts and disables a webhook after repeated failure until it is enabled again', async () => {
  h.app.webhooks.tune({ disableAfter: 4 });
  try {
    const { receiver, hook } = await receiverHook();
    receiver.script = Array(20).fill(500);
    await recordSyncOutcome(ctx(), h.app.events, gwB, { ok: false, code: 'a', message: 'b' });
    await recordSyncOutcome(ctx(), h.app.events, gwB, { ok: true });
    await receiver.waitFor(4);
    await h.app.webhooks.idle();
    await new Promise((r) => setTimeout(r, 200));
    const after = await h.ok('GET', `/api/v1/webhooks/${hook.id}`);
    expect(after).toMatchObject({ enabled: false, consecutive_failures: 4 });
    expect(after.disabled_reason).toContain('4 consecutive failed deliveries');
    const log = (await h.ok('GET', `/api/v1/webhooks/${hook.id}/deliveries`)).items;
    expect(log.every((d: { status: string }) => d.status === 'failed')).toBe(true);
    expect(log.some((d: { error: string }) => d.error.startsWith('webhook_disabled; last: '))).toBe(true);
    // Two deliveries run side by side, so one more attempt may have been in flight when it was disabled.
    const sent = receiver.received.length;
    expect(sent).toBeLessThanOrEqual(5);
    await recordSyncOutcome(ctx(), h.app.events, gwB, { ok: false, code: 'c', message: 'd' });
    await new Promise((r) => setTimeout(r, 300));
    await h.app.webhooks.idle();
    expect(receiver.received).toHaveLength(sent);
    const enabled = await h.ok('PATCH', `/api/v1/webhooks/${hook.id}`, { enabled: true });
    expect(enabled).toMatchObject({ enabled: true, consecutive_failures: 0, disabled_reason: null });
  } finally {
    h.app.webhooks.tune({ disableAfter: 50 });
  }
});

it('a hanging receiver blocks neither the bus nor other webhooks; its attempt times out', async () => {
  h.app.webhooks.tune({ timeoutMs: 2_500 });
  try {
    const { receiver: hang, hook: hangHook } = await receiverHook();
    hang.script = ['hang', 'hang', 'hang'];
    const { receiver: fine } = await receiverHook();
    const started = Date.now();
    await recordGatewayHealth(ctx(), h.app.events, gwA, { online: true });
    await recordGatewayHealth(ctx(), h.app.events, gwA, { online: false });
    // The changes commit and emit without waiting for any receiver.
    expect(Date.now() - started).toBeLessThan(1_000);
    await fine.waitFor(2, 2_400);
    await hang.waitFor(1);
    const row = async () =>
      (await h.store.db.select().from(webhookDeliveries).where(eq(webhookDeliveries.webhookId, hangHook.id)))[0];
    // The other webhook was served while the hanging receiver still held its first attempt.
    expect((await row())?.attempts).toBe(0);
    const deadline = Date.now() + 5_000;
    while ((await row())?.error == null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const delivery = await row();
    expect(delivery).toMatchObject({ error: 'timeout', status: 'pending' });
    expect(delivery?.durationMs).toBeGreaterThanOrEqual(2_400);
    expect(delivery?.durationMs).toBeLessThan(5_000);
  } finally {
    h.app.webhooks.tune({ timeoutMs: 3_000 });
  }
});

it('managing webhooks needs firewall.admin on their sites; others are 404; bad input names the field', async () => {
  const operator = await h.makeUser('hooks-op', 'operator');
  expect((await h.call({ method: 'GET', url: '/api/v1/webhooks', token: operator.token })).statusCode).toBe(403);
  const adminA = await h.makeUser('hooks-admin-a', 'admin', [siteA]);
  const receiver = await startReceiver();
  receivers.push(receiver);
  const everywhere = await h.call({ method: 'POST', url: '/api/v1/webhooks', token: adminA.token, payload: { name: 'x1', url: receiver.url } });
  expect(everywhere.statusCode).toBe(403);
  const mine = await h.ok('POST', '/api/v1/webhooks', { name: 'x2', url: receiver.url, site_ids: [siteA] }, 201, adminA.token);
  const theirs = await h.ok('POST', '/api/v1/webhooks', { name: 'x3', url: receiver.url, site_ids: [siteB] }, 201);
  expect((await h.call({ method: 'GET', url: `/api/v1/webhooks/${theirs.id}`, token: adminA.token })).statusCode).toBe(404);
  expect((await h.call({ method: 'DELETE', url: `/api/v1/webhooks/${theirs.id}`, token: adminA.token })).statusCode).toBe(404);
  const listed = (await h.ok('GET', '/api/v1/webhooks', undefined, 200, adminA.token)).items.map((w: { id: string }) => w.id);
  expect(listed).toContain(mine.id);
  expect(listed).not.toContain(theirs.id);
  const widen = await h.call({ method: 'PATCH', url: `/api/v1/webhooks/${mine.id}`, token: adminA.token, payload: { site_ids: null } });
  expect(widen.statusCode).toBe(403);
  for (const [payload, field] of [
    [{ name: 'y1', url: 'http://127.0.0.1:1/x' }, 'url'],
    [{ name: 'y2', url: 'ftp://example.com/x' }, 'url'],
    [{ name: 'y3', url: receiver.url, event_types: ['nope'] }, 'event_types.0'],
    [{ name: 'y4', url: receiver.url, site_ids: ['00000000-0000-4000-8000-00000000dead'] }, 'site_ids.0'],
  ] as const) {
    h.app.webhooks.tune({ allowHosts: parseHostAllowList(field === 'url' ? '' : '127.0.0.1') });
    const res = await h.call({ method: 'POST', url: '/api/v1/webhooks', token: h.ownerToken, payload });
    expect(res.statusCode, JSON.stringify(payload)).toBe(400);
    expect(res.json().error.field).toBe(field);
  }
  h.app.webhooks.tune({ allowHosts: parseHostAllowList('127.0.0.1') });
  await h.ok('DELETE', `/api/v1/webhooks/${mine.id}`, undefined, 204, adminA.token);
  expect((await h.call({ method: 'GET', url: `/api/v1/webhooks/${mine.id}`, token: h.ownerToken })).statusCode).toBe(404);
});
