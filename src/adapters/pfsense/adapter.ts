/**
 * @module The pfSense adapter over the pfRest v2 API (docs/reference/pfrest-contract.md). Requests are shaped the way pfRest
 * wants them (§1, §12): `X-API-Key`, `Accept: application/json` (never a list), no Content-Type and the
 * parameters in the query string on GET/DELETE, JSON bodies on writes. Every failure is a `PfSenseError`.
 *
 * Decisions: apply confirmation (docs/adr/0020), alias writes guarded by name (docs/adr/0021), HTTP core and
 * breaker (docs/adr/0022), response classification (docs/adr/0023).
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
import type {
  AliasEntry,
  ApplyResult,
  DeviceAlias,
  FirewallAdapter,
  VersionInfo,
} from '../types.ts';
import { PfSenseError, type PfsCode } from './errors.ts';
import { privilegeFor } from './privileges.ts';
import type {
  AdapterLogger,
  ApplyOptions,
  PfSenseAdapterOptions,
  PfSenseAlias,
  PfSenseInterface,
  PfSenseRule,
} from './types.ts';

const DEFAULT_APPLY: ApplyOptions = { mode: 'async', deadlineMs: 30_000, pollIntervalMs: 250 };
const MAX_POLL_DELAY_MS = 2_000;

interface Envelope {
  code: number;
  status: string;
  response_id: string;
  message: string;
  data: unknown;
}

function isEnvelope(value: unknown): value is Envelope {
  const v = value as Partial<Envelope> | null;
  return (
    v !== null &&
    typeof v === 'object' &&
    typeof v.code === 'number' &&
    typeof v.status === 'string' &&
    typeof v.response_id === 'string' &&
    typeof v.message === 'string' &&
    'data' in v
  );
}

/** What a call is, for error messages: the failure code for API-level errors and a short description. */
interface Operation {
  code: PfsCode;
  what: string;
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);
const isStringList = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class PfSenseAdapter implements FirewallAdapter {
  readonly vendor = 'pfsense';
  readonly warnings: string[] = [];
  private readonly http: GatewayHttpClient;
  private readonly apiKey: string;
  private readonly tls: TlsTrust;
  private readonly applyOptions: ApplyOptions;
  private readonly logger: AdapterLogger | undefined;
  private readonly allowCreateAlias: boolean;

  constructor(opts: PfSenseAdapterOptions) {
    if (opts.apiKey.trim() === '') throw new TypeError('apiKey must not be empty');
    this.apiKey = opts.apiKey;
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
    this.applyOptions = { ...DEFAULT_APPLY, ...opts.apply };
    this.logger = opts.logger;
    this.allowCreateAlias = opts.allowCreateAlias ?? true;
    if (this.tls.mode === 'insecure') {
      this.warnings.push(
        'TLS certificate verification is disabled for this gateway (insecure mode): anyone on the network path can impersonate it and read the API key. Pin the SHA-256 fingerprint or trust its CA instead.',
      );
    }
    if (this.http.origin.startsWith('http:')) {
      this.warnings.push('The gateway URL uses plain HTTP: the API key travels unencrypted. Use https://.');
    }
  }

  async close(): Promise<void> {
    await this.http.close();
  }

  // ---------------------------------------------------------------------------------------------------------
  // Transport and envelope

  private where(path: string): string {
    return `${this.http.origin}${this.http.basePath}${path}`;
  }

  private safe(text: string): string {
    return redact(text, [this.apiKey]);
  }

  private transportFailure(err: TransportError, path: string): PfSenseError {
    const { failure, message } = describeTransportFailure(err, {
      origin: this.http.origin,
      where: this.where(path),
      trustMode: this.tls.mode,
      timeouts: this.http.timeouts,
      detail: this.safe(err.detail),
    });
    const code = ({ connect: 'PFS000', tls: 'PFS003', timeout: 'PFS004' } as const)[failure];
    return new PfSenseError(code, message, { cause: err });
  }

  /** Sends one request and returns the `data` of a successful envelope; maps every failure to a PFS code. */
  private async call(
    op: Operation,
    method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
    path: string,
    params: { query?: URLSearchParams; body?: unknown } = {},
  ): Promise<unknown> {
    const headers: Record<string, string> = { 'x-api-key': this.apiKey, accept: 'application/json' };
    let body: string | undefined;
    if (method === 'POST' || method === 'PATCH') {
      // A Content-Type on GET/DELETE would make pfRest ignore the query string (§1 gotcha): only on writes.
      headers['content-type'] = 'application/json';
      body = JSON.stringify(params.body ?? {});
    }
    const started = performance.now();
    let res: HttpResponse;
    try {
      res = await this.http.send({
        method,
        path,
        headers,
        idempotent: method === 'GET',
        ...(params.query ? { query: params.query } : {}),
        ...(body === undefined ? {} : { body }),
      });
    } catch (err) {
      const failure =
        err instanceof TransportError
          ? this.transportFailure(err, path)
          : new PfSenseError('PFS000', this.safe(String(err)), { cause: err });
      this.logger?.warn({ gateway: this.http.origin, method, path, code: failure.code }, failure.message);
      throw failure;
    }
    this.logger?.debug(
      {
        gateway: this.http.origin,
        method,
        path,
        status: res.status,
        ms: Math.round(performance.now() - started),
      },
      'pfrest call',
    );
    const outcome = this.interpret(op, method, path, res);
    if (outcome instanceof PfSenseError) {
      this.logger?.warn(
        { gateway: this.http.origin, method, path, status: res.status, code: outcome.code },
        outcome.message,
      );
      throw outcome;
    }
    return outcome.data;
  }

  /** Classifies a response (docs/adr/0023): the envelope, or PFS005/PFS400 when there is none. */
  private interpret(
    op: Operation,
    method: string,
    path: string,
    res: HttpResponse,
  ): PfSenseError | { data: unknown } {
    let parsed: unknown;
    let json = true;
    try {
      parsed = JSON.parse(res.text);
    } catch {
      json = false;
    }
    if (!json || !isEnvelope(parsed)) {
      const html = /html/i.test(res.contentType) || /^\s*</.test(res.text);
      if (res.status === 404 || (res.status >= 300 && res.status < 400) || html) {
        return new PfSenseError(
          'PFS005',
          `${this.where(path)} answered HTTP ${res.status} (${res.contentType || 'no content type'}) without the pfRest JSON envelope.`,
          { httpStatus: res.status },
        );
      }
      const why = json
        ? 'JSON without the pfRest envelope (code, status, response_id, message, data)'
        : 'a body that is not JSON';
      return new PfSenseError(
        'PFS400',
        `${method} ${this.where(path)} returned HTTP ${res.status} with ${why}.`,
        {
          httpStatus: res.status,
        },
      );
    }
    const env = parsed;
    if (env.code === 200 && res.status === 200) return { data: env.data };
    const id = env.response_id;
    const said = this.safe(`HTTP ${res.status} ${id}: ${env.message}`);
    const opts = { httpStatus: res.status, responseId: id };
    if (res.status === 401)
      return new PfSenseError('PFS001', `${this.http.origin} rejected the API key (${said}).`, opts);
    if (res.status === 403 && id === 'AUTH_AUTHORIZATION_FAILED') {
      const privilege = privilegeFor(path, method);
      return new PfSenseError(
        'PFS002',
        `The API key's user lacks the privilege \`${privilege}\` needed to ${op.what} (${said}).`,
        {
          ...opts,
          privilege,
        },
      );
    }
    if (
      res.status === 403 &&
      (id === 'ENDPOINT_CLIENT_NOT_ALLOWED_BY_ACL' || id === 'ENDPOINT_INTERFACE_NOT_ALLOWED')
    ) {
      return new PfSenseError(
        'PFS002',
        `The gateway refuses this client or interface to ${op.what} (${said}).`,
        opts,
      );
    }
    if (res.status === 503 && (id === 'ENDPOINT_REST_API_IS_NOT_ENABLED' || id === 'ENDPOINT_UNAVAILABLE')) {
      return new PfSenseError(
        'PFS005',
        `pfRest on ${this.http.origin} is not serving requests (${said}).`,
        opts,
      );
    }
    if (res.status === 406 || res.status === 415) {
      return new PfSenseError(
        'PFS400',
        `pfRest could not negotiate the request to ${op.what} (${said}).`,
        opts,
      );
    }
    return new PfSenseError(op.code, `Failed to ${op.what} (${said}).`, {
      ...opts,
      retryable: res.status >= 500,
    });
  }

  private shapeError(op: Operation, path: string, detail: string): PfSenseError {
    return new PfSenseError(
      'PFS400',
      `Unexpected data from ${this.where(path)} while trying to ${op.what}: ${detail}.`,
    );
  }

  // ---------------------------------------------------------------------------------------------------------
  // Operations

  /**
   * One GET through the envelope and the failure mapping, for the typed live reads (`live.ts`): the `data` of
   * the answer; an API-level failure is PFS300, transport and auth failures keep their own codes.
   */
  async read(path: string, what: string, query?: URLSearchParams): Promise<unknown> {
    return this.call({ code: 'PFS300', what }, 'GET', path, query ? { query } : {});
  }

  /**
   * One call of a live write (`live-write.ts`): the `data` of the answer; an API-level failure is `code`,
   * transport and auth failures keep their own codes.
   */
  async request(
    code: PfsCode,
    what: string,
    method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
    path: string,
    params: { query?: URLSearchParams; body?: unknown } = {},
  ): Promise<unknown> {
    return this.call({ code, what }, method, path, params);
  }

  async version(): Promise<VersionInfo> {
    const op: Operation = { code: 'PFS400', what: 'read the pfSense version' };
    const data = await this.call(op, 'GET', '/api/v2/system/version');
    if (!isRecord(data) || typeof data.version !== 'string')
      throw this.shapeError(op, '/api/v2/system/version', 'no `version` string');
    // The package version needs its own privilege, outside the least-privilege set, and older or partial
    // implementations may lack the endpoint: pfRest answered above, so any refusal here just means `unknown`.
    let api = 'unknown';
    try {
      const pkg = await this.call(
        { code: 'PFS400', what: 'read the pfRest version' },
        'GET',
        '/api/v2/system/restapi/version',
      );
      if (isRecord(pkg) && typeof pkg.current_version === 'string') api = pkg.current_version;
    } catch (err) {
      if (!(err instanceof PfSenseError) || !['PFS002', 'PFS005', 'PFS400'].includes(err.code)) throw err;
    }
    return { product: data.version, api, raw: data };
  }

  private parseAlias(raw: unknown, op: Operation, path: string): PfSenseAlias {
    if (
      !isRecord(raw) ||
      typeof raw.id !== 'number' ||
      typeof raw.name !== 'string' ||
      typeof raw.type !== 'string'
    ) {
      throw this.shapeError(op, path, 'an alias without numeric `id`, `name` and `type`');
    }
    const address = raw.address ?? [];
    const detail = raw.detail ?? [];
    if (!isStringList(address) || !isStringList(detail))
      throw this.shapeError(op, path, `alias \`${raw.name}\` has non-list address/detail`);
    return {
      id: raw.id,
      name: raw.name,
      type: raw.type,
      descr: typeof raw.descr === 'string' ? raw.descr : '',
      // pfRest stores details exactly as sent, possibly fewer than addresses (§8).
      entries: address.map((a, i) => ({ address: a, detail: detail[i] ?? '' })),
    };
  }

  async listAliases(): Promise<PfSenseAlias[]> {
    const op: Operation = { code: 'PFS100', what: 'list aliases' };
    const path = '/api/v2/firewall/aliases';
    const data = await this.call(op, 'GET', path);
    if (!Array.isArray(data)) throw this.shapeError(op, path, 'data is not a list');
    return data.map((raw) => this.parseAlias(raw, op, path));
  }

  /** Resolves the alias by name with a plural query (ids are positions that shift, §6). */
  private async findAlias(name: string): Promise<PfSenseAlias | null> {
    const op: Operation = { code: 'PFS100', what: `read alias \`${name}\`` };
    const path = '/api/v2/firewall/aliases';
    const data = await this.call(op, 'GET', path, { query: new URLSearchParams({ name }) });
    if (!Array.isArray(data)) throw this.shapeError(op, path, 'data is not a list');
    // The query value is type-inferred and compared loosely (`name=true` matches every alias): filter exactly.
    const matches = data.map((raw) => this.parseAlias(raw, op, path)).filter((a) => a.name === name);
    return matches[0] ?? null;
  }

  async getAlias(name: string): Promise<DeviceAlias | null> {
    const found = await this.findAlias(name);
    if (found === null) return null;
    const { id: _position, ...alias } = found;
    return alias;
  }

  async createAlias(name: string, type: 'host' | 'network', description: string): Promise<void> {
    const op: Operation = { code: 'PFS101', what: `create alias \`${name}\`` };
    if (!this.allowCreateAlias) {
      throw new PfSenseError(
        'PFS101',
        `Creating alias \`${name}\` is not allowed for this gateway (allowCreateAlias is off).`,
      );
    }
    const path = '/api/v2/firewall/alias';
    const data = await this.call(op, 'POST', path, {
      body: { name, type, descr: description, address: [], detail: [] },
    });
    const created = this.parseAlias(data, op, path);
    if (created.name !== name) throw this.shapeError(op, path, `the gateway created \`${created.name}\``);
  }

  async setAliasEntries(name: string, entries: AliasEntry[]): Promise<void> {
    const op: Operation = { code: 'PFS102', what: `update alias \`${name}\`` };
    for (const e of entries) {
      // pfSense stores addresses space-joined and details `||`-joined: either separator would split an entry.
      if (e.address === '' || /\s/.test(e.address)) {
        throw new PfSenseError(
          'PFS102',
          `Alias \`${name}\` entry \`${e.address}\` is empty or contains whitespace.`,
        );
      }
      if (e.detail.includes('||'))
        throw new PfSenseError('PFS102', `Alias \`${name}\` detail \`${e.detail}\` contains \`||\`.`);
    }
    const address = entries.map((e) => e.address);
    const detail = entries.map((e) => e.detail);
    const path = '/api/v2/firewall/alias';
    // Two attempts: if the id shifted between lookup and write, pfRest rejects the name change and nothing is written.
    for (let attempt = 0; ; attempt++) {
      const current = await this.findAlias(name);
      if (current === null)
        throw new PfSenseError('PFS103', `Alias \`${name}\` does not exist on ${this.http.origin}.`);
      try {
        const data = await this.call(op, 'PATCH', path, { body: { id: current.id, name, address, detail } });
        const written = this.parseAlias(data, op, path);
        if (
          written.name !== name ||
          JSON.stringify(written.entries.map((e) => e.address)) !== JSON.stringify(address)
        ) {
          throw this.shapeError(op, path, 'the alias read back differs from what was written');
        }
        return;
      } catch (err) {
        const shifted =
          err instanceof PfSenseError &&
          (err.responseId === 'FIELD_VALUE_CHANGED_WHEN_NOT_EDITABLE' ||
            err.responseId === 'MODEL_OBJECT_NOT_FOUND');
        if (!shifted || attempt > 0) throw err;
      }
    }
  }

  private parseApply(data: unknown, op: Operation, path: string): ApplyResult {
    if (!isRecord(data) || typeof data.applied !== 'boolean' || !isStringList(data.pending_subsystems)) {
      throw this.shapeError(op, path, 'no `applied` boolean and `pending_subsystems` list');
    }
    return { applied: data.applied, pending: data.pending_subsystems };
  }

  async pendingStatus(): Promise<ApplyResult> {
    const op: Operation = { code: 'PFS200', what: 'read the pending changes' };
    const path = '/api/v2/firewall/apply';
    return this.parseApply(await this.call(op, 'GET', path), op, path);
  }

  async apply(): Promise<ApplyResult> {
    const op: Operation = { code: 'PFS200', what: 'apply pending changes' };
    const path = '/api/v2/firewall/apply';
    const { mode, deadlineMs, pollIntervalMs } = this.applyOptions;
    const started = Date.now();
    let status = this.parseApply(
      await this.call(op, 'POST', path, { body: mode === 'sync' ? { async: false } : {} }),
      op,
      path,
    );
    let delay = pollIntervalMs;
    while (!status.applied && mode === 'async') {
      const remaining = deadlineMs - (Date.now() - started);
      if (remaining <= 0) break;
      // The last poll lands on the deadline itself.
      await sleep(Math.min(delay, remaining));
      delay = Math.min(delay * 2, MAX_POLL_DELAY_MS);
      status = await this.pendingStatus();
    }
    if (!status.applied) {
      throw new PfSenseError(
        'PFS200',
        `Changes on ${this.http.origin} are still pending (${status.pending.join(', ') || 'no subsystem listed'}) ${Date.now() - started} ms after the ${mode} apply.`,
      );
    }
    return status;
  }

  async killStates(ip: string): Promise<number> {
    // Strict forms only: ipaddr.isValid would also take `127.1` or `0x7f.1`.
    if (!ipaddr.IPv4.isValidFourPartDecimal(ip) && !ipaddr.IPv6.isValid(ip)) {
      throw new TypeError(`killStates needs an IP address, got ${JSON.stringify(ip)}`);
    }
    const canonical = ipaddr.parse(ip).toString();
    const escaped = canonical.replace(/[.]/g, '\\.');
    // A state endpoint reads `1.2.3.4:80`, `[2001:db8::1]:443` or `2001:db8::1[443]`: match the address only.
    const pattern = canonical.includes(':')
      ? `/^(${escaped}|\\[${escaped}\\](:\\d+)?|${escaped}\\[\\d+\\])$/`
      : `/^${escaped}(:\\d+)?$/`;
    const op: Operation = { code: 'PFS400', what: `kill the states of ${canonical}` };
    const path = '/api/v2/firewall/states';
    let killed = 0;
    for (const field of ['source', 'destination']) {
      const query = new URLSearchParams({ [`${field}__regex`]: pattern, limit: '0' });
      const data = await this.call(op, 'DELETE', path, { query });
      if (!Array.isArray(data)) throw this.shapeError(op, path, 'data is not a list');
      killed += data.length;
    }
    return killed;
  }

  async listRules(): Promise<PfSenseRule[]> {
    const op: Operation = { code: 'PFS400', what: 'list firewall rules' };
    const path = '/api/v2/firewall/rules';
    const data = await this.call(op, 'GET', path);
    if (!Array.isArray(data)) throw this.shapeError(op, path, 'data is not a list');
    return data.map((r): PfSenseRule => {
      if (
        !isRecord(r) ||
        typeof r.id !== 'number' ||
        typeof r.type !== 'string' ||
        !isStringList(r.interface)
      ) {
        throw this.shapeError(op, path, 'a rule without numeric `id`, `type` and an `interface` list');
      }
      const str = (v: unknown) => (typeof v === 'string' ? v : null);
      return {
        id: r.id,
        tracker: typeof r.tracker === 'number' ? r.tracker : Number(r.tracker),
        type: r.type as PfSenseRule['type'],
        interface: r.interface,
        ipprotocol: str(r.ipprotocol) ?? 'inet',
        protocol: str(r.protocol),
        source: str(r.source) ?? 'any',
        sourcePort: str(r.source_port),
        destination: str(r.destination) ?? 'any',
        destinationPort: str(r.destination_port),
        descr: str(r.descr) ?? '',
        disabled: r.disabled === true,
        log: r.log === true,
        floating: r.floating === true,
        quick: typeof r.quick === 'boolean' ? r.quick : null,
        direction: str(r.direction),
      };
    });
  }

  async listInterfaces(): Promise<PfSenseInterface[]> {
    const op: Operation = { code: 'PFS400', what: 'list interfaces' };
    const path = '/api/v2/interfaces';
    const data = await this.call(op, 'GET', path);
    if (!Array.isArray(data)) throw this.shapeError(op, path, 'data is not a list');
    return data.map((i): PfSenseInterface => {
      if (!isRecord(i) || typeof i.id !== 'string' || typeof i.if !== 'string') {
        throw this.shapeError(op, path, 'an interface without string `id` and `if`');
      }
      return {
        id: i.id,
        if: i.if,
        descr: typeof i.descr === 'string' ? i.descr : i.id.toUpperCase(),
        enable: i.enable === true,
        ipaddr: typeof i.ipaddr === 'string' ? i.ipaddr : null,
        subnet:
          typeof i.subnet === 'number'
            ? i.subnet
            : typeof i.subnet === 'string' && i.subnet !== ''
              ? Number(i.subnet)
              : null,
      };
    });
  }
}
