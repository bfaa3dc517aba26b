/**
 * @module pfSense's `$FilterIflist` (filter.inc `filter_generate_optcfg_array`, l.1319-1480): enabled interfaces
 * in config order, then the VPN tabs (l2tp, pppoe, enc0, openvpn) and the user interface groups, with their
 * addresses, networks and `<KEY__NETWORK>` tables; plus pf's `(self)`. The VPN tabs are interface groups whose
 * members are the service's unassigned tunnels (named by the tab key) and its assigned interfaces
 * (docs/adr/0036).
 */
import { formatCidr, hostCidr, parseCidr, parseIp } from '../../net/ip.ts';
import type {
  AddressFamily,
  AddressSet,
  InterfaceConfig,
  PfInterface,
  PfTable,
  PolicyConfig,
  PolicyWarning,
  VirtualIpConfig,
} from '../model.ts';
import { policyWarning } from '../warnings.ts';

/** A known static address of one family: host address, prefix and network (`192.168.1.0/24`). */
interface StaticAddress {
  address: string;
  prefixLength: number;
  network: string;
}

/** One family's addressing of an interface: known, assigned at run time (`dynamic`), or absent. */
export type FamilyAddress = StaticAddress | 'dynamic' | null;

/** One `$FilterIflist` entry. */
export interface FilterIf {
  key: string;
  kind: 'interface' | 'vpn' | 'group';
  /** pf interface (group) name. */
  device: string;
  /** pf macro name (`WAN`, `OpenVPN`, the group name). */
  macro: string;
  config?: InterfaceConfig;
  ipv4: FamilyAddress;
  ipv6: FamilyAddress;
  /** VIPs on this interface (groups: none; their members' addresses feed the group table). */
  vips: VirtualIpConfig[];
  /** Leaf interface keys a rule on this tab applies to. */
  leaves: string[];
  /** VPN tabs: devices of the service's unassigned tunnels. */
  tunnelDevices?: string[];
}

export interface InterfaceModel {
  /** `$FilterIflist` in pfSense order. */
  filterIfs: FilterIf[];
  byKey: Map<string, FilterIf>;
  /** What `PfRuleset.interfaces` lists. */
  pfInterfaces: PfInterface[];
  /** `<KEY__NETWORK>` tables. */
  networkTables: PfTable[];
  self: AddressSet;
  /** Number of `<interfaces>` entries including disabled ones (the anti-lockout rule counts them). */
  configuredCount: number;
}

const VPN_TABS = [
  { key: 'l2tp', macro: 'L2TP' },
  { key: 'pppoe', macro: 'pppoe' },
  { key: 'enc0', macro: 'IPsec' },
  { key: 'openvpn', macro: 'OpenVPN' },
] as const;

const LOOPBACK: PfInterface = {
  key: 'lo0',
  kind: 'loopback',
  device: 'lo0',
  descr: 'loopback',
  addresses: { cidrs: ['127.0.0.1/32', '::1/128'], dynamic: false },
  networks: { cidrs: ['127.0.0.0/8', '::1/128'], dynamic: false },
  hasGateway: false,
};

/** Builds the interface model; warnings for disabled interfaces, dynamic addresses and bad group members. */
export function buildInterfaces(config: PolicyConfig, warnings: PolicyWarning[]): InterfaceModel {
  const filterIfs: FilterIf[] = [];
  const byKey = new Map<string, FilterIf>();
  const add = (entry: FilterIf) => {
    filterIfs.push(entry);
    byKey.set(entry.key, entry);
  };
  for (const iface of config.interfaces) {
    if (!iface.enabled) {
      warnings.push(
        policyWarning(
          'POL031',
          'interface',
          `interface ${iface.key} (${iface.descr}) is disabled; left out with its rules`,
          { name: iface.key },
        ),
      );
      continue;
    }
    // Assigned OpenVPN and IPsec VTI interfaces get their IPv4 tunnel address from the VPN at run time; an assigned
    // OPNsense WireGuard device (`wgN`) gets both families from its instance's tunnel addresses, outside <interfaces>.
    const wireguard = /^wg\d+$/.test(iface.device);
    // (An address given as a run-time fact wins.)
    const unset = (family: InterfaceConfig['ipv4'] | InterfaceConfig['ipv6']) =>
      family.mode === 'none' && family.address === undefined;
    const tunnel = /^(ovpn[sc]|ipsec|wg)\d+$/.test(iface.device) && unset(iface.ipv4);
    const ipv4 = tunnel
      ? 'dynamic'
      : familyAddress(iface.ipv4.mode, iface.ipv4.address, iface.ipv4.prefixLength);
    const ipv6 =
      wireguard && unset(iface.ipv6)
        ? 'dynamic'
        : familyAddress(iface.ipv6.mode, iface.ipv6.address, iface.ipv6.prefixLength);
    for (const [family, given, resolved] of [
      ['IPv4', iface.ipv4, ipv4],
      ['IPv6', iface.ipv6, ipv6],
    ] as const) {
      if (given.address !== undefined && (resolved === null || resolved === 'dynamic')) {
        warnings.push(
          policyWarning(
            'POL042',
            'interface',
            `interface ${iface.key} ${family} address "${given.address}/${given.prefixLength ?? ''}" is not a valid address and prefix; ignored`,
            { name: iface.key },
          ),
        );
      }
    }
    if (ipv4 === 'dynamic' || ipv6 === 'dynamic') {
      const modes = [
        ipv4 === 'dynamic' ? (tunnel ? 'VPN tunnel' : iface.ipv4.mode) : '',
        ipv6 === 'dynamic' ? (wireguard && unset(iface.ipv6) ? 'VPN tunnel' : iface.ipv6.mode) : '',
      ].filter(Boolean);
      warnings.push(
        policyWarning(
          'POL030',
          'interface',
          `interface ${iface.key} gets its address at run time (${modes.join(', ')}); rules using it are dynamic`,
          { name: iface.key },
        ),
      );
    }
    add({
      key: iface.key,
      kind: 'interface',
      device: iface.device,
      macro: iface.descr.toUpperCase(),
      config: iface,
      ipv4,
      ipv6,
      vips: [],
      leaves: [iface.key],
    });
  }
  for (const [index, vip] of config.virtualIps.entries()) {
    const owner = byKey.get(vip.interface);
    if (vipCidrs(vip) === null) {
      warnings.push(
        policyWarning(
          'POL042',
          'vip',
          `virtual IP "${vip.address}/${vip.prefixLength}" (#${index + 1}) is not a valid address and prefix; left out`,
        ),
      );
      continue;
    }
    if (owner === undefined) {
      warnings.push(
        policyWarning(
          'POL034',
          'vip',
          `virtual IP ${vip.address} (#${index + 1}) is on unknown or disabled interface "${vip.interface}"; left out`,
        ),
      );
      continue;
    }
    owner.vips.push(vip);
  }
  const vpnPresent: Record<string, boolean> = {
    l2tp: config.vpn.l2tp,
    pppoe: config.vpn.pppoeServer,
    enc0: config.vpn.ipsec,
    openvpn: config.vpn.openvpn.length > 0,
  };
  for (const tab of VPN_TABS) {
    if (!vpnPresent[tab.key]) continue;
    const assigned =
      tab.key === 'openvpn'
        ? filterIfs
            .filter((entry) => entry.kind === 'interface' && /^ovpn[sc]\d+$/.test(entry.device))
            .map((entry) => entry.key)
        : [];
    const assignedDevices = new Set(filterIfs.map((entry) => entry.device));
    const tunnelDevices =
      tab.key === 'openvpn'
        ? config.vpn.openvpn
            .map((instance) => instance.device)
            .filter((device) => !assignedDevices.has(device))
        : tab.key === 'enc0'
          ? ['enc0']
          : [];
    // Tunnel addresses of VPN servers are not modelled: the tab's own addresses are dynamic.
    add({
      tunnelDevices,
      key: tab.key,
      kind: 'vpn',
      device: tab.key,
      macro: tab.macro,
      ipv4: tab.key === 'enc0' ? null : 'dynamic',
      ipv6: null,
      vips: [],
      leaves: [tab.key, ...assigned],
    });
  }
  for (const group of config.groups) {
    const leaves: string[] = [];
    for (const member of group.members) {
      const entry = byKey.get(member);
      if (entry === undefined || entry.kind !== 'interface') {
        warnings.push(
          policyWarning(
            'POL032',
            'group',
            `interface group ${group.name} lists "${member}", which is not an enabled interface; ignored`,
            { name: group.name },
          ),
        );
        continue;
      }
      leaves.push(member);
    }
    add({
      key: group.name,
      kind: 'group',
      device: group.name,
      macro: group.name,
      ipv4: null,
      ipv6: null,
      vips: [],
      leaves,
    });
  }

  // Known static subnets per interface: run-time addresses of other interfaces and VPN tunnels cannot lie inside them.
  const staticNetworks = new Map<string, string[]>();
  for (const entry of filterIfs) {
    if (entry.kind === 'interface') staticNetworks.set(entry.key, entryNetworks(entry, byKey).cidrs);
  }
  const othersThan = (own: readonly string[]): string[] => [
    ...LOOPBACK.networks.cidrs,
    ...[...staticNetworks].filter(([key]) => !own.includes(key)).flatMap(([, cidrs]) => cidrs),
  ];
  const pfInterfaces: PfInterface[] = [];
  const networkTables: PfTable[] = [];
  const selfCidrs: string[] = [];
  const selfDynamic = new Set<AddressFamily>();
  for (const entry of filterIfs) {
    const excludes = othersThan(entry.leaves);
    const addresses = withExcludes(entryAddresses(entry), excludes);
    const networks = withExcludes(entryNetworks(entry, byKey), excludes);
    if (entry.kind !== 'group') {
      selfCidrs.push(...addresses.cidrs);
      addDynamicFamilies(selfDynamic, addresses);
    }
    const pfInterface: PfInterface = {
      key: entry.key,
      kind: entry.kind === 'interface' ? 'interface' : entry.kind === 'vpn' ? 'vpn-tunnel' : 'group',
      device: entry.device,
      descr: entry.macro,
      addresses,
      networks,
      hasGateway: entry.config !== undefined && hasGateway(entry.config),
    };
    if (entry.kind !== 'interface') pfInterface.members = entry.leaves;
    if (entry.tunnelDevices !== undefined && entry.tunnelDevices.length > 0)
      pfInterface.tunnelDevices = entry.tunnelDevices;
    pfInterfaces.push(pfInterface);
    if (networks.cidrs.length > 0 || networks.dynamic) {
      const name = `${entry.key.toUpperCase()}__NETWORK`;
      networkTables.push({
        name,
        cidrs: networks.cidrs,
        dynamic: networks.dynamic,
        ...(networks.dynamicFamilies !== undefined ? { dynamicFamilies: networks.dynamicFamilies } : {}),
        ...(networks.excludes !== undefined ? { excludes: networks.excludes } : {}),
        source: 'interface-network',
      });
    }
  }
  pfInterfaces.push(LOOPBACK);
  selfCidrs.push(...LOOPBACK.addresses.cidrs);
  return {
    filterIfs,
    byKey,
    pfInterfaces,
    networkTables,
    self: withExcludes(addressSet([...new Set(selfCidrs)], selfDynamic), othersThan([])),
    configuredCount: config.interfaces.length,
  };
}

/** Interface has (or gets at run time) a gateway: reply-to applies to its rules. */
function hasGateway(iface: InterfaceConfig): boolean {
  const dynamicV4 = ['dhcp', 'pppoe', 'pptp', 'l2tp'].includes(iface.ipv4.mode);
  const dynamicV6 = ['dhcp6', 'slaac', '6rd', '6to4'].includes(iface.ipv6.mode);
  return iface.ipv4.gateway !== undefined || iface.ipv6.gateway !== undefined || dynamicV4 || dynamicV6;
}

/**
 * A family's address: static when an address and prefix are known (a live config may give the current address of
 * a DHCP interface), `dynamic` when the mode assigns one at run time, null when the family is off.
 */
function familyAddress(
  mode: string,
  address: string | undefined,
  prefixLength: number | undefined,
): FamilyAddress {
  if (address !== undefined && prefixLength !== undefined) {
    const ip = parseIp(address);
    const cidr = parseCidr(`${address}/${prefixLength}`);
    if (ip !== null && cidr !== null)
      return { address: formatCidr(hostCidr(ip)), prefixLength, network: formatCidr(cidr) };
  }
  if (mode === 'none' || mode === 'static') return null;
  return 'dynamic';
}

/** `/32` or `/128` host CIDR of a VIP and its network. */
export function vipCidrs(vip: VirtualIpConfig): { host: string; network: string } | null {
  const ip = parseIp(vip.address);
  const network = parseCidr(`${vip.address}/${vip.prefixLength}`);
  if (ip === null || network === null) return null;
  return { host: formatCidr(hostCidr(ip)), network: formatCidr(network) };
}

/** The interface's own IPv4/IPv6 address or network (as picked), and the families that are dynamic. */
function familyCidrs(
  entry: FilterIf,
  pick: 'address' | 'network',
): { cidrs: string[]; dynamic: Set<AddressFamily> } {
  const cidrs: string[] = [];
  const dynamic = new Set<AddressFamily>();
  for (const [af, family] of [
    ['inet', entry.ipv4],
    ['inet6', entry.ipv6],
  ] as const) {
    if (family === 'dynamic') dynamic.add(af);
    else if (family !== null) cidrs.push(family[pick]);
  }
  return { cidrs, dynamic };
}

function entryAddresses(entry: FilterIf): AddressSet {
  const { cidrs, dynamic } = familyCidrs(entry, 'address');
  for (const vip of entry.vips) {
    // Proxy-ARP and "other" VIPs are not configured on the interface, so they are not firewall addresses.
    if (vip.mode === 'proxyarp' || vip.mode === 'other') continue;
    const parsed = vipCidrs(vip);
    if (parsed !== null) cidrs.push(parsed.host);
  }
  return addressSet(cidrs, dynamic);
}

function entryNetworks(entry: FilterIf, byKey: Map<string, FilterIf>): AddressSet {
  if (entry.kind === 'group') {
    const cidrs: string[] = [];
    const dynamic = new Set<AddressFamily>();
    for (const leaf of entry.leaves) {
      const member = byKey.get(leaf);
      if (member === undefined) continue;
      const networks = entryNetworks(member, byKey);
      cidrs.push(...networks.cidrs);
      addDynamicFamilies(dynamic, networks);
    }
    return addressSet([...new Set(cidrs)], dynamic);
  }
  if (entry.kind === 'vpn') return { cidrs: [], dynamic: entry.key !== 'enc0' && entry.key !== 'openvpn' };
  const { cidrs, dynamic } = familyCidrs(entry, 'network');
  for (const vip of entry.vips) {
    const parsed = vipCidrs(vip);
    if (parsed !== null && !cidrs.includes(parsed.network)) cidrs.push(parsed.network);
  }
  return addressSet(cidrs, dynamic);
}

/** An address set that is dynamic for exactly the given families (docs/adr/0053: per-family unknowns). */
function addressSet(cidrs: string[], dynamicFamilies: ReadonlySet<AddressFamily>): AddressSet {
  if (dynamicFamilies.size === 0) return { cidrs, dynamic: false };
  return { cidrs, dynamic: true, dynamicFamilies: [...dynamicFamilies].sort() };
}

/** A dynamic set with the subnets its run-time members cannot be in (ADR 0038); static sets stay as they are. */
function withExcludes(set: AddressSet, excludes: string[]): AddressSet {
  return set.dynamic && excludes.length > 0 ? { ...set, excludes: [...new Set(excludes)] } : set;
}

/** Adds the families in which `set` is dynamic (both when it does not say). */
function addDynamicFamilies(into: Set<AddressFamily>, set: AddressSet): void {
  if (!set.dynamic) return;
  for (const af of set.dynamicFamilies ?? (['inet', 'inet6'] as const)) into.add(af);
}
