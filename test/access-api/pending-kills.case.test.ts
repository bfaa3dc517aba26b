/**
 * @module Pending state kills survive a restart (ADR 0222), on both stores: an address revoked while the firewall
 * refuses the state kill is off the alias and its kill is stored; a new access runtime on the same store (a
 * restarted process, or another node taking the alias over) does the kill on its first run and clears it.
 */
import { describe, expect, it } from 'vitest';
import { AccessRuntime } from '../../src/access/service/runtime.ts';
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
  });
}
