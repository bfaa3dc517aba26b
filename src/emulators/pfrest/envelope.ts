/**
 * @module The pfRest response envelope and error type (docs/reference/pfrest-contract.md §2): one shape for every success and
 * error, HTTP 200 for all successes, quotes in messages turned into backticks, PHP `json_encode` escaping.
 */

/** Lower-case reason phrases pfRest puts in `status` (`HTTP_STATUS_MESSAGES`). */
const STATUS_TEXT: Readonly<Record<number, string>> = {
  200: 'ok',
  400: 'bad request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not found',
  405: 'method not allowed',
  406: 'not acceptable',
  409: 'conflict',
  415: 'unsupported media type',
  422: 'unprocessable entity',
  424: 'failed dependency',
  500: 'internal server error',
  503: 'service unavailable',
};

/** A pfRest error response: thrown anywhere in the pipeline, rendered as the envelope. */
export class PfRestError extends Error {
  readonly code: number;
  readonly responseId: string;
  readonly data: unknown;
  readonly headers: Record<string, string>;

  constructor(
    code: number,
    responseId: string,
    message: string,
    opts: { data?: unknown; headers?: Record<string, string> } = {},
  ) {
    super(message);
    this.code = code;
    this.responseId = responseId;
    this.data = opts.data ?? [];
    // ServiceUnavailableError sets Retry-After (default 5 s) — §2.1.
    this.headers = code === 503 ? { 'retry-after': '5', ...opts.headers } : (opts.headers ?? {});
  }
}

export interface Envelope {
  code: number;
  status: string;
  response_id: string;
  message: string;
  data: unknown;
}

export function successEnvelope(data: unknown): Envelope {
  return { code: 200, status: 'ok', response_id: 'SUCCESS', message: '', data };
}

export function errorEnvelope(err: PfRestError): Envelope {
  return {
    code: err.code,
    status: STATUS_TEXT[err.code] ?? 'unknown',
    response_id: err.responseId.toUpperCase(),
    // Response.inc replaces every " and ' with a backtick.
    message: err.message.replace(/["']/g, '`'),
    data: err.data,
  };
}

/** PHP `json_encode` defaults: `/` escaped as `\/`, non-ASCII as `\uXXXX`; followed by a newline. */
export function phpJsonEncode(value: unknown): string {
  const json = JSON.stringify(value)
    .replace(/\//g, '\\/')
    .replace(/[\u007f-\uffff]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return `${json}\n`;
}
