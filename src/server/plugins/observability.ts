/**
 * @module Request ids, log redaction and Prometheus metrics.
 *
 * A request id comes from a sane incoming `X-Request-Id` (so a proxy's id carries through) or is generated;
 * Fastify puts it on every log line of the request (`reqId`) and we echo it in the `X-Request-Id` header.
 * Each app owns its own prom-client registry, so several apps in one process (tests) never collide.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { collectDefaultMetrics, Histogram, Registry } from 'prom-client';

const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export function genRequestId(req: IncomingMessage): string {
  const incoming = req.headers['x-request-id'];
  return typeof incoming === 'string' && SANE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
}

/** Query parameters that carry a credential (the EDL feed key may be sent as `?key=`). */
const SECRET_QUERY_NAMES = new Set([
  'key',
  'api_key',
  'token',
  // Single sign-on (docs/sso.md): the authorization code and SAML messages a provider sends back through the URL.
  'code',
  'samlrequest',
  'samlresponse',
  'signature',
  'id_token',
  'access_token',
  'logout_token',
]);

/** A query name as the query-string parser reads it: `+` is a space, `%XX` decoded (malformed left as is). */
function decodedName(raw: string): string {
  const spaced = raw.replace(/\+/g, ' ');
  try {
    return decodeURIComponent(spaced).trim().toLowerCase();
  } catch {
    return spaced.trim().toLowerCase();
  }
}

/**
 * The URL with the value of every secret-bearing query parameter replaced by `[redacted]`. Names are compared
 * after decoding, as the parser that hands the value to the route decodes them: `?%6bey=` is `?key=`.
 */
export function redactUrl(url: string): string {
  const question = url.indexOf('?');
  if (question < 0) return url;
  const hash = url.indexOf('#', question);
  const end = hash < 0 ? url.length : hash;
  const query = url
    .slice(question + 1, end)
    .split('&')
    .map((part) => {
      const eq = part.indexOf('=');
      if (eq < 0 || !SECRET_QUERY_NAMES.has(decodedName(part.slice(0, eq)))) return part;
      return `${part.slice(0, eq)}=[redacted]`;
    })
    .join('&');
  return `${url.slice(0, question + 1)}${query}${url.slice(end)}`;
}

/** Fastify's request log fields, with secret-bearing query values replaced by `[redacted]`. */
export function serializeRequest(req: {
  method: string;
  url: string;
  host?: string;
  ip?: string;
  socket?: { remotePort?: number };
}): Record<string, unknown> {
  return {
    method: req.method,
    url: redactUrl(req.url),
    host: req.host,
    remoteAddress: req.ip,
    remotePort: req.socket?.remotePort,
  };
}

/** A PostgreSQL error code (SQLSTATE): five digits or capitals. */
const SQLSTATE = /^[0-9A-Z]{5}$/;

/** How deep `serializeError` follows `cause` (a driver error wrapped by the ORM wrapped by a service). */
const MAX_CAUSES = 5;

/** The stack's frames only: its first line repeats the message, which may carry what we scrub below. */
function framesOf(stack: unknown): string | undefined {
  if (typeof stack !== 'string') return undefined;
  const frames = stack.split('\n').filter((line) => line.startsWith('    at '));
  return frames.length > 0 ? frames.join('\n') : undefined;
}

/**
 * The `err` of a log line: type, message, SQLSTATE/errno code and stack frames, for the error and its causes.
 * Never a failed query's parameters (Drizzle puts them in the message and on `params`; they can be a password
 * hash or a key), nor a database error's `detail` or the values its message quotes.
 */
export function serializeError(err: unknown, depth = 0): Record<string, unknown> {
  if (!(err instanceof Error)) return { type: typeof err, message: 'non-error value thrown' };
  const code = (err as { code?: unknown }).code;
  const fromDatabase = typeof code === 'string' && SQLSTATE.test(code);
  const text = err.message.split('\nparams:')[0] ?? '';
  // A database message quotes the offending value (`invalid input syntax for type integer: "…"`).
  const message = fromDatabase ? text.replace(/"[^"]*"/g, '"…"') : text;
  const out: Record<string, unknown> = { type: err.name, message };
  if (typeof code === 'string' || typeof code === 'number') out.code = code;
  const stack = framesOf(err.stack);
  if (stack) out.stack = stack;
  if (err.cause !== undefined && depth < MAX_CAUSES) out.cause = serializeError(err.cause, depth + 1);
  return out;
}

/** Paths pino replaces with "[redacted]": credentials in headers and secret-looking body fields. */
export const LOG_REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-csrf-token"]',
  'res.headers["set-cookie"]',
  '*.password',
  '*.new_password',
  '*.token',
  '*.secret',
  '*.csrf_token',
  '*.totp_code',
];

export function registerObservability(app: FastifyInstance): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const duration = new Histogram({
    name: 'portcullis_http_request_duration_seconds',
    help: 'HTTP request duration by route and status',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });

  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  app.addHook('onResponse', async (request, reply) => {
    // The route pattern, not the raw URL, keeps label cardinality bounded; unknown routes share one label.
    const route = request.routeOptions.url ?? 'unmatched';
    duration.observe(
      { method: request.method, route, status_code: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });
  return registry;
}
