/**
 * @module The users/tokens CLI, spawned as a user would run it (`node bin/portcullis.js …`) against a real
 * server listening on an ephemeral loopback port: human output, `--json`, errors and `--help`.
 */
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.ts';

const root = new URL('../../', import.meta.url).pathname;

function cli(
  args: string[],
  env: Record<string, string> = {},
  stdin?: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const clean = { ...process.env, ...env };
    if (!('PORTCULLIS_TOKEN' in env)) delete clean.PORTCULLIS_TOKEN;
    const child = spawn(process.execPath, ['bin/portcullis.js', ...args], { cwd: root, env: clean });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => {
      stdout += c;
    });
    child.stderr.on('data', (c) => {
      stderr += c;
    });
    child.stdin.end(stdin ?? '');
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('portcullis users / tokens CLI', () => {
  let t: TestApp;
  let url: string;
  beforeAll(async () => {
    t = await startTestApp('pglite');
    url = await t.app.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('creates a user with a role and a generated password (--json)', async () => {
    const res = await cli([
      'users',
      'create',
      'cli-alice',
      '--role',
      'viewer',
      '--url',
      url,
      '--token',
      t.ownerToken,
      '--json',
    ]);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    const out = JSON.parse(res.stdout);
    expect(out.user.username).toBe('cli-alice');
    expect(out.password.length).toBeGreaterThanOrEqual(16);
    const login = await t.call({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { username: 'cli-alice', password: out.password },
    });
    expect(login.statusCode).toBe(200);
    const bindings = await t.call({
      method: 'GET',
      url: `/api/v1/role-bindings?user_id=${out.user.id}`,
      token: t.ownerToken,
    });
    expect(bindings.json().items.map((b: { role_name: string }) => b.role_name)).toEqual(['viewer']);
  });

  it('takes the password from stdin and never echoes it', async () => {
    const password = 'piped-password-1234';
    const res = await cli(
      ['users', 'create', 'cli-bob', '--password-stdin', '--url', url, '--token', t.ownerToken],
      {},
      `${password}\n`,
    );
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/Created user cli-bob/);
    expect(res.stdout).not.toContain(password);
    const login = await t.call({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { username: 'cli-bob', password },
    });
    expect(login.statusCode).toBe(200);
  });

  it('lists users as a table, reading the token from PORTCULLIS_TOKEN', async () => {
    const res = await cli(['users', 'list', '--url', url], { PORTCULLIS_TOKEN: t.ownerToken });
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/Username/);
    expect(res.stdout).toMatch(/cli-alice/);
    expect(res.stdout).toMatch(/owner/);
  });

  it('creates a 7-day token limited to audit.view: it reads /audit (200) and is refused /users (403)', async () => {
    const res = await cli([
      'tokens',
      'create',
      '--name',
      'cli-ci',
      '--expires',
      '7d',
      '--permission',
      'audit.view',
      '--url',
      url,
      '--token',
      t.ownerToken,
      '--json',
    ]);
    expect(res.code).toBe(0);
    const out = JSON.parse(res.stdout);
    expect(out.api_token).toMatchObject({ name: 'cli-ci', permissions: ['audit.view'] });
    expect(new Date(out.api_token.expires_at).getTime()).toBeGreaterThan(Date.now() + 6 * 86_400_000);
    expect((await t.call({ method: 'GET', url: '/api/v1/audit', token: out.token })).statusCode).toBe(200);
    expect((await t.call({ method: 'GET', url: '/api/v1/users', token: out.token })).statusCode).toBe(403);
  });

  it('prints the server error code and exits 1 on a refused request', async () => {
    const viewer = await t.makeUser('cli-viewer', 'viewer');
    const res = await cli(['users', 'list', '--url', url, '--token', viewer.token]);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/PC_ERR_FORBIDDEN/);
    expect(res.stderr).toMatch(/users\.manage/);
  });

  it('explains a missing token and an unreachable server', async () => {
    const noToken = await cli(['users', 'list', '--url', url]);
    expect(noToken.code).toBe(1);
    expect(noToken.stderr).toMatch(/--token or set PORTCULLIS_TOKEN/);
    const unreachable = await cli([
      'users',
      'list',
      '--url',
      'http://127.0.0.1:1',
      '--token',
      t.ownerToken,
      '--json',
    ]);
    expect(unreachable.code).toBe(1);
    expect(JSON.parse(unreachable.stderr).error.code).toBe('PC_CLI_UNREACHABLE');
  });

  it.each(['serve', 'users create', 'users list', 'tokens create', 'tokens list', 'tokens revoke'])(
    'has --help for %s',
    async (cmd) => {
      const res = await cli([...cmd.split(' '), '--help']);
      expect(res.code).toBe(0);
      expect(res.stdout).toMatch(/Usage: portcullis/);
    },
  );
});
