/**
 * @module The OpenWrt set's two layers (docs/adr/0200-openwrt-runtime-set-path.md): a removal removes the LIVE
 * element (the openwrt/openwrt#13028 trap: a reload leaves removed UCI entries in the set), runtime elements survive
 * `fw4 reload`, and after a reboot or a firewall restart the next setAliasEntries (the reconciler's pass)
 * restores them; the adapter tells a reboot from `system.info` uptime.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openwrtLiveWriter } from '../../src/adapters/openwrt/index.ts';
import type { AliasEntry } from '../../src/adapters/types.ts';
import { liveAddresses, pair } from './adapter-harness.ts';

let h: Awaited<ReturnType<typeof pair>>;
beforeAll(async () => {
  h = await pair();
});
afterAll(async () => {
  await h.close();
});

const desired = (): AliasEntry[] => [
  { address: '203.0.113.10', detail: 'portcullis:g1', expiresAt: Date.now() + 3_600_000 },
  { address: '203.0.113.11', detail: 'portcullis:g2', expiresAt: Date.now() + 3_600_000 },
  { address: '198.51.100.1', detail: 'admin' },
];

describe('removal removes the live element (#13028)', () => {
  it('setAliasEntries without an entry deletes it from the live set, and a reload does not bring it back', async () => {
    await h.adapter.createAlias('trap', 'host', '');
    await h.adapter.setAliasEntries('trap', desired());
    await h.adapter.setAliasEntries('trap', desired().slice(1));
    expect(liveAddresses(h.emu, 'trap')?.sort()).toEqual(['198.51.100.1', '203.0.113.11']);
    h.emu.reloadFirewall();
    expect(liveAddresses(h.emu, 'trap')?.sort()).toEqual(['198.51.100.1', '203.0.113.11']);
  });

  it('emptying the set removes the last element too (the reload-sets empty-set gap does not apply)', async () => {
    await h.adapter.setAliasEntries('trap', []);
    expect(liveAddresses(h.emu, 'trap')).toEqual([]);
  });

  it('a live write that drops a UCI `entry` also deletes it from the live set after the apply', async () => {
    const w = openwrtLiveWriter(h.adapter);
    const entries = (list: string[]) => list.map((address) => ({ address, detail: '' }));
    await w.write({ kind: 'alias', op: 'create', target: null, body: { name: 'ucilist', type: 'host', description: 'uci entries', entries: entries(['192.0.2.1', '192.0.2.2']) } });
    await w.apply();
    expect(liveAddresses(h.emu, 'ucilist')?.sort()).toEqual(['192.0.2.1', '192.0.2.2']);
    await w.write({ kind: 'alias', op: 'update', target: 'ucilist', body: { name: 'ucilist', type: 'host', description: 'uci entries', entries: entries(['192.0.2.2']) } });
    await w.apply();
    expect(liveAddresses(h.emu, 'ucilist')).toEqual(['192.0.2.2']);
    expect(await w.read('alias', 'ucilist')).toEqual({ name: 'ucilist', type: 'host', description: 'uci entries', entries: entries(['192.0.2.2']) });
  });
});

describe('extending a grant', () => {
  it('rewrites the element in one nft transaction (delete ; add), so the address is never missing', async () => {
    await h.adapter.createAlias('extend', 'host', '');
    const soon = Date.now() + 60_000;
    await h.adapter.setAliasEntries('extend', [{ address: '203.0.113.40', detail: 'portcullis:g40', expiresAt: soon }]);
    h.emu.clearRequests();
    const later = Date.now() + 3_600_000;
    await h.adapter.setAliasEntries('extend', [{ address: '203.0.113.40', detail: 'portcullis:g40', expiresAt: later }]);
    const writes = h.emu
      .requests()
      .flatMap((r) => r.calls)
      .filter((c) => c.method === 'exec' && !JSON.stringify(c.args).includes('"-j"'));
    expect(writes).toHaveLength(1);
    expect(JSON.stringify(writes[0]?.args)).toMatch(/"delete".*";".*"add"/);
    const entry = (await h.adapter.getAlias('extend'))?.entries[0];
    expect(Math.abs((entry?.expiresAt ?? 0) - later)).toBeLessThan(5_000);
  });
});

describe('reboot and firewall restart', () => {
  it('runtime elements survive `fw4 reload`', async () => {
    await h.adapter.createAlias('keep', 'host', '');
    await h.adapter.setAliasEntries('keep', desired());
    h.emu.reloadFirewall();
    expect(liveAddresses(h.emu, 'keep')?.sort()).toEqual(['198.51.100.1', '203.0.113.10', '203.0.113.11']);
  });

  it('a firewall restart empties the set; the next pass restores our entries with their expiry', async () => {
    h.emu.restartFirewall();
    expect(liveAddresses(h.emu, 'keep')).toEqual([]);
    const want = desired();
    await h.adapter.setAliasEntries('keep', want);
    const read = await h.adapter.getAlias('keep');
    expect(read?.entries.map((e) => [e.address, e.detail])).toEqual(want.map((e) => [e.address, e.detail]));
    expect(Math.abs((read?.entries[0]?.expiresAt ?? 0) - (want[0]?.expiresAt ?? 0))).toBeLessThan(5_000);
  });

  it('a reboot is told by uptime; the set (declared in UCI) comes back empty and the next pass restores it', async () => {
    h.emu.advance(10_000);
    expect((await h.adapter.bootCheck()).rebooted).toBe(false);
    h.emu.reboot();
    expect((await h.adapter.bootCheck()).rebooted).toBe(true);
    expect((await h.adapter.getAlias('keep'))?.entries).toEqual([]);
    await h.adapter.setAliasEntries('keep', desired());
    expect(liveAddresses(h.emu, 'keep')?.sort()).toEqual(['198.51.100.1', '203.0.113.10', '203.0.113.11']);
  });
});
