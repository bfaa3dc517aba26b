/**
 * @module Property test of the whole preview chain (live snapshot → model → change → rulesets → diff → stored
 * regions): on random live rule lists and a random staged write, every sampled first packet whose verdict changes
 * between the two generated rulesets (by the evaluator, which shares no code with the diff) lies in a stored
 * `newly_pass` / `newly_block` region, and a packet whose verdict stays lies in none. Small address and port pools
 * make overlaps frequent; counters make sure the property is not vacuous.
 */
import { fc, test } from '@fast-check/vitest';
import { expect, it } from 'vitest';
import type { LiveWrite } from '../../src/adapters/live-write.ts';
import { type LiveSnapshot, type PreviewRegion, previewChange } from '../../src/firewall/preview.ts';
import { cidrContains, parseCidr, parseIp, parseIpv4Value } from '../../src/net/ip.ts';
import { createEvaluator, type Evaluator } from '../../src/policy/evaluate.ts';
import { generateRuleset } from '../../src/policy/generate/index.ts';
import { applyLiveChange, type LiveChange } from '../../src/policy/import/live-change.ts';
import { buildPolicyFromLive, type LiveRuleInput, type LiveSystemSettings } from '../../src/policy/import/live.ts';

const SETTINGS: LiveSystemSettings = {
  anti_lockout: false,
  webgui_protocol: 'https',
  webgui_port: null,
  ssh_enabled: false,
  ssh_port: null,
  ipv6_allow: false,
  block_private: [],
  block_bogons: [],
  dhcp_server: [],
  nat_reflection: false,
};

const iface = (id: string, ipv4: string, gateway: string | null) => ({
  id,
  device: null,
  description: id.toUpperCase(),
  enabled: true,
  ipv4,
  ipv6: null,
  ipv4_mode: 'static',
  ipv6_mode: 'none',
  block_private: false,
  block_bogons: false,
  gateway,
});

const ADDRESSES = ['any', '192.168.1.0/25', '8.8.8.0/29', '8.8.8.5', 'lan', 'wan:ip', 'admins', '!admins', '!8.8.8.0/29'];
const PORTS = [null, '22', '20:25', '8443', '1:1024'];
const ALIAS_ENTRIES = ['8.8.8.1', '8.8.8.6', '192.168.1.5', '192.168.1.128/26'];

const body = fc.record({
  action: fc.constantFrom('allow' as const, 'deny' as const, 'reject' as const),
  interface: fc.constantFrom('wan', 'lan'),
  ip_version: fc.constant('inet' as const),
  protocol: fc.constantFrom('any' as const, 'tcp' as const, 'udp' as const, 'tcp/udp' as const, 'icmp' as const),
  source_address: fc.constantFrom(...ADDRESSES),
  source_port: fc.constantFrom(null, '20:25'),
  dest_address: fc.constantFrom(...ADDRESSES),
  dest_port: fc.constantFrom(...PORTS),
  description: fc.constant('r'),
  is_enabled: fc.boolean(),
  log_enabled: fc.constant(false),
});

const liveRule = fc
  .tuple(body, fc.boolean(), fc.boolean(), fc.constantFrom('in', 'any'))
  .map(([b, floating, quick, direction]): LiveRuleInput => ({
    vendor_rule_id: null,
    action: b.action,
    interfaces: floating ? ['wan', 'lan'] : [b.interface],
    direction: floating ? direction : null,
    ip_version: b.ip_version,
    protocol: b.protocol,
    source_address: b.source_address,
    source_port: b.protocol === 'any' || b.protocol === 'icmp' ? null : b.source_port,
    dest_address: b.dest_address,
    dest_port: b.protocol === 'any' || b.protocol === 'icmp' ? null : b.dest_port,
    description: b.description,
    is_enabled: b.is_enabled,
    log_enabled: false,
    floating,
    quick: floating ? quick : true,
    icmp_types: null,
    schedule: null,
    unmodelled_options: [],
  }));

const scenario = fc
  .record({
    rules: fc.array(liveRule, { minLength: 1, maxLength: 7 }),
    alias: fc.subarray(ALIAS_ENTRIES),
    kind: fc.constantFrom('create', 'update', 'toggle', 'delete', 'alias'),
    pick: fc.nat(),
    newBody: body,
    newAlias: fc.subarray(ALIAS_ENTRIES),
  })
  .map(({ rules, alias, kind, pick, newBody, newAlias }) => {
    const ids = rules.map((r, i) => ({ ...r, vendor_rule_id: String(100 + i) }));
    const snapshot: LiveSnapshot = {
      rules: ids,
      aliases: [{ name: 'admins', type: 'host', description: '', entries: alias.map((address) => ({ address, detail: '' })) }],
      interfaces: [iface('wan', '203.0.113.2/24', '203.0.113.1'), iface('lan', '192.168.1.1/24', null)],
      nat: { port_forwards: [], outbound: { mode: 'automatic', mappings: [] }, one_to_one: [] },
    };
    const target = String(100 + (pick % ids.length));
    const cleanBody = {
      ...newBody,
      source_port: newBody.protocol === 'any' || newBody.protocol === 'icmp' ? null : newBody.source_port,
      dest_port: newBody.protocol === 'any' || newBody.protocol === 'icmp' ? null : newBody.dest_port,
    };
    const change: LiveWrite =
      kind === 'create'
        ? { kind: 'firewall_rule', op: 'create', target: null, body: cleanBody }
        : kind === 'update'
          ? { kind: 'firewall_rule', op: 'update', target, body: cleanBody }
          : kind === 'toggle'
            ? { kind: 'firewall_rule', op: 'toggle', target, body: { is_enabled: !(ids[pick % ids.length] as LiveRuleInput).is_enabled } }
            : kind === 'delete'
              ? { kind: 'firewall_rule', op: 'delete', target, body: {} }
              : {
                  kind: 'alias',
                  op: 'update',
                  target: 'admins',
                  body: { name: 'admins', type: 'host', description: '', entries: newAlias.map((address) => ({ address, detail: '' })) },
                };
    return { snapshot, change };
  });

interface Probe {
  interface: 'wan' | 'lan';
  proto: 'tcp' | 'udp' | 'icmp';
  src: string;
  dst: string;
  srcPort: number;
  dstPort: number;
}

const HOSTS = ['8.8.8.1', '8.8.8.5', '8.8.8.9', '192.168.1.5', '192.168.1.130', '192.168.1.1', '203.0.113.2', '1.2.3.4'];
const probes: Probe[] = [];
for (const i of ['wan', 'lan'] as const) {
  for (const proto of ['tcp', 'udp', 'icmp'] as const) {
    for (const src of HOSTS) {
      for (const dst of HOSTS) {
        for (const dstPort of proto === 'icmp' ? [0] : [22, 8443, 1025]) {
          probes.push({ interface: i, proto, src, dst, srcPort: proto === 'icmp' ? 0 : 22, dstPort });
        }
      }
    }
  }
}

const inAddresses = (list: string[] | null, address: string): boolean =>
  list === null ||
  list.some((entry) => {
    const dash = entry.indexOf('-');
    if (dash > 0) {
      const value = parseIpv4Value(address);
      return value >= parseIpv4Value(entry.slice(0, dash)) && value <= parseIpv4Value(entry.slice(dash + 1));
    }
    const cidr = parseCidr(entry);
    const ip = parseIp(address);
    return cidr !== null && ip !== null && cidrContains(cidr, ip);
  });

const inPorts = (list: string[] | null, port: number): boolean =>
  list === null ||
  list.some((entry) => {
    const [from, to] = entry.split('-').map(Number) as [number, number | undefined];
    return port >= from && port <= (to ?? from);
  });

function contains(region: PreviewRegion, p: Probe): boolean {
  if (region.interface !== p.interface || region.direction !== 'in' || region.family !== 'inet') return false;
  if (region.protocols !== null && !region.protocols.includes(p.proto)) return false;
  if (!inAddresses(region.source, p.src) || !inAddresses(region.destination, p.dst)) return false;
  if (p.proto !== 'icmp' && (!inPorts(region.source_ports, p.srcPort) || !inPorts(region.destination_ports, p.dstPort))) return false;
  if (p.proto === 'tcp' && region.tcp_flags !== null && !region.tcp_flags.values.includes(2)) return false;
  return !(p.proto === 'icmp' && region.icmp_types !== null && !region.icmp_types.includes(8));
}

function evaluatorOf(snapshot: LiveSnapshot): Evaluator {
  const { config, warnings } = buildPolicyFromLive(snapshot, SETTINGS);
  return createEvaluator(generateRuleset(config, { importWarnings: warnings }));
}

const seen = { changed: 0, kept: 0 };

test.prop([scenario], { numRuns: 60 })('every verdict change is in a stored region, and only those', ({ snapshot, change }) => {
  const preview = previewChange(snapshot, change, {
    management: { gatewayUrl: 'https://192.168.1.1', source: '192.168.1.100' },
    settings: SETTINGS,
  });
  if (preview === null) throw new Error('a rule or alias write always has a preview');
  expect(preview.truncated).toBe(false);
  const before = evaluatorOf(snapshot);
  const after = evaluatorOf(applyLiveChange(snapshot, change as LiveChange));
  for (const p of probes) {
    const packet = {
      interface: p.interface,
      direction: 'in' as const,
      proto: p.proto,
      src: p.src,
      dst: p.dst,
      ...(p.proto === 'icmp' ? { icmpType: 'echoreq' } : { srcPort: p.srcPort, dstPort: p.dstPort }),
      ...(p.proto === 'tcp' ? { tcpFlags: 'S' } : {}),
    };
    // First packets only: no state left by an earlier probe may decide.
    before.states.clear();
    after.states.clear();
    const was = before.verdict(packet);
    const now = after.verdict(packet);
    if (was === 'unknown' || now === 'unknown') continue;
    const passed = was === 'pass';
    const passes = now === 'pass';
    const inPass = preview.newly_pass.some((r) => contains(r, p));
    const inBlock = preview.newly_block.some((r) => contains(r, p));
    if (passed !== passes) seen.changed++;
    else seen.kept++;
    expect({ packet: p, inPass, inBlock }).toEqual({ packet: p, inPass: !passed && passes, inBlock: passed && !passes });
  }
});

it('the property saw verdicts change and stay', () => {
  expect(seen.changed).toBeGreaterThan(50);
  expect(seen.kept).toBeGreaterThan(1000);
});
