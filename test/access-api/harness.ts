/**
 * @module The access API under test: a real app on a real store (PGlite or PostgreSQL) with the access runtime
 * configured by settings (the emulator's loopback host allow-listed, short backoff and timeouts), next to a
 * real pfRest emulator over HTTPS on loopback. Helpers create a site, a gateway and knocs through the API.
 */
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { accessRuntimePlugin, accessRuntimePluginWith } from '../../src/access/service/plugin.ts';
import type { AccessSettings } from '../../src/access/service/runtime.ts';
import { loadConfig, type ServerConfig } from '../../src/config.ts';
import { type PfRestEmulator, startPfRestEmulator } from '../../src/emulators/pfrest/index.ts';
import { ensureOwner } from '../../src/identity/bootstrap.ts';
import { builtinRoleIds, createRoleBinding } from '../../src/identity/roles.ts';
import { createApiToken } from '../../src/identity/tokens.ts';
import { createUser } from '../../src/identity/users.ts';
import { parseHostAllowList } from '../../src/net/ssrf.ts';
import { Keyring } from '../../src/secrets/keyring.ts';
import { buildApp } from '../../src/server/app.ts';
import { ROUTE_MODULES } from '../../src/server/routes/index.ts';
import type { StoreKind } from '../../src/store/db.ts';
import type { OpenedStore } from '../../src/store/open.ts';
import { DEFAULT_ORG_ID } from '../../src/store/schema/tenancy.ts';
import { OWNER } from '../helpers/app.ts';
import { freshPglite, freshPostgres, testContext } from '../helpers/store.ts';

export const ALIAS = 'pc_jit';

export function testSettings(overrides: Partial<AccessSettings> = {}): AccessSettings {
  return {
    allowHosts: parseHostAllowList('127.0.0.1,localhost'),
    trustedProxies: [],
    reconcileIntervalMs: null,
    backoff: { initialMs: 30, maxMs: 200, factor: 2, jitter: 0 },
    adapter: {
      timeouts: { connectMs: 1_000, headersMs: 700, bodyMs: 1_000 },
      apply: { mode: 'async', deadlineMs: 5_000, pollIntervalMs: 20 },
      retries: 0,
      breakerThreshold: 1_000,
    },
    ...overrides,
  };
}

export interface AccessHarness {
  app: FastifyInstance;
  store: OpenedStore;
  keyring: Keyring;
  emulator: PfRestEmulator;
  ownerToken: string;
  call(options: InjectOptions & { token?: string }): Promise<LightMyRequestResponse>;
  makeUser(
    username: string,
    role?: 'viewer' | 'operator' | 'admin' | 'owner',
    siteIds?: string[],
  ): Promise<{ id: string; username: string; password: string; token: string }>;
  site(name?: string): Promise<string>;
  gateway(siteId: string, name?: string): Promise<string>;
  knoc(body: Record<string, unknown>): Promise<Record<string, unknown> & { id: string }>;
  /** Waits until no reconcile run is queued or in flight and outcomes are stored. */
  settled(): Promise<void>;
  applied(alias?: string): string[];
  close(): Promise<void>;
}

export async function startAccessHarness(
  kind: StoreKind = 'pglite',
  settings: Partial<AccessSettings> = {},
  options: {
    applyDelayMs?: number;
    listen?: boolean;
    emulator?: PfRestEmulator;
    config?: Partial<ServerConfig>;
  } = {},
): Promise<AccessHarness> {
  const emulator =
    options.emulator ?? (await startPfRestEmulator({ applyDelayMs: options.applyDelayMs ?? 20 }));
  const store = kind === 'pglite' ? await freshPglite() : await freshPostgres();
  const keyring = Keyring.ephemeral();
  const boot = await ensureOwner({
    db: store.db,
    keyring,
    env: { PORTCULLIS_BOOTSTRAP_ADMIN: `${OWNER.username}:${OWNER.password}` },
  });
  if (!boot.created) throw new Error('test store already had users');
  const app = await buildApp({
    store,
    config: loadConfig({}, { logLevel: 'silent', ...options.config }),
    keyring,
    logger: process.env.DEBUG_APP ? { level: 'debug' } : false,
    routeModules: ROUTE_MODULES.map((module) =>
      module === accessRuntimePlugin ? accessRuntimePluginWith(testSettings(settings)) : module,
    ),
  });
  await app.ready();
  const ctx = testContext(store, { keyring });
  const ownerToken = (await createApiToken(ctx, { userId: boot.userId, name: 'test-owner' })).token;
  const roleIds = await builtinRoleIds(store.db, DEFAULT_ORG_ID);
  const call: AccessHarness['call'] = ({ token, ...rest }) =>
    app.inject({
      ...rest,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(rest.headers ?? {}) },
    });
  let counter = 0;
  const expectStatus = (res: LightMyRequestResponse, status: number) => {
    if (res.statusCode !== status) throw new Error(`expected ${status}, got ${res.statusCode}: ${res.body}`);
    return res.json();
  };

  return {
    app,
    store,
    keyring,
    emulator,
    ownerToken,
    call,
    async makeUser(username, role, siteIds) {
      const password = `${username}-password-123`;
      const user = await createUser(ctx, { username, password });
      if (role)
        await createRoleBinding(ctx, {
          roleId: roleIds.get(role) as string,
          userId: user.id,
          siteIds: siteIds ?? null,
        });
      const { token } = await createApiToken(ctx, { userId: user.id, name: `${username}-token` });
      return { id: user.id, username: user.username, password, token };
    },
    async site(name = `site-${++counter}`) {
      return expectStatus(
        await call({ method: 'POST', url: '/api/v1/sites', token: ownerToken, payload: { name } }),
        201,
      ).id;
    },
    async gateway(siteId, name = `gw-${++counter}`) {
      const res = await call({
        method: 'POST',
        url: '/api/v1/firewall/gateways',
        token: ownerToken,
        payload: {
          name,
          site_id: siteId,
          vendor: 'pfsense',
          url: emulator.url,
          api_key: emulator.apiKey,
          ca_pem: emulator.caPem,
        },
      });
      return expectStatus(res, 201).id;
    },
    async knoc(body) {
      const res = await call({
        method: 'POST',
        url: '/api/v1/access/knocs',
        token: ownerToken,
        payload: { name: `knoc-${++counter}`, alias_name: ALIAS, create_alias_if_missing: true, ...body },
      });
      return expectStatus(res, 201);
    },
    settled: () => app.access.settled(),
    applied: (alias = ALIAS) => emulator.state().tables[alias] ?? [],
    async close() {
      await app.close();
      await store.close();
      if (!options.emulator) await emulator.close();
    },
  };
}
