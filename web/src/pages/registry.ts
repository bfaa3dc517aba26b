/**
 * The console's pages: one entry each. The router (router.tsx) makes a route of every entry and the sidebar
 * lists the entries the signed-in person may open (`permission`, any site; null: everyone signed in). Adding a
 * page = a component in pages/console/ + one entry here (docs/ui.md). Pages are code-split (`lazy`).
 */
import { type ComponentType, lazy } from 'react';

/** Console pages load on first visit, so the portal's first load carries none of them. */
const page = <K extends string>(load: () => Promise<Record<K, ComponentType>>, name: K) =>
  lazy(async () => ({ default: (await load())[name] }));

export interface ConsolePage {
  /** Under /admin: '' is the dashboard. */
  path: string;
  label: string;
  /** The permission code the page's main list needs (as the API declares it), or null. */
  permission: string | null;
  component: ComponentType;
  /** False: reached from another page (a detail page), not listed in the sidebar. */
  nav?: boolean;
}

export const CONSOLE_PAGES: readonly ConsolePage[] = [
  { path: '', label: 'Dashboard', permission: null, component: page(() => import('./console/Dashboard'), 'DashboardPage') },
  { path: 'gateways', label: 'Gateways', permission: 'gateway.view', component: page(() => import('./console/Gateways'), 'GatewaysPage') },
  { path: 'vendors', label: 'Vendors', permission: 'gateway.view', component: page(() => import('./console/Vendors'), 'VendorsPage') },
  { path: 'gateways/$id', label: 'Gateway', permission: 'firewall.view', nav: false, component: page(() => import('./console/Gateway'), 'GatewayPage') },
  { path: 'firewall/rules', label: 'Firewall rules', permission: 'firewall.view', component: page(() => import('./console/Firewall'), 'RulesPage') },
  { path: 'firewall/nat', label: 'NAT', permission: 'firewall.view', component: page(() => import('./console/Firewall'), 'NatPage') },
  { path: 'firewall/vpn', label: 'VPN', permission: 'firewall.view', component: page(() => import('./console/Firewall'), 'VpnPage') },
  { path: 'firewall/ids', label: 'IDS alerts', permission: 'firewall.view', component: page(() => import('./console/Ids'), 'IdsPage') },
  { path: 'firewall/logs', label: 'Traffic logs', permission: 'firewall.view_logs', component: page(() => import('./console/Logs'), 'LogsPage') },
  { path: 'policy/diff', label: 'Policy diff', permission: 'firewall.view', component: page(() => import('./console/PolicyDiff'), 'PolicyDiffPage') },
  { path: 'knocs', label: 'Knocs', permission: 'access.view', component: page(() => import('./console/Knocs'), 'KnocsPage') },
  { path: 'grants', label: 'Grants', permission: 'access.view', component: page(() => import('./console/Grants'), 'GrantsPage') },
  // Approvers need no permission: the request's approver group decides (the API filters what each person sees).
  { path: 'requests', label: 'Requests', permission: null, component: page(() => import('./console/Requests'), 'RequestsPage') },
  { path: 'topology', label: 'Topology', permission: 'gateway.view', component: page(() => import('./console/Topology'), 'TopologyPage') },
  { path: 'vlans', label: 'VLANs', permission: 'gateway.view', component: page(() => import('./console/Vlans'), 'VlansPage') },
  { path: 'import', label: 'Import', permission: 'gateway.import', component: page(() => import('./console/Import'), 'ImportPage') },
  { path: 'distribution', label: 'Distribution', permission: 'gateway.view', component: page(() => import('./console/Distribution'), 'DistributionPage') },
  { path: 'sites', label: 'Sites', permission: 'gateway.view', component: page(() => import('./console/Sites'), 'SitesPage') },
  { path: 'users', label: 'Users', permission: 'users.manage', component: page(() => import('./console/Users'), 'UsersPage') },
  { path: 'groups', label: 'Groups', permission: 'users.manage', component: page(() => import('./console/Groups'), 'GroupsPage') },
  { path: 'roles', label: 'Roles', permission: 'users.manage', component: page(() => import('./console/Roles'), 'RolesPage') },
  { path: 'identity-providers', label: 'Identity providers', permission: 'users.manage', component: page(() => import('./console/IdentityProviders'), 'IdentityProvidersPage') },
  { path: 'role-bindings', label: 'Role bindings', permission: 'users.manage', component: page(() => import('./console/Bindings'), 'BindingsPage') },
  { path: 'webhooks', label: 'Webhooks', permission: 'firewall.admin', component: page(() => import('./console/Webhooks'), 'WebhooksPage') },
  { path: 'firewall/settings', label: 'Firewall settings', permission: 'firewall.view', component: page(() => import('./console/Settings'), 'SettingsPage') },
  { path: 'tokens', label: 'API tokens', permission: null, component: page(() => import('./console/Tokens'), 'TokensPage') },
  { path: 'audit', label: 'Audit log', permission: 'audit.view', component: page(() => import('./console/Audit'), 'AuditPage') },
  { path: 'cluster', label: 'Cluster', permission: 'cluster.view', component: page(() => import('./console/Cluster'), 'ClusterPage') },
  { path: 'firewall/pending', label: 'Pending changes', permission: 'firewall.view', component: page(() => import('./console/Changes'), 'ChangesPage') },
  { path: 'policy/trace', label: 'Packet tracer', permission: 'firewall.view', component: page(() => import('./console/Tracer'), 'TracerPage') },
  { path: 'policy/tests', label: 'Policy tests', permission: 'firewall.view', component: page(() => import('./console/PolicyTests'), 'PolicyTestsPage') },
  { path: 'firewall/drift', label: 'Drift', permission: 'gateway.drift', component: page(() => import('./console/Drift'), 'DriftPage') },
  { path: 'gateways/sync', label: 'Gateway sync', permission: 'firewall.view', component: page(() => import('./console/GatewaySync'), 'GatewaySyncPage') },
  { path: 'policy/lint', label: 'Lint findings', permission: 'firewall.view', component: page(() => import('./console/PolicyLint'), 'PolicyLintPage') },
];

/** The pages `permissions` (from /auth/me) opens (detail pages included). */
export function visiblePages(permissions: Record<string, unknown> | undefined): ConsolePage[] {
  return CONSOLE_PAGES.filter((p) => p.permission === null || (permissions !== undefined && p.permission in permissions));
}

/** The sidebar's entries for `permissions`. */
export function navPages(permissions: Record<string, unknown> | undefined): ConsolePage[] {
  return visiblePages(permissions).filter((p) => p.nav !== false);
}

/** Whether the console has anything for this person beyond the dashboard and their own tokens. */
export function hasConsole(permissions: Record<string, unknown> | undefined): boolean {
  return visiblePages(permissions).some((p) => p.permission !== null);
}
