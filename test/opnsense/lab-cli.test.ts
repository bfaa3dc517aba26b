/**
 * @module `portcullis lab opnsense --json`: starts the emulator in its own process, prints one JSON line with the
 * URL, key, secret and fingerprint, and answers with them (docs/reference/opnsense-api.md §8).
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';

const BIN = join(import.meta.dirname, '../../bin/portcullis.js');

describe('portcullis lab opnsense', () => {
  it('prints its connection details as JSON and serves the API with them', async () => {
    const child = spawn(process.execPath, [BIN, 'lab', 'opnsense', '--json', '--no-tls', '--firmware', '26.7'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      const lines = createInterface({ input: child.stdout });
      const [first] = (await once(lines, 'line')) as [string];
      const details = JSON.parse(first) as { url: string; key: string; secret: string; fingerprint: string; version: string };
      expect(details.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(details.version).toBe('26.7');
      const res = await fetch(`${details.url}/api/core/firmware/status`, {
        headers: { authorization: `Basic ${Buffer.from(`${details.key}:${details.secret}`).toString('base64')}` },
      });
      const body = (await res.json()) as { product: { product_version: string } };
      expect(body.product.product_version).toBe('26.7');
    } finally {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
  }, 60_000);
});
