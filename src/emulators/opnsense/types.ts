/**
 * @module Public types of the OPNsense emulator: start options, version profiles, keys, faults, the request log
 * record and the handle `startOpnsenseEmulator()` returns (docs/reference/opnsense-api.md §8).
 */
import type { EmulatorCertificate } from '../tls.ts';
import type { OpnBox, PfState } from './state.ts';

/**
 * Firmware profiles: what differs between them is the savepoint/rollback protocol (§4) and the interface assignment
 * API (docs/reference/brain-l3.md §7): none before 26.7, device and description only in 26.7, the interface
 * configuration with addresses on the development line `27.1.a_161` (opnsense/core master f95e81516e, 27.1.a-161).
 */
export const VERSION_PROFILES = ['24.7', '26.1.11', '26.7', '27.1.a_161'] as const;
export type VersionProfile = (typeof VERSION_PROFILES)[number];

export interface OpnKeySpec {
  key: string;
  secret: string;
  /** The user the key belongs to; default `root` for the first key, `api<N>` for others. */
  user?: string;
  /** ACL privilege names (e.g. `page-firewall-alias-edit`) or raw URL patterns (`api/firewall/alias/*`); default `page-all`. */
  privileges?: string[];
  /** The user holds `user-config-readonly` (§1). */
  readOnly?: boolean;
}

export interface OpnsenseEmulatorOptions {
  /** Bind address; default 127.0.0.1. */
  host?: string;
  /** TCP port; 0 (default) picks a free one. */
  port?: number;
  /** Firmware profile; default `26.1.11`. */
  version?: VersionProfile;
  /** API keys; default one random admin key (`page-all`). */
  keys?: OpnKeySpec[];
  /** How long a filter reload / alias reconfigure takes (the request blocks meanwhile, as configd does). Default 0. */
  applyDelayMs?: number;
  /** JSON file the configuration and the config history survive restarts in. */
  stateFile?: string;
  /** HTTPS (default) or plain HTTP. */
  tls?: boolean;
  /** TLS material; default a fresh self-signed certificate. */
  certificate?: EmulatorCertificate;
  /** "Firewall Maximum Table Entries" (§7); default 1,000,000. */
  tableEntriesLimit?: number;
  /** Config backups kept (System > Configuration > History); default 60. */
  backupCount?: number;
  /** Start time of the emulated clock (epoch ms); default the real time. */
  startTime?: number;
  /** `/var/run/development` present: a PHP error's 500 carries the real message and a trace (§2). */
  developmentMode?: boolean;
}

export const FAULT_KINDS = ['status', 'hang', 'drop', 'bad-body', 'raw', 'user-exception'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface FaultSpec {
  kind: FaultKind;
  /** How many matching requests it affects; default 1. */
  times?: number;
  /** `status`: HTTP status (default 500) with OPNsense's generic error body; `raw`: the status line (default 200). */
  status?: number;
  /** `raw`: the exact body; `user-exception`: the errorMessage. */
  body?: string;
  contentType?: string;
  /** `user-exception`: the errorTitle. */
  title?: string;
  /** Only requests whose path starts with this (e.g. `/api/firewall/alias_util`). */
  path?: string;
  /** Only requests with this method. */
  method?: string;
}

export interface RequestRecord {
  seq: number;
  /** Emulated clock, ISO. */
  time: string;
  method: string;
  path: string;
  query: string;
  /** The API key presented (never the secret); null without Basic credentials. */
  key: string | null;
  contentType: string | null;
  body: unknown;
  status: number | null;
  fault: FaultKind | null;
}

export interface OpnsenseEmulator {
  url: string;
  port: number;
  /** SHA-256 certificate fingerprint `AA:BB:…` (empty with `tls: false`). */
  fingerprint: string;
  /** PEM that trusts the certificate (empty with `tls: false`). */
  caPem: string;
  /** The first key (admin unless `keys` says otherwise). */
  credentials: { key: string; secret: string };
  version: VersionProfile;
  close(): Promise<void>;
  /** A deep copy of the box: config, config history, runtime pf tables and ruleset, states, rollback timer, clock. */
  state(): OpnBox;
  /** Moves the emulated clock; fires the rollback timer when due. */
  advance(ms: number): void;
  /** Emulated epoch ms. */
  now(): number;
  /** Runtime rebuilt from config: managed tables reloaded, external tables emptied, states dropped, timers gone. */
  reboot(): void;
  /** `filter reload`: ruleset and managed tables from config (external tables kept). */
  restartFirewall(): void;
  fault(spec: FaultSpec): void;
  clearFaults(): void;
  requests(): RequestRecord[];
  clearRequests(): void;
  /** Replaces the pf state table. */
  setStates(states: Array<Partial<PfState> & { src_addr: string; dst_addr: string }>): void;
  /** Adds a key at run time. */
  addKey(spec: OpnKeySpec): void;
  /** Appends firewall log lines / IDS alerts (rows as the API returns them). */
  addLog(rows: Array<Record<string, unknown>>): void;
  addAlerts(rows: Array<Record<string, unknown>>): void;
}
