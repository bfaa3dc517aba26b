/**
 * @module The portal over a listening server (the client address is the real socket peer), `X-Forwarded-For`
 * believed only from `PORTCULLIS_TRUST_PROXY` proxies, and access events on the in-process bus.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { StoredEvent } from '../../src/events/types.ts';
import { parseTrustedProxies } from '../../src/net/client-ip.ts';
import { type AccessHarness, startAccessHarness } from './harness.ts';

let h: AccessHarness;
let gatewayId: string;
let url: string;

beforeAll(async () => {
  h = await startAccessHarness('pglite', { trustedProxies: parseTrustedProxies('192.0.2.254/32') });
  gatewayId = await h.gateway(await h.site());
  url = await h.app.listen({ host: '127.0.0.1', port: 0 });
});
afterAll(async () => {
  await h?.close();
});

it('a knock over TCP grants the socket peer and emits grant.created on the bus', async () => {
  const bot = await h.makeUser('tcpbot');
  const knoc = await h.knoc({ gateway_id: gatewayId, alias_name: 'pc_tcp', users: [bot.id] });
  const seen: StoredEvent[] = [];
  const off = h.app.access.events.on((event) => seen.push(event));
  try {
    const res = await fetch(`${url}/api/v1/portal/knock`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${bot.token}`,
        'content-type': 'application/json',
        'x-forwarded-for': '203.0.113.9',
      },
      body: JSON.stringify({ knoc: knoc.name }),
    });
    const body = (await res.json()) as { ip: string; granted: { grant_id: string }[] };
    expect(res.status).toBe(200);
    // 127.0.0.1 is not a trusted proxy: the header is ignored.
    expect(body.ip).toBe('127.0.0.1');
    await h.settled();
    expect(h.applied('pc_tcp')).toEqual(['127.0.0.1']);
    expect(seen.filter((e) => e.type === 'grant.created').map((e) => e.grantId)).toEqual([
      body.granted[0]?.grant_id,
    ]);
  } finally {
    off();
  }
});

it('believes X-Forwarded-For only from a trusted proxy', async () => {
  const user = await h.makeUser('proxied');
  await h.knoc({ gateway_id: gatewayId, alias_name: 'pc_xff', users: [user.id] });
  const login = (remoteAddress: string) =>
    h.call({
      method: 'POST',
      url: '/api/v1/portal/login',
      payload: { username: user.username, password: user.password },
      headers: { 'x-forwarded-for': '198.51.100.23' },
      remoteAddress,
    });
  expect((await login('192.0.2.254')).json().ip).toBe('198.51.100.23');
  expect((await login('192.0.2.253')).json().ip).toBe('192.0.2.253');
});
