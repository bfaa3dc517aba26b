/**
 * @module pfRest privilege names (docs/reference/pfrest-contract.md §4): the endpoint URL with `/` and `_` turned into `-`, the
 * leading `-` dropped, plus `-<method>`. The adapter names a missing privilege with it.
 */

/** `privilegeFor('/api/v2/firewall/alias', 'PATCH')` → `api-v2-firewall-alias-patch`. */
export function privilegeFor(endpointPath: string, method: string): string {
  const path = endpointPath.split('?')[0]?.replace(/\/+$/, '') ?? '';
  return `${path.replace(/[/_]/g, '-').replace(/^-+/, '')}-${method.toLowerCase()}`;
}

/** The privileges the adapter needs, by operation (least privilege; the setup guide lists them). */
export const REQUIRED_PRIVILEGES = {
  version: ['api-v2-system-version-get'],
  getAlias: ['api-v2-firewall-aliases-get'],
  createAlias: ['api-v2-firewall-alias-post'],
  setAliasEntries: ['api-v2-firewall-aliases-get', 'api-v2-firewall-alias-patch'],
  apply: ['api-v2-firewall-apply-post', 'api-v2-firewall-apply-get'],
  killStates: ['api-v2-firewall-states-delete'],
  listRules: ['api-v2-firewall-rules-get'],
  listInterfaces: ['api-v2-interfaces-get'],
} as const;

const crud = (one: string, many: string): string[] => [
  privilegeFor(many, 'GET'),
  ...['POST', 'PATCH', 'DELETE'].map((method) => privilegeFor(one, method)),
];

/** The privileges each kind of live write needs (docs/reference/pfsense-live-writes.md §6). */
export const LIVE_WRITE_PRIVILEGES = {
  firewall_rule: crud('/api/v2/firewall/rule', '/api/v2/firewall/rules'),
  alias: crud('/api/v2/firewall/alias', '/api/v2/firewall/aliases'),
  port_forward: crud('/api/v2/firewall/nat/port_forward', '/api/v2/firewall/nat/port_forwards'),
  source_nat: crud('/api/v2/firewall/nat/outbound/mapping', '/api/v2/firewall/nat/outbound/mappings'),
  static_route: crud('/api/v2/routing/static_route', '/api/v2/routing/static_routes'),
  dns_override: crud('/api/v2/services/dns_resolver/host_override', '/api/v2/services/dns_resolver/host_overrides'),
  dhcp_static_mapping: crud(
    '/api/v2/services/dhcp_server/static_mapping',
    '/api/v2/services/dhcp_server/static_mappings',
  ),
  /** The VLAN and the interface that assigns it (docs/reference/brain-l3.md §4.1), plus the interface apply. */
  vlan_interface: [
    ...crud('/api/v2/interface/vlan', '/api/v2/interface/vlans'),
    ...crud('/api/v2/interface', '/api/v2/interfaces'),
    privilegeFor('/api/v2/interface/apply', 'GET'),
    privilegeFor('/api/v2/interface/apply', 'POST'),
  ],
  /** The DHCP server; a delete first lists the scope's static mappings, a write checks the interface is applied. */
  dhcp_scope: [
    ...crud('/api/v2/services/dhcp_server', '/api/v2/services/dhcp_servers'),
    privilegeFor('/api/v2/services/dhcp_server/static_mappings', 'GET'),
    privilegeFor('/api/v2/interface/apply', 'GET'),
  ],
  service: [privilegeFor('/api/v2/status/services', 'GET'), privilegeFor('/api/v2/status/service', 'POST')],
  power: [privilegeFor('/api/v2/diagnostics/reboot', 'POST'), privilegeFor('/api/v2/diagnostics/halt_system', 'POST')],
  /** `apply()` and `pendingSubsystems()`: every apply endpoint, read and run. */
  apply: [
    '/api/v2/firewall/apply',
    '/api/v2/routing/apply',
    '/api/v2/services/dns_resolver/apply',
    '/api/v2/services/dhcp_server/apply',
  ].flatMap((path) => [privilegeFor(path, 'GET'), privilegeFor(path, 'POST')]),
} as const;
