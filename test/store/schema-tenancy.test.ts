/**
 * @module Schema conventions: every tenant table carries `org_id`; every table tied to a gateway (`device_id` or
 * `gateway_id` as a required column) carries `site_id` too, so site scoping never needs a join.
 */
import { getTableColumns, getTableName } from 'drizzle-orm';
import { PgTable } from 'drizzle-orm/pg-core';
import { expect, it } from 'vitest';
import * as schema from '../../src/store/schema/index.ts';

const tables = (Object.values(schema) as unknown[]).filter((v): v is PgTable => v instanceof PgTable);
/** Not tenant data: the orgs themselves, the sign-in throttle keyed by user or address, the cluster's nodes and leases,
 * the syslog forwarder's cursor over the whole audit log. */
const NOT_TENANT = new Set(['orgs', 'login_throttle', 'cluster_nodes', 'cluster_leases', 'audit_syslog_cursor']);

it('every tenant table has a non-null org_id', () => {
  const missing = tables
    .filter((t) => !NOT_TENANT.has(getTableName(t)))
    .filter((t) => {
      const column = Object.values(getTableColumns(t)).find((c) => c.name === 'org_id');
      return !column?.notNull;
    })
    .map(getTableName);
  expect(tables.length).toBeGreaterThan(20);
  expect(missing).toEqual([]);
});

it('every table tied to a gateway has a non-null site_id', () => {
  const tied = tables.filter((t) =>
    Object.values(getTableColumns(t)).some((c) => (c.name === 'device_id' || c.name === 'gateway_id') && c.notNull),
  );
  expect(tied.map(getTableName)).toEqual(expect.arrayContaining(['firewall_rules', 'pending_changes', 'knocs']));
  const missing = tied
    .filter((t) => !Object.values(getTableColumns(t)).some((c) => c.name === 'site_id' && c.notNull))
    .map(getTableName);
  expect(missing).toEqual([]);
});
