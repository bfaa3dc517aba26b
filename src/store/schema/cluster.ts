/**
 * @module Cluster tables (docs/scale-out.md, ADR 0220): the nodes serving one store, the leases that divide the
 * work between them, and the state kills a reconciler still owes (so they survive a restart or a takeover).
 *
 * `cluster_nodes` and `cluster_leases` describe processes, not tenant data, so they carry no `org_id`.
 */
import { index, pgTable, primaryKey, text, uuid } from 'drizzle-orm/pg-core';
import { gateways } from './access.ts';
import { orgRef, sites, tz } from './tenancy.ts';

/** One row per running node, refreshed by its heartbeat; rows of dead nodes are pruned after a while. */
export const clusterNodes = pgTable('cluster_nodes', {
  id: uuid('id').primaryKey(),
  hostname: text('hostname').notNull(),
  pid: text('pid').notNull(),
  startedAt: tz('started_at').notNull().defaultNow(),
  heartbeatAt: tz('heartbeat_at').notNull().defaultNow(),
});

/** A named piece of work (e.g. one (gateway, alias) reconciler) and the node holding it until `expires_at`. */
export const clusterLeases = pgTable(
  'cluster_leases',
  {
    name: text('name').primaryKey(),
    nodeId: uuid('node_id').notNull(),
    acquiredAt: tz('acquired_at').notNull().defaultNow(),
    expiresAt: tz('expires_at').notNull(),
  },
  (t) => [index('cluster_leases_node_idx').on(t.nodeId)],
);

/** Addresses taken off an alias whose firewall states are still to be killed (ADR 0222). */
export const accessPendingKills = pgTable(
  'access_pending_kills',
  {
    orgId: orgRef(),
    siteId: uuid('site_id')
      .notNull()
      .references(() => sites.id),
    gatewayId: uuid('gateway_id')
      .notNull()
      .references(() => gateways.id),
    aliasName: text('alias_name').notNull(),
    ip: text('ip').notNull(),
    createdAt: tz('created_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.gatewayId, t.aliasName, t.ip] })],
);
