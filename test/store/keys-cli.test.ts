/**
 * @module `portcullis keys rotate|reencrypt` end to end on an embedded store: the key file gains a new active
 * key (still 0600), every encrypted column is re-sealed under it, sign-in with TOTP keeps working, the rotation
 * is audited, and keys from PORTCULLIS_SECRET_KEYS are refused for rotation without leaking them.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { query as queryAudit } from '../../src/audit/query.ts';
import {
  beginTotpEnrollment,
  confirmTotpEnrollment,
  createUser,
  login,
  totpCode,
} from '../../src/identity/index.ts';
import { KEY_FILE, Keyring } from '../../src/secrets/keyring.ts';
import { openStore } from '../../src/store/open.ts';
import { DEFAULT_ORG_ID } from '../../src/store/schema/tenancy.ts';
import { testContext } from '../helpers/store.ts';

const run = promisify(execFile);
const cli = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  run(process.execPath, ['bin/portcullis.js', ...args], { env: { ...process.env, ...env } }).then(
    (out) => ({ code: 0, ...out }),
    (err: { code: number; stdout: string; stderr: string }) => ({
      code: err.code,
      stdout: err.stdout,
      stderr: err.stderr,
    }),
  );

// Each case starts a CLI process that opens PGlite from disk: slow on a loaded 2-core machine.
describe('portcullis keys', { timeout: 120_000 }, () => {
  let dir: string;
  let secret: string;
  let firstKid: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'portcullis-keys-cli-'));
    const keyring = Keyring.load(dir, {});
    firstKid = keyring.activeKid;
    const store = await openStore({ dataDir: dir });
    try {
      const ctx = testContext(store, { keyring });
      const user = await createUser(ctx, { username: 'yara', password: 'correct horse battery' });
      secret = (await beginTotpEnrollment(ctx, user.id)).secret;
      await confirmTotpEnrollment(ctx, user.id, totpCode(secret, new Date(Date.now() - 30_000)));
    } finally {
      await store.close();
    }
  }, 120_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('rotate adds an active key and re-encrypts every secret under it', async () => {
    const result = await cli(['keys', 'rotate', '--data-dir', dir, '--json'], { PORTCULLIS_SECRET_KEYS: '' });
    expect(result.code).toBe(0);
    const output = JSON.parse(result.stdout);
    expect(output).toMatchObject({
      previous_kid: firstKid,
      reencrypted: { 'users.totp_secret_enc': 1 },
      total: 1,
    });
    expect(output.active_kid).not.toBe(firstKid);

    const file = JSON.parse(readFileSync(join(dir, KEY_FILE), 'utf8'));
    expect(file.active).toBe(output.active_kid);
    expect(Object.keys(file.keys).sort()).toEqual([firstKid, output.active_kid].sort());
    expect(statSync(join(dir, KEY_FILE)).mode & 0o777).toBe(0o600);
    for (const key of Object.values<string>(file.keys))
      expect(result.stdout + result.stderr).not.toContain(key);

    const store = await openStore({ dataDir: dir });
    try {
      const [row] = await store.query<{ totp_secret_enc: string }>('select totp_secret_enc from users');
      expect(row?.totp_secret_enc.startsWith(`v1.${output.active_kid}.`)).toBe(true);
      const ctx = testContext(store, { keyring: Keyring.load(dir, {}) });
      await login(ctx, {
        username: 'yara',
        password: 'correct horse battery',
        totpCode: totpCode(secret, new Date()),
      });
      const [entry] = (await queryAudit(store.db, DEFAULT_ORG_ID, { action: 'keys.rotate' })).items;
      expect(entry?.after).toEqual({ active_kid: output.active_kid, reencrypted: 1 });
    } finally {
      await store.close();
    }
  });

  it('reencrypt is idempotent once everything is on the active key', async () => {
    const result = await cli(['keys', 'reencrypt', '--data-dir', dir, '--json'], {
      PORTCULLIS_SECRET_KEYS: '',
    });
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ total: 0 });
  });

  it('refuses to rotate keys that come from PORTCULLIS_SECRET_KEYS, without printing them', async () => {
    const key = Buffer.alloc(32, 7).toString('base64');
    const result = await cli(['keys', 'rotate', '--data-dir', dir], {
      PORTCULLIS_SECRET_KEYS: JSON.stringify({ active: 'ops1', keys: { ops1: key } }),
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('PORTCULLIS_SECRET_KEYS');
    expect(result.stderr).toContain('portcullis keys reencrypt');
    expect(result.stdout + result.stderr).not.toContain(key);
  });

  it('keys rotate --help lists --data-dir and --json', async () => {
    const result = await cli(['keys', 'rotate', '--help']);
    expect(result.stdout).toContain('--data-dir');
    expect(result.stdout).toContain('--json');
  });
});
