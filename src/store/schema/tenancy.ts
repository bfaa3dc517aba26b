/**
 * @module Tenancy tables: organisations and sites. Every tenant table references `orgs`; site-scoped tables
 * also carry `site_id`. One default org (DEFAULT_ORG_ID) is created by the first migration.
 */
import { sql } from 'drizzle-orm';
import { index, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';

/** The single org of a fresh install (inserted by migration 0001_default_org.sql). */
export const DEFAULT_ORG_ID = '00000000-0000-4000-8000-000000000001';

/** `created_at` / `updated_at` pair used by every mutable table. */
export const timestamps = {
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
};

export const orgs = pgTable('orgs', {
  id: uuid('id').primaryKey().defaultRandom(),
  name: text('name').notNull().unique(),
  ...timestamps,
});

export const sites = pgTable(
  'sites',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    orgId: uuid('org_id')
      .notNull()
      .references(() => orgs.id),
    name: text('name').notNull(),
    description: text('description').notNull().default(''),
    ...timestamps,
    deletedAt: timestamp('deleted_at', { withTimezone: true, mode: 'date' }),
  },
  (t) => [
    // Names are reusable once a site is soft-deleted.
    uniqueIndex('sites_org_name_live_uq').on(t.orgId, t.name).where(sql`${t.deletedAt} is null`),
    index('sites_org_idx').on(t.orgId),
  ],
);
