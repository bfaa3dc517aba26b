/**
 * @module NAT in front of the filter: pf's translation step for a packet that matches no state
 * (docs/reference/pfsense-nat.md §2, docs/adr/0150-nat-before-filtering.md). For each new packet pf looks up the translation rules of its
 * interface and direction — outbound binat then nat, inbound rdr then binat; the first match decides, a `no` rule
 * means "do not translate" — rewrites the packet, and only then evaluates the filter rules, which therefore see the
 * translated addresses in both directions (docs/reference/pf-semantics.md §2.2). `rdr pass` skips the filter rules.
 * The state created records both sides, so a reply in its translated form matches and is translated back.
 *
 * Wraps a filter `Evaluator`; configs without translation rules never reach this code (no cost on `verdict()`).
 */
import { type Cidr, cidrContains, formatIp, type IpAddress, parseCidr } from '../net/ip.ts';
import { resolveInterface } from './compiled.ts';
import type { EvaluateOptions, EvaluationResult, Evaluator, Verdict } from './evaluate.ts';
import type { AddressSet, AddressSpec, PfNatRule, PfRuleset, PortSpec } from './model.ts';
import {
  createPacketScratch,
  type Packet,
  type PacketFacts,
  packetFacts,
  packetFactsInto,
  protocolNumber,
  tcpFlagLetters,
} from './packet.ts';

/** One translation applied to the packet, and the rule that made it. */
export interface TranslationStep {
  /** `translate`: a new packet rewritten before filtering; `reply`: a packet of a translated connection's state. */
  stage: 'translate' | 'reply';
  kind: PfNatRule['kind'];
  /** Index in `PfRuleset.nat`, its pf text and where it comes from. */
  rule: { index: number; text: string; origin: PfNatRule['origin'] };
  field: 'source' | 'destination';
  before: string;
  after: string;
  /** What the engine could not know exactly (pf's port choice, a run-time address). */
  note?: string;
}

interface NatState {
  /** The state of an `rdr pass`: no filter rule created it. */
  passByNat: boolean;
  /** The translation that created it, built when a trace shows the reply. */
  step: () => TranslationStep;
}

type Tri = boolean | 'unknown';

const ORIGIN_WORDS: Record<PfNatRule['origin']['kind'], string> = {
  'port-forward': 'port forward',
  'one-to-one': '1:1 mapping',
  reflection: 'NAT reflection',
  outbound: 'outbound NAT',
  'outbound-automatic': 'outbound NAT',
};

function key(f: Pick<PacketFacts, 'proto' | 'src' | 'dst' | 'srcPort' | 'dstPort'>): string {
  return `${f.proto}|${formatIp(f.src)}|${f.srcPort}|${formatIp(f.dst)}|${f.dstPort}`;
}

function copyIp(ip: IpAddress): IpAddress {
  return ip.family === 4 ? { family: 4, value: ip.value } : ip;
}

function ported(f: PacketFacts): boolean {
  return f.proto === 6 || f.proto === 17;
}

function reverseKey(f: PacketFacts): string {
  return key({ proto: f.proto, src: f.dst, dst: f.src, srcPort: f.dstPort, dstPort: f.srcPort });
}

function endpoint(ip: IpAddress, port: number | null): string {
  const text = formatIp(ip);
  if (port === null) return text;
  return ip.family === 6 ? `[${text}]:${port}` : `${text}:${port}`;
}

function toPacket(f: PacketFacts): Packet {
  return {
    interface: f.interface,
    direction: f.direction,
    proto: f.proto,
    src: formatIp(f.src),
    srcPort: f.proto === 6 || f.proto === 17 ? f.srcPort : null,
    dst: formatIp(f.dst),
    dstPort: f.proto === 6 || f.proto === 17 ? f.dstPort : null,
    ...(f.proto === 6 ? { tcpFlags: tcpFlagLetters(f.tcpFlags) } : {}),
    ...(f.icmpType >= 0 ? { icmpType: f.icmpType } : {}),
  };
}

/** Host bits of `ip` moved into `net` (pf `bitmask` pools and binat map a subnet one to one). */
function mapInto(net: Cidr, ip: IpAddress): IpAddress {
  if (net.family === 4 && ip.family === 4) {
    const mask = net.prefix === 0 ? 0 : (0xffffffff << (32 - net.prefix)) >>> 0;
    return { family: 4, value: ((net.network & mask) | (ip.value & ~mask)) >>> 0 };
  }
  if (net.family === 6 && ip.family === 6) {
    const mask = ((1n << 128n) - 1n) ^ ((1n << BigInt(128 - net.prefix)) - 1n);
    return { family: 6, value: (net.network & mask) | (ip.value & ~mask & ((1n << 128n) - 1n)) };
  }
  return ip;
}

/** Adds the NAT layer to a filter evaluator for a ruleset with translation rules. */
export function withNat(inner: Evaluator, ruleset: PfRuleset): Evaluator {
  const rules = ruleset.nat ?? [];
  const parsed = new Map<string, Cidr | null>();
  const cidr = (text: string): Cidr | null => {
    let c = parsed.get(text);
    if (c === undefined) {
      c = parseCidr(text);
      parsed.set(text, c);
    }
    return c;
  };
  const inSet = (set: AddressSet, ip: IpAddress): Tri => {
    if (set.cidrs.some((c) => { const p = cidr(c); return p !== null && cidrContains(p, ip); })) return true;
    const family = ip.family === 4 ? 'inet' : 'inet6';
    if (!set.dynamic || (set.dynamicFamilies !== undefined && !set.dynamicFamilies.includes(family))) return false;
    if (set.excludes?.some((c) => { const p = cidr(c); return p !== null && cidrContains(p, ip); })) return false;
    return 'unknown';
  };
  const inSpec = (spec: AddressSpec, ip: IpAddress): Tri => {
    const m = spec.match;
    let hit: Tri;
    if (m.kind === 'any') hit = true;
    else if (m.kind === 'cidrs') hit = m.cidrs.some((c) => { const p = cidr(c); return p !== null && cidrContains(p, ip); });
    else if (m.kind === 'table') hit = ruleset.tables[m.table] ? inSet(ruleset.tables[m.table] as AddressSet, ip) : false;
    else if (m.kind === 'self') hit = inSet(ruleset.self, ip);
    else {
      const iface = ruleset.interfaces.find((i) => i.key === m.interface);
      hit = iface === undefined ? false : inSet(m.kind === 'interface-address' ? iface.addresses : iface.networks, ip);
    }
    return hit === 'unknown' ? hit : hit !== spec.negate;
  };
  const inPorts = (spec: PortSpec | null, port: number, hasPorts: boolean): Tri => {
    if (spec === null) return true;
    if (!hasPorts) return false;
    if (spec.ranges.some((r) => port >= r.from && port <= r.to)) return true;
    return spec.dynamic ? 'unknown' : false;
  };
  const and = (...values: Tri[]): Tri =>
    values.includes(false) ? false : values.includes('unknown') ? 'unknown' : true;

  /** Whether `rule` applies to the packet; for binat the inbound side matches the external address. */
  const matches = (rule: PfNatRule, f: PacketFacts): Tri => {
    if (!rule.on.interfaces.includes(f.interface)) return false;
    if ((rule.af === 'inet') !== (f.family === 4)) return false;
    if (rule.protocols !== null && !rule.protocols.some((p) => protocolNumber(p) === f.proto)) return false;
    const hasPorts = f.proto === 6 || f.proto === 17;
    if (rule.kind === 'binat') {
      if (f.direction === 'out') return and(inSpec(rule.from, f.src), inSpec(rule.to, f.dst));
      const external = rule.target?.kind === 'cidr' ? cidr(rule.target.cidr) : null;
      return and(external !== null && cidrContains(external, f.dst), inSpec(rule.to, f.src));
    }
    if ((rule.kind === 'rdr') !== (f.direction === 'in')) return false;
    return and(
      inSpec(rule.from, f.src),
      inPorts(rule.fromPort, f.srcPort, hasPorts),
      inSpec(rule.to, f.dst),
      inPorts(rule.toPort, f.dstPort, hasPorts),
    );
  };

  // pf_get_translation (docs/reference/pfsense-nat.md §2): outbound binat before nat, inbound rdr before binat.
  const outboundOrder = [...rules.filter((r) => r.kind === 'binat'), ...rules.filter((r) => r.kind === 'nat')];
  const inboundOrder = [...rules.filter((r) => r.kind === 'rdr'), ...rules.filter((r) => r.kind === 'binat')];
  // Candidates per interface and direction, so most packets (no translation rule where they are) skip NAT at once.
  const candidateMemo = { in: new Map<string, PfNatRule[]>(), out: new Map<string, PfNatRule[]>() };
  const candidates = (f: PacketFacts): PfNatRule[] => {
    const memo = candidateMemo[f.direction];
    let list = memo.get(f.interface);
    if (list === undefined) {
      list = (f.direction === 'out' ? outboundOrder : inboundOrder).filter((r) => r.on.interfaces.includes(f.interface));
      memo.set(f.interface, list);
    }
    return list;
  };
  /** The first matching rule, or null. */
  const lookup = (f: PacketFacts): { rule: PfNatRule; certain: boolean } | null => {
    for (const rule of candidates(f)) {
      const m = matches(rule, f);
      if (m === false) continue;
      return { rule, certain: m === true };
    }
    return null;
  };

  /** Rewrites `f` by `rule`; null when the rule translates to something the engine cannot know. */
  /** Rewrites `f` by `rule` (a new object; `f` is untouched); null when the target is not known. */
  const apply = (rule: PfNatRule, f: PacketFacts): PacketFacts | null => {
    const next: PacketFacts = { ...f, src: copyIp(f.src), dst: copyIp(f.dst), assumptions: [...f.assumptions] };
    if (rule.kind === 'rdr' || (rule.kind === 'binat' && f.direction === 'in')) {
      const target =
        rule.kind === 'binat'
          ? cidr(rule.from.match.kind === 'cidrs' ? (rule.from.match.cidrs[0] as string) : '')
          : rule.target?.kind === 'cidr'
            ? cidr(rule.target.cidr)
            : null;
      if (target === null) return null;
      next.dst = mapInto(target, f.dst);
      if (rule.targetPort !== null && ported(f)) {
        next.dstPort = rule.targetPort + (f.dstPort - (rule.toPort?.ranges[0]?.from ?? f.dstPort));
      }
      return next;
    }
    let target: Cidr | null = null;
    if (rule.target?.kind === 'cidr') target = cidr(rule.target.cidr);
    else if (rule.target?.kind === 'interface') {
      const key = rule.target.interface;
      const own = ruleset.interfaces
        .find((i) => i.key === key)
        ?.addresses.cidrs.find((c) => c.includes(':') === (f.family === 6));
      if (own === undefined) return null;
      target = cidr(own);
    }
    if (target === null) return null;
    next.src = mapInto(target, f.src);
    if (rule.kind === 'nat' && rule.targetPort !== null && ported(f)) next.srcPort = rule.targetPort;
    return next;
  };

  /** The trace's record of a translation (built only when someone reads it). */
  const stepOf = (rule: PfNatRule, before: PacketFacts, after: PacketFacts): TranslationStep => {
    const destination = rule.kind === 'rdr' || (rule.kind === 'binat' && before.direction === 'in');
    const port = ported(before);
    const note =
      rule.kind === 'nat' && port && rule.targetPort === null && !rule.staticPort
        ? `pf picks a source port in 1024-65535; the engine keeps ${before.srcPort} so replies can be traced`
        : undefined;
    return {
      stage: 'translate',
      kind: rule.kind,
      rule: { index: rule.index, text: rule.text, origin: rule.origin },
      field: destination ? 'destination' : 'source',
      before: destination ? endpoint(before.dst, port ? before.dstPort : null) : endpoint(before.src, port ? before.srcPort : null),
      after: destination ? endpoint(after.dst, port ? after.dstPort : null) : endpoint(after.src, port ? after.srcPort : null),
      ...(note ? { note } : {}),
    };
  };

  const natStates = new Map<string, NatState>();
  /** How many `rdr pass` states exist (the throughput path looks them up only when there are any). */
  let passStates = 0;

  const describe = (step: TranslationStep): string => {
    const what = ORIGIN_WORDS[step.rule.origin.kind];
    const name = step.rule.origin.descr ? ` "${step.rule.origin.descr}"` : '';
    const lead =
      step.stage === 'reply'
        ? 'Reply of a translated connection: pf translates it back'
        : 'Translated before filtering';
    const note = step.note ? ` (${step.note}.)` : '';
    return `${lead} by ${step.kind} rule ${step.rule.index} (${what}${name}): ${step.field} ${step.before} -> ${step.after}.${note}`;
  };

  const decorate = (result: EvaluationResult, steps: TranslationStep[], withTrace: boolean): EvaluationResult => {
    if (steps.length === 0) return result;
    return {
      ...result,
      translations: steps,
      explanation: withTrace ? `${steps.map(describe).join(' ')} ${result.explanation}` : result.explanation,
    };
  };

  const unknownResult = (f: PacketFacts, steps: TranslationStep[], why: string, base: EvaluationResult): EvaluationResult => ({
    ...base,
    verdict: 'unknown',
    decidedBy: 'rule',
    rule: null,
    reply: null,
    stateCreated: false,
    translations: steps,
    explanation: `UNKNOWN: ${base.packet}: ${why}`,
    packet: base.packet,
    assumptions: f.assumptions,
  });

  const evaluate = (packet: Packet, options: EvaluateOptions = {}): EvaluationResult => {
    const withTrace = options.trace !== false;
    const f = packetFacts(packet);
    f.interface = resolveInterface(inner.compiled, f.interface);
    // States first: a reply of a translated connection (in its translated form) matches and is translated back.
    const state = natStates.get(key(f));
    if (state !== undefined && (state.passByNat || inner.states.has(f))) {
      const step = state.step();
      const back: TranslationStep = {
        ...step,
        stage: 'reply',
        field: step.field === 'destination' ? 'source' : 'destination',
        before: step.after,
        after: step.before,
      };
      if (state.passByNat) {
        const result = inner.evaluate(packet, { trace: false });
        const passed: EvaluationResult = {
          ...result,
          verdict: 'pass',
          decidedBy: 'state',
          rule: null,
          reply: null,
          trace: [],
          stateCreated: false,
          explanation: `PASS: ${result.packet} matches the state of an rdr pass (no filter rule involved).`,
        };
        return decorate(passed, [back], withTrace);
      }
      return decorate(inner.evaluate(packet, options), [back], withTrace);
    }
    if (inner.states.has(f)) return inner.evaluate(packet, options);
    const found = lookup(f);
    if (found === null || found.rule.no) return inner.evaluate(packet, options);
    const applied = apply(found.rule, f);
    if (applied === null || found.rule.target === null) {
      const base = inner.evaluate(packet, { trace: false });
      const ref = { index: found.rule.index, text: found.rule.text, origin: found.rule.origin };
      const reaches =
        found.rule.origin.kind === 'reflection'
          ? 'NAT reflection in NAT + proxy mode, which hands it to a proxy on the firewall'
          : 'a translation the engine does not model';
      const why =
        found.rule.target === null
          ? `the packet reaches ${reaches} (${found.rule.text}); the verdict cannot be known`
          : `the packet is translated by "${found.rule.text}" to an address known only at run time (give it with --facts); the verdict cannot be known`;
      const step: TranslationStep = {
        stage: 'translate',
        kind: found.rule.kind,
        rule: ref,
        field: 'destination',
        before: '',
        after: '',
      };
      return unknownResult(f, [step], why, base);
    }
    const translated = applied;
    const step = stepOf(found.rule, f, translated);
    if (!found.certain) {
      // Whether the rule matches depends on a run-time set: both branches must agree.
      const plain = inner.evaluate(packet, { trace: false });
      const other = inner.evaluate(toPacket(translated), options);
      if (plain.verdict === other.verdict) {
        const note = `whether ${found.rule.text} applies depends on run-time contents; the verdict is the same either way`;
        return decorate(other, [{ ...step, note }], withTrace);
      }
      const why = `whether "${found.rule.text}" translates it depends on run-time contents (${plain.verdict} without, ${other.verdict} with the translation)`;
      return unknownResult(f, [step], why, other);
    }
    if (found.rule.pass) {
      const result = inner.evaluate(toPacket(translated), { trace: false });
      natStates.set(reverseKey(translated), { passByNat: true, step: () => step });
      passStates++;
      const passed: EvaluationResult = {
        ...result,
        verdict: 'pass',
        decidedBy: 'nat',
        rule: null,
        reply: null,
        trace: [],
        skippedRules: 0,
        stateCreated: true,
        explanation:
          `PASS: ${result.packet} is passed by "rdr pass" without evaluating any filter rule ` +
          `(pfSense and OPNsense write "rdr pass" when the port forward's filter rule association is "Pass").`,
      };
      return decorate(passed, [step], withTrace);
    }
    const result = inner.evaluate(toPacket(translated), options);
    if (result.stateCreated) natStates.set(reverseKey(translated), { passByNat: false, step: () => step });
    return decorate(result, [step], withTrace);
  };

  /**
   * The throughput path: packets with no translation rule on their interface and direction, and packets of an
   * existing filter state, go straight to the filter's `verdictOfFacts`; a plain translation is applied here; the
   * rest (rdr pass, run-time-dependent or unmodelled translations, reply steps) takes `evaluate()`.
   */
  const verdictOfFacts = (f: PacketFacts): Verdict => {
    f.interface = resolveInterface(inner.compiled, f.interface);
    if (passStates > 0 && natStates.get(key(f))?.passByNat === true) return 'pass';
    if (candidates(f).length === 0) return inner.verdictOfFacts(f);
    const found = lookup(f);
    if (found === null || found.rule.no || inner.states.has(f)) return inner.verdictOfFacts(f);
    const applied = found.certain && !found.rule.pass && found.rule.target !== null ? apply(found.rule, f) : null;
    if (applied === null) return evaluate(toPacket(f), { trace: false }).verdict;
    // `f` may be the caller's scratch object: keep a copy for the step a later trace may show.
    const before: PacketFacts = { ...f, src: copyIp(f.src), dst: copyIp(f.dst) };
    const rule = found.rule;
    const result = inner.verdictOfFacts(applied);
    if (result === 'pass' && inner.states.has(applied)) {
      natStates.set(reverseKey(applied), { passByNat: false, step: () => stepOf(rule, before, applied) });
    }
    return result;
  };
  const packetScratch = createPacketScratch();
  return {
    compiled: inner.compiled,
    evaluate,
    verdict: (packet) => verdictOfFacts(packetFactsInto(packet, packetScratch)),
    verdictOfFacts,
    states: inner.states,
  };
}

