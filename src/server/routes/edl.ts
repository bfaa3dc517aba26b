/**
 * @module `/edl/<token>.txt` and `/edl/<token>.json`: the feed of a passive knoc, polled by a firewall
 * (ADR 0075, ADR 0092). Public as a route — the unguessable token finds the feed, the feed key
 * (`X-API-Key` or `?key=`) opens it, and the knoc's feed source ranges limit who may fetch (403 before any
 * key check). Every fetch is recorded (when, from where, status, how many entries) — refused ones up to a
 * per-knoc rate — and an allowed one moves the knoc's `last_fetch_at` (src/access/service/feed.ts).
 */
import type { FastifyPluginAsync } from 'fastify';
import { Type } from 'typebox';
import { renderEdlJson, renderEdlText } from '../../access/edl.ts';
import { type FeedFormat, fetchFeed } from '../../access/service/feed.ts';
import { clientAddress } from '../client-address.ts';
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
      const [, token, format] = match as unknown as [string, string, FeedFormat];
      const sourceIp = clientAddress(request);
      const result = await fetchFeed(app.store.db, app.access.refusedFeedFetches, {
        token,
        format,
        headerKey: request.headers['x-api-key'],
        queryKey: (request.query as { key?: string }).key,
        clientIp: sourceIp,
      });
      if (result.kind === 'not_found') throw new ApiError('PC_ERR_NOT_FOUND');
      if (result.kind === 'refused') {
        if (result.recorded) {
          request.log.info(
            {
              knoc_id: result.knocId,
              source_ip: sourceIp,
              status: result.status,
              ...(result.suppressed > 0 ? { refusals_not_recorded: result.suppressed } : {}),
            },
            `EDL fetch refused: ${result.reason}`,
          );
        }
        throw new ApiError(result.status === 403 ? 'PC_ERR_FORBIDDEN' : 'PC_ERR_UNAUTHENTICATED', result.reason);
      }
      request.log.info(
        { knoc_id: result.knocId, source_ip: sourceIp, entries: result.desired.length },
        'EDL fetch served',
      );
      reply.header('cache-control', 'no-store');
      if (format === 'json') return reply.type('application/json').send(renderEdlJson(result.desired, result.at));
      return reply.type('text/plain; charset=utf-8').send(renderEdlText(result.desired));
    },
  );
};
