/**
 * @module Property tests: on random rulesets and random packet sequences the evaluator (bucketed bitsets, state
 * keys, unknown exploration) agrees with the reference evaluator (linear pf walk, `cidrContains` scans, field-by-
 * field state comparison, brute-force unknowns) on verdict, decidedBy, deciding rule, reply and state creation.
 * Small address and port spaces make overlaps, edges and state hits frequent.
 */
import { fc, test } from '@fast-check/vitest';
import { expect, it } from 'vitest';
import { createEvaluator } from '../../src/policy/evaluate.ts';
import type { AddressMatch, AddressSpec, PfNatRule, PfRule, PortSpec } from '../../src/policy/model.ts';
import type { Packet } from '../../src/policy/packet.ts';
import { ReferenceEvaluator } from '../../src/policy/reference-evaluator.ts';
import { DMZ, LAN, r, ruleset, WAN } from './evaluate-helpers.ts';

const TABLES = {
  small: ['10.0.0.0/30', '10.0.0.8', '2001:db8::/126'],
  wide: ['10.0.0.0/28', '192.168.1.0/24', '2001:db8::/120'],
  dynList: ['10.0.0.4/31', '2001:db8::9'],
  dyn6Half: ['10.0.0.0/29', '2001:db8::/126'],
  LAN__NETWORK: ['192.168.1.0/24'],
};
/** Addresses known not to be in the dynamic tables (AddressSet.excludes). */
const EXCLUDES = { dynList: ['10.0.0.0/30', '2001:db8::/127'] };

const v4Hosts = [
  '10.0.0.0',
  '10.0.0.3',
  '10.0.0.4',
  '10.0.0.5',
  '10.0.0.8',
  '10.0.0.15',
  '10.0.0.16',
  '192.168.1.1',
  '192.168.1.50',
  '198.51.100.2',
  '8.8.8.8',
];
const v6Hosts = [
  '2001:db8::',
  '2001:db8::3',
  '2001:db8::4',
  '2001:db8::9',
  '2001:db8::ff',
  '2001:db8::100',
  '2001:db8:1::1',
  '2001:db8:9::1',
];

const address: fc.Arbitrary<AddressSpec> = fc.record({
  match: fc.oneof(
    { weight: 4, arbitrary: fc.constant<AddressMatch>({ kind: 'any' }) },
    {
      weight: 3,
      arbitrary: fc
        .constantFrom(...Object.keys(TABLES))
        .map((table): AddressMatch => ({ kind: 'table', table })),
    },
    {
      weight: 2,
      arbitrary: fc
        .subarray(['10.0.0.0/29', '10.0.0.5', '192.168.1.0/25', '2001:db8::/124', '2001:db8::100'], {
          minLength: 1,
        })
        .map((cidrs): AddressMatch => ({ kind: 'cidrs', cidrs })),
    },
    { weight: 1, arbitrary: fc.constant<AddressMatch>({ kind: 'self' }) },
    {
      weight: 1,
      arbitrary: fc.constantFrom<AddressMatch>(
        { kind: 'interface-address', interface: 'lan' },
        { kind: 'interface-network', interface: 'opt1' },
      ),
    },
  ),
  negate: fc.boolean(),
});

const ports: fc.Arbitrary<PortSpec | null> = fc.oneof(
  { weight: 3, arbitrary: fc.constant(null) },
  {
    weight: 2,
    arbitrary: fc
      .array(fc.tuple(fc.integer({ min: 0, max: 12 }), fc.integer({ min: 0, max: 4 })), {
        minLength: 1,
        maxLength: 3,
      })
      .map((pairs): PortSpec => ({ ranges: pairs.map(([from, span]) => ({ from, to: from + span })) })),
  },
  {
    weight: 1,
    arbitrary: fc.constant<PortSpec>({ ranges: [{ from: 3, to: 3 }], alias: 'dynPorts', dynamic: true }),
  },
);

const rule: fc.Arbitrary<PfRule> = fc
  .record({
    action: fc.constantFrom('pass', 'pass', 'block', 'reject', 'match'),
    direction: fc.constantFrom('in', 'out', 'any'),
    quick: fc.boolean(),
    on: fc.oneof(
      fc.constant(null),
      fc.record({ interfaces: fc.subarray(['wan', 'lan', 'opt1'], { minLength: 1 }), negate: fc.boolean() }),
    ),
    af: fc.constantFrom(null, 'inet', 'inet6'),
    protocols: fc.constantFrom<string[] | null>(
      null,
      ['tcp'],
      ['udp'],
      ['tcp', 'udp'],
      ['icmp'],
      ['ipv6-icmp'],
      ['esp'],
    ),
    from: address,
    to: address,
    fromPort: ports,
    toPort: ports,
    icmpTypes: fc.constantFrom<string[] | null>(null, null, ['echoreq'], ['echorep', 'unreach']),
    flags: fc.constantFrom(null, 'S/SA', 'A/A', 'S/S'),
    state: fc.constantFrom('keep', 'keep', 'none'),
    tag: fc.constantFrom(undefined, undefined, undefined, 'T'),
    tagged: fc.constantFrom(
      undefined,
      undefined,
      undefined,
      { tag: 'T', negate: false },
      { tag: 'T', negate: true },
    ),
    schedule: fc.constantFrom(undefined, undefined, undefined, undefined, 'night'),
  })
  .map((g): PfRule => {
    const base = r('block all');
    const portsAllowed = g.protocols?.every((p) => p === 'tcp' || p === 'udp') === true;
    const icmpAllowed = g.protocols?.[0] === 'icmp' || g.protocols?.[0] === 'ipv6-icmp';
    const rule: PfRule = {
      ...base,
      action: g.action,
      direction: g.direction,
      quick: g.quick,
      on: g.on,
      af: g.af,
      protocols: g.protocols,
      from: g.from,
      to: g.to,
      fromPort: portsAllowed ? g.fromPort : null,
      toPort: portsAllowed ? g.toPort : null,
      icmpTypes: icmpAllowed ? g.icmpTypes : null,
      tcpFlags:
        g.flags === null
          ? null
          : { set: g.flags.split('/')[0] as string, outOf: g.flags.split('/')[1] as string, implicit: false },
      state: g.action === 'pass' ? g.state : null,
    };
    if (g.tag !== undefined) rule.tag = g.tag;
    if (g.tagged !== undefined) rule.tagged = g.tagged;
    if (g.schedule !== undefined) rule.schedule = g.schedule;
    return rule;
  });

const packet: fc.Arbitrary<Packet> = fc
  .record({
    interface: fc.constantFrom('wan', 'lan', 'opt1'),
    direction: fc.constantFrom('in', 'out'),
    v6: fc.boolean(),
    proto: fc.constantFrom('tcp', 'tcp', 'udp', 'icmp', 'esp'),
    src: fc.nat(),
    dst: fc.nat(),
    srcPort: fc.integer({ min: 0, max: 14 }),
    dstPort: fc.integer({ min: 0, max: 14 }),
    flags: fc.constantFrom('S', 'SA', 'A', 'FA', 'R'),
    icmpType: fc.constantFrom('echoreq', 'echorep', 'unreach', 'timex'),
  })
  .map((g): Packet => {
    const hosts = g.v6 ? v6Hosts : v4Hosts;
    const p: Packet = {
      interface: g.interface,
      direction: g.direction,
      proto: g.proto,
      src: hosts[g.src % hosts.length] as string,
      dst: hosts[g.dst % hosts.length] as string,
    };
    if (g.proto === 'tcp' || g.proto === 'udp') {
      p.srcPort = g.srcPort;
      p.dstPort = g.dstPort;
    }
    if (g.proto === 'tcp') p.tcpFlags = g.flags;
    if (g.proto === 'icmp') p.icmpType = g.icmpType;
    return p;
  });

/**
 * A packet followed, sometimes, by its reply (on the same or another interface) or by a repeat of itself, to
 * exercise the state table.
 */
const sequence = fc.array(
  fc
    .tuple(
      packet,
      fc.constantFrom('alone', 'reply', 'reply', 'repeat'),
      fc.constantFrom(null, null, 'wan', 'lan', 'opt1'),
    )
    .map(([p, follow, replyIface]): Packet[] => {
      if (follow === 'alone') return [p];
      if (follow === 'repeat') return [p, { ...p, tcpFlags: p.proto === 'tcp' ? 'A' : p.tcpFlags }];
      const reply: Packet = {
        ...p,
        interface: replyIface ?? p.interface,
        direction: p.direction === 'in' ? 'out' : 'in',
        src: p.dst,
        dst: p.src,
      };
      if (p.srcPort !== undefined) {
        reply.srcPort = p.dstPort;
        reply.dstPort = p.srcPort;
      }
      if (p.proto === 'tcp') reply.tcpFlags = 'SA';
      if (p.icmpType === 'echoreq') reply.icmpType = 'echorep';
      return [p, reply];
    }),
  { minLength: 1, maxLength: 12 },
);

/** Outcome kinds seen by the agreement property, so a generator change cannot make it vacuous. */
const seen = new Map<string, number>();

test.prop([fc.array(rule, { maxLength: 14 }), sequence, fc.constantFrom('floating', 'if-bound')], {
  numRuns: 600,
})(
  'evaluator agrees with the reference evaluator on random rulesets and packet sequences',
  (rules, steps, statePolicy) => {
    const set = ruleset(rules, {
      interfaces: [WAN, LAN, DMZ],
      tables: TABLES,
      excludes: EXCLUDES,
      statePolicy,
    });
    const fast = createEvaluator(set);
    const traced = createEvaluator(set);
    const reference = new ReferenceEvaluator(set);
    for (const p of steps.flat()) {
      const expected = reference.evaluate(p);
      for (const kind of [
        expected.verdict,
        expected.decidedBy,
        expected.ruleIndex === null ? 'no-rule' : 'rule-index',
      ]) {
        seen.set(kind, (seen.get(kind) ?? 0) + 1);
      }
      for (const [evaluator, trace] of [
        [fast, false],
        [traced, true],
      ] as const) {
        const got = evaluator.evaluate(p, { trace });
        expect({
          verdict: got.verdict,
          decidedBy: got.decidedBy,
          ruleIndex: got.rule?.index ?? null,
          reply: got.reply,
          stateCreated: got.stateCreated,
        }).toEqual(expected);
      }
    }
  },
);

it('the agreement property exercised every kind of outcome', () => {
  for (const kind of [
    'pass',
    'block',
    'reject',
    'unknown',
    'rule',
    'state',
    'default',
    'no-rule',
    'rule-index',
  ]) {
    expect(seen.get(kind) ?? 0, kind).toBeGreaterThan(10);
  }
});

test.prop([fc.array(rule, { maxLength: 14 }), sequence, fc.constantFrom('floating', 'if-bound')], {
  numRuns: 300,
})(
  'verdict() (the throughput path) agrees with evaluate()',
  (rules, steps, statePolicy) => {
    const set = ruleset(rules, {
      interfaces: [WAN, LAN, DMZ],
      tables: TABLES,
      excludes: EXCLUDES,
      statePolicy,
    });
    const quick = createEvaluator(set);
    const full = createEvaluator(set);
    for (const p of steps.flat()) expect(quick.verdict(p)).toBe(full.evaluate(p).verdict);
  },
);

/**
 * Random translation rules (static addresses; `rdr pass` left out: its state is the NAT layer's own): binat, rdr
 * and nat with small subnets so host bits are mapped, ports remapped and `no` rules stop the search.
 */
const natRule: fc.Arbitrary<Omit<PfNatRule, 'index'>> = fc
  .record({
    kind: fc.constantFrom('nat', 'rdr', 'binat'),
    no: fc.constantFrom(false, false, false, true),
    iface: fc.constantFrom('wan', 'lan', 'opt1'),
    v6: fc.boolean(),
    from: fc.constantFrom('any', '10.0.0.0/29', '192.168.1.0/24', '8.8.8.8/32', '2001:db8::/125', '2001:db8:1::1/128'),
    to: fc.constantFrom('any', 'any', '10.0.0.8/30', '198.51.100.2/32', '2001:db8::100/126'),
    toPort: fc.constantFrom(null, { ranges: [{ from: 3, to: 6 }] }),
    target: fc.nat(),
    targetPort: fc.constantFrom(null, 10),
    protocols: fc.constantFrom(null, ['tcp'], ['tcp', 'udp']),
  })
  .map((g): Omit<PfNatRule, 'index'> => {
    const spec = (text: string): AddressSpec => ({ match: text === 'any' ? { kind: 'any' } : { kind: 'cidrs', cidrs: [text] }, negate: false });
    const binat = g.kind === 'binat';
    return {
      kind: g.kind,
      no: g.no,
      pass: false,
      on: { interfaces: [g.iface], negate: false },
      af: g.v6 ? 'inet6' : 'inet',
      protocols: binat || g.protocols === null ? null : [...g.protocols],
      // A binat maps one internal subnet onto an external one of the same size.
      from: binat ? spec(g.v6 ? '2001:db8:1::/126' : '192.168.1.48/30') : spec(g.from),
      fromPort: null,
      to: spec(g.to),
      toPort: binat ? null : (g.toPort as PortSpec | null),
      target: {
        kind: 'cidr',
        cidr: binat
          ? g.v6
            ? '2001:db8::/126'
            : '10.0.0.8/30'
          : ((g.v6 ? ['2001:db8::/126', '2001:db8:9::1/128'] : ['10.0.0.8/30', '198.51.100.2/32', '192.168.1.48/30'])[
              g.target % 2
            ] as string),
      },
      targetPort: g.kind === 'rdr' ? g.targetPort : null,
      staticPort: true,
      origin: { kind: 'outbound', descr: 'random' },
      text: 'random',
    };
  });

const natSeen = new Map<string, number>();

test.prop([fc.array(rule, { maxLength: 10 }), fc.array(natRule, { minLength: 1, maxLength: 6 }), sequence], {
  numRuns: 250,
})('with NAT rules, evaluate() and verdict() agree with the reference evaluator, translations included', (rules, nat, steps) => {
  const set = { ...ruleset(rules, { interfaces: [WAN, LAN, DMZ], tables: TABLES, excludes: EXCLUDES }), nat: nat.map((r, index) => ({ ...r, index })) };
  const evaluator = createEvaluator(set);
  const quick = createEvaluator(set);
  const reference = new ReferenceEvaluator(set);
  for (const p of steps.flat()) {
    const expected = reference.evaluate(p);
    const got = evaluator.evaluate(p);
    expect(quick.verdict(p), 'verdict() with NAT').toBe(got.verdict);
    const translation = got.translations?.find((t) => t.stage === 'translate');
    natSeen.set(expected.translated === undefined ? 'plain' : 'translated', (natSeen.get(expected.translated === undefined ? 'plain' : 'translated') ?? 0) + 1);
    expect({
      verdict: got.verdict,
      decidedBy: got.decidedBy,
      ruleIndex: got.rule?.index ?? null,
      stateCreated: got.stateCreated,
      translated: translation === undefined ? undefined : got.packet.split(' ').slice(3, 6).join(' '),
    }).toEqual({
      verdict: expected.verdict,
      decidedBy: expected.decidedBy,
      ruleIndex: expected.ruleIndex,
      stateCreated: expected.stateCreated,
      translated: expected.translated,
    });
  }
});

it('the NAT agreement property saw translated and untranslated packets', () => {
  expect(natSeen.get('translated') ?? 0).toBeGreaterThan(20);
  expect(natSeen.get('plain') ?? 0).toBeGreaterThan(20);
});
