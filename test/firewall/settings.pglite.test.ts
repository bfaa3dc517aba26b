/**
 * @module Firewall module settings: the spec's defaults, ranges (400 naming the key), partial updates, the
 * org-wide permission, the audit entry, and the typed reader seeing a change without a restart.
 */
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DEFAULT_SETTINGS, readSettings } from '../../src/firewall/settings.ts';
import { auditLog } from '../../src/store/schema/audit.ts';
import { DEFAULT_ORG_ID } from '../../src/store/schema/tenancy.ts';
import { type FirewallHarness, startFirewallHarness } from './harness.ts';

let h: FirewallHarness;
beforeAll(async () => {
  h = await startFirewallHarness('pglite');
});
afterAll(async () => {
  await h?.close();
});

it('a fresh org reads the spec defaults', async () => {
  const expected = {
    default_policy: 'deny',
    log_blocked: true,
    ids_enabled: true,
    ids_mode: 'detect',
    log_retention_days: 30,
    sync_interval_minutes: 5,
    drift_check_interval_minutes: 15,
    distribution_lock_ttl_seconds: 300,
    auto_remediate_drift: false,
    import_retention_days: 90,
  };
  expect(DEFAULT_SETTINGS).toEqual(expected);
  expect(await h.ok('GET', '/api/v1/firewall/settings')).toEqual(expected);
});

it.each([
  ['log_retention_days', 6],
  ['log_retention_days', 366],
  ['sync_interval_minutes', 0],
  ['sync_interval_minutes', 1441],
  ['sync_interval_minutes', 2.5],
  ['drift_check_interval_minutes', 4],
  ['distribution_lock_ttl_seconds', 59],
  ['distribution_lock_ttl_seconds', 3601],
  ['import_retention_days', 0],
  ['import_retention_days', 366],
  ['ids_mode', 'block'],
  ['default_policy', 'reject'],
  ['log_blocked', 'yes'],
  ['no_such_setting', 1],
])('refuses %s = %j with a 400 naming it and changes nothing', async (name, value) => {
  const before = await h.ok('GET', '/api/v1/firewall/settings');
  const res = await h.call({ method: 'PATCH', url: '/api/v1/firewall/settings', token: h.ownerToken, payload: { [name]: value } });
  expect(res.statusCode).toBe(400);
  expect(res.json().error.field).toBe(name);
  expect(await h.ok('GET', '/api/v1/firewall/settings')).toEqual(before);
});

it('accepts the range ends, changes only the keys given, audits, and the reader sees it at once', async () => {
  const after = await h.ok('PATCH', '/api/v1/firewall/settings', { sync_interval_minutes: 1, log_retention_days: 365 });
  expect(after).toMatchObject({ sync_interval_minutes: 1, log_retention_days: 365, ids_mode: 'detect' });
  expect((await readSettings(h.store.db, DEFAULT_ORG_ID)).sync_interval_minutes).toBe(1);
  await h.ok('PATCH', '/api/v1/firewall/settings', { sync_interval_minutes: 1440, ids_mode: 'prevent' });
  const read = await readSettings(h.store.db, DEFAULT_ORG_ID);
  expect(read).toMatchObject({ sync_interval_minutes: 1440, log_retention_days: 365, ids_mode: 'prevent' });
  const audit = await h.store.db.select().from(auditLog).where(eq(auditLog.action, 'firewall_settings.update'));
  expect(audit).toHaveLength(2);
  expect(audit[1]?.after).toMatchObject({ sync_interval_minutes: 1440 });
});

it('changing settings needs firewall.admin on the whole org; reading needs firewall.view', async () => {
  const operator = await h.makeUser('settings-op', 'operator');
  expect((await h.call({ method: 'GET', url: '/api/v1/firewall/settings', token: operator.token })).statusCode).toBe(200);
  const res = await h.call({ method: 'PATCH', url: '/api/v1/firewall/settings', token: operator.token, payload: { ids_enabled: false } });
  expect(res.statusCode).toBe(403);
  const site = await h.site('settings-site');
  const siteAdmin = await h.makeUser('settings-site-admin', 'admin', [site]);
  expect(
    (await h.call({ method: 'PATCH', url: '/api/v1/firewall/settings', token: siteAdmin.token, payload: { ids_enabled: false } })).statusCode,
  ).toBe(403);
  const admin = await h.makeUser('settings-admin', 'admin');
  expect((await h.ok('PATCH', '/api/v1/firewall/settings', { ids_enabled: false }, 200, admin.token)).ids_enabled).toBe(false);
});
