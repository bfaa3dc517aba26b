/**
 * @module Sign-in, sessions, TOTP and the caller's own API tokens under `/api/v1/auth`.
 *
 * Sign-in sets the `pc_session` cookie (HttpOnly, SameSite=Strict, Path=/, Secure over TLS or when
 * configured) and returns the CSRF token once; the client echoes it in `X-CSRF-Token` on every change.
 * Unknown user, wrong password and disabled account get the same 401; attempts are throttled per user and
 * per source IP (429 + Retry-After) and audited, success or not, by the login service.
 *
 * Changing how the caller signs in (password, TOTP) needs a session, never an API token (a leaked or limited
 * token must not be able to lock its owner out), and re-entering the current password where a change starts.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { NotFoundError, ValidationError } from '../../errors.ts';
import { confirmCurrentPassword, login } from '../../identity/login.ts';
import { beginTotpEnrollment, confirmTotpEnrollment } from '../../identity/mfa.ts';
import { csrfTokenFor, revokeSession } from '../../identity/sessions.ts';
import { createApiToken, getApiToken, listApiTokens, revokeApiToken } from '../../identity/tokens.ts';
import { getUser, setPassword } from '../../identity/users.ts';
import { clientAddress } from '../client-address.ts';
import { ctxOf } from '../context.ts';
import { ApiError } from '../errors.ts';
import { type Principal, principalOf, SESSION_COOKIE } from '../plugins/access.ts';
import { clearSessionCookie, setSessionCookie } from '../session-cookie.ts';
import {
  DateTimeInput,
  ERROR_RESPONSES,
  IdParams,
  Line,
  listOf,
  LoginBody,
  Name,
  Password,
  PermissionCode,
  ref,
} from '../schemas.ts';
import { listBody, toApi } from '../views.ts';

const tags = ['auth'];
const authenticated = { auth: 'authenticated' } as const;
/** Changes to how the caller signs in: a session only (never an API token, limited or not), see access.ts. */
const sessionOnly = { auth: 'authenticated', credential: 'session' } as const;

const Me = Type.Object({
  user: ref('User'),
  credential: Type.Union([Type.Literal('session'), Type.Literal('token')]),
  /** Permission code → "all" or the site ids it is limited to. */
  permissions: Type.Record(Type.String(), Type.Union([Type.Literal('all'), Type.Array(Type.String())])),
  /** The session's CSRF token again (session credential only), so a reloaded page keeps it in memory only. */
  csrf_token: Type.Optional(Type.String()),
});

/**
 * The permission list of a new token. A token acting for its owner may never mint one that does more than
 * itself: without a list it gets the caller's current list, with one it must stay inside it.
 */
function tokenPermissions(principal: Principal, requested: string[] | undefined): string[] | null {
  if (principal.kind === 'session') return requested ?? null;
  const held = new Set<string>(principal.permissions.permissions());
  if (requested === undefined) return [...held];
  const outside = requested.findIndex((code) => !held.has(code));
  if (outside >= 0) {
    throw new ValidationError(
      `permissions.${outside}`,
      `the calling token does not hold ${requested[outside]}`,
    );
  }
  return requested;
}

async function ownToken(request: FastifyRequest, id: string) {
  const token = await getApiToken(ctxOf(request), id);
  const principal = principalOf(request);
  if (token.userId !== principal.userId && !principal.permissions.can('users.manage')) {
    // Another user's token is invisible without users.manage: same answer as an unknown id.
    throw new NotFoundError('api token', id);
  }
  return token;
}

export const authRoutes: FastifyPluginAsync = async (root) => {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();

  app.post(
    '/api/v1/auth/login',
    {
      config: { auth: 'public' },
      schema: {
        tags,
        summary: 'Sign in with username, password and (when enabled) a TOTP code',
        body: LoginBody,
        response: {
          200: Type.Object({
            user: ref('User'),
            csrf_token: Type.String(),
            expires_at: Type.String({ format: 'date-time' }),
          }),
          ...ERROR_RESPONSES,
        },
      },
    },
    async (request, reply) => {
      if (!app.config.localLogin) throw new ApiError('PC_ERR_LOCAL_LOGIN_DISABLED');
      const { username, password, totp_code } = request.body;
      const { user, session } = await login(
        ctxOf(request),
        {
          username,
          password,
          ...(totp_code !== undefined ? { totpCode: totp_code } : {}),
          sourceIp: clientAddress(request),
          userAgent: request.headers['user-agent'] ?? null,
        },
        { sessionTtlSeconds: app.config.sessionTtlSeconds },
      );
      setSessionCookie(request, reply, session);
      return {
        user: toApi(user),
        csrf_token: session.csrfToken,
        expires_at: session.expiresAt.toISOString(),
      };
    },
  );

  app.post(
    '/api/v1/auth/logout',
    {
      config: authenticated,
      schema: {
        tags,
        summary: 'Sign out (ends the session)',
        response: { 204: Type.Null(), ...ERROR_RESPONSES },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      if (principal.kind === 'session') await revokeSession(ctxOf(request), principal.credentialId);
      clearSessionCookie(reply);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/api/v1/auth/me',
    {
      config: authenticated,
      schema: {
        tags,
        summary: 'Who am I: user, credential and effective permissions',
        response: { 200: Me, ...ERROR_RESPONSES },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const cookie = request.cookies[SESSION_COOKIE];
      return {
        user: toApi(await getUser(ctxOf(request), principal.userId)),
        credential: principal.kind,
        permissions: principal.permissions.toJSON(),
        ...(principal.kind === 'session' && cookie ? { csrf_token: csrfTokenFor(cookie) } : {}),
      };
    },
  );

  app.put(
    '/api/v1/auth/password',
    {
      config: sessionOnly,
      schema: {
        tags,
        summary: 'Change your own password (ends all your sessions)',
        body: Type.Object(
          { current_password: Password, new_password: Password },
          { additionalProperties: false },
        ),
        response: { 204: Type.Null(), ...ERROR_RESPONSES },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const ctx = ctxOf(request);
      await confirmCurrentPassword(
        ctx,
        { id: principal.userId, username: principal.username },
        request.body.current_password,
      );
      await setPassword(ctx, principal.userId, request.body.new_password);
      clearSessionCookie(reply);
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/api/v1/auth/totp/enroll',
    {
      config: sessionOnly,
      schema: {
        tags,
        summary: 'Start TOTP enrollment (session and current password): returns the secret and URI once',
        body: Type.Object({ current_password: Password }, { additionalProperties: false }),
        response: {
          200: Type.Object({ secret: Type.String(), otpauth_uri: Type.String() }),
          ...ERROR_RESPONSES,
        },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const ctx = ctxOf(request);
      await confirmCurrentPassword(
        ctx,
        { id: principal.userId, username: principal.username },
        request.body.current_password,
      );
      const { secret, otpauthUri } = await beginTotpEnrollment(ctx, principal.userId);
      return { secret, otpauth_uri: otpauthUri };
    },
  );

  app.post(
    '/api/v1/auth/totp/verify',
    {
      config: sessionOnly,
      schema: {
        tags,
        summary: 'Activate TOTP with a current code',
        body: Type.Object(
          { code: Line({ minLength: 1, maxLength: 10 }) },
          { additionalProperties: false },
        ),
        response: { 204: Type.Null(), ...ERROR_RESPONSES },
      },
    },
    async (request, reply) => {
      await confirmTotpEnrollment(ctxOf(request), principalOf(request).userId, request.body.code);
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/api/v1/auth/tokens',
    {
      config: authenticated,
      schema: {
        tags,
        summary: 'Create an API token for yourself (the token is returned once)',
        body: Type.Object(
          {
            name: Name,
            expires_at: Type.Optional(Type.Union([DateTimeInput, Type.Null()])),
            permissions: Type.Optional(Type.Array(PermissionCode, { maxItems: 200 })),
          },
          { additionalProperties: false },
        ),
        response: {
          201: Type.Object({ token: Type.String(), api_token: ref('ApiToken') }),
          ...ERROR_RESPONSES,
        },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const { name, expires_at, permissions } = request.body;
      const created = await createApiToken(ctxOf(request), {
        userId: principal.userId,
        name,
        expiresAt: expires_at ? new Date(expires_at) : null,
        permissions: tokenPermissions(principal, permissions),
      });
      return reply.code(201).send({ token: created.token, api_token: toApi(created.record) });
    },
  );

  app.get(
    '/api/v1/auth/tokens',
    {
      config: authenticated,
      schema: {
        tags,
        summary: 'List your API tokens (never their secrets)',
        querystring: Type.Object(
          { include_revoked: Type.Optional(Type.Boolean()) },
          { additionalProperties: false },
        ),
        response: { 200: listOf('ApiToken'), ...ERROR_RESPONSES },
      },
    },
    async (request) =>
      listBody(
        await listApiTokens(ctxOf(request), {
          userId: principalOf(request).userId,
          includeRevoked: request.query.include_revoked ?? false,
        }),
      ),
  );

  app.delete(
    '/api/v1/auth/tokens/:id',
    {
      config: authenticated,
      schema: {
        tags,
        summary: 'Revoke an API token (yours, or anyone’s with users.manage)',
        params: IdParams,
        response: { 204: Type.Null(), ...ERROR_RESPONSES },
      },
    },
    async (request, reply) => {
      const token = await ownToken(request, request.params.id);
      await revokeApiToken(ctxOf(request), token.id);
      return reply.code(204).send(null);
    },
  );
};
