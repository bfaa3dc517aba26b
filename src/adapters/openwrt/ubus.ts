/**
 * @module The ubus JSON-RPC client of the OpenWrt adapter: `POST /ubus` with `{"jsonrpc":"2.0","method":"call",
 * "params":[sid, object, method, args]}` over the shared HTTP core (TLS trust, SSRF-guarded lookup, breaker,
 * retries for reads). Facts: docs/reference/openwrt-api.md §1, §2, §7.
 *
 * - Session: `session.login` with the null SID (32 zeros), the SID is kept and reused; a -32002 "Access denied"
 *   (what uhttpd answers for an expired or unknown SID as well as for an ACL miss) makes ONE fresh login and one
 *   retry; -32002 after a fresh login is an ACL miss (OWRT002 naming `ubus <object>.<method>`).
 * - Every HTTP 200 is inspected: a JSON-RPC `error` or a ubus status in `result:[code]` is an `OpenWrtError`.
 * - No body over 64 KiB is ever sent (uhttpd's `UH_UBUS_MAX_POST_SIZE`): callers split; `assertFits` refuses.
 */
import { GatewayHttpClient, redact, type TlsTrust, TransportError } from '../http.ts';
import type { LookupFunction } from 'node:net';
import type { HttpTimeouts, RetryOptions, BreakerOptions } from '../http.ts';
import { OpenWrtError, type OwrtCode } from './errors.ts';

/** uhttpd refuses a POST body above this many bytes (-32700), `UH_UBUS_MAX_POST_SIZE` (§2). */
export const UHTTPD_MAX_POST = 65_536;
/**
 * The adapter's own ceiling for one body: 60 KiB, leaving 4 KiB of the 64 KiB for the JSON-RPC envelope, the SID
 * and escaping we do not count exactly when a caller packs items (docs/openwrt.md "Request size").
 */
export const BODY_BUDGET = 61_440;

const NULL_SID = '00000000000000000000000000000000';

/** ubus status names (openwrt/ubus ubusmsg.h, §2). */
export const UBUS_STATUS = [
  'OK',
  'INVALID_COMMAND',
  'INVALID_ARGUMENT',
  'METHOD_NOT_FOUND',
  'NOT_FOUND',
  'NO_DATA',
  'PERMISSION_DENIED',
  'TIMEOUT',
  'NOT_SUPPORTED',
  'UNKNOWN_ERROR',
  'CONNECTION_FAILED',
  'NO_MEMORY',
  'PARSE_ERROR',
  'SYSTEM_ERROR',
] as const;

export const statusName = (n: number): string => UBUS_STATUS[n] ?? `status ${n}`;

/** What a call is, for its errors. */
export interface UbusOp {
  /** The code of a failure that is not transport, session or permission. */
  code: OwrtCode;
  /** A short description ("read the ipset sections"). */
  what: string;
  /** What to grant when the router answers PERMISSION_DENIED (default `ubus <object>.<method>`). */
  grant?: string;
  /** ubus statuses that mean "nothing there" for this call: the call returns null instead of failing. */
  allow?: readonly number[];
  /** A read: may be retried on connection failures. */
  read?: boolean;
}

export type UbusData = Record<string, unknown>;

export interface UbusClientOptions {
  url: string;
  username: string;
  password: string;
  tls: TlsTrust;
  lookup?: LookupFunction;
  gatewayKey?: string;
  timeouts?: Partial<HttpTimeouts>;
  retry?: Partial<RetryOptions>;
  breaker?: Partial<BreakerOptions>;
  /** Session timeout asked at login (seconds); rpcd's default is 300. */
  sessionTimeoutS?: number;
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

class SessionRejected extends Error {
  constructor(readonly rpcCode: number) {
    super(`rpc ${rpcCode}`);
  }
}

export class UbusClient {
  readonly http: GatewayHttpClient;
  private readonly username: string;
  private readonly password: string;
  private readonly sessionTimeoutS: number | undefined;
  private sid: string | null = null;
  private loginInFlight: Promise<string> | null = null;
  private nextId = 1;
  /** Bumped on every login: staged UCI changes belong to one session (§4) and die with it. */
  generation = 0;
  /** Requests sent (benchmarks). */
  requests = 0;

  constructor(opts: UbusClientOptions) {
    if (opts.username.trim() === '') throw new TypeError('username must not be empty');
    this.username = opts.username;
    this.password = opts.password;
    this.sessionTimeoutS = opts.sessionTimeoutS;
    this.http = new GatewayHttpClient({
      baseUrl: opts.url,
      tls: opts.tls,
      ...(opts.timeouts ? { timeouts: opts.timeouts } : {}),
      ...(opts.retry ? { retry: opts.retry } : {}),
      ...(opts.breaker ? { breaker: opts.breaker } : {}),
      ...(opts.gatewayKey ? { gatewayKey: opts.gatewayKey } : {}),
      ...(opts.lookup ? { lookup: opts.lookup } : {}),
    });
  }

  close(): Promise<void> {
    return this.http.close();
  }

  private safe(text: string): string {
    return redact(text, [this.password, ...(this.sid ? [this.sid] : [])]);
  }

  /** The serialized body of one call, and whether it fits the budget. */
  static body(sid: string, object: string, method: string, args: UbusData, id = 1): string {
    return JSON.stringify({ jsonrpc: '2.0', id, method: 'call', params: [sid, object, method, args] });
  }

  /** Bytes a call's body takes (with a full-length SID), for callers that pack items under `BODY_BUDGET`. */
  static size(object: string, method: string, args: UbusData): number {
    return Buffer.byteLength(UbusClient.body(NULL_SID, object, method, args, 999_999));
  }

  private async post(body: string, read: boolean, what: string): Promise<unknown> {
    if (Buffer.byteLength(body) > UHTTPD_MAX_POST) {
      throw new OpenWrtError(
        'OWRT007',
        `The request to ${what} takes ${Buffer.byteLength(body)} bytes; uhttpd takes at most ${UHTTPD_MAX_POST}.`,
      );
    }
    this.requests++;
    let res;
    try {
      res = await this.http.send({
        method: 'POST',
        path: '/ubus',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body,
        idempotent: read,
      });
    } catch (err) {
      if (err instanceof TransportError) {
        const detail = this.safe(err.detail);
        const code: OwrtCode = err.kind === 'tls' ? 'OWRT003' : err.kind === 'timeout' ? 'OWRT004' : 'OWRT000';
        throw new OpenWrtError(code, `${what}: ${detail}.`, { cause: err });
      }
      throw err;
    }
    if (res.status === 404) {
      throw new OpenWrtError('OWRT005', `${this.http.origin}${this.http.basePath}/ubus answered 404 (no uhttpd-mod-ubus?).`, {
        httpStatus: 404,
      });
    }
    if (res.status !== 200) {
      throw new OpenWrtError(res.status >= 500 ? 'OWRT000' : 'OWRT400', `${what}: HTTP ${res.status}.`, {
        httpStatus: res.status,
        retryable: res.status >= 500,
      });
    }
    try {
      return JSON.parse(res.text) as unknown;
    } catch {
      throw new OpenWrtError('OWRT400', `${what}: the answer is not JSON (${this.safe(res.text.slice(0, 80))}).`, {
        httpStatus: 200,
      });
    }
  }

  /** Logs in with the null SID; bad credentials are ubus status 6 (§1). One login at a time. */
  private login(): Promise<string> {
    if (this.loginInFlight) return this.loginInFlight;
    this.loginInFlight = (async () => {
      try {
        const args: UbusData = { username: this.username, password: this.password };
        if (this.sessionTimeoutS !== undefined) args.timeout = this.sessionTimeoutS;
        const reply = await this.post(UbusClient.body(NULL_SID, 'session', 'login', args, this.nextId++), false, 'log in');
        const data = this.unwrap(reply, 'session', 'login', { code: 'OWRT001', what: 'log in' }, true);
        const sid = isRecord(data) ? data.ubus_rpc_session : undefined;
        if (typeof sid !== 'string' || !/^[0-9a-f]{32}$/.test(sid)) {
          throw new OpenWrtError('OWRT400', 'session.login answered without a 32-hex ubus_rpc_session.');
        }
        this.sid = sid;
        this.generation++;
        return sid;
      } finally {
        this.loginInFlight = null;
      }
    })();
    return this.loginInFlight;
  }

  /** Drops the session (tests; a logout is not needed: rpcd expires it). */
  forget(): void {
    this.sid = null;
  }

  /**
   * Calls `object.method` with `args`: the reply's data (`{}` when the router sends a bare `[0]`), or null when
   * its status is one of `op.allow`.
   */
  async call(object: string, method: string, args: UbusData, op: UbusOp): Promise<UbusData | null> {
    let fresh = false;
    let sid = this.sid;
    if (sid === null) {
      sid = await this.login();
      fresh = true;
    }
    for (;;) {
      const reply = await this.post(UbusClient.body(sid, object, method, args, this.nextId++), op.read === true, op.what);
      try {
        return this.unwrap(reply, object, method, op, false);
      } catch (err) {
        if (!(err instanceof SessionRejected)) throw err;
        if (fresh) {
          throw new OpenWrtError(
            'OWRT002',
            `${op.what}: uhttpd denied ubus ${object}.${method} to a fresh session (JSON-RPC ${err.rpcCode}); grant ubus "${object}": ["${method}"].`,
            { rpcCode: err.rpcCode, grant: `ubus ${object}.${method}` },
          );
        }
        // Expired or unknown session (§1: 300 s idle): log in once more and retry this call once.
        if (this.sid === sid) this.sid = null;
        sid = this.sid ?? (await this.login());
        fresh = true;
      }
    }
  }

  private unwrap(reply: unknown, object: string, method: string, op: UbusOp, login: boolean): UbusData | null {
    if (!isRecord(reply)) throw new OpenWrtError('OWRT400', `${op.what}: the answer is not a JSON-RPC object.`);
    if (isRecord(reply.error)) {
      const code = typeof reply.error.code === 'number' ? reply.error.code : NaN;
      const message = typeof reply.error.message === 'string' ? reply.error.message : '';
      const said = `${op.what}: JSON-RPC ${code} ${this.safe(message)}`.trim();
      if ((code === -32002 || code === -32001) && !login) throw new SessionRejected(code);
      if (code === -32002 || code === -32001) {
        throw new OpenWrtError('OWRT002', `${said}; session.login must be allowed to the null session.`, {
          rpcCode: code,
          grant: 'ubus session.login',
        });
      }
      if (code === -32000) {
        throw new OpenWrtError('OWRT005', `${said}: the router has no ubus object ${object}.`, { rpcCode: code });
      }
      if (code === -32003) throw new OpenWrtError('OWRT004', `${said} (ubus ${object}.${method}).`, { rpcCode: code });
      if (code === -32700) {
        throw new OpenWrtError('OWRT400', `${said}: uhttpd could not parse the request (or it was over 64 KiB).`, {
          rpcCode: code,
        });
      }
      if (code === -32603) throw new OpenWrtError(op.code, `${said}.`, { rpcCode: code });
      throw new OpenWrtError('OWRT400', `${said}.`, { rpcCode: code });
    }
    const result = reply.result;
    if (!Array.isArray(result) || typeof result[0] !== 'number') {
      throw new OpenWrtError('OWRT400', `${op.what}: the answer has no result [status, data].`);
    }
    const status = result[0];
    if (status === 0) {
      const data: unknown = result[1];
      if (data === undefined) return {};
      if (!isRecord(data)) throw new OpenWrtError('OWRT400', `${op.what}: ubus ${object}.${method} answered a non-object.`);
      return data;
    }
    if (op.allow?.includes(status)) return null;
    const said = `${op.what}: ubus ${object}.${method} answered ${status} (${statusName(status)})`;
    if (status === 6) {
      if (login) throw new OpenWrtError('OWRT001', `${said}: the username or password is wrong.`, { ubusStatus: 6 });
      const grant = op.grant ?? `ubus ${object}.${method}`;
      throw new OpenWrtError('OWRT002', `${said}; grant ${grant}.`, { ubusStatus: 6, grant });
    }
    if (status === 7) throw new OpenWrtError('OWRT004', `${said}.`, { ubusStatus: 7 });
    if (status === 3) {
      throw new OpenWrtError('OWRT005', `${said}: the router has no method ${method} on ${object}.`, { ubusStatus: 3 });
    }
    throw new OpenWrtError(op.code, `${said}.`, { ubusStatus: status });
  }
}
