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
