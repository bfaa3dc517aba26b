/**
 * @module Benchmark: the OpenWrt adapter's access path against the OpenWrt emulator (in this process, HTTPS, real
 * clock): grant → effective latency (one reconcile pass that adds one entry; the write is live when the call
 * returns, docs/adr/0200), a 1,000-grant storm (one pass with all of them, and 1,000 passes of one each:
 * requests, nft writes, applies, time until all live), and native-expiry precision (how late the emulated kernel
 * drops an entry after its grant's expiry; nft timeouts are whole seconds, rounded up). Baseline in the same run:
 * a bare `system.info` ubus call with undici (no adapter).
 *
 * Run: `npx tsx bench/openwrt/access.ts`.
 */
import { Agent } from 'undici';
import { OpenWrtAdapter } from '../../src/adapters/openwrt/index.ts';
import type { AliasEntry } from '../../src/adapters/types.ts';
import { startOpenWrtEmulator } from '../../src/emulators/openwrt/index.ts';

const emu = await startOpenWrtEmulator({ reloadDelayMs: 20 });
const login = emu.users.find((u) => u.username === 'portcullis') ?? emu.credentials;
const adapter = new OpenWrtAdapter({
  url: emu.url,
  username: login.username,
  password: login.password,
  tls: { mode: 'fingerprint', sha256: emu.fingerprint ?? '' },
  apply: { deadlineMs: 10_000, pollIntervalMs: 20 },
});
const live = (set: string) => new Set(emu.state().firewall.sets[set]?.elements.map((e) => e.value) ?? []);
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] ?? NaN;
const ms = (x: number) => `${x.toFixed(2)} ms`;
const addr = (i: number) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
const grant = (i: number, ttlMs = 3_600_000): AliasEntry => ({ address: addr(i), detail: `portcullis:g${i}`, expiresAt: Date.now() + ttlMs });

// Baseline: one bare ubus call (login once, then system.info) with undici.
const raw = new Agent({ connect: { rejectUnauthorized: false } });
const post = async (body: unknown) => {
  const res = await raw.request({ origin: emu.url, path: '/ubus', method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return (await res.body.json()) as { result: [number, { ubus_rpc_session?: string }] };
};
const sid = (await post({ jsonrpc: '2.0', id: 1, method: 'call', params: ['0'.repeat(32), 'session', 'login', { username: login.username, password: login.password }] })).result[1].ubus_rpc_session ?? '';
const base: number[] = [];
for (let i = 0; i < 220; i++) {
  const t0 = performance.now();
  await post({ jsonrpc: '2.0', id: 1, method: 'call', params: [sid, 'system', 'info', {}] });
  if (i >= 20) base.push(performance.now() - t0);
}

// Grant → effective: one pass adding one entry to a set of 50.
await adapter.createAlias('bench_grant', 'host', 'benchmark');
let desired: AliasEntry[] = Array.from({ length: 50 }, (_, i) => grant(i));
await adapter.setAliasEntries('bench_grant', desired);
const effective: number[] = [];
for (let i = 50; i < 250; i++) {
  const t0 = performance.now();
  desired = [...desired, grant(i)];
  await adapter.setAliasEntries('bench_grant', desired);
  while (!live('bench_grant').has(addr(i))) await new Promise((r) => setImmediate(r));
  effective.push(performance.now() - t0);
}

// Storm A: 1,000 grants in one reconcile pass.
await adapter.createAlias('bench_storm', 'host', 'benchmark');
emu.clearRequests();
let t0 = performance.now();
const storm = Array.from({ length: 1000 }, (_, i) => grant(10_000 + i));
await adapter.setAliasEntries('bench_storm', storm);
const stormOneMs = performance.now() - t0;
const stormOneLive = live('bench_storm').size;
const reqsOne = emu.requests();
const nftWritesOne = reqsOne.flatMap((r) => r.calls).filter((c) => c.method === 'exec' && JSON.stringify(c.args).includes('"add"')).length;
const maxBody = Math.max(...reqsOne.map((r) => r.bytes));

// Storm B: 1,000 grants, one pass each (the list grows by one per pass).
await adapter.createAlias('bench_storm2', 'host', 'benchmark');
emu.clearRequests();
t0 = performance.now();
let growing: AliasEntry[] = [];
for (let i = 0; i < 1000; i++) {
  growing = [...growing, grant(20_000 + i)];
  await adapter.setAliasEntries('bench_storm2', growing);
}
const stormEachMs = performance.now() - t0;
const reqsEach = emu.requests().length;
const stormEachLive = live('bench_storm2').size;

// Expiry precision: 20 grants expiring 1.2 s .. 3.1 s from now, real clock, watched every 10 ms.
await adapter.createAlias('bench_expiry', 'host', 'benchmark');
const expiring = Array.from({ length: 20 }, (_, i) => grant(30_000 + i, 1_200 + i * 100));
await adapter.setAliasEntries('bench_expiry', expiring);
const late: number[] = [];
const pending = new Map(expiring.map((e) => [e.address, e.expiresAt as number]));
const deadline = Date.now() + 8_000;
while (pending.size > 0 && Date.now() < deadline) {
  const now = live('bench_expiry');
  for (const [a, at] of pending) {
    if (!now.has(a)) {
      late.push(Date.now() - at);
      pending.delete(a);
    }
  }
  await new Promise((r) => setTimeout(r, 10));
}

const b50 = pct(base, 50);
console.log('OpenWrt adapter ↔ emulator (in process, HTTPS, real clock)');
console.log(`baseline: bare ubus system.info p50 ${ms(b50)}, p95 ${ms(pct(base, 95))}`);
console.log(`grant → effective (pass adding 1 to 50–250 entries): p50 ${ms(pct(effective, 50))}, p95 ${ms(pct(effective, 95))} (${(pct(effective, 50) / b50).toFixed(1)}× baseline)`);
console.log(`storm, 1 pass × 1,000 grants: ${ms(stormOneMs)}, ${reqsOne.length} requests, ${nftWritesOne} nft add calls (max body ${maxBody} B), 0 applies, ${stormOneLive}/1000 live when it returns`);
console.log(`storm, 1,000 passes × 1 grant: ${ms(stormEachMs)} (${ms(stormEachMs / 1000)} per pass), ${reqsEach} requests, 0 applies, ${stormEachLive}/1000 live`);
console.log(`native expiry: ${late.length}/20 dropped; late by p50 ${ms(pct(late, 50))}, max ${ms(Math.max(...late))} (whole-second nft timeouts, rounded up)`);
await raw.close();
await adapter.close();
await emu.close();
