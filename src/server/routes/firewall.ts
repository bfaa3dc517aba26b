/**
 * @module The firewall module's normalized tables (docs/firewall.md): `/api/v1/firewall/rules` (+ reorder),
 * `/nat`, `/vpn` (+ `/vpn/stats`), `/ids/alerts` (+ `/stats`, acknowledge) and `/logs`. Permissions are the
 * FreeSDN spec's: reads `firewall.view` (logs `firewall.view_logs`), writes `firewall.manage_rules|nat|vpn|ids`.
 * Objects belong to a gateway (`device_id`) and so to its site; another site's object is a 404.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { type TSchema, Type } from 'typebox';
import { ValidationError } from '../../errors.ts';
import {
  IDS_SEVERITIES,
  LOG_ACTIONS,
  NAT_TYPES,
  PROTOCOLS,
  RULE_ACTIONS,
  VPN_STATUSES,
  VPN_TYPES,
} from '../../firewall/fields.ts';
import { acknowledgeIdsAlert, getIdsAlert, idsAlertStats, listIdsAlerts } from '../../firewall/ids.ts';
import { listLogs } from '../../firewall/logs.ts';
import { NAT_RULES } from '../../firewall/nat.ts';
import {
  createObject,
  deleteObject,
  getObject,
  listObjects,
  type ObjectBase,
  type ObjectKind,
  requireDevice,
  updateObject,
} from '../../firewall/objects.ts';
import { reorderRules, RULES } from '../../firewall/rules.ts';
import { VPN_TUNNELS, vpnStats } from '../../firewall/vpn.ts';
import type { Permission } from '../../identity/permissions.ts';
import { normalizeIp } from '../../net/ip.ts';
import { ctxOf } from '../context.ts';
import { siteFilter } from '../plugins/access.ts';
import { ERROR_RESPONSES, IdParams, Paging, Uuid } from '../schemas.ts';
import { toApi } from '../views.ts';
import { requireDeviceAccess, requireSiteObject } from './firewall-scope.ts';
import { Nullable, Timestamp } from './gateways.ts';

const tags = ['firewall'];
const literals = <T extends string>(values: readonly T[]) => Type.Union(values.map((v) => Type.Literal(v)));
const Text = (max: number) => Type.String({ maxLength: max });

const Owned = {
  id: Uuid,
  device_id: Uuid,
  site_id: Uuid,
  created_at: Timestamp,
  updated_at: Timestamp,
};
const Synced = { last_synced_at: Nullable(Timestamp), device_deleted_at: Nullable(Timestamp) };

/** Writable rule fields, types only; the service checks values and names the field. */
const RuleFields = {
  source_address: Text(200),
  source_port: Type.Union([Text(100), Type.Integer()]),
  source_zone: Nullable(Text(32)),
  dest_address: Text(200),
  dest_port: Type.Union([Text(100), Type.Integer()]),
  dest_zone: Nullable(Text(32)),
  protocol: Text(16),
  action: literals(RULE_ACTIONS),
  log_enabled: Type.Boolean(),
  is_enabled: Type.Boolean(),
  rule_order: Type.Integer(),
  description: Text(1000),
  vendor_rule_id: Nullable(Text(128)),
};
const RuleSchema = Type.Object({
  ...Owned,
  source_address: Type.String(),
  source_port: Type.String(),
  source_zone: Nullable(Type.String()),
  dest_address: Type.String(),
  dest_port: Type.String(),
  dest_zone: Nullable(Type.String()),
  protocol: literals(PROTOCOLS),
  action: literals(RULE_ACTIONS),
  log_enabled: Type.Boolean(),
  is_enabled: Type.Boolean(),
  rule_order: Type.Integer(),
  description: Type.String(),
  vendor_rule_id: Nullable(Type.String()),
  hit_count: Type.Integer(),
  ...Synced,
});

const NatFields = {
  nat_type: literals(NAT_TYPES),
  interface: Nullable(Text(32)),
  protocol: Text(16),
  source_address: Text(200),
  source_port: Type.Union([Text(100), Type.Integer()]),
  dest_address: Text(200),
  dest_port: Type.Union([Text(100), Type.Integer()]),
  translated_address: Nullable(Text(200)),
  translated_port: Nullable(Type.Union([Text(100), Type.Integer()])),
  is_enabled: Type.Boolean(),
  log_enabled: Type.Boolean(),
  rule_order: Type.Integer(),
  description: Text(1000),
  vendor_rule_id: Nullable(Text(128)),
};
const NatSchema = Type.Object({
  ...Owned,
  nat_type: literals(NAT_TYPES),
  interface: Nullable(Type.String()),
  protocol: literals(PROTOCOLS),
  source_address: Type.String(),
  source_port: Type.String(),
  dest_address: Type.String(),
  dest_port: Type.String(),
  translated_address: Nullable(Type.String()),
  translated_port: Nullable(Type.String()),
  is_enabled: Type.Boolean(),
  log_enabled: Type.Boolean(),
  rule_order: Type.Integer(),
  description: Type.String(),
  vendor_rule_id: Nullable(Type.String()),
  ...Synced,
});

const VpnFields = {
  name: Text(100),
  vpn_type: literals(VPN_TYPES),
  vpn_status: literals(VPN_STATUSES),
  local_address: Nullable(Text(253)),
  remote_address: Nullable(Text(253)),
  local_networks: Type.Array(Text(64), { maxItems: 256 }),
  remote_networks: Type.Array(Text(64), { maxItems: 256 }),
  is_enabled: Type.Boolean(),
  description: Text(1000),
  vendor_tunnel_id: Nullable(Text(128)),
};
const VpnSchema = Type.Object({
  ...Owned,
  name: Type.String(),
  vpn_type: literals(VPN_TYPES),
  vpn_status: literals(VPN_STATUSES),
  local_address: Nullable(Type.String()),
  remote_address: Nullable(Type.String()),
  local_networks: Type.Array(Type.String()),
  remote_networks: Type.Array(Type.String()),
  is_enabled: Type.Boolean(),
  description: Type.String(),
  vendor_tunnel_id: Nullable(Type.String()),
  bytes_in: Type.Integer(),
  bytes_out: Type.Integer(),
  status_changed_at: Nullable(Timestamp),
  ...Synced,
});

const IdsAlertSchema = Type.Object({
  id: Uuid,
  device_id: Uuid,
  site_id: Uuid,
  vendor_alert_id: Nullable(Type.String()),
  severity: literals(IDS_SEVERITIES),
  signature_id: Nullable(Type.Integer()),
  signature: Type.String(),
  category: Nullable(Type.String()),
  protocol: Nullable(Type.String()),
  source_ip: Nullable(Type.String()),
  source_port: Nullable(Type.Integer()),
  dest_ip: Nullable(Type.String()),
  dest_port: Nullable(Type.Integer()),
  action_taken: Type.String(),
  occurred_at: Timestamp,
  acknowledged: Type.Boolean(),
  acknowledged_at: Nullable(Timestamp),
  acknowledged_by: Nullable(Uuid),
  created_at: Timestamp,
});

const LogSchema = Type.Object({
  id: Type.Integer(),
  device_id: Uuid,
  site_id: Uuid,
  logged_at: Timestamp,
  action: literals(LOG_ACTIONS),
  interface: Nullable(Type.String()),
  direction: Nullable(Type.String()),
  ip_version: Nullable(Type.Integer()),
  protocol: Nullable(Type.String()),
  source_ip: Nullable(Type.String()),
  source_port: Nullable(Type.Integer()),
  dest_ip: Nullable(Type.String()),
  dest_port: Nullable(Type.Integer()),
  vendor_rule_id: Nullable(Type.String()),
  reason: Nullable(Type.String()),
  length: Nullable(Type.Integer()),
});

const Items = (schema: TSchema) => Type.Object({ items: Type.Array(schema) });
const DateTime = Type.String({ format: 'date-time' });

function dateOf(field: string, value: string | undefined): Date | undefined {
  if (value === undefined) return undefined;
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) throw new ValidationError(field, `${field} must be a date-time`);
  return date;
}

function ipOf(field: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const ip = normalizeIp(value);
  if (ip === null) throw new ValidationError(field, `${field} must be an IPv4 or IPv6 address`);
  return ip;
}

export async function firewallRoutes(root: FastifyInstance): Promise<void> {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();

  function tableRoutes<Row extends ObjectBase>(spec: {
    path: string;
    kind: ObjectKind<Row>;
    manage: Permission;
    schema: TSchema;
    fields: Record<string, TSchema>;
    required: readonly string[];
    /** Schemas of the kind's list filters. */
    filters: Record<string, TSchema>;
    noun: string;
  }): void {
    const { path, kind, manage, schema, noun } = spec;
    const optional = Object.fromEntries(Object.entries(spec.fields).map(([k, s]) => [k, Type.Optional(s)]));
    const createBody = Type.Object(
      {
        device_id: Uuid,
        ...optional,
        ...Object.fromEntries(spec.required.map((k) => [k, spec.fields[k] as TSchema])),
      },
      { additionalProperties: false },
    );
    // PATCH: allow-listed fields are typed; any other key (device_id, hit_count, …) is accepted and ignored.
    const patchBody = Type.Object(optional, { additionalProperties: true });

    app.get(
      path,
      {
        config: { permission: 'firewall.view' },
        schema: {
          tags,
          summary: `List ${noun}s of the sites you can see`,
          querystring: Type.Object(
            {
              device_id: Type.Optional(Uuid),
              site_id: Type.Optional(Uuid),
              ...Object.fromEntries(Object.entries(spec.filters).map(([k, f]) => [k, Type.Optional(f)])),
              ...Paging,
            },
            { additionalProperties: false },
          ),
          response: { 200: Items(schema), ...ERROR_RESPONSES },
        },
      },
      async (request) => {
        const { limit, offset, ...filters } = request.query as Record<string, unknown>;
        const items = await listObjects(ctxOf(request), kind, {
          scope: siteFilter(request, 'firewall.view'),
          filters,
          ...(limit !== undefined ? { limit: limit as number } : {}),
          ...(offset !== undefined ? { offset: offset as number } : {}),
        });
        return { items: items.map(toApi) };
      },
    );

    app.get(
      `${path}/:id`,
      {
        config: { permission: 'firewall.view' },
        schema: { tags, summary: `Get one ${noun}`, params: IdParams, response: { 200: schema, ...ERROR_RESPONSES } },
      },
      async (request) => {
        const object = await getObject(ctxOf(request), kind, request.params.id);
        requireSiteObject(request, object.siteId, 'firewall.view');
        return toApi(object);
      },
    );

    app.post(
      path,
      {
        config: { permission: manage },
        schema: {
          tags,
          summary: `Create a ${noun} on a gateway (stored here; deploying it is a separate step)`,
          body: createBody,
          response: { 201: schema, ...ERROR_RESPONSES },
        },
      },
      async (request, reply) => {
        const ctx = ctxOf(request);
        const body = request.body as Record<string, unknown>;
        const device = await requireDevice(ctx, body.device_id);
        requireDeviceAccess(request, device.siteId, 'firewall.view', manage);
        const created = await createObject(ctx, kind, device, body);
        return reply.code(201).send(toApi(created));
      },
    );

    app.patch(
      `${path}/:id`,
      {
        config: { permission: manage },
        schema: {
          tags,
          summary: `Change a ${noun} (only its writable fields; device_id, hit_count and other keys are ignored)`,
          params: IdParams,
          body: patchBody,
          response: { 200: schema, ...ERROR_RESPONSES },
        },
      },
      async (request) => {
        const ctx = ctxOf(request);
        const before = await getObject(ctx, kind, request.params.id);
        requireSiteObject(request, before.siteId, 'firewall.view', manage);
        return toApi(await updateObject(ctx, kind, before.id, request.body as Record<string, unknown>));
      },
    );

    app.delete(
      `${path}/:id`,
      {
        config: { permission: manage },
        schema: {
          tags,
          summary: `Delete a ${noun} (soft)`,
          params: IdParams,
          response: { 204: Type.Null(), ...ERROR_RESPONSES },
        },
      },
      async (request, reply) => {
        const ctx = ctxOf(request);
        const before = await getObject(ctx, kind, request.params.id);
        requireSiteObject(request, before.siteId, 'firewall.view', manage);
        await deleteObject(ctx, kind, before.id);
        return reply.code(204).send(null);
      },
    );
  }

  // Registered before the `/:id` routes of the same prefix so the static segment wins clearly in the docs.
  app.post(
    '/api/v1/firewall/rules/reorder',
    {
      config: { permission: 'firewall.manage_rules' },
      schema: {
        tags,
        summary: 'Set rule_order 1..n on exactly the listed rules of a gateway, in the order given',
        querystring: Type.Object({ device_id: Uuid }, { additionalProperties: false }),
        body: Type.Array(Type.String({ maxLength: 100 }), { maxItems: 10_000 }),
        response: { 200: Type.Object({ device_id: Uuid, order: Type.Array(Uuid) }), ...ERROR_RESPONSES },
      },
    },
    async (request) => {
      const ctx = ctxOf(request);
      const device = await requireDevice(ctx, request.query.device_id);
      requireDeviceAccess(request, device.siteId, 'firewall.view', 'firewall.manage_rules');
      const order = await reorderRules(ctx, device, request.body);
      return { device_id: device.id, order };
    },
  );

  tableRoutes({
    path: '/api/v1/firewall/rules',
    kind: RULES,
    manage: 'firewall.manage_rules',
    schema: RuleSchema,
    fields: RuleFields,
    required: ['action'],
    filters: { action: literals(RULE_ACTIONS), is_enabled: Type.Boolean() },
    noun: 'firewall rule',
  });

  tableRoutes({
    path: '/api/v1/firewall/nat',
    kind: NAT_RULES,
    manage: 'firewall.manage_nat',
    schema: NatSchema,
    fields: NatFields,
    required: ['nat_type'],
    filters: { nat_type: literals(NAT_TYPES), is_enabled: Type.Boolean() },
    noun: 'NAT rule',
  });

  app.get(
    '/api/v1/firewall/vpn/stats',
    {
      config: { permission: 'firewall.view' },
      schema: {
        tags,
        summary: 'VPN tunnel counts: total, up, down, error (of the sites you can see)',
        querystring: Type.Object(
          { site_id: Type.Optional(Uuid), device_id: Type.Optional(Uuid) },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({ total: Type.Integer(), up: Type.Integer(), down: Type.Integer(), error: Type.Integer() }),
          ...ERROR_RESPONSES,
        },
      },
    },
    async (request) =>
      vpnStats(ctxOf(request), {
        scope: siteFilter(request, 'firewall.view'),
        ...(request.query.site_id ? { siteId: request.query.site_id } : {}),
        ...(request.query.device_id ? { deviceId: request.query.device_id } : {}),
      }),
  );

  tableRoutes({
    path: '/api/v1/firewall/vpn',
    kind: VPN_TUNNELS,
    manage: 'firewall.manage_vpn',
    schema: VpnSchema,
    fields: VpnFields,
    required: ['name', 'vpn_type'],
    filters: { vpn_type: literals(VPN_TYPES), vpn_status: literals(VPN_STATUSES) },
    noun: 'VPN tunnel',
  });

  const AlertFilter = {
    site_id: Type.Optional(Uuid),
    device_id: Type.Optional(Uuid),
    severity: Type.Optional(literals(IDS_SEVERITIES)),
    acknowledged: Type.Optional(Type.Boolean()),
    since: Type.Optional(DateTime),
    until: Type.Optional(DateTime),
  };
  const alertFilter = (request: FastifyRequest, query: Record<string, unknown>) => {
    const since = dateOf('since', query.since as string | undefined);
    const until = dateOf('until', query.until as string | undefined);
    return {
      scope: siteFilter(request, 'firewall.view'),
      ...(query.site_id ? { siteId: query.site_id as string } : {}),
      ...(query.device_id ? { deviceId: query.device_id as string } : {}),
      ...(query.severity ? { severity: query.severity as (typeof IDS_SEVERITIES)[number] } : {}),
      ...(query.acknowledged !== undefined ? { acknowledged: query.acknowledged as boolean } : {}),
      ...(since ? { since } : {}),
      ...(until ? { until } : {}),
    };
  };

  app.get(
    '/api/v1/firewall/ids/alerts',
    {
      config: { permission: 'firewall.view' },
      schema: {
        tags,
        summary: 'Search IDS alerts (newest first) by severity, time range, acknowledged, site, gateway',
        querystring: Type.Object({ ...AlertFilter, ...Paging }, { additionalProperties: false }),
        response: { 200: Items(IdsAlertSchema), ...ERROR_RESPONSES },
      },
    },
    async (request) => {
      const { limit, offset } = request.query;
      const items = await listIdsAlerts(ctxOf(request), {
        ...alertFilter(request, request.query),
        ...(limit !== undefined ? { limit } : {}),
        ...(offset !== undefined ? { offset } : {}),
      });
      return { items: items.map(toApi) };
    },
  );

  app.get(
    '/api/v1/firewall/ids/alerts/stats',
    {
      config: { permission: 'firewall.view' },
      schema: {
        tags,
        summary: 'IDS alert counts by severity and the unacknowledged count',
        querystring: Type.Object(AlertFilter, { additionalProperties: false }),
        response: {
          200: Type.Object({
            total: Type.Integer(),
            unacknowledged: Type.Integer(),
            by_severity: Type.Object(
              Object.fromEntries(IDS_SEVERITIES.map((s) => [s, Type.Integer()])) as Record<string, TSchema>,
            ),
          }),
          ...ERROR_RESPONSES,
        },
      },
    },
    async (request) => idsAlertStats(ctxOf(request), alertFilter(request, request.query)),
  );

  app.post(
    '/api/v1/firewall/ids/alerts/:id/acknowledge',
    {
      config: { permission: 'firewall.manage_ids' },
      schema: {
        tags,
        summary: 'Acknowledge an IDS alert (again: no change)',
        params: IdParams,
        response: { 200: IdsAlertSchema, ...ERROR_RESPONSES },
      },
    },
    async (request) => {
      const ctx = ctxOf(request);
      const alert = await getIdsAlert(ctx, request.params.id);
      requireSiteObject(request, alert.siteId, 'firewall.view', 'firewall.manage_ids');
      return toApi(await acknowledgeIdsAlert(ctx, alert.id));
    },
  );

  app.get(
    '/api/v1/firewall/logs',
    {
      config: { permission: 'firewall.view_logs' },
      schema: {
        tags,
        summary: 'Search traffic logs (newest first) by action, source / destination address, time range',
        querystring: Type.Object(
          {
            site_id: Type.Optional(Uuid),
            device_id: Type.Optional(Uuid),
            action: Type.Optional(literals(LOG_ACTIONS)),
            source_ip: Type.Optional(Type.String({ maxLength: 64 })),
            dest_ip: Type.Optional(Type.String({ maxLength: 64 })),
            since: Type.Optional(DateTime),
            until: Type.Optional(DateTime),
            ...Paging,
          },
          { additionalProperties: false },
        ),
        response: { 200: Items(LogSchema), ...ERROR_RESPONSES },
      },
    },
    async (request) => {
      const q = request.query;
      const sourceIp = ipOf('source_ip', q.source_ip);
      const destIp = ipOf('dest_ip', q.dest_ip);
      const since = dateOf('since', q.since);
      const until = dateOf('until', q.until);
      const items = await listLogs(ctxOf(request), {
        scope: siteFilter(request, 'firewall.view_logs'),
        ...(q.site_id ? { siteId: q.site_id } : {}),
        ...(q.device_id ? { deviceId: q.device_id } : {}),
        ...(q.action ? { action: q.action } : {}),
        ...(sourceIp ? { sourceIp } : {}),
        ...(destIp ? { destIp } : {}),
        ...(since ? { since } : {}),
        ...(until ? { until } : {}),
        ...(q.limit !== undefined ? { limit: q.limit } : {}),
        ...(q.offset !== undefined ? { offset: q.offset } : {}),
      });
      return { items: items.map(toApi) };
    },
  );
}
