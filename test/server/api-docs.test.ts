/**
 * @module docs/api.md lists every `/api/v1` route the server registers, and no route it does not have.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.ts';

const docs = readFileSync(new URL('../../docs/api.md', import.meta.url), 'utf8');
const documented = new Set(
  [...docs.matchAll(/^\| (GET|POST|PUT|PATCH|DELETE) \| `(\/[^`]*)` \|/gm)].map((m) => `${m[1]} ${m[2]}`),
);

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp('pglite');
});
afterAll(async () => {
  await t?.close();
});

it('documents exactly the registered API routes', () => {
  const registered = new Set(
    t.app.declaredRoutes
      .filter((r) => r.method !== 'HEAD' && (r.url.startsWith('/api/v1/') || !r.url.startsWith('/api/docs')))
      .map((r) => `${r.method} ${r.url.replace(/:([A-Za-z_]+)/g, '{$1}')}`),
  );
  expect([...registered].filter((r) => !documented.has(r))).toEqual([]);
  expect([...documented].filter((r) => !registered.has(r))).toEqual([]);
});
