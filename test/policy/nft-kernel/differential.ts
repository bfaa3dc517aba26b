/**
 * @module The differential run shared by test/policy/nft-kernel.test.ts and bench/policy/nft.ts: seeded random pf
 * rulesets over the lab's three interfaces and random forwarded packets; each ruleset is compiled to nftables and
 * loaded into the router namespace, each packet is sent through the veth pairs, and the kernel's verdict (delivered,
 * answered with a RST / ICMP unreachable, or dropped) must equal the engine's (the `in` leg on the ingress
 * interface, then the `out` leg on the egress one; docs/reference/pf-semantics.md §0.3). A second batch sends the
 * replies of the delivered flows, so states (conntrack marks) are checked too.
 */
import fc from 'fast-check';
import { compileToNft } from '../../../src/policy/compile/nft.ts';
import { createEvaluator, type Evaluator, type Verdict } from '../../../src/policy/evaluate.ts';
import type { PfRuleset } from '../../../src/policy/model.ts';
import { type Packet, tcpFlagLetters } from '../../../src/policy/packet.ts';
import { iface, r, ruleset } from '../evaluate-helpers.ts';
import { type KernelLab, type KernelPacket, type KernelVerdict, PEERS, type PeerKey, ROUTER_DEVICE } from './harness.ts';

const HOSTS = (n: number) => [`10.${n}.0.1`, `10.${n}.0.2`, `10.${n}.0.5`, `10.${n}.1.1`, `10.${n}.1.2`];
const HOSTS6 = (n: number) => [`2001:db8:${n}::1`, `2001:db8:${n}::2`, `2001:db8:${n}::5`, `2001:db8:${n}:1::1`, `2001:db8:${n}:1::2`];
const CIDRS = [1, 2, 3].flatMap((n) => [
  `10.${n}.0.0/16`,
  `10.${n}.0.0/24`,
  `10.${n}.1.0/24`,
  `10.${n}.0.0/30`,
  `10.${n}.0.2`,
  `10.${n}.1.1`,
  `2001:db8:${n}::/48`,
  `2001:db8:${n}::/126`,
  `2001:db8:${n}:1::/64`,
  `2001:db8:${n}::2`,
]);
const WIDE = ['10.0.0.0/8', '10.2.0.0/15', '10.0.0.0/14', '2001:db8::/32', '2001:db8:2::/47'];

const addressText: fc.Arbitrary<string> = fc
  .tuple(
    fc.nat(3).map((n) => n === 0),
    fc.oneof(
      { weight: 5, arbitrary: fc.constant('any') },
      { weight: 2, arbitrary: fc.constantFrom('<ta>', '<tb>') },
      { weight: 4, arbitrary: fc.subarray([...CIDRS, ...WIDE], { minLength: 1, maxLength: 3 }).map((c) => c.join(',')) },
    ),
  )
  .map(([negate, text]) => (negate && text !== 'any' ? `!${text}` : text));

const ports = fc.constantFrom('', '', 'port 22', 'port 80:443', 'port 1024:65535', 'port 53', 'port 0:1023', 'port 22,53,8080');

/** One random pf rule line in the evaluate-helpers grammar. */
const ruleLine: fc.Arbitrary<string> = fc
  .record({
    action: fc.constantFrom('pass', 'pass', 'block', 'reject'),
    direction: fc.constantFrom('', 'in', 'out'),
    quick: fc.boolean(),
    on: fc.constantFrom('', '', 'on lan', 'on wan', 'on opt1', 'on lan,opt1', 'on !wan', 'on !lan,opt1'),
    af: fc.constantFrom('', '', '', 'inet', 'inet6'),
    proto: fc.constantFrom('', 'proto tcp', 'proto tcp', 'proto udp', 'proto icmp', 'proto ipv6-icmp', 'proto tcp,udp'),
    from: addressText,
    fromPort: ports,
    to: addressText,
    toPort: ports,
    icmpType: fc.constantFrom('', 'icmp-type echoreq', 'icmp-type 8,13', 'icmp-type 128'),
    flags: fc.constantFrom('', '', 'flags S/SA', 'flags any', 'flags A/A', 'flags S/FSRA'),
    state: fc.constantFrom('', '', 'no state', 'sloppy state'),
  })
  .map((x) => {
    const icmp = x.proto === 'proto icmp' || x.proto === 'proto ipv6-icmp';
    const hasPorts = !icmp;
    const parts = [
      x.action,
      x.direction,
      x.quick ? 'quick' : '',
      x.on,
      x.af,
      x.proto,
      `from ${x.from}`,
      hasPorts ? x.fromPort : '',
      `to ${x.to}`,
      hasPorts ? x.toPort : '',
      icmp ? x.icmpType : '',
      icmp || x.proto === 'proto udp' ? '' : x.flags,
      x.action === 'pass' ? x.state : '',
    ];
    return parts.filter((p) => p !== '').join(' ');
  });

export interface RandomCase {
  lines: string[];
  tables: { ta: string[]; tb: string[] };
  packets: KernelPacket[];
}

const packetArb = fc
  .record({
    six: fc.nat(3).map((n) => n === 0),
    local: fc.nat(5).map((n) => n === 0),
    fromRouter: fc.nat(5).map((n) => n === 0),
    ingress: fc.constantFrom(...PEERS),
    hop: fc.constantFrom(1, 2),
    srcHost: fc.nat(4),
    dstHost: fc.nat(4),
    proto: fc.constantFrom<6 | 17 | 1>(6, 6, 6, 17, 17, 1),
    sport: fc.constantFrom(53, 1024, 33000, 40000, 61000, 22),
    dport: fc.constantFrom(22, 53, 80, 443, 1000, 8080),
    flags: fc.constantFrom(2, 2, 2, 18, 16, 24, 4, 17),
    seq: fc.integer({ min: 1, max: 0x7fffffff }),
    icmpType: fc.constantFrom(8, 8, 13, 0),
    icmpId: fc.integer({ min: 1, max: 65535 }),
  })
  .map((x): Omit<KernelPacket, 'id'> => {
    const from = PEERS.indexOf(x.ingress);
    const egress = PEERS[(from + x.hop) % 3] as PeerKey;
    const tcp = x.proto === 6;
    const ports = x.proto !== 1;
    const hosts = x.six ? HOSTS6 : HOSTS;
    // ICMPv6 echo is 128/129; the other picks (13, 0) are types without meaning there, which conntrack does not track.
    const icmpType = x.six ? ({ 8: 128, 0: 129 } as Record<number, number>)[x.icmpType] ?? x.icmpType : x.icmpType;
    const to = PEERS.indexOf(egress) + 1;
    // A local packet goes to one of the router's own addresses (any interface's), so only pf's `in` leg applies.
    const routerAddress = x.six ? `fd00:${to}::1` : `192.168.${to}.1`;
    // The router's own packet leaves through `egress` from its address there (the output hook, pf `out` only).
    const fromRouter = x.fromRouter && !x.local;
    return {
      local: x.local,
      ...(fromRouter ? { fromRouter } : {}),
      ingress: fromRouter ? egress : x.ingress,
      egress: x.local ? x.ingress : egress,
      proto: x.proto === 1 && x.six ? 58 : x.proto,
      src: fromRouter ? routerAddress : (hosts(from + 1)[x.srcHost] as string),
      dst: x.local ? routerAddress : (hosts(to)[x.dstHost] as string),
      sport: ports ? x.sport : 0,
      dport: ports ? x.dport : 0,
      flags: tcp ? x.flags : 0,
      seq: tcp ? x.seq : 0,
      ack: tcp && (x.flags & 16) !== 0 ? x.seq ^ 0x5a5a : 0,
      icmpType: x.proto === 1 ? icmpType : 0,
      icmpId: x.proto === 1 ? x.icmpId : 0,
    };
  });

const caseArb = (packets: number): fc.Arbitrary<RandomCase> =>
  fc.record({
    // pfSense starts with a non-quick default deny (docs/reference/pf-semantics.md §0.2); most cases do too.
    lines: fc
      .tuple(fc.constantFrom('block all', 'block all', 'block in all', 'reject all', ''), fc.array(ruleLine, { minLength: 1, maxLength: 12 }))
      .map(([deny, rules]) => (deny === '' ? rules : [deny, ...rules])),
    tables: fc.record({
      ta: fc.subarray([...CIDRS, ...WIDE], { maxLength: 3 }),
      tb: fc.subarray(CIDRS, { maxLength: 4 }),
    }),
    packets: fc.array(packetArb, { minLength: packets, maxLength: packets }).map((list) => dedupe(list)),
  });

/** One packet per flow (either direction), so no packet of a batch is another's reply or retransmission. */
function dedupe(list: Array<Omit<KernelPacket, 'id'>>): KernelPacket[] {
  const seen = new Set<string>();
  const out: KernelPacket[] = [];
  for (const p of list) {
    const ends = [`${p.src}:${p.sport}`, `${p.dst}:${p.dport}`].sort().join('-');
    const key = `${p.proto}/${ends}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ ...p, id: 0 });
  }
  return out;
}

/** The seeded cases of a run: the same seed always gives the same rulesets and packets. */
export function randomCases(seed: number, count: number, packets: number): RandomCase[] {
  return fc.sample(caseArb(packets), { seed, numRuns: count });
}

export function caseRuleset(c: RandomCase): PfRuleset {
  return ruleset(
    c.lines.map((line) => r(line)),
    {
      interfaces: PEERS.map((key, i) =>
        iface(key, ROUTER_DEVICE[key], [`192.168.${i + 1}.1/32`, `fd00:${i + 1}::1/128`], [`192.168.${i + 1}.0/24`, `fd00:${i + 1}::/64`]),
      ),
      tables: c.tables,
    },
  );
}

function enginePacket(p: KernelPacket, at: PeerKey, direction: 'in' | 'out'): Packet {
  const proto = p.proto === 6 ? 'tcp' : p.proto === 17 ? 'udp' : p.proto === 58 ? 'icmp6' : 'icmp';
  const icmp = p.proto === 1 || p.proto === 58;
  return {
    interface: at,
    direction,
    proto,
    src: p.src,
    dst: p.dst,
    ...(icmp ? { icmpType: p.icmpType } : { srcPort: p.sport, dstPort: p.dport }),
    ...(p.proto === 6 ? { tcpFlags: tcpFlagLetters(p.flags) } : {}),
  };
}

/** The engine's verdict: the `in` leg, and when a forwarded packet passes it, the `out` leg. */
function engineVerdict(evaluator: Evaluator, p: KernelPacket): Verdict {
  if (p.fromRouter === true) return evaluator.evaluate(enginePacket(p, p.egress, 'out'), { trace: false }).verdict;
  const inbound = evaluator.evaluate(enginePacket(p, p.ingress, 'in'), { trace: false }).verdict;
  if (inbound !== 'pass' || p.local) return inbound;
  return evaluator.evaluate(enginePacket(p, p.egress, 'out'), { trace: false }).verdict;
}

/**
 * The reply of a delivered packet, when conntrack can track the original: TCP connections start with a SYN or are
 * picked up from an ACK (conntrack does not start tracking from a FIN or a RST; pf does — docs/adr/0157), UDP
 * always, ICMP echo and timestamp requests.
 */
function replyOf(p: KernelPacket): KernelPacket | null {
  // The router's own answers would come from its stack, which the lab does not drive; replies to the router's own
  // packets would meet its input hook, which the lab keeps for observing.
  if (p.local || p.fromRouter === true) return null;
  const swapped = { ...p, ingress: p.egress, egress: p.ingress, src: p.dst, dst: p.src, sport: p.dport, dport: p.sport };
  if (p.proto === 17) return swapped;
  if (p.proto === 1 || p.proto === 58) {
    const reply = p.proto === 58 ? (p.icmpType === 128 ? 129 : null) : p.icmpType === 8 ? 0 : p.icmpType === 13 ? 14 : null;
    return reply === null ? null : { ...swapped, icmpType: reply };
  }
  if (p.flags === 2) return { ...swapped, flags: 18, seq: p.seq ^ 0x1234, ack: (p.seq + 1) >>> 0 };
  if ((p.flags & 0x17) === 16) return { ...swapped, flags: 16, seq: p.ack, ack: p.seq };
  return null;
}

export interface Disagreement {
  ruleset: string[];
  tables: RandomCase['tables'];
  packet: string;
  engine: Verdict;
  kernel: KernelVerdict;
}

export interface DifferentialReport {
  rulesets: number;
  packets: number;
  replies: number;
  agreed: number;
  verdicts: Record<KernelVerdict, number>;
  /** The kernel's verdicts among IPv6 packets, packets to the router itself and from it (also in `verdicts`). */
  ipv6: Record<KernelVerdict, number>;
  local: Record<KernelVerdict, number>;
  fromRouter: Record<KernelVerdict, number>;
  disagreements: Disagreement[];
  /** Cases that disagreed under the normal settle time and were run again with a long one. */
  rerun: number;
  compileMs: number;
  engineMs: number;
  kernelMs: number;
}

function describePacket(p: KernelPacket): string {
  const proto =
    p.proto === 6 ? `tcp ${tcpFlagLetters(p.flags)}` : p.proto === 17 ? 'udp' : `icmp${p.proto === 58 ? '6' : ''} type ${p.icmpType}`;
  const icmp = p.proto === 1 || p.proto === 58;
  const ports = icmp ? `${p.src} -> ${p.dst}` : `[${p.src}]:${p.sport} -> [${p.dst}]:${p.dport}`;
  return `${p.fromRouter === true ? 'router' : p.ingress} -> ${p.local ? 'router' : p.egress} ${proto} ${ports}`;
}

function emptyReport(): DifferentialReport {
  return {
    rulesets: 0,
    packets: 0,
    replies: 0,
    agreed: 0,
    verdicts: { pass: 0, block: 0, reject: 0 },
    ipv6: { pass: 0, block: 0, reject: 0 },
    local: { pass: 0, block: 0, reject: 0 },
    fromRouter: { pass: 0, block: 0, reject: 0 },
    disagreements: [],
    rerun: 0,
    compileMs: 0,
    engineMs: 0,
    kernelMs: 0,
  };
}

function add(into: DifferentialReport, tally: DifferentialReport): void {
  for (const key of ['rulesets', 'packets', 'replies', 'agreed', 'compileMs', 'engineMs', 'kernelMs'] as const) {
    into[key] += tally[key];
  }
  for (const key of ['verdicts', 'ipv6', 'local', 'fromRouter'] as const) {
    for (const verdict of ['pass', 'block', 'reject'] as const) into[key][verdict] += tally[key][verdict];
  }
  into.disagreements.push(...tally.disagreements);
}

/**
 * Runs the cases through the kernel and the engine and compares every packet. `compile` is the compiler under test
 * (a test swaps in a broken one to show that disagreements are caught).
 */
export async function runDifferential(
  lab: KernelLab,
  cases: readonly RandomCase[],
  compile: (ruleset: PfRuleset) => string = (rs) => compileToNft(rs, { table: 'pcdiff' }).script,
): Promise<DifferentialReport> {
  const report = emptyReport();
  let nextId = 1;
  /** One case through the kernel, its counts into a fresh tally; `settleMs` is how long a batch may take. */
  const runCase = async (c: RandomCase, settleMs: number): Promise<DifferentialReport> => {
    const tally = emptyReport();
    const rs = caseRuleset(c);
    let started = performance.now();
    const script = compile(rs);
    tally.compileMs += performance.now() - started;
    lab.load(script);
    lab.flushConntrack();
    tally.rulesets++;
    const evaluator = createEvaluator(rs);
    const compare = async (batch: KernelPacket[]): Promise<KernelPacket[]> => {
      for (const p of batch) p.id = (nextId++ % 65000) + 1;
      started = performance.now();
      const expected = batch.map((p) => engineVerdict(evaluator, p));
      tally.engineMs += performance.now() - started;
      started = performance.now();
      const observed = await lab.send(batch, settleMs);
      tally.kernelMs += performance.now() - started;
      batch.forEach((p, i) => {
        const kernel = observed[i] as KernelVerdict;
        tally.verdicts[kernel]++;
        if (p.src.includes(':')) tally.ipv6[kernel]++;
        if (p.local) tally.local[kernel]++;
        if (p.fromRouter === true) tally.fromRouter[kernel]++;
        if (expected[i] === kernel) tally.agreed++;
        else {
          tally.disagreements.push({
            ruleset: c.lines,
            tables: c.tables,
            packet: describePacket(p),
            engine: expected[i] as Verdict,
            kernel,
          });
        }
      });
      return batch.filter((_, i) => expected[i] === 'pass');
    };
    const delivered = await compare(c.packets.map((p) => ({ ...p })));
    tally.packets += c.packets.length;
    const replies = delivered.map(replyOf).filter((p): p is KernelPacket => p !== null);
    if (replies.length > 0) await compare(replies);
    tally.packets += replies.length;
    tally.replies += replies.length;
    return tally;
  };
  for (const c of cases) {
    let tally = await runCase(c, 150);
    // A packet still in flight when a busy machine ends the batch looks dropped: such a case runs once more with
    // a long settle, and only that run counts. A compiler bug disagrees both times.
    if (tally.disagreements.length > 0) {
      report.rerun++;
      tally = await runCase(c, 1000);
    }
    add(report, tally);
  }
  return report;
}
