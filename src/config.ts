/**
 * @module Server configuration from the environment (`PORTCULLIS_*`), validated once at start.
 *
 * Every variable is optional; a bad value fails fast with a message naming the variable, never the value
 * of a secret-bearing one (the database URL may carry a password). `PORTCULLIS_BOOTSTRAP_ADMIN` and
 * `PORTCULLIS_SECRET_KEYS` are read by the bootstrap and the keyring themselves.
 */
import path from 'node:path';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface ServerConfig {
  host: string;
  port: number;
  /** Where PGlite keeps its files (and the secrets key file). */
  dataDir: string;
  /** `postgres://…` selects PostgreSQL instead of the embedded PGlite. */
  databaseUrl: string | undefined;
  logLevel: LogLevel;
  /** Fastify's `trustProxy`: false (default), true, or a comma-separated list of proxy addresses/CIDRs. */
  trustProxy: boolean | string[];
  /** Mark the session cookie `Secure` even when this process serves plain HTTP (TLS terminated in front). */
  secureCookies: boolean;
  /** Largest accepted request body, in bytes. */
  bodyLimit: number;
  /** Session lifetime in seconds. */
  sessionTtlSeconds: number;
  /** How long a resolved session/token may be reused without a store lookup (0 disables; ADR 0013). */
  authCacheTtlSeconds: number;
}

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`);
    this.name = 'ConfigError';
  }
}

const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw)) throw new ConfigError(name, `must be a whole number, got "${raw}"`);
  const value = Number(raw);
  if (value < min || value > max) throw new ConfigError(name, `must be between ${min} and ${max}`);
  return value;
}

function boolean(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean {
  const raw = env[name]?.toLowerCase();
  if (raw === undefined || raw === '') return fallback;
  if (['1', 'true', 'yes', 'on'].includes(raw)) return true;
  if (['0', 'false', 'no', 'off'].includes(raw)) return false;
  throw new ConfigError(name, 'must be true or false');
}

function trustProxy(raw: string | undefined): ServerConfig['trustProxy'] {
  if (raw === undefined || raw === '' || raw === 'false') return false;
  if (raw === 'true') return true;
  return raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

function databaseUrl(raw: string | undefined): string | undefined {
  if (raw === undefined || raw === '') return undefined;
  if (!/^postgres(ql)?:\/\//.test(raw)) {
    throw new ConfigError('PORTCULLIS_DATABASE_URL', 'must start with postgres:// or postgresql://');
  }
  return raw;
}

/** Reads the configuration; `overrides` (CLI flags) win over the environment. */
export function loadConfig(
  env: NodeJS.ProcessEnv = process.env,
  overrides: Partial<ServerConfig> = {},
): ServerConfig {
  const logLevel = (env.PORTCULLIS_LOG_LEVEL ?? 'info') as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new ConfigError('PORTCULLIS_LOG_LEVEL', `must be one of ${LOG_LEVELS.join(', ')}`);
  }
  const config: ServerConfig = {
    host: env.PORTCULLIS_HOST || '127.0.0.1',
    port: integer(env, 'PORTCULLIS_PORT', 8080, 0, 65535),
    dataDir: path.resolve(env.PORTCULLIS_DATA_DIR || './data'),
    databaseUrl: databaseUrl(env.PORTCULLIS_DATABASE_URL),
    logLevel,
    trustProxy: trustProxy(env.PORTCULLIS_TRUST_PROXY),
    secureCookies: boolean(env, 'PORTCULLIS_SECURE_COOKIES', false),
    bodyLimit: integer(env, 'PORTCULLIS_BODY_LIMIT', 1024 * 1024, 1024, 64 * 1024 * 1024),
    sessionTtlSeconds: integer(env, 'PORTCULLIS_SESSION_TTL', 12 * 3600, 60, 30 * 24 * 3600),
    authCacheTtlSeconds: integer(env, 'PORTCULLIS_AUTH_CACHE_TTL', 5, 0, 300),
  };
  return { ...config, ...Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined)) };
}
