/**
 * @module Runs the server: opens the store (PGlite in the data directory, or PostgreSQL when
 * `PORTCULLIS_DATABASE_URL` is set), applies migrations, bootstraps the owner on first start, listens,
 * starts background work, and shuts down in order on SIGINT/SIGTERM.
 *
 * A generated owner password is written once to stderr as a plain banner — never through the JSON
 * logger, so it cannot end up in a log pipeline as a structured field.
 */
import type { FastifyInstance } from 'fastify';
import type { ServerConfig } from '../config.ts';
import { ensureOwner } from '../identity/bootstrap.ts';
import { type RunningLab, startLab } from '../lab/index.ts';
import { Keyring } from '../secrets/keyring.ts';
import { type OpenedStore, openStore } from '../store/index.ts';
import { buildApp, createServerLogger } from './app.ts';
import { startBackground } from './background.ts';

export interface RunningServer {
  app: FastifyInstance;
  store: OpenedStore;
  /** `http://host:port` actually bound (useful with port 0). */
  url: string;
  /** Stops background work, closes the server, then the store. Idempotent. */
  stop(): Promise<void>;
}

export async function startServer(
  config: ServerConfig,
  io: { banner: (text: string) => void } = { banner: (text) => process.stderr.write(text) },
): Promise<RunningServer> {
  const keyring = Keyring.fromConfig(config.dataDir, config.secretKeys);
  const store = await openStore(
    config.databaseUrl ? { url: config.databaseUrl } : { dataDir: config.dataDir },
  );
  let app: FastifyInstance | undefined;
  let lab: RunningLab | null = null;
  try {
    const boot = await ensureOwner({ db: store.db, keyring, bootstrapAdmin: config.bootstrapAdmin });
    if (boot.created && boot.generatedPassword) {
      io.banner(
        [
          '',
          '================================================================',
          ` Portcullis owner account created: ${boot.username}`,
          ` Password (shown once, change it after signing in): ${boot.generatedPassword}`,
          '================================================================',
          '',
        ].join('\n'),
      );
    }
    const log = createServerLogger(config);
    const accessSettings = config.access;
    // The emulated lab (ADR 0101) registers before the app is built, so the access runtime is built with the
    // lab endpoint in its allow-list and its first reconcile sees the lab gateway.
    if (!config.databaseUrl) {
      lab = await startLab({
        enabled: config.labEnabled,
        vendors: config.labVendors,
        db: store.db,
        keyring,
        dataDir: config.dataDir,
        allowHosts: accessSettings.allowHosts,
        log,
      });
      if (lab) io.banner(lab.banner);
    }
    app = await buildApp({
      store,
      config,
      keyring,
      loggerInstance: log,
      accessSettings: lab ? { ...accessSettings, allowHosts: lab.allowHosts } : accessSettings,
      startJobs: config.jobsEnabled,
    });
    const address = await app.listen({ host: config.host, port: config.port });
    const stopBackground = await startBackground({ store, config, log: app.log });
    let stopping: Promise<void> | undefined;
    const running = app;
    return {
      app: running,
      store,
      url: address,
      stop() {
        stopping ??= (async () => {
          await stopBackground();
          await running.close();
          await lab?.close();
          await store.close();
        })();
        return stopping;
      },
    };
  } catch (err) {
    await app?.close();
    await lab?.close();
    await store.close();
    throw err;
  }
}

/** `portcullis serve`: start, then stop cleanly on the first SIGINT/SIGTERM (a second one forces exit). */
export async function serve(config: ServerConfig): Promise<void> {
  const server = await startServer(config);
  server.app.log.info({ url: server.url, store: server.store.kind }, 'portcullis ready');
  let signalled = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled) process.exit(1);
    signalled = true;
    server.app.log.info({ signal }, 'shutting down');
    server.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        server.app.log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}
