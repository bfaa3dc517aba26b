/**
 * @module The syslog copy of the audit log through the server (docs/audit.md): a change made through the API
 * reaches a real TCP collector on 127.0.0.1 as RFC 5424 with the actor, source IP, target and request id; a test
 * event goes out from `POST /api/v1/audit/syslog/test`; a collector that is down changes nothing for requests.
 */
import { execFile } from 'node:child_process';
import { createServer, type Server, type Socket } from 'node:net';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SYSLOG_SD_ID } from '../../src/audit/syslog.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { parse5424, parseKeyValues, unframe } from '../audit/rfc5424.ts';

async function waitFor<T>(probe: () => T | undefined, timeoutMs = 8_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('audit events as syslog (TCP collector on 127.0.0.1)', () => {
  let t: TestApp;
  let collector: Server;
  const sockets = new Set<Socket>();
  const messages: string[] = [];

  beforeAll(async () => {
    collector = createServer((socket) => {
      sockets.add(socket);
      let buffer: Buffer = Buffer.alloc(0);
      socket.on('data', (chunk: Buffer) => {
        const { messages: got, rest } = unframe(Buffer.concat([buffer, chunk]));
        buffer = rest;
        messages.push(...got);
      });
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
    const { port } = collector.address() as { port: number };
    t = await startTestApp('pglite', {
      syslog: { target: { protocol: 'tcp', host: '127.0.0.1', port }, caFile: null, facility: 13 },
    });
  });

  afterAll(async () => {
    await t.close();
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => collector.close(() => resolve()));
  });

  it('sends a change made through the API with actor, source IP, target, request id and outcome', async () => {
    const res = await t.call({
      method: 'POST',
      url: '/api/v1/users',
      token: t.ownerToken,
      remoteAddress: '198.51.100.23',
      headers: { 'x-request-id': 'req-syslog-1' },
      payload: { username: 'sysloggeduser', password: 'syslogged-password-1' },
    });
    expect(res.statusCode).toBe(201);
    const userId = res.json<{ id: string }>().id;
    const line = await waitFor(() => messages.find((m) => parse5424(m).msgId === 'user.create'));
    const parsed = parse5424(line);
    expect(parsed).toMatchObject({ facility: 13, severity: 6, appName: 'portcullis', version: 1 });
    const kv = parseKeyValues(parsed.msg);
    expect(Object.fromEntries(kv)).toMatchObject({
      event: 'user.create',
      outcome: 'success',
      actor_type: 'token',
      src_ip: '198.51.100.23',
      target: `user:${userId}`,
    });
    expect(kv.get('request_id')).toBeTruthy();
    expect(parsed.sd.get(SYSLOG_SD_ID)?.get('target')).toBe(`user:${userId}`);
    // Only the row's columns go out: never the password, nor the before/after bodies.
    expect(line).not.toContain('syslogged-password-1');
    expect(line).not.toContain('sysloggeduser"');
  });

  it('sends a failed sign-in as a warning, with the source address and no password', async () => {
    const res = await t.call({
      method: 'POST',
      url: '/api/v1/auth/login',
      remoteAddress: '203.0.113.9',
      payload: { username: 'owner', password: 'wrong-password-here' },
    });
    expect(res.statusCode).toBe(401);
    const line = await waitFor(() =>
      messages.find((m) => {
        const p = parse5424(m);
        return p.msgId === 'auth.login' && p.sd.get(SYSLOG_SD_ID)?.get('outcome') === 'failure';
      }),
    );
    const parsed = parse5424(line);
    expect(parsed.severity).toBe(4);
    expect(parseKeyValues(parsed.msg).get('src_ip')).toBe('203.0.113.9');
    expect(line).not.toContain('wrong-password-here');
  });

  it('reports its state and sends a test event on request', async () => {
    const state = await t.call({ method: 'GET', url: '/api/v1/audit/syslog', token: t.ownerToken });
    expect(state.statusCode).toBe(200);
    expect(state.json()).toMatchObject({ configured: true, forwarding: true, connected: true, target: expect.stringMatching(/^tcp:\/\/127\.0\.0\.1:\d+$/) });
    const res = await t.call({ method: 'POST', url: '/api/v1/audit/syslog/test', token: t.ownerToken, payload: {} });
    expect(res.statusCode).toBe(200);
    expect(res.json<{ sent: number }>().sent).toBeGreaterThan(0);
    await waitFor(() => messages.find((m) => parse5424(m).msgId === 'audit.syslog_test'));
  });

  it('portcullis audit syslog-test sends a test event and prints the state', async () => {
    const url = await t.app.listen({ host: '127.0.0.1', port: 0 });
    const before = messages.filter((m) => parse5424(m).msgId === 'audit.syslog_test').length;
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['bin/portcullis.js', 'audit', 'syslog-test', '--url', url, '--token', t.ownerToken, '--json'],
      { cwd: new URL('../../', import.meta.url).pathname },
    );
    expect(JSON.parse(stdout)).toMatchObject({ configured: true, connected: true });
    await waitFor(() =>
      messages.filter((m) => parse5424(m).msgId === 'audit.syslog_test').length > before ? true : undefined,
    );
  });
});

describe('audit syslog with the collector down', () => {
  let t: TestApp;

  beforeAll(async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as { port: number };
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    t = await startTestApp('pglite', {
      syslog: { target: { protocol: 'tcp', host: '127.0.0.1', port }, caFile: null, facility: 13 },
    });
  });
  afterAll(async () => t.close());

  it('audited requests still succeed at once; the status names the failure', async () => {
    const start = performance.now();
    const res = await t.call({
      method: 'POST',
      url: '/api/v1/users',
      token: t.ownerToken,
      payload: { username: 'downcollector', password: 'down-collector-pw-1' },
    });
    expect(res.statusCode).toBe(201);
    expect(performance.now() - start).toBeLessThan(3_000);
    const test = await t.call({ method: 'POST', url: '/api/v1/audit/syslog/test', token: t.ownerToken, payload: {} });
    expect(test.statusCode).toBe(200);
    const status = (await t.call({ method: 'GET', url: '/api/v1/audit/syslog', token: t.ownerToken })).json<{
      connected: boolean;
      last_error: string | null;
      queued: number;
    }>();
    expect(status.connected).toBe(false);
    expect(status.last_error).toMatch(/ECONNREFUSED/);
    expect(status.queued).toBeGreaterThan(0);
  });

  it('without a target, the test route answers 409 naming the variable', async () => {
    const plain = await startTestApp('pglite');
    try {
      const res = await plain.call({ method: 'POST', url: '/api/v1/audit/syslog/test', token: plain.ownerToken, payload: {} });
      expect(res.statusCode).toBe(409);
      expect(res.body).toContain('PORTCULLIS_SYSLOG_URL');
      const state = await plain.call({ method: 'GET', url: '/api/v1/audit/syslog', token: plain.ownerToken });
      expect(state.json()).toMatchObject({ configured: false, target: null });
    } finally {
      await plain.close();
    }
  });
});
