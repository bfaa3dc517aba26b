/**
 * @module Gateway orchestration (docs/orchestration.md, docs/reference/freesdn-firewall-module.md §13-§14): the
 * site role map `/api/v1/firewall/topology/{site_id}` and the canonical state — `/vlans`, `/dhcp/scopes`,
 * `/dhcp/reservations`, `/dns/records`, `/templates`. Reads need `gateway.view`; writes the spec's
 * `gateway.manage_topology|vlans|dhcp|dns`. Everything but templates belongs to a site: another site's object is
 * a 404, a site the caller may read but not change a 403. Templates are org-wide (changing them needs the
 * permission on every site).
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { Permission } from '../../identity/permissions.ts';
import {
  createReservation,
  createScope,
  deleteReservation,
  deleteScope,
  getReservation,
  getScope,
  listReservations,
  listScopes,
  siteOfScope,
  siteOfVlan,
} from '../../orchestration/canonical/dhcp.ts';
import {
  createDnsRecord,
  deleteDnsRecord,
  getDnsRecord,
  listDnsRecords,
  updateDnsRecord,
} from '../../orchestration/canonical/dns.ts';
import {
  applyTemplate,
  createTemplate,
  deleteTemplate,
  listTemplates,
  updateTemplate,
} from '../../orchestration/canonical/templates.ts';
import { createVlan, deleteVlan, getVlan, getVlanDetail, listVlans, updateVlan } from '../../orchestration/canonical/vlans.ts';
import {
  AUTHORITIES,
  AUTHORITY_KEYS,
  deleteTopology,
  getTopology,
  MAX_MEMBERS,
  putTopology,
  type TopologyView,
  validateTopology,
} from '../../orchestration/topology.ts';
import { ROLES } from '../../orchestration/topology-roles.ts';
import { ctxOf } from '../context.ts';
import { requireSite, siteFilter } from '../plugins/access.ts';
import { ERROR_RESPONSES, IdParams, PathId, Paging, Uuid } from '../schemas.ts';
import { toApi } from '../views.ts';
import { requireDeviceAccess, requireSiteObject } from './firewall-scope.ts';
import { emptyBodyIsObject, Nullable, Timestamp } from './gateways.ts';

const tags = ['orchestration'];
const literals = <T extends string>(values: readonly T[]) => Type.Union(values.map((v) => Type.Literal(v)));
const Text = (max: number) => Type.String({ maxLength: max });
const SiteParams = Type.Object({ site_id: PathId }, { additionalProperties: false });
const Items = <T extends ReturnType<typeof Type.Object>>(schema: T) => Type.Object({ items: Type.Array(schema) });
const Times = { created_at: Timestamp, updated_at: Timestamp };

const Member = Type.Object({ gateway_id: Uuid, name: Type.String(), vendor: Type.String(), role: literals(ROLES) });
const AuthorityMapSchema = Type.Object(
  Object.fromEntries(AUTHORITY_KEYS.map((key) => [key, literals(AUTHORITIES)])),
);
const TopologySchema = Type.Object({
  site_id: Uuid,
  brain: Nullable(Member),
  limbs: Type.Array(Member),
  authority_map: AuthorityMapSchema,
  ...Times,
});
// Types only: the service checks values (gateways of the site, roles, capabilities, one brain) and names the field.
const TopologyBody = Type.Object(
  {
    assignments: Type.Array(
      Type.Object({ gateway_id: Text(100), role: Text(16) }, { additionalProperties: false }),
      { maxItems: MAX_MEMBERS },
    ),
    authority_map: Type.Optional(
      Type.Object({}, { additionalProperties: Text(32), maxProperties: 32, description: 'resource → brain | portcullis | limb' }),
    ),
  },
  { additionalProperties: false },
);
/** For validate: without `assignments` (an empty body) the stored map is checked. */
const ValidateBody = Type.Object(
  { ...TopologyBody.properties, assignments: Type.Optional(TopologyBody.properties.assignments) },
  { additionalProperties: false },
);
const ValidationSchema = Type.Object({
  valid: Type.Boolean(),
  problems: Type.Array(Type.Object({ field: Type.String(), message: Type.String() })),
});

const VlanFields = {
  vlan_id: Type.Integer(),
  name: Text(100),
  description: Text(1000),
  ipv4_subnet: Nullable(Text(64)),
  ipv6_subnet: Nullable(Text(64)),
};
const VlanSchema = Type.Object({
  id: Uuid,
  site_id: Uuid,
  vlan_id: Type.Integer(),
  name: Type.String(),
  description: Type.String(),
  ipv4_subnet: Nullable(Type.String()),
  ipv6_subnet: Nullable(Type.String()),
  template_id: Nullable(Uuid),
  ...Times,
});
const ScopeSchema = Type.Object({
  id: Uuid,
  site_id: Uuid,
  canonical_vlan_id: Uuid,
  ip_version: Type.Integer(),
  range_start: Type.String(),
  range_end: Type.String(),
  lease_seconds: Type.Integer(),
  ...Times,
});
const ReservationSchema = Type.Object({
  id: Uuid,
  site_id: Uuid,
  scope_id: Uuid,
  mac: Type.String(),
  ip_address: Type.String(),
  hostname: Nullable(Type.String()),
  description: Type.String(),
  ...Times,
});
const VlanDetailSchema = Type.Object({
  ...VlanSchema.properties,
  dhcp_scopes: Type.Array(Type.Object({ ...ScopeSchema.properties, reservations: Type.Array(ReservationSchema) })),
});
const DnsFields = { host: Text(63), domain: Text(253), ip_address: Text(64), description: Text(1000) };
const DnsSchema = Type.Object({
  id: Uuid,
  site_id: Uuid,
  host: Type.String(),
  domain: Type.String(),
  ip_address: Type.String(),
  record_type: Type.Union([Type.Literal('A'), Type.Literal('AAAA')]),
  description: Type.String(),
  ...Times,
});
const TemplateFields = {
  name: Text(100),
  description: Text(1000),
  vlan_id: Type.Integer(),
  vlan_name: Text(100),
  ipv4_subnet: Nullable(Text(64)),
  ipv6_subnet: Nullable(Text(64)),
};
const TemplateSchema = Type.Object({
  id: Uuid,
  name: Type.String(),
  description: Type.String(),
  vlan_id: Type.Integer(),
  vlan_name: Type.String(),
  ipv4_subnet: Nullable(Type.String()),
  ipv6_subnet: Nullable(Type.String()),
  ...Times,
});

const optional = <T extends Record<string, ReturnType<typeof Text> | ReturnType<typeof Type.Integer> | ReturnType<typeof Nullable>>>(
  fields: T,
) => Object.fromEntries(Object.entries(fields).map(([k, s]) => [k, Type.Optional(s)]));

/** A body's `site_id` the caller cannot see reads like a missing site (400); one it cannot change, 403. */
function requireSiteForWrite(request: FastifyRequest, siteId: string, write: Permission): void {
  requireDeviceAccess(request, siteId, 'gateway.view', write, 'site_id');
}

function topologyBody(topology: TopologyView) {
  return {
    ...toApi(topology),
    brain: topology.brain ? toApi(topology.brain) : null,
    limbs: topology.limbs.map(toApi),
  };
}

const paged = (q: { limit?: number | undefined; offset?: number | undefined }) => ({
  ...(q.limit !== undefined ? { limit: q.limit } : {}),
  ...(q.offset !== undefined ? { offset: q.offset } : {}),
});

export async function orchestrationRoutes(root: FastifyInstance): Promise<void> {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();

  // ---- role map -------------------------------------------------------------------------------------------
  app.get(
    '/api/v1/firewall/topology/:site_id',
    {
      config: { permission: 'gateway.view' },
      schema: {
        tags,
        summary: "A site's role map: its brain, its limbs and the authority map (404 when none is set)",
        params: SiteParams,
        response: { 200: TopologySchema, ...ERROR_RESPONSES },
      },
    },
    async (request) => {
      requireSite(request, 'gateway.view', request.params.site_id, 'read');
      return topologyBody(await getTopology(ctxOf(request), request.params.site_id));
    },
  );

  app.put(
    '/api/v1/firewall/topology/:site_id',
    {
      config: { permission: 'gateway.manage_topology' },
      schema: {
        tags,
        summary: 'Set a site\u2019s role map: exactly one brain (an L3 authority), limbs (devices whose bridge VLANs Portcullis writes)',
        params: SiteParams,
        body: TopologyBody,
        response: { 200: TopologySchema, ...ERROR_RESPONSES },
      },
    },
    async (request) => {
      requireSiteObject(request, request.params.site_id, 'gateway.view', 'gateway.manage_topology');
      return topologyBody(await putTopology(ctxOf(request), request.params.site_id, request.body));
    },
  );

  app.delete(
    '/api/v1/firewall/topology/:site_id',
    {
      config: { permission: 'gateway.manage_topology' },
      schema: {
        tags,
        summary: "Remove a site's role map",
        params: SiteParams,
        response: { 204: Type.Null(), ...ERROR_RESPONSES },
      },
    },
    async (request, reply) => {
      requireSiteObject(request, request.params.site_id, 'gateway.view', 'gateway.manage_topology');
      await deleteTopology(ctxOf(request), request.params.site_id);
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/api/v1/firewall/topology/:site_id/validate',
    {
      ...emptyBodyIsObject,
      config: { permission: 'gateway.manage_topology' },
      schema: {
        tags,
        summary: 'Every problem of a proposed role map (the body) or of the stored one (no body); nothing is saved',
        params: SiteParams,
        body: Type.Optional(ValidateBody),
        response: { 200: ValidationSchema, ...ERROR_RESPONSES },
      },
    },
    async (request) => {
      requireSiteObject(request, request.params.site_id, 'gateway.view', 'gateway.manage_topology');
      const proposal = request.body?.assignments === undefined ? undefined : request.body;
      return validateTopology(ctxOf(request), request.params.site_id, proposal);
    },
  );

  // ---- canonical VLANs ------------------------------------------------------------------------------------
  const SiteQuery = Type.Object({ site_id: Type.Optional(Uuid), ...Paging }, { additionalProperties: false });

  app.get(
    '/api/v1/firewall/vlans',
    {
      config: { permission: 'gateway.view' },
      schema: {
        tags,
        summary: 'List canonical VLANs of the sites you can see (by site, then VLAN id)',
        querystring: SiteQuery,
        response: { 200: Items(VlanSchema), ...ERROR_RESPONSES },
      },
    },
    async (request) => {
      const { site_id: siteId, ...page } = request.query;
      const items = await listVlans(ctxOf(request), {
        scope: siteFilter(request, 'gateway.view'),
        ...(siteId ? { siteId } : {}),
        ...paged(page),
      });
      return { items: items.map(toApi) };
    },
  );

  app.get(
    '/api/v1/firewall/vlans/:id',
    {
      config: { permission: 'gateway.view' },
      schema: {
        tags,
        summary: 'A canonical VLAN with its DHCP scopes and their reservations',
        params: IdParams,
        response: { 200: VlanDetailSchema, ...ERROR_RESPONSES },
      },
    },
    async (request) => {
      const vlan = await getVlanDetail(ctxOf(request), request.params.id);
      requireSiteObject(request, vlan.siteId, 'gateway.view');
      return {
        ...toApi(vlan),
        dhcp_scopes: vlan.dhcpScopes.map((s) => ({ ...toApi(s), reservations: s.reservations.map(toApi) })),
      };
    },
  );

  app.post(
    '/api/v1/firewall/vlans',
    {
      config: { permission: 'gateway.manage_vlans' },
      schema: {
        tags,
        summary: 'Create a canonical VLAN (id 1-4094 unique in its site, subnets overlapping no other VLAN)',
        body: Type.Object(
          { site_id: Text(100), ...optional(VlanFields), vlan_id: Type.Integer(), name: Text(100) },
          { additionalProperties: false },
        ),
        response: { 201: VlanSchema, ...ERROR_RESPONSES },
      },
    },
    async (request, reply) => {
      requireSiteForWrite(request, request.body.site_id, 'gateway.manage_vlans');
      return reply.code(201).send(toApi(await createVlan(ctxOf(request), request.body)));
    },
  );

  app.patch(
    '/api/v1/firewall/vlans/:id',
    {
      config: { permission: 'gateway.manage_vlans' },
      schema: {
        tags,
        summary: 'Change a canonical VLAN (a subnet change must keep its DHCP scopes inside)',
        params: IdParams,
        body: Type.Object(optional(VlanFields), { additionalProperties: false, minProperties: 1 }),
        response: { 200: VlanSchema, ...ERROR_RESPONSES },
      },
    },
    async (request) => {
      const ctx = ctxOf(request);
      const before = await getVlan(ctx, request.params.id);
      requireSiteObject(request, before.siteId, 'gateway.view', 'gateway.manage_vlans');
      return toApi(await updateVlan(ctx, before.id, request.body));
    },
  );

  app.delete(
    '/api/v1/firewall/vlans/:id',
    {
      config: { permission: 'gateway.manage_vlans' },
      schema: {
        tags,
        summary: 'Delete a canonical VLAN with its DHCP scopes and reservations',
        params: IdParams,
        response: { 204: Type.Null(), ...ERROR_RESPONSES },
      },
    },
    async (request, reply) => {
      const ctx = ctxOf(request);
      const before = await getVlan(ctx, request.params.id);
      requireSiteObject(request, before.siteId, 'gateway.view', 'gateway.manage_vlans');
      await deleteVlan(ctx, before.id);
      return reply.code(204).send(null);
    },
  );

  // ---- DHCP -----------------------------------------------------------------------------------------------
  app.get(
    '/api/v1/firewall/dhcp/scopes',
    {
      config: { permission: 'gateway.view' },
      schema: {
        tags,
        summary: 'List canonical DHCP scopes of the sites you can see',
        querystring: Type.Object(
          { site_id: Type.Optional(Uuid), canonical_vlan_id: Type.Optional(Uuid), ...Paging },
          { additionalProperties: false },
        ),
        response: { 200: Items(ScopeSchema), ...ERROR_RESPONSES },
      },
    },
    async (request) => {
      const { site_id: siteId, canonical_vlan_id: vlanId, ...page } = request.query;
      const items = await listScopes(ctxOf(request), {
        scope: siteFilter(request, 'gateway.view'),
        ...(siteId ? { siteId } : {}),
        ...(vlanId ? { canonicalVlanId: vlanId } : {}),
        ...paged(page),
      });
      return { items: items.map(toApi) };
    },
  );

  app.post(
    '/api/v1/firewall/dhcp/scopes',
    {
      config: { permission: 'gateway.manage_dhcp' },
      schema: {
        tags,
        summary: "Create a VLAN's DHCP scope (one per address family, both ends hosts of the VLAN's subnet)",
        body: Type.Object(
          {
            canonical_vlan_id: Text(100),
            range_start: Text(64),
            range_end: Text(64),
            lease_seconds: Type.Optional(Type.Integer()),
          },
          { additionalProperties: false },
        ),
        response: { 201: ScopeSchema, ...ERROR_RESPONSES },
      },
    },
    async (request, reply) => {
      const ctx = ctxOf(request);
      const siteId = await siteOfVlan(ctx, request.body.canonical_vlan_id, 'canonical_vlan_id');
      requireDeviceAccess(request, siteId, 'gateway.view', 'gateway.manage_dhcp', 'canonical_vlan_id');
      return reply.code(201).send(toApi(await createScope(ctx, request.body)));
    },
  );

  app.delete(
    '/api/v1/firewall/dhcp/scopes/:id',
    {
      config: { permission: 'gateway.manage_dhcp' },
      schema: {
        tags,
        summary: 'Delete a DHCP scope with its reservations',
        params: IdParams,
        response: { 204: Type.Null(), ...ERROR_RESPONSES },
      },
    },
    async (request, reply) => {
      const ctx = ctxOf(request);
      const scope = await getScope(ctx, request.params.id);
      requireSiteObject(request, scope.siteId, 'gateway.view', 'gateway.manage_dhcp');
      await deleteScope(ctx, scope.id);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/api/v1/firewall/dhcp/reservations',
    {
      config: { permission: 'gateway.view' },
      schema: {
        tags,
        summary: 'List canonical DHCP reservations of the sites you can see',
        querystring: Type.Object(
          { site_id: Type.Optional(Uuid), scope_id: Type.Optional(Uuid), ...Paging },
          { additionalProperties: false },
        ),
        response: { 200: Items(ReservationSchema), ...ERROR_RESPONSES },
      },
    },
    async (request) => {
      const { site_id: siteId, scope_id: scopeId, ...page } = request.query;
      const items = await listReservations(ctxOf(request), {
        scope: siteFilter(request, 'gateway.view'),
        ...(siteId ? { siteId } : {}),
        ...(scopeId ? { scopeId } : {}),
        ...paged(page),
      });
      return { items: items.map(toApi) };
    },
  );

  app.post(
    '/api/v1/firewall/dhcp/reservations',
    {
      config: { permission: 'gateway.manage_dhcp' },
      schema: {
        tags,
        summary: 'Reserve an address of a scope for a MAC (a host of the subnet the scope serves, in or out of its pool; MAC and address unique in it)',
        body: Type.Object(
          {
            scope_id: Text(100),
            mac: Text(32),
            ip_address: Text(64),
            hostname: Type.Optional(Nullable(Text(63))),
            description: Type.Optional(Text(1000)),
          },
          { additionalProperties: false },
        ),
        response: { 201: ReservationSchema, ...ERROR_RESPONSES },
      },
    },
    async (request, reply) => {
      const ctx = ctxOf(request);
      const siteId = await siteOfScope(ctx, request.body.scope_id, 'scope_id');
      requireDeviceAccess(request, siteId, 'gateway.view', 'gateway.manage_dhcp', 'scope_id');
      return reply.code(201).send(toApi(await createReservation(ctx, request.body)));
    },
  );

  app.delete(
    '/api/v1/firewall/dhcp/reservations/:id',
    {
      config: { permission: 'gateway.manage_dhcp' },
      schema: {
        tags,
        summary: 'Delete a DHCP reservation',
        params: IdParams,
        response: { 204: Type.Null(), ...ERROR_RESPONSES },
      },
    },
    async (request, reply) => {
      const ctx = ctxOf(request);
      const reservation = await getReservation(ctx, request.params.id);
      requireSiteObject(request, reservation.siteId, 'gateway.view', 'gateway.manage_dhcp');
      await deleteReservation(ctx, reservation.id);
      return reply.code(204).send(null);
    },
  );

  // ---- DNS ------------------------------------------------------------------------------------------------
  app.get(
    '/api/v1/firewall/dns/records',
    {
      config: { permission: 'gateway.view' },
      schema: {
        tags,
        summary: 'List canonical DNS host overrides of the sites you can see',
        querystring: SiteQuery,
        response: { 200: Items(DnsSchema), ...ERROR_RESPONSES },
      },
    },
    async (request) => {
      const { site_id: siteId, ...page } = request.query;
      const items = await listDnsRecords(ctxOf(request), {
        scope: siteFilter(request, 'gateway.view'),
        ...(siteId ? { siteId } : {}),
        ...paged(page),
      });
      return { items: items.map(toApi) };
    },
  );

  app.post(
    '/api/v1/firewall/dns/records',
    {
      config: { permission: 'gateway.manage_dns' },
      schema: {
        tags,
        summary: 'Create a DNS host override at a site (host.domain → address)',
        body: Type.Object(
          { site_id: Text(100), host: Text(63), domain: Text(253), ip_address: Text(64), description: Type.Optional(Text(1000)) },
          { additionalProperties: false },
        ),
        response: { 201: DnsSchema, ...ERROR_RESPONSES },
      },
    },
    async (request, reply) => {
      requireSiteForWrite(request, request.body.site_id, 'gateway.manage_dns');
      return reply.code(201).send(toApi(await createDnsRecord(ctxOf(request), request.body)));
    },
  );

  app.patch(
    '/api/v1/firewall/dns/records/:id',
    {
      config: { permission: 'gateway.manage_dns' },
      schema: {
        tags,
        summary: 'Change a DNS host override',
        params: IdParams,
        body: Type.Object(optional(DnsFields), { additionalProperties: false, minProperties: 1 }),
        response: { 200: DnsSchema, ...ERROR_RESPONSES },
      },
    },
    async (request) => {
      const ctx = ctxOf(request);
      const before = await getDnsRecord(ctx, request.params.id);
      requireSiteObject(request, before.siteId, 'gateway.view', 'gateway.manage_dns');
      return toApi(await updateDnsRecord(ctx, before.id, request.body));
    },
  );

  app.delete(
    '/api/v1/firewall/dns/records/:id',
    {
      config: { permission: 'gateway.manage_dns' },
      schema: {
        tags,
        summary: 'Delete a DNS host override',
        params: IdParams,
        response: { 204: Type.Null(), ...ERROR_RESPONSES },
      },
    },
    async (request, reply) => {
      const ctx = ctxOf(request);
      const before = await getDnsRecord(ctx, request.params.id);
      requireSiteObject(request, before.siteId, 'gateway.view', 'gateway.manage_dns');
      await deleteDnsRecord(ctx, before.id);
      return reply.code(204).send(null);
    },
  );

  // ---- templates (org-wide) -------------------------------------------------------------------------------
  app.get(
    '/api/v1/firewall/templates',
    {
      config: { permission: 'gateway.view' },
      schema: {
        tags,
        summary: "List the org's VLAN templates",
        querystring: Type.Object(Paging, { additionalProperties: false }),
        response: { 200: Items(TemplateSchema), ...ERROR_RESPONSES },
      },
    },
    async (request) => ({ items: (await listTemplates(ctxOf(request), paged(request.query))).map(toApi) }),
  );

  app.post(
    '/api/v1/firewall/templates',
    {
      config: { permission: 'gateway.manage_vlans', scope: 'org' },
      schema: {
        tags,
        summary: 'Create a VLAN template (org-wide blueprint: VLAN id, VLAN name, optional subnets)',
        body: Type.Object(
          { ...optional(TemplateFields), name: Text(100), vlan_id: Type.Integer(), vlan_name: Text(100) },
          { additionalProperties: false },
        ),
        response: { 201: TemplateSchema, ...ERROR_RESPONSES },
      },
    },
    async (request, reply) => reply.code(201).send(toApi(await createTemplate(ctxOf(request), request.body))),
  );

  app.patch(
    '/api/v1/firewall/templates/:id',
    {
      config: { permission: 'gateway.manage_vlans', scope: 'org' },
      schema: {
        tags,
        summary: 'Change a VLAN template (VLANs made from it keep their values)',
        params: IdParams,
        body: Type.Object(optional(TemplateFields), { additionalProperties: false, minProperties: 1 }),
        response: { 200: TemplateSchema, ...ERROR_RESPONSES },
      },
    },
    async (request) => toApi(await updateTemplate(ctxOf(request), request.params.id, request.body)),
  );

  app.delete(
    '/api/v1/firewall/templates/:id',
    {
      config: { permission: 'gateway.manage_vlans', scope: 'org' },
      schema: {
        tags,
        summary: 'Delete a VLAN template (VLANs made from it stay)',
        params: IdParams,
        response: { 204: Type.Null(), ...ERROR_RESPONSES },
      },
    },
    async (request, reply) => {
      await deleteTemplate(ctxOf(request), request.params.id);
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/api/v1/firewall/templates/:id/apply/:site_id',
    {
      ...emptyBodyIsObject,
      config: { permission: 'gateway.manage_vlans' },
      schema: {
        tags,
        summary: 'Create a canonical VLAN at a site from a template (the body may override its values)',
        params: Type.Object({ id: PathId, site_id: PathId }, { additionalProperties: false }),
        body: Type.Optional(Type.Object(optional(VlanFields), { additionalProperties: false })),
        response: { 201: VlanSchema, ...ERROR_RESPONSES },
      },
    },
    async (request, reply) => {
      requireSiteObject(request, request.params.site_id, 'gateway.view', 'gateway.manage_vlans');
      const vlan = await applyTemplate(ctxOf(request), request.params.id, request.params.site_id, request.body ?? {});
      return reply.code(201).send(toApi(vlan));
    },
  );
}
