/**
 * @module The NFT error catalog: one stable code per failure class of the nftables host adapter, each with the
 * cause and what to check (docs/nftables.md lists them; test/nftables/catalog-docs.test.ts keeps both in sync).
 * Messages are built from a template and a safe detail only — never a private key, never a whole command line
 * with a secret in it (the adapter passes no secret on a command line; the key lives in a 0600 file).
 */
import { AdapterError } from '../types.ts';

export type NftCode =
  | 'NFT000'
  | 'NFT001'
  | 'NFT002'
  | 'NFT003'
  | 'NFT004'
  | 'NFT005'
  | 'NFT100'
  | 'NFT101'
  | 'NFT102'
  | 'NFT103'
  | 'NFT104'
  | 'NFT200'
  | 'NFT300'
  | 'NFT400';

interface NftCatalogEntry {
  title: string;
  /** What the operator should check, appended to every message of this code. */
  check: string;
  retryable: boolean;
}

export const NFT_CATALOG: Readonly<Record<NftCode, NftCatalogEntry>> = {
  NFT000: {
    title: 'cannot connect',
    check:
      'Check the gateway URL (ssh://host:port), that the name resolves and the host is reachable from Portcullis, that sshd listens on that port and that no firewall drops Portcullis; for local:// check that Portcullis may start processes.',
    retryable: true,
  },
  NFT001: {
    title: 'SSH authentication failed',
    check:
      "Check the user name and that the private key's public half is in that user's ~/.ssh/authorized_keys on the host (and not restricted by a from= option that excludes Portcullis); the key must have no passphrase.",
    retryable: false,
  },
  NFT002: {
    title: 'permission denied',
    check:
      'nft and conntrack need CAP_NET_ADMIN: log in as root, or give the SSH user a sudo rule for /usr/sbin/nft and /usr/sbin/conntrack, or run Portcullis with that capability for local://.',
    retryable: false,
  },
  NFT003: {
    title: 'SSH host key verification failed',
    check:
      "The host presented a key that does not match the pinned one: compare the pinned SHA-256 fingerprint with `ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub` on the host (or the known_hosts line given as the CA field); if the host was reinstalled, pin its new key.",
    retryable: false,
  },
  NFT004: {
    title: 'timed out',
    check: 'Check that the host is up and not overloaded, that the SSH connection is not blocked half-way, and the command timeout.',
    retryable: true,
  },
  NFT005: {
    title: 'nft or conntrack not installed',
    check:
      'Install the nftables package (nft ≥ 0.9.7 for set comments) and conntrack (conntrack-tools) on the host, in the PATH of the login user.',
    retryable: false,
  },
  NFT100: {
    title: 'reading the set failed',
    check: "Check `nft list table inet portcullis` on the host and the kernel log; retry later if the host is busy.",
    retryable: false,
  },
  NFT101: {
    title: 'creating the set failed',
    check:
      'Check the set name (letters, digits, underscore, not ending in _v6), that no set of that name exists with other flags or type in table inet portcullis, and the kernel (set comments need Linux ≥ 5.10).',
    retryable: false,
  },
  NFT102: {
    title: 'updating the set failed',
    check:
      'Check the entries (IPv4 or IPv6 addresses, or CIDRs in a network set), that details have no double quote and at most 128 bytes, and the error nft printed.',
    retryable: false,
  },
  NFT103: {
    title: 'set not found',
    check:
      'Create the set (and its _v6 companion) in table inet portcullis, or allow Portcullis to create it, and check the name in the knoc.',
    retryable: false,
  },
  NFT104: {
    title: 'set cannot hold these entries',
    check:
      'The set must be of type ipv4_addr with flag timeout (and a companion <name>_v6 of type ipv6_addr for IPv6 addresses); delete it so Portcullis can create it, or fix its declaration.',
    retryable: false,
  },
  NFT200: {
    title: 'deleting connections failed',
    check: 'Check that conntrack works on the host (`conntrack -L`), that nf_conntrack is loaded, and the error it printed.',
    retryable: true,
  },
  NFT300: {
    title: 'live read failed',
    check: 'Check that the command runs on the host by hand (nft -j list ruleset, ip -j addr, conntrack -L) and the error it printed.',
    retryable: false,
  },
  NFT400: {
    title: 'invalid or unexpected output',
    check:
      'Check that the host runs nftables with JSON support (nft -j, 0.9.0 or later) and that nothing (a login banner, a shell profile) writes to the SSH session\'s standard output.',
    retryable: false,
  },
};

/** An nftables adapter failure. */
export class NftError extends AdapterError {
  declare readonly code: NftCode;

  constructor(code: NftCode, cause: string, opts: { retryable?: boolean; cause?: unknown; field?: string } = {}) {
    const entry = NFT_CATALOG[code];
    super('nftables', code, `${code} ${entry.title}: ${cause} ${entry.check}`, {
      retryable: opts.retryable ?? entry.retryable,
      ...(opts.cause === undefined ? {} : { cause: opts.cause }),
      ...(opts.field === undefined ? {} : { field: opts.field }),
    });
    this.name = 'NftError';
  }
}
