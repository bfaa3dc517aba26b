/**
 * @module `/edl/<token>.txt` and `/edl/<token>.json`: the feed of a passive knoc, polled by a firewall
 * (ADR 0075, ADR 0092). Public as a route — the unguessable token finds the feed, the feed key
 * (`X-API-Key` or `?key=`) opens it, and the knoc's feed source ranges limit who may fetch (403 before any
 * key check). Every fetch, allowed or not, is logged (when, from where, status, how many entries) and an
 * allowed one moves the knoc's `last_fetch_at`.
 */
import { and, eq, gt, isNull } from 'drizzle-orm';
import type { FastifyPluginAsync } from 'fastify';
import { Type } from 'typebox';
import { computeDesiredSet } from '../../access/desired-set.ts';
import { checkFeedAccess, renderEdlJson, renderEdlText } from '../../access/edl.ts';
import { compileSourceConditions } from '../../access/source-conditions.ts';
import { resolveClientAddress } from '../../net/client-ip.ts';
import { edlFetches, gateways, grants, knocs } from '../../store/schema/access.ts';
import { ApiError } from '../errors.ts';

const FILE = /^([A-Za-z0-9_-]{20,100})\.(txt|json)$/;

export const edlRoutes: FastifyPluginAsync = async (app) => {
  app.get(
    '/edl/:file',
    {
      config: { auth: 'public' },
      schema: {
        tags: ['access'],
        summary: 'EDL feed of a passive knoc (text: one address per line; JSON); needs the feed key',
        params: Type.Object({ file: Type.String({ maxLength: 120 }) }, { additionalProperties: false }),
        querystring: Type.Object(
          { key: Type.Optional(Type.String({ maxLength: 200 })) },
          { additionalProperties: false },
        ),
      },
    },
    async (request, reply) => {
      const match = FILE.exec((request.params as { file: string }).file);
      if (!match) throw new ApiError('PC_ERR_NOT_FOUND');
      const [, token, format] = match as unknown as [string, string, 'txt' | 'json'];
      const [knoc] = await app.store.db
        .select({
          id: knocs.id,
          orgId: knocs.orgId,
          keyHash: knocs.feedKeyHash,
          allowed: knocs.feedAllowedSources,
        })
        .from(knocs)
        .innerJoin(gateways, eq(gateways.id, knocs.gatewayId))
        .where(and(eq(knocs.feedToken, token), eq(knocs.mode, 'passive'), isNull(knocs.deletedAt)))
        .limit(1);
      if (!knoc || knoc.keyHash === null) throw new ApiError('PC_ERR_NOT_FOUND');
      const sourceIp = resolveClientAddress(
        { socketAddress: request.socket.remoteAddress, forwardedFor: request.headers['x-forwarded-for'] },
        app.access.settings.trustedProxies,
      ).ip;
      const decision = checkFeedAccess(
        {
          headerKey: request.headers['x-api-key'],
          queryKey: (request.query as { key?: string }).key,
          clientIp: sourceIp,
        },
        knoc.keyHash,
        compileSourceConditions(knoc.allowed, []),
      );
      const now = new Date();
      if (!decision.ok) {
        await app.store.db.insert(edlFetches).values({
          orgId: knoc.orgId,
          knocId: knoc.id,
          sourceIp,
          status: decision.status,
          format,
          fetchedAt: now,
        });
        request.log.info(
          { knoc_id: knoc.id, source_ip: sourceIp, status: decision.status },
          `EDL fetch refused: ${decision.reason}`,
        );
        throw new ApiError(
          decision.status === 403 ? 'PC_ERR_FORBIDDEN' : 'PC_ERR_UNAUTHENTICATED',
          decision.reason,
        );
      }
      const rows = await app.store.db
        .select({ id: grants.id, ip: grants.ip, expiresAt: grants.expiresAt })
        .from(grants)
        .where(and(eq(grants.knocId, knoc.id), isNull(grants.endedAt), gt(grants.expiresAt, now)));
      const desired = computeDesiredSet(
        rows.map((row) => ({ id: row.id, ip: row.ip, expiresAt: row.expiresAt.getTime() })),
        now.getTime(),
      );
      await app.store.db.transaction(async (tx) => {
        await tx.insert(edlFetches).values({
          orgId: knoc.orgId,
          knocId: knoc.id,
          sourceIp,
          status: 200,
          entries: desired.length,
          format,
          fetchedAt: now,
        });
        await tx.update(knocs).set({ lastFetchAt: now }).where(eq(knocs.id, knoc.id));
      });
      request.log.info(
        { knoc_id: knoc.id, source_ip: sourceIp, entries: desired.length },
        'EDL fetch served',
      );
      reply.header('cache-control', 'no-store');
      if (format === 'json') return reply.type('application/json').send(renderEdlJson(desired, now));
      return reply.type('text/plain; charset=utf-8').send(renderEdlText(desired));
    },
  );
};
