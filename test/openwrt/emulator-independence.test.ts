/**
 * @module The OpenWrt emulator and the OpenWrt adapter share no code (issue 11): nothing reachable from
 * `src/emulators/openwrt` lies under `src/adapters`, and nothing reachable from `src/adapters/openwrt` lies under
 * `src/emulators`. Both were written from upstream source by different helpers; the contract suite
 * (openwrt-alias-target.test.ts) is where they meet.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');

/** Every repository module reachable from `entry` through relative imports (static and dynamic). */
function reachable(entry: string): Set<string> {
  const seen = new Set<string>();
  const walk = (file: string): void => {
    if (seen.has(file) || !existsSync(file)) return;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/(?:from|import)\s*\(?\s*['"](\.{1,2}\/[^'"]+)['"]/g)) {
      walk(resolve(dirname(file), m[1] as string));
    }
  };
  walk(entry);
  return seen;
}

const rel = (files: Set<string>) => [...files].map((f) => f.slice(ROOT.length + 1));

describe('OpenWrt emulator ↔ adapter independence', () => {
  it('no module reachable from src/emulators/openwrt lies under src/adapters', () => {
    const modules = rel(reachable(join(ROOT, 'src/emulators/openwrt/index.ts')));
    expect(modules).toContain('src/emulators/openwrt/index.ts');
    expect(modules.filter((m) => m.startsWith('src/adapters/'))).toEqual([]);
  });

  it('no module reachable from src/adapters/openwrt lies under src/emulators', () => {
    const modules = rel(reachable(join(ROOT, 'src/adapters/openwrt/index.ts')));
    expect(modules).toContain('src/adapters/openwrt/ubus.ts');
    expect(modules.filter((m) => m.startsWith('src/emulators/'))).toEqual([]);
  });

  it('the walk sees a cross import when there is one (this suite’s harness imports both)', () => {
    const modules = rel(reachable(join(ROOT, 'test/openwrt/adapter-harness.ts')));
    expect(modules.some((m) => m.startsWith('src/adapters/openwrt/'))).toBe(true);
    expect(modules.some((m) => m.startsWith('src/emulators/openwrt/'))).toBe(true);
  });
});
