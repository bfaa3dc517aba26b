/**
 * @module What a canonical VLAN becomes on a device (src/orchestration/distribution/plan.ts, ADR 0266): interface
 * names pfSense and OPNsense take, the brain's address, merges that keep what the device holds (so a second run is a
 * no-op), and the placement worked out from the devices' own VLANs.
 */
import { describe, expect, it } from 'vitest';
import {
  derivedBrainParent,
  derivedLimbPlacement,
  differingKeys,
  gatewayAddress,
  interfaceName,
  mergedBody,
  vlanInterfaceBody,
} from '../../src/orchestration/distribution/plan.ts';

const vlan = { vlanId: 30, name: 'cameras', description: '', ipv4Subnet: '10.30.0.0/24', ipv6Subnet: '2001:db8:30::/64' };

describe('distribution plan', () => {
  it('names interfaces with a letter first, letters, digits and _, at most 32', () => {
    expect(interfaceName('cameras', 30)).toBe('cameras');
    expect(interfaceName('guest wi-fi', 40)).toBe('guest_wi_fi');
    expect(interfaceName('2nd floor', 50)).toBe('VLAN50_2nd_floor');
    expect(interfaceName('x'.repeat(40), 60)).toHaveLength(32);
  });

  it("gives the brain the subnet's first host with its prefix", () => {
    expect(gatewayAddress('10.30.0.0/24')).toBe('10.30.0.1/24');
    expect(gatewayAddress('2001:db8:30::/64')).toBe('2001:db8:30::1/64');
    expect(vlanInterfaceBody(vlan, 'vtnet1')).toMatchObject({ parent: 'vtnet1', tag: 30, ipv4: '10.30.0.1/24', ipv6: '2001:db8:30::1/64', is_enabled: true });
  });

  it('keeps labels and an address already in the subnet: an existing interface like that is a no-op', () => {
    const desired = vlanInterfaceBody(vlan, 'vtnet1');
    const existing = { ...desired, name: 'CAMS', description: 'by hand', ipv4: '10.30.0.254/24', target: 'vtnet1.30' };
    const merged = mergedBody('vlan_interface', desired, existing, vlan);
    expect(differingKeys('vlan_interface', merged, existing)).toEqual([]);
    const elsewhere = { ...existing, ipv4: '192.168.9.1/24' };
    expect(differingKeys('vlan_interface', mergedBody('vlan_interface', desired, elsewhere, vlan), elsewhere)).toEqual(['ipv4']);
  });

  it('adds bridge ports and DNS addresses, never removes them; a port tagged now leaves the untagged list', () => {
    const desired = { bridge: 'bridge', vlan_id: 30, tagged: ['ether2'], untagged: [], description: '' };
    const existing = { bridge: 'bridge', vlan_id: 30, tagged: ['ether5'], untagged: ['ether2', 'ether3'], description: 'x' };
    expect(mergedBody('bridge_vlan', desired, existing, vlan)).toMatchObject({ tagged: ['ether2', 'ether5'], untagged: ['ether3'], description: 'x' });
    const dns = mergedBody('dns_override', { host: 'cam1', domain: 'lan', ip: ['10.30.0.5'], description: '' }, { host: 'cam1', domain: 'lan', ip: ['10.9.9.9'], description: '' }, vlan);
    expect(dns.ip).toEqual(['10.30.0.5', '10.9.9.9']);
  });

  it('works out placement from the devices, or says it cannot', () => {
    expect(derivedBrainParent([{ parent: 'igb1' }, { parent: 'igb1' }], [])).toBe('igb1');
    expect(derivedBrainParent([{ parent: 'igb1' }, { parent: 'igb2' }], [{ id: 'lan', device: 'igb1' }])).toBeNull();
    expect(derivedBrainParent([], [{ id: 'wan', device: 'vtnet0' }, { id: 'lan', device: 'vtnet1' }])).toBe('vtnet1');
    expect(
      derivedLimbPlacement([
        { bridge: 'bridge', vlan_id: 10, tagged: ['ether1', 'ether2'] },
        { bridge: 'bridge', vlan_id: 20, tagged: ['ether1'] },
      ]),
    ).toEqual({ bridge: 'bridge', tagged: ['ether1'], untagged: [] });
    expect(derivedLimbPlacement([])).toBeNull();
    expect(derivedLimbPlacement([{ bridge: 'a', vlan_id: 10, tagged: ['p1'] }, { bridge: 'b', vlan_id: 20, tagged: ['p1'] }])).toBeNull();
  });
});
