/**
 * @module The vendor-neutral adapter contract. Every vendor adapter (`src/adapters/<vendor>`) implements
 * `FirewallAdapter`; the access reconciler only needs the `AliasTarget` part of it.
 *
 * An adapter knows its vendor's API and nothing of our database. Failures are `AdapterError`s carrying a
 * stable vendor code family named by the vendor's descriptor (src/adapters/registry.ts).
 */

/** One entry of a firewall alias (address list / set): the address and its per-entry description. */
export interface AliasEntry {
  /** An IP, a CIDR, an FQDN or a port, as the device stores it. */
  address: string;
  /** Per-entry description; Portcullis tags its own entries `portcullis:<grant id>`. */
  detail: string;
  /**
   * When the device itself drops the entry (epoch ms), on vendors with the `native_expiry` flag (RouterOS
   * `timeout`, nft element `timeout`); absent = the entry stays until removed. Adapters without native expiry
   * ignore it on write and never report it on read.
   */
  expiresAt?: number;
}

export interface DeviceAlias {
  name: string;
  /** pfSense: host | network | port (url types are read-only). */
  type: string;
  descr: string;
  entries: AliasEntry[];
}

export interface ApplyResult {
  /** True once the device reports the change live. */
  applied: boolean;
  /** Subsystems still pending after the apply (empty when everything is live). */
  pending: string[];
}

/** What the just-in-time access reconciler needs from a gateway. */
export interface AliasTarget {
  /** The alias by name, or `null` when the device has no alias with that name. Re-resolved every call. */
  getAlias(name: string): Promise<DeviceAlias | null>;
  createAlias(name: string, type: 'host' | 'network', description: string): Promise<void>;
  /** Replaces the whole entry list in one write (addresses and details together). */
  setAliasEntries(name: string, entries: AliasEntry[]): Promise<void>;
  /** Makes pending changes live and confirms it; throws the vendor's apply-failed code when they stay pending. */
  apply(): Promise<ApplyResult>;
  /** Drops the open connections (states) of one address; returns how many were killed. */
  killStates(ip: string): Promise<number>;
}

/** How an adapter waits for staged changes to go live (vendors with the `apply` capability). */
export interface ApplyOptions {
  /** `async` (default): start the apply, then poll until applied; `sync`: one blocking call (docs/adr/0020). */
  mode: 'async' | 'sync';
  /** How long to wait for the changes to be live before the vendor's apply-failed code. */
  deadlineMs: number;
  /** First poll delay; doubles up to 2 s. */
  pollIntervalMs: number;
}

export interface VersionInfo {
  /** Firmware/product version, e.g. pfSense "2.7.2-RELEASE". */
  product: string;
  /** API package version, e.g. pfRest "v2.4.3". */
  api: string;
  raw?: unknown;
}

export interface FirewallAdapter extends AliasTarget {
  /** The vendor id of its descriptor (src/adapters/registry.ts), which holds the tier and capability flags. */
  readonly vendor: string;
  version(): Promise<VersionInfo>;
  /** Warnings about the connection itself (e.g. TLS verification disabled). */
  readonly warnings: string[];
}

/** A typed adapter failure: `code` is the stable vendor code of its family. Never carries credentials. */
export class AdapterError extends Error {
  readonly code: string;
  readonly vendor: string;
  /** Whether retrying later can succeed (connection, timeout, 5xx) as opposed to configuration faults. */
  readonly retryable: boolean;
  readonly httpStatus: number | undefined;
  /** The field of a written body the device refused (live writes), named so a caller can point at it. */
  readonly field: string | undefined;

  constructor(
    vendor: string,
    code: string,
    message: string,
    opts: { retryable?: boolean; httpStatus?: number; cause?: unknown; field?: string } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'AdapterError';
    this.vendor = vendor;
    this.code = code;
    this.retryable = opts.retryable ?? false;
    this.httpStatus = opts.httpStatus;
    this.field = opts.field;
  }
}
