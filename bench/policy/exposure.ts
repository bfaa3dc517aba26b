/**
 * @module Benchmark: the exposure of a knoc's alias (`aliasExposure`, src/policy/exposure.ts) and the smallest fix
 * for a blocked packet (`proposeFixes`, src/policy/fixes.ts) on the seeded 5,000-rule synthetic config of
 * test/policy/fixtures/synthetic.ts (8 interfaces, 200,000 alias CIDRs) plus a knoc alias and its quick floating rule.
 * Baseline measured in the same run: generating + compiling one ruleset of that config (what any answer about it
 * costs at least); each figure is printed with its ratio to it.
 *
 *   npx tsx bench/policy/exposure.ts
 */
import { compileRuleset } from '../../src/policy/compiled.ts';
import { aliasExposure } from '../../src/policy/exposure.ts';
import { proposeFixes } from '../../src/policy/fixes.ts';
import { generateRuleset } from '../../src/policy/generate/index.ts';
import type { PolicyConfig } from '../../src/policy/model.ts';
import { syntheticConfig } from '../../test/policy/fixtures/synthetic.ts';
import { userRule } from '../../test/policy/fixtures/builders.ts';

const cpuMs = (since: NodeJS.CpuUsage) => {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1000;
};
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;

/** Median wall and CPU milliseconds of `runs` calls (after one warm-up call), and the last result. */
function measure<T>(runs: number, work: () => T): { wall: number; cpu: number; result: T } {
  let result = work();
  const walls: number[] = [];
  const cpus: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    const cpuStart = process.cpuUsage();
    result = work();
    walls.push(performance.now() - start);
    cpus.push(cpuMs(cpuStart));
  }
  return { wall: median(walls), cpu: median(cpus), result };
}

const synthetic = syntheticConfig();
const config: PolicyConfig = {
  ...synthetic,
  aliases: [...synthetic.aliases, { name: 'KNOC_SSH', type: 'host', entries: ['198.51.100.10'], descr: 'knoc ssh-admins' }],
  rules: [
    // A quick floating rule: the synthetic rules pass most flows, and on opt3 this one is blocked otherwise.
    userRule({
      interface: 'opt3',
      floating: true,
      quick: true,
      direction: 'in',
      protocol: 'tcp',
      descr: 'knoc ssh-admins',
      source: { kind: 'address', value: 'KNOC_SSH', not: false },
      destination: { kind: 'address', value: '10.3.0.5', port: '2222', not: false },
    }),
    ...synthetic.rules,
  ],
};

const baseline = measure(3, () => compileRuleset(generateRuleset(config)).rules.length);
console.log(
  `node ${process.version}; synthetic config: ${config.rules.length} user rules → ${baseline.result} compiled pf rules, ` +
    `${config.interfaces.length} interfaces, 200,000 alias CIDRs`,
);
console.log(
  `baseline generate + compile ONE ruleset: median ${baseline.wall.toFixed(0)} ms wall, ${baseline.cpu.toFixed(0)} ms CPU of 3`,
);

const ratio = (cpu: number) => (cpu / baseline.cpu).toFixed(2);
for (const alias of ['KNOC_SSH', 'BULK0']) {
  const { wall, cpu, result } = measure(3, () => aliasExposure(config, alias));
  const counts = Object.entries(result.counts)
    .map(([k, v]) => `${v} ${k}`)
    .join(', ');
  console.log(
    `exposure of ${alias} (${config.rules.filter((r) => r.source.value === alias || r.destination.value === alias).length} rules name it): ` +
      `median ${wall.toFixed(0)} ms wall, ${cpu.toFixed(0)} ms CPU of 3 (${ratio(cpu)} × baseline); ${result.regions.length} regions (${counts})`,
  );
}

const blocked = {
  interface: 'opt3',
  direction: 'in' as const,
  proto: 'tcp',
  src: '1.0.0.1',
  srcPort: 40000,
  dst: '10.3.0.5',
  dstPort: 2222,
  tcpFlags: 'S',
};
const fix = measure(1, () => proposeFixes(config, blocked));
console.log(
  `fix for ${fix.result.packet} (${fix.result.verdict}): ${fix.wall.toFixed(0)} ms wall, ${fix.cpu.toFixed(0)} ms CPU ` +
    `(${ratio(fix.cpu)} × baseline); ${fix.result.fixes.length} fixes: ` +
    fix.result.fixes.map((f) => `${f.edit.kind} (${f.opens.flows} flows)`).join(', '),
);
console.log(`peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`);
