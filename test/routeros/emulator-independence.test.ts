/**
 * @module The RouterOS emulator and the adapter it tests share no code: nothing reachable from
 * src/emulators/routeros lies under src/adapters, and nothing reachable from src/adapters/routeros lies under
 * src/emulators. Where both implement the same RouterOS rule on their own (duration strings), they are compared.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseRosDuration } from '../../src/adapters/routeros/index.ts';
import { parseDuration } from '../../src/emulators/routeros/index.ts';

const ROOT = resolve(import.meta.dirname, '../..');

/** Every repository module reachable from `entry` through relative imports (static and dynamic). */
function reachable(entry: string): string[] {
  const seen = new Set<string>();
  const walk = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/(?:from|import)\s*\(?\s*['"](\.{1,2}\/[^'"]+)['"]/g)) walk(resolve(dirname(file), m[1] as string));
  };
  walk(entry);
  return [...seen].map((f) => f.slice(ROOT.length + 1));
}

describe('RouterOS emulator ↔ adapter independence', () => {
  it('no module reachable from src/emulators/routeros lies under src/adapters', () => {
    const modules = reachable(join(ROOT, 'src/emulators/routeros/index.ts'));
    expect(modules.length).toBeGreaterThan(3);
    expect(modules.filter((m) => m.startsWith('src/adapters/'))).toEqual([]);
  });

  it('no module reachable from src/adapters/routeros lies under src/emulators', () => {
    const modules = reachable(join(ROOT, 'src/adapters/routeros/index.ts'));
    expect(modules).toContain('src/adapters/routeros/duration.ts');
    expect(modules.filter((m) => m.startsWith('src/emulators/'))).toEqual([]);
  });

  it('the walk sees a cross import when there is one (this test imports both)', () => {
    const modules = reachable(join(ROOT, 'test/routeros/emulator-independence.test.ts'));
    expect(modules).toContain('src/adapters/routeros/duration.ts');
    expect(modules.some((m) => m.startsWith('src/emulators/routeros/'))).toBe(true);
  });

  it('both read RouterOS durations the same way', () => {
    for (const text of ['4m59s', '1d2h3m4s', '1w2d', '59s', '1h', '23h59m59s', '0s', '3600', 'soon'])
      expect([text, parseRosDuration(text)]).toEqual([text, parseDuration(text)]);
  });
});
