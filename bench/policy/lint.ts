/**
 * @module Benchmark: `lintRuleset` at 10,000 user rules (goal < 5 s) on two workloads, each against the naive
 * reference (`src/policy/lint/reference.ts`: every rule × every cell × every other rule, no buckets or indexes)
 * in the same run:
 * - synthetic: the seeded config of test/policy/fixtures/synthetic.ts (8 interfaces, 200,000 alias CIDRs); most
 *   of its random rules are shadowed, so the naive scan finds a coverer early — the cost is alias expansion.
 * - disjoint: N LAN rules to distinct /32 destinations; no rule covers another, the naive scan's worst case.
 *
 *   npx tsx bench/policy/lint.ts [rules=10000] [naiveRules=2000]
 */
import { generateRuleset } from '../../src/policy/generate/index.ts';
import { referenceDeadRules } from '../../src/policy/lint/reference.ts';
import { lintRuleset } from '../../src/policy/lint.ts';
import type { PfRuleset } from '../../src/policy/model.ts';
import { baseConfig, userRule } from '../../test/policy/fixtures/builders.ts';
import { syntheticConfig } from '../../test/policy/fixtures/synthetic.ts';

const rules = Number(process.argv[2] ?? 10_000);
const naiveRules = Number(process.argv[3] ?? 2_000);

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

function time(runs: number, fn: () => number): { ms: number; result: number } {
  const times: number[] = [];
  let result = 0;
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    result = fn();
    times.push(performance.now() - start);
  }
  return { ms: median(times), result };
}

function disjoint(count: number): PfRuleset {
  const list = Array.from({ length: count }, (_, i) =>
    userRule({
      descr: `host ${i}`,
      protocol: 'tcp',
      destination: { kind: 'address', value: `10.${(i >> 8) & 255}.${i & 255}.1`, port: '443', not: false },
    }),
  );
  return generateRuleset(baseConfig({ rules: list }));
}

const workloads: Array<[string, (count: number) => PfRuleset]> = [
  ['synthetic', (count) => generateRuleset(syntheticConfig({ rules: count }))],
  ['disjoint', disjoint],
];

console.log(`node ${process.version}; medians of 3 (naive: 1 run)`);
for (const [name, build] of workloads) {
  const small = build(naiveRules);
  const indexedSmall = time(3, () => lintRuleset(small).length);
  const naiveSmall = time(1, () => referenceDeadRules(small).size);
  const big = build(rules);
  const indexedBig = time(3, () => lintRuleset(big).length);
  console.log(
    `${name}: ${naiveRules} user rules (${small.rules.length} pf rules): lint ${indexedSmall.ms.toFixed(0)} ms, ` +
      `naive ${naiveSmall.ms.toFixed(0)} ms → naive/lint ${(naiveSmall.ms / indexedSmall.ms).toFixed(1)}×; ` +
      `${rules} user rules (${big.rules.length} pf rules): lint ${indexedBig.ms.toFixed(0)} ms ` +
      `(${indexedBig.result} findings; goal < 5000 ms)`,
  );
}
// maxRSS is the process's high-water mark in KiB (the current RSS would miss the peak between workloads).
console.log(`peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);
