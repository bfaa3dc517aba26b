/**
 * @module `/api/v1/webhooks`: outbound webhooks (docs/events.md). Managing them needs `firewall.admin` on every
 * site the webhook covers (the whole org for one without `site_ids`) and the read permission of each event type
 * it carries; a webhook outside the caller's sites is a 404. The signing secret appears once, in the create
 * response. `GET /{id}/deliveries` is the delivery log.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { ALL_EVENT_TYPES } from '../../events/types.ts';
import {
  createWebhook,
  deleteWebhook,
  getWebhook,
  listDeliveries,
  listWebhooks,
  updateWebhook,
  type WebhookAuthority,
  type WebhookPolicy,
} from '../../events/webhooks.ts';
import { ctxOf } from '../context.ts';
import { principalOf } from '../plugins/access.ts';
import { ERROR_RESPONSES, IdParams, Name, Paging, Uuid } from '../schemas.ts';
import { toApi } from '../views.ts';
import { Nullable, Timestamp } from './gateways.ts';

const tags = ['webhooks'];

const EventTypeSchema = Type.Union(ALL_EVENT_TYPES.map((t) => Type.Literal(t)));
const WebhookSchema = Type.Object({
  id: Uuid,
  name: Type.String(),
  url: Type.String(),
  event_types: Type.Array(Type.String()),
  site_ids: Nullable(Type.Array(Uuid)),
  enabled: Type.Boolean(),
  consecutive_failures: Type.Integer(),
  disabled_at: Nullable(Timestamp),
  disabled_reason: Nullable(Type.String()),
  created_at: Timestamp,
  updated_at: Timestamp,
});
const DeliverySchema = Type.Object({
  id: Type.Integer(),
  webhook_id: Uuid,
  event_id: Type.Integer(),
  event_type: Type.String(),
  status: Type.Union([Type.Literal('pending'), Type.Literal('succeeded'), Type.Literal('failed')]),
  attempts: Type.Integer(),
  next_attempt_at: Timestamp,
  last_attempt_at: Nullable(Timestamp),
  response_status: Nullable(Type.Integer()),
  error: Nullable(Type.String()),
  duration_ms: Nullable(Type.Integer()),
  created_at: Timestamp,
  delivered_at: Nullable(Timestamp),
});
const Fields = {
  name: Name,
  url: Type.String({ minLength: 1, maxLength: 2048 }),
  event_types: Type.Array(EventTypeSchema, { maxItems: 100 }),
  site_ids: Nullable(Type.Array(Uuid, { maxItems: 1000 })),
  enabled: Type.Boolean(),
};

const authorityOf = (request: FastifyRequest): WebhookAuthority => {
  const permissions = principalOf(request).permissions;
  return { can: (permission, siteId) => permissions.can(permission, siteId) };
};
const policyOf = (request: FastifyRequest): WebhookPolicy => ({
  allowHosts: request.server.webhooks.allowHosts,
});

export async function webhookRoutes(root: FastifyInstance): Promise<void> {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  const config = { permission: 'firewall.admin' } as const;

  app.get(
    '/api/v1/webhooks',
    {
      config,
      schema: {
        tags,
        summary: 'List the webhooks of the sites you manage',
        querystring: Type.Object(Paging, { additionalProperties: false }),
        response: { 200: Type.Object({ items: Type.Array(WebhookSchema) }), ...ERROR_RESPONSES },
      },
    },
    async (request) => ({
      items: (await listWebhooks(ctxOf(request), authorityOf(request), request.query)).map(toApi),
    }),
  );

  app.post(
    '/api/v1/webhooks',
    {
      config,
      schema: {
        tags,
        summary: 'Create a webhook; the response carries its signing secret, shown only this once',
        body: Type.Object(
          {
            name: Fields.name,
            url: Fields.url,
            event_types: Type.Optional(Fields.event_types),
            site_ids: Type.Optional(Fields.site_ids),
            enabled: Type.Optional(Fields.enabled),
          },
          { additionalProperties: false },
        ),
        response: {
          201: Type.Object({ ...WebhookSchema.properties, secret: Type.String() }),
          ...ERROR_RESPONSES,
        },
      },
    },
    async (request, reply) => {
      const { webhook, secret } = await createWebhook(
        ctxOf(request),
        authorityOf(request),
        request.body,
        policyOf(request),
      );
      return reply.code(201).send({ ...toApi(webhook), secret });
    },
  );

  app.get(
    '/api/v1/webhooks/:id',
    {
      config,
      schema: { tags, summary: 'Get a webhook', params: IdParams, response: { 200: WebhookSchema, ...ERROR_RESPONSES } },
    },
    async (request) => toApi(await getWebhook(ctxOf(request), authorityOf(request), request.params.id)),
  );

  app.patch(
    '/api/v1/webhooks/:id',
    {
      config,
      schema: {
        tags,
        summary: 'Change a webhook (enabled=true re-enables one that was disabled after failures)',
        params: IdParams,
        body: Type.Object(
          {
            name: Type.Optional(Fields.name),
            url: Type.Optional(Fields.url),
            event_types: Type.Optional(Fields.event_types),
            site_ids: Type.Optional(Fields.site_ids),
            enabled: Type.Optional(Fields.enabled),
          },
          { additionalProperties: false, minProperties: 1 },
        ),
        response: { 200: WebhookSchema, ...ERROR_RESPONSES },
      },
    },
    async (request) =>
      toApi(
        await updateWebhook(ctxOf(request), authorityOf(request), request.params.id, request.body, policyOf(request)),
      ),
  );

  app.delete(
    '/api/v1/webhooks/:id',
    {
      config,
      schema: {
        tags,
        summary: 'Delete a webhook (soft; pending deliveries are dropped)',
        params: IdParams,
        response: { 204: Type.Null(), ...ERROR_RESPONSES },
      },
    },
    async (request, reply) => {
      await deleteWebhook(ctxOf(request), authorityOf(request), request.params.id);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/api/v1/webhooks/:id/deliveries',
    {
      config,
      schema: {
        tags,
        summary: 'The delivery log of a webhook, newest first (page with before=<id>)',
        params: IdParams,
        querystring: Type.Object(
          {
            limit: Paging.limit,
            before: Type.Optional(Type.Integer({ minimum: 1 })),
            status: Type.Optional(
              Type.Union([Type.Literal('pending'), Type.Literal('succeeded'), Type.Literal('failed')]),
            ),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ items: Type.Array(DeliverySchema) }), ...ERROR_RESPONSES },
      },
    },
    async (request) => ({
      items: (
        await listDeliveries(ctxOf(request), authorityOf(request), request.params.id, request.query)
      ).map(toApi),
    }),
  );
}
