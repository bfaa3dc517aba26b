/**
 * @module Truth tables for the evaluator at the pf level (rules written like `rules.debug`). Every row names the
 * source it encodes: FBSD-MAN = FreeBSD pf.conf(5) as quoted in docs/reference/pf-semantics.md §2, PFS-272 = pfSense 2.7.2
 * filter.inc (docs/reference/pf-semantics.md §1), ADR = docs/adr/<n>.
 */
import { describe, expect, it } from 'vitest';
import { createEvaluator, type EvaluationResult } from '../../src/policy/evaluate.ts';
import type { PfRule } from '../../src/policy/model.ts';
import { PacketError, packetFacts, parsePacketLine } from '../../src/policy/packet.ts';
import { pkt, r, ruleset } from './evaluate-helpers.ts';

type Row = [
  name: string,
  rules: PfRule[],
  packet: ReturnType<typeof pkt>,
  verdict: string,
  decidingRule: number | null,
];

/** Runs a packet against rules; the deciding rule is reported by index (null = default pass / none). */
function run(
  rules: PfRule[],
  packet: ReturnType<typeof pkt>,
  tables?: Record<string, string[]>,
): EvaluationResult {
  return createEvaluator(ruleset(rules, { tables: tables ?? {} })).evaluate(packet);
}

const lanNet = { LAN__NETWORK: ['192.168.1.0/24'], MIXED: ['192.168.1.0/24', '2001:db8:1::/64'] };

describe('rule order: last match wins unless quick (FBSD-MAN §2.1, docs/reference/pf-semantics.md §0.1)', () => {
  it.each<Row>([
    [
      'FBSD-MAN §2.1: the last matching rule decides',
      [r('block in all'), r('pass in proto tcp from any to any port 22')],
      pkt('lan', 'in', 'tcp', '192.168.1.5:5000', '10.0.0.9:22'),
      'pass',
      1,
    ],
    [
      'FBSD-MAN §2.1: a matching quick rule stops evaluation',
      [r('block in quick proto tcp from any to any port 22'), r('pass in proto tcp from any to any port 22')],
      pkt('lan', 'in', 'tcp', '192.168.1.5:5000', '10.0.0.9:22'),
      'block',
      0,
    ],
    [
      'FBSD-MAN §2.1: no rule matches → default pass',
      [r('block in proto udp from any to any port 53')],
      pkt('lan', 'in', 'tcp', '192.168.1.5:5000', '10.0.0.9:22'),
      'pass',
      null,
    ],
    [
      'docs/reference/pf-semantics.md §4.2 (verified with nft): port 9000 → r2',
      nftCase(),
      pkt('lan', 'in', 'udp', '192.168.1.5:5000', '10.0.0.9:9000'),
      'pass',
      1,
    ],
    [
      'docs/reference/pf-semantics.md §4.2: port 9001 → r4 (later non-quick block)',
      nftCase(),
      pkt('lan', 'in', 'udp', '192.168.1.5:5000', '10.0.0.9:9001'),
      'block',
      3,
    ],
    [
      'docs/reference/pf-semantics.md §4.2: port 9005 → r3 (quick block)',
      nftCase(),
      pkt('lan', 'in', 'udp', '192.168.1.5:5000', '10.0.0.9:9005'),
      'block',
      2,
    ],
    [
      'docs/reference/pf-semantics.md §4.2: port 9020 → r1 (only the catch-all)',
      nftCase(),
      pkt('lan', 'in', 'udp', '192.168.1.5:5000', '10.0.0.9:9020'),
      'block',
      0,
    ],
    [
      'PFS-272 §0.2: default deny is non-quick, a later quick tab rule passes',
      [...defaultDeny(), r('pass in quick on lan inet from <LAN__NETWORK> to any')],
      pkt('lan', 'in', 'tcp', '192.168.1.50:40000', '8.8.8.8:443', 'S'),
      'pass',
      4,
    ],
    [
      'PFS-272 §0.2: nothing on WAN passes → the default deny rule decides',
      [...defaultDeny(), r('pass in quick on lan inet from <LAN__NETWORK> to any')],
      pkt('wan', 'in', 'tcp', '8.8.8.8:5000', '198.51.100.2:22', 'S'),
      'block',
      0,
    ],
    [
      'PFS-272 §0.2: a non-quick floating pass after the default deny overrides it',
      [...defaultDeny(), r('pass in on wan proto tcp from any to any port 8443')],
      pkt('wan', 'in', 'tcp', '8.8.8.8:5000', '198.51.100.2:8443', 'S'),
      'pass',
      4,
    ],
    [
      'docs/reference/pf-semantics.md §1.7: non-quick antispoof block loses to the later quick LAN pass',
      [
        ...defaultDeny(),
        r('block in log inet from 192.168.1.1 to any', { kind: 'system', tab: 'system', descr: 'antispoof' }),
        r('pass in quick on lan inet from <LAN__NETWORK> to any'),
      ],
      pkt('lan', 'in', 'udp', '192.168.1.1:5000', '10.0.0.9:53'),
      'pass',
      5,
    ],
    [
      'docs/reference/pf-semantics.md §0.9: a spoofed source with no quick pass is decided by the antispoof rule',
      [
        ...defaultDeny(),
        r('block in log on !lan inet from 192.168.1.0/24 to any', {
          kind: 'system',
          tab: 'system',
          descr: 'antispoof',
        }),
      ],
      pkt('wan', 'in', 'udp', '192.168.1.7:5000', '198.51.100.2:53'),
      'block',
      4,
    ],
    [
      'FBSD-MAN §2.8: match rules never decide',
      [r('block in all'), r('match in proto tcp from any to any')],
      pkt('lan', 'in', 'tcp', '192.168.1.5:5000', '10.0.0.9:22'),
      'block',
      0,
    ],
    [
      'FBSD-MAN §2.8: a tag set by an earlier matching rule is seen by a later tagged rule',
      [r('block in all'), r('match in proto tcp from any to any tag WEB'), r('pass in quick tagged WEB')],
      pkt('lan', 'in', 'tcp', '192.168.1.5:5000', '10.0.0.9:80'),
      'pass',
      2,
    ],
  ])('%s', (_name, rules, packet, verdict, decidingRule) => {
    const result = run(rules, packet, lanNet);
    expect(result.verdict).toBe(verdict);
    expect(result.rule?.index ?? null).toBe(decidingRule);
    expect(result.decidedBy).toBe(decidingRule === null ? 'default' : 'rule');
  });
});

function nftCase(): PfRule[] {
  return [
    r('block in all'),
    r('pass in proto udp from any to any port 9000:9010'),
    r('block in quick proto udp from any to any port 9005'),
    r('block in proto udp from any to any port 9001'),
  ];
}

function defaultDeny(): PfRule[] {
  const system = (descr: string) => ({ kind: 'system' as const, tab: 'system', descr });
  return [
    r('block in log inet all label "Default deny rule IPv4"', system('Default deny rule IPv4')),
    r('block out log inet all label "Default deny rule IPv4"', system('Default deny rule IPv4')),
    r('block in log inet6 all label "Default deny rule IPv6"', system('Default deny rule IPv6')),
    r('block out log inet6 all label "Default deny rule IPv6"', system('Default deny rule IPv6')),
  ];
}

describe('matching conditions', () => {
  const lanRules = () => [
    ...defaultDeny(),
    r('pass in quick on lan inet proto tcp from <LAN__NETWORK> to any port 443'),
  ];
  it.each<Row>([
    [
      'FBSD-MAN §2.4: a stateful TCP pass has flags S/SA; a SYN matches',
      lanRules(),
      pkt('lan', 'in', 'tcp', '192.168.1.50:40000', '8.8.8.8:443', 'S'),
      'pass',
      4,
    ],
    [
      'FBSD-MAN §2.4: a bare ACK does not match flags S/SA → default deny',
      lanRules(),
      pkt('lan', 'in', 'tcp', '192.168.1.50:40000', '8.8.8.8:443', 'A'),
      'block',
      0,
    ],
    [
      'FBSD-MAN §2.4: SYN+ACK does not match flags S/SA',
      lanRules(),
      pkt('lan', 'in', 'tcp', '192.168.1.50:40000', '8.8.8.8:443', 'SA'),
      'block',
      0,
    ],
    [
      'PFS-272 §1.3: tcp + state none still carries flags S/SA (only SYN matches)',
      [...defaultDeny(), r('pass in quick on lan proto tcp from any to any port 22 flags S/SA no state')],
      pkt('lan', 'in', 'tcp', '192.168.1.50:40000', '10.0.0.9:22', 'A'),
      'block',
      0,
    ],
    [
      'PFS-272 §1.3: flags any matches mid-stream packets',
      [...defaultDeny(), r('pass in quick on lan proto tcp from any to any port 22 flags any')],
      pkt('lan', 'in', 'tcp', '192.168.1.50:40000', '10.0.0.9:22', 'A'),
      'pass',
      4,
    ],
    [
      'docs/reference/pf-semantics.md §1.5: a mixed-family alias in an inet rule matches only IPv4 — IPv6 half',
      [
        ...defaultDeny(),
        r('pass in quick on opt1 inet from <MIXED> to any'),
        r('pass in quick on opt1 inet6 from <MIXED> to any'),
      ],
      pkt('opt1', 'in', 'udp', '[2001:db8:1::5]:5000', '[2001:db8:9::1]:53'),
      'pass',
      5,
    ],
    [
      'PFS-272 §0.6: inet46 is two rules — the IPv4 half decides IPv4',
      [
        ...defaultDeny(),
        r('pass in quick on opt1 inet from <MIXED> to any'),
        r('pass in quick on opt1 inet6 from <MIXED> to any'),
      ],
      pkt('opt1', 'in', 'udp', '192.168.1.5:5000', '10.9.9.9:53'),
      'pass',
      4,
    ],
    [
      'docs/reference/pf-semantics.md §1.5: an address of the wrong family in the alias does not match',
      [...defaultDeny(), r('pass in quick on opt1 inet6 from <MIXED> to any')],
      pkt('opt1', 'in', 'udp', '[2001:db8:2::5]:5000', '[2001:db8:9::1]:53'),
      'block',
      2,
    ],
    [
      'PFS-272 §1.3: <not/> inverts the address (! <LAN__NETWORK>)',
      [
        ...defaultDeny(),
        r('block in quick on lan from !<LAN__NETWORK> to any'),
        r('pass in quick on lan from any to any'),
      ],
      pkt('lan', 'in', 'udp', '10.5.5.5:5000', '8.8.8.8:53'),
      'block',
      4,
    ],
    [
      'PFS-272 §1.3: the inverted rule does not match an address inside the set',
      [
        ...defaultDeny(),
        r('block in quick on lan from !<LAN__NETWORK> to any'),
        r('pass in quick on lan from any to any'),
      ],
      pkt('lan', 'in', 'udp', '192.168.1.9:5000', '8.8.8.8:53'),
      'pass',
      5,
    ],
    [
      'FBSD-MAN §2.3: (self) is every address of the firewall, also another interface’s',
      [...defaultDeny(), r('pass in quick on wan proto tcp from any to (self) port 443')],
      pkt('wan', 'in', 'tcp', '8.8.8.8:5000', '192.168.1.1:443', 'S'),
      'pass',
      4,
    ],
    [
      'FBSD-MAN §2.3: (self) does not match a host behind the firewall',
      [...defaultDeny(), r('pass in quick on wan proto tcp from any to (self) port 443')],
      pkt('wan', 'in', 'tcp', '8.8.8.8:5000', '192.168.1.7:443', 'S'),
      'block',
      0,
    ],
    [
      'FBSD-MAN §2.2: on ! lan excludes lan',
      [r('block in quick on !lan all'), r('pass in quick all')],
      pkt('lan', 'in', 'udp', '192.168.1.5:5000', '8.8.8.8:53'),
      'pass',
      1,
    ],
    [
      'FBSD-MAN §2.2: out rules do not see inbound packets',
      [r('block out quick all'), r('pass in quick all')],
      pkt('lan', 'in', 'udp', '192.168.1.5:5000', '8.8.8.8:53'),
      'pass',
      1,
    ],
    [
      'FBSD-MAN §2.2: a floating rule with several interfaces applies to each',
      [r('block in quick on wan,opt1 all'), r('pass in quick all')],
      pkt('opt1', 'in', 'udp', '10.0.0.5:5000', '8.8.8.8:53'),
      'block',
      0,
    ],
    [
      'PFS-272 §1.3: ICMP type list',
      [...defaultDeny(), r('pass in quick on wan inet proto icmp from any to any icmp-type echoreq,unreach')],
      pkt('wan', 'in', 'icmp', '8.8.8.8', '198.51.100.2', 'echoreq'),
      'pass',
      4,
    ],
    [
      'PFS-272 §1.3: ICMP type outside the list',
      [...defaultDeny(), r('pass in quick on wan inet proto icmp from any to any icmp-type echoreq,unreach')],
      pkt('wan', 'in', 'icmp', '8.8.8.8', '198.51.100.2', 'timex'),
      'block',
      0,
    ],
    [
      'PFS-272 §1.3: port ranges are inclusive (1000:2000)',
      [...defaultDeny(), r('pass in quick on lan proto tcp from any to any port 1000:2000')],
      pkt('lan', 'in', 'tcp', '192.168.1.5:5000', '10.0.0.9:2000'),
      'pass',
      4,
    ],
    [
      'PFS-272 §1.2: block traffic to port 0',
      [r('block log quick inet proto tcp,udp from any to any port 0'), r('pass in quick all')],
      pkt('lan', 'in', 'udp', '192.168.1.5:5000', '10.0.0.9:0'),
      'block',
      0,
    ],
    [
      'pf: a rule with proto other than the packet’s does not match (esp)',
      [r('pass in quick proto esp all'), r('block in quick all')],
      pkt('wan', 'in', 'gre', '8.8.8.8', '198.51.100.2'),
      'block',
      1,
    ],
  ])('%s', (_name, rules, packet, verdict, decidingRule) => {
    const result = run(rules, packet, lanNet);
    expect(result.verdict).toBe(verdict);
    expect(result.rule?.index ?? null).toBe(decidingRule);
  });
});

describe('reject = block return (docs/reference/pf-semantics.md §2.6, PFCTL pf_return)', () => {
  const rules = () => [r('reject in quick on wan all')];
  it.each([
    ['TCP gets RST', pkt('wan', 'in', 'tcp', '8.8.8.8:5000', '198.51.100.2:22', 'S'), 'tcp-rst'],
    [
      'UDP gets ICMP port unreachable',
      pkt('wan', 'in', 'udp', '8.8.8.8:5000', '198.51.100.2:53'),
      'icmp-unreach-port',
    ],
    [
      'UDP over IPv6 gets ICMPv6 unreachable (no port)',
      pkt('wan', 'in', 'udp', '[2001:db8::5]:5000', '[2001:db8::1]:53'),
      'icmp-unreach-port',
    ],
    [
      'other protocols get ICMP unreachable',
      pkt('wan', 'in', 'esp', '8.8.8.8', '198.51.100.2'),
      'icmp-unreach-port',
    ],
    ['ICMP gets nothing', pkt('wan', 'in', 'icmp', '8.8.8.8', '198.51.100.2', 'echoreq'), null],
    ['ICMPv6 gets nothing', pkt('wan', 'in', 'icmp6', '2001:db8::5', '2001:db8::1', 'echoreq'), null],
    [
      'a TCP RST is not answered with a RST',
      pkt('wan', 'in', 'tcp', '8.8.8.8:5000', '198.51.100.2:22', 'R'),
      null,
    ],
  ])('%s', (_name, packet, reply) => {
    const result = run(rules(), packet);
    // The verdict names the effect (docs/adr/0151-verdict-names-the-effect.md): a reject that sends nothing is a block; the rule stays reject.
    expect(result.verdict).toBe(reply === null ? 'block' : 'reject');
    expect(result.rule?.action).toBe('reject');
    expect(result.reply).toBe(reply);
  });

  it('a silent reject explains that the reject rule sends nothing and the packet is dropped', () => {
    const result = run(rules(), pkt('wan', 'in', 'icmp', '8.8.8.8', '198.51.100.2', 'echoreq'));
    expect(result.explanation).toMatch(/^BLOCK: .*The rule is reject, but pf sends nothing back/);
    expect(result.trace.find((t) => t.result === 'match')?.action).toBe('reject');
  });

  it('block (drop) sends nothing', () => {
    expect(
      run([r('block in quick all')], pkt('wan', 'in', 'tcp', '8.8.8.8:5000', '198.51.100.2:22')).reply,
    ).toBeNull();
  });
});

describe('state table (FBSD-MAN §2.4, docs/reference/pf-semantics.md §0.4; docs/adr/0051)', () => {
  const rules = () => [...defaultDeny(), r('pass in quick on lan inet from <LAN__NETWORK> to any')];
  const session = (statePolicy: 'floating' | 'if-bound' = 'floating') =>
    createEvaluator(ruleset(rules(), { tables: lanNet, statePolicy }));

  it('a reply leaving LAN passes by the state the request created', () => {
    const e = session();
    const syn = e.evaluate(pkt('lan', 'in', 'tcp', '192.168.1.50:40000', '8.8.8.8:443', 'S'));
    expect(syn).toMatchObject({ verdict: 'pass', decidedBy: 'rule', stateCreated: true });
    const reply = e.evaluate(pkt('lan', 'out', 'tcp', '8.8.8.8:443', '192.168.1.50:40000', 'SA'));
    expect(reply).toMatchObject({ verdict: 'pass', decidedBy: 'state', stateCreated: false });
    expect(reply.rule?.index).toBe(4);
    expect(reply.trace).toEqual([]);
    // Later packets of the flow in the original direction pass by state too, whatever their flags.
    expect(e.evaluate(pkt('lan', 'in', 'tcp', '192.168.1.50:40000', '8.8.8.8:443', 'A')).decidedBy).toBe(
      'state',
    );
  });

  it('without the state the same reply is blocked by the default deny (out on LAN)', () => {
    const reply = session().evaluate(pkt('lan', 'out', 'tcp', '8.8.8.8:443', '192.168.1.50:40000', 'SA'));
    expect(reply).toMatchObject({ verdict: 'block', decidedBy: 'rule' });
    expect(reply.rule?.index).toBe(1);
  });

  it('the key folds direction: an inbound packet from the far end does not match an inbound state', () => {
    const e = session();
    e.evaluate(pkt('lan', 'in', 'tcp', '192.168.1.50:40000', '8.8.8.8:443', 'S'));
    // The reply arriving *in* on WAN belongs to the WAN-out leg's state, which this session never created.
    const onWan = e.evaluate(pkt('wan', 'in', 'tcp', '8.8.8.8:443', '192.168.1.50:40000', 'SA'));
    expect(onWan).toMatchObject({ verdict: 'block', decidedBy: 'rule' });
  });

  it('floating states (pfSense 2.7.2 default) match on another interface; if-bound ones do not', () => {
    const floating = session('floating');
    floating.evaluate(pkt('lan', 'in', 'tcp', '192.168.1.50:40000', '8.8.8.8:443', 'S'));
    expect(
      floating.evaluate(pkt('wan', 'out', 'tcp', '8.8.8.8:443', '192.168.1.50:40000', 'SA')).decidedBy,
    ).toBe('state');
    const bound = session('if-bound');
    bound.evaluate(pkt('lan', 'in', 'tcp', '192.168.1.50:40000', '8.8.8.8:443', 'S'));
    expect(
      bound.evaluate(pkt('wan', 'out', 'tcp', '8.8.8.8:443', '192.168.1.50:40000', 'SA')).decidedBy,
    ).toBe('rule');
    expect(
      bound.evaluate(pkt('lan', 'out', 'tcp', '8.8.8.8:443', '192.168.1.50:40000', 'SA')).decidedBy,
    ).toBe('state');
  });

  it('UDP states match on ports too', () => {
    const e = session();
    e.evaluate(pkt('lan', 'in', 'udp', '192.168.1.50:5353', '8.8.8.8:53'));
    expect(e.evaluate(pkt('lan', 'out', 'udp', '8.8.8.8:53', '192.168.1.50:5353')).decidedBy).toBe('state');
    expect(e.evaluate(pkt('lan', 'out', 'udp', '8.8.8.8:53', '192.168.1.50:5354')).decidedBy).toBe('rule');
  });

  it('an ICMP echo reply matches the request’s state; a request the other way does not', () => {
    const e = session();
    e.evaluate(pkt('lan', 'in', 'icmp', '192.168.1.50', '8.8.8.8', 'echoreq'));
    expect(e.evaluate(pkt('lan', 'out', 'icmp', '8.8.8.8', '192.168.1.50', 'echorep')).decidedBy).toBe(
      'state',
    );
    expect(e.evaluate(pkt('lan', 'out', 'icmp', '8.8.8.8', '192.168.1.50', 'echoreq')).decidedBy).toBe(
      'rule',
    );
  });

  it('no state: a `no state` pass creates none, so the reply is judged by the rules', () => {
    const e = createEvaluator(
      ruleset([...defaultDeny(), r('pass in quick on lan proto udp from any to any no state')]),
    );
    expect(e.evaluate(pkt('lan', 'in', 'udp', '192.168.1.50:5353', '8.8.8.8:53')).stateCreated).toBe(false);
    expect(e.evaluate(pkt('lan', 'out', 'udp', '8.8.8.8:53', '192.168.1.50:5353')).verdict).toBe('block');
  });

  it('a block creates no state', () => {
    const e = session();
    expect(e.evaluate(pkt('wan', 'in', 'udp', '8.8.8.8:53', '198.51.100.2:5353')).stateCreated).toBe(false);
    expect(e.states.size).toBe(0);
  });
});

describe('unknown: dynamic aliases and schedules (docs/adr/0053)', () => {
  const tables = { dynBlock: ['203.0.113.0/24'], LAN__NETWORK: ['192.168.1.0/24'] };
  const evaluate = (rules: PfRule[], packet: ReturnType<typeof pkt>) =>
    createEvaluator(ruleset(rules, { tables })).evaluate(packet);

  it('a quick block on a dynamic alias before a pass makes the verdict unknown', () => {
    const result = evaluate(
      [
        ...defaultDeny(),
        r('block in quick on lan from any to <dynBlock>'),
        r('pass in quick on lan from any to any'),
      ],
      pkt('lan', 'in', 'udp', '192.168.1.5:5000', '8.8.8.8:53'),
    );
    expect(result).toMatchObject({ verdict: 'unknown', rule: null, stateCreated: false, reply: null });
    expect(result.possibilities?.map((p) => [p.verdict, p.rule?.index])).toEqual(
      expect.arrayContaining([
        ['block', 4],
        ['pass', 5],
      ]),
    );
    expect(result.explanation).toContain('<dynBlock>');
  });

  it('a known entry of a dynamic alias is a definite match', () => {
    const result = evaluate(
      [
        ...defaultDeny(),
        r('block in quick on lan from any to <dynBlock>'),
        r('pass in quick on lan from any to any'),
      ],
      pkt('lan', 'in', 'udp', '192.168.1.5:5000', '203.0.113.9:53'),
    );
    expect(result).toMatchObject({ verdict: 'block', decidedBy: 'rule' });
    expect(result.rule?.index).toBe(4);
  });

  it('a dynamic rule after a definite quick match cannot change the outcome', () => {
    const result = evaluate(
      [
        ...defaultDeny(),
        r('pass in quick on lan from any to any'),
        r('block in quick on lan from any to <dynBlock>'),
      ],
      pkt('lan', 'in', 'udp', '192.168.1.5:5000', '8.8.8.8:53'),
    );
    expect(result).toMatchObject({ verdict: 'pass', decidedBy: 'rule', stateCreated: true });
    expect(result.rule?.index).toBe(4);
    expect(result.possibilities).toBeUndefined();
  });

  it('same verdict either way: the verdict is known; the rule shown is the one under the known contents', () => {
    const result = evaluate(
      [...defaultDeny(), r('block in quick on lan from any to <dynBlock>')],
      pkt('lan', 'in', 'udp', '192.168.1.5:5000', '8.8.8.8:53'),
    );
    expect(result).toMatchObject({ verdict: 'block', decidedBy: 'rule', ruleCertain: false });
    expect(result.rule?.index).toBe(0);
    expect(result.possibilities?.map((p) => p.rule?.index).sort()).toEqual([0, 4]);
    // Issue 12 item 3 (docs/adr/0151-verdict-names-the-effect.md): one line saying the verdict holds everywhere, not the list of possibilities.
    expect(result.explanation).toContain('whatever the run-time contents: all 2 possibilities end in block');
    expect(result.explanation).not.toContain(' if ');
    expect(result.explanation.split('\n')).toHaveLength(1);
  });

  it('an address in the set\'s excludes is definitely not a member (AddressSet.excludes)', () => {
    const result = createEvaluator(ruleset(
      [...defaultDeny(), r('block in quick on lan from any to <dynBlock>'), r('pass in quick on lan from any to any')],
      { tables, excludes: { dynBlock: ['8.8.8.0/24'] } },
    )).evaluate(pkt('lan', 'in', 'udp', '192.168.1.5:5000', '8.8.8.8:53'));
    expect(result).toMatchObject({ verdict: 'pass', decidedBy: 'rule' });
    expect(result.rule?.index).toBe(5);
    expect(result.possibilities).toBeUndefined();
  });

  it('a negated dynamic alias is unknown outside its known entries', () => {
    const result = evaluate(
      [r('block in quick on lan from any to !<dynBlock>'), r('pass in quick all')],
      pkt('lan', 'in', 'udp', '192.168.1.5:5000', '8.8.8.8:53'),
    );
    expect(result.verdict).toBe('unknown');
  });

  it('a scheduled rule makes the verdict time-dependent', () => {
    const result = evaluate(
      [...defaultDeny(), r('pass in quick on lan from any to any schedule workhours')],
      pkt('lan', 'in', 'udp', '192.168.1.5:5000', '8.8.8.8:53'),
    );
    expect(result.verdict).toBe('unknown');
    expect(result.explanation).toContain('workhours');
  });
});

describe('results, trace and errors', () => {
  it('reports the deciding rule as the GUI shows it, a trace and an explanation', () => {
    const rules = [
      ...defaultDeny(),
      r('pass in quick on lan inet proto tcp from <LAN__NETWORK> to any port 443 label "Web out"', {
        tab: 'lan',
        position: 3,
        descr: 'Web out',
      }),
    ];
    rules[4] = {
      ...(rules[4] as PfRule),
      tracker: '1700000001',
      ridentifier: '1700000001',
      label: 'USER_RULE: Web out',
    };
    const result = createEvaluator(ruleset(rules, { tables: lanNet })).evaluate(
      parsePacketLine('lan in tcp 192.168.1.50:40000 -> 8.8.8.8:443 flags S'),
    );
    expect(result.rule).toEqual({
      kind: 'user',
      tab: 'lan',
      position: 3,
      tracker: '1700000001',
      descr: 'Web out',
      label: 'USER_RULE: Web out',
      ridentifier: '1700000001',
      index: 4,
      action: 'pass',
    });
    // Considered: the IPv4 inbound default deny (0) and the pass (4); the out and inet6 deny rules are skipped.
    expect(result.trace.map((t) => [t.index, t.result])).toEqual([
      [0, 'match'],
      [4, 'match'],
    ]);
    expect(result.skippedRules).toBe(3);
    expect(result.explanation).toContain('user rule 3 on the lan tab "Web out" (tracker 1700000001)');
    expect(result.explanation).toContain('quick');
  });

  it('the trace says why a rule did not match', () => {
    const result = run(
      [r('pass in quick on lan proto tcp from any to any port 22'), r('block in all')],
      pkt('lan', 'in', 'tcp', '192.168.1.5:5000', '10.0.0.9:80'),
    );
    expect(result.trace[0]).toMatchObject({ result: 'no-match', reason: 'destination port 80 is not 22' });
    expect(result.trace[1]).toMatchObject({ result: 'match' });
  });

  it('accepts the interface description or device name', () => {
    const e = createEvaluator(ruleset([r('block in quick on lan all')]));
    expect(e.evaluate(pkt('LAN', 'in', 'udp', '192.168.1.5:1', '8.8.8.8:53')).verdict).toBe('block');
    expect(e.evaluate(pkt('em1', 'in', 'udp', '192.168.1.5:1', '8.8.8.8:53')).verdict).toBe('block');
  });

  it('an unknown interface is an error naming the known ones', () => {
    const e = createEvaluator(ruleset([]));
    expect(() => e.evaluate(pkt('opt9', 'in', 'udp', '1.1.1.1:1', '8.8.8.8:53'))).toThrowError(
      new PacketError('interface', 'unknown interface "opt9" (known: wan, lan, opt1)'),
    );
  });

  it('verdictOfFacts() answers pre-validated packets like verdict()', () => {
    const set = ruleset([...defaultDeny(), r('pass in quick on lan from any to any')]);
    const byFacts = createEvaluator(set);
    const byPacket = createEvaluator(set);
    for (const packet of [
      pkt('lan', 'in', 'tcp', '192.168.1.5:1000', '8.8.8.8:443', 'S'),
      pkt('lan', 'out', 'tcp', '8.8.8.8:443', '192.168.1.5:1000', 'SA'),
      pkt('wan', 'in', 'udp', '8.8.8.8:53', '198.51.100.2:5353'),
    ]) {
      expect(byFacts.verdictOfFacts(packetFacts(packet))).toBe(byPacket.verdict(packet));
    }
    expect(byFacts.states.size).toBe(1);
  });

  it('verdict() agrees with evaluate() and keeps state', () => {
    const e = createEvaluator(ruleset([...defaultDeny(), r('pass in quick on lan from any to any')]));
    expect(e.verdict(pkt('lan', 'in', 'tcp', '192.168.1.5:1000', '8.8.8.8:443', 'S'))).toBe('pass');
    expect(e.verdict(pkt('lan', 'out', 'tcp', '8.8.8.8:443', '192.168.1.5:1000', 'SA'))).toBe('pass');
    expect(e.verdict(pkt('lan', 'out', 'tcp', '8.8.8.8:443', '192.168.1.5:1001', 'SA'))).toBe('block');
  });

  it.each(['floating', 'if-bound'] as const)(
    'states created by verdict() keep their own copy of the packet (%s, both families)',
    (statePolicy) => {
      // verdict() validates every packet into one reused object; a state must not change with the next packet.
      const e = createEvaluator(
        ruleset([...defaultDeny(), r('pass in quick on lan from any to any')], { statePolicy }),
      );
      const v6 = pkt('lan', 'in', 'udp', '[2001:db8:1::5]:1000', '[2001:db8:9::1]:53');
      const v4 = pkt('lan', 'in', 'udp', '192.168.1.5:1000', '8.8.8.8:53');
      expect(e.verdict(v6)).toBe('pass');
      expect(e.verdict(v4)).toBe('pass');
      expect(e.verdict(pkt('lan', 'in', 'udp', '[2001:db8:1::7]:2000', '[2001:db8:9::2]:123'))).toBe('pass');
      expect(e.states.lookup(packetFacts(v6))?.facts).toEqual(packetFacts(v6));
      expect(e.states.lookup(packetFacts(v4))?.facts).toEqual(packetFacts(v4));
      const reply6 = pkt('lan', 'out', 'udp', '[2001:db8:9::1]:53', '[2001:db8:1::5]:1000');
      expect(e.evaluate(reply6)).toMatchObject({
        decidedBy: 'state',
        state: { createdBy: 'lan in udp [2001:db8:1::5]:1000 -> [2001:db8:9::1]:53' },
      });
    },
  );
});

describe('per-family dynamic sets (docs/adr/0053)', () => {
  const tables = { dyn6Lan: ['192.168.1.1/32', '2001:db8:1::1/128'] };
  const rules = () => [...defaultDeny(), r('pass in quick on lan proto tcp from any to <dyn6Lan> port 443')];

  it('an IPv4 question against a set dynamic only for IPv6 is definite', () => {
    const result = createEvaluator(ruleset(rules(), { tables })).evaluate(
      pkt('lan', 'in', 'tcp', '192.168.1.5:1000', '8.8.8.8:443'),
    );
    expect(result).toMatchObject({ verdict: 'block', decidedBy: 'rule' });
    expect(result.possibilities).toBeUndefined();
  });

  it('an IPv6 question outside its known entries depends on the run-time contents', () => {
    const result = createEvaluator(ruleset(rules(), { tables })).evaluate(
      pkt('lan', 'in', 'tcp', '[2001:db8:1::5]:1000', '[2001:db8:9::1]:443'),
    );
    expect(result.verdict).toBe('unknown');
  });
});
