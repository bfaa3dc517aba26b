/**
 * @module Keeps the PFS error catalog and the error table of docs/pfsense.md in sync, both directions
 * (docs/reference/prior-art.md §5.11): same codes, same titles.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PFS_CATALOG } from '../../src/adapters/pfsense/index.ts';

const doc = readFileSync(join(import.meta.dirname, '../../docs/pfsense.md'), 'utf8');
const documented = new Map(
  [...doc.matchAll(/^\| (PFS\d{3}) \| ([^|]+) \|/gm)].map((m) => [m[1] as string, (m[2] as string).trim()]),
);

describe('PFS catalog ↔ docs/pfsense.md', () => {
  it('documents every code with its catalog title', () => {
    for (const [code, entry] of Object.entries(PFS_CATALOG))
      expect([code, documented.get(code)]).toEqual([code, entry.title]);
  });

  it('documents no code the catalog lacks', () => {
    expect([...documented.keys()].sort()).toEqual(Object.keys(PFS_CATALOG).sort());
  });
});
