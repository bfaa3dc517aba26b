import { describe, expect, it } from 'vitest';
import { bodyOf, valuesOf, WRITABLE } from './GatewayWrites';

describe('staged device-write forms', () => {
  it('turn a live row into form values and back into the write body it came from', () => {
    const row = {
      target: 'vtnet2.30',
      interface_id: 'opt1',
      parent: 'vtnet2',
      tag: 30,
      name: 'IOT',
      ipv4: '10.30.0.1/24',
      ipv6: null,
      description: 'cameras',
      is_enabled: false,
    };
    const spec = WRITABLE.vlan_interface;
    const values = valuesOf(spec, row);
    expect(values).toEqual({ parent: 'vtnet2', tag: 30, name: 'IOT', ipv4: '10.30.0.1/24', ipv6: '', description: 'cameras', is_enabled: false });
    expect(bodyOf(spec, values)).toEqual({ parent: 'vtnet2', tag: 30, name: 'IOT', ipv4: '10.30.0.1/24', ipv6: null, description: 'cameras', is_enabled: false });
    expect(spec.targetOf(row)).toBe('vtnet2.30');
    expect(spec.summary(row)).toBe('vtnet2.30 IOT');
  });

  it('split port and server lists on commas, send blank optionals as null and a blank number as null (the server names it)', () => {
    const scope = WRITABLE.dhcp_scope;
    expect(bodyOf(scope, { ...valuesOf(scope, null), interface: 'opt1', range_from: ' 10.0.0.5 ', range_to: '10.0.0.9', dns_servers: '10.0.0.1, ,10.0.0.2' })).toEqual({
      interface: 'opt1',
      range_from: '10.0.0.5',
      range_to: '10.0.0.9',
      gateway: null,
      dns_servers: ['10.0.0.1', '10.0.0.2'],
      is_enabled: true,
    });
    const bridge = WRITABLE.bridge_vlan;
    expect(bodyOf(bridge, valuesOf(bridge, null))).toEqual({ bridge: '', vlan_id: null, tagged: [], untagged: [], description: '' });
  });

  it('offer no controls for a bridge entry no write reaches (a dynamic entry)', () => {
    expect(WRITABLE.bridge_vlan.targetOf({ write_target: null, bridge: 'bridge', vlan_id: 1 })).toBeNull();
    expect(WRITABLE.bridge_vlan.targetOf({ write_target: '*5', bridge: 'bridge', vlan_id: 30 })).toBe('*5');
  });
});
