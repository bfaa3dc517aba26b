/**
 * @module The OpenAPI document without a listening server: builds the app on a throw-away in-memory store,
 * readies it and asks @fastify/swagger for the document. `npm run gen:api` writes it for the web client, and a
 * test compares the committed copy with it (docs/ui.md).
 */
import { loadConfig } from '../config.ts';
import { Keyring } from '../secrets/keyring.ts';
import { openStore } from '../store/open.ts';
import { buildApp } from './app.ts';

export async function openApiDocument(): Promise<Record<string, unknown>> {
  // A migrated store: the access runtime starts when the app is ready and reads it (nothing to do on an empty one).
  const store = await openStore({ memory: true });
  try {
    // Not the environment: the document must not depend on who runs the script.
    const config = loadConfig({}, { logLevel: 'silent' });
    const app = await buildApp({
      store,
      config,
      keyring: Keyring.ephemeral(),
      logger: false,
      accessSettings: { ...config.access, reconcileIntervalMs: null },
    });
    try {
      await app.ready();
      return app.swagger() as unknown as Record<string, unknown>;
    } finally {
      await app.close();
    }
  } finally {
    await store.close();
  }
}
