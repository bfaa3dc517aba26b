/**
 * @module The error catalog in code and its documentation (docs/errors.md) list the same codes with the same
 * statuses, in both directions, so a client can trust the docs.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_CATALOG, ERROR_CODES } from '../../src/server/errors.ts';

const docs = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
const documented = new Map(
  [...docs.matchAll(/^\| `(PC_ERR_[A-Z_]+)` \| (\d{3}) \|/gm)].map((m) => [m[1] as string, Number(m[2])]),
);

describe('error catalog ↔ docs/errors.md', () => {
  it.each(ERROR_CODES)('%s is documented with its status', (code) => {
    expect(documented.get(code)).toBe(ERROR_CATALOG[code].status);
  });

  it('documents no code the catalog lacks', () => {
    expect([...documented.keys()].filter((code) => !(code in ERROR_CATALOG))).toEqual([]);
  });

  it('uses each code once in the docs table', () => {
    const rows = [...docs.matchAll(/^\| `(PC_ERR_[A-Z_]+)` \|/gm)].map((m) => m[1]);
    expect(rows.length).toBe(new Set(rows).size);
  });
});
