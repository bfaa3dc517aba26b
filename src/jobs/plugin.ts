/**
 * @module Fastify wiring of the job runner: decorates `app.jobs` (a `JobRunner` with `JOB_TASKS` registered)
 * and, when built with `start: true` (`serve` unless `PORTCULLIS_JOBS=off`), starts it when the app is ready and
 * stops it when the app closes — before the access runtime closes the adapters the jobs use. Tests build apps
 * without starting it, and drive a runner of their own when they test jobs. Must follow the access runtime.
 */
import { hostname } from 'node:os';
import type { FastifyPluginAsync } from 'fastify';
import { JobRunner } from './runner.ts';
import { type JobContext, JOB_TASKS } from './tasks.ts';

declare module 'fastify' {
  interface FastifyInstance {
    jobs: JobRunner<JobContext>;
  }
}

export function jobsPluginWith(options: { start: boolean }): FastifyPluginAsync {
  const plugin: FastifyPluginAsync = async (app) => {
    const runner = new JobRunner<JobContext>({
      store: app.store,
      log: app.log.child({ component: 'jobs' }),
      context: {
        store: app.store,
        keyring: app.keyring,
        bus: app.access.events,
        adapters: app.access.adapters,
        writes: { readOnly: app.config.readOnly, maxOpen: app.config.maxPendingChanges, node: `${hostname()}#${process.pid}#jobs` },
      },
      node: app.access.node,
    });
    for (const task of JOB_TASKS) runner.register(task);
    app.decorate('jobs', runner);
    if (options.start) app.addHook('onReady', async () => runner.start());
    app.addHook('onClose', async () => runner.stop());
  };
  (plugin as unknown as Record<symbol, boolean>)[Symbol.for('skip-override')] = true;
  return plugin;
}

/** The plugin of the default route modules: the runner exists but does not start (buildApp swaps it for serve). */
export const jobsPlugin = jobsPluginWith({ start: false });
