/**
 * @module The OWRT error catalog: one stable code per failure class of the OpenWrt adapter (ubus JSON-RPC over
 * uhttpd, rpcd, UCI, firewall4), each with what to check (docs/openwrt.md lists them; a test keeps both in sync).
 * Messages are built from a template and a safe detail only: never a password or a session id.
 */
import { AdapterError } from '../types.ts';

export type OwrtCode =
  | 'OWRT000'
  | 'OWRT001'
  | 'OWRT002'
  | 'OWRT003'
  | 'OWRT004'
  | 'OWRT005'
  | 'OWRT006'
  | 'OWRT007'
  | 'OWRT100'
  | 'OWRT101'
  | 'OWRT102'
  | 'OWRT103'
  | 'OWRT200'
  | 'OWRT300'
  | 'OWRT400'
  | 'OWRT500'
  | 'OWRT600';

interface OwrtCatalogEntry {
  title: string;
  /** What the operator should check, appended to every message of this code. */
  check: string;
  retryable: boolean;
}

export const OWRT_CATALOG: Readonly<Record<OwrtCode, OwrtCatalogEntry>> = {
  OWRT000: {
    title: 'cannot connect',
    check:
      'Check the gateway URL (scheme, host, port; the JSON-RPC endpoint is /ubus), that uhttpd listens there and that no firewall rule drops Portcullis.',
    retryable: true,
  },
  OWRT001: {
    title: 'login failed',
    check:
      'Check the username and password of the rpcd login (a `config login` section in /etc/config/rpcd; `$p$root` means the system password of root).',
    retryable: false,
  },
  OWRT002: {
    title: 'permission denied',
    check:
      "Grant what the message names in the login's rpcd ACL (a JSON file in /usr/share/rpcd/acl.d/, listed by the login's `read`/`write` options; docs/openwrt.md has one), then restart rpcd.",
    retryable: false,
  },
  OWRT003: {
    title: 'TLS certificate error',
    check:
      "Check the router's certificate (uhttpd `cert`, by default /etc/uhttpd.crt): trust its CA (PEM bundle) or pin its SHA-256 fingerprint, and that the URL's host name is in it.",
    retryable: false,
  },
  OWRT004: {
    title: 'timed out',
    check:
      'Check that the router is up and not overloaded, the connection timeouts, and uhttpd `script_timeout` (ubus calls time out after 60 s by default, rpcd exec after 120 s).',
    retryable: true,
  },
  OWRT005: {
    title: 'ubus object, method or program missing',
    check:
      'Install what the message names: uhttpd-mod-ubus (the /ubus endpoint), rpcd and its file/uci/rc plugins (rpcd-mod-file), luci-base for luci.* objects, and the nftables or conntrack program for exec calls.',
    retryable: false,
  },
  OWRT006: {
    title: 'unsupported firmware',
    check:
      'Portcullis needs OpenWrt 22.03 or later (firewall4 on nftables); older releases use fw3 with iptables and ipset. Upgrade the router.',
    retryable: false,
  },
  OWRT007: {
    title: 'request too large',
    check:
      'uhttpd refuses a JSON-RPC body over 64 KiB; the adapter splits writes, but a single item (one entry, one rule) did not fit: shorten it.',
    retryable: false,
  },
  OWRT100: {
    title: 'get set failed',
    check:
      "Check the firewall `ipset` section and that the nft set of that name exists in table inet fw4 (`nft list set inet fw4 <name>`); a set that fw4 skipped is logged by `fw4 check`.",
    retryable: false,
  },
  OWRT101: {
    title: 'create set failed',
    check:
      'Check the set name (letters, digits, underscore, dot, dash; fw4 identifier rules) and that `fw4 check` accepts the firewall configuration, or declare the ipset section by hand.',
    retryable: false,
  },
  OWRT102: {
    title: 'update set failed',
    check:
      'Check the entries (an `ip` set takes addresses, a `net` set takes prefixes, of the family of the set), that the set has the timeout flag (`option timeout 0`) for expiring entries, and the nft output in the message.',
    retryable: false,
  },
  OWRT103: {
    title: 'set not found',
    check:
      "Declare the set as a firewall `ipset` section (docs/openwrt.md) or allow Portcullis to create it, and check the name in the knoc.",
    retryable: false,
  },
  OWRT200: {
    title: 'firewall reload not confirmed',
    check:
      'Check `logread -e firewall` and `fw4 check` on the router: the committed configuration did not go live in time (a pending uci apply with rollback blocks commits until confirmed or rolled back).',
    retryable: true,
  },
  OWRT300: {
    title: 'live read failed',
    check: "Check the login's ACL for the named object and that the package serving it is installed.",
    retryable: false,
  },
  OWRT400: {
    title: 'invalid or unexpected response',
    check:
      'Check that the URL points at an OpenWrt uhttpd /ubus endpoint (no proxy or captive portal in between) and that the release is supported.',
    retryable: false,
  },
  OWRT500: {
    title: 'live write failed',
    check:
      'Check the named field against what firewall4 accepts, that the UCI section still exists (another admin may have changed it) and that no other session holds a pending apply.',
    retryable: false,
  },
  OWRT600: {
    title: 'kill connections failed',
    check: 'Install conntrack (the conntrack package) and grant exec of /usr/sbin/conntrack in the ACL.',
    retryable: false,
  },
};

/** An OpenWrt adapter failure. `ubusStatus` / `rpcCode` are what the router answered, when it did. */
export class OpenWrtError extends AdapterError {
  declare readonly code: OwrtCode;
  readonly ubusStatus: number | undefined;
  readonly rpcCode: number | undefined;
  /** OWRT002: what to grant (`ubus <object>.<method>`, `uci <config>`, `file exec <path>`). */
  readonly grant: string | undefined;

  constructor(
    code: OwrtCode,
    cause: string,
    opts: {
      httpStatus?: number;
      ubusStatus?: number;
      rpcCode?: number;
      grant?: string;
      retryable?: boolean;
      cause?: unknown;
      field?: string;
    } = {},
  ) {
    const entry = OWRT_CATALOG[code];
    super('openwrt', code, `${code} ${entry.title}: ${cause} ${entry.check}`, {
      retryable: opts.retryable ?? entry.retryable,
      ...(opts.httpStatus === undefined ? {} : { httpStatus: opts.httpStatus }),
      ...(opts.cause === undefined ? {} : { cause: opts.cause }),
      ...(opts.field === undefined ? {} : { field: opts.field }),
    });
    this.name = 'OpenWrtError';
    this.ubusStatus = opts.ubusStatus;
    this.rpcCode = opts.rpcCode;
    this.grant = opts.grant;
  }
}
