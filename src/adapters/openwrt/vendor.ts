/**
 * @module The OpenWrt (ubus / rpcd / UCI / firewall4) vendor descriptor. Capability flags are on only for what the
 * adapter implements and its tests show against the emulator (docs/openwrt.md).
 */
import { CAPABILITIES, type Capability, type VendorDescriptor } from '../registry.ts';
import { OpenWrtAdapter } from './adapter.ts';
import { OPENWRT_LIVE_UNAVAILABLE, openwrtLiveView } from './live-view.ts';
import { openwrtLiveWriter } from './live-write.ts';

const SUPPORTED: ReadonlySet<Capability> = new Set<Capability>([
  'alias.read',
  'alias.write',
  'alias.create',
  // 'apply' stays off: set entries are written to the live nft set at once (docs/adr/0200).
  'kill_states',
  'native_expiry',
  'read.status',
  'read.aliases',
  'read.rules',
  'read.nat',
  'read.interfaces',
  'read.dhcp_leases',
  'read.states',
  'read.services',
  'read.logs',
  'read.health',
  'read.bridge_vlans',
  'write.rules',
  'write.nat',
  'write.aliases',
  'write.batch_apply',
  // DSA bridge-vlan sections of `network`, applied with the same rollback (docs/adr/0257).
  'write.bridge_vlans',
]);

/** fw4's `identifier` (firewall4 fw4.uc parse_identifier); 64 keeps it a sane nft set name. */
const NAME = /^[a-zA-Z_.][a-zA-Z0-9/_.-]*$/;

export const openwrtVendor: VendorDescriptor = {
  id: 'openwrt',
  name: 'OpenWrt',
  api: 'ubus JSON-RPC (rpcd, UCI, firewall4)',
  maturity: 'beta',
  capabilities: Object.fromEntries(CAPABILITIES.map((flag) => [flag, SUPPORTED.has(flag)])) as Record<
    Capability,
    boolean
  >,
  credentials: 'username_password',
  errors: {
    family: 'OWRT',
    connect: 'OWRT000',
    tls: 'OWRT003',
    aliasNotFound: 'OWRT103',
    aliasUnusable: 'OWRT102',
    verifyMismatch: 'OWRT400',
  },
  listNaming: {
    noun: 'set',
    maxLength: 64,
    check: (name) =>
      NAME.test(name) && name.length <= 64
        ? { ok: true }
        : { ok: false, message: 'An fw4 set name takes letters, digits, _ . - and /, does not start with a digit, at most 64 characters.' },
  },
  createAdapter: (conn) => {
    const tuning = conn.tuning ?? {};
    return new OpenWrtAdapter({
      url: conn.url,
      username: conn.credentials.username ?? '',
      password: conn.credentials.password ?? '',
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
  live: { open: openwrtLiveView, unavailable: OPENWRT_LIVE_UNAVAILABLE },
  writes: { open: openwrtLiveWriter },
  unavailable: {
    apply:
      'set entries are runtime elements of the live nft set, written with `nft add/delete element` through file.exec and live at once: there is nothing to apply (docs/reference/openwrt-api.md §3, §4.7; docs/adr/0200)',
    'write.routes':
      'static routes are `route` sections of /etc/config/network, and the least-privilege login Portcullis asks for may write UCI `firewall` only (docs/reference/openwrt-api.md §1.7); not offered',
    'write.services':
      'starting and stopping services is rpcd `rc.init`, beyond the firewall and network configs the Portcullis ACL grants, and a firewall restart drops every runtime set element (docs/reference/openwrt-api.md §1.7, §4.5); not offered',
    'write.dns':
      'DNS host overrides are dnsmasq `domain` sections of /etc/config/dhcp, outside the UCI `firewall`-only grant of the least-privilege login (docs/reference/openwrt-api.md §1.7); not offered',
    'write.dhcp':
      'static DHCP leases are `host` sections of /etc/config/dhcp, outside the UCI `firewall`-only grant of the least-privilege login (docs/reference/openwrt-api.md §1.7); not offered',
    'write.vlans':
      'an OpenWrt device is a limb (bridge VLANs); routed VLAN interfaces are `interface` sections of /etc/config/network, not mapped (docs/reference/brain-l3.md §6)',
    'write.dhcp_scopes':
      'DHCP pools are `dhcp` sections of /etc/config/dhcp, outside the grant of the least-privilege login; not mapped (docs/reference/brain-l3.md §6)',
    'write.power':
      'the least-privilege login has no `system.reboot` grant, and a reboot drops every runtime set element until the next reconcile (docs/reference/openwrt-api.md §1.7, §4.5); not offered',
  },
};
