/**
 * @module Builds the Fastify application: external plugins → app plugins (errors, observability, access
 * control) → route modules. Tests call `buildApp()` and use `inject`; `serve()` (src/server/serve.ts) adds the
 * store lifecycle, bootstrap, listening and background work.
 *
 * Extending: a new domain adds a route module to `ROUTE_MODULES` in `src/server/routes/index.ts` (every
 * route declaring `config.auth` or `config.permission`) and, for periodic work, a task to
 * `BACKGROUND_TASKS` in `src/server/background.ts`.
 */
import { registerAjvFormats, TypeBoxValidatorCompiler } from '@fastify/type-provider-typebox';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyPluginAsync,
  type FastifyServerOptions,
} from 'fastify';
import { pino } from 'pino';
import type { Registry } from 'prom-client';
import { accessRuntimePlugin, accessRuntimePluginWith } from '../access/service/plugin.ts';
import { DEFAULT_LEASE_MS } from '../access/service/runtime.ts';
import type { AccessSettings, ServerConfig } from '../config.ts';
import { jobsPlugin, jobsPluginWith } from '../jobs/plugin.ts';
import type { Keyring } from '../secrets/keyring.ts';
import type { Store } from '../store/index.ts';
import { createAuthBackend } from './auth-backend.ts';
import { type DeclaredRoute, registerAccessControl } from './plugins/access.ts';
import { frameworkErrors, registerErrorHandling } from './plugins/errors.ts';
import { registerWebApp } from './plugins/web.ts';
import { registerDocs, registerHttpPlugins } from './plugins/external.ts';
import {
  genRequestId,
  LOG_REDACT_PATHS,
  registerObservability,
  serializeError,
  serializeRequest,
} from './plugins/observability.ts';
import { ROUTE_MODULES } from './routes/index.ts';
import { registerSharedSchemas } from './schemas.ts';
import { normalizePathIds, rejectUnstorable } from './validation.ts';

interface BuildAppOptions {
  store: Store;
  config: ServerConfig;
  /** Opens and seals secrets at rest (TOTP seeds); `Keyring.load(dataDir)` in production. */
  keyring: Keyring;
  /** false silences logging (tests); an object is merged into the pino options; ignored with `loggerInstance`. */
  logger?: false | { level?: string; stream?: NodeJS.WritableStream };
  /** A logger made earlier by `createServerLogger` (serve() logs start-up work through it before the app exists). */
  loggerInstance?: FastifyBaseLogger;
  /** The access runtime's settings; without them the access plugin takes `config.access`. */
  accessSettings?: AccessSettings;
  /** Starts the background job runner when the app is ready (serve with `PORTCULLIS_JOBS` on); default false. */
  startJobs?: boolean;
  /** Replaces the default route modules (tests of the access machinery). */
  routeModules?: readonly FastifyPluginAsync[];
}

declare module 'fastify' {
  interface FastifyInstance {
    store: Store;
    config: ServerConfig;
    /** Every route with its declared access, in registration order. */
    declaredRoutes: readonly DeclaredRoute[];
    metricsRegistry: Registry;
    /** Drops the cached principals (a change outside a route's own `invalidatesPrincipals`, e.g. a provider's logout). */
    invalidatePrincipals: () => Promise<void>;
  }
}

registerAjvFormats();

function loggerOptions(config: ServerConfig): pino.LoggerOptions {
  return {
    level: config.logLevel,
    redact: { paths: LOG_REDACT_PATHS, censor: '[redacted]' },
    serializers: { req: serializeRequest, err: serializeError },
  };
}

/** The server's pino logger (redaction, request serializer), for work that logs before `buildApp`. */
export function createServerLogger(config: ServerConfig): FastifyBaseLogger {
  return pino(loggerOptions(config));
}

function fastifyLogging(
  config: ServerConfig,
  options: BuildAppOptions,
): Pick<FastifyServerOptions, 'logger' | 'loggerInstance'> {
  if (options.loggerInstance) return { loggerInstance: options.loggerInstance };
  const { logger } = options;
  if (logger === false) return { logger: false };
  return {
    logger: {
      ...loggerOptions(config),
      ...(logger?.level ? { level: logger.level } : {}),
      ...(logger?.stream ? { stream: logger.stream } : {}),
    },
  };
}

/** The route modules, with the access runtime built from `accessSettings` and the job runner started when asked. */
function routeModulesOf(options: BuildAppOptions): readonly FastifyPluginAsync[] {
  const modules = options.routeModules ?? ROUTE_MODULES;
  const { accessSettings, startJobs } = options;
  return modules.map((m) => {
    if (m === accessRuntimePlugin && accessSettings) return accessRuntimePluginWith(accessSettings);
    if (m === jobsPlugin && startJobs) return jobsPluginWith({ start: true });
    return m;
  });
}

export async function buildApp(options: BuildAppOptions): Promise<FastifyInstance> {
  const { store, config } = options;
  const app = Fastify({
    ...fastifyLogging(config, options),
    genReqId: genRequestId,
    trustProxy: config.trustProxy,
    bodyLimit: config.bodyLimit,
    // Fastify's default AJV strips unknown properties; TypeBox's compiler rejects them and never coerces bodies.
    schemaErrorFormatter: (errors) => new Error(errors[0]?.message ?? 'invalid request'),
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 200 },
    frameworkErrors,
  });
  app.setValidatorCompiler(TypeBoxValidatorCompiler);
  // The API speaks JSON only; a text body is a 415, not a string that fails validation later.
  app.removeContentTypeParser('text/plain');

  app.decorate('store', store);
  app.decorate('config', config);
  app.decorate('keyring', options.keyring);

  registerErrorHandling(app);
  app.addHook('preValidation', async (request) => {
    rejectUnstorable(request);
    normalizePathIds(request.params);
  });
  await registerHttpPlugins(app);
  app.decorate('metricsRegistry', registerObservability(app));
  const authBackend = createAuthBackend(store, config.authCacheTtlSeconds * 1000, config.access.leaseMs ?? DEFAULT_LEASE_MS);
  const stopListening = await authBackend.listen();
  app.addHook('onClose', async () => stopListening());
  const declared = registerAccessControl(app, authBackend);
  app.decorate('invalidatePrincipals', () => authBackend.invalidate());
  app.decorate('declaredRoutes', declared);
  registerSharedSchemas(app);
  await registerDocs(app);

  for (const module of routeModulesOf(options)) await app.register(module);
  await registerWebApp(app);
  return app;
}
