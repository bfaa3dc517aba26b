/**
 * @module Drift detection tables (docs/reference/freesdn-firewall-module.md §16, docs/drift.md, ADR 0250):
 *
 * - `drift_baselines`: what Portcullis expects on a gateway, one row per resource (a rule by its device id, an
 *   alias by its name) in the comparable shape its drift source defines. Taken from the first live read, moved by
 *   the pending changes Portcullis applies and by `accept`.
 * - `drift_gateway_state`: per gateway, when the baseline was taken, which applied pending changes are folded in,
 *   and the outcome of the last check.
 * - `drift_events`: one row per divergence; a partial unique index keeps ONE open (or remediating) event per
 *   (gateway, resource, drift type), so a recheck updates it instead of adding a duplicate.
 * - `drift_suppressions`: silence a drift type on matching resources, or forbid matching resources outright
 *   (a violation is `suppression_violated`, ADR 0252).
 */
import { sql } from 'drizzle-orm';
import { boolean, index, integer, jsonb, pgTable, primaryKey, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { gateways } from './access.ts';
import { pendingChanges } from './firewall.ts';
import { orgRef, sites, timestamps, tz } from './tenancy.ts';

const siteRef = () =>
  uuid('site_id')
    .notNull()
    .references(() => sites.id);
const deviceRef = () =>
  uuid('device_id')
    .notNull()
    .references(() => gateways.id);

export const driftBaselines = pgTable(
  'drift_baselines',
  {
    orgId: orgRef(),
    siteId: siteRef(),
    deviceId: deviceRef(),
    /** The drift source's resource type: `firewall_rule` | `alias` (more sources plug in later). */
    resourceType: text('resource_type').notNull(),
    /** The resource's identity on the device (a rule's vendor id, an alias name). */
    resourceKey: text('resource_key').notNull(),
    /** Display name (a rule's description, an alias name). */
    name: text('name').notNull(),
    /** The comparable shape of the resource (its drift source's projection of the live read). */
    body: jsonb('body').notNull(),
    /** `snapshot` (first read) | `pending_change` (Portcullis applied a change) | `accepted` (a drift was accepted). */
    source: text('source').notNull(),
    updatedAt: tz('updated_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.deviceId, t.resourceType, t.resourceKey] })],
);

export const driftGatewayState = pgTable('drift_gateway_state', {
  deviceId: uuid('device_id')
    .primaryKey()
    .references(() => gateways.id),
  orgId: orgRef(),
  siteId: siteRef(),
  /** When the first complete live read became the baseline. */
  baselineAt: tz('baseline_at'),
  /** Pending changes applied up to this time are folded into the baseline. */
  foldedUntil: tz('folded_until'),
  lastCheckAt: tz('last_check_at'),
  /** `ok` | `failed` | `skipped`. */
  lastOutcome: text('last_outcome'),
  lastErrorCode: text('last_error_code'),
  lastErrorMessage: text('last_error_message'),
  /** Resource types the last check could not compare, each with the reason (a capability flag that is off). */
  skipped: jsonb('skipped').notNull().default(sql`'[]'::jsonb`),
});

export const driftEvents = pgTable(
  'drift_events',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    orgId: orgRef(),
    siteId: siteRef(),
    deviceId: deviceRef(),
    resourceType: text('resource_type').notNull(),
    resourceKey: text('resource_key').notNull(),
    resourceName: text('resource_name').notNull(),
    /** `resource_missing` | `resource_modified` | `resource_added` | `suppression_violated` | `tag_removed`. */
    driftType: text('drift_type').notNull(),
    /** `critical` | `warning` | `info`. */
    severity: text('severity').notNull(),
    /** `open` | `remediating` (a reapply is staged) | `resolved`. */
    status: text('status').notNull().default('open'),
    /** Once resolved: `reapplied` | `accepted` | `ignored` | `cleared` (the device came back by itself). */
    resolution: text('resolution'),
    message: text('message').notNull(),
    expected: jsonb('expected'),
    actual: jsonb('actual'),
    /** Hash of `actual`: an ignored drift is not reported again while the device keeps showing the same thing. */
    actualHash: text('actual_hash').notNull(),
    /** Which fields differ (modified) or which entries (aliases). */
    details: jsonb('details').notNull().default(sql`'{}'::jsonb`),
    /** How many checks have seen it. */
    occurrences: integer('occurrences').notNull().default(1),
    firstSeenAt: tz('first_seen_at').notNull().defaultNow(),
    lastSeenAt: tz('last_seen_at').notNull().defaultNow(),
    /** The staged reapply. */
    pendingChangeId: uuid('pending_change_id').references(() => pendingChanges.id),
    suppressionId: uuid('suppression_id'),
    resolvedAt: tz('resolved_at'),
    resolvedBy: uuid('resolved_by'),
  },
  (t) => [
    uniqueIndex('drift_events_one_open_uq')
      .on(t.deviceId, t.resourceType, t.resourceKey, t.driftType)
      .where(sql`${t.status} <> 'resolved'`),
    index('drift_events_org_seen_idx').on(t.orgId, t.lastSeenAt),
    index('drift_events_device_status_idx').on(t.deviceId, t.status),
  ],
);

export const driftSuppressions = pgTable(
  'drift_suppressions',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    orgId: orgRef(),
    siteId: siteRef(),
    /** One gateway of the site, or null for every gateway of it. */
    deviceId: uuid('device_id').references(() => gateways.id),
    resourceType: text('resource_type').notNull(),
    /** Glob (`*`, `?`) matched against the resource's key and its name. */
    pattern: text('pattern').notNull(),
    /** `silence`: drift of `drift_type` (null: any) is expected; `forbid`: a matching resource must not exist. */
    mode: text('mode').notNull(),
    driftType: text('drift_type'),
    reason: text('reason').notNull(),
    isActive: boolean('is_active').notNull().default(true),
    createdBy: uuid('created_by'),
    deactivatedAt: tz('deactivated_at'),
    deactivatedBy: uuid('deactivated_by'),
    ...timestamps,
  },
  (t) => [index('drift_suppressions_site_idx').on(t.orgId, t.siteId, t.isActive)],
);
