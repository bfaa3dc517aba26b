/**
 * @module The real server as a child process (`node bin/portcullis.js serve`, the `npm start` command) on a data
 * directory, for end-to-end tests: start, wait for /readyz, sign the owner in, mint an API token, call the API,
 * stop with a signal or `kill -9`. Nothing is mocked; every request goes over loopback.
 */
import { type ChildProcess, spawn } from 'node:child_process';

const root = new URL('../../../', import.meta.url).pathname;

export const E2E_OWNER = { username: 'owner', password: 'e2e owner password 1234' };

/** A hang guard only (cold PGlite start on a shared 2-core machine), not a performance claim. */
const READY_DEADLINE_MS = 180_000;

export interface ServerProcess {
  child: ChildProcess;
  url: string;
  stdout(): string;
  stderr(): string;
  /** SIGINT/SIGTERM (clean stop) or SIGKILL (crash); resolves with the exit code or signal. */
  stop(signal?: NodeJS.Signals): Promise<number | string | null>;
}

export interface SpawnOptions {
  dataDir: string;
  env?: Record<string, string | undefined>;
}

export async function spawnServer({ dataDir, env = {} }: SpawnOptions): Promise<ServerProcess> {
  const childEnv: NodeJS.ProcessEnv = {
    ...process.env,
    PORTCULLIS_DATA_DIR: dataDir,
    PORTCULLIS_PORT: '0',
    PORTCULLIS_LOG_LEVEL: 'info',
    PORTCULLIS_BOOTSTRAP_ADMIN: `${E2E_OWNER.username}:${E2E_OWNER.password}`,
    PORTCULLIS_AUTH_CACHE_TTL: '0',
  };
  delete childEnv.PORTCULLIS_DATABASE_URL;
  for (const [key, value] of Object.entries(env)) {
    if (value === undefined) delete childEnv[key];
    else childEnv[key] = value;
  }
  const child = spawn(process.execPath, ['bin/portcullis.js', 'serve'], {
    cwd: root,
    env: childEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout?.on('data', (chunk) => {
    out += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    err += chunk;
  });
  const exited = new Promise<number | string | null>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal)),
  );
  const stop = (signal: NodeJS.Signals = 'SIGTERM') => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    return exited;
  };
  const deadline = Date.now() + READY_DEADLINE_MS;
  while (Date.now() < deadline) {
    const url = /"url":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(out)?.[1];
    if (url) {
      const ready = await fetch(`${url}/readyz`).catch(() => null);
      if (ready?.status === 200) return { child, url, stdout: () => out, stderr: () => err, stop };
    }
    if (child.exitCode !== null) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await stop('SIGKILL');
  throw new Error(`server not ready within ${READY_DEADLINE_MS} ms\nstdout:\n${out}\nstderr:\n${err}`);
}

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
    what: string,
  ) {
    super(`${what} → ${status} ${JSON.stringify(body)}`);
  }
}

/** A JSON API client with either a bearer token or a session cookie + CSRF token. */
export interface ApiCaller {
  call<T = unknown>(method: string, path: string, body?: unknown): Promise<T>;
  /** Like `call` but returns status and body instead of throwing on non-2xx. */
  raw(method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }>;
}

export function caller(
  baseUrl: string,
  auth: { token: string } | { cookie: string; csrf: string } | null,
): ApiCaller {
  const headers = (hasBody: boolean): Record<string, string> => ({
    accept: 'application/json',
    ...(hasBody ? { 'content-type': 'application/json' } : {}),
    ...(auth && 'token' in auth ? { authorization: `Bearer ${auth.token}` } : {}),
    ...(auth && 'cookie' in auth ? { cookie: auth.cookie, 'x-csrf-token': auth.csrf } : {}),
  });
  const raw: ApiCaller['raw'] = async (method, path, body) => {
    const response = await fetch(`${baseUrl}${path}`, {
      method,
      headers: headers(body !== undefined),
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, body: text ? (JSON.parse(text) as unknown) : null };
  };
  return {
    raw,
    async call<T>(method: string, path: string, body?: unknown): Promise<T> {
      const { status, body: answer } = await raw(method, path, body);
      if (status < 200 || status > 299) throw new HttpError(status, answer, `${method} ${path}`);
      return answer as T;
    },
  };
}

/**
 * Signs in with a password (`/api/v1/auth/login` or `/api/v1/portal/login`); returns every cookie it set (as one
 * `Cookie` header), the CSRF token and the response body.
 */
export async function signIn(
  baseUrl: string,
  username: string,
  password: string,
  path = '/api/v1/auth/login',
): Promise<{ cookie: string; csrf: string; body: Record<string, unknown> }> {
  const response = await fetch(`${baseUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  const body = (await response.json()) as Record<string, unknown>;
  if (response.status !== 200) throw new HttpError(response.status, body, `POST ${path}`);
  const cookies = response.headers.getSetCookie().map((c) => c.split(';')[0] as string);
  if (cookies.length === 0) throw new Error(`${path} set no cookie`);
  const csrf = typeof body.csrf_token === 'string' ? body.csrf_token : '';
  return { cookie: cookies.join('; '), csrf, body };
}

/** The owner's API token on a freshly started server (signs in, creates a token). */
export async function ownerToken(baseUrl: string): Promise<string> {
  const session = await signIn(baseUrl, E2E_OWNER.username, E2E_OWNER.password);
  const created = await caller(baseUrl, session).call<{ token: string }>('POST', '/api/v1/auth/tokens', {
    name: `e2e-${Date.now()}`,
  });
  return created.token;
}

/** Polls `probe` every `everyMs` until it returns a value other than undefined (a hang guard, not a timing claim). */
export async function eventually<T>(
  probe: () => Promise<T | undefined> | T | undefined,
  what: string,
  { timeoutMs = 60_000, everyMs = 50 } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
  throw new Error(`timed out waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`);
}
