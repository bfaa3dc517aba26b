/**
 * @module Per-request service context: the identity services need the database, the org, the keyring and
 * the actor (who, from which address, under which request id) so every audit entry they write is
 * attributed. Built from the authenticated principal, or "anonymous" on public routes (sign-in).
 */
import { hostname } from 'node:os';
import type { FastifyRequest } from 'fastify';
import type { Actor } from '../audit/record.ts';
import { type ServiceContext, serviceContext } from '../core/context.ts';
import { fromDevice } from '../firewall/live.ts';
import type { PendingDeps } from '../firewall/pending.ts';
import { DEFAULT_ORG_ID } from '../store/index.ts';
import { clientAddress } from './client-address.ts';

declare module 'fastify' {
  interface FastifyInstance {
    keyring: import('../secrets/keyring.ts').Keyring;
  }
}

function actorOf(request: FastifyRequest): Actor {
  const p = request.principal;
  if (!p) return { type: 'anonymous', id: null, name: null, sourceIp: clientAddress(request), requestId: request.id };
  return {
    type: p.kind === 'token' ? 'token' : 'user',
    id: p.userId,
    name: p.kind === 'token' ? `${p.username} (token ${p.tokenName ?? p.credentialId})` : p.username,
    sourceIp: clientAddress(request),
    requestId: request.id,
  };
}

/** The services' context for this request (the caller's org, attributed to the caller). */
export function ctxOf(request: FastifyRequest): ServiceContext {
  const app = request.server;
  return serviceContext(app.store.db, app.keyring, {
    orgId: request.principal?.orgId ?? DEFAULT_ORG_ID,
    actor: actorOf(request),
  });
}

/** This server process, as pending changes record who applied them. */
const NODE = `${hostname()}#${process.pid}`;

/** The live-write gates and the gateways' adapters, as every route that stages or applies a device write uses them. */
export function pendingDepsOf(request: FastifyRequest): PendingDeps {
  const app = request.server;
  return {
    readOnly: app.config.readOnly,
    maxOpen: app.config.maxPendingChanges,
    node: NODE,
    events: app.events,
    device: (gatewayId) => fromDevice(() => app.access.adapters.get(gatewayId)),
  };
}
