/**
 * @module config.xml and JSON model import: presence booleans, the filter-relevant schema of docs/reference/pf-semantics.md §1.6,
 * front-end equivalence (XML and its JSON model give byte-identical rulesets) and input errors that name the field.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { generateRuleset } from '../../src/policy/generate/index.ts';
import {
  importConfigJson,
  importConfigXml,
  importPolicyText,
  loadPolicy,
} from '../../src/policy/import/index.ts';
import type { PolicyConfig } from '../../src/policy/model.ts';
import { printRuleset } from '../../src/policy/print.ts';
import { PolicyInputError } from '../../src/policy/warnings.ts';
import { baseConfig } from './fixtures/builders.ts';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
const FIXTURES = readdirSync(new URL('./fixtures/', import.meta.url)).filter((name) => name.endsWith('.xml'));

/** A config.xml with the given inner XML, minimal otherwise. */
const xml = (
  body: string,
  interfaces = '<wan><enable/><if>em0</if><ipaddr>dhcp</ipaddr></wan><lan><enable/><if>em1</if><ipaddr>192.168.1.1</ipaddr><subnet>24</subnet></lan>',
) =>
  `<?xml version="1.0"?><pfsense><system><hostname>x</hostname></system><interfaces>${interfaces}</interfaces>${body}</pfsense>`;

describe('config.xml import (docs/reference/pf-semantics.md §1.6)', () => {
  const office = importConfigXml(fixture('office-2.7.xml')).config;

  it('reads interfaces in config order with their keys, devices and addressing', () => {
    expect(
      office.interfaces.map((i) => [i.key, i.device, i.enabled, i.ipv4.mode, i.ipv4.address ?? null]),
    ).toEqual([
      ['wan', 'igb0', true, 'static', '85.10.20.2'],
      ['lan', 'igb1', true, 'static', '192.168.10.1'],
      ['opt1', 'igb2', true, 'static', '10.20.0.1'],
      ['opt2', 'ovpns1', true, 'none', null],
      ['opt3', 'igb3', false, 'static', '172.30.0.1'],
    ]);
    expect(office.interfaces[0]).toMatchObject({
      blockPrivate: true,
      blockBogons: true,
      ipv4: { gateway: '85.10.20.1', prefixLength: 28 },
      ipv6: { mode: 'static', gateway: '2a01:4f8:1:2::1' },
    });
  });

  it('reads system settings that shape generated rules', () => {
    expect(office.system).toMatchObject({
      ipv6Allow: true,
      webgui: { protocol: 'https', port: 8443, noAntiLockout: false },
      ssh: { enabled: true, port: 2222 },
    });
  });

  it('reads groups, VIPs, VPN services and aliases', () => {
    expect(office.groups).toEqual([{ name: 'INTERNAL', members: ['lan', 'opt1'], descr: 'Inside networks' }]);
    expect(office.virtualIps).toEqual([
      {
        mode: 'ipalias',
        interface: 'wan',
        address: '85.10.20.3',
        prefixLength: 28,
        descr: 'Second public address',
      },
    ]);
    expect(office.vpn).toEqual({
      openvpn: [{ mode: 'server', vpnid: 1, device: 'ovpns1', descr: 'Road warriors' }],
      ipsec: true,
      ipsecPeers: [
        {
          descr: 'Branch',
          interface: 'wan',
          remoteGateway: '93.184.216.34',
          mobile: false,
          protocols: ['esp'],
        },
        { descr: 'Mobile clients', interface: 'wan', mobile: true, protocols: [] },
        {
          descr: 'Partner by name',
          interface: 'wan',
          remoteGateway: 'vpn.partner.example',
          mobile: false,
          protocols: [],
        },
      ],
      l2tp: true,
      pppoeServer: true,
    });
    expect(office.aliases.find((a) => a.name === 'ALLSERVERS')).toEqual({
      name: 'ALLSERVERS',
      type: 'host',
      entries: ['WEBSERVERS', '10.20.0.20', '2a01:4f8:1:10::20'],
      descr: 'Nested, mixed IPv4/IPv6',
    });
  });

  it.each<[string, string, Record<string, unknown>]>([
    [
      '<any/> and <not/> are booleans by presence',
      '<source><any>ignored text</any></source><destination><address>RFC1918</address><not/></destination>',
      { source: { kind: 'any', not: false }, destination: { kind: 'address', value: 'RFC1918', not: true } },
    ],
    [
      '<disabled/>, <log/>, <quick> by presence',
      '<disabled></disabled><log/><quick>yes</quick><floating>yes</floating>',
      { disabled: true, log: true, quick: true, floating: true },
    ],
    ['missing ipprotocol defaults to inet', '', { ipprotocol: 'inet' }],
    ['unknown type is imported as pass', '<type>allow</type>', { type: 'pass' }],
    [
      'icmptype list',
      '<protocol>icmp</protocol><icmptype>echoreq,unreach</icmptype>',
      { icmptypes: ['echoreq', 'unreach'] },
    ],
    [
      'tcp flags',
      '<tcpflags1>syn</tcpflags1><tcpflags2>syn,ack</tcpflags2>',
      { tcpflags1: 'syn', tcpflags2: 'syn,ack' },
    ],
    [
      'port on an endpoint',
      '<destination><network>wanip</network><port>80-90</port></destination>',
      { destination: { kind: 'network', value: 'wanip', port: '80-90', not: false } },
    ],
    [
      'unmodelled options are kept',
      '<dscp>af11</dscp><max>100</max><nopfsync/>',
      { extra: { dscp: 'af11', max: '100', nopfsync: '' } },
    ],
  ])('%s', (_name, inner, expected) => {
    const { config } = importConfigXml(
      xml(`<filter><rule><type>pass</type><interface>lan</interface>${inner}</rule></filter>`),
    );
    expect(config.rules[0]).toMatchObject(expected);
  });

  it('a single <rule> is still a list, separators are not rules', () => {
    const { config } = importConfigXml(
      xml(
        '<filter><rule><interface>lan</interface><descr>only</descr></rule><separator><lan/></separator></filter>',
      ),
    );
    expect(config.rules.map((r) => r.descr)).toEqual(['only']);
  });

  it('interface descr defaults to the upper-cased key (get_configured_interface_with_descr)', () => {
    const { config } = importConfigXml(xml(''));
    expect(config.interfaces.map((i) => i.descr)).toEqual(['WAN', 'LAN']);
  });

  it('an OpenVPN instance without a vpnid is reported, not dropped silently', () => {
    const { config, warnings } = importConfigXml(
      xml(
        '<openvpn><openvpn-server><vpnid></vpnid><description>broken</description></openvpn-server><openvpn-client><vpnid>3</vpnid></openvpn-client></openvpn>',
      ),
    );
    expect(config.vpn.openvpn).toEqual([{ mode: 'client', vpnid: 3, device: 'ovpnc3', descr: '' }]);
    expect(warnings.find((w) => w.code === 'POL042')?.message).toContain('broken');
  });

  it("reads the DHCP relays' listening interfaces only when enabled", () => {
    const on = importConfigXml(
      xml(
        '<dhcrelay><enable/><interface>lan,opt1</interface></dhcrelay><dhcrelay6><interface>lan</interface></dhcrelay6>',
      ),
    ).config;
    expect(on.dhcpRelay).toEqual({ ipv4: ['lan', 'opt1'], ipv6: [] });
    expect(
      importConfigXml(xml('<dhcrelay><interface>lan</interface></dhcrelay>')).config.dhcpRelay,
    ).toBeUndefined();
  });

  it('reports sections it does not model', () => {
    const { warnings } = importConfigXml(fixture('office-2.7.xml'));
    // Port forwards are modelled since issue 12 (docs/adr/0150-nat-before-filtering.md); schedules still are not.
    expect(warnings.filter((w) => w.code === 'POL040').map((w) => w.message)).toEqual([
      expect.stringContaining('schedules'),
    ]);
  });

  it.each<[string, string, string]>([
    ['not XML', 'hello', 'config'],
    ['not well-formed', '<pfsense><system></pfsense', 'config'],
    ['an empty OPNsense config', '<?xml version="1.0"?><opnsense/>', 'opnsense'],
    ['an OPNsense config without interfaces', '<?xml version="1.0"?><opnsense><system/></opnsense>', 'opnsense.interfaces'],
    ['not a pfSense backup', '<?xml version="1.0"?><firewall/>', 'pfsense'],
    ['no interfaces', '<?xml version="1.0"?><pfsense><system/></pfsense>', 'pfsense.interfaces'],
  ])('rejects %s, naming the field', (_name, text, field) => {
    expect(() => importPolicyText(text)).toThrowError(PolicyInputError);
    try {
      importPolicyText(text);
    } catch (error) {
      expect((error as PolicyInputError).field).toBe(field);
    }
  });
});

describe('JSON model', () => {
  it.each(FIXTURES)(
    '%s: the JSON model of a config.xml generates the identical ruleset (front-end equivalence)',
    (name) => {
      const viaXml = loadPolicy(fixture(name));
      const json = JSON.stringify(viaXml.config);
      const viaJson = generateRuleset(importConfigJson(JSON.parse(json)));
      expect(printRuleset(viaJson)).toBe(printRuleset(viaXml.ruleset));
      expect(viaJson.rules).toEqual(viaXml.ruleset.rules);
      expect(importPolicyText(json).config).toEqual(viaXml.config);
    },
  );

  const invalid = (mutate: (model: PolicyConfig) => void): unknown => {
    const model = structuredClone(baseConfig());
    mutate(model);
    return model;
  };
  const bad = <T>(value: unknown) => value as T;
  it.each<[string, (model: PolicyConfig) => void, string]>([
    [
      'a missing section',
      (m) => {
        delete (m as Partial<PolicyConfig>).rules;
      },
      'rules',
    ],
    [
      'a wrong version',
      (m) => {
        m.version = bad<1>(2);
      },
      'version',
    ],
    [
      'an unknown field',
      (m) => {
        Object.assign(m.system, { colour: 'red' });
      },
      'system.colour',
    ],
    [
      'a bad rule type',
      (m) => {
        m.rules = bad<PolicyConfig['rules']>([{ type: 'allow' }]);
      },
      'rules[0].type',
    ],
    [
      'a bad interface mode',
      (m) => {
        Object.assign(m.interfaces[1]?.ipv4 ?? {}, { mode: 'magic' });
      },
      'interfaces[1].ipv4.mode',
    ],
    [
      'a port out of range',
      (m) => {
        m.system.webgui.port = 70000;
      },
      'system.webgui.port',
    ],
    [
      'an empty interface list',
      (m) => {
        m.interfaces = [];
      },
      'interfaces',
    ],
  ])('rejects %s, naming the field', (_name, mutate, field) => {
    let caught: unknown;
    try {
      importConfigJson(invalid(mutate));
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(PolicyInputError);
    expect((caught as PolicyInputError).field).toBe(field);
  });

  it('rejects JSON that does not parse', () => {
    expect(() => importPolicyText('{ nope')).toThrowError(/config: not valid JSON/);
  });
});
