/**
 * @module The import boundaries of docs/architecture.md (ADR 0119), checked over the whole import graph of `src`:
 * a rule is broken by any chain of imports, not only by a direct one. The second half runs the same checker and
 * the same rules on a small tree written to a temporary directory, so the check itself is shown to catch what it
 * claims to catch.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import {
  type BoundaryException,
  type BoundaryRule,
  buildImportGraph,
  findViolations,
  formatViolations,
  type ImportEdge,
  moduleSpecifiers,
  reachableFiles,
} from './import-graph.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

const under =
  (...prefixes: string[]) =>
  (path: string) =>
    prefixes.some((prefix) => path.startsWith(prefix));
const file = (test: (path: string) => boolean) => (edge: ImportEdge) => edge.internal && test(edge.target);
const pkg = (test: (name: string) => boolean) => (edge: ImportEdge) => !edge.internal && test(edge.target);

/** Files outside `src/policy` the engine may use: pure address arithmetic, no imports of their own but each other. */
const POLICY_PURE_FILES = ['src/net/ip.ts', 'src/net/prefix-index.ts'];
/** Packages the engine may use: parsing and schema checks, no I/O. Anything else (node:*, pg, undici…) is refused. */
const POLICY_PACKAGES = ['fast-xml-parser', 'typebox'];
const DATABASE_PACKAGES = ['pg', 'pg-boss', '@electric-sql/pglite', 'drizzle-orm'];
const isHttpServerPackage = (name: string) => name === 'fastify' || name.startsWith('@fastify/');

const RULES: BoundaryRule[] = [
  {
    name: 'policy engine is pure',
    governs: under('src/policy/'),
    forbids: (edge) =>
      edge.internal
        ? !edge.target.startsWith('src/policy/') && !POLICY_PURE_FILES.includes(edge.target)
        : !POLICY_PACKAGES.includes(edge.target),
  },
  {
    name: 'adapters reach no store, server, emulator or database',
    governs: under('src/adapters/'),
    forbids: (edge) =>
      file(under('src/store/', 'src/server/', 'src/emulators/', 'src/lab/', 'src/cli/'))(edge) ||
      pkg((name) => DATABASE_PACKAGES.includes(name) || isHttpServerPackage(name))(edge),
  },
  {
    name: 'emulators reach no adapter, store, access or server',
    governs: under('src/emulators/'),
    forbids: (edge) =>
      file(under('src/adapters/', 'src/store/', 'src/access/', 'src/server/', 'src/cli/'))(edge) ||
      pkg((name) => DATABASE_PACKAGES.includes(name) || isHttpServerPackage(name))(edge),
  },
  {
    // Every folder of src but the HTTP layer and the CLI is domain code, so a new folder is governed from its
    // first file on.
    name: 'domain code reaches no server or CLI',
    governs: (path) => path.startsWith('src/') && !under('src/server/', 'src/cli/')(path),
    forbids: file(under('src/server/', 'src/cli/')),
  },
  {
    name: 'the HTTP layer reaches no CLI',
    governs: under('src/server/'),
    forbids: file(under('src/cli/')),
  },
];

describe('import boundaries of src', () => {
  const graph = buildImportGraph(ROOT, ['src']);

  it('parses the whole tree and follows every import', () => {
    expect(graph.files.size).toBeGreaterThan(100);
    expect(graph.problems).toEqual([]);
  });

  it.each(RULES.map((rule) => [rule.name, rule]))('%s', (_name, rule) => {
    expect(formatViolations(findViolations(graph, [rule]))).toEqual([]);
  });

  it('no file the policy engine reaches reads the environment, the process or the network', () => {
    const engine = reachableFiles(
      graph,
      [...graph.files.keys()].filter((path) => path.startsWith('src/policy/')),
    );
    expect(engine).toEqual(expect.arrayContaining(['src/policy/model.ts', 'src/net/ip.ts']));
    const offending = engine.filter((path) =>
      /\bprocess\.(env|argv|stdin|stdout|stderr|exit|cwd)\b|\bfetch\(|\bglobalThis\.fetch\b/.test(
        readFileSync(join(ROOT, path), 'utf8'),
      ),
    );
    expect(offending).toEqual([]);
  });
});

describe('the boundary checker', () => {
  const fixture = mkdtempSync(join(tmpdir(), 'portcullis-boundaries-'));
  afterAll(() => rmSync(fixture, { recursive: true, force: true }));
  const write = (path: string, text: string) => {
    mkdirSync(dirname(join(fixture, path)), { recursive: true });
    writeFileSync(join(fixture, path), text);
  };

  // Chains that cross folders: a policy file reaching node:dns through an allow-listed pure file that has gone
  // impure and node:fs through a sibling; an adapter reaching the store through a re-exporting helper outside
  // src/adapters; an emulator loading an adapter dynamically; a domain file reaching the server by a type-only
  // import. And files that break nothing: a `.js` specifier, a directory index, a test file importing anything.
  write('src/policy/model.ts', "import { parse } from './parse.js';\nimport { ip } from '../net/ip.ts';\n");
  write('src/policy/parse.ts', "import { readFileSync } from 'node:fs';\nexport const parse = readFileSync;\n");
  write('src/policy/pure.ts', "import { XMLParser } from 'fast-xml-parser';\nexport const x = XMLParser;\n");
  write('src/net/ip.ts', "import { lookup } from 'node:dns';\nexport const ip = lookup;\n");
  write('src/adapters/acme/client.ts', "export * from '../../net/helpers';\n");
  write('src/net/helpers/index.ts', "export { db } from '../../store/db.ts';\n");
  write('src/store/db.ts', "import pg from 'pg';\nexport const db = pg;\n");
  write('src/emulators/acme.ts', "export const load = () => import('../adapters/acme/client.ts');\n");
  write('src/access/grants.ts', "import type { App } from '../server/app.ts';\nexport const g = 1;\n");
  write('src/access/grants.test.ts', "import { app } from '../server/app.ts';\n");
  write('src/server/app.ts', "import { db } from '../store/db.ts';\nexport type App = typeof db;\n");

  const graph = buildImportGraph(fixture, ['src']);

  it('finds every broken rule with the chain that breaks it', () => {
    expect(graph.problems).toEqual([]);
    expect(formatViolations(findViolations(graph, RULES)).sort()).toEqual(
      [
        'adapters reach no store, server, emulator or database: src/adapters/acme/client.ts → src/net/helpers/index.ts → src/store/db.ts',
        'domain code reaches no server or CLI: src/access/grants.ts → src/server/app.ts',
        'emulators reach no adapter, store, access or server: src/emulators/acme.ts → src/adapters/acme/client.ts',
        'policy engine is pure: src/policy/model.ts → src/net/ip.ts → dns',
        'policy engine is pure: src/policy/parse.ts → fs',
      ].sort(),
    );
  });

  it('lets an excepted edge through, and only that edge', () => {
    const exceptions: BoundaryException[] = [
      { rule: 'policy engine is pure', from: 'src/policy/parse.ts', target: 'fs', reason: 'fixture' },
    ];
    const remaining = formatViolations(findViolations(graph, RULES, exceptions));
    expect(remaining).toHaveLength(4);
    expect(remaining).not.toContain('policy engine is pure: src/policy/parse.ts → fs');
  });

  it('reports an import that resolves to no file and a computed dynamic import', () => {
    write('broken/a.ts', "import { x } from './missing.ts';\nconst name = 'fs';\nawait import(name);\n");
    expect(buildImportGraph(fixture, ['broken']).problems).toEqual([
      "broken/a.ts:1: './missing.ts' resolves to no file",
      'broken/a.ts:3: dynamic import of a computed specifier cannot be checked',
    ]);
  });

  it.each([
    ["import { readFileSync } from 'node:fs';", 'node:fs'],
    ["import type { FastifyInstance } from 'fastify';", 'fastify'],
    ["export { a } from './a.ts';", './a.ts'],
    ["export * as b from './b.ts';", './b.ts'],
    ["import './side-effect.ts';", './side-effect.ts'],
    ["const m = await import('undici');", 'undici'],
    ["const m = require('pg');", 'pg'],
    ["import pg = require('pg');", 'pg'],
    ["let t: import('./types.ts').T;", './types.ts'],
  ])('reads the specifier of %s', (line, specifier) => {
    expect(moduleSpecifiers('x.ts', line).map((found) => found.specifier)).toEqual([specifier]);
  });
});
