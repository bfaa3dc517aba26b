/**
 * @module OPNsense VLAN interfaces (docs/reference/brain-l3.md §7): the emulator against answers quoted from
 * opnsense/core (`upstream/interfaces/*.response`, each with its provenance) and against the behaviours §7 lists per
 * firmware (26.7.x assigns a device and silently drops addresses; the 27.1 line has the interface configuration;
 * pending changes wait for the reconfigure), then the adapter's `vlan_interface` on each profile: refused with its
 * reason below the address API, checked input naming the neutral field, a refused assignment taking its VLAN back, a
 * locked interface left alone. The round trip itself is the shared live contract (opnsense-live-contract.test.ts).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { LiveVlanInterfaceBody, LiveWriter } from '../../src/adapters/live-write.ts';
import { opnsenseVendor } from '../../src/adapters/opnsense/index.ts';
import type { ClosableAdapter } from '../../src/adapters/registry.ts';
import { type OpnsenseEmulator, startOpnsenseEmulator } from '../../src/emulators/opnsense/index.ts';
import type { VersionProfile } from '../../src/emulators/opnsense/types.ts';
import { adapterAt } from './helpers.ts';

const UPSTREAM = join(import.meta.dirname, 'upstream', 'interfaces');
const ADMIN = { key: 'admin-key', secret: 'admin-secret' };
const VLAN_ONLY = { key: 'vlan-key', secret: 'vlan-secret', privileges: ['page-interfaces-vlan-edit', 'page-system-firmware-manualupdate'] };

interface Reply {
  status: number;
  contentType: string | null;
  text: string;
  json: Record<string, any>;
}

async function call(emu: OpnsenseEmulator, method: string, path: string, body?: unknown, creds = ADMIN): Promise<Reply> {
  const headers: Record<string, string> = {
    authorization: `Basic ${Buffer.from(`${creds.key}:${creds.secret}`).toString('base64')}`,
  };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${emu.url}${path}`, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  const text = await res.text();
  let json: Record<string, any> = {};
  try {
    json = JSON.parse(text) as Record<string, any>;
  } catch {
    json = {};
  }
  return { status: res.status, contentType: res.headers.get('content-type'), text, json };
}

const emulators = new Map<VersionProfile, OpnsenseEmulator>();
async function fresh(version: VersionProfile): Promise<OpnsenseEmulator> {
  await emulators.get(version)?.close();
  const emu = await startOpnsenseEmulator({ tls: false, version, keys: [ADMIN, VLAN_ONLY] });
  emulators.set(version, emu);
  return emu;
}
afterAll(async () => {
  for (const emu of emulators.values()) await emu.close();
});

async function addVlan(emu: OpnsenseEmulator, vlan: Record<string, string>): Promise<{ uuid: string; device: string }> {
  const r = await call(emu, 'POST', '/api/interfaces/vlan_settings/add_item', { vlan });
  expect(r.json.result, r.text).toBe('saved');
  const got = await call(emu, 'GET', `/api/interfaces/vlan_settings/get_item/${r.json.uuid as string}`);
  return { uuid: r.json.uuid as string, device: got.json.vlan.vlanif as string };
}

async function assign(emu: OpnsenseEmulator, fields: Record<string, string>): Promise<string> {
  const r = await call(emu, 'POST', '/api/interfaces/assignment/add_item', { interface: fields });
  expect(r.json.result, r.text).toBe('saved');
  return r.json.uuid as string;
}

const reconfigure = (emu: OpnsenseEmulator, what: 'vlan_settings' | 'assignment') =>
  call(emu, 'POST', `/api/interfaces/${what}/reconfigure`);

function loadQuote(file: string) {
  const text = readFileSync(join(UPSTREAM, file), 'utf8');
  const split = text.indexOf('\n\n');
  const header = new Map<string, string[]>();
  for (const line of text.slice(0, split).split('\n')) {
    const m = /^# ([a-z-]+): (.+)$/.exec(line);
    if (m) header.set(m[1] as string, [...(header.get(m[1] as string) ?? []), m[2] as string]);
  }
  return { header, status: Number(header.get('status')?.[0]), contentType: header.get('content-type')?.[0], body: text.slice(split + 2).trimEnd() };
}

describe('answers quoted from opnsense/core (upstream/interfaces)', () => {
  const scenarios: Record<string, (e: OpnsenseEmulator) => Promise<Reply>> = {
    'vlan-delete-assigned.response': async (e) => {
      const v = await addVlan(e, { if: 'vtnet2', tag: '10' });
      await reconfigure(e, 'vlan_settings');
      await assign(e, { if: v.device, descr: 'GUEST' });
      return call(e, 'POST', `/api/interfaces/vlan_settings/del_item/${v.uuid}`);
    },
    'vlan-tag-change-assigned.response': async (e) => {
      const v = await addVlan(e, { if: 'vtnet2', tag: '10', vlanif: 'vtnet2_vlan10' });
      await reconfigure(e, 'vlan_settings');
      await assign(e, { if: 'vtnet2_vlan10', descr: 'LEGACY' });
      return call(e, 'POST', `/api/interfaces/vlan_settings/set_item/${v.uuid}`, { vlan: { if: 'vtnet2', tag: '11' } });
    },
    'vlan-tag-not-unique.response': async (e) => {
      await addVlan(e, { if: 'vtnet2', tag: '20' });
      return call(e, 'POST', '/api/interfaces/vlan_settings/add_item', { vlan: { if: 'vtnet2', tag: '20' } });
    },
    'assignment-device-taken.response': async (e) => call(e, 'POST', '/api/interfaces/assignment/add_item', { interface: { if: 'vtnet1' } }),
    'assignment-static-without-address.response': async (e) => {
      const v = await addVlan(e, { if: 'vtnet2', tag: '30' });
      await reconfigure(e, 'vlan_settings');
      return call(e, 'POST', '/api/interfaces/assignment/add_item', { interface: { if: v.device, type4: 'staticv4' } });
    },
    'assignment-locked-delete.response': async (e) => {
      const v = await addVlan(e, { if: 'vtnet2', tag: '40' });
      await reconfigure(e, 'vlan_settings');
      const id = await assign(e, { if: v.device, descr: 'LOCKED' }); // lock defaults to 1
      // the guard reads config.xml, where a new interface's lock arrives only with the reconfigure (§7.3)
      await reconfigure(e, 'assignment');
      return call(e, 'POST', `/api/interfaces/assignment/del_item/${id}`);
    },
    'assignment-add-new-id.response': async (e) => {
      const v = await addVlan(e, { if: 'vtnet2', tag: '50' });
      await reconfigure(e, 'vlan_settings');
      return call(e, 'POST', '/api/interfaces/assignment/add_item', { interface: { if: v.device } });
    },
    'assignment-reconfigure.response': async (e) => reconfigure(e, 'assignment'),
    'vlan-reconfigure-get.response': async (e) => call(e, 'GET', '/api/interfaces/vlan_settings/reconfigure'),
  };

  it('has a scenario for every quoted file', () => {
    expect(readdirSync(UPSTREAM).sort()).toEqual(Object.keys(scenarios).sort());
  });

  for (const file of Object.keys(scenarios)) {
    it(file, async () => {
      const quote = loadQuote(file);
      expect(quote.header.get('repository')).toEqual(['opnsense/core']);
      expect(quote.header.get('commit')?.[0]).toMatch(/^[0-9a-f]{40}$/);
      const emu = await fresh(quote.header.get('profile')?.[0] as VersionProfile);
      const reply = await (scenarios[file] as (e: OpnsenseEmulator) => Promise<Reply>)(emu);
      expect([reply.status, reply.contentType, reply.text]).toEqual([quote.status, quote.contentType, quote.body]);
    });
  }
});

describe('the emulator, as §7 describes each firmware', () => {
  it('numbers devices vlan01, vlan02 and shows an assigned one with its interface in search_item (§7.1)', async () => {
    const emu = await fresh('27.1.a_161');
    const a = await addVlan(emu, { if: 'vtnet2', tag: '10' });
    const b = await addVlan(emu, { if: 'vtnet2', tag: '11', descr: 'second' });
    expect([a.device, b.device]).toEqual(['vlan01', 'vlan02']);
    await reconfigure(emu, 'vlan_settings');
    await assign(emu, { if: 'vlan02', descr: 'IOT', lock: '0' });
    const rows = (await call(emu, 'GET', '/api/interfaces/vlan_settings/search_item')).json.rows as Array<Record<string, string>>;
    expect(rows.map((r) => r.vlanif)).toEqual(['vlan01', 'vlan02 [IOT]']);
    expect(rows[0]?.['%pcp']).toBe('Best Effort (0, default)');
  });

  it('a VLAN is assignable only after the VLAN reconfigure refreshed the device list; a bad parent and tag name their field', async () => {
    const emu = await fresh('27.1.a_161');
    await call(emu, 'GET', '/api/interfaces/assignment/get_item'); // lists (and caches) the assignable devices
    const v = await addVlan(emu, { if: 'vtnet2', tag: '10' });
    const early = await call(emu, 'POST', '/api/interfaces/assignment/add_item', { interface: { if: v.device } });
    expect(early.json).toEqual({ result: 'failed', validations: { 'interface.if': 'Option [] not in list.' } });
    await reconfigure(emu, 'vlan_settings');
    expect((await call(emu, 'POST', '/api/interfaces/assignment/add_item', { interface: { if: v.device } })).json.result).toBe('saved');
    const bad = await call(emu, 'POST', '/api/interfaces/vlan_settings/add_item', { vlan: { if: 'igb9', tag: '4095' } });
    expect(bad.json.validations).toEqual({ 'vlan.if': 'Option [] not in list.', 'vlan.tag': 'Invalid integer value.' });
  });

  it('26.7 assigns a device disabled and drops a posted address while answering "saved" (§7.2)', async () => {
    const emu = await fresh('26.7');
    const v = await addVlan(emu, { if: 'vtnet2', tag: '10' });
    await reconfigure(emu, 'vlan_settings');
    const r = await call(emu, 'POST', '/api/interfaces/assignment/add_item', {
      interface: { if: v.device, descr: 'GUEST', enable: '1', type4: 'staticv4', ipaddr: '10.10.0.1/24' },
    });
    expect(r.json.result).toBe('saved');
    expect(r.json.uuid).toMatch(/^[0-9a-f-]{36}$/); // 26.7 answered the throw-away uuid (§7.2)
    const blank = (await call(emu, 'GET', '/api/interfaces/assignment/get_item')).json.interface as Record<string, unknown>;
    expect(Object.keys(blank).sort()).toEqual(['descr', 'icon', 'identifier', 'if', 'lock', 'optgroup']);
    await reconfigure(emu, 'assignment');
    const info = (await call(emu, 'GET', '/api/interfaces/overview/interfaces_info')).json.rows as Array<Record<string, unknown>>;
    expect(info.find((row) => row.device === v.device)).toMatchObject({ identifier: 'opt1', enabled: false, addr4: '' });
  });

  it('27.1: every change waits in the todo file; get_item shows it, the running interface only after the reconfigure (§7.3)', async () => {
    const emu = await fresh('27.1.a_161');
    const v = await addVlan(emu, { if: 'vtnet2', tag: '10' });
    await reconfigure(emu, 'vlan_settings');
    const id = await assign(emu, { if: v.device, descr: 'GUEST', type4: 'staticv4', ipaddr: '10.10.0.1/24', lock: '0' });
    expect(id).toBe('opt1');
    const got = (await call(emu, 'GET', `/api/interfaces/assignment/get_item/${id}`)).json.interface as Record<string, any>;
    expect([got.ipaddr, got.enable, got.pending_action, got.type4.staticv4.selected]).toEqual(['10.10.0.1/24', '1', 'update', 1]);
    const live = () => call(emu, 'GET', '/api/interfaces/overview/interfaces_info').then((r) => (r.json.rows as Array<Record<string, unknown>>).find((row) => row.identifier === id));
    expect(await live()).toBeUndefined();
    expect(emu.state().config.interfaces?.opt1).toEqual({ if: v.device, descr: 'GUEST' });
    expect((await reconfigure(emu, 'assignment')).json).toEqual({ status: 'ok' });
    expect(await live()).toMatchObject({ addr4: '10.10.0.1/24', enabled: true });
    expect(emu.state().config.interfaces?.opt1).toEqual({ if: v.device, descr: 'GUEST', enable: '1', ipaddr: '10.10.0.1', subnet: '24', ipaddrv6: 'none' });
  });

  it('a deleted assignment blocks its VLAN until the reconfigure, which also drops the rules on it (§7.1, §7.2)', async () => {
    const emu = await fresh('27.1.a_161');
    const v = await addVlan(emu, { if: 'vtnet2', tag: '10' });
    await reconfigure(emu, 'vlan_settings');
    const id = await assign(emu, { if: v.device, descr: 'GUEST', type4: 'staticv4', ipaddr: '10.10.0.1/24', lock: '0' });
    await reconfigure(emu, 'assignment');
    const rule = await call(emu, 'POST', '/api/firewall/filter/add_rule', { rule: { action: 'pass', interface: id, description: 'guest out' } });
    expect(rule.json.result, rule.text).toBe('saved');
    expect((await call(emu, 'POST', `/api/interfaces/assignment/del_item/${id}`)).json).toEqual({ result: 'deleted' });
    expect((await call(emu, 'GET', `/api/interfaces/assignment/get_item/${id}`)).json).toEqual([]);
    expect((await call(emu, 'POST', `/api/interfaces/vlan_settings/del_item/${v.uuid}`)).status).toBe(500);
    await reconfigure(emu, 'assignment');
    expect(emu.state().config.filter.some((r) => r.uuid === rule.json.uuid)).toBe(false);
    expect((await call(emu, 'POST', `/api/interfaces/vlan_settings/del_item/${v.uuid}`)).json).toEqual({ result: 'deleted' });
  });

  it('has no assignment API before 26.7; the VLAN API is there (§7.1)', async () => {
    const emu = await fresh('26.1.11');
    expect((await call(emu, 'GET', '/api/interfaces/assignment/search_item')).status).toBe(404);
    expect((await call(emu, 'GET', '/api/interfaces/vlan_settings/search_item')).status).toBe(200);
  });
});

// --- the adapter -----------------------------------------------------------------------------------------------

let adapter: ClosableAdapter | undefined;
afterEach(async () => {
  await adapter?.close();
  adapter = undefined;
});

function writerAt(emu: OpnsenseEmulator, creds = ADMIN): LiveWriter {
  adapter = adapterAt(emu.url, { api_key: creds.key, api_secret: creds.secret });
  const writes = opnsenseVendor.writes;
  if (writes === undefined) throw new Error('OPNsense declares no writes');
  return writes.open(adapter);
}

async function failure(fn: () => Promise<unknown>): Promise<Error & { code?: string; field?: string }> {
  try {
    await fn();
  } catch (err) {
    return err as Error & { code?: string; field?: string };
  }
  throw new Error('expected the call to fail');
}

const body = (overrides: Partial<LiveVlanInterfaceBody> = {}): LiveVlanInterfaceBody => ({
  parent: 'vtnet2',
  tag: 100,
  name: 'GUEST',
  ipv4: '10.100.0.1/24',
  ipv6: null,
  description: 'guest wifi',
  is_enabled: true,
  ...overrides,
});

const posts = (emu: OpnsenseEmulator) => emu.requests().filter((r) => r.method === 'POST').length;

describe('the adapter decides by the firmware it finds (§7.4, §7.5)', () => {
  it('26.1.11: no assignment API — reads and writes are refused with the reason, nothing is sent', async () => {
    const emu = await fresh('26.1.11');
    const w = writerAt(emu);
    const err = await failure(() => w.write({ kind: 'vlan_interface', op: 'create', target: null, body: body() }));
    expect(err.code).toBe('OPN500');
    expect(err.message).toMatch(/no interface assignment API .*26\.7/);
    const view = opnsenseVendor.live?.open(adapter as ClosableAdapter);
    const read = await failure(() => view?.vlanInterfaces?.() ?? Promise.resolve());
    expect(read.code).toBe('OPN300');
    expect(posts(emu)).toBe(0);
  });

  it('26.7: the assignment model has no address fields — refused naming them, nothing is sent', async () => {
    const emu = await fresh('26.7');
    const w = writerAt(emu);
    const err = await failure(() => w.write({ kind: 'vlan_interface', op: 'create', target: null, body: body() }));
    expect(err.code).toBe('OPN500');
    expect(err.message).toContain('`enable`, `type4`, `ipaddr`');
    expect(err.message).toContain('92cb28a669');
    expect(posts(emu)).toBe(0);
  });

  it('27.1: create stages the assignment, apply makes it live with its address, a DHCP scope can use its interface id', async () => {
    const emu = await fresh('27.1.a_161');
    const w = writerAt(emu);
    const created = await w.write({ kind: 'vlan_interface', op: 'create', target: null, body: body() });
    expect(created).toEqual({ target: 'vlan01', pending: ['interfaces'] });
    expect(emu.state().interfaces.some((i) => i.device === 'vlan01')).toBe(false);
    await w.apply();
    expect(emu.state().interfaces.find((i) => i.device === 'vlan01')).toMatchObject({ id: 'opt1', ipv4: '10.100.0.1', subnet: 24 });
    expect(await w.read('vlan_interface', 'vlan01')).toEqual({ ...body(), interface_id: 'opt1' });
    // parent and tag change in place: the device keeps its name (§7.5)
    const moved = await w.write({ kind: 'vlan_interface', op: 'update', target: 'vlan01', body: body({ tag: 101, vendor_data: { pcp: '5' } }) });
    expect(moved).toEqual({ target: 'vlan01', pending: ['vlan', 'interfaces'] });
    await w.apply();
    expect(await w.read('vlan_interface', 'vlan01')).toMatchObject({ tag: 101, vendor_data: { pcp: '5' } });
    await w.write({ kind: 'vlan_interface', op: 'delete', target: 'vlan01', body: {} });
    await w.apply();
    expect(await w.read('vlan_interface', 'vlan01')).toBeNull();
    expect(emu.state().runtime.vlanDevices).toEqual([]);
  });

  it('checks its input before sending anything, naming the neutral field', async () => {
    const emu = await fresh('27.1.a_161');
    const w = writerAt(emu);
    const cases: Array<[Partial<LiveVlanInterfaceBody>, string]> = [
      [{ tag: 4095 }, 'tag'],
      [{ name: 'guest wifi' }, 'name'],
      [{ ipv4: '10.100.0.1' }, 'ipv4'],
      [{ parent: '' }, 'parent'],
    ];
    for (const [overrides, field] of cases) {
      const err = await failure(() => w.write({ kind: 'vlan_interface', op: 'create', target: null, body: body(overrides) }));
      expect([err.code, err.field]).toEqual(['OPN500', field]);
    }
    expect(posts(emu)).toBe(0);
    const missing = await failure(() => w.write({ kind: 'vlan_interface', op: 'update', target: 'vlan77', body: body() }));
    expect([missing.code, missing.field]).toEqual(['OPN500', 'target']);
  });

  it('a gateway refusal names the neutral field; a refused assignment takes its VLAN back', async () => {
    const emu = await fresh('27.1.a_161');
    const w = writerAt(emu);
    const parent = await failure(() => w.write({ kind: 'vlan_interface', op: 'create', target: null, body: body({ parent: 'igb7' }) }));
    expect([parent.code, parent.field]).toEqual(['OPN500', 'parent']);
    // passes the adapter's shape check, not the model's IPv6 check
    const v6 = await failure(() => w.write({ kind: 'vlan_interface', op: 'create', target: null, body: body({ ipv6: '2001:db8::1::2/64' }) }));
    expect([v6.code, v6.field]).toEqual(['OPN500', 'ipv6']);
    expect(emu.state().config.vlans).toEqual([]);
    expect(emu.state().runtime.vlanDevices).toEqual([]);
  });

  it('leaves a locked interface alone: the delete is refused naming the target', async () => {
    const emu = await fresh('27.1.a_161');
    const w = writerAt(emu);
    const { target } = await w.write({ kind: 'vlan_interface', op: 'create', target: null, body: body() });
    await w.apply();
    await call(emu, 'POST', '/api/interfaces/assignment/set_item/opt1', { interface: { lock: '1' } });
    const err = await failure(() => w.write({ kind: 'vlan_interface', op: 'delete', target: target as string, body: {} }));
    expect([err.code, err.field]).toEqual(['OPN500', 'target']);
    expect(err.message).toContain('locked');
    expect(emu.state().config.interfaces?.opt1).toBeDefined();
  });

  it('a key without the assignment privilege is told which one to grant', async () => {
    const emu = await fresh('27.1.a_161');
    const w = writerAt(emu, VLAN_ONLY);
    const err = await failure(() => w.write({ kind: 'vlan_interface', op: 'create', target: null, body: body() }));
    expect(err.code).toBe('OPN002');
    expect(err.message).toContain('page-interfaces-assignnetworkports');
  });
});

describe('the adapter on the quoted answers themselves (served verbatim by a raw fault)', () => {
  const serve = (emu: OpnsenseEmulator, file: string, path: string) => {
    const quote = loadQuote(file);
    emu.fault({ kind: 'raw', path, method: 'POST', status: quote.status, body: quote.body, contentType: quote.contentType });
  };

  it('a refused static address on the assignment names `ipv4` and takes the new VLAN back', async () => {
    const emu = await fresh('27.1.a_161');
    const w = writerAt(emu);
    serve(emu, 'assignment-static-without-address.response', '/api/interfaces/assignment/add_item');
    const err = await failure(() => w.write({ kind: 'vlan_interface', op: 'create', target: null, body: body() }));
    expect([err.code, err.field]).toEqual(['OPN500', 'ipv4']);
    expect(err.message).toContain('An address is required when configuring static mode');
    expect(emu.state().config.vlans).toEqual([]);
  });

  it('the VLAN delete guard and the interface lock arrive as gateway errors with upstream’s message', async () => {
    const emu = await fresh('27.1.a_161');
    const w = writerAt(emu);
    const { target } = await w.write({ kind: 'vlan_interface', op: 'create', target: null, body: body() });
    await w.apply();
    serve(emu, 'assignment-locked-delete.response', '/api/interfaces/assignment/del_item');
    const locked = await failure(() => w.write({ kind: 'vlan_interface', op: 'delete', target: target as string, body: {} }));
    expect(locked.code).toBe('OPN007');
    expect(locked.message).toContain('Interface locked, unset lock first before removal');
    serve(emu, 'vlan-delete-assigned.response', '/api/interfaces/vlan_settings/del_item');
    const assigned = await failure(() => w.write({ kind: 'vlan_interface', op: 'delete', target: target as string, body: {} }));
    expect(assigned.code).toBe('OPN007');
    expect(assigned.message).toContain('This VLAN cannot be deleted because it is assigned as an interface.');
  });
});
