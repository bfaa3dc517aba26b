/**
 * @module Background work that runs beside the HTTP server (sync, drift checks, health polls, clean-ups).
 *
 * A domain adds a `BackgroundTask` to `BACKGROUND_TASKS`; `serve()` starts them all after the server
 * listens and stops them (in reverse order) before the store closes. A task that fails to start stops the
 * start-up: half-running background work is worse than a clear error.
 */
import type { FastifyBaseLogger } from 'fastify';
import { pruneOrphanedPendingKills } from '../access/service/pending-kills.ts';
import type { ServerConfig } from '../config.ts';
import type { Store } from '../store/index.ts';

interface BackgroundContext {
  store: Store;
  config: ServerConfig;
  log: FastifyBaseLogger;
}

interface BackgroundTask {
  name: string;
  /** Starts the task and returns how to stop it (wait for in-flight work, clear timers). */
  start(ctx: BackgroundContext): Promise<() => Promise<void>>;
}

/** Runs `prune` at start and hourly; a failure is logged and retried at the next hour. */
function hourlyPruning(name: string, prune: (store: Store) => Promise<number>, pruned: string): BackgroundTask {
  return {
    name,
    async start({ store, log }) {
      const run = async () => {
        try {
          const n = await prune(store);
          if (n > 0) log.info({ pruned: n }, pruned);
        } catch (err) {
          log.warn({ err, task: name }, 'pruning failed; retrying next hour');
        }
      };
      await run();
      // run() logs its own failures, so the promise never rejects.
      const timer = setInterval(() => void run(), 3_600_000);
      timer.unref();
      return async () => clearInterval(timer);
    },
  };
}

/** Sessions that expired or were revoked more than a day ago. */
async function pruneOldSessions(store: Store): Promise<number> {
  const rows = await store.query<{ n: number }>(
    `with gone as (delete from sessions
       where coalesce(revoked_at, expires_at) < now() - interval '1 day' returning 1)
     select count(*)::int as n from gone`,
  );
  return rows[0]?.n ?? 0;
}

const BACKGROUND_TASKS: readonly BackgroundTask[] = [
  hourlyPruning('session-pruning', pruneOldSessions, 'pruned old sessions'),
  // Kills owed on aliases no active knoc uses any more can never be done (ADR 0289).
  hourlyPruning('pending-kill-pruning', pruneOrphanedPendingKills, 'pruned pending state kills of unused aliases'),
];

export async function startBackground(
  ctx: BackgroundContext,
  tasks: readonly BackgroundTask[] = BACKGROUND_TASKS,
): Promise<() => Promise<void>> {
  const stops: Array<() => Promise<void>> = [];
  for (const task of tasks) {
    stops.push(await task.start(ctx));
    ctx.log.info({ task: task.name }, 'background task started');
  }
  return async () => {
    for (const stop of stops.reverse()) await stop();
  };
}
