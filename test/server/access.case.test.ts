/**
 * @module Shared suite: access control as declared on the routes. Walks every registered route and proves
 * none is reachable without its permission; then the site-scoping matrix for site-limited users.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyPluginAsync } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { ALL_PERMISSIONS, type Permission } from '../../src/identity/permissions.ts';
import { buildApp } from '../../src/server/app.ts';
import type { DeclaredRoute } from '../../src/server/plugins/access.ts';
import type { StoreKind } from '../../src/store/db.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';

/** The only routes anyone may call without credentials. */
const PUBLIC_ROUTES = [
  '/healthz',
  '/readyz',
  '/metrics',
  '/api/openapi.json',
  '/api/v1/auth/login',
  // Portal sign-in (same checks as /auth/login) and the EDL feed (opened by its feed key).
  '/api/v1/portal/login',
  '/edl/:file',
  // A signed decision link is the credential (ADR 0231).
  '/api/v1/access/request-links/decide',
  // Single sign-on (docs/sso.md): the sign-in pages' provider list, and the flows a provider's signature (not a
  // session) authenticates.
  '/api/v1/auth/providers',
  '/api/v1/auth/oidc/:id/start',
  '/api/v1/auth/oidc/:id/callback',
  '/api/v1/auth/oidc/:id/backchannel-logout',
  '/api/v1/auth/saml/:id/start',
  '/api/v1/auth/saml/:id/acs',
  '/api/v1/auth/saml/:id/slo',
  '/api/v1/auth/saml/:id/metadata',
  // The web UI's page and built files (src/server/plugins/web.ts); API paths under /* keep the API's 404.
  '/',
  '/*',
];
/** Routes any signed-in caller may use for themselves, whatever their permissions. */
const SELF_SERVICE_ROUTES = [
  '/api/v1/auth/logout',
  '/api/v1/auth/me',
  '/api/v1/auth/totp/enroll',
  '/api/v1/auth/totp/verify',
  '/api/v1/auth/tokens',
  '/api/v1/auth/tokens/:id',
  '/api/v1/auth/password',
  '/api/v1/permissions',
  // The portal: entitlement is the knoc assignment, not a permission.
  '/api/v1/portal/me',
  '/api/v1/portal/grants/:knocId',
  '/api/v1/portal/logout',
  '/api/v1/portal/knock',
  // Each event is filtered by the permission its type needs on its site (src/events/types.ts).
  '/api/v1/events/stream',
  // Access requests: the approver group and the requester decide who sees and decides (ADR 0230).
  '/api/v1/access/requests',
  '/api/v1/access/requests/:id',
  '/api/v1/access/requests/:id/approve',
  '/api/v1/access/requests/:id/deny',
];
const isDocsUi = (url: string) => url === '/api/docs' || url.startsWith('/api/docs/');

const concrete = (url: string) => url.replace(/:[A-Za-z]+/g, () => randomUUID());
/** The error code of a response (HEAD answers carry no body; their status alone is checked). */
const codeOf = (res: { body: string }) =>
  res.body ? (JSON.parse(res.body).error?.code as string) : undefined;
const messageOf = (res: { body: string }) =>
  res.body ? (JSON.parse(res.body).error?.message as string) : '';

export function runAccessSuite(kind: StoreKind): void {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(kind);
  });
  afterAll(async () => {
    await t?.close();
  });

  describe('route-permission walk', () => {
    /** Owner-minted tokens holding every permission except one. */
    const allBut = new Map<Permission, string>();
    async function tokenWithout(permission: Permission): Promise<string> {
      let token = allBut.get(permission);
      if (!token) {
        const res = await t.call({
          method: 'POST',
          url: '/api/v1/auth/tokens',
          token: t.ownerToken,
          payload: {
            name: `all-but-${permission}`,
            permissions: ALL_PERMISSIONS.filter((p) => p !== permission),
          },
        });
        token = res.json().token as string;
        allBut.set(permission, token);
      }
      return token;
    }

    const routes = () => t.app.declaredRoutes.filter((r) => !r.url.includes('*'));

    it('finds the whole API in the route table', () => {
      const urls = new Set(routes().map((r) => r.url));
      for (const url of [
        '/api/v1/users',
        '/api/v1/groups/:id/members',
        '/api/v1/sites/:id',
        '/api/v1/role-bindings',
        '/api/v1/audit',
      ]) {
        expect(urls).toContain(url);
      }
    });

    it('has in the permission catalog exactly the codes routes declare (new codes arrive with their routes)', () => {
      const declared = new Set(routes().flatMap((r) => (r.access.permission ? [r.access.permission] : [])));
      expect([...declared].sort()).toEqual([...ALL_PERMISSIONS].sort());
    });

    it('declares public only the health, metrics, OpenAPI, docs UI, sign-in and web UI routes', () => {
      const publicUrls = t.app.declaredRoutes.filter((r) => r.access.auth === 'public').map((r) => r.url);
      expect([...new Set(publicUrls.filter((url) => !isDocsUi(url)))].sort()).toEqual(
        [...PUBLIC_ROUTES].sort(),
      );
    });

    it("declares permission-free (self-service) only the caller's own session, TOTP and token routes", () => {
      const selfService = t.app.declaredRoutes
        .filter((r) => r.access.auth === 'authenticated')
        .map((r) => r.url);
      expect([...new Set(selfService)].sort()).toEqual([...SELF_SERVICE_ROUTES].sort());
    });

    it('refuses every non-public route to an anonymous caller with 401', async () => {
      const failures: string[] = [];
      for (const route of routes().filter((r) => r.access.auth !== 'public')) {
        const res = await t.call({ method: route.method, url: concrete(route.url), payload: {} });
        if (res.statusCode !== 401 || (route.method !== 'HEAD' && codeOf(res) !== 'PC_ERR_UNAUTHENTICATED')) {
          failures.push(`${route.method} ${route.url} → ${res.statusCode}`);
        }
      }
      expect(failures).toEqual([]);
    });

    it('refuses every permission route with 403 to a caller holding every other permission', async () => {
      const failures: string[] = [];
      const guarded = routes().filter(
        (r): r is DeclaredRoute & { access: { permission: Permission } } => !!r.access.permission,
      );
      expect(guarded.length).toBeGreaterThan(20);
      for (const route of guarded) {
        const url = concrete(route.url);
        const denied = await t.call({
          method: route.method,
          url,
          token: await tokenWithout(route.access.permission),
          payload: {},
        });
        if (
          denied.statusCode !== 403 ||
          (route.method !== 'HEAD' && !messageOf(denied).includes(route.access.permission))
        ) {
          failures.push(
            `${route.method} ${route.url} without ${route.access.permission} → ${denied.statusCode}`,
          );
        }
        // Control: the owner passes the gate (whatever the handler then answers), so the 403 was the permission's.
        const allowed = await t.call({
          method: route.method,
          url,
          token: t.ownerToken,
          payload: {},
        });
        if ([401, 403].includes(allowed.statusCode))
          failures.push(`${route.method} ${route.url} refused the owner`);
      }
      expect(failures).toEqual([]);
    });

    it('refuses org-wide routes to a caller holding the permission on one site only', async () => {
      const site = (
        await t.call({
          method: 'POST',
          url: '/api/v1/sites',
          token: t.ownerToken,
          payload: { name: 'walk-site' },
        })
      ).json();
      const limited = await t.call({
        method: 'POST',
        url: '/api/v1/roles',
        token: t.ownerToken,
        payload: { name: 'everything', permissions: ALL_PERMISSIONS },
      });
      const user = await t.makeUser('walk-limited');
      await t.call({
        method: 'POST',
        url: '/api/v1/role-bindings',
        token: t.ownerToken,
        payload: { role_id: limited.json().id, user_id: user.id, site_ids: [site.id] },
      });
      const failures: string[] = [];
      for (const route of routes().filter((r) => r.access.permission && r.access.scope === 'org')) {
        const res = await t.call({
          method: route.method,
          url: concrete(route.url),
          token: user.token,
          payload: {},
        });
        if (res.statusCode !== 403) failures.push(`${route.method} ${route.url} → ${res.statusCode}`);
      }
      expect(failures).toEqual([]);
    });

    it.each<[string, FastifyPluginAsync, RegExp]>([
      [
        'a route without any declaration',
        async (app) => {
          app.get('/undeclared', async () => 'x');
        },
        /declares neither/,
      ],
      [
        'a route with an unknown permission',
        async (app) => {
          app.get('/typo', { config: { permission: 'users.mange' as Permission } }, async () => 'x');
        },
        /unknown permission/,
      ],
    ])('refuses to start with %s', async (_name, routes, message) => {
      const build = buildApp({
        store: t.store,
        keyring: t.keyring,
        config: loadConfig({}),
        logger: false,
        routeModules: [routes],
      }).then((app) => app.ready());
      await expect(build).rejects.toThrow(message);
    });
  });

  describe('site scoping', () => {
    let siteA: string;
    let siteB: string;
    let operatorA: { token: string };
    let adminA: { token: string };

    beforeAll(async () => {
      const mk = async (name: string) =>
        (
          await t.call({ method: 'POST', url: '/api/v1/sites', token: t.ownerToken, payload: { name } })
        ).json().id as string;
      siteA = await mk('scope-a');
      siteB = await mk('scope-b');
      operatorA = await t.makeUser('operator-a', 'operator', [siteA]);
      adminA = await t.makeUser('admin-a', 'admin', [siteA]);
    });

    const who = (name: string) =>
      name === 'operator-a' ? operatorA.token : name === 'admin-a' ? adminA.token : t.ownerToken;

    it.each([
      { row: 'operator-a lists only site A', as: 'operator-a', expectIds: ['A'] },
      { row: 'admin-a lists only site A', as: 'admin-a', expectIds: ['A'] },
      { row: 'owner lists both sites', as: 'owner', expectIds: ['A', 'B'] },
    ])('$row', async ({ as, expectIds }) => {
      const res = await t.call({ method: 'GET', url: '/api/v1/sites', token: who(as) });
      expect(res.statusCode).toBe(200);
      const ids = res.json().items.map((s: { id: string }) => s.id);
      const want = expectIds.map((x) => (x === 'A' ? siteA : siteB));
      expect(ids.filter((id: string) => id === siteA || id === siteB).sort()).toEqual(want.sort());
    });

    it.each([
      { row: 'operator-a reads site A', as: 'operator-a', method: 'GET', site: 'A', status: 200 },
      { row: 'operator-a cannot see site B (404)', as: 'operator-a', method: 'GET', site: 'B', status: 404 },
      {
        row: 'operator-a cannot change site A without the permission (403)',
        as: 'operator-a',
        method: 'PATCH',
        site: 'A',
        status: 403,
      },
      { row: 'admin-a changes site A', as: 'admin-a', method: 'PATCH', site: 'A', status: 200 },
      { row: 'admin-a cannot change site B (403)', as: 'admin-a', method: 'PATCH', site: 'B', status: 403 },
      { row: 'admin-a cannot delete site B (403)', as: 'admin-a', method: 'DELETE', site: 'B', status: 403 },
      { row: 'admin-a cannot see site B (404)', as: 'admin-a', method: 'GET', site: 'B', status: 404 },
      {
        row: 'admin-a cannot create a site (org-wide, 403)',
        as: 'admin-a',
        method: 'POST',
        site: null,
        status: 403,
      },
      { row: 'owner changes site B', as: 'owner', method: 'PATCH', site: 'B', status: 200 },
    ])('$row', async ({ as, method, site, status }) => {
      const url = site === null ? '/api/v1/sites' : `/api/v1/sites/${site === 'A' ? siteA : siteB}`;
      const payload =
        method === 'PATCH' || method === 'POST'
          ? { description: `by ${as}`, ...(method === 'POST' ? { name: 'new-site' } : {}) }
          : undefined;
      const res = await t.call({
        method,
        url,
        token: who(as),
        ...(payload ? { payload } : {}),
      });
      expect(res.statusCode).toBe(status);
      if (status >= 400) expect(res.json().error.request_id).toBe(res.headers['x-request-id']);
    });

    it('applies a removed role binding on the very next request (no stale cached rights)', async () => {
      const user = await t.makeUser('loses-role', 'viewer');
      expect((await t.call({ method: 'GET', url: '/api/v1/sites', token: user.token })).statusCode).toBe(200);
      const bindings = await t.call({
        method: 'GET',
        url: `/api/v1/role-bindings?user_id=${user.id}`,
        token: t.ownerToken,
      });
      const [binding] = bindings.json().items;
      const removed = await t.call({
        method: 'DELETE',
        url: `/api/v1/role-bindings/${binding.id}`,
        token: t.ownerToken,
      });
      expect(removed.statusCode).toBe(204);
      expect((await t.call({ method: 'GET', url: '/api/v1/sites', token: user.token })).statusCode).toBe(403);
    });

    it('writes nothing when a site-limited write is refused', async () => {
      await t.call({
        method: 'PATCH',
        url: `/api/v1/sites/${siteB}`,
        token: adminA.token,
        payload: { description: 'sneaky' },
      });
      const b = await t.call({ method: 'GET', url: `/api/v1/sites/${siteB}`, token: t.ownerToken });
      expect(b.json().description).not.toBe('sneaky');
    });

    it("shows a site-limited auditor only their sites' audit entries", async () => {
      const res = await t.call({
        method: 'GET',
        url: '/api/v1/audit?action=site.*&limit=500',
        token: adminA.token,
      });
      expect(res.statusCode).toBe(200);
      const sites = new Set(res.json().items.map((e: { site_id: string }) => e.site_id));
      expect(sites.has(siteA)).toBe(true);
      expect(sites.has(siteB)).toBe(false);
      const all = await t.call({
        method: 'GET',
        url: '/api/v1/audit?action=site.*&limit=500',
        token: t.ownerToken,
      });
      expect(new Set(all.json().items.map((e: { site_id: string }) => e.site_id)).has(siteB)).toBe(true);
    });
  });
}
