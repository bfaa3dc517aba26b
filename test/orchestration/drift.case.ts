/**
 * @module Drift detection on any vendor, as one reusable suite (docs/drift.md): the real app on PGlite drives a
 * vendor's emulator through its registered descriptor; out-of-band edits are made with the vendor's own adapter
 * and live writer (built from the descriptor), as an admin on the device would. A vendor plugs in with its access
 * harness (test/contract/access-scenarios.case.ts) and the interface its rules go on.
 *
 * The scenarios run in order on one gateway: baseline, Portcullis's own writes not drift, an out-of-band rule edit
 * reported once across rechecks, reapply, accept, ignore, knoc alias churn not drift, a hand-added entry and a
 * removed tag on that alias as drift, suppressions (silence and forbid), summary and permissions.
 */
import { lookup } from 'node:dns';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LiveObject, LiveWriter } from '../../src/adapters/live-write.ts';
import type { ClosableAdapter, VendorDescriptor } from '../../src/adapters/registry.ts';
import { findVendor } from '../../src/adapters/vendors.ts';
import { driftCheck, type JobContext } from '../../src/jobs/tasks.ts';
import { DEFAULT_SETTINGS } from '../../src/firewall/settings.ts';
import { DEFAULT_ORG_ID } from '../../src/store/schema/tenancy.ts';
import type { StoredEvent } from '../../src/events/types.ts';
import { parseHostAllowList } from '../../src/net/ssrf.ts';
import { testSettings } from '../access-api/harness.ts';
import type { AccessScenarioHarness, ScenarioDevice } from '../contract/access-scenarios.case.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';

async function until(check: () => boolean | Promise<boolean>, what: string, limitMs = 20_000): Promise<void> {
  const end = Date.now() + limitMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

interface GatewayCheck {
  outcome: string;
  baseline_taken: boolean;
  opened: string[];
  updated: number;
  cleared: number;
  suppressed: number;
  ignored: number;
  skipped: unknown[];
}

interface DriftEventBody {
  id: string;
  resource_type: string;
  resource_key: string;
  drift_type: string;
  severity: string;
  status: string;
  resolution: string | null;
  occurrences: number;
  details: Record<string, unknown>;
}

export function runDriftScenarios(harness: AccessScenarioHarness, opts: { ruleInterface: string }): void {
  const vendor = findVendor(harness.vendor) as VendorDescriptor;
  let device: ScenarioDevice;
  let h: TestApp;
  let siteId: string;
  let gatewayId: string;
  let ruleId: string;
  const run = `${process.pid % 1000}${Date.now() % 10000}`;
  const description = `drift web ${run}`;
  const bus: StoredEvent[] = [];

  const post = (url: string, payload: object = {}, token = h.ownerToken) => h.call({ method: 'POST', url, payload, token });
  const get = (url: string, token = h.ownerToken) => h.call({ method: 'GET', url, token });
  async function check(): Promise<GatewayCheck> {
    const res = await post(`/api/v1/firewall/drift/check/${siteId}`);
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json<{ gateways: GatewayCheck[] }>();
    expect(body.gateways).toHaveLength(1);
    return body.gateways[0] as GatewayCheck;
  }
  async function events(query: Record<string, string> = {}): Promise<DriftEventBody[]> {
    const qs = new URLSearchParams({ device_id: gatewayId, limit: '500', ...query });
    const res = await get(`/api/v1/firewall/drift/events?${qs.toString()}`);
    expect(res.statusCode, res.body).toBe(200);
    return res.json<{ items: DriftEventBody[] }>().items;
  }
  const openOn = async (key: string) => (await events()).filter((e) => e.resource_key === key && e.status !== 'resolved');
  async function resolve(id: string, body: Record<string, unknown>) {
    const res = await post(`/api/v1/firewall/drift/events/${id}/resolve`, body);
    expect(res.statusCode, res.body).toBe(200);
    return res.json<{ event: DriftEventBody; pending_change: { status: string } | null; suppression: { id: string } | null }>();
  }

  /** An admin's edit on the device itself: the vendor's adapter and writer, applied when the vendor stages. */
  async function onDevice<T>(edit: (writer: LiveWriter, adapter: ClosableAdapter) => Promise<T>): Promise<T> {
    const adapter = vendor.createAdapter({
      url: device.url,
      credentials: device.credentials,
      tls: device.fingerprint ? { mode: 'fingerprint', sha256: device.fingerprint } : { mode: 'insecure' },
      lookup,
      ...(device.tuning ? { tuning: device.tuning } : {}),
    });
    try {
      const writer = (vendor.writes as NonNullable<VendorDescriptor['writes']>).open(adapter);
      const out = await edit(writer, adapter);
      if ((await writer.pendingSubsystems()).length > 0) await writer.apply();
      return out;
    } finally {
      await adapter.close();
    }
  }
  const readRule = () => onDevice((w) => w.read('firewall_rule', ruleId)) as Promise<LiveObject>;
  const editRule = (changes: Record<string, unknown>) =>
    onDevice(async (w) => {
      const before = (await w.read('firewall_rule', ruleId)) as LiveObject;
      await w.write({ kind: 'firewall_rule', op: 'update', target: ruleId, body: { ...before, ...changes } as never });
    });
  const aliasEntries = (name: string) =>
    onDevice(async (_w, adapter) => (await adapter.getAlias(name))?.entries.map((e) => ({ address: e.address, detail: e.detail })) ?? []);
  const setAliasEntries = (name: string, change: (entries: Array<{ address: string; detail: string }>) => Array<{ address: string; detail: string }>) =>
    onDevice(async (_w, adapter) => {
      const current = (await adapter.getAlias(name))?.entries.map((e) => ({ address: e.address, detail: e.detail })) ?? [];
      await adapter.setAliasEntries(name, change(current));
      if (vendor.capabilities.apply) await adapter.apply();
    });

  beforeAll(async () => {
    device = await harness.start();
    const settings = testSettings({ allowHosts: parseHostAllowList(harness.host ?? '127.0.0.1') });
    if (device.tuning) settings.adapter = { ...settings.adapter, ...device.tuning };
    h = await startTestApp('pglite', { readOnly: false }, { accessSettings: settings });
    h.app.events.on((event) => bus.push(event));
    siteId = (await post('/api/v1/sites', { name: `drift-${harness.vendor}` })).json<{ id: string }>().id;
    const gw = await post('/api/v1/firewall/gateways', {
      name: `drift-${harness.vendor}`,
      site_id: siteId,
      vendor: vendor.id,
      url: device.url,
      ...device.credentials,
      ...(device.fingerprint ? { fingerprint_sha256: device.fingerprint } : {}),
    });
    expect(gw.statusCode, gw.body).toBe(201);
    gatewayId = gw.json<{ id: string }>().id;
  }, 120_000);

  afterAll(async () => {
    await h?.close();
    await device?.close();
  });

  describe(`drift detection on ${harness.vendor}`, () => {
    it('the first check takes the baseline; a rule Portcullis applies afterwards is not drift', async () => {
      const first = await check();
      expect(first).toMatchObject({ outcome: 'ok', baseline_taken: true, opened: [], skipped: [] });
      const created = await post(`/api/v1/firewall/gateways/${gatewayId}/firewall-rules?force=true`, {
        action: 'allow',
        interface: opts.ruleInterface,
        protocol: 'tcp',
        source_address: 'any',
        dest_address: '192.0.2.10',
        dest_port: '443',
        description,
      });
      expect(created.statusCode, created.body).toBe(200);
      expect(created.json()).toMatchObject({ status: 'applied' });
      ruleId = created.json<{ target_vendor_id: string }>().target_vendor_id;
      const second = await check();
      expect(second).toMatchObject({ outcome: 'ok', baseline_taken: false, opened: [] });
      expect(await events()).toEqual([]);
    });

    it('an out-of-band rule edit is reported once, even after 3 rechecks', async () => {
      await editRule({ dest_port: '8443' });
      const first = await check();
      expect(first.opened).toHaveLength(1);
      for (let i = 0; i < 3; i++) expect(await check()).toMatchObject({ opened: [], updated: 1 });
      const open = await openOn(ruleId);
      expect(open).toHaveLength(1);
      expect(open[0]).toMatchObject({ drift_type: 'resource_modified', severity: 'critical', status: 'open', occurrences: 4 });
      expect(open[0]?.details).toMatchObject({ fields: ['dest_port'] });
      expect(bus.filter((e) => e.type === 'drift.detected' && e.payload.resource_key === ruleId)).toHaveLength(1);
    });

    it('reapply restores the rule through the pending-change path; the next check closes nothing new', async () => {
      const [event] = await openOn(ruleId);
      const result = await resolve((event as DriftEventBody).id, { resolution: 'reapply', force: true });
      expect(result.pending_change).toMatchObject({ status: 'applied' });
      expect(result.event).toMatchObject({ status: 'resolved', resolution: 'reapplied' });
      expect(await readRule()).toMatchObject({ dest_port: '443', description });
      expect(await check()).toMatchObject({ opened: [], updated: 0 });
      expect(bus.some((e) => e.type === 'drift.resolved' && e.payload.drift_event_id === event?.id)).toBe(true);
    });

    it('a reapply staged without force keeps the event remediating until the change is applied', async () => {
      await editRule({ description: `${description} renamed` });
      const opened = (await check()).opened;
      expect(opened).toHaveLength(1);
      const [event] = await openOn(ruleId);
      expect(event).toMatchObject({ severity: 'info' });
      const staged = await resolve(opened[0] as string, { resolution: 'reapply' });
      expect(staged.event).toMatchObject({ status: 'remediating' });
      expect(staged.pending_change).toMatchObject({ status: 'pending' });
      expect(await check()).toMatchObject({ opened: [], updated: 1 });
      const again = await post(`/api/v1/firewall/drift/events/${opened[0] as string}/resolve`, { resolution: 'reapply' });
      expect(again.statusCode).toBe(409);
      const pendingId = (await openOn(ruleId))[0] as DriftEventBody & { pending_change_id: string };
      const applied = await post(`/api/v1/firewall/pending/${pendingId.pending_change_id}/apply`);
      expect(applied.statusCode, applied.body).toBe(200);
      expect(await check()).toMatchObject({ opened: [], cleared: 1 });
      expect((await events({ status: 'resolved' })).find((e) => e.id === opened[0])).toMatchObject({ resolution: 'reapplied' });
    });

    it('accept makes the device state the baseline: the drift stops being reported', async () => {
      await editRule({ dest_port: '9443' });
      const [id] = (await check()).opened;
      expect((await resolve(id as string, { resolution: 'accept' })).event).toMatchObject({ resolution: 'accepted' });
      expect(await check()).toMatchObject({ opened: [], updated: 0 });
      expect(await check()).toMatchObject({ opened: [], updated: 0 });
      expect(await openOn(ruleId)).toEqual([]);
    });

    it('a rule added by hand is resource_added; ignored, the same state is not reported again', async () => {
      const added = await onDevice(async (w) =>
        w.write({
          kind: 'firewall_rule',
          op: 'create',
          target: null,
          body: {
            action: 'allow',
            interface: opts.ruleInterface,
            ip_version: 'inet',
            protocol: 'tcp',
            source_address: 'any',
            source_port: null,
            dest_address: '192.0.2.99',
            dest_port: '22',
            description: `by hand ${run}`,
            is_enabled: true,
            log_enabled: false,
          },
        }),
      );
      const target = added.target as string;
      const result = await check();
      expect(result.opened).toHaveLength(1);
      const [event] = await openOn(target);
      expect(event).toMatchObject({ drift_type: 'resource_added', severity: 'critical' });
      await resolve((event as DriftEventBody).id, { resolution: 'ignore' });
      expect(await check()).toMatchObject({ opened: [], ignored: 1 });
      // Changed again, it is news again; reapply removes it from the device.
      await onDevice(async (w) => {
        const before = (await w.read('firewall_rule', target)) as LiveObject;
        await w.write({ kind: 'firewall_rule', op: 'update', target, body: { ...before, dest_port: '23' } as never });
      });
      const [reopened] = (await check()).opened;
      expect(reopened).toBeDefined();
      const removed = await resolve(reopened as string, { resolution: 'reapply', force: true, confirmed: true });
      expect(removed.pending_change).toMatchObject({ status: 'applied' });
      expect(await onDevice((w) => w.read('firewall_rule', target))).toBeNull();
      expect(await check()).toMatchObject({ opened: [] });
    });

    const knocAlias = `pc_drift_${run}`.slice(0, vendor.listNaming.maxLength);
    let knocId: string;
    const grant = async (ip: string) => {
      const res = await post('/api/v1/access/grants', { knoc_id: knocId, ip, reason: 'drift scenario' });
      expect(res.statusCode, res.body).toBe(201);
      await until(async () => (await device.liveEntries(knocAlias)).some((e) => e.address.startsWith(ip)), `${ip} live`);
      await h.app.access.settled();
      return res.json<{ id: string }>().id;
    };
    const revoke = async (id: string, ip: string) => {
      const res = await h.call({ method: 'DELETE', url: `/api/v1/access/grants/${id}`, token: h.ownerToken });
      expect(res.statusCode, res.body).toBe(204);
      await until(async () => !(await device.liveEntries(knocAlias)).some((e) => e.address.startsWith(ip)), `${ip} gone`);
      await h.app.access.settled();
    };

    it('just-in-time churn on a knoc alias (grants put on and taken off by the reconciler) is not drift', async () => {
      const res = await post('/api/v1/access/knocs', {
        name: `drift-knoc-${run}`,
        gateway_id: gatewayId,
        alias_name: knocAlias,
        create_alias_if_missing: vendor.capabilities['alias.create'],
      });
      expect(res.statusCode, res.body).toBe(201);
      knocId = res.json<{ id: string }>().id;
      const a = await grant('198.51.100.21');
      expect(await check()).toMatchObject({ opened: [] });
      const b = await grant('198.51.100.22');
      await revoke(a, '198.51.100.21');
      expect(await check()).toMatchObject({ opened: [] });
      await revoke(b, '198.51.100.22');
      expect(await check()).toMatchObject({ opened: [] });
      expect(await openOn(knocAlias)).toEqual([]);
    });

    it('an entry added by hand to the knoc alias is drift (critical); reapply takes it off and keeps the grants', async () => {
      await grant('198.51.100.23');
      await setAliasEntries(knocAlias, (entries) => [...entries, { address: '192.0.2.77', detail: 'added by hand' }]);
      const [id] = (await check()).opened;
      const [event] = await openOn(knocAlias);
      expect(event).toMatchObject({ id, drift_type: 'resource_modified', severity: 'critical' });
      expect(event?.details).toMatchObject({ added: [{ address: '192.0.2.77', detail: 'added by hand' }] });
      await resolve(id as string, { resolution: 'reapply', force: true });
      const entries = await aliasEntries(knocAlias);
      expect(entries.map((e) => e.address)).not.toContain('192.0.2.77');
      expect(entries.some((e) => e.address.startsWith('198.51.100.23') && e.detail.startsWith('portcullis:'))).toBe(true);
      expect(await check()).toMatchObject({ opened: [] });
    });

    it('our tag removed from a grant entry is tag_removed; reapply puts the tag back', async () => {
      await setAliasEntries(knocAlias, (entries) =>
        entries.map((e) => (e.address.startsWith('198.51.100.23') ? { address: e.address, detail: 'mine now' } : e)),
      );
      const [id] = (await check()).opened;
      const [event] = await openOn(knocAlias);
      expect(event).toMatchObject({ id, drift_type: 'tag_removed', severity: 'critical' });
      expect(await check()).toMatchObject({ opened: [], updated: 1 });
      await resolve(id as string, { resolution: 'reapply', force: true });
      const entries = await aliasEntries(knocAlias);
      expect(entries.find((e) => e.address.startsWith('198.51.100.23'))?.detail).toMatch(/^portcullis:/);
      expect(await check()).toMatchObject({ opened: [] });
    });

    it('a silencing suppression hides matching drift until it is deactivated', async () => {
      const created = await post('/api/v1/firewall/drift/suppressions', {
        site_id: siteId,
        device_id: gatewayId,
        resource_type: 'firewall_rule',
        pattern: `${description}*`,
        drift_type: 'resource_modified',
        reason: 'the web rule is tuned on the box',
      });
      expect(created.statusCode, created.body).toBe(201);
      await editRule({ dest_port: '10443' });
      expect(await check()).toMatchObject({ opened: [], suppressed: 1 });
      const list = await get(`/api/v1/firewall/drift/suppressions?site_id=${siteId}`);
      expect(list.json<{ items: unknown[] }>().items).toHaveLength(1);
      const off = await h.call({ method: 'DELETE', url: `/api/v1/firewall/drift/suppressions/${created.json<{ id: string }>().id}`, token: h.ownerToken });
      expect(off.statusCode, off.body).toBe(200);
      expect(off.json()).toMatchObject({ is_active: false });
      expect((await check()).opened).toHaveLength(1);
    });

    it('a forbidding suppression reports suppression_violated when a matching alias appears', async () => {
      const forbidden = `pc_forbid_${run}`.slice(0, vendor.listNaming.maxLength);
      const created = await post('/api/v1/firewall/drift/suppressions', {
        site_id: siteId,
        resource_type: 'alias',
        pattern: 'pc_forbid_*',
        mode: 'forbid',
        reason: 'no ad-hoc forbid lists',
      });
      expect(created.statusCode, created.body).toBe(201);
      await onDevice((w) =>
        w.write({ kind: 'alias', op: 'create', target: null, body: { name: forbidden, type: 'host', description: '', entries: [{ address: '192.0.2.5', detail: '' }] } }),
      );
      await check();
      const open = await openOn(forbidden);
      expect(open.map((e) => e.drift_type).sort()).toEqual(['resource_added', 'suppression_violated']);
      const violated = open.find((e) => e.drift_type === 'suppression_violated') as DriftEventBody;
      expect(violated.severity).toBe('warning');
      const accept = await post(`/api/v1/firewall/drift/events/${violated.id}/resolve`, { resolution: 'accept' });
      expect(accept.statusCode).toBe(409);
      await resolve(violated.id, { resolution: 'reapply', force: true, confirmed: true });
      await check();
      expect(await openOn(forbidden)).toEqual([]);
    });

    it('the drift-check job runs every drift_check_interval_minutes; with auto_remediate_drift it reapplies what it found', async () => {
      expect(driftCheck.intervalSeconds({ ...DEFAULT_SETTINGS, drift_check_interval_minutes: 7 })).toBe(420);
      const jobs: JobContext = {
        store: h.store,
        keyring: h.keyring,
        bus: h.app.events,
        adapters: h.app.access.adapters,
        writes: { readOnly: false, maxOpen: 100, node: 'drift-test' },
      };
      const key = { orgId: DEFAULT_ORG_ID, gatewayId };
      const stray = `pc_stray_${run}`.slice(0, vendor.listNaming.maxLength);
      await onDevice((w) =>
        w.write({ kind: 'alias', op: 'create', target: null, body: { name: stray, type: 'host', description: '', entries: [{ address: '192.0.2.6', detail: '' }] } }),
      );
      await driftCheck.run(key, jobs);
      const [found] = await openOn(stray);
      expect(found).toMatchObject({ drift_type: 'resource_added', status: 'open' });
      const on = await h.call({ method: 'PATCH', url: '/api/v1/firewall/settings', token: h.ownerToken, payload: { auto_remediate_drift: true } });
      expect(on.statusCode, on.body).toBe(200);
      await onDevice((w) =>
        w.write({ kind: 'alias', op: 'update', target: stray, body: { name: stray, type: 'host', description: '', entries: [{ address: '192.0.2.7', detail: '' }] } }),
      );
      // The same open event is updated, not remediated: only events a check opens are reapplied automatically.
      await driftCheck.run(key, jobs);
      expect(await openOn(stray)).toMatchObject([{ id: found?.id, status: 'open' }]);
      await resolve((found as DriftEventBody).id, { resolution: 'accept' });
      await onDevice((w) => w.write({ kind: 'alias', op: 'delete', target: stray, body: {} }));
      await driftCheck.run(key, jobs);
      const [missing] = await openOn(stray);
      expect(missing).toMatchObject({ drift_type: 'resource_missing', status: 'remediating' });
      expect((await aliasEntries(stray)).map((e) => e.address)).toEqual(['192.0.2.7']);
      await driftCheck.run(key, jobs);
      expect(await openOn(stray)).toEqual([]);
      expect((await events({ status: 'resolved' })).find((e) => e.id === missing?.id)).toMatchObject({ resolution: 'reapplied' });
      const offAgain = await h.call({ method: 'PATCH', url: '/api/v1/firewall/settings', token: h.ownerToken, payload: { auto_remediate_drift: false } });
      expect(offAgain.statusCode).toBe(200);
    });

    it('the summary counts by severity and pending/resolved; without gateway.drift the routes answer 403', async () => {
      const summary = (await get(`/api/v1/firewall/drift/summary?site_id=${siteId}`)).json<Record<string, number>>();
      expect(summary.total).toBe((await events()).length);
      expect(summary.total).toBe((summary.critical ?? 0) + (summary.warning ?? 0) + (summary.info ?? 0));
      expect(summary.pending).toBe((await events()).filter((e) => e.status !== 'resolved').length);
      const viewer = await h.makeUser(`drift_viewer_${harness.vendor}`, 'viewer');
      expect((await get('/api/v1/firewall/drift/events', viewer.token)).statusCode).toBe(403);
      expect((await post(`/api/v1/firewall/drift/check/${siteId}`, {}, viewer.token)).statusCode).toBe(403);
    });
  });
}
