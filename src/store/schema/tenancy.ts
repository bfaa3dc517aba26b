/**
 * @module Tenancy tables: organisations and sites. Every tenant table references `orgs`; site-scoped tables
 * also carry `site_id`. One default org (DEFAULT_ORG_ID) is created by the first migration.
 */
import { sql } from 'drizzle-orm';
import { index, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';

/** The single org of a fresh install (inserted by migration 0001_default_org.sql). */
export const DEFAULT_ORG_ID = '00000000-0000-4000-8000-000000000001';

/** A `timestamptz` column read as a Date. */
export const tz = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

/** `created_at` / `updated_at` pair used by every mutable table. */
export const timestamps = {
  createdAt: tz('created_at').notNull().defaultNow(),
  updatedAt: tz('updated_at').notNull().defaultNow(),
};

/** The `org_id` column every tenant table carries (the reference is resolved lazily, after `orgs`). */
export const orgRef = () => uuid('org_id').notNull().references(() => orgs.id);

export const orgs = pgTable('orgs', {
  id: uuid('id').primaryKey().defaultRandom(),
  name: text('name').notNull().unique(),
  ...timestamps,
});

export const sites = pgTable(
  'sites',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    orgId: orgRef(),
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
