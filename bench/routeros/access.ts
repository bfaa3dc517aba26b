/**
 * @module Benchmark of access on RouterOS: the access reconciler through the RouterOS adapter against the RouterOS
 * emulator (HTTPS on loopback, one request at a time, `LATENCY_MS` of processing per request as a small router
 * has). Prints grant → effective latency, a 1,000-grant storm (writes, requests, time until all live, the most
 * requests ever open at the device), expiry precision (the router's own timeout, and Portcullis's removal), with
 * a naive baseline measured in the same run (one full list write per grant) and the ratio.
 *
 *   npx tsx bench/routeros/access.ts [latency-ms]
 */

import { computeDesiredSet, type GrantSnapshot } from '../../src/access/desired-set.ts';
import { ExpiryScheduler } from '../../src/access/expiry.ts';
import { AliasReconciler } from '../../src/access/reconciler.ts';
import { RouterOsAdapter, routerOsVendor } from '../../src/adapters/routeros/index.ts';
import { type RouterOsEmulator, startRouterOsEmulator } from '../../src/emulators/routeros/index.ts';

const LATENCY_MS = Number(process.argv[2] ?? 2);
const LIST = 'portcullis_bench';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const emulator: RouterOsEmulator = await startRouterOsEmulator({ latencyMs: LATENCY_MS, dynamicFilterRule: false });
const adapters: RouterOsAdapter[] = [];
let key = 0;

function adapter(): RouterOsAdapter {
  const made = new RouterOsAdapter({
    url: emulator.url,
    username: emulator.credentials.username,
    password: emulator.credentials.password,
    tls: { mode: 'ca', caPem: emulator.caPem ?? '' },
    gatewayKey: `bench-${++key}`,
  });
  adapters.push(made);
  return made;
}

type Row = Record<string, unknown>;
const listRows = (): Row[] => {
  const tables = emulator.state().tables as unknown as Record<string, { rows: Row[] } | undefined>;
  return (tables['ip/firewall/address-list']?.rows ?? [])
    .map((r) => (typeof r.values === 'object' && r.values !== null ? (r.values as Row) : r))
    .filter((r) => r.list === LIST);
};
const liveAddresses = () => new Set(listRows().map((r) => String(r.address)));
const requestsOf = (method: string) => emulator.requests().filter((r) => r.method === method).length;

function setup() {
  const grants: GrantSnapshot[] = [];
  const reconciler = new AliasReconciler({
    aliasName: LIST,
    target: adapter(),
    desired: () => computeDesiredSet(grants, Date.now()),
    createIfMissing: () => true,
    killStatesOnRevoke: () => true,
    nativeExpiry: () => true,
    codes: routerOsVendor.errors,
    periodicMs: null,
  });
  return { grants, reconciler };
}

/** Polls the emulator every 2 ms until `test` holds; returns the instant it first did. */
async function until(test: () => boolean, timeoutMs = 120_000): Promise<number> {
  const started = Date.now();
  while (!test()) {
    if (Date.now() - started > timeoutMs) throw new Error('timed out waiting for the emulator');
    await sleep(2);
  }
  return performance.now();
}

const ip = (n: number) => `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
const fmt = (ms: number) => `${ms.toFixed(0)} ms`;

async function clearList() {
  const a = adapter();
  await a.setAliasEntries(LIST, []);
}

console.log(`RouterOS access benchmark — RouterOS emulator (www-ssl, serial, ${LATENCY_MS} ms per request), adapter defaults\n`);

// (a) one grant
{
  const samples: number[] = [];
  for (let i = 0; i < 5; i++) {
    await clearList();
    const { grants, reconciler } = setup();
    await reconciler.reconcileNow();
    const t0 = performance.now();
    grants.push({ id: `a${i}`, ip: '203.0.113.1', expiresAt: Date.now() + 3_600_000 });
    reconciler.poke();
    samples.push((await until(() => liveAddresses().has('203.0.113.1'))) - t0);
    await reconciler.stop();
  }
  console.log(`(a) one grant → live on the router: ${samples.map(fmt).join(', ')} (worst ${fmt(Math.max(...samples))})`);
}

// (b) storm vs naive baseline
{
  await clearList();
  const { grants, reconciler } = setup();
  await reconciler.reconcileNow();
  emulator.resetMaxInFlight();
  const put0 = requestsOf('PUT');
  const all0 = emulator.requests().length;
  const t0 = performance.now();
  for (let batch = 0; batch < 100; batch++) {
    for (let i = 0; i < 10; i++)
      grants.push({ id: `s${batch}-${i}`, ip: ip(batch * 10 + i + 1), expiresAt: Date.now() + 3_600_000 });
    reconciler.poke();
    await sleep(10);
  }
  const lastGrant = performance.now();
  const done = await until(() => liveAddresses().size >= 1_000);
  await reconciler.idle();
  const puts = requestsOf('PUT') - put0;
  const requests = emulator.requests().length - all0;
  console.log(
    `(b) storm: 1,000 grants over ${fmt(lastGrant - t0)} → all live ${fmt(done - lastGrant)} after the last grant ` +
      `(${fmt(done - t0)} from the first); ${puts} PUTs (one per address, RouterOS has no bulk add), ${requests} requests in all, ` +
      `0 applies (writes are live); most requests open at the router at once: ${emulator.maxInFlight()}`,
  );
  await reconciler.stop();

  // Naive baseline: one full list write per grant (read both menus + add), sequential; measured on 50 grants.
  await clearList();
  const naive = adapter();
  const naiveGrants = 50;
  const entries: { address: string; detail: string; expiresAt: number }[] = [];
  const n0 = performance.now();
  for (let i = 0; i < naiveGrants; i++) {
    entries.push({ address: ip(i + 1), detail: `portcullis:n${i}`, expiresAt: Date.now() + 3_600_000 });
    await naive.setAliasEntries(LIST, entries);
  }
  const perGrant = (performance.now() - n0) / naiveGrants;
  const coalescedPerGrant = (done - t0) / 1_000;
  console.log(
    `    naive baseline: ${fmt(perGrant)} per grant (a full list write each) → 1,000 grants ≈ ${((perGrant * 1_000) / 1_000).toFixed(1)} s; ` +
      `coalesced: ${coalescedPerGrant.toFixed(2)} ms per grant → ratio ${(perGrant / coalescedPerGrant).toFixed(1)}×`,
  );
}

// (c) expiry precision
{
  const native: number[] = [];
  const removal: number[] = [];
  for (let i = 0; i < 3; i++) {
    // The router's own timeout, with Portcullis stopped after the write.
    await clearList();
    let h = setup();
    const expiresAt = Date.now() + 2_000;
    h.grants.push({ id: `n${i}`, ip: '203.0.113.9', expiresAt });
    await h.reconciler.reconcileNow();
    await h.reconciler.stop();
    await until(() => !liveAddresses().has('203.0.113.9'), 10_000);
    native.push(Date.now() - expiresAt);

    // Portcullis's expiry job removing it first.
    await clearList();
    h = setup();
    const grant: GrantSnapshot = { id: `e${i}`, ip: '203.0.113.10', expiresAt: Date.now() + 60_000 };
    h.grants.push(grant);
    await h.reconciler.reconcileNow();
    const reconciler = h.reconciler;
    const expiry = new ExpiryScheduler<string>(() => reconciler.poke());
    const at = Date.now() + 1_500;
    grant.expiresAt = at;
    expiry.set(grant.id, at);
    await until(() => !liveAddresses().has('203.0.113.10'), 10_000);
    removal.push(Date.now() - at);
    expiry.stop();
    await reconciler.stop();
  }
  console.log(
    `(c) expiry, the router's own timeout (Portcullis stopped): gone ${native.map(fmt).join(', ')} after expires_at ` +
      `(timeout rounded up to whole seconds + 1 s slack); Portcullis's removal: ${removal.map(fmt).join(', ')} after expires_at`,
  );
}

for (const a of adapters) await a.close();
await emulator.close();
