/**
 * @module A real app on a real store for HTTP tests: `startTestApp(kind)` opens a fresh PGlite or PostgreSQL
 * store (test/helpers/store.ts), bootstraps a known owner, builds the app and returns helpers to make users
 * with roles, sign in, and mint tokens. Requests go through `app.inject` (no socket) unless a test listens.
 * The app logs nothing; set DEBUG_APP=1 to see its error-level log lines while debugging a test.
 */
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import type { AccessSettings } from '../../src/access/service/runtime.ts';
import { loadConfig, type ServerConfig } from '../../src/config.ts';
import { ensureOwner } from '../../src/identity/bootstrap.ts';
import { builtinRoleIds, createRoleBinding } from '../../src/identity/roles.ts';
import { createApiToken } from '../../src/identity/tokens.ts';
import { createUser } from '../../src/identity/users.ts';
import { Keyring } from '../../src/secrets/keyring.ts';
import { buildApp } from '../../src/server/app.ts';
import type { StoreKind } from '../../src/store/db.ts';
import type { OpenedStore } from '../../src/store/open.ts';
import { DEFAULT_ORG_ID } from '../../src/store/schema/tenancy.ts';
import { freshPglite, freshPostgres, testContext } from './store.ts';

export const OWNER = { username: 'owner', password: 'correct horse battery staple' };

export interface TestApp {
  app: FastifyInstance;
  store: OpenedStore;
  keyring: Keyring;
  ownerId: string;
  /** A bearer token of the owner (all permissions). */
  ownerToken: string;
  close(): Promise<void>;
  /** `app.inject` with an optional bearer token. */
  call: (options: InjectOptions & { token?: string }) => Promise<LightMyRequestResponse>;
  /** Creates a user (password = `${username}-password-123`) bound to a built-in role. */
  makeUser(
    username: string,
    role?: 'viewer' | 'operator' | 'admin' | 'owner',
    siteIds?: string[],
  ): Promise<{ id: string; username: string; password: string; token: string }>;
  /** Signs in over HTTP; returns the cookie header value and the CSRF token. */
  signIn(username: string, password: string, totpCode?: string): Promise<{ cookie: string; csrf: string }>;
}

export async function startTestApp(
  kind: StoreKind = 'pglite',
  configOverrides: Partial<ServerConfig> = {},
  options: {
    /** The access runtime's settings (default: from the environment, as in production). */
    accessSettings?: AccessSettings;
    /** The level DEBUG_APP=1 logs at (default `error`). */
    debugLevel?: string;
  } = {},
): Promise<TestApp> {
  const store = kind === 'pglite' ? await freshPglite() : await freshPostgres();
  const keyring = Keyring.ephemeral();
  const boot = await ensureOwner({
    db: store.db,
    keyring,
    env: { PORTCULLIS_BOOTSTRAP_ADMIN: `${OWNER.username}:${OWNER.password}` },
  });
  if (!boot.created) throw new Error('test store already had users');
  const config = loadConfig({}, { logLevel: 'silent', ...configOverrides });
  const app = await buildApp({
    store,
    config,
    keyring,
    logger: process.env.DEBUG_APP ? { level: options.debugLevel ?? 'error' } : false,
    ...(options.accessSettings ? { accessSettings: options.accessSettings } : {}),
  });
  await app.ready();
  const ctx = testContext(store, { keyring });
  const ownerToken = (await createApiToken(ctx, { userId: boot.userId, name: 'test-owner' })).token;
  const roleIds = await builtinRoleIds(store.db, DEFAULT_ORG_ID);

  const call: TestApp['call'] = ({ token, ...options }) =>
    app.inject({
      ...options,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(options.headers ?? {}) },
    });

  return {
    app,
    store,
    keyring,
    ownerId: boot.userId,
    ownerToken,
    call,
    async close() {
      await app.close();
      await store.close();
    },
    async makeUser(username, role, siteIds) {
      const password = `${username}-password-123`;
      const user = await createUser(ctx, { username, password });
      if (role) {
        await createRoleBinding(ctx, {
          roleId: roleIds.get(role) as string,
          userId: user.id,
          siteIds: siteIds ?? null,
        });
      }
      const { token } = await createApiToken(ctx, { userId: user.id, name: `${username}-token` });
      return { id: user.id, username: user.username, password, token };
    },
    async signIn(username, password, totpCode) {
      const res = await app.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        payload: { username, password, ...(totpCode ? { totp_code: totpCode } : {}) },
      });
      if (res.statusCode !== 200) throw new Error(`sign-in failed: ${res.statusCode} ${res.body}`);
      const cookie = res.cookies.find((c) => c.name === 'pc_session');
      if (!cookie) throw new Error('sign-in set no pc_session cookie');
      return { cookie: `pc_session=${cookie.value}`, csrf: res.json().csrf_token };
    },
  };
}
