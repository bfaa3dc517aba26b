/**
 * @module OpenWrt bridge VLANs (docs/reference/openwrt-api.md §9) against the emulator: `bridge-vlan` sections of
 * `network` staged in the session, made live by the same `uci.apply` with rollback as the firewall writes; the
 * live view's `vlan_filtering` as netifd decides it; the checks netifd does not make (it refuses nothing) made
 * before anything is staged; read sections with other port flags written back unchanged; a login whose ACL has
 * the firewall config only.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openwrtLiveView, openwrtLiveWriter } from '../../src/adapters/openwrt/index.ts';
import { OpenWrtError } from '../../src/adapters/openwrt/errors.ts';
import type { LiveBridgeVlanBody } from '../../src/adapters/live-write.ts';
import { defaultConfig } from '../../src/emulators/openwrt/defaults.ts';
import { adapterFor, documentedAcl, pair } from './adapter-harness.ts';

let h: Awaited<ReturnType<typeof pair>>;

const body = (over: Partial<LiveBridgeVlanBody> = {}): LiveBridgeVlanBody => ({
  bridge: 'br-lan',
  vlan_id: 10,
  tagged: ['lan1'],
  untagged: ['lan2'],
  description: '',
  ...over,
});

/** The applied (committed) `network` sections of the emulated router. */
const applied = (emu: typeof h.emu) => emu.state().config.network?.sections ?? [];

describe('OpenWrt bridge_vlan on the default DSA bridge', () => {
  beforeAll(async () => {
    h = await pair();
  });
  afterAll(async () => {
    await h.close();
  });
  beforeEach(() => {
    h.emu.clearFaults();
  });

  it('stages in the session, applies with rollback + confirm, and netifd turns vlan_filtering on by itself', async () => {
    const view = openwrtLiveView(h.adapter);
    const w = openwrtLiveWriter(h.adapter);
    expect((await view.bridgeVlans?.())?.items).toEqual([]);
    const created = await w.write({ kind: 'bridge_vlan', op: 'create', target: null, body: body() });
    expect(created.pending).toEqual(['network']);
    expect(await w.pendingSubsystems()).toEqual(['network']);
    // Staged only: the applied config has no bridge-vlan yet.
    expect(applied(h.emu).some((s) => s.type === 'bridge-vlan')).toBe(false);
    h.emu.clearRequests();
    await w.apply();
    expect(h.emu.requests().flatMap((r) => r.calls.map((c) => `${c.object}.${c.method}`))).toEqual(
      expect.arrayContaining(['uci.apply', 'uci.confirm']),
    );
    expect(h.emu.state().pendingApply).toBeNull();
    const section = applied(h.emu).find((s) => s.name === created.target);
    expect(section).toMatchObject({ type: 'bridge-vlan', options: { device: 'br-lan', vlan: '10', ports: ['lan1:t', 'lan2:u*'] } });
    expect(await w.pendingSubsystems()).toEqual([]);
    expect((await view.bridgeVlans?.())?.items).toEqual([
      expect.objectContaining({ write_target: created.target, bridge: 'br-lan', vlan_id: 10, tagged: ['lan1'], untagged: ['lan2'], vlan_filtering: true }),
    ]);
    await w.write({ kind: 'bridge_vlan', op: 'delete', target: created.target as string, body: {} });
    await w.apply();
    expect((await view.bridgeVlans?.())?.items).toEqual([]);
  });

  it.each([
    [body({ bridge: 'eth1' }), 'bridge'],
    [body({ tagged: ['lan9'] }), 'tagged'],
    [body({ tagged: ['lan1'], untagged: ['lan1'] }), 'untagged'],
    [body({ vlan_id: 4095 }), 'vlan_id'],
    [body({ description: 'users' }), 'description'],
    [body({ tagged: ['lan1:t'] }), 'tagged'],
  ])('refuses before staging: %j names %s', async (b, field) => {
    const w = openwrtLiveWriter(h.adapter);
    const err = await w.write({ kind: 'bridge_vlan', op: 'create', target: null, body: b }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenWrtError);
    expect((err as OpenWrtError).field).toBe(field);
    expect(await w.pendingSubsystems()).toEqual([]);
  });

  it('refuses a second section for the same VLAN (netifd keeps one) and an untagged port of two VLANs (one PVID)', async () => {
    const w = openwrtLiveWriter(h.adapter);
    const first = await w.write({ kind: 'bridge_vlan', op: 'create', target: null, body: body({ vlan_id: 20 }) });
    const same = await w.write({ kind: 'bridge_vlan', op: 'create', target: null, body: body({ vlan_id: 20, untagged: ['lan3'] }) }).catch((e: unknown) => e);
    expect((same as OpenWrtError).field).toBe('vlan_id');
    const access = await w.write({ kind: 'bridge_vlan', op: 'create', target: null, body: body({ vlan_id: 21, tagged: [] }) }).catch((e: unknown) => e);
    expect((access as OpenWrtError).field).toBe('untagged');
    // Updating the section itself to the same id is no clash.
    await w.write({ kind: 'bridge_vlan', op: 'update', target: first.target as string, body: body({ vlan_id: 20, tagged: ['lan1', 'lan3'] }) });
    expect(await w.read('bridge_vlan', first.target as string)).toEqual(body({ vlan_id: 20, tagged: ['lan1', 'lan3'] }));
    await w.write({ kind: 'bridge_vlan', op: 'delete', target: first.target as string, body: {} });
    await w.apply();
  });

  it('a writer whose adapter has not logged in yet stages and applies (the first write’s login holds the delta)', async () => {
    const fresh = adapterFor(h.emu);
    try {
      const w = openwrtLiveWriter(fresh);
      const { target } = await w.write({ kind: 'bridge_vlan', op: 'create', target: null, body: body({ vlan_id: 25 }) });
      await w.apply();
      expect(applied(h.emu).some((s) => s.name === target)).toBe(true);
      await w.write({ kind: 'bridge_vlan', op: 'delete', target: target as string, body: {} });
      await w.apply();
    } finally {
      await fresh.close();
    }
  });

  it('the device’s rollback: when the confirm never arrives, the bridge VLAN is undone by the router', async () => {
    const w = openwrtLiveWriter(h.adapter);
    const { target } = await w.write({ kind: 'bridge_vlan', op: 'create', target: null, body: body({ vlan_id: 30 }) });
    h.emu.fault({ kind: 'drop', object: 'uci', method: 'confirm' });
    await expect(w.apply()).rejects.toBeInstanceOf(OpenWrtError);
    expect(applied(h.emu).some((s) => s.name === target)).toBe(true);
    h.emu.advance(31_000);
    expect(applied(h.emu).some((s) => s.name === target)).toBe(false);
  });
});

describe('OpenWrt bridge_vlan on a hand-written network config', () => {
  let x: Awaited<ReturnType<typeof pair>>;
  beforeAll(async () => {
    const network = defaultConfig().network;
    if (network === undefined) throw new Error('the default config has no network');
    network.sections.push(
      { name: 'cfg0a0f15', type: 'device', anonymous: true, options: { name: 'br-iot', type: 'bridge', ports: ['lan4', 'lan5'], vlan_filtering: '0' } },
      // As LuCI and config_generate write them: `u`, no PVID mark, a space-separated option.
      { name: 'lan_vlan', type: 'bridge-vlan', anonymous: false, options: { device: 'br-lan', vlan: '1', ports: ['lan1:u*', 'lan2:u', 'lan3'] } },
      { name: 'iot_vlan', type: 'bridge-vlan', anonymous: false, options: { device: 'br-iot', vlan: '5', ports: 'lan4:t lan5', local: '0' } },
      { name: 'bad_vlan', type: 'bridge-vlan', anonymous: false, options: { device: 'br-lan', vlan: '0', ports: ['lan1'] } },
    );
    x = await pair({ config: { network } });
  });
  afterAll(async () => {
    await x.close();
  });

  it('lists what netifd loads: flags parsed, an explicit vlan_filtering 0 kept, id 0 skipped', async () => {
    const items = (await openwrtLiveView(x.adapter).bridgeVlans?.())?.items ?? [];
    expect(items.map((v) => [v.write_target, v.bridge, v.vlan_id, v.tagged, v.untagged, v.vlan_filtering])).toEqual([
      ['lan_vlan', 'br-lan', 1, [], ['lan1', 'lan2', 'lan3'], true],
      ['iot_vlan', 'br-iot', 5, ['lan4'], ['lan5'], false],
    ]);
  });

  it('writes a read body back unchanged (port flags and other options kept)', async () => {
    const w = openwrtLiveWriter(x.adapter);
    for (const target of ['lan_vlan', 'iot_vlan']) {
      const before = await w.read('bridge_vlan', target);
      expect(before?.vendor_data).toBeDefined();
      await w.write({ kind: 'bridge_vlan', op: 'update', target, body: before as unknown as LiveBridgeVlanBody });
      expect(await w.read('bridge_vlan', target)).toEqual(before);
    }
    const changed = body({ vlan_id: 5, bridge: 'br-iot', tagged: ['lan4', 'lan5'], untagged: [] });
    await w.write({ kind: 'bridge_vlan', op: 'update', target: 'iot_vlan', body: changed });
    await w.apply();
    const section = applied(x.emu).find((s) => s.name === 'iot_vlan');
    expect(section?.options).toEqual({ device: 'br-iot', vlan: '5', ports: ['lan4:t', 'lan5:t'] });
  });
});

describe('OpenWrt bridge_vlan with a firewall-only ACL', () => {
  let y: Awaited<ReturnType<typeof pair>>;
  beforeAll(async () => {
    const acl = documentedAcl();
    const group = acl.portcullis;
    if (group === undefined) throw new Error('docs/openwrt.md has no portcullis group');
    group.read = { ...group.read, uci: ['firewall'] };
    group.write = { ...group.write, uci: ['firewall'] };
    y = await pair({ aclGroups: acl });
  });
  afterAll(async () => {
    await y.close();
  });

  it('firewall writes still stage and apply; a bridge VLAN write names the grant it lacks', async () => {
    const w = openwrtLiveWriter(y.adapter);
    const err = await w.write({ kind: 'bridge_vlan', op: 'create', target: null, body: body() }).catch((e: unknown) => e);
    expect((err as OpenWrtError).code).toBe('OWRT002');
    expect((err as OpenWrtError).message).toContain('uci network (read)');
    const rule = await w.write({
      kind: 'alias',
      op: 'create',
      target: null,
      body: { name: 'pc_acl', type: 'host', description: '', entries: [{ address: '192.0.2.9', detail: '' }] },
    });
    expect(await w.pendingSubsystems()).toEqual(['firewall']);
    await w.apply();
    expect(rule.target).toBe('pc_acl');
    expect(await w.pendingSubsystems()).toEqual([]);
  });
});
