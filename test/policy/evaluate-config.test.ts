/**
 * @module End-to-end truth tables: a pfSense config (built with the shared fixtures) → the generated 2.7.2 ruleset
 * → the evaluator. Each row is a documented pfSense behaviour, citing docs/reference/pf-semantics.md (PFS-272 = filter.inc,
 * PFS-DOC / NG-DOC = pfSense docs as summarised there). Expected rules are named as the GUI shows them.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createEvaluator, type EvaluationResult } from '../../src/policy/evaluate.ts';
import { generateRuleset } from '../../src/policy/generate/index.ts';
import { loadPolicy } from '../../src/policy/import/index.ts';
import type { PolicyConfig } from '../../src/policy/model.ts';
import { parsePacketLine } from '../../src/policy/packet.ts';
import { baseConfig, iface, userRule } from './fixtures/builders.ts';

/** Evaluates packet lines in order with one state table; returns the last result. */
function trace(config: PolicyConfig, ...lines: string[]): EvaluationResult {
  const evaluator = createEvaluator(generateRuleset(config));
  let result: EvaluationResult | undefined;
  for (const line of lines) result = evaluator.evaluate(parsePacketLine(line));
  if (result === undefined) throw new Error('no packet');
  return result;
}

/** `verdict by tab#position "descr"`, or `verdict by system "descr"`, or `verdict by state/default`. */
function summary(result: EvaluationResult): string {
  const by =
    result.decidedBy === 'default'
      ? 'default'
      : result.rule === null
        ? 'unknown rule'
        : result.rule.kind === 'user'
          ? `${result.rule.tab}#${result.rule.position} "${result.rule.descr}"`
          : `system "${result.rule.descr}"`;
  return `${result.verdict} by ${result.decidedBy === 'state' ? `state of ${by}` : by}`;
}

const withRules = (rules: PolicyConfig['rules'], overrides: Partial<PolicyConfig> = {}) =>
  baseConfig({ ...overrides, rules });

const vpnConfig = baseConfig({
  interfaces: [...baseConfig().interfaces, iface({ key: 'opt1', device: 'ovpns1', descr: 'VPNUSERS' })],
  vpn: {
    openvpn: [{ mode: 'server', vpnid: 1, device: 'ovpns1', descr: '' }],
    ipsec: false,
    l2tp: false,
    pppoeServer: false,
  },
  groups: [{ name: 'INSIDE', members: ['lan'], descr: '' }],
});

describe('pfSense rule tabs and order (docs/reference/pf-semantics.md §0, §1.4)', () => {
  it.each<[string, PolicyConfig, string[], string]>([
    [
      '§0.2 LAN default allow passes LAN → internet',
      withRules([userRule({ descr: 'allow lan', source: { kind: 'network', value: 'lan', not: false } })]),
      ['lan in tcp 192.168.1.50:40000 -> 8.8.8.8:443 flags S'],
      'pass by lan#1 "allow lan"',
    ],
    [
      '§0.2 no rule on WAN: the non-quick default deny decides',
      withRules([]),
      ['wan in tcp 93.184.216.34:40000 -> 85.10.20.2:22 flags S'],
      'block by system "Default deny rule IPv4"',
    ],
    [
      '§1.4 floating rules come first: a quick floating block beats the LAN pass',
      withRules([
        userRule({ descr: 'allow lan' }),
        userRule({
          descr: 'no dns out',
          floating: true,
          quick: true,
          interface: 'lan',
          type: 'block',
          direction: 'in',
          protocol: 'udp',
          destination: { kind: 'any', not: false, port: '53' },
        }),
      ]),
      ['lan in udp 192.168.1.50:5000 -> 8.8.8.8:53'],
      'block by floating#1 "no dns out"',
    ],
    [
      '§0.2 quick off: a non-quick floating block loses to the quick LAN tab pass',
      withRules([
        userRule({ descr: 'allow lan' }),
        userRule({
          descr: 'no dns out',
          floating: true,
          quick: false,
          interface: 'lan',
          type: 'block',
          direction: 'in',
          protocol: 'udp',
          destination: { kind: 'any', not: false, port: '53' },
        }),
      ]),
      ['lan in udp 192.168.1.50:5000 -> 8.8.8.8:53'],
      'pass by lan#1 "allow lan"',
    ],
    [
      '§0.2 a non-quick floating pass after the default deny overrides it',
      withRules([
        userRule({
          descr: 'web in',
          floating: true,
          quick: false,
          interface: 'wan',
          direction: 'in',
          protocol: 'tcp',
          destination: { kind: 'any', not: false, port: '8443' },
        }),
      ]),
      ['wan in tcp 93.184.216.34:40000 -> 85.10.20.2:8443 flags S'],
      'pass by floating#1 "web in"',
    ],
    [
      '§1.4 PFS-DOC: group rules are processed before interface rules (group pass shadows LAN block)',
      baseConfig({
        ...vpnConfig,
        rules: [
          userRule({ descr: 'block lan', type: 'block' }),
          userRule({ descr: 'group pass', interface: 'INSIDE' }),
        ],
      }),
      ['lan in tcp 192.168.1.50:40000 -> 8.8.8.8:443 flags S'],
      'pass by INSIDE#1 "group pass"',
    ],
    [
      '§0.7 NG-DOC: the OpenVPN tab (a group) shadows the assigned VPN interface’s block',
      baseConfig({
        ...vpnConfig,
        rules: [
          userRule({ descr: 'vpn users blocked', interface: 'opt1', type: 'block' }),
          userRule({ descr: 'openvpn tab pass', interface: 'openvpn' }),
        ],
      }),
      ['opt1 in tcp 10.8.0.6:40000 -> 192.168.1.10:22 flags S'],
      'pass by openvpn#1 "openvpn tab pass"',
    ],
    [
      '§1.3 disabled rules are left out',
      withRules([
        userRule({ descr: 'allow lan' }),
        userRule({ descr: 'block all', type: 'block', disabled: true }),
      ]),
      ['lan in udp 192.168.1.50:5000 -> 8.8.8.8:53'],
      'pass by lan#1 "allow lan"',
    ],
    [
      '§1.3 the first matching tab rule wins (tab rules are quick)',
      withRules([
        userRule({
          descr: 'block ssh',
          type: 'block',
          protocol: 'tcp',
          destination: { kind: 'any', not: false, port: '22' },
        }),
        userRule({ descr: 'allow lan' }),
      ]),
      ['lan in tcp 192.168.1.50:40000 -> 10.0.0.5:22 flags S'],
      'block by lan#1 "block ssh"',
    ],
  ])('%s', (_name, config, lines, expected) => {
    expect(summary(trace(config, ...lines))).toBe(expected);
  });
});

describe('system rules (docs/reference/pf-semantics.md §1.2, §1.7)', () => {
  it.each<[string, PolicyConfig, string[], string]>([
    [
      '§1.7 anti-lockout precedes user rules: the GUI stays reachable from LAN despite a block-all',
      withRules([userRule({ descr: 'block all', type: 'block' })]),
      ['lan in tcp 192.168.1.50:40000 -> 192.168.1.1:443 flags S'],
      'pass by system "anti-lockout rule"',
    ],
    [
      '§1.7 anti-lockout includes port 80 when https redirect is on',
      withRules([userRule({ descr: 'block all', type: 'block' })]),
      ['lan in tcp 192.168.1.50:40000 -> 192.168.1.1:80 flags S'],
      'pass by system "anti-lockout rule"',
    ],
    [
      '§1.6 noantilockout removes it: the user block decides',
      (() => {
        const config = withRules([userRule({ descr: 'block all', type: 'block' })]);
        config.system.webgui.noAntiLockout = true;
        return config;
      })(),
      ['lan in tcp 192.168.1.50:40000 -> 192.168.1.1:443 flags S'],
      'block by lan#1 "block all"',
    ],
    [
      '§1.2 block private networks on WAN precedes a WAN pass-all',
      withRules([userRule({ descr: 'wan any', interface: 'wan' })]),
      ['wan in tcp 10.1.2.3:40000 -> 85.10.20.2:443 flags S'],
      'block by system "Block private networks from WAN block 10/8"',
    ],
    [
      '§1.5 block bogons: 240/4 is in the shipped <bogons>',
      withRules([userRule({ descr: 'wan any', interface: 'wan' })]),
      ['wan in tcp 240.0.0.1:40000 -> 85.10.20.2:443 flags S'],
      'block by system "block bogon IPv4 networks from WAN"',
    ],
    [
      '§1.2 a public source passes the WAN rule',
      withRules([userRule({ descr: 'wan any', interface: 'wan' })]),
      ['wan in tcp 93.184.216.34:40000 -> 85.10.20.2:443 flags S'],
      'pass by wan#1 "wan any"',
    ],
    [
      '§1.2 traffic to port 0 is blocked before user rules',
      withRules([userRule({ descr: 'allow lan' })]),
      ['lan in udp 192.168.1.50:5000 -> 8.8.8.8:0'],
      'block by system "Block traffic to port 0"',
    ],
    [
      '§1.7 from the WAN address, the per-gateway route-to "let out anything" is the last match',
      withRules([]),
      ['wan out tcp 85.10.20.2:40000 -> 8.8.8.8:443 flags S'],
      'pass by system "let out anything from firewall host itself"',
    ],
  ])('%s', (_name, config, lines, expected) => {
    expect(summary(trace(config, ...lines))).toBe(expected);
  });
});

describe('IPv6 and link-local system rules (docs/reference/pf-semantics.md §1.2)', () => {
  const rules = [
    userRule({ descr: 'allow lan', source: { kind: 'network', value: 'lan', not: false } }),
    userRule({ descr: 'allow lan v6', ipprotocol: 'inet6', source: { kind: 'network', value: 'lan', not: false } }),
  ];
  const noIpv6 = withRules(rules);
  noIpv6.system.ipv6Allow = false;
  it.each<[string, PolicyConfig, string, string]>([
    [
      '§1.2 neighbour discovery passes by "IPv6 ICMP required for operation" (quick, before user rules)',
      withRules(rules),
      'lan in icmp6 fe80::1 -> fe80::2 type neighbrsol',
      'pass by system "IPv6 ICMP required for operation"',
    ],
    [
      '§1.2 with IPv6 allowed, the LAN IPv6 rule passes IPv6',
      withRules(rules),
      'lan in tcp [2001:db8:1::50]:40000 -> [2a00::1]:443 flags S',
      'pass by lan#2 "allow lan v6"',
    ],
    [
      '§1.2 ipv6allow off: "Block all IPv6" (quick) precedes the user rules',
      noIpv6,
      'lan in tcp [2001:db8:1::50]:40000 -> [2a00::1]:443 flags S',
      'block by system "Block all IPv6"',
    ],
    [
      '§1.2 IPv4 link-local sources are blocked before anything else',
      withRules(rules),
      'wan in udp 169.254.1.1:5000 -> 85.10.20.2:53',
      'block by system "Block IPv4 link-local"',
    ],
    [
      '§1.2 blockpriv also blocks ULA sources on WAN (verdict certain; <bogonsv6> is dynamic, ADR 0053)',
      withRules(rules),
      'wan in tcp [fd00::1]:40000 -> [2001:db8:1::50]:443 flags S',
      'block by system "Block ULA networks from WAN block fc00::/7"',
    ],
  ])('%s', (_name, config, line, expected) => {
    expect(summary(trace(config, line))).toBe(expected);
  });
});

describe('addresses, reject, inet46 (docs/reference/pf-semantics.md §1.3, §1.5, §2.6)', () => {
  const mixed = [
    { name: 'SERVERS', type: 'host' as const, entries: ['192.168.1.10', '2001:db8:1::10'], descr: '' },
  ];
  it.each<[string, PolicyConfig, string[], string]>([
    [
      '§1.3 <not/> inverts: block anything not from the LAN net',
      withRules([
        userRule({ descr: 'not lan', type: 'block', source: { kind: 'network', value: 'lan', not: true } }),
        userRule({ descr: 'allow lan' }),
      ]),
      ['lan in udp 10.9.9.9:5000 -> 8.8.8.8:53'],
      'block by lan#1 "not lan"',
    ],
    [
      '§1.3 <not/>: an address inside the LAN net skips the inverted rule',
      withRules([
        userRule({ descr: 'not lan', type: 'block', source: { kind: 'network', value: 'lan', not: true } }),
        userRule({ descr: 'allow lan' }),
      ]),
      ['lan in udp 192.168.1.9:5000 -> 8.8.8.8:53'],
      'pass by lan#2 "allow lan"',
    ],
    [
      '§0.6 inet46 is two rules: the IPv4 half passes IPv4 to the mixed alias',
      withRules(
        [
          userRule({
            descr: 'to servers',
            ipprotocol: 'inet46',
            destination: { kind: 'address', value: 'SERVERS', not: false },
          }),
        ],
        { aliases: mixed },
      ),
      ['lan in tcp 192.168.1.50:40000 -> 192.168.1.10:443 flags S'],
      'pass by lan#1 "to servers"',
    ],
    [
      '§0.6 inet46 is two rules: the IPv6 half passes IPv6 to the mixed alias',
      withRules(
        [
          userRule({
            descr: 'to servers',
            ipprotocol: 'inet46',
            destination: { kind: 'address', value: 'SERVERS', not: false },
          }),
        ],
        { aliases: mixed },
      ),
      ['lan in tcp [2001:db8:1::50]:40000 -> [2001:db8:1::10]:443 flags S'],
      'pass by lan#1 "to servers"',
    ],
    [
      '§1.5 an inet rule with a mixed alias does not match its IPv6 entries',
      withRules(
        [
          userRule({
            descr: 'to servers v4',
            ipprotocol: 'inet',
            destination: { kind: 'address', value: 'SERVERS', not: false },
          }),
        ],
        { aliases: mixed },
      ),
      ['lan in tcp [2001:db8:1::50]:40000 -> [2001:db8:1::10]:443 flags S'],
      'block by system "Default deny rule IPv6"',
    ],
    [
      '§1.3 (self) matches every firewall address, the LAN address from WAN too',
      withRules([
        userRule({
          descr: 'to self',
          interface: 'wan',
          protocol: 'tcp',
          destination: { kind: 'network', value: '(self)', not: false, port: '443' },
        }),
      ]),
      ['wan in tcp 93.184.216.34:40000 -> 192.168.1.1:443 flags S'],
      'pass by wan#1 "to self"',
    ],
    [
      '§1.3 (self) does not match a LAN host',
      withRules([
        userRule({
          descr: 'to self',
          interface: 'wan',
          protocol: 'tcp',
          destination: { kind: 'network', value: '(self)', not: false, port: '443' },
        }),
      ]),
      ['wan in tcp 93.184.216.34:40000 -> 192.168.1.7:443 flags S'],
      'block by system "Default deny rule IPv4"',
    ],
    [
      '§1.3 tcp rules carry flags S/SA: a mid-stream ACK does not match the pass',
      withRules([
        userRule({
          descr: 'web',
          interface: 'wan',
          protocol: 'tcp',
          destination: { kind: 'any', not: false, port: '443' },
        }),
      ]),
      ['wan in tcp 93.184.216.34:40000 -> 85.10.20.2:443 flags A'],
      'block by system "Default deny rule IPv4"',
    ],
  ])('%s', (_name, config, lines, expected) => {
    expect(summary(trace(config, ...lines))).toBe(expected);
  });

  it.each([
    ['TCP', 'wan in tcp 93.184.216.34:40000 -> 85.10.20.2:22 flags S', 'tcp-rst'],
    ['UDP', 'wan in udp 93.184.216.34:40000 -> 85.10.20.2:161', 'icmp-unreach-port'],
    ['ICMP', 'wan in icmp 93.184.216.34 -> 85.10.20.2 type echoreq', null],
  ])('§2.6 reject on WAN answers %s with %s', (_name, line, reply) => {
    const result = trace(
      withRules([userRule({ descr: 'reject all', interface: 'wan', type: 'reject' })]),
      line,
    );
    // A reject that sends nothing is a block in effect; the rule keeps its action (docs/adr/0151-verdict-names-the-effect.md).
    expect(summary(result)).toBe(`${reply === null ? 'block' : 'reject'} by wan#1 "reject all"`);
    expect(result.rule?.action).toBe('reject');
    expect(result.reply).toBe(reply);
  });
});

describe('stateful return traffic (docs/reference/pf-semantics.md §0.4, §2.4)', () => {
  const config = withRules([
    userRule({ descr: 'allow lan', source: { kind: 'network', value: 'lan', not: false } }),
  ]);
  it.each<[string, string[], string]>([
    [
      'the reply leaving LAN passes by the state the LAN pass created',
      [
        'lan in tcp 192.168.1.50:40000 -> 8.8.8.8:443 flags S',
        'lan out tcp 8.8.8.8:443 -> 192.168.1.50:40000 flags SA',
      ],
      'pass by state of lan#1 "allow lan"',
    ],
    [
      'without the request, the same reply is blocked by the default deny (out)',
      ['lan out tcp 8.8.8.8:443 -> 192.168.1.50:40000 flags SA'],
      'block by system "Default deny rule IPv4"',
    ],
    [
      'the forwarded out leg on WAN is its own evaluation (no NAT modelled): let out anything',
      [
        'lan in tcp 192.168.1.50:40000 -> 8.8.8.8:443 flags S',
        'wan out tcp 192.168.1.50:40000 -> 8.8.8.8:443 flags S',
      ],
      'pass by system "let out anything IPv4 from firewall host itself"',
    ],
    [
      'the reply arriving on WAN matches the WAN out-leg state',
      [
        'lan in tcp 192.168.1.50:40000 -> 8.8.8.8:443 flags S',
        'wan out tcp 192.168.1.50:40000 -> 8.8.8.8:443 flags S',
        'wan in tcp 8.8.8.8:443 -> 192.168.1.50:40000 flags SA',
      ],
      'pass by state of system "let out anything IPv4 from firewall host itself"',
    ],
    [
      'an unsolicited packet from the internet to the same host is blocked',
      [
        'lan in tcp 192.168.1.50:40000 -> 8.8.8.8:443 flags S',
        'wan in tcp 8.8.8.8:443 -> 192.168.1.50:40001 flags SA',
      ],
      'block by system "Default deny rule IPv4"',
    ],
  ])('%s', (_name, lines, expected) => {
    expect(summary(trace(config, ...lines))).toBe(expected);
  });
});

describe('fixtures shipped with the generator', () => {
  it('default-2.7.xml: LAN to the internet passes by the default allow LAN rule', () => {
    const { ruleset } = loadPolicy(
      readFileSync(new URL('./fixtures/default-2.7.xml', import.meta.url), 'utf8'),
    );
    const result = createEvaluator(ruleset).evaluate(
      parsePacketLine('lan in tcp 192.168.1.50:40000 -> 8.8.8.8:443 flags S'),
    );
    expect(summary(result)).toBe('pass by lan#1 "Default allow LAN to any rule"');
    expect(result.rule?.tracker).toBe('0100000101');
  });
});
