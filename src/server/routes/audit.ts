/**
 * @module `GET /api/v1/audit`: the audit log, newest first, with filters and keyset paging (`cursor` =
 * the previous page's `next_cursor`). A site-limited reader sees only entries of their sites.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyPluginAsync } from 'fastify';
import { Type } from 'typebox';
import { query } from '../../audit/query.ts';
import { ctxOf } from '../context.ts';
import { siteFilter } from '../plugins/access.ts';
import { DateTimeInput, ERROR_RESPONSES, Line, ref, Uuid } from '../schemas.ts';
import { toApi } from '../views.ts';

const Query = Type.Object(
  {
    actor_id: Type.Optional(Line({ maxLength: 100 })),
    actor_type: Type.Optional(
      Type.Union(['user', 'token', 'system', 'anonymous'].map((v) => Type.Literal(v))),
    ),
    action: Type.Optional(
      Line({ maxLength: 100, description: 'exact action, or a prefix such as user.*' }),
    ),
    target_type: Type.Optional(Line({ maxLength: 100 })),
    target_id: Type.Optional(Line({ maxLength: 100 })),
    site_id: Type.Optional(Uuid),
    outcome: Type.Optional(
      Type.Union([Type.Literal('success'), Type.Literal('failure'), Type.Literal('denied')]),
    ),
    from: Type.Optional(DateTimeInput),
    to: Type.Optional(DateTimeInput),
    cursor: Type.Optional(Type.Integer({ minimum: 1 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })),
  },
  { additionalProperties: false },
);

const Page = Type.Object({
  items: Type.Array(ref('AuditEntry')),
  next_cursor: Type.Union([Type.Integer(), Type.Null()]),
});

export const auditRoutes: FastifyPluginAsync = async (root) => {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();

  app.get(
    '/api/v1/audit',
    {
      config: { permission: 'audit.view' },
      schema: {
        tags: ['audit'],
        summary: 'Read the audit log',
        querystring: Query,
        response: { 200: Page, ...ERROR_RESPONSES },
      },
    },
    async (request) => {
      const q = request.query;
      const sites = siteFilter(request, 'audit.view');
      const ctx = ctxOf(request);
      const page = await query(ctx.db, ctx.orgId, {
        ...(q.actor_id !== undefined ? { actorId: q.actor_id } : {}),
        ...(q.actor_type !== undefined ? { actorType: q.actor_type } : {}),
        ...(q.action !== undefined ? { action: q.action } : {}),
        ...(q.target_type !== undefined ? { targetType: q.target_type } : {}),
        ...(q.target_id !== undefined ? { targetId: q.target_id } : {}),
        ...(q.site_id !== undefined ? { siteId: q.site_id } : {}),
        ...(q.outcome !== undefined ? { outcome: q.outcome } : {}),
        ...(q.from !== undefined ? { from: new Date(q.from) } : {}),
        ...(q.to !== undefined ? { to: new Date(q.to) } : {}),
        ...(q.cursor !== undefined ? { cursor: q.cursor } : {}),
        ...(q.limit !== undefined ? { limit: q.limit } : {}),
        ...(sites === 'all' ? {} : { siteIds: sites }),
      });
      return { items: page.items.map(toApi), next_cursor: page.nextCursor };
    },
  );
};
