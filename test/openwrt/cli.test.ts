/**
 * @module `portcullis lab openwrt` as a user runs it: a real process printing its URL, login, password and
 * certificate fingerprint, answering a real `session.login` over HTTPS (docs/reference/openwrt-api.md §8).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const BIN = join(import.meta.dirname, '../../bin/portcullis.js');
let lab: ChildProcess;
let details: { url: string; user: string; password: string; fingerprint: string; limitedUser: string };

beforeAll(async () => {
  lab = spawn(process.execPath, [BIN, 'lab', 'openwrt', '--json', '--password', 'lab-pass-4242'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const [line] = (await once(lab.stdout as NodeJS.ReadableStream, 'data')) as [Buffer];
  details = JSON.parse(line.toString('utf8'));
});
afterAll(async () => {
  lab.kill('SIGTERM');
  await once(lab, 'exit');
});

describe('portcullis lab openwrt', () => {
  it('prints URL, user, the given password and the fingerprint, and accepts that login', async () => {
    expect(details.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(details.user).toBe('root');
    expect(details.password).toBe('lab-pass-4242');
    expect(details.fingerprint).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    expect(details.limitedUser).toBe('portcullis');
    const dispatcher = new Agent({ connect: { rejectUnauthorized: false } });
    const res = await request(`${details.url}/ubus`, {
      method: 'POST',
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'call',
        params: ['00000000000000000000000000000000', 'session', 'login', { username: 'root', password: 'lab-pass-4242' }],
      }),
      dispatcher,
    });
    const body = (await res.body.json()) as { result: [number, { ubus_rpc_session: string }] };
    expect(res.statusCode).toBe(200);
    expect(body.result[0]).toBe(0);
    expect(body.result[1].ubus_rpc_session).toMatch(/^[0-9a-f]{32}$/);
    await dispatcher.close();
  });
});
