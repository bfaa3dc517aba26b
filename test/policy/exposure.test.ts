/**
 * @module What a grant opens (`aliasExposure`, `exposureWidening`, src/policy/exposure.ts) on builder configs and
 * the office fixture: exact regions for an alias used by a pass rule, nothing when the baseline already passes or
 * the alias is only a destination, block rules, both families, run-time contents (unknown, then exact with facts),
 * bad input; the widening of a change; each answer cross-checked with the packet evaluator.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createEvaluator } from '../../src/policy/evaluate.ts';
import { aliasExposure, exposureWidening, pickRepresentatives } from '../../src/policy/exposure.ts';
import { parseRuntimeFacts } from '../../src/policy/facts.ts';
import { generateRuleset } from '../../src/policy/generate/index.ts';
import { importPolicyText } from '../../src/policy/import/index.ts';
import type { AliasConfig, PolicyConfig, RuleConfig } from '../../src/policy/model.ts';
import type { Packet } from '../../src/policy/packet.ts';
import { PolicyInputError } from '../../src/policy/warnings.ts';
import { baseConfig, userRule } from './fixtures/builders.ts';

const admins: AliasConfig = { name: 'ssh_admins', type: 'host', entries: ['9.9.9.9'], descr: 'knoc ssh-admins' };
const fromAdmins = (dst: string, port: string, fields: Partial<RuleConfig> = {}): RuleConfig =>
  userRule({
    interface: 'wan',
    protocol: 'tcp',
    source: { kind: 'address', value: 'ssh_admins', not: false },
    destination: { kind: 'address', value: dst, port, not: false },
    ...fields,
  });
const sshRule = fromAdmins('85.10.20.2', '22', { descr: 'ssh for admins', tracker: '100' });
const withRules = (...rules: RuleConfig[]) => baseConfig({ aliases: [admins], rules });

const syn = (src: string, dst: string, dstPort: number): Packet => ({
  interface: 'wan',
  direction: 'in',
  proto: 'tcp',
  src,
  srcPort: 40000,
  dst,
  dstPort,
  tcpFlags: 'S',
});

/** The verdict of a packet with `address` added to the alias. */
function verdictOnAlias(config: PolicyConfig, address: string, packet: Packet) {
  const added = { ...config, aliases: config.aliases.map((a) => ({ ...a, entries: [...a.entries, address] })) };
  return createEvaluator(generateRuleset(added)).evaluate(packet).verdict;
}

describe('aliasExposure', () => {
  it('an alias used by a pass rule on tcp/22 to one host opens exactly that', () => {
    const config = withRules(sshRule);
    const exposure = aliasExposure(config, 'ssh_admins');
    expect(exposure.representatives).toEqual(['1.0.0.1', '2000::1']);
    expect(exposure.counts).toEqual({ 'newly-pass': 1, 'newly-block': 0, 'reply-changed': 0, unknown: 0 });
    expect(exposure.regions).toHaveLength(1);
    const [region] = exposure.regions;
    expect(region).toMatchObject({
      change: 'newly-pass',
      interface: 'wan',
      direction: 'in',
      family: 'inet',
      source: '1.0.0.1',
      protocols: ['tcp'],
      destination: ['85.10.20.2/32'],
      destinationPorts: ['22'],
      // pfSense's port-0 block rule keeps source port 0 out.
      sourcePorts: ['1-65535'],
      tcpFlags: { text: 'S/SA' },
      icmpTypes: null,
      rule: { verdict: 'pass', certain: true, rule: { tab: 'wan', position: 1, tracker: '100' } },
      baseline: { verdict: 'block', certain: true, rule: { descr: 'Default deny rule IPv4' } },
    });
    // The evaluator agrees inside the region and just outside it.
    expect(verdictOnAlias(config, '1.0.0.1', syn('1.0.0.1', '85.10.20.2', 22))).toBe('pass');
    expect(verdictOnAlias(config, '1.0.0.1', syn('1.0.0.1', '85.10.20.2', 23))).toBe('block');
    expect(verdictOnAlias(config, '1.0.0.1', syn('1.0.0.1', '85.10.20.3', 22))).toBe('block');
    expect(createEvaluator(generateRuleset(config)).evaluate(syn('1.0.0.1', '85.10.20.2', 22)).verdict).toBe('block');
  });

  it('an alias that adds nothing (an earlier rule already passes any source) opens nothing', () => {
    const open = userRule({
      interface: 'wan',
      protocol: 'tcp',
      destination: { kind: 'address', value: '85.10.20.0/28', port: '22', not: false },
    });
    const exposure = aliasExposure(withRules(open, sshRule), 'ssh_admins');
    expect(exposure.regions).toEqual([]);
  });

  it('an alias that opens more than the baseline only where the baseline does not pass: the rest of the port range', () => {
    const open = userRule({
      interface: 'wan',
      protocol: 'tcp',
      destination: { kind: 'address', value: '85.10.20.2', port: '22', not: false },
    });
    const exposure = aliasExposure(withRules(open, fromAdmins('85.10.20.2', '20-25')), 'ssh_admins');
    expect(exposure.regions.map((r) => r.destinationPorts)).toEqual([['20-21', '23-25']]);
  });

  it('an alias used by a block rule closes; an inet46 pass rule opens both families', () => {
    const block = fromAdmins('85.10.20.2', '443', { type: 'block', descr: 'no https for admins' });
    const open = userRule({
      interface: 'wan',
      protocol: 'tcp',
      destination: { kind: 'address', value: '85.10.20.2', port: '443', not: false },
    });
    const both = fromAdmins('any', '8443', {
      ipprotocol: 'inet46',
      destination: { kind: 'any', port: '8443', not: false },
    });
    const config = withRules(block, open, both);
    const exposure = aliasExposure(config, 'ssh_admins');
    const summary = exposure.regions.map((r) => [r.change, r.family, r.source, r.destination, r.destinationPorts]);
    expect(summary).toContainEqual(['newly-block', 'inet', '1.0.0.1', ['85.10.20.2/32'], ['443']]);
    // pfSense blocks IPv4 link-local destinations before the user rules.
    const notLinkLocal = ['0.0.0.0-169.253.255.255', '169.255.0.0-255.255.255.255'];
    expect(summary).toContainEqual(['newly-pass', 'inet', '1.0.0.1', notLinkLocal, ['8443']]);
    // WAN blocks bogons and <bogonsv6> is downloaded at run time: the IPv6 half is honest about it.
    expect(summary).toContainEqual(['unknown', 'inet6', '2000::1', null, ['8443']]);
    const known = { ...config, system: { ...config.system, bogons: { ipv6: ['3fff::/20'] } } };
    const exact = aliasExposure(known, 'ssh_admins').regions.filter((r) => r.family === 'inet6');
    expect(exact.map((r) => [r.change, r.source, r.destination, r.destinationPorts])).toEqual([
      ['newly-pass', '2000::1', null, ['8443']],
    ]);
  });

  it('an alias used only as a destination gives no exposure (others reach the address; it reaches nothing more)', () => {
    const config = importPolicyText(readFileSync(new URL('./fixtures/office-2.7.xml', import.meta.url), 'utf8')).config;
    expect(aliasExposure(config, 'WEBSERVERS').regions).toEqual([]);
  });

  it('office fixture: PARTNERS (an FQDN entry, a URL-table block on floating) is unknown, then exact with run-time facts', () => {
    const config = importPolicyText(readFileSync(new URL('./fixtures/office-2.7.xml', import.meta.url), 'utf8')).config;
    const unknown = aliasExposure(config, 'PARTNERS');
    expect(unknown.regions.map((r) => [r.change, r.destination, r.destinationPorts])).toEqual([
      ['unknown', ['85.10.20.3/32'], ['5000-5010']],
    ]);
    const facts = parseRuntimeFacts({ names: { 'partner.example.com': ['198.51.100.7'] }, tables: { BLOCKLIST: [] } });
    const exposure = aliasExposure(config, 'PARTNERS', { facts });
    expect(exposure.regions).toEqual([
      {
        change: 'newly-pass',
        interface: 'wan',
        direction: 'in',
        family: 'inet',
        source: '1.0.0.1',
        protocols: ['udp'],
        sourcePorts: ['1-65535'],
        destination: ['85.10.20.3/32'],
        destinationPorts: ['5000-5010'],
        tcpFlags: null,
        icmpTypes: null,
        rule: expect.objectContaining({ verdict: 'pass', certain: true, rule: expect.objectContaining({ tracker: '1700000402' }) }),
        baseline: expect.objectContaining({ verdict: 'block' }),
      },
    ]);
  });

  it('a representative the caller gives is used (a LAN address has another baseline)', () => {
    const lanRule = userRule({
      source: { kind: 'address', value: 'ssh_admins', not: false },
      protocol: 'udp',
      destination: { kind: 'any', port: '53', not: false },
      type: 'block',
    });
    const exposure = aliasExposure(withRules(lanRule, userRule({ descr: 'LAN to any' })), 'ssh_admins', {
      representatives: ['192.168.1.77'],
    });
    expect(exposure.representatives).toEqual(['192.168.1.77']);
    expect(exposure.regions.map((r) => [r.change, r.interface, r.source, r.destinationPorts])).toEqual([
      ['newly-block', 'lan', '192.168.1.77', ['53']],
    ]);
  });

  it('refuses an unknown alias, a port alias, a bad or duplicate representative, naming the field', () => {
    const config = baseConfig({
      aliases: [admins, { name: 'web_ports', type: 'port', entries: ['80'], descr: '' }],
      rules: [sshRule],
    });
    const fieldOf = (run: () => unknown) => {
      try {
        run();
      } catch (error) {
        if (error instanceof PolicyInputError) return [error.field, error.message];
        throw error;
      }
      return null;
    };
    expect(fieldOf(() => aliasExposure(config, 'nope'))).toEqual([
      'alias',
      'alias: no alias named "nope" in the configuration (address aliases: ssh_admins)',
    ]);
    expect(fieldOf(() => aliasExposure(config, 'web_ports'))?.[1]).toContain('is a port alias');
    expect(fieldOf(() => aliasExposure(config, 'ssh_admins', { representatives: ['9.9.9.9'] }))).toEqual([
      'representatives',
      'representatives: 9.9.9.9 is already on alias "ssh_admins"',
    ]);
    expect(fieldOf(() => aliasExposure(config, 'ssh_admins', { representatives: ['not-an-ip'] }))?.[0]).toBe(
      'representatives.0',
    );
    expect(fieldOf(() => aliasExposure(config, 'ssh_admins', { representatives: ['1.2.3.4', '1.2.3.5'] }))?.[0]).toBe(
      'representatives.1',
    );
  });

  it('the representative avoids every address the config names', () => {
    const crowded = baseConfig({
      aliases: [{ name: 'low', type: 'network', entries: ['1.0.0.0/24', '1.0.1.0/24'], descr: '' }],
    });
    expect(pickRepresentatives([generateRuleset(crowded)])[0]).toBe('1.0.2.0');
  });
});

describe('exposureWidening', () => {
  it('a new rule naming the alias widens by exactly its new flows', () => {
    const before = withRules(sshRule);
    const after = withRules(sshRule, fromAdmins('85.10.20.2', '20-23', { descr: 'more' }));
    const widening = exposureWidening(before, after, 'ssh_admins');
    expect(widening.widens).toBe(true);
    expect(widening.regions.map((r) => [r.change, r.destination, r.destinationPorts, r.rule.rule?.descr])).toEqual([
      ['newly-pass', ['85.10.20.2/32'], ['20-21', '23'], 'more'],
    ]);
  });

  it('a change that does not widen (a narrower rule, or a rule for every source) says so', () => {
    const before = withRules(fromAdmins('85.10.20.2', '20-25'));
    expect(exposureWidening(before, withRules(fromAdmins('85.10.20.2', '22')), 'ssh_admins').widens).toBe(false);
    const forAll = userRule({
      interface: 'wan',
      protocol: 'tcp',
      destination: { kind: 'address', value: '85.10.20.9', port: '80', not: false },
    });
    const unrelated = exposureWidening(before, withRules(fromAdmins('85.10.20.2', '20-25'), forAll), 'ssh_admins');
    expect(unrelated).toMatchObject({ widens: false, regions: [] });
  });

  it('the same widening whatever the address family of the new rule: IPv6 too', () => {
    const v6 = fromAdmins('any', '22', { ipprotocol: 'inet6', destination: { kind: 'any', port: '22', not: false } });
    const widening = exposureWidening(withRules(sshRule), withRules(sshRule, v6), 'ssh_admins');
    expect(widening.regions.map((r) => [r.family, r.source])).toEqual([['inet6', '2000::1']]);
  });
});
