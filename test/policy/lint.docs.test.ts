/**
 * @module docs/policy-lint.md lists every lint code with its kind and severity exactly as `LINT_CATALOG` has them.
 */
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { LINT_CATALOG } from '../../src/policy/lint.ts';

it('docs/policy-lint.md lists every finding code with its kind and severity', () => {
  const text = readFileSync(new URL('../../docs/policy-lint.md', import.meta.url), 'utf8');
  const rows = [...text.matchAll(/^\| (LINT\d{3}) \| ([a-z-]+) \| (error|warning|info) \|/gm)].map((m) => [
    m[1],
    m[2],
    m[3],
  ]);
  const catalog = Object.entries(LINT_CATALOG).map(([code, entry]) => [code, entry.kind, entry.severity]);
  expect(rows).toEqual(catalog);
});
