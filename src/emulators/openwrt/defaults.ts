/**
 * @module The factory configuration the emulator boots with: the head of firewall4's shipped
 * `/etc/config/firewall` (defaults, lan/wan zones, lan→wan forwarding, the first stock rules), a lan/wan
 * `network` with its DSA bridge `br-lan`, and a `dhcp` stub. Anonymous section names are fixed so tests can refer to them.
 */
import type { UciConfigs, UciSection } from './uci.ts';

const anon = (name: string, type: string, options: UciSection['options']): UciSection => ({
  name,
  type,
  anonymous: true,
  options,
});
const named = (name: string, type: string, options: UciSection['options']): UciSection => ({
  name,
  type,
  anonymous: false,
  options,
});

export function defaultConfig(): UciConfigs {
  return {
    firewall: {
      sections: [
        anon('cfg01e63d', 'defaults', { syn_flood: '1', input: 'REJECT', output: 'ACCEPT', forward: 'REJECT' }),
        anon('cfg02dc81', 'zone', { name: 'lan', network: ['lan'], input: 'ACCEPT', output: 'ACCEPT', forward: 'ACCEPT' }),
        anon('cfg03dc81', 'zone', {
          name: 'wan',
          network: ['wan', 'wan6'],
          input: 'REJECT',
          output: 'ACCEPT',
          forward: 'DROP',
          masq: '1',
          mtu_fix: '1',
        }),
        anon('cfg04ad58', 'forwarding', { src: 'lan', dest: 'wan' }),
        anon('cfg0592bd', 'rule', {
          name: 'Allow-DHCP-Renew',
          src: 'wan',
          proto: 'udp',
          dest_port: '68',
          target: 'ACCEPT',
          family: 'ipv4',
        }),
        anon('cfg0692bd', 'rule', {
          name: 'Allow-Ping',
          src: 'wan',
          proto: 'icmp',
          icmp_type: 'echo-request',
          family: 'ipv4',
          target: 'ACCEPT',
        }),
      ],
    },
    network: {
      sections: [
        named('loopback', 'interface', { device: 'lo', proto: 'static', ipaddr: '127.0.0.1', netmask: '255.0.0.0' }),
        // config_generate's DSA bridge: an anonymous `device` named br-lan listing the LAN ports (§9.1).
        anon('cfg030f15', 'device', { name: 'br-lan', type: 'bridge', ports: ['lan1', 'lan2', 'lan3'] }),
        named('lan', 'interface', { device: 'br-lan', proto: 'static', ipaddr: '192.168.1.1', netmask: '255.255.255.0' }),
        named('wan', 'interface', { device: 'eth1', proto: 'dhcp' }),
        named('wan6', 'interface', { device: 'eth1', proto: 'dhcpv6' }),
      ],
    },
    dhcp: {
      sections: [
        named('lan', 'dhcp', { interface: 'lan', start: '100', limit: '150', leasetime: '12h' }),
        named('wan', 'dhcp', { interface: 'wan', ignore: '1' }),
      ],
    },
    system: {
      sections: [anon('cfg01e48a', 'system', { hostname: 'OpenWrt', timezone: 'UTC', zonename: 'UTC' })],
    },
  };
}
