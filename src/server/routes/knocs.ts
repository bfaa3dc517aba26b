/**
 * @module `/api/v1/access/knocs`: access policies. Reading needs `access.view`, changing
 * `access.manage_knocs`, rotating a passive knoc's feed token/key `access.admin_grant` — each on the knoc's
 * site (ADR 0092). Alias names are checked with the gateway vendor's rules and source ranges parsed before anything is
 * written; the feed key of a passive knoc is returned once, when it is made. `…/exposure`: what a grant opens
 * (docs/adr/0141-exposure-of-an-alias.md): GET on the gateway's live configuration, POST on one the caller sends.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { and, desc, eq } from 'drizzle-orm';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { endGrants } from '../../access/service/grants.ts';
import {
  createKnoc,
  deleteKnoc,
  getKnoc,
  getKnocRow,
  type KnocSaved,
  listKnocs,
  rotateFeed,
  updateKnoc,
} from '../../access/service/knocs.ts';
import { requireVendor } from '../../firewall/adapter.ts';
import { liveAliasExposure } from '../../firewall/exposure.ts';
import { getGateway } from '../../firewall/gateways.ts';
import { fromDevice, liveGateway, requireLiveCapability } from '../../firewall/live.ts';
import type { Permission } from '../../identity/permissions.ts';
import { edlFetches, grants } from '../../store/schema/access.ts';
import { ctxOf } from '../context.ts';
import { requireSite, siteFilter } from '../plugins/access.ts';
import { ERROR_RESPONSES, IdParams, Line, Name, Paging, Uuid } from '../schemas.ts';
import { toApi } from '../views.ts';
import { emptyBodyIsObject, Nullable, Timestamp } from './gateways.ts';
import { ExposureBody, ExposureResponse, exposureOf, POLICY_BODY_LIMIT } from './policy.ts';

const tags = ['access'];
const Cidrs = Type.Array(Line({ maxLength: 64 }), { maxItems: 1000 });
const Ttl = Type.Integer({ minimum: 1, maximum: 31_536_000 });

export const KnocSchema = Type.Object({
  id: Uuid,
  site_id: Uuid,
  gateway_id: Uuid,
  name: Type.String(),
  mode: Type.String(),
  alias_name: Type.String(),
  create_alias_if_missing: Type.Boolean(),
  grant_ttl_seconds: Type.Integer(),
  max_ttl_seconds: Type.Integer(),
  allowed_sources: Type.Array(Type.String()),
  denied_sources: Type.Array(Type.String()),
  kill_states_on_revoke: Type.Boolean(),
  requires_justification: Type.Boolean(),
  requires_approval: Type.Boolean(),
  approver_group_id: Nullable(Uuid),
  approvals_required: Type.Integer(),
  request_ttl_seconds: Type.Integer(),
  users: Type.Array(Uuid),
  groups: Type.Array(Uuid),
  feed_token: Nullable(Type.String()),
  feed_allowed_sources: Type.Array(Type.String()),
  last_fetch_at: Nullable(Timestamp),
  created_at: Timestamp,
  updated_at: Timestamp,
});

const Saved = Type.Object({ ...KnocSchema.properties, feed_key: Type.Optional(Type.String()) });

const KnocFields = {
  name: Name,
  gateway_id: Uuid,
  mode: Type.Union([Type.Literal('active'), Type.Literal('passive')]),
  alias_name: Line({ minLength: 1, maxLength: 64 }),
  create_alias_if_missing: Type.Boolean(),
  grant_ttl_seconds: Ttl,
  max_ttl_seconds: Ttl,
  allowed_sources: Cidrs,
  denied_sources: Cidrs,
  kill_states_on_revoke: Type.Boolean(),
  requires_justification: Type.Boolean(),
  requires_approval: Type.Boolean(),
  approver_group_id: Nullable(Uuid),
  approvals_required: Type.Integer({ minimum: 1, maximum: 100 }),
  request_ttl_seconds: Type.Integer({ minimum: 60, maximum: 2_592_000 }),
  users: Type.Array(Uuid, { maxItems: 10_000 }),
  groups: Type.Array(Uuid, { maxItems: 10_000 }),
  site_id: Uuid,
  feed_allowed_sources: Cidrs,
};

const optional = <T extends Record<string, Parameters<typeof Type.Optional>[0]>>(fields: T) =>
  Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, Type.Optional(v)])) as {
    [K in keyof T]: ReturnType<typeof Type.Optional<T[K]>>;
  };

const StatusSchema = Type.Object({
  desired_count: Type.Integer(),
  device_count: Nullable(Type.Integer()),
  last_sync_at: Nullable(Type.String()),
  last_apply_at: Nullable(Type.String()),
  last_fetch_at: Nullable(Timestamp),
  pending: Type.Boolean(),
  error: Nullable(Type.Object({ code: Type.String(), message: Type.String(), since: Type.String() })),
});

function savedBody(saved: KnocSaved) {
  return { ...toApi(saved.knoc), ...(saved.feedKey ? { feed_key: saved.feedKey } : {}) };
}

const siteCheck = (request: FastifyRequest, permission: Permission) => (siteId: string) =>
  requireSite(request, permission, siteId, 'write');

export const knocRoutes: FastifyPluginAsync = async (root) => {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();

  app.get(
    '/api/v1/access/knocs',
    {
      config: { permission: 'access.view' },
      schema: {
        tags,
        summary: 'List the knocs of the sites you can see',
        querystring: Type.Object(
          { gateway_id: Type.Optional(Uuid), ...Paging },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ items: Type.Array(KnocSchema) }), ...ERROR_RESPONSES },
      },
    },
    async (request) => {
      const { gateway_id, ...page } = request.query;
      const items = await listKnocs(ctxOf(request), {
        ...page,
        ...(gateway_id ? { gatewayId: gateway_id } : {}),
        scope: siteFilter(request, 'access.view'),
      });
      return { items: items.map(toApi) };
    },
  );

  app.post(
    '/api/v1/access/knocs',
    {
      config: { permission: 'access.manage_knocs' },
      schema: {
        tags,
        summary: 'Create a knoc (a passive knoc answers with its feed key, once)',
        body: Type.Object(
          { ...optional(KnocFields), name: Name, gateway_id: Uuid, alias_name: KnocFields.alias_name },
          { additionalProperties: false },
        ),
        response: { 201: Saved, ...ERROR_RESPONSES },
      },
    },
    async (request, reply) => {
      const saved = await createKnoc(ctxOf(request), request.body, siteCheck(request, 'access.manage_knocs'));
      await app.access.knocChanged(saved.knoc.id, null);
      return reply.code(201).send(savedBody(saved));
    },
  );

  app.get(
    '/api/v1/access/knocs/:id',
    {
      config: { permission: 'access.view' },
      schema: {
        tags,
        summary: 'Get a knoc',
        params: IdParams,
        response: { 200: KnocSchema, ...ERROR_RESPONSES },
      },
    },
    async (request) => {
      const knoc = await getKnoc(ctxOf(request), request.params.id);
      requireSite(request, 'access.view', knoc.siteId, 'read');
      return toApi(knoc);
    },
  );

  app.patch(
    '/api/v1/access/knocs/:id',
    {
      config: { permission: 'access.manage_knocs' },
      schema: {
        tags,
        summary: 'Change a knoc (assignments are replaced when given)',
        params: IdParams,
        body: Type.Object(optional(KnocFields), { additionalProperties: false, minProperties: 1 }),
        response: { 200: Saved, ...ERROR_RESPONSES },
      },
    },
    async (request) => {
      const knoc = await getKnoc(ctxOf(request), request.params.id);
      requireSite(request, 'access.view', knoc.siteId, 'read');
      const saved = await updateKnoc(
        ctxOf(request),
        request.params.id,
        request.body,
        siteCheck(request, 'access.manage_knocs'),
      );
      await app.access.knocChanged(saved.knoc.id, saved.previous);
      return savedBody(saved);
    },
  );

  app.delete(
    '/api/v1/access/knocs/:id',
    {
      config: { permission: 'access.manage_knocs' },
      schema: {
        tags,
        summary: 'Delete a knoc: its open grants are revoked and taken off the alias',
        params: IdParams,
        response: { 204: Type.Null(), ...ERROR_RESPONSES },
      },
    },
    async (request, reply) => {
      const knoc = await getKnoc(ctxOf(request), request.params.id);
      requireSite(request, 'access.manage_knocs', knoc.siteId, 'write');
      await endGrants(ctxOf(request), eq(grants.knocId, knoc.id), 'revoked', app.access);
      await deleteKnoc(ctxOf(request), knoc.id);
      await app.access.knocChanged(knoc.id, { gatewayId: knoc.gatewayId, aliasName: knoc.aliasName });
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/api/v1/access/knocs/:id/exposure',
    {
      config: { permission: 'access.view' },
      schema: {
        tags,
        summary: 'What an address on the knoc’s alias gains, on the gateway’s live configuration (read now)',
        params: IdParams,
        response: { 200: ExposureResponse, ...ERROR_RESPONSES },
      },
    },
    async (request) => {
      const knoc = await getKnoc(ctxOf(request), request.params.id);
      requireSite(request, 'access.view', knoc.siteId, 'read');
      const gateway = await getGateway(ctxOf(request), knoc.gatewayId);
      const vendor = requireVendor(gateway.vendor);
      for (const read of ['read.rules', 'read.nat', 'read.aliases', 'read.interfaces'] as const) {
        requireLiveCapability(vendor, read);
      }
      const { adapter } = await fromDevice(() => app.access.adapters.get(gateway.id));
      return liveAliasExposure(liveGateway(vendor, adapter), knoc.aliasName);
    },
  );

  app.post(
    '/api/v1/access/knocs/:id/exposure',
    {
      config: { permission: 'access.view' },
      bodyLimit: POLICY_BODY_LIMIT,
      schema: {
        tags,
        summary: 'What an address on the knoc’s alias gains, in an uploaded configuration of its gateway',
        params: IdParams,
        body: Type.Object(ExposureBody, { additionalProperties: false }),
        response: { 200: ExposureResponse, ...ERROR_RESPONSES },
      },
    },
    async (request) => {
      const knoc = await getKnoc(ctxOf(request), request.params.id);
      requireSite(request, 'access.view', knoc.siteId, 'read');
      return exposureOf(request.body.config, knoc.aliasName, request.body.representatives, 'config');
    },
  );

  app.get(
    '/api/v1/access/knocs/:id/status',
    {
      config: { permission: 'access.view' },
      schema: {
        tags,
        summary: 'Sync status of the knoc’s alias: desired vs device, last sync/apply, pending, error code',
        params: IdParams,
        response: { 200: StatusSchema, ...ERROR_RESPONSES },
      },
    },
    async (request) => {
      const row = await getKnocRow(ctxOf(request), request.params.id);
      requireSite(request, 'access.view', row.siteId, 'read');
      const status = await app.access.status(row);
      return {
        desired_count: status.desiredCount,
        device_count: status.deviceCount,
        last_sync_at: status.lastSyncAt?.toISOString() ?? null,
        last_apply_at: status.lastApplyAt?.toISOString() ?? null,
        last_fetch_at: row.lastFetchAt,
        pending: status.pending,
        error:
          status.error === null
            ? null
            : { ...status.error, since: status.error.since?.toISOString() ?? '' },
      };
    },
  );

  app.post(
    '/api/v1/access/knocs/:id/feed/rotate',
    {
      ...emptyBodyIsObject,
      config: { permission: 'access.admin_grant' },
      schema: {
        tags,
        summary: 'Rotate a passive knoc’s feed token and/or key (the new key is returned once)',
        params: IdParams,
        body: Type.Optional(
          Type.Object(
            { token: Type.Optional(Type.Boolean()), key: Type.Optional(Type.Boolean()) },
            { additionalProperties: false },
          ),
        ),
        response: {
          200: Type.Object({ feed_token: Type.String(), feed_key: Nullable(Type.String()) }),
          ...ERROR_RESPONSES,
        },
      },
    },
    async (request) => {
      const row = await getKnocRow(ctxOf(request), request.params.id);
      requireSite(request, 'access.admin_grant', row.siteId, 'write');
      const body = request.body ?? {};
      const rotated = await rotateFeed(ctxOf(request), row.id, {
        token: body.token ?? true,
        key: body.key ?? true,
      });
      return { feed_token: rotated.feedToken, feed_key: rotated.feedKey };
    },
  );

  app.get(
    '/api/v1/access/knocs/:id/fetches',
    {
      config: { permission: 'access.view' },
      schema: {
        tags,
        summary: 'Recent EDL fetches of a passive knoc: when, from where, status and entries served',
        params: IdParams,
        querystring: Type.Object(Paging, { additionalProperties: false }),
        response: {
          200: Type.Object({
            items: Type.Array(
              Type.Object({
                fetched_at: Timestamp,
                source_ip: Type.String(),
                status: Type.Integer(),
                entries: Nullable(Type.Integer()),
                format: Type.String(),
              }),
            ),
          }),
          ...ERROR_RESPONSES,
        },
      },
    },
    async (request) => {
      const row = await getKnocRow(ctxOf(request), request.params.id);
      requireSite(request, 'access.view', row.siteId, 'read');
      const items = await app.store.db
        .select({
          fetched_at: edlFetches.fetchedAt,
          source_ip: edlFetches.sourceIp,
          status: edlFetches.status,
          entries: edlFetches.entries,
          format: edlFetches.format,
        })
        .from(edlFetches)
        .where(and(eq(edlFetches.knocId, row.id)))
        .orderBy(desc(edlFetches.id))
        .limit(request.query.limit ?? 100)
        .offset(request.query.offset ?? 0);
      return { items };
    },
  );
};
