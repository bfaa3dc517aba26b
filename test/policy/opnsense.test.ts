/**
 * @module OPNsense configs end to end: the hand-written fixture (fixtures/opnsense/branch-office.xml, following the
 * opnsense/core files it names) is detected by its `<opnsense>` root, imported into the same model as a pfSense
 * backup and generated in OPNsense's priority order with its automatic rules (docs/reference/opnsense-rules.md);
 * traces have known answers, dynamic aliases answer `unknown` until facts supply them.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createEvaluator, type EvaluationResult } from '../../src/policy/evaluate.ts';
import { naturalCompare } from '../../src/policy/generate/opnsense.ts';
import { parseRuntimeFacts, type RuntimeFacts } from '../../src/policy/facts.ts';
import { importPolicyText, loadPolicy } from '../../src/policy/import/index.ts';
import { parsePacketLine } from '../../src/policy/packet.ts';
import { printRuleset } from '../../src/policy/print.ts';
import { PolicyInputError } from '../../src/policy/warnings.ts';

const here = (path: string) => new URL(path, import.meta.url);
const fixture = readFileSync(here('./fixtures/opnsense/branch-office.xml'), 'utf8');

function trace(text: string, line: string, facts?: RuntimeFacts): EvaluationResult {
  const { ruleset } = loadPolicy(text, facts === undefined ? {} : { facts });
  return createEvaluator(ruleset).evaluate(parsePacketLine(line));
}

/** `verdict by tab#position "descr"`, `verdict by system "descr"`, `unknown`, or `verdict by default`. */
function summary(result: EvaluationResult): string {
  if (result.verdict === 'unknown') return 'unknown';
  if (result.rule === null) return `${result.verdict} by ${result.decidedBy}`;
  const by = result.rule.kind === 'user' ? `${result.rule.tab}#${result.rule.position}` : 'system';
  return `${result.verdict} by ${by} "${result.rule.descr}"`;
}

/** Contents of every run-time table the fixture uses, so verdicts behind them become definite. */
const knownTables = parseRuntimeFacts({
  tables: { BLOCKLIST: ['203.0.113.0/24'], bogons: ['0.0.0.0/8', '240.0.0.0/4'], bogonsv6: [] },
});

/** The fixture with one part replaced (the part must occur, so a stale edit fails loudly). */
function edited(from: string, to: string): string {
  expect(fixture).toContain(from);
  return fixture.replace(from, to);
}

describe('OPNsense config.xml import (docs/reference/opnsense-rules.md §1, §4, §5)', () => {
  const { config, warnings } = importPolicyText(fixture);

  it('is detected by its <opnsense> root and read into the policy model', () => {
    expect(config.opnsense).toEqual({
      noIpv6Rfc4890: false,
      noPort0Block: false,
      noSshLockout: false,
      noVirusProt: false,
      virtualInterfaces: [],
      // The DHCP WAN brings a router (docs/reference/opnsense-rules.md §7.1).
      gatewayInterfaces: { inet: ['wan'], inet6: [] },
    });
    // The <lo0> entry newer releases write is the engine's own loopback, not a rules interface.
    expect(config.interfaces.map((i) => [i.key, i.device, i.ipv4.mode])).toEqual([
      ['wan', 'igb0', 'dhcp'],
      ['lan', 'igb1', 'static'],
      ['opt1', 'igb2', 'static'],
    ]);
    expect(config.interfaces[0]).toMatchObject({ blockPrivate: true, blockBogons: true, enabled: true });
    expect(config.groups).toEqual([{ name: 'INSIDE', members: ['lan', 'opt1'], descr: 'Inside networks' }]);
    expect(config.system.ssh.enabled).toBe(true);
    expect(config.system.logDefaultPass).toBe(true);
  });

  it('reads MVC aliases: static ones with their entries, nested groups by name, url and geoip as run-time tables', () => {
    expect(config.aliases.map((a) => [a.name, a.type, a.entries, a.urls ?? null])).toEqual([
      ['WEBSERVERS', 'host', ['10.10.10.20', '10.10.10.21'], null],
      ['ADMINNETS', 'network', ['192.168.1.0/28'], null],
      ['MANAGED', 'network', ['ADMINNETS', 'WEBSERVERS'], null],
      ['WEBPORTS', 'port', ['80', '443', '8080:8090'], null],
      ['BLOCKLIST', 'url', [], ['https://blocklist.example.org/drop.txt']],
      ['COUNTRIES', 'urltable', [], []],
    ]);
    expect(warnings.map((w) => w.message)).toContain(
      'alias "COUNTRIES" is an OPNsense geoip alias; its contents are set at run time and are dynamic',
    );
  });

  it('puts MVC and legacy rules in OPNsense priority order: floating, groups by sequence, interfaces; MVC first', () => {
    expect(config.rules.map((r) => r.descr)).toEqual([
      'Drop blocklist',
      'No telnet out',
      'DNS from inside',
      'Admins to web servers',
      'DMZ out https',
      'From home country (disabled)',
      'Web from internet',
      'LAN not to DMZ',
      'Default allow LAN to any rule',
      'Old DMZ allow all',
    ]);
    const mvc = config.rules[0];
    expect(mvc).toMatchObject({ type: 'block', floating: true, interface: 'wan,opt1', quick: true, log: true });
    expect(config.rules[4]?.destination).toEqual({ kind: 'address', value: 'MANAGED', not: true, port: '443' });
    expect(config.rules[5]?.disabled).toBe(true);
  });

  it('survives a round trip through the JSON model', () => {
    expect(importPolicyText(JSON.stringify(config)).config).toEqual(config);
  });

  it('refuses a JSON model whose opnsense section is malformed, naming the field', () => {
    const bad = { ...config, opnsense: { ...config.opnsense, noPort0Block: 'yes' } };
    expect(() => importPolicyText(JSON.stringify(bad))).toThrowError(
      expect.objectContaining({ field: 'opnsense.noPort0Block' }) as Error,
    );
    const extra = { ...config, opnsense: { ...config.opnsense, pfsync: true } };
    expect(() => importPolicyText(JSON.stringify(extra))).toThrowError(/^opnsense\.pfsync: /);
  });

  it.each<[string, string, string, string]>([
    [
      'an MVC rule with inverted interfaces',
      '<interface>lan</interface>\n            <direction>in</direction>\n            <ipprotocol>inet</ipprotocol>\n            <protocol>TCP</protocol>\n            <source_net>ADMINNETS</source_net>',
      '<interfacenot>1</interfacenot><interface>lan</interface>\n            <direction>in</direction>\n            <ipprotocol>inet</ipprotocol>\n            <protocol>TCP</protocol>\n            <source_net>ADMINNETS</source_net>',
      'inverts its interfaces; not modelled, rule left out',
    ],
    [
      'an MVC rule on an interface that does not exist',
      '<interface>lan</interface>\n            <direction>in</direction>',
      '<interface>opt9</interface>\n            <direction>in</direction>',
      'names no existing interface (opt9); rule left out',
    ],
  ])('leaves out %s with a warning', (_name, from, to, message) => {
    const { config: changed, warnings: reported } = importPolicyText(edited(from, to));
    expect(changed.rules.map((r) => r.descr)).not.toContain('Admins to web servers');
    expect(reported.map((w) => w.message).join('\n')).toContain(message);
  });

  it('expands an MVC rule with several source networks into one rule per network, as Rule.php does (§2.2)', () => {
    const { config: changed } = importPolicyText(edited('<source_net>ADMINNETS</source_net>', '<source_net>ADMINNETS,192.168.1.99</source_net>'));
    const admins = changed.rules.filter((r) => r.descr === 'Admins to web servers');
    expect(admins.map((r) => r.source)).toEqual([
      { kind: 'address', value: 'ADMINNETS', not: false },
      { kind: 'address', value: '192.168.1.99', not: false },
    ]);
    const line = 'lan in tcp 192.168.1.99:40000 -> 10.10.10.20:443 flags S';
    expect(summary(trace(fixture, line))).toBe('block by lan#2 "LAN not to DMZ"');
    expect(summary(trace(edited('<source_net>ADMINNETS</source_net>', '<source_net>ADMINNETS,192.168.1.99</source_net>'), line))).toBe(
      'pass by lan#2 "Admins to web servers"',
    );
  });

  it('takes ICMP types per family: icmptype for inet, icmp6type for inet6, an inet46 rule split in two (§2.2)', () => {
    const icmpRule = (ipprotocol: string, protocol: string) =>
      `<rule><sequence>50</sequence><action>pass</action><interface>lan</interface><ipprotocol>${ipprotocol}</ipprotocol>` +
      `<protocol>${protocol}</protocol><icmptype>echoreq</icmptype><icmp6type>128</icmp6type>` +
      `<description>ping ${ipprotocol}</description></rule>`;
    const changed = edited('</rules>', `${icmpRule('inet6', 'IPV6-ICMP')}${icmpRule('inet46', 'ICMP')}</rules>`);
    const rules = loadPolicy(changed).ruleset.rules.filter((r) => r.label?.startsWith('USER_RULE: ping'));
    expect(rules.map((r) => [r.label, r.af, r.protocols, r.icmpTypes])).toEqual([
      ['USER_RULE: ping inet6', 'inet6', ['ipv6-icmp'], ['128']],
      ['USER_RULE: ping inet46', 'inet', ['icmp'], ['echoreq']],
      ['USER_RULE: ping inet46', 'inet6', ['ipv6-icmp'], ['128']],
    ]);
  });

  it('keeps options of a legacy rule it does not model and reports them (POL008), never drops them silently', () => {
    const changed = edited('<descr>Web from internet</descr>', '<descr>Web from internet</descr><os>Linux</os><set-prio>3</set-prio>');
    const reported = loadPolicy(changed).ruleset.warnings.filter((w) => w.code === 'POL008').map((w) => w.message);
    expect(reported).toEqual([
      'rule "Web from internet" has os "Linux"; matching ignores it',
      'rule "Web from internet" has elements the engine does not know: <set-prio>; ignored',
    ]);
  });

  it('reads the internal __<if>_network alias as the interface network (§4)', () => {
    const changed = edited('<source_net>opt1</source_net>', '<source_net>__opt1_network</source_net>');
    const rule = importPolicyText(changed).config.rules.find((r) => r.descr === 'DMZ out https');
    expect(rule?.source).toEqual({ kind: 'network', value: '__opt1_network', not: false });
    expect(loadPolicy(changed).ruleset.rules.find((r) => r.label === 'USER_RULE: DMZ out https')?.from).toEqual({
      match: { kind: 'interface-network', interface: 'opt1' },
      negate: false,
    });
    const missing = edited('<source_net>opt1</source_net>', '<source_net>__opt7_network</source_net>');
    expect(importPolicyText(missing).config.rules.find((r) => r.descr === 'DMZ out https')?.source).toEqual({
      kind: 'address',
      value: '__opt7_network',
      not: false,
    });
  });

  it('reads legacy booleans as OPNsense does: <disabled>0</disabled> is an active rule', () => {
    const changed = edited('<disabled>1</disabled>\n      <descr>Old DMZ allow all</descr>', '<disabled>0</disabled>\n      <descr>Old DMZ allow all</descr>');
    expect(importPolicyText(changed).config.rules.find((r) => r.descr === 'Old DMZ allow all')?.disabled).toBe(false);
    expect(summary(trace(changed, 'opt1 in tcp 10.10.10.20:40000 -> 1.1.1.1:22 flags S', knownTables))).toBe(
      'pass by opt1#2 "Old DMZ allow all"',
    );
  });

  it('reads MVC TCP flags and reports MVC matching options it does not model (tos, prio)', () => {
    const changed = edited(
      '<destination_port>WEBPORTS</destination_port>',
      '<destination_port>WEBPORTS</destination_port><tcpflags1>syn</tcpflags1><tcpflags2>syn,ack</tcpflags2><tos>0x10</tos><prio>5</prio>',
    );
    const { ruleset } = loadPolicy(changed);
    const rule = ruleset.rules.find((r) => r.label === 'USER_RULE: Admins to web servers');
    expect(rule?.tcpFlags).toEqual({ set: 'S', outOf: 'SA', implicit: false });
    expect(rule?.unmodelledOptions).toEqual(['tos 0x10', 'prio 5']);
    expect(ruleset.warnings.map((w) => w.message)).toContain(
      'rule "Admins to web servers" has tos 0x10, prio 5; matching ignores them',
    );
  });

  it('reports an alias type it does not know and leaves the alias out', () => {
    const { config: changed, warnings: reported } = importPolicyText(edited('<type>geoip</type>', '<type>quantum</type>'));
    expect(changed.aliases.map((a) => a.name)).not.toContain('COUNTRIES');
    expect(reported.find((w) => w.code === 'POL026')?.message).toBe('alias "COUNTRIES" has type "quantum", unknown; left out');
  });

  it('refuses an OPNsense config without interfaces, naming the field', () => {
    expect(() => importPolicyText('<opnsense><system/></opnsense>')).toThrowError(PolicyInputError);
    expect(() => importPolicyText('<opnsense><system/></opnsense>')).toThrowError(/defines no interfaces/);
  });
});

describe('OPNsense ruleset generation (docs/reference/opnsense-rules.md §2, §3)', () => {
  const { ruleset } = loadPolicy(fixture);
  const text = printRuleset(ruleset);

  it('matches the golden text', () => {
    const golden = here('./golden/opnsense-branch-office.pf');
    const sidecar = here('./golden/opnsense-branch-office.pf.actual');
    if (process.env.UPDATE_GOLDEN === '1') writeFileSync(golden, text);
    const expected = readFileSync(golden, 'utf8');
    if (expected !== text) writeFileSync(sidecar, text);
    else rmSync(sidecar, { force: true });
    expect(text).toBe(expected);
  });

  it('writes the automatic rules OPNsense writes, in its order', () => {
    expect(ruleset.target).toBe('opnsense');
    const lines = text.split('\n');
    const at = (line: string) => {
      const index = lines.indexOf(line);
      expect(index, line).toBeGreaterThan(-1);
      return index;
    };
    const deny = at('block in log inet all label "Default deny / state violation rule"');
    at('block in log inet6 all label "Default deny / state violation rule"');
    const private4 = at(
      'block in log quick on $WAN inet from { 10.0.0.0/8 172.16.0.0/12 192.168.0.0/16 127.0.0.0/8 100.64.0.0/10 169.254.0.0/16 } to any label "Block private networks from WAN"',
    );
    const letOut = at('pass out log all allow-opts keep state label "let out anything from firewall host itself"');
    const lockout = at('pass in log quick on igb1 proto tcp from any to (self) port = 22 keep state label "anti-lockout rule"');
    const floating = at('block in log quick on { igb0 igb2 } inet from $BLOCKLIST to any label "USER_RULE: Drop blocklist"');
    const group = at(
      'pass in quick on $INSIDE inet proto udp from $INSIDE__NETWORK to any port 53 keep state label "USER_RULE: DNS from inside"',
    );
    // Rule::loadAliasMap writes an interface name as pf's `(<if>:network)` (docs/reference/opnsense-rules.md §2.3).
    const tab = at('block in quick on $LAN inet from (igb1:network) to (igb2:network) label "USER_RULE: LAN not to DMZ"');
    expect([deny, private4, letOut, lockout, floating, group, tab]).toEqual(
      [deny, private4, letOut, lockout, floating, group, tab].sort((a, b) => a - b),
    );
    expect(text).toContain('table <bogons> persist file "/usr/local/etc/bogons"');
    expect(text).not.toContain('Block all IPv6');
  });

  it('follows the system switches: IPv6 disabled, port 0 and lockout tables off, no anti-lockout', () => {
    const changed = edited(
      '<system>\n    <hostname>branch</hostname>\n    <ipv6allow>1</ipv6allow>\n    <webgui>',
      '<system>\n    <no_port0_block>1</no_port0_block><no_sshlockout>1</no_sshlockout><no_virusprot>1</no_virusprot>\n    <hostname>branch</hostname>\n    <ipv6allow>1</ipv6allow>\n    <webgui><noantilockout/>',
    ).replace('<OPNsense>', '<OPNsense><Interfaces><settings><disableipv6>1</disableipv6></settings></Interfaces>');
    const labels = loadPolicy(changed).ruleset.rules.map((r) => r.label);
    expect(labels).toContain('Block all IPv6');
    for (const gone of ['IPv6 RFC4890 requirements (ICMP)', 'block all targeting port 0', 'sshlockout', 'virusprot overload table', 'anti-lockout rule']) {
      expect(labels).not.toContain(gone);
    }
  });

  it('puts the anti-lockout rule on lan, else the lowest optN in natural order, else wan (§3.3)', () => {
    const lockoutOn = (text: string) =>
      loadPolicy(text).ruleset.rules.find((r) => r.label === 'anti-lockout rule')?.on?.interfaces ?? [];
    expect(lockoutOn(fixture)).toEqual(['lan']);
    const noLan = edited('<lan>\n      <if>igb1</if>', '<opt10>\n      <if>igb1</if>').replace('</lan>\n    <opt1>', '</opt10>\n    <opt1>');
    expect(lockoutOn(noLan)).toEqual(['opt1']);
    expect(['opt10', 'wan', 'opt2', 'lan', 'opt1'].sort(naturalCompare)).toEqual(['lan', 'opt1', 'opt2', 'opt10', 'wan']);
  });

  it('reads IPv6 from <system><ipv6allow> when the config predates OPNsense/Interfaces/settings (§1)', () => {
    const blocksIpv6 = (text: string) => loadPolicy(text).ruleset.rules.some((r) => r.label === 'Block all IPv6');
    expect(blocksIpv6(fixture)).toBe(false);
    const noAllow = edited('<ipv6allow>1</ipv6allow>', '');
    // The migration sets disableipv6 when ipv6allow is absent.
    expect(blocksIpv6(noAllow)).toBe(true);
    const settings = (value: string) =>
      noAllow.replace('<OPNsense>', `<OPNsense><Interfaces><settings><disableipv6>${value}</disableipv6></settings></Interfaces>`);
    expect(blocksIpv6(settings('0'))).toBe(false);
    expect(blocksIpv6(settings('1'))).toBe(true);
  });

  it('honours quick and direction on an interface rule, as FilterRule.php does (§2.1)', () => {
    const changed = edited(
      '<interface>lan</interface>\n      <ipprotocol>inet</ipprotocol>\n      <source><network>lan</network></source>',
      '<interface>lan</interface>\n      <quick>0</quick>\n      <direction>out</direction>\n      <ipprotocol>inet</ipprotocol>\n      <source><network>lan</network></source>',
    );
    const rule = loadPolicy(changed).ruleset.rules.find((r) => r.label === 'USER_RULE: LAN not to DMZ');
    expect(rule).toMatchObject({ quick: false, direction: 'out' });
  });
});

describe('OPNsense traces with known answers', () => {
  it.each<[string, string, string]>([
    ['LAN to the internet passes by the legacy LAN rule', 'lan in tcp 192.168.1.50:40000 -> 8.8.8.8:443 flags S', 'pass by lan#3 "Default allow LAN to any rule"'],
    ['telnet from LAN is blocked by the floating rule before the LAN rules', 'lan in tcp 192.168.1.50:40000 -> 8.8.8.8:23 flags S', 'block by floating#2 "No telnet out"'],
    ['an admin reaches the web servers by the MVC rule (nested port alias)', 'lan in tcp 192.168.1.5:40000 -> 10.10.10.20:8085 flags S', 'pass by lan#1 "Admins to web servers"'],
    ['another LAN host is blocked from the DMZ', 'lan in tcp 192.168.1.50:40000 -> 10.10.10.20:443 flags S', 'block by lan#2 "LAN not to DMZ"'],
    ['the GUI from LAN passes by the anti-lockout rule', 'lan in tcp 192.168.1.50:40000 -> 192.168.1.1:443 flags S', 'pass by system "anti-lockout rule"'],
    ['a private source on WAN is blocked before any user rule', 'wan in tcp 10.0.0.5:40000 -> 10.10.10.20:443 flags S', 'block by system "Block private networks from WAN"'],
    ['DMZ traffic meets the url alias first: unknown', 'opt1 in udp 10.10.10.20:5000 -> 1.1.1.1:53', 'unknown'],
    ['WAN traffic meets the downloaded bogons first: unknown', 'wan in tcp 198.51.100.7:40000 -> 10.10.10.20:443 flags S', 'unknown'],
  ])('%s', (_name, line, expected) => {
    expect(summary(trace(fixture, line))).toBe(expected);
  });

  it.each<[string, string, string]>([
    ['DNS from the DMZ passes by the group rule', 'opt1 in udp 10.10.10.20:5000 -> 1.1.1.1:53', 'pass by INSIDE#1 "DNS from inside"'],
    ['a blocklisted WAN source is dropped', 'wan in tcp 203.0.113.7:40000 -> 10.10.10.20:443 flags S', 'block by floating#1 "Drop blocklist"'],
    ['web from the internet passes by the legacy WAN rule', 'wan in tcp 198.51.100.7:40000 -> 10.10.10.21:80 flags S', 'pass by wan#2 "Web from internet"'],
    ['SSH from the DMZ falls to the default deny', 'opt1 in tcp 10.10.10.20:40000 -> 1.1.1.1:22 flags S', 'block by system "Default deny / state violation rule"'],
  ])('with the run-time tables given as facts: %s', (_name, line, expected) => {
    expect(summary(trace(fixture, line, knownTables))).toBe(expected);
  });
});
