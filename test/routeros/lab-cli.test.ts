/**
 * @module `portcullis lab routeros` as a user runs it: a real process serving HTTPS, printing its details as JSON
 * (docs/reference/routeros-api.md §8).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const BIN = join(import.meta.dirname, '../../bin/portcullis.js');
let lab: ChildProcess;
let details: { url: string; username: string; password: string; fingerprint: string };

beforeAll(async () => {
  lab = spawn(process.execPath, [BIN, 'lab', 'routeros', '--json', '--password', 'lab-pass-1'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const [line] = (await once(lab.stdout as NodeJS.ReadableStream, 'data')) as [Buffer];
  details = JSON.parse(line.toString('utf8'));
}, 60_000);
afterAll(async () => {
  lab.kill('SIGTERM');
  await once(lab, 'exit');
});

describe('portcullis lab routeros', () => {
  it('prints URL, user, password and the certificate fingerprint', () => {
    expect(details.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(details.username).toBe('admin');
    expect(details.password).toBe('lab-pass-1');
    expect(details.fingerprint).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
  });

  it('answers REST with those credentials', async () => {
    const dispatcher = new Agent({ connect: { rejectUnauthorized: false } });
    const res = await request(`${details.url}/rest/system/resource`, {
      dispatcher,
      headers: { authorization: `Basic ${Buffer.from('admin:lab-pass-1').toString('base64')}` },
    });
    expect(res.statusCode).toBe(200);
    expect(((await res.body.json()) as { version: string }).version).toBe('7.16.2 (stable)');
    await dispatcher.close();
  });
});
