/**
 * @module The audit log: one row per change, sign-in or denied attempt. Written only through
 * `src/audit/record.ts`, which redacts `before`/`after` first.
 */
import { bigint, index, jsonb, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { orgRef } from './tenancy.ts';

export const auditLog = pgTable(
  'audit_log',
  {
    /** Monotonic, so it doubles as the paging cursor. */
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    orgId: orgRef(),
    /** `user` | `token` | `system` | `anonymous`. */
    actorType: text('actor_type').notNull(),
    actorId: text('actor_id'),
    actorName: text('actor_name'),
    /** Dotted verb, e.g. `user.create`, `auth.login`, `role_binding.delete`. */
    action: text('action').notNull(),
    targetType: text('target_type'),
    targetId: text('target_id'),
    siteId: uuid('site_id'),
    before: jsonb('before'),
    after: jsonb('after'),
    sourceIp: text('source_ip'),
    requestId: text('request_id'),
    /** `success` | `failure` | `denied`. */
    outcome: text('outcome').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [
    index('audit_org_created_idx').on(t.orgId, t.createdAt),
    index('audit_actor_idx').on(t.orgId, t.actorId),
    index('audit_action_idx').on(t.orgId, t.action),
    index('audit_target_idx').on(t.orgId, t.targetType, t.targetId),
    index('audit_site_idx').on(t.orgId, t.siteId),
    index('audit_outcome_idx').on(t.orgId, t.outcome),
  ],
);

/**
 * Where the syslog copy of the audit log stands (ADR 0237): the node holding the `audit-syslog` lease reads it when
 * it takes the lease and writes it after every pass, so a node taking over continues where the last one stopped.
 */
export const auditSyslogCursor = pgTable('audit_syslog_cursor', {
  /** One row per forwarder; today only `audit-syslog`. */
  name: text('name').primaryKey(),
  /** Every id up to this one has been sent or passed over (a gap older than the grace period). */
  lastId: bigint('last_id', { mode: 'number' }).notNull(),
  /** Ids above `last_id` already sent, beyond a gap still inside its grace period. */
  sentAbove: bigint('sent_above', { mode: 'number' }).array().notNull().default([]),
  /** When the id just above `last_id` was first found missing. */
  gapSince: timestamp('gap_since', { withTimezone: true }),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});
