/**
 * @module The whole Drizzle schema, one file per domain. A new domain (e.g. `access.ts` for gateways, knocs
 * and grants) adds its file here and runs `npx drizzle-kit generate` to get its migration.
 */
export * from './access.ts';
export * from './audit.ts';
export * from './distribution.ts';
export * from './drift.ts';
export * from './cluster.ts';
export * from './events.ts';
export * from './firewall.ts';
export * from './identity.ts';
export * from './orchestration.ts';
export * from './policy.ts';
export * from './tenancy.ts';
export * from './sso.ts';
