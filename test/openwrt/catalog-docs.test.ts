/**
 * @module Keeps the OWRT error catalog and the error table of docs/openwrt.md in sync, both directions: same codes,
 * same titles.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { OWRT_CATALOG } from '../../src/adapters/openwrt/index.ts';

const doc = readFileSync(join(import.meta.dirname, '../../docs/openwrt.md'), 'utf8');
const documented = new Map(
  [...doc.matchAll(/^\| (OWRT\d{3}) \| ([^|]+) \|/gm)].map((m) => [m[1] as string, (m[2] as string).trim()]),
);

describe('OWRT catalog ↔ docs/openwrt.md', () => {
  it('documents every code with its catalog title', () => {
    for (const [code, entry] of Object.entries(OWRT_CATALOG))
      expect([code, documented.get(code)]).toEqual([code, entry.title]);
  });

  it('documents no code the catalog lacks', () => {
    expect([...documented.keys()].sort()).toEqual(Object.keys(OWRT_CATALOG).sort());
  });
});
