/**
 * @module What a grant opens (issue 12 item 5): for an address alias, the exact flows an address gains when it is
 * added to the alias, beyond what the same address could reach without it — per interface, direction, family,
 * protocols, destination ranges and ports, with the deciding rule with and without the address. Computed with the
 * semantic diff (docs/adr/0140-policy-diff-regions.md): the ruleset with a fresh representative address added to
 * the alias against the ruleset as it is; only that address changes class, so every region is the representative's
 * (docs/adr/0141-exposure-of-an-alias.md). `exposureWidening` compares the exposure before and after a change, for
 * the pending-change check ("this change widens what knoc ssh-admins opens"). Pure; no I/O.
 */
import {
  cidrBounds,
  formatIp,
  formatIpv4,
  formatIpv6,
  IPV4_MAX,
  IPV6_MAX,
  type IpAddress,
  parseCidr,
  parseIp,
  rangeToCidrs,
  formatCidr,
} from '../net/ip.ts';
import { type DiffChange, type DiffRegion, diffRulesets, type PolicyDiff } from './diff/index.ts';
import type { RuleRef, Verdict } from './evaluate.ts';
import { applyConfigFacts, applyTableFacts, type RuntimeFacts } from './facts.ts';
import { generateRuleset } from './generate/index.ts';
import type { AddressSet, PfRuleset, PolicyConfig } from './model.ts';
import { PROTO_TCP, PROTO_UDP, protocolName, protocolNumber } from './packet.ts';
import { PolicyInputError } from './warnings.ts';

/** Alias types a grant can add an address to: the others hold ports or contents downloaded at run time. */
const GRANTABLE_TYPES = new Set(['host', 'network']);

/**
 * Where the representative search starts: the first global unicast addresses (1.0.0.0/8, 2000::/3), so the
 * representative is an ordinary internet address unless every one of them is named by the config.
 */
const SEARCH_START = { 4: 0x01000001n, 6: 0x2000_0000_0000_0000_0000_0000_0000_0001n } as const;

/** One flow set the address gains (or loses) by being on the alias; `null` = any value. */
export interface ExposureRegion {
  /**
   * `newly-pass`: opened by the alias; `newly-block` / `reply-changed`: the alias is used by a block or reject
   * rule; `unknown`: opens or not depending on run-time contents (never counted as certain).
   */
  change: DiffChange;
  interface: string;
  direction: 'in' | 'out';
  family: 'inet' | 'inet6';
  /** The representative address this region was computed for (it is the region's only source address). */
  source: string;
  protocols: string[] | null;
  sourcePorts: string[] | null;
  destination: string[] | null;
  destinationPorts: string[] | null;
  tcpFlags: DiffRegion['tcpFlags'];
  icmpTypes: number[] | null;
  /** With the address on the alias: the verdict and the deciding rule. */
  rule: { verdict: Verdict; rule: RuleRef | null; certain: boolean };
  /** Without it (what the same address gets from the rest of the policy). */
  baseline: { verdict: Verdict; rule: RuleRef | null; certain: boolean };
}

export interface AliasExposure {
  alias: string;
  /** The addresses added to the alias, one per family (docs/adr/0141-exposure-of-an-alias.md). */
  representatives: string[];
  /** Regions whose verdict the alias changes; `opens` counts the `newly-pass` ones. */
  regions: ExposureRegion[];
  counts: Record<DiffChange, number>;
  /** Protocols some rule names; `other` in a region is every protocol else. */
  namedProtocols: string[];
}

export interface ExposureOptions {
  /**
   * Representative source addresses (at most one per family) instead of the generated ones: a known client
   * address, or one inside a network whose baseline differs (a LAN address). Must not already be on the alias.
   */
  representatives?: readonly string[];
  /** Run-time facts for the config as given (docs/adr/0152-honest-inputs-and-runtime-facts.md). */
  facts?: RuntimeFacts;
}

/** Generates rulesets for variants of one config with the same run-time facts applied. */
export function generatorWith(facts: RuntimeFacts | undefined): (config: PolicyConfig) => PfRuleset {
  if (facts === undefined) return (config) => generateRuleset(config);
  return (config) => applyTableFacts(generateRuleset(applyConfigFacts(config, facts).config), facts).ruleset;
}

/** The exposure of `alias` in `config`: what an address gains by being added to it. */
export function aliasExposure(config: PolicyConfig, alias: string, options: ExposureOptions = {}): AliasExposure {
  const generate = generatorWith(options.facts);
  const without = generate(config);
  const representatives =
    options.representatives === undefined
      ? pickRepresentatives([without])
      : checkRepresentatives(options.representatives);
  return exposureWith(config, without, alias, representatives, generate);
}

/** Whether a change widens what an alias opens: the flows opened after the change and not before. */
export interface ExposureWidening {
  alias: string;
  widens: boolean;
  representatives: string[];
  /** Opened (or possibly opened) after the change and not before, with the deciding rule after. */
  regions: ExposureRegion[];
  before: AliasExposure;
  after: AliasExposure;
}

/**
 * Compares the exposure of `alias` before and after a change of rules or aliases, with one representative per
 * family that is fresh for both configurations. A region opened after is reduced by everything the alias opened
 * before (an `unknown` one also by `unknown` before), exactly, so a widening names only the new flows.
 */
export function exposureWidening(
  before: PolicyConfig,
  after: PolicyConfig,
  alias: string,
  options: Pick<ExposureOptions, 'facts'> = {},
): ExposureWidening {
  const generate = generatorWith(options.facts);
  const rulesetBefore = generate(before);
  const rulesetAfter = generate(after);
  const representatives = pickRepresentatives([rulesetBefore, rulesetAfter]);
  const exposureBefore = exposureWith(before, rulesetBefore, alias, representatives, generate);
  const exposureAfter = exposureWith(after, rulesetAfter, alias, representatives, generate);
  const opened = (e: AliasExposure, change: DiffChange) =>
    e.regions.filter((r) => r.change === change).map((r) => ({ region: r, box: toBox(r, e.namedProtocols) }));
  const beforePass = opened(exposureBefore, 'newly-pass');
  const beforeUnknown = opened(exposureBefore, 'unknown');
  const regions: ExposureRegion[] = [];
  for (const change of ['newly-pass', 'unknown'] as const) {
    const covered = change === 'newly-pass' ? beforePass : [...beforePass, ...beforeUnknown];
    for (const { region, box } of opened(exposureAfter, change)) {
      let pieces = [box];
      for (const old of covered) {
        if (old.region.interface !== region.interface || old.region.direction !== region.direction) continue;
        if (old.region.family !== region.family) continue;
        pieces = pieces.flatMap((piece) => subtractBox(piece, old.box));
      }
      for (const piece of pieces) regions.push(fromBox(piece, box, region));
    }
  }
  return {
    alias,
    widens: regions.length > 0,
    representatives,
    regions,
    before: exposureBefore,
    after: exposureAfter,
  };
}

function exposureWith(
  config: PolicyConfig,
  without: PfRuleset,
  alias: string,
  representatives: readonly string[],
  generate: (config: PolicyConfig) => PfRuleset,
): AliasExposure {
  const entry = config.aliases.find((a) => a.name === alias);
  if (entry === undefined) {
    const known = config.aliases.filter((a) => GRANTABLE_TYPES.has(a.type)).map((a) => a.name);
    throw new PolicyInputError(
      'alias',
      `no alias named "${alias}" in the configuration${known.length > 0 ? ` (address aliases: ${known.slice(0, 20).join(', ')})` : ''}`,
    );
  }
  if (!GRANTABLE_TYPES.has(entry.type)) {
    throw new PolicyInputError(
      'alias',
      `alias "${alias}" is a ${entry.type} alias; only host and network aliases hold granted addresses`,
    );
  }
  const table = without.tables[alias];
  for (const address of representatives) {
    if (table !== undefined && inAddressSet(table, address)) {
      throw new PolicyInputError('representatives', `${address} is already on alias "${alias}"`);
    }
  }
  const withAddress: PolicyConfig = {
    ...config,
    aliases: config.aliases.map((a) => (a === entry ? { ...a, entries: [...a.entries, ...representatives] } : a)),
  };
  const diff = diffRulesets(without, generate(withAddress));
  const regions = representativeRegions(diff.regions, representatives);
  const counts: Record<DiffChange, number> = { 'newly-pass': 0, 'newly-block': 0, 'reply-changed': 0, unknown: 0 };
  for (const region of regions) counts[region.change]++;
  return { alias, representatives: [...representatives], regions, counts, namedProtocols: diff.namedProtocols };
}

/**
 * The diff regions of the alias change that hold the representative of their family as source, with that address
 * as source. Only the representative changes class, so every region holds it as source or destination; except
 * where the alias has run-time contents (FQDN entries): the diff keys unknown facts by operand, so other sources may
 * show as `unknown` there — they are not the representative's.
 */
function representativeRegions(regions: readonly DiffRegion[], representatives: readonly string[]): ExposureRegion[] {
  const out: ExposureRegion[] = [];
  for (const region of regions) {
    const source = representatives.find((a) => (parseIp(a)?.family === 4 ? 'inet' : 'inet6') === region.family);
    if (source === undefined) continue;
    const value = BigInt((parseIp(source) as IpAddress).value);
    const holds =
      region.source === null ||
      region.source.some((text) => {
        const range = parseRange(text);
        return range !== null && range[0] <= value && value <= range[1];
      });
    // A region to the representative itself (the alias used as a destination) is what others reach, not the address.
    const toItself = region.destination?.length === 1 && sameAddress(region.destination[0] as string, value);
    if (!holds || toItself) continue;
    out.push({
      change: region.change,
      interface: region.interface,
      direction: region.direction,
      family: region.family,
      source,
      protocols: region.protocols,
      sourcePorts: region.sourcePorts,
      destination: region.destination,
      destinationPorts: region.destinationPorts,
      tcpFlags: region.tcpFlags,
      icmpTypes: region.icmpTypes,
      rule: region.after,
      baseline: region.before,
    });
  }
  return out;
}

function sameAddress(text: string, value: bigint): boolean {
  const range = parseRange(text);
  return range !== null && range[0] === value && range[1] === value;
}

function inAddressSet(set: AddressSet, address: string): boolean {
  const ip = parseIp(address);
  if (ip === null) return false;
  return set.cidrs.some((text) => {
    const cidr = parseCidr(text);
    if (cidr === null || cidr.family !== ip.family) return false;
    const { first, last } = cidrBounds(cidr);
    return BigInt(first) <= BigInt(ip.value) && BigInt(ip.value) <= BigInt(last);
  });
}

function checkRepresentatives(addresses: readonly string[]): string[] {
  const out: string[] = [];
  const families = new Set<number>();
  for (const [i, text] of addresses.entries()) {
    const ip = parseIp(text);
    if (ip === null) throw new PolicyInputError(`representatives.${i}`, `"${text}" is not an IP address`);
    if (families.has(ip.family)) {
      throw new PolicyInputError(`representatives.${i}`, `give at most one address per family`);
    }
    families.add(ip.family);
    out.push(formatIp(ip));
  }
  if (out.length === 0) throw new PolicyInputError('representatives', 'give at least one address');
  return out;
}

/**
 * One address per family that no address operand of the rulesets names (no table, literal list, interface address
 * or network, `(self)`): the first one at or after `SEARCH_START`. Its baseline is that of an arbitrary internet
 * address, which is what a knock client usually is.
 */
export function pickRepresentatives(rulesets: readonly PfRuleset[]): string[] {
  const named: Record<4 | 6, Array<[bigint, bigint]>> = { 4: [], 6: [] };
  const add = (text: string) => {
    const cidr = parseCidr(text);
    if (cidr === null) return;
    const { first, last } = cidrBounds(cidr);
    named[cidr.family].push([BigInt(first), BigInt(last)]);
  };
  const addSet = (set: AddressSet) => {
    for (const text of set.cidrs) add(text);
    for (const text of set.excludes ?? []) add(text);
  };
  for (const ruleset of rulesets) {
    for (const table of Object.values(ruleset.tables)) addSet(table);
    for (const i of ruleset.interfaces) {
      addSet(i.addresses);
      addSet(i.networks);
    }
    addSet(ruleset.self);
    for (const rule of ruleset.rules) {
      for (const side of [rule.from, rule.to]) if (side.match.kind === 'cidrs') for (const text of side.match.cidrs) add(text);
    }
  }
  return ([4, 6] as const).map((family) => {
    let candidate = SEARCH_START[family];
    for (const [first, last] of named[family].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))) {
      if (last < candidate) continue;
      if (first > candidate) break;
      candidate = last + 1n;
    }
    const max = family === 4 ? BigInt(IPV4_MAX) : IPV6_MAX;
    if (candidate > max) throw new PolicyInputError('representatives', `every IPv${family} address is named by the config`);
    return family === 4 ? formatIpv4(Number(candidate)) : formatIpv6(candidate);
  });
}

// --- Exact set algebra on regions (products of interval lists), for the widening ---------------------------------

/** Sorted, disjoint, inclusive intervals. */
type Ranges = Array<[bigint, bigint]>;
/** protocols, destination, destination ports, source ports, TCP flag bytes, ICMP types. */
type Box = Ranges[];

const PROTO = 0;
const DST = 1;
const DPORT = 2;
const SPORT = 3;
const FLAGS = 4;
const ICMP = 5;

function parseRange(text: string): [bigint, bigint] | null {
  const dash = text.indexOf('-');
  if (dash > 0 && !text.includes('/')) {
    const first = parseIp(text.slice(0, dash));
    const last = parseIp(text.slice(dash + 1));
    return first === null || last === null ? null : [BigInt(first.value), BigInt(last.value)];
  }
  const cidr = parseCidr(text);
  if (cidr === null) return null;
  const { first, last } = cidrBounds(cidr);
  return [BigInt(first), BigInt(last)];
}

function normalize(ranges: Ranges): Ranges {
  const sorted = [...ranges].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const out: Ranges = [];
  for (const [first, last] of sorted) {
    const prev = out[out.length - 1];
    if (prev !== undefined && first <= prev[1] + 1n) prev[1] = last > prev[1] ? last : prev[1];
    else out.push([first, last]);
  }
  return out;
}

function intersect(a: Ranges, b: Ranges): Ranges {
  const out: Ranges = [];
  for (const [af, al] of a) {
    for (const [bf, bl] of b) {
      const first = af > bf ? af : bf;
      const last = al < bl ? al : bl;
      if (first <= last) out.push([first, last]);
    }
  }
  return normalize(out);
}

function subtract(a: Ranges, b: Ranges): Ranges {
  let out = a;
  for (const [bf, bl] of b) {
    const next: Ranges = [];
    for (const [af, al] of out) {
      if (bl < af || bf > al) next.push([af, al]);
      else {
        if (af < bf) next.push([af, bf - 1n]);
        if (bl < al) next.push([bl + 1n, al]);
      }
    }
    out = next;
  }
  return out;
}

/** A \ B as disjoint boxes: peel B off one dimension at a time. */
function subtractBox(a: Box, b: Box): Box[] {
  if (a.some((ranges, d) => intersect(ranges, b[d] as Ranges).length === 0)) return [a];
  const pieces: Box[] = [];
  const rest = [...a];
  for (let d = 0; d < a.length; d++) {
    const outside = subtract(rest[d] as Ranges, b[d] as Ranges);
    if (outside.length > 0) pieces.push(rest.map((r, i) => (i === d ? outside : r)));
    rest[d] = intersect(rest[d] as Ranges, b[d] as Ranges);
  }
  return pieces;
}

const full = (max: bigint): Ranges => [[0n, max]];
const valueRanges = (values: readonly number[] | null, max: bigint): Ranges =>
  values === null ? full(max) : normalize(values.map((v) => [BigInt(v), BigInt(v)]));
function portRanges(ports: readonly string[] | null): Ranges {
  if (ports === null) return full(65535n);
  return normalize(
    ports.map((p) => {
      const [first = '', last = first] = p.split('-');
      return [BigInt(first), BigInt(last)];
    }),
  );
}

function protocolRanges(protocols: readonly string[] | null, named: readonly string[]): Ranges {
  if (protocols === null) return full(255n);
  const numbers = new Set<number>();
  const namedNumbers = new Set(named.map((n) => protocolNumber(n)));
  for (const name of protocols) {
    if (name === 'other') for (let p = 0; p < 256; p++) if (!namedNumbers.has(p)) numbers.add(p);
    if (name !== 'other') numbers.add(protocolNumber(name));
  }
  return valueRanges([...numbers], 255n);
}

function toBox(region: ExposureRegion, named: readonly string[]): Box {
  const max = region.family === 'inet' ? BigInt(IPV4_MAX) : IPV6_MAX;
  return [
    protocolRanges(region.protocols, named),
    region.destination === null ? full(max) : normalize(region.destination.map((t) => parseRange(t) as [bigint, bigint])),
    portRanges(region.destinationPorts),
    portRanges(region.sourcePorts),
    valueRanges(region.tcpFlags?.values ?? null, 255n),
    valueRanges(region.icmpTypes, 255n),
  ];
}

const sameRanges = (a: Ranges, b: Ranges) => a.length === b.length && a.every((r, i) => r[0] === b[i]?.[0] && r[1] === b[i]?.[1]);
const values = (ranges: Ranges) => ranges.flatMap(([f, l]) => Array.from({ length: Number(l - f) + 1 }, (_, i) => Number(f) + i));

/** A piece of `region` (box `whole`) back as a region: dimensions the subtraction did not cut keep their text. */
function fromBox(piece: Box, whole: Box, region: ExposureRegion): ExposureRegion {
  const kept = (d: number) => sameRanges(piece[d] as Ranges, whole[d] as Ranges);
  const family = region.family === 'inet' ? 4 : 6;
  const ports = (d: number) => (piece[d] as Ranges).map(([f, l]) => (f === l ? String(f) : `${f}-${l}`));
  const addresses = (piece[DST] as Ranges).flatMap(([f, l]) => {
    const cidrs = family === 4 ? rangeToCidrs(4, Number(f), Number(l)) : rangeToCidrs(6, f, l);
    if (cidrs.length === 1) return [formatCidr(cidrs[0] as (typeof cidrs)[0])];
    return [family === 4 ? `${formatIpv4(Number(f))}-${formatIpv4(Number(l))}` : `${formatIpv6(f)}-${formatIpv6(l)}`];
  });
  return {
    ...region,
    protocols: kept(PROTO) ? region.protocols : values(piece[PROTO] as Ranges).map((p) => protocolName(p)),
    destination: kept(DST) ? region.destination : addresses,
    destinationPorts: kept(DPORT) ? region.destinationPorts : ports(DPORT),
    sourcePorts: kept(SPORT) ? region.sourcePorts : ports(SPORT),
    tcpFlags:
      kept(FLAGS) || region.tcpFlags === null
        ? region.tcpFlags
        : { text: region.tcpFlags.text, values: values(piece[FLAGS] as Ranges) },
    icmpTypes: kept(ICMP) ? region.icmpTypes : values(piece[ICMP] as Ranges),
  };
}

/**
 * How many (source address, destination address, protocol, destination port) tuples a diff region holds — the
 * size fixes are ranked by. Source ports, TCP flags and ICMP types are not counted: a pass rule for a flow passes
 * every source port of it. Ports count for TCP and UDP only; `other` counts the protocols no rule names.
 */
export function regionFlowCount(region: DiffRegion, diff: Pick<PolicyDiff, 'namedProtocols'>): bigint {
  const max = region.family === 'inet' ? BigInt(IPV4_MAX) : IPV6_MAX;
  const size = (ranges: Ranges) => ranges.reduce((sum, [f, l]) => sum + (l - f + 1n), 0n);
  const addresses = (list: readonly string[] | null) =>
    list === null ? max + 1n : size(normalize(list.map((t) => parseRange(t) as [bigint, bigint])));
  const protocols = protocolRanges(region.protocols, diff.namedProtocols);
  const withPorts = size(intersect(protocols, [[BigInt(PROTO_TCP), BigInt(PROTO_TCP)], [BigInt(PROTO_UDP), BigInt(PROTO_UDP)]]));
  const perPair = withPorts * size(portRanges(region.destinationPorts)) + (size(protocols) - withPorts);
  return addresses(region.source) * addresses(region.destination) * perPair;
}
