/**
 * @module Pending state kills survive a restart (ADR 0222), on both stores: an address revoked while the firewall
 * refuses the state kill is off the alias and its kill is stored; a new access runtime on the same store (a
 * restarted process, or another node taking the alias over) does the kill on its first run and clears it. Kills
 * owed on an alias no active knoc uses any more are pruned at start and hourly (ADR 0289), and only those.
 */
import { describe, expect, it } from 'vitest';
import { pruneOrphanedPendingKills } from '../../src/access/service/pending-kills.ts';
import { AccessRuntime } from '../../src/access/service/runtime.ts';
import { startBackground } from '../../src/server/background.ts';
import type { StoreKindEntry } from '../helpers/store.ts';
import { startAccessHarness } from './harness.ts';

export function pendingKillSuite(kind: StoreKindEntry): void {
  describe.skipIf(!kind.available)(`pending state kills (${kind.kind})${kind.skipReason ? ` — ${kind.skipReason}` : ''}`, () => {
    it('a kill the firewall refused is stored and done by the next runtime on the same store', async () => {
      const h = await startAccessHarness(kind.kind);
      try {
        const gatewayId = await h.gateway(await h.site());
        const knoc = await h.knoc({ gateway_id: gatewayId, alias_name: 'pc_kill' });
        const granted = await h.call({
          method: 'POST',
          url: '/api/v1/access/grants',
          token: h.ownerToken,
          payload: { knoc_id: knoc.id, ip: '192.0.2.77', reason: 'kill test' },
        });
        expect(granted.statusCode).toBe(201);
        await h.settled();
        expect(h.applied('pc_kill')).toEqual(['192.0.2.77']);

        h.emulator.injectFault({ kind: 'status', status: 500, path: '/api/v2/firewall/states', method: 'DELETE', times: 1_000 });
        const revoked = await h.call({
          method: 'DELETE',
          url: `/api/v1/access/grants/${granted.json().id as string}`,
          token: h.ownerToken,
        });
        expect(revoked.statusCode).toBeLessThan(300);
        await h.settled();
        expect(h.applied('pc_kill')).toEqual([]);
        const owed = await h.store.query<{ ip: string }>(
          `select ip from access_pending_kills where alias_name = 'pc_kill'`,
        );
        expect(owed.map((row) => row.ip)).toEqual(['192.0.2.77']);

        await h.app.access.stop();
        h.emulator.clearFaults();
        h.emulator.clearRequests();
        const fresh = new AccessRuntime(h.store, h.keyring, h.app.log, h.app.access.settings);
        await fresh.start();
        try {
          await fresh.settled();
          const kills = h.emulator
            .requests()
            .filter((r) => r.method === 'DELETE' && r.path === '/api/v2/firewall/states' && r.status === 200);
          expect(kills.length).toBeGreaterThan(0);
          expect(kills.every((r) => r.query.includes('192'))).toBe(true);
          const left = await h.store.query(`select ip from access_pending_kills where alias_name = 'pc_kill'`);
          expect(left).toEqual([]);
        } finally {
          await fresh.stop();
        }
      } finally {
        await h.close();
      }
    }, 60_000);

    it('kills owed on an alias no active knoc uses are pruned (at start and hourly), those in use are kept', async () => {
      const h = await startAccessHarness(kind.kind);
      try {
        const gatewayId = await h.gateway(await h.site());
        const first = await h.knoc({ gateway_id: gatewayId, alias_name: 'pc_prune' });
        const granted = await h.call({
          method: 'POST',
          url: '/api/v1/access/grants',
          token: h.ownerToken,
          payload: { knoc_id: first.id, ip: '192.0.2.78', reason: 'prune test' },
        });
        expect(granted.statusCode).toBe(201);
        await h.settled();
        // The firewall refuses every kill from here on, so the kill stays owed through the deletes below.
        h.emulator.injectFault({ kind: 'status', status: 500, path: '/api/v2/firewall/states', method: 'DELETE', times: 10_000 });
        await h.call({ method: 'DELETE', url: `/api/v1/access/grants/${granted.json().id as string}`, token: h.ownerToken });
        await h.settled();
        const owed = () => h.store.query<{ ip: string }>(`select ip from access_pending_kills where alias_name = 'pc_prune'`);
        expect(await owed()).toEqual([{ ip: '192.0.2.78' }]);

        // A second knoc on the same alias keeps it in use when the first is deleted.
        const second = await h.knoc({ gateway_id: gatewayId, alias_name: 'pc_prune' });
        expect((await h.call({ method: 'DELETE', url: `/api/v1/access/knocs/${first.id}`, token: h.ownerToken })).statusCode).toBe(204);
        await h.settled();
        expect(await pruneOrphanedPendingKills(h.store)).toBe(0);
        expect(await owed()).toHaveLength(1);

        // The last one gone, then the gateway too: nothing will ever reconcile the alias again.
        expect((await h.call({ method: 'DELETE', url: `/api/v1/access/knocs/${second.id}`, token: h.ownerToken })).statusCode).toBe(204);
        await h.settled();
        expect((await h.call({ method: 'DELETE', url: `/api/v1/firewall/gateways/${gatewayId}`, token: h.ownerToken })).statusCode).toBe(204);
        expect(await owed()).toHaveLength(1);
        // The server's background task does it at start (then hourly).
        const stop = await startBackground({ store: h.store, config: h.app.config, log: h.app.log });
        await stop();
        expect(await owed()).toEqual([]);
        expect(await pruneOrphanedPendingKills(h.store)).toBe(0);
      } finally {
        await h.close();
      }
    }, 60_000);
  });
}
