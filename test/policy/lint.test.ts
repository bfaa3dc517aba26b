/**
 * @module Truth tables for the policy lint. Rules are written like `rules.debug` (test/policy/evaluate-helpers.ts);
 * every row names its source: FBSD-MAN = FreeBSD pf.conf(5) as quoted in docs/reference/pf-semantics.md §2, PFS-272 = pfSense
 * 2.7.2 filter.inc (docs/reference/pf-semantics.md §1), ADR = docs/adr/<n>. Expected findings are `CODE@ruleIndex` for the rules
 * a finding names (its first pf rule).
 */
import { describe, expect, it } from 'vitest';
import { generateRuleset } from '../../src/policy/generate/index.ts';
import { LINT_CATALOG, lintRuleset } from '../../src/policy/lint.ts';
import type { PfRule } from '../../src/policy/model.ts';
import { DMZ, iface, LAN, r, ruleset, WAN } from './evaluate-helpers.ts';
import { baseConfig, userRule } from './fixtures/builders.ts';

type Row = [name: string, rules: PfRule[], expected: string[], tables?: Record<string, string[]>];

const SYSTEM = { kind: 'system', tab: 'system' } as const;
const OPENVPN = iface('opt2', 'ovpns1', ['10.8.0.1/32'], ['10.8.0.0/24']);

function lint(rules: PfRule[], tables: Record<string, string[]> = {}) {
  return lintRuleset(ruleset(rules, { tables, interfaces: [WAN, LAN, DMZ, OPENVPN] }));
}

function codes(rules: PfRule[], tables?: Record<string, string[]>): string[] {
  return lint(rules, tables).map((f) => `${f.code}@${f.rule.index}`);
}

describe('shadowed and redundant rules (exact coverage per interface, direction, family)', () => {
  it.each<Row>([
    [
      'FBSD-MAN §2.1: an earlier quick pass covering a later quick block → the block is shadowed',
      [
        r('pass in quick on lan inet from 192.168.1.0/24 to any'),
        r('block in quick on lan inet proto tcp from 192.168.1.0/25 to any port 25 flags S/SA'),
      ],
      ['LINT001@1'],
    ],
    [
      'FBSD-MAN §2.1: same action → redundant, removing it changes nothing',
      [
        r('pass in quick on lan inet from 192.168.1.0/24 to any'),
        r('pass in quick on lan inet proto tcp from 192.168.1.7 to 10.0.0.0/8 port 443'),
      ],
      ['LINT002@1'],
    ],
    [
      'false-positive guard (ADR 0080): partial address overlap is not shadowing',
      [
        r('pass in quick on lan inet from 192.168.1.0/25 to any flags any'),
        r('block in quick on lan inet from 192.168.1.0/24 to any'),
      ],
      [],
    ],
    [
      'false-positive guard (ADR 0080): partial port-range overlap is not shadowing',
      [
        r('pass in quick on lan proto tcp from any to any port 1000:2000 flags any'),
        r('block in quick on lan proto tcp from any to any port 1500:2500'),
      ],
      [],
    ],
    [
      'ADR 0080: only a single covering rule is claimed; two halves together are not',
      [
        r('pass in quick on lan inet from 192.168.1.0/25 to any flags any'),
        r('pass in quick on lan inet from 192.168.1.128/25 to any flags any'),
        r('block in quick on lan inet from 192.168.1.0/24 to any'),
      ],
      [],
    ],
    [
      'false-positive guard (FBSD-MAN §2.2 "on"): a rule on another interface is not shadowing',
      [r('pass in quick on lan all flags any'), r('block in quick on opt1 all')],
      [],
    ],
    [
      'FBSD-MAN §2.2: an "in" rule does not cover an "out" rule',
      [r('pass in quick all flags any'), r('block out quick all')],
      [],
    ],
    [
      'FBSD-MAN §2.1 quick vs non-quick: a later quick rule decides every packet of an earlier non-quick rule',
      [
        r('block in on lan proto tcp from any to any port 22'),
        r('pass in quick on lan proto tcp from any to any port 22 flags any'),
      ],
      ['LINT001@0'],
    ],
    [
      'FBSD-MAN §2.1 last match: a later non-quick rule covering an earlier non-quick rule shadows it',
      [r('block in on lan proto tcp from any to any port 22'), r('pass in on lan all flags any')],
      ['LINT001@0'],
    ],
    [
      'false-positive guard (FBSD-MAN §2.1): an earlier non-quick rule never shadows a later one',
      [r('pass in on lan all flags any'), r('block in on lan proto tcp from any to any port 22')],
      [],
    ],
    [
      'docs/reference/pf-semantics.md §2.4: implicit flags S/SA on a stateful pass does not cover non-SYN TCP of a later rule',
      [r('block in on lan proto tcp from any to any port 22'), r('pass in on lan all')],
      [],
    ],
    [
      'FBSD-MAN §2.1: a match rule never decides, so it never covers',
      [r('match in quick on lan all'), r('block in quick on lan all')],
      [],
    ],
    [
      'docs/reference/pf-semantics.md §1.3: an inet rule does not cover an inet6 rule',
      [r('pass in quick on opt1 inet all flags any'), r('block in quick on opt1 inet6 all')],
      [],
    ],
    [
      'ADR 0080 per family: covered in IPv4 only → partially shadowed, not shadowed',
      [r('pass in quick on opt1 inet all flags any'), r('block in quick on opt1 all')],
      ['LINT004@1'],
    ],
    [
      'docs/reference/pf-semantics.md §1.3: a tcp rule does not cover a udp rule',
      [
        r('pass in quick on lan proto tcp from any to any port 53 flags any'),
        r('block in quick on lan proto udp from any to any port 53'),
      ],
      [],
    ],
    [
      'docs/reference/pf-semantics.md §1.3 tcp/udp: a { tcp udp } rule covers a udp rule',
      [
        r('pass in quick on lan proto tcp,udp from any to any port 53 flags any'),
        r('block in quick on lan proto udp from any to any port 53'),
      ],
      ['LINT001@1'],
    ],
    [
      'docs/reference/pf-semantics.md §1.3 icmp-type: an echoreq-only pass does not cover all ICMP',
      [
        r('pass in quick on lan inet proto icmp from any to any icmp-type echoreq'),
        r('block in quick on lan inet proto icmp from any to any'),
      ],
      [],
    ],
    [
      'docs/reference/pf-semantics.md §2.3: ! 10.0.0.0/8 covers 192.168.0.0/16',
      [
        r('pass in quick on lan inet from !10.0.0.0/8 to any flags any'),
        r('block in quick on lan inet from 192.168.0.0/16 to any'),
      ],
      ['LINT001@1'],
    ],
    [
      'docs/reference/pf-semantics.md §2.3: ! 192.168.0.0/16 does not cover 192.168.1.0/24',
      [
        r('pass in quick on lan inet from !192.168.0.0/16 to any flags any'),
        r('block in quick on lan inet from 192.168.1.0/24 to any'),
      ],
      [],
    ],
    [
      'docs/reference/pf-semantics.md §1.5: a mixed-family alias covers a literal of each family',
      [
        r('pass in quick on opt1 from <MIXED> to any flags any'),
        r('block in quick on opt1 inet6 from 2001:db8:1::5 to any'),
      ],
      ['LINT001@1'],
      { MIXED: ['10.0.0.0/24', '2001:db8:1::/64'] },
    ],
    [
      'ADR 0081: a dynamic alias on the covered rule → cannot tell, never "shadowed"',
      [
        r('pass in quick on lan inet from 192.168.0.0/16 to any flags any'),
        r('block in quick on lan inet from <dynBad> to any'),
      ],
      ['LINT003@1'],
      { dynBad: ['192.168.1.0/24'] },
    ],
    [
      'ADR 0081: a dynamic alias on the covering rule with no known entry → no claim at all',
      [
        r('pass in quick on lan inet from <dynGood> to any flags any'),
        r('block in quick on lan inet from 192.168.1.5 to any'),
      ],
      [],
      { dynGood: [] },
    ],
    [
      "ADR 0081 / model.ts AddressSet: a dynamic alias's known entries are certainly in it",
      [
        r('pass in quick on lan inet from <dynGood> to any flags any'),
        r('block in quick on lan inet from 192.168.1.5 to any'),
      ],
      ['LINT001@1'],
      { dynGood: ['192.168.1.0/24'] },
    ],
    [
      'ADR 0081: the same dynamic table on both rules is the same set',
      [
        r('pass in quick on lan proto tcp from <dynList> to any port 443 flags any'),
        r('block in quick on lan proto tcp from <dynList> to any port 443'),
      ],
      ['LINT001@1'],
      { dynList: [] },
    ],
    [
      'PFS-272 <sched>: a scheduled covering rule is loaded only while active → cannot tell',
      [
        r('pass in quick on lan all flags any schedule work'),
        r('block in quick on lan proto tcp from any to any port 25'),
      ],
      ['LINT003@1'],
    ],
    [
      'docs/reference/pf-semantics.md §0.7, §1.4: a VPN-tab (group) pass shadows the assigned VPN interface block',
      [
        r('pass in quick on opt2 all flags any', { tab: 'openvpn' }),
        r('block in quick on opt2 proto tcp from any to any port 3389', { tab: 'opt2' }),
      ],
      ['LINT001@1'],
    ],
    [
      'ADR 0080: system rules shadowed by system rules are not reported',
      [r('block in quick inet from 169.254.0.0/16 to any', SYSTEM), r('block in inet all', SYSTEM)],
      [],
    ],
    [
      'docs/reference/pf-semantics.md §1.5: a user rule on a private source behind block-private never decides',
      [
        r('block in quick on wan inet from 10.0.0.0/8 to any', SYSTEM),
        r('pass in quick on wan inet proto tcp from 10.1.2.3 to any port 22'),
      ],
      ['LINT001@1'],
    ],
    [
      'docs/reference/pf-semantics.md §1.5: an inet rule on an IPv6-only alias can match nothing',
      [r('pass in quick on lan inet from <V6ONLY> to any')],
      ['LINT005@0'],
      { V6ONLY: ['2001:db8::/32'] },
    ],
  ])('%s', (_name, rules, expected, tables) => {
    expect(codes(rules, tables)).toEqual(expected);
  });

  it('names the covering rule and explains why (ADR 0080)', () => {
    const [f] = lint([
      r('pass in quick on lan inet from 192.168.1.0/24 to any', { descr: 'Default allow LAN' }),
      r('block in quick on lan inet proto tcp from 192.168.1.0/25 to any port 25 flags S/SA'),
    ]);
    expect(f?.related.map((x) => x.descr)).toEqual(['Default allow LAN']);
    expect(f?.why).toContain('an earlier quick rule');
    expect(f?.why).toContain('pass instead of block');
  });

  it('treats the inet46 halves of one GUI rule as one finding (PFS-272 l.4276)', () => {
    const half = (af: string) =>
      r(`block in quick on opt1 ${af} proto tcp from any to any port 25`, {
        tab: 'opt1',
        position: 9,
        splitFamily: af as 'inet',
      });
    const findings = lint([r('pass in quick on opt1 all flags any'), half('inet'), half('inet6')]);
    expect(findings.map((f) => [f.code, f.ruleIndexes])).toEqual([['LINT001', [1, 2]]]);
  });
});

describe('non-quick floating rules overriding defaults (docs/reference/pf-semantics.md §0.2, §0.8)', () => {
  it.each<Row>([
    [
      'docs/reference/pf-semantics.md §0.2: a non-quick floating pass after the non-quick default deny overrides it',
      [r('block in log inet all', SYSTEM), r('pass in on wan inet proto tcp from any to any port 443')],
      ['LINT011@1'],
    ],
    [
      'docs/reference/pf-semantics.md §0.2: a quick floating pass is not flagged (it decides at once, by design)',
      [r('block in log inet all', SYSTEM), r('pass in quick on wan inet proto tcp from any to any port 443')],
      [],
    ],
    [
      'docs/reference/pf-semantics.md §0.2: a non-quick floating block does not override the default deny (same action)',
      [r('block in log inet all', SYSTEM), r('block in on wan inet proto tcp from any to any port 443')],
      [],
    ],
    [
      'docs/reference/pf-semantics.md §0.8: a non-quick floating pass out changes nothing: "let out anything" already overrides the outbound default deny',
      [
        r('block out log inet all', SYSTEM),
        r('pass out inet all keep state', SYSTEM),
        r('pass out on wan inet proto udp from any to any port 123'),
      ],
      [],
    ],
    [
      'docs/reference/pf-semantics.md §0.8: a non-quick floating block out overrides "let out anything"',
      [
        r('pass out inet all keep state', SYSTEM),
        r('block out on wan inet proto udp from any to any port 53'),
      ],
      ['LINT011@1'],
    ],
    [
      'docs/reference/pf-semantics.md §0.2: a non-quick pass over everything leaves the default deny dead (LINT001) and overrides it',
      [r('block in log inet all', SYSTEM), r('pass in inet all flags any')],
      ['LINT001@0', 'LINT011@1'],
    ],
    [
      'ADR 0083: a non-quick floating rule that never decides overrides nothing',
      [
        r('block in log inet all', SYSTEM),
        r('pass in on wan inet proto tcp from any to any port 443'),
        r('block in quick on wan inet proto tcp from any to any port 443 flags S/SA'),
      ],
      ['LINT001@1'],
    ],
  ])('%s', (_name, rules, expected) => {
    expect(codes(rules)).toEqual(expected);
  });
});

describe('reject on WAN (docs/reference/pf-semantics.md §2.6)', () => {
  it.each<Row>([
    [
      'docs/reference/pf-semantics.md §2.6: reject inbound on the WAN (has a gateway) answers scanners',
      [r('reject in quick on wan proto tcp from any to any port 22 flags S/SA')],
      ['LINT010@0'],
    ],
    [
      'docs/reference/pf-semantics.md §2.6: reject on LAN is fine',
      [r('reject in quick on lan proto tcp from any to any port 22 flags S/SA')],
      [],
    ],
    [
      'docs/reference/pf-semantics.md §2.2: a floating reject without "on" applies to the WAN too',
      [r('reject in quick proto udp from any to any port 137')],
      ['LINT010@0'],
    ],
    [
      'docs/reference/pf-semantics.md §2.2: an outbound-only reject on WAN answers inside hosts, not scanners',
      [r('reject out quick on wan proto udp from any to any port 137')],
      [],
    ],
    [
      'ADR 0083: a reject that never decides sends nothing; only the shadowing (block ≠ reject) is reported',
      [
        r('block in quick on wan proto tcp from any to any port 22 flags S/SA'),
        r('reject in quick on wan proto tcp from any to any port 22 flags S/SA'),
      ],
      ['LINT001@1'],
    ],
  ])('%s', (_name, rules, expected) => {
    expect(codes(rules)).toEqual(expected);
  });

  it('says what is sent back: RST for TCP, port unreachable for UDP (docs/reference/pf-semantics.md §2.6)', () => {
    const [f] = lint([r('reject in quick on wan proto tcp,udp from any to any port 137 flags S/SA')]);
    expect(f?.why).toContain('TCP RST');
    expect(f?.why).toContain('port unreachable');
  });
});

describe('rules left out of the ruleset (docs/reference/pf-semantics.md §1.3, §1.7)', () => {
  const config = baseConfig({
    aliases: [{ name: 'WEB', type: 'host', entries: ['192.168.1.10'], descr: '' }],
    rules: [
      userRule({ descr: 'uses a real alias', destination: { kind: 'address', value: 'WEB', not: false } }),
      userRule({
        tracker: '1700000001',
        descr: 'uses a missing alias',
        source: { kind: 'address', value: 'NOSUCH', not: false },
      }),
      userRule({ tracker: '1700000002', descr: 'switched off', disabled: true }),
    ],
  });
  const findings = lintRuleset(generateRuleset(config), config);

  it.each([
    [
      'docs/reference/pf-semantics.md §1.3 (alias row), §1.7: an unresolvable alias leaves the rule out → error with the rule',
      'LINT020',
      2,
      '1700000001',
    ],
    ['docs/reference/pf-semantics.md §1.3 (<disabled/> row): a disabled rule is listed as info', 'LINT030', 3, '1700000002'],
  ] as const)('%s', (_name, code, position, tracker) => {
    const f = findings.find((x) => x.code === code);
    expect(f).toMatchObject({ rule: { tab: 'lan', position, tracker, index: null } });
    expect(f?.severity).toBe(LINT_CATALOG[code].severity);
  });

  it('names the missing alias and says traffic falls through', () => {
    const f = findings.find((x) => x.code === 'LINT020');
    expect(f?.why).toContain('NOSUCH');
    expect(f?.why).toContain('falls through');
  });

  it('does not flag the rule whose alias exists', () => {
    expect(findings.filter((x) => x.rule.position === 1 && x.rule.tab === 'lan')).toEqual([]);
  });
});

describe('lint of generated pfSense rulesets', () => {
  it('a default config has no findings', () => {
    const config = baseConfig({
      rules: [
        userRule({
          descr: 'Default allow LAN to any rule',
          source: { kind: 'network', value: 'lan', not: false },
        }),
      ],
    });
    expect(lintRuleset(generateRuleset(config), config)).toEqual([]);
  });

  it('empty ruleset → no findings', () => {
    expect(lintRuleset(ruleset([]))).toEqual([]);
  });
});
