/**
 * @module Shared suite: every change made through the API leaves one audit entry with actor, action,
 * target, before/after (secrets redacted), source IP and request id; `GET /api/v1/audit` filters and pages.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StoreKind } from '../../src/store/db.ts';
import { OWNER, startTestApp, type TestApp } from '../helpers/app.ts';

interface Change {
  row: string;
  action: string;
  targetType: string;
  /** Performs the change; returns the response and the target id. */
  run: (
    t: TestApp,
    ids: Record<string, string>,
  ) => Promise<{ res: { statusCode: number; headers: Record<string, unknown> }; targetId: string }>;
  expectBefore?: boolean;
  expectAfter?: boolean;
}

const IP = '198.51.100.23';

const CHANGES: Change[] = [
  {
    row: 'create a user',
    action: 'user.create',
    targetType: 'user',
    expectAfter: true,
    async run(t, ids) {
      const res = await call(t, 'POST', '/api/v1/users', {
        username: 'audited',
        password: 'audited-password-1',
      });
      ids.user = res.json().id;
      return { res, targetId: ids.user as string };
    },
  },
  {
    row: 'update a user',
    action: 'user.update',
    targetType: 'user',
    expectBefore: true,
    expectAfter: true,
    run: async (t, ids) => ({
      res: await call(t, 'PATCH', `/api/v1/users/${ids.user}`, { display_name: 'Audited' }),
      targetId: ids.user as string,
    }),
  },
  {
    row: "set a user's password",
    action: 'user.password_change',
    targetType: 'user',
    run: async (t, ids) => ({
      res: await call(t, 'PUT', `/api/v1/users/${ids.user}/password`, { password: 'another-password-2' }),
      targetId: ids.user as string,
    }),
  },
  {
    row: 'create a group',
    action: 'group.create',
    targetType: 'group',
    expectAfter: true,
    async run(t, ids) {
      const res = await call(t, 'POST', '/api/v1/groups', { name: 'audited-group' });
      ids.group = res.json().id;
      return { res, targetId: ids.group as string };
    },
  },
  {
    row: 'add a group member',
    action: 'group.member_add',
    targetType: 'group',
    run: async (t, ids) => ({
      res: await call(t, 'POST', `/api/v1/groups/${ids.group}/members`, { user_id: ids.user }),
      targetId: ids.group as string,
    }),
  },
  {
    row: 'remove a group member',
    action: 'group.member_remove',
    targetType: 'group',
    run: async (t, ids) => ({
      res: await call(t, 'DELETE', `/api/v1/groups/${ids.group}/members/${ids.user}`),
      targetId: ids.group as string,
    }),
  },
  {
    row: 'create a site',
    action: 'site.create',
    targetType: 'site',
    async run(t, ids) {
      const res = await call(t, 'POST', '/api/v1/sites', { name: 'audited-site' });
      ids.site = res.json().id;
      return { res, targetId: ids.site as string };
    },
  },
  {
    row: 'create a role',
    action: 'role.create',
    targetType: 'role',
    async run(t, ids) {
      const res = await call(t, 'POST', '/api/v1/roles', {
        name: 'audited-role',
        permissions: ['audit.view'],
      });
      ids.role = res.json().id;
      return { res, targetId: ids.role as string };
    },
  },
  {
    row: 'bind a role limited to a site',
    action: 'role_binding.create',
    targetType: 'role_binding',
    async run(t, ids) {
      const res = await call(t, 'POST', '/api/v1/role-bindings', {
        role_id: ids.role,
        user_id: ids.user,
        site_ids: [ids.site],
      });
      ids.binding = res.json().id;
      return { res, targetId: ids.binding as string };
    },
  },
  {
    row: 'remove a role binding',
    action: 'role_binding.delete',
    targetType: 'role_binding',
    expectBefore: true,
    run: async (t, ids) => ({
      res: await call(t, 'DELETE', `/api/v1/role-bindings/${ids.binding}`),
      targetId: ids.binding as string,
    }),
  },
  {
    row: 'delete a role',
    action: 'role.delete',
    targetType: 'role',
    expectBefore: true,
    run: async (t, ids) => ({
      res: await call(t, 'DELETE', `/api/v1/roles/${ids.role}`),
      targetId: ids.role as string,
    }),
  },
  {
    row: 'delete a site',
    action: 'site.delete',
    targetType: 'site',
    run: async (t, ids) => ({
      res: await call(t, 'DELETE', `/api/v1/sites/${ids.site}`),
      targetId: ids.site as string,
    }),
  },
  {
    row: 'create an API token',
    action: 'api_token.create',
    targetType: 'api_token',
    async run(t, ids) {
      const res = await call(t, 'POST', '/api/v1/auth/tokens', { name: 'audited-token' });
      ids.token = res.json().api_token.id;
      return { res, targetId: ids.token as string };
    },
  },
  {
    row: 'revoke an API token',
    action: 'api_token.revoke',
    targetType: 'api_token',
    run: async (t, ids) => ({
      res: await call(t, 'DELETE', `/api/v1/auth/tokens/${ids.token}`),
      targetId: ids.token as string,
    }),
  },
  {
    row: 'delete a group',
    action: 'group.delete',
    targetType: 'group',
    run: async (t, ids) => ({
      res: await call(t, 'DELETE', `/api/v1/groups/${ids.group}`),
      targetId: ids.group as string,
    }),
  },
  {
    row: 'delete a user',
    action: 'user.delete',
    targetType: 'user',
    expectBefore: true,
    run: async (t, ids) => ({
      res: await call(t, 'DELETE', `/api/v1/users/${ids.user}`),
      targetId: ids.user as string,
    }),
  },
];

function call(t: TestApp, method: string, url: string, payload?: Record<string, unknown>) {
  return t.call({
    method,
    url,
    token: t.ownerToken,
    remoteAddress: IP,
    ...(payload ? { payload } : {}),
  });
}

export function runAuditSuite(kind: StoreKind): void {
  let t: TestApp;
  const ids: Record<string, string> = {};
  beforeAll(async () => {
    t = await startTestApp(kind);
  });
  afterAll(async () => {
    await t?.close();
  });

  describe('audit entries for each change', () => {
    it.each(CHANGES)('$row → $action', async ({ action, targetType, run, expectBefore, expectAfter }) => {
      const { res, targetId } = await run(t, ids);
      expect(res.statusCode).toBeLessThan(300);
      const requestId = res.headers['x-request-id'] as string;
      const page = await t.call({
        method: 'GET',
        url: `/api/v1/audit?action=${action}&target_id=${targetId}`,
        token: t.ownerToken,
      });
      const entries = page.json().items.filter((e: { request_id: string }) => e.request_id === requestId);
      expect(entries).toHaveLength(1);
      const [entry] = entries;
      expect(entry).toMatchObject({
        action,
        target_type: targetType,
        target_id: targetId,
        actor_type: 'token',
        actor_id: t.ownerId,
        source_ip: IP,
        outcome: 'success',
      });
      expect(entry.actor_name).toContain(OWNER.username);
      if (expectBefore) expect(entry.before).toBeTruthy();
      if (expectAfter) expect(entry.after).toBeTruthy();
      expect(JSON.stringify(entry)).not.toMatch(
        /audited-password-1|another-password-2|password_hash|pc_[a-z2-7]{12}_/,
      );
    });

    it('records a sign-out with the session user as actor', async () => {
      const session = await t.signIn(OWNER.username, OWNER.password);
      const out = await t.call({
        method: 'POST',
        url: '/api/v1/auth/logout',
        headers: { cookie: session.cookie, 'x-csrf-token': session.csrf },
      });
      const page = await t.call({
        method: 'GET',
        url: '/api/v1/audit?action=auth.logout',
        token: t.ownerToken,
      });
      const entry = page
        .json()
        .items.find((e: { request_id: string }) => e.request_id === out.headers['x-request-id']);
      expect(entry).toMatchObject({ actor_type: 'user', actor_id: t.ownerId, actor_name: OWNER.username });
    });
  });

  describe('reading the audit log', () => {
    it('filters by actor, target type and outcome, and pages with a cursor', async () => {
      const byType = await t.call({
        method: 'GET',
        url: '/api/v1/audit?target_type=group',
        token: t.ownerToken,
      });
      expect(byType.json().items.length).toBeGreaterThan(0);
      expect(byType.json().items.every((e: { target_type: string }) => e.target_type === 'group')).toBe(true);
      const failures = await t.call({
        method: 'GET',
        url: '/api/v1/audit?outcome=failure',
        token: t.ownerToken,
      });
      expect(failures.json().items.every((e: { outcome: string }) => e.outcome === 'failure')).toBe(true);

      const seen: number[] = [];
      let cursor: number | null = null;
      do {
        const page = await t.call({
          method: 'GET',
          url: `/api/v1/audit?actor_id=${t.ownerId}&limit=3${cursor ? `&cursor=${cursor}` : ''}`,
          token: t.ownerToken,
        });
        expect(page.statusCode).toBe(200);
        seen.push(...page.json().items.map((e: { id: number }) => e.id));
        cursor = page.json().next_cursor;
      } while (cursor !== null);
      expect(seen.length).toBeGreaterThanOrEqual(CHANGES.length);
      expect(new Set(seen).size).toBe(seen.length);
      expect([...seen].sort((a, b) => b - a)).toEqual(seen);
    });

    it('rejects bad filters naming the field', async () => {
      const res = await t.call({ method: 'GET', url: '/api/v1/audit?outcome=maybe', token: t.ownerToken });
      expect(res.statusCode).toBe(400);
      expect(res.json().error.field).toBe('outcome');
      const when = await t.call({ method: 'GET', url: '/api/v1/audit?from=yesterday', token: t.ownerToken });
      expect(when.json().error.field).toBe('from');
    });
  });
}
