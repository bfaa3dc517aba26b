/**
 * @module Recovery from a lost authenticator: whoever holds users.manage resets a user's TOTP over the API
 * (audited), and the owner does it with `portcullis users reset-totp` directly on the store.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { query as queryAudit } from '../../src/audit/query.ts';
import { AuthenticationError } from '../../src/errors.ts';
import {
  beginTotpEnrollment,
  confirmTotpEnrollment,
  createUser,
  login,
  totpCode,
} from '../../src/identity/index.ts';
import { Keyring } from '../../src/secrets/keyring.ts';
import { openStore } from '../../src/store/open.ts';
import { DEFAULT_ORG_ID } from '../../src/store/schema/tenancy.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { testContext } from '../helpers/store.ts';

const run = promisify(execFile);
const cli = (args: string[]) =>
  run(process.execPath, ['bin/portcullis.js', ...args], {
    env: { ...process.env, PORTCULLIS_SECRET_KEYS: '' },
  }).then(
    (out) => ({ code: 0, ...out }),
    (err: { code: number; stdout: string; stderr: string }) => ({
      code: err.code,
      stdout: err.stdout,
      stderr: err.stderr,
    }),
  );

describe('admin TOTP reset over the API', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp('pglite');
  });
  afterAll(async () => {
    await t?.close();
  });

  async function userWithTotp(name: string) {
    const user = await t.makeUser(name, 'viewer');
    const ctx = testContext(t.store, { keyring: t.keyring });
    const { secret } = await beginTotpEnrollment(ctx, user.id);
    await confirmTotpEnrollment(ctx, user.id, totpCode(secret, new Date(Date.now() - 30_000)));
    return user;
  }
  const signIn = (username: string, password: string) =>
    t.call({ method: 'POST', url: '/api/v1/auth/login', payload: { username, password } });

  it('turns TOTP off, lets the user sign in with the password alone, and audits who did it', async () => {
    const user = await userWithTotp('lost-phone');
    expect((await signIn(user.username, user.password)).json().error.code).toBe('PC_ERR_TOTP_REQUIRED');
    const admin = await t.makeUser('helpdesk', 'owner');
    const reset = await t.call({ method: 'DELETE', url: `/api/v1/users/${user.id}/totp`, token: admin.token });
    expect(reset.statusCode, reset.body).toBe(200);
    expect(reset.json()).toMatchObject({ id: user.id, totp_enabled: false });
    expect((await signIn(user.username, user.password)).statusCode).toBe(200);
    const [entry] = (await queryAudit(t.store.db, DEFAULT_ORG_ID, { action: 'user.totp_reset' })).items;
    expect(entry).toMatchObject({ targetId: user.id, actorId: admin.id, outcome: 'success' });
    expect(entry?.after).toEqual({ totp_enabled: false });
    const [row] = await t.store.query<{ enc: string | null }>(
      `select totp_secret_enc as enc from users where id = '${user.id}'`,
    );
    expect(row?.enc).toBeNull();
  });

  it('needs users.manage: a viewer gets 403 and the TOTP stays on', async () => {
    const user = await userWithTotp('keeps-totp');
    const viewer = await t.makeUser('nosy-viewer', 'viewer');
    const denied = await t.call({ method: 'DELETE', url: `/api/v1/users/${user.id}/totp`, token: viewer.token });
    expect(denied.statusCode).toBe(403);
    expect((await signIn(user.username, user.password)).json().error.code).toBe('PC_ERR_TOTP_REQUIRED');
  });

  it('answers 404 for an unknown user, writing nothing', async () => {
    const before = (await queryAudit(t.store.db, DEFAULT_ORG_ID, { action: 'user.totp_reset' })).items.length;
    const res = await t.call({
      method: 'DELETE',
      url: '/api/v1/users/00000000-0000-4000-8000-000000000123/totp',
      token: t.ownerToken,
    });
    expect(res.statusCode).toBe(404);
    expect((await queryAudit(t.store.db, DEFAULT_ORG_ID, { action: 'user.totp_reset' })).items).toHaveLength(before);
  });
});

// Each case starts a CLI process that opens PGlite from disk: slow on a loaded 2-core machine.
describe('portcullis users reset-totp (on the store)', { timeout: 120_000 }, () => {
  let dir: string;
  const password = 'correct horse battery';

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'portcullis-reset-totp-'));
    const keyring = Keyring.load(dir, {});
    const store = await openStore({ dataDir: dir });
    try {
      const ctx = testContext(store, { keyring });
      const user = await createUser(ctx, { username: 'owner-lost-phone', password });
      const { secret } = await beginTotpEnrollment(ctx, user.id);
      await confirmTotpEnrollment(ctx, user.id, totpCode(secret, new Date(Date.now() - 30_000)));
    } finally {
      await store.close();
    }
  }, 120_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('resets the named user so the password alone signs in, audited as the command', async () => {
    const store = await openStore({ dataDir: dir });
    try {
      const ctx = testContext(store, { keyring: Keyring.load(dir, {}) });
      await expect(login(ctx, { username: 'owner-lost-phone', password })).rejects.toBeInstanceOf(
        AuthenticationError,
      );
    } finally {
      await store.close();
    }
    const result = await cli(['users', 'reset-totp', 'Owner-Lost-Phone', '--data-dir', dir, '--json']);
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ username: 'owner-lost-phone', totp_enabled: false });
    const after = await openStore({ dataDir: dir });
    try {
      const ctx = testContext(after, { keyring: Keyring.load(dir, {}) });
      const { user } = await login(ctx, { username: 'owner-lost-phone', password });
      expect(user.totpEnabled).toBe(false);
      const [entry] = (await queryAudit(after.db, DEFAULT_ORG_ID, { action: 'user.totp_reset' })).items;
      expect(entry).toMatchObject({ actorType: 'system', actorName: 'portcullis users reset-totp' });
    } finally {
      await after.close();
    }
  });

  it('fails with exit code 1 and a clear message for an unknown user', async () => {
    const result = await cli(['users', 'reset-totp', 'nobody-here', '--data-dir', dir]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('no user named "nobody-here"');
  });
});
