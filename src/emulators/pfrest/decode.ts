/**
 * @module Request decoding and response negotiation as pfRest's ContentHandlers do it (docs/reference/pfrest-contract.md §1):
 * handler chosen by Content-Type (default by method), the query string winning over the body for urlencoded
 * requests, PHP-style type inference, and the exact-match `Accept` rule that answers 406 to a list.
 */
import { PfRestError } from './envelope.ts';

export type RequestData = Record<string, unknown>;

/** `URLContentHandler::infer_type`: "true"/"false"/"null", all-digit → int, numeric with "." → float. */
function inferType(value: string): unknown {
  if (value === 'true') return true;
  if (value === 'false') return false;
  if (value === 'null') return null;
  if (/^[0-9]+$/.test(value)) return Number.parseInt(value, 10);
  if (value.includes('.') && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value);
  return value;
}

/** Parses `a=1&b[]=x&b[]=y&c[k]=v` into typed values (arrays for `[]`, objects for `[key]`). */
function parseUrlEncoded(text: string): RequestData {
  const out: RequestData = {};
  for (const [rawKey, rawValue] of new URLSearchParams(text)) {
    const value = inferType(rawValue);
    const match = /^([^[\]]+)((?:\[[^\]]*\])*)$/.exec(rawKey);
    if (!match?.[2]) {
      out[rawKey] = value;
      continue;
    }
    const base = match[1] as string;
    const keys = [...match[2].matchAll(/\[([^\]]*)\]/g)].map((m) => m[1] as string);
    let container: Record<string, unknown> | unknown[] = out;
    let key: string = base;
    for (const next of keys) {
      const current = (container as Record<string, unknown>)[key];
      const child = current !== null && typeof current === 'object' ? current : next === '' ? [] : {};
      (container as Record<string, unknown>)[key] = child;
      container = child as Record<string, unknown> | unknown[];
      key = next;
    }
    if (Array.isArray(container) && key === '') container.push(value);
    else (container as Record<string, unknown>)[key] = value;
  }
  return out;
}

/** Strips parameters after `;` and lower-cases, as the handlers do with both Content-Type and Accept. */
function mimeOf(header: string | undefined): string {
  return (header ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

/** Decodes the request data (§1 Decoding). Throws 415/400 as pfRest does. */
export function decodeRequest(
  method: string,
  contentType: string | undefined,
  query: string,
  body: string,
): unknown {
  let mime = mimeOf(contentType);
  if (mime === '')
    mime = method === 'GET' || method === 'DELETE' ? 'application/x-www-form-urlencoded' : 'application/json';
  if (mime === 'application/json') {
    if (body.trim() === '') return {};
    try {
      return JSON.parse(body) as unknown;
    } catch {
      throw new PfRestError(
        400,
        'JSON_CONTENT_HANDLER_COULD_NOT_DECODE_JSON',
        'Failed to decode JSON request body.',
      );
    }
  }
  if (mime === 'application/x-www-form-urlencoded') return parseUrlEncoded(query !== '' ? query : body);
  throw new PfRestError(
    415,
    'CONTENT_HANDLER_DECODE_NOT_FOUND',
    `No content handler exists for content type '${mime}'.`,
  );
}

/** Checks the `Accept` header (§1 Encoding): empty or exactly `* / *` → JSON; anything but an exact match → 406. */
export function checkAccept(accept: string | undefined): void {
  const mime = mimeOf(accept);
  if (mime === '' || mime === '*/*' || mime === 'application/json') return;
  if (mime === 'application/octet-stream') {
    throw new PfRestError(
      406,
      'ENDPOINT_ACCEPT_NOT_SUPPORTED',
      `Endpoint does not support the requested content type '${mime}'.`,
    );
  }
  throw new PfRestError(
    406,
    'CONTENT_HANDLER_ENCODE_NOT_FOUND',
    `No content handler exists for content type '${mime}'.`,
  );
}
