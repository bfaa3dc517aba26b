/**
 * @module Several nodes on one PostgreSQL (docs/scale-out.md), against one node in the same run: real server
 * processes (`bin/portcullis.js serve`) on a fresh database of their own, one pfRest emulator (20 ms reload) in
 * this process. Prints
 *   (a) grant → live latency (API call to the address in the emulator's applied table), one node, then three
 *       nodes with the grants made round robin — two of three land on a node that does not own the alias, so
 *       their poke travels over LISTEN/NOTIFY to the owner;
 *   (b) sustained grants/s: a storm through one node, then the same storm spread over three, each from the first
 *       request until every grant is live;
 *   (c) takeover: SIGKILL the node holding an alias, time until another node holds its lease, and until a grant
 *       made right after the kill is live.
 *
 *   BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test BENCH_STORM=300 BENCH_SAMPLES=10 npx tsx bench/scale/nodes.ts
 */
import { randomBytes } from 'node:crypto';
import { cpus, loadavg } from 'node:os';
import pg from 'pg';
import { startPfRestEmulator } from '../../src/emulators/pfrest/index.ts';
import {
  call,
  type ClusterNodeProcess,
  clusterNodes,
  expectCall,
  signIn,
  TestCluster,
  waitFor,
} from '../../test/scale/cluster-harness.ts';

const ADMIN_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const STORM = Number(process.env.BENCH_STORM ?? 300);
const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 10);
const LEASE_SECONDS = 3;
const ALIASES = ['pc_b1', 'pc_b2', 'pc_b3'];
const CONCURRENCY = 12;

const pct = (xs: number[], p: number) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
};
const fmt = (ms: number) => `${ms.toFixed(0)} ms`;

async function main(): Promise<void> {
  const name = `portcullis_bench_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`create database "${name}"`);
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  const emulator = await startPfRestEmulator({ applyDelayMs: 20 });
  const cluster = new TestCluster({ databaseUrl: url.toString(), leaseSeconds: LEASE_SECONDS });
  let seq = 0;
  const nextIp = () => {
    seq++;
    return `10.${60 + Math.floor(seq / 62_500)}.${Math.floor(seq / 250) % 250}.${(seq % 250) + 1}`;
  };
  try {
    const a = await cluster.start('a');
    const owner = await signIn(a.url);
    const site = await expectCall(a.url, owner, 'POST', '/api/v1/sites', { name: 'bench' }, 201);
    const gateway = await expectCall(a.url, owner, 'POST', '/api/v1/firewall/gateways', {
      name: 'edge',
      site_id: site.id,
      vendor: 'pfsense',
      url: emulator.url,
      api_key: emulator.apiKey,
      ca_pem: emulator.caPem,
    }, 201);
    const knocs = new Map<string, string>();
    for (const alias of ALIASES) {
      const knoc = await expectCall(a.url, owner, 'POST', '/api/v1/access/knocs', {
        name: `k-${alias}`,
        gateway_id: gateway.id,
        alias_name: alias,
        create_alias_if_missing: true,
      }, 201);
      knocs.set(alias, knoc.id as string);
    }
    const live = (alias: string, ip: string) => (emulator.state().tables[alias] ?? []).includes(ip);
    const grant = (node: ClusterNodeProcess, alias: string, ip: string) =>
      call(node.url, owner, 'POST', '/api/v1/access/grants', {
        knoc_id: knocs.get(alias),
        ip,
        ttl_seconds: 3600,
        reason: 'bench',
      });

    async function latency(nodes: ClusterNodeProcess[]): Promise<number[]> {
      const samples: number[] = [];
      for (let i = 0; i < SAMPLES; i++) {
        const alias = ALIASES[i % ALIASES.length] as string;
        const ip = nextIp();
        const started = performance.now();
        const res = await grant(nodes[i % nodes.length] as ClusterNodeProcess, alias, ip);
        if (res.status !== 201) throw new Error(`grant refused: ${res.status}`);
        await waitFor(async () => (live(alias, ip) ? true : undefined), 30_000, 'a grant to go live');
        samples.push(performance.now() - started);
      }
      return samples;
    }

    async function storm(nodes: ClusterNodeProcess[]): Promise<{ ms: number; perSecond: number }> {
      const planned = Array.from({ length: STORM }, (_, i) => ({ alias: ALIASES[i % ALIASES.length] as string, ip: nextIp() }));
      let next = 0;
      const started = performance.now();
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          for (;;) {
            const i = next++;
            const item = planned[i];
            if (item === undefined) return;
            const res = await grant(nodes[i % nodes.length] as ClusterNodeProcess, item.alias, item.ip);
            if (res.status !== 201) throw new Error(`grant refused: ${res.status}`);
          }
        }),
      );
      await waitFor(async () => (planned.every((g) => live(g.alias, g.ip)) ? true : undefined), 120_000, 'the storm to go live');
      const ms = performance.now() - started;
      return { ms, perSecond: (STORM * 1_000) / ms };
    }

    const oneLatency = await latency([a]);
    const oneStorm = await storm([a]);

    const [b, c] = await Promise.all([cluster.start('b'), cluster.start('c')]);
    const nodes = [a, b, c] as ClusterNodeProcess[];
    await waitFor(async () => {
      const view = await clusterNodes(a.url, owner);
      return view.filter((n) => n.alive && n.leases.length === 1).length === 3 ? true : undefined;
    }, 30_000, 'one alias on each node');
    const threeLatency = await latency(nodes);
    const threeStorm = await storm(nodes);

    // Takeover: kill the holder of the first alias.
    const view = await clusterNodes(a.url, owner);
    const holderPid = view.find((n) => n.leases.some((l) => l.alias_name === ALIASES[0]))?.pid;
    const victim = nodes.find((n) => String(n.pid) === holderPid) as ClusterNodeProcess;
    const survivor = nodes.find((n) => n !== victim) as ClusterNodeProcess;
    const killedAt = performance.now();
    victim.child.kill('SIGKILL');
    const ip = nextIp();
    const accepted = await grant(survivor, ALIASES[0] as string, ip);
    if (accepted.status !== 201) throw new Error(`grant after the kill refused: ${accepted.status}`);
    let movedAt = 0;
    await waitFor(async () => {
      if (movedAt === 0) {
        const now = await clusterNodes(survivor.url, owner);
        const holder = now.find((n) => n.leases.some((l) => l.alias_name === ALIASES[0]));
        if (holder !== undefined && holder.pid !== holderPid) movedAt = performance.now();
      }
      return live(ALIASES[0] as string, ip) ? true : undefined;
    }, 30_000, 'the grant after the kill to go live');
    const liveAfterKill = performance.now() - killedAt;

    const load = loadavg()[0]?.toFixed(1);
    console.log(`machine: ${cpus().length} cpu, load ${load}; lease ${LEASE_SECONDS} s; ${SAMPLES} samples, storm ${STORM}, ${CONCURRENCY} in flight`);
    console.log(`(a) grant → live, one node:    p50 ${fmt(pct(oneLatency, 50))}, p99 ${fmt(pct(oneLatency, 99))}`);
    console.log(`(a) grant → live, three nodes: p50 ${fmt(pct(threeLatency, 50))}, p99 ${fmt(pct(threeLatency, 99))} (p50 ${fmt(pct(threeLatency, 50) - pct(oneLatency, 50))} vs one node)`);
    console.log(`(b) storm of ${STORM}, one node:    all live in ${fmt(oneStorm.ms)} = ${oneStorm.perSecond.toFixed(0)} grants/s`);
    console.log(`(b) storm of ${STORM}, three nodes: all live in ${fmt(threeStorm.ms)} = ${threeStorm.perSecond.toFixed(0)} grants/s (${(threeStorm.perSecond / oneStorm.perSecond).toFixed(2)} × one node)`);
    console.log(`(c) SIGKILL of the holder: lease moved after ${movedAt ? fmt(movedAt - killedAt) : 'n/a'}; a grant made right after the kill live after ${fmt(liveAfterKill)} (lease ${LEASE_SECONDS} s)`);
  } finally {
    await cluster.stop();
    await emulator.close();
    await admin.query(`drop database if exists "${name}" with (force)`);
    await admin.end();
  }
}

await main();
