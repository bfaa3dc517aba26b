/**
 * @module Which OPNsense ACL privilege an API path needs (opnsense/core `models/OPNsense/<module>/ACL/ACL.xml`;
 * docs/reference/opnsense-api.md §1). Named in OPN002 messages so the operator knows what to grant.
 */

/** Path prefix (below `/api/`) → privilege id, most specific first. */
const PRIVILEGES: ReadonlyArray<readonly [string, string, string]> = [
  ['firewall/alias_util/', 'page-diagnostics-tables', 'Diagnostics: PF Table IP addresses'],
  ['firewall/alias/', 'page-firewall-alias-edit', 'Firewall: Alias: Edit'],
  ['firewall/filter/', 'page-filter-api', 'Firewall: Rules [new]'],
  ['firewall/source_nat/', 'page-filter-snat-api', 'Firewall: NAT: Source NAT'],
  ['firewall/d_nat/', 'page-firewall-nat-portforward-edit', 'Firewall: NAT: Destination NAT'],
  ['firewall/one_to_one/', 'page-firewall-nat-1-1-edit', 'Firewall: NAT: 1:1'],
  ['diagnostics/firewall/kill_states', 'page-diagnostics-showstates', 'Diagnostics: Show States'],
  ['diagnostics/firewall/query_states', 'page-diagnostics-showstates', 'Diagnostics: Show States'],
  ['diagnostics/log/core/filter', 'page-diagnostics-logs-firewall-plain', 'Diagnostics: Logs: Firewall: Plain View'],
  ['diagnostics/firewall/log', 'page-diagnostics-logs-firewall-dynamic', 'Diagnostics: Logs: Firewall: Live View'],
  ['diagnostics/system/', 'page-system-login-logout', 'Lobby: Dashboard'],
  ['core/firmware/', 'page-system-firmware-manualupdate', 'System: Firmware'],
  ['core/service/', 'page-status-services', 'Status: Services'],
  ['interfaces/overview/', 'page-status-interfaces', 'Status: Interfaces'],
  ['interfaces/vlan_settings/', 'page-interfaces-vlan-edit', 'Interfaces: VLAN'],
  ['interfaces/assignment/', 'page-interfaces-assignnetworkports', 'Interfaces: Assign network ports'],
  ['ids/', 'page-services-ids', 'Services: Intrusion Detection'],
];

/** The privilege id and its GUI name for an API path (`/api/firewall/alias/add_item`), or a generic hint. */
export function privilegeFor(path: string): { id: string; name: string } {
  const below = path.replace(/^\/?api\//, '');
  for (const [prefix, id, name] of PRIVILEGES) if (below.startsWith(prefix)) return { id, name };
  return { id: 'page-all', name: `the privilege covering api/${below}` };
}

/** What a Portcullis API user needs for access (alias writes, the runtime table read, state kills). */
export const ACCESS_PRIVILEGES = [
  'page-firewall-alias-edit',
  'page-diagnostics-tables',
  'page-diagnostics-showstates',
  'page-system-firmware-manualupdate',
] as const;
