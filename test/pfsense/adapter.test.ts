/**
 * @module The pfSense adapter against the pfRest emulator over real HTTPS on loopback: every operation, the
 * request shape pfRest needs, retry and no-retry, the circuit breaker, and the apply confirmation.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type PfSenseAdapter, PfSenseError, REQUIRED_PRIVILEGES } from '../../src/adapters/pfsense/index.ts';
import { type PfRestEmulator, startPfRestEmulator } from '../../src/emulators/pfrest/index.ts';
import { adapterFor, closedPort, failure, liveState } from './helpers.ts';

let emu: PfRestEmulator;

beforeAll(async () => {
  emu = await startPfRestEmulator();
});
afterAll(async () => {
  await emu.close();
});
afterEach(() => {
  emu.reset();
});

describe('version', () => {
  it('reads the pfSense and pfRest versions', async () => {
    const adapter = adapterFor(emu);
    const v = await adapter.version();
    expect(v.product).toBe('2.8.1-RELEASE');
    expect(v.api).toBe('v2.10.0');
    await adapter.close();
  });

  it('reports the pfRest version as unknown when that endpoint is missing', async () => {
    const adapter = adapterFor(emu);
    emu.injectFault({ kind: 'package-absent', path: '/api/v2/system/restapi/version' });
    expect(await adapter.version()).toMatchObject({ product: '2.8.1-RELEASE', api: 'unknown' });
    await adapter.close();
  });

  it('reports the pfRest version as unknown when only the least privileges are granted', async () => {
    const adapter = adapterFor(emu, { apiKey: emu.addKey(['api-v2-system-version-get']) });
    expect(await adapter.version()).toMatchObject({ product: '2.8.1-RELEASE', api: 'unknown' });
    await adapter.close();
  });
});

describe('aliases', () => {
  it('returns null for a missing alias, creates it, then reads it by name', async () => {
    const adapter = adapterFor(emu);
    expect(await adapter.getAlias('portcullis_jit')).toBeNull();
    await adapter.createAlias('portcullis_jit', 'host', 'Managed by Portcullis');
    expect(await adapter.getAlias('portcullis_jit')).toEqual({
      name: 'portcullis_jit',
      type: 'host',
      descr: 'Managed by Portcullis',
      entries: [],
    });
    await adapter.close();
  });

  it('writes addresses and details together in exactly one PATCH', async () => {
    const adapter = adapterFor(emu);
    await adapter.createAlias('jit_users', 'host', '');
    const entries = [
      { address: '198.51.100.7', detail: 'admin: office' },
      { address: '203.0.113.9', detail: 'portcullis:grant-1' },
    ];
    await adapter.setAliasEntries('jit_users', entries);
    const patches = emu.requests().filter((r) => r.method === 'PATCH');
    expect(patches).toHaveLength(1);
    expect(patches[0]?.body).toMatchObject({
      name: 'jit_users',
      address: ['198.51.100.7', '203.0.113.9'],
      detail: ['admin: office', 'portcullis:grant-1'],
    });
    expect((await adapter.getAlias('jit_users'))?.entries).toEqual(entries);
    // Shrinking the list never trips TOO_MANY_ALIAS_DETAILS: the details shrink with it.
    await adapter.setAliasEntries('jit_users', [entries[0] as (typeof entries)[0]]);
    expect(emu.state().aliases[0]).toMatchObject({ address: ['198.51.100.7'], detail: ['admin: office'] });
    await adapter.setAliasEntries('jit_users', []);
    expect(emu.state().aliases[0]).toMatchObject({ address: [], detail: [] });
    await adapter.close();
  });

  it('re-resolves the id by name after ids shift (an earlier alias deleted)', async () => {
    const adapter = adapterFor(emu);
    for (const name of ['first', 'second', 'third']) await adapter.createAlias(name, 'host', '');
    await deleteAliasById(0);
    await adapter.setAliasEntries('third', [{ address: '192.0.2.1', detail: 'x' }]);
    const state = emu.state();
    expect(state.aliases.map((a) => a.name)).toEqual(['second', 'third']);
    expect(state.aliases[1]?.address).toEqual(['192.0.2.1']);
    expect(state.aliases[0]?.address).toEqual([]);
    await adapter.close();
  });

  it('lists every alias with its current position', async () => {
    const adapter = adapterFor(emu);
    await adapter.createAlias('a_one', 'host', '');
    await adapter.createAlias('b_two', 'network', 'nets');
    expect(await adapter.listAliases()).toEqual([
      { id: 0, name: 'a_one', type: 'host', descr: '', entries: [] },
      { id: 1, name: 'b_two', type: 'network', descr: 'nets', entries: [] },
    ]);
    await adapter.close();
  });

  it('filters the name query exactly (pfRest compares `name=true` loosely against every alias)', async () => {
    const adapter = adapterFor(emu);
    await adapter.createAlias('some_alias', 'host', '');
    expect(await adapter.getAlias('true')).toBeNull();
    await adapter.close();
  });

  it('rejects entries the device would split (whitespace in an address, `||` in a detail) before sending', async () => {
    const adapter = adapterFor(emu);
    await adapter.createAlias('jit', 'host', '');
    expect(
      (await failure(() => adapter.setAliasEntries('jit', [{ address: '1.2.3.4 5.6.7.8', detail: '' }])))
        .code,
    ).toBe('PFS102');
    expect(
      (await failure(() => adapter.setAliasEntries('jit', [{ address: '1.2.3.4', detail: 'a||b' }]))).code,
    ).toBe('PFS102');
    expect(emu.requests().filter((r) => r.method === 'PATCH')).toHaveLength(0);
    await adapter.close();
  });
});

/** Deletes alias `id` through the pfRest API with a plain HTTPS request (not through the adapter). */
async function deleteAliasById(id: number): Promise<void> {
  const { request, Agent } = await import('undici');
  const agent = new Agent({ connect: { ca: emu.caPem } });
  const res = await request(`${emu.url}/api/v2/firewall/alias?id=${id}`, {
    method: 'DELETE',
    headers: { 'x-api-key': emu.apiKey },
    dispatcher: agent,
  });
  expect(res.statusCode).toBe(200);
  await res.body.text();
  await agent.close();
}

describe('least privilege (REQUIRED_PRIVILEGES)', () => {
  const ops: Array<[keyof typeof REQUIRED_PRIVILEGES, (a: PfSenseAdapter) => Promise<unknown>]> = [
    ['version', (a) => a.version()],
    ['getAlias', (a) => a.getAlias('least')],
    ['createAlias', (a) => a.createAlias('least_new', 'host', '')],
    [
      'setAliasEntries',
      (a) => a.setAliasEntries('least', [{ address: '192.0.2.3', detail: 'portcullis:g' }]),
    ],
    ['apply', (a) => a.apply()],
    ['killStates', (a) => a.killStates('192.0.2.3')],
    ['listRules', (a) => a.listRules()],
    ['listInterfaces', (a) => a.listInterfaces()],
  ];

  it('covers every operation listed', () => {
    expect(ops.map(([op]) => op).sort()).toEqual(Object.keys(REQUIRED_PRIVILEGES).sort());
  });

  it.each(ops)('%s succeeds with exactly its listed privileges', async (op, run) => {
    const admin = adapterFor(emu);
    await admin.createAlias('least', 'host', '');
    await admin.close();
    const adapter = adapterFor(emu, { apiKey: emu.addKey([...REQUIRED_PRIVILEGES[op]]) });
    await expect(run(adapter)).resolves.not.toThrow();
    await adapter.close();
  });

  it('without one of them the call fails PFS002 naming the missing one', async () => {
    const admin = adapterFor(emu);
    await admin.createAlias('least', 'host', '');
    await admin.close();
    const adapter = adapterFor(emu, { apiKey: emu.addKey(['api-v2-firewall-aliases-get']) });
    const err = await failure(() => adapter.setAliasEntries('least', []));
    expect([err.code, err.privilege]).toEqual(['PFS002', 'api-v2-firewall-alias-patch']);
    await adapter.close();
  });
});

describe('request shape (docs/reference/pfrest-contract.md §1, §12)', () => {
  it('sends X-API-Key and Accept: application/json; no Content-Type on GET/DELETE; JSON on writes', async () => {
    const adapter = adapterFor(emu);
    await adapter.createAlias('shape', 'host', '');
    await adapter.setAliasEntries('shape', [{ address: '192.0.2.10', detail: 'x' }]);
    await adapter.killStates('192.0.2.10');
    for (const r of emu.requests()) {
      expect(r.auth).toBe('key');
      expect(r.accept).toBe('application/json');
      if (r.method === 'GET' || r.method === 'DELETE') expect(r.contentType).toBeNull();
      else expect(r.contentType).toBe('application/json');
    }
    await adapter.close();
  });
});

describe('apply', () => {
  it('async: polls GET /firewall/apply until applied; the live table changes only then', async () => {
    const slow = await startPfRestEmulator({ applyDelayMs: 200 });
    const adapter = adapterFor(slow);
    await adapter.createAlias('jit', 'host', '');
    await adapter.setAliasEntries('jit', [{ address: '203.0.113.5', detail: 'portcullis:g' }]);
    expect(await adapter.pendingStatus()).toEqual({ applied: false, pending: ['aliases'] });
    expect(slow.state().tables.jit).toBeUndefined();
    expect(await adapter.apply()).toEqual({ applied: true, pending: [] });
    expect(slow.state().tables.jit).toEqual(['203.0.113.5']);
    const polls = slow.requests().filter((r) => r.method === 'GET' && r.path === '/api/v2/firewall/apply');
    expect(polls.length).toBeGreaterThanOrEqual(2); // one pendingStatus above + at least one poll
    await adapter.close();
    await slow.close();
  });

  it('sync: one POST {"async": false} answers applied:true', async () => {
    const slow = await startPfRestEmulator({ applyDelayMs: 150 });
    const adapter = adapterFor(slow, { apply: { mode: 'sync' } });
    await adapter.createAlias('jit', 'host', '');
    await adapter.setAliasEntries('jit', [{ address: '203.0.113.6', detail: 'g' }]);
    expect(await adapter.apply()).toEqual({ applied: true, pending: [] });
    const posts = slow.requests().filter((r) => r.path === '/api/v2/firewall/apply');
    expect(posts.map((r) => [r.method, r.body])).toEqual([['POST', { async: false }]]);
    expect(slow.state().tables.jit).toEqual(['203.0.113.6']);
    await adapter.close();
    await slow.close();
  });

  it('PFS200 when the changes are still pending at the deadline', async () => {
    const stuck = await startPfRestEmulator({ applyDelayMs: 10_000 });
    const adapter = adapterFor(stuck, { apply: { deadlineMs: 150, pollIntervalMs: 20 } });
    await adapter.createAlias('jit', 'host', '');
    const err = await failure(() => adapter.apply());
    expect(err).toBeInstanceOf(PfSenseError);
    expect(err.code).toBe('PFS200');
    expect(err.message).toContain('aliases');
    expect(err.retryable).toBe(true);
    await adapter.close();
    await stuck.close();
  });
});

describe('states', () => {
  it('kills the states of one address (as source or destination) and counts them', async () => {
    emu.setStates([
      liveState('203.0.113.9:50000', '192.168.1.10:443'),
      liveState('203.0.113.9:50001', '192.168.1.10:22'),
      liveState('203.0.113.90:50002', '192.168.1.10:443'),
      liveState('192.168.1.20:40000', '203.0.113.9:80', { direction: 'out' }),
      liveState('198.51.100.1:1234', '192.168.1.10:443'),
    ]);
    const adapter = adapterFor(emu);
    expect(await adapter.killStates('203.0.113.9')).toBe(3);
    expect(emu.state().states.map((s) => s.source)).toEqual(['203.0.113.90:50002', '198.51.100.1:1234']);
    expect(await adapter.killStates('203.0.113.9')).toBe(0);
    await adapter.close();
  });

  it('matches IPv6 states by the canonical address', async () => {
    emu.setStates([
      liveState('[2001:db8::9]:50000', '[2001:db8::1]:443'),
      liveState('2001:db8::9[50001]', '2001:db8::1[443]'),
      liveState('[2001:db8::99]:1', '[2001:db8::1]:443'),
    ]);
    const adapter = adapterFor(emu);
    expect(await adapter.killStates('2001:0db8:0:0::9')).toBe(2);
    expect(emu.state().states).toHaveLength(1);
    await adapter.close();
  });

  it('refuses something that is not an IP address', async () => {
    const adapter = adapterFor(emu);
    await expect(adapter.killStates('1.2.3.4/.*')).rejects.toThrow(TypeError);
    await expect(adapter.killStates('127.1')).rejects.toThrow(TypeError);
    await adapter.close();
  });
});

describe('reads for later work', () => {
  it('lists rules and interfaces as typed objects', async () => {
    const adapter = adapterFor(emu);
    const rules = await adapter.listRules();
    expect(rules).toHaveLength(1);
    expect(rules[0]).toMatchObject({
      id: 0,
      type: 'pass',
      interface: ['lan'],
      source: 'lan',
      destination: 'any',
      floating: false,
    });
    expect(typeof rules[0]?.tracker).toBe('number');
    const interfaces = await adapter.listInterfaces();
    expect(interfaces.map((i) => [i.id, i.descr])).toEqual([
      ['wan', 'WAN'],
      ['lan', 'LAN'],
    ]);
    await adapter.close();
  });
});

describe('resilience', () => {
  it('retries an idempotent read after a dropped connection', async () => {
    const adapter = adapterFor(emu);
    emu.injectFault({ kind: 'drop', times: 1, path: '/api/v2/system/version' });
    expect((await adapter.version()).product).toBe('2.8.1-RELEASE');
    expect(emu.requests().filter((r) => r.path === '/api/v2/system/version')).toHaveLength(2);
    await adapter.close();
  });

  it('retries a read answered 500, but never a write', async () => {
    const adapter = adapterFor(emu);
    await adapter.createAlias('jit', 'host', '');
    emu.injectFault({ kind: 'status', status: 500, times: 1, method: 'GET' });
    expect(await adapter.getAlias('jit')).not.toBeNull();
    emu.injectFault({ kind: 'status', status: 500, times: 1, method: 'PATCH' });
    const err = await failure(() => adapter.setAliasEntries('jit', [{ address: '192.0.2.1', detail: '' }]));
    expect(err.code).toBe('PFS102');
    expect(emu.requests().filter((r) => r.method === 'PATCH')).toHaveLength(1);
    await adapter.close();
  });

  it('never resends a write whose connection dropped: PFS000 after exactly one PATCH', async () => {
    const adapter = adapterFor(emu);
    await adapter.createAlias('jit', 'host', '');
    emu.injectFault({ kind: 'drop', method: 'PATCH' });
    const err = await failure(() => adapter.setAliasEntries('jit', [{ address: '192.0.2.1', detail: '' }]));
    expect(err.code).toBe('PFS000');
    expect(emu.requests().filter((r) => r.method === 'PATCH')).toHaveLength(1);
    await adapter.close();
  });

  it('opens the breaker on repeated 5xx and lets a trial call through after the half-open delay', async () => {
    const adapter = adapterFor(emu, {
      retry: { maxRetries: 0 },
      breaker: { threshold: 2, halfOpenAfterMs: 100 },
    });
    emu.injectFault({ kind: 'status', status: 500, times: 2 });
    await failure(() => adapter.version());
    await failure(() => adapter.version());
    const open = await failure(() => adapter.version());
    expect(open.message).toContain('circuit breaker open');
    const seen = emu.requests().length;
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect((await adapter.version()).product).toBe('2.8.1-RELEASE');
    expect(emu.requests().length).toBeGreaterThan(seen);
    await adapter.close();
  });

  it('opens the circuit breaker after repeated connection failures and says so', async () => {
    const port = await closedPort();
    const adapter = adapterFor(emu, {
      url: `https://127.0.0.1:${port}`,
      retry: { maxRetries: 0 },
      breaker: { threshold: 2, halfOpenAfterMs: 60_000 },
    });
    expect((await failure(() => adapter.version())).message).toContain('ECONNREFUSED');
    await failure(() => adapter.version());
    const err = await failure(() => adapter.version());
    expect(err.code).toBe('PFS000');
    expect(err.message).toContain('circuit breaker open');
    await adapter.close();
  });

  it('shares one breaker between adapters built for the same gateway key', async () => {
    const port = await closedPort();
    const opts = {
      url: `https://127.0.0.1:${port}`,
      retry: { maxRetries: 0 },
      breaker: { threshold: 1 },
      gatewayKey: `gw-${port}`,
    };
    const first = adapterFor(emu, opts);
    await failure(() => first.version());
    const second = adapterFor(emu, opts);
    expect((await failure(() => second.version())).message).toContain('circuit breaker open');
    await first.close();
    await second.close();
  });
});

describe('TLS trust modes', () => {
  it('trusts the certificate as a PEM CA bundle', async () => {
    const adapter = adapterFor(emu, { tls: { mode: 'ca', caPem: emu.caPem } });
    expect((await adapter.version()).product).toBe('2.8.1-RELEASE');
    expect(adapter.warnings).toEqual([]);
    await adapter.close();
  });

  it('accepts a pinned fingerprint in plain hex as well as AA:BB form', async () => {
    const adapter = adapterFor(emu, {
      tls: { mode: 'fingerprint', sha256: emu.fingerprint.replace(/:/g, '').toLowerCase() },
    });
    expect((await adapter.version()).product).toBe('2.8.1-RELEASE');
    await adapter.close();
  });

  it('insecure TLS mode reads the version without verifying the certificate and warns that verification is off', async () => {
    const adapter = adapterFor(emu, { tls: { mode: 'insecure' } });
    expect((await adapter.version()).product).toBe('2.8.1-RELEASE');
    expect(adapter.warnings.join(' ')).toMatch(/verification is disabled/);
    await adapter.close();
  });
});
