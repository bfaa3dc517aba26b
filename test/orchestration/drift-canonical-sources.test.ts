/**
 * @module The canonical drift sources' comparison and restoring writes (src/orchestration/drift/canonical-sources.ts,
 * ADRs 0275, 0276), pure: severities per field, only what the canonical state states compared, which sources apply
 * by role and authority, and the reapply of a missing object learned from the device — refused (409) where there is
 * nothing to learn from.
 */
import { describe, expect, it } from 'vitest';
import { ConflictError } from '../../src/errors.ts';
import type { DriftEventRef, DriftResource, Membership } from '../../src/orchestration/drift/model.ts';
import {
  bridgeVlanSource,
  dhcpReservationSource,
  dhcpScopeSource,
  vlanInterfaceSource,
} from '../../src/orchestration/drift/canonical-sources.ts';
import { DEFAULT_AUTHORITY_MAP } from '../../src/orchestration/topology.ts';

const res = (key: string, body: Record<string, unknown>): DriftResource => ({ key, name: key, body });
const event = (driftType: DriftEventRef['driftType'], key = 'vlan:20', actual: Record<string, unknown> | null = null): DriftEventRef => ({
  resourceKey: key,
  resourceName: key,
  driftType,
  expected: null,
  actual,
});
const brain: Membership = { role: 'brain', authorityMap: { ...DEFAULT_AUTHORITY_MAP } };
const limb: Membership = { role: 'limb', authorityMap: { ...DEFAULT_AUTHORITY_MAP } };

describe('which sources apply', () => {
  it('brain sources on the brain while it holds the authority; the bridge VLAN source on limbs while Portcullis owns L2', () => {
    expect(vlanInterfaceSource.expectation?.applies(brain)).toBe(true);
    expect(vlanInterfaceSource.expectation?.applies(limb)).toBe(false);
    expect(dhcpScopeSource.expectation?.applies({ role: 'brain', authorityMap: { ...DEFAULT_AUTHORITY_MAP, dhcp: 'portcullis' } })).toBe(false);
    expect(bridgeVlanSource.expectation?.applies(limb)).toBe(true);
    expect(bridgeVlanSource.expectation?.applies({ role: 'limb', authorityMap: { ...DEFAULT_AUTHORITY_MAP, vlan_l2: 'limb' } })).toBe(false);
  });

  it('an L2-only canonical VLAN expects no interface on the brain, but a bridge VLAN on each limb', () => {
    const vlans = [
      { vlanId: 20, name: 'iot', description: '', ipv4Subnet: '10.20.0.0/24', ipv6Subnet: null },
      { vlanId: 30, name: 'cams', description: '', ipv4Subnet: null, ipv6Subnet: null },
    ];
    expect(vlanInterfaceSource.expectation?.expected({ vlans, interfaces: new Map() }).map((r) => r.key)).toEqual(['vlan:20']);
    expect(bridgeVlanSource.expectation?.expected({ vlans }).map((r) => r.key)).toEqual(['vlan:20', 'vlan:30']);
  });
});

describe('severities', () => {
  const want = res('vlan:20', { vlan_id: 20, ipv4_subnet: '10.20.0.0/24', ipv6_subnet: null, is_enabled: true });
  it('a VLAN interface: missing and a wrong subnet are critical, one nobody declared a warning; its name is not compared', () => {
    expect(vlanInterfaceSource.compare(want, null, null as never)[0]).toMatchObject({ driftType: 'resource_missing', severity: 'critical' });
    expect(vlanInterfaceSource.compare(null, want, null as never)[0]).toMatchObject({ driftType: 'resource_added', severity: 'warning' });
    const moved = res('vlan:20', { ...want.body, ipv4_subnet: '10.21.0.0/24', name: 'OTHER' });
    expect(vlanInterfaceSource.compare(want, moved, null as never)[0]).toMatchObject({ severity: 'critical', details: { fields: ['ipv4_subnet'] } });
    expect(vlanInterfaceSource.compare(want, res('vlan:20', { ...want.body, name: 'renamed' }), null as never)).toEqual([]);
  });

  it('a DHCP scope: a moved pool is a warning, a disabled server critical (the highest changed field wins)', () => {
    const scope = res('vlan:20', { vlan_id: 20, range_from: '10.20.0.100', range_to: '10.20.0.199', is_enabled: true });
    const narrowed = res('vlan:20', { ...scope.body, range_to: '10.20.0.150' });
    expect(dhcpScopeSource.compare(scope, narrowed, null as never)[0]?.severity).toBe('warning');
    expect(dhcpScopeSource.compare(scope, res('vlan:20', { ...narrowed.body, is_enabled: false }), null as never)[0]).toMatchObject({
      severity: 'critical',
      details: { fields: ['range_to', 'is_enabled'] },
    });
  });

  it('a reservation: a hostname only counts when the canonical state states one', () => {
    const key = 'vlan:20/00:11:22:33:44:55';
    const stated = res(key, { vlan_id: 20, mac: '00:11:22:33:44:55', ip: '10.20.0.150', hostname: 'cam1', description: '' });
    expect(dhcpReservationSource.compare(stated, res(key, { ...stated.body, hostname: 'cam2' }), null as never)[0]?.severity).toBe('info');
    expect(dhcpReservationSource.compare(stated, res(key, { ...stated.body, ip: '10.20.0.151' }), null as never)[0]?.severity).toBe('warning');
  });
});

describe('reapply', () => {
  it('re-creates a VLAN interface on the parent the brain uses most, at the subnet first host; keeps an address already in it', () => {
    const expected = [res('vlan:40', { vlan_id: 40, name: 'guest wifi', description: 'g', ipv4_subnet: '10.40.0.0/24', ipv6_subnet: null })];
    const actual = [
      res('vlan:20', { parent: 'igb1', target: 'igb1.20' }),
      res('vlan:21', { parent: 'igb1', target: 'igb1.21' }),
      res('vlan:22', { parent: 'igb2', target: 'igb2.22' }),
    ];
    expect(vlanInterfaceSource.remedy(event('resource_missing', 'vlan:40'), expected, actual, null as never)).toEqual({
      kind: 'vlan_interface',
      op: 'create',
      target: null,
      body: { parent: 'igb1', tag: 40, name: 'guest_wifi', ipv4: '10.40.0.1/24', ipv6: null, description: 'g', is_enabled: true },
    });
    const existing = [res('vlan:40', { parent: 'igb1', target: 'igb1.40', name: 'G', description: '', ipv4: '10.40.0.254/24', ipv6: null })];
    expect(vlanInterfaceSource.remedy(event('resource_modified', 'vlan:40'), expected, existing, null as never)).toMatchObject({
      op: 'update',
      target: 'igb1.40',
      body: { ipv4: '10.40.0.254/24', is_enabled: true },
    });
    expect(() => vlanInterfaceSource.remedy(event('resource_missing', 'vlan:40'), expected, [], null as never)).toThrow(ConflictError);
  });

  it('deletes what the canonical state does not have, by its write target', () => {
    expect(bridgeVlanSource.remedy(event('resource_added', 'vlan:9', { target: '*7' }), [], [], { vlans: [] })).toEqual({
      kind: 'bridge_vlan',
      op: 'delete',
      target: '*7',
      body: {},
    });
  });

  it('puts a bridge VLAN back tagged on the ports that tag every other VLAN of the bridge; refuses with nothing to learn from', () => {
    const expected = [res('vlan:40', { vlan_id: 40, name: 'guest' })];
    const actual = [
      res('vlan:20', { bridge: 'bridge', tagged: ['ether2', 'ether5'] }),
      res('vlan:30', { bridge: 'bridge', tagged: ['ether2'] }),
    ];
    expect(bridgeVlanSource.remedy(event('resource_missing', 'vlan:40'), expected, actual, { vlans: [] })).toEqual({
      kind: 'bridge_vlan',
      op: 'create',
      target: null,
      body: { bridge: 'bridge', vlan_id: 40, tagged: ['ether2'], untagged: [], description: '' },
    });
    expect(() => bridgeVlanSource.remedy(event('resource_missing', 'vlan:40'), expected, [], { vlans: [] })).toThrow(/no other bridge VLAN/);
  });

  it('a missing DHCP scope goes back on its VLAN interface; without that interface it asks for the interface first', () => {
    const expected = [res('vlan:20', { vlan_id: 20, range_from: '10.20.0.100', range_to: '10.20.0.199', is_enabled: true })];
    const context = { vlans: [], scopes: [], reservations: [], interfaces: new Map() };
    expect(() => dhcpScopeSource.remedy(event('resource_missing'), expected, [], context)).toThrow(/no VLAN interface for VLAN 20/);
    context.interfaces.set(20, { tag: 20, interface_id: 'opt3' });
    expect(dhcpScopeSource.remedy(event('resource_missing'), expected, [], context)).toMatchObject({
      op: 'create',
      body: { interface: 'opt3', range_from: '10.20.0.100', range_to: '10.20.0.199', is_enabled: true },
    });
  });
});
