/**
 * @module The RouterOS emulator's persistence, reboot, live menus and HTTP test hooks
 * (docs/reference/routeros-api.md §4, §6, §8).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RouterOsEmulator, startRouterOsEmulator } from '../../src/emulators/routeros/index.ts';
import { client } from './helpers.ts';

const AL = '/rest/ip/firewall/address-list';

describe('state file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ros-emu-'));
  const stateFile = join(dir, 'router.json');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps static configuration across a restart and drops timed entries', async () => {
    const users = [{ name: 'admin', password: 'pw' }];
    const first = await startRouterOsEmulator({ tls: false, users, stateFile });
    const c1 = client(first);
    const keep = (await c1('PUT', AL, { list: 'keep', address: '192.0.2.1', comment: 'static' })).json;
    await c1('PUT', AL, { list: 'keep', address: '192.0.2.2', timeout: '1h' });
    const rule = (await c1('PUT', '/rest/ip/firewall/filter', { chain: 'input', action: 'drop', comment: 'mine' })).json;
    await c1('POST', '/rest/system/identity/set', { name: 'edge-1' });
    await first.close();
    expect(JSON.parse(readFileSync(stateFile, 'utf8')).format).toBe('portcullis-routeros-emulator/1');

    const second = await startRouterOsEmulator({ tls: false, users, stateFile });
    try {
      const c2 = client(second);
      const list = (await c2('GET', `${AL}?list=keep`)).json;
      expect(list.map((r: any) => r.address)).toEqual(['192.0.2.1']);
      expect(list[0]['.id']).toBe(keep['.id']);
      const rules = (await c2('GET', '/rest/ip/firewall/filter?comment=mine')).json;
      expect(rules.map((r: any) => r['.id'])).toEqual([rule['.id']]);
      expect((await c2('GET', '/rest/system/identity')).json).toEqual({ name: 'edge-1' });
      // New ids never reuse old ones.
      const next = (await c2('PUT', AL, { list: 'keep', address: '192.0.2.3' })).json['.id'];
      expect(next).not.toBe(keep['.id']);
    } finally {
      await second.close();
    }
  });
});

describe('live menus, reboot and hooks', () => {
  let emu: RouterOsEmulator;
  let call: ReturnType<typeof client>;
  beforeAll(async () => {
    emu = await startRouterOsEmulator({ tls: false, users: [{ name: 'admin', password: 'pw' }], rebootDowntimeMs: 150 });
    call = client(emu);
  });
  afterAll(() => emu.close());

  it('lists interfaces with running, disabled and counters; by name; disabling stops running', async () => {
    const ifaces = (await call('GET', '/rest/interface')).json;
    expect(ifaces.map((i: any) => i.name)).toEqual(['ether1', 'ether2', 'ether3', 'bridge']);
    const ether1 = (await call('GET', '/rest/interface/ether1')).json;
    expect(ether1).toMatchObject({ running: 'true', disabled: 'false', 'rx-byte': '0', 'tx-byte': '0' });
    emu.setCounters('interface', ether1['.id'], { 'rx-byte': '1234', 'tx-byte': '99' });
    expect((await call('GET', '/rest/interface/ether1')).json['rx-byte']).toBe('1234');
    const patched = (await call('PATCH', `/rest/interface/${ether1['.id']}`, { disabled: 'true' })).json;
    expect(patched).toMatchObject({ disabled: 'false'.replace('false', 'true'), running: 'false' });
    await call('PATCH', `/rest/interface/${ether1['.id']}`, { disabled: 'false' });
  });

  it('serves ip/address, ip/route, dhcp leases and arp', async () => {
    expect((await call('GET', '/rest/ip/address?interface=bridge')).json[0]).toMatchObject({
      address: '192.168.88.1/24',
      network: '192.168.88.0',
    });
    expect((await call('GET', '/rest/ip/route')).json[0]).toMatchObject({ 'dst-address': '0.0.0.0/0', active: 'true' });
    const lease = await call('PUT', '/rest/ip/dhcp-server/lease', { address: '192.168.88.50', 'mac-address': '02:00:00:00:00:50' });
    expect(lease.status).toBe(201);
    const arp = await call('PUT', '/rest/ip/arp', { address: '192.168.88.51', 'mac-address': '02:00:00:00:00:51', interface: 'bridge' });
    expect(arp.json).toMatchObject({ complete: 'true', dynamic: 'false' });
  });

  it('ipv6 address lists keep a prefix and refuse a duplicate spelled differently', async () => {
    const A6 = '/rest/ipv6/firewall/address-list';
    const put = await call('PUT', A6, { list: 'v6', address: '2001:db8:0::7' });
    expect(put.json.address).toBe('2001:db8::7/128');
    expect((await call('PUT', A6, { list: 'v6', address: '2001:DB8::7/128' })).json.detail).toBe('failure: already have such entry');
  });

  it('writes firewall log lines and clears the memory log on reboot', async () => {
    emu.addLog({
      firewall: { prefix: 'knoc', chain: 'input', inInterface: 'ether1', connectionState: 'new', proto: 'TCP', flags: 'SYN', src: '198.51.100.4:51000', dst: '203.0.113.2:22' },
    });
    const log = (await call('GET', '/rest/log?topics=firewall,info')).json;
    expect(log.at(-1).message).toBe(
      'knoc input: in:ether1 out:(unknown 0), connection-state:new proto TCP (SYN), 198.51.100.4:51000->203.0.113.2:22, len 60',
    );
    emu.reboot();
    expect((await call('GET', '/rest/log')).json).toEqual([]);
  });

  it('POST system/reboot answers, then the router is unreachable for a while and comes back with uptime 0', async () => {
    await call('PUT', AL, { list: 'rb', address: '192.0.2.60', timeout: '1h' });
    emu.advance(7_200_000);
    expect((await call('POST', '/rest/system/reboot', {})).json).toEqual([]);
    await new Promise((r) => setTimeout(r, 20));
    await expect(call('GET', '/rest/system/resource')).rejects.toThrow();
    await new Promise((r) => setTimeout(r, 200));
    const res = (await call('GET', '/rest/system/resource')).json;
    expect(res.uptime).toMatch(/^\d+s$|^0s$/);
    expect((await call('GET', `${AL}?list=rb`)).json).toEqual([]);
  });

  it('moves rules by .id and refuses to move or remove a dynamic rule', async () => {
    const F = '/rest/ip/firewall/filter';
    const rows = (await call('GET', F)).json;
    const dyn = rows.find((r: any) => r.dynamic === 'true');
    expect((await call('DELETE', `${F}/${dyn['.id']}`)).status).toBe(400);
    expect((await call('POST', `${F}/move`, { numbers: dyn['.id'] })).status).toBe(400);
    const last = rows.at(-1)['.id'];
    const firstStatic = rows.find((r: any) => r.dynamic === 'false')['.id'];
    await call('POST', `${F}/move`, { '.id': last, destination: firstStatic });
    const after = (await call('GET', `${F}?.proplist=.id`)).json.map((r: any) => r['.id']);
    expect(after.indexOf(last)).toBe(after.indexOf(firstStatic) - 1);
  });

  it('answers the test hooks over HTTP without credentials', async () => {
    const hook = (method: string, path: string, body?: unknown) =>
      fetch(`${emu.url}/__emulator/${path}`, {
        method,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      }).then(async (r) => ({ status: r.status, json: (await r.json()) as any }));
    expect((await hook('POST', 'advance', { ms: 1000 })).status).toBe(200);
    const conn = await hook('POST', 'connections', { srcAddress: '198.51.100.9' });
    expect(conn.json.id).toMatch(/^\*[0-9A-F]+$/);
    expect((await hook('POST', 'faults', { kind: 'status', status: 503, detail: 'busy' })).status).toBe(200);
    const faulted = await call('GET', '/rest/system/identity');
    expect([faulted.status, faulted.json]).toEqual([503, { detail: 'busy', error: 503, message: 'Service Unavailable' }]);
    expect((await hook('GET', 'max-in-flight')).json.maxInFlight).toBeGreaterThanOrEqual(1);
    const state = (await hook('GET', 'state')).json;
    expect(state.tables['ip/firewall/connection'].rows.length).toBeGreaterThan(0);
    const reqs = (await hook('GET', 'requests')).json;
    expect(reqs.at(-1)).toMatchObject({ method: 'GET', path: '/rest/system/identity', user: 'admin', status: 503, fault: 'status' });
    expect(JSON.stringify(reqs)).not.toContain('"pw"');
    expect((await hook('POST', 'reboot')).status).toBe(200);
    expect((await hook('GET', 'nope')).status).toBe(404);
  });

  it('faults: html body, control characters, drop', async () => {
    emu.fault({ kind: 'html' });
    const html = await call('GET', AL);
    expect(html.contentType).toContain('text/html');
    emu.fault({ kind: 'control-chars' });
    const cc = await call('GET', '/rest/system/identity');
    expect(cc.json).toBeUndefined();
    expect(cc.text).toContain('\u001b');
    emu.fault({ kind: 'drop' });
    await expect(call('GET', AL)).rejects.toThrow();
    expect((await call('GET', '/rest/system/identity')).status).toBe(200);
  });
});
