/**
 * @module Keeps the NFT error catalog and the error table of docs/nftables.md in sync, both directions: same codes,
 * same titles.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NFT_CATALOG } from '../../src/adapters/nftables/errors.ts';

const doc = readFileSync(join(import.meta.dirname, '../../docs/nftables.md'), 'utf8');
const documented = new Map(
  [...doc.matchAll(/^\| (NFT\d{3}) \| ([^|]+) \|/gm)].map((m) => [m[1] as string, (m[2] as string).trim()]),
);

describe('NFT catalog ↔ docs/nftables.md', () => {
  it('documents every code with its catalog title', () => {
    for (const [code, entry] of Object.entries(NFT_CATALOG))
      expect([code, documented.get(code)]).toEqual([code, entry.title]);
  });

  it('documents no code the catalog lacks', () => {
    expect([...documented.keys()].sort()).toEqual(Object.keys(NFT_CATALOG).sort());
  });
});
