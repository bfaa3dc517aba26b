/**
 * @module The MikroTik RouterOS v7 (REST) vendor descriptor: what the registry (src/adapters/registry.ts) knows of
 * it. Capability flags are on only for what the adapter implements and its tests prove (docs/routeros.md).
 */
import { CAPABILITIES, type Capability, type VendorDescriptor } from '../registry.ts';
import { checkListName, RouterOsAdapter } from './adapter.ts';
import { ROUTEROS_LIVE_UNAVAILABLE, routerOsLiveView } from './live-view.ts';
import { routerOsLiveWriter } from './live-write.ts';

const SUPPORTED: ReadonlySet<Capability> = new Set<Capability>([
  'alias.read',
  'alias.write',
  // A list exists by name: "create" checks the name and the list appears with its first entry (docs/adr/0193).
  'alias.create',
  // `apply` is off: every write is live at once (docs/reference/routeros-api.md §4).
  'kill_states',
  'native_expiry',
  'read.status',
  'read.aliases',
  'read.rules',
  'read.nat',
  'read.interfaces',
  'read.dhcp_leases',
  'read.arp',
  'read.states',
  'read.logs',
  'read.health',
  'read.bridge_vlans',
  'write.rules',
  'write.nat',
  'write.aliases',
  'write.routes',
  // Bridge VLAN entries and access-port pvids; the bridge's vlan-filtering is left as it is (docs/adr/0256).
  'write.bridge_vlans',
]);

export const routerOsVendor: VendorDescriptor = {
  id: 'routeros',
  name: 'MikroTik RouterOS',
  api: 'RouterOS v7 REST',
  // The AliasTarget contract passes against the emulator (test/routeros/routeros-alias-target.test.ts).
  maturity: 'beta',
  capabilities: Object.fromEntries(CAPABILITIES.map((flag) => [flag, SUPPORTED.has(flag)])) as Record<
    Capability,
    boolean
  >,
  credentials: 'username_password',
  errors: {
    family: 'ROS',
    connect: 'ROS000',
    tls: 'ROS003',
    // RouterOS never reports a list missing (it exists by name); a missing address-list menu is the closest.
    aliasNotFound: 'ROS104',
    aliasUnusable: 'ROS101',
    verifyMismatch: 'ROS401',
  },
  listNaming: {
    noun: 'address list',
    maxLength: 63,
    check: (name) => checkListName(name),
  },
  createAdapter: (conn) => {
    const tuning = conn.tuning ?? {};
    return new RouterOsAdapter({
      url: conn.url,
      username: conn.credentials.username ?? '',
      password: conn.credentials.password ?? '',
      tls: conn.tls,
      lookup: conn.lookup,
      ...(conn.gatewayKey ? { gatewayKey: conn.gatewayKey } : {}),
      ...(tuning.timeouts ? { timeouts: tuning.timeouts } : {}),
      ...(tuning.retries !== undefined ? { retry: { maxRetries: tuning.retries } } : {}),
      ...(tuning.breakerThreshold !== undefined ? { breaker: { threshold: tuning.breakerThreshold } } : {}),
    });
  },
  testConnection: (adapter) => adapter.version(),
  live: { open: routerOsLiveView, unavailable: ROUTEROS_LIVE_UNAVAILABLE },
  writes: { open: routerOsLiveWriter },
  unavailable: {
    apply:
      'RouterOS REST has no commit step: every successful request is live at once, so there is nothing to apply (docs/reference/routeros-api.md §4)',
    'write.batch_apply':
      'RouterOS REST has no staging or transaction to batch into one apply; each write is live as it is made (docs/reference/routeros-api.md §4)',
    'write.services':
      'RouterOS has no service list to start or stop like a Unix host (ip/service holds management ports only); nothing in its REST menus maps to it (docs/reference/routeros-api.md §6)',
    'write.dns':
      'RouterOS keeps DNS overrides in ip/dns/static, which the adapter does not map yet and the emulator does not model (docs/reference/routeros-api.md §8)',
    'write.dhcp':
      'RouterOS static leases (ip/dhcp-server/lease made static) are not mapped to DHCP static mappings yet; the adapter only reads leases (docs/reference/routeros-api.md §6)',
    'write.vlans':
      'a RouterOS device is a limb (bridge VLANs); VLAN interfaces with addresses (interface/vlan + ip/address) are not mapped (docs/reference/brain-l3.md §6)',
    'write.dhcp_scopes':
      'RouterOS DHCP servers (ip/dhcp-server + ip/pool + ip/dhcp-server/network) are not mapped to DHCP scopes (docs/reference/brain-l3.md §6)',
    'write.power':
      'RouterOS reboots through POST system/reboot, which drops the REST service until the router is back (docs/reference/routeros-api.md §4); the power action is not offered through the adapter yet',
  },
};
