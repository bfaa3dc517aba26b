/**
 * @module `kill -9` mid-apply, restart, converge: a server process takes a storm of admin grants and revocations
 * and is SIGKILLed while API requests are in flight and its apply request is open on the device: the emulator holds
 * the storm's first `POST /api/v2/firewall/apply` unanswered, and the kill waits until the emulator has received
 * it. A new process on the same data directory must bring the device to exactly the desired set: every grant the
 * store holds as live is on the applied alias (and `live`), every ended one is gone, and every grant the API
 * confirmed before the crash is there — nothing lost. Only the store is trusted; requests that died with the
 * process may or may not have been committed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PfRestEmulator, startPfRestEmulator } from '../../src/emulators/pfrest/index.ts';
import { accessWorld, appliedAddresses, listGrants } from './support/access-world.ts';
import { caller, eventually, ownerToken, type ServerProcess, spawnServer } from './support/server-process.ts';

const ALIAS = 'pc_storm';
const ENV = { PORTCULLIS_ALLOW_GATEWAY_HOSTS: '127.0.0.1', PORTCULLIS_LAB: 'off' };
const ip = (n: number) => `10.77.${n >> 8}.${n & 255}`;

const APPLY_PATH = '/api/v2/firewall/apply';

describe('convergence after kill -9 during an apply (server process, emulator with a 500 ms apply)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'portcullis-e2e-crash-'));
  let emulator: PfRestEmulator;
  let server: ServerProcess;

  beforeAll(async () => {
    emulator = await startPfRestEmulator({ applyDelayMs: 500 });
    server = await spawnServer({ dataDir, env: ENV });
  }, 300_000);

  afterAll(async () => {
    await server?.stop('SIGKILL');
    await emulator?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('killed while its apply is open on the device and grants are being confirmed, a restart converges to the store: confirmed live grants applied, ended ones gone, nothing lost', async () => {
    const token = await ownerToken(server.url);
    const world = await accessWorld(server.url, token, emulator);
    const knoc = await world.knoc({ name: 'storm', alias_name: ALIAS });
    const grant = (n: number) =>
      world.admin.call<{ id: string }>('POST', '/api/v1/access/grants', {
        knoc_id: knoc.id,
        ip: ip(n),
        ttl_seconds: 3_600,
        reason: 'storm',
      });

    // 40 grants applied before the storm; 20 of them get revoked during it.
    const first = await Promise.all(Array.from({ length: 40 }, (_, i) => grant(i + 1)));
    await eventually(() => (appliedAddresses(emulator, ALIAS).length === 40 ? true : undefined), '40 applied');

    const confirmed = new Map<string, string>(first.map((g, i) => [g.id, ip(i + 1)]));
    const revokedConfirmed = new Set<string>();
    let stormResponses = 0;
    const storm = Array.from({ length: 300 }, (_, i) => async () => {
      try {
        const created = await grant(1_000 + i);
        confirmed.set(created.id, ip(1_000 + i));
        stormResponses++;
      } catch {
        // died with the process: committed or not, the store decides
      }
    });
    const revocations = first.slice(0, 20).map((g) => async () => {
      try {
        await world.admin.call('DELETE', `/api/v1/access/grants/${g.id}`);
        revokedConfirmed.add(g.id);
      } catch {
        // same
      }
    });
    // One revocation after every 15 grants, so both kinds are in flight when the process dies.
    const jobs = storm.flatMap((job, i) => (i % 15 === 0 && revocations[i / 15] ? [job, revocations[i / 15] as () => Promise<void>] : [job]));
    // The first apply of the storm stays open on the device until the process dies (one request only: the restarted
    // server's applies are answered).
    emulator.injectFault({ kind: 'hang', method: 'POST', path: APPLY_PATH });
    let next = 0;
    const workers = Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < jobs.length) await (jobs[next++] as () => Promise<void>)();
      }),
    );
    // Kill mid-apply: the emulator has received the storm's apply and never answers it, and the API is still
    // confirming grants.
    const heldApply = () =>
      emulator.requests().find((r) => r.method === 'POST' && r.path.startsWith(APPLY_PATH) && r.fault === 'hang');
    await eventually(
      () => (stormResponses >= 100 && heldApply() ? true : undefined),
      'the apply held open on the device and 100 storm grants confirmed',
      { everyMs: 5 },
    );
    expect(await server.stop('SIGKILL')).toBe('SIGKILL');
    await workers;
    // The held apply was never answered: the process died with it open.
    expect(heldApply()?.status).toBeNull();

    server = await spawnServer({ dataDir, env: ENV });
    const admin = caller(server.url, { token });
    const settled = await eventually(
      async () => {
        const rows = await listGrants(admin, `knoc_id=${knoc.id}`);
        const live = rows.filter((g) => g.ended_at === null && Date.parse(g.expires_at) > Date.now());
        const want = new Set(live.map((g) => g.ip));
        const have = new Set(appliedAddresses(emulator, ALIAS));
        const same = want.size === have.size && [...want].every((a) => have.has(a));
        return same && live.every((g) => g.sync_state === 'live') ? { rows, live } : undefined;
      },
      'the device to match the store and every live grant to be live',
      { timeoutMs: 90_000, everyMs: 200 },
    );

    const byId = new Map(settled.rows.map((g) => [g.id, g]));
    const revocationTargets = new Set(first.slice(0, 20).map((g) => g.id));
    const applied = new Set(appliedAddresses(emulator, ALIAS));
    for (const [id, address] of confirmed) {
      const row = byId.get(id);
      expect(row, `confirmed grant ${id} is in the store`).toBeDefined();
      if (revokedConfirmed.has(id)) {
        expect(row?.ended_at).not.toBeNull();
        expect(applied.has(address)).toBe(false);
      } else if (!revocationTargets.has(id)) {
        // Confirmed and never revoked: must have survived the crash and be on the device.
        expect(row?.ended_at).toBeNull();
        expect(applied.has(address)).toBe(true);
      }
    }
    for (const row of settled.rows.filter((g) => g.ended_at !== null)) {
      expect(['removed', 'failed']).toContain(row.sync_state);
    }
    expect(stormResponses).toBeGreaterThanOrEqual(100);
  }, 240_000);
});
