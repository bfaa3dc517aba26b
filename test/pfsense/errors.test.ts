/**
 * @module Every PFS error code produced for real against the emulator over HTTPS on loopback (closed port,
 * untrusted / expired / misnamed / mis-pinned certificates, a hanging server, a missing package, …), and a
 * check that no error message, serialised error or log line ever contains the API key.
 */
import { Writable } from 'node:stream';
import { inspect } from 'node:util';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  PFS_CATALOG,
  type PfSenseAdapter,
  PfSenseLiveReads,
  PfSenseLiveWriter,
  type PfsCode,
} from '../../src/adapters/pfsense/index.ts';
import { type PfRestEmulator, startPfRestEmulator } from '../../src/emulators/pfrest/index.ts';
import { generateCertificate } from '../../src/emulators/tls.ts';
import { adapterFor, closedPort, failure } from './helpers.ts';

const KEY = 'c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00';
let emu: PfRestEmulator;
let expired: PfRestEmulator;
let misnamed: PfRestEmulator;
const logLines: string[] = [];
const logger = pino(
  { level: 'debug' },
  new Writable({
    write(chunk, _enc, done) {
      logLines.push(String(chunk));
      done();
    },
  }),
);

beforeAll(async () => {
  emu = await startPfRestEmulator({ apiKey: KEY, applyDelayMs: 10_000 });
  expired = await startPfRestEmulator({
    apiKey: KEY,
    certificate: await generateCertificate({
      notBefore: new Date(Date.now() - 2 * 86_400_000),
      notAfter: new Date(Date.now() - 86_400_000),
    }),
  });
  misnamed = await startPfRestEmulator({
    apiKey: KEY,
    certificate: await generateCertificate({ dnsNames: ['fw.example.net'], ipAddresses: [] }),
  });
});
afterAll(async () => {
  await Promise.all([emu.close(), expired.close(), misnamed.close()]);
});

interface Row {
  name: string;
  code: PfsCode;
  /** Builds the adapter (and arms faults) for this row. */
  setup(): Promise<PfSenseAdapter> | PfSenseAdapter;
  call(adapter: PfSenseAdapter): Promise<unknown>;
  /** Text the message must contain besides the code. */
  mentions?: string;
}

const quick = {
  timeouts: { connectMs: 1_000, headersMs: 300, bodyMs: 300 },
  retry: { maxRetries: 0 },
  logger,
};

const rows: Row[] = [
  {
    name: 'PFS000 connection refused (closed port)',
    code: 'PFS000',
    setup: async () => adapterFor(emu, { ...quick, url: `https://127.0.0.1:${await closedPort()}` }),
    call: (a) => a.version(),
    mentions: 'ECONNREFUSED',
  },
  {
    name: 'PFS001 wrong API key',
    code: 'PFS001',
    setup: () => adapterFor(emu, { ...quick, apiKey: 'ffffffffffffffffffffffffffffffffffffffffffffffff' }),
    call: (a) => a.version(),
    mentions: 'KeyAuth',
  },
  {
    name: 'PFS001 KeyAuth not enabled on the gateway',
    code: 'PFS001',
    setup: () => {
      emu.injectFault({ kind: 'key-auth-disabled' });
      return adapterFor(emu, quick);
    },
    call: (a) => a.version(),
    mentions: 'AUTH_AUTHENTICATION_FAILED',
  },
  {
    name: 'PFS002 missing privilege, named in the message',
    code: 'PFS002',
    setup: async () => {
      const admin = adapterFor(emu, quick);
      if ((await admin.getAlias('guarded')) === null) await admin.createAlias('guarded', 'host', '');
      await admin.close();
      return adapterFor(emu, { ...quick, apiKey: emu.addKey(['api-v2-firewall-aliases-get']) });
    },
    call: (a) => a.setAliasEntries('guarded', [{ address: '192.0.2.1', detail: '' }]),
    mentions: 'api-v2-firewall-alias-patch',
  },
  {
    name: 'PFS003 untrusted self-signed certificate (system CAs)',
    code: 'PFS003',
    setup: () => adapterFor(emu, { ...quick, tls: { mode: 'system' } }),
    call: (a) => a.version(),
    mentions: 'SELF_SIGNED',
  },
  {
    name: 'PFS003 pinned fingerprint mismatch',
    code: 'PFS003',
    setup: () => adapterFor(emu, { ...quick, tls: { mode: 'fingerprint', sha256: 'AB'.repeat(32) } }),
    call: (a) => a.version(),
    mentions: 'fingerprint',
  },
  {
    name: 'PFS003 expired certificate',
    code: 'PFS003',
    setup: () => adapterFor(expired, { ...quick, tls: { mode: 'ca', caPem: expired.caPem } }),
    call: (a) => a.version(),
    mentions: 'CERT_HAS_EXPIRED',
  },
  {
    name: 'PFS003 certificate name mismatch',
    code: 'PFS003',
    setup: () => adapterFor(misnamed, { ...quick, tls: { mode: 'ca', caPem: misnamed.caPem } }),
    call: (a) => a.version(),
    mentions: 'ERR_TLS_CERT_ALTNAME_INVALID',
  },
  {
    name: 'PFS004 server accepts but never answers',
    code: 'PFS004',
    setup: () => {
      emu.injectFault({ kind: 'hang' });
      return adapterFor(emu, quick);
    },
    call: (a) => a.version(),
    mentions: 'UND_ERR_HEADERS_TIMEOUT',
  },
  {
    name: 'PFS004 headers arrive, then the body stalls',
    code: 'PFS004',
    setup: () => {
      emu.injectFault({ kind: 'stall-body' });
      return adapterFor(emu, quick);
    },
    call: (a) => a.version(),
    mentions: 'UND_ERR_BODY_TIMEOUT',
  },
  {
    name: 'PFS005 pfRest package absent (nginx HTML 404)',
    code: 'PFS005',
    setup: () => {
      emu.injectFault({ kind: 'package-absent' });
      return adapterFor(emu, quick);
    },
    call: (a) => a.version(),
    mentions: 'without the pfRest JSON envelope',
  },
  {
    name: 'PFS005 REST API disabled (503 ENDPOINT_REST_API_IS_NOT_ENABLED)',
    code: 'PFS005',
    setup: () => {
      emu.updateSettings({ enabled: false });
      return adapterFor(emu, quick);
    },
    call: (a) => a.version(),
    mentions: 'ENDPOINT_REST_API_IS_NOT_ENABLED',
  },
  {
    name: 'PFS100 alias read fails on the gateway (500)',
    code: 'PFS100',
    setup: () => {
      emu.injectFault({ kind: 'status', status: 500, path: '/api/v2/firewall/aliases' });
      return adapterFor(emu, quick);
    },
    call: (a) => a.getAlias('anything'),
    mentions: 'ENDPOINT_RECEIVED_UNEXPECTED_ERROR',
  },
  {
    name: 'PFS101 create rejected (reserved name)',
    code: 'PFS101',
    setup: () => adapterFor(emu, quick),
    call: (a) => a.createAlias('sshguard', 'host', ''),
    mentions: 'FILTER_NAME_VALIDATOR_RESERVED_NAME_USED',
  },
  {
    name: 'PFS101 creation not allowed for this gateway',
    code: 'PFS101',
    setup: () => adapterFor(emu, { ...quick, allowCreateAlias: false }),
    call: (a) => a.createAlias('jit_new', 'host', ''),
    mentions: 'allowCreateAlias',
  },
  {
    name: 'PFS102 update rejected (CIDR in a host alias)',
    code: 'PFS102',
    setup: async () => {
      const admin = adapterFor(emu, quick);
      if ((await admin.getAlias('hosts_only')) === null) await admin.createAlias('hosts_only', 'host', '');
      await admin.close();
      return adapterFor(emu, quick);
    },
    call: (a) => a.setAliasEntries('hosts_only', [{ address: '10.0.0.0/8', detail: '' }]),
    mentions: 'INVALID_HOST_ALIAS_ADDRESS',
  },
  {
    name: 'PFS103 alias not found',
    code: 'PFS103',
    setup: () => adapterFor(emu, quick),
    call: (a) => a.setAliasEntries('no_such_alias', []),
    mentions: 'no_such_alias',
  },
  {
    name: 'PFS200 changes stay pending past the deadline',
    code: 'PFS200',
    setup: () => adapterFor(emu, { ...quick, apply: { deadlineMs: 100, pollIntervalMs: 20 } }),
    call: async (a) => {
      if ((await a.getAlias('pending_one')) === null) await a.createAlias('pending_one', 'host', '');
      return a.apply();
    },
    mentions: 'still pending',
  },
  {
    name: 'PFS300 a live read answered with an error envelope',
    code: 'PFS300',
    setup: () => {
      emu.injectFault({ kind: 'status', status: 500, path: '/api/v2/status/carp' });
      return adapterFor(emu, quick);
    },
    call: (a) => new PfSenseLiveReads(a).carp(),
    mentions: 'read the CARP status',
  },
  {
    name: 'PFS500 a live write pfRest refuses',
    code: 'PFS500',
    setup: () => adapterFor(emu, quick),
    call: (a) =>
      new PfSenseLiveWriter(a).write({
        kind: 'alias',
        op: 'create',
        target: null,
        body: { name: 'sshguard', type: 'host', description: '', entries: [] },
      }),
    mentions: 'FILTER_NAME_VALIDATOR_RESERVED_NAME_USED',
  },
  {
    name: 'PFS400 a live read whose data is not a list of objects',
    code: 'PFS400',
    setup: () => {
      emu.injectFault({
        kind: 'raw',
        path: '/api/v2/status/services',
        body: '{"code":200,"status":"ok","response_id":"SUCCESS","message":"","data":[1,2]}',
      });
      return adapterFor(emu, quick);
    },
    call: (a) => new PfSenseLiveReads(a).services(),
    mentions: 'not a list of objects',
  },
  {
    name: 'PFS400 body is not JSON',
    code: 'PFS400',
    setup: () => {
      emu.injectFault({ kind: 'non-json' });
      return adapterFor(emu, quick);
    },
    call: (a) => a.version(),
    mentions: 'not JSON',
  },
  {
    name: 'PFS400 JSON without the envelope',
    code: 'PFS400',
    setup: () => {
      emu.injectFault({ kind: 'raw', body: '{"version":"2.8.1-RELEASE"}' });
      return adapterFor(emu, quick);
    },
    call: (a) => a.version(),
    mentions: 'JSON without the pfRest envelope',
  },
  {
    name: 'PFS400 envelope with data of the wrong shape',
    code: 'PFS400',
    setup: () => {
      emu.injectFault({
        kind: 'raw',
        path: '/api/v2/firewall/aliases',
        body: '{"code":200,"status":"ok","response_id":"SUCCESS","message":"","data":{"id":0}}',
      });
      return adapterFor(emu, quick);
    },
    call: (a) => a.getAlias('anything'),
    mentions: 'data is not a list',
  },
  {
    name: 'PFS005 a login page (200 HTML) instead of the API',
    code: 'PFS005',
    setup: () => {
      emu.injectFault({
        kind: 'raw',
        contentType: 'text/html; charset=utf-8',
        body: '<!DOCTYPE html><html><title>pfSense - Login</title></html>',
      });
      return adapterFor(emu, quick);
    },
    call: (a) => a.version(),
    mentions: 'HTTP 200',
  },
];

describe('PFS error codes', () => {
  it.each(rows)('$name', async (row) => {
    const adapter = await row.setup();
    const err = await failure(() => row.call(adapter));
    emu.clearFaults();
    emu.updateSettings({ enabled: true });
    await adapter.close();
    expect(err.name).toBe('PfSenseError');
    expect(err.code).toBe(row.code);
    expect(err.message.startsWith(`${row.code} ${PFS_CATALOG[row.code].title}:`)).toBe(true);
    expect(err.message).toContain(PFS_CATALOG[row.code].check);
    if (row.mentions) expect(err.message).toContain(row.mentions);
    // The key never leaks: not in the message, the serialised error, nor the cause chain.
    expect(err.message).not.toContain(KEY);
    expect(JSON.stringify(err)).not.toContain(KEY);
    expect(inspect((err as { cause?: unknown }).cause, { depth: 5 })).not.toContain(KEY);
  });

  it('PFS002 carries the missing privilege as a field', async () => {
    const adapter = adapterFor(emu, { ...quick, apiKey: emu.addKey([]) });
    const err = await failure(() => adapter.version());
    expect(err.privilege).toBe('api-v2-system-version-get');
    await adapter.close();
  });

  it('covers every code of the catalog', () => {
    expect(new Set(rows.map((r) => r.code))).toEqual(new Set(Object.keys(PFS_CATALOG)));
  });

  it('never writes the API key to a log line', () => {
    expect(logLines.length).toBeGreaterThan(rows.length);
    for (const line of logLines) expect(line).not.toContain(KEY);
  });
});
