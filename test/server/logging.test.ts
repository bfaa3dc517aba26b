/**
 * @module JSON logs: every line of a request carries its request id, and no credential — password, TOTP code,
 * session cookie, CSRF token, bearer token — appears in any line, even at the most verbose level.
 */
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { ensureOwner } from '../../src/identity/bootstrap.ts';
import { createApiToken } from '../../src/identity/tokens.ts';
import { Keyring } from '../../src/secrets/keyring.ts';
import { buildApp } from '../../src/server/app.ts';
import type { OpenedStore } from '../../src/store/open.ts';
import { freshPglite, testContext } from '../helpers/store.ts';

const PASSWORD = 'log-test-password-123';

describe('request logs', () => {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  let store: OpenedStore;
  let app: Awaited<ReturnType<typeof buildApp>>;
  let token: string;

  beforeAll(async () => {
    store = await freshPglite();
    const keyring = Keyring.ephemeral();
    const boot = await ensureOwner({
      db: store.db,
      keyring,
      env: { PORTCULLIS_BOOTSTRAP_ADMIN: `logger:${PASSWORD}` },
    });
    if (!boot.created) throw new Error('expected a fresh store');
    token = (await createApiToken(testContext(store, { keyring }), { userId: boot.userId, name: 'log' }))
      .token;
    app = await buildApp({
      store,
      keyring,
      config: loadConfig({}),
      logger: { level: 'trace', stream: sink },
    });
    await app.ready();
  });
  afterAll(async () => {
    await app?.close();
    await store?.close();
  });

  it('never logs a credential and tags every request line with its request id', async () => {
    const login = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { username: 'logger', password: PASSWORD },
    });
    const cookie = login.cookies.find((c) => c.name === 'pc_session')?.value as string;
    const csrf = login.json().csrf_token as string;
    await app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { username: 'logger', password: 'wrong-one', totp_code: '123456' },
    });
    await app.inject({
      method: 'POST',
      url: '/api/v1/groups',
      headers: { cookie: `pc_session=${cookie}`, 'x-csrf-token': csrf },
      payload: { name: 'logged' },
    });
    await app.inject({ method: 'GET', url: '/api/v1/users', headers: { authorization: `Bearer ${token}` } });
    await app.inject({
      method: 'POST',
      url: '/api/v1/groups',
      headers: { authorization: `Bearer ${token}` },
      payload: '{bad',
    });

    expect(lines.length).toBeGreaterThan(8);
    const all = lines.join('\n');
    // The secret part alone (43 base64url characters, which may themselves contain `_`).
    const tokenSecret = token.slice('pc_'.length + 12 + 1);
    for (const secret of [PASSWORD, 'wrong-one', cookie, csrf, token, tokenSecret]) {
      expect(secret.length).toBeGreaterThan(8);
      expect(all).not.toContain(secret);
    }
    for (const line of lines) {
      const entry = JSON.parse(line);
      if (entry.req || entry.res) expect(entry.reqId).toBeTruthy();
    }
  });
});
