/**
 * @module `portcullis identity-providers`, spawned as a script runs it, against a real server on loopback (PGlite):
 * create with the client secret from a file or stdin (never from `--data`), list, show with the endpoints to
 * register, update (a new secret, then none), delete; the secret is never printed; refusals exit 1 naming the
 * field or the permission.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serviceContext } from '../../src/core/context.ts';
import { providerForSignIn } from '../../src/identity/sso/providers.ts';
import { type AccessHarness, startAccessHarness } from '../access-api/harness.ts';

const root = new URL('../../', import.meta.url).pathname;
const SECRET = 'oidc-client-Secret-7f3a9c';

let h: AccessHarness;
let url: string;
let dir: string;

function cli(
  args: string[],
  stdin = '',
  token = h.ownerToken,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const env = { ...process.env, PORTCULLIS_URL: url, PORTCULLIS_TOKEN: token };
    const child = spawn(process.execPath, ['bin/portcullis.js', 'identity-providers', ...args], { cwd: root, env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

async function json(args: string[], stdin?: string): Promise<Record<string, unknown>> {
  const run = await cli([...args, '--json'], stdin);
  expect(run.stderr, args.join(' ')).toBe('');
  expect(run.code).toBe(0);
  expect(run.stdout).not.toContain(SECRET);
  return JSON.parse(run.stdout) as Record<string, unknown>;
}

/** The stored, sealed secret opened by the server's own sign-in path: what a sign-in would send the provider. */
async function storedSecret(id: string): Promise<string | null> {
  return (await providerForSignIn(serviceContext(h.store.db, h.keyring), id, 'oidc')).clientSecret;
}

const oidc = { name: 'Corporate IdP', kind: 'oidc', audience: 'portal', issuer: 'https://idp.example.test', client_id: 'portcullis' };

beforeAll(async () => {
  h = await startAccessHarness('pglite');
  url = await h.app.listen({ host: '127.0.0.1', port: 0 });
  dir = mkdtempSync(join(tmpdir(), 'portcullis-idp-cli-'));
}, 60_000);
afterAll(async () => {
  await h?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('portcullis identity-providers', () => {
  it('creates with the secret from a file, lists, shows, updates from stdin, removes the secret and deletes', async () => {
    const secretFile = join(dir, 'secret');
    writeFileSync(secretFile, `${SECRET}\n`, { mode: 0o600 });
    const created = await json(['create', '--data', JSON.stringify(oidc), '--client-secret-file', secretFile]);
    expect(created).toMatchObject({ name: 'Corporate IdP', kind: 'oidc', has_client_secret: true });
    const id = String(created.id);
    expect((created.endpoints as Record<string, string>).redirect_uri).toBe(`${url}/api/v1/auth/oidc/${id}/callback`);

    const listed = await json(['list']);
    expect((listed.items as { id: string }[]).map((p) => p.id)).toEqual([id]);
    const table = await cli(['list']);
    expect(table.code).toBe(0);
    expect(table.stdout).toContain('Corporate IdP');
    expect(table.stdout).toContain('has_client_secret');
    const shown = await cli(['show', id]);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain(`/api/v1/auth/oidc/${id}/callback`);
    expect(shown.stdout).not.toContain(SECRET);

    // Stored as read from the file, without its line break.
    expect(await storedSecret(id)).toBe(SECRET);
    // A new secret on stdin, with a field change from --data.
    const rotated = await json(['update', id, '--data', '{"client_id":"portcullis-2"}', '--client-secret-file', '-'], 'rotated-Secret-2\n');
    expect(rotated).toMatchObject({ client_id: 'portcullis-2', has_client_secret: true });
    expect(await storedSecret(id)).toBe('rotated-Secret-2');
    // Only a secret, no --data; then none at all (a public client).
    await json(['update', id, '--client-secret-file', '-'], 'rotated-Secret-3');
    expect(await storedSecret(id)).toBe('rotated-Secret-3');
    const cleared = await json(['update', id, '--data', '{"client_secret":null,"enabled":false}']);
    expect(cleared).toMatchObject({ enabled: false, has_client_secret: false });

    const gone = await cli(['delete', id]);
    expect(gone.code).toBe(0);
    expect(gone.stdout).toBe(`deleted ${id}\n`);
    expect((await json(['list'])).items).toEqual([]);
  }, 90_000);

  it('refuses a secret in --data, an empty or missing secret file and two stdin readers, without echoing the secret', async () => {
    const inData = await cli(['create', '--data', JSON.stringify({ ...oidc, client_secret: SECRET })]);
    expect(inData.code).toBe(1);
    expect(inData.stderr).toContain('--client-secret-file');
    expect(inData.stderr).not.toContain(SECRET);

    const empty = join(dir, 'empty');
    writeFileSync(empty, '\n');
    const emptyRun = await cli(['create', '--data', JSON.stringify(oidc), '--client-secret-file', empty]);
    expect(emptyRun.code).toBe(1);
    expect(emptyRun.stderr).toContain('is empty');

    const missing = await cli(['create', '--data', JSON.stringify(oidc), '--client-secret-file', join(dir, 'nope')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('ENOENT');

    const twice = await cli(['create', '--data', '-', '--client-secret-file', '-'], JSON.stringify(oidc));
    expect(twice.code).toBe(1);
    expect(twice.stderr).toContain('cannot both read stdin');

    expect((await json(['list'])).items).toEqual([]);
  }, 90_000);

  it('fails naming the field the server refused, and the permission a viewer lacks', async () => {
    const secretFile = join(dir, 'secret2');
    writeFileSync(secretFile, SECRET);
    const noIssuer = await cli(['create', '--data', JSON.stringify({ ...oidc, issuer: null }), '--client-secret-file', secretFile]);
    expect(noIssuer.code).toBe(1);
    expect(noIssuer.stderr).toContain('field issuer');
    expect(noIssuer.stderr).not.toContain(SECRET);

    const badKind = await cli(['create', '--data', JSON.stringify({ ...oidc, kind: 'ldap' }), '--json']);
    expect(badKind.code).toBe(1);
    expect(JSON.parse(badKind.stderr).error.field).toBe('kind');

    const viewer = await h.makeUser('idp-viewer', 'viewer');
    const refused = await cli(['list'], '', viewer.token);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('users.manage');

    const unknown = await cli(['show', '00000000-0000-4000-8000-000000000000']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/NOT_FOUND/);
  }, 90_000);
});
