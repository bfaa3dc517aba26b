/**
 * @module The pfSense (pfRest v2) vendor descriptor: what the registry (src/adapters/registry.ts) knows of it.
 * Capability flags are on only for operations the adapter implements today (docs/pfsense.md).
 */
import { PFSENSE_LIVE_UNAVAILABLE, pfsenseLiveView } from './live-view.ts';
import { CAPABILITIES, type Capability, type VendorDescriptor } from '../registry.ts';
import { PfSenseAdapter } from './adapter.ts';
import { checkAliasName } from './alias-name.ts';
import { pfsenseLiveWriter } from './live-write.ts';

const SUPPORTED: ReadonlySet<Capability> = new Set<Capability>([
  'alias.read',
  'alias.write',
  'alias.create',
  'apply',
  'kill_states',
  // Live reads pfRest serves (docs/reference/pfsense-live-reads.md §2); not routes or pf info (§3).
  'read.status',
  'read.aliases',
  'read.rules',
  'read.nat',
  'read.interfaces',
  'read.dhcp_leases',
  'read.arp',
  'read.vpn',
  'read.states',
  'read.services',
  'read.ha_status',
  'read.logs',
  'read.health',
  // The objects its writes stage, read as the writer reads them back (docs/reference/brain-l3.md §4).
  'read.vlan_interfaces',
  'read.dhcp_scopes',
  'read.dhcp_static_mappings',
  'read.dns_overrides',
  // Live writes (docs/reference/pfsense-live-writes.md §1): every staged kind, one apply per dirty subsystem.
  'write.rules',
  'write.nat',
  'write.aliases',
  'write.routes',
  'write.services',
  'write.dns',
  'write.dhcp',
  'write.vlans',
  'write.dhcp_scopes',
  'write.power',
  'write.batch_apply',
]);

export const pfsenseVendor: VendorDescriptor = {
  id: 'pfsense',
  name: 'pfSense',
  api: 'pfRest',
  maturity: 'beta',
  capabilities: Object.fromEntries(CAPABILITIES.map((flag) => [flag, SUPPORTED.has(flag)])) as Record<
    Capability,
    boolean
  >,
  credentials: 'api_key',
  errors: {
    family: 'PFS',
    connect: 'PFS000',
    tls: 'PFS003',
    aliasNotFound: 'PFS103',
    aliasUnusable: 'PFS102',
    verifyMismatch: 'PFS400',
  },
  listNaming: {
    noun: 'alias',
    maxLength: 31,
    check: (name) => {
      const check = checkAliasName(name);
      return check.ok ? check : { ok: false, id: check.id, message: check.message };
    },
  },
  createAdapter: (conn) => {
    const tuning = conn.tuning ?? {};
    return new PfSenseAdapter({
      url: conn.url,
      apiKey: conn.credentials.api_key ?? '',
      tls: conn.tls,
      lookup: conn.lookup,
      ...(conn.gatewayKey ? { gatewayKey: conn.gatewayKey } : {}),
      ...(tuning.timeouts ? { timeouts: tuning.timeouts } : {}),
      ...(tuning.apply ? { apply: tuning.apply } : {}),
      ...(tuning.retries !== undefined ? { retry: { maxRetries: tuning.retries } } : {}),
      ...(tuning.breakerThreshold !== undefined ? { breaker: { threshold: tuning.breakerThreshold } } : {}),
    });
  },
  testConnection: (adapter) => adapter.version(),
  live: { open: pfsenseLiveView, unavailable: PFSENSE_LIVE_UNAVAILABLE },
  writes: { open: pfsenseLiveWriter },
  unavailable: {
    'write.bridge_vlans':
      'not mapped by this adapter: the bridge VLAN contract (docs/adr/0255-bridge-vlan-live-kind.md) is served where the device keeps a bridge VLAN table (RouterOS, OpenWrt DSA)',
    native_expiry:
      'a pfSense alias entry has an address and a detail text but no timeout; Portcullis removes an expired entry itself (docs/reference/pfrest-contract.md §8)',
  },
};
