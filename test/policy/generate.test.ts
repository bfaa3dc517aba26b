/**
 * @module Generator truth tables: each row is one fact from docs/reference/pf-semantics.md (the reading of pfSense 2.7.2
 * `src/etc/inc/filter.inc`) or the pfSense docs, cited in its name.
 */
import { describe, expect, it } from 'vitest';
import { generateRuleset } from '../../src/policy/generate/index.ts';
import { fixRuleLabel } from '../../src/policy/generate/system.ts';
import type { PfRule, PfRuleset, PolicyConfig, RuleConfig } from '../../src/policy/model.ts';
import { printRule } from '../../src/policy/print.ts';
import { baseConfig, iface, userRule } from './fixtures/builders.ts';

const generate = (config: PolicyConfig) => generateRuleset(config);
const userRules = (ruleset: PfRuleset) => ruleset.rules.filter((rule) => rule.origin.kind === 'user');
const systemRules = (ruleset: PfRuleset, key: string) =>
  ruleset.rules.filter((rule) => rule.origin.systemKey === key);
const withRules = (...rules: RuleConfig[]) => generate(baseConfig({ rules }));
const only = (ruleset: PfRuleset): PfRule => {
  const rules = userRules(ruleset);
  expect(rules).toHaveLength(1);
  return rules[0] as PfRule;
};
const text = (ruleset: PfRuleset, rule: PfRule) =>
  printRule(rule, new Map(ruleset.interfaces.map((i) => [i.key, i])));

describe('rule shape (docs/reference/pf-semantics.md §1.3)', () => {
  it.each<[string, Partial<RuleConfig>, Partial<PfRule>]>([
    [
      '§1.3 interface-tab rules are always "in quick"',
      { interface: 'lan' },
      { direction: 'in', quick: true },
    ],
    [
      '§1.3 a tab rule ignores <direction> and <quick>',
      { direction: 'out', quick: false },
      { direction: 'in', quick: true },
    ],
    [
      '§1.3 floating rules are not quick unless ticked',
      { floating: true, interface: 'wan', direction: 'in' },
      { quick: false, direction: 'in' },
    ],
    [
      '§1.3 floating quick ticked',
      { floating: true, interface: 'wan', quick: true, direction: 'out' },
      { quick: true, direction: 'out' },
    ],
    [
      '§1.3 floating direction any → no keyword',
      { floating: true, interface: 'wan', direction: 'any' },
      { direction: 'any' },
    ],
    ['§1.3 floating with no interface applies everywhere', { floating: true, interface: '' }, { on: null }],
    ['§0.5 reject is block return', { type: 'reject' }, { action: 'reject', state: null }],
    ['§1.3 block keeps no state', { type: 'block' }, { action: 'block', state: null, tcpFlags: null }],
    ['§1.3 match rules are emitted as match', { type: 'match' }, { action: 'match', state: null }],
    ['§1.3 pass keeps state by default', {}, { state: 'keep' }],
    ['§1.3 statetype none → no state', { statetype: 'none' }, { state: 'none' }],
    [
      '§1.3 sloppy state → keep state (sloppy)',
      { statetype: 'sloppy state' },
      { state: 'sloppy', stateOptions: 'sloppy' },
    ],
    ['§1.3 synproxy only for tcp', { statetype: 'synproxy state', protocol: 'udp' }, { state: 'keep' }],
    ['§1.3 synproxy on tcp', { statetype: 'synproxy state', protocol: 'tcp' }, { state: 'synproxy' }],
    ['§1.3 tcp/udp → proto { tcp udp }', { protocol: 'tcp/udp' }, { protocols: ['tcp', 'udp'] }],
    [
      '§1.3 icmp on inet6 → ipv6-icmp',
      { protocol: 'icmp', ipprotocol: 'inet6' },
      { protocols: ['ipv6-icmp'], af: 'inet6' },
    ],
    ['§1.3 protocol any → no proto', { protocol: 'any' }, { protocols: null }],
    [
      '§1.3 empty protocol with a port → proto tcp, no port clause',
      { destination: { kind: 'any', port: '80', not: false } },
      { protocols: ['tcp'], toPort: null },
    ],
    [
      '§1.3 icmp types become icmp-type list',
      { protocol: 'icmp', icmptypes: ['echoreq', 'unreach'] },
      { icmpTypes: ['echoreq', 'unreach'] },
    ],
    ['§1.3 ipprotocol other than inet6 → inet', { ipprotocol: 'inet' }, { af: 'inet' }],
    ['§1.3 allow-opts only on pass', { allowopts: true }, { allowOpts: true }],
    ['§1.3 allow-opts dropped on block', { allowopts: true, type: 'block' }, { allowOpts: false }],
    [
      '§1.3 tracker → ridentifier and id: label',
      { tracker: '1234' },
      { ridentifier: '1234', tracker: '1234', extraLabels: ['id:1234'] },
    ],
    ['§1.3 descr → USER_RULE label', { descr: 'Web' }, { label: 'USER_RULE: Web' }],
    ['§1.3 empty descr → USER_RULE', { descr: '' }, { label: 'USER_RULE' }],
    ['§1.3 log', { log: true }, { log: true }],
  ])('%s', (_name, fields, expected) => {
    expect(only(withRules(userRule(fields)))).toMatchObject(expected);
  });
});

describe('TCP flags (docs/reference/pf-semantics.md §1.3, §2.4, §1.7 last trap)', () => {
  it.each<[string, Partial<RuleConfig>, PfRule['tcpFlags']]>([
    ['tcp pass gets explicit flags S/SA', { protocol: 'tcp' }, { set: 'S', outOf: 'SA', implicit: false }],
    [
      'tcp BLOCK also gets flags S/SA from filter.inc (only SYNs match)',
      { protocol: 'tcp', type: 'block' },
      { set: 'S', outOf: 'SA', implicit: false },
    ],
    [
      'tcp + state none keeps flags S/SA',
      { protocol: 'tcp', statetype: 'none' },
      { set: 'S', outOf: 'SA', implicit: false },
    ],
    ['tcpflags_any → no flags test', { protocol: 'tcp', tcpflagsAny: true }, null],
    [
      'tcpflags1/2 → letters, cwr → W',
      { protocol: 'tcp', tcpflags1: 'syn,cwr', tcpflags2: 'syn,ack,cwr' },
      { set: 'SW', outOf: 'SAW', implicit: false },
    ],
    [
      'tcp/udp stateful pass: pfctl adds S/SA',
      { protocol: 'tcp/udp' },
      { set: 'S', outOf: 'SA', implicit: true },
    ],
    [
      'any-protocol stateful pass: pfctl adds S/SA',
      { protocol: null },
      { set: 'S', outOf: 'SA', implicit: true },
    ],
    ['udp pass: no TCP flags apply', { protocol: 'udp' }, null],
    ['stateless non-tcp pass: no implicit flags', { protocol: null, statetype: 'none' }, null],
  ])('%s', (_name, fields, expected) => {
    expect(only(withRules(userRule(fields))).tcpFlags).toEqual(expected);
  });
});

describe('ports (filter.inc filter_generate_port, docs/reference/pf-semantics.md §1.3)', () => {
  const ports = (port: string, protocol = 'tcp') =>
    only(withRules(userRule({ protocol, destination: { kind: 'any', port, not: false } }))).toPort;
  it.each<[string, string, string, PfRule['toPort']]>([
    ['single port', '80', 'tcp', { ranges: [{ from: 80, to: 80 }] }],
    ['a-b inclusive range (pf: a-1 >< b+1)', '1000-2000', 'tcp', { ranges: [{ from: 1000, to: 2000 }] }],
    ['a-a is a single port', '53-53', 'udp', { ranges: [{ from: 53, to: 53 }] }],
    ['1-65535 means no port clause', '1-65535', 'tcp', null],
    ['N-65535 (pf: >= N)', '1024-65535', 'tcp/udp', { ranges: [{ from: 1024, to: 65535 }] }],
    ['ports only apply to tcp/udp', '80', 'icmp', null],
  ])('%s', (_name, port, protocol, expected) => {
    expect(ports(port, protocol)).toEqual(expected);
  });

  it.each<[string, string, string]>([
    ['single port as filter.inc writes it', '80', 'port 80'],
    ['range → ><', '1000-2000', 'port 999 >< 2001'],
    ['1-N → <=', '1-1023', 'port <= 1023'],
    ['N-65535 → >=', '1024-65535', 'port >= 1024'],
  ])('prints %s', (_name, port, expected) => {
    const ruleset = withRules(userRule({ protocol: 'tcp', destination: { kind: 'any', port, not: false } }));
    expect(text(ruleset, only(ruleset))).toContain(expected);
  });
});

describe('addresses (filter.inc filter_generate_address, docs/reference/pf-semantics.md §1.3)', () => {
  const from = (
    source: RuleConfig['source'],
    ipprotocol: RuleConfig['ipprotocol'] = 'inet',
    config = baseConfig(),
  ) => userRules(generate({ ...config, rules: [userRule({ source, ipprotocol })] }));
  it.each<[string, RuleConfig['source'], RuleConfig['ipprotocol'], PfRule['from']]>([
    ['<any/>', { kind: 'any', not: false }, 'inet', { match: { kind: 'any' }, negate: false }],
    [
      'lan network, IPv4 → $LAN__NETWORK table (2.7.1+)',
      { kind: 'network', value: 'lan', not: false },
      'inet',
      { match: { kind: 'table', table: 'LAN__NETWORK' }, negate: false },
    ],
    [
      'lan network, IPv6 → literal subnet (2.7.2)',
      { kind: 'network', value: 'lan', not: false },
      'inet6',
      { match: { kind: 'cidrs', cidrs: ['2001:db8:1::/64'] }, negate: false },
    ],
    [
      'lanip → the interface address',
      { kind: 'network', value: 'lanip', not: false },
      'inet',
      { match: { kind: 'cidrs', cidrs: ['192.168.1.1/32'] }, negate: false },
    ],
    [
      'lanip IPv6',
      { kind: 'network', value: 'lanip', not: false },
      'inet6',
      { match: { kind: 'cidrs', cidrs: ['2001:db8:1::1/128'] }, negate: false },
    ],
    [
      '(self)',
      { kind: 'network', value: '(self)', not: false },
      'inet',
      { match: { kind: 'self' }, negate: false },
    ],
    [
      '<not/> negates a table (! $LAN__NETWORK)',
      { kind: 'network', value: 'lan', not: true },
      'inet',
      { match: { kind: 'table', table: 'LAN__NETWORK' }, negate: true },
    ],
    [
      'literal address',
      { kind: 'address', value: '10.0.0.0/8', not: false },
      'inet',
      { match: { kind: 'cidrs', cidrs: ['10.0.0.0/8'] }, negate: false },
    ],
    [
      'literal host is canonical /32',
      { kind: 'address', value: '10.1.2.3', not: true },
      'inet',
      { match: { kind: 'cidrs', cidrs: ['10.1.2.3/32'] }, negate: true },
    ],
  ])('%s', (_name, source, ipprotocol, expected) => {
    const rules = from(source, ipprotocol);
    expect(rules).toHaveLength(1);
    expect(rules[0]?.from).toEqual(expected);
  });

  it.each<[string, RuleConfig['source'], RuleConfig['ipprotocol'], string]>([
    [
      'wan IPv6 network with no IPv6 on WAN',
      { kind: 'network', value: 'wan', not: false },
      'inet6',
      'POL006',
    ],
    ['wanip IPv6 with no IPv6 on WAN', { kind: 'network', value: 'wanip', not: false }, 'inet6', 'POL006'],
    ['opt9 does not exist', { kind: 'network', value: 'opt9', not: false }, 'inet', 'POL006'],
    ['unknown alias', { kind: 'address', value: 'NOPE', not: false }, 'inet', 'POL004'],
    ['IPv4 literal in an inet6 rule', { kind: 'address', value: '10.0.0.1', not: false }, 'inet6', 'POL006'],
    ['empty <address>', { kind: 'address', value: '', not: false }, 'inet', 'POL006'],
  ])(
    '§1.7 trap 1: %s → rule left out (traffic falls through) and reported',
    (_name, source, ipprotocol, code) => {
      const ruleset = generate({ ...baseConfig(), rules: [userRule({ source, ipprotocol })] });
      expect(userRules(ruleset)).toHaveLength(0);
      expect(ruleset.warnings.map((w) => w.code)).toContain(code);
      expect(ruleset.notes.length).toBeGreaterThan(1);
    },
  );

  it('§1.3 a negated IPv6 interface network with a VIP subnet expands to one rule per element ({ !a !b })', () => {
    const config = baseConfig({
      virtualIps: [
        { mode: 'ipalias', interface: 'lan', address: '2001:db8:2::1', prefixLength: 64, descr: '' },
      ],
      rules: [userRule({ ipprotocol: 'inet6', source: { kind: 'network', value: 'lan', not: true } })],
    });
    expect(userRules(generate(config)).map((rule) => rule.from)).toEqual([
      { match: { kind: 'cidrs', cidrs: ['2001:db8:1::/64'] }, negate: true },
      { match: { kind: 'cidrs', cidrs: ['2001:db8:2::/64'] }, negate: true },
    ]);
  });

  it('dynamic (DHCP) interface address → interface-address match, never a guessed literal', () => {
    const config = baseConfig();
    const wan = config.interfaces[0];
    if (wan) wan.ipv4 = { mode: 'dhcp' };
    config.rules = [
      userRule({ interface: 'wan', destination: { kind: 'network', value: 'wanip', not: false } }),
    ];
    const ruleset = generate(config);
    expect(only(ruleset).to).toEqual({
      match: { kind: 'interface-address', interface: 'wan' },
      negate: false,
    });
    expect(ruleset.interfaces.find((i) => i.key === 'wan')?.addresses).toMatchObject({
      cidrs: [],
      dynamic: true,
      dynamicFamilies: ['inet'],
    });
    expect(ruleset.self.dynamic).toBe(true);
  });

  it("ADR 0038: a run-time address cannot lie in another interface's static subnet (excludes)", () => {
    const config = baseConfig();
    const wan = config.interfaces[0];
    if (wan) wan.ipv4 = { mode: 'dhcp' };
    const ruleset = generate(config);
    const wanInterface = ruleset.interfaces.find((i) => i.key === 'wan');
    expect(wanInterface?.addresses.excludes).toEqual([
      '127.0.0.0/8',
      '::1/128',
      '192.168.1.0/24',
      '2001:db8:1::/64',
    ]);
    expect(ruleset.tables.WAN__NETWORK?.excludes).toEqual(wanInterface?.addresses.excludes);
    expect(ruleset.self.excludes).toEqual(expect.arrayContaining(['192.168.1.0/24']));
    expect(ruleset.self.cidrs).toContain('192.168.1.1/32');
    expect(ruleset.interfaces.find((i) => i.key === 'lan')?.addresses.excludes).toBeUndefined();
  });
});

describe('order and tiers (docs/reference/pf-semantics.md §0.2, §0.7, §1.4)', () => {
  const config = baseConfig({
    interfaces: [
      ...baseConfig().interfaces,
      iface({ key: 'opt1', device: 'ovpns1', descr: 'VPNUSERS' }),
      iface({
        key: 'opt2',
        device: 'em2',
        descr: 'DMZ',
        ipv4: { mode: 'static', address: '10.0.0.1', prefixLength: 24 },
      }),
    ],
    groups: [{ name: 'INSIDE', members: ['lan', 'opt2', 'opt7'], descr: '' }],
    vpn: {
      openvpn: [{ mode: 'server', vpnid: 1, device: 'ovpns1', descr: '' }],
      ipsec: true,
      l2tp: true,
      pppoeServer: true,
    },
    rules: [
      userRule({ descr: 'lan 1', tracker: '1' }),
      userRule({ descr: 'assigned vpn', interface: 'opt1', type: 'block', tracker: '2' }),
      userRule({ descr: 'openvpn tab', interface: 'openvpn', tracker: '3' }),
      userRule({ descr: 'floating', floating: true, interface: 'wan', tracker: '4' }),
      userRule({ descr: 'group', interface: 'INSIDE', tracker: '5' }),
      userRule({ descr: 'ipsec tab', interface: 'enc0', tracker: '6' }),
      userRule({ descr: 'lan 2', tracker: '7' }),
    ],
  });
  const ruleset = generate(config);

  it('§1.4 floating, then group and VPN tabs (config order), then interface tabs (config order)', () => {
    expect(userRules(ruleset).map((rule) => rule.origin.descr)).toEqual([
      'floating',
      'openvpn tab',
      'group',
      'ipsec tab',
      'lan 1',
      'assigned vpn',
      'lan 2',
    ]);
  });

  it('§0.7 the OpenVPN tab covers unassigned tunnels and the assigned OpenVPN interface, so it shadows that tab', () => {
    const tab = userRules(ruleset).find((rule) => rule.origin.tab === 'openvpn');
    expect(tab?.on).toEqual({ interfaces: ['openvpn', 'opt1'], negate: false, group: 'openvpn' });
    expect(ruleset.interfaces.find((i) => i.key === 'openvpn')?.tunnelDevices).toBeUndefined();
    expect(ruleset.interfaces.find((i) => i.key === 'openvpn')).toMatchObject({
      kind: 'vpn-tunnel',
      descr: 'OpenVPN',
      members: ['openvpn', 'opt1'],
    });
  });

  it('unassigned OpenVPN instances and enc0 are named as tunnel devices of their tab leaf', () => {
    const withClient = generate({
      ...config,
      vpn: {
        ...config.vpn,
        openvpn: [...config.vpn.openvpn, { mode: 'client', vpnid: 2, device: 'ovpnc2', descr: '' }],
      },
    });
    expect(withClient.interfaces.find((i) => i.key === 'openvpn')?.tunnelDevices).toEqual(['ovpnc2']);
    expect(withClient.interfaces.find((i) => i.key === 'enc0')?.tunnelDevices).toEqual(['enc0']);
  });

  it('§1.4 VPN tab macros: $IPsec (enc0), $L2TP, $pppoe', () => {
    expect(ruleset.interfaces.filter((i) => i.kind === 'vpn-tunnel').map((i) => [i.key, i.descr])).toEqual([
      ['l2tp', 'L2TP'],
      ['pppoe', 'pppoe'],
      ['enc0', 'IPsec'],
      ['openvpn', 'OpenVPN'],
    ]);
  });

  it('§1.4 a group rule applies to its enabled members; an unknown member is reported', () => {
    expect(userRules(ruleset).find((rule) => rule.origin.tab === 'INSIDE')?.on).toEqual({
      interfaces: ['lan', 'opt2'],
      negate: false,
      group: 'INSIDE',
    });
    expect(ruleset.warnings.some((w) => w.code === 'POL032' && w.message.includes('opt7'))).toBe(true);
    expect(ruleset.tables.INSIDE__NETWORK?.cidrs).toEqual([
      '192.168.1.0/24',
      '2001:db8:1::/64',
      '10.0.0.0/24',
    ]);
  });

  it('origin positions count the rules of each tab as the GUI lists them', () => {
    const lan2 = userRules(ruleset).find((rule) => rule.origin.descr === 'lan 2');
    expect(lan2?.origin).toMatchObject({ kind: 'user', tab: 'lan', position: 2, configIndex: 6 });
  });

  it('§0.2 default deny is four NON-quick rules near the top, before every user rule', () => {
    const deny = systemRules(ruleset, 'default-deny');
    expect(deny.map((r) => [r.direction, r.af, r.quick, r.action, r.ridentifier])).toEqual([
      ['in', 'inet', false, 'block', '1000000103'],
      ['out', 'inet', false, 'block', '1000000104'],
      ['in', 'inet6', false, 'block', '1000000105'],
      ['out', 'inet6', false, 'block', '1000000106'],
    ]);
    const firstUser = userRules(ruleset)[0]?.index ?? -1;
    expect(deny.every((rule) => rule.index < firstUser)).toBe(true);
  });

  it('rule indexes are positions in the list', () => {
    expect(ruleset.rules.every((rule, i) => rule.index === i)).toBe(true);
  });
});

describe('inet46 (docs/reference/pf-semantics.md §0.6)', () => {
  it('is two rules, inet then inet6, same tracker and labels, adjacent in the same tier', () => {
    const config = baseConfig({
      aliases: [{ name: 'MIXED', type: 'host', entries: ['10.0.0.5', '2001:db8::5'], descr: '' }],
      rules: [
        userRule({
          ipprotocol: 'inet46',
          tracker: '77',
          destination: { kind: 'address', value: 'MIXED', not: false },
        }),
      ],
    });
    const rules = userRules(generate(config));
    expect(rules.map((r) => [r.af, r.tracker, r.origin.splitFamily, r.label])).toEqual([
      ['inet', '77', 'inet', 'USER_RULE: test rule'],
      ['inet6', '77', 'inet6', 'USER_RULE: test rule'],
    ]);
    expect(rules[0]?.to).toEqual({ match: { kind: 'table', table: 'MIXED' }, negate: false });
  });
});

describe('generated system rules (docs/reference/pf-semantics.md §1.2, §1.7)', () => {
  const antiLockout = (mutate: (config: PolicyConfig) => void) => {
    const config = baseConfig();
    mutate(config);
    return systemRules(generate(config), 'anti-lockout');
  };
  it.each<[string, (config: PolicyConfig) => void, number[] | null, string | null]>([
    ['§1.7 https GUI: 443 and the 80 redirect, on LAN', () => {}, [443, 80], 'lan'],
    [
      'http GUI: 80 only',
      (c) => {
        c.system.webgui.protocol = 'http';
      },
      [80],
      'lan',
    ],
    [
      'https GUI with redirect disabled',
      (c) => {
        c.system.webgui.disableHttpRedirect = true;
      },
      [443],
      'lan',
    ],
    [
      'custom GUI port and SSH',
      (c) => {
        c.system.webgui.port = 8443;
        c.system.ssh = { enabled: true, port: 2222 };
      },
      [8443, 80, 2222],
      'lan',
    ],
    [
      'SSH enabled on the default port',
      (c) => {
        c.system.ssh.enabled = true;
      },
      [443, 80, 22],
      'lan',
    ],
    [
      'noantilockout removes it',
      (c) => {
        c.system.webgui.noAntiLockout = true;
      },
      null,
      null,
    ],
    [
      'a single interface puts it on WAN',
      (c) => {
        c.interfaces = c.interfaces.slice(0, 1);
      },
      [443, 80],
      'wan',
    ],
    [
      'a disabled LAN leaves no anti-lockout',
      (c) => {
        const lan = c.interfaces[1];
        if (lan) lan.enabled = false;
      },
      null,
      null,
    ],
  ])('%s', (_name, mutate, ports, on) => {
    const rules = antiLockout(mutate);
    if (ports === null) {
      expect(rules).toHaveLength(0);
      return;
    }
    expect(rules).toHaveLength(1);
    expect(rules[0]).toMatchObject({
      action: 'pass',
      direction: 'in',
      quick: true,
      protocols: ['tcp'],
      ridentifier: '10001',
      on: { interfaces: [on], negate: false },
      to: { match: { kind: 'interface-address', interface: on }, negate: false },
      toPort: { ranges: ports.map((p) => ({ from: p, to: p })) },
    });
  });

  it('§1.2 ipv6allow off: pass IPv6 loopback then "Block all IPv6" quick, first in the ruleset', () => {
    const config = baseConfig();
    config.system.ipv6Allow = false;
    const rules = generate(config).rules.slice(0, 4);
    expect(rules.map((r) => [r.action, r.direction, r.quick, r.af, r.ridentifier])).toEqual([
      ['pass', 'in', true, 'inet6', '1000000001'],
      ['pass', 'out', true, 'inet6', '1000000002'],
      ['block', 'in', true, 'inet6', '1000000003'],
      ['block', 'out', true, 'inet6', '1000000004'],
    ]);
  });

  it('§1.2 blockpriv: five quick blocks on WAN, trackers 12001-12005, ULA included', () => {
    const rules = systemRules(generate(baseConfig()), 'block-private');
    expect(
      rules.map((r) => [
        r.from.match.kind === 'cidrs' ? r.from.match.cidrs[0] : '',
        r.ridentifier,
        r.quick,
        r.on?.interfaces,
      ]),
    ).toEqual([
      ['10.0.0.0/8', '12001', true, ['wan']],
      ['127.0.0.0/8', '12002', true, ['wan']],
      ['172.16.0.0/12', '12003', true, ['wan']],
      ['192.168.0.0/16', '12004', true, ['wan']],
      ['fc00::/7', '12005', true, ['wan']],
    ]);
  });

  it('§1.5 blockbogons: <bogons> (shipped list, static) and <bogonsv6> (dynamic) on WAN, trackers 11001-11002', () => {
    const ruleset = generate(baseConfig());
    expect(systemRules(ruleset, 'bogons').map((r) => [r.from, r.ridentifier])).toEqual([
      [{ match: { kind: 'table', table: 'bogons' }, negate: false }, '11001'],
      [{ match: { kind: 'table', table: 'bogonsv6' }, negate: false }, '11002'],
    ]);
    expect(ruleset.tables.bogons?.cidrs).toContain('198.51.100.0/24');
    expect(ruleset.tables.bogons?.cidrs).not.toContain('10.0.0.0/8');
    expect(ruleset.tables.bogonsv6).toMatchObject({ cidrs: [], dynamic: true });
  });

  it.each<[string, Partial<PolicyConfig['system']>, boolean, boolean, boolean]>([
    ['§1.2 defaults: default deny, bogon and private blocks log', {}, true, true, true],
    ['nologdefaultblock silences the default deny only', { logDefaultBlock: false }, false, true, true],
    [
      'nologbogons / nologprivatenets silence their blocks',
      { logBogons: false, logPrivateNets: false },
      true,
      false,
      false,
    ],
  ])('syslog flags: %s', (_name, system, deny, bogons, privateNets) => {
    const config = baseConfig();
    Object.assign(config.system, system);
    const ruleset = generate(config);
    const logs = (key: string) => systemRules(ruleset, key).every((r) => r.log);
    expect([logs('default-deny'), logs('bogons'), logs('block-private')]).toEqual([
      deny,
      bogons,
      privateNets,
    ]);
  });

  it('ADR 0038: the JSON model may give the bogons contents; they are canonical and static, bad entries reported', () => {
    const config = baseConfig();
    config.system.bogons = { ipv4: ['0.0.0.0/8', '100.64.1.2/10'], ipv6: ['2001:DB8::/32', 'nonsense'] };
    const ruleset = generate(config);
    expect(ruleset.tables.bogons).toMatchObject({ cidrs: ['0.0.0.0/8', '100.64.0.0/10'], dynamic: false });
    expect(ruleset.tables.bogonsv6).toMatchObject({ cidrs: ['2001:db8::/32'], dynamic: false });
    expect(ruleset.warnings.map((w) => w.code)).toEqual(expect.arrayContaining(['POL042']));
    expect(ruleset.warnings.map((w) => w.code)).not.toContain('POL041');
  });

  it('an invalid static address in the JSON model is reported, not silently dropped', () => {
    const config = baseConfig();
    const lan = config.interfaces[1];
    if (lan) lan.ipv4 = { mode: 'static', address: '192.168.1.300', prefixLength: 24 };
    const ruleset = generate(config);
    expect(ruleset.warnings.find((w) => w.code === 'POL042')?.message).toContain('192.168.1.300');
    expect(ruleset.interfaces.find((i) => i.key === 'lan')?.addresses.cidrs).toEqual(['2001:db8:1::1/128']);
  });

  it('§1.2 trackers of the fixed block: link-local 101/102, port 0 114-117, snort2c 118/119, sshguard 301, GUI 351, virusprot 400', () => {
    const ruleset = generate(baseConfig());
    const ids = (key: string) => systemRules(ruleset, key).map((r) => r.ridentifier);
    expect(ids('ipv4-link-local')).toEqual(['1000000101', '1000000102']);
    expect(ids('port-0')).toEqual(['1000000114', '1000000115', '1000000116', '1000000117']);
    expect(ids('snort2c')).toEqual(['1000000118', '1000000119']);
    expect(ids('sshguard')).toEqual(['1000000301']);
    expect(ids('gui-lockout')).toEqual(['1000000351']);
    expect(ids('virusprot')).toEqual(['1000000400']);
  });

  it('§2.7 antispoof is non-quick: on ! IF from its network, and from its address on any interface', () => {
    const rules = systemRules(generate(baseConfig()), 'antispoof').filter(
      (r) => r.on?.interfaces[0] === 'lan' || r.on === null,
    );
    const lan = rules.filter((r) => JSON.stringify(r).includes('192.168.1.'));
    expect(lan.map((r) => [r.on, r.from, r.quick, r.direction])).toEqual([
      [
        { interfaces: ['lan'], negate: true },
        { match: { kind: 'cidrs', cidrs: ['192.168.1.0/24'] }, negate: false },
        false,
        'in',
      ],
      [null, { match: { kind: 'cidrs', cidrs: ['192.168.1.1/32'] }, negate: false }, false, 'in'],
    ]);
  });

  it('§0.8 loopback and "let out anything" passes are non-quick; the per-gateway one carries route-to', () => {
    const ruleset = generate(baseConfig());
    expect(systemRules(ruleset, 'loopback').every((r) => !r.quick)).toBe(true);
    expect(
      systemRules(ruleset, 'let-out-anything').map((r) => [r.direction, r.af, r.quick, r.allowOpts]),
    ).toEqual([
      ['out', 'inet', false, true],
      ['out', 'inet6', false, true],
    ]);
    expect(systemRules(ruleset, 'let-out-route-to')).toMatchObject([
      {
        direction: 'out',
        quick: false,
        from: { match: { kind: 'cidrs', cidrs: ['85.10.20.2/32'] } },
        to: { match: { kind: 'cidrs', cidrs: ['85.10.20.0/28'] }, negate: true },
        routing: 'route-to ( em0 85.10.20.1 )',
      },
    ]);
  });

  it('DHCP client and server passes come from the interface modes', () => {
    const config = baseConfig();
    const [wan, lan] = config.interfaces;
    if (wan) wan.ipv4 = { mode: 'dhcp' };
    if (lan) lan.dhcpServer = true;
    const ruleset = generate(config);
    expect(
      systemRules(ruleset, 'dhcp-client').map((r) => [
        r.direction,
        r.fromPort?.ranges[0]?.from,
        r.toPort?.ranges[0]?.from,
      ]),
    ).toEqual([
      ['in', 67, 68],
      ['out', 68, 67],
    ]);
    expect(systemRules(ruleset, 'dhcp-server')).toHaveLength(3);
  });

  it.each<[string, NonNullable<PolicyConfig['vpn']['ipsecPeers']>[number], string[]]>([
    [
      'a fixed peer with ESP: IKE, NAT-T and ESP both ways',
      { descr: 'B', interface: 'wan', remoteGateway: '93.184.216.34', mobile: false, protocols: ['esp'] },
      [
        'out udp self→93.184.216.34/32:500',
        'in udp 93.184.216.34/32→self:500',
        'out udp self→93.184.216.34/32:4500',
        'in udp 93.184.216.34/32→self:4500',
        'out esp self→93.184.216.34/32:',
        'in esp 93.184.216.34/32→self:',
      ],
    ],
    [
      'a mobile phase 1: inbound only, from any',
      { descr: 'M', interface: 'wan', mobile: true, protocols: [] },
      ['in udp any→self:500', 'in udp any→self:4500'],
    ],
    [
      'a custom IKE port applies to the outbound rule',
      {
        descr: 'P',
        interface: 'wan',
        remoteGateway: '93.184.216.34',
        mobile: false,
        protocols: [],
        ikePort: 1500,
      },
      [
        'out udp self→93.184.216.34/32:1500',
        'in udp 93.184.216.34/32→self:500',
        'out udp self→93.184.216.34/32:4500',
        'in udp 93.184.216.34/32→self:4500',
      ],
    ],
  ])(
    'IPsec service rules after the user rules (filter_generate_ipsec_rules): %s',
    (_name, peer, expected) => {
      const ruleset = generate(
        baseConfig({
          vpn: { openvpn: [], ipsec: true, l2tp: false, pppoeServer: false, ipsecPeers: [peer] },
        }),
      );
      const rules = systemRules(ruleset, 'ipsec-service');
      const where = (spec: PfRule['from']) =>
        spec.match.kind === 'cidrs' ? spec.match.cidrs[0] : spec.match.kind;
      expect(
        rules.map(
          (r) =>
            `${r.direction} ${r.protocols?.[0]} ${where(r.from)}→${where(r.to)}:${r.toPort?.ranges[0]?.from ?? ''}`,
        ),
      ).toEqual(expected);
      expect(rules.every((r) => !r.quick && r.action === 'pass')).toBe(true);
      expect(rules.filter((r) => r.direction === 'in').every((r) => r.on?.interfaces[0] === 'wan')).toBe(
        true,
      );
      expect(Math.min(...rules.map((r) => r.index))).toBeGreaterThan(
        Math.max(...userRules(ruleset).map((r) => r.index), -1),
      );
    },
  );

  it('a peer known only by DNS name gets its rules against a run-time table, and is reported (docs/adr/0152-honest-inputs-and-runtime-facts.md)', () => {
    const ruleset = generate(
      baseConfig({
        vpn: {
          openvpn: [],
          ipsec: true,
          l2tp: false,
          pppoeServer: false,
          ipsecPeers: [
            { descr: 'D', interface: 'wan', remoteGateway: 'vpn.example.net', mobile: false, protocols: ['esp'] },
          ],
        },
      }),
    );
    const rules = systemRules(ruleset, 'ipsec-service');
    expect(rules).toHaveLength(6);
    const inbound = rules.filter((r) => r.direction === 'in');
    expect(inbound.every((r) => r.from.match.kind === 'table' && r.from.match.table === 'ipsec_peer_vpn.example.net')).toBe(true);
    expect(ruleset.tables['ipsec_peer_vpn.example.net']).toMatchObject({ cidrs: [], dynamic: true });
    expect(ruleset.warnings.map((w) => w.code)).toContain('POL043');
  });

  it.each<[string, Partial<PolicyConfig['vpn']>, string | null]>([
    [
      'a peer on a missing interface is reported',
      {
        ipsecPeers: [
          { descr: 'X', interface: 'opt9', remoteGateway: '93.184.216.34', mobile: false, protocols: [] },
        ],
      },
      'POL043',
    ],
    [
      'a disabled phase 1 has none',
      {
        ipsecPeers: [
          {
            descr: 'B',
            interface: 'wan',
            remoteGateway: '93.184.216.34',
            mobile: false,
            protocols: [],
            disabled: true,
          },
        ],
      },
      null,
    ],
    [
      'disablevpnrules removes them',
      {
        disableVpnRules: true,
        ipsecPeers: [
          { descr: 'B', interface: 'wan', remoteGateway: '93.184.216.34', mobile: false, protocols: [] },
        ],
      },
      null,
    ],
  ])('no IPsec service rules: %s', (_name, vpn, code) => {
    const ruleset = generate(
      baseConfig({ vpn: { openvpn: [], ipsec: true, l2tp: false, pppoeServer: false, ...vpn } }),
    );
    expect(systemRules(ruleset, 'ipsec-service')).toHaveLength(0);
    if (code) expect(ruleset.warnings.map((w) => w.code)).toContain(code);
  });

  it('a disabled phase 1 still advances the IPsec trackers by 10 (filter.inc l.4680)', () => {
    const peer = {
      descr: 'B',
      interface: 'wan',
      remoteGateway: '93.184.216.34',
      mobile: false,
      protocols: [],
    };
    const first = (peers: NonNullable<PolicyConfig['vpn']['ipsecPeers']>) =>
      Number(
        systemRules(
          generate(
            baseConfig({
              vpn: { openvpn: [], ipsec: true, l2tp: false, pppoeServer: false, ipsecPeers: peers },
            }),
          ),
          'ipsec-service',
        )[0]?.ridentifier,
      );
    expect(first([{ ...peer, disabled: true }, peer])).toBe(first([peer]) + 10);
  });

  it('DHCP and DHCPv6 relays add their passes on the listening interfaces (filter.inc l.4036-4048, l.4094)', () => {
    const ruleset = generate(baseConfig({ dhcpRelay: { ipv4: ['lan'], ipv6: ['lan'] } }));
    expect(systemRules(ruleset, 'dhcp-relay')).toMatchObject([
      {
        direction: 'in',
        quick: true,
        on: { interfaces: ['lan'] },
        to: { match: { kind: 'cidrs', cidrs: ['255.255.255.255/32'] } },
        label: 'allow access to DHCP relay',
      },
    ]);
    expect(systemRules(ruleset, 'dhcpv6-server').length).toBeGreaterThanOrEqual(4);
    expect(systemRules(generate(baseConfig()), 'dhcpv6-server')).toHaveLength(0);
  });

  it('NAT reflection adds the tagged PFREFLECT pass', () => {
    expect(systemRules(generate(baseConfig({ natReflection: true })), 'nat-reflection')).toMatchObject([
      { action: 'pass', direction: 'in', quick: false, tagged: { tag: 'PFREFLECT', negate: false } },
    ]);
  });
});

describe('aliases (docs/reference/pf-semantics.md §1.5)', () => {
  const tables = (aliases: PolicyConfig['aliases']) => generate(baseConfig({ aliases }));
  it.each<[string, PolicyConfig['aliases'], string, { cidrs: string[]; dynamic: boolean }]>([
    [
      'host alias → table of /32s',
      [{ name: 'A', type: 'host', entries: ['10.0.0.1', '10.0.0.2'], descr: '' }],
      'A',
      { cidrs: ['10.0.0.1/32', '10.0.0.2/32'], dynamic: false },
    ],
    [
      'nested aliases are flattened, duplicates dropped',
      [
        { name: 'A', type: 'host', entries: ['10.0.0.1'], descr: '' },
        { name: 'B', type: 'network', entries: ['A', '10.0.0.1', '10.1.0.0/16'], descr: '' },
      ],
      'B',
      { cidrs: ['10.0.0.1/32', '10.1.0.0/16'], dynamic: false },
    ],
    [
      'mixed families stay in one table',
      [{ name: 'M', type: 'host', entries: ['10.0.0.1', '2001:DB8::1'], descr: '' }],
      'M',
      { cidrs: ['10.0.0.1/32', '2001:db8::1/128'], dynamic: false },
    ],
    [
      'an address range becomes CIDRs',
      [{ name: 'R', type: 'host', entries: ['10.0.0.0-10.0.0.9'], descr: '' }],
      'R',
      { cidrs: ['10.0.0.0/29', '10.0.0.8/31'], dynamic: false },
    ],
    [
      'host bits are cleared as pfctl loads them',
      [{ name: 'N', type: 'network', entries: ['10.1.2.3/16'], descr: '' }],
      'N',
      { cidrs: ['10.1.0.0/16'], dynamic: false },
    ],
    [
      'an FQDN makes the table dynamic (filterdns)',
      [{ name: 'F', type: 'host', entries: ['10.0.0.1', 'www.example.com'], descr: '' }],
      'F',
      { cidrs: ['10.0.0.1/32'], dynamic: true },
    ],
    [
      'urltable is dynamic',
      [{ name: 'U', type: 'urltable', entries: [], descr: '', urls: ['https://x.example/list'] }],
      'U',
      { cidrs: [], dynamic: true },
    ],
    [
      'nesting a url alias makes the parent dynamic',
      [
        { name: 'U', type: 'url', entries: ['10.9.0.0/16'], descr: '' },
        { name: 'P', type: 'host', entries: ['U', '10.0.0.1'], descr: '' },
      ],
      'P',
      { cidrs: ['10.9.0.0/16', '10.0.0.1/32'], dynamic: true },
    ],
  ])('%s', (_name, aliases, name, expected) => {
    expect(tables(aliases).tables[name]).toMatchObject(expected);
  });

  it('port aliases become ranges, nested, with pf inclusive a:b', () => {
    const ruleset = tables([
      { name: 'WEB', type: 'port', entries: ['80', '443', '8000:8080'], descr: '' },
      { name: 'ALL', type: 'port', entries: ['WEB', '22'], descr: '' },
    ]);
    expect(ruleset.portAliases.ALL).toEqual({
      alias: 'ALL',
      ranges: [
        { from: 80, to: 80 },
        { from: 443, to: 443 },
        { from: 8000, to: 8080 },
        { from: 22, to: 22 },
      ],
    });
  });

  it.each<[string, PolicyConfig['aliases'], string]>([
    [
      'numeric-only names are skipped (redmine #4289)',
      [{ name: '42', type: 'host', entries: ['10.0.0.1'], descr: '' }],
      'POL020',
    ],
    [
      'a cycle is expanded once and reported',
      [
        { name: 'A', type: 'host', entries: ['B', '10.0.0.1'], descr: '' },
        { name: 'B', type: 'host', entries: ['A', '10.0.0.2'], descr: '' },
      ],
      'POL023',
    ],
    [
      'an invalid entry is left out and reported',
      [{ name: 'A', type: 'host', entries: ['10.0.0.300/99'], descr: '' }],
      'POL024',
    ],
    [
      'a duplicate name is reported',
      [
        { name: 'A', type: 'host', entries: ['10.0.0.1'], descr: '' },
        { name: 'A', type: 'host', entries: ['10.0.0.2'], descr: '' },
      ],
      'POL027',
    ],
  ])('%s', (_name, aliases, code) => {
    expect(tables(aliases).warnings.map((w) => w.code)).toContain(code);
  });

  it('a rule on a port alias that is empty is left out (filter.inc "Empty destination port alias")', () => {
    const ruleset = generate(
      baseConfig({
        aliases: [{ name: 'NONE', type: 'port', entries: [], descr: '' }],
        rules: [userRule({ protocol: 'tcp', destination: { kind: 'any', port: 'NONE', not: false } })],
      }),
    );
    expect(userRules(ruleset)).toHaveLength(0);
    expect(ruleset.warnings.map((w) => w.code)).toContain('POL005');
  });
});

describe('left out, never silently (docs/reference/pf-semantics.md §1.3, §1.7)', () => {
  it.each<[string, RuleConfig, string]>([
    ['disabled rule', userRule({ disabled: true }), 'POL001'],
    ['rule on a missing interface', userRule({ interface: 'opt5' }), 'POL002'],
    [
      'floating rule on no enabled interface (redmine #11688)',
      userRule({ floating: true, interface: 'opt5' }),
      'POL003',
    ],
    ['rule on the OpenVPN tab without OpenVPN', userRule({ interface: 'openvpn' }), 'POL002'],
  ])('%s', (_name, rule, code) => {
    const ruleset = withRules(rule);
    expect(userRules(ruleset)).toHaveLength(0);
    expect(ruleset.warnings.find((w) => w.code === code)?.ref).toMatchObject({ position: 1 });
  });

  it('a scheduled rule is kept, marked and reported', () => {
    const ruleset = withRules(userRule({ sched: 'Night' }));
    expect(only(ruleset).schedule).toBe('Night');
    expect(ruleset.warnings.map((w) => w.code)).toContain('POL007');
  });

  it('options that change matching but are not modelled are printed and reported', () => {
    const ruleset = withRules(userRule({ protocol: 'tcp', extra: { dscp: 'af11', os: 'Linux' } }));
    expect(only(ruleset).unmodelledOptions).toEqual(['os "Linux"', 'tos af11']);
    expect(ruleset.warnings.filter((w) => w.code === 'POL008')).toHaveLength(1);
  });
});

describe('fix_rule_label (filter.inc l.183)', () => {
  it.each<[string, string, string]>([
    ['short labels pass through', 'USER_RULE: ok', 'USER_RULE: ok'],
    ['double quotes are stripped', 'USER_RULE: say "hi"', 'USER_RULE: say hi'],
    [
      'over 63 characters: cut to 60 plus "..."',
      `USER_RULE: ${'x'.repeat(60)}`,
      `USER_RULE: ${'x'.repeat(49)}...`,
    ],
  ])('%s', (_name, input, expected) => {
    expect(fixRuleLabel(input)).toBe(expected);
    expect(fixRuleLabel(input).length).toBeLessThanOrEqual(63);
  });
});
