/**
 * @module The access benchmark for any vendor, through the same harness as the access scenarios
 * (test/contract/access-scenarios.case.ts): the real app on PGlite in this process, granting through its HTTP API
 * onto the vendor's emulator. Prints (a) grant → effective (live on the device) p50 / p99, (b) a 1,000-grant storm:
 * device writes, applies and the time until all are live after the last grant was accepted, (c) expiry precision:
 * time from `expires_at` to gone on the device (on native-expiry vendors the device drops it itself; the others
 * rely on the reconciler), with a same-run baseline: one list write (+ apply where the vendor stages) per grant
 * through the vendor's own adapter, and the ratio.
 *
 *   npx tsx bench/access/vendors.ts [vendor …]      (default: every vendor with a harness in bench/access/harnesses.ts)
 *   BENCH_STORM=1000 BENCH_SAMPLES=20 npx tsx bench/access/vendors.ts pfsense
 */
import { lookup } from 'node:dns';
import { findVendor } from '../../src/adapters/vendors.ts';
import { parseHostAllowList } from '../../src/net/ssrf.ts';
import { testSettings } from '../../test/access-api/harness.ts';
import type { AccessScenarioHarness, ScenarioDevice } from '../../test/contract/access-scenarios.case.ts';
import { startTestApp } from '../../test/helpers/app.ts';
import { ACCESS_HARNESSES } from './harnesses.ts';

const STORM = Number(process.env.BENCH_STORM ?? 1_000);
const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 20);
const BASELINE = 10;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const fmt = (ms: number) => `${ms.toFixed(0)} ms`;
const pct = (xs: number[], p: number) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
};

async function until(test: () => boolean | Promise<boolean>, timeoutMs = 120_000): Promise<number> {
  const started = Date.now();
  while (!(await test())) {
    if (Date.now() - started > timeoutMs) throw new Error('timed out waiting for the device');
    await sleep(2);
  }
  return performance.now();
}

async function bench(harness: AccessScenarioHarness): Promise<void> {
  const vendor = findVendor(harness.vendor);
  if (vendor === undefined) throw new Error(`vendor ${harness.vendor} is not registered`);
  const device: ScenarioDevice = await harness.start();
  const settings = testSettings({ allowHosts: parseHostAllowList(harness.host ?? '127.0.0.1') });
  // The device's test-only tuning (e.g. nftables' `ip netns exec <ns>` prefix) reaches every adapter built here.
  if (device.tuning) settings.adapter = { ...settings.adapter, ...device.tuning };
  const h = await startTestApp('pglite', {}, { accessSettings: settings });
  const post = async (url: string, payload: object): Promise<Record<string, string>> => {
    const res = await h.call({ method: 'POST', url, payload, token: h.ownerToken });
    if (res.statusCode >= 300) throw new Error(`${url}: ${res.statusCode} ${res.body}`);
    return res.json<Record<string, string>>();
  };
  const live = async (list: string) => new Set((await device.liveEntries(list)).map((e) => e.address));
  try {
    const site = await post('/api/v1/sites', { name: 'bench' });
    const gateway = await post('/api/v1/firewall/gateways', {
      name: `bench-${vendor.id}`,
      site_id: site.id,
      vendor: vendor.id,
      url: device.url,
      ...device.credentials,
      ...(device.fingerprint ? { fingerprint_sha256: device.fingerprint } : {}),
    });
    let lists = 0;
    const knoc = async () =>
      post('/api/v1/access/knocs', {
        name: `bench-${++lists}`,
        gateway_id: gateway.id,
        alias_name: `pc_bench_${lists}`,
        create_alias_if_missing: vendor.capabilities['alias.create'],
        max_ttl_seconds: 86_400,
      }) as Promise<{ id: string; alias_name: string }>;
    console.log(
      `access benchmark — ${vendor.name} (${vendor.id}, ${vendor.api}); writes ${vendor.capabilities.apply ? 'staged + apply' : 'live at once'}, ` +
        `native expiry ${vendor.capabilities.native_expiry ? 'on' : 'off'}`,
    );

    // (a) grant → effective
    {
      const k = await knoc();
      await post('/api/v1/access/grants', { knoc_id: k.id, ip: '203.0.113.254', reason: 'prime' });
      await until(async () => (await live(k.alias_name)).has('203.0.113.254'));
      await h.app.access.settled();
      const samples: number[] = [];
      for (let i = 0; i < SAMPLES; i++) {
        const ip = `203.0.113.${i + 1}`;
        const t0 = performance.now();
        await post('/api/v1/access/grants', { knoc_id: k.id, ip, reason: 'bench' });
        samples.push((await until(async () => (await live(k.alias_name)).has(ip))) - t0);
        await h.app.access.settled();
      }
      console.log(`(a) grant → live on the device: p50 ${fmt(pct(samples, 50))}, p99 ${fmt(pct(samples, 99))} (${SAMPLES} grants, one at a time)`);
    }

    // (b) storm
    let coalescedPerGrant = 0;
    {
      const k = await knoc();
      await h.app.access.settled();
      const w0 = await device.writes();
      const a0 = await device.applies();
      const t0 = performance.now();
      const ips = Array.from({ length: STORM }, (_, i) => `10.${80 + (i >> 16)}.${(i >> 8) & 255}.${(i & 255) + 0}`);
      const CONCURRENCY = 50;
      for (let i = 0; i < ips.length; i += CONCURRENCY) {
        await Promise.all(ips.slice(i, i + CONCURRENCY).map((ip) => post('/api/v1/access/grants', { knoc_id: k.id, ip, reason: 'storm' })));
      }
      const accepted = performance.now();
      const done = await until(async () => (await live(k.alias_name)).size >= STORM, 300_000);
      await h.app.access.settled();
      const writes = (await device.writes()) - w0;
      const applies = (await device.applies()) - a0;
      coalescedPerGrant = (done - t0) / STORM;
      console.log(
        `(b) storm: ${STORM} grants accepted in ${fmt(accepted - t0)} → all live ${fmt(done - accepted)} after the last; ` +
          `device writes ${writes}, applies ${applies}`,
      );
    }

    // Baseline: one write (+ apply) per grant through the vendor's own adapter, sequential.
    {
      const k = await knoc();
      await post('/api/v1/access/grants', { knoc_id: k.id, ip: '198.18.0.254', reason: 'create the list' });
      await until(async () => (await live(k.alias_name)).has('198.18.0.254'));
      await h.app.access.settled();
      const adapter = vendor.createAdapter({
        url: device.url,
        credentials: device.credentials,
        tls: device.fingerprint ? { mode: 'fingerprint', sha256: device.fingerprint } : { mode: 'insecure' },
        lookup,
        ...(device.tuning ? { tuning: device.tuning } : {}),
      });
      const list = `pc_bench_naive`;
      try {
        if (vendor.capabilities['alias.create']) {
          await adapter.createAlias(list, 'host', 'naive baseline');
          if (vendor.capabilities.apply) await adapter.apply();
        }
        const entries: { address: string; detail: string }[] = [];
        const t0 = performance.now();
        for (let i = 0; i < BASELINE; i++) {
          entries.push({ address: `198.18.1.${i + 1}`, detail: `portcullis:naive${i}` });
          await adapter.setAliasEntries(list, entries);
          if (vendor.capabilities.apply) await adapter.apply();
        }
        const perGrant = (performance.now() - t0) / BASELINE;
        console.log(
          `    baseline: ${fmt(perGrant)} per grant (1 write${vendor.capabilities.apply ? ' + 1 apply' : ''} each, sequential) → ` +
            `${STORM} grants ≈ ${((perGrant * STORM) / 1000).toFixed(1)} s; coalesced ${coalescedPerGrant.toFixed(2)} ms per grant → ratio ${(perGrant / coalescedPerGrant).toFixed(0)}×`,
        );
      } finally {
        await adapter.close();
      }
    }

    // (c) expiry precision
    {
      const k = await knoc();
      const samples: number[] = [];
      for (let i = 0; i < 5; i++) {
        const ip = `198.51.100.${200 + i}`;
        const grant = await post('/api/v1/access/grants', { knoc_id: k.id, ip, reason: 'expiry', ttl_seconds: 2 });
        await until(async () => (await live(k.alias_name)).has(ip));
        await until(async () => !(await live(k.alias_name)).has(ip), 30_000);
        samples.push(Date.now() - Date.parse(grant.expires_at as string));
        await h.app.access.settled();
      }
      console.log(
        `(c) expiry → gone on the device after expires_at: p50 ${fmt(pct(samples, 50))}, max ${fmt(Math.max(...samples))} ` +
          `(${vendor.capabilities.native_expiry ? 'the device expires the entry, the reconciler also removes it' : 'the reconciler removes it'})`,
      );
    }
  } finally {
    await h.close();
    await device.close();
  }
}

const wanted = process.argv.slice(2);
for (const harness of ACCESS_HARNESSES.filter((x) => wanted.length === 0 || wanted.includes(x.vendor))) {
  await bench(harness);
  console.log('');
}
process.exit(0);
