/**
 * @module Drift detection (docs/reference/freesdn-firewall-module.md §16, docs/drift.md): thin routes over
 * src/orchestration/drift. Every route needs `gateway.drift` on the object's site (another site's event or
 * suppression is a 404); a reapply with `force=true` (applied at once) also needs `firewall.manage_rules` there,
 * as any forced live write does.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyPluginAsync } from 'fastify';
import { Type } from 'typebox';
import {
  DRIFT_SEVERITIES,
  DRIFT_STATUSES,
  DRIFT_TYPES,
  RESOLVE_ACTIONS,
  SUPPRESSION_MODES,
} from '../../orchestration/drift/model.ts';
import {
  checkSite,
  deactivateSuppression,
  driftSummary,
  getDriftEvent,
  getSuppression,
  listDriftEvents,
  listSuppressions,
  RESOURCE_TYPES,
  resolveDriftEvent,
  createSuppression,
} from '../../orchestration/drift/service.ts';
import { ctxOf, pendingDepsOf } from '../context.ts';
import { ApiError } from '../errors.ts';
import { principalOf, siteFilter } from '../plugins/access.ts';
import { ERROR_RESPONSES, IdParams, Line, Paging, PathId, ref, StringEnum, Uuid } from '../schemas.ts';
import { toApi } from '../views.ts';
import { requireSiteObject } from './firewall-scope.ts';
import { Nullable, Timestamp } from './gateways.ts';

const tags = ['drift'];
const BASE = '/api/v1/firewall/drift';


const DriftEvent = Type.Object({
  id: Uuid,
  site_id: Uuid,
  device_id: Uuid,
  resource_type: Type.String(),
  resource_key: Type.String(),
  resource_name: Type.String(),
  drift_type: StringEnum(DRIFT_TYPES),
  severity: StringEnum(DRIFT_SEVERITIES),
  status: StringEnum(DRIFT_STATUSES),
  resolution: Nullable(Type.String()),
  message: Type.String(),
  expected: Type.Unknown(),
  actual: Type.Unknown(),
  details: Type.Unknown(),
  occurrences: Type.Integer(),
  first_seen_at: Timestamp,
  last_seen_at: Timestamp,
  pending_change_id: Nullable(Uuid),
  suppression_id: Nullable(Uuid),
  resolved_at: Nullable(Timestamp),
  resolved_by: Nullable(Uuid),
});

const Suppression = Type.Object({
  id: Uuid,
  site_id: Uuid,
  device_id: Nullable(Uuid),
  resource_type: Type.String(),
  pattern: Type.String(),
  mode: StringEnum(SUPPRESSION_MODES),
  drift_type: Nullable(StringEnum(DRIFT_TYPES)),
  reason: Type.String(),
  is_active: Type.Boolean(),
  created_by: Nullable(Uuid),
  created_at: Timestamp,
  deactivated_at: Nullable(Timestamp),
  deactivated_by: Nullable(Uuid),
});

const GatewayCheck = Type.Object({
  gateway_id: Uuid,
  site_id: Uuid,
  outcome: StringEnum(['ok', 'failed', 'skipped'] as const),
  baseline_taken: Type.Boolean(),
  skipped: Type.Array(Type.Object({ resource_type: Type.String(), capability: Type.String(), reason: Type.String() })),
  opened: Type.Array(Uuid),
  updated: Type.Integer(),
  cleared: Type.Integer(),
  suppressed: Type.Integer(),
  ignored: Type.Integer(),
  error: Nullable(Type.Object({ code: Type.String(), vendor_code: Nullable(Type.String()), message: Type.String() })),
});

const Counts = { critical: Type.Integer(), warning: Type.Integer(), info: Type.Integer() };


export const driftRoutes: FastifyPluginAsync = async (root) => {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();

  app.get(
    `${BASE}/events`,
    {
      config: { permission: 'gateway.drift' },
      schema: {
        tags,
        summary: 'Drift events of the sites you can see, most recently seen first (paged, with the total)',
        querystring: Type.Object(
          {
            site_id: Type.Optional(Uuid),
            device_id: Type.Optional(Uuid),
            severity: Type.Optional(StringEnum(DRIFT_SEVERITIES)),
            status: Type.Optional(StringEnum(DRIFT_STATUSES)),
            drift_type: Type.Optional(StringEnum(DRIFT_TYPES)),
            resource_type: Type.Optional(StringEnum(RESOURCE_TYPES)),
            ...Paging,
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ items: Type.Array(DriftEvent), total: Type.Integer() }), ...ERROR_RESPONSES },
      },
    },
    async (request) => {
      const { limit, offset, ...filters } = request.query;
      const { items, total } = await listDriftEvents(ctxOf(request), {
        scope: siteFilter(request, 'gateway.drift'),
        filters,
        ...(limit !== undefined ? { limit } : {}),
        ...(offset !== undefined ? { offset } : {}),
      });
      return { items: items.map(toApi), total };
    },
  );

  app.get(
    `${BASE}/events/:id`,
    {
      config: { permission: 'gateway.drift' },
      schema: { tags, summary: 'One drift event', params: IdParams, response: { 200: DriftEvent, ...ERROR_RESPONSES } },
    },
    async (request) => {
      const event = await getDriftEvent(ctxOf(request), request.params.id);
      requireSiteObject(request, event.siteId, 'gateway.drift');
      return toApi(event);
    },
  );

  app.get(
    `${BASE}/summary`,
    {
      config: { permission: 'gateway.drift' },
      schema: {
        tags,
        summary: 'Drift event counts by severity and pending/resolved, and gateways whose last check did not run',
        querystring: Type.Object({ site_id: Type.Optional(Uuid) }, { additionalProperties: false }),
        response: {
          200: Type.Object({
            total: Type.Integer(),
            ...Counts,
            pending: Type.Integer(),
            resolved: Type.Integer(),
            pending_by_severity: Type.Object(Counts),
            gateways_not_checked: Type.Integer(),
          }),
          ...ERROR_RESPONSES,
        },
      },
    },
    async (request) =>
      driftSummary(ctxOf(request), {
        scope: siteFilter(request, 'gateway.drift'),
        ...(request.query.site_id ? { siteId: request.query.site_id } : {}),
      }),
  );

  app.post(
    `${BASE}/check/:siteId`,
    {
      config: { permission: 'gateway.drift' },
      schema: {
        tags,
        summary: 'Check every gateway of the site for drift now; answers with the outcome per gateway',
        params: Type.Object({ siteId: PathId }, { additionalProperties: false }),
        response: {
          200: Type.Object({ site_id: Uuid, gateways: Type.Array(GatewayCheck) }),
          ...ERROR_RESPONSES,
        },
      },
    },
    async (request) => {
      const siteId = request.params.siteId;
      const scope = siteFilter(request, 'gateway.drift');
      if (scope !== 'all' && !scope.includes(siteId)) throw new ApiError('PC_ERR_NOT_FOUND');
      return checkSite(ctxOf(request), pendingDepsOf(request), siteId);
    },
  );

  app.post(
    `${BASE}/events/:id/resolve`,
    {
      config: { permission: 'gateway.drift' },
      schema: {
        tags,
        summary:
          'Resolve a drift event: reapply (stage the write that restores the baseline; force applies it), accept (the device becomes the baseline) or ignore',
        params: IdParams,
        body: Type.Object(
          {
            resolution: StringEnum(RESOLVE_ACTIONS),
            force: Type.Optional(Type.Boolean()),
            confirmed: Type.Optional(Type.Boolean()),
            suppress: Type.Optional(Type.Boolean()),
            reason: Type.Optional(Line({ minLength: 1, maxLength: 500 })),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            event: DriftEvent,
            pending_change: Nullable(ref('PendingChange')),
            suppression: Nullable(Suppression),
          }),
          ...ERROR_RESPONSES,
        },
      },
    },
    async (request) => {
      const ctx = ctxOf(request);
      const event = await getDriftEvent(ctx, request.params.id);
      requireSiteObject(request, event.siteId, 'gateway.drift');
      if (request.body.force && !principalOf(request).permissions.can('firewall.manage_rules', event.siteId)) {
        throw new ApiError('PC_ERR_FORBIDDEN', 'force=true applies a live write at once: it needs firewall.manage_rules on the site.');
      }
      const { resolution, force, confirmed, suppress, reason } = request.body;
      const result = await resolveDriftEvent(ctx, pendingDepsOf(request), event.id, {
        resolution,
        ...(force !== undefined ? { force } : {}),
        ...(confirmed !== undefined ? { confirmed } : {}),
        ...(suppress !== undefined ? { suppress } : {}),
        ...(reason !== undefined ? { reason } : {}),
      });
      return {
        event: toApi(result.event),
        pending_change: result.pending_change === null ? null : toApi(result.pending_change),
        suppression: result.suppression === null ? null : toApi(result.suppression),
      };
    },
  );

  app.get(
    `${BASE}/suppressions`,
    {
      config: { permission: 'gateway.drift' },
      schema: {
        tags,
        summary: 'Suppression rules of the sites you can see (active ones unless include_inactive=true)',
        querystring: Type.Object(
          { site_id: Type.Optional(Uuid), include_inactive: Type.Optional(Type.Boolean()), ...Paging },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ items: Type.Array(Suppression) }), ...ERROR_RESPONSES },
      },
    },
    async (request) => {
      const { site_id, include_inactive, limit, offset } = request.query;
      const items = await listSuppressions(ctxOf(request), {
        scope: siteFilter(request, 'gateway.drift'),
        activeOnly: include_inactive !== true,
        ...(site_id ? { siteId: site_id } : {}),
        ...(limit !== undefined ? { limit } : {}),
        ...(offset !== undefined ? { offset } : {}),
      });
      return { items: items.map(toApi) };
    },
  );

  app.post(
    `${BASE}/suppressions`,
    {
      config: { permission: 'gateway.drift' },
      schema: {
        tags,
        summary:
          'Create a suppression: silence a drift type on resources matching a pattern, or forbid matching resources (suppression_violated)',
        body: Type.Object(
          {
            site_id: Uuid,
            device_id: Type.Optional(Nullable(Uuid)),
            resource_type: StringEnum(RESOURCE_TYPES),
            pattern: Line({ minLength: 1, maxLength: 200 }),
            mode: Type.Optional(StringEnum(SUPPRESSION_MODES)),
            drift_type: Type.Optional(Nullable(StringEnum(DRIFT_TYPES))),
            reason: Line({ minLength: 1, maxLength: 500 }),
          },
          { additionalProperties: false },
        ),
        response: { 201: Suppression, ...ERROR_RESPONSES },
      },
    },
    async (request, reply) => {
      const permissions = principalOf(request).permissions;
      if (!permissions.can('gateway.drift', request.body.site_id)) {
        throw new ApiError('PC_ERR_VALIDATION', 'site_id: no such site', { field: 'site_id' });
      }
      const view = await createSuppression(ctxOf(request), request.body);
      return reply.code(201).send(toApi(view));
    },
  );

  app.delete(
    `${BASE}/suppressions/:id`,
    {
      config: { permission: 'gateway.drift' },
      schema: {
        tags,
        summary: 'Deactivate a suppression (kept, inactive, for the record)',
        params: IdParams,
        response: { 200: Suppression, ...ERROR_RESPONSES },
      },
    },
    async (request) => {
      const ctx = ctxOf(request);
      const suppression = await getSuppression(ctx, request.params.id);
      requireSiteObject(request, suppression.siteId, 'gateway.drift');
      return toApi(await deactivateSuppression(ctx, suppression.id));
    },
  );
};
