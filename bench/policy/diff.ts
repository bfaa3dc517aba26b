/**
 * @module Benchmark: the exact semantic diff (`diffRulesets`, src/policy/diff) of two 5,000-rule configs — the
 * seeded synthetic config of test/policy/fixtures/synthetic.ts (8 interfaces, 200,000 alias CIDRs) against a copy
 * with one changed rule, then with 100 changed rules (goal: each exact in < 2 s). Baselines measured in the same
 * run: loading + indexing one config (import of its config.xml, generation, `compileRuleset`), and the sampled
 * approach (random packets through an evaluator per side), which finds only some changed flows.
 *
 *   npx tsx bench/policy/diff.ts [samples=200000]
 */
import { compileRuleset } from '../../src/policy/compiled.ts';
import { diffRulesets } from '../../src/policy/diff/index.ts';
import { createEvaluator } from '../../src/policy/evaluate.ts';
import { generateRuleset } from '../../src/policy/generate/index.ts';
import { loadPolicy } from '../../src/policy/import/index.ts';
import type { PolicyConfig, RuleConfig } from '../../src/policy/model.ts';
import type { Packet } from '../../src/policy/packet.ts';
import { syntheticConfig, syntheticConfigXml } from '../../test/policy/fixtures/synthetic.ts';

const samples = Number(process.argv[2] ?? 200_000);

/** mulberry32, seeded: the same edits and packets every run. */
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

/** A changed rule: enabled, its action flipped and its destination port moved, as an operator edit would. */
function changeRule(rule: RuleConfig, n: number): RuleConfig {
  return {
    ...rule,
    disabled: false,
    type: rule.type === 'pass' ? 'block' : 'pass',
    destination:
      rule.protocol === 'tcp' || rule.protocol === 'udp'
        ? { ...rule.destination, port: String(8000 + n) }
        : rule.destination,
  };
}

/**
 * `count` rules changed, picked among those in the ruleset (not disabled or left out, so each edit counts). One
 * change is the first quick floating rule: pf evaluates it before every tab, so the change is not shadowed (random
 * rules of this config mostly are, which would make the case trivial).
 */
function edited(config: PolicyConfig, loaded: ReadonlySet<number>, count: number, seed: number): PolicyConfig {
  const random = prng(seed);
  const rules = [...config.rules];
  const candidates = [...loaded];
  const picked = new Set<number>();
  if (count === 1) picked.add(candidates.find((i) => rules[i]?.floating && rules[i]?.quick) as number);
  while (picked.size < count) picked.add(candidates[Math.floor(random() * candidates.length)] as number);
  for (const i of picked) rules[i] = changeRule(rules[i] as RuleConfig, i);
  return { ...config, rules };
}

const cpuMs = (since: NodeJS.CpuUsage) => {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1000;
};
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;

const xml = syntheticConfigXml();
const loadTimes: number[] = [];
const loadCpu: number[] = [];
let compiledRules = 0;
for (let i = 0; i < 3; i++) {
  const start = performance.now();
  const cpuStart = process.cpuUsage();
  const { ruleset } = loadPolicy(xml);
  compiledRules = compileRuleset(ruleset).rules.length;
  loadTimes.push(performance.now() - start);
  loadCpu.push(cpuMs(cpuStart));
}

const base = syntheticConfig();
const before = generateRuleset(base);
const loaded = new Set(
  before.rules.flatMap((r) => (r.origin.configIndex === undefined ? [] : [r.origin.configIndex])),
);
console.log(
  `node ${process.version}; synthetic config: ${base.rules.length} user rules → ${before.rules.length} pf rules, ` +
    `${base.interfaces.length} interfaces, 200,000 alias CIDRs`,
);
console.log(
  `baseline load + index of ONE config (import ${(xml.length / 1e6).toFixed(1)} MB config.xml, generate, compile ` +
    `${compiledRules} rules): median ${median(loadTimes).toFixed(0)} ms wall, ${median(loadCpu).toFixed(0)} ms CPU of 3`,
);

for (const count of [1, 100]) {
  const after = generateRuleset(edited(base, loaded, count, 42));
  const times: number[] = [];
  const cpu: number[] = [];
  let diff = diffRulesets(before, after);
  for (let i = 0; i < 3; i++) {
    const start = performance.now();
    const cpuStart = process.cpuUsage();
    diff = diffRulesets(before, after);
    times.push(performance.now() - start);
    cpu.push(cpuMs(cpuStart));
  }
  const counts = Object.entries(diff.counts)
    .map(([k, v]) => `${v} ${k}`)
    .join(', ');
  console.log(
    `${count} changed rule${count === 1 ? '' : 's'} (${diff.changedRules.before.length}+${diff.changedRules.after.length} pf rules outside the alignment): ` +
      `exact diff median ${median(times).toFixed(0)} ms wall, ${median(cpu).toFixed(0)} ms CPU of 3 (goal < 2000 ms); ` +
      `${diff.regions.length} regions (${counts})`,
  );

  // Sampled baseline: random packets through one evaluator per side; counts the packets whose verdict differs.
  const random = prng(7);
  const leaves = [...compileRuleset(before).leaves.keys()];
  const octet = () => Math.floor(random() * 256);
  const packets: Packet[] = [];
  for (let i = 0; i < samples; i++) {
    const proto = random() < 0.7 ? 'tcp' : 'udp';
    packets.push({
      interface: leaves[Math.floor(random() * leaves.length)] as string,
      direction: random() < 0.8 ? 'in' : 'out',
      proto,
      src: `${10 + Math.floor(random() * 50)}.${octet()}.${octet()}.${octet()}`,
      srcPort: 1024 + Math.floor(random() * 60000),
      dst: `${10 + Math.floor(random() * 50)}.${octet()}.${octet()}.${octet()}`,
      dstPort: random() < 0.5 ? 8000 + Math.floor(random() * 5000) : Math.floor(random() * 65536),
      ...(proto === 'tcp' ? { tcpFlags: 'S' } : {}),
    });
  }
  const start = performance.now();
  const sampleCpu = process.cpuUsage();
  const was = createEvaluator(before);
  const now = createEvaluator(after);
  let differing = 0;
  for (const packet of packets) {
    was.states.clear();
    now.states.clear();
    if (was.verdict(packet) !== now.verdict(packet)) differing++;
  }
  console.log(
    `  sampled baseline: ${samples.toLocaleString('en-US')} random packets through both evaluators (incl. compiling both) in ` +
      `${(performance.now() - start).toFixed(0)} ms wall, ${cpuMs(sampleCpu).toFixed(0)} ms CPU; ${differing} packets ` +
      'changed verdict — a sample, not the regions',
  );
}
console.log(`peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`);
