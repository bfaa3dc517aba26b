/**
 * @module `portcullis lab pfsense` and `portcullis gateway test` as a user runs them: real processes, real HTTPS.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const BIN = join(import.meta.dirname, '../../bin/portcullis.js');
const run = promisify(execFile);
let lab: ChildProcess;
let details: { url: string; apiKey: string; fingerprint: string };

async function gatewayTest(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [
      BIN,
      'gateway',
      'test',
      '--vendor',
      'pfsense',
      ...args,
    ]);
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

beforeAll(async () => {
  lab = spawn(process.execPath, [BIN, 'lab', 'pfsense', '--json', '--key', 'cli-test-key-4242'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const [line] = (await once(lab.stdout as NodeJS.ReadableStream, 'data')) as [Buffer];
  details = JSON.parse(line.toString('utf8'));
});
afterAll(async () => {
  lab.kill('SIGTERM');
  await once(lab, 'exit');
});

describe('portcullis lab pfsense', () => {
  it('prints its URL, the key it was given and the certificate fingerprint', () => {
    expect(details.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(details.apiKey).toBe('cli-test-key-4242');
    expect(details.fingerprint).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
  });
});

describe('portcullis gateway test', () => {
  it('--json prints ok and both versions, exit 0, with a pinned fingerprint', async () => {
    const r = await gatewayTest([
      '--url',
      details.url,
      '--api-key',
      details.apiKey,
      '--fingerprint',
      details.fingerprint,
      '--json',
    ]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      ok: true,
      version: { product: '2.8.1-RELEASE', api: 'v2.10.0' },
      warnings: [],
      error: null,
    });
  });

  it('prints the error code and what to check, exit 1, without echoing the key', async () => {
    const r = await gatewayTest([
      '--url',
      details.url,
      '--api-key',
      'wrong-key-0000',
      '--insecure',
      '--json',
    ]);
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout);
    expect(out.ok).toBe(false);
    expect(out.error.code).toBe('PFS001');
    expect(out.warnings[0]).toMatch(/verification is disabled/);
    expect(r.stdout + r.stderr).not.toContain('wrong-key-0000');
  });

  it('human output names PFS003 for an untrusted certificate', async () => {
    const r = await gatewayTest(['--url', details.url, '--api-key', details.apiKey]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^FAILED {2}PFS003 TLS certificate error/);
  });

  it('takes the key from $PORTCULLIS_GATEWAY_API_KEY and rejects a malformed fingerprint as usage', async () => {
    const { stdout } = await run(
      process.execPath,
      [BIN, 'gateway', 'test', '--vendor', 'pfsense', '--url', details.url, '--insecure'],
      {
        env: { ...process.env, PORTCULLIS_GATEWAY_API_KEY: details.apiKey },
      },
    );
    expect(stdout).toContain('OK  pfSense 2.8.1-RELEASE');
    const bad = await gatewayTest(['--url', details.url, '--api-key', 'k', '--fingerprint', 'abc']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('SHA-256');
  });
});
