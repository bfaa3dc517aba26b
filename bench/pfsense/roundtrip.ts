/**
 * @module Benchmark: get + patch + apply round trips per second through the pfSense adapter against the pfRest
 * emulator (zero apply delay, running in a child process so its CPU is not counted), and the adapter's own CPU
 * cost per call, compared in the same run with a baseline that sends the same four HTTP requests with bare undici.
 *
 * Run: `npx tsx bench/pfsense/roundtrip.ts [iterations]` (default 1000).
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { Agent } from 'undici';
import { PfSenseAdapter } from '../../src/adapters/pfsense/index.ts';

const ITERATIONS = Number(process.argv[2] ?? 1000);
const WARMUP = 100;
const CALLS_PER_ROUND_TRIP = 4; // GET alias, GET alias (re-resolve before the write), PATCH alias, POST apply
const ALIAS = 'bench_jit';

const lab = spawn(
  process.execPath,
  [join(import.meta.dirname, '../../bin/portcullis.js'), 'lab', 'pfsense', '--json'],
  {
    stdio: ['ignore', 'pipe', 'inherit'],
  },
);
const [line] = (await once(lab.stdout, 'data')) as [Buffer];
const emu = JSON.parse(line.toString('utf8')) as { url: string; apiKey: string; fingerprint: string };

const adapter = new PfSenseAdapter({
  url: emu.url,
  apiKey: emu.apiKey,
  tls: { mode: 'fingerprint', sha256: emu.fingerprint },
});
await adapter.createAlias(ALIAS, 'host', 'benchmark');
const entriesFor = (i: number) => [
  { address: '198.51.100.1', detail: 'admin entry' },
  { address: `203.0.113.${i % 250}`, detail: `portcullis:grant-${i}` },
];

async function adapterRoundTrip(i: number): Promise<void> {
  await adapter.getAlias(ALIAS);
  await adapter.setAliasEntries(ALIAS, entriesFor(i));
  await adapter.apply();
}

// Baseline: the same four requests with bare undici (no classification, validation, breaker or retry).
const raw = new Agent({ connect: { rejectUnauthorized: false }, connections: 4 });
const headers = { 'x-api-key': emu.apiKey, accept: 'application/json' };
async function rawCall(method: 'GET' | 'PATCH' | 'POST', path: string, body?: unknown): Promise<unknown> {
  const res = await raw.request({
    origin: emu.url,
    path,
    method,
    headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return JSON.parse(await res.body.text());
}
async function rawRoundTrip(i: number): Promise<void> {
  await rawCall('GET', `/api/v2/firewall/aliases?name=${ALIAS}`);
  const found = (await rawCall('GET', `/api/v2/firewall/aliases?name=${ALIAS}`)) as {
    data: Array<{ id: number }>;
  };
  const entries = entriesFor(i);
  await rawCall('PATCH', '/api/v2/firewall/alias', {
    id: found.data[0]?.id,
    name: ALIAS,
    address: entries.map((e) => e.address),
    detail: entries.map((e) => e.detail),
  });
  await rawCall('POST', '/api/v2/firewall/apply', {});
}

async function measure(fn: (i: number) => Promise<void>) {
  for (let i = 0; i < WARMUP; i++) await fn(i);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < ITERATIONS; i++) await fn(i);
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const cpuUs = cpu.user + cpu.system;
  return {
    perSecond: (ITERATIONS * 1000) / ms,
    cpuUsPerRoundTrip: cpuUs / ITERATIONS,
    cpuUsPerCall: cpuUs / ITERATIONS / CALLS_PER_ROUND_TRIP,
  };
}

// Alternate rounds so warm-up of either side (JIT in both processes) does not favour the one measured last.
const ROUNDS = 3;
type Result = Awaited<ReturnType<typeof measure>>;
const median = (rs: Result[], key: keyof Result) =>
  [...rs].sort((a, b) => a[key] - b[key])[Math.floor(rs.length / 2)]?.[key] ?? 0;
const baselines: Result[] = [];
const adapters: Result[] = [];
for (let r = 0; r < ROUNDS; r++) {
  baselines.push(await measure(rawRoundTrip));
  adapters.push(await measure(adapterRoundTrip));
}
const summarize = (rs: Result[]): Result => ({
  perSecond: median(rs, 'perSecond'),
  cpuUsPerRoundTrip: median(rs, 'cpuUsPerRoundTrip'),
  cpuUsPerCall: median(rs, 'cpuUsPerCall'),
});
const baseline = summarize(baselines);
const measured = summarize(adapters);
const f = (n: number) => n.toFixed(1);
console.log(
  `pfSense adapter round trip (get + patch + apply = ${CALLS_PER_ROUND_TRIP} HTTPS calls), ${ITERATIONS} iterations × ${ROUNDS} alternating rounds (medians), emulator in a child process`,
);
console.log(
  `  baseline (bare undici):  ${f(baseline.perSecond)} round trips/s, client CPU ${f(baseline.cpuUsPerCall)} µs/call`,
);
console.log(
  `  adapter:                 ${f(measured.perSecond)} round trips/s, client CPU ${f(measured.cpuUsPerCall)} µs/call`,
);
console.log(`  throughput ratio adapter/baseline: ${(measured.perSecond / baseline.perSecond).toFixed(2)}`);
console.log(
  `  adapter's own CPU overhead: ${f(measured.cpuUsPerCall - baseline.cpuUsPerCall)} µs/call (CPU ratio ${(measured.cpuUsPerCall / baseline.cpuUsPerCall).toFixed(2)})`,
);

await adapter.close();
await raw.close();
lab.kill('SIGTERM');
await once(lab, 'exit');
