/**
 * @module Live writes and pending changes (docs/reference/freesdn-firewall-module.md §10.3, §4, §20; docs/firewall.md
 * "Live writes"): thin routes over src/firewall/pending.ts.
 *
 * - `/api/v1/firewall/gateways/{id}/...` write routes stage a change (201), or apply it at once with
 *   `force=true` (200) when the deployment is not read-only. Gate flags are query parameters on every write:
 *   `force`, `confirmed` (deletes, reboot, halt), `override_lockout` + `override_reason`.
 * - `/api/v1/firewall/pending` lists, reads (redacted), applies (`confirmed` at apply time), discards and
 *   reverts them; `POST /pending/apply` applies several changes of one gateway with one device apply.
 * - `POST /api/v1/firewall/rules/{id}/deploy` compiles a normalized rule to its gateway's rule through the same path.
 *
 * Permissions: `firewall.manage_rules` for writes, `firewall.admin` for reboot and halt, on the gateway's site;
 * another site's gateway or change is a 404.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { type TSchema, Type } from 'typebox';
import type { LiveObjectKind, LiveWrite, LiveWriteKind } from '../../adapters/live-write.ts';
import { requireVendor } from '../../firewall/adapter.ts';
import { getGateway } from '../../firewall/gateways.ts';
import { getObject } from '../../firewall/objects.ts';
import {
  applyPendingChanges,
  deployWrite,
  discardPendingChange,
  getPendingChange,
  listPendingChanges,
  PENDING_STATUSES,
  type PendingChangeView,
  type PendingStatus,
  requireWriteCapability,
  revertPendingChange,
  submitWrite,
} from '../../firewall/pending.ts';
import {
  createWrite,
  isToggleKind,
  permissionFor,
  requireObjectName,
  requireTarget,
} from '../../firewall/pending-writes.ts';
import { RULES } from '../../firewall/rules.ts';
import { ctxOf, pendingDepsOf } from '../context.ts';
import { siteFilter } from '../plugins/access.ts';
import { ERROR_RESPONSES, IdParams, Line, Paging, PathId, ref, Uuid } from '../schemas.ts';
import { toApi } from '../views.ts';
import { requireSiteObject } from './firewall-scope.ts';
import { Nullable } from './gateways.ts';

const tags = ['firewall-pending'];
const BASE = '/api/v1/firewall/gateways/:id';

const literals = <T extends string>(values: readonly T[]) => Type.Union(values.map((v) => Type.Literal(v)));
const Text = (max: number) => Line({ maxLength: max });
const Port = Nullable(Type.Union([Text(100), Type.Integer()]));

/** Request bodies, types only: src/firewall/pending-writes.ts checks values and names the field. */
const RuleBody = Type.Object(
  {
    action: literals(['allow', 'deny', 'reject']),
    interface: Text(32),
    ip_version: Type.Optional(literals(['inet', 'inet6', 'inet46'])),
    protocol: Type.Optional(literals(['any', 'tcp', 'udp', 'tcp/udp', 'icmp'])),
    source_address: Type.Optional(Text(200)),
    source_port: Type.Optional(Port),
    dest_address: Type.Optional(Text(200)),
    dest_port: Type.Optional(Port),
    description: Type.Optional(Text(1000)),
    is_enabled: Type.Optional(Type.Boolean()),
    log_enabled: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
const PortForwardBody = Type.Object(
  {
    interface: Text(32),
    protocol: Type.Optional(literals(['tcp', 'udp', 'tcp/udp'])),
    source_address: Type.Optional(Text(200)),
    dest_address: Text(200),
    dest_port: Type.Union([Text(100), Type.Integer()]),
    target_address: Text(64),
    target_port: Type.Union([Text(100), Type.Integer()]),
    description: Type.Optional(Text(1000)),
    is_enabled: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
const SourceNatBody = Type.Object(
  {
    interface: Text(32),
    protocol: Type.Optional(literals(['any', 'tcp', 'udp', 'tcp/udp'])),
    source_address: Text(200),
    dest_address: Type.Optional(Text(200)),
    target_address: Text(200),
    description: Type.Optional(Text(1000)),
    is_enabled: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
const AliasBody = Type.Object(
  {
    name: Text(64),
    type: literals(['host', 'network', 'port']),
    description: Type.Optional(Text(1000)),
    entries: Type.Optional(
      Type.Array(
        Type.Object(
          { address: Text(253), detail: Type.Optional(Text(1000)) },
          { additionalProperties: false },
        ),
        { maxItems: 4096 },
      ),
    ),
  },
  { additionalProperties: false },
);
const StaticRouteBody = Type.Object(
  {
    network: Text(64),
    gateway: Text(64),
    description: Type.Optional(Text(1000)),
    is_enabled: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
const DnsOverrideBody = Type.Object(
  {
    host: Line({ maxLength: 63 }),
    domain: Text(253),
    ip: Type.Array(Text(64), { minItems: 1, maxItems: 16 }),
    description: Type.Optional(Text(1000)),
  },
  { additionalProperties: false },
);
const DhcpMappingBody = Type.Object(
  {
    interface: Text(32),
    mac: Text(17),
    ip: Text(64),
    hostname: Type.Optional(Text(63)),
    description: Type.Optional(Text(1000)),
  },
  { additionalProperties: false },
);
const BridgeVlanBody = Type.Object(
  {
    bridge: Text(64),
    vlan_id: Type.Integer(),
    tagged: Type.Optional(Type.Array(Text(64), { maxItems: 256 })),
    untagged: Type.Optional(Type.Array(Text(64), { maxItems: 256 })),
    description: Type.Optional(Text(1000)),
  },
  { additionalProperties: false },
);
const VlanInterfaceBody = Type.Object(
  {
    parent: Text(64),
    tag: Type.Integer({ minimum: 1, maximum: 4094 }),
    name: Text(32),
    ipv4: Type.Optional(Type.Union([Text(64), Type.Null()])),
    ipv6: Type.Optional(Type.Union([Text(64), Type.Null()])),
    description: Type.Optional(Text(1000)),
    is_enabled: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
const DhcpScopeBody = Type.Object(
  {
    interface: Text(32),
    range_from: Text(64),
    range_to: Text(64),
    gateway: Type.Optional(Type.Union([Text(64), Type.Null()])),
    dns_servers: Type.Optional(Type.Array(Text(64), { maxItems: 4 })),
    is_enabled: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
const ServiceBody = Type.Object(
  { action: literals(['start', 'stop', 'restart']) },
  { additionalProperties: false },
);

/** The gates, on every write route. */
const GateFields = {
  force: Type.Optional(Type.Boolean({ default: false })),
  confirmed: Type.Optional(Type.Boolean({ default: false })),
  override_lockout: Type.Optional(Type.Boolean({ default: false })),
  override_tests: Type.Optional(Type.Boolean({ default: false })),
  override_reason: Type.Optional(Text(500)),
};
const GateQuery = Type.Object(GateFields, { additionalProperties: false });
const ConfirmQuery = Type.Object(
  {
    confirmed: Type.Optional(Type.Boolean({ default: false })),
    override_tests: Type.Optional(Type.Boolean({ default: false })),
    override_reason: Type.Optional(Text(500)),
  },
  { additionalProperties: false },
);
type Gates = {
  force?: boolean;
  confirmed?: boolean;
  override_lockout?: boolean;
  override_tests?: boolean;
  override_reason?: string;
};

/** The apply options of a confirm query. */
const applyOptions = (query: { confirmed?: boolean; override_tests?: boolean; override_reason?: string }) => ({
  confirmed: query.confirmed ?? false,
  overrideTests: query.override_tests ?? false,
  overrideReason: query.override_reason ?? null,
});

const Status = Type.Unsafe<PendingStatus>({ type: 'string', enum: [...PENDING_STATUSES] });
const PendingChange = ref('PendingChange');
const WriteResponses = { 200: PendingChange, 201: PendingChange, ...ERROR_RESPONSES };


/** A change's gateway, after the site check for the permission its kind needs (404 outside the caller's sites). */
async function gatewayFor(request: FastifyRequest, gatewayId: string, kind: LiveWriteKind) {
  const gateway = await getGateway(ctxOf(request), gatewayId);
  requireSiteObject(request, gateway.siteId, 'firewall.view', permissionFor(kind));
  return gateway;
}

const send = (reply: FastifyReply, result: { change: PendingChangeView; applied: boolean }) =>
  reply.code(result.applied ? 200 : 201).send(toApi(result.change));

export const firewallPendingRoutes: FastifyPluginAsync = async (root) => {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();

  /**
   * Stages (or, forced, applies) the write `build` makes from the request, on gateway `:id`. The capability is
   * checked before the body's values, so an unsupported kind answers 501 whatever the body says.
   */
  async function write(
    request: FastifyRequest,
    reply: FastifyReply,
    kind: LiveWriteKind,
    build: (checkAliasName: (name: string) => string | null) => LiveWrite,
  ) {
    const ctx = ctxOf(request);
    const gateway = await gatewayFor(request, (request.params as { id: string }).id, kind);
    const vendor = requireVendor(gateway.vendor);
    requireWriteCapability(vendor, { kind });
    const checkAliasName = (name: string) => {
      const check = vendor.listNaming.check(name);
      return check.ok ? null : check.message;
    };
    const { force = false, confirmed = false, override_lockout = false, override_tests = false, override_reason } =
      request.query as Gates;
    return send(
      reply,
      await submitWrite(ctx, pendingDepsOf(request), {
        gateway,
        write: build(checkAliasName),
        force,
        confirmed,
        overrideLockout: override_lockout,
        overrideTests: override_tests,
        overrideReason: override_reason ?? null,
      }),
    );
  }

  /**
   * The routes of one kind of stored device object under `{BASE}/{path}`: POST creates, PUT `/{param}` replaces,
   * DELETE `/{param}` deletes (applied only with confirmed=true), and for kinds with an enabled flag
   * POST `/{param}/toggle?enabled=` enables or disables. `param` is the device's stable id of the object.
   */
  function objectRoutes(spec: { path: string; param: string; kind: LiveObjectKind; body: TSchema; noun: string }) {
    const { path, param, kind, body, noun } = spec;
    const Params = Type.Object({ id: PathId, [param]: Text(128) }, { additionalProperties: false });
    const targetOf = (request: FastifyRequest) =>
      requireTarget(param, (request.params as Record<string, unknown>)[param]);
    const config = { permission: 'firewall.manage_rules' as const };

    app.post(
      `${BASE}/${path}`,
      {
        config,
        schema: {
          tags,
          summary: `Create a ${noun} on the gateway (staged unless force)`,
          params: IdParams,
          querystring: GateQuery,
          body,
          response: WriteResponses,
        },
      },
      async (request, reply) =>
        write(request, reply, kind, (checkName) => createWrite(kind, request.body as Record<string, unknown>, checkName)),
    );

    app.put(
      `${BASE}/${path}/:${param}`,
      {
        config,
        schema: {
          tags,
          summary: `Replace a ${noun}'s fields (staged unless force)`,
          params: Params,
          querystring: GateQuery,
          body,
          response: WriteResponses,
        },
      },
      async (request, reply) =>
        write(request, reply, kind, (checkName) => {
          const { body: fields } = createWrite(kind, request.body as Record<string, unknown>, checkName);
          return { kind, op: 'update', target: targetOf(request), body: fields } as LiveWrite;
        }),
    );

    app.delete(
      `${BASE}/${path}/:${param}`,
      {
        config,
        schema: {
          tags,
          summary: `Delete a ${noun} (applied only with confirmed=true)`,
          params: Params,
          querystring: GateQuery,
          response: WriteResponses,
        },
      },
      async (request, reply) =>
        write(request, reply, kind, () => ({ kind, op: 'delete', target: targetOf(request), body: {} })),
    );

    if (!isToggleKind(kind)) return;
    app.post(
      `${BASE}/${path}/:${param}/toggle`,
      {
        config,
        schema: {
          tags,
          summary: `Enable (enabled=true, the default) or disable a ${noun}`,
          params: Params,
          querystring: Type.Object(
            { enabled: Type.Optional(Type.Boolean({ default: true })), ...GateFields },
            { additionalProperties: false },
          ),
          response: WriteResponses,
        },
      },
      async (request, reply) =>
        write(request, reply, kind, () => ({
          kind,
          op: 'toggle',
          target: targetOf(request),
          body: { is_enabled: (request.query as { enabled?: boolean }).enabled ?? true },
        })),
    );
  }

  objectRoutes({ path: 'firewall-rules', param: 'vendorRuleId', kind: 'firewall_rule', body: RuleBody, noun: 'firewall rule' });
  objectRoutes({ path: 'port-forwards', param: 'vendorId', kind: 'port_forward', body: PortForwardBody, noun: 'port forward (DNAT)' });
  objectRoutes({ path: 'source-nat', param: 'vendorId', kind: 'source_nat', body: SourceNatBody, noun: 'source-NAT (outbound) rule' });
  objectRoutes({ path: 'aliases', param: 'name', kind: 'alias', body: AliasBody, noun: 'alias (firewall object)' });
  objectRoutes({ path: 'routes/static', param: 'vendorId', kind: 'static_route', body: StaticRouteBody, noun: 'static route' });
  objectRoutes({ path: 'dns/overrides', param: 'vendorId', kind: 'dns_override', body: DnsOverrideBody, noun: 'DNS host override' });
  objectRoutes({
    path: 'dhcp/static-mappings',
    param: 'vendorId',
    kind: 'dhcp_static_mapping',
    body: DhcpMappingBody,
    noun: 'DHCP static mapping',
  });
  objectRoutes({
    path: 'bridge-vlans',
    param: 'vendorId',
    kind: 'bridge_vlan',
    body: BridgeVlanBody,
    noun: 'bridge VLAN (tagged / untagged ports of one VLAN on a bridge)',
  });
  objectRoutes({
    path: 'vlan-interfaces',
    param: 'vendorId',
    kind: 'vlan_interface',
    body: VlanInterfaceBody,
    noun: 'VLAN interface (VLAN + interface assignment)',
  });
  objectRoutes({ path: 'dhcp/scopes', param: 'vendorId', kind: 'dhcp_scope', body: DhcpScopeBody, noun: 'DHCP scope (server of one interface)' });

  app.post(
    `${BASE}/services/:name/control`,
    {
      config: { permission: 'firewall.manage_rules' },
      schema: {
        tags,
        summary: 'Start, stop or restart a service on the gateway',
        params: Type.Object({ id: PathId, name: Text(64) }, { additionalProperties: false }),
        querystring: GateQuery,
        body: ServiceBody,
        response: WriteResponses,
      },
    },
    async (request, reply) =>
      write(request, reply, 'service', () => {
        const name = requireObjectName('name', request.params.name);
        return { kind: 'service', op: 'control', target: name, body: { name, action: request.body.action } };
      }),
  );

  for (const op of ['reboot', 'halt'] as const) {
    app.post(
      `${BASE}/${op}`,
      {
        config: { permission: 'firewall.admin' },
        schema: {
          tags,
          summary: `${op === 'reboot' ? 'Reboot' : 'Halt'} the gateway (firewall.admin; applied only with confirmed=true)`,
          params: IdParams,
          querystring: GateQuery,
          response: WriteResponses,
        },
      },
      async (request, reply) => write(request, reply, 'power', () => ({ kind: 'power', op, target: null, body: {} })),
    );
  }

  app.post(
    '/api/v1/firewall/rules/:id/deploy',
    {
      config: { permission: 'firewall.manage_rules' },
      schema: {
        tags,
        summary: "Deploy a normalized rule to its gateway: a create, or an update of the device rule it already has",
        params: IdParams,
        querystring: GateQuery,
        response: WriteResponses,
      },
    },
    async (request, reply) => {
      const ctx = ctxOf(request);
      const rule = await getObject(ctx, RULES, request.params.id);
      requireSiteObject(request, rule.siteId, 'firewall.view', 'firewall.manage_rules');
      const gateway = await gatewayFor(request, rule.deviceId, 'firewall_rule');
      requireWriteCapability(requireVendor(gateway.vendor), { kind: 'firewall_rule' });
      const { force = false, confirmed = false, override_lockout = false, override_tests = false, override_reason } =
        request.query;
      return send(
        reply,
        await submitWrite(ctx, pendingDepsOf(request), {
          gateway,
          write: deployWrite(rule),
          force,
          confirmed,
          overrideLockout: override_lockout,
          overrideTests: override_tests,
          overrideReason: override_reason ?? null,
          sourceRuleId: rule.id,
        }),
      );
    },
  );

  // ------------------------------------------------------------------------------------------------------------
  // /pending

  app.get(
    '/api/v1/firewall/pending',
    {
      config: { permission: 'firewall.view' },
      schema: {
        tags,
        summary: 'Pending changes of the sites you can see, newest first',
        querystring: Type.Object(
          {
            status: Type.Optional(Status),
            device_id: Type.Optional(Uuid),
            site_id: Type.Optional(Uuid),
            target_type: Type.Optional(Text(32)),
            operation: Type.Optional(Text(16)),
            ...Paging,
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ items: Type.Array(PendingChange) }), ...ERROR_RESPONSES },
      },
    },
    async (request) => {
      const { limit, offset, ...filters } = request.query;
      const items = await listPendingChanges(ctxOf(request), {
        scope: siteFilter(request, 'firewall.view'),
        filters: filters,
        ...(limit !== undefined ? { limit } : {}),
        ...(offset !== undefined ? { offset } : {}),
      });
      return { items: items.map(toApi) };
    },
  );

  app.get(
    '/api/v1/firewall/pending/:id',
    {
      config: { permission: 'firewall.view' },
      schema: {
        tags,
        summary: 'One pending change: redacted payload, preview, before-image and verification',
        params: IdParams,
        response: { 200: PendingChange, ...ERROR_RESPONSES },
      },
    },
    async (request) => {
      const change = await getPendingChange(ctxOf(request), request.params.id);
      requireSiteObject(request, change.siteId, 'firewall.view');
      return toApi(change);
    },
  );

  /** Loads changes and checks the caller may apply each on its site (firewall.admin for reboot / halt). */
  async function changesFor(request: FastifyRequest, ids: readonly string[]): Promise<PendingChangeView[]> {
    const ctx = ctxOf(request);
    const changes: PendingChangeView[] = [];
    for (const id of ids) {
      const change = await getPendingChange(ctx, id);
      requireSiteObject(request, change.siteId, 'firewall.view', permissionFor(change.targetType as LiveWriteKind));
      changes.push(change);
    }
    return changes;
  }

  app.post(
    '/api/v1/firewall/pending/:id/apply',
    {
      config: { permission: 'firewall.manage_rules' },
      schema: {
        tags,
        summary: 'Apply a pending change: write, apply, read back (confirmed=true for deletes, reboot, halt)',
        params: IdParams,
        querystring: ConfirmQuery,
        response: { 200: PendingChange, ...ERROR_RESPONSES },
      },
    },
    async (request) => {
      const [change] = await changesFor(request, [request.params.id]);
      const [applied] = await applyPendingChanges(ctxOf(request), pendingDepsOf(request), [(change as PendingChangeView).id],
        applyOptions(request.query),
      );
      return toApi(applied as PendingChangeView);
    },
  );

  app.post(
    '/api/v1/firewall/pending/apply',
    {
      config: { permission: 'firewall.manage_rules' },
      schema: {
        tags,
        summary: 'Apply several pending changes of one gateway together, with one device apply',
        querystring: ConfirmQuery,
        body: Type.Object(
          { ids: Type.Array(Uuid, { minItems: 1, maxItems: 100, uniqueItems: true }) },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ items: Type.Array(PendingChange) }), ...ERROR_RESPONSES },
      },
    },
    async (request) => {
      const changes = await changesFor(request, request.body.ids);
      const applied = await applyPendingChanges(
        ctxOf(request),
        pendingDepsOf(request),
        changes.map((change) => change.id),
        applyOptions(request.query),
      );
      return { items: applied.map(toApi) };
    },
  );

  app.post(
    '/api/v1/firewall/pending/:id/discard',
    {
      config: { permission: 'firewall.manage_rules' },
      schema: {
        tags,
        summary: 'Discard a pending change (nothing is sent to the device)',
        params: IdParams,
        response: { 200: PendingChange, ...ERROR_RESPONSES },
      },
    },
    async (request) => {
      const [change] = await changesFor(request, [request.params.id]);
      return toApi(await discardPendingChange(ctxOf(request), (change as PendingChangeView).id));
    },
  );

  app.post(
    '/api/v1/firewall/pending/:id/revert',
    {
      config: { permission: 'firewall.manage_rules' },
      schema: {
        tags,
        summary: 'Stage the inverse of an applied change (its before-image written back)',
        params: IdParams,
        response: { 201: PendingChange, ...ERROR_RESPONSES },
      },
    },
    async (request, reply) => {
      const [change] = await changesFor(request, [request.params.id]);
      const { id, deviceId } = change as PendingChangeView;
      const gateway = await getGateway(ctxOf(request), deviceId);
      const staged = await revertPendingChange(ctxOf(request), pendingDepsOf(request), id, gateway);
      return reply.code(201).send(toApi(staged));
    },
  );
};
