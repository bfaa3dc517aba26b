/**
 * @module Public types of the pfRest emulator: start options, faults, the request log record and the handle
 * `startPfRestEmulator()` returns.
 */
import type { EmulatorCertificate } from '../tls.ts';
import type { LiveViews } from './areas/live.ts';
import type { LiveState, PfRestSettings, PfRestState } from './state.ts';

export interface PfRestEmulatorOptions {
  /** TCP port; 0 (default) picks a free one. */
  port?: number;
  /** Bind address; default 127.0.0.1. */
  host?: string;
  /** How long a filter reload takes (async apply stays pending meanwhile; sync apply blocks). Default 0. */
  applyDelayMs?: number;
  /** The API key to accept (owner: admin, `page-all`); default a random 48-hex-digit key. */
  apiKey?: string;
  /** JSON file the configuration survives restarts in. */
  stateFile?: string;
  /** TLS material; default a fresh self-signed certificate for localhost, 127.0.0.1 and ::1. */
  certificate?: EmulatorCertificate;
}

export const FAULT_KINDS = [
  'status',
  'hang',
  'stall-body',
  'drop',
  'non-json',
  'package-absent',
  'key-auth-disabled',
  'raw',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface FaultSpec {
  kind: FaultKind;
  /** How many matching requests it affects; default 1. */
  times?: number;
  /** For `status`: the HTTP status of the enveloped error (default 500); for `raw`: the status line (default 200). */
  status?: number;
  /** For `raw`: the exact body and content type to answer with (e.g. JSON without the envelope, a login page). */
  body?: string;
  contentType?: string;
  /** Only requests whose path starts with this (e.g. `/api/v2/firewall/alias`). */
  path?: string;
  /** Only requests with this method. */
  method?: string;
}

export interface RequestRecord {
  seq: number;
  time: string;
  method: string;
  path: string;
  query: string;
  /** Which credential kind was presented (never the credential itself). */
  auth: 'key' | 'basic' | 'bearer' | 'none';
  contentType: string | null;
  accept: string | null;
  body: unknown;
  status: number | null;
  responseId: string | null;
  fault: FaultKind | null;
}

export interface PfRestEmulator {
  url: string;
  port: number;
  apiKey: string;
  /** SHA-256 certificate fingerprint, `AA:BB:…`. */
  fingerprint: string;
  /** PEM that trusts the emulator's certificate (use as a CA bundle). */
  caPem: string;
  close(): Promise<void>;
  /** A deep copy of the emulated box (configured aliases, live tables, pending flags, states…). */
  state(): PfRestState;
  requests(): RequestRecord[];
  clearRequests(): void;
  injectFault(fault: FaultSpec): void;
  clearFaults(): void;
  /** Back to a fresh box; the configured API key stays valid. */
  reset(): void;
  /** Issues a key for a new user holding exactly `privileges`; returns the key. */
  addKey(privileges: string[]): string;
  /** Replaces the live state table. */
  setStates(states: LiveState[]): void;
  /** Changes REST API settings the way an admin would in the GUI (e.g. `enabled: false`, `read_only: true`). */
  updateSettings(settings: Partial<PfRestSettings>): void;
  /** Replaces parts of what the box reports (status, leases, ARP, VPN, logs, power); unknown keys throw. */
  setLive(live: Partial<LiveViews>): void;
}
