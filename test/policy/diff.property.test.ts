/**
 * @module Property test: on random rulesets and a random edit (a rule replaced, inserted, deleted, moved, made
 * quick, its action changed, or an alias's contents edited), every random packet's verdict change according to the
 * reference evaluator (`src/policy/reference-evaluator.ts`, which shares no code with the diff) is covered by the
 * regions `diffRulesets` reports, and a packet inside no region keeps its verdict. Small address and port spaces
 * make overlaps and edges frequent; counters make sure the property is not vacuous.
 */
import { fc, test } from '@fast-check/vitest';
import { expect, it } from 'vitest';
import { cidrContains, parseCidr, parseIp } from '../../src/net/ip.ts';
import { type DiffRegion, diffRulesets, type PolicyDiff } from '../../src/policy/diff/index.ts';
import type { AddressMatch, AddressSpec, PfRule, PfRuleset, PortSpec } from '../../src/policy/model.ts';
import { type Packet, type PacketFacts, packetFacts, protocolName } from '../../src/policy/packet.ts';
import { ReferenceEvaluator } from '../../src/policy/reference-evaluator.ts';
import { DMZ, LAN, r, ruleset, WAN } from './evaluate-helpers.ts';

const TABLES: Record<string, string[]> = {
  small: ['10.0.0.0/30', '10.0.0.8', '2001:db8::/126'],
  wide: ['10.0.0.0/28', '192.168.1.0/24', '2001:db8::/120'],
  dynList: ['10.0.0.4/31', '2001:db8::9'],
  dyn4Half: ['10.0.0.0/29', '2001:db8::/126'],
};
const EDITED_TABLES: Array<Record<string, string[]>> = [
  { ...TABLES, small: ['10.0.0.0/29', '2001:db8::/126'] },
  { ...TABLES, wide: ['10.0.0.0/28', '2001:db8::/121'] },
  { ...TABLES, dynList: ['10.0.0.4/30'] },
];
const EXCLUDES = { dynList: ['10.0.0.0/30', '2001:db8::/127'] };

const V4 = ['10.0.0.0', '10.0.0.3', '10.0.0.4', '10.0.0.6', '10.0.0.8', '10.0.0.15', '10.0.0.16', '192.168.1.1', '8.8.8.8'];
const V6 = ['2001:db8::', '2001:db8::3', '2001:db8::9', '2001:db8::ff', '2001:db8::100', '2001:db8:1::1'];

const address: fc.Arbitrary<AddressSpec> = fc.record({
  match: fc.oneof(
    { weight: 4, arbitrary: fc.constant<AddressMatch>({ kind: 'any' }) },
    {
      weight: 3,
      arbitrary: fc.constantFrom(...Object.keys(TABLES)).map((table): AddressMatch => ({ kind: 'table', table })),
    },
    {
      weight: 2,
      arbitrary: fc
        .subarray(['10.0.0.0/29', '10.0.0.5', '192.168.1.0/25', '2001:db8::/124', '2001:db8::100'], { minLength: 1 })
        .map((cidrs): AddressMatch => ({ kind: 'cidrs', cidrs })),
    },
    { weight: 1, arbitrary: fc.constant<AddressMatch>({ kind: 'self' }) },
  ),
  negate: fc.boolean(),
});

const ports: fc.Arbitrary<PortSpec | null> = fc.oneof(
  { weight: 3, arbitrary: fc.constant(null) },
  {
    weight: 2,
    arbitrary: fc
      .array(fc.tuple(fc.integer({ min: 0, max: 12 }), fc.integer({ min: 0, max: 4 })), { minLength: 1, maxLength: 2 })
      .map((pairs): PortSpec => ({ ranges: pairs.map(([from, span]) => ({ from, to: from + span })) })),
  },
  { weight: 1, arbitrary: fc.constant<PortSpec>({ ranges: [{ from: 3, to: 3 }], alias: 'dynPorts', dynamic: true }) },
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
    protocols: fc.constantFrom<string[] | null>(null, ['tcp'], ['udp'], ['tcp', 'udp'], ['icmp'], ['esp']),
    from: address,
    to: address,
    fromPort: ports,
    toPort: ports,
    icmpTypes: fc.constantFrom<string[] | null>(null, null, ['echoreq'], ['echorep', 'unreach']),
    flags: fc.constantFrom(null, 'S/SA', 'A/A'),
    tag: fc.constantFrom(undefined, undefined, undefined, undefined, 'T'),
    tagged: fc.constantFrom(undefined, undefined, undefined, undefined, undefined, { tag: 'T', negate: false }),
    schedule: fc.constantFrom(undefined, undefined, undefined, undefined, 'night'),
  })
  .map((g): PfRule => {
    const portsAllowed = g.protocols?.every((p) => p === 'tcp' || p === 'udp') === true;
    const out: PfRule = {
      ...r('block all'),
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
      icmpTypes: g.protocols?.[0] === 'icmp' ? g.icmpTypes : null,
      tcpFlags: g.flags === null ? null : { set: g.flags.split('/')[0] as string, outOf: g.flags.split('/')[1] as string, implicit: false },
      state: g.action === 'pass' ? 'keep' : null,
    };
    if (g.tag !== undefined) out.tag = g.tag;
    if (g.tagged !== undefined) out.tagged = g.tagged;
    if (g.schedule !== undefined) out.schedule = g.schedule;
    return out;
  });

type Edit =
  | { kind: 'replace'; at: number; rule: PfRule }
  | { kind: 'insert'; at: number; rule: PfRule }
  | { kind: 'delete'; at: number }
  | { kind: 'move'; at: number; to: number }
  | { kind: 'quick'; at: number }
  | { kind: 'action'; at: number; action: PfRule['action'] }
  | { kind: 'alias'; tables: number }
  /** Every block rule becomes reject and vice versa (the reply changes, the verdict class does not). */
  | { kind: 'flip' };

const actionEdit: fc.Arbitrary<Edit> = fc.record({
  kind: fc.constant('action' as const),
  at: fc.nat(),
  action: fc.constantFrom<PfRule['action']>('pass', 'block', 'reject'),
});
const edit: fc.Arbitrary<Edit> = fc.oneof(
  actionEdit,
  fc.constant<Edit>({ kind: 'flip' }),
  fc.record({ kind: fc.constant('replace' as const), at: fc.nat(), rule }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), rule }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('move' as const), at: fc.nat(), to: fc.nat() }),
  fc.record({ kind: fc.constant('quick' as const), at: fc.nat() }),
  actionEdit,
  fc.record({ kind: fc.constant('alias' as const), tables: fc.nat({ max: EDITED_TABLES.length - 1 }) }),
);

function applyEdit(rules: PfRule[], e: Edit): { rules: PfRule[]; tables: Record<string, string[]> } {
  const out = [...rules];
  const index = e.kind === 'alias' || e.kind === 'flip' ? 0 : e.at;
  const at = rules.length === 0 ? 0 : e.kind === 'insert' ? index % (rules.length + 1) : index % rules.length;
  switch (e.kind) {
    case 'replace':
      if (out.length > 0) out[at] = e.rule;
      break;
    case 'insert':
      out.splice(at, 0, e.rule);
      break;
    case 'delete':
      out.splice(at, 1);
      break;
    case 'move': {
      const [moved] = out.splice(at, 1);
      if (moved !== undefined) out.splice(e.to % (out.length + 1), 0, moved);
      break;
    }
    case 'quick':
      if (out[at] !== undefined) out[at] = { ...(out[at]), quick: !(out[at]).quick };
      break;
    case 'action':
      if (out[at] !== undefined) out[at] = { ...(out[at]), action: e.action, state: e.action === 'pass' ? 'keep' : null };
      break;
    case 'flip':
      return {
        rules: out.map((rule) => {
          const flipped = { block: 'reject', reject: 'block' }[rule.action as 'block'];
          return flipped === undefined ? rule : { ...rule, action: flipped as PfRule['action'] };
        }),
        tables: TABLES,
      };
    case 'alias':
      return { rules: out, tables: EDITED_TABLES[e.tables] as Record<string, string[]> };
  }
  return { rules: out, tables: TABLES };
}

const packet: fc.Arbitrary<Packet> = fc
  .record({
    interface: fc.constantFrom('wan', 'lan', 'opt1'),
    direction: fc.constantFrom('in', 'out'),
    v6: fc.boolean(),
    proto: fc.constantFrom('tcp', 'tcp', 'udp', 'icmp', 'esp', 'gre'),
    src: fc.nat(),
    dst: fc.nat(),
    srcPort: fc.integer({ min: 0, max: 14 }),
    dstPort: fc.integer({ min: 0, max: 14 }),
    flags: fc.constantFrom('S', 'SA', 'A', 'FA', 'R', 'SE'),
    icmpType: fc.constantFrom('echoreq', 'echorep', 'unreach', 'timex'),
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
      p.srcPort = g.srcPort;
      p.dstPort = g.dstPort;
    }
    if (g.proto === 'tcp') p.tcpFlags = g.flags;
    if (g.proto === 'icmp') p.icmpType = g.icmpType;
    return p;
  });

/** Address texts of a region (`10.0.0.0/29`, `10.0.0.3-10.0.0.9`) hold the address? Independent of the diff code. */
function addressIn(list: string[] | null, address: PacketFacts['src']): boolean {
  if (list === null) return true;
  return list.some((text) => {
    if (text.includes('/')) return cidrContains(parseCidr(text) as NonNullable<ReturnType<typeof parseCidr>>, address);
    const [first, last] = text.split('-').map((t) => parseIp(t));
    return first !== null && last !== null && first !== undefined && last !== undefined &&
      first.value <= address.value && address.value <= last.value;
  });
}

function portIn(list: string[] | null, port: number): boolean {
  if (list === null) return true;
  return list.some((text) => {
    const [from, to] = text.split('-').map(Number) as [number, number | undefined];
    return port >= from && port <= (to ?? from);
  });
}

function regionHolds(diff: PolicyDiff, region: DiffRegion, f: PacketFacts): boolean {
  if (region.interface !== f.interface || region.direction !== f.direction) return false;
  if (region.family !== (f.family === 4 ? 'inet' : 'inet6')) return false;
  const name = protocolName(f.proto);
  const named = diff.namedProtocols.includes(name);
  if (region.protocols !== null && !region.protocols.includes(named ? name : 'other')) return false;
  if (!addressIn(region.source, f.src) || !addressIn(region.destination, f.dst)) return false;
  if (f.proto === 6 || f.proto === 17) {
    if (!portIn(region.sourcePorts, f.srcPort) || !portIn(region.destinationPorts, f.dstPort)) return false;
  }
  if (f.proto === 6 && region.tcpFlags !== null && !region.tcpFlags.values.includes(f.tcpFlags)) return false;
  if ((f.proto === 1 || f.proto === 58) && region.icmpTypes !== null && !region.icmpTypes.includes(f.icmpType)) return false;
  return true;
}

const seen = new Map<string, number>();

/**
 * The reference verdict at the level the diff reports: the deciding rule's action. The evaluator names the
 * effect (a reject that sends nothing back, for ICMP or a TCP RST, is `block`, docs/adr/0151-verdict-names-the-effect.md);
 * the diff's `reply-changed` is the rule-level block ⇄ reject change (docs/adr/0140-policy-diff-regions.md).
 */
function ruleLevelVerdict(rules: PfRuleset, p: Packet): string {
  const result = new ReferenceEvaluator(rules).evaluate(p);
  const index = result.ruleIndex;
  return result.verdict === 'block' && index !== null && rules.rules[index]?.action === 'reject' ? 'reject' : result.verdict;
}

test.prop([fc.array(rule, { maxLength: 10 }), edit, fc.array(packet, { minLength: 20, maxLength: 40 })], {
  numRuns: 400,
})('every verdict change is inside exactly one reported region, and no other packet changes', (rules, e, packets) => {
  const options = { interfaces: [WAN, LAN, DMZ], excludes: EXCLUDES };
  const before = ruleset(rules, { ...options, tables: TABLES });
  const edited = applyEdit(rules, e);
  const after = ruleset(edited.rules, { ...options, tables: edited.tables });
  const diff = diffRulesets(before, after);
  for (const p of packets) {
    const facts = packetFacts(p);
    const was = ruleLevelVerdict(before, p);
    const now = ruleLevelVerdict(after, p);
    const holding = diff.regions.filter((region) => regionHolds(diff, region, facts));
    expect(holding.length, 'regions are disjoint').toBeLessThanOrEqual(1);
    const region = holding[0];
    const change = region?.change ?? 'none';
    seen.set(change, (seen.get(change) ?? 0) + 1);
    if (was !== now) seen.set('reference-changed', (seen.get('reference-changed') ?? 0) + 1);
    switch (change) {
      case 'none':
        expect(now, `${JSON.stringify(p)} changed outside every region`).toBe(was);
        break;
      case 'newly-pass':
        expect([was, now]).toEqual([expect.not.stringMatching(/^pass$/), 'pass']);
        break;
      case 'newly-block':
        expect(was).toBe('pass');
        expect(now).not.toBe('pass');
        break;
      case 'reply-changed':
        expect(was).not.toBe('pass');
        expect(now).not.toBe('pass');
        break;
      case 'unknown':
        break;
    }
    if (region !== undefined && change !== 'unknown') {
      const certain = region.before.verdict !== 'unknown' && region.after.verdict !== 'unknown';
      if (certain) expect([was, now]).toEqual([region.before.verdict, region.after.verdict]);
    }
  }
}, 120_000);

it('the property saw every kind of change at least once', () => {
  for (const kind of ['none', 'newly-pass', 'newly-block', 'reply-changed', 'unknown', 'reference-changed']) {
    expect(seen.get(kind) ?? 0, kind).toBeGreaterThan(0);
  }
});
