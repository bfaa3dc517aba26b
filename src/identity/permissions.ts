/**
 * @module The permission catalog and the built-in roles. Codes are stable API: never rename or reuse one.
 * The firewall and gateway codes are the seed module's (docs/reference/freesdn-firewall-module.md §20);
 * `access.*`, `users.manage` and `audit.view` are Portcullis's own. The catalog lists only codes some route
 * checks: a new code arrives with the route that needs it (a test walks the declared routes and the catalog
 * both ways, ADR 0123). Built-in roles are defined here and synced into every org's `roles` table at start
 * (`ensureBuiltinRoles`), so a new code reaches them without a migration. See ADR 0005.
 */

export const PERMISSIONS = {
  'firewall.view': 'See firewall rules, NAT rules, VPN tunnels, IDS alerts and live device state',
  'firewall.manage_rules':
    'Create, change, reorder and delete firewall rules, and create, change, test and delete gateways',
  'firewall.manage_nat': 'Create, change and delete NAT rules (SNAT, DNAT, masquerade, redirect)',
  'firewall.manage_vpn': 'Create, change and delete VPN tunnels',
  'firewall.manage_ids': 'Acknowledge IDS alerts',
  'firewall.view_logs': 'Read firewall traffic logs',
  'firewall.admin':
    'Change the firewall module settings, manage webhooks, back up and restore the module (reboot/halt later)',
  'gateway.view': 'See sites, their role maps (brain / limbs) and canonical VLANs, DHCP, DNS and VLAN templates',
  'gateway.manage_topology': 'Create, change and delete sites and set their role maps (brain / limbs)',
  'gateway.drift': 'See, check, resolve and suppress configuration drift of gateways',
  'gateway.manage_vlans': 'Create, change and delete canonical VLANs and VLAN templates, and apply templates',
  'gateway.manage_dhcp': 'Create and delete canonical DHCP scopes and reservations',
  'gateway.manage_dns': 'Create, change and delete canonical DNS host overrides',
  'gateway.import':
    'Run the brownfield import wizard and the reconciliation import (fills the canonical state and the role map from the devices)',
  'gateway.distribute': 'Distribute canonical VLANs to a site\u2019s brain and limbs, retry and roll back distributions',
  'access.view': 'See knocs, grants and EDL feed fetches',
  'access.manage_knocs': 'Create, change and delete knocs and their user/group assignments',
  'access.grant': 'Create, extend and revoke own grants on assigned knocs',
  'access.admin_grant': 'Create and revoke grants for other users (break-glass) and manage feed keys',
  'users.manage': 'Manage users, groups, roles, role bindings and other users\u2019 API tokens and sessions',
  'audit.view': 'Read the audit log',
  'cluster.view': 'See the nodes serving the installation and the gateway aliases each one reconciles',
} as const satisfies Record<string, string>;

export type Permission = keyof typeof PERMISSIONS;

export const ALL_PERMISSIONS = Object.keys(PERMISSIONS) as Permission[];

export function isPermission(code: string): code is Permission {
  return Object.hasOwn(PERMISSIONS, code);
}

type BuiltinRoleName = 'viewer' | 'operator' | 'admin' | 'owner';

interface BuiltinRole {
  name: BuiltinRoleName;
  description: string;
  permissions: readonly Permission[];
}

const VIEWER: readonly Permission[] = [
  'firewall.view',
  'firewall.view_logs',
  'gateway.view',
  'access.view',
  'access.grant',
];

const OPERATOR: readonly Permission[] = [
  ...VIEWER,
  'firewall.manage_rules',
  'firewall.manage_nat',
  'firewall.manage_vpn',
  'firewall.manage_ids',
  'gateway.manage_vlans',
  'gateway.manage_dhcp',
  'gateway.manage_dns',
  'gateway.distribute',
];

export const BUILTIN_ROLES: readonly BuiltinRole[] = [
  {
    name: 'viewer',
    description: 'Read-only: rules, gateways, logs and knocs; may request their own access grants',
    permissions: VIEWER,
  },
  {
    name: 'operator',
    description: 'Day-to-day changes: gateways, rules, NAT, VPN, IDS alerts and canonical VLANs, DHCP and DNS',
    permissions: OPERATOR,
  },
  {
    name: 'admin',
    description:
      'Everything except managing users and roles: module settings, webhooks, backup, sites, knocs, audit',
    permissions: ALL_PERMISSIONS.filter((p) => p !== 'users.manage'),
  },
  {
    name: 'owner',
    description: 'Everything, including users, roles and tokens',
    permissions: ALL_PERMISSIONS,
  },
];
