/**
 * @module `GET /api/v1/events/stream` over a real socket: events arrive as server-sent events, only those the
 * principal may read (event type permission on the event's site), narrowed by `types`; a reconnect with
 * `Last-Event-ID` replays what was missed; bad `types` is a 400 naming the field.
 */
import { get, type IncomingMessage } from 'node:http';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { storeEvents } from '../../src/events/bus.ts';
import { recordGatewayHealth } from '../../src/firewall/health.ts';
import { DEFAULT_ORG_ID } from '../../src/store/schema/tenancy.ts';
import { type FirewallHarness, startFirewallHarness } from '../firewall/harness.ts';
import { testContext } from '../helpers/store.ts';

let h: FirewallHarness;
let base: string;
let siteA: string;
let siteB: string;
let gwA: string;
let gwB: string;

beforeAll(async () => {
  h = await startFirewallHarness('pglite');
  base = await h.app.listen({ host: '127.0.0.1', port: 0 });
  siteA = await h.site('sse-a');
  siteB = await h.site('sse-b');
  gwA = await h.gateway(siteA, 'sse-gw-a');
  gwB = await h.gateway(siteB, 'sse-gw-b');
});
afterAll(async () => {
  await h?.close();
});

interface Frame {
  id: number;
  event: string;
  data: Record<string, any>;
}

/** Opens the stream; collects frames until closed. */
function open(token: string, query = '', headers: Record<string, string> = {}) {
  const frames: Frame[] = [];
  let response: IncomingMessage | null = null;
  let buffer = '';
  const ready = new Promise<IncomingMessage>((resolve, reject) => {
    const req = get(`${base}/api/v1/events/stream${query}`, { headers: { authorization: `Bearer ${token}`, ...headers } }, (res) => {
      response = res;
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const fields = Object.fromEntries(
            block.split('\n').filter((l) => !l.startsWith(':')).map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 2)]),
          );
          if (fields.data) frames.push({ id: Number(fields.id), event: fields.event as string, data: JSON.parse(fields.data) });
        }
      });
      resolve(res);
    });
    req.on('error', reject);
  });
  return {
    frames,
    ready,
    async until(count: number, timeoutMs = 3_000) {
      const deadline = Date.now() + timeoutMs;
      while (frames.length < count && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      return frames;
    },
    close: () => (response)?.destroy(),
  };
}

it('streams the events a principal may read, site- and permission-scoped', async () => {
  const viewerA = await h.makeUser('sse-viewer-a', 'viewer', [siteA]);
  const noAccess = await h.makeUser('sse-nobody');
  const owner = open(h.ownerToken);
  const a = open(viewerA.token);
  const none = open(noAccess.token);
  const res = await owner.ready;
  expect(res.statusCode).toBe(200);
  expect(res.headers['content-type']).toContain('text/event-stream');
  await a.ready;
  await none.ready;
  const ctx = testContext(h.store, { keyring: h.keyring });
  await recordGatewayHealth(ctx, h.app.events, gwB, { online: false });
  await recordGatewayHealth(ctx, h.app.events, gwA, { online: false });
  const access = await storeEvents(h.store.db, [{ type: 'grant.created', orgId: DEFAULT_ORG_ID, siteId: siteA, payload: {} }]);
  h.app.events.emit(access);
  await owner.until(3);
  await a.until(2);
  await new Promise((r) => setTimeout(r, 100));
  expect(owner.frames.map((f) => [f.event, f.data.site_id])).toEqual([
    ['firewall.event.gateway_unreachable', siteB],
    ['firewall.event.gateway_unreachable', siteA],
    ['grant.created', siteA],
  ]);
  expect(owner.frames.every((f) => f.id === f.data.id && f.id > 0)).toBe(true);
  // The viewer of site A: firewall.view and access.view there, nothing of site B.
  expect(a.frames.map((f) => [f.event, f.data.site_id])).toEqual([
    ['firewall.event.gateway_unreachable', siteA],
    ['grant.created', siteA],
  ]);
  expect(none.frames).toEqual([]);
  for (const s of [owner, a, none]) s.close();
});

it('narrows by types and replays missed events after Last-Event-ID', async () => {
  const ctx = testContext(h.store, { keyring: h.keyring });
  const first = await recordGatewayHealth(ctx, h.app.events, gwA, { online: true });
  await recordGatewayHealth(ctx, h.app.events, gwB, { online: true });
  const lastSeen = (first[0]?.id as number) - 1;
  const replay = open(h.ownerToken, '?types=firewall.event.gateway_online', { 'last-event-id': String(lastSeen) });
  await replay.ready;
  await replay.until(2);
  await recordGatewayHealth(ctx, h.app.events, gwA, { online: false });
  await recordGatewayHealth(ctx, h.app.events, gwA, { online: true });
  await replay.until(3);
  await new Promise((r) => setTimeout(r, 100));
  expect(replay.frames.map((f) => [f.event, f.data.gateway_id])).toEqual([
    ['firewall.event.gateway_online', gwA],
    ['firewall.event.gateway_online', gwB],
    ['firewall.event.gateway_online', gwA],
  ]);
  const ids = replay.frames.map((f) => f.id);
  expect([...ids].sort((x, y) => x - y)).toEqual(ids);
  replay.close();
});

it('refuses unknown types (400 naming types) and anonymous callers (401)', async () => {
  const bad = await h.call({ method: 'GET', url: '/api/v1/events/stream?types=nope', token: h.ownerToken });
  expect(bad.statusCode).toBe(400);
  expect(bad.json().error.field).toBe('types');
  expect((await h.call({ method: 'GET', url: '/api/v1/events/stream' })).statusCode).toBe(401);
});
