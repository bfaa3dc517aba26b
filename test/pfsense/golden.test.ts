/**
 * @module Golden files (docs/reference/prior-art.md §5.7) for the emulator's exact response bytes in the scenarios of
 * docs/reference/pfrest-contract.md §2.2: envelope key order, `\/` escaping, backticks, trailing newline.
 * `UPDATE_GOLDEN=1` rewrites them; a mismatch writes a gitignored `<case>.actual` beside the golden file.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PfRestEmulator, startPfRestEmulator } from '../../src/emulators/pfrest/index.ts';

const DIR = join(import.meta.dirname, 'golden');
let emu: PfRestEmulator;
let agent: Agent;

beforeAll(async () => {
  emu = await startPfRestEmulator();
  agent = new Agent({ connect: { ca: emu.caPem } });
});
afterAll(async () => {
  await agent.close();
  await emu.close();
});

async function raw(
  method: string,
  path: string,
  o: { json?: unknown; key?: string | null } = {},
): Promise<string> {
  const headers: Record<string, string> = {};
  if (o.key !== null) headers['x-api-key'] = o.key ?? emu.apiKey;
  if (o.json !== undefined) headers['content-type'] = 'application/json';
  const res = await request(`${emu.url}${path}`, {
    method: method as 'GET',
    headers,
    dispatcher: agent,
    ...(o.json === undefined ? {} : { body: JSON.stringify(o.json) }),
  });
  const contentType = String(res.headers['content-type']);
  return `HTTP ${res.statusCode} ${contentType}\n${(await res.body.text()).replace(/\r\n/g, '\n')}`;
}

function matchGolden(name: string, actual: string): void {
  const file = join(DIR, `${name}.golden`);
  const sidecar = join(DIR, `${name}.actual`);
  if (process.env.UPDATE_GOLDEN === '1') writeFileSync(file, actual);
  const expected = readFileSync(file, 'utf8').replace(/\r\n/g, '\n');
  if (expected === actual) {
    if (existsSync(sidecar)) rmSync(sidecar);
  } else {
    writeFileSync(sidecar, actual);
  }
  expect(actual).toBe(expected);
}

describe('golden responses (docs/reference/pfrest-contract.md §2.2)', () => {
  it.each([
    [
      'alias-get-success',
      async () => {
        await raw('POST', '/api/v2/firewall/alias', {
          json: {
            name: 'web_servers',
            type: 'host',
            address: ['10.0.0.5', 'www.example.com'],
            detail: ['web1', 'web2'],
          },
        });
        return raw('GET', '/api/v2/firewall/alias?id=0');
      },
      '"data":{"id":0,"name":"web_servers"',
    ],
    [
      'unauthorized',
      () => raw('GET', '/api/v2/firewall/alias?id=0', { key: null }),
      '"message":"Authentication failed."',
    ],
    [
      'forbidden',
      () => raw('GET', '/api/v2/firewall/alias?id=0', { key: emu.addKey([]) }),
      'You do not have sufficient privileges',
    ],
    ['not-found', () => raw('GET', '/api/v2/firewall/alias?id=7'), 'Object with ID `7` does not exist.'],
    [
      'unique-name',
      async () => {
        await raw('POST', '/api/v2/firewall/alias', { json: { name: 'web_servers', type: 'host' } });
        return raw('POST', '/api/v2/firewall/alias', { json: { name: 'web_servers', type: 'host' } });
      },
      'Value is in use by object with ID `0`.',
    ],
    [
      'method-not-allowed',
      () => raw('PUT', '/api/v2/firewall/alias', { json: {} }),
      'Resource at \\/api\\/v2\\/firewall\\/alias',
    ],
    ['nginx-404', () => raw('GET', '/api/v2/no/such/endpoint'), '<center>nginx</center>'],
  ] as const)('%s', async (name, scenario, keyLine) => {
    emu.reset();
    const actual = await scenario();
    expect(actual).toContain(keyLine);
    matchGolden(name, actual);
  });
});
