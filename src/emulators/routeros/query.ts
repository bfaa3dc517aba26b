/**
 * @module Print filters (docs/reference/routeros-api.md §2.2): GET query-string exact matches and `.proplist`,
 * and the API query words of POST `print` (`.query`: `name=value`, `name`, `-name`, `<name=value`,
 * `>name=value`, and the stack operators `#|`, `#&`, `#!`, `#.`, `#N`).
 */
import { badRequest } from './errors.ts';
import type { Printed } from './state.ts';

export function proplist(rows: Printed[], props: string[] | undefined): Printed[] {
  if (props === undefined) return rows;
  return rows.map((row) => {
    const out: Printed = {};
    for (const p of props) if (row[p] !== undefined) out[p] = row[p];
    return out;
  });
}

export function parsePropList(value: unknown): string[] | undefined {
  if (value === undefined) return undefined;
  const list = Array.isArray(value) ? value.map((v) => String(v)) : typeof value === 'string' ? value.split(',') : [];
  return list.map((p) => p.trim()).filter((p) => p !== '');
}

/** Rows matching every `name=value` pair exactly (values compared as printed strings). */
export function exactFilter(rows: Printed[], filters: Array<[string, string]>): Printed[] {
  return rows.filter((row) => filters.every(([k, v]) => row[k] === v));
}

function compare(a: string, b: string): number {
  const na = Number(a);
  const nb = Number(b);
  if (a !== '' && b !== '' && Number.isFinite(na) && Number.isFinite(nb)) return na - nb;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Evaluates API query words against one row; the stack's values are ANDed at the end. */
function matches(row: Printed, words: string[]): boolean {
  const stack: boolean[] = [];
  for (const word of words) {
    if (word.startsWith('#')) {
      for (const op of word.slice(1)) {
        if (op === '|' || op === '&') {
          const b = stack.pop();
          const a = stack.pop();
          if (a === undefined || b === undefined) throw badRequest('invalid query');
          stack.push(op === '|' ? a || b : a && b);
        } else if (op === '!') {
          const a = stack.pop();
          if (a === undefined) throw badRequest('invalid query');
          stack.push(!a);
        } else if (op === '.') {
          stack.pop();
        } else if (/\d/.test(op)) {
          const v = stack[Number(op)];
          if (v === undefined) throw badRequest('invalid query');
          stack.push(v);
        } else {
          throw badRequest('invalid query');
        }
      }
      continue;
    }
    if (word.startsWith('-')) {
      stack.push(row[word.slice(1)] === undefined);
      continue;
    }
    const m = /^([<>]?)([^=<>]+)(?:=(.*))?$/s.exec(word);
    if (m === null) throw badRequest('invalid query');
    const [, op, name = '', value] = m;
    const have = row[name];
    if (value === undefined) stack.push(have !== undefined);
    else if (op === '<') stack.push(have !== undefined && compare(have, value) < 0);
    else if (op === '>') stack.push(have !== undefined && compare(have, value) > 0);
    else stack.push(have === value);
  }
  return stack.every(Boolean);
}

export function queryFilter(rows: Printed[], words: unknown): Printed[] {
  if (words === undefined) return rows;
  if (!Array.isArray(words) || !words.every((w) => typeof w === 'string')) throw badRequest('invalid query');
  return rows.filter((row) => matches(row, words));
}
