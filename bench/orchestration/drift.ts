/**
 * @module Benchmark, two parts, each with a baseline measured in the same run:
 *
 * 1. A drift check of one gateway (a brain) holding `rules` firewall rules and `aliases` aliases on the pfRest
 *    emulator, against the bare live reads the check needs (rules and aliases, nothing stored or compared). Prints
 *    the first check (the baseline is taken: every resource stored), a steady check (nothing changed) and a check
 *    after 20 out-of-band edits (20 events opened), each with its ratio over the bare read.
 * 2. The site (issue 14 "Measured"): that brain in a role map with `limbs` RouterOS limbs (one emulator
 *    each) and `vlans` canonical VLANs, each with a subnet and a DHCP scope; the brain carries a VLAN interface and
 *    a DHCP server per VLAN, each limb a bridge VLAN per VLAN. The drift check of the whole site (every gateway, its
 *    rules and aliases against the baseline, the canonical sources against the canonical state) against the bare
 *    live reads of everything it reads, gateway after gateway as the check goes: steady, and after drift on the
 *    brain (5 DHCP ranges changed) and on a limb (5 bridge VLANs removed).
 *
 * Run: `npx tsx bench/orchestration/drift.ts [rules=2000] [aliases=200] [runs=5] [limbs=20] [vlans=200]`. PGlite in
 * memory by default; `PORTCULLIS_BENCH_DATABASE_URL` (an empty database) runs it on PostgreSQL.
 */
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GatewayAdapters } from '../../src/access/service/gateway-adapters.ts';
import { serviceContext } from '../../src/core/context.ts';
import { startPfRestEmulator } from '../../src/emulators/pfrest/index.ts';
import { type RouterOsEmulator, startRouterOsEmulator } from '../../src/emulators/routeros/index.ts';
import type { LiveGateway } from '../../src/adapters/live.ts';
import type { LiveWriter } from '../../src/adapters/live-write.ts';
import { createScope } from '../../src/orchestration/canonical/dhcp.ts';
import { createVlan } from '../../src/orchestration/canonical/vlans.ts';
import { putTopology } from '../../src/orchestration/topology.ts';
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
const LIMBS = Number(process.argv[5] ?? 20);
const VLANS = Number(process.argv[6] ?? 200);

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

// ---------------------------------------------------------------------------------------------------------------
// 2. The site: the brain above, `LIMBS` RouterOS limbs, `VLANS` canonical VLANs with a DHCP scope each.

const tagOf = (i: number) => 100 + i;
const subnetOf = (i: number) => `10.${100 + Math.floor(i / 250)}.${i % 250}`;
for (let i = 0; i < VLANS; i++) {
  await writer.write({ kind: 'vlan_interface', op: 'create', target: null, body: { parent: 'vtnet2', tag: tagOf(i), name: `V${tagOf(i)}`, ipv4: `${subnetOf(i)}.1/24`, ipv6: null, description: '', is_enabled: true } });
}
await writer.apply();
const ifaceOf = new Map((await (live.vlanInterfaces as NonNullable<LiveGateway['vlanInterfaces']>)()).items.map((v) => [v.tag, v.interface_id as string]));
for (let i = 0; i < VLANS; i++) {
  const body = { interface: ifaceOf.get(tagOf(i)) as string, range_from: `${subnetOf(i)}.100`, range_to: `${subnetOf(i)}.199`, gateway: null, dns_servers: [], is_enabled: true };
  await writer.write({ kind: 'dhcp_scope', op: 'create', target: null, body });
}
await writer.apply();
for (let i = 0; i < VLANS; i++) {
  const vlan = await createVlan(ctx, { site_id: site.id, vlan_id: tagOf(i), name: `vlan${tagOf(i)}`, ipv4_subnet: `${subnetOf(i)}.0/24` });
  await createScope(ctx, { canonical_vlan_id: vlan.id, range_start: `${subnetOf(i)}.100`, range_end: `${subnetOf(i)}.199` });
}

// One limb is filled through its writer; the others start from a copy of its saved configuration.
const limbState = join(dir, 'limb.json');
const limbEmus: RouterOsEmulator[] = [await startRouterOsEmulator({ stateFile: limbState, dynamicFilterRule: false })];
const limbGateway = (e: RouterOsEmulator, n: number) =>
  createGateway(
    ctx,
    { name: `limb-${n}`, site_id: site.id, vendor: 'routeros', url: e.url, username: e.credentials.username, password: e.credentials.password, fingerprint_sha256: e.fingerprint },
    { allowHosts },
  );
const limbs = [await limbGateway(limbEmus[0] as RouterOsEmulator, 0)];
const firstLimb = await adapters.get(limbs[0]?.id as string);
const limbWriter: LiveWriter = (firstLimb.vendor.writes as NonNullable<typeof firstLimb.vendor.writes>).open(firstLimb.adapter);
for (let i = 0; i < VLANS; i++) {
  await limbWriter.write({ kind: 'bridge_vlan', op: 'create', target: null, body: { bridge: 'bridge', vlan_id: tagOf(i), tagged: ['ether2'], untagged: [], description: '' } });
}
if ((await limbWriter.pendingSubsystems()).length > 0) await limbWriter.apply();
for (let n = 1; n < LIMBS; n++) {
  const file = join(dir, `limb-${n}.json`);
  copyFileSync(limbState, file);
  const e = await startRouterOsEmulator({ stateFile: file, dynamicFilterRule: false });
  limbEmus.push(e);
  limbs.push(await limbGateway(e, n));
}
await putTopology(ctx, site.id, { assignments: [{ gateway_id: gateway.id, role: 'brain' }, ...limbs.map((l) => ({ gateway_id: l.id, role: 'limb' }))] });

const siteGateways = [gateway.id, ...limbs.map((l) => l.id)];
const siteCheck = async () => {
  let events = 0;
  for (const id of siteGateways) events += (await checkGateway(ctx, deps, id)).opened.length;
  return events;
};
/** The bare reads a site check makes, gateway after gateway as it does. */
const siteRead = async () => {
  for (const id of siteGateways) {
    const g = await adapters.get(id);
    const view = liveGateway(g.vendor, g.adapter);
    await Promise.all([view.firewallRules(), view.aliases()]);
    if (id === gateway.id) await Promise.all([view.vlanInterfaces?.(), view.dhcpScopes?.(), view.dhcpStaticMappings?.(), view.dnsOverrides?.()]);
    else await view.bridgeVlans?.();
  }
};
await siteRead(); // warm-up: every limb's TLS session and adapter
const siteBare = await median(siteRead);
let siteFirstEvents = 0;
const siteFirst = await measure(async () => {
  siteFirstEvents = await siteCheck();
});
const siteSteady = await median(siteCheck);
for (let i = 0; i < 5; i++) {
  const body = { interface: ifaceOf.get(tagOf(i)) as string, range_from: `${subnetOf(i)}.100`, range_to: `${subnetOf(i)}.150`, gateway: null, dns_servers: [], is_enabled: true };
  await writer.write({ kind: 'dhcp_scope', op: 'update', target: body.interface, body });
}
await writer.apply();
const lastLimb = await adapters.get(limbs[limbs.length - 1]?.id as string);
const lastWriter = (lastLimb.vendor.writes as NonNullable<typeof lastLimb.vendor.writes>).open(lastLimb.adapter);
const limbVlans = ((await liveGateway(lastLimb.vendor, lastLimb.adapter).bridgeVlans?.())?.items ?? []).slice(0, 5);
for (const v of limbVlans) await lastWriter.write({ kind: 'bridge_vlan', op: 'delete', target: v.write_target as string, body: {} });
if ((await lastWriter.pendingSubsystems()).length > 0) await lastWriter.apply();
let siteDriftEvents = 0;
const siteDrifted = await measure(async () => {
  siteDriftEvents = await siteCheck();
});
const siteRecheck = await median(siteCheck);

await adapters.closeAll();
for (const e of limbEmus) await e.close();
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

console.log(`\ndrift check of a site: 1 brain (${RULES} rules, ${ALIASES} aliases, ${VLANS} VLAN interfaces + DHCP scopes) and ${LIMBS} RouterOS limbs (${VLANS} bridge VLANs each), ${VLANS} canonical VLANs, ${engine}, median of ${RUNS}`);
const siteLine = (label: string, m: { ms: number; cpuMs: number }) =>
  console.log(`${label}: ${m.ms.toFixed(0)} ms wall, ${m.cpuMs.toFixed(0)} ms CPU, ratio ${(m.ms / siteBare.ms).toFixed(2)} × the bare reads`);
console.log(`baseline (bare live reads of every gateway, one after the other): ${siteBare.ms.toFixed(0)} ms wall, ${siteBare.cpuMs.toFixed(0)} ms CPU`);
siteLine(`first site check (limbs' baselines taken, canonical compared: ${siteFirstEvents} events)`, siteFirst);
siteLine('steady site check (no change)', siteSteady);
siteLine(`site check after 5 DHCP ranges changed on the brain and 5 bridge VLANs removed on a limb (${siteDriftEvents} events opened)`, siteDrifted);
siteLine('site recheck (10 events seen again, none added)', siteRecheck);
