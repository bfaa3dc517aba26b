/**
 * @module The route modules the server registers, in order. A new domain (access, firewall, gateways)
 * appends its module here; each of its routes must declare `config.auth` or `config.permission`
 * (src/server/plugins/access.ts), or the server refuses to start. Modules whose writes change who someone is or
 * what they may do are wrapped in `changesPrincipals` so those writes drop the cached principals (ADR 0096).
 */
import type { FastifyPluginAsync } from 'fastify';
import { accessRuntimePlugin } from '../../access/service/plugin.ts';
import { changesPrincipals } from '../plugins/access.ts';
import { auditRoutes } from './audit.ts';
import { dashboardRoutes } from './dashboard.ts';
import { distributionRoutes } from './distribution.ts';
import { driftRoutes } from './drift.ts';
import { clusterRoutes } from './cluster.ts';
import { edlRoutes } from './edl.ts';
import { eventsPlugin } from '../../events/plugin.ts';
import { jobsPlugin } from '../../jobs/plugin.ts';
import { eventRoutes } from './events.ts';
import { firewallRoutes } from './firewall.ts';
import { firewallBackupRoutes } from './firewall-backup.ts';
import { firewallSettingsRoutes } from './firewall-settings.ts';
import { firewallLiveRoutes } from './firewall-live.ts';
import { firewallPolicyTestRoutes } from './firewall-policy-tests.ts';
import { firewallPendingRoutes } from './firewall-pending.ts';
import { gatewayRoutes } from './gateways.ts';
import { grantRoutes } from './grants.ts';
import { knocRoutes } from './knocs.ts';
import { importRoutes } from './import.ts';
import { orchestrationRoutes } from './orchestration.ts';
import { policyRoutes } from './policy.ts';
import { portalRoutes } from './portal.ts';
import { requestRoutes } from './requests.ts';
import { authRoutes } from './auth.ts';
import { groupRoutes } from './groups.ts';
import { identityProviderRoutes } from './identity-providers.ts';
import { ssoRoutes } from './sso.ts';
import { healthRoutes } from './health.ts';
import { roleRoutes } from './roles.ts';
import { siteRoutes } from './sites.ts';
import { userRoutes } from './users.ts';
import { webhookRoutes } from './webhooks.ts';

export const ROUTE_MODULES: readonly FastifyPluginAsync[] = [
  healthRoutes,
  changesPrincipals(authRoutes),
  changesPrincipals(userRoutes),
  changesPrincipals(groupRoutes),
  changesPrincipals(siteRoutes),
  changesPrincipals(roleRoutes),
  auditRoutes,
  // Decorates `app.access` on the root (skip-override), so it must precede the access routes.
  accessRuntimePlugin,
  gatewayRoutes,
  firewallLiveRoutes,
  knocRoutes,
  grantRoutes,
  clusterRoutes,
  portalRoutes,
  requestRoutes,
  // Sign-in through identity providers grants on portal providers: needs `app.access` (above).
  changesPrincipals(ssoRoutes),
  identityProviderRoutes,
  edlRoutes,
  policyRoutes,
  firewallPolicyTestRoutes,
  firewallRoutes,
  firewallSettingsRoutes,
  firewallBackupRoutes,
  orchestrationRoutes,
  // Decorates `app.events` / `app.webhooks` on the root; needs `app.access` (above).
  eventsPlugin,
  // Decorates `app.jobs`; uses `app.access` (adapters, bus). Closes before the access runtime.
  jobsPlugin,
  webhookRoutes,
  eventRoutes,
  // Live writes emit their outcomes on `app.events` (above).
  firewallPendingRoutes,
  // Drift checks emit on `app.events` and reapply through the pending-change engine.
  driftRoutes,
  // Distributions write through the pending-change engine and emit on `app.events`.
  distributionRoutes,
  dashboardRoutes,
  // The import's step 5 and the reconciliation distribute through the distribution engine (pending-change path).
  importRoutes,
];
