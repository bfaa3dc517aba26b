/**
 * @module The one configuration module: every `PORTCULLIS_*` environment variable is listed in `ENV_VARS`
 * and parsed there, once, typed and validated (docs/adr/0112-one-source-per-setting.md). Nothing else reads
 * `process.env`; modules get their values from `loadConfig` (the server) or `cliEnvironment` (CLI commands).
 *
 * Every variable is optional; a bad value fails fast with a `ConfigError` naming the variable, never echoing
 * the value of a secret-bearing one (the database URL may carry a password, the keyring JSON is the keys).
 * docs/api.md lists the same variables (test/server/config.test.ts checks both directions).
 */
import path from 'node:path';
import type { AdapterTuning } from './adapters/registry.ts';
import type { BackoffPolicy } from './access/reconciler.ts';
import { parseTrustedProxies } from './net/client-ip.ts';
import type { Cidr } from './net/ip.ts';
import { type HostAllowList, parseHostAllowList } from './net/ssrf.ts';
import { normalizeFingerprint, parseSyslogUrl, type SyslogTarget } from './audit/syslog.ts';

type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/** The access runtime's settings. */
export interface AccessSettings {
  /** `PORTCULLIS_ALLOW_GATEWAY_HOSTS`. */
  allowHosts: HostAllowList;
  /** `PORTCULLIS_TRUST_PROXY` as CIDRs (`true` trusts every peer). */
  trustedProxies: Cidr[];
  /** `PORTCULLIS_RECONCILE_INTERVAL_SECONDS` × 1000 (default 5 min); null disables the periodic run. */
  reconcileIntervalMs: number | null;
  /** Retry backoff of failed runs (tests shorten it). */
  backoff?: Partial<BackoffPolicy>;
  adapter?: AdapterTuning;
  /**
   * `PORTCULLIS_CLUSTER_LEASE_SECONDS` × 1000 (default 15 s): how long a node holds a (gateway, alias) without
   * renewing it, so how soon another node takes over from a dead one (docs/scale-out.md).
   */
  leaseMs?: number;
}

export interface ServerConfig {
  host: string;
  port: number;
  /** Where PGlite keeps its files (and the secrets key file). */
  dataDir: string;
  /** `postgres://…` selects PostgreSQL instead of the embedded PGlite. */
  databaseUrl: string | undefined;
  logLevel: LogLevel;
  /** Fastify's `trustProxy`, from the same parse as `access.trustedProxies`: false, true, or the CIDRs. */
  trustProxy: boolean | string[];
  /** Mark the session cookie `Secure` even when this process serves plain HTTP (TLS terminated in front). */
  secureCookies: boolean;
  /** Largest accepted request body, in bytes. */
  bodyLimit: number;
  /** Session lifetime in seconds. */
  sessionTtlSeconds: number;
  /** How long a resolved session/token may be reused without a store lookup (0 disables; ADR 0013). */
  authCacheTtlSeconds: number;
  access: AccessSettings;
  /** `PORTCULLIS_ALLOW_WEBHOOK_HOSTS`: hosts/CIDRs the SSRF guard lets through as webhook receivers. */
  webhookAllowHosts: HostAllowList;
  /** `PORTCULLIS_SCRYPT_LOG_N`: scrypt cost of new password hashes. */
  scryptLogN: number;
  /** `PORTCULLIS_LAB`: whether the emulated lab may start. */
  labEnabled: boolean;
  /** `PORTCULLIS_LAB_VENDORS`: the vendor ids whose emulators the lab starts (null: the lab's default). */
  labVendors: string[] | null;
  /** `PORTCULLIS_JOBS`: whether `serve` runs the background job runner (sync, health poll, logs; src/jobs). */
  jobsEnabled: boolean;
  /** `PORTCULLIS_BOOTSTRAP_ADMIN`: the first owner's login, or null for `admin` with a random password. */
  bootstrapAdmin: { username: string; password: string } | null;
  /** `PORTCULLIS_SECRET_KEYS`: keyring JSON (checked by the keyring), or null to use `<dataDir>/keys.json`. */
  secretKeys: string | null;
  /** `PORTCULLIS_READ_ONLY`: live writes are only staged, never applied (the first gate; `force` cannot override). */
  readOnly: boolean;
  /** `PORTCULLIS_MAX_PENDING_CHANGES`: open (pending or applying) changes an organisation may hold. */
  maxPendingChanges: number;
  /** `PORTCULLIS_LOCAL_LOGIN`: whether sign-in with username and password (+ TOTP) is allowed (docs/sso.md). */
  localLogin: boolean;
  /** `PORTCULLIS_PUBLIC_URL`: the origin browsers and identity providers reach us at, or null for the request's. */
  publicUrl: string | null;
  /** `PORTCULLIS_SYSLOG_*`: where audit events also go as syslog (docs/audit.md); null when not configured. */
  syslog: SyslogSettings | null;
}

/** The audit syslog target (src/audit/syslog.ts). */
export interface SyslogSettings {
  /** From `PORTCULLIS_SYSLOG_URL` and `PORTCULLIS_SYSLOG_TLS_FINGERPRINT`. */
  target: SyslogTarget;
  /** `PORTCULLIS_SYSLOG_CA_FILE`: PEM file of the collector's CA (TLS), read when the forwarder starts. */
  caFile: string | null;
  /** `PORTCULLIS_SYSLOG_FACILITY`, 0–23 (default 13, log audit). */
  facility: number;
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

type Raw = string | undefined;
const unset = (raw: Raw): raw is undefined | '' => raw === undefined || raw === '';

function integer(name: string, fallback: number, min: number, max: number) {
  return (raw: Raw): number => {
    if (unset(raw)) return fallback;
    if (!/^\d+$/.test(raw)) throw new ConfigError(name, `must be a whole number, got "${raw}"`);
    const value = Number(raw);
    if (value < min || value > max) throw new ConfigError(name, `must be between ${min} and ${max}`);
    return value;
  };
}

function boolean(name: string, fallback: boolean) {
  return (raw: Raw): boolean => {
    const value = raw?.trim().toLowerCase();
    if (unset(value)) return fallback;
    if (['1', 'true', 'yes', 'on'].includes(value)) return true;
    if (['0', 'false', 'no', 'off'].includes(value)) return false;
    throw new ConfigError(name, 'must be true or false');
  };
}

/** Wraps a parser that throws plain `Error`s ("VARIABLE: …") into a `ConfigError`. */
function named<T>(name: string, parse: (raw: Raw) => T) {
  return (raw: Raw): T => {
    try {
      return parse(raw);
    } catch (err) {
      if (err instanceof ConfigError) throw err;
      const message = (err as Error).message;
      throw new ConfigError(name, message.startsWith(`${name}: `) ? message.slice(name.length + 2) : message);
    }
  };
}

/** `true` trusts every peer, `false`/unset none, else a comma list of CIDRs or addresses. */
function trustedProxies(raw: Raw): { cidrs: Cidr[]; fastify: boolean | string[] } {
  if (unset(raw) || raw === 'false') return { cidrs: [], fastify: false };
  if (raw === 'true') return { cidrs: parseTrustedProxies('0.0.0.0/0,::/0'), fastify: true };
  const cidrs = parseTrustedProxies(raw);
  return {
    cidrs,
    fastify: raw
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  };
}

/** Every variable with its one parser; `cli` ones are read only by CLI commands. */
const ENV_VARS = {
  PORTCULLIS_HOST: { scope: 'server', parse: (raw: Raw) => (unset(raw) ? '127.0.0.1' : raw) },
  PORTCULLIS_PORT: { scope: 'server', parse: integer('PORTCULLIS_PORT', 8080, 0, 65535) },
  PORTCULLIS_DATA_DIR: { scope: 'server', parse: (raw: Raw) => path.resolve(unset(raw) ? './data' : raw) },
  PORTCULLIS_DATABASE_URL: {
    scope: 'server',
    parse: (raw: Raw): string | undefined => {
      if (unset(raw)) return undefined;
      if (!/^postgres(ql)?:\/\//.test(raw)) {
        throw new ConfigError('PORTCULLIS_DATABASE_URL', 'must start with postgres:// or postgresql://');
      }
      return raw;
    },
  },
  PORTCULLIS_LOG_LEVEL: {
    scope: 'server',
    parse: (raw: Raw): LogLevel => {
      const level = (unset(raw) ? 'info' : raw) as LogLevel;
      if (!LOG_LEVELS.includes(level)) {
        throw new ConfigError('PORTCULLIS_LOG_LEVEL', `must be one of ${LOG_LEVELS.join(', ')}`);
      }
      return level;
    },
  },
  PORTCULLIS_TRUST_PROXY: { scope: 'server', parse: named('PORTCULLIS_TRUST_PROXY', trustedProxies) },
  PORTCULLIS_SECURE_COOKIES: { scope: 'server', parse: boolean('PORTCULLIS_SECURE_COOKIES', false) },
  PORTCULLIS_BODY_LIMIT: {
    scope: 'server',
    parse: integer('PORTCULLIS_BODY_LIMIT', 1024 * 1024, 1024, 64 * 1024 * 1024),
  },
  PORTCULLIS_SESSION_TTL: {
    scope: 'server',
    parse: integer('PORTCULLIS_SESSION_TTL', 12 * 3600, 60, 30 * 24 * 3600),
  },
  PORTCULLIS_AUTH_CACHE_TTL: { scope: 'server', parse: integer('PORTCULLIS_AUTH_CACHE_TTL', 5, 0, 300) },
  PORTCULLIS_ALLOW_GATEWAY_HOSTS: {
    scope: 'server',
    parse: named('PORTCULLIS_ALLOW_GATEWAY_HOSTS', (raw: Raw) => parseHostAllowList(raw)),
  },
  PORTCULLIS_ALLOW_WEBHOOK_HOSTS: {
    scope: 'server',
    parse: named('PORTCULLIS_ALLOW_WEBHOOK_HOSTS', (raw: Raw) => parseHostAllowList(raw)),
  },
  PORTCULLIS_RECONCILE_INTERVAL_SECONDS: {
    scope: 'server',
    parse: (raw: Raw): number | null => {
      if (unset(raw)) return 300_000;
      if (!/^\d+$/.test(raw) || Number(raw) > 86_400) {
        throw new ConfigError(
          'PORTCULLIS_RECONCILE_INTERVAL_SECONDS',
          'must be a whole number of seconds, 0 (off) to 86400',
        );
      }
      return Number(raw) === 0 ? null : Number(raw) * 1_000;
    },
  },
  PORTCULLIS_CLUSTER_LEASE_SECONDS: {
    scope: 'server',
    parse: integer('PORTCULLIS_CLUSTER_LEASE_SECONDS', 15, 2, 300),
  },
  PORTCULLIS_SCRYPT_LOG_N: { scope: 'server', parse: integer('PORTCULLIS_SCRYPT_LOG_N', 17, 14, 20) },
  PORTCULLIS_LAB: { scope: 'server', parse: boolean('PORTCULLIS_LAB', true) },
  PORTCULLIS_LAB_VENDORS: {
    scope: 'server',
    parse: (raw: Raw): string[] | null => {
      if (unset(raw) || raw.trim() === '') return null;
      const ids = [...new Set(raw.split(',').map((id) => id.trim().toLowerCase()).filter(Boolean))];
      const bad = ids.find((id) => !/^[a-z0-9_]{1,40}$/.test(id));
      if (bad !== undefined) throw new ConfigError('PORTCULLIS_LAB_VENDORS', `"${bad}" is not a vendor id`);
      return ids;
    },
  },
  PORTCULLIS_JOBS: { scope: 'server', parse: boolean('PORTCULLIS_JOBS', true) },
  PORTCULLIS_BOOTSTRAP_ADMIN: {
    scope: 'server',
    parse: (raw: Raw): { username: string; password: string } | null => {
      if (unset(raw)) return null;
      const colon = raw.indexOf(':');
      if (colon <= 0 || colon === raw.length - 1) {
        throw new ConfigError('PORTCULLIS_BOOTSTRAP_ADMIN', 'must be "username:password"');
      }
      return { username: raw.slice(0, colon), password: raw.slice(colon + 1) };
    },
  },
  PORTCULLIS_SECRET_KEYS: {
    scope: 'server',
    parse: (raw: Raw): string | null => (raw === undefined || raw.trim() === '' ? null : raw),
  },
  // New installs are read-only for live writes (docs/reference/freesdn-firewall-module.md §4, §25).
  PORTCULLIS_READ_ONLY: { scope: 'server', parse: boolean('PORTCULLIS_READ_ONLY', true) },
  PORTCULLIS_MAX_PENDING_CHANGES: {
    scope: 'server',
    parse: integer('PORTCULLIS_MAX_PENDING_CHANGES', 200, 1, 100_000),
  },
  PORTCULLIS_SYSLOG_URL: {
    scope: 'server',
    parse: named('PORTCULLIS_SYSLOG_URL', (raw: Raw) => (unset(raw) ? null : parseSyslogUrl(raw))),
  },
  PORTCULLIS_SYSLOG_CA_FILE: {
    scope: 'server',
    parse: (raw: Raw): string | null => (unset(raw) ? null : path.resolve(raw)),
  },
  PORTCULLIS_SYSLOG_TLS_FINGERPRINT: {
    scope: 'server',
    parse: (raw: Raw): string | null => {
      if (unset(raw)) return null;
      const fingerprint = normalizeFingerprint(raw.trim());
      if (fingerprint === null) {
        throw new ConfigError('PORTCULLIS_SYSLOG_TLS_FINGERPRINT', 'must be a SHA-256 fingerprint (64 hex digits, colons allowed)');
      }
      return fingerprint;
    },
  },
  PORTCULLIS_SYSLOG_FACILITY: { scope: 'server', parse: integer('PORTCULLIS_SYSLOG_FACILITY', 13, 0, 23) },
  PORTCULLIS_LOCAL_LOGIN: { scope: 'server', parse: boolean('PORTCULLIS_LOCAL_LOGIN', true) },
  PORTCULLIS_PUBLIC_URL: {
    scope: 'server',
    parse: (raw: Raw): string | null => {
      if (unset(raw)) return null;
      let url: URL;
      try {
        url = new URL(raw);
      } catch {
        throw new ConfigError('PORTCULLIS_PUBLIC_URL', 'must be an absolute http(s) URL');
      }
      if (url.protocol !== 'https:' && url.protocol !== 'http:') {
        throw new ConfigError('PORTCULLIS_PUBLIC_URL', 'must be an absolute http(s) URL');
      }
      return url.origin;
    },
  },
  PORTCULLIS_URL: {
    scope: 'cli',
    parse: (raw: Raw) => (unset(raw) ? 'http://127.0.0.1:8080' : raw).replace(/\/+$/, ''),
  },
  PORTCULLIS_TOKEN: { scope: 'cli', parse: (raw: Raw): string | null => (unset(raw) ? null : raw) },
  PORTCULLIS_GATEWAY_API_KEY: { scope: 'cli', parse: (raw: Raw): string | null => (unset(raw) ? null : raw) },
  PORTCULLIS_GATEWAY_API_SECRET: { scope: 'cli', parse: (raw: Raw): string | null => (unset(raw) ? null : raw) },
  PORTCULLIS_GATEWAY_PASSWORD: { scope: 'cli', parse: (raw: Raw): string | null => (unset(raw) ? null : raw) },
} as const;

type EnvVarName = keyof typeof ENV_VARS;
export const ENV_VAR_NAMES = Object.keys(ENV_VARS) as EnvVarName[];

/** One variable, parsed by its one parser (for modules that take an `env` in tests). */
export function envValue<N extends EnvVarName>(
  name: N,
  env: NodeJS.ProcessEnv = process.env,
): ReturnType<(typeof ENV_VARS)[N]['parse']> {
  return ENV_VARS[name].parse(env[name]) as ReturnType<(typeof ENV_VARS)[N]['parse']>;
}

/** Reads the server configuration; `overrides` (CLI flags) win over the environment. */
export function loadConfig(
  env: NodeJS.ProcessEnv = process.env,
  overrides: Partial<ServerConfig> = {},
): ServerConfig {
  const proxies = envValue('PORTCULLIS_TRUST_PROXY', env);
  const config: ServerConfig = {
    host: envValue('PORTCULLIS_HOST', env),
    port: envValue('PORTCULLIS_PORT', env),
    dataDir: envValue('PORTCULLIS_DATA_DIR', env),
    databaseUrl: envValue('PORTCULLIS_DATABASE_URL', env),
    logLevel: envValue('PORTCULLIS_LOG_LEVEL', env),
    trustProxy: proxies.fastify,
    secureCookies: envValue('PORTCULLIS_SECURE_COOKIES', env),
    bodyLimit: envValue('PORTCULLIS_BODY_LIMIT', env),
    sessionTtlSeconds: envValue('PORTCULLIS_SESSION_TTL', env),
    authCacheTtlSeconds: envValue('PORTCULLIS_AUTH_CACHE_TTL', env),
    access: {
      allowHosts: envValue('PORTCULLIS_ALLOW_GATEWAY_HOSTS', env),
      trustedProxies: proxies.cidrs,
      reconcileIntervalMs: envValue('PORTCULLIS_RECONCILE_INTERVAL_SECONDS', env),
      leaseMs: envValue('PORTCULLIS_CLUSTER_LEASE_SECONDS', env) * 1_000,
    },
    webhookAllowHosts: envValue('PORTCULLIS_ALLOW_WEBHOOK_HOSTS', env),
    scryptLogN: envValue('PORTCULLIS_SCRYPT_LOG_N', env),
    labEnabled: envValue('PORTCULLIS_LAB', env),
    labVendors: envValue('PORTCULLIS_LAB_VENDORS', env),
    jobsEnabled: envValue('PORTCULLIS_JOBS', env),
    bootstrapAdmin: envValue('PORTCULLIS_BOOTSTRAP_ADMIN', env),
    secretKeys: envValue('PORTCULLIS_SECRET_KEYS', env),
    readOnly: envValue('PORTCULLIS_READ_ONLY', env),
    maxPendingChanges: envValue('PORTCULLIS_MAX_PENDING_CHANGES', env),
    syslog: syslogSettings(env),
    localLogin: envValue('PORTCULLIS_LOCAL_LOGIN', env),
    publicUrl: envValue('PORTCULLIS_PUBLIC_URL', env),
  };
  return { ...config, ...Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined)) };
}

/** The syslog variables together: the CA file and the fingerprint only make sense for a `tls://` target. */
function syslogSettings(env: NodeJS.ProcessEnv): SyslogSettings | null {
  const target = envValue('PORTCULLIS_SYSLOG_URL', env);
  const caFile = envValue('PORTCULLIS_SYSLOG_CA_FILE', env);
  const fingerprint = envValue('PORTCULLIS_SYSLOG_TLS_FINGERPRINT', env);
  const facility = envValue('PORTCULLIS_SYSLOG_FACILITY', env);
  if (target === null) {
    if (caFile !== null || fingerprint !== null) {
      throw new ConfigError(caFile !== null ? 'PORTCULLIS_SYSLOG_CA_FILE' : 'PORTCULLIS_SYSLOG_TLS_FINGERPRINT', 'needs PORTCULLIS_SYSLOG_URL');
    }
    return null;
  }
  if (target.protocol !== 'tls' && (caFile !== null || fingerprint !== null)) {
    throw new ConfigError(caFile !== null ? 'PORTCULLIS_SYSLOG_CA_FILE' : 'PORTCULLIS_SYSLOG_TLS_FINGERPRINT', 'applies to a tls:// PORTCULLIS_SYSLOG_URL only');
  }
  return { target: fingerprint === null ? target : { ...target, fingerprint }, caFile, facility };
}

/** What CLI commands that talk to a server or a gateway read from the environment. */
export function cliEnvironment(env: NodeJS.ProcessEnv = process.env) {
  return {
    url: envValue('PORTCULLIS_URL', env),
    token: envValue('PORTCULLIS_TOKEN', env),
    gatewayApiKey: envValue('PORTCULLIS_GATEWAY_API_KEY', env),
    gatewayApiSecret: envValue('PORTCULLIS_GATEWAY_API_SECRET', env),
    gatewayPassword: envValue('PORTCULLIS_GATEWAY_PASSWORD', env),
  };
}
