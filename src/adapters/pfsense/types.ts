/**
 * @module pfSense adapter types: connection options and the typed results of its pfSense-specific reads.
 */
import type { LookupFunction } from 'node:net';
import type { BreakerOptions, HttpTimeouts, RetryOptions, TlsTrust } from '../http.ts';
import type { ApplyOptions, DeviceAlias } from '../types.ts';

export type { ApplyOptions };

export interface AdapterLogger {
  debug(obj: Record<string, unknown>, msg: string): void;
  warn(obj: Record<string, unknown>, msg: string): void;
}

export interface PfSenseAdapterOptions {
  /** Base URL with scheme, e.g. `https://fw.example.net` or `https://10.0.0.1:8443/` (trailing slash fine). */
  url: string;
  apiKey: string;
  /** TLS trust; default the system CAs. */
  tls?: TlsTrust;
  timeouts?: Partial<HttpTimeouts>;
  retry?: Partial<RetryOptions>;
  breaker?: Partial<BreakerOptions>;
  /** Stable gateway id: adapters created for the same id share one circuit breaker. */
  gatewayKey?: string;
  apply?: Partial<ApplyOptions>;
  /** Whether `createAlias` may create a missing alias (needs `api-v2-firewall-alias-post`). Default true. */
  allowCreateAlias?: boolean;
  logger?: AdapterLogger;
  /** Name resolution for connections (e.g. the SSRF-guarded lookup). */
  lookup?: LookupFunction;
}

/** An alias as listed, with its current position id (valid only until the next write on the gateway). */
export interface PfSenseAlias extends DeviceAlias {
  id: number;
}

export interface PfSenseRule {
  /** List position (shifts); use `tracker` as the stable identity. */
  id: number;
  tracker: number;
  type: 'pass' | 'block' | 'reject';
  interface: string[];
  ipprotocol: string;
  protocol: string | null;
  source: string;
  sourcePort: string | null;
  destination: string;
  destinationPort: string | null;
  descr: string;
  disabled: boolean;
  log: boolean;
  floating: boolean;
  quick: boolean | null;
  direction: string | null;
}

export interface PfSenseInterface {
  /** pfSense interface id: `wan`, `lan`, `opt1`… */
  id: string;
  /** The real NIC, e.g. `igb0`. */
  if: string;
  descr: string;
  enable: boolean;
  ipaddr: string | null;
  subnet: number | null;
}
