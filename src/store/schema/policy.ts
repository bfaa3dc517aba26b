/**
 * @module Policy-engine tables: the policy tests of each gateway (issue 12 item 4, docs/policy.md "Policy
 * tests"), one JSON document per gateway, run on the after-configuration of every pending change.
 */
import { jsonb, pgTable, uuid } from 'drizzle-orm/pg-core';
import { gateways } from './access.ts';
import { orgRef, sites, tz } from './tenancy.ts';

export const policyTests = pgTable('policy_tests', {
  deviceId: uuid('device_id')
    .primaryKey()
    .references(() => gateways.id),
  orgId: orgRef(),
  /** The gateway's site (a gateway never changes site), for site scoping. */
  siteId: uuid('site_id')
    .notNull()
    .references(() => sites.id),
  /** The validated document as it was saved: `{"version": 1, "flows": [...]}`. */
  document: jsonb('document').notNull(),
  updatedAt: tz('updated_at').notNull().defaultNow(),
  updatedBy: uuid('updated_by'),
});
