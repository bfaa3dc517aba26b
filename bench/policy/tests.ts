/**
 * @module Benchmark: `policy test` of 1,000 flows (src/policy/tests.ts, docs/policy.md "Policy tests") on the seeded
 * synthetic config (test/policy/fixtures/synthetic.ts: 5,000 user rules over 8 interfaces, 200,000 alias CIDRs,
 * a 4.3 MB config.xml). The flows are seeded random packets whose expectations (and, for half, `via` trackers)
 * are the verdicts the engine gives, so every flow passes — a CI run; a second file expects the opposite of every
 * verdict, so every flow fails and pays for its explanation. Baselines in the same run: 1,000 single traces (a
 * new evaluator session and a traced `evaluate()` per flow, as `policy trace` does after loading), and one
 * `policy trace` from scratch (load + index + trace) times 1,000 — what checking the flows one command at a
 * time costs. Times are medians of 3, as CPU of this process (one core) and wall.
 *
 *   npx tsx bench/policy/tests.ts [flows=1000]
 */
import { loadavg } from 'node:os';
import { compileRuleset } from '../../src/policy/compiled.ts';
import { createEvaluator } from '../../src/policy/evaluate.ts';
import { loadPolicy } from '../../src/policy/import/index.ts';
import type { Packet } from '../../src/policy/packet.ts';
import { parsePolicyTestsText, type PolicyTestReport, runPolicyTests } from '../../src/policy/tests.ts';
import { syntheticConfigXml } from '../../test/policy/fixtures/synthetic.ts';

const flowCount = Number(process.argv[2] ?? 1000);

/** mulberry32, seeded: the same flows every run. */
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

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;

/** Median wall and CPU milliseconds of `rounds` runs of `work`, and its last result. */
function measure<T>(work: () => T, rounds = 3): { wall: number; cpu: number; result: T } {
  const walls: number[] = [];
  const cpus: number[] = [];
  let result: T | undefined;
  for (let i = 0; i < rounds; i++) {
    const start = performance.now();
    const cpuStart = process.cpuUsage();
    result = work();
    const used = process.cpuUsage(cpuStart);
    walls.push(performance.now() - start);
    cpus.push((used.user + used.system) / 1000);
  }
  return { wall: median(walls), cpu: median(cpus), result: result as T };
}

const xml = syntheticConfigXml();
const load = measure(() => {
  const loaded = loadPolicy(xml);
  return { config: loaded.config, compiled: compileRuleset(loaded.ruleset) };
});
const { config, compiled } = load.result;

// Flows: half the addresses from alias entries (rule hits), the rest from interface subnets and the internet.
const random = prng(11);
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
const aliasHosts = config.aliases.flatMap((alias) =>
  alias.entries.slice(0, 200).flatMap((entry) => (/^\d+\.\d+\.\d+\.\d+(\/\d+)?$/.test(entry) ? [entry.split('/')[0] as string] : [])),
);
const subnetHosts = config.interfaces.flatMap((i) =>
  i.ipv4.address ? [i.ipv4.address.replace(/\.\d+$/, `.${10 + Math.floor(random() * 200)}`)] : [],
);
const address = () => {
  const roll = random();
  if (roll < 0.5) return pick(aliasHosts);
  if (roll < 0.75) return pick(subnetHosts);
  return `${1 + Math.floor(random() * 222)}.${Math.floor(random() * 256)}.${Math.floor(random() * 256)}.${Math.floor(random() * 256)}`;
};
const interfaces = [...compiled.leaves.keys()].filter((key) => key !== 'lo0');
const ports = [22, 53, 80, 443, 1500, 3389, 5050, 8080, 25, 993];
const packets: Packet[] = [];
for (let i = 0; i < flowCount; i++) {
  const roll = random();
  const proto = roll < 0.6 ? 'tcp' : roll < 0.9 ? 'udp' : 'icmp';
  const packet: Packet = { interface: pick(interfaces), direction: random() < 0.8 ? 'in' : 'out', proto, src: address(), dst: address() };
  if (proto !== 'icmp') {
    packet.srcPort = 1024 + Math.floor(random() * 60000);
    packet.dstPort = pick(ports);
  }
  packets.push(packet);
}

// Expectations from the engine itself: each flow as a new connection.
const probe = createEvaluator(compiled);
const flows = packets.map((packet, i) => {
  probe.states.clear();
  const result = probe.evaluate(packet, { trace: false });
  const expect = result.verdict === 'pass' ? 'pass' : 'block';
  const via = i % 2 === 0 && result.rule?.tracker && result.ruleCertain !== false ? result.rule.tracker : undefined;
  return {
    name: `flow ${i}`,
    interface: packet.interface,
    direction: packet.direction,
    protocol: packet.proto,
    source: packet.src,
    destination: packet.dst,
    ...(packet.srcPort === undefined ? {} : { source_port: packet.srcPort, destination_port: packet.dstPort }),
    expect,
    ...(via === undefined ? {} : { via }),
  };
});
const passingText = JSON.stringify({ version: 1, flows }, null, 2);
const failingText = JSON.stringify(
  { version: 1, flows: flows.map(({ via: _via, ...flow }) => ({ ...flow, expect: flow.expect === 'pass' ? 'block' : 'pass' })) },
  null,
  2,
);

const run = (text: string): PolicyTestReport => runPolicyTests(compiled, parsePolicyTestsText(text));
run(passingText); // warm-up (JIT), as the baselines get below
const passing = measure(() => run(passingText));
const failing = measure(() => run(failingText));

const singleTraces = measure(() => {
  for (const packet of packets) createEvaluator(compiled).evaluate(packet);
});
const fromScratch = measure(() => {
  const one = createEvaluator(compileRuleset(loadPolicy(xml).ruleset));
  return one.evaluate(packets[0] as Packet);
});

const counts = (report: PolicyTestReport) =>
  `${report.counts.ok} ok, ${report.counts.failed} failed, ${report.counts.unknown} unknown, ${report.counts.error} error`;
const ms = (m: { wall: number; cpu: number }) => `${m.cpu.toFixed(0)} ms CPU (${m.wall.toFixed(0)} ms wall)`;
console.log(
  `node ${process.version}; load average ${loadavg()[0]?.toFixed(1)}; synthetic config: ${config.rules.length} user rules → ` +
    `${compiled.rules.length} pf rules, ${(xml.length / 1e6).toFixed(1)} MB config.xml; ${flowCount} flows ` +
    `(${flows.filter((f) => f.via !== undefined).length} with via), file ${(passingText.length / 1e3).toFixed(0)} kB`,
);
console.log(`load + index the config once: median ${ms(load)}`);
console.log(`policy test, every flow as expected: median ${ms(passing)} — ${counts(passing.result)}`);
console.log(`policy test, every flow failing (explanations): median ${ms(failing)} — ${counts(failing.result)}`);
console.log(
  `end to end (load + index + test): ${(load.cpu + passing.cpu).toFixed(0)} ms CPU (${(load.wall + passing.wall).toFixed(0)} ms wall)`,
);
console.log(
  `baseline ${flowCount} single traces (new session + traced evaluate each, config loaded once): median ${ms(singleTraces)} — ` +
    `policy test is ${(singleTraces.cpu / passing.cpu).toFixed(1)}× faster (CPU)`,
);
console.log(
  `baseline one \`policy trace\` from scratch (load + index + trace): median ${ms(fromScratch)}; × ${flowCount} = ` +
    `${((fromScratch.cpu * flowCount) / 1000).toFixed(0)} s CPU — policy test end to end is ` +
    `${((fromScratch.cpu * flowCount) / (load.cpu + passing.cpu)).toFixed(0)}× faster`,
);
console.log(`peak RSS (maxRSS) ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`);
