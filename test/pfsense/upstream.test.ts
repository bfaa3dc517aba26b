/**
 * @module The pfSense adapter against responses quoted from pfRest's own source, docs and tests
 * (`test/pfsense/upstream/*.response`), not written by our emulator: a bug shared by the emulator and the adapter
 * cannot hide here. Each file is served by a tiny loopback HTTPS fixture server; every file carries a provenance
 * header (docs/reference/pfrest-emulator.md §5).
 */
import { readdirSync, readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PfSenseAdapter, privilegeFor } from '../../src/adapters/pfsense/index.ts';
import { generateCertificate } from '../../src/emulators/tls.ts';
import { failure } from './helpers.ts';

const DIR = join(import.meta.dirname, 'upstream');

interface Quoted {
  file: string;
  header: Map<string, string[]>;
  status: number;
  contentType: string;
  body: string;
}

/** Splits a `.response` file into its `# key: value` header and the body after the first blank line. */
function load(file: string): Quoted {
  const text = readFileSync(join(DIR, file), 'utf8');
  const split = text.indexOf('\n\n');
  const header = new Map<string, string[]>();
  for (const line of (split < 0 ? text : text.slice(0, split)).split('\n')) {
    const m = /^# ([a-z-]+): (.+)$/.exec(line);
    if (m) header.set(m[1] as string, [...(header.get(m[1] as string) ?? []), m[2] as string]);
  }
  return {
    file,
    header,
    status: Number(header.get('status')?.[0]),
    contentType: header.get('content-type')?.[0] ?? '',
    body: split < 0 ? '' : text.slice(split + 2).replace(/\n$/, ''),
  };
}

const FILES = readdirSync(DIR).filter((f) => f.endsWith('.response'));
const QUOTED = new Map(FILES.map((f) => [f.replace(/\.response$/, ''), load(f)]));

function quoted(name: string): Quoted {
  const q = QUOTED.get(name);
  if (!q) throw new Error(`no quoted response ${name}`);
  return q;
}

describe('provenance of the quoted responses', () => {
  it('the folder holds quoted responses', () => {
    expect(FILES.length).toBeGreaterThanOrEqual(10);
  });

  it.each(FILES)('%s names repository, commit, source lines and status', (file) => {
    const q = load(file);
    expect(q.header.get('repository')).toEqual(['pfrest/pfSense-pkg-RESTAPI']);
    expect(q.header.get('commit')?.[0]).toMatch(/^[0-9a-f]{40}$/);
    const sources = q.header.get('source') ?? [];
    expect(sources.length).toBeGreaterThan(0);
    // A path inside the upstream repository and the line(s) quoted.
    for (const s of sources) expect(s).toMatch(/^(?!\/|\.\.)[\w./-]+:\d+(-\d+)?( \(.+\))?$/);
    expect(q.status).toBeGreaterThanOrEqual(200);
    expect(q.contentType).toBe('application/json');
    expect(() => JSON.parse(q.body)).not.toThrow();
  });

  it('every envelope is pfRest-shaped: code equals the HTTP status and the keys come in pfRest order', () => {
    for (const q of QUOTED.values()) {
      const env = JSON.parse(q.body) as Record<string, unknown>;
      expect(Object.keys(env)).toEqual(['code', 'status', 'response_id', 'message', 'data']);
      expect(env.code).toBe(q.status);
    }
  });
});

// ---------------------------------------------------------------------------------------------------------
// The fixture server: answers each `METHOD path` with the quoted response routed to it, and logs requests.

let server: Server;
let url: string;
let fingerprint: string;
let routes = new Map<string, Quoted>();
let seen: string[] = [];

function serve(map: Record<string, string>): void {
  routes = new Map(Object.entries(map).map(([route, name]) => [route, quoted(name)]));
  seen = [];
}

function adapter(): PfSenseAdapter {
  return new PfSenseAdapter({
    url,
    apiKey: 'quoted-responses-key',
    tls: { mode: 'fingerprint', sha256: fingerprint },
    timeouts: { connectMs: 2_000, headersMs: 2_000, bodyMs: 2_000 },
    retry: { maxRetries: 0, initialDelayMs: 10, maxDelayMs: 20 },
    apply: { mode: 'async', pollIntervalMs: 20, deadlineMs: 200 },
  });
}

beforeAll(async () => {
  const cert = await generateCertificate();
  fingerprint = cert.fingerprint256;
  server = createServer(
    { cert: cert.certPem, key: cert.keyPem },
    (req: IncomingMessage, res: ServerResponse) => {
      const route = `${req.method} ${new URL(req.url ?? '/', 'https://fixture.invalid').pathname}`;
      seen.push(route);
      req.resume();
      const q = routes.get(route);
      if (!q) {
        res.writeHead(599, { 'content-type': 'text/plain' });
        res.end(`no fixture for ${route}`);
        return;
      }
      res.writeHead(q.status, { 'content-type': q.contentType });
      res.end(q.body);
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});
beforeEach(() => {
  routes.clear();
  seen = [];
});

const exercised = new Set<string>();
function use(map: Record<string, string>): void {
  for (const name of Object.values(map)) exercised.add(name);
  serve(map);
}

describe('the adapter reads quoted success envelopes', () => {
  it('lists the alias of pfRest test_fqdn_alias_populates_pfctl_table: details default to none', async () => {
    use({ 'GET /api/v2/firewall/aliases': 'alias-list' });
    const a = adapter();
    expect(await a.listAliases()).toEqual([
      {
        id: 0,
        name: 'TEST_GOOGLE_DNS',
        type: 'host',
        descr: '',
        entries: [{ address: 'dns.google', detail: '' }],
      },
    ]);
    expect(await a.getAlias('TEST_GOOGLE_DNS')).toEqual({
      name: 'TEST_GOOGLE_DNS',
      type: 'host',
      descr: '',
      entries: [{ address: 'dns.google', detail: '' }],
    });
    expect(await a.getAlias('absent')).toBeNull();
    await a.close();
  });

  it('reads apply status: pending subsystems, then applied', async () => {
    use({ 'GET /api/v2/firewall/apply': 'apply-pending' });
    const a = adapter();
    expect(await a.pendingStatus()).toEqual({ applied: false, pending: ['aliases'] });
    use({ 'GET /api/v2/firewall/apply': 'apply-applied' });
    expect(await a.pendingStatus()).toEqual({ applied: true, pending: [] });
    await a.close();
  });

  it('an async apply that stays pending past the deadline is PFS200 naming the subsystem', async () => {
    use({ 'POST /api/v2/firewall/apply': 'apply-pending', 'GET /api/v2/firewall/apply': 'apply-pending' });
    const a = adapter();
    const err = await failure(() => a.apply());
    expect([err.code, err.message]).toEqual(['PFS200', expect.stringContaining('(aliases)')]);
    expect(seen[0]).toBe('POST /api/v2/firewall/apply');
    expect(seen.slice(1).every((r) => r === 'GET /api/v2/firewall/apply')).toBe(true);
    await a.close();
  });

  it('an envelope without the expected data is PFS400, not a missing package (the docs JWT example as version)', async () => {
    use({ 'GET /api/v2/system/version': 'jwt-success' });
    const err = await failure(() => adapter().version());
    expect([err.code, err.message]).toEqual(['PFS400', expect.stringContaining('no `version` string')]);
  });

  it('a pretty-printed envelope whose data is one object is PFS400 for a list read (the docs host override example)', async () => {
    use({ 'GET /api/v2/firewall/aliases': 'host-override-with-children' });
    const err = await failure(() => adapter().listAliases());
    expect([err.code, err.message]).toEqual(['PFS400', expect.stringContaining('data is not a list')]);
  });
});

describe('the adapter classifies quoted errors', () => {
  it('401 AUTH_AUTHENTICATION_FAILED → PFS001, not retryable', async () => {
    use({ 'GET /api/v2/firewall/aliases': 'unauthorized' });
    const err = await failure(() => adapter().listAliases());
    expect([err.code, err.responseId, err.retryable]).toEqual(['PFS001', 'AUTH_AUTHENTICATION_FAILED', false]);
  });

  it('403 AUTH_AUTHORIZATION_FAILED → PFS002 naming the privilege pfRest generates for the endpoint', async () => {
    use({ 'GET /api/v2/firewall/aliases': 'forbidden' });
    const err = await failure(() => adapter().listAliases());
    expect([err.code, err.responseId, err.privilege]).toEqual([
      'PFS002',
      'AUTH_AUTHORIZATION_FAILED',
      'api-v2-firewall-aliases-get',
    ]);
  });

  it('privilege names match pfRest test_privileges_auto_generated_when_requires_page_all_privilege_is_false', () => {
    // pfRest 805c7f0c Tests/APICoreEndpointTestCase.inc:148-152 (endpoint /api/v2/firewall/alias).
    const expected = {
      GET: 'api-v2-firewall-alias-get',
      POST: 'api-v2-firewall-alias-post',
      PATCH: 'api-v2-firewall-alias-patch',
      PUT: 'api-v2-firewall-alias-put',
      DELETE: 'api-v2-firewall-alias-delete',
    };
    for (const [method, privilege] of Object.entries(expected)) {
      expect(privilegeFor('/api/v2/firewall/alias', method)).toBe(privilege);
    }
  });

  it('404 MODEL_OBJECT_NOT_FOUND on the alias PATCH → looked up again once, then PFS102', async () => {
    use({ 'GET /api/v2/firewall/aliases': 'alias-list', 'PATCH /api/v2/firewall/alias': 'object-not-found' });
    const err = await failure(() =>
      adapter().setAliasEntries('TEST_GOOGLE_DNS', [{ address: '10.0.0.1', detail: 'x' }]),
    );
    expect([err.code, err.responseId, err.retryable]).toEqual(['PFS102', 'MODEL_OBJECT_NOT_FOUND', false]);
    expect(seen.filter((r) => r.startsWith('PATCH'))).toHaveLength(2);
  });

  it.each([
    ['invalid-alias-name', 'INVALID_FIREWALL_ALIAS_NAME'],
    ['reserved-alias-name', 'FILTER_NAME_VALIDATOR_RESERVED_NAME_USED'],
  ])('400 %s on create → PFS101 carrying the response id', async (name, responseId) => {
    use({ 'POST /api/v2/firewall/alias': name });
    const err = await failure(() => adapter().createAlias('jit_users', 'host', 'Portcullis'));
    expect([err.code, err.responseId, err.retryable]).toEqual(['PFS101', responseId, false]);
    // The device's message reaches the operator, backticks and all.
    expect(err.message).toContain(JSON.parse(quoted(name).body).message);
  });

  it('503 ENDPOINT_REST_API_IS_NOT_ENABLED → PFS005', async () => {
    use({ 'GET /api/v2/system/version': 'api-not-enabled' });
    const err = await failure(() => adapter().version());
    expect([err.code, err.responseId]).toEqual(['PFS005', 'ENDPOINT_REST_API_IS_NOT_ENABLED']);
  });

  it('every quoted response is exercised by a test above', () => {
    expect([...exercised].sort()).toEqual([...QUOTED.keys()].sort());
  });
});
