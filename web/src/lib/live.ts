/**
 * Data that changes on the server by itself (grants starting and ending, device errors, firewall events).
 * `useLiveUpdates` (in the layout) follows the events stream (`GET /api/v1/events/stream`, server-sent events)
 * and invalidates the queries under `liveKeys` on each event, so pages refresh without polling. Queries of such
 * data spread `LIVE`: it polls only as a fallback — slowly while the stream is down — and quickly while a grant
 * waits for its firewall, because the server sends no event when the firewall applies it (docs/ui.md).
 */
import { type QueryClient, useQueryClient } from '@tanstack/react-query';
import { useEffect, useSyncExternalStore } from 'react';
import type { EventType } from '../api/types';

/** While a grant is `pending` on its firewall: the next state comes without an event. */
export const PENDING_POLL_MS = 2_000;
/** Fallback while the stream is down (it reconnects by itself; this covers the gap). */
export const STREAM_DOWN_POLL_MS = 10_000;
/** A safety net while the stream is up (an event the stream's filter hid, a clock-driven expiry). */
export const STREAM_UP_POLL_MS = 60_000;

/** Query keys of live data: every event invalidates these prefixes. */
export const liveKeys = {
  portal: ['portal', 'me'] as const,
  grants: ['grants'] as const,
  requests: ['requests'] as const,
  knocStatus: (id: string) => ['knocs', id, 'status'] as const,
  knocs: ['knocs'] as const,
  audit: ['audit'] as const,
  firewall: ['firewall'] as const,
};
const INVALIDATED: readonly (readonly string[])[] = [['portal'], liveKeys.grants, liveKeys.requests, liveKeys.knocs, liveKeys.audit, liveKeys.firewall];

/** Every event type the server sends; `satisfies` plus `MissingType` make tsc fail when the catalog changes. */
export const EVENT_TYPES = [
  'grant.created',
  'grant.ended',
  'access.request.created',
  'access.request.approved',
  'access.request.denied',
  'access.request.expired',
  'sync.failed',
  'sync.recovered',
  'gateway.sync.completed',
  'gateway.sync.failed',
  'firewall.event.gateway_unreachable',
  'firewall.event.gateway_online',
  'firewall.event.wan_down',
  'firewall.event.wan_up',
  'firewall.event.ids_critical',
  'firewall.pending.applied',
  'firewall.pending.failed',
  'drift.detected',
  'drift.resolved',
  'distribution.completed',
  'distribution.failed',
  'distribution.rolled_back',
] as const satisfies readonly EventType[];
type MissingType = Exclude<EventType, (typeof EVENT_TYPES)[number]>;
const allTypesListed: MissingType extends never ? true : MissingType = true;
void allTypesListed;

/** One event as the stream sends it (docs/events.md). */
export interface StreamEvent {
  id: number;
  type: string;
  site_id: string | null;
  gateway_id: string | null;
  knoc_id: string | null;
  grant_id: string | null;
  created_at: string;
  payload: Record<string, unknown>;
}

/** Whether `data` holds a grant still waiting for its firewall (`sync_state: "pending"`), looked for a few levels deep. */
export function awaitsDevice(data: unknown, depth = 4): boolean {
  if (depth < 0 || data === null || typeof data !== 'object') return false;
  if (Array.isArray(data)) return data.some((item) => awaitsDevice(item, depth - 1));
  const record = data as Record<string, unknown>;
  if (record.sync_state === 'pending') return true;
  return Object.values(record).some((value) => awaitsDevice(value, depth - 1));
}

/** How often a live query polls: fast while something is pending, else by the stream's state. */
export function pollInterval(streamUp: boolean, data: unknown): number {
  if (awaitsDevice(data)) return PENDING_POLL_MS;
  return streamUp ? STREAM_UP_POLL_MS : STREAM_DOWN_POLL_MS;
}

/** The stream's state and the newest events, shared by every component (one stream per tab). */
const RECENT_MAX = 50;
let streamUp = false;
let recent: readonly StreamEvent[] = [];
const listeners = new Set<() => void>();
const notify = () => {
  for (const listener of listeners) listener();
};
const subscribe = (listener: () => void) => {
  listeners.add(listener);
  return () => listeners.delete(listener);
};

/** Spread into `useQuery` options of live data. */
export const LIVE = {
  refetchInterval: (query: { state: { data: unknown } }) => pollInterval(streamUp, query.state.data),
  refetchIntervalInBackground: false,
} as const;

/** Whether the events stream is connected (for a "live" badge). */
export function useStreamUp(): boolean {
  return useSyncExternalStore(subscribe, () => streamUp);
}

/** The newest events the stream delivered since this tab opened, newest first. */
export function useRecentEvents(): readonly StreamEvent[] {
  return useSyncExternalStore(subscribe, () => recent);
}

async function invalidateLive(client: QueryClient): Promise<void> {
  await Promise.all(INVALIDATED.map((queryKey) => client.invalidateQueries({ queryKey })));
}

/**
 * Follows the events stream while signed in. EventSource reconnects by itself and sends `Last-Event-ID`, so
 * the server replays what was missed; every state change re-reads live data so the intervals above apply.
 */
export function useLiveUpdates(enabled: boolean): void {
  const client = useQueryClient();
  useEffect(() => {
    if (!enabled || typeof EventSource === 'undefined') return;
    const source = new EventSource('/api/v1/events/stream', { withCredentials: true });
    const setUp = (up: boolean) => {
      if (streamUp === up) return;
      streamUp = up;
      notify();
      void invalidateLive(client);
    };
    const onEvent = (message: MessageEvent<string>) => {
      try {
        const event = JSON.parse(message.data) as StreamEvent;
        recent = [event, ...recent].slice(0, RECENT_MAX);
        notify();
      } catch {
        // A frame that is not JSON carries nothing to show; the invalidation below still applies.
      }
      void invalidateLive(client);
    };
    source.onopen = () => setUp(true);
    source.onerror = () => setUp(false);
    for (const type of EVENT_TYPES) source.addEventListener(type, onEvent);
    return () => {
      source.close();
      streamUp = false;
      notify();
    };
  }, [enabled, client]);
}
