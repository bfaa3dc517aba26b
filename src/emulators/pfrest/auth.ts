/**
 * @module Emulated pfRest authentication and authorization (docs/reference/pfrest-contract.md §4): the first enabled method
 * whose credentials are present is the only one tried (KeyAuth, BasicAuth, JWTAuth); then the user needs
 * `page-all` or the privilege of the requested endpoint and method.
 */
import type { IncomingMessage } from 'node:http';
import { PfRestError } from './envelope.ts';
import { keyHash, type PfRestState, sha256Hex, verifyJwt } from './state.ts';
import type { RequestRecord } from './types.ts';

/**
 * The privilege pfRest generates for an endpoint and method: pfRest v2.10.0 (805c7f0c) `Core/Endpoint.inc:517-530`
 * `get_method_priv_name()` — every `/` of the endpoint URL becomes `-`, a `-` is appended, every `_` becomes `-`,
 * one leading `-` is dropped, then the lower-cased method. `get_default_privs()` (`:542-560`) grants each method
 * to `page-all` or that name (docs/reference/pfrest-emulator.md §3).
 */
export function endpointPrivilege(endpointUrl: string, method: string): string {
  const prefix = `${endpointUrl.replaceAll('/', '-')}-`.replaceAll('_', '-');
  return `${prefix.startsWith('-') ? prefix.slice(1) : prefix}${method.toLowerCase()}`;
}

/** Authentication then authorization (§4). Returns the user name. */
export function authorize(
  box: PfRestState,
  req: IncomingMessage,
  url: string,
  method: string,
  opts: { keyAuthOff: boolean; pinned: readonly string[] | undefined },
): string {
  const { keyAuthOff, pinned } = opts;
  const denied = (basic: boolean) =>
    new PfRestError(401, 'AUTH_AUTHENTICATION_FAILED', 'Authentication failed.', {
      headers: basic ? { 'www-authenticate': 'Basic realm="Login for pfSense REST API"' } : {},
    });
  const enabled = (pinned ?? box.settings.auth_methods).filter((m) => !(keyAuthOff && m === 'KeyAuth'));
  const authorization = req.headers.authorization ?? '';
  const requested = enabled.find((m) =>
    m === 'KeyAuth'
      ? req.headers['x-api-key'] !== undefined
      : m === 'BasicAuth'
        ? /^basic /i.test(authorization)
        : /^bearer /i.test(authorization),
  );
  let username: string | null = null;
  if (requested === 'KeyAuth') {
    const presented = String(req.headers['x-api-key']);
    username = box.keys.find((k) => k.hash === keyHash(presented, k.hash_algo))?.username ?? null;
  } else if (requested === 'JWTAuth') {
    username = verifyJwt(box.jwtSecret, authorization.replace(/^bearer\s+/i, '').trim());
  } else if (requested === 'BasicAuth') {
    const decoded = Buffer.from(authorization.slice(6).trim(), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    const user = box.users.find((u) => u.name === decoded.slice(0, colon));
    if (colon > 0 && user && user.passwordHash === sha256Hex(decoded.slice(colon + 1))) username = user.name;
    if (username === null) throw denied(true);
  }
  const user = box.users.find((u) => u.name === username);
  if (!user || user.disabled) throw denied(false);
  const privilege = endpointPrivilege(url, method);
  if (!user.privileges.includes('page-all') && !user.privileges.includes(privilege)) {
    throw new PfRestError(
      403,
      'AUTH_AUTHORIZATION_FAILED',
      'Authorization failed. You do not have sufficient privileges to access this resource.',
    );
  }
  return user.name;
}

/** Which credential kind a request presents, for the request log (never the credential). */
export function authKind(req: IncomingMessage): RequestRecord['auth'] {
  if (req.headers['x-api-key'] !== undefined) return 'key';
  const authorization = req.headers.authorization ?? '';
  if (/^basic /i.test(authorization)) return 'basic';
  if (/^bearer /i.test(authorization)) return 'bearer';
  return 'none';
}
