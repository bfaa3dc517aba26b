/**
 * @module `/api/v1/portal`: the person-facing side of just-in-time access (ADR 0095). Signing in here (same
 * password/TOTP checks, throttling, audit and session cookie as `/api/v1/auth/login`) grants the client
 * address on every knoc assigned to the person or their groups whose source conditions allow it; the admin
 * console's sign-in never grants. The client address is the socket peer, or `X-Forwarded-For` from a proxy
 * listed in `PORTCULLIS_TRUST_PROXY`. Entitlement is the knoc assignment, so these routes need no permission
 * beyond being signed in — except that an API token limited to a permission list must hold `access.grant`
 * there; `/knock` is the machine client's call (API token), with the sign-in's answer shape.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { and, eq, gt, inArray, isNull, type SQL } from 'drizzle-orm';
import type { FastifyPluginAsync } from 'fastify';
import { Type } from 'typebox';
import { endGrants, grantView } from '../../access/service/grants.ts';
import { entitledKnocs, grantEntitled, type PortalGrantResult } from '../../access/service/portal.ts';
import { JUSTIFICATION_MAX } from '../../access/service/requests.ts';
import { login } from '../../identity/login.ts';
import { revokeSession } from '../../identity/sessions.ts';
import { getUser } from '../../identity/users.ts';
import { grants, knocs } from '../../store/schema/access.ts';
import { clientAddress } from '../client-address.ts';
import { ctxOf } from '../context.ts';
import { ApiError } from '../errors.ts';
import { principalOf, requirePortalUse } from '../plugins/access.ts';
import { clearSessionCookie, setSessionCookie } from '../session-cookie.ts';
import { ERROR_RESPONSES, Line, Lines, LoginBody, Uuid } from '../schemas.ts';
import { AccessRequestSchema, requestBody } from './requests.ts';
import { emptyBodyIsObject } from './gateways.ts';

const tags = ['portal'];
const authenticated = { auth: 'authenticated' } as const;

const Granted = Type.Object({
  knoc_id: Uuid,
  knoc_name: Type.String(),
  grant_id: Uuid,
  expires_at: Type.String(),
  seconds_left: Type.Integer(),
});
const Refused = Type.Object({
  knoc_id: Uuid,
  knoc_name: Type.String(),
  reason: Type.String(),
  message: Type.String(),
});
const GrantResult = {
  ip: Type.String(),
  granted: Type.Array(Granted),
  refused: Type.Array(Refused),
  /** Access requests recorded instead of grants (knocs that require approval); answered with 202. */
  requested: Type.Array(AccessRequestSchema),
};
const PortalUser = Type.Object({ id: Uuid, username: Type.String(), display_name: Type.String() });

/** The API body of a portal grant result (sign-in, click-to-grant, knock). */
function grantResultBody(result: PortalGrantResult) {
  return {
    ip: result.ip,
    granted: result.granted.map((g) => ({
      knoc_id: g.knocId,
      knoc_name: g.knocName,
      grant_id: g.grantId,
      expires_at: g.expiresAt.toISOString(),
      seconds_left: g.secondsLeft,
    })),
    refused: result.refused.map((r) => ({
      knoc_id: r.knocId,
      knoc_name: r.knocName,
      reason: r.reason,
      message: r.message,
    })),
    requested: result.requested.map(requestBody),
  };
}

/** 202 when the call only recorded access requests (nothing granted yet), else 200. */
const statusOf = (result: PortalGrantResult) =>
  result.granted.length === 0 && result.requested.length > 0 ? 202 : 200;

export const portalRoutes: FastifyPluginAsync = async (root) => {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  // Runs after authentication (the root's onRequest): a limited token needs access.grant for any portal call.
  app.addHook('onRequest', async (request) => {
    if (request.principal) requirePortalUse(request);
  });

  app.post(
    '/api/v1/portal/login',
    {
      config: { auth: 'public' },
      schema: {
        tags,
        summary: 'Sign in to the portal and get access from this address on your knocs',
        body: LoginBody,
        response: {
          200: Type.Object({
            ...GrantResult,
            user: PortalUser,
            csrf_token: Type.String(),
            expires_at: Type.String({ format: 'date-time' }),
          }),
          ...ERROR_RESPONSES,
        },
      },
    },
    async (request, reply) => {
      if (!app.config.localLogin) throw new ApiError('PC_ERR_LOCAL_LOGIN_DISABLED');
      const ip = clientAddress(request);
      const { username, password, totp_code } = request.body;
      const ctx = ctxOf(request);
      const { user, session } = await login(
        ctx,
        {
          username,
          password,
          ...(totp_code !== undefined ? { totpCode: totp_code } : {}),
          sourceIp: ip,
          userAgent: request.headers['user-agent'] ?? null,
        },
        { sessionTtlSeconds: app.config.sessionTtlSeconds },
      );
      const actorCtx = {
        ...ctx,
        actor: { ...ctx.actor, type: 'user' as const, id: user.id, name: user.username },
      };
      const result = await grantEntitled(
        actorCtx,
        { userId: user.id, ip, method: 'login', sessionId: session.id },
        app.access.grantWriter,
      );
      setSessionCookie(request, reply, session);
      return {
        ...grantResultBody(result),
        user: { id: user.id, username: user.username, display_name: user.displayName },
        csrf_token: session.csrfToken,
        expires_at: session.expiresAt.toISOString(),
      };
    },
  );

  app.get(
    '/api/v1/portal/me',
    {
      config: authenticated,
      schema: {
        tags,
        summary: 'The address we see, the knocs you may use (with their device error) and your live grants',
        response: {
          200: Type.Object({
            ip: Type.String(),
            user: PortalUser,
            knocs: Type.Array(
              Type.Object({
                knoc_id: Uuid,
                knoc_name: Type.String(),
                grant_ttl_seconds: Type.Integer(),
                max_ttl_seconds: Type.Integer(),
                /** A grant here needs a justification / approval (an access request): docs/access-requests.md. */
                requires_justification: Type.Boolean(),
                requires_approval: Type.Boolean(),
                /** The firewall's refusal while the knoc's alias cannot be synced (code and remedy), else null. */
                error: Type.Union([
                  Type.Object({ code: Type.String(), message: Type.String(), since: Type.String() }),
                  Type.Null(),
                ]),
              }),
            ),
            grants: Type.Array(
              Type.Object({
                grant_id: Uuid,
                knoc_id: Uuid,
                knoc_name: Type.String(),
                ip: Type.String(),
                method: Type.String(),
                expires_at: Type.String(),
                seconds_left: Type.Integer(),
                sync_state: Type.String(),
              }),
            ),
          }),
          ...ERROR_RESPONSES,
        },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const ctx = ctxOf(request);
      const user = await getUser(ctx, principal.userId);
      const now = ctx.now();
      const rows = await app.store.db
        .select({ row: grants, knocName: knocs.name })
        .from(grants)
        .innerJoin(knocs, eq(knocs.id, grants.knocId))
        .where(and(eq(grants.userId, principal.userId), isNull(grants.endedAt), gt(grants.expiresAt, now)))
        .orderBy(knocs.name);
      const entitled = await entitledKnocs(ctx, principal.userId);
      const knocRows =
        entitled.length === 0
          ? []
          : await app.store.db.select().from(knocs).where(inArray(knocs.id, entitled.map((k) => k.id)));
      const errors = new Map(
        await Promise.all(knocRows.map(async (row) => [row.id, (await app.access.status(row)).error] as const)),
      );
      return {
        ip: clientAddress(request),
        user: { id: user.id, username: user.username, display_name: user.displayName },
        knocs: entitled
          .map((knoc) => ({
            knoc_id: knoc.id,
            knoc_name: knoc.name,
            grant_ttl_seconds: knoc.grantTtlSeconds,
            max_ttl_seconds: knoc.maxTtlSeconds,
            requires_justification: knoc.requires.justification,
            requires_approval: knoc.requires.approval,
            error: errors.get(knoc.id) ?? null,
          }))
          .sort((a, b) => a.knoc_name.localeCompare(b.knoc_name)),
        grants: rows.map(({ row, knocName }) => {
          const view = grantView(row, knocName, user.username, now);
          return {
            grant_id: view.id,
            knoc_id: view.knocId,
            knoc_name: view.knocName,
            ip: view.ip,
            method: view.method,
            expires_at: view.expiresAt.toISOString(),
            seconds_left: view.secondsLeft,
            sync_state: view.syncState,
          };
        }),
      };
    },
  );

  app.post(
    '/api/v1/portal/grants/:knocId',
    {
      ...emptyBodyIsObject,
      config: authenticated,
      schema: {
        tags,
        summary:
          'Click-to-grant: access from this address on one of your knocs (202 with an access request when the knoc requires approval)',
        params: Type.Object({ knocId: Uuid }, { additionalProperties: false }),
        body: Type.Optional(
          Type.Object(
            {
              ttl_seconds: Type.Optional(Type.Integer({ minimum: 1 })),
              justification: Type.Optional(Lines({ maxLength: JUSTIFICATION_MAX })),
            },
            { additionalProperties: false },
          ),
        ),
        response: { 200: Type.Object(GrantResult), 202: Type.Object(GrantResult), ...ERROR_RESPONSES },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const { knocId } = request.params;
      const ttl = request.body?.ttl_seconds;
      const result = await grantEntitled(
        ctxOf(request),
        {
          userId: principal.userId,
          ip: clientAddress(request),
          method: 'click',
          only: (knoc) => knoc.id === knocId,
          ...(ttl !== undefined ? { ttlSeconds: ttl } : {}),
          ...(principal.kind === 'session'
            ? { sessionId: principal.credentialId }
            : { tokenId: principal.credentialId }),
          ask: { justification: request.body?.justification, notifier: app.access, publicUrl: app.config.publicUrl },
        },
        app.access.grantWriter,
        { resource: 'knoc', id: knocId },
      );
      return reply.code(statusOf(result)).send(grantResultBody(result));
    },
  );

  app.post(
    '/api/v1/portal/logout',
    {
      config: { ...authenticated, invalidatesPrincipals: true },
      schema: {
        tags,
        summary: 'Sign out of the portal: the grants of this session (or token) end',
        response: { 200: Type.Object({ revoked: Type.Integer() }), ...ERROR_RESPONSES },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const ctx = ctxOf(request);
      const mine =
        principal.kind === 'session'
          ? eq(grants.sessionId, principal.credentialId)
          : eq(grants.tokenId, principal.credentialId);
      const ended = await endGrants(
        ctx,
        and(eq(grants.userId, principal.userId), mine) as SQL,
        'logout',
        app.access,
      );
      if (principal.kind === 'session') {
        await revokeSession(ctx, principal.credentialId);
        clearSessionCookie(reply);
      }
      return { revoked: ended.length };
    },
  );

  app.post(
    '/api/v1/portal/knock',
    {
      ...emptyBodyIsObject,
      config: authenticated,
      schema: {
        tags,
        summary:
          'Machine client: grant the caller’s address on its knocs (or the one named), with an API token',
        body: Type.Optional(
          Type.Object(
            {
              knoc: Type.Optional(Line({ minLength: 1, maxLength: 100 })),
              justification: Type.Optional(Lines({ maxLength: JUSTIFICATION_MAX })),
            },
            { additionalProperties: false },
          ),
        ),
        response: { 200: Type.Object(GrantResult), 202: Type.Object(GrantResult), ...ERROR_RESPONSES },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const name = request.body?.knoc;
      const result = await grantEntitled(
        ctxOf(request),
        {
          userId: principal.userId,
          ip: clientAddress(request),
          method: 'client',
          ...(name !== undefined ? { only: (knoc) => knoc.name === name } : {}),
          ...(principal.kind === 'token'
            ? { tokenId: principal.credentialId }
            : { sessionId: principal.credentialId }),
          // Naming the knoc asks for it: a knoc that requires approval then gets an access request.
          ...(name !== undefined
            ? { ask: { justification: request.body?.justification, notifier: app.access, publicUrl: app.config.publicUrl } }
            : {}),
        },
        app.access.grantWriter,
        name !== undefined ? { resource: 'knoc', id: name } : undefined,
      );
      return reply.code(statusOf(result)).send(grantResultBody(result));
    },
  );
};
