/**
 * @module `/api/v1/firewall/gateways`: firewall connections. Reading needs `firewall.view`; creating, changing,
 * deleting and testing need `firewall.manage_rules` on the gateway's site, as FreeSDN's spec has it (ADR 0090,
 * ADR 0123). Credentials are write-only: responses say `has_credentials`, never a secret. Which credential
 * fields a gateway takes depends on its vendor (`GET /api/v1/firewall/vendors`, ADR 0111). URLs pass the SSRF guard unless
 * `PORTCULLIS_ALLOW_GATEWAY_HOSTS` lists the host.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { type TSchema, Type } from 'typebox';
import {
  CAPABILITIES,
  CREDENTIAL_FIELDS,
  CREDENTIAL_SHAPES,
  type CredentialField,
  type VendorDescriptor,
  unavailableReason,
} from '../../adapters/registry.ts';
import { listVendors } from '../../adapters/vendors.ts';
import { testGateway } from '../../firewall/adapter.ts';
import {
  connectionFromInput,
  connectionWithOverride,
  createGateway,
  deleteGateway,
  type GatewayPolicy,
  gatewaySummary,
  getGateway,
  listGateways,
  updateGateway,
} from '../../firewall/gateways.ts';
import { fromDevice, liveGateway } from '../../firewall/live.ts';
import { syncGateway } from '../../firewall/sync.ts';
import { isUuid } from '../../core/validate.ts';
import { ctxOf } from '../context.ts';
import { requireSite, siteFilter } from '../plugins/access.ts';
import { ERROR_RESPONSES, IdParams, Line, Lines, Name, Paging, Uuid } from '../schemas.ts';
import { toApi } from '../views.ts';

const tags = ['gateways'];
export const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);
/** Dates leave as ISO strings (the serializer formats `Date`s). */
export const Timestamp = Type.Unsafe<Date | string>({ type: 'string', format: 'date-time' });

export const GatewaySchema = Type.Object({
  id: Uuid,
  site_id: Uuid,
  name: Type.String(),
  vendor: Type.String(),
  url: Type.String(),
  verify_ssl: Type.Boolean(),
  ca_pem: Nullable(Type.String()),
  fingerprint_sha256: Nullable(Type.String()),
  management_source: Nullable(Type.String({ description: "Portcullis's address as the gateway sees it (lock-out check); null: derived." })),
  management_interface: Nullable(Type.String({ description: 'The interface Portcullis arrives on (lock-out check); null: derived.' })),
  has_credentials: Type.Boolean(),
  is_online: Type.Union([Type.Boolean(), Type.Null()], { description: 'As the health poll last saw it; null: never polled.' }),
  last_seen_at: Type.Union([Timestamp, Type.Null()]),
  sync_status: Type.String({ description: '`never`, `ok` or `failed`: the outcome of the last sync.' }),
  last_sync_at: Type.Union([Timestamp, Type.Null()]),
  sync_error_code: Type.Union([Type.String(), Type.Null()]),
  sync_error_message: Type.Union([Type.String(), Type.Null()]),
  created_at: Timestamp,
  updated_at: Timestamp,
});

/** Lets a POST with an optional body arrive without one: no body validates as `{}`. */
export const emptyBodyIsObject = {
  preValidation: async (request: FastifyRequest) => {
    request.body ??= {};
  },
};

/** Credential fields of every shape; which ones a gateway needs depends on its vendor (checked per vendor). */
const Credentials = Object.fromEntries(
  CREDENTIAL_FIELDS.map((field) => [
    field,
    Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: field === 'ssh_private_key' ? 16_384 : 1024,
        description: 'Write-only. Needed by vendors whose credential shape lists it (GET /api/v1/firewall/vendors).',
      }),
    ),
  ]),
) as Record<CredentialField, ReturnType<typeof Type.Optional<ReturnType<typeof Type.String>>>>;

const Connection = {
  vendor: Type.Optional(
    Type.String({ pattern: '^[a-z0-9_]{1,40}$', description: 'A vendor id of GET /api/v1/firewall/vendors (default: the first built-in vendor).' }),
  ),
  url: Line({ minLength: 1, maxLength: 2048 }),
  ...Credentials,
  verify_ssl: Type.Optional(Type.Boolean()),
  ca_pem: Type.Optional(Nullable(Lines({ maxLength: 65_536 }))),
  fingerprint_sha256: Type.Optional(Nullable(Line({ maxLength: 200 }))),
};

/** How the gateway sees Portcullis's API connection, for the lock-out check (docs/firewall.md). */
const Management = {
  management_source: Type.Optional(Nullable(Line({ maxLength: 64 }))),
  management_interface: Type.Optional(Nullable(Line({ maxLength: 64 }))),
};

const TestResult = Type.Object({
  ok: Type.Boolean(),
  version: Nullable(Type.String()),
  api_version: Nullable(Type.String()),
  error: Nullable(Type.Object({ code: Type.String(), message: Type.String() })),
  /** After a TLS failure (the vendor's TLS code): the certificate the gateway presented, to pin when the person trusts it. */
  certificate: Nullable(
    Type.Object({
      fingerprint_sha256: Type.String(),
      subject: Type.String(),
      issuer: Type.String(),
      valid_from: Type.String(),
      valid_to: Type.String(),
      self_signed: Type.Boolean(),
    }),
  ),
});

const SummarySchema = Type.Object(
  {
    total: Type.Integer(),
    online: Type.Integer(),
    offline: Type.Integer(),
    unknown: Type.Integer(),
    sync: Type.Object({ never: Type.Integer(), ok: Type.Integer(), failed: Type.Integer() }),
  },
  { title: 'GatewaySummary' },
);

const AreaCounts = Nullable(
  Type.Object({
    created: Type.Integer(),
    updated: Type.Integer(),
    unchanged: Type.Integer(),
    deleted: Type.Integer(),
    skipped: Type.Integer(),
  }),
);

const SyncReportSchema = Type.Object(
  {
    gateway_id: Uuid,
    full_sync: Type.Boolean(),
    rules: AreaCounts,
    nat: AreaCounts,
    vpn: AreaCounts,
    interfaces: AreaCounts,
    aliases: AreaCounts,
    logs: Nullable(Type.Object({ ingested: Type.Integer(), unreadable: Type.Integer(), ignored: Type.Integer() })),
    duration_ms: Type.Integer(),
  },
  { title: 'GatewaySyncReport' },
);

const policyOf = (request: FastifyRequest): GatewayPolicy => ({
  allowHosts: request.server.access.settings.allowHosts,
});
const adapterSettings = (request: FastifyRequest) => {
  const { allowHosts, adapter } = request.server.access.settings;
  return { allowHosts, ...(adapter ? { tuning: adapter } : {}) };
};

const VendorSchema = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    api: Type.String(),
    maturity: Type.Union([Type.Literal('production'), Type.Literal('beta'), Type.Literal('preview')]),
    capabilities: Type.Object(Object.fromEntries(CAPABILITIES.map((flag) => [flag, Type.Boolean()]))),
    credentials: Type.Object({
      shape: Type.Union(Object.keys(CREDENTIAL_SHAPES).map((shape) => Type.Literal(shape))),
      fields: Type.Array(Type.String()),
    }),
    unavailable: Type.Object(
      Object.fromEntries(CAPABILITIES.map((flag) => [flag, Type.Optional(Type.String())])),
      { description: 'For every capability flag that is off: why (the vendor API was checked, or the adapter does not implement it).' },
    ),
    error_code_family: Type.String(),
    list_naming: Type.Object({ noun: Type.String(), max_length: Type.Integer() }),
  },
  { title: 'Vendor' },
);

const vendorView = (vendor: VendorDescriptor) => ({
  id: vendor.id,
  name: vendor.name,
  api: vendor.api,
  maturity: vendor.maturity,
  capabilities: vendor.capabilities,
  credentials: { shape: vendor.credentials, fields: [...CREDENTIAL_SHAPES[vendor.credentials]] },
  unavailable: Object.fromEntries(
    CAPABILITIES.flatMap((flag) => {
      const why = unavailableReason(vendor, flag);
      return why === null ? [] : [[flag, why]];
    }),
  ),
  error_code_family: vendor.errors.family,
  list_naming: { noun: vendor.listNaming.noun, max_length: vendor.listNaming.maxLength },
});

export const gatewayRoutes: FastifyPluginAsync = async (root) => {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();

  app.get(
    '/api/v1/firewall/vendors',
    {
      config: { permission: 'gateway.view' },
      schema: {
        tags: ['vendors'],
        summary: 'List the firewall vendors: maturity tier, capability flags, credential shape',
        response: { 200: Type.Object({ items: Type.Array(VendorSchema) }), ...ERROR_RESPONSES },
      },
    },
    async () => ({ items: listVendors().map(vendorView) }),
  );

  app.get(
    '/api/v1/firewall/gateways',
    {
      config: { permission: 'firewall.view' },
      schema: {
        tags,
        summary: 'List the gateways of the sites you can see',
        querystring: Type.Object(
          { site_id: Type.Optional(Uuid), ...Paging },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ items: Type.Array(GatewaySchema) }), ...ERROR_RESPONSES },
      },
    },
    async (request) => {
      const { site_id, ...page } = request.query;
      const items = await listGateways(ctxOf(request), {
        ...page,
        ...(site_id ? { siteId: site_id } : {}),
        scope: siteFilter(request, 'firewall.view'),
      });
      return { items: items.map(toApi) };
    },
  );

  app.post(
    '/api/v1/firewall/gateways',
    {
      config: { permission: 'firewall.manage_rules' },
      schema: {
        tags,
        summary: 'Add a gateway (the API key is stored encrypted and never returned)',
        body: Type.Object({ name: Name, site_id: Uuid, ...Connection, ...Management }, { additionalProperties: false }),
        response: { 201: GatewaySchema, ...ERROR_RESPONSES },
      },
    },
    async (request, reply) => {
      if (isUuid(request.body.site_id))
        requireSite(request, 'firewall.manage_rules', request.body.site_id, 'write');
      const gateway = await createGateway(ctxOf(request), request.body, policyOf(request));
      return reply.code(201).send(toApi(gateway));
    },
  );

  app.post(
    '/api/v1/firewall/gateways/test',
    {
      config: { permission: 'firewall.manage_rules' },
      schema: {
        tags,
        summary: 'Test an unsaved connection: reads the device version',
        body: Type.Object(Connection, { additionalProperties: false }),
        response: { 200: TestResult, ...ERROR_RESPONSES },
      },
    },
    async (request) =>
      testGateway(await connectionFromInput(request.body, policyOf(request)), adapterSettings(request)),
  );

  app.get(
    '/api/v1/firewall/gateways/summary',
    {
      config: { permission: 'firewall.view' },
      schema: {
        tags,
        summary: 'Count the gateways you can see by reachability (health poll) and sync state',
        querystring: Type.Object({ site_id: Type.Optional(Uuid) }, { additionalProperties: false }),
        response: { 200: SummarySchema, ...ERROR_RESPONSES },
      },
    },
    async (request) =>
      gatewaySummary(ctxOf(request), {
        scope: siteFilter(request, 'firewall.view'),
        ...(request.query.site_id ? { siteId: request.query.site_id } : {}),
      }),
  );

  app.post(
    '/api/v1/firewall/gateways/:id/sync',
    {
      ...emptyBodyIsObject,
      config: { permission: 'firewall.manage_rules' },
      schema: {
        tags,
        summary:
          'Sync a gateway now: live rules, NAT, VPN status, interfaces, aliases and firewall log into the tables (vendor ids kept; rows gone from the device marked)',
        params: IdParams,
        body: Type.Optional(
          Type.Object(
            {
              full_sync: Type.Optional(
                Type.Boolean({ description: 'Rewrite every row, not only those whose device fields changed (default false).' }),
              ),
            },
            { additionalProperties: false },
          ),
        ),
        response: { 200: SyncReportSchema, ...ERROR_RESPONSES },
      },
    },
    async (request) => {
      const gateway = await getGateway(ctxOf(request), request.params.id);
      requireSite(request, 'firewall.manage_rules', gateway.siteId, 'write');
      const open = async () => {
        const { vendor, adapter } = await fromDevice(() => app.access.adapters.get(gateway.id));
        return { vendor, live: liveGateway(vendor, adapter) };
      };
      return syncGateway(ctxOf(request), app.access.events, gateway.id, open, {
        fullSync: request.body?.full_sync ?? false,
      });
    },
  );

  app.get(
    '/api/v1/firewall/gateways/:id',
    {
      config: { permission: 'firewall.view' },
      schema: {
        tags,
        summary: 'Get a gateway',
        params: IdParams,
        response: { 200: GatewaySchema, ...ERROR_RESPONSES },
      },
    },
    async (request) => {
      const gateway = await getGateway(ctxOf(request), request.params.id);
      requireSite(request, 'firewall.view', gateway.siteId, 'read');
      return toApi(gateway);
    },
  );

  app.patch(
    '/api/v1/firewall/gateways/:id',
    {
      config: { permission: 'firewall.manage_rules' },
      schema: {
        tags,
        summary: 'Change a gateway (a new api_key replaces the stored one)',
        params: IdParams,
        body: Type.Object(
          {
            name: Type.Optional(Name),
            vendor: Connection.vendor,
            url: Type.Optional(Connection.url),
            ...Credentials,
            verify_ssl: Connection.verify_ssl,
            ca_pem: Connection.ca_pem,
            fingerprint_sha256: Connection.fingerprint_sha256,
            ...Management,
          },
          { additionalProperties: false, minProperties: 1 },
        ),
        response: { 200: GatewaySchema, ...ERROR_RESPONSES },
      },
    },
    async (request) => {
      const before = await getGateway(ctxOf(request), request.params.id);
      requireSite(request, 'firewall.manage_rules', before.siteId, 'write');
      const gateway = await updateGateway(ctxOf(request), request.params.id, request.body, policyOf(request));
      await app.access.gatewayChanged(gateway.id);
      return toApi(gateway);
    },
  );

  app.delete(
    '/api/v1/firewall/gateways/:id',
    {
      config: { permission: 'firewall.manage_rules' },
      schema: {
        tags,
        summary: 'Delete a gateway (soft; refused while a knoc uses it)',
        params: IdParams,
        response: { 204: Type.Null(), ...ERROR_RESPONSES },
      },
    },
    async (request, reply) => {
      const before = await getGateway(ctxOf(request), request.params.id);
      requireSite(request, 'firewall.manage_rules', before.siteId, 'write');
      await deleteGateway(ctxOf(request), request.params.id);
      await app.access.gatewayChanged(before.id);
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/api/v1/firewall/gateways/:id/test',
    {
      ...emptyBodyIsObject,
      config: { permission: 'firewall.manage_rules' },
      schema: {
        tags,
        summary:
          'Test a saved gateway, optionally with some fields overridden (host, port, verify_ssl, ...) against the stored credentials (nothing is saved)',
        params: IdParams,
        body: Type.Optional(
          Type.Object(
            {
              vendor: Connection.vendor,
              url: Type.Optional(Connection.url),
              host: Type.Optional(
                Line({ minLength: 1, maxLength: 253, description: 'Replaces the host of the saved URL (SSRF-checked).' }),
              ),
              port: Type.Optional(
                Type.Integer({ minimum: 1, maximum: 65_535, description: 'Replaces the port of the saved URL.' }),
              ),
              ...Credentials,
              verify_ssl: Connection.verify_ssl,
              ca_pem: Connection.ca_pem,
              fingerprint_sha256: Connection.fingerprint_sha256,
            },
            { additionalProperties: false },
          ),
        ),
        response: { 200: TestResult, ...ERROR_RESPONSES },
      },
    },
    async (request) => {
      const before = await getGateway(ctxOf(request), request.params.id);
      requireSite(request, 'firewall.manage_rules', before.siteId, 'write');
      const conn = await connectionWithOverride(
        ctxOf(request),
        request.params.id,
        request.body ?? {},
        policyOf(request),
      );
      return testGateway(conn, adapterSettings(request));
    },
  );
};
