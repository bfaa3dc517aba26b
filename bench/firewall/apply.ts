/**
 * @module Benchmark: a staged live write from staging to "applied and verified" (src/firewall/pending.ts,
 * docs/firewall.md "Live writes: pending changes") through the real app's HTTP API (`app.inject`, PGlite in
 * memory, read-only off) against the pfRest emulator over loopback HTTPS with no apply delay, compared in the same
 * run with the bare round trips a script would make for the same change with the pfSense live writer: write the
 * rule, apply the firewall, read it back.
 *
 * Prints, as p50 / p95 over N changes (alternating with the baseline, so both see the same load):
 * - stage: `POST .../firewall-rules` without force (the semantic preview reads the live config here);
 * - apply → verified: `POST /pending/{id}/apply` until it answers `applied` with the read-back equal;
 * - a batch of 10 rule updates, one `POST /pending/apply` (one device apply), against 10 writes + apply + 10 reads;
 * - the same single changes with a small policy-test document on the gateway (the apply gate's cost);
 * - once: a batch of 10 rule creates, which pays pfSense's whole-second tracker (one new rule per second).
 * Every create starts in a fresh second (the wait is not timed), so no create pays the tracker collision retry.
 *
 * Run: `npx tsx bench/firewall/apply.ts [changes=50] [gated=20] [batches=5]`.
 */
import type { LiveRuleBody } from '../../src/adapters/live-write.ts';
import { PfSenseAdapter } from '../../src/adapters/pfsense/index.ts';
import { PfSenseLiveWriter } from '../../src/adapters/pfsense/live-write.ts';
import { startAccessHarness } from '../../test/access-api/harness.ts';

const CHANGES = Number(process.argv[2] ?? 50);
const GATED = Number(process.argv[3] ?? 20);
const BATCHES = Number(process.argv[4] ?? 5);
const BATCH = 10;

const h = await startAccessHarness('pglite', {}, { applyDelayMs: 0, config: { readOnly: false } });
const adapter = new PfSenseAdapter({
  url: h.emulator.url,
  apiKey: h.emulator.apiKey,
  tls: { mode: 'ca', caPem: h.emulator.caPem },
});
const writer = new PfSenseLiveWriter(adapter);

type Json = Record<string, unknown> & { id: string };
async function ok(method: 'GET' | 'POST' | 'PUT', url: string, payload?: object, status = 200): Promise<Json> {
  const res = await h.call({ method, url, token: h.ownerToken, ...(payload ? { payload } : {}) });
  if (res.statusCode !== status) {
    throw new Error(`${method} ${url}: expected ${status}, got ${res.statusCode}: ${res.body}`);
  }
  return res.json();
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
/** pfSense stamps a new rule's key with `time()`: a create in a fresh second never collides with the last one. */
const freshSecond = () => sleep(1_005 - (Date.now() % 1_000));

/** Wall time of `run`, and the HTTP requests the emulator served meanwhile (its request log, cleared first). */
async function timed<T>(run: () => Promise<T>): Promise<{ ms: number; calls: number; value: T }> {
  h.emulator.clearRequests();
  const started = performance.now();
  const value = await run();
  return { ms: performance.now() - started, calls: h.emulator.requests().length, value };
}

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}
const p50 = (v: readonly number[]) => percentile(v, 50);
const p95 = (v: readonly number[]) => percentile(v, 95);
const fmt = (v: readonly number[]) => `p50 ${p50(v).toFixed(1)} ms, p95 ${p95(v).toFixed(1)} ms`;

const siteId = await h.site('bench');
const gatewayId = await h.gateway(siteId, 'bench-gw');
const gw = (path: string) => `/api/v1/firewall/gateways/${gatewayId}/${path}`;

const apiRule = (i: number, port = 10_000 + i) => ({
  action: 'allow',
  interface: 'lan',
  protocol: 'tcp',
  source_address: 'lan',
  dest_address: '10.0.0.5',
  dest_port: String(port),
  description: `bench ${i}`,
});
const liveRule = (i: number, port = 30_000 + i): LiveRuleBody => ({
  action: 'allow',
  interface: 'lan',
  ip_version: 'inet',
  protocol: 'tcp',
  source_address: 'lan',
  source_port: null,
  dest_address: '10.0.0.5',
  dest_port: String(port),
  description: `script ${i}`,
  is_enabled: true,
  log_enabled: false,
});

/** Device requests of the last change on each path: what the time goes to. */
const calls = { stage: 0, apply: 0, script: 0 };

/** Stage and apply one change through the API; fails the run unless it ends applied with the read-back equal. */
async function viaApi(i: number): Promise<{ stage: number; apply: number; target: string }> {
  const staged = await timed(() => ok('POST', gw('firewall-rules'), apiRule(i), 201));
  if (staged.value.status !== 'pending') throw new Error(`change ${i} not staged: ${JSON.stringify(staged.value)}`);
  await freshSecond();
  const applied = await timed(() => ok('POST', `/api/v1/firewall/pending/${staged.value.id}/apply`));
  calls.stage = staged.calls;
  calls.apply = applied.calls;
  const verification = applied.value.verification as { ok?: boolean } | null;
  if (applied.value.status !== 'applied' || verification?.ok !== true) {
    throw new Error(`change ${i} not verified: ${JSON.stringify(applied.value)}`);
  }
  return { stage: staged.ms, apply: applied.ms, target: String(applied.value.target_vendor_id) };
}

/** The script's round trips for the same change: write, apply, read back and compare. */
async function viaScript(i: number): Promise<{ ms: number; target: string }> {
  await freshSecond();
  const body = liveRule(i);
  const run = await timed(async () => {
    const { target } = await writer.write({ kind: 'firewall_rule', op: 'create', target: null, body });
    if (target === null) throw new Error('create returned no target');
    await writer.apply();
    const back = await writer.read('firewall_rule', target);
    if (back?.description !== body.description || back.dest_port !== body.dest_port) {
      throw new Error(`script change ${i} reads back differently: ${JSON.stringify(back)}`);
    }
    return target;
  });
  calls.script = run.calls;
  return { ms: run.ms, target: run.value };
}

// Warm-up: TLS sessions, the adapter cache, the first preview and JIT on both paths.
await viaApi(-1);
await viaScript(-1);

const stage: number[] = [];
const apply: number[] = [];
const script: number[] = [];
const apiTargets: string[] = [];
const scriptTargets: string[] = [];
for (let i = 0; i < CHANGES; i++) {
  const a = await viaApi(i);
  stage.push(a.stage);
  apply.push(a.apply);
  apiTargets.push(a.target);
  const s = await viaScript(i);
  script.push(s.ms);
  scriptTargets.push(s.target);
}

// Batches of 10 updates (no new keys, so no whole-second wait): one device apply for all of them.
const batchStage: number[] = [];
const batchApply: number[] = [];
const batchScript: number[] = [];
for (let b = 0; b < BATCHES; b++) {
  const port = 20_000 + b * BATCH;
  const targets = apiTargets.slice(0, BATCH);
  const staged = await timed(() =>
    Promise.all(targets.map((t, k) => ok('PUT', gw(`firewall-rules/${t}`), apiRule(k, port + k), 201))),
  );
  batchStage.push(staged.ms);
  const ids = staged.value.map((c) => c.id);
  const applied = await timed(() => ok('POST', '/api/v1/firewall/pending/apply', { ids }));
  const items = applied.value.items as Array<{ status: string; verification: { ok?: boolean } | null }>;
  if (items.some((c) => c.status !== 'applied' || c.verification?.ok !== true)) {
    throw new Error(`batch ${b} not verified: ${JSON.stringify(items)}`);
  }
  batchApply.push(applied.ms);

  const bodies = scriptTargets.slice(0, BATCH).map((t, k) => ({ target: t, body: liveRule(k, port + k) }));
  const run = await timed(async () => {
    for (const { target, body } of bodies) await writer.write({ kind: 'firewall_rule', op: 'update', target, body });
    await writer.apply();
    for (const { target, body } of bodies) {
      const back = await writer.read('firewall_rule', target);
      if (back?.dest_port !== body.dest_port) throw new Error(`script batch ${b} reads back differently`);
    }
  });
  batchScript.push(run.ms);
}

// The apply gate: a small policy-test document (5 flows) checked against every change's after-configuration.
const flow = (n: number, port: number, expect: 'pass' | 'block') => ({
  name: `flow ${n}`,
  interface: 'wan',
  protocol: 'tcp',
  source: '8.8.4.4',
  destination: '192.168.1.10',
  destination_port: port,
  expect,
});
const guardedPorts = [8443, 22, 3389, 5432, 8080];
await ok('PUT', gw('policy-tests'), { version: 1, flows: guardedPorts.map((port, n) => flow(n, port, 'block')) });
const gatedStage: number[] = [];
const gatedApply: number[] = [];
for (let i = 0; i < GATED; i++) {
  const a = await viaApi(1_000 + i);
  gatedStage.push(a.stage);
  gatedApply.push(a.apply);
}
await ok('PUT', gw('policy-tests'), { version: 1, flows: [] });

// Once: 10 creates in one batch, each after the first in the same second as the one before it.
await freshSecond();
const createIds: string[] = [];
for (let k = 0; k < BATCH; k++) createIds.push((await ok('POST', gw('firewall-rules'), apiRule(2_000 + k), 201)).id);
const createBatch = await timed(() => ok('POST', '/api/v1/firewall/pending/apply', { ids: createIds }));
const createStatuses = (createBatch.value.items as Array<{ status: string }>).map((c) => c.status);
if (createStatuses.some((s) => s !== 'applied')) throw new Error(`create batch: ${createStatuses.join(', ')}`);
await freshSecond();
const createScript = await timed(async () => {
  const targets: string[] = [];
  for (let k = 0; k < BATCH; k++) {
    const body = liveRule(2_000 + k);
    const { target } = await writer.write({ kind: 'firewall_rule', op: 'create', target: null, body });
    if (target !== null) targets.push(target);
  }
  await writer.apply();
  for (const target of targets) {
    if ((await writer.read('firewall_rule', target)) === null) throw new Error(`rule ${target} not read back`);
  }
});

await adapter.close();
await h.close();

const ratio = p50(apply) / p50(script);
console.log(`apply → verified: ${CHANGES} rule creates, pfRest emulator (no apply delay), loopback, PGlite in memory`);
console.log(`device requests per change: stage ${calls.stage}, apply ${calls.apply}, script ${calls.script}`);
console.log(`stage (POST firewall-rules, semantic preview on the live config): ${fmt(stage)}`);
console.log(`apply → verified (POST /pending/{id}/apply): ${fmt(apply)}`);
console.log(`baseline, script (write + apply + read back with the pfSense writer): ${fmt(script)}`);
console.log(
  `ratio apply / script: p50 ${ratio.toFixed(2)} ×, p95 ${(p95(apply) / p95(script)).toFixed(2)} ×; stage + apply p50 ${(p50(stage) + p50(apply)).toFixed(1)} ms = ${((p50(stage) + p50(apply)) / p50(script)).toFixed(2)} × the script`,
);
console.log(
  `batch of ${BATCH} updates, ${BATCHES} rounds: stage all ${fmt(batchStage)}; one apply → all verified ${fmt(batchApply)}; script (10 writes + apply + 10 reads) ${fmt(batchScript)}; ratio p50 ${(p50(batchApply) / p50(batchScript)).toFixed(2)} ×`,
);
console.log(
  `with 5 policy tests on the gateway (${GATED} changes): stage ${fmt(gatedStage)}; apply → verified ${fmt(gatedApply)} (${(p50(gatedApply) / p50(apply)).toFixed(2)} × ungated p50)`,
);
console.log(
  `batch of ${BATCH} creates (whole-second trackers): apply → verified ${createBatch.ms.toFixed(0)} ms; script ${createScript.ms.toFixed(0)} ms`,
);
