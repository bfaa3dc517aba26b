/**
 * @module Distribution engine tables (issue 14 item 3, docs/orchestration.md "Distribution", ADRs 0265-0269):
 *
 * - `distributions`: one push of one canonical VLAN to a site's brain and limbs, a saga with its status, the
 *   placement it used (the brain's parent port, each limb's bridge and ports) and its attempt number.
 * - `distribution_steps`: the plan, one row per step and attempt — tier 0 reachability checks, tier 1 brain
 *   writes, one tier per limb — each with what it wanted, the device's object before it ran (its before-image),
 *   the compensation recorded before the write, the pending changes that did the write and the compensation, and
 *   the read-back verification.
 * - `distribution_locks`: one row per site while a distribution runs there (the primary key makes the claim
 *   atomic); it expires after `distribution_lock_ttl_seconds` unless the saga renews it, and the
 *   `gateway.cleanup_distribution_locks` job deletes expired ones.
 */
import { index, integer, jsonb, pgTable, text, uuid } from 'drizzle-orm/pg-core';
import { gateways } from './access.ts';
import { pendingChanges } from './firewall.ts';
import { orchestrationVlans } from './orchestration.ts';
import { orgRef, sites, timestamps, tz } from './tenancy.ts';

const siteRef = () =>
  uuid('site_id')
    .notNull()
    .references(() => sites.id);

export const distributions = pgTable(
  'distributions',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    orgId: orgRef(),
    siteId: siteRef(),
    /** The canonical VLAN distributed; null once that VLAN is deleted (the record stays for the history). */
    canonicalVlanId: uuid('canonical_vlan_id').references(() => orchestrationVlans.id, { onDelete: 'set null' }),
    /** The VLAN's 802.1Q id and name when triggered (kept when the canonical row goes). */
    vlanTag: integer('vlan_tag').notNull(),
    vlanName: text('vlan_name').notNull(),
    /**
     * `planned` | `running` | `completed` | `failed` | `rolling_back` | `rolled_back` | `rollback_failed`
     * (src/orchestration/distribution/model.ts).
     */
    status: text('status').notNull(),
    /** Where the VLAN goes on each device: `{brain_parent, limbs: {gateway_id: {bridge, tagged, untagged}}}`. */
    placement: jsonb('placement').notNull(),
    /** 1 for the first run; each retry adds one (steps of earlier attempts stay). */
    attempt: integer('attempt').notNull().default(1),
    /** Why it failed or could not be rolled back: `{code, message, step_id}`. */
    error: jsonb('error'),
    triggeredBy: uuid('triggered_by'),
    startedAt: tz('started_at'),
    finishedAt: tz('finished_at'),
    ...timestamps,
  },
  (t) => [index('distributions_org_site_idx').on(t.orgId, t.siteId, t.createdAt)],
);

export const distributionSteps = pgTable(
  'distribution_steps',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    orgId: orgRef(),
    siteId: siteRef(),
    distributionId: uuid('distribution_id')
      .notNull()
      .references(() => distributions.id, { onDelete: 'cascade' }),
    attempt: integer('attempt').notNull(),
    /** Execution order within the attempt. */
    seq: integer('seq').notNull(),
    /** 0: reachability; 1: the brain's L3 objects; 2, 3 …: one limb each. */
    tier: integer('tier').notNull(),
    deviceId: uuid('device_id')
      .notNull()
      .references(() => gateways.id),
    /** `reachability` or a live write kind (`vlan_interface`, `dhcp_scope`, `dhcp_static_mapping`, `dns_override`, `bridge_vlan`). */
    kind: text('kind').notNull(),
    /** The object's identity in words (`vtnet1.30`, `aa:bb:…`, `cam.example.com`, `bridge/30`). */
    resourceKey: text('resource_key').notNull(),
    /** `check` | `create` | `update` | `noop`: what the step does, decided from the device's state when it runs. */
    action: text('action').notNull(),
    /**
     * `pending` | `running` | `done` | `failed` | `skipped` | `compensating` | `compensated` |
     * `compensation_failed`.
     */
    status: text('status').notNull(),
    /** The neutral body the device should hold after the step (null for a check). */
    desired: jsonb('desired'),
    /** The device's object before the write (null: it had none). */
    before: jsonb('before'),
    /** The device id of the object written. */
    target: text('target'),
    /** The write that undoes this step, recorded before the step's own write: `{op, target, body}`, or null. */
    compensation: jsonb('compensation'),
    pendingChangeId: uuid('pending_change_id').references(() => pendingChanges.id),
    compensationChangeId: uuid('compensation_change_id').references(() => pendingChanges.id),
    /** What the read-back showed: `{ok, differences}` after the step, `{ok, restored}` after its compensation. */
    verification: jsonb('verification'),
    error: jsonb('error'),
    startedAt: tz('started_at'),
    finishedAt: tz('finished_at'),
  },
  (t) => [index('distribution_steps_distribution_idx').on(t.distributionId, t.attempt, t.seq)],
);

export const distributionLocks = pgTable('distribution_locks', {
  /** One lock per site: the primary key is what makes taking it atomic. */
  siteId: uuid('site_id')
    .primaryKey()
    .references(() => sites.id),
  orgId: orgRef(),
  distributionId: uuid('distribution_id')
    .notNull()
    .references(() => distributions.id, { onDelete: 'cascade' }),
  acquiredAt: tz('acquired_at').notNull(),
  expiresAt: tz('expires_at').notNull(),
});
