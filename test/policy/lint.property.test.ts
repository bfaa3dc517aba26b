/**
 * @module Property test: every rule the lint reports as never deciding a packet (LINT001 shadowed, LINT002
 * redundant, LINT005 never-matches) really never decides one — checked with the packet evaluator (itself
 * property-tested against the reference evaluator) on random rulesets and random packets in a small address and
 * port space, where overlaps are frequent. Counters make sure the property is not vacuous.
 */
import { fc, test } from '@fast-check/vitest';
import { expect, it } from 'vitest';
import { type CompiledRule, compileRuleset, matchRule, resolveInterface } from '../../src/policy/compiled.ts';
import { createEvaluator } from '../../src/policy/evaluate.ts';
import { lintRuleset } from '../../src/policy/lint.ts';
import type { AddressMatch, AddressSpec, PfRule, PortSpec } from '../../src/policy/model.ts';
import { type Packet, packetFacts } from '../../src/policy/packet.ts';
import { DMZ, LAN, r, ruleset, WAN } from './evaluate-helpers.ts';

const TABLES = {
  net: ['10.0.0.0/29', '2001:db8::/125'],
  hosts: ['10.0.0.1', '10.0.0.6', '2001:db8::2'],
  dynList: ['10.0.0.2/31'],
};
const V4 = ['10.0.0.0', '10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.6', '10.0.0.9', '192.168.1.1'];
const V6 = ['2001:db8::', '2001:db8::2', '2001:db8::7', '2001:db8::9'];

const address: fc.Arbitrary<AddressSpec> = fc
  .record({
    match: fc.oneof(
      { weight: 4, arbitrary: fc.constant<AddressMatch>({ kind: 'any' }) },
      {
        weight: 3,
        arbitrary: fc
          .constantFrom(...Object.keys(TABLES))
          .map((table): AddressMatch => ({ kind: 'table', table })),
      },
      {
        weight: 3,
        arbitrary: fc
          .subarray(['10.0.0.0/30', '10.0.0.1', '10.0.0.0/28', '2001:db8::/126', '2001:db8::9'], {
            minLength: 1,
          })
          .map((cidrs): AddressMatch => ({ kind: 'cidrs', cidrs })),
      },
    ),
    negate: fc.boolean(),
  })
  .map((spec) => (spec.match.kind === 'any' ? { ...spec, negate: false } : spec));

const ports: fc.Arbitrary<PortSpec | null> = fc.oneof(
  { weight: 3, arbitrary: fc.constant(null) },
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.integer({ min: 0, max: 6 }), fc.integer({ min: 0, max: 3 }))
      .map(([from, span]): PortSpec => ({ ranges: [{ from, to: from + span }] })),
  },
);

const rule: fc.Arbitrary<PfRule> = fc
  .record({
    action: fc.constantFrom('pass', 'block', 'reject', 'match'),
    direction: fc.constantFrom('in', 'in', 'out', 'any'),
    quick: fc.boolean(),
    on: fc.oneof(
      fc.constant(null),
      fc.record({ interfaces: fc.subarray(['wan', 'lan', 'opt1'], { minLength: 1 }), negate: fc.boolean() }),
    ),
    af: fc.constantFrom(null, 'inet', 'inet6'),
    protocols: fc.constantFrom<string[] | null>(null, ['tcp'], ['udp'], ['tcp', 'udp'], ['icmp'], ['esp']),
    from: address,
    to: address,
    toPort: ports,
    icmpTypes: fc.constantFrom<string[] | null>(null, ['echoreq']),
    flags: fc.constantFrom(null, 'S/SA'),
    schedule: fc.constantFrom(undefined, undefined, undefined, 'night'),
  })
  .map((g): PfRule => {
    const portsAllowed = g.protocols?.every((p) => p === 'tcp' || p === 'udp') === true;
    const rule: PfRule = {
      ...r('block all'),
      action: g.action,
      direction: g.direction,
      quick: g.quick,
      on: g.on,
      af: g.af,
      protocols: g.protocols,
      from: g.from,
      to: g.to,
      toPort: portsAllowed ? g.toPort : null,
      icmpTypes: g.protocols?.[0] === 'icmp' ? g.icmpTypes : null,
      tcpFlags: g.flags === null ? null : { set: 'S', outOf: 'SA', implicit: false },
      state: g.action === 'pass' ? 'keep' : null,
    };
    if (g.schedule !== undefined) rule.schedule = g.schedule;
    return rule;
  });

/** Rules plus narrowed copies of some of them (same match, fewer ports / another action), so coverage is common. */
const rules = fc
  .tuple(fc.array(rule, { minLength: 1, maxLength: 10 }), fc.array(fc.nat(), { maxLength: 6 }), fc.boolean())
  .map(([base, picks, flipQuick]) => {
    const out = [...base];
    for (const [n, pick] of picks.entries()) {
      const source = base[pick % base.length] as PfRule;
      out.push({
        ...source,
        // A separate GUI rule (copies sharing an origin would be one rule's expansions).
        origin: { ...source.origin, position: 1_000_000 + n },
        action: pick % 2 === 0 ? source.action : source.action === 'pass' ? 'block' : 'pass',
        quick: flipQuick ? !source.quick : source.quick,
        state: source.action === 'pass' || pick % 2 === 1 ? 'keep' : null,
      });
    }
    return out;
  });

const packet: fc.Arbitrary<Packet> = fc
  .record({
    interface: fc.constantFrom('wan', 'lan', 'opt1'),
    direction: fc.constantFrom('in', 'out'),
    v6: fc.boolean(),
    proto: fc.constantFrom('tcp', 'tcp', 'udp', 'icmp', 'esp'),
    src: fc.nat(),
    dst: fc.nat(),
    dstPort: fc.integer({ min: 0, max: 10 }),
    flags: fc.constantFrom('S', 'SA', 'A'),
    icmpType: fc.constantFrom('echoreq', 'echorep'),
  })
  .map((g): Packet => {
    const hosts = g.v6 ? V6 : V4;
    const p: Packet = {
      interface: g.interface,
      direction: g.direction,
      proto: g.proto,
      src: hosts[g.src % hosts.length] as string,
      dst: hosts[g.dst % hosts.length] as string,
    };
    if (g.proto === 'tcp' || g.proto === 'udp') {
      p.srcPort = 40000;
      p.dstPort = g.dstPort;
    }
    if (g.proto === 'tcp') p.tcpFlags = g.flags;
    if (g.proto === 'icmp') p.icmpType = g.icmpType;
    return p;
  });

/** A host of an address spec that is likely inside it (first entry of its list or table), or null. */
function hostOf(spec: AddressSpec, v6: boolean): string | null {
  if (spec.negate || spec.match.kind === 'any') return null;
  const list =
    spec.match.kind === 'cidrs'
      ? spec.match.cidrs
      : spec.match.kind === 'table'
        ? (TABLES[spec.match.table as keyof typeof TABLES] ?? [])
        : [];
  const entry = list.find((c) => c.includes(':') === v6);
  return entry === undefined ? null : (entry.split('/')[0] as string);
}

/** Moves a random packet towards a rule (its interface, direction, family, protocol, addresses, port). */
function steer(p: Packet, rule: PfRule): Packet {
  const v6 = rule.af === 'inet6' || (rule.af === null && p.src.includes(':'));
  const proto = rule.protocols?.[0] ?? p.proto;
  const out: Packet = { ...p, proto, src: hostOf(rule.from, v6) ?? p.src, dst: hostOf(rule.to, v6) ?? p.dst };
  if (out.src.includes(':') !== v6) out.src = (v6 ? V6 : V4)[0] as string;
  if (out.dst.includes(':') !== v6) out.dst = (v6 ? V6 : V4)[1] as string;
  if (rule.on !== null && !rule.on.negate) out.interface = rule.on.interfaces[0] as string;
  if (rule.direction !== 'any') out.direction = rule.direction;
  delete out.srcPort;
  delete out.dstPort;
  delete out.tcpFlags;
  delete out.icmpType;
  if (proto === 'tcp' || proto === 'udp') {
    out.srcPort = 40000;
    out.dstPort = rule.toPort?.ranges[0]?.from ?? p.dstPort ?? 80;
  }
  if (proto === 'tcp') out.tcpFlags = p.tcpFlags ?? 'S';
  if (proto === 'icmp') out.icmpType = rule.icmpTypes?.[0] ?? p.icmpType ?? 'echoreq';
  return out;
}

const DEAD_CODES = new Set(['LINT001', 'LINT002', 'LINT005']);
const counters = { deadRules: 0, deadRuleMatched: 0, checkedPackets: 0 };

test.prop([rules, fc.array(fc.tuple(packet, fc.nat(), fc.boolean()), { minLength: 20, maxLength: 40 })], {
  numRuns: 400,
})('a rule reported as never deciding never decides a packet', (generated, samples) => {
  const packets = samples.map(([p, pick, steered]) =>
    steered ? steer(p, generated[pick % generated.length] as PfRule) : p,
  );
  const set = ruleset(generated, { interfaces: [WAN, LAN, DMZ], tables: TABLES });
  const dead = new Set(
    lintRuleset(set)
      .filter((f) => DEAD_CODES.has(f.code))
      .flatMap((f) => f.ruleIndexes),
  );
  if (dead.size === 0) return;
  counters.deadRules += dead.size;
  const compiled = compileRuleset(set);
  for (const p of packets) {
    const result = createEvaluator(compiled).evaluate(p);
    const facts = packetFacts(p);
    facts.interface = resolveInterface(compiled, facts.interface);
    const ctx = {
      facts,
      srcClass: compiled.index.classOf(facts.src),
      dstClass: compiled.index.classOf(facts.dst),
      tags: new Set<string>(),
    };
    // Non-vacuity: the dead rule matches this packet on its own, yet (below) it does not decide it.
    if (
      [...dead].some(
        (i) => matchRule(compiled, compiled.rules[i] as CompiledRule, ctx, null).kind === 'match',
      )
    )
      counters.deadRuleMatched++;
    counters.checkedPackets++;
    const deciders = [result.rule?.index, ...(result.possibilities ?? []).map((o) => o.rule?.index)];
    for (const index of deciders)
      if (index !== undefined) expect(dead.has(index), `rule ${index}`).toBe(false);
  }
});

it('the property saw dead rules that packets actually matched (not vacuous)', () => {
  expect(counters.deadRules).toBeGreaterThan(50);
  expect(counters.deadRuleMatched).toBeGreaterThan(50);
});
