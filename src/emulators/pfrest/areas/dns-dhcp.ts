/**
 * @module DNS resolver host overrides and DHCP server static mappings and leases (docs/reference/pfrest-emulator.md
 * §6.3). Writes mark `unbound` / `dhcpd` dirty until their apply endpoint runs.
 *
 * Upstream (pfRest 805c7f0c): `Models/DNSResolverHostOverride.inc:23-69` (host and domain HostnameValidator, ip
 * IPAddressValidator v4+v6, aliases a nested list), `Models/DNSResolverApply.inc:38-40`,
 * `Models/DHCPServerStaticMapping.inc:38-165` (parent DHCPServer, i.e. the interface id; mac MACAddressValidator and
 * unique; ipaddr IPv4 within the interface subnet `:175-194` and, at 597d0e54, not inside the server's primary
 * pool: 409 `:161-170`, `:230-234`; maxleasetime not below defaultleasetime
 * `:202-210`), `Models/DHCPServerApply.inc:36-38`, `Models/DHCPServerLease.inc:27-91`, parent lookup
 * `Core/Model.inc:1238-1244` and `:1509-1513`; endpoints `Endpoints/ServicesDNSResolver{HostOverride,HostOverrides,
 * Apply}Endpoint.inc:16`, `Endpoints/ServicesDHCPServer{StaticMapping,StaticMappings,Apply}Endpoint.inc:15-16`,
 * `Endpoints/StatusDHCPServerLeasesEndpoint.inc:16`.
 */
import ipaddr from 'ipaddr.js';
import { Collection } from '../collection.ts';
import type { AreaContext, Endpoint, RequestContext } from '../endpoint.ts';
import { PfRestError } from '../envelope.ts';
import { isFqdn, isIpAddr, isIpv4 } from '../names.ts';
import { applyQuery, page, readList, valueText } from '../query.ts';
import { collectionModel, type FieldSpec, type ModelSpec, type Row, representRow } from '../spec.ts';
import { crudEndpoints, listEndpoint } from './crud.ts';

const LEASE_FIELDS = [
  'ip',
  'mac',
  'hostname',
  'if',
  'starts',
  'ends',
  'active_status',
  'online_status',
  'descr',
] as const;

const HOST_LABEL = /^(?:[a-z0-9_]|[a-z0-9_][a-z0-9_-]*[a-z0-9_])$/i;

function hostname(name: string, allowEmpty: boolean): FieldSpec {
  return {
    name,
    type: 'string',
    required: true,
    allowEmpty,
    maxLength: 255,
    check: (v) => {
      const value = v as string;
      if (!(HOST_LABEL.test(value) || isFqdn(value))) {
        throw new PfRestError(
          400,
          'HOSTNAME_VALIDATOR_FAILED',
          `Field '${name}' must be a valid hostname, received '${value}'.`,
        );
      }
    },
  };
}

/** A `many` StringField of servers: empty by default, at most `most` entries of at most `length` characters. */
function serverList(name: string, most: number, length: number): FieldSpec {
  return { name, type: 'string', many: true, default: [], allowEmpty: true, manyMaximum: most, maxLength: length };
}

const MAC = /^[0-9a-f]{2}(?::[0-9a-f]{2}){5}$/i;

export function dnsDhcpEndpoints(ctx: AreaContext): Record<string, Endpoint> {
  const hostOverride: ModelSpec = {
    fields: [
      hostname('host', true),
      hostname('domain', false),
      {
        name: 'ip',
        type: 'string',
        required: true,
        many: true,
        check: (v) => {
          if (!isIpAddr(v as string)) {
            throw new PfRestError(
              400,
              'IP_ADDRESS_VALIDATOR_FAILED',
              `Field 'ip' must be a valid IPv4 address or IPv6 address, received '${String(v)}'.`,
            );
          }
        },
      },
      { name: 'descr', type: 'string', default: '', allowEmpty: true },
    ],
  };
  const hostOverrides = new Collection(
    {
      ...collectionModel(hostOverride, {
        subsystem: 'unbound',
        // `sort_by` host (`Models/DNSResolverHostOverride.inc:28-29`): every write re-sorts, ids move.
        sort: { by: ['host'] },
        items: () => ctx.box().hostOverrides,
        replace: (items) => {
          ctx.box().hostOverrides = items;
        },
        complete: (row, original) => ({ ...row, aliases: original?.aliases ?? [] }),
      }),
      fields: ['host', 'domain', 'ip', 'descr', 'aliases'],
      represent: (item, id) => ({ ...representRow(hostOverride, item, id), aliases: item.aliases ?? [] }),
    },
    ctx.effects,
  );

  const interfaceCidr = (parent: string): [ipaddr.IPv4, number] | null => {
    const i = ctx.box().interfaces.find((x) => x.id === parent);
    if (!i || !isIpv4(i.ipaddr)) return null;
    return [ipaddr.IPv4.parse(i.ipaddr), i.subnet];
  };

  const v4 = (ip: string): number => ipaddr.IPv4.parse(ip).toByteArray().reduce((n, b) => n * 256 + b, 0);
  /** Whether `ip` lies in a server's primary pool `from`-`to` (both IPv4; otherwise there is no pool to hit). */
  const inPool = (ip: string, from: unknown, to: unknown): boolean =>
    typeof from === 'string' && typeof to === 'string' && isIpv4(from) && isIpv4(to) && v4(from) <= v4(ip) && v4(ip) <= v4(to);

  const staticMapping = (parent: string): ModelSpec => ({
    fields: [
      {
        name: 'mac',
        type: 'string',
        required: true,
        unique: true,
        check: (v) => {
          if (!MAC.test(v as string)) {
            throw new PfRestError(
              400,
              'MAC_ADDRESS_VALIDATOR_FAILED',
              `Field 'mac' must be a valid MAC address, received '${String(v)}'.`,
            );
          }
        },
      },
      {
        name: 'ipaddr',
        type: 'string',
        default: null,
        allowNull: true,
        allowEmpty: true,
        check: (v) => {
          if (!isIpv4(v as string)) {
            throw new PfRestError(
              400,
              'IP_ADDRESS_VALIDATOR_FAILED',
              `Field 'ipaddr' must be a valid IPv4 address, received '${String(v)}'.`,
            );
          }
          // The primary pool is checked first (`validate_ipaddr` → `get_ip_overlap`, 597d0e54 `:161-170`, `:230-234`).
          const server = ctx.box().dhcpServers[parent];
          if (server && inPool(v as string, server.range_from, server.range_to)) {
            throw new PfRestError(
              409,
              'DHCP_SERVER_STATIC_MAPPING_IPADDR_OVERLAPS_EXISTING_OBJECT',
              'Field `ipaddr` overlaps existing DHCP Server Static Mapping with ID ``.',
            );
          }
          const cidr = interfaceCidr(parent);
          if (cidr && !ipaddr.IPv4.parse(v as string).match(cidr)) {
            throw new PfRestError(
              400,
              'DHCP_SERVER_STATIC_MAPPING_IPADDR_NOT_WITHIN_SUBNET',
              "Field 'ipaddr' must be within the interface's subnet.",
            );
          }
        },
      },
      { name: 'cid', type: 'string', default: null, allowNull: true, allowEmpty: true },
      { name: 'hostname', type: 'string', default: null, allowNull: true, allowEmpty: true },
      { name: 'domain', type: 'string', default: '', allowEmpty: true, maxLength: 255 },
      { name: 'domainsearchlist', type: 'string', many: true, default: [], allowEmpty: true, maxLength: 255 },
      { name: 'defaultleasetime', type: 'integer', default: 7200, allowNull: true, minimum: 60 },
      { name: 'maxleasetime', type: 'integer', default: 86400, allowNull: true, minimum: 60 },
      { name: 'gateway', type: 'string', default: '', allowEmpty: true, maxLength: 15 },
      serverList('dnsserver', 4, 15),
      serverList('winsserver', 2, 15),
      serverList('ntpserver', 3, 256),
      { name: 'arp_table_static_entry', type: 'boolean', default: false },
      { name: 'descr', type: 'string', default: '', allowEmpty: true, maxLength: 255 },
    ],
    extra: (row) => {
      const { maxleasetime: max, defaultleasetime: def } = row;
      if (typeof max === 'number' && typeof def === 'number' && max < def) {
        throw new PfRestError(
          400,
          'DHCP_SERVER_STATIC_MAPPING_MAX_LEASE_TIME_LESS_THAN_DEFAULT',
          'DHCP server `maxleasetime` cannot be less than the `defaultleasetime`',
        );
      }
    },
  });
  const mappingFields = staticMapping('').fields.map((f) => f.name);

  /** The static mappings of the DHCP server named by `parent_id` (an interface id). */
  const mappingsOf = (r: RequestContext): Collection<Row> => {
    const parent = r.data.parent_id;
    if (parent === undefined || parent === null) {
      throw new PfRestError(400, 'MODEL_PARENT_ID_REQUIRED', 'Field `parent_id` is required.');
    }
    const all = ctx.box().dhcpStaticMappings;
    if (typeof parent !== 'string' || all[parent] === undefined) {
      throw new PfRestError(
        404,
        'MODEL_PARENT_OBJECT_NOT_FOUND',
        `Parent object with ID '${valueText(parent)}' does not exist.`,
      );
    }
    const spec = staticMapping(parent);
    const base = collectionModel(spec, {
      subsystem: 'dhcpd',
      // `sort_by` ipaddr, `SORT_NATURAL` (`Models/DHCPServerStaticMapping.inc:44-45`).
      sort: { by: ['ipaddr'], flags: 'SORT_NATURAL' },
      items: () => all[parent] ?? [],
      replace: (items) => {
        all[parent] = items;
      },
    });
    return new Collection(
      { ...base, represent: (item, id) => ({ parent_id: parent, ...representRow(spec, item, id) }) },
      ctx.effects,
    );
  };

  const applyEndpoint = (subsystem: string): Endpoint => ({
    methods: ['GET', 'POST'],
    fields: ['applied'],
    handle: (r) => {
      if (r.method === 'POST') ctx.clearSubsystem(subsystem);
      return { applied: !ctx.box().pending.includes(subsystem) };
    },
  });

  return {
    ...crudEndpoints(
      '/api/v2/services/dns_resolver/host_override',
      '/api/v2/services/dns_resolver/host_overrides',
      hostOverrides,
    ),
    '/api/v2/services/dns_resolver/apply': applyEndpoint('unbound'),
    '/api/v2/services/dhcp_server/static_mapping': {
      methods: ['GET', 'POST', 'PATCH', 'DELETE'],
      fields: mappingFields,
      handle: (r) => {
        const { parent_id: _parent, ...data } = r.data;
        const mappings = mappingsOf(r);
        if (r.method === 'GET') return mappings.readOne(data);
        if (r.method === 'POST') return mappings.create(data, r.controls);
        if (r.method === 'PATCH') return mappings.update(data, r.controls);
        return mappings.deleteOne(data, r.controls);
      },
    },
    '/api/v2/services/dhcp_server/static_mappings': {
      methods: ['GET', 'DELETE'],
      fields: ['parent_id', ...mappingFields],
      handle: (r) => {
        const fields = ['parent_id', ...mappingFields];
        const all = Object.entries(ctx.box().dhcpStaticMappings).flatMap(([parent, items]) =>
          items.map((item, id) => ({ parent_id: parent, ...representRow(staticMapping(parent), item, id) })),
        );
        if (r.method === 'GET') return readList(all, r.data, fields, r.controls);
        if (Object.keys(r.data).length === 0 && !r.controls.all) {
          throw new PfRestError(
            400,
            'MODEL_DELETE_MANY_REQUIRES_QUERY_PARAMS',
            'At least one query parameter is required to delete many objects.',
          );
        }
        const matched = page(r.controls.all ? all : applyQuery(all, r.data, fields), r.controls);
        if (!r.controls.dryRun && matched.length > 0) {
          const doomed = new Set(matched.map((m) => `${String(m.parent_id)}/${m.id}`));
          const mappings = ctx.box().dhcpStaticMappings;
          for (const parent of Object.keys(mappings)) {
            mappings[parent] = (mappings[parent] ?? []).filter((_, id) => !doomed.has(`${parent}/${id}`));
          }
          ctx.effects.markDirty('dhcpd');
          ctx.effects.persist();
        }
        return matched;
      },
    },
    '/api/v2/services/dhcp_server/apply': applyEndpoint('dhcpd'),
    // `DHCPServerLease::_delete()` removes the lease from the DHCP server (`Models/DHCPServerLease.inc:105-126`).
    '/api/v2/status/dhcp_server/leases': listEndpoint(
      LEASE_FIELDS,
      () => ctx.box().live.dhcpLeases,
      (kept) => {
        ctx.box().live.dhcpLeases = kept;
        ctx.effects.persist();
      },
    ),
  };
}
