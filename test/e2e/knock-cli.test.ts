/**
 * @module `portcullis knock` as a process against a real server process and a pfRest emulator: a knock grants the
 * caller's address (it reaches the applied alias), refusals carry their reason, a bad token and an unknown knoc
 * exit non-zero with the server's code (never echoing the token), and `--persist` keeps re-knocking before short
 * grants run out and stops cleanly on SIGINT. The persist loop is also driven in-process over two loopback
 * source addresses to show it follows an address change.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, fetch as undiciFetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_POLICY, type PersistEvent, persistKnocking, type Transport } from '../../src/cli/knock-client.ts';
import { CliApiError } from '../../src/cli/client.ts';
import { type PfRestEmulator, startPfRestEmulator } from '../../src/emulators/pfrest/index.ts';
import { type AccessWorld, accessWorld, appliedAddresses, listGrants, type Person } from './support/access-world.ts';
import { eventually, ownerToken, type ServerProcess, spawnServer } from './support/server-process.ts';

const root = new URL('../../', import.meta.url).pathname;

interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runKnock(args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['bin/portcullis.js', 'knock', ...args], {
      cwd: root,
      env: { ...process.env, PORTCULLIS_URL: '', PORTCULLIS_TOKEN: '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => {
      stdout += c;
    });
    child.stderr.on('data', (c) => {
      stderr += c;
    });
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('portcullis knock against a running server', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'portcullis-e2e-knock-'));
  let emulator: PfRestEmulator;
  let server: ServerProcess;
  let world: AccessWorld;
  let alice: Person;
  let opsId: string;

  beforeAll(async () => {
    emulator = await startPfRestEmulator({ applyDelayMs: 50 });
    server = await spawnServer({
      dataDir,
      env: { PORTCULLIS_ALLOW_GATEWAY_HOSTS: '127.0.0.1', PORTCULLIS_LAB: 'off' },
    });
    world = await accessWorld(server.url, await ownerToken(server.url), emulator);
    alice = await world.person('alice');
    opsId = (await world.knoc({ name: 'ops', alias_name: 'pc_ops', users: [alice.id] })).id;
    await world.knoc({ name: 'short', alias_name: 'pc_short', grant_ttl_seconds: 3, users: [alice.id] });
    await world.knoc({ name: 'office_only', alias_name: 'pc_office', allowed_sources: ['10.0.0.0/8'], users: [alice.id] });
  }, 300_000);

  afterAll(async () => {
    await server?.stop('SIGTERM');
    await emulator?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('grants the caller on every knoc it may use and reports the refused one with its reason', async () => {
    const run = await runKnock(['--url', server.url, '--token', alice.token, '--json']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const answer = JSON.parse(run.stdout) as {
      ip: string;
      granted: { knoc_name: string; expires_at: string; seconds_left: number }[];
      refused: { knoc_name: string; reason: string }[];
    };
    expect(answer.ip).toBe('127.0.0.1');
    expect(answer.granted.map((g) => g.knoc_name).sort()).toEqual(['ops', 'short']);
    expect(answer.refused).toEqual([expect.objectContaining({ knoc_name: 'office_only' })]);
    expect(answer.refused[0]?.reason).toMatch(/source/);
    await eventually(() => (appliedAddresses(emulator, 'pc_ops').includes('127.0.0.1') ? true : undefined), 'ops applied');
  }, 60_000);

  it('prints a human summary without the token, from the environment variables', async () => {
    const run = await runKnock(['--knoc', 'ops'], { PORTCULLIS_URL: server.url, PORTCULLIS_TOKEN: alice.token });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Address seen by the server: 127.0.0.1');
    expect(run.stdout).toMatch(/granted {2}ops {2}until \d{4}-/);
    expect(run.stdout + run.stderr).not.toContain(alice.token);
  }, 60_000);

  it('exits 3 when every knoc refuses', async () => {
    const run = await runKnock(['--url', server.url, '--token', alice.token, '--knoc', 'office_only']);
    expect(run.code).toBe(3);
    expect(run.stdout).toMatch(/refused {2}office_only/);
  }, 60_000);

  it('a bad token exits 1 with the server code and never echoes the token', async () => {
    const bad = 'pct_this-is-not-a-valid-token-0123456789';
    const run = await runKnock(['--url', server.url, '--token', bad]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^error: .+\(PC_ERR_[A-Z_]+/);
    expect(run.stdout + run.stderr).not.toContain(bad);
  }, 60_000);

  it('an unknown knoc exits 1 naming the problem (JSON envelope with --json)', async () => {
    const run = await runKnock(['--url', server.url, '--token', alice.token, '--knoc', 'no_such_knoc', '--json']);
    expect(run.code).toBe(1);
    const envelope = JSON.parse(run.stderr) as { error: { code: string; message: string } };
    expect(envelope.error.code).toMatch(/^PC_ERR_/);
    expect(envelope.error.message).toContain('no_such_knoc');
  }, 60_000);

  it('an unreachable server exits 1 with PC_CLI_UNREACHABLE', async () => {
    const run = await runKnock(['--url', 'http://127.0.0.1:1', '--token', alice.token]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('PC_CLI_UNREACHABLE');
  }, 60_000);

  it('--persist re-knocks before a 3 s grant runs out, keeps the address applied, and stops on SIGINT', async () => {
    const child: ChildProcess = spawn(
      process.execPath,
      ['bin/portcullis.js', 'knock', '--url', server.url, '--token', alice.token, '--knoc', 'short', '--persist', '--json'],
      { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (c) => {
      stdout += c;
    });
    child.stderr?.on('data', (c) => {
      stderr += c;
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const knocks = () => stdout.split('\n').filter((line) => line.includes('"event":"knocked"'));
    // Four knocks of a 3 s grant need ≥ 6 s: the grant was renewed at least three times before it could lapse.
    await eventually(() => (knocks().length >= 4 ? true : undefined), 'four knocks', { timeoutMs: 60_000 });
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    for (const line of knocks()) {
      const event = JSON.parse(line) as { response: { granted: { knoc_name: string }[] }; nextInMs: number };
      expect(event.response.granted.map((g) => g.knoc_name)).toEqual(['short']);
      expect(event.nextInMs).toBe(2_000);
    }
    expect(stderr).toBe('');
    expect(stdout).not.toContain(alice.token);
    expect(appliedAddresses(emulator, 'pc_short')).toContain('127.0.0.1');
  }, 90_000);

  it('the persist loop follows an address change (two loopback source addresses, real HTTP)', async () => {
    let source = '127.0.0.1';
    const agents = new Map(['127.0.0.1', '127.0.0.2'].map((a) => [a, new Agent({ localAddress: a })]));
    const transport: Transport = async <T>(method: string, path: string, body?: unknown) => {
      const response = await undiciFetch(`${server.url}${path}`, {
        method,
        dispatcher: agents.get(source),
        headers: {
          authorization: `Bearer ${alice.token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const parsed = (await response.json()) as { error?: { code: string; message: string } };
      if (!response.ok) throw new CliApiError(response.status, parsed.error?.code ?? 'HTTP', parsed.error?.message ?? '');
      return parsed as T;
    };
    const events: PersistEvent[] = [];
    const stop = new AbortController();
    const loop = persistKnocking({
      transport,
      knoc: 'ops',
      signal: stop.signal,
      // A one-hour grant: without the address check the next knock would be 40 minutes away.
      policy: { ...DEFAULT_POLICY, minIntervalMs: 100, baseBackoffMs: 100, maxBackoffMs: 1_000, ipCheckIntervalMs: 100 },
      onEvent: (event) => {
        events.push(event);
      },
    });
    await eventually(() => (events.some((e) => e.kind === 'knocked') ? true : undefined), 'first knock');
    source = '127.0.0.2';
    await eventually(
      () => (events.filter((e) => e.kind === 'knocked').length >= 2 ? true : undefined),
      'a knock from the new address',
    );
    stop.abort();
    await loop;
    await Promise.all([...agents.values()].map((agent) => agent.close()));
    const knocked = events.filter((e): e is Extract<PersistEvent, { kind: 'knocked' }> => e.kind === 'knocked');
    expect(knocked.map((e) => e.response.ip)).toEqual(['127.0.0.1', '127.0.0.2']);
    expect(events).toContainEqual({ kind: 'ip-changed', from: '127.0.0.1', to: '127.0.0.2' });
    // The server ends the old address's grant as `replaced`; only the new address stays on the alias.
    await eventually(
      () => {
        const applied = appliedAddresses(emulator, 'pc_ops');
        return applied.includes('127.0.0.2') && !applied.includes('127.0.0.1') ? true : undefined;
      },
      'the new address applied and the old one gone',
    );
    const old = (await listGrants(world.admin, `knoc_id=${opsId}&user_id=${alice.id}`)).filter((g) => g.ip === '127.0.0.1');
    expect(old.length).toBeGreaterThan(0);
    expect(old.every((g) => g.ended_at !== null)).toBe(true);
    expect(old.map((g) => g.end_reason)).toContain('replaced');
  }, 90_000);
});
