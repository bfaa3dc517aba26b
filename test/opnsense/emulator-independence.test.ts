/**
 * @module The OPNsense emulator and the OPNsense adapter share no code (issue 11 item 2): no module reachable
 * from one lies under the other's folder. The walk follows relative imports, static and dynamic.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');

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
const EMULATOR = join(ROOT, 'src/emulators/opnsense/index.ts');

describe('OPNsense emulator ↔ adapter independence', () => {
  it('nothing reachable from the adapter lies under src/emulators', () => {
    const modules = rel(reachable(join(ROOT, 'src/adapters/opnsense/index.ts')));
    expect(modules).toContain('src/adapters/opnsense/adapter.ts');
    expect(modules.filter((m) => m.startsWith('src/emulators/'))).toEqual([]);
  });

  it.runIf(existsSync(EMULATOR))('nothing reachable from the emulator lies under src/adapters', () => {
    const modules = rel(reachable(EMULATOR));
    expect(modules.filter((m) => m.startsWith('src/adapters/'))).toEqual([]);
  });

  it('the walk sees a cross import when there is one (this suite’s double imports upstream JSON only)', () => {
    const modules = rel(reachable(join(ROOT, 'test/opnsense/live.test.ts')));
    expect(modules).toContain('src/adapters/opnsense/details.ts');
  });
});
