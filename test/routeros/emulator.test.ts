/**
 * @module The RouterOS v7 REST emulator against the device behaviour recorded in docs/reference/routeros-api.md
 * (§1 transport and auth, §2 errors, §3 address lists, §5 rules, §6 live state, §7 serial handling).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RouterOsEmulator, startRouterOsEmulator } from '../../src/emulators/routeros/index.ts';
import { formatDuration, parseDuration } from '../../src/emulators/routeros/duration.ts';
import { normaliseV4Address, normaliseV6Address } from '../../src/emulators/routeros/address.ts';
import { client } from './helpers.ts';

const AL = '/rest/ip/firewall/address-list';

describe('durations and addresses', () => {
  it('prints and parses RouterOS intervals', () => {
    expect(formatDuration(299_500)).toBe('4m59s');
    expect(formatDuration(93_784_000)).toBe('1d2h3m4s');
    expect(formatDuration(604_800_000)).toBe('1w');
    expect(formatDuration(0)).toBe('0s');
    expect(parseDuration('1d2h3m4s')).toBe(93_784_000);
    expect(parseDuration('00:05:00')).toBe(300_000);
    expect(parseDuration('300')).toBe(300_000);
    expect(parseDuration('1w')).toBe(604_800_000);
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('5x')).toBeNull();
  });
  it('normalises addresses the way the router stores them', () => {
    expect(normaliseV4Address('1.2.3.4/32')).toBe('1.2.3.4');
    expect(normaliseV4Address('10.1.2.3/24')).toBe('10.1.2.0/24');
    expect(normaliseV4Address('10.0.0.0-10.0.0.255')).toBe('10.0.0.0/24');
    expect(normaliseV4Address('10.0.0.1-10.0.0.5')).toBe('10.0.0.1-10.0.0.5');
    expect(normaliseV4Address('1.2.3.256')).toBeNull();
    expect(normaliseV6Address('2001:DB8:0:0::1')).toBe('2001:db8::1/128');
    expect(normaliseV6Address('2001:db8::1/64')).toBe('2001:db8::/64');
  });
});

describe('RouterOS emulator over plain www', () => {
  let emu: RouterOsEmulator;
  let call: ReturnType<typeof client>;
  beforeAll(async () => {
    emu = await startRouterOsEmulator({
      tls: false,
      users: [
        { name: 'admin', password: 'secret' },
        { name: 'reader', password: 'r', policies: ['read', 'api', 'rest-api'] },
        { name: 'norest', password: 'n', policies: ['read', 'write', 'api'] },
      ],
    });
    call = client(emu);
  });
  afterAll(() => emu.close());

  it('answers 401 without or with wrong credentials, and without the rest-api policy', async () => {
    const anon = await fetch(`${emu.url}${AL}`);
    expect(anon.status).toBe(401);
    expect(await anon.json()).toEqual({ error: 401, message: 'Unauthorized' });
    expect((await client(emu, 'admin', 'wrong')('GET', AL)).status).toBe(401);
    expect((await client(emu, 'norest', 'n')('GET', AL)).json).toEqual({ error: 401, message: 'Unauthorized' });
  });

  it('answers 500 not enough permissions (9) for a write without the write policy', async () => {
    const r = await client(emu, 'reader', 'r')('PUT', AL, { list: 'x', address: '192.0.2.1' });
    expect(r.status).toBe(500);
    expect(r.json).toEqual({ detail: 'not enough permissions (9)', error: 500, message: 'Internal Server Error' });
  });

  it('serves an HTML page outside /rest and 400 for an unknown menu', async () => {
    const page = await fetch(`${emu.url}/`);
    expect(page.headers.get('content-type')).toContain('text/html');
    const r = await call('GET', '/rest/ip/firewall/x');
    expect(r.status).toBe(400);
    expect(r.json).toEqual({ detail: 'no such command or directory (x)', error: 400, message: 'Bad Request' });
  });

  it('adds one entry per PUT (201), normalising the address; refuses duplicates; allows a disabled one', async () => {
    const put = await call('PUT', AL, { list: 'g1', address: '198.51.100.7/32', comment: 'portcullis:a' });
    expect(put.status).toBe(201);
    expect(put.json).toMatchObject({ address: '198.51.100.7', list: 'g1', disabled: 'false', dynamic: 'false' });
    expect(put.json['.id']).toMatch(/^\*[0-9A-F]+$/);
    expect(put.json['creation-time']).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    const dup = await call('PUT', AL, { list: 'g1', address: '198.51.100.7/32', comment: 'other', timeout: '1h' });
    expect(dup.status).toBe(400);
    expect(dup.json).toEqual({ detail: 'failure: already have such entry', error: 400, message: 'Bad Request' });
    const disabled = await call('PUT', AL, { list: 'g1', address: '198.51.100.7', disabled: 'true' });
    expect(disabled.status).toBe(201);
    const bad = await call('PUT', AL, { list: 'g1', address: '198.51.100.8', colour: 'red' });
    expect(bad.json).toEqual({ detail: 'unknown parameter colour', error: 400, message: 'Bad Request' });
  });

  it('counts a timeout down with the clock, shows the entry dynamic and drops it at zero', async () => {
    const put = await call('PUT', AL, { list: 'g2', address: '198.51.100.9', timeout: '5m' });
    expect(put.json).toMatchObject({ dynamic: 'true' });
    const dupOfDynamic = await call('PUT', AL, { list: 'g2', address: '198.51.100.9' });
    expect(dupOfDynamic.json.detail).toBe('failure: already have such entry');
    emu.advance(1000);
    const got = await call('GET', `${AL}/${put.json['.id']}`);
    expect(got.json.timeout).toBe('4m58s');
    emu.advance(299_000);
    expect((await call('GET', `${AL}?list=g2`)).json).toEqual([]);
    expect((await call('GET', `${AL}/${put.json['.id']}`)).json).toEqual({ error: 404, message: 'Not Found' });
  });

  it('filters GET by query string and .proplist, and POST print by .query', async () => {
    await call('PUT', AL, { list: 'g3', address: '203.0.113.10', timeout: '1h' });
    await call('PUT', AL, { list: 'g3', address: '203.0.113.11' });
    const got = await call('GET', `${AL}?list=g3&.proplist=address,dynamic`);
    expect(got.json).toEqual([
      { address: '203.0.113.10', dynamic: 'true' },
      { address: '203.0.113.11', dynamic: 'false' },
    ]);
    const printed = await call('POST', `${AL}/print`, { '.query': ['list=g3', 'dynamic=true', '#&'], '.proplist': ['address'] });
    expect(printed.json).toEqual([{ address: '203.0.113.10' }]);
  });

  it('PATCH merges; place-before is unknown on PATCH; DELETE 204 then 404', async () => {
    const put = await call('PUT', AL, { list: 'g4', address: '203.0.113.20', timeout: '10m' });
    const id = put.json['.id'] as string;
    const patched = await call('PATCH', `${AL}/${id}`, { timeout: '1h', comment: 'portcullis:z' });
    expect(patched.json).toMatchObject({ comment: 'portcullis:z', dynamic: 'true' });
    expect(parseDuration(patched.json.timeout)).toBeGreaterThan(3_500_000);
    expect((await call('PATCH', `${AL}/${id}`, { 'place-before': '*1' })).json.detail).toBe('unknown parameter place-before');
    expect((await call('DELETE', `${AL}/${id}`)).status).toBe(204);
    expect((await call('DELETE', `${AL}/${id}`)).json).toEqual({ error: 404, message: 'Not Found' });
  });

  it('reboot drops timed entries and resets uptime; static entries stay', async () => {
    await call('PUT', AL, { list: 'g5', address: '203.0.113.30', timeout: '1d' });
    await call('PUT', AL, { list: 'g5', address: '203.0.113.31' });
    emu.advance(3_600_000);
    expect((await call('GET', '/rest/system/resource')).json.uptime).toMatch(/^1h/);
    emu.reboot();
    expect((await call('GET', `${AL}?list=g5&.proplist=address`)).json).toEqual([{ address: '203.0.113.31' }]);
    const res = (await call('GET', '/rest/system/resource')).json;
    expect(res.uptime).toBe('0s');
    expect(res.version).toBe('7.16.2 (stable)');
  });

  it('orders filter rules: PUT appends, place-before inserts, move reorders, dynamic rules stay on top', async () => {
    const F = '/rest/ip/firewall/filter';
    const ids = async () => ((await call('GET', `${F}?.proplist=.id`)).json as Array<{ '.id': string }>).map((r) => r['.id']);
    const before = await ids();
    const a = (await call('PUT', F, { chain: 'input', action: 'accept', comment: 'A' })).json['.id'];
    expect((await ids()).at(-1)).toBe(a);
    const b = (await call('PUT', F, { chain: 'input', action: 'drop', comment: 'B', 'place-before': before[1] })).json['.id'];
    expect((await ids())[1]).toBe(b);
    await call('POST', `${F}/move`, { numbers: `${a},${b}`, destination: before[1] });
    expect((await ids()).slice(1, 3)).toEqual([a, b]);
    const dyn = (await call('GET', `${F}?dynamic=true`)).json;
    expect(dyn[0].comment).toBe('special dummy rule to show fasttrack counters');
  });

  it('POST add answers {ret}, POST set and remove answer [], unknown commands are 400', async () => {
    const added = await call('POST', `${AL}/add`, { list: 'p1', address: '192.0.2.200', timeout: '1m' });
    expect(added.status).toBe(200);
    expect(added.json.ret).toMatch(/^\*[0-9A-F]+$/);
    expect((await call('POST', `${AL}/set`, { '.id': added.json.ret, comment: 'x' })).json).toEqual([]);
    expect((await call('GET', `${AL}/${added.json.ret}`)).json.comment).toBe('x');
    expect((await call('POST', `${AL}/remove`, { numbers: added.json.ret })).json).toEqual([]);
    expect((await call('GET', `${AL}/${added.json.ret}`)).status).toBe(404);
    expect((await call('POST', `${AL}/frobnicate`, {})).json.detail).toBe('no such command or directory (frobnicate)');
    expect((await call('POST', `${AL}/move`, {})).json.detail).toBe('no such command or directory (move)');
  });

  it('processes one request at a time and records the concurrency it saw', async () => {
    const slow = await startRouterOsEmulator({ tls: false, latencyMs: 30, users: [{ name: 'a', password: 'b' }] });
    try {
      const c = client(slow);
      const t0 = Date.now();
      await Promise.all([c('GET', '/rest/system/identity'), c('GET', '/rest/system/identity'), c('GET', '/rest/system/identity')]);
      expect(Date.now() - t0).toBeGreaterThanOrEqual(85);
      expect(slow.maxInFlight()).toBe(3);
      slow.resetMaxInFlight();
      await c('GET', '/rest/system/identity');
      expect(slow.maxInFlight()).toBe(1);
    } finally {
      await slow.close();
    }
  });

  it('answers 400 Session closed past the request deadline', async () => {
    const slow = await startRouterOsEmulator({ tls: false, requestDeadlineMs: 50, users: [{ name: 'a', password: 'b' }] });
    try {
      slow.fault({ kind: 'slow', ms: 200 });
      const r = await client(slow)('GET', '/rest/system/identity');
      expect(r.json).toEqual({ detail: 'Session closed', error: 400, message: 'Bad Request' });
    } finally {
      await slow.close();
    }
  });

  it('lists connections with ip:port and deletes one by id', async () => {
    const id = emu.addConnection({ srcAddress: '198.51.100.50' });
    const conns = (await call('GET', '/rest/ip/firewall/connection')).json as Array<Record<string, string>>;
    expect(conns.find((c) => c['.id'] === id)?.['src-address']).toMatch(/^198\.51\.100\.50:\d+$/);
    expect((await call('GET', '/rest/ip/firewall/connection?src-address=198.51.100.50')).json).toEqual([]);
    expect((await call('DELETE', `/rest/ip/firewall/connection/${id}`)).status).toBe(204);
  });
});

describe('RouterOS emulator over www-ssl', () => {
  it('serves HTTPS with a self-signed certificate', async () => {
    const emu = await startRouterOsEmulator({ users: [{ name: 'admin', password: 'x' }] });
    try {
      expect(emu.url).toMatch(/^https:/);
      expect(emu.fingerprint).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    } finally {
      await emu.close();
    }
  });
});

/** A `test/routeros/upstream/*.response` file: its `# key: value` header and the JSON body. */
function quoted(file: string): { status: number; header: Map<string, string>; body: any } {
  const text = readFileSync(join(import.meta.dirname, 'upstream', file), 'utf8');
  const split = text.indexOf('\n\n');
  const header = new Map<string, string>();
  for (const line of text.slice(0, split).split('\n')) {
    const m = /^# ([a-z-]+): (.+)$/.exec(line);
    if (m !== null && !header.has(m[1] as string)) header.set(m[1] as string, m[2] as string);
  }
  return { status: Number(header.get('status')), header, body: JSON.parse(text.slice(split + 2)) };
}

const allStrings = (row: Record<string, unknown>) => Object.values(row).every((v) => typeof v === 'string');

describe('the emulator against responses quoted from upstream (test/routeros/upstream)', () => {
  let emu: RouterOsEmulator;
  let call: ReturnType<typeof client>;
  beforeAll(async () => {
    emu = await startRouterOsEmulator({
      tls: false,
      users: [
        { name: 'admin', password: 'secret' },
        { name: 'reader', password: 'r', policies: ['read', 'api', 'rest-api'] },
      ],
    });
    call = client(emu);
  });
  afterAll(() => emu.close());

  it('every quoted file names its source', () => {
    const files = readdirSync(join(import.meta.dirname, 'upstream')).filter((f) => f.endsWith('.response'));
    expect(files.length).toBeGreaterThanOrEqual(13);
    for (const file of files) {
      const { header } = quoted(file);
      expect(header.has('document') || header.has('repository') || header.has('reference'), file).toBe(true);
      expect(header.has('request'), file).toBe(true);
    }
  });

  it('manual-ip-address-put: a bare IP is stored /32 and the whole row comes back', async () => {
    const q = quoted('manual-ip-address-put.response');
    const r = await call('PUT', '/rest/ip/address', JSON.parse(q.header.get('request-body') as string));
    expect(r.status).toBe(q.status);
    expect({ ...r.json, '.id': q.body['.id'] }).toEqual(q.body);
  });

  it('manual-ip-address-list: rows carry the same properties, all strings', async () => {
    const q = quoted('manual-ip-address-list.response');
    const r = await call('GET', '/rest/ip/address');
    expect(r.status).toBe(q.status);
    const keys = new Set(Object.keys(q.body[0]));
    for (const row of r.json) {
      expect(allStrings(row)).toBe(true);
      expect(Object.keys(row).filter((k) => k !== 'comment').sort()).toEqual([...keys].sort());
    }
  });

  it('manual-print-proplist: print with .proplist gives only those properties', async () => {
    const q = quoted('manual-print-proplist.response');
    const r = await call('POST', '/rest/ip/address/print', JSON.parse(q.header.get('request-body') as string));
    expect(r.status).toBe(q.status);
    for (const row of r.json) expect(Object.keys(row).sort()).toEqual(Object.keys(q.body[0]).sort());
  });

  it('manual-delete-twice: the second DELETE is 404 without detail', async () => {
    const q = quoted('manual-delete-twice.response');
    const id = (await call('PUT', '/rest/ip/address', { address: '192.0.2.9/24', interface: 'ether2' })).json['.id'];
    expect((await call('DELETE', `/rest/ip/address/${id}`)).status).toBe(204);
    const r = await call('DELETE', `/rest/ip/address/${id}`);
    expect([r.status, r.json]).toEqual([q.status, q.body]);
  });

  it('manual-remove-interface: DELETE on a menu without remove is 406', async () => {
    const q = quoted('manual-remove-interface.response');
    const r = await call('DELETE', '/rest/interface/ether1');
    expect([r.status, r.json]).toEqual([q.status, q.body]);
  });

  it('manual-system-resource: the same fields, as one object', async () => {
    const q = quoted('manual-system-resource.response');
    const r = await call('GET', '/rest/system/resource');
    expect(r.status).toBe(q.status);
    expect(Array.isArray(r.json)).toBe(false);
    expect(allStrings(r.json)).toBe(true);
    for (const key of Object.keys(q.body[0])) expect(r.json).toHaveProperty(key);
    expect(r.json['build-time']).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
  });

  it('manual-session-closed: past the deadline', async () => {
    const q = quoted('manual-session-closed.response');
    const slow = await startRouterOsEmulator({ tls: false, requestDeadlineMs: 40, users: [{ name: 'a', password: 'b' }] });
    try {
      slow.fault({ kind: 'slow', ms: 150 });
      const r = await client(slow)('POST', '/rest/ip/firewall/address-list/print', {});
      expect([r.status, r.json]).toEqual([q.status, q.body]);
    } finally {
      await slow.close();
    }
  });

  it('tf-address-list-entry: a timed entry has the provider sample’s properties', async () => {
    const q = quoted('tf-address-list-entry.response');
    const put = await call('PUT', AL, { list: 'AAA', address: '0.0.0.0', timeout: '10s' });
    const r = await call('GET', `${AL}/${put.json['.id']}`);
    expect(r.status).toBe(q.status);
    expect(Object.keys(r.json).sort()).toEqual(Object.keys(q.body).sort());
    expect(r.json.dynamic).toBe(q.body.dynamic);
  });

  it('field-*: unauthorized, unknown path, duplicate, permissions, place-before on PATCH', async () => {
    const expectQuoted = (file: string, r: { status: number; json: any }) => {
      const q = quoted(file);
      expect([r.status, r.json], file).toEqual([q.status, q.body]);
    };
    expectQuoted('field-unauthorized.response', await client(emu, 'admin', 'wrong')('GET', AL));
    expectQuoted('field-no-such-command.response', await call('GET', '/rest/ip/firewall/x'));
    await call('PUT', AL, { list: 'dup', address: '192.0.2.77' });
    expectQuoted('field-already-have.response', await call('PUT', AL, { list: 'dup', address: '192.0.2.77/32' }));
    expectQuoted(
      'field-not-enough-permissions.response',
      await client(emu, 'reader', 'r')('PUT', AL, { list: 'x', address: '192.0.2.78' }),
    );
    const rule = (await call('PUT', '/rest/ip/firewall/filter', { chain: 'input', action: 'accept' })).json['.id'];
    expectQuoted(
      'field-unknown-parameter.response',
      await call('PATCH', `/rest/ip/firewall/filter/${rule}`, { 'place-before': '*1' }),
    );
  });
});
