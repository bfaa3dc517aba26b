/**
 * @module Benchmark: background sync of many gateways through the job runner (pg-boss, one node, 4 workers) into
 * the normalized tables, against pfRest emulators each holding `rules` firewall rules, compared in the same run
 * with a baseline of bare live reads (the same reads of every gateway with the same concurrency, nothing stored).
 * Prints the first sync (every row inserted), a steady-state sync (nothing changed on the devices) and the
 * per-gateway cost of each over the baseline.
 *
 * Run: `npx tsx bench/firewall/sync.ts [gateways=200] [rules=500] [emulators=4]`. PGlite in memory by default;
 * `PORTCULLIS_BENCH_DATABASE_URL` (an empty database) runs it on PostgreSQL.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyBaseLogger } from 'fastify';
import { pino } from 'pino';
import { GatewayAdapters } from '../../src/access/service/gateway-adapters.ts';
import { serviceContext } from '../../src/core/context.ts';
import { type PfRestEmulator, startPfRestEmulator } from '../../src/emulators/pfrest/index.ts';
import { initialState } from '../../src/emulators/pfrest/state.ts';
import { EventBus } from '../../src/events/bus.ts';
import { createGateway } from '../../src/firewall/gateways.ts';
import { liveGateway } from '../../src/firewall/live.ts';
import { LOG_WINDOW } from '../../src/firewall/sync.ts';
import { createSite } from '../../src/identity/sites.ts';
import { JobRunner } from '../../src/jobs/runner.ts';
import { gatewaySync, type JobContext } from '../../src/jobs/tasks.ts';
import { parseHostAllowList } from '../../src/net/ssrf.ts';
import { Keyring } from '../../src/secrets/keyring.ts';
import { openStore } from '../../src/store/open.ts';

const GATEWAYS = Number(process.argv[2] ?? 200);
const RULES = Number(process.argv[3] ?? 500);
const EMULATORS = Number(process.argv[4] ?? 4);
const CONCURRENCY = 4;

const dir = mkdtempSync(join(tmpdir(), 'pc-bench-sync-'));
const emulators: PfRestEmulator[] = [];
// Rules with distinct trackers, written as the emulator's state file (its API would stamp one tracker per second).
const template = initialState().rules[0] as Record<string, unknown>;
const rules = Array.from({ length: RULES }, (_, i) => ({
  ...template,
  type: i % 3 === 0 ? 'block' : 'pass',
  protocol: 'tcp',
  destination_port: String(1000 + i),
  descr: `bench rule ${i}`,
  tracker: 1_700_000_000 + i,
}));
for (let e = 0; e < EMULATORS; e++) {
  const stateFile = join(dir, `box-${e}.json`);
  writeFileSync(stateFile, JSON.stringify({ rules }));
  emulators.push(await startPfRestEmulator({ stateFile }));
}

const url = process.env.PORTCULLIS_BENCH_DATABASE_URL;
const store = url ? await openStore({ url }) : await openStore({ memory: true });
const keyring = Keyring.ephemeral();
const ctx = serviceContext(store.db, keyring);
const allowHosts = parseHostAllowList('127.0.0.1,localhost');
const site = await createSite(ctx, { name: 'bench' });
const gatewayIds: string[] = [];
for (let i = 0; i < GATEWAYS; i++) {
  const emu = emulators[i % EMULATORS] as PfRestEmulator;
  const gw = await createGateway(
    ctx,
    { name: `bench-${i}`, site_id: site.id, url: emu.url, api_key: emu.apiKey, ca_pem: emu.caPem },
    { allowHosts },
  );
  gatewayIds.push(gw.id);
}
const adapters = new GatewayAdapters(store, keyring, { allowHosts });

/** Runs `work` over `items` with `CONCURRENCY` in flight. */
async function pooled<T>(items: readonly T[], work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < items.length) await work(items[next++] as T);
    }),
  );
}

function measure<T>(run: () => Promise<T>): Promise<{ ms: number; cpuMs: number }> {
  const cpu = process.cpuUsage();
  const started = performance.now();
  return run().then(() => {
    const used = process.cpuUsage(cpu);
    return { ms: performance.now() - started, cpuMs: (used.user + used.system) / 1000 };
  });
}

// Warm-up: every adapter built and every TLS session set up once, so neither side pays for it.
await pooled(gatewayIds, async (id) => {
  await (await adapters.get(id)).adapter.version();
});

const baseline = await measure(() =>
  pooled(gatewayIds, async (id) => {
    const { vendor, adapter } = await adapters.get(id);
    const live = liveGateway(vendor, adapter);
    await Promise.all([
      live.firewallRules(),
      live.natRules(),
      live.vpn(),
      live.interfaces(),
      live.aliases(),
      live.firewallLog(LOG_WINDOW),
    ]);
  }),
);

const log = pino({ level: 'silent' }) as unknown as FastifyBaseLogger;
const runner = new JobRunner<JobContext>({
  store,
  log,
  context: { store, keyring, bus: new EventBus(), adapters },
  tickSeconds: 3600,
  pollingSeconds: 0.5,
  concurrency: CONCURRENCY,
});
runner.register(gatewaySync);
const boot = await measure(() => runner.start().then(() => 0));
const first = await measure(() => runner.idle());
const [stored] = await store.query<{ n: number; ok: number }>(
  "select (select count(*)::int from firewall_rules) as n, (select count(*)::int from gateways where sync_status = 'ok') as ok",
);
// The next interval: nothing changed on the devices.
await store.query(
  "update pgboss.job set created_on = created_on - interval '10 minutes', singleton_on = singleton_on - interval '10 minutes'",
);
const steady = await measure(async () => {
  await runner.tick();
  await runner.idle();
});
await runner.stop();
await adapters.closeAll();
for (const emu of emulators) await emu.close();
await store.close();
rmSync(dir, { recursive: true, force: true });

const per = (ms: number) => (ms / GATEWAYS).toFixed(1);
const engine = url ? 'PostgreSQL' : 'PGlite';
console.log(`gateway sync: ${GATEWAYS} gateways × ${RULES} rules, ${EMULATORS} emulators, ${CONCURRENCY} workers, ${engine}`);
console.log(`stored: ${stored?.n} rules, ${stored?.ok} gateways synced ok`);
console.log(`baseline (bare live reads): ${baseline.ms.toFixed(0)} ms wall, ${baseline.cpuMs.toFixed(0)} ms CPU, ${per(baseline.ms)} ms per gateway`);
console.log(`runner start (pg-boss schema + queue): ${boot.ms.toFixed(0)} ms`);
for (const [label, m] of [
  ['first sync (all inserts)', first],
  ['steady sync (no change)', steady],
] as const) {
  console.log(
    `${label}: ${m.ms.toFixed(0)} ms wall (${((m.ms / 300_000) * 100).toFixed(1)} % of a 5-minute interval), ${m.cpuMs.toFixed(0)} ms CPU, ${per(m.ms)} ms per gateway, ratio ${(m.ms / baseline.ms).toFixed(2)} × baseline, ${per(m.ms - baseline.ms)} ms per gateway over it`,
  );
}
