/**
 * @module The event catalog: every event type the bus carries, with the permission a reader needs on the
 * event's site to see it (SSE stream and webhooks are scoped by it, docs/events.md). Firewall types are the
 * FreeSDN firewall module's Fabric events (docs/firewall.md), plus sync failure and pending-change outcomes.
 */
import type { Permission } from '../identity/permissions.ts';

export const EVENT_TYPES = {
  'grant.created': { permission: 'access.view', description: 'An access grant started' },
  'grant.ended': { permission: 'access.view', description: 'An access grant ended (sign-out, revoke, expiry)' },
  'access.request.created': {
    permission: 'access.view',
    description: 'Someone asked for access on a knoc that requires approval (webhooks carry signed decision links)',
  },
  'access.request.approved': { permission: 'access.view', description: 'An access request got its last approval' },
  'access.request.denied': { permission: 'access.view', description: 'An approver denied an access request' },
  'access.request.expired': { permission: 'access.view', description: 'Nobody decided an access request in time' },
  'sync.failed': { permission: 'access.view', description: "A knoc's alias could not be reconciled" },
  'sync.recovered': { permission: 'access.view', description: "A knoc's alias reconciles again" },
  'gateway.sync.completed': { permission: 'firewall.view', description: 'A gateway sync succeeds again' },
  'gateway.sync.failed': { permission: 'firewall.view', description: 'A gateway sync starts failing' },
  'firewall.event.gateway_unreachable': { permission: 'firewall.view', description: 'A gateway stops responding' },
  'firewall.event.gateway_online': { permission: 'firewall.view', description: 'A gateway is reachable again' },
  'firewall.event.wan_down': { permission: 'firewall.view', description: 'A WAN gateway goes down' },
  'firewall.event.wan_up': { permission: 'firewall.view', description: 'A WAN gateway comes back up' },
  'firewall.event.ids_critical': { permission: 'firewall.view', description: 'A critical IDS signature fires' },
  'firewall.pending.applied': { permission: 'firewall.view', description: 'A pending change was applied' },
  'firewall.pending.failed': { permission: 'firewall.view', description: 'Applying a pending change failed' },
  'drift.detected': { permission: 'gateway.drift', description: 'A drift check found a new divergence on a gateway' },
  'drift.resolved': { permission: 'gateway.drift', description: 'A drift event was resolved or the device came back' },
  'distribution.completed': { permission: 'gateway.view', description: 'A canonical VLAN reached the brain and every limb of a site' },
  'distribution.failed': {
    permission: 'gateway.view',
    description: 'A distribution failed (its compensations ran) or lost its site lock',
  },
  'distribution.rolled_back': { permission: 'gateway.view', description: 'A distribution was rolled back on every device' },
} as const satisfies Record<string, { permission: Permission; description: string }>;

export type EventType = keyof typeof EVENT_TYPES;

export const ALL_EVENT_TYPES = Object.keys(EVENT_TYPES) as EventType[];

export function isEventType(value: string): value is EventType {
  return Object.hasOwn(EVENT_TYPES, value);
}

/** One event as stored in the outbox and carried by the bus. */
export interface BusEvent<T extends EventType = EventType> {
  type: T;
  orgId: string;
  /** Null for org-wide events (seen only by readers holding the permission on every site). */
  siteId: string | null;
  knocId?: string | null;
  grantId?: string | null;
  gatewayId?: string | null;
  /** Safe to deliver outside: ids, addresses, codes and times; never a credential. */
  payload: Record<string, unknown>;
}

/** A stored event: the outbox id and time are part of what readers receive. */
export interface StoredEvent extends BusEvent {
  id: number;
  createdAt: Date;
}

/** Whether a reader with `can(permission, siteId?)` may see the event. */
export function visibleTo(
  event: Pick<BusEvent, 'type' | 'siteId'>,
  can: (permission: Permission, siteId?: string) => boolean,
): boolean {
  const { permission } = EVENT_TYPES[event.type];
  return event.siteId === null ? can(permission) : can(permission, event.siteId);
}

/**
 * Payload keys only webhooks carry: signed decision links are capabilities meant for the approvers a webhook
 * (or the mail gateway behind it) reaches, not for every reader of the live stream.
 */
const WEBHOOK_ONLY_KEYS = ['decision_links'];

/** The JSON body of an event as webhooks (`audience: 'webhook'`) and the stream send it. */
export function eventBody(
  event: StoredEvent,
  audience: 'webhook' | 'stream' = 'stream',
): Record<string, unknown> {
  const payload =
    audience === 'webhook'
      ? event.payload
      : Object.fromEntries(Object.entries(event.payload).filter(([key]) => !WEBHOOK_ONLY_KEYS.includes(key)));
  return {
    id: event.id,
    type: event.type,
    org_id: event.orgId,
    site_id: event.siteId,
    gateway_id: event.gatewayId ?? null,
    knoc_id: event.knocId ?? null,
    grant_id: event.grantId ?? null,
    created_at: event.createdAt.toISOString(),
    payload,
  };
}
