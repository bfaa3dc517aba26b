/**
 * @module Authentication and authorisation, declared on every route and denied by default (ADR 0012).
 *
 * Each route states its access in `config`:
 * - `{ auth: 'public' }` — anyone;
 * - `{ auth: 'authenticated' }` — any signed-in user or token (e.g. `/auth/me`); with `credential: 'session'`
 *   a session only, never an API token (changes to how one signs in: password, TOTP);
 * - `{ permission: 'users.manage', scope?: 'org' | 'site' }` — the permission is required; with
 *   `scope: 'org'` it must hold for every site (org-wide objects such as users and roles); with the default
 *   `'site'` holding it on at least one site lets the request in, and the handler narrows lists with
 *   `siteFilter()` and single objects with `requireSite()`.
 * A route with no declaration makes `app.ready()` fail (the `onRoute` hook throws), so forgetting one can
 * never expose a route. Third-party plugins that only serve static documentation run inside a scope marked
 * with `declarePublicByDefault()`; nothing else is exempt, and no decision looks at the URL.
 *
 * Cached principals are dropped after a successful change that can alter who someone is or what they may do
 * (users, groups, roles and bindings, sites, sessions, tokens, passwords, TOTP): the route modules doing such
 * changes are wrapped in `changesPrincipals()`, single routes elsewhere declare `invalidatesPrincipals: true`.
 * Other writes (grants, knocs, gateways) keep the cache (ADR 0096).
 *
 * Credentials: `Authorization: Bearer pc_…` (API token) or the `pc_session` cookie. Cookie-authenticated
 * mutating requests must carry the session's CSRF token in `X-CSRF-Token`; bearer requests need none
 * (a browser never attaches them by itself).
 */
import type { FastifyInstance, FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { EffectivePermissions } from '../../identity/effective.ts';
import { isPermission, type Permission } from '../../identity/permissions.ts';
import { ApiError } from '../errors.ts';

export interface Principal {
  kind: 'session' | 'token';
  userId: string;
  orgId: string;
  username: string;
  /** The session row id (cookie) or the API token id (bearer). */
  credentialId: string;
  /** The token's name, for audit labels (bearer only). */
  tokenName?: string;
  /** The token's own permission list, `null` when it acts with all its owner's rights (bearer only). */
  tokenPermissions?: readonly string[] | null;
  /** What the principal may do, and where (a token's rights are already narrowed to its list). */
  permissions: EffectivePermissions;
}

export interface AuthBackend {
  /** The principal of a bearer token, or null when it is unknown, expired or revoked. */
  fromToken(token: string): Promise<Principal | null>;
  /** The principal of a session cookie, or null; `csrfValid` says whether the CSRF header matches it. */
  fromSession(
    cookie: string,
    csrfHeader: string | undefined,
  ): Promise<{ principal: Principal; csrfValid: boolean } | null>;
  /** Called after a successful change that may have revoked a credential or changed rights. */
  invalidate(): void | Promise<void>;
}

type RouteAccess =
  | { auth: 'public' | 'authenticated'; permission?: undefined }
  | { auth?: undefined; permission: Permission; scope?: 'org' | 'site' };

declare module 'fastify' {
  interface FastifyContextConfig {
    auth?: 'public' | 'authenticated';
    permission?: Permission;
    scope?: 'org' | 'site';
    /** `'session'`: an authenticated route an API token may never call (changes to how one signs in). */
    credential?: 'session';
    /** A successful non-GET call may change authentication or rights: drop the cached principals. */
    invalidatesPrincipals?: boolean;
  }
  interface FastifyRequest {
    /** Set for every route that is not public; null on public ones. */
    principal: Principal | null;
  }
}

export const SESSION_COOKIE = 'pc_session';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
const PUBLIC_BY_DEFAULT = Symbol('portcullis.publicByDefault');

/** Marks a plugin scope whose routes (e.g. the docs UI's static files) are public without a declaration. */
export function declarePublicByDefault(scope: FastifyInstance): void {
  scope.decorate(PUBLIC_BY_DEFAULT, true);
}

/**
 * Wraps a route module whose writes can change authentication or rights (identity, roles, sites): each of its
 * routes declares `invalidatesPrincipals: true`, so a route added there later cannot forget it.
 */
export function changesPrincipals(routes: FastifyPluginAsync): FastifyPluginAsync {
  const wrapped: FastifyPluginAsync = async (scope, options) => {
    scope.addHook('onRoute', (route) => {
      route.config = { ...route.config, invalidatesPrincipals: true };
    });
    await routes(scope, options);
  };
  Object.defineProperty(wrapped, 'name', { value: routes.name });
  return wrapped;
}

export interface DeclaredRoute {
  method: string;
  url: string;
  access: RouteAccess;
}

/** Routes as declared, in registration order; the route-permission test walks this list. */
export function registerAccessControl(app: FastifyInstance, backend: AuthBackend): DeclaredRoute[] {
  const declared: DeclaredRoute[] = [];
  app.decorateRequest('principal', null);

  app.addHook('onRoute', function (route) {
    const config = (route.config ?? {}) as {
      auth?: string;
      permission?: string;
      scope?: string;
      credential?: string;
    };
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    if (!config.auth && !config.permission) {
      if (!(this as unknown as Record<symbol, unknown>)[PUBLIC_BY_DEFAULT]) {
        throw new Error(
          `Route ${methods.join(',')} ${route.url} declares neither config.auth nor config.permission`,
        );
      }
      route.config = { ...route.config, auth: 'public' };
    } else if (config.auth && config.permission) {
      throw new Error(`Route ${route.url} declares both config.auth and config.permission`);
    } else if (config.permission && !isPermission(config.permission)) {
      throw new Error(`Route ${route.url} declares unknown permission "${config.permission}"`);
    } else if (config.auth && config.auth !== 'public' && config.auth !== 'authenticated') {
      throw new Error(`Route ${route.url} has unknown config.auth "${config.auth}"`);
    } else if (config.credential !== undefined && (config.credential !== 'session' || config.auth !== 'authenticated')) {
      throw new Error(`Route ${route.url}: config.credential 'session' goes with auth 'authenticated' only`);
    }
    const access = route.config as RouteAccess;
    for (const method of methods) declared.push({ method, url: route.url, access });
  });

  app.addHook('onSend', async (request, reply) => {
    if (
      request.routeOptions.config.invalidatesPrincipals === true &&
      !SAFE_METHODS.has(request.method) &&
      reply.statusCode < 400
    ) {
      try {
        await backend.invalidate();
      } catch (err) {
        // The change is committed; other nodes then see it when their cache entries expire (ADR 0223).
        request.log.warn({ err }, 'announcing a change of rights to the other nodes failed');
      }
    }
  });

  app.addHook('onRequest', async (request) => {
    const config = request.routeOptions.config;
    // Unmatched URLs go to the not-found handler, which reveals nothing.
    if (!request.routeOptions.url || config.auth === 'public') return;
    request.principal = await authenticate(request, backend);
    if (config.credential === 'session' && request.principal.kind !== 'session') {
      throw new ApiError(
        'PC_ERR_FORBIDDEN',
        'This action needs a signed-in session; an API token cannot change how its owner signs in.',
      );
    }
    if (config.permission) authorize(request.principal, config.permission, config.scope ?? 'site');
  });

  return declared;
}

async function authenticate(request: FastifyRequest, backend: AuthBackend): Promise<Principal> {
  const header = request.headers.authorization;
  if (header !== undefined) {
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match?.[1])
      throw new ApiError('PC_ERR_UNAUTHENTICATED', 'Authorization header must be "Bearer <token>".');
    const principal = await backend.fromToken(match[1]);
    if (!principal)
      throw new ApiError('PC_ERR_UNAUTHENTICATED', 'The API token is invalid, expired or revoked.');
    return principal;
  }
  const cookie = request.cookies[SESSION_COOKIE];
  if (!cookie) throw new ApiError('PC_ERR_UNAUTHENTICATED');
  const csrf = request.headers['x-csrf-token'];
  const found = await backend.fromSession(cookie, typeof csrf === 'string' ? csrf : undefined);
  if (!found) throw new ApiError('PC_ERR_UNAUTHENTICATED', 'The session has expired or was signed out.');
  if (!SAFE_METHODS.has(request.method) && !found.csrfValid) throw new ApiError('PC_ERR_CSRF');
  return found.principal;
}

function authorize(principal: Principal, permission: Permission, scope: 'org' | 'site'): void {
  const allowed =
    scope === 'org' ? principal.permissions.can(permission) : principal.permissions.hasAny(permission);
  if (!allowed) {
    const where = scope === 'org' ? ' for the whole organisation' : '';
    throw new ApiError('PC_ERR_FORBIDDEN', `This action needs the permission ${permission}${where}.`);
  }
}

export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new Error('principal read on a public route');
  return request.principal;
}

/** The sites a list may show for `permission`: 'all', or the ids the principal holds it on. */
export function siteFilter(request: FastifyRequest, permission: Permission): 'all' | string[] {
  return principalOf(request).permissions.sitesFor(permission);
}

/**
 * Checks access to one object of `siteId`. Outside the principal's sites a read answers 404 (the object's
 * existence is not revealed) and a write 403 (the caller named it; we refuse to act on it).
 */
export function requireSite(
  request: FastifyRequest,
  permission: Permission,
  siteId: string,
  mode: 'read' | 'write',
): void {
  if (principalOf(request).permissions.can(permission, siteId)) return;
  if (mode === 'read') throw new ApiError('PC_ERR_NOT_FOUND');
  throw new ApiError(
    'PC_ERR_FORBIDDEN',
    `You cannot change objects of this site (needs ${permission} there).`,
  );
}

/**
 * A portal call (the person-facing grant routes) by an API token limited to a permission list needs
 * `access.grant` in that list: a token made for other work (say `gateway.view`) must not open the firewall.
 * Sessions and unlimited tokens act as their owner, whose entitlement is the knoc assignment.
 */
export function requirePortalUse(request: FastifyRequest): void {
  const principal = principalOf(request);
  if (principal.kind !== 'token' || !principal.tokenPermissions) return;
  if (principal.tokenPermissions.includes('access.grant')) return;
  throw new ApiError(
    'PC_ERR_FORBIDDEN',
    'This API token is limited to other permissions; the portal needs a token holding access.grant.',
  );
}
