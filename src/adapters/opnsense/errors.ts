/**
 * @module The OPN error catalog: one stable code per failure class, each with the cause and what to check
 * (docs/opnsense.md lists them; test/opnsense/catalog-docs.test.ts keeps the two in sync). Messages are built
 * from templates and a safe detail only — never the API key or secret.
 *
 * OPNsense answers many failures with HTTP 200 and `result: failed` / `status: failed` in the body
 * (docs/reference/opnsense-api.md §2): those are errors here too, never successes.
 */
import { AdapterError } from '../types.ts';

export type OpnCode =
  | 'OPN000'
  | 'OPN001'
  | 'OPN002'
  | 'OPN003'
  | 'OPN004'
  | 'OPN005'
  | 'OPN006'
  | 'OPN007'
  | 'OPN008'
  | 'OPN100'
  | 'OPN101'
  | 'OPN102'
  | 'OPN103'
  | 'OPN104'
  | 'OPN200'
  | 'OPN201'
  | 'OPN300'
  | 'OPN301'
  | 'OPN400'
  | 'OPN401'
  | 'OPN500';

interface OpnCatalogEntry {
  title: string;
  /** What the operator should check, appended to every message of this code. */
  check: string;
  retryable: boolean;
}

export const OPN_CATALOG: Readonly<Record<OpnCode, OpnCatalogEntry>> = {
  OPN000: {
    title: 'cannot connect',
    check:
      'Check the gateway URL (scheme, host, port of the web GUI), that the name resolves and the host is reachable from Portcullis, and that no firewall rule on the gateway drops Portcullis (System > Settings > Administration, listen interfaces).',
    retryable: true,
  },
  OPN001: {
    title: 'authentication failed',
    check:
      "Check the API key and secret (System > Access > Users > the user's API keys; the secret is shown only once when the key is created) and that the user is not disabled or expired.",
    retryable: false,
  },
  OPN002: {
    title: 'authorization failed',
    check:
      "Grant the named privilege to the API key's user or its group (System > Access > Users or Groups > Effective Privileges).",
    retryable: false,
  },
  OPN003: {
    title: 'TLS certificate error',
    check:
      "Check the gateway's web GUI certificate (System > Settings > Administration > SSL certificate): trust its CA (PEM bundle) or pin its SHA-256 fingerprint, and that the URL's host name is in the certificate and it has not expired.",
    retryable: false,
  },
  OPN004: {
    title: 'timed out',
    check:
      'Check that the gateway is up and not overloaded (a filter reload with large aliases can take long), and the connection timeouts.',
    retryable: true,
  },
  OPN005: {
    title: 'endpoint not found',
    check:
      'Check that the URL points at the OPNsense web GUI (no path prefix, no proxy) and that the firmware version has this API (26.7 removed the filter savepoint endpoints; some NAT controllers are newer than others).',
    retryable: false,
  },
  OPN006: {
    title: 'request refused as malformed',
    check:
      'OPNsense could not parse the request body (HTTP 400 "Invalid JSON syntax"); check that nothing between Portcullis and the gateway rewrites requests, and use https:// directly (plain http has been seen to break JSON bodies).',
    retryable: false,
  },
  OPN007: {
    title: 'gateway error',
    check:
      "Check the gateway's log (System > Log Files > Backend / General) for the named error; for \"Alias in use\" remove the references first.",
    retryable: true,
  },
  OPN008: {
    title: 'read-only user',
    check:
      'The API key belongs to a user with the "User - Config - Deny change operations" privilege (user-config-readonly); remove it, or use another user for writes.',
    retryable: false,
  },
  OPN100: {
    title: 'get alias failed',
    check:
      "Check the alias under Firewall > Aliases and the gateway's backend log; retry later if the gateway is busy.",
    retryable: false,
  },
  OPN101: {
    title: 'create alias failed',
    check:
      'Check the alias name (starts with a letter or one underscore, letters, digits and underscores, fewer than 32 characters, not a pf keyword, service or protocol name, not taken by another alias or a built-in one), or create the alias by hand under Firewall > Aliases.',
    retryable: false,
  },
  OPN102: {
    title: 'update alias failed',
    check:
      'Check the named field: a host alias takes IPs, ranges or host names, a network alias takes CIDRs; check the alias under Firewall > Aliases.',
    retryable: false,
  },
  OPN103: {
    title: 'alias not found',
    check:
      'Create the alias under Firewall > Aliases (type Host(s) or Network(s)) or allow Portcullis to create it, and check the name in the knoc.',
    retryable: false,
  },
  OPN104: {
    title: 'alias cannot hold addresses',
    check:
      'Portcullis writes Host(s) and Network(s) aliases only; change the alias type under Firewall > Aliases or point the knoc at another alias.',
    retryable: false,
  },
  OPN200: {
    title: 'apply failed',
    check:
      'Check Firewall > Aliases (Apply) or Firewall > Rules and the backend log for a failed filter reload (e.g. "Error loading alias": raise Firewall > Settings > Advanced > Firewall Maximum Table Entries); the configuration is saved but not live until an apply succeeds.',
    retryable: true,
  },
  OPN201: {
    title: 'rollback savepoint failed',
    check:
      'The firmware refused the filter savepoint or its cancel; check the firmware version (System > Firmware) — 26.1.x cannot revert (opnsense/core#10721) and 26.7 removed these endpoints — and the backend log.',
    retryable: false,
  },
  OPN300: {
    title: 'live read failed',
    check:
      "Check the gateway's backend log for the failing endpoint and that the API key's user holds the privilege named for it.",
    retryable: false,
  },
  OPN301: {
    title: 'cannot kill these states',
    check:
      "OPNsense's kill_states strips ':' and '/' from its filter, so only a plain IPv4 address can be matched; kill IPv6 states by hand under Firewall > Diagnostics > States.",
    retryable: false,
  },
  OPN400: {
    title: 'invalid or unexpected response',
    check:
      'Check that the URL points at OPNsense (no proxy or captive portal in between) and that the firmware version is supported (docs/opnsense.md).',
    retryable: false,
  },
  OPN401: {
    title: 'verification failed',
    check:
      'The pf table read back after the apply (Firewall > Diagnostics > Aliases) differs from what was written: check for another writer of the alias, a failed reload in the backend log, and the table-entries limit.',
    retryable: true,
  },
  OPN500: {
    title: 'live write failed',
    check:
      "Check the named field against what OPNsense accepts, that the object still exists (another admin may have changed it), the API key user's privilege for that endpoint, and the gateway's backend log.",
    retryable: false,
  },
};

/** An OPNsense adapter failure. */
export class OpnSenseError extends AdapterError {
  declare readonly code: OpnCode;
  /** OPN002: the ACL privilege the call needed (e.g. `page-firewall-alias-edit`). */
  readonly privilege: string | undefined;
  /** Validation failures the gateway named, field → message (`validations` of a `result: failed`). */
  readonly validations: Readonly<Record<string, string>> | undefined;

  constructor(
    code: OpnCode,
    cause: string,
    opts: {
      httpStatus?: number;
      privilege?: string;
      retryable?: boolean;
      cause?: unknown;
      field?: string;
      validations?: Record<string, string>;
    } = {},
  ) {
    const entry = OPN_CATALOG[code];
    super('opnsense', code, `${code} ${entry.title}: ${cause} ${entry.check}`, {
      retryable: opts.retryable ?? entry.retryable,
      ...(opts.httpStatus === undefined ? {} : { httpStatus: opts.httpStatus }),
      ...(opts.cause === undefined ? {} : { cause: opts.cause }),
      ...(opts.field === undefined ? {} : { field: opts.field }),
    });
    this.name = 'OpnSenseError';
    this.privilege = opts.privilege;
    this.validations = opts.validations;
  }
}
