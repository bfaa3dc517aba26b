/**
 * @module Shared suite: the access API end to end on one store kind — real app, real store, real pfRest
 * emulator over HTTPS on loopback. Assertions read the emulator's applied pf table and configured alias,
 * never timings.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StoreKind } from '../../src/store/db.ts';
import { type AccessHarness, ALIAS, startAccessHarness } from './harness.ts';

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
    const res = await h.call({
      method: 'POST',
      url: '/api/v1/portal/login',
      payload: { username, password },
    });
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

      const out = await h.call({
        method: 'POST',
        url: '/api/v1/portal/logout',
        headers: { cookie, 'x-csrf-token': csrf },
      });
      expect(out.json()).toEqual({ revoked: 1 });
      await h.settled();
      expect(h.applied()).toEqual([]);
      const list = await h.call({
        method: 'GET',
        url: `/api/v1/access/grants?knoc_id=${knoc.id}`,
        token: h.ownerToken,
      });
      expect(list.json().items).toMatchObject([
        { status: 'ended', end_reason: 'logout', method: 'login', sync_state: 'removed' },
      ]);
      await h.call({ method: 'DELETE', url: `/api/v1/access/knocs/${knoc.id}`, token: h.ownerToken });
      await h.settled();
    });

    it('portal/me lists the knocs the person may use, with the firewall refusal code while it refuses', async () => {
      const dora = await h.makeUser('dora');
      const knoc = await h.knoc({ gateway_id: gatewayId, alias_name: 'pc_portal_me', users: [dora.id] });
      await h.knoc({ gateway_id: gatewayId, alias_name: 'pc_not_doras' });
      const { cookie } = await signIn('dora', dora.password);
      await h.settled();
      const me = async () => (await h.call({ method: 'GET', url: '/api/v1/portal/me', headers: { cookie } })).json();
      expect((await me()).knocs).toEqual([
        {
          knoc_id: knoc.id,
          knoc_name: knoc.name,
          grant_ttl_seconds: expect.any(Number),
          max_ttl_seconds: expect.any(Number),
          requires_justification: false,
          requires_approval: false,
          error: null,
        },
      ]);
      h.emulator.injectFault({ kind: 'status', status: 401, times: 1_000_000 });
      try {
        await signIn('dora', dora.password);
        const deadline = Date.now() + 15_000;
        let error: { code: string; message: string } | null = null;
        while (Date.now() < deadline && error === null) {
          error = (await me()).knocs[0].error;
          if (error === null) await new Promise((resolve) => setTimeout(resolve, 50));
        }
        expect(error).toMatchObject({ code: 'PFS001' });
        expect(error?.message).toContain('KeyAuth');
        expect(error?.message).not.toContain(h.emulator.apiKey);
      } finally {
        h.emulator.clearFaults();
      }
      await h.settled();
    });

    it('two people behind one address: it stays until the last of them signs out', async () => {
      const bob = await h.makeUser('bob');
      const carol = await h.makeUser('carol');
      const knoc = await h.knoc({
        gateway_id: gatewayId,
        alias_name: 'pc_shared',
        users: [bob.id, carol.id],
      });
      const b = await signIn('bob', bob.password);
      const c = await signIn('carol', carol.password);
      await h.settled();
      expect(h.applied('pc_shared')).toEqual(['127.0.0.1']);
      await h.call({
        method: 'POST',
        url: '/api/v1/portal/logout',
        headers: { cookie: b.cookie, 'x-csrf-token': b.csrf },
      });
      await h.settled();
      expect(h.applied('pc_shared')).toEqual(['127.0.0.1']);
      await h.call({
        method: 'POST',
        url: '/api/v1/portal/logout',
        headers: { cookie: c.cookie, 'x-csrf-token': c.csrf },
      });
      await h.settled();
      expect(h.applied('pc_shared')).toEqual([]);
      const status = await h.call({
        method: 'GET',
        url: `/api/v1/access/knocs/${knoc.id}/status`,
        token: h.ownerToken,
      });
      expect(status.json()).toMatchObject({ desired_count: 0, device_count: 0, pending: false, error: null });
    });

    it('a restarted server converges the device to the store (grants made while it was down are applied)', async () => {
      const knoc = await h.knoc({ gateway_id: gatewayId, alias_name: 'pc_restart' });
      const grant = await h.call({
        method: 'POST',
        url: '/api/v1/access/grants',
        token: h.ownerToken,
        payload: { knoc_id: knoc.id, ip: '192.0.2.200', reason: 'restart' },
      });
      await h.settled();
      // The device loses the alias (a restore, a hand edit); a new runtime on the same store repairs it at start.
      h.emulator.reset();
      expect(h.applied('pc_restart')).toEqual([]);
      await h.app.access.stop();
      const { AccessRuntime } = await import('../../src/access/service/runtime.ts');
      const fresh = new AccessRuntime(h.store, h.keyring, h.app.log, h.app.access.settings);
      await fresh.start();
      try {
        await fresh.settled();
        expect(h.applied('pc_restart')).toEqual(['192.0.2.200']);
        expect(grant.statusCode).toBe(201);
      } finally {
        await fresh.stop();
      }
    });
  });
}
