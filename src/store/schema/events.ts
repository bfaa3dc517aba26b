/**
 * @module Events and their outbound delivery (issue 9 item 8, docs/events.md): the `events` outbox every
 * module writes in the transaction that causes the event, the webhooks that subscribe to them (the signing
 * secret is a keyring ciphertext, `webhooks:<id>:secret_enc`) and one delivery row per (event, webhook) with
 * its attempts.
 */
import { sql } from 'drizzle-orm';
import { bigint, boolean, index, integer, jsonb, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { orgRef, timestamps, tz } from './tenancy.ts';

/** Outbox of events (access and firewall); `delivered_at` is set once it has been fanned out to webhooks. */
export const events = pgTable(
  'events',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    orgId: orgRef(),
    /** Dotted type, e.g. `grant.created`, `firewall.event.gateway_online` (src/events/types.ts). */
    type: text('type').notNull(),
    siteId: uuid('site_id'),
    knocId: uuid('knoc_id'),
    grantId: uuid('grant_id'),
    gatewayId: uuid('gateway_id'),
    payload: jsonb('payload').notNull(),
    createdAt: tz('created_at').notNull().defaultNow(),
    deliveredAt: tz('delivered_at'),
  },
  (t) => [index('events_undelivered_idx').on(t.id).where(sql`${t.deliveredAt} is null`)],
);

export const webhooks = pgTable(
  'webhooks',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    orgId: orgRef(),
    name: text('name').notNull(),
    url: text('url').notNull(),
    /** Event types delivered (exact types); empty = every type the creator may see. */
    eventTypes: text('event_types').array().notNull().default(sql`'{}'::text[]`),
    /** `null`: events of every site (and org-wide ones). A list: only events of these sites. */
    siteIds: uuid('site_ids').array(),
    /** Keyring ciphertext of the HMAC signing secret (shown once at creation). */
    secretEnc: text('secret_enc').notNull(),
    enabled: boolean('enabled').notNull().default(true),
    /** Consecutive failed deliveries; reset by a success; the webhook is disabled when it reaches the limit. */
    consecutiveFailures: integer('consecutive_failures').notNull().default(0),
    disabledAt: tz('disabled_at'),
    disabledReason: text('disabled_reason'),
    createdBy: uuid('created_by'),
    ...timestamps,
    deletedAt: tz('deleted_at'),
  },
  (t) => [uniqueIndex('webhooks_org_name_live_uq').on(t.orgId, t.name).where(sql`${t.deletedAt} is null`)],
);

export const webhookDeliveries = pgTable(
  'webhook_deliveries',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    orgId: orgRef(),
    webhookId: uuid('webhook_id')
      .notNull()
      .references(() => webhooks.id, { onDelete: 'cascade' }),
    eventId: bigint('event_id', { mode: 'number' })
      .notNull()
      .references(() => events.id, { onDelete: 'cascade' }),
    eventType: text('event_type').notNull(),
    /** `pending` | `succeeded` | `failed` (gave up after the last attempt or the webhook was disabled). */
    status: text('status').notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: tz('next_attempt_at').notNull().defaultNow(),
    lastAttemptAt: tz('last_attempt_at'),
    responseStatus: integer('response_status'),
    /** Why the last attempt failed (`timeout`, `http_500`, `connect: ECONNREFUSED`, …); never a secret. */
    error: text('error'),
    durationMs: integer('duration_ms'),
    createdAt: tz('created_at').notNull().defaultNow(),
    deliveredAt: tz('delivered_at'),
  },
  (t) => [
    uniqueIndex('webhook_deliveries_event_uq').on(t.webhookId, t.eventId),
    index('webhook_deliveries_due_idx').on(t.nextAttemptAt).where(sql`${t.status} = 'pending'`),
    index('webhook_deliveries_webhook_idx').on(t.webhookId, t.id),
  ],
);
