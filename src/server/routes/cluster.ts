/**
 * @module `GET /api/v1/cluster/nodes`: the nodes serving this store, their last heartbeat and the (gateway,
 * alias) leases each holds on the caller's organisation (docs/scale-out.md).
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyPluginAsync } from 'fastify';
import { Type } from 'typebox';
import { ctxOf } from '../context.ts';
import { ERROR_RESPONSES } from '../schemas.ts';

const Lease = Type.Object(
  {
    name: Type.String(),
    gateway_id: Type.String({ format: 'uuid' }),
    alias_name: Type.String(),
    acquired_at: Type.String({ format: 'date-time' }),
    expires_at: Type.String({ format: 'date-time' }),
  },
  { additionalProperties: false },
);

const Node = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    hostname: Type.String(),
    pid: Type.String(),
    started_at: Type.String({ format: 'date-time' }),
    heartbeat_at: Type.String({ format: 'date-time' }),
    alive: Type.Boolean({ description: 'its last heartbeat is younger than one lease' }),
    self: Type.Boolean({ description: 'the node that answered this request' }),
    leases: Type.Array(Lease),
  },
  { additionalProperties: false },
);

const NodeList = Type.Object(
  {
    store: Type.String({ description: 'pglite (always one node) or postgres' }),
    lease_seconds: Type.Number(),
    items: Type.Array(Node),
  },
  { additionalProperties: false },
);

export const clusterRoutes: FastifyPluginAsync = async (root) => {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();

  app.get(
    '/api/v1/cluster/nodes',
    {
      config: { permission: 'cluster.view', scope: 'org' },
      schema: {
        tags: ['operations'],
        summary: 'List the nodes on this store with their heartbeat and the aliases each reconciles',
        response: { 200: NodeList, ...ERROR_RESPONSES },
      },
    },
    async (request) => {
      const node = app.access.node;
      const nodes = await node.nodes(ctxOf(request).orgId);
      return {
        store: app.store.kind,
        lease_seconds: node.leaseMs / 1_000,
        items: nodes.map((n) => ({
          id: n.id,
          hostname: n.hostname,
          pid: n.pid,
          started_at: n.startedAt,
          heartbeat_at: n.heartbeatAt,
          alive: n.alive,
          self: n.self,
          leases: n.leases.map((lease) => ({
            name: lease.name,
            gateway_id: lease.gatewayId,
            alias_name: lease.aliasName,
            acquired_at: lease.acquiredAt,
            expires_at: lease.expiresAt,
          })),
        })),
      };
    },
  );
};
