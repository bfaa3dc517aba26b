/**
 * @module A drift check on a vendor whose descriptor lacks `read.rules` (pfSense's descriptor under another id with
 * the flag off, driving the pfRest emulator): rules are skipped with the flag's reason — answered by the check and
 * stored for the summary — and the device is never asked for its rules, while aliases are still checked.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { registerVendor, unregisterVendor, type VendorDescriptor } from '../../src/adapters/registry.ts';
import { findVendor } from '../../src/adapters/vendors.ts';
import { type AccessHarness, startAccessHarness } from '../access-api/harness.ts';

const pfsense = findVendor('pfsense') as VendorDescriptor;
const REASON = 'this test vendor hides its rules';
const noRules: VendorDescriptor = {
  ...pfsense,
  id: 'norules',
  name: 'NoRulesWall',
  capabilities: { ...pfsense.capabilities, 'read.rules': false },
  unavailable: { ...pfsense.unavailable, 'read.rules': REASON },
};

let h: AccessHarness;
let siteId: string;

beforeAll(async () => {
  registerVendor(noRules);
  h = await startAccessHarness('pglite', {}, { applyDelayMs: 0 });
  siteId = await h.site('no-rules');
  const gw = await h.call({
    method: 'POST',
    url: '/api/v1/firewall/gateways',
    token: h.ownerToken,
    payload: { name: 'no-rules-gw', site_id: siteId, vendor: 'norules', url: h.emulator.url, api_key: h.emulator.apiKey, ca_pem: h.emulator.caPem },
  });
  expect(gw.statusCode, gw.body).toBe(201);
});
afterAll(async () => {
  await h?.close();
  unregisterVendor(noRules.id);
});

it('skips rules with the reason of the missing flag, never reads them, and still checks aliases', async () => {
  h.emulator.clearRequests();
  const res = await h.call({ method: 'POST', url: `/api/v1/firewall/drift/check/${siteId}`, token: h.ownerToken });
  expect(res.statusCode, res.body).toBe(200);
  const [result] = res.json<{ gateways: Array<Record<string, unknown>> }>().gateways;
  expect(result).toMatchObject({
    outcome: 'ok',
    baseline_taken: true,
    skipped: [{ resource_type: 'firewall_rule', capability: 'read.rules', reason: REASON }],
  });
  const paths = h.emulator.requests().map((r) => r.path);
  expect(paths.some((p) => p.startsWith('/api/v2/firewall/rule'))).toBe(false);
  expect(paths.some((p) => p.startsWith('/api/v2/firewall/alias'))).toBe(true);
});

it('a check of an unknown site is a 404, and of a site without gateways answers no gateways', async () => {
  const unknown = await h.call({ method: 'POST', url: '/api/v1/firewall/drift/check/00000000-0000-4000-8000-00000000abcd', token: h.ownerToken });
  expect(unknown.statusCode).toBe(404);
  const empty = await h.site('empty-site');
  const res = await h.call({ method: 'POST', url: `/api/v1/firewall/drift/check/${empty}`, token: h.ownerToken });
  expect(res.json()).toEqual({ site_id: empty, gateways: [] });
});

it('refuses bad suppressions naming the field', async () => {
  const post = (payload: object) => h.call({ method: 'POST', url: '/api/v1/firewall/drift/suppressions', token: h.ownerToken, payload });
  const base = { site_id: siteId, resource_type: 'alias', pattern: 'x*', reason: 'r' };
  const forbidWithType = await post({ ...base, mode: 'forbid', drift_type: 'resource_added' });
  expect(forbidWithType.statusCode).toBe(400);
  expect(forbidWithType.json().error.field).toBe('drift_type');
  const badType = await post({ ...base, resource_type: 'vlan' });
  expect(badType.statusCode).toBe(400);
  expect(badType.json().error.field).toBe('resource_type');
  const otherSite = await post({ ...base, site_id: '00000000-0000-4000-8000-00000000abcd' });
  expect(otherSite.statusCode).toBe(400);
  expect(otherSite.json().error.field).toBe('site_id');
});
