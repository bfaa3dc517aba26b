/**
 * @module Public types of the RouterOS v7 REST emulator: start options, users, faults, the request log record and
 * the handle `startRouterOsEmulator()` returns (docs/reference/routeros-api.md §8).
 */
import type { EmulatorCertificate } from '../tls.ts';
import type { RosState } from './state.ts';

/** A RouterOS user: its group's policies decide what it may do (rest-api, read, write, reboot…). */
export interface RosUser {
  name: string;
  password: string;
  /** Group policies; default the built-in `full` group (every policy). */
  policies?: string[];
}

export interface RouterOsEmulatorOptions {
  /** Bind address; default 127.0.0.1. */
  host?: string;
  /** TCP port; 0 (default) picks a free one. */
  port?: number;
  /** `true` (default): the `www-ssl` service (HTTPS, fresh self-signed certificate); `false`: plain `www`. */
  tls?: boolean;
  /** Users; default one `admin` with a random password and every policy. The first is `credentials`. */
  users?: RosUser[];
  /** How long each request takes to process once it is its turn (the device handles one at a time). Default 0. */
  latencyMs?: number;
  /** `version` of `/system/resource`; default `7.16.2 (stable)`. */
  version?: string;
  /** JSON file persistent configuration survives restarts in (timed address-list entries stay RAM-only). */
  stateFile?: string;
  /** Per-request deadline after which the device answers 400 `Session closed`; default 60 000 ms (wall clock). */
  requestDeadlineMs?: number;
  /** Status of a successful PUT; default 201 (older versions answered 200). */
  putStatus?: 200 | 201;
  /** How long the REST service stays unreachable after `POST /rest/system/reboot` (connections dropped). Default 0. */
  rebootDowntimeMs?: number;
  /** `board-name` of `/system/resource`; default `CCR2004-1G-12S+2XS`. */
  boardName?: string;
  /** `name` of `/system/identity`; default `MikroTik`. */
  identity?: string;
  /** Seed a dynamic built-in rule at the top of `ip/firewall/filter` (the fasttrack counter rule). Default true. */
  dynamicFilterRule?: boolean;
  /** TLS material; default a fresh self-signed certificate for localhost, 127.0.0.1 and ::1. */
  certificate?: EmulatorCertificate;
  /** Wall clock the emulated clock starts from; default `Date.now`. `advance(ms)` adds to it. */
  now?: () => number;
}

export const FAULT_KINDS = [
  'status',
  'hang',
  'drop',
  'html',
  'bad-json',
  'control-chars',
  'session-closed',
  'slow',
  'raw',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface FaultSpec {
  kind: FaultKind;
  /** How many matching requests it affects; default 1. */
  times?: number;
  /** `status`: the HTTP status (default 500), with RouterOS's `{detail?,error,message}` body; `raw`: status line. */
  status?: number;
  /** `status`: the `detail` text (default none). */
  detail?: string;
  /** `slow`: extra processing time in ms (the request still holds the device's single worker). */
  ms?: number;
  /** `raw`: the exact body and content type. */
  body?: string;
  contentType?: string;
  /** Only requests whose path (after `/rest`) starts with this, e.g. `/ip/firewall/address-list`. */
  path?: string;
  /** Only requests with this method. */
  method?: string;
}

export interface RequestRecord {
  seq: number;
  /** Emulated-clock time the request arrived (ISO). */
  time: string;
  method: string;
  /** Path as sent, e.g. `/rest/ip/firewall/address-list/*1`. */
  path: string;
  query: string;
  /** Basic-auth user name presented (never the password), or null. */
  user: string | null;
  body: unknown;
  status: number | null;
  fault: FaultKind | null;
  /** Requests open at the server (arrived, not yet answered) when this one arrived, itself included. */
  inFlightAtArrival: number;
}

export interface NewConnection {
  /** `ip:port` or a bare ip (a port is made up). */
  srcAddress: string;
  dstAddress?: string;
  protocol?: string;
  tcpState?: string;
  /** Remaining conntrack timeout; default `23h59m59s`. */
  timeout?: string;
}

/** A packet a firewall rule with `log=yes` logged; becomes RouterOS's firewall log message. */
export interface FirewallLogPacket {
  prefix?: string;
  chain: string;
  inInterface?: string;
  outInterface?: string;
  connectionState?: string;
  /** `TCP`, `UDP`, `ICMP`… */
  proto: string;
  /** TCP flags shown after the protocol, e.g. `SYN`. */
  flags?: string;
  /** `ip:port` or `ip`. */
  src: string;
  dst: string;
  len?: number;
}

export interface NewLogLine {
  topics?: string;
  /** The message as is; or give `firewall` to have it built in the firewall format. */
  message?: string;
  firewall?: FirewallLogPacket;
}

export interface RouterOsEmulator {
  url: string;
  port: number;
  /** SHA-256 certificate fingerprint `AA:BB:…` (null over plain http). */
  fingerprint: string | null;
  /** PEM that trusts the certificate (null over plain http). */
  caPem: string | null;
  /** The first user's name and password. */
  credentials: { username: string; password: string };
  close(): Promise<void>;
  /** A deep copy of the emulated router after expiring what is due. */
  state(): RosState;
  /** Moves the emulated clock forward (timeouts count down, uptime grows, entries at zero disappear). */
  advance(ms: number): void;
  /**
   * Reboot at once (no downtime): timed and dynamic entries, connections and the log go; persistent configuration
   * stays; uptime 0.
   */
  reboot(): void;
  fault(fault: FaultSpec): void;
  clearFaults(): void;
  requests(): RequestRecord[];
  clearRequests(): void;
  /** The most requests ever open at the same time (arrived and not yet answered). */
  maxInFlight(): number;
  resetMaxInFlight(): void;
  /** Adds a conntrack entry; returns its `.id`. */
  addConnection(conn: NewConnection): string;
  /** Appends a line to `/log`; returns its `.id`. */
  addLog(line: NewLogLine): string;
  /** Adds a user (or replaces one of the same name). */
  addUser(user: RosUser): void;
  /** Adds a dynamic built-in rule at the top of a rule menu (e.g. `ip/firewall/filter`); returns its `.id`. */
  addDynamicRule(menu: string, values: Record<string, string>): string;
  /** Sets read-only counters of a row (interface `rx-byte`, rule `packets`…), as traffic would. */
  setCounters(menu: string, id: string, values: Record<string, string>): void;
}
