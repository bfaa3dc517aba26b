/**
 * @module The job runner on pg-boss (src/jobs/runner.ts) on one engine (`.pglite` / `.postgres` files): a tick
 * creates one gateway-sync job per live gateway and each gateway is synced once (real sync against the pfRest
 * emulator), a second tick inside the interval creates nothing, a settings change alters the interval without a
 * restart, two runners ("nodes") on one database create each job once and never run two jobs of one key at once,
 * a job of a node that stopped renewing its lease is failed and runs on another node within a lease (PostgreSQL),
 * and stop() leaves nothing running.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ClusterNode } from '../../src/cluster/node.ts';
import { updateSettings } from '../../src/firewall/settings.ts';
import { JobRunner, type JobTask } from '../../src/jobs/runner.ts';
import { gatewaySync, JOB_TASKS, type JobContext } from '../../src/jobs/tasks.ts';
import type { StoreKind } from '../../src/store/db.ts';
import { type OpenedStore, openStore } from '../../src/store/open.ts';
import { type AccessHarness, startAccessHarness } from '../access-api/harness.ts';
import { storeKinds, testContext } from '../helpers/store.ts';

const quiet = { info() {}, warn() {}, error() {}, debug() {}, child: () => quiet } as unknown as ConstructorParameters<
  typeof JobRunner
>[0]['log'];

export function runJobRunnerSuite(kind: StoreKind): void {
  const engine = storeKinds().find((k) => k.kind === kind);
  const suite = engine?.available ? describe : describe.skip;
  suite(`job runner (${kind}${engine?.available ? '' : ` — ${engine?.skipReason}`})`, () => {
    let h: AccessHarness;
    const gatewayIds: string[] = [];
    const runners: Array<JobRunner<unknown>> = [];
    const extraStores: OpenedStore[] = [];

    function runner<C>(context: C, tasks: Array<JobTask<C>>, store: OpenedStore = h.store): JobRunner<C> {
      // A long tick: the test drives ticks itself.
      const r = new JobRunner<C>({ store, log: quiet, context, tickSeconds: 3600, pollingSeconds: 0.5 });
      for (const task of tasks) r.register(task);
      runners.push(r);
      return r;
    }

    beforeAll(async () => {
      h = await startAccessHarness(kind);
      const site = await h.site('jobs-site');
      for (let i = 0; i < 3; i++) gatewayIds.push(await h.gateway(site, `jobs-gw-${i}`));
    });
    afterAll(async () => {
      for (const r of runners) await r.stop();
      for (const s of extraStores) await s.close();
      await h?.close();
    });

    it('a tick syncs each gateway once; a second tick inside the interval creates nothing', async () => {
      const context: JobContext = {
        store: h.store,
        keyring: h.keyring,
        bus: h.app.events,
        adapters: h.app.access.adapters,
      };
      const r = runner(context, [gatewaySync]);
      await r.start(); // the start tick derives the jobs from the gateways table
      await r.idle();
      const synced = await h.store.query<{ id: string; sync_status: string }>(
        'select id, sync_status from gateways where deleted_at is null order by id',
      );
      expect(synced.map((g) => g.sync_status)).toEqual(['ok', 'ok', 'ok']);
      const completed = await h.store.query<{ gateway_id: string; n: number }>(
        "select gateway_id, count(*)::int as n from events where type = 'gateway.sync.completed' group by gateway_id",
      );
      expect(completed.map((c) => c.n)).toEqual([1, 1, 1]);
      const jobs = await h.store.query<{ n: number }>(
        "select count(*)::int as n from pgboss.job where name = 'gateway-sync' and state = 'completed'",
      );
      expect(jobs[0]?.n).toBe(3);
      expect(await r.tick()).toBe(0);
      await r.stop();
      expect(r.started).toBe(false);
    });

    it('the production tasks: health polled, log ingestion, retention and the pending reaper run, nothing failed', async () => {
      const context: JobContext = { store: h.store, keyring: h.keyring, bus: h.app.events, adapters: h.app.access.adapters };
      const r = runner(context, [...JOB_TASKS]);
      await r.start();
      await r.idle();
      const online = await h.store.query<{ is_online: boolean | null }>('select is_online from gateways order by id');
      expect(online.map((g) => g.is_online)).toEqual([true, true, true]);
      const jobs = await h.store.query<{ name: string; state: string; n: number }>(
        "select name, state, count(*)::int as n from pgboss.job where name in ('gateway-health', 'gateway-logs', 'log-retention', 'pending-reaper', 'import-retention') group by name, state order by name",
      );
      expect(jobs).toEqual([
        { name: 'gateway-health', state: 'completed', n: 3 },
        { name: 'gateway-logs', state: 'completed', n: 3 },
        { name: 'import-retention', state: 'completed', n: 1 },
        { name: 'log-retention', state: 'completed', n: 1 },
        { name: 'pending-reaper', state: 'completed', n: 1 },
      ]);
      await r.stop();
    });

    it('a settings change alters the interval at the next tick, without a restart', async () => {
      const counted: string[] = [];
      const task: JobTask<null> = {
        name: 'interval-probe',
        per: 'gateway',
        intervalSeconds: (s) => s.sync_interval_minutes * 60,
        async run(key) {
          counted.push(key.gatewayId as string);
        },
      };
      const r = runner(null, [task]);
      await r.start();
      await r.idle();
      expect(counted.sort()).toEqual([...gatewayIds].sort());
      // Two minutes pass (for the jobs' bookkeeping): inside the default 5-minute interval, nothing is due.
      await h.store.query(
        "update pgboss.job set created_on = created_on - interval '2 minutes', singleton_on = singleton_on - interval '2 minutes' where name = 'interval-probe'",
      );
      expect(await r.tick()).toBe(0);
      await updateSettings(testContext(h.store, { keyring: h.keyring }), { sync_interval_minutes: 1 });
      expect(await r.tick()).toBe(3);
      await r.idle();
      expect(counted).toHaveLength(6);
      await updateSettings(testContext(h.store, { keyring: h.keyring }), { sync_interval_minutes: 5 });
    });

    it('two runners on one database: each job created once, never two runs of one key at a time', async () => {
      let second: OpenedStore = h.store;
      if (kind === 'postgres') {
        // A second node: its own connection pool to the same database.
        const [db] = await h.store.query<{ name: string }>('select current_database() as name');
        const url = new URL(process.env.PORTCULLIS_TEST_DATABASE_URL as string);
        url.pathname = `/${db?.name}`;
        second = await openStore({ url: url.toString(), migrate: false, poolSize: 4 });
        extraStores.push(second);
      }
      const active = new Map<string, number>();
      let overlap = 0;
      const runs: string[] = [];
      const task: JobTask<null> = {
        name: 'singleton-probe',
        per: 'gateway',
        intervalSeconds: () => 300,
        async run(key) {
          const id = key.gatewayId as string;
          active.set(id, (active.get(id) ?? 0) + 1);
          if ((active.get(id) ?? 0) > 1) overlap++;
          await new Promise((resolve) => setTimeout(resolve, 150));
          active.set(id, (active.get(id) ?? 1) - 1);
          runs.push(id);
        },
      };
      const a = runner(null, [task]);
      const b = runner(null, [task], second);
      await Promise.all([a.start(), b.start()]);
      await Promise.all([a.tick(), b.tick(), a.tick(), b.tick()]);
      await a.idle();
      expect(runs.sort()).toEqual([...gatewayIds].sort());
      expect(overlap).toBe(0);
      const [created] = await h.store.query<{ n: number }>(
        "select count(*)::int as n from pgboss.job where name = 'singleton-probe'",
      );
      expect(created?.n).toBe(3);
    });

    it.skipIf(kind !== 'postgres')(
      'a job of a node that stopped renewing its lease is failed within a lease and runs on another node',
      async () => {
        const [db] = await h.store.query<{ name: string }>('select current_database() as name');
        const url = new URL(process.env.PORTCULLIS_TEST_DATABASE_URL as string);
        url.pathname = `/${db?.name}`;
        const second = await openStore({ url: url.toString(), migrate: false, poolSize: 4 });
        extraStores.push(second);
        // Never started: the leases of the jobs it runs are never renewed, as if its process had died.
        const dead = new ClusterNode(h.store, 1_000);
        const alive = new ClusterNode(second, 1_000);
        const ran: string[] = [];
        let unblock = () => {};
        const hung = new Promise<void>((resolve) => {
          unblock = resolve;
        });
        const probe = (who: string, wait: () => Promise<void>): JobTask<null> => ({
          name: 'orphan-probe',
          per: 'global',
          intervalSeconds: () => 3_600,
          async run() {
            ran.push(who);
            await wait();
          },
        });
        const a = new JobRunner<null>({ store: h.store, log: quiet, context: null, tickSeconds: 3600, pollingSeconds: 0.5, concurrency: 1, node: dead });
        a.register(probe('dead', () => hung));
        runners.push(a);
        await a.start();
        await vi.waitFor(() => expect(ran).toEqual(['dead']), { timeout: 10_000 });
        const b = new JobRunner<null>({ store: second, log: quiet, context: null, tickSeconds: 3600, pollingSeconds: 0.5, node: alive });
        b.register(probe('alive', async () => {}));
        runners.push(b);
        await alive.start();
        await b.start();
        const started = Date.now();
        try {
          await vi.waitFor(() => expect(ran).toEqual(['dead', 'alive']), { timeout: 10_000, interval: 50 });
          // One lease (1 s) after the dead node's last renewal, plus a heartbeat and a worker poll.
          expect(Date.now() - started).toBeLessThan(4_000);
          const states = await h.store.query<{ state: string }>(
            "select state from pgboss.job where name = 'orphan-probe' order by created_on",
          );
          expect(states.map((row) => row.state)).toEqual(['failed', 'completed']);
        } finally {
          unblock();
          await alive.stop();
          await dead.stop();
        }
      },
      30_000,
    );

    it('a task registered twice, or after start, is refused', async () => {
      const r = runner(null, []);
      const task: JobTask<null> = { name: 'twice', per: 'org', intervalSeconds: () => 60, run: async () => {} };
      r.register(task);
      expect(() => r.register(task)).toThrow(/registered twice/);
      await r.start();
      expect(() => r.register({ ...task, name: 'late' })).toThrow(/after the runner started/);
      await r.stop();
      await r.stop(); // idempotent
    });
  });
}
