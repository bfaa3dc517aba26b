/**
 * @module The warning catalog and docs/policy.md list the same codes with the same severities, in both directions,
 * and every code the generator can emit is in the catalog.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { WARNING_CATALOG } from '../../src/policy/warnings.ts';

const docs = readFileSync(new URL('../../docs/policy.md', import.meta.url), 'utf8');
const documented = new Map(
  [...docs.matchAll(/^\| (POL\d{3}) \| (\w+) \|/gm)].map((m) => [m[1] ?? '', m[2] ?? '']),
);

const sources = [
  'import/xml.ts',
  'import/live.ts',
  'import/opnsense.ts',
  'generate/opnsense.ts',
  'generate/aliases.ts',
  'generate/interfaces.ts',
  'generate/system.ts',
  'generate/user.ts',
  'generate/index.ts',
  'generate/nat.ts',
]
  .map((file) => readFileSync(new URL(`../../src/policy/${file}`, import.meta.url), 'utf8'))
  .join('\n');

describe('warning catalog', () => {
  it.each(Object.entries(WARNING_CATALOG))('%s is documented with its severity', (code, entry) => {
    expect(documented.get(code)).toBe(entry.severity);
  });

  it('documents no code the catalog lacks', () => {
    expect([...documented.keys()].filter((code) => !(code in WARNING_CATALOG))).toEqual([]);
  });

  it('every catalog code is emitted somewhere (no dead codes)', () => {
    expect(Object.keys(WARNING_CATALOG).filter((code) => !sources.includes(`'${code}'`))).toEqual([]);
  });

  it('every code used in the importer and generator is in the catalog', () => {
    const used = new Set([...sources.matchAll(/'(POL\d{3})'/g)].map((m) => m[1]));
    expect([...used].filter((code) => code !== undefined && !(code in WARNING_CATALOG))).toEqual([]);
  });
});
