/**
 * @module Control parameters, query filters, sorting and paging of pfRest list reads (docs/reference/pfrest-contract.md §5).
 *
 * Order with a query or `sort_by`: query → sort (ids kept) → offset/limit → reverse. Without either, the list
 * is reversed before offset/limit (`Model::read_all`). ids are always the original list positions.
 */

import type { RequestData } from './decode.ts';
import { PfRestError } from './envelope.ts';
import { isFqdn, isIpv4, isIpv6, isPort, isPortRange, isSubnet } from './names.ts';

export interface Controls {
  async: boolean;
  reverse: boolean;
  sortBy: string[] | null;
  sortOrder: 'SORT_ASC' | 'SORT_DESC';
  sortFlags: string;
  append: boolean;
  remove: boolean;
  limit: number;
  offset: number;
  dryRun: boolean;
  /** `apply` counts only when exactly `true`. */
  apply: boolean;
  placement: number | null;
  all: boolean;
}

const CONTROL_KEYS = [
  'async',
  'reverse',
  'sort_by',
  'sort_order',
  'sort_flags',
  'append',
  'remove',
  'limit',
  'offset',
  'dry_run',
  'apply',
  'placement',
  'all',
] as const;

const SORT_FLAGS = [
  'SORT_REGULAR',
  'SORT_NUMERIC',
  'SORT_STRING',
  'SORT_LOCALE_STRING',
  'SORT_NATURAL',
  'SORT_FLAG_CASE',
];

function boolParam(data: RequestData, key: string, fallback: boolean): boolean {
  const value = data[key];
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') {
    throw new PfRestError(
      400,
      `ENDPOINT_${key.toUpperCase()}_FIELD_INVALID_TYPE`,
      `Field '${key}' must be of type boolean.`,
    );
  }
  return value;
}

function intParam(data: RequestData, key: string, fallback: number): number {
  const value = data[key];
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw new PfRestError(
      400,
      `ENDPOINT_${key.toUpperCase()}_FIELD_INVALID_TYPE`,
      `Field '${key}' must be of type integer.`,
    );
  }
  return value;
}

/**
 * Validates and strips the control parameters, in pfRest's order (§3 step 7). `fields` are the model's field
 * names (for `sort_by`); `defaultLimit` is 100 for firewall states, else 0 (no limit).
 */
export function extractControls(
  method: string,
  data: RequestData,
  fields: readonly string[],
  opts: { preferDryRun: boolean; defaultLimit: number },
): Controls {
  const asyncFlag = boolParam(data, 'async', true);
  const reverse = boolParam(data, 'reverse', false);
  let sortBy: string[] | null = null;
  if (data.sort_by !== undefined && data.sort_by !== null) {
    const raw = data.sort_by;
    const list =
      typeof raw === 'string'
        ? [raw]
        : Array.isArray(raw) && raw.every((v) => typeof v === 'string')
          ? raw
          : null;
    if (list === null) {
      throw new PfRestError(
        400,
        'ENDPOINT_SORT_BY_FIELD_INVALID_TYPE',
        "Field 'sort_by' must be of type string or array.",
      );
    }
    const unknown = list.find((f) => !fields.includes(f));
    if (unknown !== undefined) {
      throw new PfRestError(
        400,
        'ENDPOINT_SORT_BY_FIELD_NON_EXISTENT_FIELD',
        `Field 'sort_by' contains non-existent field '${unknown}'.`,
      );
    }
    sortBy = list;
  }
  let sortOrder: Controls['sortOrder'] = 'SORT_ASC';
  if (data.sort_order !== undefined) {
    if (typeof data.sort_order !== 'string') {
      throw new PfRestError(
        400,
        'ENDPOINT_SORT_ORDER_FIELD_INVALID_TYPE',
        "Field 'sort_order' must be of type string.",
      );
    }
    if (data.sort_order !== 'SORT_ASC' && data.sort_order !== 'SORT_DESC') {
      throw new PfRestError(
        400,
        'ENDPOINT_SORT_ORDER_FIELD_UNKNOWN_SORT_ORDER',
        `Field 'sort_order' has unknown sort order '${data.sort_order}'.`,
      );
    }
    sortOrder = data.sort_order;
  }
  let sortFlags = 'SORT_REGULAR';
  if (data.sort_flags !== undefined) {
    if (typeof data.sort_flags !== 'string') {
      throw new PfRestError(
        400,
        'ENDPOINT_SORT_FLAGS_FIELD_INVALID_TYPE',
        "Field 'sort_flags' must be of type string.",
      );
    }
    if (!SORT_FLAGS.includes(data.sort_flags)) {
      throw new PfRestError(
        400,
        'ENDPOINT_SORT_FLAGS_FIELD_UNKNOWN_SORT_FLAGS',
        `Field 'sort_flags' has unknown sort flags '${data.sort_flags}'.`,
      );
    }
    sortFlags = data.sort_flags;
  }
  const append = boolParam(data, 'append', false);
  const remove = boolParam(data, 'remove', false);
  const limit = intParam(data, 'limit', opts.defaultLimit);
  const offset = intParam(data, 'offset', 0);
  let dryRun = boolParam(data, 'dry_run', false) || opts.preferDryRun;
  if (dryRun && method === 'GET') {
    throw new PfRestError(
      400,
      'ENDPOINT_DRY_RUN_NOT_SUPPORTED_ON_GET',
      'Dry run is not supported on GET requests.',
    );
  }
  if (method === 'GET') dryRun = false;
  const controls: Controls = {
    async: asyncFlag,
    reverse,
    sortBy,
    sortOrder,
    sortFlags,
    append,
    remove,
    limit,
    offset,
    dryRun,
    apply: data.apply === true,
    placement: typeof data.placement === 'number' && Number.isInteger(data.placement) ? data.placement : null,
    all: data.all === true,
  };
  for (const key of CONTROL_KEYS) delete data[key];
  return controls;
}

type Row = Record<string, unknown> & { id: number | string };

function phpNumeric(v: unknown): boolean {
  return (
    typeof v === 'number' ||
    (typeof v === 'string' && /^\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*$/.test(v))
  );
}

/** A decoded JSON value as text: scalars as `String()` gives them, arrays and objects as JSON. */
export function valueText(v: unknown): string {
  return typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v);
}

/** PHP 8 loose `==` for the scalar cases a query can meet; strict when either side is null. */
function looseEquals(a: unknown, b: unknown): boolean {
  if (a === null || b === null || a === undefined || b === undefined) return a === b;
  if (Array.isArray(a) || Array.isArray(b))
    return Array.isArray(a) && Array.isArray(b) && JSON.stringify(a) === JSON.stringify(b);
  if (typeof a === 'boolean' || typeof b === 'boolean')
    return Boolean(a === '0' ? false : a) === Boolean(b === '0' ? false : b);
  if (phpNumeric(a) && phpNumeric(b)) return Number(a) === Number(b);
  return valueText(a) === valueText(b);
}

/** Converts a PCRE pattern with delimiters (`/^web_/i`) to a JS RegExp; null when it has no valid delimiters. */
function pcre(pattern: string): RegExp | null {
  const delimiter = pattern[0];
  if (delimiter === undefined || /[a-zA-Z0-9\\\s]/.test(delimiter)) return null;
  const closing = { '(': ')', '[': ']', '{': '}', '<': '>' }[delimiter] ?? delimiter;
  const end = pattern.lastIndexOf(closing);
  if (end <= 0) return null;
  const flags = pattern.slice(end + 1).replace(/[^imsu]/g, '');
  try {
    return new RegExp(pattern.slice(1, end), flags);
  } catch {
    return null;
  }
}

const FORMATS: Record<string, (v: string) => boolean> = {
  ipv4: isIpv4,
  ipv6: isIpv6,
  ip: (v) => isIpv4(v) || isIpv6(v),
  subnetv4: (v) => isSubnet(v) && !v.includes(':'),
  subnetv6: (v) => isSubnet(v) && v.includes(':'),
  subnet: isSubnet,
  mac: (v) => /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i.test(v),
  email: (v) => /^[^@\s]+@[^@\s]+$/.test(v),
  url: (v) => URL.canParse(v),
  numeric: (v) => phpNumeric(v),
  hostname: (v) => /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/i.test(v) || isFqdn(v),
  fqdn: isFqdn,
  port: isPort,
  portrange: isPortRange,
  alias: (v) => /^[A-Za-z0-9_]+$/.test(v),
};

const FILTERS: Record<string, (f: unknown, v: unknown) => boolean> = {
  exact: looseEquals,
  except: (f, v) => !looseEquals(f, v),
  contains: (f, v) =>
    Array.isArray(f) ? f.some((x) => looseEquals(x, v)) : valueText(f ?? '').includes(valueText(v)),
  startswith: (f, v) =>
    Array.isArray(f) ? looseEquals(f[0], v) : valueText(f ?? '').startsWith(valueText(v)),
  endswith: (f, v) =>
    Array.isArray(f) ? looseEquals(f[f.length - 1], v) : valueText(f ?? '').endsWith(valueText(v)),
  in: (f, v) =>
    Array.isArray(v) ? v.some((x) => looseEquals(f, x)) : valueText(v).includes(valueText(f ?? '')),
  lt: (f, v) => phpNumeric(f) && phpNumeric(v) && Number(f) < Number(v),
  lte: (f, v) => phpNumeric(f) && phpNumeric(v) && Number(f) <= Number(v),
  gt: (f, v) => phpNumeric(f) && phpNumeric(v) && Number(f) > Number(v),
  gte: (f, v) => phpNumeric(f) && phpNumeric(v) && Number(f) >= Number(v),
  regex: (f, v) => {
    const re = typeof v === 'string' ? pcre(v) : null;
    return re !== null && f !== null && f !== undefined && re.test(valueText(f));
  },
  format: (f, v) => typeof f === 'string' && typeof v === 'string' && (FORMATS[v]?.(f) ?? false),
};

/** Applies query filters (all ANDed). Keys naming no field are ignored; an unknown filter → 404. */
export function applyQuery(rows: Row[], query: RequestData, fields: readonly string[]): Row[] {
  const tests: Array<(row: Row) => boolean> = [];
  for (const [key, value] of Object.entries(query)) {
    const cut = key.lastIndexOf('__');
    const field = cut > 0 ? key.slice(0, cut) : key;
    const filterName = cut > 0 ? key.slice(cut + 2) : 'exact';
    if (field !== 'id' && !fields.includes(field)) continue;
    const filter = FILTERS[filterName];
    if (filter === undefined) {
      if (rows.length === 0) continue;
      throw new PfRestError(404, 'QUERY_FILTER_NOT_FOUND', `No query filter named '${filterName}' exists.`);
    }
    tests.push((row) => filter(row[field], value));
  }
  return rows.filter((row) => tests.every((t) => t(row)));
}

function naturalCompare(a: string, b: string, caseless: boolean): number {
  return (caseless ? a.toLowerCase() : a).localeCompare(caseless ? b.toLowerCase() : b, 'en', {
    numeric: true,
  });
}

/** Compares two field values like PHP's sort flags (regular, numeric, string, natural, case-insensitive). */
function compareValues(a: unknown, b: unknown, flags: string): number {
  const sa = Array.isArray(a) ? a.join(' ') : valueText(a ?? '');
  const sb = Array.isArray(b) ? b.join(' ') : valueText(b ?? '');
  switch (flags) {
    case 'SORT_NUMERIC':
      return Number(sa) - Number(sb);
    case 'SORT_NATURAL':
      return naturalCompare(sa, sb, false);
    case 'SORT_FLAG_CASE':
      return naturalCompare(sa, sb, true);
    case 'SORT_STRING':
    case 'SORT_LOCALE_STRING':
      return sa < sb ? -1 : sa > sb ? 1 : 0;
    default:
      if (phpNumeric(sa) && phpNumeric(sb)) return Number(sa) - Number(sb);
      return sa < sb ? -1 : sa > sb ? 1 : 0;
  }
}

export function sortRows<T extends Record<string, unknown>>(
  rows: T[],
  controls: Pick<Controls, 'sortBy' | 'sortOrder' | 'sortFlags'>,
): T[] {
  const { sortBy } = controls;
  if (sortBy === null) return rows;
  const direction = controls.sortOrder === 'SORT_DESC' ? -1 : 1;
  return [...rows].sort((x, y) => {
    for (const field of sortBy) {
      const c = compareValues(x[field], y[field], controls.sortFlags);
      if (c !== 0) return c * direction;
    }
    return 0;
  });
}

/** The whole list read: query → sort → page → reverse (or reverse first when there is neither). */
export function readList(
  all: Row[],
  query: RequestData,
  fields: readonly string[],
  controls: Controls,
): Row[] {
  const queried = Object.keys(query).length > 0 || controls.sortBy !== null;
  let rows = applyQuery(all, query, fields);
  rows = sortRows(rows, controls);
  if (!queried && controls.reverse) rows = [...rows].reverse();
  rows = page(rows, controls);
  if (queried && controls.reverse) rows = [...rows].reverse();
  return rows;
}

export function page<T>(rows: T[], controls: Pick<Controls, 'limit' | 'offset'>): T[] {
  const start = Math.max(0, controls.offset);
  return controls.limit > 0 ? rows.slice(start, start + controls.limit) : rows.slice(start);
}
