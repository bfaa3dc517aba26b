/**
 * @module Brownfield import and reconciliation (docs/reference/freesdn-firewall-module.md §17-§18,
 * docs/orchestration.md): thin routes over src/orchestration/import. The wizard (`/import/...`) and the
 * reconciliation import need `gateway.import` on the session's site, the alignment `gateway.view`, the
 * reconciliation distribute `gateway.distribute`; a step 5 with `force` (device writes) needs `gateway.distribute`
 * as well. Another site's session is a 404.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { triggerDistribution } from '../../orchestration/distribution/index.ts';
import { ALIGNMENT_STATUSES, RESOURCE_KINDS } from '../../orchestration/import/compare.ts';
import { distributeToLimbs, importFromBrain, siteAlignment } from '../../orchestration/import/reconcile.ts';
import {
  advanceImport,
  cancelImport,
  getImportSession,
  type ImportDeps,
  type ImportSessionView,
  listImportSessions,
  SESSION_STATUSES,
  STEP_NAMES,
  STEP_STATUSES,
  startImport,
} from '../../orchestration/import/session.ts';
import { ctxOf, pendingDepsOf } from '../context.ts';
import { ApiError } from '../errors.ts';
import { principalOf, requireSite, siteFilter } from '../plugins/access.ts';
import { ERROR_RESPONSES, IdParams, Paging, PathId, StringEnum, Uuid } from '../schemas.ts';
import { toApi } from '../views.ts';
import { requireSiteObject } from './firewall-scope.ts';
import { emptyBodyIsObject, Nullable, Timestamp } from './gateways.ts';

const tags = ['orchestration'];
const SiteParams = Type.Object({ site_id: PathId }, { additionalProperties: false });

const Step = Type.Object({
  step: Type.Integer(),
  name: StringEnum(STEP_NAMES),
  status: StringEnum(STEP_STATUSES),
  payload: Type.Unknown({ description: 'What the step was given (2: roles, 4: decisions, 5: force)' }),
  result: Type.Unknown({
    description:
      '1: {devices}, 2: {assignments}, 3: {resources, counts}, 4: {decided, plan}, 5: {changes, notes, role_map, distributions}, 6: alignment report with {aligned, unaligned}',
  }),
  error: Nullable(Type.Object({ code: Type.String(), field: Nullable(Type.String()), message: Type.String() })),
  started_at: Nullable(Type.String()),
  finished_at: Nullable(Type.String()),
});
const Session = Type.Object({
  id: Uuid,
  site_id: Uuid,
  status: StringEnum(SESSION_STATUSES),
  current_step: Type.Integer(),
  next: Nullable(Type.String()),
  steps: Type.Array(Step),
  created_by: Nullable(Uuid),
  created_at: Timestamp,
  updated_at: Timestamp,
});

const AlignmentItem = Type.Object({
  key: Type.String(),
  kind: StringEnum(RESOURCE_KINDS),
  name: Type.String(),
  vlan_id: Nullable(Type.Integer()),
  device_id: Uuid,
  device_name: Type.String(),
  role: StringEnum(['brain', 'limb'] as const),
  status: StringEnum(ALIGNMENT_STATUSES),
  expected: Nullable(Type.Object({}, { additionalProperties: true })),
  actual: Nullable(Type.Object({}, { additionalProperties: true })),
  differences: Type.Array(Type.String()),
  message: Nullable(Type.String()),
});
const Alignment = Type.Object({
  site_id: Uuid,
  counts: Type.Object(Object.fromEntries(ALIGNMENT_STATUSES.map((s) => [s, Type.Integer()]))),
  score: Type.Number(),
  items: Type.Array(AlignmentItem),
  skipped: Type.Array(Type.Object({ device_id: Uuid, what: Type.String(), capability: Type.String(), reason: Type.String() })),
});
const VlanLine = { vlan_id: Type.Integer(), name: Type.String(), ipv4_subnet: Nullable(Type.String()), ipv6_subnet: Nullable(Type.String()) };
const ImportResult = Type.Object({
  site_id: Uuid,
  dry_run: Type.Boolean(),
  created: Type.Integer(),
  updated: Type.Integer(),
  unchanged: Type.Integer(),
  vlans: Type.Array(Type.Object({ ...VlanLine, action: StringEnum(['created', 'updated', 'unchanged', 'refused'] as const) })),
  errors: Type.Array(Type.Object({ vlan_id: Type.Integer(), field: Nullable(Type.String()), message: Type.String() })),
  orphaned: Type.Array(Type.Object({ canonical_vlan_id: Uuid, ...VlanLine, reason: Type.String() })),
});
const DistributionRef = Nullable(
  Type.Object({ id: Uuid, status: Type.String(), error: Nullable(Type.Object({ code: Type.String(), message: Type.String() })) }),
);
const DistributeResult = Type.Object({
  site_id: Uuid,
  distributed: Type.Array(
    Type.Object({
      vlan_id: Type.Integer(),
      canonical_vlan_id: Uuid,
      limbs_missing: Type.Array(Uuid),
      distribution: DistributionRef,
      error: Nullable(Type.Object({ code: Type.String(), message: Type.String() })),
    }),
  ),
  skipped: Type.Array(Type.Object({ vlan_id: Type.Integer(), reason: Type.String() })),
  unreachable: Type.Array(Type.Object({ gateway_id: Uuid, name: Type.String(), message: Type.String() })),
});

/** The adapters, the live-write gates and the distribution engine, as the import and reconciliation use them. */
function depsOf(request: FastifyRequest): ImportDeps {
  const pending = pendingDepsOf(request);
  return {
    device: (gatewayId) => pending.device(gatewayId),
    async distribute(ctx, input) {
      const view = await triggerDistribution(ctx, pending, input);
      return { id: view.id, status: view.status, error: view.error ? { code: view.error.code, message: view.error.message } : null };
    },
  };
}

const sessionBody = (session: ImportSessionView) => toApi(session);

export async function importRoutes(root: FastifyInstance): Promise<void> {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();

  app.get(
    '/api/v1/firewall/import',
    {
      config: { permission: 'gateway.import' },
      schema: {
        tags,
        summary: 'Import sessions of the sites you can import at, newest first',
        querystring: Type.Object({ site_id: Type.Optional(Uuid), ...Paging }, { additionalProperties: false }),
        response: { 200: Type.Object({ items: Type.Array(Session) }), ...ERROR_RESPONSES },
      },
    },
    async (request) => {
      const { site_id, limit, offset } = request.query;
      const items = await listImportSessions(ctxOf(request), {
        scope: siteFilter(request, 'gateway.import'),
        ...(site_id ? { siteId: site_id } : {}),
        ...(limit !== undefined ? { limit } : {}),
        ...(offset !== undefined ? { offset } : {}),
      });
      return { items: items.map(sessionBody) };
    },
  );

  app.post(
    '/api/v1/firewall/import/start',
    {
      config: { permission: 'gateway.import' },
      schema: {
        tags,
        summary: 'Start a brownfield import of a site: runs step 1 (discover: every gateway of the site read live); the session then waits for step 2',
        body: Type.Object({ site_id: Uuid }, { additionalProperties: false }),
        response: { 201: Session, ...ERROR_RESPONSES },
      },
    },
    async (request, reply) => {
      if (!principalOf(request).permissions.can('gateway.import', request.body.site_id)) {
        throw new ApiError('PC_ERR_VALIDATION', 'site_id: no such site', { field: 'site_id' });
      }
      const session = await startImport(ctxOf(request), depsOf(request), request.body.site_id);
      return reply.code(201).send(sessionBody(session));
    },
  );

  app.get(
    '/api/v1/firewall/import/:id',
    {
      config: { permission: 'gateway.import' },
      schema: {
        tags,
        summary: 'An import session: its status, the step it waits for and every step with its payload and result',
        params: IdParams,
        response: { 200: Session, ...ERROR_RESPONSES },
      },
    },
    async (request) => {
      const session = await getImportSession(ctxOf(request), request.params.id);
      requireSiteObject(request, session.siteId, 'gateway.import');
      return sessionBody(session);
    },
  );

  app.post(
    '/api/v1/firewall/import/:id/step',
    {
      config: { permission: 'gateway.import' },
      schema: {
        tags,
        summary:
          'Run the step the session waits for: 2 {payload: {roles}} (then 3, scan), 4 {payload: {decisions}}, 5 {force} (then 6, verify). Another step is a 409',
        params: IdParams,
        body: Type.Object(
          {
            step: Type.Integer({ minimum: 1, maximum: 6 }),
            payload: Type.Optional(Type.Object({}, { additionalProperties: true, maxProperties: 4 })),
            force: Type.Optional(Type.Boolean({ description: 'Step 5: run the device writes of the distributions (else they are only planned)' })),
          },
          { additionalProperties: false },
        ),
        response: { 200: Session, ...ERROR_RESPONSES },
      },
    },
    async (request) => {
      const ctx = ctxOf(request);
      const session = await getImportSession(ctx, request.params.id);
      requireSiteObject(request, session.siteId, 'gateway.import');
      if (request.body.step === 5 && request.body.force && !principalOf(request).permissions.can('gateway.distribute', session.siteId)) {
        throw new ApiError('PC_ERR_FORBIDDEN', 'force=true writes to the devices: step 5 with force needs gateway.distribute on the site.');
      }
      const { step, payload, force } = request.body;
      return sessionBody(
        await advanceImport(ctx, depsOf(request), session.id, { step, ...(payload !== undefined ? { payload } : {}), ...(force !== undefined ? { force } : {}) }),
      );
    },
  );

  app.post(
    '/api/v1/firewall/import/:id/cancel',
    {
      ...emptyBodyIsObject,
      config: { permission: 'gateway.import' },
      schema: {
        tags,
        summary: 'Cancel an import session that has not ended (409 once completed or cancelled)',
        params: IdParams,
        response: { 200: Session, ...ERROR_RESPONSES },
      },
    },
    async (request) => {
      const ctx = ctxOf(request);
      const session = await getImportSession(ctx, request.params.id);
      requireSiteObject(request, session.siteId, 'gateway.import');
      return sessionBody(await cancelImport(ctx, session.id));
    },
  );

  // ---- reconciliation ---------------------------------------------------------------------------------------
  app.post(
    '/api/v1/firewall/reconciliation/:site_id/import',
    {
      ...emptyBodyIsObject,
      config: { permission: 'gateway.import' },
      schema: {
        tags,
        summary: "Import the brain's VLAN interfaces into the canonical VLANs (create / update; refused ones listed) and flag canonical VLANs the brain lacks as orphans",
        params: SiteParams,
        body: Type.Object({ dry_run: Type.Optional(Type.Boolean()) }, { additionalProperties: false }),
        response: { 200: ImportResult, ...ERROR_RESPONSES },
      },
    },
    async (request) => {
      requireSiteObject(request, request.params.site_id, 'gateway.view', 'gateway.import');
      return importFromBrain(ctxOf(request), depsOf(request), request.params.site_id, { dryRun: request.body.dry_run === true });
    },
  );

  app.get(
    '/api/v1/firewall/reconciliation/:site_id/alignment',
    {
      config: { permission: 'gateway.view' },
      schema: {
        tags,
        summary: 'Canonical state against every device of the role map, per resource and device: aligned, missing, modified, extra or error',
        params: SiteParams,
        response: { 200: Alignment, ...ERROR_RESPONSES },
      },
    },
    async (request) => {
      requireSite(request, 'gateway.view', request.params.site_id, 'read');
      return siteAlignment(ctxOf(request), depsOf(request), request.params.site_id);
    },
  );

  app.post(
    '/api/v1/firewall/reconciliation/:site_id/distribute',
    {
      ...emptyBodyIsObject,
      config: { permission: 'gateway.distribute' },
      schema: {
        tags,
        summary: 'Distribute every canonical VLAN (or vlan_ids) some limb does not carry through the distribution engine; force runs the writes',
        params: SiteParams,
        body: Type.Object(
          {
            vlan_ids: Type.Optional(Type.Array(Type.Integer(), { maxItems: 512 })),
            force: Type.Optional(Type.Boolean()),
          },
          { additionalProperties: false },
        ),
        response: { 200: DistributeResult, ...ERROR_RESPONSES },
      },
    },
    async (request) => {
      requireSiteObject(request, request.params.site_id, 'gateway.view', 'gateway.distribute');
      const { vlan_ids, force } = request.body;
      return distributeToLimbs(ctxOf(request), depsOf(request), request.params.site_id, {
        ...(vlan_ids ? { vlanIds: vlan_ids } : {}),
        ...(force !== undefined ? { force } : {}),
      });
    },
  );
}
