/**
 * @module NAT as pfSense 2.7.2 generates it and pf applies it (issue 12 item 1): truth tables citing
 * docs/reference/pfsense-nat.md and docs/reference/pf-semantics.md §2.2 (translation before filtering).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createEvaluator, type EvaluationResult } from '../../src/policy/evaluate.ts';
import { parseRuntimeFacts } from '../../src/policy/facts.ts';
import { generateRuleset } from '../../src/policy/generate/index.ts';
import { loadPolicy } from '../../src/policy/import/index.ts';
import type { NatConfig, PolicyConfig, PortForwardConfig } from '../../src/policy/model.ts';
import { parsePacketLine } from '../../src/policy/packet.ts';
import { baseConfig, iface, userRule } from './fixtures/builders.ts';

const NO_REFLECTION = { disabled: true, pureNat: false, binat: false, helper: false };

function nat(fields: Partial<NatConfig> = {}): NatConfig {
  return { portForwards: [], outbound: { mode: 'automatic', rules: [] }, oneToOne: [], reflection: NO_REFLECTION, ...fields };
}

function forward(fields: Partial<PortForwardConfig> = {}): PortForwardConfig {
  return {
    interface: 'wan',
    ipprotocol: 'inet',
    protocol: 'tcp',
    source: { kind: 'any', not: false },
    destination: { kind: 'network', value: 'wanip', port: '8443', not: false },
    target: '192.168.1.10',
    localPort: '443',
    associatedRuleId: 'nat_1',
    noRdr: false,
    disabled: false,
    descr: 'web',
    ...fields,
  };
}

/** The filter rule pfSense creates with a port forward: pass on WAN to the internal target and port. */
const linkedRule = userRule({
  interface: 'wan',
  protocol: 'tcp',
  destination: { kind: 'address', value: '192.168.1.10', port: '443', not: false },
  descr: 'NAT web',
});

function session(config: PolicyConfig) {
  const evaluator = createEvaluator(generateRuleset(config));
  return (line: string): EvaluationResult => evaluator.evaluate(parsePacketLine(line));
}

const inbound = 'wan in tcp 93.184.216.34:40000 -> 85.10.20.2:8443 flags S';

describe('port forwards: rdr before the inbound filter (docs/reference/pfsense-nat.md §2, docs/reference/pf-semantics.md §2.2)', () => {
  it('a forwarded packet is translated, then passed by the associated filter rule on the internal address', () => {
    const result = session(baseConfig({ rules: [linkedRule], nat: nat({ portForwards: [forward()] }) }))(inbound);
    expect(result.verdict).toBe('pass');
    expect(result.rule?.descr).toBe('NAT web');
    expect(result.translations).toEqual([
      expect.objectContaining({ stage: 'translate', kind: 'rdr', field: 'destination', before: '85.10.20.2:8443', after: '192.168.1.10:443' }),
    ]);
    expect(result.translations?.[0]?.rule.text).toBe('rdr on em0 inet proto tcp from any to 85.10.20.2 port 8443 -> 192.168.1.10 port 443');
    expect(result.explanation).toMatch(/^Translated before filtering by rdr rule \d+ \(port forward "web"\): destination 85\.10\.20\.2:8443 -> 192\.168\.1\.10:443\. PASS: /);
  });

  it('without the associated rule the translated packet meets the default deny (filter sees the internal address)', () => {
    const result = session(baseConfig({ nat: nat({ portForwards: [forward()] }) }))(inbound);
    expect(result.verdict).toBe('block');
    expect(result.rule?.descr).toContain('Default deny');
    expect(result.translations).toHaveLength(1);
  });

  it('a filter rule written for the external address does not match: the filter sees the translated packet', () => {
    const external = userRule({ interface: 'wan', protocol: 'tcp', destination: { kind: 'address', value: '85.10.20.2', port: '8443', not: false } });
    expect(session(baseConfig({ rules: [external], nat: nat({ portForwards: [forward()] }) }))(inbound).verdict).toBe('block');
  });

  it('"rdr pass" (association Pass) passes without any filter rule', () => {
    const result = session(baseConfig({ nat: nat({ portForwards: [forward({ associatedRuleId: 'pass' })] }) }))(inbound);
    expect(result).toMatchObject({ verdict: 'pass', decidedBy: 'nat', rule: null, trace: [] });
    expect(result.translations?.[0]?.rule.text).toMatch(/^rdr pass on em0 /);
  });

  it('the reply leaves in its internal form, matches the state and is translated back (states record both sides)', () => {
    const run = session(baseConfig({ rules: [linkedRule], nat: nat({ portForwards: [forward()] }) }));
    expect(run(inbound).stateCreated).toBe(true);
    const reply = run('wan out tcp 192.168.1.10:443 -> 93.184.216.34:40000 flags SA');
    expect(reply).toMatchObject({ verdict: 'pass', decidedBy: 'state' });
    expect(reply.translations).toEqual([
      expect.objectContaining({ stage: 'reply', field: 'source', before: '192.168.1.10:443', after: '85.10.20.2:8443' }),
    ]);
  });

  it.each([
    ['another port', 'wan in tcp 93.184.216.34:40000 -> 85.10.20.2:8080 flags S'],
    ['another protocol', 'wan in udp 93.184.216.34:40000 -> 85.10.20.2:8443'],
    ['another interface', 'lan in tcp 192.168.1.50:40000 -> 85.10.20.2:8443 flags S'],
  ])('%s is not redirected', (_name, line) => {
    expect(session(baseConfig({ rules: [linkedRule], nat: nat({ portForwards: [forward()] }) }))(line).translations).toBeUndefined();
  });

  it('"no rdr" and disabled forwards translate nothing', () => {
    const config = baseConfig({ rules: [linkedRule], nat: nat({ portForwards: [forward({ noRdr: true }), forward({ descr: 'later' })] }) });
    expect(session(config)(inbound).translations).toBeUndefined();
    const disabled = baseConfig({ rules: [linkedRule], nat: nat({ portForwards: [forward({ disabled: true })] }) });
    expect(session(disabled)(inbound).translations).toBeUndefined();
  });

  it('a port range maps one to one onto the local range', () => {
    const config = baseConfig({
      nat: nat({ portForwards: [forward({ destination: { kind: 'network', value: 'wanip', port: '5000-5010', not: false }, localPort: '6000', associatedRuleId: 'pass' })] }),
    });
    const result = session(config)('wan in udp 93.184.216.34:40000 -> 85.10.20.2:5004'.replace('udp', 'tcp') + ' flags S');
    expect(result.translations?.[0]?.after).toBe('192.168.1.10:6004');
    expect(result.translations?.[0]?.rule.text).toContain('-> 192.168.1.10 port 6000:6010');
  });

  it('a forward to the address of a DHCP WAN is unknown until the facts give the address', () => {
    const dhcpWan = baseConfig({
      interfaces: [
        iface({ key: 'wan', device: 'em0', ipv4: { mode: 'dhcp' } }),
        iface({ key: 'lan', device: 'em1', ipv4: { mode: 'static', address: '192.168.1.1', prefixLength: 24 } }),
      ],
      rules: [linkedRule],
      nat: nat({ portForwards: [forward()] }),
    });
    const line = 'wan in tcp 93.184.216.34:40000 -> 203.0.113.9:8443 flags S';
    const text = JSON.stringify(dhcpWan);
    const unknown = createEvaluator(loadPolicy(text).ruleset).evaluate(parsePacketLine(line));
    expect(unknown.verdict).toBe('unknown');
    const facts = parseRuntimeFacts({ interfaces: { wan: { ipv4: '203.0.113.9/24' } } });
    const known = createEvaluator(loadPolicy(text, { facts }).ruleset).evaluate(parsePacketLine(line));
    expect(known.verdict).toBe('pass');
    expect(known.translations?.[0]?.after).toBe('192.168.1.10:443');
  });
});

describe('outbound NAT modes (docs/reference/pfsense-nat.md §3)', () => {
  const out = 'wan out tcp 192.168.1.50:40000 -> 8.8.8.8:443 flags S';
  const manual = {
    interface: 'wan',
    source: '192.168.1.0/24',
    destination: 'any',
    destinationNot: false,
    target: '85.10.20.5',
    staticPort: false,
    noNat: false,
    disabled: false,
    descr: 'via .5',
  };

  it.each<[string, NatConfig['outbound'], string | null]>([
    ['automatic: LAN subnet to the WAN address', { mode: 'automatic', rules: [] }, '85.10.20.2:40000'],
    ['disabled: nothing is translated', { mode: 'disabled', rules: [] }, null],
    ['advanced: only the manual rules', { mode: 'advanced', rules: [manual] }, '85.10.20.5:40000'],
    ['advanced without rules: nothing', { mode: 'advanced', rules: [] }, null],
    ['hybrid: manual rules first', { mode: 'hybrid', rules: [manual] }, '85.10.20.5:40000'],
    ['hybrid: automatic after a non-matching manual rule', { mode: 'hybrid', rules: [{ ...manual, source: '10.9.9.0/24' }] }, '85.10.20.2:40000'],
    ['hybrid: "no nat" stops translation', { mode: 'hybrid', rules: [{ ...manual, noNat: true }] }, null],
  ])('%s', (_name, outbound, after) => {
    const result = session(baseConfig({ nat: nat({ outbound }) }))(out);
    expect(result.verdict).toBe('pass');
    expect(result.translations?.[0]?.after ?? null).toBe(after);
    if (after !== null) expect(result.translations?.[0]?.field).toBe('source');
  });

  it('the automatic rules are the ones pfSense writes: ISAKMP static-port first, then the rest', () => {
    const ruleset = generateRuleset(baseConfig({ nat: nat() }));
    expect(ruleset.nat?.map((r) => r.text)).toEqual([
      'tonatsubnets\t= "{ 127.0.0.0/8 ::1/128 192.168.1.0/24 }"\nnat on $WAN inet from $tonatsubnets to any port 500 -> 85.10.20.2/32  static-port',
      'nat on $WAN inet6 from $tonatsubnets to any port 500 -> (em0)  static-port',
      'nat on $WAN inet from $tonatsubnets to any -> 85.10.20.2/32 port 1024:65535 ',
      'nat on $WAN inet6 from $tonatsubnets to any -> (em0) port 1024:65535 ',
    ]);
  });

  it('the reply from the internet reaches the translated address and is translated back to the LAN host', () => {
    const run = session(baseConfig({ nat: nat() }));
    run(out);
    const reply = run('wan in tcp 8.8.8.8:443 -> 85.10.20.2:40000 flags SA');
    expect(reply).toMatchObject({ verdict: 'pass', decidedBy: 'state' });
    expect(reply.translations?.[0]).toMatchObject({ stage: 'reply', field: 'destination', before: '85.10.20.2:40000', after: '192.168.1.50:40000' });
  });

  it('an unrelated packet to the WAN address on the same port is not a reply', () => {
    const run = session(baseConfig({ nat: nat() }));
    run(out);
    expect(run('wan in tcp 1.1.1.1:443 -> 85.10.20.2:40000 flags SA').verdict).toBe('block');
  });
});

describe('1:1 (binat) both ways (docs/reference/pfsense-nat.md §4)', () => {
  const config = baseConfig({
    rules: [userRule({ interface: 'wan', destination: { kind: 'address', value: '192.168.1.20', not: false }, descr: 'to the mapped host' })],
    nat: nat({
      outbound: { mode: 'disabled', rules: [] },
      oneToOne: [
        {
          interface: 'wan',
          ipprotocol: 'inet',
          external: '85.10.20.5',
          source: { kind: 'address', value: '192.168.1.20', not: false },
          destination: { kind: 'any', not: false },
          noBinat: false,
          disabled: false,
          descr: 'mail',
        },
      ],
    }),
  });

  it('inbound to the external address reaches the internal host (filter on the internal address)', () => {
    const result = session(config)('wan in tcp 93.184.216.34:40000 -> 85.10.20.5:25 flags S');
    expect(result.verdict).toBe('pass');
    expect(result.translations?.[0]).toMatchObject({ kind: 'binat', field: 'destination', after: '192.168.1.20:25' });
    expect(result.translations?.[0]?.rule.text).toBe('binat on em0 inet from 192.168.1.20 to any -> 85.10.20.5');
  });

  it('outbound from the internal host leaves as the external address, port kept', () => {
    const result = session(config)('wan out tcp 192.168.1.20:40000 -> 8.8.8.8:443 flags S');
    expect(result.translations?.[0]).toMatchObject({ kind: 'binat', field: 'source', after: '85.10.20.5:40000' });
  });
});

describe('NAT reflection settings (docs/reference/pfsense-nat.md §5)', () => {
  const fromLan = 'lan in tcp 192.168.1.50:40000 -> 85.10.20.2:8443 flags S';
  const reflect = (reflection: NatConfig['reflection'], mode?: PortForwardConfig['natReflection']) =>
    session(baseConfig({ nat: nat({ reflection, portForwards: [forward(mode ? { natReflection: mode } : {})] }) }))(fromLan);

  it('pure NAT: the forward is repeated on LAN and the LAN client reaches the server', () => {
    const result = reflect({ ...NO_REFLECTION, disabled: false, pureNat: true });
    expect(result.translations?.[0]).toMatchObject({ after: '192.168.1.10:443' });
    expect(result.translations?.[0]?.rule.origin.kind).toBe('reflection');
  });

  it('NAT + proxy (the system default): the answer is unknown, never a guess', () => {
    const result = reflect({ ...NO_REFLECTION, disabled: false });
    expect(result.verdict).toBe('unknown');
    expect(result.explanation).toContain('NAT + proxy');
  });

  it('disabled system-wide: no reflection, the packet is filtered as addressed', () => {
    expect(reflect(NO_REFLECTION).translations).toBeUndefined();
  });

  it('a per-rule "purenat" overrides the system setting', () => {
    expect(reflect(NO_REFLECTION, 'purenat').translations?.[0]?.rule.origin.kind).toBe('reflection');
  });

  it('a per-rule "disable" turns it off', () => {
    expect(reflect({ ...NO_REFLECTION, disabled: false, pureNat: true }, 'disable').translations).toBeUndefined();
  });
});

describe('configs without NAT keep the plain evaluator', () => {
  it('no nat section: no translation rules in the ruleset', () => {
    expect(generateRuleset(baseConfig()).nat).toBeUndefined();
  });
});

describe('nat-2.7.xml: config.xml <nat> import and expected traces', () => {
  const text = readFileSync(new URL('./fixtures/nat-2.7.xml', import.meta.url), 'utf8');

  it('imports port forwards with their association, hybrid outbound rules, 1:1 and the reflection switch', () => {
    const { config } = loadPolicy(text);
    expect(config.nat?.portForwards.map((f) => [f.descr, f.associatedRuleId, f.localPort, f.natReflection ?? null])).toEqual([
      ['Web server', 'nat_5f1a', '443', null],
      ['SSH for the office', 'pass', '22', 'disable'],
    ]);
    expect(config.nat?.outbound.mode).toBe('hybrid');
    expect(config.nat?.outbound.rules.map((r) => [r.descr, r.noNat, r.target])).toEqual([
      ['VPN provider without NAT', true, ''],
      ['Guests via .6', false, '85.10.20.6'],
    ]);
    expect(config.nat?.oneToOne[0]).toMatchObject({ external: '85.10.20.5', interface: 'wan' });
    expect(config.nat?.reflection).toEqual({ disabled: false, pureNat: true, binat: false, helper: false });
  });

  it.each<[string, string[], string, string | null]>([
    ['web forward passes by its linked rule', ['wan in tcp 93.184.216.34:40000 -> 85.10.20.2:8443 flags S'], 'pass by wan "NAT Web server"', '192.168.1.10:443'],
    ['SSH forward from the office passes by rdr pass', ['wan in tcp 81.2.69.142:40000 -> 85.10.20.2:2222 flags S'], 'pass by nat', '192.168.1.11:22'],
    ['SSH forward from elsewhere is not redirected and is blocked', ['wan in tcp 93.184.216.34:40000 -> 85.10.20.2:2222 flags S'], 'block by system', null],
    ['1:1 inbound SMTP passes by the rule on the internal address', ['wan in tcp 93.184.216.34:40000 -> 85.10.20.5:25 flags S'], 'pass by wan "SMTP to the mail host"', '192.168.1.20:25'],
    ['a guest leaves as .6 (manual rule before automatic)', ['lan in tcp 192.168.1.200:40000 -> 8.8.8.8:443 flags S', 'wan out tcp 192.168.1.200:40000 -> 8.8.8.8:443 flags S'], 'pass by system', '85.10.20.6:40000'],
    ['a staff host leaves as the WAN address (automatic)', ['wan out tcp 192.168.1.50:40000 -> 8.8.8.8:443 flags S'], 'pass by system', '85.10.20.2:40000'],
    ['"no nat" to the VPN provider keeps the source', ['wan out tcp 192.168.1.50:40000 -> 198.18.0.9:443 flags S'], 'pass by system', null],
    ['the mail host leaves as its 1:1 address', ['wan out tcp 192.168.1.20:40000 -> 8.8.8.8:443 flags S'], 'pass by system', '85.10.20.5:40000'],
    ['pure-NAT reflection: a LAN client reaches the web server by the public address', ['lan in tcp 192.168.1.50:40000 -> 85.10.20.2:8443 flags S'], 'pass by lan "Default allow LAN to any rule"', '192.168.1.10:443'],
  ])('%s', (_name, lines, summary, after) => {
    const evaluator = createEvaluator(loadPolicy(text).ruleset);
    let result: EvaluationResult | undefined;
    for (const line of lines) result = evaluator.evaluate(parsePacketLine(line));
    const r = result as EvaluationResult;
    const by = r.decidedBy === 'nat' ? 'nat' : r.rule === null ? r.decidedBy : r.rule.kind === 'user' ? `${r.rule.tab} "${r.rule.descr}"` : 'system';
    expect(`${r.verdict} by ${by}`).toBe(summary);
    expect(r.translations?.at(-1)?.after ?? null).toBe(after);
  });
});

describe('bad NAT input', () => {
  it('a JSON model with an unknown outbound mode is refused naming the field', () => {
    const config = { ...baseConfig(), nat: { ...nat(), outbound: { mode: 'manual', rules: [] } } };
    expect(() => loadPolicy(JSON.stringify(config))).toThrow(expect.objectContaining({ field: 'nat.outbound.mode' }));
  });

  it('a port forward to an unresolvable target is left out with POL045, not silently dropped', () => {
    const { ruleset } = loadPolicy(
      JSON.stringify(baseConfig({ nat: nat({ portForwards: [forward({ target: 'NoSuchAlias' })] }) })),
    );
    expect(ruleset.nat?.some((r) => r.kind === 'rdr')).toBe(false);
    expect(ruleset.warnings.find((w) => w.code === 'POL045')?.message).toContain('port forward "web" (#1)');
    // The warning travels inside traces on WAN, where the forward would have applied.
    const result = createEvaluator(ruleset).evaluate(parsePacketLine(inbound));
    expect(result.warnings.map((w) => w.code)).toContain('POL045');
  });

  it('an XML outbound mode pfSense does not know generates no outbound NAT and is reported', () => {
    const xml = readFileSync(new URL('./fixtures/nat-2.7.xml', import.meta.url), 'utf8').replace(
      '<mode>hybrid</mode>',
      '<mode>sideways</mode>',
    );
    const { ruleset } = loadPolicy(xml);
    expect(ruleset.nat?.some((r) => r.kind === 'nat')).toBe(false);
    expect(ruleset.warnings.map((w) => w.message)).toContainEqual(expect.stringContaining('nat.outbound.mode "sideways"'));
  });
});
