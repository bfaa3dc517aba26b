/**
 * @module End-to-end access benchmark (issue 4, ADR 0103): a real server process (PGlite data dir) granting
 * through its HTTP API onto a pfRest emulator with a 1 s apply delay, the emulator's applied table polled in this
 * process. Prints (a) API call → address applied, (b) 1,000 grants in ~1 s → all applied, writes and applies
 * counted, (c) expiry precision, (d) 10,000 live grants: server RSS and full-reconcile time after a restart —
 * and the naive baseline (one write + apply per grant, real adapter, same emulator) with the ratio.
 *
 *   npx tsx bench/access/run.ts                  (reconciler alone, without HTTP/store: bench/access/reconciler.ts)
 *   PORTCULLIS_BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test npx tsx bench/access/run.ts
 *                                                (PostgreSQL: a fresh database on that server, dropped at the end)
 *
 * The server runs with its default principal cache (PORTCULLIS_AUTH_CACHE_TTL unset), as deployed.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { PfSenseAdapter } from '../../src/adapters/pfsense/index.ts';
import { type PfRestEmulator, startPfRestEmulator } from '../../src/emulators/pfrest/index.ts';
import { accessWorld } from '../../test/e2e/support/access-world.ts';
import { type ApiCaller, caller, ownerToken, type ServerProcess, spawnServer } from '../../test/e2e/support/server-process.ts';

const APPLY_DELAY_MS = 1_000;
const ALIAS = 'pc_bench';
const STORM = 1_000;
const MANY = Number(process.env.BENCH_MANY ?? 10_000);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const fmt = (ms: number) => `${ms.toFixed(0)} ms`;
const mb = (bytes: number) => `${(bytes / 1048576).toFixed(0)} MB`;
const ip = (n: number) => `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return { min: s[0] as number, median: s[Math.floor(s.length / 2)] as number, max: s[s.length - 1] as number };
};
const verdict = (ok: boolean) => (ok ? 'met' : 'MISSED');

/** A fresh PostgreSQL database on the server of `PORTCULLIS_BENCH_DATABASE_URL`, or null for embedded PGlite. */
async function benchDatabase(): Promise<{ url: string; drop(): Promise<void> } | null> {
  const base = process.env.PORTCULLIS_BENCH_DATABASE_URL;
  if (!base) return null;
  const name = `portcullis_bench_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(base);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: base });
      await client.connect();
      await client.query(`drop database if exists ${name} with (force)`);
      await client.end();
    },
  };
}

const emulator: PfRestEmulator = await startPfRestEmulator({ applyDelayMs: APPLY_DELAY_MS });
const dataDir = mkdtempSync(join(tmpdir(), 'portcullis-bench-access-'));
const database = await benchDatabase();
const serverEnv = {
  PORTCULLIS_ALLOW_GATEWAY_HOSTS: '127.0.0.1',
  PORTCULLIS_LAB: 'off',
  PORTCULLIS_AUTH_CACHE_TTL: undefined,
  ...(database ? { PORTCULLIS_DATABASE_URL: database.url } : {}),
};
let server: ServerProcess = await spawnServer({ dataDir, env: serverEnv });

const table = () => emulator.state().tables[ALIAS] ?? [];
const inTable = (addresses: string[]) => {
  const live = new Set(table());
  return addresses.every((a) => live.has(a));
};
const seq = () => emulator.requests().at(-1)?.seq ?? 0;
const countSince = (mark: number, method: string, path: string) =>
  emulator.requests().filter((r) => r.seq > mark && r.method === method && r.path === path).length;

/** Polls the emulator (in this process) every 2 ms; returns the instant `test` first held. */
async function until(test: () => boolean, timeoutMs = 300_000): Promise<number> {
  const started = Date.now();
  while (!test()) {
    if (Date.now() - started > timeoutMs) throw new Error('timed out waiting for the emulator');
    await sleep(2);
  }
  return Date.now();
}

/**
 * A field of the server child's `/proc/<pid>/status` in bytes: `VmRSS` (resident now) or `VmHWM` (its peak so far,
 * the child's own `process.resourceUsage().maxRSS`, which this process cannot call).
 */
function memoryOf(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith(`${field}:`));
  return Number(/(\d+)/.exec(line ?? '')?.[1] ?? 0) * 1024;
}
const rssOf = (pid: number): number => memoryOf(pid, 'VmRSS');

/** Runs `jobs` with at most `width` in flight. */
async function pooled<T>(jobs: Array<() => Promise<T>>, width: number): Promise<T[]> {
  const results = new Array<T>(jobs.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < jobs.length) {
        const i = next++;
        results[i] = await (jobs[i] as () => Promise<T>)();
      }
    }),
  );
  return results;
}

const token = await ownerToken(server.url);
const world = await accessWorld(server.url, token, emulator, 'bench');
const knoc = await world.knoc({ name: 'bench', alias_name: ALIAS, grant_ttl_seconds: 3_600, max_ttl_seconds: 86_400 });
let admin: ApiCaller = world.admin;
const rssIdle = rssOf(server.child.pid as number);
const grant = (address: string, ttlSeconds = 3_600) =>
  admin.call<{ id: string; expires_at: string }>('POST', '/api/v1/access/grants', {
    knoc_id: knoc.id,
    ip: address,
    ttl_seconds: ttlSeconds,
    reason: 'bench',
  });

console.log(
  `access benchmark — server process (${database ? 'PostgreSQL' : 'PGlite'}) over HTTP, pfRest emulator apply delay ${APPLY_DELAY_MS} ms; ` +
    `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}\n`,
);

// Prime: the alias exists and the first run's apply is behind us, as on a server that has been up a while.
await grant('198.51.100.250');
await until(() => inTable(['198.51.100.250']));
await sleep(APPLY_DELAY_MS + 200);

// (a) one grant: API call → address in the applied table.
{
  const samples: number[] = [];
  for (let i = 1; i <= 5; i++) {
    const address = `203.0.113.${i}`;
    const t0 = Date.now();
    await grant(address);
    samples.push((await until(() => inTable([address]))) - t0);
    await sleep(APPLY_DELAY_MS + 200); // idle reconciler again
  }
  const s = stats(samples);
  console.log(
    `(a) one grant → applied: min ${fmt(s.min)}, median ${fmt(s.median)}, max ${fmt(s.max)} over ${samples.length} ` +
      `(goal ≤ ${fmt(APPLY_DELAY_MS + 150)}: ${verdict(s.max <= APPLY_DELAY_MS + 150)})`,
  );
}

// (b) storm: 1,000 grants for distinct addresses within ~1 s, 50 in flight.
let coalescedPerGrantMs = 0;
{
  const mark = seq();
  const addresses = Array.from({ length: STORM }, (_, i) => ip(i + 1));
  const t0 = Date.now();
  await pooled(
    addresses.map((address) => () => grant(address)),
    50,
  );
  const lastResponse = Date.now();
  const done = await until(() => inTable(addresses));
  const writes = countSince(mark, 'PATCH', '/api/v2/firewall/alias');
  const applies = countSince(mark, 'POST', '/api/v2/firewall/apply');
  coalescedPerGrantMs = (done - t0) / STORM;
  console.log(
    `(b) storm: ${STORM} grants sent over ${fmt(lastResponse - t0)} → all applied ${fmt(done - lastResponse)} after the last ` +
      `(goal ≤ 3000 ms: ${verdict(done - lastResponse <= 3_000)}); alias writes ${writes}, applies ${applies} ` +
      `(goal ≤ 5 each: ${verdict(writes <= 5 && applies <= 5)})`,
  );
}

// Naive baseline: one write + apply per grant, sequential, real adapter on the same emulator (sample of 5).
{
  const naive = new PfSenseAdapter({ url: emulator.url, apiKey: emulator.apiKey, tls: { mode: 'ca', caPem: emulator.caPem } });
  const alias = 'pc_naive';
  await naive.createAlias(alias, 'host', 'naive baseline');
  await naive.apply();
  const sample = 5;
  const entries: { address: string; detail: string }[] = [];
  const t0 = Date.now();
  for (let i = 0; i < sample; i++) {
    entries.push({ address: ip(50_000 + i), detail: `naive:${i}` });
    await naive.setAliasEntries(alias, entries);
    await naive.apply();
  }
  const perGrant = (Date.now() - t0) / sample;
  await naive.close();
  console.log(
    `    naive baseline: ${fmt(perGrant)} per grant (1 write + 1 apply each) → ${STORM} grants ≈ ${((perGrant * STORM) / 60_000).toFixed(1)} min ` +
      `and ${STORM} writes + ${STORM} applies; end to end coalesced: ${coalescedPerGrantMs.toFixed(2)} ms per grant → ratio ${(perGrant / coalescedPerGrantMs).toFixed(0)}×`,
  );
}

// (c) expiry precision: address gone from the applied table after expires_at.
{
  await sleep(APPLY_DELAY_MS + 500);
  const samples: number[] = [];
  for (let i = 1; i <= 5; i++) {
    const address = `203.0.113.${100 + i}`;
    const created = await grant(address, 3);
    await until(() => inTable([address]));
    const expiresAt = Date.parse(created.expires_at);
    const gone = await until(() => !table().includes(address));
    samples.push(gone - expiresAt);
  }
  const s = stats(samples);
  console.log(
    `(c) expiry → gone from the applied table after expires_at: min ${fmt(s.min)}, median ${fmt(s.median)}, max ${fmt(s.max)} ` +
      `(goal ≤ ${fmt(APPLY_DELAY_MS + 250)}: ${verdict(s.max <= APPLY_DELAY_MS + 250)})`,
  );
}

// (d) 10,000 live grants on one alias: server RSS, then a full reconcile after a restart with the alias emptied.
{
  const rssAfterStorm = rssOf(server.child.pid as number);
  const more = Array.from({ length: MANY - STORM }, (_, i) => ip(STORM + i + 1));
  const t0 = Date.now();
  await pooled(
    more.map((address) => () => grant(address)),
    50,
  );
  const all = Array.from({ length: MANY }, (_, i) => ip(i + 1));
  await until(() => inTable(all));
  const loaded = Date.now() - t0;
  const rss1 = rssOf(server.child.pid as number);
  const peak1 = memoryOf(server.child.pid as number, 'VmHWM');

  // Drift while the server is down: every Portcullis entry deleted by hand on the box.
  await server.stop('SIGTERM');
  const box = new PfSenseAdapter({ url: emulator.url, apiKey: emulator.apiKey, tls: { mode: 'ca', caPem: emulator.caPem } });
  await box.setAliasEntries(ALIAS, []);
  await box.apply();
  await box.close();
  const spawnAt = Date.now();
  server = await spawnServer({ dataDir, env: serverEnv });
  const readyAt = Date.now();
  const converged = await until(() => inTable(all));
  const rss2 = rssOf(server.child.pid as number);
  const peak2 = memoryOf(server.child.pid as number, 'VmHWM');
  admin = caller(server.url, { token });
  const status = await admin.call<{ desired_count: number; device_count: number }>(
    'GET',
    `/api/v1/access/knocs/${knoc.id}/status`,
  );
  console.log(
    `(d) ${MANY} live grants: created through the API in ${fmt(loaded)}; server RSS ${mb(rssIdle)} idle with no grant, ` +
      `${mb(rssAfterStorm)} after the storm, ${mb(rss1)} with ${MANY} grants, ${mb(rss2)} after a restart holding them; peak RSS ${mb(peak1)} up to then, ${mb(peak2)} of the restarted server; full reconcile after restart with the alias emptied on the box: ready ${fmt(readyAt - spawnAt)} ` +
      `after spawn, device converged ${fmt(converged - readyAt)} after ready (incl. the ${APPLY_DELAY_MS} ms apply); ` +
      `status desired ${status.desired_count}, device ${status.device_count}`,
  );
}

await server.stop('SIGTERM');
await emulator.close();
await database?.drop();
rmSync(dataDir, { recursive: true, force: true });
