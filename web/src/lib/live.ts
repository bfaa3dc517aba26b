/**
 * Data that changes on the server by itself (grants turning live, expiring, device errors). Today every such
 * query polls; when the events stream (`/api/v1/events/stream`) exists, `useLiveUpdates` in the layout will
 * invalidate the affected query keys on each event and `LIVE` drops its interval — pages do not change.
 */
export const LIVE_POLL_MS = 2_000;

/** Spread into `useQuery` options of live data. */
export const LIVE = { refetchInterval: LIVE_POLL_MS, refetchIntervalInBackground: false } as const;

/** Query keys of live data, so a later stream knows what to invalidate. */
export const liveKeys = {
  portal: ['portal', 'me'] as const,
  grants: ['grants'] as const,
  knocStatus: (id: string) => ['knocs', id, 'status'] as const,
  knocs: ['knocs'] as const,
};
