/**
 * @module The RouterOS adapter against a small stand-in router (test/routeros/fake-router.ts) and the upstream
 * quotes in test/routeros/upstream/: parsing (durations, versions, addresses, control characters), the address
 * list diff (timeouts, manual and dynamic entries, duplicates), one request in flight, and killing connections.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  connectionHost,
  formatRosSeconds,
  hasRest,
  normalizeListAddress,
  parseRosDuration,
  parseRosJson,
  RouterOsAdapter,
  type RouterOsAdapterOptions,
  RouterOsError,
} from '../../src/adapters/routeros/index.ts';
import { type FakeRouter, type Row, startFakeRouter } from './fake-router.ts';

const upstream = (file: string): string => readFileSync(join(import.meta.dirname, 'upstream', file), 'utf8');

describe('RouterOS formats', () => {
  it('parses RouterOS durations (remaining timeouts, uptimes)', () => {
    expect(parseRosDuration('4m59s')).toBe(299_000);
    expect(parseRosDuration('1d2h3m4s')).toBe(93_784_000);
    expect(parseRosDuration('1w2d')).toBe(777_600_000);
    expect(parseRosDuration('00:04:59')).toBe(299_000);
    expect(parseRosDuration('1d 00:00:01')).toBe(86_401_000);
    expect(parseRosDuration('3s500ms')).toBe(3_500);
    expect(parseRosDuration('0s')).toBe(0);
    expect(parseRosDuration('3600')).toBe(3_600_000);
    expect(parseRosDuration('soon')).toBeNull();
    expect(formatRosSeconds(2.2)).toBe('3s');
    expect(formatRosSeconds(0)).toBe('1s');
  });

  it('knows which versions have REST (7.1beta4 and later)', () => {
    for (const v of ['7.1beta4', '7.1rc1', '7.1', '7.16.2 (stable)', '7.23beta2 (testing)', '8.0']) expect([v, hasRest(v)]).toEqual([v, true]);
    for (const v of ['6.49.10 (long-term)', '7.0.5', '7.1beta3', '7.1alpha9', 'garbage']) expect([v, hasRest(v)]).toEqual([v, false]);
  });

  it('shows host prefixes bare and matches connection addresses with ports', () => {
    expect(normalizeListAddress('192.0.2.1/32')).toBe('192.0.2.1');
    expect(normalizeListAddress('2001:DB8::1/128')).toBe('2001:db8::1');
    expect(normalizeListAddress('10.0.0.0/8')).toBe('10.0.0.0/8');
    expect(normalizeListAddress('example.com')).toBe('example.com');
    expect(connectionHost('203.0.113.7:40000')).toBe('203.0.113.7');
    expect(connectionHost('203.0.113.7')).toBe('203.0.113.7');
    expect(connectionHost('[2001:db8::7]:443')).toBe('2001:db8::7');
    expect(connectionHost('2001:db8::7')).toBe('2001:db8::7');
    expect(connectionHost('203.0.113.70:1')).not.toBe('203.0.113.7');
  });

  it('parses a body with raw control characters inside strings (the provider escapes them and retries)', () => {
    expect(parseRosJson('[{"host-name":"pc\u001b[1m","x":"a\tb"}]')).toEqual([{ 'host-name': 'pc\u001b[1m', x: 'a\tb' }]);
    expect(parseRosJson('[\n {"a":"1"}\n]')).toEqual([{ a: '1' }]);
  });
});

describe('RouterOS adapter ↔ stand-in router', () => {
  let fake: FakeRouter;
  let now = Date.parse('2026-12-07T00:00:00Z');
  const adapters: RouterOsAdapter[] = [];
  const make = (extra: Partial<RouterOsAdapterOptions> = {}) => {
    const a = new RouterOsAdapter({
      url: fake.url,
      username: 'admin',
      password: 'secret',
      timeouts: { connectMs: 2_000, headersMs: 2_000, bodyMs: 2_000 },
      retry: { maxRetries: 0 },
      now: () => now,
      ...extra,
    });
    adapters.push(a);
    return a;
  };
  const list = (menu = 'ip/firewall/address-list') => fake.tables.get(menu) ?? [];
  const seed = (row: Partial<Row>) => {
    const rows = list();
    rows.push({ '.id': `*F${rows.length}`, disabled: 'false', dynamic: 'false', list: 'jit', ...row });
    fake.tables.set('ip/firewall/address-list', rows);
  };

  beforeEach(async () => {
    fake = await startFakeRouter();
    now = Date.parse('2026-12-07T00:00:00Z');
  });
  afterEach(async () => {
    for (const a of adapters.splice(0)) await a.close();
    await fake.close();
  });

  it('reads a list with no entries as an empty list (a list exists by name) and createAlias writes nothing', async () => {
    const ros = make();
    expect(await ros.getAlias('jit')).toEqual({ name: 'jit', type: 'host', descr: '', entries: [] });
    const before = fake.requests.length;
    await ros.createAlias('jit', 'host', 'x');
    expect(fake.requests.length).toBe(before);
    await expect(ros.createAlias('bad name', 'host', '')).rejects.toMatchObject({ code: 'ROS101' });
  });

  it('adds our entries with a timeout from expiresAt (rounded up + 1 s slack) and reads the remaining time back', async () => {
    const ros = make();
    await ros.setAliasEntries('jit', [
      { address: '198.51.100.7', detail: 'portcullis:g1', expiresAt: now + 3_600_000 - 400 },
      { address: '198.51.100.8', detail: 'admin' },
    ]);
    const puts = fake.requests.filter((r) => r.method === 'PUT').map((r) => r.body);
    expect(puts).toEqual([
      { list: 'jit', address: '198.51.100.7', comment: 'portcullis:g1', timeout: '3601s' },
      { list: 'jit', address: '198.51.100.8', comment: 'admin' },
    ]);
    (list()[0] as Row).timeout = '59m59s';
    const read = await ros.getAlias('jit');
    expect(read?.entries).toEqual([
      { address: '198.51.100.7', detail: 'portcullis:g1', expiresAt: now + 3_599_000 },
      { address: '198.51.100.8', detail: 'admin' },
    ]);
  });

  it('diffs: deletes what is gone, keeps what is unchanged, never touches dynamic untimed or disabled entries', async () => {
    seed({ address: '192.0.2.1', comment: 'portcullis:old' });
    seed({ address: '192.0.2.2', comment: 'manual' });
    seed({ address: '192.0.2.3', comment: 'from example.com', dynamic: 'true' });
    seed({ address: '192.0.2.4', comment: 'parked', disabled: 'true' });
    const ros = make();
    const read = await ros.getAlias('jit');
    expect(read?.entries.map((e) => e.address)).toEqual(['192.0.2.1', '192.0.2.2', '192.0.2.3']);
    fake.requests.length = 0;
    await ros.setAliasEntries('jit', [{ address: '192.0.2.2', detail: 'manual' }]);
    expect(fake.requests.filter((r) => r.method !== 'GET').map((r) => `${r.method} ${r.path}`)).toEqual([
      'DELETE /rest/ip/firewall/address-list/*F0',
    ]);
    expect(list().map((r) => r.address)).toEqual(['192.0.2.2', '192.0.2.3', '192.0.2.4']);
  });

  it('reads the set with one bulk GET per menu, never per entry', async () => {
    for (let i = 0; i < 20; i++) seed({ address: `192.0.2.${i + 10}`, comment: `portcullis:g${i}` });
    const ros = make();
    fake.requests.length = 0;
    await ros.getAlias('jit');
    expect(fake.requests.map((r) => r.path)).toEqual([
      '/rest/ip/firewall/address-list?list=jit',
      '/rest/ipv6/firewall/address-list?list=jit',
    ]);
  });

  it('puts IPv6 entries in the ipv6 menu and shows them bare', async () => {
    const ros = make();
    await ros.setAliasEntries('jit', [{ address: '2001:db8::7', detail: 'portcullis:g6' }]);
    const row = list('ipv6/firewall/address-list')[0] as Row;
    row.address = '2001:db8::7/128';
    expect((await ros.getAlias('jit'))?.entries).toEqual([{ address: '2001:db8::7', detail: 'portcullis:g6' }]);
    fake.requests.length = 0;
    await ros.setAliasEntries('jit', [{ address: '2001:db8::7', detail: 'portcullis:g6' }]);
    expect(fake.requests.filter((r) => r.method !== 'GET')).toEqual([]);
  });

  it('patches a changed comment, refreshes a timeout by PATCH, and replaces a static entry that must become timed', async () => {
    seed({ address: '192.0.2.1', comment: 'portcullis:g1', dynamic: 'true', timeout: '1m' });
    seed({ address: '192.0.2.2', comment: 'portcullis:g2' });
    const ros = make();
    fake.requests.length = 0;
    await ros.setAliasEntries('jit', [
      { address: '192.0.2.1', detail: 'portcullis:g9', expiresAt: now + 600_000 },
      { address: '192.0.2.2', detail: 'portcullis:g2', expiresAt: now + 600_000 },
    ]);
    const writes = fake.requests.filter((r) => r.method !== 'GET').map((r) => [r.method, r.path, r.body]);
    expect(writes).toEqual([
      ['PATCH', '/rest/ip/firewall/address-list/*F0', { comment: 'portcullis:g9', timeout: '601s' }],
      ['DELETE', '/rest/ip/firewall/address-list/*F1', undefined],
      ['PUT', '/rest/ip/firewall/address-list', { list: 'jit', address: '192.0.2.2', comment: 'portcullis:g2', timeout: '601s' }],
    ]);
  });

  it('treats a duplicate-entry 400 as already present: reads the entry and patches it', async () => {
    const ros = make();
    let hidden = true;
    // The entry is added by someone else between our read and our PUT.
    fake.hook = (req) => {
      if (hidden && req.method === 'PUT') {
        hidden = false;
        seed({ address: '192.0.2.9', comment: 'other' });
      }
      return false;
    };
    await ros.setAliasEntries('jit', [{ address: '192.0.2.9', detail: 'portcullis:g1' }]);
    expect(list().map((r) => [r.address, r.comment])).toEqual([['192.0.2.9', 'portcullis:g1']]);
  });

  it('a failed write that the router applied anyway is accepted after a re-read', async () => {
    const ros = make();
    fake.hook = (req, res) => {
      if (req.method !== 'PUT') return false;
      seed({ address: '192.0.2.5', comment: 'portcullis:g1' });
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: 400, message: 'Bad Request', detail: 'something odd' }));
      return true;
    };
    await ros.setAliasEntries('jit', [{ address: '192.0.2.5', detail: 'portcullis:g1' }]);
    fake.hook = (req, res) => {
      if (req.method !== 'PUT') return false;
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: 400, message: 'Bad Request', detail: 'invalid value for argument address' }));
      return true;
    };
    await expect(ros.setAliasEntries('jit', [{ address: '192.0.2.6', detail: 'portcullis:g2' }])).rejects.toMatchObject({
      code: 'ROS101',
    });
  });

  it('one request in flight per device: 50 parallel callers on two adapters of one gateway', async () => {
    fake.latencyMs = 5;
    const a = make({ gatewayKey: 'gw-1' });
    const b = make({ gatewayKey: 'gw-1' });
    await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        (i % 2 ? a : b).setAliasEntries(`l${i % 5}`, [{ address: `192.0.2.${i}`, detail: `portcullis:g${i}` }]),
      ),
    );
    expect(fake.maxInFlight()).toBe(1);
    expect(fake.requests.length).toBeGreaterThanOrEqual(150);
  });

  it('kills the connections from or to one address, matched by the ip: prefix, and counts them', async () => {
    fake.tables.set('ip/firewall/connection', [
      { '.id': '*1', 'src-address': '203.0.113.7:40000', 'dst-address': '192.0.2.1:22', protocol: 'tcp' },
      { '.id': '*2', 'src-address': '192.0.2.1:5000', 'dst-address': '203.0.113.7:53', protocol: 'udp' },
      { '.id': '*3', 'src-address': '203.0.113.70:1', 'dst-address': '192.0.2.1:22', protocol: 'tcp' },
      { '.id': '*4', 'src-address': '203.0.113.7', 'dst-address': '192.0.2.1', protocol: 'icmp' },
    ]);
    const ros = make();
    expect(await ros.killStates('203.0.113.7')).toBe(3);
    expect(fake.tables.get('ip/firewall/connection')?.map((r) => r['.id'])).toEqual(['*3']);
    expect(await ros.killStates('203.0.113.7')).toBe(0);
    await expect(ros.killStates('nope')).rejects.toThrow(TypeError);
  });

  it('apply confirms at once: writes are live', async () => {
    expect(await make().apply()).toEqual({ applied: true, pending: [] });
  });

  it('version: RouterOS version from system/resource; older than 7.1beta4 is ROS006; a reboot is reported', async () => {
    const seen: number[] = [];
    const ros = make({ gatewayKey: 'gw-version', onReboot: (i) => seen.push(i.uptimeMs) });
    expect(await ros.version()).toMatchObject({ product: 'RouterOS 7.16.2 (stable)', api: 'REST' });
    fake.tables.set('system/resource', [{ version: '7.16.2 (stable)', uptime: '5s' }]);
    const after = await ros.version();
    expect((after.raw as Record<string, unknown>).reboot_detected).toBe('true');
    expect(seen).toEqual([5_000]);
    expect(ros.warnings.some((w) => w.includes('rebooted'))).toBe(true);
    fake.tables.set('system/resource', [{ version: '7.0.5 (stable)', uptime: '6s' }]);
    await expect(ros.version()).rejects.toMatchObject({ code: 'ROS006' });
  });
});

describe('RouterOS error classification from upstream-quoted replies', () => {
  let fake: FakeRouter;
  let ros: RouterOsAdapter;
  beforeEach(async () => {
    fake = await startFakeRouter();
    ros = new RouterOsAdapter({ url: fake.url, username: 'admin', password: 'secret', retry: { maxRetries: 0 } });
  });
  afterEach(async () => {
    await ros.close();
    await fake.close();
  });
  const answer = (status: number, body: string, type = 'application/json') => {
    fake.hook = (_req, res) => {
      res.writeHead(status, { 'content-type': type });
      res.end(body);
      return true;
    };
  };
  const code = async (fn: () => Promise<unknown>) => {
    try {
      await fn();
    } catch (err) {
      expect(err).toBeInstanceOf(RouterOsError);
      expect((err as Error).message).not.toContain('secret');
      return (err as RouterOsError).code;
    }
    throw new Error('expected a failure');
  };

  it.each([
    [401, 'error-unauthorized.json', 'ROS001'],
    [400, 'error-session-closed.json', 'ROS007'],
    [406, 'error-not-acceptable.json', 'ROS104'],
    [404, 'error-not-found.json', 'ROS105'],
  ])('HTTP %i %s → %s', async (status, file, expected) => {
    answer(status, upstream(file));
    expect(await code(() => ros.version())).toBe(expected);
  });

  it('a dynamic entry with timeout 0s (the provider sample) is read-only and listed', async () => {
    const row = JSON.parse(upstream('address-list-dynamic-row.json')) as Row;
    fake.tables.set('ip/firewall/address-list', [row]);
    expect((await ros.getAlias('AAA'))?.entries).toEqual([{ address: '0.0.0.0', detail: '' }]);
    await ros.setAliasEntries('AAA', []);
    expect(fake.tables.get('ip/firewall/address-list')).toHaveLength(1);
  });

  it('permission 500s, HTML pages, wrong credentials and bad bodies get their codes', async () => {
    answer(500, JSON.stringify({ error: 500, message: 'Internal Server Error', detail: 'not enough permissions (9)' }));
    expect(await code(() => ros.getAlias('x'))).toBe('ROS002');
    answer(500, JSON.stringify({ error: 500, message: 'Internal Server Error', detail: 'std failure: not allowed (9)' }));
    expect(await code(() => ros.getAlias('x'))).toBe('ROS002');
    answer(200, '<html>WebFig</html>', 'text/html');
    expect(await code(() => ros.version())).toBe('ROS005');
    answer(200, 'not json');
    expect(await code(() => ros.version())).toBe('ROS400');
    answer(400, JSON.stringify({ error: 400, message: 'Bad Request', detail: 'unknown parameter colour' }));
    const err = await ros.request('ROS500', 'create', 'PUT', '/ip/firewall/filter', {}).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ROS103', field: 'colour' });
    fake.hook = null;
    const wrong = new RouterOsAdapter({ url: fake.url, username: 'admin', password: 'wrongpass', retry: { maxRetries: 0 } });
    expect(await code(() => wrong.version())).toBe('ROS001');
    await wrong.close();
  });

  it('a closed port is ROS000, the path without /rest is HTML (ROS005)', async () => {
    const off = new RouterOsAdapter({ url: 'http://127.0.0.1:1', username: 'a', password: 'secret', retry: { maxRetries: 0 } });
    expect(await code(() => off.version())).toBe('ROS000');
    await off.close();
  });
});
