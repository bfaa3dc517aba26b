/**
 * @module Fastify wiring of the event machinery: decorates `app.events` (the one bus — the access runtime's,
 * which access and firewall code emit on) and `app.webhooks` (the delivery dispatcher, started when the app is
 * ready and stopped when it closes). Must be registered after the access runtime plugin.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { EventBus } from './bus.ts';
import { WebhookDispatcher } from './delivery.ts';

declare module 'fastify' {
  interface FastifyInstance {
    events: EventBus;
    webhooks: WebhookDispatcher;
  }
}

export const eventsPlugin: FastifyPluginAsync = async (app) => {
  const bus = app.access.events;
  const dispatcher = new WebhookDispatcher(app.store.db, app.keyring, app.log.child({ component: 'webhooks' }), {
    allowHosts: app.config.webhookAllowHosts,
  });
  app.decorate('events', bus);
  app.decorate('webhooks', dispatcher);
  app.addHook('onReady', async () => dispatcher.start(bus));
  app.addHook('onClose', async () => dispatcher.stop());
};
// Like fastify-plugin: the decorations land on the root instance, not in an encapsulated child.
(eventsPlugin as unknown as Record<symbol, boolean>)[Symbol.for('skip-override')] = true;
