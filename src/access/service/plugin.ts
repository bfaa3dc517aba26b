/**
 * @module Fastify wiring of the access runtime: decorates `app.access` (visible to every route module), starts
 * it when the app is ready (reconcilers for every active knoc, expiry tracking, full reconcile) and stops it
 * when the app closes. `accessRuntimePlugin` takes the settings of the app's configuration (src/config.ts);
 * `buildApp({ accessSettings })` (serve() with the lab endpoint) and tests swap in
 * `accessRuntimePluginWith(settings)`.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { AccessSettings } from '../../config.ts';
import { AccessRuntime } from './runtime.ts';

declare module 'fastify' {
  interface FastifyInstance {
    access: AccessRuntime;
  }
}

export function accessRuntimePluginWith(settings?: AccessSettings): FastifyPluginAsync {
  const plugin: FastifyPluginAsync = async (app) => {
    const runtime = new AccessRuntime(
      app.store,
      app.keyring,
      app.log.child({ component: 'access' }),
      settings ?? app.config.access,
    );
    app.decorate('access', runtime);
    app.addHook('onReady', async () => runtime.start());
    app.addHook('onClose', async () => runtime.stop());
  };
  // Like fastify-plugin: the decoration lands on the root instance, not in an encapsulated child.
  (plugin as unknown as Record<symbol, boolean>)[Symbol.for('skip-override')] = true;
  return plugin;
}

/** The production plugin: the settings of the app's configuration. */
export const accessRuntimePlugin = accessRuntimePluginWith();
