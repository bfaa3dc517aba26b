/**
 * @module The import graph of a source tree and the boundary check over it (docs/architecture.md, ADR 0119).
 * Every `.ts` file is parsed with the TypeScript compiler; every static import, `export … from`, `import x =
 * require()`, dynamic `import()`, `require()` and type-position `import('x').T` is an edge, type-only ones too (a
 * type import still couples one layer to another). Relative specifiers resolve to files; bare ones stay package
 * names. A rule names the files it governs and what they must never reach, directly or through any chain.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';

export interface ImportEdge {
  /** Repo-relative path of the target file, or the bare package specifier (`node:` prefix dropped). */
  target: string;
  /** True when the target is a file of the tree. */
  internal: boolean;
  line: number;
}

export interface ImportGraph {
  root: string;
  /** Repo-relative POSIX path → its outgoing edges. */
  files: Map<string, ImportEdge[]>;
  /** Imports that could not be followed: unresolved relative paths and non-literal dynamic imports. */
  problems: string[];
}

function toPosix(path: string): string {
  return path.split(sep).join('/');
}

function listSources(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : listSources(path);
    return /\.tsx?$/.test(entry.name) && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

/** `./x.ts`, `./x.js` (→ `x.ts`), `./x` and `./dir` (→ `dir/index.ts`). */
function resolveRelative(fromFile: string, specifier: string): string | undefined {
  const base = resolve(dirname(fromFile), specifier);
  const candidates = [
    base,
    base.replace(/\.js$/, '.ts'),
    base.replace(/\.jsx$/, '.tsx'),
    `${base}.ts`,
    `${base}.tsx`,
    join(base, 'index.ts'),
    join(base, 'index.tsx'),
  ];
  return candidates.find((c) => existsSync(c) && statSync(c).isFile());
}

/** Package name of a bare specifier: `node:fs/promises` → `fs`, `@fastify/cookie/x` → `@fastify/cookie`. */
function packageName(specifier: string): string {
  const bare = specifier.replace(/^node:/, '');
  const parts = bare.split('/');
  return bare.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] ?? bare);
}

/** Module specifiers of one file, each with its 1-based line; `null` for a dynamic import that is not a literal. */
export function moduleSpecifiers(fileName: string, text: string): { specifier: string | null; line: number }[] {
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, false, ts.ScriptKind.TSX);
  const found: { specifier: string | null; line: number }[] = [];
  const lineOf = (node: ts.Node) => source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1;
  const literal = (node: ts.Node | undefined) =>
    node && (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) ? node.text : null;
  const visit = (node: ts.Node): void => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier) {
      found.push({ specifier: literal(node.moduleSpecifier), line: lineOf(node) });
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      found.push({ specifier: literal(node.moduleReference.expression), line: lineOf(node) });
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
      found.push({ specifier: literal(node.argument.literal), line: lineOf(node) });
    } else if (
      ts.isCallExpression(node) &&
      (node.expression.kind === ts.SyntaxKind.ImportKeyword ||
        (ts.isIdentifier(node.expression) && node.expression.text === 'require'))
    ) {
      found.push({ specifier: literal(node.arguments[0]), line: lineOf(node) });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/** Parses every `.ts`/`.tsx` file under `root/<dir>` for each of `dirs` (test files included; rules skip them). */
export function buildImportGraph(root: string, dirs: string[]): ImportGraph {
  const files = new Map<string, ImportEdge[]>();
  const problems: string[] = [];
  for (const absolute of dirs.flatMap((dir) => listSources(join(root, dir)))) {
    const from = toPosix(relative(root, absolute));
    const edges: ImportEdge[] = [];
    for (const { specifier, line } of moduleSpecifiers(absolute, readFileSync(absolute, 'utf8'))) {
      if (specifier === null) {
        problems.push(`${from}:${line}: dynamic import of a computed specifier cannot be checked`);
      } else if (specifier.startsWith('.')) {
        const target = resolveRelative(absolute, specifier);
        if (target) edges.push({ target: toPosix(relative(root, target)), internal: true, line });
        else problems.push(`${from}:${line}: '${specifier}' resolves to no file`);
      } else {
        edges.push({ target: packageName(specifier), internal: false, line });
      }
    }
    files.set(from, edges);
  }
  return { root, files, problems };
}

export interface BoundaryRule {
  name: string;
  /** Whether the rule governs a file (repo-relative POSIX path); `*.test.ts(x)` files are never governed. */
  governs: (file: string) => boolean;
  /** What a governed file may not reach, through any chain of imports. */
  forbids: (edge: ImportEdge) => boolean;
}

/** An edge allowed for now because another change removes it; `reason` names that change. */
export interface BoundaryException {
  rule: string;
  from: string;
  target: string;
  reason: string;
}

export interface Violation {
  rule: string;
  /** The governed file the chain starts at, then every file on the way, then the forbidden target. */
  chain: string[];
  /** `from → target` of the forbidden edge itself. */
  edge: { from: string; target: string };
}

const isTest = (file: string) => /\.test\.tsx?$/.test(file);

/**
 * Every forbidden target reachable from a governed file, with the shortest chain that reaches it. A target is
 * reported once per rule and forbidden edge (the first governed file to reach it in breadth-first order wins), so a
 * single bad import shows up once, not once per file above it.
 */
export function findViolations(
  graph: ImportGraph,
  rules: BoundaryRule[],
  exceptions: BoundaryException[] = [],
): Violation[] {
  const violations: Violation[] = [];
  for (const rule of rules) {
    const excepted = (from: string, target: string) =>
      exceptions.some((e) => e.rule === rule.name && e.from === from && e.target === target);
    const roots = [...graph.files.keys()]
      .filter((file) => !isTest(file) && rule.governs(file))
      .sort();
    const parent = new Map<string, string | null>(roots.map((r) => [r, null]));
    const reported = new Set<string>();
    const queue = [...roots];
    for (let file = queue.shift(); file !== undefined; file = queue.shift()) {
      for (const edge of graph.files.get(file) ?? []) {
        if (rule.forbids(edge) && !excepted(file, edge.target)) {
          const key = `${file} -> ${edge.target}`;
          if (reported.has(key)) continue;
          reported.add(key);
          const chain = [edge.target];
          for (let at: string | null | undefined = file; at; at = parent.get(at)) chain.unshift(at);
          violations.push({ rule: rule.name, chain, edge: { from: file, target: edge.target } });
        } else if (edge.internal && !parent.has(edge.target) && !excepted(file, edge.target)) {
          parent.set(edge.target, file);
          queue.push(edge.target);
        }
      }
    }
  }
  return violations;
}

/** One line per violation: `rule: a → b → c`. */
export function formatViolations(violations: Violation[]): string[] {
  return violations.map((v) => `${v.rule}: ${v.chain.join(' → ')}`);
}

/** Every file of the graph reachable from `roots` (the roots included). */
export function reachableFiles(graph: ImportGraph, roots: string[]): string[] {
  const seen = new Set(roots);
  const queue = [...roots];
  for (let file = queue.shift(); file !== undefined; file = queue.shift()) {
    for (const edge of graph.files.get(file) ?? []) {
      if (edge.internal && !seen.has(edge.target)) {
        seen.add(edge.target);
        queue.push(edge.target);
      }
    }
  }
  return [...seen].sort();
}
