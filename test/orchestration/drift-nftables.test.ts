/**
 * @module Drift detection on nftables (docs/drift.md): the vendor has `read.rules` and `read.aliases` but no live
 * writer, so the shared suite (test/orchestration/drift.case.ts, which edits out of band and reapplies through live
 * writes) cannot run; what it can do runs here on the real kernel in a network namespace (the access harness,
 * test/nftables/access-harness.ts): the baseline, just-in-time churn on a knoc set not drift, an element added by hand
 * and a removed tag reported once each, ignore, and a reapply refused with the capability it lacks (501). Out-of-band
 * edits use the vendor's adapter on the same namespace, as an admin running `nft` would. Skipped, with the reason,
 * when not root or without netns support.
 */
import { lookup } from 'node:dns';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AliasEntry } from '../../src/adapters/types.ts';
import type { VendorDescriptor } from '../../src/adapters/registry.ts';
import { findVendor } from '../../src/adapters/vendors.ts';
import { parseHostAllowList } from '../../src/net/ssrf.ts';
import { testSettings } from '../access-api/harness.ts';
import type { ScenarioDevice } from '../contract/access-scenarios.case.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { nftablesAccessHarness } from '../nftables/access-harness.ts';
import { netnsUnavailable } from '../nftables/netns.ts';

const why = netnsUnavailable();
const vendor = findVendor('nftables') as VendorDescriptor;
const KNOC_SET = 'pc_drift_knoc';

interface DriftEventBody {
  id: string;
  resource_key: string;
  drift_type: string;
  severity: string;
  status: string;
  occurrences: number;
}

describe.skipIf(why !== null)(`drift detection on nftables ${why ?? ''}`, () => {
  let device: ScenarioDevice;
  let h: TestApp;
  let siteId: string;
  let gatewayId: string;
  let knocId: string;

  const post = (url: string, payload: object = {}) => h.call({ method: 'POST', url, payload, token: h.ownerToken });
  async function check() {
    const res = await post(`/api/v1/firewall/drift/check/${siteId}`);
    expect(res.statusCode, res.body).toBe(200);
    return res.json<{ gateways: Array<{ outcome: string; baseline_taken: boolean; opened: string[]; updated: number; ignored: number; skipped: unknown[] }> }>().gateways[0];
  }
  async function open(): Promise<DriftEventBody[]> {
    const res = await h.call({ method: 'GET', url: `/api/v1/firewall/drift/events?device_id=${gatewayId}&limit=500`, token: h.ownerToken });
    return res.json<{ items: DriftEventBody[] }>().items.filter((e) => e.status !== 'resolved');
  }
  /** What an admin does with `nft` on the host: the set's elements rewritten (comments included). */
  async function byHand(change: (entries: AliasEntry[]) => AliasEntry[]): Promise<void> {
    const adapter = vendor.createAdapter({
      url: device.url,
      credentials: device.credentials,
      tls: { mode: 'insecure' },
      lookup,
      ...(device.tuning ? { tuning: device.tuning } : {}),
    });
    try {
      const current = (await adapter.getAlias(KNOC_SET))?.entries ?? [];
      await adapter.setAliasEntries(KNOC_SET, change(current));
    } finally {
      await adapter.close();
    }
  }
  async function grant(ip: string): Promise<string> {
    const res = await post('/api/v1/access/grants', { knoc_id: knocId, ip, reason: 'drift on nftables' });
    expect(res.statusCode, res.body).toBe(201);
    const end = Date.now() + 20_000;
    while (!(await device.liveEntries(KNOC_SET)).some((e) => e.address.startsWith(ip))) {
      if (Date.now() > end) throw new Error(`${ip} never went live`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    await h.app.access.settled();
    return res.json<{ id: string }>().id;
  }

  beforeAll(async () => {
    device = await nftablesAccessHarness.start();
    const settings = testSettings({ allowHosts: parseHostAllowList('127.0.0.1') });
    if (device.tuning) settings.adapter = { ...settings.adapter, ...device.tuning };
    h = await startTestApp('pglite', { readOnly: false }, { accessSettings: settings });
    siteId = (await post('/api/v1/sites', { name: 'drift-nftables' })).json<{ id: string }>().id;
    const gw = await post('/api/v1/firewall/gateways', { name: 'drift-nft', site_id: siteId, vendor: 'nftables', url: device.url, ...device.credentials });
    expect(gw.statusCode, gw.body).toBe(201);
    gatewayId = gw.json<{ id: string }>().id;
    const knoc = await post('/api/v1/access/knocs', { name: 'drift-nft-knoc', gateway_id: gatewayId, alias_name: KNOC_SET, create_alias_if_missing: true });
    expect(knoc.statusCode, knoc.body).toBe(201);
    knocId = knoc.json<{ id: string }>().id;
  }, 120_000);
  afterAll(async () => {
    await h?.close();
    await device?.close();
  });

  it('the first check takes the baseline with nothing skipped; grants coming and going are not drift', async () => {
    expect(await check()).toMatchObject({ outcome: 'ok', baseline_taken: true, skipped: [] });
    const a = await grant('198.51.100.31');
    expect(await check()).toMatchObject({ outcome: 'ok', opened: [] });
    const revoked = await h.call({ method: 'DELETE', url: `/api/v1/access/grants/${a}`, token: h.ownerToken });
    expect(revoked.statusCode).toBe(204);
    await h.app.access.settled();
    expect(await check()).toMatchObject({ opened: [] });
    expect(await open()).toEqual([]);
  });

  it('an element added by hand is reported once (critical); reapply is refused naming the missing write capability', async () => {
    await grant('198.51.100.32');
    await byHand((entries) => [...entries, { address: '192.0.2.88', detail: 'added by hand' }]);
    expect((await check())?.opened).toHaveLength(1);
    for (let i = 0; i < 2; i++) expect(await check()).toMatchObject({ opened: [], updated: 1 });
    const [event] = await open();
    expect(event).toMatchObject({ resource_key: KNOC_SET, drift_type: 'resource_modified', severity: 'critical', occurrences: 3 });
    const reapply = await post(`/api/v1/firewall/drift/events/${event?.id ?? ''}/resolve`, { resolution: 'reapply', force: true });
    expect(reapply.statusCode).toBe(501);
    expect(reapply.json<{ error: { message: string } }>().error.message).toMatch(/write\.aliases/);
    const accepted = await post(`/api/v1/firewall/drift/events/${event?.id ?? ''}/resolve`, { resolution: 'accept' });
    expect(accepted.statusCode, accepted.body).toBe(200);
    expect(await check()).toMatchObject({ opened: [], updated: 0 });
  });

  it('our tag removed from a grant element is tag_removed; ignored, the same state is not reported again', async () => {
    await byHand((entries) => entries.map((e) => (e.address.startsWith('198.51.100.32') ? { address: e.address, detail: 'mine now' } : e)));
    const [id] = (await check())?.opened ?? [];
    expect(await open()).toMatchObject([{ id, drift_type: 'tag_removed', severity: 'critical' }]);
    const ignored = await post(`/api/v1/firewall/drift/events/${id ?? ''}/resolve`, { resolution: 'ignore' });
    expect(ignored.statusCode, ignored.body).toBe(200);
    expect(await check()).toMatchObject({ opened: [], ignored: 1 });
  });
});
