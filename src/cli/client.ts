/**
 * @module A small HTTP client for CLI commands that talk to a running server: `--url` / `PORTCULLIS_URL`
 * (default http://127.0.0.1:8080) and `--token` / `PORTCULLIS_TOKEN` (an API token, sent as a bearer).
 *
 * API errors come back as `CliApiError` carrying the server's stable code; `runCli()` prints them as one
 * line on stderr (or the JSON envelope with `--json`) and exits 1, so scripts can rely on both.
 */
import { cliEnvironment } from '../config.ts';
interface ConnectionOptions {
  url?: string;
  token?: string;
}

export class CliApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field: string | null = null,
  ) {
    super(message);
    this.name = 'CliApiError';
  }
}

export class ApiClient {
  readonly baseUrl: string;
  readonly #token: string;

  constructor(options: ConnectionOptions, env: NodeJS.ProcessEnv = process.env) {
    const fromEnv = cliEnvironment(env);
    this.baseUrl = options.url?.replace(/\/+$/, '') ?? fromEnv.url;
    const token = options.token ?? fromEnv.token;
    if (!token) {
      throw new CliApiError(
        0,
        'PC_CLI_NO_TOKEN',
        'An API token is needed: pass --token or set PORTCULLIS_TOKEN.',
      );
    }
    this.#token = token;
  }

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    let response: Response;
    try {
      response = await fetch(`${this.baseUrl}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${this.#token}`,
          accept: 'application/json',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
      throw new CliApiError(0, 'PC_CLI_UNREACHABLE', `Cannot reach ${this.baseUrl} (${cause}).`);
    }
    const text = await response.text();
    const parsed = text ? (JSON.parse(text) as unknown) : undefined;
    if (!response.ok) {
      const error = (parsed as { error?: { code?: string; message?: string; field?: string | null } })?.error;
      throw new CliApiError(
        response.status,
        error?.code ?? `HTTP_${response.status}`,
        error?.message ?? response.statusText,
        error?.field ?? null,
      );
    }
    return parsed as T;
  }
}

/** Help texts of the connection options every server-talking command declares. */
export const OPTION_HELP = {
  url: 'server URL (default $PORTCULLIS_URL or http://127.0.0.1:8080)',
  token: 'API token (default $PORTCULLIS_TOKEN)',
  json: 'print machine-readable JSON',
} as const;

/** Runs a CLI action, turning failures into one stderr line (or a JSON envelope) and exit code 1. */
export async function runCli(json: boolean | undefined, action: () => Promise<void>): Promise<void> {
  try {
    await action();
  } catch (err) {
    const e =
      err instanceof CliApiError
        ? err
        : new CliApiError(0, 'PC_CLI_ERROR', err instanceof Error ? err.message : String(err));
    if (json) {
      process.stderr.write(
        `${JSON.stringify({ error: { code: e.code, message: e.message, field: e.field } })}\n`,
      );
    } else {
      process.stderr.write(`error: ${e.message} (${e.code}${e.field ? `, field ${e.field}` : ''})\n`);
    }
    process.exitCode = 1;
  }
}
