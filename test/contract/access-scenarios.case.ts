/**
 * @module Access on any vendor, as one reusable suite (issue 11 item 4, docs/adr/0212-access-scenarios.md): the real
 * app on a real store (PGlite) drives a vendor's emulator (or real device) through its registered descriptor, and
 * checks what a person sees — sign-in → live on the device, sign-out → gone, expiry, a shared address staying until
 * its last grant ends, manual entries kept, a storm of grants coalesced into far fewer device writes, an outage then
 * convergence, the vendor's own codes on faults, and on vendors with `native_expiry` that the device entry carries
 * the grant's expiry and that a device reboot followed by the next full run restores the entries.
 *
 * A vendor plugs in with an `AccessScenarioHarness` (a ~30-line file, see test/pfsense/pfsense-access-scenarios.test.ts):
 * its descriptor id, how to start its emulator, what is live on the device, and fault hooks. Manual entries are put
 * on the device through the vendor's own adapter (built from its descriptor), so the harness needs no hook for them.
 * A scenario the device cannot model is skipped with its reason (a capability flag or a missing harness hook).
 */
import { lookup } from 'node:dns';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AdapterTuning, Credentials, VendorDescriptor } from '../../src/adapters/registry.ts';
import { findVendor } from '../../src/adapters/vendors.ts';
import { parseHostAllowList } from '../../src/net/ssrf.ts';
import { testSettings } from '../access-api/harness.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';

/** One entry live on the device (applied / runtime, not merely configured). */
export interface LiveEntry {
  address: string;
  /** The device's expiry of the entry (epoch ms), on vendors with native expiry. */
  expiresAt?: number;
}

/** A fault the vendor's device can be made to show, and the vendor code Portcullis must report for it. */
export interface ScenarioFault {
  name: string;
  code: string;
  inject(): void | Promise<void>;
}

/** A running device the suite talks to. */
export interface ScenarioDevice {
  url: string;
  /** Credentials in the vendor's credential shape. */
  credentials: Credentials;
  /** SHA-256 fingerprint of its TLS certificate (the gateway pins it); null for a plain-HTTP device. */
  fingerprint: string | null;
  /** What is live on the device in address list `list` (empty when the list is missing). */
  liveEntries(list: string): LiveEntry[] | Promise<LiveEntry[]>;
  /** How many writes of address-list content the device has received so far (its request log). */
  writes(): number | Promise<number>;
  /** How many apply / commit calls the device has received (0 on vendors whose writes are live at once). */
  applies(): number | Promise<number>;
  /** Makes the device unreachable (`true`) or answer again (`false`). */
  outage(on: boolean): void | Promise<void>;
  /** The code of an outage (e.g. the vendor's connect or timeout code). */
  outageCode: string;
  /** Faults with the vendor code each must produce; each lasts until `clearFaults`. */
  faults: ScenarioFault[];
  clearFaults(): void | Promise<void>;
  /**
   * Test-only adapter tuning the device needs (merged into the access runtime's and given to the adapter built for
   * manual entries), e.g. nftables' `commandPrefix` (`ip netns exec <ns>`) to reach a namespace; absent: none.
   */
  tuning?: AdapterTuning;
  /** A device reboot (runtime state lost as the real device loses it); absent when not modelled. */
  reboot?(): void | Promise<void>;
  /**
   * Devices that serve one request at a time (RouterOS, docs/reference/routeros-api.md §7): the most requests the
   * device ever had open at once since `resetMaxInFlight`. With both hooks the storm must never open two.
   */
  maxInFlight?(): number | Promise<number>;
  resetMaxInFlight?(): void | Promise<void>;
  close(): Promise<void>;
}

export interface AccessScenarioHarness {
  /** The registered vendor id (src/adapters/vendors.ts). */
  vendor: string;
  start(): Promise<ScenarioDevice>;
  /** Host allowed through the SSRF guard for the device (default 127.0.0.1). */
  host?: string;
}

export interface AccessScenarioOptions {
  /** Grants of the storm (default 60). */
  stormSize?: number;
  /** Per-scenario wait limit (default 20 s). */
  waitMs?: number;
  /**
   * Lifetime of the grant of the expiry scenario (default 1 s). A vendor without a test clock whose writes take a
   * while (nftables on the real kernel) gives a few seconds, so the grant is live before it runs out.
   */
  expiryTtlSeconds?: number;
}

/** Polls `check` until it returns true (a wait, not a timing assertion). */
async function until(check: () => boolean | Promise<boolean>, what: string, limitMs: number): Promise<void> {
  const end = Date.now() + limitMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

export function runAccessScenarios(harness: AccessScenarioHarness, options: AccessScenarioOptions = {}): void {
  const waitMs = options.waitMs ?? 20_000;
  const stormSize = options.stormSize ?? 60;
  const expiryTtlSeconds = options.expiryTtlSeconds ?? 1;
  const vendor = findVendor(harness.vendor) as VendorDescriptor;
  let device: ScenarioDevice;
  let h: TestApp;
  let gatewayId: string;
  let siteId: string;
  let lists = 0;

  const post = (url: string, payload: object) => h.call({ method: 'POST', url, payload, token: h.ownerToken });
  const get = (url: string) => h.call({ method: 'GET', url, token: h.ownerToken });
  const live = async (list: string) => (await device.liveEntries(list)).map((e) => e.address).sort();
  const status = async (knocId: string) => (await get(`/api/v1/access/knocs/${knocId}/status`)).json();
  /** A fresh list name every vendor accepts (lower case, digits, underscore; short). */
  const nextList = () => `pc_scn_${++lists}`;

  async function knoc(extra: Record<string, unknown> = {}) {
    const res = await post('/api/v1/access/knocs', {
      name: `scn-${lists}-${Math.random().toString(36).slice(2, 8)}`,
      gateway_id: gatewayId,
      alias_name: nextList(),
      create_alias_if_missing: vendor.capabilities['alias.create'],
      ...extra,
    });
    expect(res.statusCode, res.body).toBe(201);
    return res.json<{ id: string; alias_name: string }>();
  }
  async function grant(knocId: string, ip: string, extra: Record<string, unknown> = {}) {
    const res = await post('/api/v1/access/grants', { knoc_id: knocId, ip, reason: 'access scenario', ...extra });
    expect(res.statusCode, res.body).toBe(201);
    return res.json<{ id: string; expires_at: string }>();
  }
  const revoke = (id: string) => h.call({ method: 'DELETE', url: `/api/v1/access/grants/${id}`, token: h.ownerToken });
  /** A full run of every list of the gateway (what the periodic reconcile does). */
  const fullRun = async () => {
    await h.app.access.gatewayChanged(gatewayId);
    await h.app.access.settled();
  };

  beforeAll(async () => {
    if (vendor === undefined) throw new Error(`vendor ${harness.vendor} is not registered`);
    device = await harness.start();
    const settings = testSettings({ allowHosts: parseHostAllowList(harness.host ?? '127.0.0.1') });
    if (device.tuning) settings.adapter = { ...settings.adapter, ...device.tuning };
    h = await startTestApp('pglite', {}, { accessSettings: settings });
    siteId = (await post('/api/v1/sites', { name: `scn-${harness.vendor}` })).json().id;
    const gw = await post('/api/v1/firewall/gateways', {
      name: `scn-${harness.vendor}`,
      site_id: siteId,
      vendor: vendor.id,
      url: device.url,
      ...device.credentials,
      ...(device.fingerprint ? { fingerprint_sha256: device.fingerprint } : {}),
    });
    expect(gw.statusCode, gw.body).toBe(201);
    gatewayId = gw.json().id;
  }, 120_000);

  afterAll(async () => {
    await h?.close();
    await device?.close();
  });

  describe(`access scenarios on ${harness.vendor}`, () => {
    it('sign-in puts the address live on the device; sign-out takes it off', async () => {
      const user = await h.makeUser(`scn_${harness.vendor}_alice`);
      const k = await knoc({ users: [user.id] });
      const res = await h.call({
        method: 'POST',
        url: '/api/v1/portal/login',
        payload: { username: user.username, password: user.password },
        remoteAddress: '198.51.100.11',
      });
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json().granted).toHaveLength(1);
      await until(async () => (await live(k.alias_name)).includes('198.51.100.11'), 'the address live', waitMs);
      await h.app.access.settled();
      const grantId = res.json().granted[0].grant_id as string;
      await until(async () => (await get(`/api/v1/access/grants/${grantId}`)).json().sync_state === 'live', 'sync_state live', waitMs);
      const cookie = `pc_session=${res.cookies.find((c) => c.name === 'pc_session')?.value}`;
      const out = await h.call({
        method: 'POST',
        url: '/api/v1/portal/logout',
        headers: { cookie, 'x-csrf-token': res.json().csrf_token },
        remoteAddress: '198.51.100.11',
      });
      expect(out.json()).toEqual({ revoked: 1 });
      await until(async () => !(await live(k.alias_name)).includes('198.51.100.11'), 'the address gone', waitMs);
      await until(async () => (await get(`/api/v1/access/grants/${grantId}`)).json().sync_state === 'removed', 'sync_state removed', waitMs);
    });

    it('an expired grant leaves the device', async () => {
      const k = await knoc();
      const g = await grant(k.id, '198.51.100.12', { ttl_seconds: expiryTtlSeconds });
      await until(async () => (await live(k.alias_name)).includes('198.51.100.12'), 'the grant live', waitMs);
      await until(async () => !(await live(k.alias_name)).includes('198.51.100.12'), 'the expired address gone', waitMs);
      await h.app.access.settled();
      expect((await get(`/api/v1/access/grants/${g.id}`)).json()).toMatchObject({ status: 'ended', end_reason: 'expired' });
    });

    it('a shared address stays until the last grant for it ends', async () => {
      const k = await knoc();
      const a = await grant(k.id, '198.51.100.13');
      const b = await grant(k.id, '198.51.100.13');
      await until(async () => (await live(k.alias_name)).includes('198.51.100.13'), 'the shared address live', waitMs);
      expect((await revoke(a.id)).statusCode).toBe(204);
      await h.app.access.settled();
      expect(await live(k.alias_name)).toEqual(['198.51.100.13']);
      expect((await revoke(b.id)).statusCode).toBe(204);
      await until(async () => (await live(k.alias_name)).length === 0, 'the address gone after the last grant', waitMs);
    });

    it('an entry put on the list by hand is kept through grants and revokes', async () => {
      const k = await knoc();
      const first = await grant(k.id, '198.51.100.14');
      await until(async () => (await live(k.alias_name)).includes('198.51.100.14'), 'the first grant live', waitMs);
      await h.app.access.settled();
      // An admin adds an entry of their own with the vendor's own adapter (its detail is not ours).
      const adapter = vendor.createAdapter({
        url: device.url,
        credentials: device.credentials,
        tls: device.fingerprint ? { mode: 'fingerprint', sha256: device.fingerprint } : { mode: 'insecure' },
        lookup,
        ...(device.tuning ? { tuning: device.tuning } : {}),
      });
      try {
        const current = await adapter.getAlias(k.alias_name);
        await adapter.setAliasEntries(k.alias_name, [...(current?.entries ?? []), { address: '192.0.2.44', detail: 'added by hand' }]);
        if (vendor.capabilities.apply) await adapter.apply();
      } finally {
        await adapter.close();
      }
      await until(async () => (await live(k.alias_name)).includes('192.0.2.44'), 'the manual entry live', waitMs);
      const second = await grant(k.id, '198.51.100.15');
      await until(async () => (await live(k.alias_name)).includes('198.51.100.15'), 'the second grant live', waitMs);
      await revoke(first.id);
      await revoke(second.id);
      await until(async () => !(await live(k.alias_name)).some((a) => a.startsWith('198.51.100.')), 'our entries gone', waitMs);
      await fullRun();
      expect(await live(k.alias_name)).toEqual(['192.0.2.44']);
    });

    it(`a storm of ${stormSize} grants is coalesced into far fewer device writes, all live`, async () => {
      const k = await knoc();
      await h.app.access.settled();
      const writesBefore = await device.writes();
      const appliesBefore = await device.applies();
      const serial = device.maxInFlight !== undefined && device.resetMaxInFlight !== undefined;
      if (serial) await device.resetMaxInFlight?.();
      const ips = Array.from({ length: stormSize }, (_, i) => `10.77.${Math.floor(i / 250)}.${(i % 250) + 1}`);
      await Promise.all(ips.map((ip) => grant(k.id, ip)));
      await until(async () => (await live(k.alias_name)).length === stormSize, 'every storm address live', waitMs * 2);
      await h.app.access.settled();
      const writes = (await device.writes()) - writesBefore;
      const applies = (await device.applies()) - appliesBefore;
      // Coalescing: a batched vendor writes a handful of times; a per-entry vendor writes once per address.
      const bound = vendor.capabilities.apply ? stormSize / 4 : stormSize * 1.25;
      expect(writes, `device writes for ${stormSize} grants`).toBeLessThanOrEqual(bound);
      if (vendor.capabilities.apply) expect(applies).toBeLessThanOrEqual(stormSize / 4);
      else expect(applies).toBe(0);
      if (serial) expect(await device.maxInFlight?.(), 'requests open at the device at once during the storm').toBe(1);
    });

    it('an outage leaves grants pending with the vendor code; the device converges when it answers again', async () => {
      const k = await knoc();
      await h.app.access.settled();
      await device.outage(true);
      let g: { id: string };
      try {
        g = await grant(k.id, '198.51.100.16');
        await until(async () => (await status(k.id)).error?.code === device.outageCode, `error ${device.outageCode}`, waitMs);
        expect((await get(`/api/v1/access/grants/${g.id}`)).json().sync_state).toBe('pending');
        for (const value of Object.values(device.credentials)) {
          if (value && value.length >= 6) expect(JSON.stringify(await status(k.id))).not.toContain(value);
        }
      } finally {
        await device.outage(false);
      }
      await until(async () => (await live(k.alias_name)).includes('198.51.100.16'), 'convergence after the outage', waitMs);
      await until(async () => (await status(k.id)).error === null, 'the error to clear', waitMs);
      await until(async () => (await get(`/api/v1/access/grants/${g.id}`)).json().sync_state === 'live', 'the grant live', waitMs);
    });

    it('each device fault shows the vendor code on the knoc, then converges', async () => {
      expect(device.faults.length, 'a harness lists at least one fault').toBeGreaterThan(0);
      for (const fault of device.faults) {
        const k = await knoc();
        await h.app.access.settled();
        await fault.inject();
        try {
          await grant(k.id, '198.51.100.17');
          await until(async () => (await status(k.id)).error?.code === fault.code, `${fault.name} → ${fault.code}`, waitMs);
        } finally {
          await device.clearFaults();
        }
        await until(async () => (await live(k.alias_name)).includes('198.51.100.17'), `convergence after ${fault.name}`, waitMs);
      }
    });

    it.skipIf(!vendor?.capabilities.native_expiry)(
      'native expiry: the device entry carries the grant expiry; after a reboot the next full run restores it',
      async () => {
        const k = await knoc();
        const g = await grant(k.id, '198.51.100.18', { ttl_seconds: 600 });
        await until(async () => (await live(k.alias_name)).includes('198.51.100.18'), 'the grant live', waitMs);
        const entry = (await device.liveEntries(k.alias_name)).find((e) => e.address === '198.51.100.18');
        expect(entry?.expiresAt, 'the device entry has an expiry').toBeTypeOf('number');
        expect(Math.abs((entry?.expiresAt ?? 0) - Date.parse(g.expires_at))).toBeLessThanOrEqual(5_000);
        if (device.reboot === undefined) return; // the harness models no reboot (stated in its file)
        await device.reboot();
        await fullRun();
        await until(async () => (await live(k.alias_name)).includes('198.51.100.18'), 'the entry restored after reboot', waitMs);
        const restored = (await device.liveEntries(k.alias_name)).find((e) => e.address === '198.51.100.18');
        expect(Math.abs((restored?.expiresAt ?? 0) - Date.parse(g.expires_at))).toBeLessThanOrEqual(5_000);
      },
    );
  });
}
