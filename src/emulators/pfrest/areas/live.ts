/**
 * @module What the emulated box reports about itself but never stores in config.xml — system status, CARP,
 * services, DHCP leases, ARP, gateway, VPN status, logs — with a plausible default for a fresh box
 * (docs/reference/pfrest-emulator.md §6). Tests replace any part through `setLive()` or `PATCH /__emulator/live`.
 * Field names and types are those of the pfRest models cited at each endpoint.
 */
import type { Row } from '../spec.ts';

export interface LiveViews {
  /** `SystemStatus` (one object). */
  system: Row;
  /** `CARP`: enable, maintenance_mode. */
  carp: { enable: boolean; maintenance_mode: boolean };
  /** `Service` rows: name, description, enabled, status (`action` is write-only in practice, null on read). */
  services: Array<{ name: string; description: string; enabled: boolean; status: boolean }>;
  /** `RoutingGatewayStatus` rows. */
  gatewayStatus: Row[];
  /** `DHCPServerLease` rows. */
  dhcpLeases: Row[];
  /** `ARPTable` rows. */
  arp: Row[];
  openvpnServers: Row[];
  openvpnClients: Row[];
  ipsecSas: Row[];
  wireguardTunnels: Row[];
  /** `WireGuardPeerStatus` rows as the box knows them; `preshared_key` is sensitive and never represented. */
  wireguardPeers: Row[];
  /** Raw lines of /var/log/filter.log (`FirewallLog.text`), oldest first. */
  firewallLog: string[];
  /** Raw lines of /var/log/system.log (`SystemLog.text`), oldest first. */
  systemLog: string[];
  /** Set by `POST /diagnostics/reboot` / `halt_system`: the box stops answering. */
  power: 'on' | 'rebooting' | 'halted';
}

export const LIVE_KEYS = [
  'system',
  'carp',
  'services',
  'gatewayStatus',
  'dhcpLeases',
  'arp',
  'openvpnServers',
  'openvpnClients',
  'ipsecSas',
  'wireguardTunnels',
  'wireguardPeers',
  'firewallLog',
  'systemLog',
  'power',
] as const satisfies ReadonlyArray<keyof LiveViews>;

/** A filterlog line (pfSense `filterlog` CSV after the syslog header) for a TCP packet. */
function filterLine(
  time: string,
  rule: number,
  tracker: number,
  iface: string,
  action: string,
  src: string,
  dst: string,
  sport: number,
  dport: number,
): string {
  const ip = `4,0x0,,64,0,0,DF,6,tcp,60,${src},${dst}`;
  const tcp = `${sport},${dport},0,S,1000,,64240,,mss;sackOK;TS;nop;wscale`;
  return `${time} pfSense filterlog[29415]: ${rule},,,${tracker},${iface},match,${action},in,${ip},${tcp}`;
}

export function initialLive(): LiveViews {
  return {
    system: {
      platform: 'pfSense',
      serial: '',
      netgate_id: '0123456789abcdef0123',
      uptime: '3 Days 04 Hours 12 Minutes 09 Seconds',
      bios_vendor: 'SeaBIOS',
      bios_version: '1.16.3',
      bios_date: '04/01/2014',
      kernel_pti: false,
      mds_mitigation: 'inactive',
      temp_c: 0,
      temp_f: 32,
      cpu_model: 'QEMU Virtual CPU version 2.5+',
      cpu_load_avg: [0.12, 0.08, 0.05],
      cpu_count: 2,
      cpu_usage: 3.1,
      mbuf_usage: 1.2,
      mem_usage: 21.4,
      swap_usage: 0,
      disk_usage: 9.8,
    },
    carp: { enable: false, maintenance_mode: false },
    services: [
      { name: 'dhcpd', description: 'DHCP Service', enabled: true, status: true },
      { name: 'dpinger', description: 'Gateway Monitoring Daemon', enabled: true, status: true },
      { name: 'ntpd', description: 'NTP clock sync', enabled: true, status: true },
      { name: 'sshd', description: 'Secure Shell Daemon', enabled: false, status: false },
      { name: 'syslogd', description: 'System Logger Daemon', enabled: true, status: true },
      { name: 'unbound', description: 'DNS Resolver', enabled: true, status: true },
    ],
    gatewayStatus: [
      {
        name: 'WAN_DHCP',
        srcip: '203.0.113.10',
        monitorip: '203.0.113.1',
        delay: 1.254,
        stddev: 0.311,
        loss: 0,
        status: 'online',
        substatus: 'none',
      },
    ],
    dhcpLeases: [
      {
        ip: '192.168.1.100',
        mac: '52:54:00:12:34:56',
        hostname: 'laptop',
        if: 'lan',
        starts: '2026/12/06 20:00:00',
        ends: '2026/12/06 22:00:00',
        active_status: 'active',
        online_status: 'active/online',
        descr: '',
      },
    ],
    arp: [
      {
        hostname: 'laptop',
        ip_address: '192.168.1.100',
        mac_address: '52:54:00:12:34:56',
        interface: 'vtnet1',
        type: 'ethernet',
        permanent: false,
        dnsresolve: 'laptop.home.arpa',
        expires: 'expires in 1185 seconds',
      },
    ],
    openvpnServers: [],
    openvpnClients: [],
    ipsecSas: [],
    wireguardTunnels: [],
    wireguardPeers: [],
    firewallLog: [
      filterLine('Dec  6 21:58:01', 5, 1000000103, 'vtnet0', 'block', '198.51.100.7', '203.0.113.10', 51514, 22),
      filterLine('Dec  6 21:58:04', 74, 1770000101, 'vtnet1', 'pass', '192.168.1.100', '93.184.216.34', 50322, 443),
    ],
    systemLog: [
      'Dec  6 21:55:10 pfSense php-fpm[372]: /rc.filter_configure_sync: Filter reload complete',
      'Dec  6 21:57:43 pfSense sshguard[6502]: Now monitoring attacks.',
    ],
    power: 'on',
  };
}
