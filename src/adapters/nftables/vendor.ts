/**
 * @module The Linux nftables host vendor descriptor (docs/nftables.md). The gateway URL says where `nft` runs:
 * `ssh://host[:port]` (a remote host over SSH with a key, the `ssh_key` credentials) or `local://` (the host
 * Portcullis runs on; no credentials are used). Writes are live at once (`apply` off), elements expire in the
 * kernel (`native_expiry`), and conntrack entries of a revoked address are deleted (`kill_states`).
 */
import { CAPABILITIES, type Capability, type Credentials, type VendorDescriptor } from '../registry.ts';
import type { TlsTrust } from '../http.ts';
import type { LookupFunction } from 'node:net';
import { NftablesAdapter } from './adapter.ts';
import { NFT_LIVE_UNAVAILABLE, nftablesLiveView } from './live-view.ts';
import { type HostKeyTrust, LocalRunner, SshRunner, type CommandRunner } from './transport.ts';

const SUPPORTED: ReadonlySet<Capability> = new Set<Capability>([
  'alias.read',
  'alias.write',
  'alias.create',
  'kill_states',
  'native_expiry',
  // Live reads from nft, ip and conntrack (docs/reference/nftables-api.md §6).
  'read.status',
  'read.aliases',
  'read.rules',
  'read.interfaces',
  'read.arp',
  'read.states',
]);

/** The longest set name this adapter makes: nft allows 255 bytes; `_v6` is appended for the companion. */
const NAME_MAX = 60;
/** Words nft's parser takes as keywords where a set name goes (docs/reference/nftables-api.md §7); a few common ones. */
const KEYWORDS = new Set([
  'ip', 'ip6', 'inet', 'arp', 'bridge', 'netdev', 'tcp', 'udp', 'icmp', 'icmpv6', 'ct', 'meta', 'set', 'map',
  'table', 'chain', 'rule', 'element', 'timeout', 'counter', 'comment', 'flags', 'type', 'accept', 'drop',
  'reject', 'log', 'limit', 'quota', 'add', 'delete', 'flush', 'list', 'interval', 'dynamic', 'constant', 'size',
  'policy', 'saddr', 'daddr', 'sport', 'dport', 'state', 'mark', 'jump', 'goto', 'return', 'queue', 'host',
]);

export function checkSetName(name: string): { ok: true } | { ok: false; message: string } {
  if (!/^[A-Za-z][A-Za-z0-9_]*$/.test(name)) {
    return { ok: false, message: 'an nft set name starts with a letter and holds letters, digits and underscores' };
  }
  if (name.length > NAME_MAX) return { ok: false, message: `an nft set name is at most ${NAME_MAX} characters here` };
  if (name.endsWith('_v6')) return { ok: false, message: 'a name ending in _v6 is the IPv6 companion of another set' };
  if (KEYWORDS.has(name.toLowerCase())) return { ok: false, message: `${name} is an nft keyword` };
  return { ok: true };
}

/** Whether a private key needs a passphrase (PEM `ENCRYPTED`, or an OpenSSH key whose cipher is not `none`). */
export function keyHasPassphrase(key: string): boolean {
  if (/ENCRYPTED/.test(key)) return true;
  const body = /-----BEGIN OPENSSH PRIVATE KEY-----([\s\S]*?)-----END OPENSSH PRIVATE KEY-----/.exec(key)?.[1];
  if (body === undefined) return false;
  const raw = Buffer.from(body.replace(/\s+/g, ''), 'base64');
  const magic = 'openssh-key-v1\0';
  if (raw.subarray(0, magic.length).toString('latin1') !== magic || raw.length < magic.length + 4) return false;
  const len = raw.readUInt32BE(magic.length);
  return raw.subarray(magic.length + 4, magic.length + 4 + len).toString('latin1') !== 'none';
}

/** The SSH host key trust from the gateway's TLS trust options (docs/adr/0206-nftables-ssh-transport.md). */
export function hostKeyTrust(tls: TlsTrust): HostKeyTrust {
  switch (tls.mode) {
    case 'fingerprint':
      return { mode: 'fingerprint', sha256: tls.sha256 };
    case 'ca':
      return { mode: 'known_hosts', lines: tls.caPem };
    case 'insecure':
      return { mode: 'insecure' };
    default:
      return { mode: 'system' };
  }
}

/** `local://` (or `local:`) for this host, `ssh://host[:port]` for a remote one. */
export function parseNftUrl(url: string): { kind: 'local' } | { kind: 'ssh'; host: string; port: number } {
  const parsed = new URL(url);
  if (parsed.protocol === 'local:') {
    if (parsed.hostname !== '' || (parsed.pathname !== '' && parsed.pathname !== '/')) {
      throw new TypeError('a local nftables gateway URL is local:// with nothing after it');
    }
    return { kind: 'local' };
  }
  if (parsed.protocol !== 'ssh:') throw new TypeError('an nftables gateway URL is ssh://host[:port] or local://');
  if (parsed.username !== '' || parsed.password !== '') {
    throw new TypeError('give the SSH user name in the credentials, not in the URL');
  }
  const host = parsed.hostname.startsWith('[') ? parsed.hostname.slice(1, -1) : parsed.hostname;
  if (host === '') throw new TypeError('an ssh:// URL needs a host');
  return { kind: 'ssh', host, port: parsed.port === '' ? 22 : Number(parsed.port) };
}

function resolver(host: string, lookup: LookupFunction): () => Promise<string> {
  return () =>
    new Promise((resolve, reject) => {
      lookup(host, {}, (err, address) => {
        if (err) reject(err);
        else if (typeof address === 'string') resolve(address);
        else if (address[0] !== undefined) resolve(address[0].address);
        else reject(new Error(`${host} did not resolve`));
      });
    });
}

function runnerFor(
  url: string,
  credentials: Credentials,
  tls: TlsTrust,
  lookup: LookupFunction,
  connectMs: number,
  prefix: readonly string[],
): CommandRunner {
  const where = parseNftUrl(url);
  if (where.kind === 'local') return new LocalRunner(prefix);
  return new SshRunner({
    address: resolver(where.host, lookup),
    hostName: where.host,
    port: where.port,
    username: credentials.username ?? '',
    privateKey: credentials.ssh_private_key ?? '',
    hostKey: hostKeyTrust(tls),
    connectTimeoutMs: connectMs,
    ...(prefix.length > 0 ? { prefix } : {}),
  });
}

export const nftablesVendor: VendorDescriptor = {
  id: 'nftables',
  name: 'Linux nftables',
  api: 'nft -j over SSH',
  maturity: 'beta',
  capabilities: Object.fromEntries(CAPABILITIES.map((flag) => [flag, SUPPORTED.has(flag)])) as Record<
    Capability,
    boolean
  >,
  credentials: 'ssh_key',
  urlSchemes: { network: ['ssh'], local: ['local'] },
  checkCredentials: (credentials) => {
    if (keyHasPassphrase(credentials.ssh_private_key ?? '')) {
      return { field: 'ssh_private_key', message: 'ssh_private_key must not be protected by a passphrase (ssh runs in batch mode)' };
    }
    if (!/^[a-z_][a-z0-9_.-]{0,31}$/i.test(credentials.username ?? '')) {
      return { field: 'username', message: 'username must be a Unix login name' };
    }
    return null;
  },
  errors: {
    family: 'NFT',
    connect: 'NFT000',
    tls: 'NFT003',
    aliasNotFound: 'NFT103',
    aliasUnusable: 'NFT104',
    verifyMismatch: 'NFT400',
  },
  listNaming: { noun: 'set', maxLength: NAME_MAX, check: checkSetName },
  createAdapter: (conn) => {
    const connectMs = conn.tuning?.timeouts?.connectMs ?? 5_000;
    // `commandPrefix` is a test-only tuning knob (AdapterTuning; e.g. `ip netns exec <ns>`), never configuration.
    const prefix = conn.tuning?.commandPrefix ?? [];
    const adapter = new NftablesAdapter({
      runner: runnerFor(conn.url, conn.credentials, conn.tls, conn.lookup, connectMs, prefix),
    });
    if (conn.tls.mode === 'insecure' && parseNftUrl(conn.url).kind === 'ssh') {
      adapter.warnings.push('SSH host key checking is disabled: anyone on the path can impersonate the host.');
    }
    return adapter;
  },
  testConnection: (adapter) => adapter.version(),
  live: { open: nftablesLiveView, unavailable: NFT_LIVE_UNAVAILABLE },
  unavailable: {
    apply:
      'every nft command is live in the kernel when it exits; there is no staged state, commit or apply (docs/reference/nftables-api.md §4)',
    'write.rules':
      'rules are ordered expression lists in chains with no staged change or rollback; editing a host\'s own chains is not offered (docs/reference/nftables-api.md §5)',
    'write.nat':
      'NAT is dnat/snat/masquerade statements in nat chains, with no port-forward object to write (docs/reference/nftables-api.md §5)',
    'write.aliases':
      'the live writer is not offered; Portcullis writes only its own sets in table inet portcullis, through access grants (docs/reference/nftables-api.md §3)',
    'write.routes': 'routes belong to `ip route`, not nftables; not written over the nft transport (docs/reference/nftables-api.md §6)',
    'write.services': 'service state (systemd) is not part of nftables (docs/reference/nftables-api.md §6)',
    'write.dns': 'an nftables host runs no DNS resolver Portcullis knows of (docs/reference/nftables-api.md §6)',
    'write.dhcp': 'an nftables host runs no DHCP server Portcullis knows of (docs/reference/nftables-api.md §6)',
    'write.bridge_vlans': 'not mapped by this adapter: the bridge VLAN contract (docs/adr/0255-bridge-vlan-live-kind.md) is served where the device keeps a bridge VLAN table (RouterOS, OpenWrt DSA)',
    'write.vlans': 'VLAN interfaces are host network configuration (ip link), not part of nftables (docs/reference/brain-l3.md §6)',
    'write.dhcp_scopes': 'an nftables host runs no DHCP server Portcullis knows of (docs/reference/brain-l3.md §6)',
    'write.power': 'rebooting the host is not an nft operation, and a reboot loses the runtime ruleset (docs/reference/nftables-api.md §4, §7)',
    'write.batch_apply': 'there is no apply: each nft batch is atomic and live at once (docs/reference/nftables-api.md §4)',
  },
};
