/**
 * @module The pure part of live writes (src/firewall/pending-writes.ts and the rule compiler of
 * src/firewall/pending.ts): request bodies checked into neutral writes (400 naming the field, ranges written
 * `low:high`), the inverse of every operation (revert and automatic restore), the read-back comparison and the
 * rebuilding of a write from its stored row.
 */
import { describe, expect, it } from 'vitest';
import type { LiveRuleBody, LiveWrite } from '../../src/adapters/live-write.ts';
import { ValidationError } from '../../src/errors.ts';
import { compileRule, deployWrite } from '../../src/firewall/pending.ts';
import {
  createWrite,
  inverseOf,
  needsConfirmation,
  permissionFor,
  verificationDifferences,
  writeFromRow,
  WRITE_CAPABILITY,
} from '../../src/firewall/pending-writes.ts';

const anyName = () => null;
const body: LiveRuleBody = {
  action: 'allow',
  interface: 'lan',
  ip_version: 'inet',
  protocol: 'tcp',
  source_address: 'any',
  source_port: null,
  dest_address: '10.0.0.5',
  dest_port: '443',
  description: 'web',
  is_enabled: true,
  log_enabled: false,
};

function fieldOf(run: () => unknown): string {
  try {
    run();
  } catch (err) {
    if (err instanceof ValidationError) return err.field;
    throw err;
  }
  throw new Error('no ValidationError');
}

describe('request bodies → neutral writes', () => {
  it('fills defaults, canonicalises addresses and writes port ranges low:high', () => {
    const write = createWrite(
      'firewall_rule',
      { action: 'deny', interface: 'wan', protocol: 'udp', source_address: '2001:DB8::0:1', dest_port: '5000-5010' },
      anyName,
    );
    expect(write).toEqual({
      kind: 'firewall_rule',
      op: 'create',
      target: null,
      body: {
        action: 'deny',
        interface: 'wan',
        ip_version: 'inet',
        protocol: 'udp',
        source_address: '2001:db8::1',
        source_port: null,
        dest_address: 'any',
        dest_port: '5000:5010',
        description: '',
        is_enabled: true,
        log_enabled: false,
      },
    });
  });

  it('names the field of each bad value', () => {
    expect(fieldOf(() => createWrite('firewall_rule', { action: 'allow' }, anyName))).toBe('interface');
    expect(fieldOf(() => createWrite('firewall_rule', { action: 'allow', interface: 'lan', dest_port: '80' }, anyName))).toBe(
      'dest_port',
    );
    expect(fieldOf(() => createWrite('alias', { name: 'x', type: 'host' }, () => 'reserved name'))).toBe('name');
    expect(
      fieldOf(() => createWrite('alias', { name: 'ok', type: 'port', entries: [{ address: '80' }, { address: 'any' }] }, anyName)),
    ).toBe('entries.1.address');
    expect(fieldOf(() => createWrite('static_route', { network: '10.0.0.1/8', gateway: 'GW' }, anyName))).toBe('network');
    expect(fieldOf(() => createWrite('dns_override', { host: '-bad', domain: 'example.org', ip: ['10.0.0.1'] }, anyName))).toBe(
      'host',
    );
    expect(fieldOf(() => createWrite('dhcp_static_mapping', { interface: 'lan', mac: '00:11:22:33:44:55', ip: 'x' }, anyName))).toBe(
      'ip',
    );
    expect(
      fieldOf(() =>
        createWrite('source_nat', { interface: 'wan', source_address: 'lan', target_address: 'any' }, anyName),
      ),
    ).toBe('target_address');
  });

  it('a bridge VLAN: ports sorted and de-duplicated, id 1-4094, a port never tagged and untagged, at least one port', () => {
    expect(
      createWrite('bridge_vlan', { bridge: 'br-lan', vlan_id: 10, tagged: ['lan2', 'lan1', 'lan2'], untagged: ['lan3'] }, anyName),
    ).toEqual({
      kind: 'bridge_vlan',
      op: 'create',
      target: null,
      body: { bridge: 'br-lan', vlan_id: 10, tagged: ['lan1', 'lan2'], untagged: ['lan3'], description: '' },
    });
    expect(WRITE_CAPABILITY.bridge_vlan).toBe('write.bridge_vlans');
    expect(fieldOf(() => createWrite('bridge_vlan', { bridge: 'br-lan', vlan_id: 4095, tagged: ['lan1'] }, anyName))).toBe('vlan_id');
    expect(fieldOf(() => createWrite('bridge_vlan', { bridge: 'br-lan', vlan_id: 0, tagged: ['lan1'] }, anyName))).toBe('vlan_id');
    expect(fieldOf(() => createWrite('bridge_vlan', { bridge: 'br-lan', vlan_id: 1.5, tagged: ['lan1'] }, anyName))).toBe('vlan_id');
    expect(fieldOf(() => createWrite('bridge_vlan', { bridge: 'br-lan', vlan_id: 5, tagged: ['a,b'] }, anyName))).toBe('tagged.0');
    expect(
      fieldOf(() => createWrite('bridge_vlan', { bridge: 'br-lan', vlan_id: 5, tagged: ['lan1'], untagged: ['lan1'] }, anyName)),
    ).toBe('untagged');
    expect(fieldOf(() => createWrite('bridge_vlan', { bridge: 'br-lan', vlan_id: 5 }, anyName))).toBe('tagged');
    expect(fieldOf(() => createWrite('bridge_vlan', { bridge: 'br lan', vlan_id: 5, tagged: ['lan1'] }, anyName))).toBe('bridge');
  });

  it('checks VLAN interface and DHCP scope bodies (docs/reference/brain-l3.md §4), naming the field', () => {
    const vlan = { parent: 'igb1', tag: 20, name: 'GUEST', ipv4: '10.20.0.1/24' };
    expect(createWrite('vlan_interface', vlan, anyName)).toEqual({
      kind: 'vlan_interface',
      op: 'create',
      target: null,
      body: { ...vlan, ipv6: null, description: '', is_enabled: true },
    });
    expect(createWrite('vlan_interface', { ...vlan, ipv6: '2001:DB8::1/64' }, anyName).body).toMatchObject({
      ipv6: '2001:db8::1/64',
    });
    expect(fieldOf(() => createWrite('vlan_interface', { ...vlan, tag: 4095 }, anyName))).toBe('tag');
    expect(fieldOf(() => createWrite('vlan_interface', { ...vlan, tag: 0 }, anyName))).toBe('tag');
    expect(fieldOf(() => createWrite('vlan_interface', { ...vlan, parent: 'igb 1' }, anyName))).toBe('parent');
    expect(fieldOf(() => createWrite('vlan_interface', { ...vlan, name: 'guest-wifi' }, anyName))).toBe('name');
    expect(fieldOf(() => createWrite('vlan_interface', { ...vlan, ipv4: '10.20.0.1' }, anyName))).toBe('ipv4');
    expect(fieldOf(() => createWrite('vlan_interface', { ...vlan, ipv4: '2001:db8::1/64' }, anyName))).toBe('ipv4');
    expect(fieldOf(() => createWrite('vlan_interface', { ...vlan, ipv6: '10.0.0.1/24' }, anyName))).toBe('ipv6');
    const scope = { interface: 'opt1', range_from: '10.20.0.100', range_to: '10.20.0.199' };
    expect(createWrite('dhcp_scope', scope, anyName).body).toEqual({
      ...scope,
      gateway: null,
      dns_servers: [],
      is_enabled: true,
    });
    expect(fieldOf(() => createWrite('dhcp_scope', { ...scope, range_to: '2001:db8::9' }, anyName))).toBe('range_to');
    expect(fieldOf(() => createWrite('dhcp_scope', { ...scope, gateway: 'router' }, anyName))).toBe('gateway');
    expect(fieldOf(() => createWrite('dhcp_scope', { ...scope, dns_servers: ['1.1.1.1', 'x'] }, anyName))).toBe(
      'dns_servers.1',
    );
    expect(fieldOf(() => createWrite('dhcp_scope', { ...scope, interface: undefined }, anyName))).toBe('interface');
  });

  it('confirmation and permissions follow the operation and kind', () => {
    expect(['create', 'update', 'toggle', 'delete', 'control', 'reboot', 'halt'].filter((op) => needsConfirmation(op as never))).toEqual([
      'delete',
      'reboot',
      'halt',
    ]);
    expect(permissionFor('power')).toBe('firewall.admin');
    expect(permissionFor('alias')).toBe('firewall.manage_rules');
  });
});

describe('inverse of each operation', () => {
  const before = { ...body, description: 'before', vendor_data: { floating: true } };
  it('create → delete of the new id; no id, no inverse', () => {
    const create: LiveWrite = { kind: 'alias', op: 'create', target: null, body: { name: 'a', type: 'host', description: '', entries: [] } };
    expect(inverseOf(create, null, 'a')).toEqual({ kind: 'alias', op: 'delete', target: 'a', body: {} });
    expect(inverseOf(create, null, null)).toBeNull();
  });

  it('update → update back to the before-image, vendor_data included, at the key the device now uses', () => {
    const update: LiveWrite = { kind: 'firewall_rule', op: 'update', target: '7', body };
    expect(inverseOf(update, before, '7')).toEqual({ kind: 'firewall_rule', op: 'update', target: '7', body: before });
    expect(inverseOf(update, null, '7')).toBeNull();
  });

  it('toggle → toggle back; delete → create (a rule in front of the rule that followed it)', () => {
    const toggle: LiveWrite = { kind: 'static_route', op: 'toggle', target: '10.0.0.0/8', body: { is_enabled: false } };
    expect(inverseOf(toggle, { is_enabled: true }, '10.0.0.0/8')).toMatchObject({ op: 'toggle', body: { is_enabled: true } });
    const del: LiveWrite = { kind: 'firewall_rule', op: 'delete', target: '7', body: {} };
    expect(inverseOf(del, before, '7', '9')).toEqual({ kind: 'firewall_rule', op: 'create', target: null, body: before, before: '9' });
    const delAlias: LiveWrite = { kind: 'alias', op: 'delete', target: 'a', body: {} };
    expect(inverseOf(delAlias, { name: 'a', type: 'host', description: '', entries: [], extra: 1 }, 'a', '9')).toEqual({
      kind: 'alias',
      op: 'create',
      target: null,
      body: { name: 'a', type: 'host', description: '', entries: [] },
    });
  });

  it('service start ⇄ stop; a restart, a reboot or a halt cannot be undone', () => {
    const stop: LiveWrite = { kind: 'service', op: 'control', target: 'unbound', body: { name: 'unbound', action: 'stop' } };
    expect(inverseOf(stop, null, 'unbound')).toMatchObject({ body: { action: 'start' } });
    expect(inverseOf({ ...stop, body: { name: 'unbound', action: 'restart' } }, null, 'unbound')).toBeNull();
    expect(inverseOf({ kind: 'power', op: 'reboot', target: null, body: {} }, null, null)).toBeNull();
  });
});

describe('read-back comparison', () => {
  const write: LiveWrite = {
    kind: 'alias',
    op: 'create',
    target: null,
    body: { name: 'a', type: 'host', description: 'd', entries: [{ address: '10.0.0.1', detail: '' }] },
  };
  it('ignores key order and fields the write did not set; lists each differing field', () => {
    expect(
      verificationDifferences(write, {
        entries: [{ detail: '', address: '10.0.0.1' }],
        description: 'd',
        type: 'host',
        name: 'a',
        vendor_data: { x: 1 },
      }),
    ).toEqual([]);
    expect(verificationDifferences(write, { ...write.body, description: 'other' })).toEqual([
      { field: 'description', expected: 'd', actual: 'other' },
    ]);
    expect(verificationDifferences(write, null)).toEqual([{ field: 'object', expected: 'present', actual: null }]);
  });

  it('a delete expects nothing; a restart expects the service running; power has nothing to read', () => {
    expect(verificationDifferences({ kind: 'alias', op: 'delete', target: 'a', body: {} }, null)).toEqual([]);
    expect(verificationDifferences({ kind: 'alias', op: 'delete', target: 'a', body: {} }, { name: 'a' })).toHaveLength(1);
    const restart: LiveWrite = { kind: 'service', op: 'control', target: 's', body: { name: 's', action: 'restart' } };
    expect(verificationDifferences(restart, { name: 's', action: 'start' })).toEqual([]);
    expect(verificationDifferences(restart, { name: 's', action: 'stop' })).toEqual([
      { field: 'action', expected: 'start', actual: 'stop' },
    ]);
    expect(verificationDifferences({ kind: 'power', op: 'halt', target: null, body: {} }, null)).toBeNull();
  });
});

describe('stored rows and deployed rules', () => {
  it('rebuilds a write from its row (with a rule placement) and refuses shapes the contract lacks', () => {
    const row = { targetType: 'firewall_rule', operation: 'create', targetVendorId: null, payload: body, placeBefore: '9' };
    expect(writeFromRow(row)).toEqual({ kind: 'firewall_rule', op: 'create', target: null, body, before: '9' });
    expect(() => writeFromRow({ ...row, targetType: 'alias', operation: 'toggle', targetVendorId: 'a' })).toThrow(/unknown shape/);
    expect(() => writeFromRow({ ...row, operation: 'delete' })).toThrow(/no target/);
  });

  const normalized = {
    id: '00000000-0000-4000-8000-000000000001',
    siteId: '00000000-0000-4000-8000-000000000002',
    deviceId: '00000000-0000-4000-8000-000000000003',
    vendorRuleId: null,
    sourceAddress: 'any',
    sourcePort: 'any',
    sourceZone: 'lan',
    destAddress: '2001:db8::5',
    destPort: '1000-2000',
    destZone: null,
    protocol: 'tcp',
    action: 'reject',
    logEnabled: true,
    isEnabled: false,
    ruleOrder: 1,
    description: 'normalized',
    hitCount: 0,
    lastSyncedAt: null,
    deviceDeletedAt: null,
    createdAt: new Date(),
    updatedAt: new Date(),
  };

  it('compiles a normalized rule: interface from source_zone, ports any → null, ranges low:high, IPv6 seen', () => {
    expect(compileRule(normalized)).toEqual({
      action: 'reject',
      interface: 'lan',
      ip_version: 'inet6',
      protocol: 'tcp',
      source_address: 'any',
      source_port: null,
      dest_address: '2001:db8::5',
      dest_port: '1000:2000',
      description: 'normalized',
      is_enabled: false,
      log_enabled: true,
    });
    expect(deployWrite(normalized)).toMatchObject({ op: 'create', target: null });
    expect(deployWrite({ ...normalized, vendorRuleId: '42' })).toMatchObject({ op: 'update', target: '42' });
    expect(fieldOf(() => compileRule({ ...normalized, action: 'log' }))).toBe('action');
    expect(fieldOf(() => compileRule({ ...normalized, sourceZone: null }))).toBe('source_zone');
    expect(fieldOf(() => compileRule({ ...normalized, protocol: 'gre' }))).toBe('protocol');
  });
});
