/**
 * @module The OPNsense adapter over the core MVC API (docs/reference/opnsense-api.md; docs/opnsense.md).
 *
 * Requests: HTTP Basic key:secret (§1); GETs carry no body and no Content-Type; POSTs with data send JSON, action
 * POSTs (reconfigure, apply) send no body and no Content-Type, since a JSON content type with an empty body is a
 * 400 (§1, §2). Every answer is checked in its body: a 200 with `result: failed` / `status: failed` is an error
 * naming the field from `validations` (§2).
 *
 * The address set is a Host(s)/Network(s) alias written whole with `set_item` and made live with
 * `alias/reconfigure`, then verified against the runtime pf table (`alias_util/list`); the runtime-only
 * `alias_util` path is not used for access (docs/adr/0186-opnsense-persistent-alias-path.md). Per-entry details
 * live in the description (docs/adr/0185-opnsense-entry-details.md).
 */
import ipaddr from 'ipaddr.js';
import {
  describeTransportFailure,
  GatewayHttpClient,
  type HttpResponse,
  redact,
  type TlsTrust,
  TransportError,
} from '../http.ts';
import type { LookupFunction } from 'node:net';
import type { BreakerOptions, HttpTimeouts, RetryOptions } from '../http.ts';
import type { AliasEntry, ApplyResult, DeviceAlias, FirewallAdapter, VersionInfo } from '../types.ts';
import { checkAliasName } from './alias-name.ts';
import { decodeEntries, encodeDescription } from './details.ts';
import { OpnSenseError, type OpnCode } from './errors.ts';
import { privilegeFor } from './privileges.ts';
import { type RollbackTruth, rollbackTruth } from './rollback.ts';

export interface OpnSenseAdapterOptions {
  /** Base URL of the web GUI, e.g. `https://fw.example.net` (trailing slash fine). */
  url: string;
  apiKey: string;
  apiSecret: string;
  tls?: TlsTrust;
  timeouts?: Partial<HttpTimeouts>;
  retry?: Partial<RetryOptions>;
  breaker?: Partial<BreakerOptions>;
  gatewayKey?: string;
  lookup?: LookupFunction;
  /** Whether `createAlias` may create a missing alias. Default true. */
  allowCreateAlias?: boolean;
}

/** What a call is, for error messages: the code of API-level failures and a short description. */
interface Operation {
  code: OpnCode;
  what: string;
}

type Method = 'GET' | 'POST';

export const isRecord = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

/** The selected keys of an option map (`{"host":{"value":"Host(s)","selected":1},…}`), in order; strings pass. */
export function selectedKeys(v: unknown): string[] {
  if (typeof v === 'string') return v === '' ? [] : v.split(/[,\n]/);
  if (!isRecord(v)) return [];
  return Object.entries(v)
    .filter(([, o]) => isRecord(o) && (o.selected === 1 || o.selected === true || o.selected === '1'))
    .map(([k]) => k);
}

/** The first `validations` entry, field and message, of a failed save. */
function firstValidation(body: Record<string, unknown>): { field: string; message: string } | null {
  const v = body.validations;
  if (!isRecord(v)) return null;
  for (const [field, message] of Object.entries(v)) {
    const text = Array.isArray(message) ? message.join(' ') : String(message);
    return { field, message: text };
  }
  return null;
}

interface FirmwareVersion {
  product: string;
  raw: unknown;
}

export class OpnSenseAdapter implements FirewallAdapter {
  readonly vendor = 'opnsense';
  readonly warnings: string[] = [];
  private readonly http: GatewayHttpClient;
  private readonly auth: string;
  private readonly secrets: string[];
  private readonly tls: TlsTrust;
  private readonly allowCreateAlias: boolean;
  /** Aliases written since the last apply, with the IPs their runtime table must hold afterwards. */
  private readonly written = new Map<string, string[]>();
  private rollback: RollbackTruth | undefined;

  constructor(opts: OpnSenseAdapterOptions) {
    if (opts.apiKey.trim() === '' || opts.apiSecret.trim() === '') {
      throw new TypeError('apiKey and apiSecret must not be empty');
    }
    this.auth = `Basic ${Buffer.from(`${opts.apiKey}:${opts.apiSecret}`).toString('base64')}`;
    this.secrets = [opts.apiKey, opts.apiSecret, this.auth.slice(6)];
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
    this.allowCreateAlias = opts.allowCreateAlias ?? true;
    if (this.tls.mode === 'insecure') {
      this.warnings.push(
        'TLS certificate verification is disabled for this gateway (insecure mode): anyone on the network path can impersonate it and read the API key and secret. Pin the SHA-256 fingerprint or trust its CA instead.',
      );
    }
    if (this.http.origin.startsWith('http:')) {
      this.warnings.push(
        'The gateway URL uses plain HTTP: the API key and secret travel unencrypted (and OPNsense has been seen to refuse JSON bodies over http). Use https://.',
      );
    }
  }

  async close(): Promise<void> {
    await this.http.close();
  }

  // ---------------------------------------------------------------------------------------------------------
  // Transport and answer classification (docs/reference/opnsense-api.md §2)

  private where(path: string): string {
    return `${this.http.origin}${this.http.basePath}${path}`;
  }

  private safe(text: string): string {
    return redact(text, this.secrets);
  }

  private transportFailure(err: TransportError, path: string): OpnSenseError {
    const { failure, message } = describeTransportFailure(err, {
      origin: this.http.origin,
      where: this.where(path),
      trustMode: this.tls.mode,
      timeouts: this.http.timeouts,
      detail: this.safe(err.detail),
    });
    const code = ({ connect: 'OPN000', tls: 'OPN003', timeout: 'OPN004' } as const)[failure];
    return new OpnSenseError(code, message, { cause: err });
  }

  /**
   * One call; returns the parsed JSON body of a successful answer. `body` undefined = no body and no
   * Content-Type (GETs and action POSTs).
   */
  async call(op: Operation, method: Method, path: string, body?: unknown): Promise<unknown> {
    const headers: Record<string, string> = { authorization: this.auth, accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    let res: HttpResponse;
    try {
      res = await this.http.send({
        method,
        path,
        headers,
        idempotent: method === 'GET',
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch (err) {
      if (err instanceof TransportError) throw this.transportFailure(err, path);
      throw new OpnSenseError('OPN000', this.safe(String(err)), { cause: err });
    }
    return this.interpret(op, method, path, res);
  }

  private interpret(op: Operation, method: Method, path: string, res: HttpResponse): unknown {
    let parsed: unknown;
    let json = true;
    try {
      parsed = res.text === '' ? null : JSON.parse(res.text);
    } catch {
      json = false;
    }
    const said = (b: unknown): string => {
      if (!isRecord(b)) return `HTTP ${res.status}`;
      const parts = [b.errorTitle, b.errorMessage, b.message, b.status_msg].filter(
        (x): x is string => typeof x === 'string' && x !== '',
      );
      return this.safe(`HTTP ${res.status}${parts.length > 0 ? `: ${parts.join(' — ')}` : ''}`);
    };
    const opts = { httpStatus: res.status };
    if (res.status === 401) {
      return this.fail(
        new OpnSenseError('OPN001', `${this.http.origin} rejected the API key and secret (${said(parsed)}).`, opts),
      );
    }
    if (res.status === 403) {
      const p = privilegeFor(path);
      return this.fail(
        new OpnSenseError(
          'OPN002',
          `The API key's user lacks the privilege \`${p.id}\` ("${p.name}") needed to ${op.what} (${said(parsed)}).`,
          { ...opts, privilege: p.id },
        ),
      );
    }
    if (res.status === 404) {
      return this.fail(
        new OpnSenseError('OPN005', `${method} ${this.where(path)} is not an endpoint of this OPNsense (${said(parsed)}).`, opts),
      );
    }
    if (res.status === 400) {
      return this.fail(new OpnSenseError('OPN006', `${method} ${this.where(path)} was refused (${said(parsed)}).`, opts));
    }
    if (!json) {
      const html = /html/i.test(res.contentType) || /^\s*</.test(res.text);
      return this.fail(
        new OpnSenseError(
          'OPN400',
          `${method} ${this.where(path)} answered HTTP ${res.status} with ${html ? 'an HTML page (a login page or a proxy, not the API)' : 'a body that is not JSON'}.`,
          opts,
        ),
      );
    }
    if (res.status >= 500) {
      const text = isRecord(parsed) && typeof parsed.errorMessage === 'string' ? parsed.errorMessage : '';
      if (/user-config-readonly|denied for write access/i.test(text)) {
        return this.fail(new OpnSenseError('OPN008', `The gateway refused to ${op.what} (${said(parsed)}).`, opts));
      }
      // A failed alias reload comes back as a 500 naming the alias (update_tables.py): the apply's code.
      const code: OpnCode = op.code === 'OPN200' ? 'OPN200' : 'OPN007';
      return this.fail(new OpnSenseError(code, `The gateway failed to ${op.what} (${said(parsed)}).`, { ...opts, retryable: true }));
    }
    if (res.status !== 200) {
      return this.fail(new OpnSenseError('OPN400', `${method} ${this.where(path)} answered HTTP ${res.status}.`, opts));
    }
    // `status: error` is what several actions answer a wrong verb with (docs/reference/opnsense-api.md §2).
    if (isRecord(parsed) && (parsed.result === 'failed' || parsed.status === 'failed' || parsed.status === 'error')) {
      const v = firstValidation(parsed);
      const detail = v
        ? `the gateway refused \`${v.field}\`: ${this.safe(v.message)}`
        : `the gateway answered ${this.safe(JSON.stringify(parsed).slice(0, 200))}`;
      return this.fail(
        new OpnSenseError(op.code, `Failed to ${op.what}: ${detail} (HTTP 200).`, {
          ...opts,
          ...(v ? { field: v.field } : {}),
          ...(isRecord(parsed.validations)
            ? { validations: Object.fromEntries(Object.entries(parsed.validations).map(([k, m]) => [k, String(m)])) }
            : {}),
        }),
      );
    }
    return parsed;
  }

  private fail(err: OpnSenseError): never {
    throw err;
  }

  shapeError(op: Operation, path: string, detail: string): OpnSenseError {
    return new OpnSenseError('OPN400', `Unexpected answer from ${this.where(path)} while trying to ${op.what}: ${detail}.`);
  }

  // ---------------------------------------------------------------------------------------------------------
  // Version and rollback truth

  private async firmware(): Promise<FirmwareVersion> {
    const op: Operation = { code: 'OPN400', what: 'read the firmware version' };
    const path = '/api/core/firmware/status';
    try {
      const data = await this.call(op, 'GET', path);
      const product = isRecord(data) && isRecord(data.product) ? data.product : null;
      const v = product?.product_version;
      if (typeof v === 'string' && v !== '') return { product: v, raw: data };
    } catch (err) {
      // A key without the firmware privilege can still read the dashboard's system information.
      if (!(err instanceof OpnSenseError) || !['OPN002', 'OPN005'].includes(err.code)) throw err;
    }
    const infoPath = '/api/diagnostics/system/system_information';
    const info = await this.call({ code: 'OPN400', what: 'read the system information' }, 'GET', infoPath);
    const versions = isRecord(info) && Array.isArray(info.versions) ? info.versions : [];
    const first = versions.find((x): x is string => typeof x === 'string' && /OPNsense/i.test(x));
    if (first === undefined) throw this.shapeError(op, infoPath, 'no OPNsense version in `versions`');
    const m = /OPNsense\s+(\S+)/.exec(first);
    return { product: (m?.[1] ?? first).replace(/-amd64$|-aarch64$/, ''), raw: info };
  }

  async version(): Promise<VersionInfo> {
    const fw = await this.firmware();
    this.rollback = rollbackTruth(fw.product);
    if (this.rollback.kind === 'none' && !this.warnings.some((w) => w.startsWith('No device rollback'))) {
      this.warnings.push(
        `No device rollback: ${this.rollback.reason}. Rule and NAT changes are protected only by Portcullis's own verified restore.`,
      );
    }
    return { product: fw.product, api: 'core MVC API', raw: { firmware: fw.raw, rollback: this.rollback } };
  }

  /** The rollback truth of this gateway's firmware (reads the version once). */
  async rollbackTruth(): Promise<RollbackTruth> {
    if (this.rollback === undefined) await this.version();
    return this.rollback as RollbackTruth;
  }

  // ---------------------------------------------------------------------------------------------------------
  // Aliases (docs/reference/opnsense-api.md §3)

  private async aliasUuid(name: string, op: Operation): Promise<string | null> {
    const path = `/api/firewall/alias/get_alias_uuid/${encodeURIComponent(name)}`;
    const data = await this.call(op, 'GET', path);
    if (Array.isArray(data)) return null; // `[]`: no such alias
    if (isRecord(data) && typeof data.uuid === 'string' && data.uuid !== '') return data.uuid;
    throw this.shapeError(op, path, 'neither `{"uuid":…}` nor `[]`');
  }

  /** The alias's stored fields, decoded from the option maps of `get_item`. */
  async readAlias(
    name: string,
    op: Operation = { code: 'OPN100', what: `read alias \`${name}\`` },
  ): Promise<{ uuid: string; type: string; description: string; content: string[]; enabled: boolean } | null> {
    const uuid = await this.aliasUuid(name, op);
    if (uuid === null) return null;
    const path = `/api/firewall/alias/get_item/${uuid}`;
    const data = await this.call(op, 'GET', path);
    if (Array.isArray(data)) return null; // removed between the two calls
    const alias = isRecord(data) && isRecord(data.alias) ? data.alias : null;
    if (alias === null) throw this.shapeError(op, path, 'no `alias` object');
    if (typeof alias.name === 'string' && alias.name !== name) {
      // An unknown uuid answers a map of every alias: it is not this one.
      return null;
    }
    const type = selectedKeys(alias.type)[0] ?? '';
    return {
      uuid,
      type,
      description: typeof alias.description === 'string' ? alias.description : '',
      // get_item lists every other alias as an unselected option: only the selected ones are content. An empty
      // content explodes to one empty selected key `""` (AliasContentField::getNodeData): not an entry.
      content: selectedKeys(alias.content).filter((entry) => entry !== ''),
      enabled: alias.enabled === '1' || alias.enabled === 1 || alias.enabled === true,
    };
  }

  async getAlias(name: string): Promise<DeviceAlias | null> {
    const found = await this.readAlias(name);
    if (found === null) return null;
    const { descr, entries } = decodeEntries(found.description, found.content);
    return { name, type: found.type, descr, entries };
  }

  async createAlias(name: string, type: 'host' | 'network', description: string): Promise<void> {
    const op: Operation = { code: 'OPN101', what: `create alias \`${name}\`` };
    if (!this.allowCreateAlias) {
      throw new OpnSenseError('OPN101', `Creating alias \`${name}\` is not allowed for this gateway (allowCreateAlias is off).`);
    }
    const check = checkAliasName(name);
    if (!check.ok) throw new OpnSenseError('OPN101', check.message, { field: 'alias.name' });
    if (/[\r\n]/.test(description) || Buffer.byteLength(description) > 255) {
      throw new OpnSenseError('OPN101', 'The alias description must be one line of at most 255 bytes.', {
        field: 'alias.description',
      });
    }
    const path = '/api/firewall/alias/add_item';
    const data = await this.call(op, 'POST', path, {
      alias: { enabled: '1', name, type, content: '', description },
    });
    if (!isRecord(data) || data.result !== 'saved') {
      throw this.shapeError(op, path, `no \`result: saved\` (${this.safe(JSON.stringify(data)).slice(0, 200)})`);
    }
  }

  async setAliasEntries(name: string, entries: AliasEntry[]): Promise<void> {
    const op: Operation = { code: 'OPN102', what: `update alias \`${name}\`` };
    for (const e of entries) {
      if (e.address === '' || /[\s,]/.test(e.address)) {
        throw new OpnSenseError('OPN102', `Alias \`${name}\` entry \`${e.address}\` is empty or holds whitespace or a comma.`, {
          field: 'alias.content',
        });
      }
    }
    const current = await this.readAlias(name, op);
    if (current === null) throw new OpnSenseError('OPN103', `Alias \`${name}\` does not exist on ${this.http.origin}.`);
    if (current.type !== 'host' && current.type !== 'network') {
      throw new OpnSenseError('OPN104', `Alias \`${name}\` is of type \`${current.type}\`.`);
    }
    const { descr } = decodeEntries(current.description, current.content);
    let description: string;
    try {
      description = encodeDescription(descr, entries);
    } catch (err) {
      throw new OpnSenseError('OPN102', `Alias \`${name}\`: ${(err as Error).message}.`, { field: 'alias.description' });
    }
    const content = entries.map((e) => e.address);
    this.written.set(name, content);
    if (description === current.description && content.join('\n') === current.content.join('\n')) return;
    const path = `/api/firewall/alias/set_item/${current.uuid}`;
    const data = await this.call(op, 'POST', path, {
      alias: { name, type: current.type, content: content.join('\n'), description },
    });
    if (!isRecord(data) || data.result !== 'saved') {
      throw this.shapeError(op, path, `no \`result: saved\` (${this.safe(JSON.stringify(data)).slice(0, 200)})`);
    }
  }

  /** The runtime pf table of an alias (`alias_util/list`): what the firewall enforces now. */
  async runtimeTable(name: string): Promise<string[]> {
    const op: Operation = { code: 'OPN300', what: `read the pf table of alias \`${name}\`` };
    const path = `/api/firewall/alias_util/list/${encodeURIComponent(name)}`;
    // Paging is read from the POST body only; a GET lists up to 9999 rows (§7): ask for all.
    const data = await this.call(op, 'POST', path, { current: 1, rowCount: -1 });
    const rows = isRecord(data) && Array.isArray(data.rows) ? data.rows : null;
    if (rows === null) throw this.shapeError(op, path, 'no `rows` list');
    return rows.map((r) => (isRecord(r) && typeof r.ip === 'string' ? r.ip : '')).filter((ip) => ip !== '');
  }

  async apply(): Promise<ApplyResult> {
    const op: Operation = { code: 'OPN200', what: 'apply the alias changes (alias/reconfigure)' };
    const path = '/api/firewall/alias/reconfigure';
    const data = await this.call(op, 'POST', path);
    if (!isRecord(data) || data.status !== 'ok') {
      throw new OpnSenseError('OPN200', `alias/reconfigure answered ${this.safe(JSON.stringify(data)).slice(0, 200)} instead of \`status: ok\`.`);
    }
    // Verify: each written alias's pf table holds what was written (single addresses; host names and nested
    // aliases resolve on the device and are not compared).
    for (const [name, content] of this.written) {
      const live = new Set((await this.runtimeTable(name)).map(normalizeTableEntry));
      const want = content.filter(isPlainAddress).map(normalizeTableEntry);
      const missing = want.filter((a) => !live.has(a));
      const exact = content.every(isPlainAddress);
      const extra = exact ? [...live].filter((a) => !want.includes(a)) : [];
      if (missing.length > 0 || extra.length > 0) {
        throw new OpnSenseError(
          'OPN401',
          `After alias/reconfigure the pf table of \`${name}\` ${missing.length > 0 ? `lacks ${missing.slice(0, 5).join(', ')}` : ''}${missing.length > 0 && extra.length > 0 ? ' and ' : ''}${extra.length > 0 ? `still holds ${extra.slice(0, 5).join(', ')}` : ''}.`,
        );
      }
    }
    this.written.clear();
    return { applied: true, pending: [] };
  }

  async killStates(ip: string): Promise<number> {
    if (ipaddr.IPv6.isValid(ip)) {
      throw new OpnSenseError(
        'OPN301',
        `${ip} is an IPv6 address: kill_states would strip its colons and match something else, so Portcullis does not send it.`,
      );
    }
    if (!ipaddr.IPv4.isValidFourPartDecimal(ip)) {
      throw new TypeError(`killStates needs an IP address, got ${JSON.stringify(ip)}`);
    }
    const op: Operation = { code: 'OPN301', what: `kill the states of ${ip}` };
    const path = '/api/diagnostics/firewall/kill_states';
    const data = await this.call(op, 'POST', path, { filter: ip });
    if (!isRecord(data) || data.result !== 'ok') throw this.shapeError(op, path, 'no `result: ok`');
    const n = Number(data.dropped_states);
    if (!Number.isFinite(n)) throw this.shapeError(op, path, 'no numeric `dropped_states`');
    return n;
  }
}

/** An IP or CIDR (not a host name, range or nested alias). */
function isPlainAddress(entry: string): boolean {
  const [addr, prefix] = entry.split('/');
  return addr !== undefined && ipaddr.isValid(addr) && (prefix === undefined || /^\d{1,3}$/.test(prefix));
}

/** pfctl shows a /32 or /128 as the bare address. */
function normalizeTableEntry(entry: string): string {
  const [addr, prefix] = entry.trim().split('/');
  if (addr === undefined || !ipaddr.isValid(addr)) return entry.trim();
  const canonical = ipaddr.parse(addr).toString();
  const full = canonical.includes(':') ? '128' : '32';
  return prefix === undefined || prefix === full ? canonical : `${canonical}/${prefix}`;
}
