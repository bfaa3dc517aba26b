/**
 * @module The OpenWrt emulator against responses quoted from upstream (the OpenWrt wiki's ubus page and
 * uhttpd/rpcd source), not written by the emulator: `test/openwrt/upstream/*.response`, each with a provenance
 * header (repository, commit, source) and the request that produces it. `compare: exact` must match byte for
 * byte as JSON; `compare: shape` must have every quoted key with the same JSON type (docs/reference/openwrt-api.md §1, §2, §6).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type OpenWrtEmulator, startOpenWrtEmulator } from '../../src/emulators/openwrt/index.ts';
import { login, post } from './helpers.ts';

const DIR = join(import.meta.dirname, 'upstream');

interface Quoted {
  file: string;
  header: Map<string, string[]>;
  body: unknown;
}

function load(file: string): Quoted {
  const text = readFileSync(join(DIR, file), 'utf8');
  const split = text.indexOf('\n\n');
  const header = new Map<string, string[]>();
  for (const line of text.slice(0, split).split('\n')) {
    const m = /^# ([a-z-]+): (.+)$/.exec(line);
    if (m) header.set(m[1] as string, [...(header.get(m[1] as string) ?? []), m[2] as string]);
  }
  return { file, header, body: JSON.parse(text.slice(split + 2)) };
}

/** Every key of `quoted` is in `actual` with the same JSON type, recursively (arrays: by their first element). */
function sameShape(quoted: unknown, actual: unknown, path = '$'): string[] {
  const kind = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);
  if (kind(quoted) !== kind(actual)) return [`${path}: ${kind(quoted)} quoted, ${kind(actual)} emulated`];
  if (Array.isArray(quoted) && Array.isArray(actual))
    return quoted.flatMap((q, i) => (i < actual.length ? sameShape(q, actual[i], `${path}[${i}]`) : [`${path}[${i}] missing`]));
  if (kind(quoted) === 'object') {
    const a = actual as Record<string, unknown>;
    return Object.entries(quoted as Record<string, unknown>).flatMap(([k, v]) =>
      k in a ? sameShape(v, a[k], `${path}.${k}`) : [`${path}.${k} missing`],
    );
  }
  return [];
}

const files = readdirSync(DIR).filter((f) => f.endsWith('.response'));
let emu: OpenWrtEmulator;
let sid: string;

beforeAll(async () => {
  emu = await startOpenWrtEmulator({
    clock: 'manual',
    users: [{ username: 'root', password: 'secret', read: ['*'], write: ['*'] }],
  });
  sid = await login(emu, 'root', 'secret');
});
afterAll(async () => {
  await emu.close();
});

describe('quoted upstream responses', () => {
  it('every file carries provenance and a request', () => {
    expect(files.length).toBeGreaterThanOrEqual(7);
    for (const f of files) {
      const q = load(f);
      expect(q.header.get('repository'), f).toBeDefined();
      expect(q.header.get('commit')?.[0], f).toMatch(/^[0-9a-f]{40}$/);
      expect(q.header.get('source'), f).toBeDefined();
      expect(q.header.get('request'), f).toBeDefined();
      expect(q.header.get('status')?.[0], f).toBe('200');
    }
  });

  it.each(files)('%s', async (file) => {
    const q = load(file);
    const req = q.header.get('request')?.[0] as string;
    let body: string;
    if (req.startsWith('raw ')) body = req.slice(4);
    else {
      const m = /^call (\S+) (\S+) (\S+) (.+)$/.exec(req);
      if (!m) throw new Error(`bad request line in ${file}`);
      const session = m[1] === '<session>' ? sid : (m[1] as string);
      body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'call', params: [session, m[2], m[3], JSON.parse(m[4] as string)] });
    }
    const res = await post(emu, body);
    expect(res.status).toBe(200);
    if (q.header.get('compare')?.[0]?.startsWith('exact')) expect(res.json).toEqual(q.body);
    else expect(sameShape(q.body, res.json)).toEqual([]);
  });
});
