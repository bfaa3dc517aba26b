/**
 * @module Benchmark: a drift check of one gateway (a brain) holding `rules` firewall rules and `aliases` aliases on the
 * pfRest emulator, compared in the same run with a baseline of the bare live reads the check needs (rules and
 * aliases, nothing stored or compared). Prints the first check (the baseline is taken: every resource stored), a
 * steady check (nothing changed) and a check after 20 out-of-band edits (20 events opened), each with its ratio
 * over the bare read.
 *
 * Run: `npx tsx bench/orchestration/drift.ts [rules=2000] [aliases=200] [runs=5]`. PGlite in memory by default;
 * `PORTCULLIS_BENCH_DATABASE_URL` (an empty database) runs it on PostgreSQL.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GatewayAdapters } from '../../src/access/service/gateway-adapters.ts';
import { serviceContext } from '../../src/core/context.ts';
import { startPfRestEmulator } from '../../src/emulators/pfrest/index.ts';
import { initialState } from '../../src/emulators/pfrest/state.ts';
import { EventBus } from '../../src/events/bus.ts';
import { createGateway } from '../../src/firewall/gateways.ts';
import { liveGateway } from '../../src/firewall/live.ts';
import { createSite } from '../../src/identity/sites.ts';
import { parseHostAllowList } from '../../src/net/ssrf.ts';
import { checkGateway } from '../../src/orchestration/drift/check.ts';
import { Keyring } from '../../src/secrets/keyring.ts';
import { openStore } from '../../src/store/open.ts';

const RULES = Number(process.argv[2] ?? 2000);
const ALIASES = Number(process.argv[3] ?? 200);
const RUNS = Number(process.argv[4] ?? 5);

const dir = mkdtempSync(join(tmpdir(), 'pc-bench-drift-'));
const template = initialState().rules[0] as Record<string, unknown>;
const rules = Array.from({ length: RULES }, (_, i) => ({
  ...template,
  type: i % 3 === 0 ? 'block' : 'pass',
  protocol: 'tcp',
  destination_port: String(1000 + i),
  descr: `bench rule ${i}`,
  tracker: 1_700_000_000 + i,
}));
const aliases = Array.from({ length: ALIASES }, (_, i) => ({
  name: `bench_alias_${i}`,
  type: 'host',
  descr: `bench alias ${i}`,
  address: Array.from({ length: 10 }, (_, j) => `10.${i % 250}.${j}.1`),
  detail: Array.from({ length: 10 }, (_, j) => `host ${j}`),
}));
const stateFile = join(dir, 'box.json');
writeFileSync(stateFile, JSON.stringify({ rules, aliases }));
const emu = await startPfRestEmulator({ stateFile });

const url = process.env.PORTCULLIS_BENCH_DATABASE_URL;
const store = url ? await openStore({ url }) : await openStore({ memory: true });
const keyring = Keyring.ephemeral();
const ctx = serviceContext(store.db, keyring);
const allowHosts = parseHostAllowList('127.0.0.1,localhost');
const site = await createSite(ctx, { name: 'bench' });
const gateway = await createGateway(ctx, { name: 'brain', site_id: site.id, url: emu.url, api_key: emu.apiKey, ca_pem: emu.caPem }, { allowHosts });
const adapters = new GatewayAdapters(store, keyring, { allowHosts });
const deps = { events: new EventBus(), device: (id: string) => adapters.get(id) };

async function measure(run: () => Promise<unknown>): Promise<{ ms: number; cpuMs: number }> {
  const cpu = process.cpuUsage();
  const started = performance.now();
  await run();
  const used = process.cpuUsage(cpu);
  return { ms: performance.now() - started, cpuMs: (used.user + used.system) / 1000 };
}
async function median(run: () => Promise<unknown>): Promise<{ ms: number; cpuMs: number }> {
  const all: Array<{ ms: number; cpuMs: number }> = [];
  for (let i = 0; i < RUNS; i++) all.push(await measure(run));
  all.sort((a, b) => a.ms - b.ms);
  return all[Math.floor(all.length / 2)] as { ms: number; cpuMs: number };
}

const { vendor, adapter } = await adapters.get(gateway.id);
const live = liveGateway(vendor, adapter);
await live.firewallRules(); // warm-up: TLS session and adapter built
const read = await median(() => Promise.all([live.firewallRules(), live.aliases()]));
const first = await measure(() => checkGateway(ctx, deps, gateway.id));
const steady = await median(() => checkGateway(ctx, deps, gateway.id));
// 20 rules changed on the box (not through Portcullis): 20 events opened, then seen again.
const writer = (vendor.writes as NonNullable<typeof vendor.writes>).open(adapter);
for (let i = 0; i < 20; i++) {
  const target = String(1_700_000_000 + ((i * 97) % RULES));
  const before = (await writer.read('firewall_rule', target)) as Record<string, unknown>;
  await writer.write({ kind: 'firewall_rule', op: 'update', target, body: { ...before, description: `edited by hand ${i}` } as never });
}
await writer.apply();
let opened = 0;
const drifted = await measure(async () => {
  opened = (await checkGateway(ctx, deps, gateway.id)).opened.length;
});
const recheck = await median(() => checkGateway(ctx, deps, gateway.id));

await adapters.closeAll();
await emu.close();
await store.close();
rmSync(dir, { recursive: true, force: true });

const engine = url ? 'PostgreSQL' : 'PGlite';
const line = (label: string, m: { ms: number; cpuMs: number }) =>
  console.log(`${label}: ${m.ms.toFixed(0)} ms wall, ${m.cpuMs.toFixed(0)} ms CPU, ratio ${(m.ms / read.ms).toFixed(2)} × the bare read`);
console.log(`drift check of one gateway: ${RULES} rules, ${ALIASES} aliases × 10 entries, pfRest emulator, ${engine}, median of ${RUNS}`);
console.log(`baseline (bare live read of rules + aliases): ${read.ms.toFixed(0)} ms wall, ${read.cpuMs.toFixed(0)} ms CPU`);
line('first check (baseline taken, all stored)', first);
line('steady check (no change)', steady);
line(`check after 20 out-of-band edits (${opened} events opened)`, drifted);
line('recheck (20 events seen again, none added)', recheck);
