/**
 * @module Benchmark: access on OPNsense through the adapter against the OPNsense emulator (in process, HTTPS,
 * zero reload delay unless `--apply-delay-ms` is given):
 * - grant → effective: setAliasEntries + apply (reconfigure, then the pf-table read-back) until the address is in
 *   the runtime table; baseline in the same run: the same set_item + reconfigure with bare undici (no checks, no
 *   read-back) — the ratio is the adapter's overhead;
 * - a 1,000-grant storm: coalesced (one full-list write, one reconfigure, as the reconciler batches a run) against
 *   per-grant (a write and a reconfigure per grant), requests counted, time until all 1,000 are live;
 * - expiry precision: OPNsense has no per-entry TTL (docs/reference/opnsense-api.md §3), so Portcullis expires
 *   grants itself; the figure is revoke → gone from the pf table after the expiry fires.
 *
 * Run: `npx tsx bench/opnsense/access.ts [samples] [--apply-delay-ms N]` (default 50 samples, 0 ms).
 */
import { Agent } from 'undici';
import { OpnSenseAdapter } from '../../src/adapters/opnsense/index.ts';
import { startOpnsenseEmulator } from '../../src/emulators/opnsense/index.ts';

const SAMPLES = Number(process.argv[2] && !process.argv[2].startsWith('--') ? process.argv[2] : 50);
const delayArg = process.argv.indexOf('--apply-delay-ms');
const APPLY_DELAY = delayArg > 0 ? Number(process.argv[delayArg + 1]) : 0;

const emu = await startOpnsenseEmulator({ version: '26.7', applyDelayMs: APPLY_DELAY });
const adapter = new OpnSenseAdapter({
  url: emu.url,
  apiKey: emu.credentials.key,
  apiSecret: emu.credentials.secret,
  tls: { mode: 'fingerprint', sha256: emu.fingerprint },
  timeouts: { headersMs: 120_000, bodyMs: 120_000 },
});
const live = (alias: string) => new Set(emu.state().runtime.tables[alias] ?? []);
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))] ?? 0;
const fmt = (ms: number) => `${ms.toFixed(1)} ms`;

// --- grant → effective ---------------------------------------------------------------------------------------
await adapter.createAlias('bench_grant', 'host', 'benchmark');
const adapterMs: number[] = [];
for (let i = 0; i < SAMPLES; i++) {
  const ip = `203.0.113.${(i % 250) + 1}`;
  const t0 = performance.now();
  await adapter.setAliasEntries('bench_grant', [{ address: ip, detail: `portcullis:g${i}` }]);
  await adapter.apply();
  if (!live('bench_grant').has(ip)) throw new Error(`${ip} not live after apply`);
  adapterMs.push(performance.now() - t0);
}

const raw = new Agent({ connect: { rejectUnauthorized: false } });
const auth = `Basic ${Buffer.from(`${emu.credentials.key}:${emu.credentials.secret}`).toString('base64')}`;
async function rawCall(path: string, body?: unknown): Promise<unknown> {
  const res = await raw.request({
    origin: emu.url,
    path,
    method: body === undefined && path.includes('get_') ? 'GET' : 'POST',
    headers: body === undefined ? { authorization: auth } : { authorization: auth, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return JSON.parse(await res.body.text());
}
const { uuid } = (await rawCall('/api/firewall/alias/get_alias_uuid/bench_grant')) as { uuid: string };
const rawMs: number[] = [];
for (let i = 0; i < SAMPLES; i++) {
  const ip = `198.51.100.${(i % 250) + 1}`;
  const t0 = performance.now();
  await rawCall(`/api/firewall/alias/set_item/${uuid}`, { alias: { content: ip } });
  await rawCall('/api/firewall/alias/reconfigure');
  rawMs.push(performance.now() - t0);
}

// --- 1,000-grant storm -----------------------------------------------------------------------------------------
const STORM = 1_000;
const ips = Array.from({ length: STORM }, (_, i) => `10.${Math.floor(i / 250)}.${i % 250}.1`);
await adapter.createAlias('bench_storm', 'host', 'storm');
emu.clearRequests();
let t0 = performance.now();
await adapter.setAliasEntries('bench_storm', ips.map((address, i) => ({ address, detail: `portcullis:s${i}` })));
await adapter.apply();
const coalescedMs = performance.now() - t0;
const coalescedRequests = emu.requests().length;
if (live('bench_storm').size !== STORM) throw new Error('storm not fully live');

await adapter.createAlias('bench_storm2', 'host', 'storm per grant');
emu.clearRequests();
const PER_GRANT = Math.min(STORM, Number(process.env.OPN_BENCH_PER_GRANT ?? 200));
t0 = performance.now();
for (let i = 0; i < PER_GRANT; i++) {
  await adapter.setAliasEntries('bench_storm2', ips.slice(0, i + 1).map((address, j) => ({ address, detail: `portcullis:s${j}` })));
  await adapter.apply();
}
const perGrantMs = performance.now() - t0;
const perGrantRequests = emu.requests().length;

// --- expiry precision (Portcullis-side expiry) ------------------------------------------------------------------
const expiryMs: number[] = [];
for (let i = 0; i < Math.min(SAMPLES, 20); i++) {
  const ip = `192.0.2.${i + 1}`;
  await adapter.setAliasEntries('bench_grant', [{ address: ip, detail: `portcullis:e${i}` }]);
  await adapter.apply();
  const t = performance.now(); // the grant's expiry fires now: the reconciler removes it
  await adapter.setAliasEntries('bench_grant', []);
  await adapter.apply();
  if (live('bench_grant').has(ip)) throw new Error('expired entry still live');
  expiryMs.push(performance.now() - t);
}

console.log(`OPNsense access benchmark (emulator 26.7, reload delay ${APPLY_DELAY} ms, ${SAMPLES} samples)`);
console.log(`| measure | result |`);
console.log(`|---|---|`);
console.log(`| grant → effective (adapter: set_item + reconfigure + pf-table read-back), median / p95 | ${fmt(pct(adapterMs, 50))} / ${fmt(pct(adapterMs, 95))} |`);
console.log(`| baseline (bare undici set_item + reconfigure), median / p95 | ${fmt(pct(rawMs, 50))} / ${fmt(pct(rawMs, 95))} |`);
console.log(`| ratio adapter / baseline (median) | ${(pct(adapterMs, 50) / pct(rawMs, 50)).toFixed(2)}× |`);
console.log(`| 1,000-grant storm coalesced: requests, time until all live | ${coalescedRequests} requests (1 write, 1 reconfigure), ${fmt(coalescedMs)} |`);
console.log(`| per-grant writes (${PER_GRANT} grants, a write and a reconfigure each) | ${perGrantRequests} requests, ${fmt(perGrantMs)} (${fmt(perGrantMs / PER_GRANT)} per grant) |`);
console.log(`| expiry precision (revoke → gone from the pf table), median / max | ${fmt(pct(expiryMs, 50))} / ${fmt(Math.max(...expiryMs))} |`);

await adapter.close();
await raw.close();
await emu.close();
