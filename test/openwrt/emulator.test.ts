/**
 * @module The OpenWrt emulator against uhttpd/rpcd/fw4 behaviour (docs/reference/openwrt-api.md): the JSON-RPC
 * transport and error table, sessions and ACLs, UCI staging/commit/apply/rollback, the fw4 set model and
 * `file.exec` of nft/fw4/conntrack, read-only objects, hooks, faults and the state file.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type OpenWrtEmulator, startOpenWrtEmulator } from '../../src/emulators/openwrt/index.ts';
import { call, exec, login, NULL_SID, post } from './helpers.ts';

let emu: OpenWrtEmulator;
let root: string;

beforeAll(async () => {
  emu = await startOpenWrtEmulator({ clock: 'manual', reloadDelayMs: 500 });
  root = await login(emu);
});
afterAll(async () => {
  await emu.close();
});

async function declareSet(sid: string, name: string, extra: Record<string, unknown> = {}): Promise<void> {
  const add = await call(emu, sid, 'uci', 'add', {
    config: 'firewall',
    type: 'ipset',
    name,
    values: { name, family: 'ipv4', match: ['src_ip'], timeout: '0', ...extra },
  });
  expect(add.result?.[0]).toBe(0);
  expect((await call(emu, sid, 'uci', 'commit', { config: 'firewall' })).result).toEqual([0]);
  emu.advance(500);
}

describe('transport (uhttpd ubus.c)', () => {
  it('answers HTTP 200 with a JSON-RPC error for bad JSON, an oversized body and a non-call method', async () => {
    const bad = await post(emu, '{"jsonrpc":');
    expect(bad.status).toBe(200);
    expect(bad.json).toEqual({ jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error' } });
    const big = await post(emu, JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'call', params: ['x'.repeat(70_000)] }));
    expect(big.status).toBe(200);
    expect((big.json as { error: { code: number } }).error.code).toBe(-32700);
    const m = await post(emu, JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'frobnicate', params: [] }));
    expect(m.json).toEqual({ jsonrpc: '2.0', id: 7, error: { code: -32601, message: 'Method not found' } });
    const v = await post(emu, JSON.stringify({ jsonrpc: '1.0', id: 8, method: 'call', params: [] }));
    expect((v.json as { error: { code: number } }).error.code).toBe(-32700);
  });

  it('maps unknown object, denied ACL, unknown SID and a smuggled ubus_rpc_session', async () => {
    expect((await call(emu, root, 'nosuch', 'x')).error).toEqual({ code: -32000, message: 'Object not found' });
    expect((await call(emu, NULL_SID, 'uci', 'get', { config: 'firewall' })).error?.code).toBe(-32002);
    expect((await call(emu, 'f'.repeat(32), 'uci', 'get', { config: 'firewall' })).error).toEqual({
      code: -32002,
      message: 'Access denied',
    });
    expect((await call(emu, root, 'uci', 'get', { config: 'firewall', ubus_rpc_session: root })).error).toEqual({
      code: -32602,
      message: 'Invalid parameters',
    });
    expect((await call(emu, root, 'uci', 'nosuchmethod', {})).result).toEqual([3]);
  });

  it('answers a batch with an array in order', async () => {
    const r = await post(
      emu,
      JSON.stringify([
        { jsonrpc: '2.0', id: 1, method: 'call', params: [root, 'system', 'board', {}] },
        { jsonrpc: '2.0', id: 2, method: 'call', params: [root, 'nosuch', 'x', {}] },
      ]),
    );
    const out = r.json as Array<{ id: number; result?: unknown[]; error?: { code: number } }>;
    expect(out.map((o) => o.id)).toEqual([1, 2]);
    expect(out[0]?.result?.[0]).toBe(0);
    expect(out[1]?.error?.code).toBe(-32000);
  });

  it('lists objects, and 404s other paths', async () => {
    const r = await post(emu, JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'list' }));
    expect((r.json as { result: string[] }).result).toEqual(expect.arrayContaining(['session', 'uci', 'file']));
    expect((await post(emu, '{}', '/ubus/call/uci')).status).toBe(404);
    expect((await post(emu, '{}', '/cgi-bin/luci')).status).toBe(404);
  });
});

describe('sessions (rpcd session.c)', () => {
  it('logs in with the null SID and reports timeout, expires, acls and data', async () => {
    const r = await call(emu, NULL_SID, 'session', 'login', {
      username: emu.credentials.username,
      password: emu.credentials.password,
    });
    expect(r.result?.[0]).toBe(0);
    const d = r.result?.[1] as Record<string, unknown>;
    expect(d.ubus_rpc_session).toMatch(/^[0-9a-f]{32}$/);
    expect(d.timeout).toBe(300);
    expect(d.expires).toBe(299);
    expect(Object.keys(d.acls as object)).toEqual(expect.arrayContaining(['access-group', 'ubus', 'uci', 'file']));
    expect(d.data).toEqual({ username: 'root' });
  });

  it('refuses bad credentials with [6]', async () => {
    expect((await call(emu, NULL_SID, 'session', 'login', { username: 'root', password: 'wrong' })).result).toEqual([6]);
    expect((await call(emu, NULL_SID, 'session', 'login', { username: 'root' })).result).toEqual([2]);
  });

  it('expires after 300 s idle, and each call slides the window', async () => {
    const sid = await login(emu);
    emu.advance(299_000);
    expect((await call(emu, sid, 'system', 'board')).result?.[0]).toBe(0);
    emu.advance(299_000);
    expect((await call(emu, sid, 'system', 'board')).result?.[0]).toBe(0);
    emu.advance(300_001);
    expect((await call(emu, sid, 'system', 'board')).error?.code).toBe(-32002);
    root = await login(emu);
  });

  it('enforces ubus, uci and file ACLs for a least-privilege login', async () => {
    const sid = await login(emu, 'portcullis');
    expect((await call(emu, sid, 'uci', 'get', { config: 'firewall', section: 'cfg04ad58' })).result?.[0]).toBe(0);
    // `network` is granted for the bridge VLANs; `dhcp` is not.
    expect((await call(emu, sid, 'uci', 'get', { config: 'network', type: 'bridge-vlan' })).result?.[0]).toBe(0);
    expect((await call(emu, sid, 'uci', 'get', { config: 'dhcp' })).result).toEqual([6]);
    expect((await call(emu, sid, 'rc', 'init', { name: 'firewall', action: 'restart' })).error?.code).toBe(-32002);
    expect((await exec(emu, sid, '/usr/sbin/nft', ['-j', 'list', 'ruleset'])).result?.[0]).toBe(0);
    expect((await exec(emu, sid, '/sbin/logread', [])).result).toEqual([6]);
    expect((await exec(emu, sid, '/usr/bin/nosuch', [])).result).toEqual([4]);
  });
});

describe('UCI (rpcd uci.c)', () => {
  it('stages per session, shows changes, reverts, and commits', async () => {
    const other = await login(emu);
    const add = await call(emu, root, 'uci', 'add', { config: 'firewall', type: 'rule', values: { name: 'x', src: 'wan' } });
    const section = add.result?.[1]?.section as string;
    expect(section).toMatch(/^cfg[0-9a-f]{6}$/);
    expect((await call(emu, root, 'uci', 'get', { config: 'firewall', section })).result?.[1]?.values).toMatchObject({
      '.anonymous': true,
      '.type': 'rule',
      '.name': section,
      name: 'x',
    });
    expect((await call(emu, other, 'uci', 'get', { config: 'firewall', section })).result).toEqual([4]);
    const changes = await call(emu, root, 'uci', 'changes', { config: 'firewall' });
    expect(changes.result?.[1]?.changes).toEqual([
      ['add', section, 'rule'],
      ['set', section, 'name', 'x'],
      ['set', section, 'src', 'wan'],
    ]);
    expect((await call(emu, root, 'uci', 'revert', { config: 'firewall' })).result).toEqual([0]);
    expect((await call(emu, root, 'uci', 'changes', {})).result?.[1]).toEqual({ changes: {} });
    await call(emu, root, 'uci', 'set', { config: 'firewall', section: 'cfg04ad58', values: { enabled: '0' } });
    expect((await call(emu, root, 'uci', 'commit', { config: 'firewall' })).result).toEqual([0]);
    expect(emu.state().config.firewall?.sections.find((s) => s.name === 'cfg04ad58')?.options.enabled).toBe('0');
    expect((await call(emu, other, 'uci', 'get', { config: 'firewall', section: 'cfg04ad58', option: 'enabled' })).result).toEqual([0, { value: '0' }]);
  });

  it('list values are staged as remove + list-add', async () => {
    await call(emu, root, 'uci', 'set', { config: 'firewall', section: 'cfg02dc81', values: { network: ['lan', 'guest'] } });
    expect((await call(emu, root, 'uci', 'changes', { config: 'firewall' })).result?.[1]?.changes).toEqual([
      ['remove', 'cfg02dc81', 'network'],
      ['list-add', 'cfg02dc81', 'network', 'lan'],
      ['list-add', 'cfg02dc81', 'network', 'guest'],
    ]);
    await call(emu, root, 'uci', 'revert', { config: 'firewall' });
  });

  it('apply with rollback: commit/revert/apply are denied while pending; expiry restores; confirm keeps', async () => {
    expect((await call(emu, root, 'uci', 'confirm', {})).result).toEqual([5]);
    expect((await call(emu, root, 'uci', 'apply', { rollback: true })).result).toEqual([5]);
    await call(emu, root, 'uci', 'set', { config: 'firewall', section: 'cfg03dc81', values: { input: 'DROP' } });
    expect((await call(emu, root, 'uci', 'apply', { rollback: true, timeout: 30 })).result).toEqual([0]);
    expect(emu.state().config.firewall?.sections.find((s) => s.name === 'cfg03dc81')?.options.input).toBe('DROP');
    expect((await call(emu, root, 'uci', 'commit', { config: 'firewall' })).result).toEqual([6]);
    expect((await call(emu, root, 'uci', 'revert', { config: 'firewall' })).result).toEqual([6]);
    expect((await call(emu, root, 'uci', 'apply', { rollback: true })).result).toEqual([6]);
    const other = await login(emu, 'portcullis');
    expect((await call(emu, other, 'uci', 'confirm', {})).result).toEqual([6]);
    emu.advance(30_000);
    expect(emu.state().pendingApply).toBeNull();
    expect(emu.state().config.firewall?.sections.find((s) => s.name === 'cfg03dc81')?.options.input).toBe('REJECT');
    // the session lives: its deltas are staged again
    expect((await call(emu, root, 'uci', 'changes', { config: 'firewall' })).result?.[1]?.changes).toEqual([
      ['set', 'cfg03dc81', 'input', 'DROP'],
    ]);
    expect((await call(emu, root, 'uci', 'apply', { rollback: true, timeout: 30 })).result).toEqual([0]);
    expect((await call(emu, root, 'uci', 'confirm', {})).result).toEqual([0]);
    emu.advance(60_000);
    expect(emu.state().config.firewall?.sections.find((s) => s.name === 'cfg03dc81')?.options.input).toBe('DROP');
  });
});

describe('firewall sets (fw4)', () => {
  beforeEach(() => {
    emu.clearFaults();
  });

  it('commit schedules an async reload that declares the set with its UCI entries', async () => {
    await call(emu, root, 'uci', 'add', {
      config: 'firewall',
      type: 'ipset',
      name: 'granted',
      values: { name: 'granted', family: 'ipv4', match: ['src_ip'], timeout: '0', entry: ['198.51.100.1'] },
    });
    await call(emu, root, 'uci', 'commit', { config: 'firewall' });
    expect(emu.state().firewall.sets.granted).toBeUndefined();
    expect(emu.state().pendingReloadAt).not.toBeNull();
    emu.advance(500);
    expect(emu.state().firewall.sets.granted?.elements.map((e) => e.value)).toEqual(['198.51.100.1']);
    expect(emu.state().firewall.sets.granted?.flags).toEqual(['timeout']);
  });

  it('nft add/list/delete element with per-element timeout and expiry on the clock', async () => {
    const add = await exec(emu, root, '/usr/sbin/nft', ['add', 'element', 'inet', 'fw4', 'granted', '{ 203.0.113.7 timeout 3600s }']);
    expect(add.result).toEqual([0, { code: 0 }]);
    emu.advance(10_000);
    const list = await exec(emu, root, '/usr/sbin/nft', ['-j', 'list', 'set', 'inet', 'fw4', 'granted']);
    const doc = JSON.parse(list.result?.[1]?.stdout as string) as { nftables: Array<Record<string, unknown>> };
    expect(doc.nftables[0]).toHaveProperty('metainfo');
    expect(doc.nftables[1]).toMatchObject({
      set: {
        family: 'inet',
        name: 'granted',
        table: 'fw4',
        type: 'ipv4_addr',
        flags: ['timeout'],
        elem: ['198.51.100.1', { elem: { val: '203.0.113.7', timeout: 3600, expires: 3590 } }],
      },
    });
    emu.advance(3_590_000);
    root = await login(emu); // the idle session expired meanwhile
    expect(emu.state().firewall.sets.granted?.elements.map((e) => e.value)).toEqual(['198.51.100.1']);
    const del = await exec(emu, root, 'nft', ['delete element inet fw4 granted { 198.51.100.1 }']);
    expect(del.result).toEqual([0, { code: 0 }]);
    const again = await exec(emu, root, 'nft', ['delete element inet fw4 granted { 198.51.100.1 }']);
    expect(again.result?.[1]?.code).toBe(1);
    expect(again.result?.[1]?.stderr).toMatch(/^Error: Could not process rule: No such file or directory/);
    const missing = await exec(emu, root, 'nft', ['add element inet fw4 nosuch { 1.2.3.4 }']);
    expect(missing.result?.[1]?.code).toBe(1);
  });

  it('reload keeps elements removed from UCI (openwrt/openwrt#13028); reload-sets flushes and re-adds; empty sets are skipped', async () => {
    await declareSet(root, 'keep', { entry: ['192.0.2.1', '192.0.2.2'] });
    await exec(emu, root, 'nft', ['add element inet fw4 keep { 192.0.2.50 timeout 600s }']);
    await call(emu, root, 'uci', 'set', { config: 'firewall', section: 'keep', values: { entry: ['192.0.2.1'] } });
    await call(emu, root, 'uci', 'commit', { config: 'firewall' });
    emu.advance(500);
    const values = () => emu.state().firewall.sets.keep?.elements.map((e) => e.value).sort();
    expect(values()).toEqual(['192.0.2.1', '192.0.2.2', '192.0.2.50']);
    expect((await exec(emu, root, '/sbin/fw4', ['reload-sets'])).result).toEqual([0, { code: 0 }]);
    expect(values()).toEqual(['192.0.2.1']);
    await call(emu, root, 'uci', 'delete', { config: 'firewall', section: 'keep', option: 'entry' });
    await call(emu, root, 'uci', 'commit', { config: 'firewall' });
    emu.advance(500);
    await exec(emu, root, '/sbin/fw4', ['reload-sets']);
    expect(values()).toEqual(['192.0.2.1']);
    await exec(emu, root, '/sbin/fw4', ['restart']);
    expect(values()).toEqual([]);
  });

  it('restart and reboot drop runtime elements; reboot resets uptime and sessions', async () => {
    await exec(emu, root, 'nft', ['add element inet fw4 granted { 203.0.113.9 }']);
    emu.restartFirewall();
    expect(emu.state().firewall.sets.granted?.elements.map((e) => e.value)).not.toContain('203.0.113.9');
    await exec(emu, root, 'nft', ['add element inet fw4 granted { 203.0.113.9 }']);
    emu.advance(5_000);
    const before = (await call(emu, root, 'system', 'info')).result?.[1]?.uptime as number;
    expect(before).toBeGreaterThan(0);
    emu.reboot();
    expect((await call(emu, root, 'system', 'info')).error?.code).toBe(-32002);
    root = await login(emu);
    expect((await call(emu, root, 'system', 'info')).result?.[1]?.uptime).toBe(0);
    expect(emu.state().firewall.sets.granted?.elements.map((e) => e.value)).not.toContain('203.0.113.9');
  });

  it('conntrack deletion by source', async () => {
    emu.addConnection({ proto: 'tcp', src: '203.0.113.7', dst: '192.168.1.10', sport: 40000, dport: 22 });
    emu.addConnection({ proto: 'udp', src: '203.0.113.8', dst: '192.168.1.10', sport: 5000, dport: 53 });
    const list = await call(emu, root, 'luci', 'getConntrackList');
    expect((list.result?.[1]?.result as unknown[]).length).toBe(2);
    const del = await exec(emu, root, '/usr/sbin/conntrack', ['-D', '-s', '203.0.113.7']);
    expect(del.result).toEqual([0, { code: 0, stderr: 'conntrack v1.4.8 (conntrack-tools): 1 flow entries have been deleted.\n' }]);
    const none = await exec(emu, root, '/usr/sbin/conntrack', ['-D', '-s', '203.0.113.7']);
    expect(none.result?.[1]?.code).toBe(1);
  });
});

describe('read-only objects, hooks, faults, state file', () => {
  it('system.board reports the configured release; network.interface dump lists interfaces', async () => {
    const b = await call(emu, root, 'system', 'board');
    expect(b.result?.[1]?.release).toMatchObject({ distribution: 'OpenWrt', version: '23.05.5' });
    const d = await call(emu, root, 'network.interface', 'dump');
    expect((d.result?.[1]?.interface as Array<{ interface: string }>).map((i) => i.interface)).toEqual(
      expect.arrayContaining(['lan', 'wan']),
    );
    emu.addLease({ ipaddr: '192.168.1.150', macaddr: '52:54:00:AA:BB:CC', hostname: 'laptop', leasetimeS: 3600 });
    const leases = await call(emu, root, 'luci-rpc', 'getDHCPLeases');
    expect(leases.result?.[1]).toEqual({
      dhcp_leases: [{ expires: 3600, macaddr: '52:54:00:aa:bb:cc', ipaddr: '192.168.1.150', hostname: 'laptop' }],
      dhcp6_leases: [],
    });
    const s = await call(emu, root, 'network.interface.lan', 'status');
    expect(s.result?.[1]?.['ipv4-address']).toEqual([{ address: '192.168.1.1', mask: 24 }]);
  });

  it('faults: HTTP status, bad body, ubus timeout, ubus status, exec failure, session expiry', async () => {
    emu.fault({ kind: 'status', status: 503 });
    expect((await post(emu, JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'list' }))).status).toBe(503);
    emu.fault({ kind: 'bad-body' });
    expect((await post(emu, JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'list' }))).json).toBeNull();
    emu.fault({ kind: 'ubus-timeout', object: 'file' });
    expect((await exec(emu, root, 'nft', ['list ruleset'])).error?.code).toBe(-32003);
    emu.fault({ kind: 'ubus-status', object: 'uci', method: 'commit', status: 9 });
    expect((await call(emu, root, 'uci', 'commit', { config: 'firewall' })).result).toEqual([9]);
    emu.fault({ kind: 'exec-fail', command: '/usr/sbin/nft', body: 'Error: boom\n' });
    expect((await exec(emu, root, 'nft', ['list ruleset'])).result).toEqual([0, { code: 1, stderr: 'Error: boom\n' }]);
    emu.fault({ kind: 'session-expire' });
    expect((await call(emu, root, 'system', 'board')).error?.code).toBe(-32002);
    root = await login(emu);
    const reqs = emu.requests();
    expect(reqs.some((r) => r.fault === 'status')).toBe(true);
    expect(JSON.stringify(reqs)).not.toContain(emu.credentials.password);
  });

  it('test hooks over HTTP', async () => {
    const { request } = await import('undici');
    const { Agent } = await import('undici');
    const dispatcher = new Agent({ connect: { ca: emu.caPem as string } });
    const before = emu.state().now;
    const r = await request(`${emu.url}/__emulator/advance`, { method: 'POST', body: '{"ms":1000}', dispatcher });
    expect(r.statusCode).toBe(200);
    await r.body.text();
    expect(emu.state().now).toBe(before + 1000);
    const s = await request(`${emu.url}/__emulator/state`, { dispatcher });
    expect(((await s.body.json()) as { firewall: { running: boolean } }).firewall.running).toBe(true);
    await dispatcher.close();
  });

  it('plain HTTP option and a state file that keeps config but not runtime elements', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'owrt-'));
    const stateFile = join(dir, 'state.json');
    try {
      const a = await startOpenWrtEmulator({ tls: false, stateFile, clock: 'manual', reloadDelayMs: 0 });
      expect(a.url).toMatch(/^http:\/\//);
      expect(a.fingerprint).toBeNull();
      const sid = await login(a);
      await call(a, sid, 'uci', 'add', {
        config: 'firewall',
        type: 'ipset',
        name: 'persist',
        values: { name: 'persist', match: 'src_ip', timeout: '0' },
      });
      await call(a, sid, 'uci', 'commit', { config: 'firewall' });
      a.advance(0);
      await exec(a, sid, 'nft', ['add element inet fw4 persist { 203.0.113.1 }']);
      expect(a.state().firewall.sets.persist?.elements).toHaveLength(1);
      await a.close();
      expect(readFileSync(stateFile, 'utf8')).toContain('"persist"');
      const b = await startOpenWrtEmulator({ tls: false, stateFile, clock: 'manual' });
      expect(b.state().firewall.sets.persist?.elements).toEqual([]);
      await b.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('rules, NAT and order in the rendered ruleset (simplified fw4 render)', () => {
  it('a committed rule/redirect/nat appears in nft -j list ruleset after the reload, in uci.order order', async () => {
    const sid = await login(emu);
    await call(emu, sid, 'uci', 'add', {
      config: 'firewall',
      type: 'ipset',
      name: 'jit',
      values: { name: 'jit', match: ['src_ip'], timeout: '0' },
    });
    const a = await call(emu, sid, 'uci', 'add', {
      config: 'firewall',
      type: 'rule',
      values: { name: 'JIT-SSH', src: 'wan', proto: 'tcp', dest_port: '22', ipset: 'jit', target: 'ACCEPT' },
    });
    const b = await call(emu, sid, 'uci', 'add', {
      config: 'firewall',
      type: 'rule',
      values: { name: 'Block-Bad', src: 'wan', src_ip: '198.51.100.0/24', target: 'DROP' },
    });
    await call(emu, sid, 'uci', 'add', {
      config: 'firewall',
      type: 'redirect',
      values: { name: 'Web', src: 'wan', proto: 'tcp', src_dport: '8080', dest_ip: '192.168.1.10', dest_port: '80', target: 'DNAT' },
    });
    await call(emu, sid, 'uci', 'add', {
      config: 'firewall',
      type: 'nat',
      values: { name: 'Snat', src: 'wan', src_ip: '192.168.2.0/24', target: 'SNAT', snat_ip: '203.0.113.2' },
    });
    await call(emu, sid, 'uci', 'commit', { config: 'firewall' });
    emu.advance(500);
    const rules = async () => {
      const r = await exec(emu, sid, '/usr/sbin/nft', ['-j', 'list', 'ruleset']);
      const doc = JSON.parse(r.result?.[1]?.stdout as string) as { nftables: Array<{ rule?: { chain: string; comment?: string; expr: unknown[] } }> };
      return doc.nftables.filter((o) => o.rule).map((o) => o.rule as { chain: string; comment?: string; expr: unknown[] });
    };
    let all = await rules();
    const ssh = all.find((r) => r.comment === '!fw4: JIT-SSH');
    expect(ssh?.chain).toBe('input_wan');
    expect(JSON.stringify(ssh?.expr)).toContain('"right":"@jit"');
    expect(all.find((r) => r.comment === '!fw4: Web')?.chain).toBe('dstnat_wan');
    expect(JSON.stringify(all.find((r) => r.comment === '!fw4: Web')?.expr)).toContain('"dnat":{"addr":"192.168.1.10","port":80}');
    expect(all.find((r) => r.comment === '!fw4: Snat')?.chain).toBe('srcnat_wan');
    const order = (list: typeof all) => list.filter((r) => r.chain === 'input_wan').map((r) => r.comment);
    expect(order(all).indexOf('!fw4: JIT-SSH')).toBeLessThan(order(all).indexOf('!fw4: Block-Bad'));
    const names = (await call(emu, sid, 'uci', 'get', { config: 'firewall' })).result?.[1]?.values as Record<string, unknown>;
    const seq = Object.keys(names).filter((n) => n !== a.result?.[1]?.section);
    const at = seq.indexOf(b.result?.[1]?.section as string);
    seq.splice(at + 1, 0, a.result?.[1]?.section as string);
    expect((await call(emu, sid, 'uci', 'order', { config: 'firewall', sections: seq })).result).toEqual([0]);
    await call(emu, sid, 'uci', 'commit', { config: 'firewall' });
    all = await rules();
    // not yet reloaded: the live ruleset still has the old order
    expect(order(all).indexOf('!fw4: JIT-SSH')).toBeLessThan(order(all).indexOf('!fw4: Block-Bad'));
    emu.advance(500);
    all = await rules();
    expect(order(all).indexOf('!fw4: JIT-SSH')).toBeGreaterThan(order(all).indexOf('!fw4: Block-Bad'));
    const text = await exec(emu, sid, 'nft', ['list ruleset']);
    expect(text.result?.[1]?.stdout).toContain('comment "!fw4: JIT-SSH"');
  });

  it('log read and logread show the firewall reloads', async () => {
    const sid = await login(emu);
    const log = await call(emu, sid, 'log', 'read', { lines: 50 });
    expect((log.result?.[1]?.log as Array<{ msg: string }>).some((l) => l.msg.startsWith('firewall: Reloading firewall'))).toBe(true);
    const lr = await exec(emu, sid, '/sbin/logread', []);
    expect(lr.result?.[1]?.stdout).toMatch(/user\.notice firewall: Reloading firewall/);
  });
});

describe('real clock (default)', () => {
  it('the async reload and element timeouts run on wall-clock time too', async () => {
    const real = await startOpenWrtEmulator({ tls: false, reloadDelayMs: 50 });
    try {
      const sid = await login(real);
      await call(real, sid, 'uci', 'add', {
        config: 'firewall',
        type: 'ipset',
        name: 'rt',
        values: { name: 'rt', match: ['src_ip'], timeout: '0' },
      });
      expect((await call(real, sid, 'uci', 'commit', { config: 'firewall' })).result).toEqual([0]);
      expect(real.state().firewall.sets.rt).toBeUndefined();
      await new Promise((r) => setTimeout(r, 120));
      expect(real.state().firewall.sets.rt).toBeDefined();
      await exec(real, sid, 'nft', ['add element inet fw4 rt { 192.0.2.9 timeout 1s }']);
      expect(real.state().firewall.sets.rt?.elements).toHaveLength(1);
      real.advance(1000);
      expect(real.state().firewall.sets.rt?.elements).toHaveLength(0);
    } finally {
      await real.close();
    }
  });
});
