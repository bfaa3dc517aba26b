/**
 * @module Public types of the OpenWrt emulator: start options, faults, request log records, and the handle
 * `startOpenWrtEmulator()` returns (docs/reference/openwrt-api.md §8).
 */
import type { EmulatorCertificate } from '../tls.ts';
import type { AclGroup, EmulatorUser } from './acl.ts';
import type { UciConfigs } from './uci.ts';

export interface OpenWrtRelease {
  distribution: string;
  version: string;
  revision: string;
  target: string;
  description: string;
  builddate: string;
}

export interface OpenWrtEmulatorOptions {
  /** Bind address; default 127.0.0.1. */
  host?: string;
  /** TCP port; 0 (default) picks a free one. */
  port?: number;
  /** HTTPS with a fresh self-signed certificate (default true); false serves plain HTTP like uhttpd on :80. */
  tls?: boolean;
  certificate?: EmulatorCertificate;
  /** Logins (`/etc/config/rpcd`); default root (all groups) with `password` or a random one, and `portcullis`. */
  users?: EmulatorUser[];
  /** Extra or replaced ACL groups (`/usr/share/rpcd/acl.d`); merged over unauthenticated, superuser, portcullis. */
  aclGroups?: Record<string, AclGroup>;
  /** Idle session timeout in seconds (rpcd default 300; a login's own `timeout` wins). */
  sessionTimeoutS?: number;
  /** How long after a `uci.commit`/`apply` of `firewall` procd runs `fw4 reload` (ms, default 100). */
  reloadDelayMs?: number;
  /** `system.board` release; default OpenWrt 23.05.5. */
  release?: Partial<OpenWrtRelease>;
  /** JSON file the UCI configuration survives restarts in (runtime nft elements do not, as on a device). */
  stateFile?: string;
  /** `real` (default): emulated time follows the wall clock plus `advance()`; `manual`: only `advance()` moves it. */
  clock?: 'real' | 'manual';
  /** Initial UCI packages (merged over the built-in default `firewall`/`network`/`dhcp`/`system`). */
  config?: UciConfigs;
}

export const FAULT_KINDS = [
  'status',
  'hang',
  'drop',
  'bad-body',
  'ubus-timeout',
  'ubus-status',
  'exec-fail',
  'session-expire',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface FaultSpec {
  kind: FaultKind;
  /** How many matching calls it affects; default 1. */
  times?: number;
  /** `status`: the HTTP status (default 502); `ubus-status`: the ubus status code (default 9); `exec-fail`: exit code (default 1). */
  status?: number;
  /** `bad-body`: the raw body (default an HTML error page); `exec-fail`: stderr. */
  body?: string;
  /** Only calls to this ubus object (e.g. `file`, `uci`). */
  object?: string;
  /** Only calls to this method (e.g. `exec`, `commit`). */
  method?: string;
  /** `exec-fail`: only this executable (e.g. `/usr/sbin/nft`). */
  command?: string;
}

export interface UbusCallRecord {
  /** `call` or `list` (or what the client sent). */
  rpc: string;
  object: string | null;
  method: string | null;
  /** `null`, `00000000…` (the null session) or the first 8 hex of the SID. */
  session: string | null;
  /** Arguments with `password` redacted. */
  args: unknown;
  /** The `result[0]` status, or the JSON-RPC error code. */
  outcome: number | null;
}

export interface RequestRecord {
  seq: number;
  time: string;
  method: string;
  path: string;
  bytes: number;
  calls: UbusCallRecord[];
  status: number | null;
  fault: FaultKind | null;
}

export interface Connection {
  proto: 'tcp' | 'udp' | 'icmp';
  src: string;
  dst: string;
  sport?: number;
  dport?: number;
  bytes?: number;
  packets?: number;
  /** Seconds until conntrack drops it; default 7440 (tcp established). */
  timeout?: number;
}

export interface OpenWrtState {
  now: number;
  bootedAt: number;
  config: UciConfigs;
  staged: Record<string, Record<string, unknown[]>>;
  sessions: Array<{ sid: string; username: string | null; expiresInS: number }>;
  pendingApply: { session: string; configs: string[]; rollbackAt: number } | null;
  pendingReloadAt: number | null;
  firewall: {
    running: boolean;
    sets: Record<string, { type: string; flags: string[]; timeout: number; elements: Array<{ value: string; timeout: number | null; expiresInS: number | null; comment: string | null }> }>;
    lastReloadEntries: Record<string, string[]>;
    reloads: number;
    restarts: number;
  };
  connections: Connection[];
  log: string[];
}

export interface OpenWrtEmulator {
  url: string;
  port: number;
  /** SHA-256 certificate fingerprint `AA:BB:…` (null on plain HTTP). */
  fingerprint: string | null;
  /** PEM that trusts the certificate (null on plain HTTP). */
  caPem: string | null;
  /** The first login (root) and the least-privilege `portcullis` login. */
  credentials: { username: string; password: string };
  users: EmulatorUser[];
  close(): Promise<void>;
  state(): OpenWrtState;
  /** Moves the emulated clock (session expiry, element timeouts, reload delay, apply rollback). */
  advance(ms: number): void;
  /** Power cycle: sessions, staged changes, pending apply, runtime elements and conntrack are lost; uptime resets. */
  reboot(): void;
  /** `/etc/init.d/firewall restart`: the fw4 table is rebuilt from UCI; runtime elements are lost. */
  restartFirewall(): void;
  /** `fw4 reload` now (what procd runs after a firewall commit). */
  reloadFirewall(): void;
  fault(spec: FaultSpec): void;
  clearFaults(): void;
  requests(): RequestRecord[];
  clearRequests(): void;
  addConnection(c: Connection): void;
  /** Appends a syslog line (`log read`, `logread`). */
  addLog(message: string, facility?: string): void;
}
