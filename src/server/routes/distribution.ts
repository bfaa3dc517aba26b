/**
 * @module The distribution engine (`/api/v1/firewall/distribution`, docs/orchestration.md "Distribution",
 * docs/reference/freesdn-firewall-module.md §15): thin routes over src/orchestration/distribution. Reads need
 * `gateway.view` on the distribution's site (another site's is a 404); trigger, retry and rollback need
 * `gateway.distribute` there (a site the caller can only read: 403; one it cannot see: 400 on `site_id`).
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import {
  getDistribution,
  listDistributions,
  retryDistribution,
  rollbackDistribution,
  triggerDistribution,
} from '../../orchestration/distribution/index.ts';
import { DISTRIBUTION_STATUSES, type DistributionView, STEP_STATUSES } from '../../orchestration/distribution/model.ts';
import { findDistribution } from '../../orchestration/distribution/store.ts';
import { ctxOf, pendingDepsOf } from '../context.ts';
import { ApiError } from '../errors.ts';
import { principalOf, siteFilter } from '../plugins/access.ts';
import { ERROR_RESPONSES, IdParams, Paging, StringEnum, Uuid } from '../schemas.ts';
import { toApi } from '../views.ts';
import { requireSiteObject } from './firewall-scope.ts';
import { emptyBodyIsObject, Nullable, Timestamp } from './gateways.ts';

const tags = ['distribution'];
const BASE = '/api/v1/firewall/distribution';

const ErrorInfo = Nullable(
  Type.Object({ code: Type.String(), message: Type.String(), step_id: Type.Optional(Nullable(Uuid)) }, { additionalProperties: true }),
);

const Step = Type.Object({
  id: Uuid,
  attempt: Type.Integer(),
  seq: Type.Integer(),
  tier: Type.Integer({ description: '0: reachability; 1: the brain; 2…: one limb each' }),
  device_id: Uuid,
  device_name: Type.String(),
  kind: Type.String({ description: 'reachability, vlan_interface, dhcp_scope, dhcp_static_mapping, dns_override, bridge_vlan' }),
  resource_key: Type.String(),
  action: StringEnum(['check', 'create', 'update', 'noop'] as const),
  status: StringEnum(STEP_STATUSES),
  desired: Type.Unknown(),
  before: Type.Unknown(),
  target: Nullable(Type.String()),
  compensation: Type.Unknown({ description: 'The write that undoes the step, recorded before it ran ({kind, op, target, body})' }),
  pending_change_id: Nullable(Uuid),
  compensation_change_id: Nullable(Uuid),
  verification: Type.Unknown(),
  error: Type.Unknown(),
  started_at: Nullable(Timestamp),
  finished_at: Nullable(Timestamp),
});

const Placement = Type.Object({
  brain_parent: Nullable(Type.String()),
  limbs: Type.Record(Type.String(), Type.Object({ bridge: Type.Optional(Type.String()), tagged: Type.Optional(Type.Array(Type.String())), untagged: Type.Optional(Type.Array(Type.String())) })),
});

const summaryFields = {
  id: Uuid,
  site_id: Uuid,
  canonical_vlan_id: Nullable(Uuid),
  vlan_tag: Type.Integer(),
  vlan_name: Type.String(),
  status: StringEnum(DISTRIBUTION_STATUSES),
  placement: Placement,
  attempt: Type.Integer(),
  error: ErrorInfo,
  triggered_by: Nullable(Uuid),
  started_at: Nullable(Timestamp),
  finished_at: Nullable(Timestamp),
  created_at: Timestamp,
  updated_at: Timestamp,
};
const Summary = Type.Object(summaryFields);
const Detail = Type.Object({ ...summaryFields, steps: Type.Array(Step), history: Type.Array(Step) });

const RunBody = Type.Object({ confirmed: Type.Optional(Type.Boolean()) }, { additionalProperties: false });


const detailBody = (view: DistributionView) => ({ ...toApi(view), steps: view.steps.map(toApi), history: view.history.map(toApi) });

/** A distribution of a site the caller cannot see is a 404; one it may only read, a 403. */
async function requireWritable(request: FastifyRequest, id: string): Promise<void> {
  const row = await findDistribution(ctxOf(request), id);
  requireSiteObject(request, row.siteId, 'gateway.view', 'gateway.distribute');
}

export const distributionRoutes: FastifyPluginAsync = async (root) => {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();

  app.get(
    BASE,
    {
      config: { permission: 'gateway.view' },
      schema: {
        tags,
        summary: 'Distributions of the sites you can see, newest first (paged, with the total; steps are in the detail)',
        querystring: Type.Object(
          { site_id: Type.Optional(Uuid), canonical_vlan_id: Type.Optional(Uuid), status: Type.Optional(StringEnum(DISTRIBUTION_STATUSES)), ...Paging },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ items: Type.Array(Summary), total: Type.Integer() }), ...ERROR_RESPONSES },
      },
    },
    async (request) => {
      const { limit, offset, ...filters } = request.query;
      const { items, total } = await listDistributions(ctxOf(request), {
        scope: siteFilter(request, 'gateway.view'),
        filters,
        ...(limit !== undefined ? { limit } : {}),
        ...(offset !== undefined ? { offset } : {}),
      });
      return { items: items.map(toApi), total };
    },
  );

  app.get(
    `${BASE}/:id`,
    {
      config: { permission: 'gateway.view' },
      schema: { tags, summary: 'One distribution: its plan and per-step results (earlier attempts in history)', params: IdParams, response: { 200: Detail, ...ERROR_RESPONSES } },
    },
    async (request) => {
      const view = await getDistribution(ctxOf(request), request.params.id);
      requireSiteObject(request, view.siteId, 'gateway.view');
      return detailBody(view);
    },
  );

  app.post(
    `${BASE}/trigger`,
    {
      config: { permission: 'gateway.distribute' },
      schema: {
        tags,
        summary:
          'Distribute a canonical VLAN to the site\u2019s brain and limbs. force=true runs the saga now (409 while another distribution holds the site); without it the distribution is only planned',
        body: Type.Object(
          {
            site_id: Type.String({ maxLength: 100 }),
            vlan_id: Type.String({ maxLength: 100, description: 'The canonical VLAN\u2019s id (UUID), not its 802.1Q tag' }),
            force: Type.Optional(Type.Boolean()),
            confirmed: Type.Optional(Type.Boolean()),
            placement: Type.Optional(Type.Unknown({ description: '{brain_parent?, limbs?: {gateway_id: {bridge?, tagged?, untagged?}}}' })),
          },
          { additionalProperties: false },
        ),
        response: { 201: Detail, ...ERROR_RESPONSES },
      },
    },
    async (request, reply) => {
      const { site_id: siteId, vlan_id: vlanId, force, confirmed, placement } = request.body;
      const permissions = principalOf(request).permissions;
      const site = siteId.toLowerCase();
      if (!permissions.can('gateway.view', site) && !permissions.can('gateway.distribute', site)) {
        throw new ApiError('PC_ERR_VALIDATION', 'site_id: no such site', { field: 'site_id' });
      }
      if (!permissions.can('gateway.distribute', site)) {
        throw new ApiError('PC_ERR_FORBIDDEN', 'You cannot distribute at this site (needs gateway.distribute there).');
      }
      const view = await triggerDistribution(ctxOf(request), pendingDepsOf(request), {
        siteId,
        vlanId,
        ...(force !== undefined ? { force } : {}),
        ...(confirmed !== undefined ? { confirmed } : {}),
        placement,
      });
      return reply.code(201).send(detailBody(view));
    },
  );

  app.post(
    `${BASE}/:id/retry`,
    {
      config: { permission: 'gateway.distribute' },
      ...emptyBodyIsObject,
      schema: {
        tags,
        summary: 'Run a planned distribution, or run a failed or rolled back one again as a new attempt',
        params: IdParams,
        body: RunBody,
        response: { 200: Detail, ...ERROR_RESPONSES },
      },
    },
    async (request) => {
      await requireWritable(request, request.params.id);
      const view = await retryDistribution(ctxOf(request), pendingDepsOf(request), request.params.id, {
        ...(request.body.confirmed !== undefined ? { confirmed: request.body.confirmed } : {}),
      });
      return detailBody(view);
    },
  );

  app.post(
    `${BASE}/:id/rollback`,
    {
      config: { permission: 'gateway.distribute' },
      ...emptyBodyIsObject,
      schema: {
        tags,
        summary: 'Saga rollback: run the compensations of every step still in effect, newest first, each verified on the device (confirmed=true)',
        params: IdParams,
        body: RunBody,
        response: { 200: Detail, ...ERROR_RESPONSES },
      },
    },
    async (request) => {
      await requireWritable(request, request.params.id);
      const view = await rollbackDistribution(ctxOf(request), pendingDepsOf(request), request.params.id, {
        ...(request.body.confirmed !== undefined ? { confirmed: request.body.confirmed } : {}),
      });
      return detailBody(view);
    },
  );
};
