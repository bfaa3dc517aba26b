/**
 * @module Benchmark: the nftables compiler (src/policy/compile/nft.ts) proven on the kernel. Prints
 * (1) the kernel agreement rate and packets checked by the seeded differential run of
 * test/policy/nft-kernel/differential.ts (random rulesets loaded into a private router namespace, real packets
 * through veth pairs, replies of delivered flows included), with the time per packet on each side; and
 * (2) compile time of the 5,000-rule synthetic config (test/policy/fixtures/synthetic.ts; NAT and policy routing
 * left out) against its baseline, the evaluator's own index build (`compileRuleset`) of the same ruleset, and how
 * long the kernel takes to load that script (`nft -f` in the router namespace).
 * Needs root, nft, ip, conntrack and python3 for (1); (2) runs anywhere.
 *
 *   npx tsx bench/policy/nft.ts [rulesets=200] [seed=20261207]
 */
import { compileToNft } from '../../src/policy/compile/nft.ts';
import { compileRuleset } from '../../src/policy/compiled.ts';
import { generateRuleset } from '../../src/policy/generate/index.ts';
import { syntheticConfig } from '../../test/policy/fixtures/synthetic.ts';
import { randomCases, runDifferential } from '../../test/policy/nft-kernel/differential.ts';
import { KernelLab, kernelSkipReason } from '../../test/policy/nft-kernel/harness.ts';

const rulesets = Number(process.argv[2] ?? 200);
const seed = Number(process.argv[3] ?? 20261207);

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

async function kernel(syntheticScript: string): Promise<void> {
  const skip = kernelSkipReason();
  if (skip !== null) {
    console.log(`kernel differential: not run (${skip})`);
    return;
  }
  const lab = await KernelLab.open();
  try {
    const loading = performance.now();
    lab.load(syntheticScript);
    console.log(`nft -f of the synthetic script into the router namespace: ${(performance.now() - loading).toFixed(0)} ms wall`);
    // Its hooks would filter the differential run's packets too.
    lab.load('delete table inet portcullis\n');
    const started = performance.now();
    const report = await runDifferential(lab, randomCases(seed, rulesets, 30));
    const wall = performance.now() - started;
    const rate = (100 * report.agreed) / report.packets;
    console.log(`kernel differential (seed ${seed}): ${report.rulesets} rulesets, ${report.packets} packets checked (${report.replies} replies; ${report.rerun} cases rerun with a long settle)`);
    console.log(`  agreement: ${report.agreed}/${report.packets} = ${rate.toFixed(2)} %; kernel verdicts ${JSON.stringify(report.verdicts)}, of them IPv6 ${JSON.stringify(report.ipv6)}, to the router ${JSON.stringify(report.local)}, from the router ${JSON.stringify(report.fromRouter)}`);
    console.log(
      `  time: ${(wall / 1000).toFixed(1)} s wall; kernel ${(report.kernelMs / report.packets).toFixed(2)} ms/packet (batched sends, 150 ms settle per batch), ` +
        `engine ${((1000 * report.engineMs) / report.packets).toFixed(1)} µs/packet, compile ${(report.compileMs / report.rulesets).toFixed(2)} ms/ruleset`,
    );
    for (const d of report.disagreements.slice(0, 5)) console.log(`  DISAGREES: ${JSON.stringify(d)}`);
  } finally {
    lab.close();
  }
}

function compileTime(): string {
  const ruleset = generateRuleset(syntheticConfig());
  const index: number[] = [];
  const nft: number[] = [];
  let counts = { pfRules: 0, nftRules: 0, sets: 0 };
  let script = '';
  for (let round = 0; round < 3; round++) {
    let started = performance.now();
    compileRuleset(ruleset);
    index.push(performance.now() - started);
    started = performance.now();
    const compiled = compileToNft(ruleset, { leaveOut: ['nat', 'route-to', 'reply-to'] });
    nft.push(performance.now() - started);
    counts = compiled.counts;
    script = compiled.script;
  }
  console.log(
    `compile, synthetic config (${ruleset.rules.length} pf rules → ${counts.nftRules} nft rules, ${counts.sets} sets, ${(script.length / 1e6).toFixed(1)} MB): ` +
      `median of 3 ${median(nft).toFixed(0)} ms; baseline compileRuleset (evaluator index) ${median(index).toFixed(0)} ms`,
  );
  return script;
}

await kernel(compileTime());
