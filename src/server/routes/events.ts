/**
 * @module `GET /api/v1/events/stream`: the event bus as server-sent events (docs/events.md). Any signed-in
 * principal may open it; each event is sent only if the principal holds the event type's read permission on the
 * event's site (org-wide events: on every site), so the stream is permission- and site-scoped. `types` and
 * `site_id` narrow it further. A reconnecting client sends `Last-Event-ID` (or `after_id`) and first receives the
 * stored events it missed (up to 1000). A client that stops reading is disconnected rather than buffered
 * without bound; the bus never waits for a stream.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { replayEvents } from '../../events/replay.ts';
import { eventBody, isEventType, type StoredEvent, visibleTo } from '../../events/types.ts';
import { ApiError } from '../errors.ts';
import { principalOf } from '../plugins/access.ts';
import { ERROR_RESPONSES, Uuid } from '../schemas.ts';

const HEARTBEAT_MS = 15_000;
/** Bytes a slow client may leave unread before it is disconnected. */
const MAX_BUFFERED = 1024 * 1024;

function frame(event: StoredEvent): string {
  return `id: ${event.id}\nevent: ${event.type}\ndata: ${JSON.stringify(eventBody(event))}\n\n`;
}

export async function eventRoutes(root: FastifyInstance): Promise<void> {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();

  app.get(
    '/api/v1/events/stream',
    {
      config: { auth: 'authenticated' },
      schema: {
        tags: ['events'],
        summary: 'Server-sent events of the event types and sites you may read (text/event-stream)',
        querystring: Type.Object(
          {
            types: Type.Optional(Type.String({ maxLength: 2000, description: 'comma list of event types' })),
            site_id: Type.Optional(Uuid),
            after_id: Type.Optional(Type.Integer({ minimum: 0 })),
          },
          { additionalProperties: false },
        ),
        response: { ...ERROR_RESPONSES },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const { site_id: siteId } = request.query;
      let types: Set<string> | null = null;
      if (request.query.types !== undefined) {
        types = new Set();
        for (const type of request.query.types.split(',').map((t) => t.trim()).filter(Boolean)) {
          if (!isEventType(type)) {
            throw new ApiError('PC_ERR_VALIDATION', `types: ${JSON.stringify(type)} is not an event type`, {
              field: 'types',
            });
          }
          types.add(type);
        }
      }
      const header = request.headers['last-event-id'];
      const fromHeader = typeof header === 'string' && /^\d{1,15}$/.test(header) ? Number(header) : undefined;
      const after = request.query.after_id ?? fromHeader;

      const wanted = (event: StoredEvent): boolean =>
        event.orgId === principal.orgId &&
        (types === null || types.has(event.type)) &&
        (siteId === undefined || event.siteId === siteId) &&
        visibleTo(event, (permission, site) => principal.permissions.can(permission, site));

      const raw = reply.raw;
      reply.hijack();
      raw.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
        'x-request-id': request.id,
      });
      raw.write('retry: 5000\n\n');

      let lastSent = after ?? 0;
      let replaying = after !== undefined;
      const queued: StoredEvent[] = [];
      const send = (event: StoredEvent) => {
        if (event.id !== 0 && event.id <= lastSent) return;
        if (event.id !== 0) lastSent = event.id;
        raw.write(frame(event));
        if (raw.writableLength > MAX_BUFFERED) raw.destroy();
      };
      const off = app.events.on((event) => {
        if (!wanted(event)) return;
        if (replaying) queued.push(event);
        else send(event);
      });
      const heartbeat = setInterval(() => raw.write(': ping\n\n'), HEARTBEAT_MS);
      heartbeat.unref();
      const close = () => {
        off();
        clearInterval(heartbeat);
      };
      raw.on('close', close);

      if (after !== undefined) {
        try {
          for (const event of await replayEvents(app.store.db, principal.orgId, after, 1000)) {
            if (wanted(event)) send(event);
          }
        } catch (err) {
          request.log.error({ err }, 'event replay failed');
        }
        replaying = false;
        for (const event of queued.splice(0)) send(event);
      }
    },
  );
}
