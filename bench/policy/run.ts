/**
 * @module Benchmark: the packet evaluator on the seeded synthetic config (test/policy/fixtures/synthetic.ts: 5,000
 * user rules across 8 interfaces, address aliases totalling 200,000 CIDRs), rendered as config.xml.
 *
 * Prints: time to import + generate the ruleset and to compile/index it (goal < 2 s together); verdicts per second
 * on one core for `verdict()` (the throughput path) and `evaluate()` with a full trace; the reference evaluator
 * (linear walk, CIDR scans) on the same packets in the same run and the speed ratio (goal ≥ 1,000,000 verdicts/s
 * and ≥ 50×); agreement of the two on the compared packets; peak RSS.
 *
 * Also the latency of one traced packet (what `policy trace` and the console's trace answer per question, the engine
 * already loaded): p50/p99 of `evaluate()` with its full trace, each packet on an empty state table, against the
 * reference evaluator's latency for the same packets in the same run (the naive way to answer one question).
 *
 *   npx tsx bench/policy/run.ts [seconds-per-measurement=3] [packets=100000]
 */
import { loadavg } from 'node:os';
import { compileRuleset } from '../../src/policy/compiled.ts';
import { createEvaluator } from '../../src/policy/evaluate.ts';
import { loadPolicy } from '../../src/policy/import/index.ts';
import { type Packet, type PacketFacts, packetFacts } from '../../src/policy/packet.ts';
import { ReferenceEvaluator } from '../../src/policy/reference-evaluator.ts';
import { syntheticConfigXml } from '../../test/policy/fixtures/synthetic.ts';

const seconds = Number(process.argv[2] ?? 3);
const packetCount = Number(process.argv[3] ?? 100_000);

/** mulberry32, seeded: the same packets every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const cpuMs = (since: NodeJS.CpuUsage) => {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1000;
};
const xml = syntheticConfigXml();
const loadStart = performance.now();
const loadCpu = process.cpuUsage();
const { config, ruleset } = loadPolicy(xml);
const loadMs = performance.now() - loadStart;
const loadCpuMs = cpuMs(loadCpu);
const compileStart = performance.now();
const compileCpu = process.cpuUsage();
const compiled = compileRuleset(ruleset);
const compileMs = performance.now() - compileStart;
const compileCpuMs = cpuMs(compileCpu);

// Packets: half the addresses drawn from alias entries (hits), the rest from interface subnets and the internet.
const random = prng(7);
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
const aliasHosts4: string[] = [];
const aliasHosts6: string[] = [];
for (const alias of config.aliases) {
  for (const entry of alias.entries.slice(0, 200)) {
    if (/^\d+\.\d+\.\d+\.\d+(\/\d+)?$/.test(entry)) aliasHosts4.push(entry.split('/')[0] as string);
    else if (entry.includes(':'))
      aliasHosts6.push(`${entry.split('::')[0]}::${Math.floor(random() * 65535).toString(16)}`);
  }
}
const leaves = [...compiled.leaves.keys()].filter((key) => key !== 'lo0');
const subnetHosts = config.interfaces.flatMap((i) =>
  i.ipv4.address ? [i.ipv4.address.replace(/\.\d+$/, `.${10 + Math.floor(random() * 200)}`)] : [],
);
const address4 = () => {
  const roll = random();
  if (roll < 0.5) return pick(aliasHosts4);
  if (roll < 0.75) return pick(subnetHosts);
  return `${1 + Math.floor(random() * 222)}.${Math.floor(random() * 256)}.${Math.floor(random() * 256)}.${Math.floor(random() * 256)}`;
};
const ports = [22, 53, 80, 443, 1500, 3389, 5050, 8080, 25, 993];
const packets: Packet[] = [];
for (let i = 0; i < packetCount; i++) {
  const v6 = random() < 0.1 && aliasHosts6.length > 0;
  const roll = random();
  const proto = roll < 0.6 ? 'tcp' : roll < 0.9 ? 'udp' : 'icmp';
  const packet: Packet = {
    interface: pick(leaves),
    direction: random() < 0.8 ? 'in' : 'out',
    proto,
    src: v6 ? pick(aliasHosts6) : address4(),
    dst: v6 ? pick(aliasHosts6) : address4(),
  };
  if (proto !== 'icmp') {
    packet.srcPort = 1024 + Math.floor(random() * 60000);
    packet.dstPort = random() < 0.8 ? pick(ports) : Math.floor(random() * 65536);
  }
  if (proto === 'tcp') packet.tcpFlags = random() < 0.8 ? 'S' : 'A';
  if (proto === 'icmp') packet.icmpType = 'echoreq';
  packets.push(packet);
}

/**
 * Runs `fn` over the packets for about `seconds` of wall time, fresh state table each round. Rates are per second
 * of this process's CPU time (user + system), i.e. "on one core", so other load on the machine does not count.
 */
function throughput(
  fn: (packet: Packet) => unknown,
  reset: () => void,
): { perSecond: number; count: number } {
  let count = 0;
  const cpuStart = process.cpuUsage();
  const deadline = performance.now() + seconds * 1000;
  while (performance.now() < deadline) {
    reset();
    for (let i = 0; i < packets.length; i++) {
      fn(packets[i] as Packet);
      count++;
      if ((i & 63) === 0 && performance.now() >= deadline) break;
    }
  }
  const cpu = process.cpuUsage(cpuStart);
  return { perSecond: count / ((cpu.user + cpu.system) / 1e6), count };
}

const fast = createEvaluator(compiled);
// Warm-up: builds every bucket's lazy indexes once, as a long-running session would.
for (const packet of packets) fast.verdict(packet);
const fastRun = throughput(
  (p) => fast.verdict(p),
  () => fast.states.clear(),
);
const preparedFacts = packets.map((packet) => packetFacts(packet));
const prepared = createEvaluator(compiled);
for (const facts of preparedFacts) prepared.verdictOfFacts(facts); // same warm-up as verdict()
let cursor = 0;
const preparedRun = throughput(
  () => prepared.verdictOfFacts(preparedFacts[cursor++ % preparedFacts.length] as PacketFacts),
  () => {
    prepared.states.clear();
    cursor = 0;
  },
);
const traced = createEvaluator(compiled);
const tracedRun = throughput(
  (p) => traced.evaluate(p),
  () => traced.states.clear(),
);
let reference = new ReferenceEvaluator(ruleset);
const referenceRun = throughput(
  (p) => reference.evaluate(p),
  () => {
    reference = new ReferenceEvaluator(ruleset);
  },
);

// Agreement on the packets the reference managed (fresh sessions, same order).
const checkCount = Math.min(referenceRun.count, packets.length);
const check = createEvaluator(compiled);
const checkReference = new ReferenceEvaluator(ruleset);
let disagreements = 0;
const verdicts = new Map<string, number>();
for (const packet of packets.slice(0, checkCount)) {
  const got = check.verdict(packet);
  const expected = checkReference.evaluate(packet).verdict;
  verdicts.set(got, (verdicts.get(got) ?? 0) + 1);
  if (got !== expected) disagreements++;
}

// Wider cross-check the reference is too slow for: verdict() against evaluate() (rule-by-rule trace walk + exact
// matcher) on 20,000 packets, fresh sessions.
const wide = Math.min(20_000, packets.length);
const quick = createEvaluator(compiled);
const full = createEvaluator(compiled);
let wideDisagreements = 0;
for (const packet of packets.slice(0, wide)) {
  if (quick.verdict(packet) !== full.evaluate(packet).verdict) wideDisagreements++;
}

// One traced question at a time: clear the state table so each packet is a first packet, time each call alone.
const percentile = (sorted: readonly number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
function latencies(count: number, fn: (packet: Packet) => unknown, reset: () => void): number[] {
  const samples: number[] = [];
  for (let i = 0; i < count; i++) {
    const packet = packets[(i * 7919) % packets.length] as Packet; // spread over the seeded set
    reset();
    const start = process.hrtime.bigint();
    fn(packet);
    samples.push(Number(process.hrtime.bigint() - start) / 1000);
  }
  return samples.sort((a, b) => a - b);
}
const traceOne = createEvaluator(compiled);
latencies(500, (p) => traceOne.evaluate(p), () => traceOne.states.clear()); // warm-up
const traceLatency = latencies(10_000, (p) => traceOne.evaluate(p), () => traceOne.states.clear());
let referenceOne = new ReferenceEvaluator(ruleset);
const referenceLatency = latencies(
  Math.min(200, packets.length),
  (p) => referenceOne.evaluate(p),
  () => {
    referenceOne = new ReferenceEvaluator(ruleset);
  },
);

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const peakMb = process.resourceUsage().maxRSS / 1024;
const load = loadavg()[0]?.toFixed(1);
console.log(
  `node ${process.version}; synthetic config: ${config.rules.length} user rules → ${ruleset.rules.length} pf rules, ` +
    `${config.interfaces.length} interfaces, ${compiled.operands.length} address operands, ` +
    `${compiled.index.intervalCount.toLocaleString('en-US')} elementary intervals, ${compiled.index.classCount} classes`,
);
console.log(
  `load (import config.xml ${(xml.length / 1e6).toFixed(1)} MB + generate): ${loadMs.toFixed(0)} ms wall, ` +
    `${loadCpuMs.toFixed(0)} ms CPU; compile + index: ${compileMs.toFixed(0)} ms wall, ${compileCpuMs.toFixed(0)} ms CPU; ` +
    `total ${(loadMs + compileMs).toFixed(0)} ms wall, ${(loadCpuMs + compileCpuMs).toFixed(0)} ms CPU (goal < 2000 ms)`,
);
console.log(
  `verdict():            ${fmt(fastRun.perSecond)} verdicts per CPU-second (${fmt(fastRun.count)} packets; goal ≥ 1,000,000)`,
);
console.log(
  `verdictOfFacts():     ${fmt(preparedRun.perSecond)} verdicts per CPU-second (pre-validated packets, what-if replays)`,
);
console.log(`evaluate() + trace:   ${fmt(tracedRun.perSecond)} verdicts per CPU-second`);
console.log(
  `reference evaluator:  ${fmt(referenceRun.perSecond)} verdicts per CPU-second (${fmt(referenceRun.count)} packets)`,
);
console.log(
  `ratio verdict()/reference: ${(fastRun.perSecond / referenceRun.perSecond).toFixed(0)}× (goal ≥ 50×)`,
);
console.log(
  `agreement on ${fmt(checkCount)} packets: ${disagreements === 0 ? 'all equal' : `${disagreements} DISAGREE`}; ` +
    `verdict mix ${JSON.stringify(Object.fromEntries(verdicts))}`,
);
console.log(
  `peak RSS: ${peakMb.toFixed(0)} MB; machine load average ${load} (rates use this process's CPU time)`,
);
console.log(
  `verdict() vs evaluate() on ${fmt(wide)} packets: ${wideDisagreements === 0 ? 'all equal' : `${wideDisagreements} DISAGREE`}`,
);
const us = (n: number) => (n >= 1000 ? `${(n / 1000).toFixed(1)} ms` : `${n.toFixed(1)} µs`);
console.log(
  `trace of one packet (evaluate() + full trace, empty state table, ${fmt(traceLatency.length)} packets): ` +
    `p50 ${us(percentile(traceLatency, 50))}, p99 ${us(percentile(traceLatency, 99))}; ` +
    `reference evaluator on ${referenceLatency.length} of them: p50 ${us(percentile(referenceLatency, 50))}, ` +
    `p99 ${us(percentile(referenceLatency, 99))}; ratio at p50 ` +
    `${(percentile(referenceLatency, 50) / percentile(traceLatency, 50)).toFixed(0)}×, at p99 ` +
    `${(percentile(referenceLatency, 99) / percentile(traceLatency, 99)).toFixed(0)}×`,
);
if (disagreements > 0 || wideDisagreements > 0) process.exitCode = 1;
