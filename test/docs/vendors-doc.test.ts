/**
 * docs/vendors.md is generated from the vendor registry (scripts/vendors-doc.ts): registering a vendor (or changing
 * a flag or a reason) without re-running `npm run gen:api` fails here, naming the command.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CAPABILITIES } from '../../src/adapters/registry.ts';
import { listVendors } from '../../src/adapters/vendors.ts';
import { VENDORS_DOC, vendorsDoc } from '../../scripts/vendors-doc.ts';

describe('docs/vendors.md', () => {
  const generated = vendorsDoc();

  it('is what the generator writes from the registry (run `npm run gen:api` after changing a vendor)', () => {
    const committed = readFileSync(new URL(`../../${VENDORS_DOC}`, import.meta.url), 'utf8');
    expect(committed === generated, `${VENDORS_DOC} is out of date: run \`npm run gen:api\``).toBe(true);
  });

  it('has one row per capability and one column per registered vendor, each off flag with its reason', () => {
    const vendors = listVendors();
    for (const flag of CAPABILITIES) {
      const row = generated.split('\n').find((line) => line.startsWith(`| \`${flag}\` |`));
      expect(row, flag).toBeDefined();
      expect(row?.split(' | ').length, flag).toBe(vendors.length + 1);
      for (const note of row?.matchAll(/no \((\d+)\)/g) ?? []) {
        expect(generated).toMatch(new RegExp(`^${note[1]}\\. \`[a-z0-9_]+\` \`${flag.replace('.', '\\.')}\`: \\S`, 'm'));
      }
    }
  });
});
