/**
 * @module `src/policy` is a pure library: no file, network, process, HTTP, database or server imports anywhere in
 * it (our version of tailscale's depaware check). The CLI does the reading; this test fails on the first import
 * that would let the engine touch the outside world.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../src/policy/', import.meta.url));

/** Module specifiers that give access to I/O, by prefix. */
const FORBIDDEN = [
  'fs',
  'fs/promises',
  'net',
  'tls',
  'dgram',
  'dns',
  'http',
  'https',
  'http2',
  'child_process',
  'cluster',
  'worker_threads',
  'process',
  'os',
  'readline',
  'inspector',
  'vm',
  'pg',
  'pg-boss',
  '@electric-sql/pglite',
  'drizzle-orm',
  'fastify',
  '@fastify/',
  'undici',
  'pino',
  'prom-client',
  'cockatiel',
  'croner',
  'commander',
  '@commander-js/',
];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

/** Static `import … from 'x'`, `export … from 'x'`, dynamic `import('x')` and `require('x')` specifiers. */
function specifiers(source: string): string[] {
  const found: string[] = [];
  const patterns = [
    /\bfrom\s+['"]([^'"]+)['"]/g,
    /\bimport\s*\(\s*['"]([^'"]+)['"]/g,
    /\brequire\s*\(\s*['"]([^'"]+)['"]/g,
    /^\s*import\s+['"]([^'"]+)['"]/gm,
  ];
  for (const pattern of patterns)
    for (const match of source.matchAll(pattern)) if (match[1]) found.push(match[1]);
  return found;
}

function forbidden(specifier: string): boolean {
  const bare = specifier.replace(/^node:/, '');
  return FORBIDDEN.some((name) =>
    name.endsWith('/') ? bare.startsWith(name) : bare === name || bare.startsWith(`${name}/`),
  );
}

describe('src/policy has no I/O', () => {
  const files = sourceFiles(root);

  it('scans the library sources (model, print, generate, import), so the import checks below are not vacuous', () => {
    expect(files.map((f) => relative(root, f))).toEqual(
      expect.arrayContaining(['model.ts', 'print.ts', 'generate/index.ts', 'import/xml.ts']),
    );
  });

  it.each(files.map((f) => [relative(root, f), f]))('%s imports nothing that does I/O', (_name, file) => {
    const source = readFileSync(file, 'utf8');
    expect(specifiers(source).filter(forbidden)).toEqual([]);
    expect(source).not.toMatch(/\bprocess\.(env|argv|stdout|stderr|exit)\b/);
    expect(source).not.toMatch(/\bglobalThis\.fetch\b|\bfetch\(/);
  });

  it.each([
    ["import { readFileSync } from 'node:fs';", true],
    ["import pg from 'pg';", true],
    ["const x = await import('node:http');", true],
    ["import type { FastifyInstance } from 'fastify';", true],
    ["import { XMLParser } from 'fast-xml-parser';", false],
    ["import { parseIp } from '../net/ip.ts';", false],
  ])('the check itself catches %s → %s', (line, caught) => {
    expect(specifiers(line).some(forbidden)).toBe(caught);
  });
});
