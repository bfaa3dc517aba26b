/**
 * @module The OPNsense vendor descriptor: what the registry (src/adapters/registry.ts) knows of it. Capability
 * flags are on only for operations the adapter implements and its tests cover (docs/opnsense.md).
 */
import { CAPABILITIES, type Capability, type VendorDescriptor } from '../registry.ts';
import { OpnSenseAdapter } from './adapter.ts';
import { checkAliasName } from './alias-name.ts';
import { OPNSENSE_LIVE_UNAVAILABLE, opnsenseLiveView } from './live-view.ts';
import { opnsenseLiveWriter } from './live-write.ts';

const SUPPORTED: ReadonlySet<Capability> = new Set<Capability>([
  'alias.read',
  'alias.write',
  'alias.create',
  // set_item stages in config.xml; alias/reconfigure makes it live (docs/reference/opnsense-api.md §4).
  'apply',
  // IPv4 only: kill_states strips ':' and '/' (OPN301 for IPv6).
  'kill_states',
  'read.status',
  'read.aliases',
  'read.rules',
  'read.nat',
  'read.interfaces',
  'read.states',
  'read.services',
  'read.logs',
  'read.ids_alerts',
  // Unbound host overrides, one address each (docs/reference/brain-l3.md §5.3).
  'read.dns_overrides',
  'write.dns',
  // Kea DHCPv4 subnets and reservations (§5.2); ISC dhcpd has no API.
  'read.dhcp_scopes',
  'read.dhcp_static_mappings',
  'write.dhcp',
  'write.dhcp_scopes',
  // VLAN device + interface assignment (§7.5): refused with the reason where the firmware's assignment model has
  // no addresses (26.7.x) or no assignment API at all (before 26.7).
  'read.vlan_interfaces',
  'write.vlans',
  'write.rules',
  'write.nat',
  'write.aliases',
  'write.batch_apply',
]);

export const opnsenseVendor: VendorDescriptor = {
  id: 'opnsense',
  name: 'OPNsense',
  api: 'OPNsense core API',
  // Earned by test/opnsense: the AliasTarget contract passes against the OPNsense emulator (profiles 24.7,
  // 26.1.11, 26.7) and against a double serving upstream-quoted answers; every OPN code comes from a real fault.
  maturity: 'beta',
  capabilities: Object.fromEntries(CAPABILITIES.map((f) => [f, SUPPORTED.has(f)])) as Record<Capability, boolean>,
  credentials: 'key_secret',
  errors: {
    family: 'OPN',
    connect: 'OPN000',
    tls: 'OPN003',
    aliasNotFound: 'OPN103',
    aliasUnusable: 'OPN104',
    verifyMismatch: 'OPN401',
  },
  listNaming: {
    noun: 'alias',
    maxLength: 31,
    check: (name) => checkAliasName(name),
  },
  createAdapter: (conn) => {
    const tuning = conn.tuning ?? {};
    return new OpnSenseAdapter({
      url: conn.url,
      apiKey: conn.credentials.api_key ?? '',
      apiSecret: conn.credentials.api_secret ?? '',
      tls: conn.tls,
      lookup: conn.lookup,
      ...(conn.gatewayKey ? { gatewayKey: conn.gatewayKey } : {}),
      ...(tuning.timeouts ? { timeouts: tuning.timeouts } : {}),
      ...(tuning.retries !== undefined ? { retry: { maxRetries: tuning.retries } } : {}),
      ...(tuning.breakerThreshold !== undefined ? { breaker: { threshold: tuning.breakerThreshold } } : {}),
    });
  },
  testConnection: (adapter) => adapter.version(),
  live: { open: opnsenseLiveView, unavailable: OPNSENSE_LIVE_UNAVAILABLE },
  writes: { open: opnsenseLiveWriter },
  unavailable: {
    native_expiry:
      "an OPNsense alias entry is an address with no timeout of its own (the alias model's only timer, `expire`, ages out the whole pf table); Portcullis removes an expired entry itself (docs/reference/opnsense-api.md §3)",
    'write.routes':
      'not written by this adapter: static routes are their own model (api/routes/routes), outside the filter and alias APIs it drives (docs/reference/opnsense-api.md §6)',
    'write.services':
      'not written by this adapter: service start and stop go through each service\'s own controller, which it does not drive (docs/reference/opnsense-api.md §6)',
    'write.bridge_vlans':
      'not mapped by this adapter: the bridge VLAN contract (docs/adr/0255-bridge-vlan-live-kind.md) is served where the device keeps a bridge VLAN table (RouterOS, OpenWrt DSA)',
    'write.power':
      'not offered by this adapter: a reboot or halt through the core API would drop every live grant until the box is back (docs/reference/opnsense-api.md §8)',
  },
};
