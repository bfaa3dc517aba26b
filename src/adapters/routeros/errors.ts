/**
 * @module The ROS error catalog: one stable code per failure class of the RouterOS v7 REST adapter, each with the
 * cause and what to check (docs/routeros.md lists them; test/routeros/catalog-docs.test.ts keeps both in sync).
 * Messages are built from a safe detail only — never a credential. Response shapes: docs/reference/routeros-api.md §2.
 */
import { AdapterError } from '../types.ts';

export type RosCode =
  | 'ROS000'
  | 'ROS001'
  | 'ROS002'
  | 'ROS003'
  | 'ROS004'
  | 'ROS005'
  | 'ROS006'
  | 'ROS007'
  | 'ROS100'
  | 'ROS101'
  | 'ROS102'
  | 'ROS103'
  | 'ROS104'
  | 'ROS105'
  | 'ROS200'
  | 'ROS300'
  | 'ROS400'
  | 'ROS401'
  | 'ROS500';

interface RosCatalogEntry {
  title: string;
  /** What the operator should check, appended to every message of this code. */
  check: string;
  retryable: boolean;
}

export const ROS_CATALOG: Readonly<Record<RosCode, RosCatalogEntry>> = {
  ROS000: {
    title: 'cannot connect',
    check:
      'Check the gateway URL (https://, host, the www-ssl port), that the name resolves and the router is reachable from Portcullis, that the www-ssl service is enabled (IP > Services) and its "available from" list admits Portcullis.',
    retryable: true,
  },
  ROS001: {
    title: 'authentication failed',
    check:
      "Check the user name and password, and that the user's group has the `rest-api` policy (RouterOS answers 401 without it).",
    retryable: false,
  },
  ROS002: {
    title: 'permission denied',
    check:
      "Give the user's group the policies read, write, api and rest-api (System > Users > Groups); RouterOS answers `not enough permissions (9)` or `not allowed (9)` without them.",
    retryable: false,
  },
  ROS003: {
    title: 'TLS certificate error',
    check:
      'Assign a certificate to the www-ssl service (a handshake failure means none is assigned), then trust its CA (PEM bundle) or pin its SHA-256 fingerprint.',
    retryable: false,
  },
  ROS004: {
    title: 'timed out',
    check:
      'Check that the router is up and not overloaded (its REST server handles one request at a time), and the connection timeouts.',
    retryable: true,
  },
  ROS005: {
    title: 'not the RouterOS REST API',
    check:
      'Point the URL at the router\'s www-ssl service (https://<router>, REST lives under /rest); an HTML page means WebFig, a proxy or a captive portal answered, and plain-http `www` serves REST only from 7.9.',
    retryable: false,
  },
  ROS006: {
    title: 'RouterOS too old for REST',
    check:
      'Upgrade to RouterOS 7.1beta4 or later (REST does not exist before it; RouterOS 6 has only the binary API).',
    retryable: false,
  },
  ROS007: {
    title: 'request deadline passed (Session closed)',
    check:
      'RouterOS ends a REST request after 60 s: the table read was too large or the router is overloaded; retry later and keep address lists small.',
    retryable: true,
  },
  ROS100: {
    title: 'address list read failed',
    check: 'Check the address list under IP > Firewall > Address Lists and the router log; retry later if it is busy.',
    retryable: false,
  },
  ROS101: {
    title: 'address list write failed',
    check:
      'Check the address (an IP or prefix of the menu\'s family), the list name, and the router log; the entry was re-read after the failure.',
    retryable: false,
  },
  ROS102: {
    title: 'duplicate entry',
    check:
      'RouterOS refused the address as already present (`already have such entry`) yet no entry could be found for it; a dynamic or disabled duplicate in another state may hold it: check the list by hand.',
    retryable: false,
  },
  ROS103: {
    title: 'unknown parameter',
    check:
      'The router does not know a property Portcullis sent (`unknown parameter`): check the RouterOS version and the installed packages.',
    retryable: false,
  },
  ROS104: {
    title: 'no such command or directory',
    check:
      'The menu does not exist on this router (`no such command or directory`): check the RouterOS version, that the package is installed and, for IPv6, that IPv6 is enabled.',
    retryable: false,
  },
  ROS105: {
    title: 'object not found',
    check: 'The entry (`.id`) no longer exists: another admin or a timeout removed it; re-read the table.',
    retryable: false,
  },
  ROS200: {
    title: 'connection removal failed',
    check:
      "Check that the user's group has the write policy and that connection tracking is enabled (IP > Firewall > Connections).",
    retryable: false,
  },
  ROS300: {
    title: 'live read failed',
    check: 'Check that the menu exists on this router and that the user may read it; retry later if the router is busy.',
    retryable: false,
  },
  ROS400: {
    title: 'invalid or unexpected response',
    check:
      'Check that the URL points at RouterOS 7 REST (no proxy in between) and the version; the body was not the JSON RouterOS sends.',
    retryable: false,
  },
  ROS401: {
    title: 'verification mismatch',
    check:
      'The router read back something other than what was written: another admin or script may be changing the same table; compare the list by hand.',
    retryable: true,
  },
  ROS500: {
    title: 'live write failed',
    check:
      'Check the named property against what RouterOS accepts, that the object still exists, and the router log.',
    retryable: false,
  },
};

/** A RouterOS adapter failure. `detail` is RouterOS's own `detail` text when it sent one. */
export class RouterOsError extends AdapterError {
  declare readonly code: RosCode;
  readonly detail: string | undefined;

  constructor(
    code: RosCode,
    cause: string,
    opts: { httpStatus?: number; detail?: string; retryable?: boolean; cause?: unknown; field?: string } = {},
  ) {
    const entry = ROS_CATALOG[code];
    super('routeros', code, `${code} ${entry.title}: ${cause} ${entry.check}`, {
      retryable: opts.retryable ?? entry.retryable,
      ...(opts.httpStatus === undefined ? {} : { httpStatus: opts.httpStatus }),
      ...(opts.cause === undefined ? {} : { cause: opts.cause }),
      ...(opts.field === undefined ? {} : { field: opts.field }),
    });
    this.name = 'RouterOsError';
    this.detail = opts.detail;
  }
}
