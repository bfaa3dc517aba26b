/**
 * @module Routing (docs/reference/pfrest-emulator.md §6.2): static routes (writes mark `staticroutes` dirty until
 * `POST /api/v2/routing/apply`), the configured gateways (read) and their live status.
 *
 * Upstream (pfRest 805c7f0c): `Models/StaticRoute.inc:26-58` (network: SubnetValidator with aliases, normalised
 * to its network address by `validate_network()` `:66-120`; gateway: ForeignModelField to a gateway name, a miss
 * is a 404 `FOREIGN_MODEL_FIELD_VALUE_NOT_FOUND`, `Fields/ForeignModelField.inc:327-332`),
 * `Models/RoutingApply.inc:37-39`,
 * `Models/RoutingGateway.inc:44-200`, `Models/RoutingGatewayStatus.inc:23-84`; endpoints
 * `Endpoints/Routing{StaticRoute,StaticRoutes,Apply,Gateways}Endpoint.inc:16`,
 * `Endpoints/StatusGatewaysEndpoint.inc:16`.
 * pfRest has no endpoint for the kernel routing table.
 */
import ipaddr from 'ipaddr.js';
import { Collection } from '../collection.ts';
import type { AreaContext, Endpoint } from '../endpoint.ts';
import { PfRestError } from '../envelope.ts';
import { isSubnet } from '../names.ts';
import { collectionModel, type ModelSpec } from '../spec.ts';
import { crudEndpoints, listEndpoint } from './crud.ts';

const GATEWAY_FIELDS = [
  'name',
  'descr',
  'disabled',
  'ipprotocol',
  'interface',
  'gateway',
  'monitor_disable',
  'monitor',
  'weight',
] as const;
const GATEWAY_STATUS_FIELDS = [
  'name',
  'srcip',
  'monitorip',
  'delay',
  'stddev',
  'loss',
  'status',
  'substatus',
] as const;

/** `gen_subnet()`: the network address of a CIDR, so `10.1.2.3/16` is stored as `10.1.0.0/16`. */
function networkAddress(cidr: string): string {
  const [address, bits] = ipaddr.parseCIDR(cidr);
  const network = address.kind() === 'ipv4'
    ? ipaddr.IPv4.networkAddressFromCIDR(cidr)
    : ipaddr.IPv6.networkAddressFromCIDR(cidr);
  return `${network.toString()}/${bits}`;
}

export function routingEndpoints(ctx: AreaContext): Record<string, Endpoint> {
  const staticRoute: ModelSpec = {
    fields: [
      {
        name: 'network',
        type: 'string',
        required: true,
        check: (v) => {
          const value = v as string;
          if (!isSubnet(value) && !ctx.box().aliases.some((a) => a.name === value && a.type !== 'port')) {
            throw new PfRestError(
              400,
              'SUBNET_VALIDATOR_FAILED',
              `Field 'network' must be a valid subnet CIDR, received '${value}'.`,
            );
          }
        },
      },
      {
        name: 'gateway',
        type: 'string',
        required: true,
        check: (v) => {
          if (!ctx.box().gateways.some((g) => g.name === v)) {
            throw new PfRestError(
              404,
              'FOREIGN_MODEL_FIELD_VALUE_NOT_FOUND',
              `Field 'gateway' could not locate 'Routing Gateway or Routing Gateway Group' object with ` +
                `'name' set to '${String(v)}'`,
            );
          }
        },
      },
      { name: 'descr', type: 'string', default: '', allowEmpty: true },
      { name: 'disabled', type: 'boolean', default: false },
    ],
  };
  const routes = new Collection(
    collectionModel(staticRoute, {
      subsystem: 'staticroutes',
      items: () => ctx.box().staticRoutes,
      replace: (items) => {
        ctx.box().staticRoutes = items;
      },
      complete: (row) => ({
        ...row,
        network: isSubnet(row.network as string) ? networkAddress(row.network as string) : row.network,
      }),
    }),
    ctx.effects,
  );
  return {
    ...crudEndpoints('/api/v2/routing/static_route', '/api/v2/routing/static_routes', routes, { put: false }),
    '/api/v2/routing/apply': {
      methods: ['GET', 'POST'],
      fields: ['applied'],
      handle: (r) => {
        if (r.method === 'POST') ctx.clearSubsystem('staticroutes');
        return { applied: !ctx.box().pending.includes('staticroutes') };
      },
    },
    // A gateway named by a static route or a firewall rule cannot go (`Models/RoutingGateway.inc:57`
    // `referenced_by`, `Core/Model.inc:2565-2572`): 409, nothing deleted.
    '/api/v2/routing/gateways': listEndpoint(
      GATEWAY_FIELDS,
      () => ctx.box().gateways,
      (kept, removed) => {
        const names = new Set(removed.map((g) => g.name));
        const box = ctx.box();
        if ([...box.staticRoutes, ...box.rules].some((x) => names.has(x.gateway))) {
          throw new PfRestError(
            409,
            'MODEL_CANNOT_BE_DELETED_WHILE_REFERENCED',
            'Object cannot be deleted because it is referenced by another existing object.',
          );
        }
        box.gateways = kept;
        ctx.effects.markDirty('staticroutes');
        ctx.effects.persist();
      },
    ),
    '/api/v2/status/gateways': listEndpoint(GATEWAY_STATUS_FIELDS, () => ctx.box().live.gatewayStatus),
  };
}
