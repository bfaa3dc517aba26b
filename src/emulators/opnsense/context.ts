/**
 * @module What an emulated controller action sees: the request as OPNsense's `Request` exposes it (`getPost`,
 * `hasPost`, `get`), the authenticated key, the box, and the device operations (config save, filter reload,
 * alias refresh). Also the two exception kinds `api.php` turns into 500s (docs/reference/opnsense-api.md §2).
 */
import type { OpnAlias, OpnBox, StoredKey } from './state.ts';
import type { VersionProfile } from './types.ts';

/** `OPNsense\Base\UserException`: 500 `{"errorMessage": message, "errorTitle": title}`. */
export class UserException extends Error {
  constructor(
    message: string,
    readonly title: string | null = null,
  ) {
    super(message);
  }
}

/** Any other PHP error (e.g. "Array to string conversion"): 500 `Unexpected error, check log for details`. */
export class PhpError extends Error {}

export interface Device {
  readonly version: VersionProfile;
  box: OpnBox;
  now(): number;
  /** `Config::save()`: new revision (epoch s, 4 decimals), backup kept, state file written. */
  save(): string;
  /** Aliases the model iterates: stored ones then the built-ins. */
  allAliases(): OpnAlias[];
  /** `filter refresh_aliases` (`update_tables.py`): error messages, empty when all loaded. */
  refreshAliases(): string[];
  /** `filter reload`: loaded ruleset from config (and managed tables when `withAliases`). */
  filterReload(withAliases: boolean): void;
  /** Waits `applyDelayMs` (a configd action taking its time). */
  delay(): Promise<void>;
  developmentMode: boolean;
  tableEntriesLimit: number;
  backupCount: number;
}

export interface Ctx {
  method: string;
  isPost: boolean;
  isGet: boolean;
  /** `$_POST`: the JSON body when it is an object (or the form fields). */
  post: Record<string, unknown>;
  query: URLSearchParams;
  params: string[];
  key: StoredKey;
  dev: Device;
}

/** PHP's `(string)` cast of a request value: arrays print `Array`, null is empty, booleans `1` / empty. */
export function phpString(v: unknown): string {
  if (v === null || v === undefined || v === false) return '';
  if (v === true) return '1';
  if (typeof v === 'object') return 'Array';
  return typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'bigint' ? String(v) : '';
}

export function hasPost(ctx: Ctx, name: string): boolean {
  return ctx.post[name] !== undefined && ctx.post[name] !== null;
}

/** `$request->get()`: `$_REQUEST`, i.e. query string and post fields (post wins). */
export function requestGet(ctx: Ctx, name: string): unknown {
  return ctx.post[name] ?? ctx.query.get(name) ?? undefined;
}

/** Phalcon's `int` filter of `getPost(name, 'int', default)`. */
export function postInt(ctx: Ctx, name: string, dflt: number): number {
  const v = ctx.post[name];
  if (v === undefined || v === null || v === '') return dflt;
  const n = Number.parseInt(phpString(v).replace(/[^-+0-9]/g, ''), 10);
  return Number.isNaN(n) ? 0 : n;
}

export function requestInt(ctx: Ctx, name: string, dflt: number): number {
  const v = requestGet(ctx, name);
  if (v === undefined || v === null || v === '') return dflt;
  const n = Number.parseInt(phpString(v).replace(/[^-+0-9]/g, ''), 10);
  return Number.isNaN(n) ? 0 : n;
}

/** `ApiControllerBase::throwReadOnly` (§1). */
export function throwReadOnly(ctx: Ctx): void {
  if (ctx.key.readOnly) {
    throw new UserException(
      `User ${ctx.key.user} denied for write access (user-config-readonly set)`,
      'General access',
    );
  }
}

/** `ApiControllerBase::searchRecordsetBase`: paging from the POST body only, default 9999 rows, `-1` = all. */
export function searchRecordset(ctx: Ctx, records: Array<Record<string, unknown>>, defaultSort?: string) {
  let rows = [...records];
  const perPageRaw = postInt(ctx, 'rowCount', 9999);
  const perPage = perPageRaw === -1 ? rows.length : perPageRaw;
  const current = postInt(ctx, 'current', 1);
  const sort = ctx.post.sort;
  let sortKey = defaultSort;
  let desc = false;
  if (sort && typeof sort === 'object' && !Array.isArray(sort) && Object.keys(sort).length > 0) {
    sortKey = Object.keys(sort)[0];
    desc = (sort as Record<string, unknown>)[sortKey as string] !== 'asc';
  }
  if (sortKey) {
    const k = sortKey;
    rows.sort((a, b) =>
      phpString(a[k]).localeCompare(phpString(b[k]), undefined, { numeric: true, sensitivity: 'base' }),
    );
    if (desc) rows.reverse();
  }
  const phrase = typeof ctx.post.searchPhrase === 'string' ? ctx.post.searchPhrase : '';
  const clauses = phrase.split(/\s+/).filter((c) => c !== '');
  if (clauses.length > 0) {
    rows = rows.filter((r) =>
      clauses.every((c) =>
        Object.values(r).some((v) =>
          (Array.isArray(v) ? v.flat(3).join(' ') : phpString(v)).toLowerCase().includes(c.toLowerCase()),
        ),
      ),
    );
  }
  const offset = (current - 1) * perPage;
  const page = perPage <= 0 ? [] : rows.slice(Math.max(0, offset), Math.max(0, offset) + perPage);
  return { total: rows.length, rowCount: page.length, current, rows: page };
}
