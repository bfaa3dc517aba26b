/**
 * @module The PFS error catalog: one stable code per failure class, each with the cause and what to check
 * (docs/pfsense.md lists them). Messages are built from templates and a safe detail only — never a credential.
 */
import { AdapterError } from '../types.ts';

export type PfsCode =
  | 'PFS000'
  | 'PFS001'
  | 'PFS002'
  | 'PFS003'
  | 'PFS004'
  | 'PFS005'
  | 'PFS100'
  | 'PFS101'
  | 'PFS102'
  | 'PFS103'
  | 'PFS200'
  | 'PFS300'
  | 'PFS400'
  | 'PFS500';

interface PfsCatalogEntry {
  title: string;
  /** What the operator should check, appended to every message of this code. */
  check: string;
  retryable: boolean;
}

export const PFS_CATALOG: Readonly<Record<PfsCode, PfsCatalogEntry>> = {
  PFS000: {
    title: 'cannot connect',
    check:
      'Check the gateway URL (scheme, host, port), that the name resolves and the host is reachable from Portcullis, that the webConfigurator listens on that port, and that no firewall rule or sshguard block drops Portcullis.',
    retryable: true,
  },
  PFS001: {
    title: 'authentication failed',
    check:
      'Check that the API key is correct and still exists (System > REST API > Keys), and that KeyAuth is enabled under System > REST API > Settings > Authentication Methods (pfRest enables only BasicAuth by default).',
    retryable: false,
  },
  PFS002: {
    title: 'authorization failed',
    check:
      "Grant the named privilege to the API key's user (System > User Manager > Effective Privileges), or check the REST API access list and allowed interfaces.",
    retryable: false,
  },
  PFS003: {
    title: 'TLS certificate error',
    check:
      "Check the gateway's certificate: trust its CA (PEM bundle), or pin its SHA-256 fingerprint (System > Cert Manager, or `openssl x509 -fingerprint -sha256`), and that the URL's host name is in the certificate and it has not expired.",
    retryable: false,
  },
  PFS004: {
    title: 'timed out',
    check:
      'Check that the gateway is up and not overloaded, that sshguard has not blocked Portcullis after failed logins (Diagnostics > Tables > sshguard), and the connection timeouts.',
    retryable: true,
  },
  PFS005: {
    title: 'pfRest not installed or disabled',
    check:
      'Install pfSense-pkg-RESTAPI built for this pfSense version (a pfSense upgrade removes it; reinstall afterwards) and enable the API under System > REST API > Settings.',
    retryable: false,
  },
  PFS100: {
    title: 'get alias failed',
    check:
      "Check the gateway's system log and the alias under Firewall > Aliases; retry later if the gateway is busy.",
    retryable: false,
  },
  PFS101: {
    title: 'create alias failed',
    check:
      'Check the alias name (letters, digits, underscore, max 31, not reserved), or create the alias by hand under Firewall > Aliases.',
    retryable: false,
  },
  PFS102: {
    title: 'update alias failed',
    check:
      'Check the entries (a host alias takes IPs or FQDNs, a network alias takes CIDRs) and the alias under Firewall > Aliases.',
    retryable: false,
  },
  PFS103: {
    title: 'alias not found',
    check:
      'Create the alias under Firewall > Aliases (type host or network) or allow Portcullis to create it, and check the name in the knoc.',
    retryable: false,
  },
  PFS200: {
    title: 'apply failed, changes left pending',
    check:
      'Check Status > Filter Reload and the system log on the gateway for a failed reload (e.g. a rule that references a missing alias); the changes stay pending until an apply succeeds.',
    retryable: true,
  },
  PFS300: {
    title: 'live read failed',
    check:
      "Check the gateway's system log for the failing endpoint and that the API key's user holds its `-get` privilege; retry later if the gateway is busy.",
    retryable: false,
  },
  PFS400: {
    title: 'invalid or unexpected response',
    check:
      'Check that the URL points at pfSense with pfRest v2 (no proxy or captive portal in between) and that the package version is supported.',
    retryable: false,
  },
  PFS500: {
    title: 'live write failed',
    check:
      "Check the named field against what pfSense accepts, that the object still exists (another admin may have changed it), the API key user's write privilege for that endpoint, and the gateway's system log.",
    retryable: false,
  },
};

/** A pfSense adapter failure. `responseId` is pfRest's `response_id` when the gateway answered with one. */
export class PfSenseError extends AdapterError {
  declare readonly code: PfsCode;
  readonly responseId: string | undefined;
  /** PFS002: the privilege the call needed. */
  readonly privilege: string | undefined;

  constructor(
    code: PfsCode,
    cause: string,
    opts: {
      httpStatus?: number;
      responseId?: string;
      privilege?: string;
      retryable?: boolean;
      cause?: unknown;
      field?: string;
    } = {},
  ) {
    const entry = PFS_CATALOG[code];
    super('pfsense', code, `${code} ${entry.title}: ${cause} ${entry.check}`, {
      retryable: opts.retryable ?? entry.retryable,
      ...(opts.httpStatus === undefined ? {} : { httpStatus: opts.httpStatus }),
      ...(opts.cause === undefined ? {} : { cause: opts.cause }),
      ...(opts.field === undefined ? {} : { field: opts.field }),
    });
    this.name = 'PfSenseError';
    this.responseId = opts.responseId;
    this.privilege = opts.privilege;
  }
}
