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
}

export const CONSOLE_PAGES: readonly ConsolePage[] = [
  { path: '', label: 'Dashboard', permission: null, component: page(() => import('./console/Dashboard'), 'DashboardPage') },
  { path: 'gateways', label: 'Gateways', permission: 'gateway.view', component: page(() => import('./console/Gateways'), 'GatewaysPage') },
  { path: 'knocs', label: 'Knocs', permission: 'access.view', component: page(() => import('./console/Knocs'), 'KnocsPage') },
  { path: 'grants', label: 'Grants', permission: 'access.view', component: page(() => import('./console/Grants'), 'GrantsPage') },
  { path: 'sites', label: 'Sites', permission: 'gateway.view', component: page(() => import('./console/Sites'), 'SitesPage') },
  { path: 'users', label: 'Users', permission: 'users.manage', component: page(() => import('./console/Users'), 'UsersPage') },
  { path: 'groups', label: 'Groups', permission: 'users.manage', component: page(() => import('./console/Groups'), 'GroupsPage') },
  { path: 'roles', label: 'Roles', permission: 'users.manage', component: page(() => import('./console/Roles'), 'RolesPage') },
  { path: 'role-bindings', label: 'Role bindings', permission: 'users.manage', component: page(() => import('./console/Bindings'), 'BindingsPage') },
  { path: 'tokens', label: 'API tokens', permission: null, component: page(() => import('./console/Tokens'), 'TokensPage') },
  { path: 'audit', label: 'Audit log', permission: 'audit.view', component: page(() => import('./console/Audit'), 'AuditPage') },
];

/** The pages `permissions` (from /auth/me) opens. */
export function visiblePages(permissions: Record<string, unknown> | undefined): ConsolePage[] {
  return CONSOLE_PAGES.filter((p) => p.permission === null || (permissions !== undefined && p.permission in permissions));
}

/** Whether the console has anything for this person beyond the dashboard and their own tokens. */
export function hasConsole(permissions: Record<string, unknown> | undefined): boolean {
  return visiblePages(permissions).some((p) => p.permission !== null);
}
