/**
 * @module Shared suite: the access API end to end on one store kind — real app, real store, real pfRest
 * emulator over HTTPS on loopback. Assertions read the emulator's applied pf table and configured alias,
 * never timings.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StoreKind } from '../../src/store/db.ts';
import { ALIAS, type AccessHarness, startAccessHarness } from './harness.ts';

export function runFlowSuite(kind: StoreKind): void {
  let h: AccessHarness;
  let siteId: string;
  let gatewayId: string;
  beforeAll(async () => {
    h = await startAccessHarness(kind);
    siteId = await h.site();
    gatewayId = await h.gateway(siteId);
  });
  afterAll(async () => {
    await h?.close();
  });

  async function signIn(username: string, password: string) {
    const res = await h.call({ method: 'POST', url: '/api/v1/portal/login', payload: { username, password } });
    expect(res.statusCode, res.body).toBe(200);
    const cookie = res.cookies.find((c) => c.name === 'pc_session');
    return { body: res.json(), cookie: `pc_session=${cookie?.value}`, csrf: res.json().csrf_token as string };
  }

  describe(`access flow (${kind})`, () => {
    it('sign-in puts the client address on the alias; sign-out takes it off', async () => {
      const alice = await h.makeUser('alice');
      const knoc = await h.knoc({ gateway_id: gatewayId, users: [alice.id] });
      const { body, cookie, csrf } = await signIn('alice', alice.password);
      expect(body.ip).toBe('127.0.0.1');
      expect(body.granted).toHaveLength(1);
      expect(body.granted[0]).toMatchObject({ knoc_id: knoc.id, knoc_name: knoc.name });
      expect(body.refused).toEqual([]);
      await h.settled();
      expect(h.applied()).toEqual(['127.0.0.1']);
      const configured = h.emulator.state().aliases.find((a) => a.name === ALIAS);
      expect(configured?.detail).toEqual([`portcullis:${body.granted[0].grant_id}`]);

      const me = await h.call({ method: 'GET', url: '/api/v1/portal/me', headers: { cookie } });
      expect(me.json().grants).toMatchObject([{ grant_id: body.granted[0].grant_id, sync_state: 'live' }]);
      expect(me.json().grants[0].seconds_left).toBeGreaterThan(0);

      const out = await h.call({ method: 'POST', url: '/api/v1/portal/logout', headers: { cookie, 'x-csrf-token': csrf } });
      expect(out.json()).toEqual({ revoked: 1 });
      await h.settled();
      expect(h.applied()).toEqual([]);
      const list = await h.call({ method: 'GET', url: `/api/v1/access/grants?knoc_id=${knoc.id}`, token: h.ownerToken });
      expect(list.json().items).toMatchObject([{ status: 'ended', end_reason: 'logout', method: 'login', sync_state: 'removed' }]);
      await h.call({ method: 'DELETE', url: `/api/v1/access/knocs/${knoc.id}`, token: h.ownerToken });
      await h.settled();
    });
  });
}
