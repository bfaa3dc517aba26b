/**
 * @module The live snapshot → engine model builder (`buildPolicyFromLive`) and the staged-write applier
 * (`applyLiveChange`), pure: address and port forms of the live reads, floating rules, NAT, aliases, what is
 * assumed and named (POL046, POL008, POL011, POL026), and writes that name a missing object.
 */
import { describe, expect, it } from 'vitest';
import { createEvaluator } from '../../src/policy/evaluate.ts';
import { generateRuleset } from '../../src/policy/generate/index.ts';
import { importConfigJson } from '../../src/policy/import/json.ts';
import { applyLiveChange } from '../../src/policy/import/live-change.ts';
import {
  buildPolicyFromLive,
  type LiveInterfaceInput,
  type LiveNatRuleInput,
  type LiveRuleInput,
  type LiveSnapshot,
} from '../../src/policy/import/live.ts';
import { PolicyInputError } from '../../src/policy/warnings.ts';

const iface = (id: string, ipv4: string | null, extra: Partial<LiveInterfaceInput> = {}): LiveInterfaceInput => ({
  id,
  device: `em${id === 'wan' ? 0 : 1}`,
  description: id.toUpperCase(),
  enabled: true,
  ipv4,
  ipv6: null,
  ipv4_mode: ipv4 === null ? 'dhcp' : 'static',
  ipv6_mode: 'none',
  block_private: null,
  block_bogons: null,
  gateway: null,
  ...extra,
});

const rule = (extra: Partial<LiveRuleInput>): LiveRuleInput => ({
  vendor_rule_id: '1',
  action: 'allow',
  interfaces: ['lan'],
  direction: null,
  ip_version: 'inet',
  protocol: 'tcp',
  source_address: 'any',
  source_port: null,
  dest_address: 'any',
  dest_port: null,
  description: 'r',
  is_enabled: true,
  log_enabled: false,
  floating: false,
  quick: true,
  icmp_types: null,
  schedule: null,
  unmodelled_options: [],
  ...extra,
});

const nat = (extra: Partial<LiveNatRuleInput>): LiveNatRuleInput => ({
  vendor_id: 0,
  interface: 'wan',
  protocol: 'tcp',
  original_address: 'any',
  original_port: null,
  destination_address: 'wan:ip',
  destination_port: '8443',
  translated_address: '192.168.1.50',
  translated_port: '443',
  description: 'nas',
  is_enabled: true,
  ...extra,
});

const snapshot = (rules: LiveRuleInput[], extra: Partial<LiveSnapshot> = {}): LiveSnapshot => ({
  rules,
  aliases: [],
  interfaces: [iface('wan', '203.0.113.2/24', { gateway: '203.0.113.1' }), iface('lan', '192.168.1.1/24')],
  nat: { port_forwards: [], outbound: { mode: 'automatic', mappings: [] }, one_to_one: [] },
  ...extra,
});

describe('buildPolicyFromLive', () => {
  it('maps the live address forms: negation, interface subnets and addresses, (self), aliases, port ranges', () => {
    const { config } = buildPolicyFromLive(
      snapshot([
        rule({ source_address: '!lan', dest_address: 'wan:ip', dest_port: '20:25' }),
        rule({ source_address: '(self)', dest_address: '!admins', source_port: '1024:65535' }),
        rule({ source_address: '10.0.0.0/8', dest_address: 'any', dest_port: 'any', protocol: 'any' }),
      ]),
    );
    expect(config.rules.map((r) => [r.source, r.destination])).toEqual([
      [{ kind: 'network', value: 'lan', not: true }, { kind: 'network', value: 'wanip', not: false, port: '20-25' }],
      [{ kind: 'network', value: '(self)', not: false, port: '1024-65535' }, { kind: 'address', value: 'admins', not: true }],
      [{ kind: 'address', value: '10.0.0.0/8', not: false }, { kind: 'any', not: false }],
    ]);
    expect(config.rules[2]?.protocol).toBeNull();
    // The model is valid input for the engine's own JSON importer.
    expect(importConfigJson(JSON.parse(JSON.stringify(config)))).toEqual(config);
  });

  it('keeps device order, floating options, schedules and ICMP types; reads deny/reject/none as block/reject/pass', () => {
    const { config, warnings } = buildPolicyFromLive(
      snapshot([
        rule({ vendor_rule_id: '7', action: 'deny', floating: true, quick: false, direction: 'out', interfaces: ['wan', 'lan'] }),
        rule({ action: 'reject', protocol: 'icmp', icmp_types: ['echoreq', 'any'], schedule: 'office-hours' }),
        rule({ action: null, description: 'odd' }),
      ]),
    );
    expect(config.rules.map((r) => [r.type, r.floating, r.quick, r.direction, r.interface])).toEqual([
      ['block', true, false, 'out', 'wan,lan'],
      ['reject', false, true, 'in', 'lan'],
      ['pass', false, true, 'in', 'lan'],
    ]);
    expect(config.rules[0]?.tracker).toBe('7');
    expect(config.rules[1]).toMatchObject({ icmptypes: ['echoreq'], sched: 'office-hours' });
    expect(warnings).toContainEqual(expect.objectContaining({ code: 'POL011', ref: expect.objectContaining({ descr: 'odd' }) }));
  });

  it('names what the live read lacks: settings (unless given), modes, rule options the neutral fields do not carry', () => {
    const live = snapshot([rule({ unmodelled_options: ['tcp_flags', 'statetype sloppy state'] })], {
      interfaces: [iface('wan', null, { ipv4_mode: null, ipv6_mode: null }), iface('lan', '192.168.1.1/24', { ipv4_mode: null })],
    });
    const { config, warnings } = buildPolicyFromLive(live, { anti_lockout: false, ipv6_allow: false });
    const messages = warnings.map((w) => `${w.code} ${w.message}`);
    expect(messages.find((m) => m.includes('factory defaults'))).not.toContain('anti_lockout');
    expect(messages.find((m) => m.includes('factory defaults'))).toContain('webgui_protocol "https"');
    expect(messages).toContainEqual(expect.stringMatching(/^POL046 interface wan: .*assumed assigned at run time/));
    expect(messages).toContainEqual(expect.stringMatching(/^POL046 interface lan: .*current address 192.168.1.1\/24 is used/));
    expect(messages).toContainEqual(expect.stringMatching(/^POL008 .*tcp_flags, statetype sloppy state/));
    expect(config.interfaces.map((i) => [i.ipv4.mode, i.ipv6.mode, i.blockPrivate])).toEqual([
      ['dhcp', 'none', true],
      ['static', 'none', false],
    ]);
    expect(config.system).toMatchObject({ ipv6Allow: false, webgui: { noAntiLockout: true, protocol: 'https' } });
    // With every setting given nothing is assumed about the system.
    const all = buildPolicyFromLive(live, {
      anti_lockout: true,
      webgui_protocol: 'http',
      webgui_port: 8080,
      ssh_enabled: true,
      ssh_port: 2222,
      ipv6_allow: true,
      block_private: [],
      block_bogons: [],
      dhcp_server: [],
      nat_reflection: true,
    });
    expect(all.warnings.some((w) => w.element === 'system')).toBe(false);
  });

  it('per-interface private / bogon blocking is taken from the live read where it says, assumed where it does not', () => {
    const read = snapshot([], {
      interfaces: [iface('wan', '203.0.113.2/24', { block_private: false, block_bogons: true }), iface('lan', '192.168.1.1/24', { block_private: true, block_bogons: false })],
    });
    const { config, warnings } = buildPolicyFromLive(read);
    expect(config.interfaces.map((i) => [i.key, i.blockPrivate, i.blockBogons])).toEqual([
      ['wan', false, true],
      ['lan', true, false],
    ]);
    const assumed = warnings.find((w) => w.element === 'system')?.message ?? '';
    expect(assumed).not.toContain('block_private');
    expect(assumed).not.toContain('block_bogons');
    // One interface unread: the factory default applies to it, and the assumption is named.
    const partly = buildPolicyFromLive(snapshot([], { interfaces: [iface('wan', '203.0.113.2/24'), iface('lan', '192.168.1.1/24', { block_private: true })] }));
    expect(partly.config.interfaces.map((i) => i.blockPrivate)).toEqual([true, true]);
    expect(partly.warnings.find((w) => w.element === 'system')?.message).toContain('block_private ["wan"]');
  });

  it('aliases: URL types keep their contents run-time, an unknown type is left out with POL026', () => {
    const { config, warnings } = buildPolicyFromLive(
      snapshot([], {
        aliases: [
          { name: 'web', type: 'port', description: '', entries: [{ address: '80', detail: '' }, { address: '8000:8080', detail: '' }] },
          { name: 'feed', type: 'urltable', description: '', entries: [{ address: 'https://example.com/list', detail: '' }] },
          { name: 'odd', type: 'geoip', description: '', entries: [] },
        ],
      }),
    );
    expect(config.aliases).toEqual([
      { name: 'web', type: 'port', entries: ['80', '8000:8080'], descr: '' },
      { name: 'feed', type: 'urltable', entries: [], descr: '', urls: ['https://example.com/list'] },
    ]);
    expect(warnings).toContainEqual(expect.objectContaining({ code: 'POL026', ref: { name: 'odd' } }));
  });

  it('NAT: port forwards, outbound mappings (target subnet, no nat, negated destination) and 1:1 into the NAT model', () => {
    const { config, warnings } = buildPolicyFromLive(
      snapshot([], {
        nat: {
          port_forwards: [nat({})],
          outbound: {
            mode: 'hybrid',
            mappings: [
              nat({ original_address: '192.168.1.0/24', destination_address: '!10.0.0.0/8', translated_address: '198.51.100.0/29', translated_port: null, destination_port: null }),
              nat({ original_address: '192.168.1.5/32', translated_address: null, destination_port: null, translated_port: null, protocol: 'any' }),
            ],
          },
          one_to_one: [nat({ original_address: '192.168.1.60', translated_address: '203.0.113.60', destination_address: 'any' })],
        },
      }),
    );
    expect(config.nat?.portForwards[0]).toMatchObject({
      interface: 'wan',
      ipprotocol: 'inet',
      destination: { kind: 'network', value: 'wanip', port: '8443' },
      target: '192.168.1.50',
      localPort: '443',
      natReflection: 'disable',
    });
    expect(config.nat?.outbound.mode).toBe('hybrid');
    expect(config.nat?.outbound.rules).toEqual([
      expect.objectContaining({ source: '192.168.1.0/24', destination: '10.0.0.0/8', destinationNot: true, target: '198.51.100.0', targetSubnet: 29, noNat: false, protocol: 'tcp' }),
      expect.objectContaining({ source: '192.168.1.5/32', noNat: true, target: '' }),
    ]);
    expect(config.nat?.outbound.rules[1]?.protocol).toBeUndefined();
    expect(config.nat?.oneToOne[0]).toMatchObject({ external: '203.0.113.60', source: { kind: 'address', value: '192.168.1.60' } });
    expect(warnings.filter((w) => w.message.includes('rdr pass'))).toHaveLength(1);
    // The generated ruleset redirects WAN:8443 to the NAS.
    const ruleset = generateRuleset(config);
    expect(ruleset.nat?.some((r) => r.kind === 'rdr' && r.target?.kind === 'cidr' && r.target.cidr === '192.168.1.50/32')).toBe(true);
  });

  it('a disabled interface and its rules are left out as the device does', () => {
    const live = snapshot([rule({ interfaces: ['opt1'], description: 'dmz web' })], {
      interfaces: [iface('wan', '203.0.113.2/24'), iface('lan', '192.168.1.1/24'), iface('opt1', '10.1.1.1/24', { enabled: false })],
    });
    const { config, warnings } = buildPolicyFromLive(live);
    const ruleset = generateRuleset(config, { importWarnings: warnings });
    expect(ruleset.rules.some((r) => r.origin.descr === 'dmz web')).toBe(false);
    expect(ruleset.warnings.map((w) => w.code)).toEqual(expect.arrayContaining(['POL031']));
  });
});

describe('applyLiveChange', () => {
  const base = snapshot(
    [
      rule({ vendor_rule_id: '1', description: 'first' }),
      rule({ vendor_rule_id: '2', description: 'float', floating: true, quick: true, direction: 'in', interfaces: ['wan', 'lan'], schedule: 's' }),
    ],
    {
      aliases: [{ name: 'admins', type: 'host', description: '', entries: [{ address: '8.8.8.8', detail: '' }] }],
      nat: {
        port_forwards: [nat({ vendor_id: 0 })],
        outbound: { mode: 'hybrid', mappings: [nat({ vendor_id: 3 })] },
        one_to_one: [],
      },
    },
  );
  const body = {
    action: 'deny' as const,
    interface: 'wan',
    ip_version: 'inet' as const,
    protocol: 'udp' as const,
    source_address: 'any',
    source_port: null,
    dest_address: 'any',
    dest_port: '53',
    description: 'no dns',
    is_enabled: true,
    log_enabled: false,
  };

  it('creates last, updates in place keeping the options the body does not carry, toggles only is_enabled', () => {
    const created = applyLiveChange(base, { kind: 'firewall_rule', op: 'create', target: null, body });
    expect(created.rules.map((r) => r.description)).toEqual(['first', 'float', 'no dns']);
    const updated = applyLiveChange(base, { kind: 'firewall_rule', op: 'update', target: '2', body });
    expect(updated.rules[1]).toMatchObject({
      vendor_rule_id: '2',
      description: 'no dns',
      action: 'deny',
      floating: true,
      interfaces: ['wan', 'lan'],
      direction: 'in',
      schedule: 's',
    });
    const toggled = applyLiveChange(base, { kind: 'firewall_rule', op: 'toggle', target: '1', body: { is_enabled: false } });
    expect(toggled.rules[0]).toEqual({ ...base.rules[0], is_enabled: false });
    // The input is left as it was.
    expect(base.rules[0]?.is_enabled).toBe(true);
  });

  it('deletes rules, aliases, port forwards and mappings by their live ids', () => {
    expect(applyLiveChange(base, { kind: 'firewall_rule', op: 'delete', target: '1' }).rules.map((r) => r.vendor_rule_id)).toEqual(['2']);
    expect(applyLiveChange(base, { kind: 'alias', op: 'delete', target: 'admins' }).aliases).toEqual([]);
    expect(applyLiveChange(base, { kind: 'port_forward', op: 'delete', target: '0' }).nat.port_forwards).toEqual([]);
    expect(applyLiveChange(base, { kind: 'source_nat', op: 'delete', target: '3' }).nat.outbound.mappings).toEqual([]);
  });

  it('adds port forwards and outbound mappings from their neutral bodies', () => {
    const forwarded = applyLiveChange(base, {
      kind: 'port_forward',
      op: 'create',
      target: null,
      body: {
        interface: 'wan',
        protocol: 'tcp',
        source_address: 'any',
        dest_address: 'wan:ip',
        dest_port: '2222',
        target_address: '192.168.1.9',
        target_port: '22',
        description: 'ssh',
        is_enabled: true,
      },
    });
    expect(forwarded.nat.port_forwards[1]).toMatchObject({ destination_port: '2222', translated_address: '192.168.1.9', translated_port: '22' });
    const mapped = applyLiveChange(base, {
      kind: 'source_nat',
      op: 'create',
      target: null,
      body: {
        interface: 'wan',
        protocol: 'any',
        source_address: '192.168.1.0/24',
        dest_address: 'any',
        target_address: '198.51.100.7',
        description: 'egress',
        is_enabled: true,
      },
    });
    expect(mapped.nat.outbound.mappings[1]).toMatchObject({ original_address: '192.168.1.0/24', translated_address: '198.51.100.7' });
    const { config } = buildPolicyFromLive(mapped);
    const verdict = createEvaluator(generateRuleset(config)).evaluate({
      interface: 'wan',
      direction: 'out',
      proto: 'udp',
      src: '192.168.1.20',
      srcPort: 5000,
      dst: '9.9.9.9',
      dstPort: 53,
    });
    expect(verdict.translations?.[0]).toMatchObject({ field: 'source', after: expect.stringContaining('198.51.100.7') });
  });

  it('refuses a write naming an object the device does not hold, and an alias create taking a used name', () => {
    const fails = (run: () => unknown, field: string) => {
      expect(run).toThrow(PolicyInputError);
      try {
        run();
      } catch (err) {
        expect((err as PolicyInputError).field).toBe(field);
      }
    };
    fails(() => applyLiveChange(base, { kind: 'firewall_rule', op: 'toggle', target: '99', body: { is_enabled: true } }), 'target');
    fails(() => applyLiveChange(base, { kind: 'alias', op: 'update', target: 'nobody', body: { name: 'nobody', type: 'host', description: '', entries: [] } }), 'target');
    fails(() => applyLiveChange(base, { kind: 'port_forward', op: 'delete', target: '5' }), 'target');
    fails(() => applyLiveChange(base, { kind: 'alias', op: 'create', target: null, body: { name: 'admins', type: 'host', description: '', entries: [] } }), 'body.name');
  });
});
