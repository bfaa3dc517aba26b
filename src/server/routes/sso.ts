/**
 * @module Single sign-on under `/api/v1/auth` (docs/sso.md): the sign-in page's list of providers, OpenID
 * Connect (`/oidc/{id}/start`, `/callback`, `/backchannel-logout`) and SAML 2.0 (`/saml/{id}/start`, `/acs`,
 * `/slo`, `/metadata`). All public: the provider's signature, not a session, is what they trust.
 *
 * A portal provider's sign-in grants the client address on the person's knocs (lifetime from the provider's
 * claim when configured, never above a knoc's maximum) and its session holds no management rights; a console
 * provider's sign-in only signs in. The browser comes back from the provider on a cross-site navigation, which
 * does not carry our SameSite=Strict session cookie onward; the callback therefore answers with a small page
 * that moves on to the portal or console from our own origin (ADR 0226). The provider's logout — back-channel
 * logout token or SAML LogoutRequest — ends the sessions it names and the grants made in them.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { and, inArray, type SQL } from 'drizzle-orm';
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { parse as parseQuery } from 'node:querystring';
import { Type } from 'typebox';
import { endGrants } from '../../access/service/grants.ts';
import { grantEntitled } from '../../access/service/portal.ts';
import { AuthenticationError } from '../../errors.ts';
import { endProviderSessions } from '../../identity/sso/logout.ts';
import { LogoutTokenError } from '../../identity/sso/logout-token.ts';
import { finishOidcSignIn, SIGN_IN_WINDOW_SECONDS, startOidcSignIn, verifyOidcLogoutToken } from '../../identity/sso/oidc.ts';
import { listSignInProviders, type ProviderConfig, providerForSignIn } from '../../identity/sso/providers.ts';
import {
  acceptSamlLogout,
  finishSamlSignIn,
  samlEndpoints,
  samlMetadata,
  startSamlSignIn,
} from '../../identity/sso/saml.ts';
import { type ExternalIdentity, recordFailure, signInExternal } from '../../identity/sso/signin.ts';
import { grants } from '../../store/schema/access.ts';
import { clientAddress } from '../client-address.ts';
import { ctxOf } from '../context.ts';
import { ApiError } from '../errors.ts';
import { setSessionCookie } from '../session-cookie.ts';
import { ERROR_RESPONSES, IdParams, Uuid } from '../schemas.ts';

const tags = ['sso'];
const PUBLIC = { auth: 'public' } as const;
/** The HttpOnly cookie binding a started OIDC sign-in to this browser (SameSite=Lax: it must come back on the callback). */
const BINDING_COOKIE = 'pc_sso';
const BINDING_PATH = '/api/v1/auth/oidc/';

/** The origin providers reach us at: `PORTCULLIS_PUBLIC_URL`, else the request's own. */
function originOf(request: FastifyRequest): string {
  return request.server.config.publicUrl ?? `${request.protocol}://${request.host}`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A minimal page: on success it moves on (same-site now, so the Strict session cookie goes along). */
function page(reply: FastifyReply, status: number, title: string, message: string, next: { href: string; label: string; go: boolean }) {
  const refresh = next.go ? `<meta http-equiv="refresh" content="0;url=${escapeHtml(next.href)}">` : '';
  return reply
    .code(status)
    .header('cache-control', 'no-store')
    .type('text/html; charset=utf-8')
    .send(
      `<!doctype html><html lang="en"><head><meta charset="utf-8">${refresh}<title>${escapeHtml(title)}</title></head>` +
        `<body><main><h1>${escapeHtml(title)}</h1><p>${escapeHtml(message)}</p>` +
        `<p><a href="${escapeHtml(next.href)}">${escapeHtml(next.label)}</a></p></main></body></html>`,
    );
}

const signInPage = (audience: string) => (audience === 'console' ? '/admin/login' : '/login');

/** Signs the identity in, grants on a portal provider, sets the session cookie and answers the moving-on page. */
async function completeSignIn(
  app: FastifyInstance,
  request: FastifyRequest,
  reply: FastifyReply,
  provider: ProviderConfig,
  identity: ExternalIdentity,
) {
  const ctx = ctxOf(request);
  const ip = clientAddress(request);
  const { user, session, grantTtlSeconds } = await signInExternal(ctx, provider, identity, {
    sourceIp: ip,
    userAgent: request.headers['user-agent'] ?? null,
    sessionTtlSeconds: app.config.sessionTtlSeconds,
  });
  if (provider.audience === 'portal') {
    await grantEntitled(
      { ...ctx, actor: { ...ctx.actor, type: 'user', id: user.id, name: user.username } },
      {
        userId: user.id,
        ip,
        method: 'login',
        sessionId: session.id,
        ...(grantTtlSeconds === undefined ? {} : { ttlSeconds: grantTtlSeconds }),
      },
      app.access.grantWriter,
    );
  }
  setSessionCookie(request, reply, session);
  const target = provider.audience === 'console' ? '/admin' : '/';
  return page(reply, 200, 'Signed in', `Signed in as ${user.username}.`, { href: target, label: 'Continue', go: true });
}

/** `completeSignIn`, or the refusal page when the person cannot be signed in (already audited by the service). */
async function signInOrRefuse(
  app: FastifyInstance,
  request: FastifyRequest,
  reply: FastifyReply,
  provider: ProviderConfig,
  identity: ExternalIdentity,
) {
  try {
    return await completeSignIn(app, request, reply, provider, identity);
  } catch (err) {
    if (err instanceof AuthenticationError) return refusedPage(reply, provider, err);
    throw err;
  }
}

/** A refused sign-in as a page naming the reason (401), so the person sees it in the browser. */
function refusedPage(reply: FastifyReply, provider: Pick<ProviderConfig, 'audience'> | null, err: AuthenticationError) {
  return page(reply, 401, 'Sign-in failed', err.message, {
    href: signInPage(provider?.audience ?? 'portal'),
    label: 'Back to sign-in',
    go: false,
  });
}

/** Ends the sessions a provider's logout names and the grants made in them; returns how many of each. */
async function endNamedSessions(
  app: FastifyInstance,
  request: FastifyRequest,
  provider: ProviderConfig,
  named: { subject: string | null; sessionId: string | null },
) {
  const base = ctxOf(request);
  const ctx = { ...base, actor: { ...base.actor, type: 'system' as const, name: `identity provider ${provider.name}` } };
  const sessionIds = await endProviderSessions(ctx, provider.id, named);
  const ended =
    sessionIds.length === 0
      ? []
      : await endGrants(ctx, and(inArray(grants.sessionId, sessionIds)) as SQL, 'logout', app.access);
  await app.invalidatePrincipals();
  return { sessions: sessionIds.length, grants: ended.length };
}


export const ssoRoutes: FastifyPluginAsync = async (root) => {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  // Providers post forms (back-channel logout, SAML POST binding); this scope only.
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) => {
    done(null, parseQuery(body as string));
  });

  app.get(
    '/api/v1/auth/providers',
    {
      config: PUBLIC,
      schema: {
        tags,
        summary: 'How one may sign in here: password sign-in on or off, and the enabled identity providers',
        response: {
          200: Type.Object({
            local_login: Type.Boolean(),
            providers: Type.Array(
              Type.Object({
                id: Uuid,
                name: Type.String(),
                kind: Type.Union([Type.Literal('oidc'), Type.Literal('saml')]),
                audience: Type.Union([Type.Literal('portal'), Type.Literal('console')]),
                start_url: Type.String(),
              }),
            ),
          }),
          ...ERROR_RESPONSES,
        },
      },
    },
    async (request) => ({
      local_login: app.config.localLogin,
      providers: (await listSignInProviders(ctxOf(request))).map((p) => ({
        ...p,
        start_url: `/api/v1/auth/${p.kind}/${p.id}/start`,
      })),
    }),
  );

  app.get(
    '/api/v1/auth/oidc/:id/start',
    {
      config: PUBLIC,
      schema: {
        tags,
        summary: 'Start an OpenID Connect sign-in: redirects to the provider (code flow, PKCE S256, state, nonce)',
        params: IdParams,
        response: { 302: Type.Null(), ...ERROR_RESPONSES },
      },
    },
    async (request, reply) => {
      const ctx = ctxOf(request);
      const provider = await providerForSignIn(ctx, request.params.id, 'oidc');
      const redirectUri = `${originOf(request)}/api/v1/auth/oidc/${provider.id}/callback`;
      const started = await startOidcSignIn(ctx, provider, redirectUri);
      reply.setCookie(BINDING_COOKIE, started.binding, {
        httpOnly: true,
        sameSite: 'lax',
        path: BINDING_PATH,
        secure: app.config.secureCookies || request.protocol === 'https',
        maxAge: SIGN_IN_WINDOW_SECONDS,
      });
      return reply.header('cache-control', 'no-store').redirect(started.url, 302);
    },
  );

  app.get(
    '/api/v1/auth/oidc/:id/callback',
    {
      config: PUBLIC,
      schema: {
        tags,
        summary: 'OpenID Connect redirect URI: redeems the code, validates the ID token and signs in (an HTML page)',
        params: IdParams,
        // The provider's answer (RFC 6749 §4.1.2, RFC 9207 `iss`); other parameters some providers add pass.
        querystring: Type.Object(
          {
            code: Type.Optional(Type.String({ maxLength: 8192 })),
            state: Type.Optional(Type.String({ maxLength: 1024 })),
            iss: Type.Optional(Type.String({ maxLength: 2048 })),
            error: Type.Optional(Type.String({ maxLength: 200 })),
            error_description: Type.Optional(Type.String({ maxLength: 2000 })),
          },
          { additionalProperties: true },
        ),
        response: { 200: Type.String(), 401: Type.String(), ...ERROR_RESPONSES },
      },
    },
    async (request, reply) => {
      const ctx = ctxOf(request);
      const provider = await providerForSignIn(ctx, request.params.id, 'oidc');
      const binding = request.cookies[BINDING_COOKIE];
      reply.clearCookie(BINDING_COOKIE, { path: BINDING_PATH });
      let identity: ExternalIdentity;
      try {
        identity = await finishOidcSignIn(ctx, provider, {
          redirectUri: `${originOf(request)}/api/v1/auth/oidc/${provider.id}/callback`,
          query: new URL(request.url, 'http://callback.invalid').searchParams,
          binding,
        });
      } catch (err) {
        if (!(err instanceof AuthenticationError)) throw err;
        await recordFailure(ctx, ctx.actor, provider, err.message);
        return refusedPage(reply, provider, err);
      }
      return signInOrRefuse(app, request, reply, provider, identity);
    },
  );

  app.post(
    '/api/v1/auth/oidc/:id/backchannel-logout',
    {
      config: { ...PUBLIC, invalidatesPrincipals: true },
      schema: {
        tags,
        summary:
          'OpenID Connect Back-Channel Logout: a signed logout_token ends the sessions it names and their grants',
        params: IdParams,
        body: Type.Object(
          { logout_token: Type.String({ minLength: 1, maxLength: 16_384 }) },
          { additionalProperties: true },
        ),
        response: {
          200: Type.Object({ ended_sessions: Type.Integer(), ended_grants: Type.Integer() }),
          ...ERROR_RESPONSES,
        },
      },
    },
    async (request, reply) => {
      const ctx = ctxOf(request);
      const provider = await providerForSignIn(ctx, request.params.id, 'oidc');
      reply.header('cache-control', 'no-store');
      let claims;
      try {
        claims = await verifyOidcLogoutToken(ctx, provider, request.body.logout_token);
      } catch (err) {
        if (err instanceof LogoutTokenError) throw new ApiError('PC_ERR_VALIDATION', err.message, { field: 'logout_token' });
        throw err;
      }
      const ended = await endNamedSessions(app, request, provider, { subject: claims.sub, sessionId: claims.sid });
      return { ended_sessions: ended.sessions, ended_grants: ended.grants };
    },
  );

  app.get(
    '/api/v1/auth/saml/:id/start',
    {
      config: PUBLIC,
      schema: {
        tags,
        summary: 'Start a SAML 2.0 sign-in: redirects to the provider with an AuthnRequest (HTTP-Redirect)',
        params: IdParams,
        response: { 302: Type.Null(), ...ERROR_RESPONSES },
      },
    },
    async (request, reply) => {
      const ctx = ctxOf(request);
      const provider = await providerForSignIn(ctx, request.params.id, 'saml');
      const url = await startSamlSignIn(ctx, provider, samlEndpoints(originOf(request), provider.id));
      return reply.header('cache-control', 'no-store').redirect(url, 302);
    },
  );

  app.post(
    '/api/v1/auth/saml/:id/acs',
    {
      config: PUBLIC,
      schema: {
        tags,
        summary: 'SAML assertion consumer service (HTTP-POST): validates the signed response and signs in (an HTML page)',
        params: IdParams,
        body: Type.Object(
          {
            SAMLResponse: Type.String({ minLength: 1, maxLength: 500_000 }),
            RelayState: Type.Optional(Type.String({ maxLength: 2000 })),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.String(), 401: Type.String(), ...ERROR_RESPONSES },
      },
    },
    async (request, reply) => {
      const ctx = ctxOf(request);
      const provider = await providerForSignIn(ctx, request.params.id, 'saml');
      let identity: ExternalIdentity;
      try {
        identity = await finishSamlSignIn(
          ctx,
          provider,
          samlEndpoints(originOf(request), provider.id),
          request.body.SAMLResponse,
        );
      } catch (err) {
        if (!(err instanceof AuthenticationError)) throw err;
        await recordFailure(ctx, ctx.actor, provider, err.message);
        return refusedPage(reply, provider, err);
      }
      return signInOrRefuse(app, request, reply, provider, identity);
    },
  );

  const sloSchema = {
    tags,
    summary: 'SAML single logout (HTTP-Redirect or HTTP-POST LogoutRequest from the provider): ends its sessions and grants',
    params: IdParams,
  };
  const logoutAnswer = async (
    request: FastifyRequest,
    reply: FastifyReply,
    providerId: string,
    message: Parameters<typeof acceptSamlLogout>[3],
  ) => {
    const ctx = ctxOf(request);
    const provider = await providerForSignIn(ctx, providerId, 'saml');
    let logout;
    try {
      logout = await acceptSamlLogout(ctx, provider, samlEndpoints(originOf(request), provider.id), message);
    } catch (err) {
      if (err instanceof AuthenticationError) throw new ApiError('PC_ERR_VALIDATION', err.message, { field: 'SAMLRequest' });
      throw err;
    }
    const ended = await endNamedSessions(app, request, provider, { subject: logout.subject, sessionId: logout.sessionId });
    reply.header('cache-control', 'no-store');
    if (logout.responseUrl) return reply.redirect(logout.responseUrl, 302);
    return { ended_sessions: ended.sessions, ended_grants: ended.grants };
  };
  const SloAnswer = {
    200: Type.Object({ ended_sessions: Type.Integer(), ended_grants: Type.Integer() }),
    302: Type.Null(),
    ...ERROR_RESPONSES,
  };

  app.get(
    '/api/v1/auth/saml/:id/slo',
    {
      config: PUBLIC,
      schema: {
        ...sloSchema,
        querystring: Type.Object(
          {
            SAMLRequest: Type.String({ minLength: 1, maxLength: 100_000 }),
            RelayState: Type.Optional(Type.String({ maxLength: 2000 })),
            // Required: node-saml accepts an unsigned redirect message (docs/reference/single-sign-on.md §4.4).
            SigAlg: Type.String({ minLength: 1, maxLength: 200 }),
            Signature: Type.String({ minLength: 1, maxLength: 2000 }),
          },
          { additionalProperties: false },
        ),
        response: SloAnswer,
      },
    },
    async (request, reply) => {
      const raw = request.url.includes('?') ? request.url.slice(request.url.indexOf('?') + 1) : '';
      return logoutAnswer(request, reply, request.params.id, { query: request.query, rawQuery: raw });
    },
  );

  app.post(
    '/api/v1/auth/saml/:id/slo',
    {
      config: { ...PUBLIC, invalidatesPrincipals: true },
      schema: {
        ...sloSchema,
        body: Type.Object(
          {
            SAMLRequest: Type.String({ minLength: 1, maxLength: 500_000 }),
            RelayState: Type.Optional(Type.String({ maxLength: 2000 })),
          },
          { additionalProperties: false },
        ),
        response: SloAnswer,
      },
    },
    async (request, reply) =>
      logoutAnswer(request, reply, request.params.id, {
        body: {
          SAMLRequest: request.body.SAMLRequest,
          ...(request.body.RelayState === undefined ? {} : { RelayState: request.body.RelayState }),
        },
      }),
  );

  app.get(
    '/api/v1/auth/saml/:id/metadata',
    {
      config: PUBLIC,
      schema: {
        tags,
        summary: 'Our SAML service provider metadata for this provider (entity id, ACS and SLO URLs)',
        params: IdParams,
        response: { 200: Type.String(), ...ERROR_RESPONSES },
      },
    },
    async (request, reply) => {
      const ctx = ctxOf(request);
      const provider = await providerForSignIn(ctx, request.params.id, 'saml');
      return reply
        .type('application/samlmetadata+xml')
        .send(samlMetadata(ctx, provider, samlEndpoints(originOf(request), provider.id)));
    },
  );
};
