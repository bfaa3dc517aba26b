/**
 * @module Alias writes to an OpenWrt RUNTIME set (an ipset with `option timeout`, as the access path creates them;
 * docs/reference/openwrt-api.md §3, ADR 0278) against the emulator: the live set holds exactly the written entries
 * after the apply, each detail as the element's comment, a grant's remaining kernel timeout kept; UCI keeps only the
 * entries without a detail; the read-back is the live set. A static set (no timeout) still refuses a detail,
 * naming the entry's field.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openwrtLiveWriter } from '../../src/adapters/openwrt/index.ts';
import { adapterFor, pair } from './adapter-harness.ts';

let h: Awaited<ReturnType<typeof pair>>;
const SET = 'pc_runtime';

const liveSet = () => h.emu.state().firewall.sets[SET]?.elements ?? [];
const uciEntries = () =>
  (h.emu.state().config.firewall?.sections ?? []).find((s) => s.options.name === SET)?.options.entry ?? [];

beforeAll(async () => {
  h = await pair();
  await h.adapter.createAlias(SET, 'host', 'knoc alias');
  // The reconciler's grant (tagged, with a kernel timeout) and an admin's entry added by hand at run time.
  await h.adapter.setAliasEntries(SET, [
    { address: '198.51.100.7', detail: 'portcullis:grant-1', expiresAt: Date.now() + 600_000 },
    { address: '192.0.2.77', detail: 'added by hand' },
  ]);
});
afterAll(async () => h?.close());

it('makes the live set exactly the written entries with their comments, keeps the grant timeout, stores only bare entries in UCI', async () => {
  const w = openwrtLiveWriter(h.adapter);
  const entries = [
    { address: '198.51.100.7', detail: 'portcullis:grant-1' },
    { address: '203.0.113.5', detail: '' },
  ];
  await w.write({ kind: 'alias', op: 'update', target: SET, body: { name: SET, type: 'host', description: 'knoc alias', entries } });
  expect(await w.pendingSubsystems()).toEqual(['firewall']);
  await w.apply();
  const live = liveSet();
  expect(live.map((e) => e.value).sort()).toEqual(['198.51.100.7', '203.0.113.5']);
  const grant = live.find((e) => e.value === '198.51.100.7');
  expect(grant?.comment).toBe('portcullis:grant-1');
  expect(grant?.expiresInS).toBeGreaterThan(500);
  expect(uciEntries()).toEqual(['203.0.113.5']);
  expect(await w.read('alias', SET)).toMatchObject({ name: SET, entries });
});

it('a tag removed by hand comes back with a reapply-style write', async () => {
  await h.adapter.setAliasEntries(SET, [{ address: '198.51.100.7', detail: 'mine now' }, { address: '203.0.113.5', detail: '' }]);
  const w = openwrtLiveWriter(h.adapter);
  const entries = [
    { address: '203.0.113.5', detail: '' },
    { address: '198.51.100.7', detail: 'portcullis:grant-1' },
  ];
  await w.write({ kind: 'alias', op: 'update', target: SET, body: { name: SET, type: 'host', description: 'knoc alias', entries } });
  await w.apply();
  expect(liveSet().find((e) => e.value === '198.51.100.7')?.comment).toBe('portcullis:grant-1');
  expect(await w.read('alias', SET)).toMatchObject({ entries });
});

it('a static set (no option timeout) refuses a detail, naming the entry field, and stages nothing', async () => {
  const w = openwrtLiveWriter(adapterFor(h.emu));
  await w.write({ kind: 'alias', op: 'create', target: null, body: { name: 'pc_static', type: 'host', description: '', entries: [] } });
  await w.apply();
  // Made static the way an admin's ipset is: without `option timeout`.
  const section = (h.emu.state().config.firewall?.sections ?? []).find((s) => s.options.name === 'pc_static');
  expect(section).toBeDefined();
  await h.adapter.call('uci', 'delete', { config: 'firewall', section: section?.name ?? '', option: 'timeout' }, { code: 'OWRT500', what: 'drop the timeout', grant: 'uci firewall (write)' });
  await h.adapter.commit('OWRT500', 'drop the timeout');
  const err = await w
    .write({ kind: 'alias', op: 'update', target: 'pc_static', body: { name: 'pc_static', type: 'host', description: '', entries: [{ address: '192.0.2.1', detail: 'x' }] } })
    .then(() => null, (e: unknown) => e);
  expect(err).toMatchObject({ code: 'OWRT500', field: 'entries[0].detail' });
});
