/**
 * @module Issue 12 item 2, honest inputs (docs/adr/0152-honest-inputs-and-runtime-facts.md): input that is not a usable pfSense 2.7.2 config is
 * refused and named; what the engine cannot know makes answers `unknown`; run-time facts resolve them; warnings
 * that can change an answer travel inside the trace result.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createEvaluator } from '../../src/policy/evaluate.ts';
import { parseRuntimeFacts, type RuntimeFacts } from '../../src/policy/facts.ts';
import { importPolicyText, loadPolicy } from '../../src/policy/import/index.ts';
import type { PolicyConfig } from '../../src/policy/model.ts';
import { parsePacketLine } from '../../src/policy/packet.ts';
import { PolicyInputError } from '../../src/policy/warnings.ts';
import { baseConfig, userRule } from './fixtures/builders.ts';

const defaultXml = readFileSync(fileURLToPath(new URL('./fixtures/default-2.7.xml', import.meta.url)), 'utf8');

function refusal(text: string): PolicyInputError {
  try {
    importPolicyText(text);
  } catch (error) {
    if (error instanceof PolicyInputError) return error;
    throw error;
  }
  throw new Error('accepted');
}

function trace(config: PolicyConfig | string, line: string, facts?: RuntimeFacts) {
  const text = typeof config === 'string' ? config : JSON.stringify(config);
  const { ruleset } = loadPolicy(text, facts === undefined ? {} : { facts });
  return createEvaluator(ruleset).evaluate(parsePacketLine(line));
}

describe('input that is not a usable config is refused and named', () => {
  it.each([
    ['an empty file', '', 'the file is empty'],
    ['a file of blanks', '  \n\t\n', 'the file is empty'],
    [
      'an encrypted pfSense backup',
      '---- BEGIN config.xml ----\nU2FsdGVkX1+abc\n---- END config.xml ----\n',
      'an encrypted pfSense backup',
    ],
    [
      'an encrypted OPNsense backup',
      '---- BEGIN config.xml ----\nVersion: OPNsense 24.7\nCipher: AES-256-CBC\n\nU2FsdGVk\n---- END config.xml ----\n',
      'an encrypted OPNsense backup',
    ],
    [
      // An OPNsense config is imported (docs/reference/opnsense-rules.md §1); one that defines no interfaces is not.
      'an OPNsense config without interfaces',
      '<?xml version="1.0"?>\n<opnsense><version>24.7</version><filter/></opnsense>\n',
      'the config defines no interfaces',
    ],
  ])('%s', (_name, text, message) => {
    expect(refusal(text).message).toContain(message);
  });

  it('a truncated config.xml is refused with the line and column of the first error', () => {
    const lines = defaultXml.split('\n');
    const truncated = lines.slice(0, 60).join('\n');
    const error = refusal(truncated);
    expect(error.field).toBe('config');
    expect(error.message).toMatch(/not well-formed XML at line \d+, column \d+: /);
  });

  it('a mismatched closing tag names its position', () => {
    const error = refusal('<?xml version="1.0"?>\n<pfsense>\n  <system>\n  </sytem>\n</pfsense>\n');
    expect(error.message).toMatch(/at line 4, column \d+/);
  });

  it('the untouched fixture is accepted without a version warning (23.3 is pfSense 2.7.2)', () => {
    expect(importPolicyText(defaultXml).warnings.map((w) => w.code)).not.toContain('POL044');
  });

  it.each([
    ['21.7', /version 21\.7 is older than pfSense 2\.7\.2/],
    ['24.0', /version 24\.0 is newer than pfSense 2\.7\.2/],
  ])('config version %s is warned about, naming the version', (version, message) => {
    const { warnings } = importPolicyText(defaultXml.replace('<version>23.3</version>', `<version>${version}</version>`));
    const warning = warnings.find((w) => w.code === 'POL044');
    expect(warning?.message).toMatch(message);
  });
});

describe('what the config cannot say is unknown, and run-time facts resolve it', () => {
  const dnsPeer = baseConfig({
    vpn: {
      openvpn: [],
      ipsec: true,
      l2tp: false,
      pppoeServer: false,
      ipsecPeers: [{ descr: 'HQ', interface: 'wan', remoteGateway: 'hq.example.net', mobile: false, protocols: ['esp'] }],
    },
  });
  const ike = 'wan in udp 93.184.216.7:500 -> 85.10.20.2:500';

  it('IKE from an IPsec peer given by DNS name is unknown, with the POL043 warning inside the result', () => {
    const result = trace(dnsPeer, ike);
    expect(result.verdict).toBe('unknown');
    expect(result.warnings.map((w) => w.code)).toContain('POL043');
  });

  it('resolving the name with facts makes it pass; another address stays blocked', () => {
    const facts = parseRuntimeFacts({ names: { 'hq.example.net': ['93.184.216.7'] } });
    expect(trace(dnsPeer, ike, facts).verdict).toBe('pass');
    expect(trace(dnsPeer, ike.replace('93.184.216.7', '93.184.216.8'), facts).verdict).toBe('block');
  });

  it('a DHCP WAN address is unknown to the config; the facts file gives it', () => {
    // default-2.7.xml: WAN is DHCP; the anti-lockout rule is on LAN, so ask about SSH to "this firewall" on WAN.
    const withRule = defaultXml.replace(
      '<filter>',
      `<filter><rule><type>pass</type><interface>wan</interface><ipprotocol>inet</ipprotocol><protocol>tcp</protocol><source><any/></source><destination><network>wanip</network><port>443</port></destination><descr>GUI from WAN</descr></rule>`,
    );
    const line = 'wan in tcp 93.184.216.34:40000 -> 203.0.113.9:443 flags S';
    expect(trace(withRule, line).verdict).toBe('unknown');
    const facts = parseRuntimeFacts({ interfaces: { wan: { ipv4: '203.0.113.9/24' } } });
    expect(trace(withRule, line, facts).verdict).toBe('pass');
    expect(trace(withRule, line.replace('203.0.113.9', '203.0.113.10'), facts).verdict).toBe('block');
  });

  const pfBlocker = baseConfig({
    aliases: [
      {
        name: 'pfB_PRI1_v4',
        type: 'urltable',
        entries: [],
        descr: 'pfBlockerNG auto alias',
        urls: ['https://127.0.0.1:443/pfblockerng/pfblockerng.php?pfb=pfB_PRI1_v4'],
      },
    ],
    rules: [
      userRule({ type: 'block', interface: 'lan', destination: { kind: 'address', value: 'pfB_PRI1_v4', not: false }, descr: 'pfB_PRI1_v4 auto rule' }),
      userRule({ type: 'pass', interface: 'lan', source: { kind: 'network', value: 'lan', not: false }, descr: 'LAN out' }),
    ],
  });
  const out = 'lan in tcp 192.168.1.50:40000 -> 45.9.148.3:443 flags S';

  it('a pfBlockerNG (URL table) destination is unknown; table contents from facts decide', () => {
    const result = trace(pfBlocker, out);
    expect(result.verdict).toBe('unknown');
    expect(result.warnings.some((w) => w.code === 'POL012' || w.code === 'POL022')).toBe(true);
    expect(trace(pfBlocker, out, parseRuntimeFacts({ tables: { pfB_PRI1_v4: ['45.9.148.0/24'] } })).verdict).toBe('block');
    expect(trace(pfBlocker, out, parseRuntimeFacts({ tables: { pfB_PRI1_v4: ['10.9.9.9'] } })).verdict).toBe('pass');
  });

  it('warnings about other tabs are not repeated in a trace on LAN', () => {
    const config = baseConfig({
      rules: [userRule({ interface: 'wan', destination: { kind: 'address', value: 'NoSuchAlias', not: false } })],
    });
    const onWan = trace(config, 'wan in tcp 93.184.216.34:40000 -> 85.10.20.2:22 flags S');
    const onLan = trace(config, out);
    expect(onWan.warnings.map((w) => w.code)).toContain('POL004');
    expect(onLan.warnings.map((w) => w.code)).not.toContain('POL004');
  });

  it.each([
    [{ interfaces: { wan: { ipv4: 'dhcp' } } }, 'facts.interfaces.wan.ipv4'],
    [{ interfaces: { wan: { ipv4: '2001:db8::1/64' } } }, 'facts.interfaces.wan.ipv4'],
    [{ names: { 'x.example': ['not-an-ip'] } }, 'facts.names.x.example[0]'],
    [{ tables: { t: '1.2.3.4' } }, 'facts.tables.t'],
    [{ tablez: {} }, 'facts.tablez'],
    [[], 'facts'],
  ])('bad facts %j are refused naming %s', (value, field) => {
    expect(() => parseRuntimeFacts(value)).toThrow(expect.objectContaining({ field }));
  });

  it.each([
    [{ interfaces: { opt7: { ipv4: '10.0.0.1/24' } } }, 'facts.interfaces.opt7'],
    [{ tables: { NoSuchTable: [] } }, 'facts.tables.NoSuchTable'],
  ])('facts naming what the config lacks are refused (%j)', (value, field) => {
    expect(() => loadPolicy(JSON.stringify(baseConfig()), { facts: parseRuntimeFacts(value) })).toThrow(
      expect.objectContaining({ field }),
    );
  });
});
