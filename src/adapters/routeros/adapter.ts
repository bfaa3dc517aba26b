/**
 * @module The MikroTik RouterOS v7 adapter over the REST API of the `www-ssl` service (docs/reference/routeros-api.md).
 * Requests carry HTTP Basic auth and JSON bodies (§1); every value the router sends is a string (§1). Every failure
 * is a `RouterOsError` (§2, docs/routeros.md).
 *
 * Decisions: address lists exist by name, so `createAlias` writes nothing (docs/adr/0193-routeros-address-lists.md);
 * one request in flight per device (docs/adr/0194-routeros-one-request-in-flight.md); writes are live at once and
 * verified by what the router answers, re-read after any failed write (docs/adr/0195-routeros-writes-and-errors.md).
 */
import type { LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';
import {
  type BreakerOptions,
  describeTransportFailure,
  GatewayHttpClient,
  type HttpResponse,
  type HttpTimeouts,
  type RetryOptions,
  redact,
  type TlsTrust,
  TransportError,
} from '../http.ts';
import type { AliasEntry, ApplyResult, DeviceAlias, FirewallAdapter, VersionInfo } from '../types.ts';
import { formatRosSeconds, parseRosDuration } from './duration.ts';
import { RouterOsError, type RosCode } from './errors.ts';
import { runSerially } from './queue.ts';

export interface AdapterLogger {
  debug(obj: Record<string, unknown>, msg: string): void;
  warn(obj: Record<string, unknown>, msg: string): void;
}

export interface RouterOsAdapterOptions {
  /** Base URL, e.g. `https://192.0.2.1` (the adapter adds `/rest`; a URL already ending in `/rest` is fine). */
  url: string;
  username: string;
  password: string;
  /** TLS trust; default the system CAs. */
  tls?: TlsTrust;
  timeouts?: Partial<HttpTimeouts>;
  retry?: Partial<RetryOptions>;
  breaker?: Partial<BreakerOptions>;
  /** Stable gateway id: adapters for the same id share one request queue and one circuit breaker. */
  gatewayKey?: string;
  lookup?: LookupFunction;
  logger?: AdapterLogger;
  /**
   * Seconds added to every `timeout` written, on top of rounding the remaining lifetime up to whole seconds, so the
   * router never drops an entry before Portcullis's own expiry (docs/adr/0193-routeros-address-lists.md). Default 1.
   */
  expirySlackSeconds?: number;
  /** Clock for `expiresAt` (tests). */
  now?: () => number;
  /** Called when the router's uptime went backwards since the last read of `system/resource` (a reboot). */
  onReboot?: (info: { previousUptimeMs: number; uptimeMs: number }) => void;
}

/** The menus of an address family (docs/reference/routeros-api.md §3: IPv6 lists are a separate menu). */
type Family = 'ip' | 'ipv6';

/** One address-list entry as the adapter sees it. */
export interface RosListEntry {
  id: string;
  family: Family;
  list: string;
  /** As the router stores it. */
  rawAddress: string;
  /** Host prefixes (`/32`, `/128`) shown bare, IPv6 canonical. */
  address: string;
  comment: string;
  dynamic: boolean;
  disabled: boolean;
  /** Remaining lifetime of a timed entry, or null for an entry without a timeout. */
  remainingMs: number | null;
  /** Dynamic and not timed (a DNS name's child entries): never written or removed by Portcullis. */
  readOnly: boolean;
}

type Method = 'GET' | 'PUT' | 'PATCH' | 'DELETE' | 'POST';

interface Operation {
  code: RosCode;
  what: string;
}

export type RosRow = Record<string, unknown>;

const isRecord = (v: unknown): v is RosRow => v !== null && typeof v === 'object' && !Array.isArray(v);
const TAG_PREFIX = 'portcullis:';
/** The lowest version with REST (docs/reference/routeros-api.md §1): 7.1beta4. */
const MIN_REST = { major: 7, minor: 1, stage: 1, stageNo: 4 };
/** How far a timed entry's expiry may drift before `setAliasEntries` rewrites it (whole-second countdown). */
const EXPIRY_DRIFT_MS = 1_500;

/**
 * Parses a body RouterOS sent. Values such as DHCP host names can hold raw control characters, which JSON does not
 * allow inside strings (docs/reference/routeros-api.md §2): escape those inside string literals and parse again.
 */
export function parseRosJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    if (!(err instanceof SyntaxError)) throw err;
  }
  let out = '';
  let inString = false;
  let escaped = false;
  for (const ch of text) {
    const code = ch.charCodeAt(0);
    if (inString) {
      if (escaped) escaped = false;
      else if (ch === '\\') escaped = true;
      else if (ch === '"') inString = false;
      else if (code < 0x20) {
        out += `\\u${code.toString(16).padStart(4, '0')}`;
        continue;
      }
    } else if (ch === '"') inString = true;
    out += ch;
  }
  return JSON.parse(out);
}

/** `major.minor[.patch]` with an optional `alpha|beta|rc` stage, from `7.16.2 (stable)` or `7.1beta4`. */
export function parseRosVersion(text: string): { major: number; minor: number; stage: number; stageNo: number } | null {
  const m = /^(\d+)\.(\d+)(?:\.\d+)?(?:(alpha|beta|rc)(\d+))?/.exec(text.trim());
  if (!m) return null;
  const stage = m[3] === undefined ? 3 : { alpha: 0, beta: 1, rc: 2 }[m[3] as 'alpha' | 'beta' | 'rc'];
  return { major: Number(m[1]), minor: Number(m[2]), stage, stageNo: Number(m[4] ?? 0) };
}

/** Whether a version string names a RouterOS with REST (7.1beta4 or later). */
export function hasRest(version: string): boolean {
  const v = parseRosVersion(version);
  if (v === null) return false;
  const a = [v.major, v.minor, v.stage, v.stageNo];
  const b = [MIN_REST.major, MIN_REST.minor, MIN_REST.stage, MIN_REST.stageNo];
  for (let i = 0; i < a.length; i++) if ((a[i] as number) !== (b[i] as number)) return (a[i] as number) > (b[i] as number);
  return true;
}

/** An address as a bare host when it is one (`/32`, `/128` dropped, IPv6 canonical), else unchanged. */
export function normalizeListAddress(address: string): string {
  const m = /^([^/]+)(?:\/(\d+))?$/.exec(address.trim());
  if (!m) return address;
  const host = m[1] as string;
  if (!ipaddr.isValid(host)) return address;
  const parsed = ipaddr.parse(host);
  const full = parsed.kind() === 'ipv6' ? 128 : 32;
  if (m[2] !== undefined && Number(m[2]) !== full) return `${parsed.toString()}/${m[2]}`;
  if (parsed.kind() === 'ipv4' && !ipaddr.IPv4.isValidFourPartDecimal(host)) return address;
  return parsed.toString();
}

/** The menu family an address belongs in: IPv6 literals and prefixes in `ipv6`, everything else (DNS names too) in `ip`. */
function familyOf(address: string): Family {
  const host = address.split('/')[0] ?? '';
  return host.includes(':') && ipaddr.IPv6.isValid(host) ? 'ipv6' : 'ip';
}

/** The address part of a connection's `src-address`/`dst-address` (`ip:port`, `[v6]:port`, or bare). */
export function connectionHost(text: string): string | null {
  const v4 = /^(\d{1,3}(?:\.\d{1,3}){3})(?::\d+)?$/.exec(text);
  if (v4) return ipaddr.IPv4.isValidFourPartDecimal(v4[1] as string) ? ipaddr.parse(v4[1] as string).toString() : null;
  const bracket = /^\[([^\]]+)\](?::\d+)?$/.exec(text);
  const candidate = bracket ? (bracket[1] as string) : text;
  if (ipaddr.IPv6.isValid(candidate)) return ipaddr.parse(candidate).toString();
  // `2001:db8::1.443`: some versions write the port after a dot.
  const dotted = /^(.+:.*)\.(\d+)$/.exec(text);
  if (dotted && ipaddr.IPv6.isValid(dotted[1] as string)) return ipaddr.parse(dotted[1] as string).toString();
  return null;
}

/** Names RouterOS takes for an address list; Portcullis keeps to a safe set (docs/adr/0193). */
export function checkListName(name: string): { ok: true } | { ok: false; message: string } {
  if (name.length === 0 || name.length > 63)
    return { ok: false, message: 'An address list name must have 1 to 63 characters.' };
  if (!/^[A-Za-z0-9_.:-]+$/.test(name))
    return {
      ok: false,
      message: 'An address list name may hold only letters, digits, `_`, `.`, `:` and `-` (no spaces, commas or quotes).',
    };
  return { ok: true };
}

/** Uptime of each device at its last read (a reboot shows as uptime going backwards). */
const lastUptime = new Map<string, number>();

export class RouterOsAdapter implements FirewallAdapter {
  readonly vendor = 'routeros';
  readonly warnings: string[] = [];
  private readonly http: GatewayHttpClient;
  private readonly username: string;
  private readonly password: string;
  private readonly auth: string;
  private readonly tls: TlsTrust;
  private readonly restPrefix: string;
  private readonly queueKey: string;
  private readonly logger: AdapterLogger | undefined;
  private readonly slackSeconds: number;
  private readonly now: () => number;
  private readonly onReboot: RouterOsAdapterOptions['onReboot'];
  /** Set once the router said it has no IPv6 address-list menu (IPv6 disabled). */
  private ipv6Missing = false;

  constructor(opts: RouterOsAdapterOptions) {
    if (opts.username.trim() === '') throw new TypeError('username must not be empty');
    this.username = opts.username;
    this.password = opts.password;
    this.auth = `Basic ${Buffer.from(`${opts.username}:${opts.password}`, 'utf8').toString('base64')}`;
    this.tls = opts.tls ?? { mode: 'system' };
    this.http = new GatewayHttpClient({
      baseUrl: opts.url,
      tls: this.tls,
      ...(opts.timeouts ? { timeouts: opts.timeouts } : {}),
      ...(opts.retry ? { retry: opts.retry } : {}),
      ...(opts.breaker ? { breaker: opts.breaker } : {}),
      ...(opts.gatewayKey ? { gatewayKey: opts.gatewayKey } : {}),
      ...(opts.lookup ? { lookup: opts.lookup } : {}),
    });
    this.restPrefix = this.http.basePath.endsWith('/rest') ? '' : '/rest';
    this.queueKey = `routeros:${opts.gatewayKey ?? this.http.origin}`;
    this.logger = opts.logger;
    this.slackSeconds = Math.max(0, opts.expirySlackSeconds ?? 1);
    this.now = opts.now ?? Date.now;
    this.onReboot = opts.onReboot;
    if (this.tls.mode === 'insecure') {
      this.warnings.push(
        'TLS certificate verification is disabled for this gateway (insecure mode): anyone on the network path can impersonate the router and read the password. Pin the SHA-256 fingerprint of the www-ssl certificate or trust its CA instead.',
      );
    }
    if (this.http.origin.startsWith('http:')) {
      this.warnings.push(
        'The gateway URL uses plain HTTP (the `www` service): the password travels unencrypted. Use the www-ssl service over https://.',
      );
    }
  }

  /** The key of this device's request queue (adapters of one gateway share it). */
  get deviceKey(): string {
    return this.queueKey;
  }

  async close(): Promise<void> {
    await this.http.close();
  }

  // ---------------------------------------------------------------------------------------------------------
  // Transport and classification

  private where(path: string): string {
    return `${this.http.origin}${this.http.basePath}${this.restPrefix}${path}`;
  }

  private safe(text: string): string {
    return redact(text, [this.password, this.auth.slice(6)]);
  }

  private transportFailure(err: TransportError, path: string): RouterOsError {
    const { failure, message } = describeTransportFailure(err, {
      origin: this.http.origin,
      where: this.where(path),
      trustMode: this.tls.mode,
      timeouts: this.http.timeouts,
      detail: this.safe(err.detail),
    });
    const code = ({ connect: 'ROS000', tls: 'ROS003', timeout: 'ROS004' } as const)[failure];
    return new RouterOsError(code, message, { cause: err });
  }

  /**
   * Sends one request through the device's queue and returns the parsed body (null for an empty one). Every
   * failure is mapped to a ROS code; `op.code` is the code of a refusal that has no more specific one.
   */
  private async call(
    op: Operation,
    method: Method,
    path: string,
    params: { query?: URLSearchParams; body?: unknown } = {},
  ): Promise<unknown> {
    const headers: Record<string, string> = { authorization: this.auth, accept: 'application/json' };
    let body: string | undefined;
    if (method === 'PUT' || method === 'PATCH' || method === 'POST') {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(params.body ?? {});
    }
    const fullPath = `${this.restPrefix}${path}`;
    const res = await runSerially(this.queueKey, async (): Promise<HttpResponse> => {
      const started = performance.now();
      try {
        const answer = await this.http.send({
          method,
          path: fullPath,
          headers,
          idempotent: method === 'GET',
          ...(params.query ? { query: params.query } : {}),
          ...(body === undefined ? {} : { body }),
        });
        this.logger?.debug(
          { gateway: this.http.origin, method, path, status: answer.status, ms: Math.round(performance.now() - started) },
          'routeros call',
        );
        return answer;
      } catch (err) {
        const failure =
          err instanceof TransportError
            ? this.transportFailure(err, path)
            : new RouterOsError('ROS000', this.safe(String(err)), { cause: err });
        this.logger?.warn({ gateway: this.http.origin, method, path, code: failure.code }, failure.message);
        throw failure;
      }
    });
    const outcome = this.interpret(op, method, path, res);
    if (outcome instanceof RouterOsError) {
      this.logger?.warn(
        { gateway: this.http.origin, method, path, status: res.status, code: outcome.code },
        outcome.message,
      );
      throw outcome;
    }
    return outcome.data;
  }

  /** Classifies an answer (docs/reference/routeros-api.md §2; docs/adr/0195). */
  private interpret(op: Operation, method: Method, path: string, res: HttpResponse): RouterOsError | { data: unknown } {
    const html = /html/i.test(res.contentType) || /^\s*</.test(res.text);
    const where = `${method} ${this.where(path)}`;
    if (html || (res.status >= 300 && res.status < 400)) {
      return new RouterOsError(
        'ROS005',
        `${where} answered HTTP ${res.status} with ${html ? 'an HTML page' : 'a redirect'} instead of REST JSON.`,
        { httpStatus: res.status },
      );
    }
    let parsed: unknown = null;
    let json = true;
    if (res.text.trim() !== '') {
      try {
        parsed = parseRosJson(res.text);
      } catch {
        json = false;
      }
    }
    if (res.status >= 200 && res.status < 300) {
      if (!json) return new RouterOsError('ROS400', `${where} returned HTTP ${res.status} with a body that is not JSON.`, { httpStatus: res.status });
      return { data: parsed };
    }
    const err = isRecord(parsed) ? parsed : {};
    const detail = typeof err.detail === 'string' ? this.safe(err.detail) : '';
    const message = typeof err.message === 'string' ? this.safe(err.message) : '';
    const said = `HTTP ${res.status}${message ? ` ${message}` : ''}${detail ? `: ${detail}` : ''}`;
    const opts = { httpStatus: res.status, ...(detail ? { detail } : {}) };
    if (res.status === 401)
      return new RouterOsError('ROS001', `${this.http.origin} refused the user \`${this.safe(this.username)}\` (${said}).`, opts);
    if (/not enough permissions|not allowed \(9\)|permission denied/i.test(detail) || res.status === 403) {
      return new RouterOsError('ROS002', `The user \`${this.safe(this.username)}\` may not ${op.what} (${said}).`, opts);
    }
    if (/session closed/i.test(detail))
      return new RouterOsError('ROS007', `${where} ran past the router's request deadline (${said}).`, opts);
    if (/already have such entry/i.test(detail))
      return new RouterOsError('ROS102', `Failed to ${op.what}: the router holds the entry already (${said}).`, opts);
    const unknown = /unknown parameter\s*([^\s,;]*)/i.exec(detail);
    if (unknown) {
      return new RouterOsError('ROS103', `Failed to ${op.what} (${said}).`, {
        ...opts,
        ...(unknown[1] ? { field: unknown[1] } : {}),
      });
    }
    if (/no such command or directory/i.test(detail))
      return new RouterOsError('ROS104', `${where}: ${said}.`, opts);
    if (res.status === 404) return new RouterOsError('ROS105', `${where}: ${said}.`, opts);
    if (!json || !isRecord(parsed)) {
      return new RouterOsError(
        'ROS400',
        `${where} returned HTTP ${res.status} with ${json ? 'JSON without the {error, message, detail} object' : 'a body that is not JSON'}.`,
        { httpStatus: res.status },
      );
    }
    return new RouterOsError(op.code, `Failed to ${op.what} (${said}).`, { ...opts, retryable: res.status >= 500 });
  }

  private shapeError(op: Operation, path: string, detail: string): RouterOsError {
    return new RouterOsError('ROS400', `Unexpected data from ${this.where(path)} while trying to ${op.what}: ${detail}.`);
  }

  /** A list read: RouterOS answers an array (a single object is wrapped, as the Terraform provider does). */
  private async rows(op: Operation, path: string, query?: URLSearchParams): Promise<RosRow[]> {
    const data = await this.call(op, 'GET', path, query ? { query } : {});
    const list = Array.isArray(data) ? data : data === null ? [] : [data];
    if (!list.every(isRecord)) throw this.shapeError(op, path, 'a row that is not an object');
    return list;
  }

  // ---------------------------------------------------------------------------------------------------------
  // Generic access for the live view and live writes

  /** Reads a table (a list of rows); an API-level failure is ROS300, others keep their codes. */
  async read(path: string, what: string, query?: URLSearchParams): Promise<RosRow[]> {
    return this.rows({ code: 'ROS300', what }, path, query);
  }

  /** Reads one object (`system/resource` is an object, not a one-element list: docs/reference/routeros-api.md §6). */
  async readObject(path: string, what: string): Promise<RosRow> {
    const op: Operation = { code: 'ROS300', what };
    const data = await this.call(op, 'GET', path);
    const row: unknown = Array.isArray(data) ? (data as unknown[])[0] : data;
    if (!isRecord(row)) throw this.shapeError(op, path, 'no object');
    return row;
  }

  /** One call of a live write; an API-level failure is `code`. */
  async request(code: RosCode, what: string, method: Method, path: string, body?: unknown): Promise<unknown> {
    return this.call({ code, what }, method, path, body === undefined ? {} : { body });
  }

  // ---------------------------------------------------------------------------------------------------------
  // Version and reboot detection

  /**
   * `system/resource`: the version (refused below 7.1beta4 with ROS006) and uptime. Uptime lower than at the last
   * read means the router rebooted and lost every timed address-list entry: that is reported in `warnings`, in
   * `raw.reboot_detected` and to `onReboot`; the reconciler's next full run writes them again.
   */
  async systemResource(): Promise<RosRow> {
    const row = await this.readObject('/system/resource', 'read system/resource');
    const uptimeMs = typeof row.uptime === 'string' ? parseRosDuration(row.uptime) : null;
    if (uptimeMs !== null) {
      const previous = lastUptime.get(this.queueKey);
      lastUptime.set(this.queueKey, uptimeMs);
      if (previous !== undefined && uptimeMs + 1_000 < previous) {
        const note = `RouterOS at ${this.http.origin} rebooted (uptime went from ${Math.round(previous / 1000)} s to ${Math.round(uptimeMs / 1000)} s): timed address-list entries were lost; the next full reconcile restores them.`;
        this.warnings.push(note);
        this.logger?.warn({ gateway: this.http.origin }, note);
        this.onReboot?.({ previousUptimeMs: previous, uptimeMs });
        return { ...row, reboot_detected: 'true' };
      }
    }
    return row;
  }

  async version(): Promise<VersionInfo> {
    const op: Operation = { code: 'ROS400', what: 'read the RouterOS version' };
    const row = await this.systemResource();
    if (typeof row.version !== 'string') throw this.shapeError(op, '/system/resource', 'no `version` string');
    if (!hasRest(row.version)) {
      throw new RouterOsError(
        'ROS006',
        `${this.http.origin} runs RouterOS ${row.version}; the REST API needs 7.1beta4 or later.`,
      );
    }
    return { product: `RouterOS ${row.version}`, api: 'REST', raw: row };
  }

  // ---------------------------------------------------------------------------------------------------------
  // Address lists

  private menu(family: Family): string {
    return family === 'ip' ? '/ip/firewall/address-list' : '/ipv6/firewall/address-list';
  }

  private toEntry(row: RosRow, family: Family, op: Operation, path: string): RosListEntry {
    const id = row['.id'];
    const address = row.address;
    if (typeof id !== 'string' || typeof address !== 'string')
      throw this.shapeError(op, path, 'an address-list entry without `.id` and `address`');
    const dynamic = row.dynamic === 'true' || row.dynamic === true;
    const remaining = typeof row.timeout === 'string' ? parseRosDuration(row.timeout) : null;
    const timed = remaining !== null && remaining > 0;
    return {
      id,
      family,
      list: typeof row.list === 'string' ? row.list : '',
      rawAddress: address,
      address: normalizeListAddress(address),
      comment: typeof row.comment === 'string' ? row.comment : '',
      dynamic,
      disabled: row.disabled === 'true' || row.disabled === true,
      remainingMs: timed ? remaining : null,
      readOnly: dynamic && !timed,
    };
  }

  /** Every entry of `list` in one menu, with one bulk read (docs/reference/routeros-api.md §3, §7). */
  private async menuEntries(list: string, family: Family, query: Record<string, string> = {}): Promise<RosListEntry[]> {
    if (family === 'ipv6' && this.ipv6Missing) return [];
    const op: Operation = { code: 'ROS100', what: `read address list \`${list}\`` };
    const path = this.menu(family);
    try {
      const rows = await this.rows(op, path, new URLSearchParams({ list, ...query }));
      // The query is an exact match on the router; filter again so a loose server cannot hand us another list.
      return rows.map((r) => this.toEntry(r, family, op, path)).filter((e) => e.list === list || e.list === '');
    } catch (err) {
      if (family === 'ipv6' && err instanceof RouterOsError && err.code === 'ROS104') {
        this.ipv6Missing = true;
        return [];
      }
      throw err;
    }
  }

  /** The entries of a list in both menus (IPv4 first), as the router holds them. */
  async listEntries(list: string): Promise<RosListEntry[]> {
    const v4 = await this.menuEntries(list, 'ip');
    const v6 = await this.menuEntries(list, 'ipv6');
    return [...v4, ...v6];
  }

  private requireName(name: string, code: RosCode): void {
    const check = checkListName(name);
    if (!check.ok) throw new RouterOsError(code, `\`${name}\` cannot be an address list name here: ${check.message}`);
  }

  private asAliasEntry(e: RosListEntry): AliasEntry {
    return {
      address: e.address,
      detail: e.comment,
      ...(e.remainingMs === null ? {} : { expiresAt: this.now() + e.remainingMs }),
    };
  }

  /**
   * The list by name. A RouterOS address list has no object of its own: it exists by name, with as many entries
   * as it holds (docs/adr/0193), so a name without entries reads as an empty list, never as null. Disabled entries
   * are left out (they enforce nothing and are never touched).
   */
  async getAlias(name: string): Promise<DeviceAlias | null> {
    this.requireName(name, 'ROS100');
    const entries = (await this.listEntries(name)).filter((e) => !e.disabled);
    return { name, type: 'host', descr: '', entries: entries.map((e) => this.asAliasEntry(e)) };
  }

  /** Nothing to create on RouterOS: the list appears with its first entry (docs/adr/0193). Checks the name only. */
  async createAlias(name: string, _type: 'host' | 'network', _description: string): Promise<void> {
    this.requireName(name, 'ROS101');
  }

  /** The `timeout` to write for an entry of ours, or undefined for a permanent one. */
  private timeoutFor(entry: AliasEntry): string | undefined {
    if (entry.expiresAt === undefined) return undefined;
    return formatRosSeconds((entry.expiresAt - this.now()) / 1000 + this.slackSeconds);
  }

  private isOurs(entry: AliasEntry): boolean {
    return entry.detail.startsWith(TAG_PREFIX);
  }

  private keyOf(address: string): string {
    const normal = normalizeListAddress(address);
    return `${familyOf(normal)}|${normal}`;
  }

  /**
   * Replaces the list's entries with `entries` as a diff against the router (RouterOS has no bulk write, one entry per
   * PUT): entries no longer wanted are deleted, new ones added (ours with `timeout` from `expiresAt`), changed
   * comments and expiries patched. Read-only dynamic entries (a DNS name's children) and disabled entries are never
   * touched; a manual entry's own timeout is never changed (docs/adr/0180-native-expiry.md, docs/adr/0193).
   */
  async setAliasEntries(name: string, entries: AliasEntry[]): Promise<void> {
    this.requireName(name, 'ROS101');
    for (const e of entries) {
      if (e.address.trim() === '' || /[\s,]/.test(e.address))
        throw new RouterOsError('ROS101', `Address list \`${name}\` entry \`${e.address}\` is empty or holds a space or comma.`);
    }
    const current = (await this.listEntries(name)).filter((e) => !e.disabled);
    const wanted = new Map<string, AliasEntry>();
    for (const e of entries) if (!wanted.has(this.keyOf(e.address))) wanted.set(this.keyOf(e.address), e);
    const held = new Map<string, RosListEntry>();
    for (const cur of current) {
      const key = this.keyOf(cur.address);
      if (!wanted.has(key) || held.has(key)) {
        if (!cur.readOnly) await this.removeEntry(name, cur);
        continue;
      }
      held.set(key, cur);
    }
    for (const [key, want] of wanted) {
      const cur = held.get(key);
      if (cur === undefined) await this.addEntry(name, want);
      else if (!cur.readOnly) await this.updateEntry(name, cur, want);
    }
  }

  private async removeEntry(list: string, entry: RosListEntry): Promise<void> {
    const op: Operation = { code: 'ROS101', what: `remove ${entry.address} from address list \`${list}\`` };
    try {
      await this.call(op, 'DELETE', `${this.menu(entry.family)}/${entry.id}`);
    } catch (err) {
      // Gone already (its timeout ran out, or another admin removed it): what was wanted.
      if (err instanceof RouterOsError && err.code === 'ROS105') return;
      const failure = await this.afterWriteFailure(err, list, entry.address, (found) => found === null);
      if (failure !== null) throw failure;
    }
  }

  private async addEntry(list: string, want: AliasEntry): Promise<void> {
    const family = familyOf(normalizeListAddress(want.address));
    const timeout = this.isOurs(want) ? this.timeoutFor(want) : undefined;
    const body: Record<string, string> = { list, address: want.address, comment: want.detail };
    if (timeout !== undefined) body.timeout = timeout;
    const op: Operation = { code: 'ROS101', what: `add ${want.address} to address list \`${list}\`` };
    try {
      const created = await this.call(op, 'PUT', this.menu(family), { body });
      if (created !== null && !isRecord(created) && !(Array.isArray(created) && created.length === 0))
        throw this.shapeError(op, this.menu(family), 'the created entry is not an object');
    } catch (err) {
      if (err instanceof RouterOsError && err.code === 'ROS102') {
        // Already present (docs/reference/routeros-api.md §3): find it and bring it to what is wanted.
        const found = await this.findEntry(list, want.address);
        if (found === null) throw err;
        if (!found.readOnly) await this.updateEntry(list, found, want);
        return;
      }
      const failure = await this.afterWriteFailure(
        err,
        list,
        want.address,
        (found) => found !== null && found.comment === want.detail,
      );
      if (failure !== null) throw failure;
    }
  }

  /** Brings an existing entry to `want`: comment by PATCH; our expiry by PATCH, or delete + add to change its kind. */
  private async updateEntry(list: string, cur: RosListEntry, want: AliasEntry): Promise<void> {
    const patch: Record<string, string> = {};
    if (cur.comment !== want.detail) patch.comment = want.detail;
    let reAdd = false;
    if (this.isOurs(want)) {
      const wantTimed = want.expiresAt !== undefined;
      const curTimed = cur.remainingMs !== null;
      if (wantTimed !== curTimed) reAdd = true;
      else if (wantTimed && cur.remainingMs !== null && want.expiresAt !== undefined) {
        const drift = Math.abs(this.now() + cur.remainingMs - want.expiresAt);
        if (drift > EXPIRY_DRIFT_MS + this.slackSeconds * 1000) patch.timeout = this.timeoutFor(want) as string;
      }
    }
    if (reAdd) {
      // A static entry cannot be turned into a timed one (or back) reliably by PATCH: replace it (docs/adr/0195).
      await this.removeEntry(list, cur);
      await this.addEntry(list, want);
      return;
    }
    if (Object.keys(patch).length === 0) return;
    const op: Operation = { code: 'ROS101', what: `update ${cur.address} in address list \`${list}\`` };
    const path = `${this.menu(cur.family)}/${cur.id}`;
    let updated: unknown;
    try {
      updated = await this.call(op, 'PATCH', path, { body: patch });
    } catch (err) {
      if (err instanceof RouterOsError && err.code === 'ROS105') {
        await this.addEntry(list, want); // it ran out meanwhile
        return;
      }
      const failure = await this.afterWriteFailure(err, list, want.address, (found) => found !== null && this.matches(found, want));
      if (failure === null) return;
      if (failure instanceof RouterOsError && patch.timeout !== undefined && failure.code !== 'ROS002') {
        await this.removeEntry(list, cur);
        await this.addEntry(list, want);
        return;
      }
      throw failure;
    }
    if (patch.timeout !== undefined) {
      const row: unknown = Array.isArray(updated) ? (updated as unknown[])[0] : updated;
      const after = isRecord(row) ? this.toEntry(row, cur.family, op, path) : await this.findEntry(list, want.address);
      if (after === null || !this.matches(after, want)) {
        // The router kept the old timeout: replace the entry so the wanted expiry holds.
        await this.removeEntry(list, after ?? cur);
        await this.addEntry(list, want);
      }
    }
  }

  /** Whether an entry on the router is what `want` asks (comment, and for ours the expiry within the drift). */
  private matches(found: RosListEntry, want: AliasEntry): boolean {
    if (found.comment !== want.detail) return false;
    if (!this.isOurs(want)) return true;
    if (want.expiresAt === undefined) return found.remainingMs === null;
    if (found.remainingMs === null) return false;
    return Math.abs(this.now() + found.remainingMs - want.expiresAt) <= EXPIRY_DRIFT_MS + this.slackSeconds * 1000;
  }

  /** The non-disabled entry for `address` in `list`, read with a filtered bulk GET. */
  private async findEntry(list: string, address: string): Promise<RosListEntry | null> {
    const normal = normalizeListAddress(address);
    const family = familyOf(normal);
    const all = await this.menuEntries(list, family);
    return all.find((e) => !e.disabled && e.address === normal) ?? null;
  }

  /**
   * A write failed: RouterOS may still have applied it (a 400 on PATCH can have been applied,
   * docs/reference/routeros-api.md §2), so re-read the entry. Returns the error to throw, or null when the re-read
   * shows the write done after all. Transport, auth and permission errors are final.
   */
  private async afterWriteFailure(
    err: unknown,
    list: string,
    address: string,
    done: (found: RosListEntry | null) => boolean,
  ): Promise<Error | null> {
    if (!(err instanceof Error)) return new RouterOsError('ROS000', this.safe(String(err)));
    if (!(err instanceof RouterOsError) || ['ROS000', 'ROS001', 'ROS002', 'ROS003', 'ROS005'].includes(err.code)) return err;
    let found: RosListEntry | null;
    try {
      found = await this.findEntry(list, address);
    } catch {
      return err;
    }
    return done(found) ? null : err;
  }

  /** Writes are live at once on RouterOS: nothing is pending (docs/reference/routeros-api.md §4). */
  async apply(): Promise<ApplyResult> {
    return { applied: true, pending: [] };
  }

  /**
   * Removes the connection-tracking entries from or to `ip` (docs/reference/routeros-api.md §6): one read of the
   * family's connection table (a `?src-address=` filter matches nothing, the field holds `ip:port`), matched here,
   * then one DELETE each. Entries that vanish meanwhile are not counted.
   */
  async killStates(ip: string): Promise<number> {
    if (!ipaddr.IPv4.isValidFourPartDecimal(ip) && !ipaddr.IPv6.isValid(ip)) {
      throw new TypeError(`killStates needs an IP address, got ${JSON.stringify(ip)}`);
    }
    const canonical = ipaddr.parse(ip).toString();
    const family: Family = canonical.includes(':') ? 'ipv6' : 'ip';
    const path = `/${family}/firewall/connection`;
    const op: Operation = { code: 'ROS200', what: `remove the connections of ${canonical}` };
    let rows: RosRow[];
    try {
      rows = await this.rows(op, path, new URLSearchParams({ '.proplist': '.id,src-address,dst-address' }));
    } catch (err) {
      // No IPv6 connection table (IPv6 disabled): nothing to remove.
      if (family === 'ipv6' && err instanceof RouterOsError && err.code === 'ROS104') return 0;
      throw err;
    }
    let killed = 0;
    for (const row of rows) {
      const src = typeof row['src-address'] === 'string' ? connectionHost(row['src-address']) : null;
      const dst = typeof row['dst-address'] === 'string' ? connectionHost(row['dst-address']) : null;
      if (src !== canonical && dst !== canonical) continue;
      const id = row['.id'];
      if (typeof id !== 'string') throw this.shapeError(op, path, 'a connection without `.id`');
      try {
        await this.call(op, 'DELETE', `${path}/${id}`);
        killed++;
      } catch (err) {
        if (err instanceof RouterOsError && err.code === 'ROS105') continue;
        throw err;
      }
    }
    return killed;
  }
}
