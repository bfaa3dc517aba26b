/**
 * @module The OPNsense emulator against opnsense/core's own behaviour (docs/reference/opnsense-api.md): responses
 * quoted from upstream source (`test/opnsense/upstream/emulator/*.response`, each with a provenance header) are
 * reproduced byte for byte, and the quirks the reference lists (§1–§7) are exercised one by one.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { Agent, request } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type OpnsenseEmulator,
  type OpnsenseEmulatorOptions,
  startOpnsenseEmulator,
} from '../../src/emulators/opnsense/index.ts';

const UPSTREAM = join(import.meta.dirname, 'upstream', 'emulator');
const ADMIN = { key: 'admin-key', secret: 'admin-secret' };
const KEYS: OpnsenseEmulatorOptions['keys'] = [
  ADMIN,
  { key: 'ro-key', secret: 'ro-secret', user: 'api1', readOnly: true },
  { key: 'tables-key', secret: 'tables-secret', privileges: ['page-diagnostics-tables'] },
];

interface Reply {
  status: number;
  contentType: string | null;
  text: string;
  json: unknown;
}

type Creds = { key: string; secret: string } | null;

async function call(
  emu: OpnsenseEmulator,
  method: string,
  path: string,
  body?: unknown,
  creds: Creds = ADMIN,
  headers: Record<string, string> = {},
): Promise<Reply> {
  const h: Record<string, string> = { ...headers };
  if (creds) h.authorization = `Basic ${Buffer.from(`${creds.key}:${creds.secret}`).toString('base64')}`;
  if (body !== undefined) h['content-type'] ??= 'application/json';
  const res = await fetch(`${emu.url}${path}`, {
    method,
    headers: h,
    ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  let json: unknown = null;
  try {
    json = JSON.parse(text);
  } catch {
    json = null;
  }
  return { status: res.status, contentType: res.headers.get('content-type'), text, json };
}

const j = (r: Reply) => r.json as Record<string, any>;

async function addAlias(emu: OpnsenseEmulator, alias: Record<string, string>): Promise<string> {
  const r = await call(emu, 'POST', '/api/firewall/alias/add_item', { alias });
  expect(j(r).result, r.text).toBe('saved');
  return j(r).uuid as string;
}

let emu: OpnsenseEmulator;
beforeAll(async () => {
  emu = await startOpnsenseEmulator({ tls: false, keys: KEYS, tableEntriesLimit: 1000 });
});
afterAll(async () => {
  await emu.close();
});

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

describe('quoted upstream responses', () => {
  const scenarios: Record<string, (e: OpnsenseEmulator) => Promise<[Reply, (body: string) => string]>> = {
    'auth-failed.response': async (e) => [await call(e, 'GET', '/api/firewall/alias/search_item', undefined, { key: 'x', secret: 'y' }), (b) => b],
    'forbidden.response': async (e) => [
      await call(e, 'GET', '/api/firewall/alias/search_item', undefined, { key: 'tables-key', secret: 'tables-secret' }),
      (b) => b,
    ],
    'invalid-json.response': async (e) => [await call(e, 'POST', '/api/firewall/alias/add_item', ''), (b) => b],
    'endpoint-not-found.response': async (e) => [await call(e, 'GET', '/api/firewall/alias/no_such_action'), (b) => b],
    'read-only-user.response': async (e) => [
      await call(e, 'POST', '/api/firewall/alias/add_item', { alias: { name: 'ro_try', type: 'host' } }, { key: 'ro-key', secret: 'ro-secret' }),
      (b) => b,
    ],
    'alias-name-exists.response': async (e) => {
      await addAlias(e, { name: 'dup_name', type: 'host', content: '192.0.2.1' });
      return [await call(e, 'POST', '/api/firewall/alias/add_item', { alias: { name: 'dup_name', type: 'host' } }), (b) => b];
    },
    'alias-in-use.response': async (e) => {
      const inner = await addAlias(e, { name: 'inner', type: 'host', content: '192.0.2.2' });
      const outer = await addAlias(e, { name: 'outer', type: 'host', content: 'inner', description: 'outer alias' });
      return [await call(e, 'POST', `/api/firewall/alias/del_item/${inner}`, {}), (b) => b.replace('UUID', outer)];
    },
    'alias-util-nonexistent.response': async (e) => [await call(e, 'POST', '/api/firewall/alias_util/add/nope', { address: '192.0.2.9' }), (b) => b],
    'alias-util-not-an-address.response': async (e) => [
      await call(e, 'POST', '/api/firewall/alias_util/add/dup_name', { address: 'EVIL;rm' }),
      (b) => b,
    ],
    'reconfigure-table-limit.response': async () => {
      const small = await startOpnsenseEmulator({ tls: false, keys: KEYS, tableEntriesLimit: 11 });
      try {
        // of the 7 built-in tables only the three interface networks hold an entry: 3 + 4 (fill) + 5 (big) > 11
        await addAlias(small, { name: 'fill', type: 'host', content: '198.51.100.1\n198.51.100.2\n198.51.100.3\n198.51.100.4' });
        await addAlias(small, { name: 'big', type: 'host', content: '192.0.2.1\n192.0.2.2\n192.0.2.3\n192.0.2.4\n192.0.2.5' });
        return [await call(small, 'POST', '/api/firewall/alias/reconfigure', {}), (b) => b];
      } finally {
        await small.close();
      }
    },
    'kill-states.response': async (e) => {
      e.setStates([{ src_addr: '203.0.113.50', dst_addr: '192.168.1.10' }]);
      return [await call(e, 'POST', '/api/diagnostics/firewall/kill_states', { filter: '203.0.113.50' }), (b) => b];
    },
    'revert-unknown.response': async (e) => {
      const sp = await call(e, 'POST', '/api/firewall/filter/savepoint', {});
      return [await call(e, 'POST', `/api/firewall/filter/revert/${j(sp).revision as string}`, {}), (b) => b];
    },
    'firmware-status-none.response': async (e) => [await call(e, 'GET', '/api/core/firmware/status'), (b) => b],
    'wrong-verb.response': async (e) => [await call(e, 'GET', '/api/firewall/alias/add_item'), (b) => b],
  };

  it('has a scenario for every quoted file', () => {
    expect(readdirSync(UPSTREAM).sort()).toEqual(Object.keys(scenarios).sort());
  });

  for (const file of Object.keys(scenarios)) {
    it(file, async () => {
      const quote = loadQuote(file);
      expect(quote.header.get('repository')).toEqual(['opnsense/core']);
      expect(quote.header.get('commit')?.[0]).toMatch(/^[0-9a-f]{40}$/);
      const [reply, fill] = await (scenarios[file] as (e: OpnsenseEmulator) => Promise<[Reply, (b: string) => string]>)(emu);
      expect(reply.status).toBe(quote.status);
      expect(reply.contentType).toBe(quote.contentType);
      if (file === 'firmware-status-none.response') {
        const { product, ...rest } = j(reply);
        const { product: _p, ...quoted } = JSON.parse(quote.body) as Record<string, unknown>;
        expect(rest).toEqual(quoted);
        expect(product.product_version).toBe('26.1.11');
      } else expect(reply.text).toBe(fill(quote.body));
    });
  }
});

describe('transport, authentication and routing (§1, §2)', () => {
  it('no Authorization header: 401 with an empty body', async () => {
    const r = await call(emu, 'GET', '/api/firewall/alias/search_item', undefined, null);
    expect([r.status, r.text]).toEqual([401, '']);
  });

  it('an unknown endpoint is 404 before any credential check', async () => {
    const r = await call(emu, 'GET', '/api/firewall/nothing/here', undefined, null);
    expect([r.status, j(r)]).toEqual([404, { errorMessage: 'Endpoint not found' }]);
  });

  it('snake_case and camelCase reach the same action; a lower-case controller does not', async () => {
    expect((await call(emu, 'GET', '/api/firewall/alias/searchItem')).status).toBe(200);
    expect((await call(emu, 'GET', '/api/firewall/aliasUtil/aliases')).status).toBe(200);
    expect((await call(emu, 'GET', '/api/firewall/aliasutil/aliases')).status).toBe(404);
  });

  it('a missing required parameter is a dispatch error (404)', async () => {
    expect((await call(emu, 'POST', '/api/firewall/alias/set_item', { alias: {} })).status).toBe(404);
    expect((await call(emu, 'GET', '/api/firewall/alias/get_alias_uuid')).status).toBe(404);
  });

  it('the ACL matches the raw URI: a camelCase path misses a snake_case privilege pattern', async () => {
    const tables = { key: 'tables-key', secret: 'tables-secret' };
    expect((await call(emu, 'GET', '/api/firewall/alias_util/aliases', undefined, tables)).status).toBe(200);
    expect((await call(emu, 'GET', '/api/firewall/aliasUtil/aliases', undefined, tables)).status).toBe(403);
  });

  it('alias_util writes config even for a read-only user (no throwReadOnly there)', async () => {
    await addAlias(emu, { name: 'ro_util', type: 'host', content: '' });
    const r = await call(emu, 'POST', '/api/firewall/alias_util/add/ro_util', { address: '192.0.2.77' }, { key: 'ro-key', secret: 'ro-secret' });
    expect(j(r)).toEqual({ status: 'done' });
  });

  it('a POST body without a JSON content type is not read', async () => {
    const r = await call(emu, 'POST', '/api/firewall/alias/add_item', JSON.stringify({ alias: { name: 'x' } }), ADMIN, {
      'content-type': 'text/plain',
    });
    expect(j(r)).toEqual({ result: 'failed' });
  });

  it('serves HTTPS with the fingerprint it reports', async () => {
    const tls = await startOpnsenseEmulator({ keys: KEYS });
    try {
      expect(tls.url).toMatch(/^https:/);
      expect(tls.fingerprint).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
      const dispatcher = new Agent({ connect: { ca: tls.caPem } });
      const res = await request(`${tls.url}/api/diagnostics/system/system_information`, {
        dispatcher,
        headers: { authorization: `Basic ${Buffer.from('admin-key:admin-secret').toString('base64')}` },
      });
      expect(res.statusCode).toBe(200);
      expect(((await res.body.json()) as { versions: string[] }).versions[0]).toBe('OPNsense 26.1.11-amd64');
      await dispatcher.close();
    } finally {
      await tls.close();
    }
  });

  it('the request log names the key, never the secret', async () => {
    await call(emu, 'GET', '/api/core/firmware/status');
    const last = emu.requests().at(-1);
    expect(last?.key).toBe('admin-key');
    expect(JSON.stringify(emu.requests())).not.toContain('admin-secret');
  });
});

describe('aliases (§3)', () => {
  it('searches list the 7 built-in aliases, whose names count for uniqueness', async () => {
    const r = await call(emu, 'GET', '/api/firewall/alias/search_item');
    const names = (j(r).rows as Array<{ name: string }>).map((x) => x.name);
    for (const n of ['bogons', 'bogonsv6', 'virusprot', 'sshlockout', '__wan_network', '__lan_network', '__lo0_network']) {
      expect(names).toContain(n);
    }
    const dup = await call(emu, 'POST', '/api/firewall/alias/add_item', { alias: { name: 'sshlockout', type: 'host' } });
    expect(j(dup).validations).toEqual({ 'alias.name': 'An alias with this name already exists.' });
  });

  it('name rules: regex, reserved words (message with a literal %s), service and protocol names', async () => {
    const v = async (name: string) =>
      j(await call(emu, 'POST', '/api/firewall/alias/add_item', { alias: { name, type: 'host' } })).validations;
    expect(await v('1abc')).toEqual({
      'alias.name':
        'The name must start with a letter or single underscore, be less than 32 characters and only consist of alphanumeric characters or underscores.',
    });
    expect(await v('a'.repeat(32))).toHaveProperty('alias.name');
    expect(await v('a'.repeat(31))).toBeUndefined();
    expect(await v('table')).toEqual({ 'alias.name': 'The name cannot be the internally reserved keyword "%s".' });
    expect(await v('ssh')).toEqual({ 'alias.name': 'Reserved protocol or service names may not be used' });
  });

  it('get_item: option maps, every alias in the content map; an unknown uuid still lists all aliases', async () => {
    const uuid = await addAlias(emu, { name: 'gi_test', type: 'network', content: '10.1.0.0/16' });
    const r = j(await call(emu, 'GET', `/api/firewall/alias/get_item/${uuid}`));
    expect(r.alias.type.network).toEqual({ value: 'Network(s)', selected: 1 });
    expect(r.alias.content['10.1.0.0/16']).toEqual({ value: '10.1.0.0/16', selected: 1 });
    expect(r.alias.content.bogons).toEqual({ selected: 0, value: 'bogons', description: 'bogon networks (internal)' });
    const unknown = j(await call(emu, 'GET', '/api/firewall/alias/get_item/00000000-0000-4000-8000-000000000000'));
    expect(Object.keys(unknown.alias)).toEqual(['content']);
    expect(unknown.alias.content.gi_test.selected).toBe(0);
    expect(j(await call(emu, 'GET', '/api/firewall/alias/get_alias_uuid/gi_test'))).toEqual({ uuid });
    expect(j(await call(emu, 'GET', '/api/firewall/alias/get_alias_uuid/nope_nope'))).toEqual([]);
  });

  it('set_item upserts a new valid uuid, refuses an invalid one; del_item of an unknown uuid is "not found"', async () => {
    const uuid = '11111111-2222-4333-8444-555555555555';
    expect(j(await call(emu, 'POST', `/api/firewall/alias/set_item/${uuid}`, { alias: { name: 'upserted', type: 'host' } }))).toEqual({ result: 'saved' });
    expect(j(await call(emu, 'GET', '/api/firewall/alias/get_alias_uuid/upserted'))).toEqual({ uuid });
    expect(j(await call(emu, 'POST', '/api/firewall/alias/set_item/not-a-uuid', { alias: { name: 'zz', type: 'host' } }))).toEqual({ result: 'failed' });
    expect(j(await call(emu, 'POST', `/api/firewall/alias/del_item/${uuid}`, {}))).toEqual({ result: 'deleted' });
    expect(j(await call(emu, 'POST', `/api/firewall/alias/del_item/${uuid}`, {}))).toEqual({ result: 'not found' });
  });

  it('posting the read shape (an option map) is a PHP error, 500', async () => {
    const r = await call(emu, 'POST', '/api/firewall/alias/add_item', { alias: { name: 'om', type: { host: { value: 'Host(s)', selected: 1 } } } });
    expect([r.status, j(r)]).toEqual([500, { errorMessage: 'Unexpected error, check log for details' }]);
  });

  it('reconfigure loads config into pf tables; runtime-only changes on external aliases survive it', async () => {
    const e = await startOpnsenseEmulator({ tls: false, keys: KEYS });
    try {
      await addAlias(e, { name: 'cfg_hosts', type: 'network', content: '192.0.2.10\n192.0.2.11/32' });
      await addAlias(e, { name: 'ext_set', type: 'external' });
      expect(e.state().runtime.tables.cfg_hosts).toBeUndefined();
      expect(j(await call(e, 'POST', '/api/firewall/alias_util/add/ext_set', { address: '198.51.100.9' }))).toEqual({ status: 'done' });
      expect(j(await call(e, 'POST', '/api/firewall/alias/reconfigure', {}))).toEqual({ status: 'ok' });
      expect(e.state().runtime.tables.cfg_hosts).toEqual(['192.0.2.10', '192.0.2.11']);
      expect(e.state().runtime.tables.ext_set).toEqual(['198.51.100.9']);
      expect(e.state().config.aliases.find((a) => a.name === 'ext_set')?.content).toBe('');
      e.reboot();
      expect(e.state().runtime.tables.ext_set).toEqual([]);
      expect(e.state().runtime.tables.cfg_hosts).toEqual(['192.0.2.10', '192.0.2.11']);
    } finally {
      await e.close();
    }
  });
});

describe('alias_util (§3)', () => {
  let e: OpnsenseEmulator;
  beforeAll(async () => {
    e = await startOpnsenseEmulator({ tls: false, keys: KEYS });
    await addAlias(e, { name: 'hosts', type: 'host', content: '' });
    await addAlias(e, { name: 'nets', type: 'network', content: '' });
    await call(e, 'POST', '/api/firewall/alias/reconfigure', {});
  });
  afterAll(async () => {
    await e.close();
  });
  const content = (name: string) => e.state().config.aliases.find((a) => a.name === name)?.content;

  it('add writes config and the pf table at once, each call a new config revision', async () => {
    const before = e.state().history.length;
    expect(j(await call(e, 'POST', '/api/firewall/alias_util/add/hosts', { address: '203.0.113.7' }))).toEqual({ status: 'done' });
    expect(content('hosts')).toBe('203.0.113.7');
    expect(e.state().runtime.tables.hosts).toEqual(['203.0.113.7']);
    expect(e.state().history.length).toBe(before + 1);
  });

  it('the !array_search quirk: re-adding the first entry appends it again', async () => {
    await call(e, 'POST', '/api/firewall/alias_util/add/hosts', { address: '203.0.113.7' });
    expect(content('hosts')).toBe('203.0.113.7\n203.0.113.7');
    expect(e.state().runtime.tables.hosts).toEqual(['203.0.113.7']);
  });

  it('a network alias gets /32 in config; pf shows the bare host', async () => {
    await call(e, 'POST', '/api/firewall/alias_util/add/nets', { address: '198.51.100.4' });
    expect(content('nets')).toBe('198.51.100.4/32');
    expect(e.state().runtime.tables.nets).toEqual(['198.51.100.4']);
  });

  it('delete removes both config spellings, and only an exact pf line from the table', async () => {
    await call(e, 'POST', '/api/firewall/alias_util/delete/nets', { address: '198.51.100.4/32' });
    expect(content('nets')).toBe('');
    // pfctl shows 198.51.100.4, delete_table.py compares the literal argument: the runtime entry stays
    expect(e.state().runtime.tables.nets).toEqual(['198.51.100.4']);
    await call(e, 'POST', '/api/firewall/alias_util/delete/nets', { address: '198.51.100.4' });
    expect(e.state().runtime.tables.nets).toEqual([]);
  });

  it('flush is runtime only; list pages from the POST body, never the query string', async () => {
    await call(e, 'POST', '/api/firewall/alias_util/add/hosts', { address: '203.0.113.8' });
    await call(e, 'POST', '/api/firewall/alias_util/add/hosts', { address: '203.0.113.9' });
    const q = j(await call(e, 'GET', '/api/firewall/alias_util/list/hosts?rowCount=1'));
    expect(q.rowCount).toBe(3);
    const p = j(await call(e, 'POST', '/api/firewall/alias_util/list/hosts', { rowCount: 1, current: 2 }));
    expect([p.rowCount, p.total, p.current]).toEqual([1, 3, 2]);
    await call(e, 'POST', '/api/firewall/alias_util/flush/hosts', {});
    expect(e.state().runtime.tables.hosts).toEqual([]);
    expect(content('hosts')).toContain('203.0.113.8');
  });

  it('find_references answers the runtime tables holding an IP', async () => {
    await call(e, 'POST', '/api/firewall/alias_util/add/hosts', { address: '198.18.0.20' });
    expect(j(await call(e, 'POST', '/api/firewall/alias_util/find_references', { ip: '198.18.0.20' }))).toEqual({ status: 'ok', matches: ['hosts'] });
    expect(j(await call(e, 'POST', '/api/firewall/alias_util/find_references', { ip: '10.0.0.0/8' }))).toEqual({ status: 'Invalid IP specified!' });
  });

  it('wrong verb answers 200 {"status":"failed"}', async () => {
    const r = await call(e, 'GET', '/api/firewall/alias_util/add/hosts');
    expect([r.status, j(r)]).toEqual([200, { status: 'failed' }]);
  });
});

describe('states (§6, §7)', () => {
  it('kill_states strips ":" and "/": IPv6 addresses and CIDRs match nothing', async () => {
    emu.setStates([
      { src_addr: '2001:db8::5', dst_addr: '192.168.1.10' },
      { src_addr: '10.9.8.7', dst_addr: '192.168.1.10' },
    ]);
    expect(j(await call(emu, 'POST', '/api/diagnostics/firewall/kill_states', { filter: '2001:db8::5' }))).toEqual({ result: 'ok', dropped_states: 0 });
    expect(j(await call(emu, 'POST', '/api/diagnostics/firewall/kill_states', { filter: '10.9.8.0/24' }))).toEqual({ result: 'ok', dropped_states: 0 });
    expect(j(await call(emu, 'POST', '/api/diagnostics/firewall/kill_states', { filter: '10.9.8.7' }))).toEqual({ result: 'ok', dropped_states: 1 });
    expect(j(await call(emu, 'POST', '/api/diagnostics/firewall/kill_states', {}))).toEqual({ result: 'failed' });
  });

  it('query_states pages from the body (default 9999) and names interfaces', async () => {
    emu.setStates([
      { src_addr: '192.0.2.1', dst_addr: '192.168.1.10', iface: 'vtnet1' },
      { src_addr: '192.0.2.2', dst_addr: '192.168.1.10' },
    ]);
    const all = j(await call(emu, 'POST', '/api/diagnostics/firewall/query_states', {}));
    expect([all.total, all.rowCount]).toEqual([2, 2]);
    expect(all.rows[0].interface).toBe('LAN');
    const one = j(await call(emu, 'POST', '/api/diagnostics/firewall/query_states', { searchPhrase: '192.0.2.2' }));
    expect(one.rows.map((r: { src_addr: string }) => r.src_addr)).toEqual(['192.0.2.2']);
  });
});

describe('live reads (§6)', () => {
  it('IDS alerts come back eve-shaped, alert flattened to its signature, newest first', async () => {
    emu.addAlerts([
      { timestamp: '2026-12-07T04:00:00.000000+0000', event_type: 'alert', src_ip: '198.51.100.66', dest_ip: '192.168.1.10', proto: 'TCP', alert: { action: 'allowed', signature_id: 2010935, signature: 'ET SCAN Suspicious inbound to MSSQL port 1433', severity: 2 } },
      { timestamp: '2026-12-07T04:00:05.000000+0000', event_type: 'alert', src_ip: '198.51.100.67', dest_ip: '192.168.1.11', proto: 'TCP', alert: { action: 'blocked', signature_id: 2001219, signature: 'ET SCAN Potential SSH Scan', severity: 2 } },
    ]);
    const r = j(await call(emu, 'POST', '/api/ids/service/query_alerts', { rowCount: 10, current: 1 }));
    expect([r.total, r.rowCount, r.origin]).toEqual([2, 2, 'eve.json']);
    expect(r.rows[0]).toMatchObject({ alert: 'ET SCAN Potential SSH Scan', alert_sid: 2001219, alert_action: 'blocked', src_ip: '198.51.100.67' });
    const f = j(await call(emu, 'POST', '/api/ids/service/query_alerts', { searchPhrase: '198.51.100.66' }));
    expect(f.rows.map((x: { src_ip: string }) => x.src_ip)).toEqual(['198.51.100.66']);
    expect(j(await call(emu, 'GET', '/api/ids/service/query_alerts'))).toEqual([]);
  });

  it('interfaces, routes and the firewall log', async () => {
    const ifs = j(await call(emu, 'GET', '/api/interfaces/overview/interfaces_info'));
    expect(ifs.rows.map((x: { identifier: string }) => x.identifier)).toEqual(['wan', 'lan', 'lo0']);
    const routes = j(await call(emu, 'GET', '/api/diagnostics/interface/get_routes')) as unknown as Array<Record<string, string>>;
    expect(routes[0]).toMatchObject({ destination: 'default', netif: 'vtnet0', intf_description: 'WAN' });
    emu.addLog([{ action: 'block', src: '198.51.100.9', dst: '192.168.1.1', interface: 'vtnet0' }]);
    const log = j(await call(emu, 'GET', '/api/diagnostics/firewall/log?limit=5')) as unknown as Array<Record<string, string>>;
    expect(log[0]).toMatchObject({ action: 'block', src: '198.51.100.9' });
    expect((await call(emu, 'POST', '/api/diagnostics/firewall/log', {})).text).toBe('');
  });
});

describe('rules and NAT (§4, §5)', () => {
  it('CRUD is config only until apply; get_rule answers option maps; d_nat toggles disabled', async () => {
    const e = await startOpnsenseEmulator({ tls: false, keys: KEYS });
    try {
      const add = j(await call(e, 'POST', '/api/firewall/filter/add_rule', { rule: { action: 'block', interface: 'lan', source_net: '192.0.2.0/24' } }));
      expect(add.result).toBe('saved');
      expect(e.state().runtime.ruleset.filter).toHaveLength(0);
      const got = j(await call(e, 'GET', `/api/firewall/filter/get_rule/${add.uuid as string}`));
      expect(got.rule.action.block).toEqual({ value: 'Block', selected: 1 });
      expect(j(await call(e, 'GET', '/api/firewall/filter/get_rule/00000000-0000-4000-8000-000000000000'))).toEqual([]);
      const back = await call(e, 'POST', `/api/firewall/filter/set_rule/${add.uuid as string}`, { rule: { action: got.rule.action } });
      expect(back.status).toBe(500);
      expect(j(await call(e, 'POST', '/api/firewall/filter/apply', {}))).toEqual({ status: 'OK\n\n' });
      expect(e.state().runtime.ruleset.filter).toHaveLength(1);
      const dn = j(await call(e, 'POST', '/api/firewall/d_nat/add_rule', { rule: { sequence: '10', interface: 'wan', protocol: 'TCP', target: '192.168.1.10', 'local-port': '443' } }));
      expect(j(await call(e, 'POST', `/api/firewall/d_nat/toggle_rule/${dn.uuid as string}`, {}))).toEqual({ result: 'Disabled' });
      expect(e.state().config.dnat[0]?.disabled).toBe('1');
      const v = j(await call(e, 'POST', '/api/firewall/filter/add_rule', { rule: { source_net: 'not a net' } }));
      expect(v.validations).toEqual({ 'rule.source_net': 'not a net is not a valid source IP address or alias.' });
    } finally {
      await e.close();
    }
  });

  it('move_rule_before renumbers sequence within the priority group', async () => {
    const e = await startOpnsenseEmulator({ tls: false, keys: KEYS });
    try {
      const a = j(await call(e, 'POST', '/api/firewall/filter/add_rule', { rule: { interface: 'lan', sequence: '100' } })).uuid as string;
      const b = j(await call(e, 'POST', '/api/firewall/filter/add_rule', { rule: { interface: 'lan', sequence: '200' } })).uuid as string;
      expect(j(await call(e, 'POST', `/api/firewall/filter/move_rule_before/${b}/${a}`, {}))).toEqual({ status: 'ok' });
      const seq = (u: string) => Number(e.state().config.filter.find((r) => r.uuid === u)?.sequence);
      expect(seq(b)).toBeLessThan(seq(a));
      const fl = j(await call(e, 'POST', '/api/firewall/filter/add_rule', { rule: { interface: 'lan,wan' } })).uuid as string;
      const r = await call(e, 'POST', `/api/firewall/filter/move_rule_before/${fl}/${a}`, {});
      expect([r.status, j(r)]).toEqual([500, { errorMessage: "Cannot move 'Floating Rule' before 'Interface Rule'.", errorTitle: 'Filter' }]);
    } finally {
      await e.close();
    }
  });

  it('24.7: the 60 s rollback restores filter and source NAT rules and reloads; cancel stops it', async () => {
    const e = await startOpnsenseEmulator({ tls: false, keys: KEYS, version: '24.7' });
    try {
      await call(e, 'POST', '/api/firewall/filter/add_rule', { rule: { description: 'kept' } });
      const rev = j(await call(e, 'POST', '/api/firewall/filter/savepoint', {})).revision as string;
      expect(rev).toMatch(/^\d+\.\d{4}$/);
      await call(e, 'POST', '/api/firewall/filter/add_rule', { rule: { description: 'risky' } });
      await call(e, 'POST', '/api/firewall/source_nat/add_rule', { rule: { interface: 'wan', target: 'wanip' } });
      await call(e, 'POST', `/api/firewall/filter/apply/${rev}`, {});
      expect(e.state().runtime.ruleset.filter).toHaveLength(2);
      e.advance(59_000);
      expect(e.state().config.filter).toHaveLength(2);
      e.advance(1_500);
      expect(e.state().config.filter.map((r) => r.description)).toEqual(['kept']);
      expect(e.state().config.snat).toHaveLength(0);
      expect(e.state().runtime.ruleset.filter).toHaveLength(1);
      // cancel within the window
      const rev2 = j(await call(e, 'POST', '/api/firewall/filter/savepoint', {})).revision as string;
      await call(e, 'POST', '/api/firewall/filter/add_rule', { rule: { description: 'second' } });
      await call(e, 'POST', `/api/firewall/filter/apply/${rev2}`, {});
      expect(j(await call(e, 'POST', `/api/firewall/filter/cancel_rollback/${rev2}`, {}))).toEqual({ status: '\n\n' });
      e.advance(120_000);
      expect(e.state().config.filter).toHaveLength(2);
      expect(j(await call(e, 'POST', `/api/firewall/filter/cancel_rollback/${rev2}`, {}))).toEqual({ status: 'Execute error\n\n' });
      expect((await call(e, 'POST', '/api/firewall/d_nat/add_rule', { rule: {} })).status).toBe(404);
    } finally {
      await e.close();
    }
  });

  it('26.1.11: the savepoint revision names no backup, so the timer never reverts (opnsense/core#10721)', async () => {
    const e = await startOpnsenseEmulator({ tls: false, keys: KEYS });
    try {
      const rev = j(await call(e, 'POST', '/api/firewall/filter/savepoint', {})).revision as string;
      expect(rev).toMatch(/^\d+\.\d{2}$/);
      await call(e, 'POST', '/api/firewall/filter/add_rule', { rule: { description: 'risky' } });
      await call(e, 'POST', `/api/firewall/filter/apply/${rev}`, {});
      expect(e.state().rollback?.revision).toBe(rev);
      e.advance(61_000);
      expect(e.state().rollback).toBeNull();
      expect(e.state().config.filter).toHaveLength(1);
      expect(j(await call(e, 'POST', `/api/firewall/filter/revert/${rev}`, {}))).toEqual({ status: 'unknown (or removed) savepoint' });
      const ro = await call(e, 'POST', '/api/firewall/filter/apply', {}, { key: 'ro-key', secret: 'ro-secret' });
      expect(ro.status).toBe(500);
    } finally {
      await e.close();
    }
  });

  it('26.7: savepoint, cancel_rollback and revert are gone (404); apply/<rev> is a plain apply', async () => {
    const e = await startOpnsenseEmulator({ tls: false, keys: KEYS, version: '26.7' });
    try {
      expect((await call(e, 'POST', '/api/firewall/filter/savepoint', {})).status).toBe(404);
      expect((await call(e, 'POST', '/api/firewall/filter/cancel_rollback/1.00', {})).status).toBe(404);
      expect((await call(e, 'POST', '/api/firewall/filter/revert/1.00', {})).status).toBe(404);
      expect(j(await call(e, 'POST', '/api/firewall/filter/apply/1.00', {}))).toEqual({ status: 'OK\n\n' });
      expect(e.state().rollback).toBeNull();
      expect(j(await call(e, 'GET', '/api/core/firmware/status')).product.product_version).toBe('26.7');
    } finally {
      await e.close();
    }
  });
});

describe('state file, reboot, faults and hooks (§8)', () => {
  let dir: string;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('the configuration and its history survive a restart; the runtime is rebuilt as on boot', async () => {
    dir = mkdtempSync(join(tmpdir(), 'opn-emu-'));
    const stateFile = join(dir, 'box.json');
    const a = await startOpnsenseEmulator({ tls: false, keys: KEYS, stateFile });
    await addAlias(a, { name: 'persisted', type: 'host', content: '192.0.2.50' });
    await addAlias(a, { name: 'ext_p', type: 'external' });
    await call(a, 'POST', '/api/firewall/alias_util/add/ext_p', { address: '192.0.2.51' });
    const revisions = a.state().history.length;
    await a.close();
    const b = await startOpnsenseEmulator({ tls: false, keys: KEYS, stateFile });
    try {
      expect(b.state().history.length).toBe(revisions);
      expect(b.state().runtime.tables.persisted).toEqual(['192.0.2.50']);
      expect(b.state().runtime.tables.ext_p).toEqual([]);
    } finally {
      await b.close();
    }
  });

  it('faults apply per call with a count: status, drop, bad body, user exception, hang', async () => {
    emu.fault({ kind: 'status', status: 502, times: 2, path: '/api/core/firmware' });
    expect((await call(emu, 'GET', '/api/core/firmware/status')).status).toBe(502);
    expect((await call(emu, 'GET', '/api/core/firmware/status')).status).toBe(502);
    expect((await call(emu, 'GET', '/api/core/firmware/status')).status).toBe(200);
    emu.fault({ kind: 'drop' });
    await expect(call(emu, 'GET', '/api/core/firmware/status')).rejects.toThrow();
    emu.fault({ kind: 'bad-body' });
    expect((await call(emu, 'GET', '/api/core/firmware/status')).json).toBeNull();
    emu.fault({ kind: 'user-exception', body: 'Config locked', title: 'Config' });
    expect(j(await call(emu, 'POST', '/api/firewall/alias/reconfigure', {}))).toEqual({ errorMessage: 'Config locked', errorTitle: 'Config' });
    emu.fault({ kind: 'hang' });
    await expect(
      fetch(`${emu.url}/api/core/firmware/status`, { signal: AbortSignal.timeout(300) }),
    ).rejects.toThrow();
    expect(emu.requests().some((r) => r.fault === 'hang')).toBe(true);
  });

  it('the HTTP hooks drive the clock, the state table and faults without credentials', async () => {
    const before = emu.now();
    const adv = await call(emu, 'POST', '/__emulator/advance', { ms: 5000 }, null);
    expect((j(adv).now as number) - before).toBeGreaterThanOrEqual(5000);
    expect((await call(emu, 'PUT', '/__emulator/states', { states: [{ src_addr: '192.0.2.99', dst_addr: '10.0.0.1' }] }, null)).status).toBe(200);
    expect(emu.state().states.map((s) => s.src_addr)).toEqual(['192.0.2.99']);
    expect((await call(emu, 'POST', '/__emulator/faults', { kind: 'nope' }, null)).status).toBe(400);
    const st = j(await call(emu, 'GET', '/__emulator/state', undefined, null));
    expect(JSON.stringify(st)).not.toContain('admin-secret');
  });
});

describe('the emulator imports nothing from the adapters', () => {
  it('no module reachable from src/emulators/opnsense lies under src/adapters', () => {
    const root = resolve(import.meta.dirname, '../..');
    const seen = new Set<string>();
    const walk = (file: string): void => {
      if (seen.has(file)) return;
      seen.add(file);
      for (const m of readFileSync(file, 'utf8').matchAll(/(?:from|import)\s*\(?\s*['"](\.{1,2}\/[^'"]+)['"]/g)) {
        walk(resolve(dirname(file), m[1] as string));
      }
    };
    walk(join(root, 'src/emulators/opnsense/index.ts'));
    expect([...seen].filter((f) => f.includes('/src/adapters/'))).toEqual([]);
    expect(seen.size).toBeGreaterThan(5);
  });
});
