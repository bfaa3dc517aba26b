/**
 * @module The HTTP core every vendor adapter shares: one undici Agent per gateway with the chosen TLS trust
 * (system CAs, a PEM bundle, a pinned SHA-256 fingerprint, or insecure), connect/headers/body timeouts, retry
 * with backoff for idempotent reads only, and a per-gateway circuit breaker (docs/adr/0022-gateway-http-core.md).
 *
 * Failures below HTTP come out as `TransportError` with a `kind` the vendor adapter maps to its own codes.
 * Nothing here ever puts a header value (credentials) into an error or a log line.
 */
import type { LookupFunction } from 'node:net';
import type { TLSSocket } from 'node:tls';
import {
  BrokenCircuitError,
  type CircuitBreakerPolicy,
  ConsecutiveBreaker,
  circuitBreaker,
  ExponentialBackoff,
  handleWhen,
  type IPolicy,
  retry,
  wrap,
} from 'cockatiel';
import { Agent, buildConnector } from 'undici';

export type TlsTrust =
  | { mode: 'system' }
  | { mode: 'ca'; caPem: string }
  | { mode: 'fingerprint'; sha256: string }
  | { mode: 'insecure' };

export interface HttpTimeouts {
  /** TCP + TLS handshake. */
  connectMs: number;
  /** From request sent to response headers received. */
  headersMs: number;
  /** Maximum idle time between body chunks. */
  bodyMs: number;
}

const DEFAULT_TIMEOUTS: HttpTimeouts = { connectMs: 5_000, headersMs: 30_000, bodyMs: 30_000 };

export interface RetryOptions {
  /** Retries after the first attempt (reads only). */
  maxRetries: number;
  initialDelayMs: number;
  maxDelayMs: number;
}

const DEFAULT_RETRY: RetryOptions = { maxRetries: 2, initialDelayMs: 200, maxDelayMs: 2_000 };

export interface BreakerOptions {
  /** Consecutive failures (connection, timeout, 5xx) that open the breaker. */
  threshold: number;
  /** How long it stays open before one trial request is let through. */
  halfOpenAfterMs: number;
}

const DEFAULT_BREAKER: BreakerOptions = { threshold: 5, halfOpenAfterMs: 30_000 };

/** Largest response body accepted (a firewall's full rule list is far below this). */
const MAX_BODY_BYTES = 16 * 1024 * 1024;

type TransportKind = 'connect' | 'tls' | 'timeout' | 'breaker-open';

/** A failure before an HTTP response was received. `detail` is safe to show (no credentials). */
export class TransportError extends Error {
  readonly kind: TransportKind;
  readonly detail: string;
  constructor(kind: TransportKind, detail: string, cause?: unknown) {
    super(`${kind}: ${detail}`, cause === undefined ? undefined : { cause });
    this.name = 'TransportError';
    this.kind = kind;
    this.detail = detail;
  }
}

/** Where a transport failure happened, for its message (the detail already redacted by the adapter). */
interface FailureContext {
  origin: string;
  /** The request's place (origin and path) as the adapter names it. */
  where: string;
  trustMode: TlsTrust['mode'];
  timeouts: HttpTimeouts;
  detail: string;
}

/**
 * The operator-facing message of a transport failure, worded the same for every HTTP vendor; the adapter picks
 * its own code from `failure` (cannot connect, TLS, timed out).
 */
export function describeTransportFailure(
  err: TransportError,
  at: FailureContext,
): { failure: 'connect' | 'tls' | 'timeout'; message: string } {
  switch (err.kind) {
    case 'breaker-open':
      return { failure: 'connect', message: `Not contacting ${at.origin}: ${at.detail}.` };
    case 'tls':
      return {
        failure: 'tls',
        message: `TLS handshake with ${at.origin} failed (${at.detail}; trust mode: ${at.trustMode}).`,
      };
    case 'timeout': {
      const t = at.timeouts;
      return {
        failure: 'timeout',
        message: `No complete answer from ${at.where} in time (${at.detail}; timeouts connect ${t.connectMs} ms, headers ${t.headersMs} ms, body ${t.bodyMs} ms).`,
      };
    }
    default:
      return { failure: 'connect', message: `Cannot reach ${at.origin} (${at.detail}).` };
  }
}

interface HttpRequest {
  method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  /** Path below the base URL, starting with `/`. */
  path: string;
  query?: URLSearchParams;
  headers: Record<string, string>;
  body?: string;
  /** Reads may be retried on connection errors and 5xx; writes never are. */
  idempotent: boolean;
}

export interface HttpResponse {
  status: number;
  contentType: string;
  text: string;
}

/**
 * Normalises `AA:BB:…`, `aabb…` or `sha256/AA BB…` to 64 lower-case hex digits; OpenSSH's `SHA256:<base64>` (an
 * SSH host key, as `ssh-keygen -lf` prints it) is turned into the same hex digest. Throws on anything else.
 */
export function normalizeFingerprint(input: string): string {
  const openssh = /^SHA256:([A-Za-z0-9+/]{43})=?$/.exec(input.trim());
  if (openssh?.[1] !== undefined) return Buffer.from(openssh[1], 'base64').toString('hex');
  const hex = input
    .trim()
    .replace(/^sha256[:/]?/i, '')
    .replace(/[:\s-]/g, '')
    .toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(hex)) {
    throw new Error(
      'The certificate fingerprint must be a SHA-256 digest: 64 hex digits, optionally in AA:BB:… form.',
    );
  }
  return hex;
}

/** Replaces every occurrence of each secret (length ≥ 4) by `[redacted]`. */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) if (secret.length >= 4) out = out.split(secret).join('[redacted]');
  return out;
}

const TIMEOUT_CODES = new Set([
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'ETIMEDOUT',
]);
const TLS_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_UNTRUSTED',
  'CERT_REVOKED',
  'CERT_SIGNATURE_FAILURE',
  'INVALID_CA',
  'HOSTNAME_MISMATCH',
  'EPROTO',
]);
export const FINGERPRINT_MISMATCH = 'ERR_TLS_CERT_FINGERPRINT_MISMATCH';

function errorCode(err: unknown): string {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' ? code : '';
}

/** Maps a Node/undici error to a TransportError kind; the detail names the error code and the plain reason. */
export function classifyTransportError(err: unknown): TransportError {
  if (err instanceof TransportError) return err;
  const code = errorCode(err) || errorCode((err as { cause?: unknown }).cause);
  const message = err instanceof Error ? err.message : String(err);
  const detail = code ? `${code}: ${message}` : message;
  if (TIMEOUT_CODES.has(code)) return new TransportError('timeout', detail, err);
  if (
    TLS_CODES.has(code) ||
    code.startsWith('ERR_TLS_') ||
    code.startsWith('ERR_SSL_') ||
    /certificate|ssl|tls/i.test(message)
  ) {
    return new TransportError('tls', detail, err);
  }
  return new TransportError('connect', detail, err);
}

type Connector = buildConnector.connector;

/** What an HTTP field value may hold (RFC 9110 §5.5: visible ASCII, space, tab, obs-text). */
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

function makeConnector(trust: TlsTrust, connectMs: number, lookup?: LookupFunction): Connector {
  const common = { timeout: connectMs, ...(lookup ? { lookup } : {}) };
  if (trust.mode === 'system') return buildConnector({ ...common });
  if (trust.mode === 'ca') return buildConnector({ ...common, ca: trust.caPem });
  if (trust.mode === 'insecure') return buildConnector({ ...common, rejectUnauthorized: false });
  const expected = normalizeFingerprint(trust.sha256);
  // Chain and name checks are replaced by the pin; sessions are not cached so every handshake shows the cert.
  const base = buildConnector({ ...common, rejectUnauthorized: false, maxCachedSessions: 0 });
  return (options, callback) => {
    base(options, (err, socket) => {
      if (err !== null || socket === null) {
        callback(err ?? new Error('connection failed'), null);
        return;
      }
      const cert = (socket as TLSSocket).getPeerCertificate?.();
      const actual = cert?.fingerprint256?.replace(/:/g, '').toLowerCase() ?? '';
      if (actual !== expected) {
        socket.destroy();
        const mismatch = Object.assign(
          new Error(
            `certificate fingerprint ${cert?.fingerprint256 ?? '(none)'} does not match the pinned fingerprint`,
          ),
          { code: FINGERPRINT_MISMATCH },
        );
        callback(mismatch, null);
        return;
      }
      callback(null, socket);
    });
  };
}

/** A breaker and when it last opened (for the "next attempt after" in the error). */
interface GatewayBreaker {
  policy: CircuitBreakerPolicy;
  openedAt: number;
}

/** Per-gateway breakers survive adapter re-creation when callers pass a stable gateway key. */
const sharedBreakers = new Map<string, GatewayBreaker>();

function isFailureResult(r: unknown): boolean {
  return (r as HttpResponse).status >= 500;
}

interface GatewayHttpOptions {
  baseUrl: string;
  tls: TlsTrust;
  timeouts?: Partial<HttpTimeouts>;
  retry?: Partial<RetryOptions>;
  breaker?: Partial<BreakerOptions>;
  /** A stable id of the gateway: adapters built for the same key share one circuit breaker. */
  gatewayKey?: string;
  /** Name resolution for connections, e.g. `guardedLookup` (src/net/ssrf.ts) to re-check resolved addresses. */
  lookup?: LookupFunction;
}

export class GatewayHttpClient {
  readonly origin: string;
  readonly basePath: string;
  readonly timeouts: HttpTimeouts;
  private readonly agent: Agent;
  private readonly breaker: GatewayBreaker;
  private readonly readPolicy: IPolicy;
  private readonly halfOpenAfterMs: number;

  constructor(opts: GatewayHttpOptions) {
    const url = new URL(opts.baseUrl);
    if (url.protocol !== 'https:' && url.protocol !== 'http:')
      throw new Error('The gateway URL must start with https:// (or http://).');
    this.origin = url.origin;
    this.basePath = url.pathname.replace(/\/+$/, '');
    this.timeouts = { ...DEFAULT_TIMEOUTS, ...opts.timeouts };
    this.agent = new Agent({
      connect: makeConnector(opts.tls, this.timeouts.connectMs, opts.lookup),
      headersTimeout: this.timeouts.headersMs,
      bodyTimeout: this.timeouts.bodyMs,
      connections: 4,
    });
    const breakerOpts = { ...DEFAULT_BREAKER, ...opts.breaker };
    this.halfOpenAfterMs = breakerOpts.halfOpenAfterMs;
    const makeBreaker = (): GatewayBreaker => {
      const policy = circuitBreaker(
        handleWhen(
          (e) => e instanceof TransportError && (e.kind === 'connect' || e.kind === 'timeout'),
        ).orWhenResult(isFailureResult),
        {
          halfOpenAfter: breakerOpts.halfOpenAfterMs,
          breaker: new ConsecutiveBreaker(breakerOpts.threshold),
        },
      );
      const made: GatewayBreaker = { policy, openedAt: 0 };
      policy.onBreak(() => {
        made.openedAt = Date.now();
      });
      return made;
    };
    let breaker = opts.gatewayKey === undefined ? undefined : sharedBreakers.get(opts.gatewayKey);
    if (breaker === undefined) {
      breaker = makeBreaker();
      if (opts.gatewayKey !== undefined) sharedBreakers.set(opts.gatewayKey, breaker);
    }
    this.breaker = breaker;
    const retryOpts = { ...DEFAULT_RETRY, ...opts.retry };
    const retryPolicy = retry(
      handleWhen((e) => e instanceof TransportError && e.kind === 'connect').orWhenResult(isFailureResult),
      {
        maxAttempts: retryOpts.maxRetries,
        backoff: new ExponentialBackoff({
          initialDelay: retryOpts.initialDelayMs,
          maxDelay: retryOpts.maxDelayMs,
        }),
      },
    );
    this.readPolicy = wrap(retryPolicy, this.breaker.policy);
  }

  /** Sends one request through the breaker (and, for idempotent reads, the retry policy). */
  async send(req: HttpRequest): Promise<HttpResponse> {
    // undici 7.30 refuses such a header but keeps the pool slot it took, so after `connections` refusals every
    // later request on the agent waits forever: refuse it before undici sees it, outside the breaker (nothing
    // reached the device), and never show the value.
    for (const [name, value] of Object.entries(req.headers)) {
      if (!HEADER_VALUE.test(value)) {
        throw new TransportError('connect', `the ${name} header holds characters an HTTP header cannot carry`);
      }
    }
    const policy = req.idempotent ? this.readPolicy : this.breaker.policy;
    try {
      return await policy.execute<HttpResponse>(() => this.once(req));
    } catch (err) {
      if (err instanceof BrokenCircuitError) {
        const retryAt = new Date((this.breaker.openedAt || Date.now()) + this.halfOpenAfterMs).toISOString();
        throw new TransportError(
          'breaker-open',
          `circuit breaker open after repeated failures; next attempt allowed after ${retryAt}`,
          err,
        );
      }
      throw err;
    }
  }

  private async once(req: HttpRequest): Promise<HttpResponse> {
    const query = req.query && [...req.query.keys()].length > 0 ? `?${req.query.toString()}` : '';
    try {
      const res = await this.agent.request({
        origin: this.origin,
        path: `${this.basePath}${req.path}${query}`,
        method: req.method,
        headers: req.headers,
        ...(req.body === undefined ? {} : { body: req.body }),
      });
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of res.body) {
        size += (chunk as Buffer).length;
        if (size > MAX_BODY_BYTES) {
          res.body.destroy();
          throw new TransportError('connect', `response body larger than ${MAX_BODY_BYTES} bytes`);
        }
        chunks.push(chunk as Buffer);
      }
      const contentType = String(res.headers['content-type'] ?? '');
      return { status: res.statusCode, contentType, text: Buffer.concat(chunks).toString('utf8') };
    } catch (err) {
      throw classifyTransportError(err);
    }
  }

  async close(): Promise<void> {
    await this.agent.close();
  }
}
