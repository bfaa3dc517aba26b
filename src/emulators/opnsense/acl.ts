/**
 * @module API authorisation as OPNsense does it (docs/reference/opnsense-api.md §1): each privilege is a list of
 * URL patterns (the `ACL.xml` files of opnsense/core 26.1.11), matched by `ACL::urlMatch` against the raw
 * request URI — so a camelCase path does not match a snake_case pattern.
 */
export const PRIVILEGES: Record<string, string[]> = {
  'page-all': ['*'],
  'page-firewall-alias-edit': ['ui/firewall/alias/*', 'api/firewall/alias/*'],
  'page-firewall-aliases': [
    'ui/firewall/alias/*',
    'api/firewall/alias/export',
    'api/firewall/alias/search*',
    'api/firewall/alias/list*',
    'api/firewall/alias/get*',
  ],
  'page-diagnostics-tables': ['ui/firewall/alias_util/*', 'api/firewall/alias_util/*'],
  'page-diagnostics-showstates': [
    'ui/diagnostics/firewall/states*',
    'api/diagnostics/firewall/query_states*',
    'api/diagnostics/firewall/del_state*',
    'api/diagnostics/firewall/kill_states*',
    'api/diagnostics/firewall/flush_sources*',
    'api/diagnostics/firewall/flush_states*',
  ],
  'page-diagnostics-logs-firewall-dynamic': [
    'ui/diagnostics/firewall/log*',
    'api/diagnostics/firewall/stream_log',
    'api/diagnostics/firewall/log*',
    'api/diagnostics/interface/get_interface_names',
  ],
  'page-filter-api': ['ui/firewall/filter/*', 'api/firewall/filter/*'],
  'page-filter-snat-api': ['ui/firewall/source_nat/*', 'api/firewall/source_nat/*'],
  'page-firewall-nat-portforward-edit': ['ui/firewall/d_nat/*', 'api/firewall/d_nat/*', 'api/firewall/category/search_item*'],
  'page-firewall-nat-1-1-edit': ['ui/firewall/one_to_one/*', 'api/firewall/one_to_one/*'],
  'page-firewall-nat-npt': ['ui/firewall/npt/*', 'api/firewall/npt/*'],
  'page-firewall-rules': ['firewall_rules.php*', 'api/firewall/category/search_item*', 'api/firewall/filter_util/rule_stats*'],
  'page-system-login-logout': [
    'index.php*',
    'ui/core/dashboard',
    'api/core/dashboard/*',
    'api/diagnostics/firewall/pf_states',
    'api/diagnostics/system/system_disk',
    'api/diagnostics/system/system_information',
    'api/diagnostics/system/system_resources',
    'api/diagnostics/system/system_time',
  ],
  'page-system-status': ['api/core/system/status*', 'api/core/system/dismiss_status'],
  'page-system-firmware-manualupdate': ['ui/core/firmware/*', 'api/core/firmware/*'],
  'page-interfaces-overview': ['ui/interfaces/overview', 'api/interfaces/overview/*'],
  'page-services-ids': ['ui/ids/*', 'api/ids/*'],
  'page-status-services': ['ui/core/service', 'api/core/service/*'],
  'page-system-staticroutes': ['ui/routes/*', 'api/routes/*'],
  // 26.7.2 models/OPNsense/Interfaces/ACL/ACL.xml l.46-52, models/OPNsense/Core/ACL/ACL.xml l.284-290
  'page-interfaces-vlan-edit': ['ui/interfaces/vlan', 'api/interfaces/vlan_settings/*'],
  'page-interfaces-assignnetworkports': ['ui/interfaces/assignment', 'api/interfaces/assignment/*'],
};

/** `ACL::urlMatch`: `*` is a wildcard, a trailing `/*` also matches the bare prefix. */
export function urlMatch(url: string, mask: string): boolean {
  let re = mask.replace(/[\\^$+()[\]{}|]/g, '\\$&').replace(/\./g, '\\.').replace(/\*/g, '.*').replace(/\?/g, '\\?');
  re = re.replace(/([/&?])\.\*$/, '($1.*)?');
  return new RegExp(`^/${re}$`).test(url.replace(/#.*$/, ''));
}

/** Patterns of a key's privileges; an entry containing `/` or `*` is taken as a raw pattern. */
export function patternsOf(privileges: string[]): string[] {
  return privileges.flatMap((p) => PRIVILEGES[p] ?? (p.includes('/') || p.includes('*') ? [p] : []));
}

export function isPageAccessible(privileges: string[], url: string): boolean {
  return patternsOf(privileges).some((m) => urlMatch(url, m));
}
