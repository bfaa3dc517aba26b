/**
 * @module `/api/v1/access/grants`: who has access, from where, until when — kept after they end (ADR 0091).
 * Listing needs `access.view`; an admin break-glass grant `access.admin_grant` (audited, with a reason);
 * revoking or extending needs `access.grant` for one's own grant and `access.admin_grant` for anyone else's,
 * on the grant's site.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { and, eq, isNull } from 'drizzle-orm';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import {
  endGrants,
  extendGrant,
  type GrantKnoc,
  type GrantRow,
  getGrant,
  getGrantRow,
  grantAddress,
  grantView,
  listGrants,
  newGrantExpiry,
  requireLoadedKnoc,
} from '../../access/service/grants.ts';
import type { ServiceContext } from '../../core/context.ts';
import { ValidationError } from '../../errors.ts';
import { grants } from '../../store/schema/access.ts';
import { users } from '../../store/schema/identity.ts';
import { ctxOf } from '../context.ts';
import { ApiError } from '../errors.ts';
import { principalOf, requireSite, siteFilter } from '../plugins/access.ts';
import { ERROR_RESPONSES, IdParams, Line, Paging, Uuid } from '../schemas.ts';
import { toApi } from '../views.ts';
import { Nullable, Timestamp } from './gateways.ts';

const tags = ['access'];

export const GrantSchema = Type.Object({
  id: Uuid,
  knoc_id: Uuid,
  knoc_name: Type.String(),
  site_id: Uuid,
  user_id: Nullable(Uuid),
  username: Nullable(Type.String()),
  ip: Type.String(),
  method: Type.String(),
  reason: Nullable(Type.String()),
  created_at: Timestamp,
  expires_at: Timestamp,
  ended_at: Nullable(Timestamp),
  end_reason: Nullable(Type.String()),
  status: Type.String(),
  sync_state: Type.String(),
  seconds_left: Type.Integer(),
});

/** Revoking or extending someone else's grant needs `access.admin_grant` on its site. */
async function requireGrantWrite(request: FastifyRequest, id: string) {
  const row = await getGrantRow(ctxOf(request), id);
  const principal = principalOf(request);
  if (
    !principal.permissions.can('access.view', row.siteId) &&
    !principal.permissions.can('access.grant', row.siteId)
  ) {
    throw new ApiError('PC_ERR_NOT_FOUND');
  }
  if (row.userId !== principal.userId) requireSite(request, 'access.admin_grant', row.siteId, 'write');
  else requireSite(request, 'access.grant', row.siteId, 'write');
  return row;
}

/** The username of a live user of the org; 400 on `user_id` otherwise. */
async function existingUsername(ctx: ServiceContext, userId: string): Promise<string> {
  const [user] = await ctx.db
    .select({ username: users.username })
    .from(users)
    .where(and(eq(users.id, userId), eq(users.orgId, ctx.orgId), isNull(users.deletedAt)))
    .limit(1);
  if (!user) throw new ValidationError('user_id', `user ${userId} does not exist`);
  return user.username;
}

export const grantRoutes: FastifyPluginAsync = async (root) => {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();

  app.get(
    '/api/v1/access/grants',
    {
      config: { permission: 'access.view' },
      schema: {
        tags,
        summary: 'List grants (newest first), live and ended',
        querystring: Type.Object(
          {
            knoc_id: Type.Optional(Uuid),
            user_id: Type.Optional(Uuid),
            ip: Type.Optional(Line({ maxLength: 64 })),
            status: Type.Optional(
              Type.Union([Type.Literal('live'), Type.Literal('ended'), Type.Literal('all')]),
            ),
            ...Paging,
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ items: Type.Array(GrantSchema) }), ...ERROR_RESPONSES },
      },
    },
    async (request) => {
      const { knoc_id, user_id, ip, status, ...page } = request.query;
      const items = await listGrants(ctxOf(request), {
        ...page,
        ...(knoc_id ? { knocId: knoc_id } : {}),
        ...(user_id ? { userId: user_id } : {}),
        ...(ip !== undefined ? { ip } : {}),
        ...(status ? { status } : {}),
        scope: siteFilter(request, 'access.view'),
      });
      return { items: items.map(toApi) };
    },
  );

  app.post(
    '/api/v1/access/grants',
    {
      config: { permission: 'access.admin_grant' },
      schema: {
        tags,
        summary: 'Break-glass: grant an address on a knoc (audited with the reason)',
        body: Type.Object(
          {
            knoc_id: Uuid,
            ip: Line({ minLength: 1, maxLength: 64 }),
            ttl_seconds: Type.Optional(Type.Integer({ minimum: 1 })),
            user_id: Type.Optional(Nullable(Uuid)),
            reason: Line({ minLength: 1, maxLength: 500 }),
          },
          { additionalProperties: false },
        ),
        response: { 201: GrantSchema, ...ERROR_RESPONSES },
      },
    },
    async (request, reply) => {
      const ctx = ctxOf(request);
      const body = request.body;
      const userId = body.user_id ?? null;
      let knoc: GrantKnoc | undefined;
      let username: string | null = null;
      // The knoc is read with the rest of the batch (one query for all concurrent grants, ADR 0096).
      const [row] = await app.access.grantWriter.submit(ctx, {
        knocIds: [body.knoc_id],
        build: async (knocs) => {
          knoc = requireLoadedKnoc(ctx, knocs, body.knoc_id);
          requireSite(request, 'access.admin_grant', knoc.siteId, 'write');
          const ip = grantAddress(knoc, body.ip);
          const expiresAt = newGrantExpiry(knoc, body.ttl_seconds, ctx.now());
          if (userId !== null) username = await existingUsername(ctx, userId);
          return [{ knoc, userId, ip, expiresAt, method: 'admin', reason: body.reason, replacePrevious: false }];
        },
      });
      const granted = knoc as GrantKnoc;
      return reply.code(201).send(toApi(grantView(row as GrantRow, granted.name, username, ctx.now())));
    },
  );

  app.get(
    '/api/v1/access/grants/:id',
    {
      config: { permission: 'access.view' },
      schema: {
        tags,
        summary: 'Get a grant',
        params: IdParams,
        response: { 200: GrantSchema, ...ERROR_RESPONSES },
      },
    },
    async (request) => {
      const grant = await getGrant(ctxOf(request), request.params.id);
      requireSite(request, 'access.view', grant.siteId, 'read');
      return toApi(grant);
    },
  );

  app.delete(
    '/api/v1/access/grants/:id',
    {
      config: { permission: 'access.grant' },
      schema: {
        tags,
        summary:
          'Revoke a grant: the address leaves the alias (and its states are killed when the knoc says so)',
        params: IdParams,
        response: { 204: Type.Null(), ...ERROR_RESPONSES },
      },
    },
    async (request, reply) => {
      const row = await requireGrantWrite(request, request.params.id);
      const ended = await endGrants(ctxOf(request), eq(grants.id, row.id), 'revoked', app.access);
      if (ended.length === 0) throw new ApiError('PC_ERR_CONFLICT', 'The grant has already ended.');
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/api/v1/access/grants/:id/extend',
    {
      config: { permission: 'access.grant' },
      schema: {
        tags,
        summary: 'Extend a live grant to now + ttl_seconds (at most the knoc maximum)',
        params: IdParams,
        body: Type.Object({ ttl_seconds: Type.Integer({ minimum: 1 }) }, { additionalProperties: false }),
        response: { 200: GrantSchema, ...ERROR_RESPONSES },
      },
    },
    async (request) => {
      const row = await requireGrantWrite(request, request.params.id);
      await extendGrant(ctxOf(request), row.id, request.body.ttl_seconds, app.access);
      return toApi(await getGrant(ctxOf(request), row.id));
    },
  );
};
