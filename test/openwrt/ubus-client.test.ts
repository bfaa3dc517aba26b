/**
 * @module The OpenWrt adapter against upstream-quoted responses (test/openwrt/upstream/README.md gives each one's
 * source), served by a tiny test server — independent of the emulator: session login and re-login, every JSON-RPC
 * error and ubus status mapped to its OWRT code, the 64 KiB body rule, the version gate, nft JSON parsing.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  OpenWrtAdapter,
  OpenWrtError,
  batchParams,
  packChanges,
  parseFirewallLine,
  parseNftSet,
  UHTTPD_MAX_POST,
} from '../../src/adapters/openwrt/index.ts';

const UP = join(import.meta.dirname, 'upstream');
const quoted = (file: string) => JSON.parse(readFileSync(join(UP, file), 'utf8')) as Record<string, unknown>;
const errors = quoted('json-rpc-errors.json');
const login = quoted('login.json');
const exec = quoted('file-exec.json');
const SID = 'c1ed6c7b025d0caca723a816fa61b668';

type Params = [string, string, string, Record<string, unknown>];
type Handler = (p: Params) => unknown;

let server: Server;
let url: string;
let handler: Handler;
const bodies: number[] = [];
let logins = 0;

const ok = (data?: unknown) => ({ jsonrpc: '2.0', id: 1, result: data === undefined ? [0] : [0, data] });
const board = (version: string) =>
  ok({ release: { distribution: 'OpenWrt', version, revision: 'r1', description: `OpenWrt ${version} r1` } });

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      bodies.push(raw.length);
      res.setHeader('content-type', 'application/json');
      if (req.url !== '/ubus') {
        res.statusCode = 404;
        res.end();
        return;
      }
      // uhttpd: a body over UH_UBUS_MAX_POST_SIZE is a parse error (upstream/json-rpc-errors.json "parse").
      if (raw.length > UHTTPD_MAX_POST) {
        res.end(JSON.stringify(errors.parse));
        return;
      }
      const msg = JSON.parse(raw.toString('utf8')) as { params: Params };
      const [sid, object, method] = msg.params;
      if (object === 'session' && method === 'login') {
        logins++;
        res.end(JSON.stringify(handler(msg.params) ?? login.ok));
        return;
      }
      if (sid !== SID) {
        res.end(JSON.stringify(errors.access));
        return;
      }
      res.end(JSON.stringify(handler(msg.params)));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
});
beforeEach(() => {
  logins = 0;
  bodies.length = 0;
});

const adapter = () =>
  new OpenWrtAdapter({ url, username: 'portcullis', password: 'hunter2-secret', retry: { maxRetries: 0 } });
const codeOf = async (p: Promise<unknown>) =>
  p.then(
    () => null,
    (e: unknown) => (e instanceof OpenWrtError ? e : Promise.reject(e instanceof Error ? e : new Error(String(e)))),
  );

describe('session', () => {
  it('logs in with the null SID once and reuses the SID', async () => {
    handler = ([, o, m]) => (o === 'system' && m === 'board' ? board('23.05.3') : undefined);
    const a = adapter();
    await a.version();
    await a.version();
    expect(logins).toBe(1);
    await a.close();
  });

  it('re-logs in once on -32002 (expired session) and retries the call', async () => {
    let calls = 0;
    handler = ([, o, m]) => {
      if (o === 'system' && m === 'board') {
        // The second call finds the session expired (rpcd's 300 s idle timeout, §1).
        if (++calls === 2) return errors.access;
        return board('23.05.3');
      }
      return undefined;
    };
    const a = adapter();
    await a.version();
    expect((await a.version()).product).toBe('OpenWrt 23.05.3 r1');
    expect([logins, calls]).toEqual([2, 3]);
    await a.close();
  });

  it('-32002 after a fresh login is an ACL miss: OWRT002 naming the ubus object and method', async () => {
    handler = ([, o]) => (o === 'session' ? undefined : errors.access);
    const a = adapter();
    const err = await codeOf(a.version());
    expect(err?.code).toBe('OWRT002');
    expect(err?.grant).toBe('ubus system.board');
    expect(logins).toBe(1);
    await a.close();
  });

  it('bad credentials (login result [6]) are OWRT001, and the password never shows', async () => {
    handler = ([, o]) => (o === 'session' ? login.denied : ok({}));
    const a = adapter();
    const err = await codeOf(a.version());
    expect(err?.code).toBe('OWRT001');
    expect(err?.message).not.toContain('hunter2-secret');
    await a.close();
  });
});

describe('every answer is inspected', () => {
  it.each([
    ['object', 'OWRT005'],
    ['timeout', 'OWRT004'],
    ['internal', 'OWRT300'],
    ['params', 'OWRT400'],
    ['parse', 'OWRT400'],
  ])('JSON-RPC error %s → %s', async (name, code) => {
    handler = ([, o]) => (o === 'session' ? undefined : errors[name]);
    const a = adapter();
    expect((await codeOf(a.version()))?.code).toBe(code);
    await a.close();
  });

  it.each([
    [7, 'OWRT004'],
    [3, 'OWRT005'],
    [9, 'OWRT300'],
  ])('ubus status result [%i] → %s', async (status, code) => {
    handler = ([, o]) => (o === 'session' ? undefined : { jsonrpc: '2.0', id: 1, result: [status] });
    const a = adapter();
    const err = await codeOf(a.version());
    expect([err?.code, err?.ubusStatus]).toEqual([code, status]);
    await a.close();
  });

  it('file.exec PERMISSION_DENIED names the exec path to grant; NOT_FOUND names the program', async () => {
    const a = adapter();
    handler = ([, o, m]) => (o === 'system' ? board('23.05.3') : m === 'exec' ? exec.denied : undefined);
    const denied = await codeOf(a.killStates('192.0.2.1'));
    expect(denied?.code).toBe('OWRT002');
    expect(denied?.grant).toContain('file exec /usr/sbin/conntrack');
    handler = ([, o, m]) => (o === 'system' ? board('23.05.3') : m === 'exec' ? exec.missing : undefined);
    expect((await codeOf(a.killStates('192.0.2.1')))?.code).toBe('OWRT005');
    await a.close();
  });

  it('counts killed connections from conntrack’s own line (both directions)', async () => {
    handler = ([, , m]) => (m === 'exec' ? exec.conntrack : undefined);
    const a = adapter();
    expect(await a.killStates('192.0.2.1')).toBe(6);
    await a.close();
  });

  it('a 404 on /ubus means no uhttpd-mod-ubus (OWRT005)', async () => {
    const a = new OpenWrtAdapter({ url: `${url}/nope`, username: 'u', password: 'p', retry: { maxRetries: 0 } });
    expect((await codeOf(a.version()))?.code).toBe('OWRT005');
    await a.close();
  });
});

describe('version gate', () => {
  it.each(['21.02.7', '19.07.10'])('refuses %s (fw3/iptables) with OWRT006', async (v) => {
    handler = ([, o]) => (o === 'system' ? board(v) : undefined);
    const a = adapter();
    expect((await codeOf(a.version()))?.code).toBe('OWRT006');
    await a.close();
  });

  it.each(['22.03.0', '23.05.5', '24.10.0', 'SNAPSHOT'])('accepts %s', async (v) => {
    handler = ([, o]) => (o === 'system' ? board(v) : undefined);
    const a = adapter();
    expect((await a.version()).raw).toBeTruthy();
    await a.close();
  });
});

describe('64 KiB request rule', () => {
  it('splits a large set write into several file.exec calls, none over 64 KiB', async () => {
    const live: string[] = [];
    handler = ([, o, m, args]) => {
      if (o === 'system') return board('23.05.3');
      if (o === 'uci' && m === 'get') {
        return ok({ values: { granted: { '.name': 'granted', '.type': 'ipset', '.index': 0, name: 'granted', match: ['src_ip'], timeout: '0' } } });
      }
      if (m === 'exec') {
        const params = args.params as string[];
        if (params[0] === '-j') {
          const elem = live.map((a) => ({ elem: { val: a, timeout: 600, expires: 600, comment: 'portcullis:g' } }));
          return ok({ code: 0, stdout: JSON.stringify({ nftables: [{ set: { name: 'granted', type: 'ipv4_addr', flags: ['timeout'], elem } }] }) });
        }
        const list = (params[5] ?? '').replace(/[{}]/g, '').split(',').map((x) => x.trim().split(' ')[0] as string);
        live.push(...list);
        return ok({ code: 0, stdout: '', stderr: '' });
      }
      return undefined;
    };
    const a = adapter();
    const entries = Array.from({ length: 3000 }, (_, i) => ({
      address: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
      detail: `portcullis:grant-${'x'.repeat(20)}-${i}`,
      expiresAt: Date.now() + 600_000,
    }));
    await a.setAliasEntries('granted', entries);
    expect(live).toHaveLength(3000);
    const adds = bodies.filter((b) => b > 10_000);
    expect(adds.length).toBeGreaterThan(1);
    expect(Math.max(...bodies)).toBeLessThanOrEqual(UHTTPD_MAX_POST);
    await a.close();
  });

  it('refuses an item that cannot fit one request (OWRT007)', () => {
    expect(() => packChanges('s', [{ add: '1.2.3.4 comment "x"' }], 150)).toThrow(/OWRT007/);
  });

  it('a rewrite (new expiry) is one nft transaction: delete and add in the same command', () => {
    expect(batchParams('s', [{ del: '192.0.2.1', add: '192.0.2.1 timeout 60s comment "portcullis:g"' }, { add: '192.0.2.2' }])).toEqual([
      'delete', 'element', 'inet', 'fw4', 's', '{ 192.0.2.1 }', ';',
      'add', 'element', 'inet', 'fw4', 's', '{ 192.0.2.1 timeout 60s comment "portcullis:g", 192.0.2.2 }',
    ]);
  });
});

describe('parsing quoted output', () => {
  it('nft JSON: bare strings and wrapped elements with a comment (knftables fixture)', () => {
    const set = parseNftSet(readFileSync(join(UP, 'nft-list-set.json'), 'utf8'));
    expect(set?.elements).toEqual([
      { address: '192.168.1.1', comment: null, expires: null },
      { address: '192.168.1.2', comment: null, expires: null },
      { address: '192.168.1.3', comment: 'with a comment', expires: null },
    ]);
  });

  it('nft JSON: timeout flag, expires in seconds, prefixes', () => {
    const set = parseNftSet(readFileSync(join(UP, 'nft-list-set-timeout.json'), 'utf8'));
    expect(set?.flags).toEqual(['timeout']);
    expect(set?.elements.map((e) => [e.address, e.expires, e.comment])).toEqual([
      ['198.51.100.9', null, null],
      ['203.0.113.7', 3541, 'portcullis:g1'],
      ['10.1.0.0/16', null, null],
    ]);
  });

  it('an fw4 log line', () => {
    const line = readFileSync(join(UP, 'fw4-log.txt'), 'utf8').trim();
    expect(parseFirewallLine(line, 1_700_000_000)).toMatchObject({
      action: 'reject',
      interface: 'eth1',
      direction: 'in',
      protocol: 'tcp',
      source_ip: '203.0.113.50',
      source_port: 51515,
      dest_ip: '198.51.100.2',
      dest_port: 22,
      reason: 'reject wan in',
    });
  });
});
