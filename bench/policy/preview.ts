/**
 * @module Benchmark: the semantic preview of one staged write (`previewChange`, src/firewall/preview.ts) on a live
 * snapshot of the seeded synthetic config (test/policy/fixtures/synthetic.ts: 5,000 rules, 8 interfaces, 200,000
 * alias CIDRs) written in the live reads' neutral shapes: both sides built into the model, generated, diffed
 * exactly, plus the lock-out check. Baseline in the same run: the diff alone of the two generated rulesets.
 *
 *   npx tsx bench/policy/preview.ts
 */
import { loadavg } from 'node:os';
import type { LiveWrite } from '../../src/adapters/live-write.ts';
import { type LiveSnapshot, previewChange } from '../../src/firewall/preview.ts';
import { diffRulesets } from '../../src/policy/diff/index.ts';
import { generateRuleset } from '../../src/policy/generate/index.ts';
import { applyLiveChange } from '../../src/policy/import/live-change.ts';
import { buildPolicyFromLive, type LiveRuleInput } from '../../src/policy/import/live.ts';
import type { RuleEndpoint } from '../../src/policy/model.ts';
import { syntheticConfig } from '../../test/policy/fixtures/synthetic.ts';

const config = syntheticConfig();

/** A model endpoint in the live reads' address form (`!lan`, `lan:ip`, an alias or CIDR). */
function address(endpoint: RuleEndpoint): string {
  if (endpoint.kind === 'any') return 'any';
  const value = endpoint.value ?? 'any';
  const text = endpoint.kind === 'network' && /^(wan|lan|opt\d+)ip$/.test(value) ? `${value.slice(0, -2)}:ip` : value;
  return endpoint.not ? `!${text}` : text;
}
const port = (endpoint: RuleEndpoint) => endpoint.port?.replace('-', ':') ?? null;

const snapshot: LiveSnapshot = {
  rules: config.rules.map(
    (rule, i): LiveRuleInput => ({
      vendor_rule_id: rule.tracker ?? String(i),
      action: rule.type === 'block' ? 'deny' : rule.type === 'reject' ? 'reject' : 'allow',
      interfaces: rule.interface.split(','),
      direction: rule.floating ? rule.direction : null,
      ip_version: rule.ipprotocol,
      protocol: rule.protocol ?? 'any',
      source_address: address(rule.source),
      source_port: port(rule.source),
      dest_address: address(rule.destination),
      dest_port: port(rule.destination),
      description: rule.descr,
      is_enabled: !rule.disabled,
      log_enabled: rule.log,
      floating: rule.floating,
      quick: rule.floating ? rule.quick : true,
      icmp_types: rule.icmptypes,
      schedule: rule.sched ?? null,
      unmodelled_options: [],
    }),
  ),
  aliases: config.aliases.map((alias) => ({
    name: alias.name,
    type: alias.type,
    description: alias.descr,
    entries: alias.entries.map((entry) => ({ address: entry, detail: '' })),
  })),
  interfaces: config.interfaces.map((i) => ({
    id: i.key,
    device: i.device,
    description: i.descr,
    enabled: i.enabled,
    ipv4: i.ipv4.address === undefined ? null : `${i.ipv4.address}/${i.ipv4.prefixLength}`,
    ipv6: i.ipv6.address === undefined ? null : `${i.ipv6.address}/${i.ipv6.prefixLength}`,
    ipv4_mode: i.ipv4.mode,
    ipv6_mode: i.ipv6.mode,
    block_private: i.blockPrivate,
    block_bogons: i.blockBogons,
    gateway: i.ipv4.gateway ?? null,
  })),
  nat: { port_forwards: [], outbound: { mode: 'automatic', mappings: [] }, one_to_one: [] },
};

// The first enabled quick floating rule: pf evaluates it before every tab, so the edit is not shadowed.
const target = snapshot.rules.find((r) => r.floating && r.quick && r.is_enabled && r.protocol === 'tcp') as LiveRuleInput;
const change: LiveWrite = {
  kind: 'firewall_rule',
  op: 'update',
  target: target.vendor_rule_id as string,
  body: {
    action: target.action === 'allow' ? 'deny' : 'allow',
    interface: target.interfaces[0] as string,
    ip_version: 'inet',
    protocol: 'tcp',
    source_address: target.source_address,
    source_port: target.source_port,
    dest_address: target.dest_address,
    dest_port: '8443',
    description: target.description,
    is_enabled: true,
    log_enabled: false,
  },
};
const management = { gatewayUrl: `https://${snapshot.interfaces[1]?.ipv4?.split('/')[0]}`, source: null };

const cpuMs = (since: NodeJS.CpuUsage) => {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1000;
};
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;

console.log(
  `node ${process.version}; live snapshot: ${snapshot.rules.length} rules, ${snapshot.interfaces.length} interfaces, ` +
    `${snapshot.aliases.reduce((n, a) => n + a.entries.length, 0).toLocaleString('en-US')} alias entries; load ${loadavg()[0]?.toFixed(1)}`,
);

const wall: number[] = [];
const cpu: number[] = [];
let preview = previewChange(snapshot, change, { management });
for (let i = 0; i < 3; i++) {
  const start = performance.now();
  const cpuStart = process.cpuUsage();
  preview = previewChange(snapshot, change, { management });
  wall.push(performance.now() - start);
  cpu.push(cpuMs(cpuStart));
}
console.log(
  `preview of one rule update: median ${median(wall).toFixed(0)} ms wall, ${median(cpu).toFixed(0)} ms CPU of 3; ` +
    `regions ${JSON.stringify(preview?.counts)}, lock-out ${preview?.lockout.status}, ${preview?.warning_count} warnings (the synthetic config leaves many rules out)`,
);

// Baseline: the diff alone of the same two generated rulesets.
const side = (s: LiveSnapshot) => {
  const built = buildPolicyFromLive(s);
  return generateRuleset(built.config, { importWarnings: built.warnings });
};
const before = side(snapshot);
const after = side(applyLiveChange(snapshot, change));
const diffCpu: number[] = [];
for (let i = 0; i < 3; i++) {
  const cpuStart = process.cpuUsage();
  diffRulesets(before, after);
  diffCpu.push(cpuMs(cpuStart));
}
console.log(`baseline: diffRulesets alone ${median(diffCpu).toFixed(0)} ms CPU (median of 3)`);
console.log(`peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`);
