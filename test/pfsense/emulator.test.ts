/**
 * @module Emulator-only behaviour beyond the shared contract suite: asynchronous apply timing, the test hooks
 * under `/__emulator/`, fault injection, and the state file surviving a restart.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type PfRestEmulator, startPfRestEmulator } from '../../src/emulators/pfrest/index.ts';
import { liveState } from './helpers.ts';

let emu: PfRestEmulator;
let agent: Agent;
const agents = new Map<string, Agent>();

/** One agent per certificate, each trusting only that emulator's certificate. */
function agentFor(target: PfRestEmulator): Agent {
  if (target.caPem === emu.caPem) return agent;
  let found = agents.get(target.caPem);
  if (found === undefined) {
    found = new Agent({ connect: { ca: target.caPem } });
    agents.set(target.caPem, found);
  }
  return found;
}

async function call(
  target: PfRestEmulator,
  method: string,
  path: string,
  json?: unknown,
  headers: Record<string, string> = {},
) {
  const res = await request(`${target.url}${path}`, {
    method: method as 'GET',
    headers: {
      'x-api-key': target.apiKey,
      ...(json === undefined ? {} : { 'content-type': 'application/json' }),
      ...headers,
    },
    dispatcher: agentFor(target),
    ...(json === undefined ? {} : { body: JSON.stringify(json) }),
  });
  const text = await res.body.text();
  let body: { code?: number; response_id?: string; data?: unknown } & Record<string, unknown> = {};
  try {
    body = JSON.parse(text);
  } catch {
    body = {};
  }
  return { status: res.statusCode, text, body, headers: res.headers };
}

beforeAll(async () => {
  emu = await startPfRestEmulator({ applyDelayMs: 1_000 });
  agent = new Agent({ connect: { ca: emu.caPem }, headersTimeout: 500 });
});
afterAll(async () => {
  await Promise.all([agent, ...agents.values()].map((a) => a.close()));
  await emu.close();
});
afterEach(() => emu.reset());

describe('asynchronous apply (docs/reference/pfrest-contract.md §7.3)', () => {
  /** Polls GET /firewall/apply until applied (the reload takes 1 s here); returns how many polls said pending. */
  async function untilApplied(): Promise<number> {
    let pendingPolls = 0;
    while (!((await call(emu, 'GET', '/api/v2/firewall/apply')).body.data as { applied: boolean }).applied) {
      pendingPolls++;
      await new Promise((r) => setTimeout(r, 50));
    }
    return pendingPolls;
  }

  it('POST answers at once with applied:false; GET turns applied:true when the reload ends; live table follows', async () => {
    await call(emu, 'POST', '/api/v2/firewall/alias', { name: 'jit', type: 'host', address: ['192.0.2.50'] });
    const posted = await call(emu, 'POST', '/api/v2/firewall/apply');
    expect(posted.body.data).toEqual({ applied: false, pending_subsystems: ['aliases'] });
    expect(emu.state().tables.jit).toBeUndefined();
    expect(await untilApplied()).toBeGreaterThan(0);
    expect(emu.state().tables.jit).toEqual(['192.0.2.50']);
  });

  it('a write during a reload is not loaded, yet its flag is cleared when the reload ends (pfSense race)', async () => {
    await call(emu, 'POST', '/api/v2/firewall/alias', { name: 'jit', type: 'host', address: ['192.0.2.1'] });
    await call(emu, 'POST', '/api/v2/firewall/apply');
    await call(emu, 'PATCH', '/api/v2/firewall/alias', { id: 0, address: ['192.0.2.2'] });
    await untilApplied();
    const state = emu.state();
    expect(state.aliases[0]?.address).toEqual(['192.0.2.2']);
    expect(state.tables.jit).toEqual(['192.0.2.1']);
    expect(state.pending).toEqual([]);
  });

  it('more than 10 reloads in flight → 503 DISPATCHER_TOO_MANY_QUEUED_PROCESSES with Retry-After 300', async () => {
    // Reloads that outlast the test, so a slow machine cannot finish one before the eleventh request.
    const slow = await startPfRestEmulator({ applyDelayMs: 60_000 });
    for (let i = 0; i < 10; i++)
      expect((await call(slow, 'POST', '/api/v2/firewall/apply')).status).toBe(200);
    const r = await call(slow, 'POST', '/api/v2/firewall/apply');
    expect([r.status, r.body.response_id, r.headers['retry-after']]).toEqual([
      503,
      'DISPATCHER_TOO_MANY_QUEUED_PROCESSES',
      '300',
    ]);
    await slow.close();
  });
});

describe('states (docs/reference/pfrest-contract.md §7.6)', () => {
  it('lists 100 by default and kills by query, taking the same source/destination pair along', async () => {
    emu.setStates(
      Array.from({ length: 120 }, (_, i) =>
        liveState(`198.51.100.${i % 250}:${1000 + i}`, '192.168.1.10:443'),
      ),
    );
    expect(((await call(emu, 'GET', '/api/v2/firewall/states')).body.data as unknown[]).length).toBe(100);
    emu.setStates([
      liveState('203.0.113.1:1', '192.168.1.10:443'),
      liveState('203.0.113.1:2', '192.168.1.10:80'),
    ]);
    const r = await call(emu, 'DELETE', '/api/v2/firewall/states?source=203.0.113.1:1');
    expect((r.body.data as unknown[]).length).toBe(1);
    expect(emu.state().states).toEqual([]);
  });
});

describe('test hooks (outside /api/v2)', () => {
  it('exposes state, request log, reset, faults, keys, states and settings over HTTP without credentials', async () => {
    const hook = (method: string, path: string, json?: unknown) =>
      request(`${emu.url}/__emulator/${path}`, {
        method: method as 'GET',
        dispatcher: agent,
        ...(json === undefined
          ? {}
          : { body: JSON.stringify(json), headers: { 'content-type': 'application/json' } }),
      }).then(async (r) => ({
        status: r.statusCode,
        body: (await r.body.json()) as Record<string, unknown> & unknown[],
      }));
    await call(emu, 'POST', '/api/v2/firewall/alias', { name: 'hooked', type: 'host' });
    const state = await hook('GET', 'state');
    expect((state.body as unknown as { aliases: unknown[]; pending: string[] }).aliases).toHaveLength(1);
    expect((state.body as unknown as { pending: string[] }).pending).toEqual(['aliases']);
    expect(state.body).not.toHaveProperty('jwtSecret');
    const log = await hook('GET', 'requests');
    expect(log.body).toHaveLength(1);
    expect(log.body[0]).toMatchObject({
      method: 'POST',
      path: '/api/v2/firewall/alias',
      auth: 'key',
      status: 200,
      responseId: 'SUCCESS',
    });
    expect(JSON.stringify(log.body)).not.toContain(emu.apiKey);
    const key = (await hook('POST', 'keys', { privileges: ['api-v2-system-version-get'] })).body
      .key as string;
    expect((await call({ ...emu, apiKey: key }, 'GET', '/api/v2/system/version')).status).toBe(200);
    expect((await call({ ...emu, apiKey: key }, 'GET', '/api/v2/firewall/aliases')).status).toBe(403);
    expect((await hook('PUT', 'states', { states: [liveState('192.0.2.9:1', '192.0.2.10:2')] })).status).toBe(
      200,
    );
    expect(emu.state().states).toHaveLength(1);
    expect((await hook('POST', 'faults', { kind: 'status', status: 500 })).status).toBe(200);
    expect((await call(emu, 'GET', '/api/v2/system/version')).status).toBe(500);
    expect((await hook('POST', 'faults', { kind: 'bogus' })).status).toBe(400);
    expect((await hook('PATCH', 'settings', { read_only: true })).status).toBe(200);
    expect(
      (await call(emu, 'POST', '/api/v2/firewall/alias', { name: 'ro', type: 'host' })).body.response_id,
    ).toBe('ENDPOINT_METHOD_NOT_ALLOWED_IN_READ_ONLY_MODE');
    expect((await hook('POST', 'reset')).status).toBe(200);
    expect(emu.state().aliases).toEqual([]);
    expect(emu.requests()).toEqual([]);
  });
});

describe('fault injection', () => {
  it('affects exactly the next N matching requests', async () => {
    emu.injectFault({ kind: 'status', status: 503, times: 2, path: '/api/v2/firewall/apply' });
    expect((await call(emu, 'GET', '/api/v2/system/version')).status).toBe(200);
    expect((await call(emu, 'GET', '/api/v2/firewall/apply')).body.response_id).toBe(
      'MODEL_WRITE_CONFIG_LOCKED',
    );
    expect((await call(emu, 'GET', '/api/v2/firewall/apply')).status).toBe(503);
    expect((await call(emu, 'GET', '/api/v2/firewall/apply')).status).toBe(200);
  });

  it('drop closes the connection, hang never answers, non-json and package-absent answer without the envelope', async () => {
    emu.injectFault({ kind: 'drop' });
    await expect(call(emu, 'GET', '/api/v2/system/version')).rejects.toThrow();
    emu.injectFault({ kind: 'hang' });
    await expect(call(emu, 'GET', '/api/v2/system/version')).rejects.toMatchObject({
      code: 'UND_ERR_HEADERS_TIMEOUT',
    });
    emu.injectFault({ kind: 'non-json' });
    const nonJson = await call(emu, 'GET', '/api/v2/system/version');
    expect([nonJson.status, nonJson.body]).toEqual([200, {}]);
    emu.injectFault({ kind: 'package-absent' });
    const absent = await call(emu, 'GET', '/api/v2/system/version');
    expect(absent.status).toBe(404);
    expect(absent.text).toContain('nginx');
  });

  it('key-auth-disabled answers 401 to a valid key while BasicAuth still authenticates', async () => {
    emu.injectFault({ kind: 'key-auth-disabled', times: 2 });
    expect((await call(emu, 'GET', '/api/v2/system/version')).body.response_id).toBe(
      'AUTH_AUTHENTICATION_FAILED',
    );
    const basic = `Basic ${Buffer.from('admin:pfsense').toString('base64')}`;
    const res = await request(`${emu.url}/api/v2/system/version`, {
      headers: { authorization: basic },
      dispatcher: agent,
    });
    expect(res.statusCode).toBe(200);
    await res.body.text();
  });
});

describe('state file', () => {
  it('keeps configuration, applied tables and keys across a restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pfrest-'));
    const file = join(dir, 'state.json');
    try {
      const first = await startPfRestEmulator({ stateFile: file, apiKey: 'lab-key-0123456789' });
      await call(first, 'POST', '/api/v2/firewall/alias', {
        name: 'kept',
        type: 'host',
        address: ['192.0.2.77'],
        apply: true,
      });
      const extra = first.addKey(['api-v2-firewall-aliases-get']);
      await first.close();
      expect(readFileSync(file, 'utf8')).not.toContain('lab-key-0123456789');
      const second = await startPfRestEmulator({ stateFile: file, apiKey: 'lab-key-0123456789' });
      expect(second.state().aliases).toEqual([
        { name: 'kept', type: 'host', descr: '', address: ['192.0.2.77'], detail: [] },
      ]);
      expect(second.state().tables.kept).toEqual(['192.0.2.77']);
      expect((await call({ ...second, apiKey: extra }, 'GET', '/api/v2/firewall/aliases')).status).toBe(200);
      await second.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
