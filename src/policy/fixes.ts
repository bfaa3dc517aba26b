/**
 * @module Why is this blocked, and the smallest fix (issue 12 item 6). For a packet the policy blocks or rejects
 * (or answers `unknown` for), candidate edits of the configuration — add the packet's address to an alias a pass
 * rule uses, enable a disabled pass rule, insert a pass rule for exactly the flow — are each applied, re-verified
 * with the evaluator (the packet must pass, whatever the run-time contents), and measured with the semantic diff
 * (docs/adr/0140-policy-diff-regions.md): how many flows the edit opens besides the asked one. Ranked smallest
 * first (docs/adr/0142-smallest-fix.md). Pure; no I/O.
 */
import { cidrContains, formatIp, parseCidr, parseIp } from '../net/ip.ts';
import { type DiffRegion, diffRulesets } from './diff/index.ts';
import { createEvaluator, type EvaluationResult, type RuleRef, type Verdict } from './evaluate.ts';
import { generatorWith, regionFlowCount } from './exposure.ts';
import type { RuntimeFacts } from './facts.ts';
import type { PfRule, PfRuleset, PolicyConfig, RuleConfig, RuleEndpoint } from './model.ts';
import { resolveInterface } from './compiled.ts';
import {
  type Packet,
  type PacketFacts,
  PROTO_ICMP,
  PROTO_ICMP6,
  PROTO_TCP,
  PROTO_UDP,
  packetFacts,
  protocolName,
  protocolNumber,
  tcpFlagBits,
} from './packet.ts';

/** An edit of the configuration that a fix proposes; `applyEdit` performs it. */
export type PolicyEdit =
  | {
      kind: 'add-to-alias';
      alias: string;
      /** The packet's source (the rule names the alias as source) or destination address. */
      address: string;
      side: 'source' | 'destination';
      /** The pass rule that then passes the packet. */
      rule: { tab: string; position: number; tracker: string | null; descr: string };
    }
  | { kind: 'enable-rule'; tab: string; position: number; tracker: string | null; descr: string }
  | {
      kind: 'insert-rule';
      /** Tab and 1-based position the new rule takes (the rules from there on move down by one). */
      tab: string;
      position: number;
      rule: RuleConfig;
    };

export interface RankedFix {
  edit: PolicyEdit;
  /** The edit in one sentence. */
  description: string;
  /** The packet after the edit: always `pass` (fixes that do not make it pass are not proposed). */
  verified: { verdict: Verdict; rule: RuleRef | null };
  /**
   * What the edit opens, from the exact diff: `flows` counts (source address, destination address, protocol,
   * destination port) tuples that newly pass, the asked one included; `beyond` = flows − 1 (decimal strings: the
   * counts exceed 2^53). `uncertain` counts regions that may open depending on run-time contents.
   */
  opens: { flows: string; beyond: string; regions: DiffRegion[]; uncertain: number };
}

export interface FixProposal {
  packet: string;
  /** The verdict and deciding rule as the configuration stands. */
  verdict: Verdict;
  rule: RuleRef | null;
  explanation: string;
  fixes: RankedFix[];
  /** Why there is no fix, or why none is needed. */
  note: string | null;
}

export interface FixOptions {
  /** Fixes returned (default 10). */
  limit?: number;
  /** Run-time facts for the config as given (docs/adr/0152-honest-inputs-and-runtime-facts.md). */
  facts?: RuntimeFacts;
}

/** Candidates verified per kind: each costs a compile and evaluation (and a generation, and a diff when it passes). */
const MAX_CANDIDATES_PER_KIND = 12;

const KIND_ORDER: Record<PolicyEdit['kind'], number> = { 'add-to-alias': 0, 'enable-rule': 1, 'insert-rule': 2 };

/** Proposes the smallest edits that make `packet` pass, each re-verified, ranked by how much else they open. */
export function proposeFixes(config: PolicyConfig, packet: Packet, options: FixOptions = {}): FixProposal {
  const generate = generatorWith(options.facts);
  const ruleset = generate(config);
  const evaluator = createEvaluator(ruleset);
  const result = evaluator.evaluate(packet);
  const facts = packetFacts(packet);
  const leaf = resolveInterface(evaluator.compiled, packet.interface);
  const base = {
    packet: result.packet,
    verdict: result.verdict,
    rule: result.rule,
    explanation: result.explanation,
  };
  if (result.verdict === 'pass') return { ...base, fixes: [], note: 'the packet already passes; nothing to fix' };

  const candidates: PolicyEdit[] = [
    ...aliasCandidates(config, ruleset, result, facts, leaf),
    ...enableCandidates(config, facts, leaf),
    insertCandidate(config, result, filteredFacts(facts, result), leaf),
  ];
  const fixes: Array<RankedFix & { size: bigint }> = [];
  for (const edit of candidates) {
    const fixed = edit.kind === 'add-to-alias' ? withTableEntry(config, ruleset, edit) : generate(applyEdit(config, edit));
    const after = createEvaluator(fixed).evaluate(packet, { trace: false });
    // A fix must make the packet pass under every possibility of the run-time contents.
    if (after.verdict !== 'pass') continue;
    const diff = diffRulesets(ruleset, fixed);
    const opened = diff.regions.filter((r) => r.change === 'newly-pass');
    const size = opened.reduce((sum, r) => sum + regionFlowCount(r, diff), 0n);
    fixes.push({
      edit,
      description: describeEdit(edit),
      verified: { verdict: after.verdict, rule: after.rule },
      opens: {
        flows: String(size),
        beyond: String(size > 0n ? size - 1n : 0n),
        regions: opened,
        uncertain: diff.regions.filter((r) => r.change === 'unknown').length,
      },
      size,
    });
  }
  fixes.sort(
    (a, b) =>
      (a.size < b.size ? -1 : a.size > b.size ? 1 : 0) ||
      a.opens.uncertain - b.opens.uncertain ||
      KIND_ORDER[a.edit.kind] - KIND_ORDER[b.edit.kind],
  );
  const ranked = fixes.slice(0, options.limit ?? 10).map(({ size: _size, ...fix }) => fix);
  const decider = result.rule;
  const note =
    ranked.length > 0
      ? null
      : decider !== null && decider.kind === 'system'
        ? `blocked by the system rule "${decider.descr}", which pf evaluates before every user rule: no rule edit passes it (change the setting that generates it)`
        : 'no edit of the kinds tried (alias entry, enabling a rule, a new pass rule) makes the packet pass';
  return { ...base, fixes: ranked, note };
}

/**
 * The ruleset with an address added to an alias' table and to the tables of every alias nesting it: what
 * regenerating after `applyEdit` gives (an alias only feeds tables), without paying for a generation per candidate.
 */
function withTableEntry(config: PolicyConfig, ruleset: PfRuleset, edit: PolicyEdit & { kind: 'add-to-alias' }): PfRuleset {
  const affected = new Set([edit.alias]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const alias of config.aliases) {
      if (!affected.has(alias.name) && alias.entries.some((e) => affected.has(e))) {
        affected.add(alias.name);
        grew = true;
      }
    }
  }
  const host = `${edit.address}/${edit.address.includes(':') ? 128 : 32}`;
  const tables = { ...ruleset.tables };
  for (const name of affected) {
    const table = tables[name];
    if (table !== undefined) tables[name] = { ...table, cidrs: [...table.cidrs, host] };
  }
  return { ...ruleset, tables };
}

/** The configuration with one edit applied. Throws when the edit names a rule or alias the config lacks. */
export function applyEdit(config: PolicyConfig, edit: PolicyEdit): PolicyConfig {
  switch (edit.kind) {
    case 'add-to-alias': {
      if (!config.aliases.some((a) => a.name === edit.alias)) throw new Error(`no alias "${edit.alias}"`);
      return {
        ...config,
        aliases: config.aliases.map((a) => (a.name === edit.alias ? { ...a, entries: [...a.entries, edit.address] } : a)),
      };
    }
    case 'enable-rule': {
      const index = configIndexOf(config, edit.tab, edit.position);
      if (index === null) throw new Error(`no rule ${edit.tab} #${edit.position}`);
      return { ...config, rules: config.rules.map((r, i) => (i === index ? { ...r, disabled: false } : r)) };
    }
    case 'insert-rule': {
      const at = configIndexOf(config, edit.tab, edit.position) ?? insertionAfterTab(config, edit.tab);
      return { ...config, rules: [...config.rules.slice(0, at), edit.rule, ...config.rules.slice(at)] };
    }
  }
}

const tabOf = (rule: RuleConfig) => (rule.floating ? 'floating' : rule.interface);

/** The index in `config.rules` of the rule at a 1-based tab position (as the GUI counts: disabled rules too). */
function configIndexOf(config: PolicyConfig, tab: string, position: number): number | null {
  let seen = 0;
  for (const [i, rule] of config.rules.entries()) {
    if (tabOf(rule) === tab && ++seen === position) return i;
  }
  return null;
}

/** Where a rule appended to a tab goes in `config.rules`: after the tab's last rule, or at the end. */
function insertionAfterTab(config: PolicyConfig, tab: string): number {
  let last = -1;
  for (const [i, rule] of config.rules.entries()) if (tabOf(rule) === tab) last = i;
  return last < 0 ? config.rules.length : last + 1;
}

function tabLength(config: PolicyConfig, tab: string): number {
  return config.rules.filter((r) => tabOf(r) === tab).length;
}

/** Tabs whose rules can see a packet on `leaf`: its own, its groups (VPN tabs included), floating. */
function tabsOf(config: PolicyConfig, ruleset: PfRuleset, leaf: string): Set<string> {
  const tabs = new Set(['floating', leaf]);
  for (const i of ruleset.interfaces) if (i.members?.includes(leaf)) tabs.add(i.key);
  for (const group of config.groups) if (group.members.includes(leaf)) tabs.add(group.name);
  return tabs;
}

/** Whether a rule's protocol admits the packet's (a cheap filter; the evaluator decides). */
function protocolAdmits(rule: RuleConfig, facts: PacketFacts): boolean {
  const protocol = rule.protocol ?? 'any';
  if (protocol === 'any') return true;
  if (protocol === 'tcp/udp') return facts.proto === PROTO_TCP || facts.proto === PROTO_UDP;
  if (protocol === 'icmp') return facts.proto === PROTO_ICMP || facts.proto === PROTO_ICMP6;
  return protocol === protocolName(facts.proto);
}

function familyAdmits(rule: RuleConfig, facts: PacketFacts): boolean {
  return rule.ipprotocol === 'inet46' || rule.ipprotocol === (facts.family === 4 ? 'inet' : 'inet6');
}

/** Pass rules that name an address alias on the packet's side, on a tab the packet meets: add the address to it. */
function aliasCandidates(
  config: PolicyConfig,
  ruleset: PfRuleset,
  result: EvaluationResult,
  facts: PacketFacts,
  leaf: string,
): PolicyEdit[] {
  const reached = new Set(result.trace.map((entry) => entry.index));
  const tabs = tabsOf(config, ruleset, leaf);
  const aliases = new Map(config.aliases.filter((a) => a.type === 'host' || a.type === 'network').map((a) => [a.name, a]));
  const pfRulesOf = new Map<number, PfRule[]>();
  for (const pf of ruleset.rules) {
    const index = pf.origin.configIndex;
    if (pf.origin.kind === 'user' && index !== undefined) pfRulesOf.set(index, [...(pfRulesOf.get(index) ?? []), pf]);
  }
  const positions = new Map<string, number>();
  const out: PolicyEdit[] = [];
  const seen = new Set<string>();
  for (const [index, rule] of config.rules.entries()) {
    const tab = tabOf(rule);
    const position = (positions.get(tab) ?? 0) + 1;
    positions.set(tab, position);
    if (rule.disabled || rule.type !== 'pass' || !tabs.has(tab)) continue;
    if (!protocolAdmits(rule, facts) || !familyAdmits(rule, facts)) continue;
    if (rule.floating && rule.direction !== 'any' && rule.direction !== facts.direction) continue;
    if (!rule.floating && facts.direction !== 'in') continue;
    for (const side of ['source', 'destination'] as const) {
      const endpoint: RuleEndpoint = rule[side];
      if (endpoint.kind !== 'address' || endpoint.not || endpoint.value === undefined) continue;
      if (!aliases.has(endpoint.value)) continue;
      // Verifying costs a compile of the whole ruleset: skip rules pf never reaches for this packet (not in the
      // trace: another interface or family, or after the quick rule that decides) or that cannot match it anyway.
      const generated = (pfRulesOf.get(index) ?? []).filter((pf) => reached.has(pf.index));
      if (!generated.some((pf) => mayMatch(ruleset, pf, facts, leaf, side === 'source' ? 'to' : 'from'))) continue;
      const address = formatIp(side === 'source' ? facts.src : facts.dst);
      const key = `${endpoint.value}|${address}`;
      if (seen.has(key) || inTable(ruleset, endpoint.value, address)) continue;
      seen.add(key);
      out.push({
        kind: 'add-to-alias',
        alias: endpoint.value,
        address,
        side,
        rule: { tab, position, tracker: rule.tracker ?? null, descr: rule.descr },
      });
    }
  }
  return out.slice(0, MAX_CANDIDATES_PER_KIND);
}

/**
 * Whether a generated rule may match the packet, judging everything but the alias side (`other` is the address
 * side still checked): interface, direction, family, protocol, ports, TCP flags, and the other address when it is
 * `any`, a literal list or a static table. Anything it cannot judge cheaply counts as a possible match.
 */
function mayMatch(ruleset: PfRuleset, rule: PfRule, facts: PacketFacts, leaf: string, other: 'from' | 'to'): boolean {
  if (rule.on !== null && rule.on.interfaces.includes(leaf) === rule.on.negate) return false;
  if (rule.direction !== 'any' && rule.direction !== facts.direction) return false;
  if (rule.af !== null && rule.af !== (facts.family === 4 ? 'inet' : 'inet6')) return false;
  if (rule.protocols !== null && !rule.protocols.some((p) => protocolNumber(p) === facts.proto)) return false;
  const portOk = (spec: PfRule['toPort'], port: number) =>
    spec === null || spec.dynamic === true || spec.ranges.some((r) => r.from <= port && port <= r.to);
  if (!portOk(rule.toPort, facts.dstPort) || !portOk(rule.fromPort, facts.srcPort)) return false;
  if (facts.proto === PROTO_TCP && rule.tcpFlags !== null) {
    const set = tcpFlagBits(rule.tcpFlags.set) ?? 0;
    const outOf = tcpFlagBits(rule.tcpFlags.outOf) ?? 0;
    if ((facts.tcpFlags & outOf) !== set) return false;
  }
  const address = rule[other];
  const ip = other === 'from' ? facts.src : facts.dst;
  let cidrs: string[] | null = null;
  if (address.match.kind === 'any') return !address.negate;
  if (address.match.kind === 'cidrs') cidrs = address.match.cidrs;
  if (address.match.kind === 'table') {
    const table = ruleset.tables[address.match.table];
    if (table === undefined || table.dynamic) return true;
    cidrs = table.cidrs;
  }
  if (cidrs === null) return true;
  const inside = cidrs.some((text) => {
    const cidr = parseCidr(text);
    return cidr !== null && cidr.family === ip.family && cidrContains(cidr, ip);
  });
  return inside !== address.negate;
}

function inTable(ruleset: PfRuleset, table: string, address: string): boolean {
  return ruleset.tables[table]?.cidrs.includes(`${address}/${address.includes(':') ? 128 : 32}`) ?? false;
}

/** Disabled pass rules on a tab the packet meets. */
function enableCandidates(config: PolicyConfig, facts: PacketFacts, leaf: string): PolicyEdit[] {
  const groups = new Set(config.groups.filter((g) => g.members.includes(leaf)).map((g) => g.name));
  const positions = new Map<string, number>();
  const out: PolicyEdit[] = [];
  for (const rule of config.rules) {
    const tab = tabOf(rule);
    const position = (positions.get(tab) ?? 0) + 1;
    positions.set(tab, position);
    if (!rule.disabled || rule.type !== 'pass') continue;
    if (!protocolAdmits(rule, facts) || !familyAdmits(rule, facts)) continue;
    // VPN tabs are matched by the evaluation itself; a leaf's own tab, its groups and floating rules here.
    if (!rule.floating && rule.interface !== leaf && !groups.has(rule.interface) && !isVpnTab(rule.interface)) continue;
    out.push({ kind: 'enable-rule', tab, position, tracker: rule.tracker ?? null, descr: rule.descr });
  }
  return out.slice(0, MAX_CANDIDATES_PER_KIND);
}

const isVpnTab = (tab: string) => ['openvpn', 'enc0', 'l2tp', 'pppoe'].includes(tab);

/**
 * A pass rule for exactly the flow: source and destination host, protocol, destination port (TCP/UDP), ICMP type.
 * Inbound packets get a rule on the interface's tab, just above the first tab rule that matches or may match them
 * (or at the end of the tab when none does); outbound packets a quick floating rule (tab rules are inbound).
 */
/**
 * The packet as the filter rules see it: after the translations applied before filtering (an rdr's new destination,
 * a nat's new source; docs/adr/0150-nat-before-filtering.md), so an inserted rule matches what pf filters.
 */
function filteredFacts(facts: PacketFacts, result: EvaluationResult): PacketFacts {
  let out = facts;
  for (const step of result.translations ?? []) {
    if (step.stage !== 'translate') continue;
    // `endpoint()` of evaluate-nat.ts: `a.b.c.d[:port]`, `[v6]:port`, or a bare IPv6 address.
    const bare = !step.after.startsWith('[') && step.after.split(':').length > 2;
    const match = bare ? [step.after, step.after] : /^\[?([^\]:]+|[^\]]+)\]?(?::(\d+))?$/.exec(step.after);
    const ip = match?.[1] === undefined ? null : parseIp(match[1]);
    if (ip === null) continue;
    const port = match?.[2] === undefined ? null : Number(match[2]);
    out =
      step.field === 'destination'
        ? { ...out, dst: ip, ...(port !== null ? { dstPort: port } : {}) }
        : { ...out, src: ip, ...(port !== null ? { srcPort: port } : {}) };
  }
  return out;
}

function insertCandidate(config: PolicyConfig, result: EvaluationResult, facts: PacketFacts, leaf: string): PolicyEdit {
  const inbound = facts.direction === 'in';
  const tab = inbound ? leaf : 'floating';
  // Above the first rule of the tab that matches (or may match) the packet: pf stops there or decides there.
  const first = result.trace.find((e) => e.kind === 'user' && e.tab === tab && e.result !== 'no-match');
  const position = first?.position ?? tabLength(config, tab) + 1;
  const ports = facts.proto === PROTO_TCP || facts.proto === PROTO_UDP;
  const icmp = facts.proto === PROTO_ICMP || facts.proto === PROTO_ICMP6;
  const src = formatIp(facts.src);
  const dst = formatIp(facts.dst);
  const protocol = icmp ? 'icmp' : protocolName(facts.proto);
  const rule: RuleConfig = {
    type: 'pass',
    interface: leaf,
    floating: !inbound,
    quick: !inbound,
    direction: inbound ? 'any' : 'out',
    ipprotocol: facts.family === 4 ? 'inet' : 'inet6',
    protocol,
    icmptypes: icmp ? [String(facts.icmpType)] : null,
    source: { kind: 'address', value: src, not: false },
    destination: { kind: 'address', value: dst, ...(ports ? { port: String(facts.dstPort) } : {}), not: false },
    descr: `Allow ${protocol} ${src} to ${dst}${ports ? ` port ${facts.dstPort}` : ''}`,
    disabled: false,
    log: false,
    statetype: null,
    // pf's implicit `flags S/SA` would not match a packet that is not a SYN (no state exists for it).
    tcpflagsAny: facts.proto === PROTO_TCP && (facts.tcpFlags & 0x12) !== 0x02,
    allowopts: false,
  };
  return { kind: 'insert-rule', tab, position, rule };
}

function describeEdit(edit: PolicyEdit): string {
  switch (edit.kind) {
    case 'add-to-alias':
      return `add ${edit.address} to alias ${edit.alias} (used as ${edit.side} by pass rule ${edit.rule.tab} #${edit.rule.position} "${edit.rule.descr}")`;
    case 'enable-rule':
      return `enable the disabled pass rule ${edit.tab} #${edit.position} "${edit.descr}"`;
    case 'insert-rule':
      return `insert a pass rule at ${edit.tab} #${edit.position}: ${edit.rule.descr}`;
  }
}

