/**
 * @module Nothing in the repository cites a path outside it, and every citation of a reference document names a
 * file and a section that exist. `src`, `test`, `docs`, `bench`, `bin`, `.ci`, `README.md` and `package.json` may
 * not name the shared folder beside the repository, the shared workspace root, a home directory, or a Markdown
 * link leaving the repository. Each `docs/reference/<file>.md §N` must resolve to that file and to a section `§N`
 * in it (a heading or bold label, or the N-th numbered item under the parent section); a reference document named
 * without its folder is refused too. Samples below are assembled from parts so this file does not trip its own
 * scan.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const SCANNED = ['src', 'test', 'docs', 'bench', 'bin', '.ci', 'README.md', 'package.json'];
const TEXT = /\.(ts|tsx|js|mjs|cjs|md|json|xml|ya?ml|txt|sql|html|css|hujson)$/;
const REFERENCE_DIR = 'docs/reference';

function walk(path: string): string[] {
  const full = join(ROOT, path);
  if (!existsSync(full)) return [];
  // CI scripts carry no extension.
  if (statSync(full).isFile()) return TEXT.test(path) || path.startsWith('.ci/') ? [path] : [];
  return readdirSync(full).flatMap((name) => (name === 'node_modules' ? [] : walk(join(path, name))));
}

/** Patterns naming a place outside the repository (built from parts so this file does not match itself). */
const OUTSIDE: Array<[string, RegExp]> = [
  ['the shared folder above the repository', new RegExp(['\\.\\.', 'shared'].join('/'))],
  ['the shared workspace', new RegExp(['', 'work', ''].join('/'))],
  ['a home directory', new RegExp(`(^|[\\s('"\`])/(home|Users)/[\\w.-]+|(^|[\\s('"\`])/root/`)],
  ['the shared brief documents', new RegExp(['PRODUCT', 'md'].join('\\.'))],
];

/** Finds every `path:line: problem` for outside paths in one file's text. */
function outsidePaths(file: string, text: string): string[] {
  const problems: string[] = [];
  text.split('\n').forEach((line, i) => {
    for (const [what, pattern] of OUTSIDE) {
      if (pattern.test(line)) problems.push(`${file}:${i + 1}: names ${what}: ${line.trim()}`);
    }
  });
  if (file.endsWith('.md')) {
    for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      const target = (m[1] as string).split('#')[0] as string;
      if (target === '' || /^[a-z][a-z+.-]*:/i.test(target)) continue;
      const abs = target.startsWith('/') ? target : resolve(ROOT, dirname(file), target);
      if (relative(ROOT, abs).startsWith('..') || target.startsWith('/')) {
        problems.push(`${file}: Markdown link leaves the repository: ${m[1]}`);
      }
    }
  }
  return problems;
}

/** Section ids a reference file defines: `§1`, `§2.3`, `§3c` in headings or bold labels. */
function sectionsOf(text: string): { labels: Set<string>; items: Map<string, number> } {
  const labels = new Set<string>();
  const items = new Map<string, number>();
  let current: string | null = null;
  for (const line of text.split('\n')) {
    const heading = /^#+ §([0-9]+[a-z]?(?:\.[0-9]+)*)\b/.exec(line);
    if (heading) {
      current = heading[1] as string;
      labels.add(current);
      continue;
    }
    for (const m of line.matchAll(/\*\*§([0-9]+[a-z]?(?:\.[0-9]+)*)/g)) labels.add(m[1] as string);
    const item = /^([0-9]+)\. /.exec(line);
    if (item && current !== null) items.set(current, Math.max(items.get(current) ?? 0, Number(item[1])));
  }
  return { labels, items };
}

function hasSection(text: string, id: string): boolean {
  const { labels, items } = sectionsOf(text);
  if (labels.has(id)) return true;
  const dot = id.lastIndexOf('.');
  if (dot < 0) return false;
  const parent = id.slice(0, dot);
  return labels.has(parent) && (items.get(parent) ?? 0) >= Number(id.slice(dot + 1));
}

/** Checks every `docs/reference/<file>.md §…` citation (and bare reference names) in one file. */
function badCitations(file: string, text: string, read: (path: string) => string | null): string[] {
  const problems: string[] = [];
  const citation = /docs\/reference\/([\w.-]+\.md)`?((?:[ ,;–-]*(?:and |or )?§\s?[0-9]+[a-z]?(?:\.[0-9]+)*)*)/g;
  for (const m of text.matchAll(citation)) {
    const name = m[1] as string;
    const target = read(`${REFERENCE_DIR}/${name}`);
    if (target === null) {
      problems.push(`${file}: cites ${REFERENCE_DIR}/${name}, which does not exist`);
      continue;
    }
    for (const s of (m[2] as string).matchAll(/§\s?([0-9]+[a-z]?(?:\.[0-9]+)*)/g)) {
      if (!hasSection(target, s[1] as string)) {
        problems.push(`${file}: cites ${REFERENCE_DIR}/${name} §${s[1]}, no such section`);
      }
    }
  }
  if (!file.startsWith(`${REFERENCE_DIR}/`)) {
    const names = readdirSync(join(ROOT, REFERENCE_DIR)).filter((n) => n.endsWith('.md') && n !== 'README.md');
    for (const n of names) {
      for (const m of text.matchAll(new RegExp(`(^|[^/\\w-])${n.replace('.', '\\.')}`, 'gm'))) {
        const near = text.slice(m.index, m.index + 40).trim();
        problems.push(`${file}: names ${n} without its folder (${REFERENCE_DIR}/${n}) near "${near}"`);
      }
    }
  }
  return problems;
}

const readRepo = (path: string): string | null =>
  existsSync(join(ROOT, path)) ? readFileSync(join(ROOT, path), 'utf8') : null;
const files = SCANNED.flatMap(walk);

describe('paths and citations stay inside the repository', () => {
  it('scans a real tree (src, test, docs, bench, bin, .ci, README.md, package.json)', () => {
    expect(files).toContain('README.md');
    expect(files).toContain('docs/reference/pf-semantics.md');
    expect(files.length).toBeGreaterThan(100);
    const citationsIn = (f: string) =>
      readFileSync(join(ROOT, f), 'utf8').match(/docs\/reference\/[\w-]+\.md/g)?.length ?? 0;
    const cited = files.reduce((n, f) => n + citationsIn(f), 0);
    expect(cited).toBeGreaterThan(150);
  });

  it('no file names a path outside the repository', () => {
    expect(files.flatMap((f) => outsidePaths(f, readFileSync(join(ROOT, f), 'utf8')))).toEqual([]);
  });

  it('every docs/reference citation names an existing file and section', () => {
    expect(files.flatMap((f) => badCitations(f, readFileSync(join(ROOT, f), 'utf8'), readRepo))).toEqual([]);
  });

  it('flags outside paths: the shared folder, the workspace, home directories, links leaving the repo', () => {
    const up = ['..', 'shared', 'x.md'].join('/');
    const work = ['', 'work', 'x', 'y.md'].join('/');
    const home = ['', 'home', 'alice', 'notes'].join('/');
    const brief = ['PRODUCT', 'md'].join('.');
    const sample = [`see ${up}`, `at ${work}`, `in ${home}`, `brief ${brief} §1`].join('\n');
    expect(outsidePaths('src/x.ts', sample)).toHaveLength(4);
    expect(outsidePaths('docs/adr/x.md', 'a [link](../../../elsewhere.md) and [ok](../api.md)')).toHaveLength(1);
    expect(outsidePaths('src/x.ts', 'pfSense writes /tmp/rules.debug; see docs/reference/pf-semantics.md')).toEqual([]);
  });

  it('flags a missing reference file, a missing section and a bare reference name', () => {
    const ref = '# t\n## §1 A\n1. one\n2. two\n### §1.5 B\n- **§5.6** label\n';
    const read = (p: string) => (p.endsWith('/ok.md') ? ref : null);
    const cite = (name: string, sections: string) => `${REFERENCE_DIR}/${name}.md ${sections}`;
    expect(badCitations('src/x.ts', cite('ok', '§1, §1.2, §1.5'), read)).toEqual([]);
    expect(badCitations('src/x.ts', cite('ok', '§5.6'), read)).toEqual([]);
    expect(badCitations('src/x.ts', cite('ok', '§1.3'), read)).toHaveLength(1);
    expect(badCitations('src/x.ts', cite('ok', '§2'), read)).toHaveLength(1);
    expect(badCitations('src/x.ts', cite('gone', '§1'), read)).toHaveLength(1);
    expect(badCitations('src/x.ts', `(${['pf-semantics', 'md'].join('.')} §1.3)`, read)).toHaveLength(1);
  });
});
