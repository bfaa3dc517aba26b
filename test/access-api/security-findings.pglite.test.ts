/**
 * @module Regression tests for the security findings of issue 8 (an outside probe of the running server):
 * each reproduction as it was reported, now answered correctly. PGlite, real pfRest emulator on loopback.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { query as queryAudit } from '../../src/audit/query.ts';
import { totpCode } from '../../src/identity/totp.ts';
import { DEFAULT_ORG_ID } from '../../src/store/schema/tenancy.ts';
import { OWNER } from '../helpers/app.ts';
import { type AccessHarness, startAccessHarness } from './harness.ts';

let h: AccessHarness;
let siteId: string;
let gatewayId: string;
let n = 0;

beforeAll(async () => {
  h = await startAccessHarness('pglite');
  siteId = await h.site();
  gatewayId = await h.gateway(siteId);
});
afterAll(async () => {
  await h?.close();
});

const count = async (table: string) =>
  (await h.store.query<{ n: number }>(`select count(*)::int as n from ${table}`))[0]?.n ?? -1;

/** A token of `user` limited to `permissions`, minted over the API by the user's own full token. */
async function limitedToken(userToken: string, permissions: string[]): Promise<string> {
  const res = await h.call({
    method: 'POST',
    url: '/api/v1/auth/tokens',
    token: userToken,
    payload: { name: `limited-${++n}`, permissions },
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json().token as string;
}

describe('finding 1: the sign-in throttle holds against parallel attempts', () => {
  const burst = (username: string, ip: string, size: number) =>
    Promise.all(
      Array.from({ length: size }, () =>
        h.call({
          method: 'POST',
          url: '/api/v1/auth/login',
          payload: { username, password: 'not-the-password' },
          remoteAddress: ip,
        }),
      ),
    );

  it('60 parallel wrong passwords for one user from one IP: 5 answered 401, the other 55 get 429', async () => {
    const user = await h.makeUser(`burst${++n}`, 'viewer');
    const answers = await burst(user.username, '198.51.100.161', 60);
    const statuses = answers.map((r) => r.statusCode);
    expect(statuses.filter((s) => s === 401)).toHaveLength(5);
    expect(statuses.filter((s) => s === 429)).toHaveLength(55);
    const limited = answers.find((r) => r.statusCode === 429);
    expect(limited?.json().error.code).toBe('PC_ERR_RATE_LIMITED');
    expect(Number(limited?.headers['retry-after'])).toBeGreaterThan(0);
    // The right password is refused too until the window ends.
    const right = await h.call({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { username: user.username, password: user.password },
      remoteAddress: '198.51.100.162',
    });
    expect(right.statusCode).toBe(429);
  });

  it('an unknown user gets the same answers as a wrong password, in the same numbers', async () => {
    const answers = await burst(`nobody${++n}`, '198.51.100.163', 60);
    const statuses = answers.map((r) => r.statusCode);
    expect(statuses.filter((s) => s === 401)).toHaveLength(5);
    expect(statuses.filter((s) => s === 429)).toHaveLength(55);
    expect(answers.find((r) => r.statusCode === 401)?.json().error.code).toBe('PC_ERR_INVALID_CREDENTIALS');
  });

  it('one IP spraying 60 usernames in parallel gets at most 20 answers past the throttle', async () => {
    const answers = await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        h.call({
          method: 'POST',
          url: '/api/v1/auth/login',
          payload: { username: `spray${n}-${i}`, password: 'not-the-password' },
          remoteAddress: '198.51.100.164',
        }),
      ),
    );
    const statuses = answers.map((r) => r.statusCode);
    expect(statuses.filter((s) => s === 401).length).toBeLessThanOrEqual(20);
    expect(statuses.filter((s) => s !== 401 && s !== 429)).toEqual([]);
  });

  it('good sign-ins from one address never use up its budget', async () => {
    for (let i = 0; i < 25; i++) {
      const ok = await h.call({
        method: 'POST',
        url: '/api/v1/auth/login',
        payload: OWNER,
        remoteAddress: '198.51.100.165',
      });
      expect(ok.statusCode, ok.body).toBe(200);
    }
  });
});

describe('finding 2: an API token cannot change how its owner signs in', () => {
  it('declares session-only exactly the password change and the TOTP routes of auth.ts', () => {
    const sessionOnly = h.app.declaredRoutes
      .filter((r) => (r.access as { credential?: string }).credential === 'session')
      .map((r) => `${r.method} ${r.url}`);
    expect([...new Set(sessionOnly)].sort()).toEqual([
      'POST /api/v1/auth/totp/enroll',
      'POST /api/v1/auth/totp/verify',
      'PUT /api/v1/auth/password',
    ]);
  });

  it('a token limited to access.view gets 403 on TOTP enrol and verify and on the password change', async () => {
    const user = await h.makeUser(`tokentotp${++n}`, 'viewer');
    for (const token of [await limitedToken(user.token, ['access.view']), user.token]) {
      const enroll = await h.call({
        method: 'POST',
        url: '/api/v1/auth/totp/enroll',
        token,
        payload: { current_password: user.password },
      });
      expect(enroll.statusCode, enroll.body).toBe(403);
      expect(enroll.json().error.code).toBe('PC_ERR_FORBIDDEN');
      const verify = await h.call({
        method: 'POST',
        url: '/api/v1/auth/totp/verify',
        token,
        payload: { code: '123456' },
      });
      expect(verify.statusCode).toBe(403);
      const password = await h.call({
        method: 'PUT',
        url: '/api/v1/auth/password',
        token,
        payload: { current_password: user.password, new_password: 'taken-over-password-1' },
      });
      expect(password.statusCode).toBe(403);
    }
    // Nothing changed: the owner still signs in with the old password and no code.
    const signIn = await h.call({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { username: user.username, password: user.password },
      remoteAddress: '198.51.100.170',
    });
    expect(signIn.statusCode, signIn.body).toBe(200);
    expect(signIn.json().user.totp_enabled).toBe(false);
  });

  it('a session must give the current password to start TOTP enrolment; a wrong one writes nothing', async () => {
    const user = await h.makeUser(`sessiontotp${++n}`, 'viewer');
    const session = await h.signIn(user.username, user.password);
    const headers = { cookie: session.cookie, 'x-csrf-token': session.csrf };
    const missing = await h.call({ method: 'POST', url: '/api/v1/auth/totp/enroll', headers, payload: {} });
    expect(missing.statusCode).toBe(400);
    expect(missing.json().error.field).toBe('current_password');
    const wrong = await h.call({
      method: 'POST',
      url: '/api/v1/auth/totp/enroll',
      headers,
      payload: { current_password: 'not-my-password' },
    });
    expect(wrong.statusCode).toBe(400);
    expect(wrong.json().error.field).toBe('current_password');
    const [row] = await h.store.query<{ enc: string | null }>(
      `select totp_secret_enc as enc from users where id = '${user.id}'`,
    );
    expect(row?.enc).toBeNull();
    const ok = await h.call({
      method: 'POST',
      url: '/api/v1/auth/totp/enroll',
      headers,
      payload: { current_password: user.password },
    });
    expect(ok.statusCode, ok.body).toBe(200);
    const verify = await h.call({
      method: 'POST',
      url: '/api/v1/auth/totp/verify',
      headers,
      payload: { code: totpCode(ok.json().secret, new Date()) },
    });
    expect(verify.statusCode, verify.body).toBe(204);
  });
});

describe('finding 3: the portal honours a token’s permission limits', () => {
  it('a token limited to gateway.view gets 403 at knock and click-to-grant; access.grant is served', async () => {
    const user = await h.makeUser(`portaltoken${++n}`, 'viewer');
    const knoc = await h.knoc({ gateway_id: gatewayId, alias_name: `pc_sf${n}`, users: [user.id] });
    const viewOnly = await limitedToken(user.token, ['gateway.view']);
    const grantsBefore = await count('grants');
    for (const [url, payload] of [
      ['/api/v1/portal/knock', {}],
      [`/api/v1/portal/grants/${knoc.id}`, {}],
    ] as const) {
      const denied = await h.call({ method: 'POST', url, token: viewOnly, payload, remoteAddress: '192.0.2.77' });
      expect(denied.statusCode, `${url} ${denied.body}`).toBe(403);
      expect(denied.json().error.message).toContain('access.grant');
    }
    expect((await h.call({ method: 'GET', url: '/api/v1/portal/me', token: viewOnly })).statusCode).toBe(403);
    expect(await count('grants')).toBe(grantsBefore);

    const granting = await limitedToken(user.token, ['access.grant']);
    const knock = await h.call({
      method: 'POST',
      url: '/api/v1/portal/knock',
      token: granting,
      payload: {},
      remoteAddress: '192.0.2.78',
    });
    expect(knock.statusCode, knock.body).toBe(200);
    expect(knock.json().granted).toMatchObject([{ knoc_id: knoc.id }]);
  });
});

describe('finding 4: an upper-case id in the path cannot corrupt a gateway key', () => {
  it('PATCH with the id in upper case keeps the key readable: the saved gateway still tests ok', async () => {
    const id = await h.gateway(siteId);
    const patch = await h.call({
      method: 'PATCH',
      url: `/api/v1/firewall/gateways/${id.toUpperCase()}`,
      token: h.ownerToken,
      payload: { api_key: h.emulator.apiKey },
    });
    expect(patch.statusCode, patch.body).toBe(200);
    expect(patch.json().id).toBe(id);
    const tested = await h.call({
      method: 'POST',
      url: `/api/v1/firewall/gateways/${id}/test`,
      token: h.ownerToken,
      payload: {},
    });
    expect(tested.statusCode, tested.body).toBe(200);
    expect(tested.json().ok).toBe(true);
    const audit = await queryAudit(h.store.db, DEFAULT_ORG_ID, { action: 'gateway.update' });
    expect(audit.items.some((e) => e.targetId === id)).toBe(true);
    expect(audit.items.some((e) => e.targetId === id.toUpperCase())).toBe(false);
  });

  it('an upper-case id reaches the same object on every route keyed by id (read, test, delete)', async () => {
    const id = await h.gateway(siteId);
    const upper = id.toUpperCase();
    const read = await h.call({ method: 'GET', url: `/api/v1/firewall/gateways/${upper}`, token: h.ownerToken });
    expect(read.json().id).toBe(id);
    const del = await h.call({ method: 'DELETE', url: `/api/v1/firewall/gateways/${upper}`, token: h.ownerToken });
    expect(del.statusCode, del.body).toBe(204);
    const audit = await queryAudit(h.store.db, DEFAULT_ORG_ID, { action: 'gateway.delete' });
    expect(audit.items.map((e) => e.targetId)).toContain(id);
  });
});

describe('finding 5: NUL, control characters and year-0 dates are 400s naming the field, nothing written', () => {
  const tables = ['users', 'groups', 'sites', 'grants', 'audit_log', 'api_tokens'];
  const counts = async () => Object.fromEntries(await Promise.all(tables.map(async (t) => [t, await count(t)])));

  const password = 'a-long-password-1';
  it.each([
    {
      name: 'user display_name with NUL',
      url: '/api/v1/users',
      payload: () => ({ username: `nul${++n}`, password, display_name: 'Eve\u0000' }),
      field: 'display_name',
    },
    {
      name: 'user display_name with a line break',
      url: '/api/v1/users',
      payload: () => ({ username: `lf${++n}`, password, display_name: 'Eve\nforged log line' }),
      field: 'display_name',
    },
    {
      name: 'user password with NUL',
      url: '/api/v1/users',
      payload: () => ({ username: `pw${++n}`, password: 'secret\u0000secret' }),
      field: 'password',
    },
    {
      name: 'group description with NUL',
      url: '/api/v1/groups',
      payload: () => ({ name: `g${++n}`, description: 'x\u0000y' }),
      field: 'description',
    },
    {
      // jsonb refuses an unpaired surrogate escape: it was a 500 from the alias route (write-route fuzz).
      name: 'group description with an unpaired high surrogate',
      url: '/api/v1/groups',
      payload: () => ({ name: `g${++n}`, description: 'x\ud800y' }),
      field: 'description',
    },
    {
      name: 'group description with an unpaired low surrogate',
      url: '/api/v1/groups',
      payload: () => ({ name: `g${++n}`, description: '\udc00' }),
      field: 'description',
    },
    {
      name: 'site name with ESC',
      url: '/api/v1/sites',
      payload: () => ({ name: `s${++n}\u001b[31m` }),
      field: 'name',
    },
    { name: 'token name with NUL', url: '/api/v1/auth/tokens', payload: () => ({ name: 'tok\u0000' }), field: 'name' },
    {
      name: 'token expiry in year 0',
      url: '/api/v1/auth/tokens',
      payload: () => ({ name: `t${++n}`, expires_at: '0000-01-01T00:00:00Z' }),
      field: 'expires_at',
    },
    {
      name: 'a key holding NUL',
      url: '/api/v1/groups',
      payload: () => ({ name: `k${++n}`, 'x\u0000': 1 }),
      field: 'x\u0000',
    },
  ])('$name → 400 on $field', async ({ url, payload, field }) => {
    const before = await counts();
    const res = await h.call({ method: 'POST', url, token: h.ownerToken, payload: payload() });
    expect(res.statusCode, res.body).toBe(400);
    expect(res.json().error).toMatchObject({ code: 'PC_ERR_VALIDATION', field });
    expect(res.json().error.message).toMatch(/control characters|NUL|surrogate|1970/);
    expect(await counts()).toEqual(before);
  });

  it('grant reason with NUL → 400 on reason, no grant', async () => {
    const knoc = await h.knoc({ gateway_id: gatewayId, alias_name: `pc_nul${++n}` });
    const before = await count('grants');
    const res = await h.call({
      method: 'POST',
      url: '/api/v1/access/grants',
      token: h.ownerToken,
      payload: { knoc_id: knoc.id, ip: '192.0.2.9', reason: 'because\u0000' },
    });
    expect(res.statusCode, res.body).toBe(400);
    expect(res.json().error.field).toBe('reason');
    expect(await count('grants')).toBe(before);
  });

  it('sign-in username with NUL → 400 on username (not a 500, not a counted attempt)', async () => {
    const res = await h.call({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { username: 'owner\u0000', password: 'whatever-password' },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.field).toBe('username');
  });

  it('?search=%00 → 400 on search', async () => {
    const res = await h.call({ method: 'GET', url: '/api/v1/users?search=%00', token: h.ownerToken });
    expect(res.statusCode, res.body).toBe(400);
    expect(res.json().error.field).toBe('search');
  });

  it.each(['from', 'to'])('/audit?%s=0000-01-01T00:00:00Z → 400 naming %s and the allowed years', async (field) => {
    const url = `/api/v1/audit?${field}=0000-01-01T00:00:00Z`;
    const res = await h.call({ method: 'GET', url, token: h.ownerToken });
    expect(res.statusCode, res.body).toBe(400);
    expect(res.json().error.field).toBe(field);
    expect(res.json().error.message).toContain('1970');
  });

  it('sane dates and plain text still pass', async () => {
    const audit = await h.call({ method: 'GET', url: '/api/v1/audit?from=2000-01-01T00:00:00Z', token: h.ownerToken });
    expect(audit.statusCode).toBe(200);
    const group = await h.call({
      method: 'POST',
      url: '/api/v1/groups',
      token: h.ownerToken,
      payload: { name: `Ünïcode group ${++n}`, description: 'two\nlines\twith a tab' },
    });
    expect(group.statusCode, group.body).toBe(201);
  });
});
