/**
 * @module Compiles a generated `PfRuleset` to an nftables script with the same verdicts
 * (docs/adr/0157-nft-compilation.md). Pure: text in memory, no I/O.
 *
 * - pf's evaluation points become two regular chains, `pf_in` (packets arriving on an interface) and `pf_out`
 *   (packets leaving through one); the `input` hook jumps to `pf_in`, `output` to `pf_out`, `forward` to both, so
 *   a routed packet is filtered twice as in pf (docs/reference/pf-semantics.md §0, §2.2).
 * - Each chain holds pf's decision as a first-match list: the quick rules in order, then the non-quick rules in
 *   reverse order, then the default pass (docs/reference/pf-semantics.md §2.1, §4.2). A pass `return`s to the
 *   hook chain (the next leg, or the hook's accept policy); block is `drop`; reject is pf's `block return` (§2.6).
 * - pf states become conntrack plus connection-mark bits per leg and direction, set by a deciding `keep state` pass
 *   and checked before any rule with the direction folded in as pf folds it (docs/reference/pf-semantics.md §2.4).
 * - Tables become named sets, one per family; `(self)` becomes the kernel's own view (`fib … type local`).
 * - Every use of a feature nftables cannot reproduce here is collected and refused at once (`NftCompileError`).
 */
import { cidrBounds, formatIp, type IpAddress, parseCidr } from '../../net/ip.ts';
import type { AddressFamily, AddressSet, AddressSpec, PfInterface, PfRule, PfRuleset, PortSpec } from '../model.ts';
import { icmpTypeNumber, PROTO_ICMP, PROTO_ICMP6, PROTO_TCP, PROTO_UDP, protocolNumber, tcpFlagBits } from '../packet.ts';

/**
 * Connection-mark bits recording the pf states of a connection, by the leg that created the state and the
 * conntrack direction of the packet that created it: a state created by a reply-direction packet (a pass with keep
 * state deciding a reply that no state covered) matches the other way round.
 */
export const STATE_MARKS = {
  in: { original: 0x01000000, reply: 0x08000000 },
  out: { original: 0x02000000, reply: 0x10000000 },
} as const;
/**
 * Packet-mark bit set on a packet before a reject rule answers it; with `net.ipv4.fwmark_reflect` and
 * `net.ipv6.fwmark_reflect` the kernel copies it onto the RST or ICMP error, which the output hook then lets out
 * unfiltered, as pf never filters the answers it generates itself.
 */
export const REJECT_MARK = 0x04000000;

export interface NftCompileOptions {
  /** nftables table name (family `inet`); default `portcullis`. */
  table?: string;
  /** Interface key → Linux device name, for hosts whose devices are not named as in the config (`wan: 'eth0'`). */
  devices?: Record<string, string>;
  /**
   * Features the caller accepts to leave out instead of having the ruleset refused. Only features that change where
   * a packet goes, never whether a rule passes it: `nat` (translation is left to the host; `out` rules then see
   * untranslated addresses), `route-to` and `reply-to` (policy routing is left to the host's routing table).
   */
  leaveOut?: readonly LeavableFeature[];
}

/** One use of a feature the compiler refuses, with the rule as a person finds it. */
export interface UnsupportedUse {
  /** `PfRule.index`, or null for a ruleset-wide feature. */
  rule: number | null;
  /** `user rule 3 on the lan tab "descr"`, `system rule "…"`, or `ruleset`. */
  where: string;
  /** Stable feature name: `route-to`, `reply-to`, `tag`, `tagged`, `schedule`, `option`, `modulate state`, … */
  feature: string;
  detail: string;
}

/** Thrown when the ruleset uses features nftables output cannot reproduce; lists every use, not just the first. */
export class NftCompileError extends Error {
  readonly unsupported: UnsupportedUse[];
  constructor(unsupported: UnsupportedUse[]) {
    const leavable = [...new Set(unsupported.map((u) => u.feature))].filter((f) =>
      (LEAVABLE_FEATURES as readonly string[]).includes(f),
    );
    super(
      `cannot compile to nftables: ${unsupported.length} unsupported use${unsupported.length === 1 ? '' : 's'}\n` +
        unsupported.map((u) => `  ${u.feature}: ${u.where}: ${u.detail}`).join('\n') +
        (leavable.length > 0 ? `\n(${leavable.join(', ')} can be left out to the host: leave out ${leavable.join(',')})` : ''),
    );
    this.name = 'NftCompileError';
    this.unsupported = unsupported;
  }
}

export interface NftCompilation {
  /** The script for `nft -f`: deletes and recreates only its own table. */
  script: string;
  /** pf rules compiled (match rules and rules that can never match excluded), nft rules emitted, sets declared. */
  counts: { pfRules: number; nftRules: number; sets: number };
  /** Sets whose contents pf learns at run time (DHCP addresses, URL tables, FQDNs): the host must fill them. */
  runtimeSets: string[];
}

/** Features `NftCompileOptions.leaveOut` may name. */
export const LEAVABLE_FEATURES = ['nat', 'route-to', 'reply-to'] as const;
export type LeavableFeature = (typeof LEAVABLE_FEATURES)[number];

type Leg = 'in' | 'out';
type Family = 4 | 6;

/** One nft rule body before its verdict: conditions joined by spaces; null when it can never match. */
type Conditions = string[];

const FAMILIES: Record<AddressFamily, Family> = { inet: 4, inet6: 6 };
const NFPROTO: Record<Family, string> = { 4: 'ipv4', 6: 'ipv6' };
const ADDR_PREFIX: Record<Family, string> = { 4: 'ip', 6: 'ip6' };

/** nft names for the protocols that have one; others are written as numbers. */
const L4_NAMES: Record<number, string> = { 1: 'icmp', 6: 'tcp', 17: 'udp', 58: 'ipv6-icmp', 50: 'esp', 51: 'ah', 47: 'gre', 132: 'sctp' };

/** nft TCP flag names in pf's letter order F S R P A U E W (bit 1 … 128). */
const NFT_TCP_FLAGS = ['fin', 'syn', 'rst', 'psh', 'ack', 'urg', 'ecn', 'cwr'];

/**
 * Compiles the ruleset. Throws `NftCompileError` listing every unsupported use when there is one or more.
 */
export function compileToNft(ruleset: PfRuleset, options: NftCompileOptions = {}): NftCompilation {
  const table = options.table ?? 'portcullis';
  if (!/^[A-Za-z][\w-]{0,63}$/.test(table)) throw new Error(`invalid nft table name "${table}"`);
  const leaveOut = new Set<string>(options.leaveOut ?? []);
  const found = collectUnsupported(ruleset);
  const unsupported = found.filter((u) => !leaveOut.has(u.feature));
  if (unsupported.length > 0) throw new NftCompileError(unsupported);
  const leftOut = LEAVABLE_FEATURES.map((feature) => [feature, found.filter((u) => u.feature === feature).length] as const)
    .filter(([, count]) => count > 0)
    .map(([feature, count]) => `${feature} (${count} use${count === 1 ? '' : 's'})`);

  const interfaces = new Map(ruleset.interfaces.map((i) => [i.key, i]));
  const sets = new SetRegistry(ruleset);
  const context: RuleContext = { ruleset, interfaces, devices: options.devices ?? {}, sets };

  const chains: Record<Leg, string[]> = { in: [], out: [] };
  const deciding = ruleset.rules.filter((r) => r.action !== 'match');
  const order = [...deciding.filter((r) => r.quick), ...deciding.filter((r) => !r.quick).reverse()];
  const compiled = new Set<number>();
  for (const leg of ['in', 'out'] as const) {
    for (const rule of order) {
      if (rule.direction !== 'any' && rule.direction !== leg) continue;
      const lines = compileRule(rule, leg, context);
      if (lines.length > 0) compiled.add(rule.index);
      chains[leg].push(...lines);
    }
  }

  const out: string[] = [
    `# Generated by Portcullis from a ${ruleset.target} ruleset: pf semantics compiled to first-match nftables`,
    '# (docs/adr/0157-nft-compilation.md). Per evaluation point: quick rules in order, then non-quick rules',
    '# reversed, then the default pass. pf states: conntrack plus connection-mark bits per leg and direction.',
    ...(leftOut.length > 0 ? [`# Left out as asked (the host's job): ${leftOut.join(', ')}.`] : []),
    `table inet ${table}`,
    `delete table inet ${table}`,
    `table inet ${table} {`,
  ];
  for (const declaration of sets.declarations()) out.push(...declaration.map((l) => `\t${l}`));
  // pf folds the direction into a state's key (docs/reference/pf-semantics.md §2.4): a state created by an inbound
  // packet matches later inbound packets going the same way and outbound packets going the other way.
  const stateCheck = (leg: Leg): string[] => {
    const other: Leg = leg === 'in' ? 'out' : 'in';
    return (['original', 'reply'] as const).map((direction) => {
      const opposite = direction === 'original' ? 'reply' : 'original';
      const bits = hex(STATE_MARKS[leg][direction] | STATE_MARKS[other][opposite]);
      return `ct direction ${direction} ct mark & ${bits} != 0x00000000 return comment "pf state"`;
    });
  };
  for (const leg of ['in', 'out'] as const) {
    out.push(
      '',
      `\tchain pf_keep_${leg} {`,
      ...(['original', 'reply'] as const).map(
        (direction) =>
          `\t\tct direction ${direction} ct mark set ct mark | ${hex(STATE_MARKS[leg][direction])} comment "remember the pf state"`,
      ),
      '\t}',
      `\tchain pf_${leg} {`,
      ...[...stateCheck(leg), ...chains[leg]].map((l) => `\t\t${l}`),
      '\t}',
    );
  }
  out.push(
    '',
    '\tchain input {',
    '\t\ttype filter hook input priority filter; policy accept;',
    '\t\tjump pf_in',
    '\t}',
    '\tchain forward {',
    '\t\ttype filter hook forward priority filter; policy accept;',
    '\t\tjump pf_in',
    '\t\tjump pf_out',
    '\t}',
    '\tchain output {',
    '\t\ttype filter hook output priority filter; policy accept;',
    // pf never filters the RSTs and ICMP errors it generates itself (REJECT_MARK needs fwmark_reflect).
    `\t\tmeta mark & ${hex(REJECT_MARK)} == ${hex(REJECT_MARK)} accept comment "answer generated by a reject"`,
    '\t\tct state related ct status & confirmed == 0 accept comment "answer generated by a reject"',
    '\t\tjump pf_out',
    '\t}',
    '}',
    '',
  );
  return {
    script: out.join('\n'),
    counts: { pfRules: compiled.size, nftRules: chains.in.length + chains.out.length, sets: sets.count() },
    runtimeSets: sets.runtime(),
  };
}

/** Where a rule is, as the GUI shows it. */
function describe(rule: PfRule): string {
  const { origin } = rule;
  return origin.kind === 'user'
    ? `user rule ${origin.position} on the ${origin.tab} tab "${origin.descr}" (pf rule ${rule.index})`
    : `system rule "${origin.descr || rule.label || ''}" (pf rule ${rule.index})`;
}

/** Every feature use that cannot be compiled, in rule order (docs/adr/0157-nft-compilation.md lists them). */
function collectUnsupported(ruleset: PfRuleset): UnsupportedUse[] {
  const found: UnsupportedUse[] = [];
  if (ruleset.statePolicy === 'if-bound') {
    found.push({ rule: null, where: 'ruleset', feature: 'state-policy if-bound', detail: 'states bound to an interface are not compiled' });
  }
  if (ruleset.nat !== undefined && ruleset.nat.length > 0) {
    found.push({
      rule: null,
      where: 'ruleset',
      feature: 'nat',
      detail: `${ruleset.nat.length} translation rule(s): pf filters after translation, which is not compiled`,
    });
  }
  for (const rule of ruleset.rules) {
    const add = (feature: string, detail: string) => found.push({ rule: rule.index, where: describe(rule), feature, detail });
    if (rule.tag !== undefined) add('tag', `tag "${rule.tag}" (sticky tags need evaluation in pf order)`);
    if (rule.tagged !== undefined) add('tagged', `${rule.tagged.negate ? '! ' : ''}tagged "${rule.tagged.tag}"`);
    if (rule.schedule !== undefined) add('schedule', `schedule "${rule.schedule}" (time-dependent rule)`);
    if (rule.routing !== undefined) {
      const feature = /route-to/.test(rule.routing) ? 'route-to' : /reply-to/.test(rule.routing) ? 'reply-to' : 'routing';
      add(feature, `policy routing "${rule.routing.trim()}"`);
    }
    for (const option of rule.unmodelledOptions ?? []) add('option', `"${option}" (OS fingerprints, tos, prio, queues, pipes)`);
    if (rule.action === 'pass' && (rule.state === 'modulate' || rule.state === 'synproxy')) {
      add(`${rule.state} state`, `${rule.state} state has no conntrack equivalent`);
    }
    if (rule.stateOptions !== undefined && rule.stateOptions.trim() !== 'sloppy') {
      add('state options', `state options "${rule.stateOptions}" (limits, timeouts, overload)`);
    }
    for (const [side, spec] of [['source', rule.fromPort], ['destination', rule.toPort]] as const) {
      if (spec?.dynamic === true) add('run-time port alias', `${side} port alias ${spec.alias ?? ''} has contents known only at run time`);
    }
    for (const name of rule.protocols ?? []) {
      if (protocolNumber(name) < 0) add('protocol', `unknown protocol "${name}"`);
    }
    if (rule.tcpFlags !== null && (tcpFlagBits(rule.tcpFlags.set) === null || tcpFlagBits(rule.tcpFlags.outOf) === null)) {
      add('tcp flags', `bad flags ${rule.tcpFlags.set}/${rule.tcpFlags.outOf}`);
    }
  }
  return found;
}

interface RuleContext {
  ruleset: PfRuleset;
  interfaces: Map<string, PfInterface>;
  devices: Record<string, string>;
  sets: SetRegistry;
}

/** The nft rules for one pf rule on one leg, all with the rule's verdict and contiguous (so order is kept). */
function compileRule(rule: PfRule, leg: Leg, context: RuleContext): string[] {
  const base: Conditions = [];
  if (rule.on !== null) {
    const devices = [...new Set(rule.on.interfaces.flatMap((key) => devicesOf(key, context)))].sort();
    if (devices.length === 0) {
      if (!rule.on.negate) return [];
    } else {
      base.push(`${leg === 'in' ? 'iifname' : 'oifname'} ${rule.on.negate ? '!= ' : ''}${nftList(devices.map((d) => JSON.stringify(d)))}`);
    }
  }
  const families: Family[] = rule.af !== null ? [FAMILIES[rule.af]] : [4, 6];
  const familyFree = rule.af === null && isAny(rule.from) && isAny(rule.to) && rule.icmpTypes === null;
  const variants: Variant[] = [];
  for (const family of familyFree ? [null] : families) {
    const conditions: Conditions = [...base];
    if (family !== null) conditions.push(`meta nfproto ${NFPROTO[family]}`);
    const from = family === null ? null : addressCondition(rule.from, 'saddr', family, context);
    const to = family === null ? null : addressCondition(rule.to, 'daddr', family, context);
    if (from === NEVER || to === NEVER) continue;
    if (from !== null) conditions.push(from);
    if (to !== null) conditions.push(to);
    variants.push(...protocolVariants(rule, family, conditions));
  }
  const lines: string[] = [];
  const comment = `comment ${JSON.stringify(commentOf(rule))}`;
  const log = rule.log ? `log prefix ${JSON.stringify(`pf${rule.index} ${rule.action}: `)} ` : '';
  for (const variant of variants) {
    for (const [extra, verdict] of verdicts(rule, leg, variant)) {
      lines.push(`${[...variant.conditions, ...extra, `${log}${verdict}`, comment].join(' ')}`);
    }
  }
  return lines;
}

const NEVER = '\u0000never';

function isAny(spec: AddressSpec): boolean {
  return spec.match.kind === 'any' && !spec.negate;
}

/** Linux devices of a leaf interface key. */
function devicesOf(key: string, context: RuleContext): string[] {
  const mapped = context.devices[key];
  if (mapped !== undefined) return [mapped];
  const iface = context.interfaces.get(key);
  if (iface === undefined) return [key];
  if (iface.kind === 'loopback') return ['lo'];
  return iface.tunnelDevices ?? [iface.device];
}

/** `ip saddr @t_v4` / `ip daddr != { … }` / `fib saddr type local`; null = no condition; NEVER = cannot match. */
function addressCondition(spec: AddressSpec, side: 'saddr' | 'daddr', family: Family, context: RuleContext): string | null {
  const { match, negate } = spec;
  const not = negate ? '!= ' : '';
  const field = `${ADDR_PREFIX[family]} ${side}`;
  switch (match.kind) {
    case 'any':
      return negate ? NEVER : null;
    case 'self':
      // pf (self) is every address of the firewall, however it was learned: the kernel's local routes say that.
      return `fib ${side} type ${not}local`;
    case 'table': {
      const name = context.sets.table(match.table, family);
      return `${field} ${not}@${name}`;
    }
    case 'cidrs':
      return literalCondition(field, not, intervals(match.cidrs, family), negate);
    case 'interface-address':
    case 'interface-network': {
      const iface = context.interfaces.get(match.interface);
      const set: AddressSet =
        iface === undefined ? { cidrs: [], dynamic: true } : match.kind === 'interface-address' ? iface.addresses : iface.networks;
      const runtime = set.dynamic && (set.dynamicFamilies ?? ['inet', 'inet6']).includes(family === 4 ? 'inet' : 'inet6');
      if (!runtime) return literalCondition(field, not, intervals(set.cidrs, family), negate);
      // Addresses learned at run time (DHCP, SLAAC, track6): a named set the host keeps filled, as pf's (if).
      const kind = match.kind === 'interface-address' ? 'address' : 'network';
      const name = context.sets.add(`if_${match.interface}_${kind}`, family, set.cidrs, `pf (${iface?.device ?? match.interface}${kind === 'network' ? ':network' : ''})`, true);
      return `${field} ${not}@${name}`;
    }
  }
}

function literalCondition(field: string, not: string, elements: string[], negate: boolean): string | null {
  if (elements.length === 0) return negate ? null : NEVER;
  return `${field} ${not}${nftList(elements)}`;
}

/** One nft rule body and the protocols it can match (null = any; `notTcp` = any but TCP). */
interface Variant {
  conditions: Conditions;
  protocols: number[] | null;
  notTcp: boolean;
}

/** Rule variants per protocol: TCP flags apply to TCP packets only, ICMP types to ICMP of the variant's family. */
function protocolVariants(rule: PfRule, family: Family | null, conditions: Conditions): Variant[] {
  let protocols: number[] | null =
    rule.protocols === null ? null : [...new Set(rule.protocols.map(protocolNumber))].sort((a, b) => a - b);
  if (rule.fromPort !== null || rule.toPort !== null) {
    protocols = (protocols ?? [PROTO_TCP, PROTO_UDP]).filter((p) => p === PROTO_TCP || p === PROTO_UDP);
  }
  if (rule.icmpTypes !== null) {
    const icmp = family === 6 ? PROTO_ICMP6 : PROTO_ICMP;
    if (protocols !== null && !protocols.includes(icmp)) return [];
    const types = [
      ...new Set(rule.icmpTypes.map((t) => icmpTypeNumber(family ?? 4, t)).filter((t) => t >= 0)),
    ].sort((a, b) => a - b);
    if (types.length === 0) return [];
    const typeCondition = `${family === 6 ? 'icmpv6' : 'icmp'} type ${nftList(types.map(String))}`;
    return [{ conditions: [...conditions, typeCondition], protocols: [icmp], notTcp: true }];
  }
  if (protocols !== null && protocols.length === 0) return [];
  const ports = [...portCondition(rule.fromPort, 'sport'), ...portCondition(rule.toPort, 'dport')];
  if (ports.includes(NEVER)) return [];
  const flags = rule.tcpFlags === null ? null : tcpFlagsCondition(rule.tcpFlags.set, rule.tcpFlags.outOf);
  const l4 = (list: number[]): string => `meta l4proto ${nftList(list.map(l4Name))}`;
  if (flags === null || (protocols !== null && !protocols.includes(PROTO_TCP))) {
    const protocolCondition = protocols === null ? [] : [l4(protocols)];
    return [{ conditions: [...conditions, ...protocolCondition, ...ports], protocols, notTcp: false }];
  }
  // flags S/SA applies to TCP only: one variant for TCP with the test, one for the rule's other protocols.
  const tcp: Variant = {
    conditions: [...conditions, 'meta l4proto tcp', ...ports, flags],
    protocols: [PROTO_TCP],
    notTcp: false,
  };
  if (protocols === null) {
    return [tcp, { conditions: [...conditions, 'meta l4proto != tcp', ...ports], protocols: null, notTcp: true }];
  }
  const others = protocols.filter((p) => p !== PROTO_TCP);
  if (others.length === 0) return [tcp];
  return [tcp, { conditions: [...conditions, l4(others), ...ports], protocols: others, notTcp: true }];
}

function portCondition(spec: PortSpec | null, side: 'sport' | 'dport'): string[] {
  if (spec === null) return [];
  if (spec.ranges.length === 0) return [NEVER];
  const elements = [...spec.ranges]
    .sort((a, b) => a.from - b.from)
    .map((r) => (r.from === r.to ? String(r.from) : `${r.from}-${r.to}`));
  return [`th ${side} ${nftList(elements)}`];
}

/** pf `flags <set>/<outOf>`: (flags & outOf) == set. */
function tcpFlagsCondition(set: string, outOf: string): string | null {
  const setBits = tcpFlagBits(set) ?? 0;
  const maskBits = tcpFlagBits(outOf) ?? 0;
  if (maskBits === 0) return null;
  const names = (bits: number) => NFT_TCP_FLAGS.filter((_, i) => bits & (1 << i));
  const mask = names(maskBits).join(' | ');
  const value = setBits & maskBits;
  return `tcp flags & (${mask}) == ${value === 0 ? '0x0' : names(value).join(' | ')}`;
}

/**
 * The verdict statements of a rule on a leg, each with extra conditions. pass: record the state bit when the rule
 * keeps state, then return to the hook chain; block: drop; reject: pf `block return` — a TCP RST (the kernel sends
 * none to a RST, as pf), nothing to ICMP, an ICMP port unreachable to anything else
 * (docs/reference/pf-semantics.md §2.6).
 */
function verdicts(rule: PfRule, leg: Leg, variant: Variant): Array<[string[], string]> {
  if (rule.action === 'pass') {
    const keeps = rule.state !== null && rule.state !== 'none';
    // A separate chain, because `ct mark` stops a rule on a packet conntrack does not track (a stray FIN); the
    // chain's end returns to the hook chain just as `return` does.
    return [[[], keeps ? `goto pf_keep_${leg}` : 'return']];
  }
  if (rule.action === 'block') return [[[], 'drop']];
  const mark = `meta mark set meta mark | ${hex(REJECT_MARK)}`;
  const reset = `${mark} reject with tcp reset`;
  const unreachable = `${mark} reject with icmpx type port-unreachable`;
  const isIcmp = (p: number) => p === PROTO_ICMP || p === PROTO_ICMP6;
  if (variant.protocols === null) {
    return [
      ...(variant.notTcp ? [] : [[['meta l4proto tcp'], reset] as [string[], string]]),
      [['meta l4proto { icmp, ipv6-icmp }'], 'drop'],
      [[], unreachable],
    ];
  }
  const kinds = [
    variant.protocols.includes(PROTO_TCP) ? 'tcp' : null,
    variant.protocols.some(isIcmp) ? 'icmp' : null,
    variant.protocols.some((p) => p !== PROTO_TCP && !isIcmp(p)) ? 'other' : null,
  ].filter((k) => k !== null);
  const statement = { tcp: reset, icmp: 'drop', other: unreachable } as const;
  if (kinds.length === 1) return [[[], statement[kinds[0] as keyof typeof statement]]];
  return [
    ...(kinds.includes('tcp') ? [[['meta l4proto tcp'], reset] as [string[], string]] : []),
    ...(kinds.includes('icmp') ? [[['meta l4proto { icmp, ipv6-icmp }'], 'drop'] as [string[], string]] : []),
    [[], unreachable],
  ];
}

function l4Name(proto: number): string {
  return L4_NAMES[proto] ?? String(proto);
}

function nftList(elements: string[]): string {
  return elements.length === 1 ? (elements[0] as string) : `{ ${elements.join(', ')} }`;
}

function hex(value: number): string {
  return `0x${value.toString(16).padStart(8, '0')}`;
}

function commentOf(rule: PfRule): string {
  const { origin } = rule;
  const where = origin.kind === 'user' ? `${origin.tab} #${origin.position}` : 'system';
  const text = `pf${rule.index} ${where}: ${origin.descr || rule.label || ''}`.replace(/["\\]/g, "'");
  // nft comments hold at most 128 bytes.
  return new TextEncoder().encode(text).length <= 120 ? text : `${text.slice(0, 110)}...`;
}

/**
 * CIDRs of one family merged into disjoint intervals, printed as a CIDR when aligned and `a-b` otherwise: nft
 * refuses overlapping elements in an interval set.
 */
function intervals(cidrs: readonly string[], family: Family): string[] {
  const ranges: Array<[bigint, bigint]> = [];
  for (const text of cidrs) {
    const cidr = parseCidr(text);
    if (cidr === null || cidr.family !== family) continue;
    const { first, last } = cidrBounds(cidr);
    ranges.push([BigInt(first), BigInt(last)]);
  }
  ranges.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const merged: Array<[bigint, bigint]> = [];
  for (const range of ranges) {
    const last = merged[merged.length - 1];
    if (last !== undefined && range[0] <= last[1] + 1n) last[1] = range[1] > last[1] ? range[1] : last[1];
    else merged.push([range[0], range[1]]);
  }
  const address = (value: bigint): IpAddress =>
    family === 4 ? { family: 4, value: Number(value) } : { family: 6, value };
  const bits = family === 4 ? 32 : 128;
  return merged.map(([first, last]) => {
    const size = last - first + 1n;
    const prefix = bits - (size.toString(2).length - 1);
    const aligned = (size & (size - 1n)) === 0n && first % size === 0n;
    if (first === last) return formatIp(address(first));
    return aligned ? `${formatIp(address(first))}/${prefix}` : `${formatIp(address(first))}-${formatIp(address(last))}`;
  });
}

/** Named sets (pf tables, run-time interface addresses), one per family, declared on first use. */
class SetRegistry {
  private readonly sets = new Map<string, { family: Family; cidrs: readonly string[]; source: string; runtime: boolean }>();
  private readonly names = new Map<string, string>();
  constructor(private readonly ruleset: PfRuleset) {}

  /** The set for pf table `name` in one family. */
  table(name: string, family: Family): string {
    const table = this.ruleset.tables[name];
    const runtime =
      table === undefined ||
      (table.dynamic && (table.dynamicFamilies ?? ['inet', 'inet6']).includes(family === 4 ? 'inet' : 'inet6'));
    return this.add(name, family, table?.cidrs ?? [], `pf table <${name}>`, runtime);
  }

  /** The set for `source` in one family, named after `base` (made a valid, unused nft identifier). */
  add(base: string, family: Family, cidrs: readonly string[], source: string, runtime: boolean): string {
    const key = `${source}/${family}`;
    const known = this.names.get(key);
    if (known !== undefined) return known;
    const stem = `${/^[A-Za-z]/.test(base) ? '' : 't_'}${base.replace(/[^\w]/g, '_')}`;
    let name = `${stem}_v${family}`;
    for (let n = 2; this.sets.has(name); n++) name = `${stem}_${n}_v${family}`;
    this.names.set(key, name);
    this.sets.set(name, { family, cidrs, source, runtime });
    return name;
  }

  count(): number {
    return this.sets.size;
  }

  runtime(): string[] {
    return [...this.sets.entries()].filter(([, set]) => set.runtime).map(([name]) => name).sort();
  }

  declarations(): string[][] {
    return [...this.sets.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([name, set]) => {
        const elements = intervals(set.cidrs, set.family);
        return [
          `set ${name} { # ${set.source}${set.runtime ? ': more contents at run time' : ''}`,
          `\ttype ${set.family === 4 ? 'ipv4_addr' : 'ipv6_addr'}`,
          '\tflags interval',
          ...(elements.length > 0 ? [`\telements = { ${elements.join(', ')} }`] : []),
          '}',
        ];
      });
  }
}
