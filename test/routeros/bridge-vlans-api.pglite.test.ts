/**
 * @module Bridge VLANs through the HTTP API on a RouterOS gateway (the RouterOS emulator, the real server on
 * PGlite): `POST …/bridge-vlans?force=true` goes through the pending-change engine (before-image, write, read back,
 * verified), the live read lists it, a revert removes it again, and bad input is a 400 naming the field with nothing
 * stored or sent.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RouterOsEmulator, startRouterOsEmulator } from '../../src/emulators/routeros/index.ts';
import { parseHostAllowList } from '../../src/net/ssrf.ts';
import { testSettings } from '../access-api/harness.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';

let emu: RouterOsEmulator;
let h: TestApp;
let gatewayId: string;

const call = (method: 'GET' | 'POST' | 'DELETE', url: string, payload?: object) =>
  h.call({ method, url, token: h.ownerToken, ...(payload ? { payload } : {}) });
const gw = (path: string) => `/api/v1/firewall/gateways/${gatewayId}/${path}`;
const vlanRows = () => emu.state().tables['interface/bridge/vlan']?.rows ?? [];

beforeAll(async () => {
  emu = await startRouterOsEmulator({ dynamicFilterRule: false });
  h = await startTestApp('pglite', { readOnly: false }, { accessSettings: testSettings({ allowHosts: parseHostAllowList('127.0.0.1') }) });
  const site = (await call('POST', '/api/v1/sites', { name: 'vlan-site' })).json().id as string;
  const res = await call('POST', '/api/v1/firewall/gateways', {
    name: 'vlan-ros',
    site_id: site,
    vendor: 'routeros',
    url: emu.url,
    username: emu.credentials.username,
    password: emu.credentials.password,
    fingerprint_sha256: emu.fingerprint,
  });
  expect(res.statusCode, res.body).toBe(201);
  gatewayId = res.json().id;
}, 120_000);
afterAll(async () => {
  await h?.close();
  await emu?.close();
});

describe('bridge VLANs on a RouterOS gateway through the API', () => {
  it('a forced create is applied and verified; the live read lists it; a revert takes it off the router', async () => {
    const created = await call('POST', `${gw('bridge-vlans')}?force=true`, {
      bridge: 'bridge',
      vlan_id: 30,
      tagged: ['ether2'],
      untagged: ['ether3'],
      description: 'cameras',
    });
    expect(created.statusCode, created.body).toBe(200);
    const change = created.json();
    expect(change).toMatchObject({ status: 'applied', verification: { checked: true, differences: [] } });
    expect(vlanRows().map((r) => r.values)).toEqual([
      expect.objectContaining({ bridge: 'bridge', 'vlan-ids': '30', tagged: 'ether2', untagged: 'ether3', comment: 'cameras' }),
    ]);
    const live = await call('GET', gw('bridge-vlans'));
    expect(live.statusCode).toBe(200);
    expect(live.json().items).toEqual([
      expect.objectContaining({ bridge: 'bridge', vlan_id: 30, tagged: ['ether2'], untagged: ['ether3'], vlan_filtering: false }),
    ]);
    const back = await call('POST', `/api/v1/firewall/pending/${change.id}/revert`);
    expect(back.statusCode, back.body).toBe(201);
    const applied = await call('POST', '/api/v1/firewall/pending/apply?confirmed=true', { ids: [back.json().id] });
    expect(applied.statusCode, applied.body).toBe(200);
    expect(vlanRows()).toEqual([]);
  });

  it.each([
    [{ bridge: 'bridge', vlan_id: 4095, tagged: ['ether2'] }, 'vlan_id'],
    [{ bridge: 'bridge', vlan_id: 31, tagged: ['ether2'], untagged: ['ether2'] }, 'untagged'],
    [{ bridge: 'bridge', vlan_id: 31 }, 'tagged'],
  ])('refuses %j with 400 naming %s, sending nothing', async (body, field) => {
    emu.clearRequests();
    const res = await call('POST', `${gw('bridge-vlans')}?force=true`, body);
    expect(res.statusCode).toBe(400);
    expect(res.json().error.field).toBe(field);
    expect(emu.requests().filter((r) => r.method !== 'GET')).toEqual([]);
  });

  it('a port that is not on the bridge is refused by the adapter before anything is written (failed, field named)', async () => {
    const res = await call('POST', `${gw('bridge-vlans')}?force=true`, { bridge: 'bridge', vlan_id: 32, tagged: ['ether9'] });
    const change = res.json();
    expect(change.status, res.body).toBe('failed');
    expect(JSON.stringify(change.error)).toContain('ether9');
    expect(vlanRows()).toEqual([]);
  });
});
