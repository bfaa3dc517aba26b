/**
 * @module Bridge VLANs through the HTTP API on an OpenWrt gateway (the OpenWrt emulator signed in with the documented
 * least-privilege ACL, the real server on PGlite): a forced create is staged in `network`, applied with the
 * router's rollback and confirmed, read back and verified; the live read lists it with netifd's vlan_filtering; a
 * revert removes it with a second apply.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type OpenWrtEmulator, startOpenWrtEmulator } from '../../src/emulators/openwrt/index.ts';
import { parseHostAllowList } from '../../src/net/ssrf.ts';
import { testSettings } from '../access-api/harness.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { documentedAcl } from './adapter-harness.ts';

let emu: OpenWrtEmulator;
let h: TestApp;
let gatewayId: string;

const call = (method: 'GET' | 'POST' | 'DELETE', url: string, payload?: object) =>
  h.call({ method, url, token: h.ownerToken, ...(payload ? { payload } : {}) });
const gw = (path: string) => `/api/v1/firewall/gateways/${gatewayId}/${path}`;
const vlanSections = () => (emu.state().config.network?.sections ?? []).filter((s) => s.type === 'bridge-vlan');

beforeAll(async () => {
  emu = await startOpenWrtEmulator({ reloadDelayMs: 20, aclGroups: documentedAcl() });
  const login = emu.users.find((u) => u.username === 'portcullis');
  if (login === undefined) throw new Error('the OpenWrt emulator has no portcullis login');
  h = await startTestApp('pglite', { readOnly: false }, { accessSettings: testSettings({ allowHosts: parseHostAllowList('127.0.0.1') }) });
  const site = (await call('POST', '/api/v1/sites', { name: 'vlan-site' })).json().id as string;
  const res = await call('POST', '/api/v1/firewall/gateways', {
    name: 'vlan-owrt',
    site_id: site,
    vendor: 'openwrt',
    url: emu.url,
    username: login.username,
    password: login.password,
    fingerprint_sha256: emu.fingerprint,
  });
  expect(res.statusCode, res.body).toBe(201);
  gatewayId = res.json().id;
}, 120_000);
afterAll(async () => {
  await h?.close();
  await emu?.close();
});

describe('bridge VLANs on an OpenWrt gateway through the API', () => {
  it('a forced create is applied with rollback + confirm and verified; listed live; a revert removes it', async () => {
    const created = await call('POST', `${gw('bridge-vlans')}?force=true`, {
      bridge: 'br-lan',
      vlan_id: 40,
      tagged: ['lan1'],
      untagged: ['lan3'],
    });
    expect(created.statusCode, created.body).toBe(200);
    const change = created.json();
    expect(change.error, JSON.stringify(change.error)).toBeNull();
    expect(change).toMatchObject({ status: 'applied', verification: { checked: true, differences: [] } });
    expect(emu.state().pendingApply).toBeNull();
    expect(vlanSections().map((s) => s.options)).toEqual([{ device: 'br-lan', vlan: '40', ports: ['lan1:t', 'lan3:u*'] }]);
    const live = await call('GET', gw('bridge-vlans'));
    expect(live.json().items).toEqual([
      expect.objectContaining({ bridge: 'br-lan', vlan_id: 40, tagged: ['lan1'], untagged: ['lan3'], vlan_filtering: true }),
    ]);
    const back = await call('POST', `/api/v1/firewall/pending/${change.id}/revert`);
    expect(back.statusCode, back.body).toBe(201);
    const applied = await call('POST', '/api/v1/firewall/pending/apply?confirmed=true', { ids: [back.json().id] });
    expect(applied.statusCode, applied.body).toBe(200);
    expect(applied.json().items[0]).toMatchObject({ status: 'applied' });
    expect(vlanSections()).toEqual([]);
  }, 60_000);

  it('a description is refused by the adapter (no option for it): failed, nothing staged or applied', async () => {
    const res = await call('POST', `${gw('bridge-vlans')}?force=true`, { bridge: 'br-lan', vlan_id: 41, tagged: ['lan1'], description: 'iot' });
    expect(res.json().status, res.body).toBe('failed');
    expect(JSON.stringify(res.json().error)).toContain('description');
    expect(vlanSections()).toEqual([]);
  }, 60_000);
});
