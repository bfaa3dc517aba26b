/**
 * @module The access core, the firewall module, the shared core and the HTTP layer know no vendor: no vendor
 * name and no vendor error code appears in their source. What they need of a vendor comes from its descriptor
 * (src/adapters/registry.ts); only `src/adapters/<vendor>` and `src/emulators/<vendor>` name one.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = new URL('../../', import.meta.url).pathname;
const NEUTRAL = ['src/access', 'src/firewall', 'src/core', 'src/server'];
const VENDOR_WORDS = /pfsense|pfrest|opnsense|routeros|mikrotik|openwrt|\bPFS\d{3}\b/i;

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? files(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [join(dir, entry.name)] : [],
  );
}

describe('vendor-neutral code', () => {
  it.each(NEUTRAL)('%s names no vendor', (dir) => {
    const offending = files(join(root, dir)).flatMap((file) =>
      readFileSync(file, 'utf8')
        .split('\n')
        .map((line, i) => ({ line, at: `${relative(root, file)}:${i + 1}` }))
        .filter(({ line }) => VENDOR_WORDS.test(line))
        .map(({ at, line }) => `${at}: ${line.trim()}`),
    );
    expect(offending).toEqual([]);
  });

  it('the lab names no vendor outside its per-vendor files (src/lab/<vendor>.ts) and their one-line list', () => {
    const labDir = join(root, 'src/lab');
    const perVendor = (file: string) => /\/src\/lab\/[a-z0-9_]+\.ts$/.test(file) && !['index.ts', 'emulator.ts', 'vendors.ts'].some((n) => file.endsWith(`/${n}`));
    const offending = files(labDir)
      .filter((file) => !perVendor(file))
      .flatMap((file) =>
        readFileSync(file, 'utf8')
          .split('\n')
          .map((line, i) => ({ line, at: `${relative(root, file)}:${i + 1}` }))
          // The list of lab emulators imports and names each per-vendor entry: that is the one line per vendor.
          .filter(({ line, at }) => VENDOR_WORDS.test(line) && !(at.startsWith('src/lab/vendors.ts') && /^(import \{ \w+Lab \} from '\.\/\w+\.ts';|export const LAB_EMULATORS)/.test(line)))
          .map(({ at, line }) => `${at}: ${line.trim()}`),
      );
    expect(offending).toEqual([]);
  });

  it('the pattern catches a vendor literal (the check can fail)', () => {
    expect(VENDOR_WORDS.test("const codes = { aliasNotFound: 'PFS103' };")).toBe(true);
    expect(VENDOR_WORDS.test("vendor: 'pfsense'")).toBe(true);
  });
});
