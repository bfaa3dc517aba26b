/** @module The pure access modules import no I/O, server, store or adapter code (style anchor 2). */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const PURE = [
  'grant-policy.ts',
  'alias-entries.ts',
  'desired-set.ts',
  'source-conditions.ts',
  'expiry.ts',
  'reconciler.ts',
  'pool.ts',
];
const ALLOWED = new Set([
  '../adapters/types.ts',
  '../net/ip.ts',
  '../net/client-ip.ts',
  '../errors.ts',
  './alias-entries.ts',
  './desired-set.ts',
  './expiry.ts',
  './reconciler.ts',
  './source-conditions.ts',
]);

describe('pure access modules', () => {
  it.each(PURE)('%s imports only pure modules', (file) => {
    const source = readFileSync(new URL(`../../src/access/${file}`, import.meta.url), 'utf8');
    const imports = [...source.matchAll(/^import\s[^;]*?from\s+'([^']+)'/gms)].map((m) => m[1]);
    expect(imports.filter((path) => !ALLOWED.has(path as string))).toEqual([]);
  });
});
