/**
 * @module Several real server processes (`node bin/portcullis.js serve`) on one fresh PostgreSQL database,
 * pointing at one pfRest emulator run by the caller: the harness of the multi-node test and the scale benchmark.
 * Each node is a child process with its own data directory; all share the keyring (PORTCULLIS_SECRET_KEYS), so a
 * gateway key sealed by one node opens on every other.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '../..');
const READY_DEADLINE_MS = 60_000;

export const OWNER = { username: 'admin', password: 'cluster-Test-password-42!' };

export interface ClusterNodeProcess {
  name: string;
  child: ChildProcess;
  url: string;
  pid: number;
  /** Parsed JSON log lines written so far. */
  logs(): Record<string, unknown>[];
  stderr(): string;
}

export interface ClusterOptions {
  databaseUrl: string;
  leaseSeconds: number;
  extraEnv?: NodeJS.ProcessEnv;
}

export class TestCluster {
  readonly nodes: ClusterNodeProcess[] = [];
  private readonly dirs: string[] = [];
  private readonly keys = JSON.stringify({ active: 'k1', keys: { k1: randomBytes(32).toString('base64') } });

  constructor(private readonly options: ClusterOptions) {}

  /** Starts one more node and waits until it answers `/readyz`. */
  async start(name: string): Promise<ClusterNodeProcess> {
    const dataDir = mkdtempSync(join(tmpdir(), `portcullis-${name}-`));
    this.dirs.push(dataDir);
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      PORTCULLIS_DATABASE_URL: this.options.databaseUrl,
      PORTCULLIS_DATA_DIR: dataDir,
      PORTCULLIS_HOST: '127.0.0.1',
      PORTCULLIS_PORT: '0',
      PORTCULLIS_LOG_LEVEL: 'info',
      PORTCULLIS_BOOTSTRAP_ADMIN: `${OWNER.username}:${OWNER.password}`,
      PORTCULLIS_SECRET_KEYS: this.keys,
      PORTCULLIS_ALLOW_GATEWAY_HOSTS: '127.0.0.1',
      PORTCULLIS_CLUSTER_LEASE_SECONDS: String(this.options.leaseSeconds),
      PORTCULLIS_JOBS: 'off',
      PORTCULLIS_LAB: 'off',
      PORTCULLIS_SCRYPT_LOG_N: '14',
      ...this.options.extraEnv,
    };
    const child = spawn(process.execPath, ['bin/portcullis.js', 'serve'], {
      cwd: root,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    const parsed: Record<string, unknown>[] = [];
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
      let newline = out.indexOf('\n');
      while (newline >= 0) {
        const line = out.slice(0, newline);
        out = out.slice(newline + 1);
        try {
          parsed.push(JSON.parse(line) as Record<string, unknown>);
        } catch {
          // not a log line
        }
        newline = out.indexOf('\n');
      }
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      err += chunk.toString('utf8');
    });
    const deadline = Date.now() + READY_DEADLINE_MS;
    while (Date.now() < deadline) {
      const ready = parsed.find((line) => line.msg === 'portcullis ready');
      if (typeof ready?.url === 'string') {
        const node: ClusterNodeProcess = {
          name,
          child,
          url: ready.url,
          pid: child.pid as number,
          logs: () => parsed,
          stderr: () => err,
        };
        this.nodes.push(node);
        return node;
      }
      if (child.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    child.kill('SIGKILL');
    throw new Error(`node ${name} not ready\nstderr:\n${err}\nlogs:\n${JSON.stringify(parsed.slice(-20))}`);
  }

  /** Stops every node still running (SIGTERM, then SIGKILL), and removes the data directories. */
  async stop(): Promise<void> {
    await Promise.all(
      this.nodes.map(
        (node) =>
          new Promise<void>((done) => {
            if (node.child.exitCode !== null || node.child.signalCode !== null) return done();
            const force = setTimeout(() => node.child.kill('SIGKILL'), 10_000);
            node.child.once('exit', () => {
              clearTimeout(force);
              done();
            });
            node.child.kill('SIGTERM');
          }),
      ),
    );
    for (const dir of this.dirs) rmSync(dir, { recursive: true, force: true });
  }
}

/** A signed-in API client of one node (session cookie + CSRF header). */
export interface Session {
  cookie: string;
  csrf: string;
}

export async function signIn(url: string, credentials = OWNER): Promise<Session> {
  const res = await fetch(`${url}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(credentials),
  });
  if (res.status !== 200) throw new Error(`sign-in failed: ${res.status} ${await res.text()}`);
  const cookie = /pc_session=([^;]+)/.exec(res.headers.get('set-cookie') ?? '')?.[1];
  const body = (await res.json()) as { csrf_token: string };
  if (cookie === undefined) throw new Error('no session cookie');
  return { cookie, csrf: body.csrf_token };
}

export async function call(
  url: string,
  auth: Session | { token: string },
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const headers: Record<string, string> = {};
  if ('token' in auth) headers.authorization = `Bearer ${auth.token}`;
  else {
    headers.cookie = `pc_session=${auth.cookie}`;
    headers['x-csrf-token'] = auth.csrf;
  }
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${url}${path}`, {
    method,
    headers,
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

export async function expectCall(
  url: string,
  auth: Session | { token: string },
  method: string,
  path: string,
  body: unknown,
  status: number,
): Promise<Record<string, unknown>> {
  const res = await call(url, auth, method, path, body);
  if (res.status !== status) throw new Error(`${method} ${path}: expected ${status}, got ${res.status} ${JSON.stringify(res.json)}`);
  return res.json;
}

export interface NodeLeases {
  id: string;
  pid: string;
  alive: boolean;
  leases: { alias_name: string; acquired_at: string }[];
}

/** The cluster as one node sees it. */
export async function clusterNodes(url: string, auth: Session | { token: string }): Promise<NodeLeases[]> {
  const res = await expectCall(url, auth, 'GET', '/api/v1/cluster/nodes', undefined, 200);
  return res.items as NodeLeases[];
}

/** Polls `check` every 50 ms until it returns a value (not undefined) or `timeoutMs` passes. */
export async function waitFor<T>(check: () => Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
