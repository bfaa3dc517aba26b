/**
 * @module docs/benchmarks.md leads with one table of current figures, and every row names the `bench/` script that
 * prints it, a date and a machine: a figure without a script that exists, or a row missing its date or machine,
 * fails here.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const text = readFileSync(join(ROOT, 'docs/benchmarks.md'), 'utf8');
const HEADER = '| Figure | Goal | Result | Date | Machine | Script |';

/** The rows of the first table after its header, as trimmed cells. */
function currentTable(markdown: string): string[][] {
  const lines = markdown.split('\n');
  const start = lines.indexOf(HEADER);
  if (start < 0) return [];
  const rows: string[][] = [];
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith('|')) break;
    rows.push(line.split('|').slice(1, -1).map((cell) => cell.trim()));
  }
  return rows;
}

it('the first table of docs/benchmarks.md is the figure table (figure, goal, result, date, machine, script)', () => {
  const firstTable = text.split('\n').find((line) => line.startsWith('|'));
  expect(firstTable).toBe(HEADER);
  expect(currentTable(text).length).toBeGreaterThan(5);
});

const rows = currentTable(text).map((cells) => [cells[0], cells] as const);

it.each(rows)('row "%s" names an existing bench script, a date and a machine', (_figure, cells) => {
  const [, , result, date, machine, script] = cells;
  expect(cells).toHaveLength(6);
  expect(result).not.toBe('');
  const path = /^`(bench\/[\w/.-]+\.ts)`$/.exec(script ?? '')?.[1];
  expect(path, `script cell ${script}`).toBeDefined();
  expect(existsSync(join(ROOT, path as string)), `${path} exists`).toBe(true);
  // A row not measured yet says so in its result and carries "—" for date and machine.
  if (date === '—') {
    expect(result).toMatch(/not measured yet/);
    expect(machine).toBe('—');
  } else {
    expect(date).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(machine).not.toBe('');
  }
});

it('keeps no run diary: no per-run history tables', () => {
  expect(text).not.toMatch(/^\| run \(/m);
});
