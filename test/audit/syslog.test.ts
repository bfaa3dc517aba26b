/**
 * @module The audit syslog format and transports (src/audit/syslog.ts, docs/audit.md): messages parsed against RFC
 * 5424's grammar, and real UDP, TCP and TLS listeners on 127.0.0.1 receiving them — octet-counted on streams, one
 * per datagram on UDP — with a collector that is down, comes up later, or presents the wrong certificate.
 */
import { createSocket } from 'node:dgram';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createTlsServer } from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import {
  escapeParamValue,
  formatSyslogMessage,
  frameOctetCounted,
  normalizeFingerprint,
  parseSyslogUrl,
  SYSLOG_SD_ID,
  SyslogSender,
  type SyslogAuditEvent,
} from '../../src/audit/syslog.ts';
import { loadConfig } from '../../src/config.ts';
import { generateCertificate } from '../../src/emulators/tls.ts';
import { parse5424, parseKeyValues, unframe } from './rfc5424.ts';

const EVENT: SyslogAuditEvent = {
  id: 42,
  orgId: '00000000-0000-0000-0000-000000000001',
  actorType: 'user',
  actorId: 'u-1',
  actorName: 'alice',
  action: 'user.create',
  targetType: 'user',
  targetId: 'u-2',
  siteId: null,
  sourceIp: '198.51.100.23',
  requestId: 'req-7',
  outcome: 'success',
  createdAt: new Date('2026-12-07T07:30:00.123Z'),
};

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function waitFor<T>(probe: () => T | undefined, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A TCP (or TLS) collector on 127.0.0.1 that unframes what it receives. */
/** Open connections per server, destroyed when it closes (a server waits for them otherwise). */
const connections = new Map<Server, Set<Socket>>();

function collect(server: Server, event: 'connection' | 'secureConnection' = 'connection'): { messages: string[] } {
  const received = { messages: [] as string[] };
  const open = new Set<Socket>();
  connections.set(server, open);
  server.on(event, (socket: Socket) => {
    open.add(socket);
    let buffer: Buffer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      const { messages, rest } = unframe(Buffer.concat([buffer, chunk]));
      buffer = rest;
      received.messages.push(...messages);
    });
    socket.on('error', () => undefined);
  });
  return received;
}

async function listen(server: Server, port = 0): Promise<number> {
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of connections.get(server) ?? []) socket.destroy();
      }),
  );
  return (server.address() as { port: number }).port;
}

/** A port nobody listens on (taken, then released). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function sender(...args: ConstructorParameters<typeof SyslogSender>): SyslogSender {
  const s = new SyslogSender(...args);
  cleanups.push(() => s.close());
  return s;
}

describe('RFC 5424 format', () => {
  it('writes PRI from facility and outcome, version 1, the ISO time, app-name portcullis and the event as MSGID', () => {
    const parsed = parse5424(formatSyslogMessage(EVENT, { hostname: 'pc-1', procId: '123' }));
    expect(parsed).toMatchObject({
      pri: 13 * 8 + 6,
      version: 1,
      timestamp: '2026-12-07T07:30:00.123Z',
      hostname: 'pc-1',
      appName: 'portcullis',
      procId: '123',
      msgId: 'user.create',
      msgIsUtf8: false,
    });
    expect(parse5424(formatSyslogMessage({ ...EVENT, outcome: 'denied' }, { hostname: 'h', facility: 16 })).pri).toBe(
      16 * 8 + 5,
    );
    expect(parse5424(formatSyslogMessage({ ...EVENT, outcome: 'failure' }, { hostname: 'h' })).severity).toBe(4);
  });

  it('carries event, actor, source IP, target, request id and outcome in STRUCTURED-DATA and as key=value MSG', () => {
    const parsed = parse5424(formatSyslogMessage(EVENT, { hostname: 'pc-1' }));
    const expected = {
      event: 'user.create',
      outcome: 'success',
      actor: 'alice',
      actor_type: 'user',
      actor_id: 'u-1',
      src_ip: '198.51.100.23',
      target: 'user:u-2',
      request_id: 'req-7',
      org_id: EVENT.orgId,
      audit_id: '42',
    };
    expect(Object.fromEntries(parsed.sd.get(SYSLOG_SD_ID) ?? [])).toEqual(expected);
    expect(Object.fromEntries(parseKeyValues(parsed.msg))).toEqual(expected);
    expect(parsed.msg).toBe(
      `event=user.create outcome=success actor=alice actor_type=user actor_id=u-1 src_ip=198.51.100.23 target=user:u-2 request_id=req-7 org_id=${EVENT.orgId} audit_id=42`,
    );
  });

  it('escapes ", \\ and ] in PARAM-VALUE and quotes MSG values that need it; UTF-8 MSG starts with a BOM', () => {
    expect(escapeParamValue('a"b\\c]d')).toBe('a\\"b\\\\c\\]d');
    const awkward = { ...EVENT, actorName: 'Zoë "the admin" \\ [ops]', targetId: 'x=y z', sourceIp: null };
    const text = formatSyslogMessage(awkward, { hostname: 'pc 1\u00e9' });
    const parsed = parse5424(text);
    expect(parsed.hostname).toBe('pc_1_');
    expect(parsed.sd.get(SYSLOG_SD_ID)?.get('actor')).toBe('Zoë "the admin" \\ [ops]');
    expect(parsed.sd.get(SYSLOG_SD_ID)?.has('src_ip')).toBe(false);
    expect(parsed.msgIsUtf8).toBe(true);
    const kv = parseKeyValues(parsed.msg);
    expect(kv.get('actor')).toBe('Zoë "the admin" \\ [ops]');
    expect(kv.get('target')).toBe('user:x=y z');
    expect(text).toContain('actor="Zoë \\"the admin\\" \\\\ [ops]"');
  });

  it('keeps a UDP message within the byte budget by shortening MSG, never the structured part', () => {
    const long = { ...EVENT, targetId: 'é'.repeat(3000) };
    const text = formatSyslogMessage(long, { hostname: 'pc-1', maxBytes: 2048 });
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(2048);
    const parsed = parse5424(text);
    expect(parsed.sd.get(SYSLOG_SD_ID)?.get('event')).toBe('user.create');
    expect(parsed.msg.startsWith('event=user.create')).toBe(true);
  });

  it('frames by octet count (RFC 6587 §3.4.1)', () => {
    const framed = frameOctetCounted('<110>1 - h portcullis - - - é');
    expect(framed.toString('utf8')).toBe(`${Buffer.byteLength('<110>1 - h portcullis - - - é')} <110>1 - h portcullis - - - é`);
    expect(unframe(Buffer.concat([framed, framed])).messages).toHaveLength(2);
  });
});

describe('syslog target configuration', () => {
  it('reads udp://, tcp:// and tls:// URLs with their default ports', () => {
    expect(parseSyslogUrl('udp://collector')).toEqual({ protocol: 'udp', host: 'collector', port: 514 });
    expect(parseSyslogUrl('tcp://10.0.0.5')).toEqual({ protocol: 'tcp', host: '10.0.0.5', port: 601 });
    expect(parseSyslogUrl('tls://[::1]:7000')).toEqual({ protocol: 'tls', host: '::1', port: 7000 });
    expect(() => parseSyslogUrl('http://x')).toThrow(/scheme/);
    expect(() => parseSyslogUrl('tcp://user:pw@x')).toThrow(/only a scheme/);
    expect(normalizeFingerprint('ab'.repeat(32))).toBe(Array(32).fill('AB').join(':'));
    expect(normalizeFingerprint('zz')).toBeNull();
  });

  it('loads PORTCULLIS_SYSLOG_* and names the variable of a bad value', () => {
    expect(loadConfig({}).syslog).toBeNull();
    expect(loadConfig({ PORTCULLIS_SYSLOG_URL: 'udp://127.0.0.1:5514', PORTCULLIS_SYSLOG_FACILITY: '16' }).syslog).toEqual({
      target: { protocol: 'udp', host: '127.0.0.1', port: 5514 },
      caFile: null,
      facility: 16,
    });
    expect(() => loadConfig({ PORTCULLIS_SYSLOG_URL: 'ftp://x' })).toThrow(/^PORTCULLIS_SYSLOG_URL: /);
    expect(() => loadConfig({ PORTCULLIS_SYSLOG_URL: 'udp://x', PORTCULLIS_SYSLOG_CA_FILE: '/ca.pem' })).toThrow(
      /^PORTCULLIS_SYSLOG_CA_FILE: applies to a tls/,
    );
    expect(() => loadConfig({ PORTCULLIS_SYSLOG_URL: 'tls://x', PORTCULLIS_SYSLOG_TLS_FINGERPRINT: 'nope' })).toThrow(
      /^PORTCULLIS_SYSLOG_TLS_FINGERPRINT: /,
    );
    expect(() => loadConfig({ PORTCULLIS_SYSLOG_FACILITY: '24' })).toThrow(/^PORTCULLIS_SYSLOG_FACILITY: /);
  });
});

describe('transports (real listeners on 127.0.0.1)', () => {
  it('UDP: one message per datagram', async () => {
    const socket = createSocket('udp4');
    const datagrams: string[] = [];
    socket.on('message', (data) => datagrams.push(data.toString('utf8')));
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => socket.close(() => resolve())));
    const s = sender({ protocol: 'udp', host: '127.0.0.1', port: socket.address().port });
    for (const id of [1, 2, 3]) s.send(formatSyslogMessage({ ...EVENT, id }, { hostname: 'pc-1' }));
    await waitFor(() => (datagrams.length === 3 ? true : undefined));
    expect(datagrams.map((d) => parse5424(d).sd.get(SYSLOG_SD_ID)?.get('audit_id')).sort()).toEqual(['1', '2', '3']);
    expect(s.status()).toMatchObject({ protocol: 'udp', sent: 3, dropped: 0, queued: 0 });
  });

  it('TCP: octet-counted messages; a collector that comes up later receives what waited in the queue', async () => {
    const port = await freePort();
    const s = sender({ protocol: 'tcp', host: '127.0.0.1', port }, { minBackoffMs: 50, maxBackoffMs: 100 });
    s.send(formatSyslogMessage({ ...EVENT, id: 1 }, { hostname: 'pc-1' }));
    await waitFor(() => s.status().lastError ?? undefined);
    expect(s.status()).toMatchObject({ connected: false, queued: 1 });
    expect(s.status().lastError).toMatch(/ECONNREFUSED/);
    s.send(formatSyslogMessage({ ...EVENT, id: 2 }, { hostname: 'pc-1' }));
    const server = createServer();
    const received = collect(server);
    await listen(server, port);
    await waitFor(() => (received.messages.length === 2 ? true : undefined));
    expect(received.messages.map((m) => parse5424(m).msgId)).toEqual(['user.create', 'user.create']);
    expect(received.messages.map((m) => parseKeyValues(parse5424(m).msg).get('audit_id'))).toEqual(['1', '2']);
    expect(s.status()).toMatchObject({ connected: true, queued: 0, sent: 2 });
  });

  it('a collector that stays down never blocks: send returns at once and the bounded queue drops the oldest', async () => {
    const port = await freePort();
    const s = sender({ protocol: 'tcp', host: '127.0.0.1', port }, { queueLimit: 3, minBackoffMs: 1_000 });
    const start = performance.now();
    for (let id = 1; id <= 5; id++) s.send(formatSyslogMessage({ ...EVENT, id }, { hostname: 'pc-1' }));
    expect(performance.now() - start).toBeLessThan(50);
    expect(s.status()).toMatchObject({ queued: 3, dropped: 2, sent: 0 });
  });

  it('TLS: verifies the collector by CA file or by pinned fingerprint, and refuses another certificate', async () => {
    const cert = await generateCertificate({ dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
    const server = createTlsServer({ cert: cert.certPem, key: cert.keyPem });
    const received = collect(server, 'secureConnection');
    const port = await listen(server);
    const dir = mkdtempSync(join(tmpdir(), 'syslog-ca-'));
    writeFileSync(join(dir, 'ca.pem'), cert.certPem);

    const byCa = sender({ protocol: 'tls', host: '127.0.0.1', port, ca: cert.certPem });
    byCa.send(formatSyslogMessage({ ...EVENT, id: 10 }, { hostname: 'pc-1' }));
    const pinned = sender({ protocol: 'tls', host: '127.0.0.1', port, fingerprint: cert.fingerprint256 });
    pinned.send(formatSyslogMessage({ ...EVENT, id: 11 }, { hostname: 'pc-1' }));
    await waitFor(() => (received.messages.length === 2 ? true : undefined));
    expect(received.messages.map((m) => parseKeyValues(parse5424(m).msg).get('audit_id')).sort()).toEqual(['10', '11']);

    const other = await generateCertificate();
    const wrongPin = sender({ protocol: 'tls', host: '127.0.0.1', port, fingerprint: other.fingerprint256 }, { minBackoffMs: 5_000 });
    wrongPin.send(formatSyslogMessage({ ...EVENT, id: 12 }, { hostname: 'pc-1' }));
    const noCa = sender({ protocol: 'tls', host: '127.0.0.1', port }, { minBackoffMs: 5_000 });
    noCa.send(formatSyslogMessage({ ...EVENT, id: 13 }, { hostname: 'pc-1' }));
    expect(await waitFor(() => wrongPin.status().lastError ?? undefined)).toMatch(/not the pinned one/);
    expect(await waitFor(() => noCa.status().lastError ?? undefined)).toMatch(/self[- ]signed|certificate/i);
    await new Promise((r) => setTimeout(r, 200));
    expect(received.messages).toHaveLength(2);
    expect(wrongPin.status()).toMatchObject({ sent: 0, queued: 1 });
  });
});
