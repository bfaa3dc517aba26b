/**
 * @module Background work that runs beside the HTTP server (sync, drift checks, health polls, clean-ups).
 *
 * A domain adds a `BackgroundTask` to `BACKGROUND_TASKS`; `serve()` starts them all after the server
 * listens and stops them (in reverse order) before the store closes. A task that fails to start stops the
 * start-up: half-running background work is worse than a clear error.
 */
import type { FastifyBaseLogger } from 'fastify';
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

/** Prunes sessions that expired or were revoked more than a day ago, hourly. */
const sessionPruning: BackgroundTask = {
  name: 'session-pruning',
  async start({ store, log }) {
    const prune = async () => {
      try {
        const rows = await store.query<{ n: number }>(
          `with gone as (delete from sessions
             where coalesce(revoked_at, expires_at) < now() - interval '1 day' returning 1)
           select count(*)::int as n from gone`,
        );
        if (rows[0]?.n) log.info({ pruned: rows[0].n }, 'pruned old sessions');
      } catch (err) {
        log.warn({ err }, 'session pruning failed; retrying next hour');
      }
    };
    await prune();
    // prune() logs its own failures, so the promise never rejects.
    const timer = setInterval(() => void prune(), 3_600_000);
    timer.unref();
    return async () => clearInterval(timer);
  },
};

const BACKGROUND_TASKS: readonly BackgroundTask[] = [sessionPruning];

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
