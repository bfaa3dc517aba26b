/**
 * @module Keeps the OPN error catalog and the error table of docs/opnsense.md in sync, both directions: same codes,
 * same titles, same retry flag.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { OPN_CATALOG } from '../../src/adapters/opnsense/index.ts';

const doc = readFileSync(join(import.meta.dirname, '../../docs/opnsense.md'), 'utf8');
const documented = new Map(
  [...doc.matchAll(/^\| (OPN\d{3}) \| ([^|]+) \| (yes|no) \|/gm)].map((m) => [
    m[1] as string,
    { title: (m[2] as string).trim(), retryable: m[3] === 'yes' },
  ]),
);

describe('OPN catalog ↔ docs/opnsense.md', () => {
  it('documents every code with its catalog title and retry flag', () => {
    for (const [code, entry] of Object.entries(OPN_CATALOG)) {
      expect([code, documented.get(code)]).toEqual([code, { title: entry.title, retryable: entry.retryable }]);
    }
  });

  it('documents no code the catalog lacks', () => {
    expect([...documented.keys()].sort()).toEqual(Object.keys(OPN_CATALOG).sort());
  });

  it('names no path outside the repository', () => {
    expect(doc).not.toMatch(/\.\.\/shared|\/work\//);
  });
});
