/**
 * OPNsense NAT (docs/reference/opnsense-rules.md §7, docs/adr/0260-0262): the importer reads port forwards, outbound
 * NAT in each mode, 1:1 and NPt into the engine's NAT model; traces show the translation and the rule that decides
 * the translated packet (the linked filter rule, `rdr pass`, or the rule OPNsense registers itself); reflection and
 * the automatic rules follow OPNsense, not pfSense; what cannot be known answers `unknown` with POL045.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createEvaluator, type EvaluationResult } from '../../src/policy/evaluate.ts';
import { proposeFixes } from '../../src/policy/fixes.ts';
import { importPolicyText, loadPolicy } from '../../src/policy/import/index.ts';
import type { PfRuleset } from '../../src/policy/model.ts';
import { parsePacketLine } from '../../src/policy/packet.ts';
import { printRuleset } from '../../src/policy/print.ts';
import { parsePolicyTests, runPolicyTests } from '../../src/policy/tests.ts';

const here = (path: string) => new URL(path, import.meta.url);
const fixture = readFileSync(here('./fixtures/opnsense/nat.xml'), 'utf8');
const realForwards = readFileSync(here('./fixtures/opnsense/real-port-forwards.xml'), 'utf8');
const realLegacy = readFileSync(here('./fixtures/opnsense/real-legacy-port-forwards.xml'), 'utf8');

function trace(text: string, line: string): EvaluationResult {
  return createEvaluator(loadPolicy(text).ruleset).evaluate(parsePacketLine(line));
}

/** `verdict by tab#position "descr"`, `verdict by system "descr"`, `verdict by nat`, or `unknown`. */
function summary(result: EvaluationResult): string {
  if (result.verdict === 'unknown') return 'unknown';
  if (result.rule === null) return `${result.verdict} by ${result.decidedBy}`;
  const by = result.rule.kind === 'user' ? `${result.rule.tab}#${result.rule.position}` : 'system';
  return `${result.verdict} by ${by} "${result.rule.descr}"`;
}

/** The translations of a trace as `kind field before -> after`. */
function steps(result: EvaluationResult): string[] {
  return (result.translations ?? []).map((s) => `${s.stage} ${s.kind} ${s.field} ${s.before} -> ${s.after}`);
}

function natText(ruleset: PfRuleset): string[] {
  return (ruleset.nat ?? []).map((rule) => rule.text);
}

/** A minimal OPNsense config: WAN with a static address and gateway, LAN, DMZ; `nat` and `extra` spliced in. */
function config(nat: string, extra = '', system = ''): string {
  return `<opnsense><system><hostname>t</hostname><ipv6allow>1</ipv6allow><webgui><protocol>https</protocol></webgui>${system}</system>
  <interfaces>
    <wan><if>igb0</if><descr>WAN</descr><enable>1</enable><ipaddr>198.51.100.2</ipaddr><subnet>24</subnet><gateway>WAN_GW</gateway></wan>
    <lan><if>igb1</if><descr>LAN</descr><enable>1</enable><ipaddr>192.168.1.1</ipaddr><subnet>24</subnet></lan>
    <opt1><if>igb2</if><descr>DMZ</descr><enable>1</enable><ipaddr>10.10.10.1</ipaddr><subnet>24</subnet></opt1>
  </interfaces>
  <nat>${nat}</nat>${extra}</opnsense>`;
}

const forward = (body: string) =>
  `<rule><interface>wan</interface><ipprotocol>inet</ipprotocol><protocol>tcp</protocol><source><any>1</any></source>${body}</rule>`;

describe('OPNsense NAT import (docs/reference/opnsense-rules.md §7)', () => {
  it('reads port forwards: the association, interface lists, inet46 and service names', () => {
    const { config: imported } = importPolicyText(
      config(
        forward(
          '<destination><network>wanip</network><port>https</port></destination><target>10.10.10.20</target><associated-rule-id>pass</associated-rule-id><descr>a</descr>',
        ) +
          '<rule><interface>wan,opt1</interface><ipprotocol>inet46</ipprotocol><protocol>tcp</protocol><destination><network>any</network><port>25</port></destination><target>MAIL</target><pass>rule</pass><natreflection>purenat</natreflection><descr>b</descr></rule>',
      ),
    );
    const forwards = imported.nat?.portForwards ?? [];
    expect(forwards.map((f) => [f.descr, f.interface, f.ipprotocol, f.associatedRuleId ?? null, f.registerRule ?? false])).toEqual([
      ['a', 'wan', 'inet', 'pass', false],
      ['b', 'wan', 'inet', null, true],
      ['b', 'wan', 'inet6', null, true],
      ['b', 'opt1', 'inet', null, true],
      ['b', 'opt1', 'inet6', null, true],
    ]);
    expect(forwards[0]?.destination).toEqual({ kind: 'network', value: 'wanip', not: false, port: '443' });
    expect(forwards[1]?.natReflection).toBe('purenat');
  });

  it('outbound NAT: no <nat> is automatic; manual rules (MVC first, then legacy) only in hybrid and advanced', () => {
    expect(importPolicyText(config('')).config.nat?.outbound).toEqual({ mode: 'automatic', rules: [] });
    const legacy =
      '<rule><interface>wan</interface><source><network>lan</network></source><destination><any>1</any></destination><target>other-subnet</target><targetip>198.51.100.9</targetip><targetip_subnet>32</targetip_subnet><descr>legacy</descr></rule>';
    const mvc = `<OPNsense><Firewall><Filter><snatrules><rule><enabled>1</enabled><sequence>1</sequence><interface>wan</interface><ipprotocol>inet</ipprotocol><source_net>opt1</source_net><destination_net>any</destination_net><target>wanip</target><target_port>https</target_port><description>mvc</description></rule></snatrules></Filter></Firewall></OPNsense>`;
    for (const mode of ['automatic', 'hybrid', 'advanced', 'disabled'] as const) {
      const { ruleset } = loadPolicy(config(`<outbound><mode>${mode}</mode>${legacy}</outbound>`, mvc));
      const origins = (ruleset.nat ?? []).filter((r) => r.kind === 'nat').map((r) => r.origin.descr);
      const manual = mode === 'hybrid' || mode === 'advanced' ? ['mvc', 'legacy'] : [];
      const automatic = mode === 'automatic' || mode === 'hybrid' ? Array(6).fill('Automatic outbound rule') : [];
      expect(origins, mode).toEqual([...manual, ...automatic]);
    }
    const { config: hybrid } = importPolicyText(config(`<outbound><mode>hybrid</mode>${legacy}</outbound>`, mvc));
    expect(hybrid.nat?.outbound.rules.map((r) => [r.descr, r.source, r.target, r.natPort ?? null])).toEqual([
      ['mvc', 'opt1', '', '443'],
      ['legacy', 'lan', '198.51.100.9/32', null],
    ]);
  });

  it('an unknown outbound mode generates no outbound NAT (POL042)', () => {
    const { ruleset } = loadPolicy(config('<outbound><mode>sometimes</mode></outbound>'));
    expect(ruleset.nat?.some((r) => r.kind === 'nat') ?? false).toBe(false);
    expect(ruleset.warnings.map((w) => w.code)).toContain('POL042');
  });

  it('reads a not yet migrated <nat><onetoone> and <nat><npt> as the migrations do', () => {
    const { config: imported } = importPolicyText(
      config(
        '<onetoone><interface>wan</interface><external>198.51.100.30</external><source><address>10.10.10.30</address></source><destination><any/></destination><descr>one</descr></onetoone>' +
          '<npt><interface>wan</interface><source><address>2001:db8:10::/64</address></source><destination><address>2001:db8:ff10::</address></destination><descr>npt</descr></npt>',
      ),
    );
    expect(imported.nat?.oneToOne.map((o) => [o.descr, o.ipprotocol, o.external, o.source.value, o.type])).toEqual([
      ['npt', 'inet6', '2001:db8:ff10::/64', '2001:db8:10::/64', 'binat'],
      ['one', 'inet', '198.51.100.30', '10.10.10.30', 'binat'],
    ]);
  });

  it('no longer lists NAT as not modelled', () => {
    const { warnings } = importPolicyText(fixture);
    expect(warnings.map((w) => w.message).join('\n')).not.toMatch(/<nat>|destination NAT/);
  });
});

describe('OPNsense NAT traces (docs/reference/opnsense-rules.md §7)', () => {
  it('a forwarded packet is redirected, then passed by the port forward’s linked filter rule', () => {
    const result = trace(fixture, 'wan in tcp 192.0.2.7:40000 -> 198.51.100.2:443 flags S');
    expect(summary(result)).toBe('pass by wan#1 "NAT HTTPS to web server"');
    expect(steps(result)).toEqual(['translate rdr destination 198.51.100.2:443 -> 10.10.10.20:443']);
    expect(result.explanation).toContain('port forward "HTTPS to web server"');
  });

  it('the reply of a forwarded connection passes by state and is translated back', () => {
    const evaluator = createEvaluator(loadPolicy(fixture).ruleset);
    evaluator.evaluate(parsePacketLine('wan in tcp 192.0.2.7:40000 -> 198.51.100.2:443 flags S'));
    const reply = evaluator.evaluate(parsePacketLine('wan out tcp 10.10.10.20:443 -> 192.0.2.7:40000 flags SA'));
    expect(reply.verdict).toBe('pass');
    expect(steps(reply)).toEqual(['reply rdr source 10.10.10.20:443 -> 198.51.100.2:443']);
  });

  it('"Pass" association: rdr pass decides without a filter rule', () => {
    const result = trace(fixture, 'wan in tcp 192.0.2.7:40000 -> 198.51.100.2:2222 flags S');
    expect(summary(result)).toBe('pass by nat');
    expect(steps(result)).toEqual(['translate rdr destination 198.51.100.2:2222 -> 10.10.10.21:22']);
  });

  it('"Register rule": the pass rule OPNsense writes after every user rule, to the target and local port range', () => {
    const result = trace(fixture, 'wan in tcp 203.0.113.9:40000 -> 198.51.100.2:8081 flags S');
    expect(summary(result)).toBe('pass by system "Partner app"');
    expect(steps(result)).toEqual(['translate rdr destination 198.51.100.2:8081 -> 10.10.10.22:81']);
    const { ruleset } = loadPolicy(fixture);
    const last = ruleset.rules.at(-1);
    expect(last?.origin).toMatchObject({ kind: 'system', systemKey: 'nat-associated', descr: 'Partner app' });
    expect(last?.toPort?.ranges).toEqual([{ from: 80, to: 81 }]);
    // The source restriction of the forward holds: another source is not redirected and is blocked.
    expect(summary(trace(fixture, 'wan in tcp 192.0.2.7:40000 -> 198.51.100.2:8081 flags S'))).toBe(
      'block by system "Default deny / state violation rule"',
    );
  });

  it('a forward without a filter rule is blocked, and the fix proposal passes the redirected packet', () => {
    const line = 'wan in udp 192.0.2.7:40000 -> 198.51.100.2:27015';
    expect(summary(trace(fixture, line))).toBe('block by system "Default deny / state violation rule"');
    const proposal = proposeFixes(importPolicyText(fixture).config, parsePacketLine(line));
    expect(proposal.fixes[0]?.description).toBe('insert a pass rule at wan #2: Allow udp 192.0.2.7 to 10.10.10.40 port 27015');
    expect(proposal.fixes[0]?.verified.verdict).toBe('pass');
  });

  it('a disabled port forward redirects nothing', () => {
    const result = trace(fixture, 'wan in tcp 192.0.2.7:40000 -> 198.51.100.2:3389 flags S');
    expect(steps(result)).toEqual([]);
    expect(result.verdict).toBe('block');
  });

  it('NAT reflection is pure NAT on the interfaces without a gateway (OPNsense has no NAT + proxy mode)', () => {
    const result = trace(fixture, 'lan in tcp 192.168.1.5:40000 -> 198.51.100.2:443 flags S');
    expect(summary(result)).toBe('pass by lan#1 "Default allow LAN to any rule"');
    expect(result.translations?.[0]?.rule.origin.kind).toBe('reflection');
    // Switched off per forward: the game server forward says `disable`.
    expect(steps(trace(fixture, 'lan in udp 192.168.1.5:40000 -> 198.51.100.2:27015'))).toEqual([]);
    // Switched off system-wide: `disablenatreflection`, unless the forward says `purenat`.
    const off = fixture.replace('<ipv6allow>1</ipv6allow>', '<ipv6allow>1</ipv6allow><disablenatreflection>yes</disablenatreflection>');
    expect(steps(trace(off, 'lan in tcp 192.168.1.5:40000 -> 198.51.100.2:443 flags S'))).toEqual([]);
  });

  it('enablenatreflectionhelper adds the nat that returns reflected replies through the firewall', () => {
    const helper = fixture.replace('<ipv6allow>1</ipv6allow>', '<ipv6allow>1</ipv6allow><enablenatreflectionhelper>1</enablenatreflectionhelper>');
    const texts = natText(loadPolicy(helper).ruleset);
    expect(texts).toContain('nat on igb2 inet proto tcp from (opt1:network) to 10.10.10.20 port 443 -> 10.10.10.1/32 port 1024:65535 ');
    const result = trace(helper, 'opt1 out tcp 10.10.10.9:40000 -> 10.10.10.20:443 flags S');
    expect(steps(result)).toEqual(['translate nat source 10.10.10.9:40000 -> 10.10.10.1:40000']);
  });

  it('outbound NAT appears in the trace: a manual rule, the automatic rule, and no nat', () => {
    const manual = trace(fixture, 'wan out tcp 10.10.10.5:40000 -> 8.8.8.8:443 flags S');
    expect(steps(manual)).toEqual(['translate nat source 10.10.10.5:40000 -> 198.51.100.10:40000']);
    expect(manual.translations?.[0]?.rule.origin).toMatchObject({ kind: 'outbound', descr: 'DMZ leaves from .10' });
    const automatic = trace(fixture, 'wan out tcp 192.168.1.5:40000 -> 8.8.8.8:443 flags S');
    expect(steps(automatic)).toEqual(['translate nat source 192.168.1.5:40000 -> 198.51.100.2:40000']);
    expect(automatic.translations?.[0]?.rule.origin.kind).toBe('outbound-automatic');
    // ISAKMP keeps its source port (static-port) and is matched first.
    const isakmp = trace(fixture, 'wan out udp 192.168.1.5:500 -> 8.8.8.8:500');
    expect(isakmp.translations?.[0]?.rule.text).toContain('static-port');
    expect(steps(trace(fixture, 'wan out tcp 192.168.1.5:40000 -> 203.0.113.7:443 flags S'))).toEqual([]);
  });

  it('the automatic rules cover every network without a gateway, IPv4 only, on interfaces with a gateway', () => {
    const automatic = (loadPolicy(fixture).ruleset.nat ?? []).filter((r) => r.origin.kind === 'outbound-automatic');
    expect(automatic.map((r) => r.text.trim())).toEqual([
      'nat on igb0 inet from (opt1:network) to any port 500 -> 198.51.100.2/32  static-port',
      'nat on igb0 inet from (lan:network) to any port 500 -> 198.51.100.2/32  static-port',
      'nat on igb0 inet from 127.0.0.0/8 to any port 500 -> 198.51.100.2/32  static-port',
      'nat on igb0 inet from (opt1:network) to any -> 198.51.100.2/32 port 1024:65535',
      'nat on igb0 inet from (lan:network) to any -> 198.51.100.2/32 port 1024:65535',
      'nat on igb0 inet from 127.0.0.0/8 to any -> 198.51.100.2/32 port 1024:65535',
    ]);
    // No gateway named on the static WAN: OPNsense writes no automatic rule at all.
    const none = loadPolicy(fixture.replace('<gateway>WAN_GW</gateway>', ''));
    expect((none.ruleset.nat ?? []).some((r) => r.origin.kind === 'outbound-automatic')).toBe(false);
  });

  it('1:1 translates both ways and reflects when the entry says enable', () => {
    const inbound = trace(fixture, 'wan in tcp 192.0.2.7:40000 -> 198.51.100.30:25 flags S');
    expect(steps(inbound)).toEqual(['translate binat destination 198.51.100.30:25 -> 10.10.10.30:25']);
    const outbound = trace(fixture, 'wan out tcp 10.10.10.30:40000 -> 8.8.8.8:25 flags S');
    expect(steps(outbound)).toEqual(['translate binat source 10.10.10.30:40000 -> 198.51.100.30:40000']);
    const reflected = trace(fixture, 'lan in tcp 192.168.1.5:40000 -> 198.51.100.30:25 flags S');
    expect(steps(reflected)).toEqual(['translate rdr destination 198.51.100.30:25 -> 10.10.10.30:25']);
  });

  it('a 1:1 entry of type nat only translates outbound, after the automatic rules', () => {
    const text = fixture.replace('<type>binat</type>', '<type>nat</type>');
    expect(steps(trace(text, 'wan in tcp 192.0.2.7:40000 -> 198.51.100.30:25 flags S'))).toEqual([]);
    // Manual (priority 100) and automatic (200) rules for the DMZ network come first, so they win.
    const outbound = trace(text, 'wan out tcp 10.10.10.30:40000 -> 8.8.8.8:25 flags S');
    expect(outbound.translations?.[0]?.rule.origin).toMatchObject({ kind: 'outbound', descr: 'DMZ leaves from .10' });
    const advanced = text.replace('<mode>hybrid</mode>', '<mode>disabled</mode>');
    const alone = trace(advanced, 'wan out tcp 10.10.10.30:40000 -> 8.8.8.8:25 flags S');
    expect(steps(alone)).toEqual(['translate nat source 10.10.10.30:40000 -> 198.51.100.30:40000']);
  });

  it('NPt maps the IPv6 prefix both ways', () => {
    const out = trace(fixture, 'wan out tcp [2001:db8:10::5]:40000 -> [2001:db8:99::1]:443 flags S');
    expect(steps(out)).toEqual(['translate binat source [2001:db8:10::5]:40000 -> [2001:db8:ff10::5]:40000']);
    const back = trace(fixture, 'wan in tcp [2001:db8:99::1]:40000 -> [2001:db8:ff10::5]:443 flags S');
    expect(steps(back)).toEqual(['translate binat destination [2001:db8:ff10::5]:443 -> [2001:db8:10::5]:443']);
  });

  it('the anti-lockout no rdr keeps the GUI reachable on the lockout interface whatever the forwards say', () => {
    const lan = config(
      '<rule><interface>lan</interface><ipprotocol>inet</ipprotocol><protocol>tcp</protocol><destination><network>lanip</network><port>443</port></destination><target>10.10.10.20</target><descr>steal 443</descr></rule>',
    );
    const result = trace(lan, 'lan in tcp 192.168.1.5:40000 -> 192.168.1.1:443 flags S');
    expect(steps(result)).toEqual([]);
    expect(summary(result)).toBe('pass by system "anti-lockout rule"');
  });
});

describe('policy tests on OPNsense NAT', () => {
  it('flows to the public address are judged after the redirect, by the rule that decides them', () => {
    const flow = (name: string, fields: Record<string, unknown>) => ({
      name,
      interface: 'wan',
      protocol: 'tcp',
      source: '192.0.2.7',
      destination: '198.51.100.2',
      ...fields,
    });
    const suite = parsePolicyTests({
      version: 1,
      flows: [
        flow('web', { destination_port: 443, expect: 'pass', via: 'NAT HTTPS to web server' }),
        flow('rdp stays closed', { destination_port: 3389, expect: 'block' }),
        flow('pool', { destination_port: 8443, expect: 'pass' }),
      ],
    });
    const report = runPolicyTests(loadPolicy(fixture).ruleset, suite);
    expect(report.results.map((r) => [r.name, r.status])).toEqual([
      ['web', 'ok'],
      ['rdp stays closed', 'ok'],
      ['pool', 'unknown'],
    ]);
  });
});

describe('OPNsense NAT that cannot be known or resolved (POL045)', () => {
  it('a forward to a pool (an alias with several hosts) answers unknown', () => {
    const { ruleset } = loadPolicy(fixture);
    expect(ruleset.warnings.find((w) => w.code === 'POL045')?.message).toContain('"Pool of web servers"');
    const result = trace(fixture, 'wan in tcp 192.0.2.7:40000 -> 198.51.100.2:8443 flags S');
    expect(result.verdict).toBe('unknown');
    expect(result.explanation).toContain('-> $WEBSERVERS');
  });

  it('a forward to an alias with run-time contents answers unknown', () => {
    const text = config(
      forward('<destination><network>wanip</network><port>80</port></destination><target>DYN</target><descr>dyn</descr>'),
      '<OPNsense><Firewall><Alias><aliases><alias><enabled>1</enabled><name>DYN</name><type>host</type><content>web.example.org</content></alias></aliases></Alias></Firewall></OPNsense>',
    );
    expect(loadPolicy(text).ruleset.warnings.map((w) => w.code)).toContain('POL045');
    expect(trace(text, 'wan in tcp 192.0.2.7:40000 -> 198.51.100.2:80 flags S').verdict).toBe('unknown');
  });

  it('an outbound rule translating to an alias pool answers unknown', () => {
    const text = config(
      '<outbound><mode>advanced</mode><rule><interface>wan</interface><source><network>lan</network></source><destination><any>1</any></destination><target>POOL</target><descr>pool</descr></rule></outbound>',
      '<OPNsense><Firewall><Alias><aliases><alias><enabled>1</enabled><name>POOL</name><type>host</type><content>198.51.100.10\n198.51.100.11</content></alias></aliases></Alias></Firewall></OPNsense>',
    );
    expect(loadPolicy(text).ruleset.warnings.map((w) => w.code)).toContain('POL045');
    expect(trace(text, 'wan out tcp 192.168.1.5:40000 -> 8.8.8.8:443 flags S').verdict).toBe('unknown');
  });

  it('a target that is no address and no alias is left out, as OPNsense comments the rule out', () => {
    const text = config(forward('<destination><network>wanip</network><port>80</port></destination><target>not-a-host</target><descr>bad</descr>'));
    const { ruleset } = loadPolicy(text);
    expect(ruleset.warnings.find((w) => w.code === 'POL045')?.message).toContain('port forward "bad" (#1)');
    expect(ruleset.nat?.some((r) => r.origin.descr === 'bad') ?? false).toBe(false);
  });

  it('an outbound rule without an interface is left out with POL045', () => {
    const text = config(
      '<outbound><mode>advanced</mode><rule><source><network>lan</network></source><destination><any>1</any></destination><descr>nowhere</descr></rule></outbound>',
    );
    const { ruleset } = loadPolicy(text);
    expect(ruleset.warnings.find((w) => w.code === 'POL045')?.message).toContain('"nowhere" names no interface');
    expect((ruleset.nat ?? []).filter((r) => r.kind === 'nat')).toEqual([]);
  });

  it('a forward on an interface that does not exist is left out with POL045', () => {
    const text = config(forward('<destination><any>1</any><port>80</port></destination><target>10.10.10.20</target><descr>x</descr>').replace('<interface>wan</interface>', '<interface>opt9</interface>'));
    expect(loadPolicy(text).ruleset.warnings.map((w) => w.code)).toContain('POL045');
  });
});

describe('port forwards from a public OPNsense test configuration (fixtures/opnsense/real-port-forwards.xml)', () => {
  it('the linked legacy filter rule passes the redirected packet', () => {
    const result = trace(realForwards, 'wan in tcp 192.0.2.7:40000 -> 198.51.100.2:443 flags S');
    expect(summary(result)).toBe('pass by wan#1 "HTTPS to web server"');
    expect(steps(result)).toEqual(['translate rdr destination 198.51.100.2:443 -> 192.168.10.50:8443']);
  });

  it('the mail forward: only from TRUSTED_NETS, rdr pass, the port alias kept as the local port, on wan and opt1', () => {
    expect(summary(trace(realForwards, 'wan in tcp 203.0.113.5:40000 -> 198.51.100.2:587 flags S'))).toBe('pass by nat');
    expect(summary(trace(realForwards, 'opt1 in tcp 203.0.113.5:40000 -> 198.51.100.2:25 flags S'))).toBe('pass by nat');
    expect(summary(trace(realForwards, 'wan in tcp 192.0.2.7:40000 -> 198.51.100.2:587 flags S'))).toBe(
      'block by system "Default deny / state violation rule"',
    );
  });

  it('the no-rdr entry (destination (self), port https) and the disabled "Register rule" entry', () => {
    const { ruleset } = loadPolicy(realForwards);
    expect(natText(ruleset)).toContain('no rdr on vtnet1 inet proto tcp from any to (self) port 443');
    expect(ruleset.rules.some((r) => r.origin.systemKey === 'nat-associated')).toBe(false);
  });
});

describe('port forwards as OPNsense wrote them up to 25.7 (fixtures/opnsense/real-legacy-port-forwards.xml)', () => {
  it('the linked filter rule decides; "pass" as associated-rule-id is rdr pass', () => {
    expect(summary(trace(realLegacy, 'wan in tcp 192.0.2.7:40000 -> 198.51.100.2:443 flags S'))).toBe(
      'pass by wan#1 "HTTPS to web server"',
    );
    const { config: imported } = importPolicyText(realLegacy);
    expect(imported.nat?.portForwards.map((f) => [f.interface, f.protocol, f.associatedRuleId ?? null])).toEqual([
      ['wan', 'tcp', 'nat_68dd1c2a4b5c61.23456789'],
      ['wan', 'tcp/udp', 'pass'],
      ['opt1', 'tcp/udp', 'pass'],
      ['lan', 'tcp', null],
    ]);
  });

  it('the mail forward applies to every source except TRUSTED_NETS (<not>), for tcp and udp', () => {
    expect(summary(trace(realLegacy, 'wan in udp 192.0.2.7:40000 -> 198.51.100.2:25'))).toBe('pass by nat');
    const trusted = trace(realLegacy, 'wan in tcp 203.0.113.5:40000 -> 198.51.100.2:587 flags S');
    expect(steps(trusted)).toEqual([]);
    expect(trusted.verdict).toBe('block');
  });
});

describe('OPNsense NAT golden ruleset', () => {
  it('matches the golden text', () => {
    const text = printRuleset(loadPolicy(fixture).ruleset);
    const golden = here('./golden/opnsense-nat.pf');
    const sidecar = here('./golden/opnsense-nat.pf.actual');
    if (process.env.UPDATE_GOLDEN === '1') writeFileSync(golden, text);
    const expected = readFileSync(golden, 'utf8');
    if (expected !== text) writeFileSync(sidecar, text);
    else rmSync(sidecar, { force: true });
    expect(text).toBe(expected);
  });
});
