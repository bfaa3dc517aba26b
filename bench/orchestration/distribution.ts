/**
 * @module Benchmark: distribution of one canonical VLAN (with a DHCP scope) to a pfRest-emulated brain and `limbs`
 * emulated limbs (RouterOS and OpenWrt alternating, named limb-01 … limb-NN and run in that order), and the time to
 * roll back when limb `failAt` refuses its write. Baseline in the same run: the same writes made directly with the
 * vendors' own writers (brain VLAN interface + scope, one bridge VLAN per limb, each applied; no store, no engine, no
 * reads), and one direct bridge VLAN write alone.
 *
 * Run: `npx tsx bench/orchestration/distribution.ts [limbs=20] [failAt=15]`. PGlite in memory.
 */
import { lookup } from 'node:dns';
import { GatewayAdapters } from '../../src/access/service/gateway-adapters.ts';
import type { LiveWrite } from '../../src/adapters/live-write.ts';
import { findVendor } from '../../src/adapters/vendors.ts';
import { serviceContext } from '../../src/core/context.ts';
import { startOpenWrtEmulator } from '../../src/emulators/openwrt/index.ts';
import { startPfRestEmulator } from '../../src/emulators/pfrest/index.ts';
import { startRouterOsEmulator } from '../../src/emulators/routeros/index.ts';
import { EventBus } from '../../src/events/bus.ts';
import type { PendingDeps } from '../../src/firewall/pending.ts';
import { createGateway } from '../../src/firewall/gateways.ts';
import { createSite } from '../../src/identity/sites.ts';
import { parseHostAllowList } from '../../src/net/ssrf.ts';
import { createScope } from '../../src/orchestration/canonical/dhcp.ts';
import { createVlan } from '../../src/orchestration/canonical/vlans.ts';
import { rollbackDistribution, triggerDistribution } from '../../src/orchestration/distribution/index.ts';
import { putTopology } from '../../src/orchestration/topology.ts';
import { Keyring } from '../../src/secrets/keyring.ts';
import { openStore } from '../../src/store/open.ts';
import { documentedAcl } from '../../test/openwrt/adapter-harness.ts';

const LIMBS = Number(process.argv[2] ?? 20);
const FAIL_AT = Number(process.argv[3] ?? 15);

const store = await openStore({ memory: true });
const keyring = Keyring.ephemeral();
const ctx = serviceContext(store.db, keyring);
const allowHosts = parseHostAllowList('127.0.0.1,localhost');
const site = await createSite(ctx, { name: 'bench' });

const pf = await startPfRestEmulator();
const brain = await createGateway(ctx, { name: 'brain', site_id: site.id, vendor: 'pfsense', url: pf.url, api_key: pf.apiKey, ca_pem: pf.caPem }, { allowHosts });
interface Limb {
  id: string;
  vendor: 'routeros' | 'openwrt';
  port: string;
  bridge: string;
  connection: { url: string; credentials: Record<string, string>; fingerprint: string };
  fail(): void;
  clear(): void;
  close(): Promise<void>;
}
const limbs: Limb[] = [];
for (let i = 1; i <= LIMBS; i++) {
  const name = `limb-${String(i).padStart(2, '0')}`;
  if (i % 2 === 1) {
    const emu = await startRouterOsEmulator({ dynamicFilterRule: false, latencyMs: 1 });
    const credentials = { username: emu.credentials.username, password: emu.credentials.password };
    const gw = await createGateway(ctx, { name, site_id: site.id, vendor: 'routeros', url: emu.url, ...credentials, fingerprint_sha256: emu.fingerprint }, { allowHosts });
    limbs.push({
      id: gw.id,
      vendor: 'routeros',
      port: 'ether2',
      bridge: 'bridge',
      connection: { url: emu.url, credentials, fingerprint: emu.fingerprint as string },
      fail: () => emu.fault({ kind: 'status', status: 500, detail: 'failure: bench', path: '/interface/bridge/vlan', method: 'PUT', times: 1_000 }),
      clear: () => emu.clearFaults(),
      close: () => emu.close(),
    });
  } else {
    const emu = await startOpenWrtEmulator({ reloadDelayMs: 5, aclGroups: documentedAcl() });
    const login = emu.users.find((u) => u.username === 'portcullis') as { username: string; password: string };
    const credentials = { username: login.username, password: login.password };
    const gw = await createGateway(ctx, { name, site_id: site.id, vendor: 'openwrt', url: emu.url, ...credentials, fingerprint_sha256: emu.fingerprint }, { allowHosts });
    limbs.push({
      id: gw.id,
      vendor: 'openwrt',
      port: 'lan1',
      bridge: 'br-lan',
      connection: { url: emu.url, credentials, fingerprint: emu.fingerprint as string },
      fail: () => emu.fault({ kind: 'ubus-status', status: 6, object: 'uci', method: 'add', times: 1_000 }),
      clear: () => emu.clearFaults(),
      close: () => emu.close(),
    });
  }
}
await putTopology(ctx, site.id, {
  assignments: [{ gateway_id: brain.id, role: 'brain' }, ...limbs.map((l) => ({ gateway_id: l.id, role: 'limb' }))],
});
const vlan = await createVlan(ctx, { site_id: site.id, vlan_id: 30, name: 'cameras', ipv4_subnet: '10.30.0.0/24' });
await createScope(ctx, { canonical_vlan_id: vlan.id, range_start: '10.30.0.100', range_end: '10.30.0.199' });

const adapters = new GatewayAdapters(store, keyring, { allowHosts });
const deps: PendingDeps = { readOnly: false, maxOpen: 10_000, node: 'bench', events: new EventBus(), device: (id) => adapters.get(id) };
const placement = { brain_parent: 'vtnet2', limbs: Object.fromEntries(limbs.map((l) => [l.id, { bridge: l.bridge, tagged: [l.port] }])) };

/** One write through the vendor's own writer (and its apply when it stages), as a script would. */
async function direct(vendorId: string, connection: { url: string; credentials: Record<string, string>; fingerprint: string }, write: LiveWrite) {
  const vendor = findVendor(vendorId);
  if (vendor?.writes === undefined) throw new Error(`${vendorId} has no writes`);
  const adapter = vendor.createAdapter({ url: connection.url, credentials: connection.credentials, tls: { mode: 'fingerprint', sha256: connection.fingerprint }, lookup });
  try {
    const writer = vendor.writes.open(adapter);
    const result = await writer.write(write);
    if ((await writer.pendingSubsystems()).length > 0) await writer.apply();
    return result.target;
  } finally {
    await adapter.close();
  }
}
const pfConnection = { url: pf.url, credentials: { api_key: pf.apiKey }, fingerprint: pf.fingerprint };
const bridgeWrite = (l: Limb): LiveWrite => ({ kind: 'bridge_vlan', op: 'create', target: null, body: { bridge: l.bridge, vlan_id: 30, tagged: [l.port], untagged: [], description: '' } });

async function timed<T>(run: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const started = performance.now();
  const value = await run();
  return { ms: performance.now() - started, value };
}

// Baseline: the same writes made directly, then removed again (removal not timed).
const baseline = await timed(async () => {
  const iface = await direct('pfsense', pfConnection, {
    kind: 'vlan_interface',
    op: 'create',
    target: null,
    body: { parent: 'vtnet2', tag: 30, name: 'cameras', ipv4: '10.30.0.1/24', ipv6: null, description: 'bench', is_enabled: true },
  });
  const ifaceId = pf.state().interfaces.find((i) => i.if === iface)?.id as string;
  await direct('pfsense', pfConnection, {
    kind: 'dhcp_scope',
    op: 'create',
    target: null,
    body: { interface: ifaceId, range_from: '10.30.0.100', range_to: '10.30.0.199', gateway: null, dns_servers: [], is_enabled: true },
  });
  const targets: Array<string | null> = [];
  for (const l of limbs) targets.push(await direct(l.vendor, l.connection, bridgeWrite(l)));
  return { iface, ifaceId, targets };
});
const single = await timed(async () => {
  const first = limbs[0] as Limb;
  return direct(first.vendor, first.connection, { ...bridgeWrite(first), body: { ...bridgeWrite(first).body, vlan_id: 31 } } as LiveWrite);
});
{
  const first = limbs[0] as Limb;
  await direct(first.vendor, first.connection, { kind: 'bridge_vlan', op: 'delete', target: single.value as string, body: {} });
  for (const [i, l] of limbs.entries()) await direct(l.vendor, l.connection, { kind: 'bridge_vlan', op: 'delete', target: baseline.value.targets[i] as string, body: {} });
  await direct('pfsense', pfConnection, { kind: 'dhcp_scope', op: 'delete', target: baseline.value.ifaceId, body: {} });
  await direct('pfsense', pfConnection, { kind: 'vlan_interface', op: 'delete', target: baseline.value.iface as string, body: {} });
}

const run = await timed(() => triggerDistribution(ctx, deps, { siteId: site.id, vlanId: vlan.id, force: true, placement }));
if (run.value.status !== 'completed') throw new Error(`distribution ${run.value.status}: ${JSON.stringify(run.value.error)}`);
const back = await timed(() => rollbackDistribution(ctx, deps, run.value.id, { confirmed: true }));
if (back.value.status !== 'rolled_back') throw new Error(`rollback ${back.value.status}`);

const failing = limbs[FAIL_AT - 1] as Limb;
failing.fail();
const failed = await timed(() => triggerDistribution(ctx, deps, { siteId: site.id, vlanId: vlan.id, force: true, placement }));
failing.clear();
const failedStep = failed.value.steps.find((s) => s.status === 'failed');
const compensated = failed.value.steps.filter((s) => s.status === 'compensated').length;
if (failed.value.status !== 'failed' || failedStep === undefined) throw new Error(`expected a failed distribution, got ${failed.value.status}`);
const rollbackMs = (failed.value.finishedAt as Date).getTime() - (failedStep.finishedAt as Date).getTime();

const writes = 2 + LIMBS;
console.log(`distribution of one VLAN (+ DHCP scope) to 1 brain + ${LIMBS} limbs (${writes} device writes, ${LIMBS + 1} reachability checks)`);
console.log(`  baseline, the same ${writes} writes made directly: ${baseline.ms.toFixed(0)} ms; one direct bridge VLAN write: ${single.ms.toFixed(0)} ms`);
console.log(`  distribution (saga, every write a verified pending change): ${run.ms.toFixed(0)} ms = ${(run.ms / baseline.ms).toFixed(2)} x the direct writes`);
console.log(`  rollback of the completed distribution (${writes} compensations, each verified): ${back.ms.toFixed(0)} ms`);
console.log(
  `  limb ${FAIL_AT} fails: whole run ${failed.ms.toFixed(0)} ms; from its failure to every completed step compensated and verified (${compensated} steps): ${rollbackMs} ms = ${(rollbackMs / single.ms).toFixed(1)} x one direct write`,
);

await adapters.closeAll();
await Promise.all([pf.close(), ...limbs.map((l) => l.close())]);
await store.close();
