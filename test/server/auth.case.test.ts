/**
 * @module Shared suite: sign-in (with and without TOTP), throttling, sessions, CSRF and API tokens over HTTP.
 * Run on every store kind by api.pglite.test.ts / api.postgres.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { query as queryAudit } from '../../src/audit/query.ts';
import { totpCode } from '../../src/identity/totp.ts';
import type { StoreKind } from '../../src/store/db.ts';
import { DEFAULT_ORG_ID } from '../../src/store/schema/tenancy.ts';
import { OWNER, startTestApp, type TestApp } from '../helpers/app.ts';

export function runAuthSuite(kind: StoreKind): void {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(kind);
  });
  afterAll(async () => {
    await t?.close();
  });

  const login = (payload: Record<string, unknown>, remoteAddress = '198.51.100.7') =>
    t.call({ method: 'POST', url: '/api/v1/auth/login', payload, remoteAddress });

  describe('sign-in', () => {
    it('signs the bootstrapped owner in with a hardened session cookie and a CSRF token', async () => {
      const res = await login({ username: OWNER.username, password: OWNER.password });
      expect(res.statusCode).toBe(200);
      const body = res.json();
      expect(body.user.username).toBe(OWNER.username);
      expect(body.user).not.toHaveProperty('password_hash');
      expect(body.csrf_token).toMatch(/^[A-Za-z0-9_-]{40,}$/);
      const cookie = res.cookies.find((c) => c.name === 'pc_session');
      expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/' });
      expect(cookie?.secure).toBeFalsy(); // plain HTTP on loopback, not configured
      expect(res.body).not.toContain(cookie?.value);
    });

    it('marks the cookie Secure when configured', async () => {
      const secure = await startTestApp(kind, { secureCookies: true });
      try {
        const res = await secure.call({
          method: 'POST',
          url: '/api/v1/auth/login',
          payload: { username: OWNER.username, password: OWNER.password },
        });
        expect(res.cookies.find((c) => c.name === 'pc_session')?.secure).toBe(true);
      } finally {
        await secure.close();
      }
    });

    it('answers an unknown user and a wrong password identically', async () => {
      const unknown = await login({ username: 'nobody-here', password: 'whatever-password' });
      const wrong = await login({ username: OWNER.username, password: 'wrong-password' });
      expect(unknown.statusCode).toBe(401);
      expect(wrong.statusCode).toBe(401);
      const strip = (body: { error: Record<string, unknown> }) => ({ ...body.error, request_id: undefined });
      expect(strip(unknown.json())).toEqual(strip(wrong.json()));
      expect(unknown.json().error.code).toBe('PC_ERR_INVALID_CREDENTIALS');
      expect(unknown.cookies).toHaveLength(0);
    });

    it('throttles one account after repeated failures (429 with Retry-After), and audits it', async () => {
      const user = await t.makeUser('throttled-user', 'viewer');
      const statuses: number[] = [];
      for (let i = 0; i < 6; i++) {
        statuses.push(
          (await login({ username: user.username, password: 'bad-password' }, `203.0.113.${i + 1}`))
            .statusCode,
        );
      }
      expect(statuses).toEqual([401, 401, 401, 401, 401, 429]);
      const blocked = await login({ username: user.username, password: user.password }, '203.0.113.99');
      expect(blocked.statusCode).toBe(429);
      expect(blocked.json().error.code).toBe('PC_ERR_RATE_LIMITED');
      expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
      const denied = await queryAudit(t.store.db, DEFAULT_ORG_ID, {
        action: 'auth.login',
        outcome: 'denied',
      });
      expect(denied.items.length).toBeGreaterThan(0);
    });

    it('throttles one source address across usernames', async () => {
      const ip = '192.0.2.200';
      const statuses: number[] = [];
      for (let i = 0; i < 21; i++) {
        statuses.push((await login({ username: `spray-${i}`, password: 'bad-password' }, ip)).statusCode);
      }
      expect(statuses.slice(0, 20).every((s) => s === 401)).toBe(true);
      expect(statuses[20]).toBe(429);
      // The same account from another address is not affected by that address's budget.
      const elsewhere = await login({ username: OWNER.username, password: OWNER.password }, '192.0.2.201');
      expect(elsewhere.statusCode).toBe(200);
    });

    it('audits successful and failed sign-ins with source IP and request id', async () => {
      const ok = await login({ username: OWNER.username, password: OWNER.password }, '198.51.100.50');
      const bad = await login({ username: OWNER.username, password: 'nope-nope' }, '198.51.100.51');
      const page = await queryAudit(t.store.db, DEFAULT_ORG_ID, { action: 'auth.login', limit: 500 });
      const byRequest = new Map(page.items.map((e) => [e.requestId, e]));
      expect(byRequest.get(ok.headers['x-request-id'] as string)).toMatchObject({
        outcome: 'success',
        sourceIp: '198.51.100.50',
        actorId: t.ownerId,
      });
      expect(byRequest.get(bad.headers['x-request-id'] as string)).toMatchObject({
        outcome: 'failure',
        sourceIp: '198.51.100.51',
      });
      expect(JSON.stringify(page.items)).not.toContain('nope-nope');
    });

    it('requires and checks a TOTP code once TOTP is active', async () => {
      const user = await t.makeUser('totp-user', 'viewer');
      const session = await t.signIn(user.username, user.password);
      const headers = { cookie: session.cookie, 'x-csrf-token': session.csrf };
      const enroll = await t.call({
        method: 'POST',
        url: '/api/v1/auth/totp/enroll',
        headers,
        payload: { current_password: user.password },
      });
      expect(enroll.statusCode).toBe(200);
      const { secret, otpauth_uri } = enroll.json();
      expect(otpauth_uri).toMatch(/^otpauth:\/\/totp\/.*secret=/);
      const bad = await t.call({
        method: 'POST',
        url: '/api/v1/auth/totp/verify',
        headers,
        payload: { code: '000000' },
      });
      expect(bad.statusCode).toBe(400);
      expect(bad.json().error.field).toBe('code');
      const verify = await t.call({
        method: 'POST',
        url: '/api/v1/auth/totp/verify',
        headers,
        payload: { code: totpCode(secret, new Date()) },
      });
      expect(verify.statusCode).toBe(204);

      const without = await login({ username: user.username, password: user.password }, '198.51.100.60');
      expect(without.statusCode).toBe(401);
      expect(without.json().error.code).toBe('PC_ERR_TOTP_REQUIRED');
      const wrong = await login(
        { username: user.username, password: user.password, totp_code: '123456' },
        '198.51.100.61',
      );
      expect(wrong.json().error.code).toBe('PC_ERR_TOTP_INVALID');
      // The enrollment consumed the current step; the next step's code is valid inside the ±1 window.
      const next = totpCode(secret, new Date(Date.now() + 30_000));
      const ok = await login(
        { username: user.username, password: user.password, totp_code: next },
        '198.51.100.62',
      );
      expect(ok.statusCode).toBe(200);
      const replay = await login(
        { username: user.username, password: user.password, totp_code: next },
        '198.51.100.63',
      );
      expect(replay.json().error.code).toBe('PC_ERR_TOTP_INVALID');
    });
  });

  describe('sessions and CSRF', () => {
    it('reports the signed-in user and effective permissions at /auth/me', async () => {
      const user = await t.makeUser('me-user', 'viewer');
      const session = await t.signIn(user.username, user.password);
      const me = await t.call({ method: 'GET', url: '/api/v1/auth/me', headers: { cookie: session.cookie } });
      expect(me.statusCode).toBe(200);
      expect(me.json()).toMatchObject({ user: { username: 'me-user' }, credential: 'session' });
      expect(me.json().permissions['firewall.view']).toBe('all');
      expect(me.json().permissions['users.manage']).toBeUndefined();
    });

    it('gives a session its CSRF token again at /auth/me (a reloaded page), a token credential none', async () => {
      const user = await t.makeUser('me-csrf', 'viewer');
      const session = await t.signIn(user.username, user.password);
      const me = await t.call({ method: 'GET', url: '/api/v1/auth/me', headers: { cookie: session.cookie } });
      expect(me.json().csrf_token).toBe(session.csrf);
      const other = await t.signIn(user.username, user.password);
      expect(other.csrf).not.toBe(session.csrf);
      // The token from /me is accepted for a change of that session.
      const created = await t.call({
        method: 'POST',
        url: '/api/v1/auth/tokens',
        headers: { cookie: session.cookie, 'x-csrf-token': me.json().csrf_token },
        payload: { name: 'from-me' },
      });
      expect(created.statusCode).toBe(201);
      const viaToken = await t.call({ method: 'GET', url: '/api/v1/auth/me', token: user.token });
      expect(viaToken.json().credential).toBe('token');
      expect(viaToken.json()).not.toHaveProperty('csrf_token');
    });

    it('refuses a cookie-authenticated change without or with a wrong X-CSRF-Token, accepts the right one', async () => {
      const session = await t.signIn(OWNER.username, OWNER.password);
      const create = (headers: Record<string, string>, name: string) =>
        t.call({
          method: 'POST',
          url: '/api/v1/groups',
          headers: { cookie: session.cookie, ...headers },
          payload: { name },
        });
      const missing = await create({}, 'csrf-a');
      expect(missing.statusCode).toBe(403);
      expect(missing.json().error.code).toBe('PC_ERR_CSRF');
      const wrong = await create({ 'x-csrf-token': 'x'.repeat(43) }, 'csrf-b');
      expect(wrong.json().error.code).toBe('PC_ERR_CSRF');
      const list = await t.call({ method: 'GET', url: '/api/v1/groups', token: t.ownerToken });
      expect(list.json().items.map((g: { name: string }) => g.name)).not.toContain('csrf-a');
      const right = await create({ 'x-csrf-token': session.csrf }, 'csrf-c');
      expect(right.statusCode).toBe(201);
      // Reads need no CSRF token.
      const read = await t.call({
        method: 'GET',
        url: '/api/v1/groups',
        headers: { cookie: session.cookie },
      });
      expect(read.statusCode).toBe(200);
    });

    it('does not ask bearer-token requests for a CSRF token', async () => {
      const res = await t.call({
        method: 'POST',
        url: '/api/v1/groups',
        token: t.ownerToken,
        payload: { name: 'bearer-group' },
      });
      expect(res.statusCode).toBe(201);
    });

    it('ends the session on logout', async () => {
      const session = await t.signIn(OWNER.username, OWNER.password);
      const headers = { cookie: session.cookie, 'x-csrf-token': session.csrf };
      const out = await t.call({ method: 'POST', url: '/api/v1/auth/logout', headers });
      expect(out.statusCode).toBe(204);
      expect(out.cookies.find((c) => c.name === 'pc_session')?.value).toBe('');
      const after = await t.call({
        method: 'GET',
        url: '/api/v1/auth/me',
        headers: { cookie: session.cookie },
      });
      expect(after.statusCode).toBe(401);
      expect(after.json().error.code).toBe('PC_ERR_UNAUTHENTICATED');
    });

    it("rejects a deleted user's session and token on the next request", async () => {
      const user = await t.makeUser('soon-deleted', 'viewer');
      const session = await t.signIn(user.username, user.password);
      expect(
        (await t.call({ method: 'GET', url: '/api/v1/auth/me', headers: { cookie: session.cookie } }))
          .statusCode,
      ).toBe(200);
      const del = await t.call({ method: 'DELETE', url: `/api/v1/users/${user.id}`, token: t.ownerToken });
      expect(del.statusCode).toBe(204);
      const me = await t.call({ method: 'GET', url: '/api/v1/auth/me', headers: { cookie: session.cookie } });
      expect(me.statusCode).toBe(401);
      const viaToken = await t.call({ method: 'GET', url: '/api/v1/auth/me', token: user.token });
      expect(viaToken.statusCode).toBe(401);
    });

    it('lets a user change their own password, checking the current one, and ends their sessions', async () => {
      const user = await t.makeUser('changes-password', 'viewer');
      const session = await t.signIn(user.username, user.password);
      const headers = { cookie: session.cookie, 'x-csrf-token': session.csrf };
      const change = (current: string) =>
        t.call({
          method: 'PUT',
          url: '/api/v1/auth/password',
          headers,
          payload: { current_password: current, new_password: 'a-brand-new-password-1' },
        });
      const wrong = await change('not-my-password');
      expect(wrong.statusCode).toBe(400);
      expect(wrong.json().error.field).toBe('current_password');
      expect((await change(user.password)).statusCode).toBe(204);
      const me = await t.call({ method: 'GET', url: '/api/v1/auth/me', headers: { cookie: session.cookie } });
      expect(me.statusCode).toBe(401);
      const old = await login({ username: user.username, password: user.password }, '198.51.100.80');
      expect(old.statusCode).toBe(401);
      const fresh = await login(
        { username: user.username, password: 'a-brand-new-password-1' },
        '198.51.100.81',
      );
      expect(fresh.statusCode).toBe(200);
    });

    it('rejects a disabled user at sign-in with the same answer as a wrong password', async () => {
      const user = await t.makeUser('disabled-user', 'viewer');
      await t.call({
        method: 'PATCH',
        url: `/api/v1/users/${user.id}`,
        token: t.ownerToken,
        payload: { disabled: true },
      });
      const res = await login({ username: user.username, password: user.password }, '198.51.100.70');
      expect(res.statusCode).toBe(401);
      expect(res.json().error.code).toBe('PC_ERR_INVALID_CREDENTIALS');
    });
  });

  describe('API tokens', () => {
    const createToken = (token: string, payload: Record<string, unknown>) =>
      t.call({ method: 'POST', url: '/api/v1/auth/tokens', token, payload });

    it('returns the token once, lists it without the secret, and it authenticates', async () => {
      const created = await createToken(t.ownerToken, { name: 'ci' });
      expect(created.statusCode).toBe(201);
      const { token, api_token } = created.json();
      expect(token).toMatch(/^pc_[a-z2-7]{12}_[A-Za-z0-9_-]{43}$/);
      const list = await t.call({ method: 'GET', url: '/api/v1/auth/tokens', token: t.ownerToken });
      expect(list.body).not.toContain(token.slice('pc_'.length + 13)); // the secret may contain _
      expect(list.json().items.map((i: { id: string }) => i.id)).toContain(api_token.id);
      const me = await t.call({ method: 'GET', url: '/api/v1/auth/me', token });
      expect(me.json()).toMatchObject({ credential: 'token', user: { username: OWNER.username } });
    });

    it('stops a revoked token', async () => {
      const { token, api_token } = (await createToken(t.ownerToken, { name: 'to-revoke' })).json();
      expect((await t.call({ method: 'GET', url: '/api/v1/users', token })).statusCode).toBe(200);
      const revoke = await t.call({
        method: 'DELETE',
        url: `/api/v1/auth/tokens/${api_token.id}`,
        token: t.ownerToken,
      });
      expect(revoke.statusCode).toBe(204);
      const after = await t.call({ method: 'GET', url: '/api/v1/users', token });
      expect(after.statusCode).toBe(401);
      expect(after.json().error.code).toBe('PC_ERR_UNAUTHENTICATED');
    });

    it('stops an expired token', async () => {
      const soon = new Date(Date.now() + 1500).toISOString();
      const { token } = (await createToken(t.ownerToken, { name: 'short-lived', expires_at: soon })).json();
      expect((await t.call({ method: 'GET', url: '/api/v1/users', token })).statusCode).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 1600));
      expect((await t.call({ method: 'GET', url: '/api/v1/users', token })).statusCode).toBe(401);
    });

    it('rejects a past expiry naming the field', async () => {
      const res = await createToken(t.ownerToken, { name: 'past', expires_at: '2001-01-01T00:00:00Z' });
      expect(res.statusCode).toBe(400);
      expect(res.json().error.field).toBe('expires_at');
    });

    it('limits a token to its permission subset', async () => {
      const { token } = (
        await createToken(t.ownerToken, { name: 'audit-only', permissions: ['audit.view'] })
      ).json();
      expect((await t.call({ method: 'GET', url: '/api/v1/audit', token })).statusCode).toBe(200);
      const users = await t.call({ method: 'GET', url: '/api/v1/users', token });
      expect(users.statusCode).toBe(403);
      expect(users.json().error.message).toContain('users.manage');
    });

    it('never gives a token more than its owner, nor a token-minted token more than the minting token', async () => {
      const viewer = await t.makeUser('token-viewer', 'viewer');
      const beyond = await createToken(viewer.token, { name: 'too-much', permissions: ['users.manage'] });
      expect(beyond.statusCode).toBe(400);
      expect(beyond.json().error.field).toBe('permissions.0');
      const narrow = (await createToken(t.ownerToken, { name: 'narrow', permissions: ['audit.view'] })).json()
        .token;
      const minted = await createToken(narrow, { name: 'minted' });
      expect(minted.statusCode).toBe(201);
      expect(minted.json().api_token.permissions).toEqual(['audit.view']);
      expect(
        (await t.call({ method: 'GET', url: '/api/v1/users', token: minted.json().token })).statusCode,
      ).toBe(403);
      const widen = await createToken(narrow, { name: 'widen', permissions: ['users.manage'] });
      expect(widen.statusCode).toBe(400);
    });

    it("hides another user's token from a user without users.manage", async () => {
      const { api_token } = (await createToken(t.ownerToken, { name: 'owner-only' })).json();
      const viewer = await t.makeUser('token-peeker', 'viewer');
      const res = await t.call({
        method: 'DELETE',
        url: `/api/v1/auth/tokens/${api_token.id}`,
        token: viewer.token,
      });
      expect(res.statusCode).toBe(404);
    });

    it('rejects malformed bearer headers and unknown tokens with 401', async () => {
      const malformed = await t.call({
        method: 'GET',
        url: '/api/v1/users',
        headers: { authorization: 'Basic abc' },
      });
      expect(malformed.statusCode).toBe(401);
      const unknown = await t.call({
        method: 'GET',
        url: '/api/v1/users',
        token: `pc_${'a'.repeat(12)}_${'b'.repeat(43)}`,
      });
      expect(unknown.statusCode).toBe(401);
    });
  });
}
