/**
 * @module The route modules the server registers, in order. A new domain (access, firewall, gateways)
 * appends its module here; each of its routes must declare `config.auth` or `config.permission`
 * (src/server/plugins/access.ts), or the server refuses to start.
 */
import type { FastifyPluginAsync } from 'fastify';
import { auditRoutes } from './audit.ts';
import { authRoutes } from './auth.ts';
import { groupRoutes } from './groups.ts';
import { healthRoutes } from './health.ts';
import { roleRoutes } from './roles.ts';
import { siteRoutes } from './sites.ts';
import { userRoutes } from './users.ts';

export const ROUTE_MODULES: readonly FastifyPluginAsync[] = [
  healthRoutes,
  authRoutes,
  userRoutes,
  groupRoutes,
  siteRoutes,
  roleRoutes,
  auditRoutes,
];
