/**
 * @module How the nftables adapter runs a command on its host (docs/adr/0206-nftables-ssh-transport.md):
 * `local` starts it here (optionally behind a prefix such as `ip netns exec <ns>`, which only tests use), `ssh`
 * starts the system `ssh` client with the private key in a 0600 temporary file that is deleted after the call,
 * `BatchMode`, and strict host key checking against a pinned key. No secret is ever on a command line, in an
 * error or in a log. Failures of the transport itself are classified into NFT codes here.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NftError } from './errors.ts';

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs one command (argv, no shell) on the nftables host, with `stdin` as its standard input. */
export interface CommandRunner {
  run(argv: readonly string[], stdin?: string): Promise<CommandResult>;
  /** What the runner reaches, for messages ("local host", "ssh admin@198.51.100.1:22"); no secret. */
  readonly describe: string;
}

/** How the SSH host key is trusted (the gateway's TLS trust options, mapped; docs/nftables.md §1). */
export type HostKeyTrust =
  /** The host key must match this SHA-256 fingerprint (`SHA256:<base64>` as ssh-keygen -l prints, or hex). */
  | { mode: 'fingerprint'; sha256: string }
  /** known_hosts lines for the host (`ssh-ed25519 AAAA…`, host names optional). */
  | { mode: 'known_hosts'; lines: string }
  /** The system's known_hosts files. */
  | { mode: 'system' }
  /** No host key check (a warning on the gateway; only for a lab). */
  | { mode: 'insecure' };

export interface SshTarget {
  /** The address ssh connects to, or how to find it (the SSRF-guarded lookup, run before every connection). */
  address: string | (() => Promise<string>);
  /** The name known_hosts entries are kept under (`HostKeyAlias`). */
  hostName: string;
  port: number;
  username: string;
  privateKey: string;
  hostKey: HostKeyTrust;
  connectTimeoutMs: number;
  /** Put in front of `ssh` / `ssh-keyscan` (e.g. `ip netns exec <ns>`); tests only. */
  prefix?: readonly string[];
}

const DEFAULT_TIMEOUT_MS = 30_000;
/** Cap on captured output; a full ruleset or conntrack table of a big host stays well below it. */
const MAX_OUTPUT = 64 * 1024 * 1024;

/** Starts `file args…`, feeds `stdin`, and collects the output; a run past `timeoutMs` is killed (NFT004). */
export function execute(
  file: string,
  args: readonly string[],
  stdin: string | undefined,
  timeoutMs: number,
  what: string,
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let size = 0;
    let settled = false;
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      fn();
    };
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      finish(() => reject(new NftError('NFT004', `${what} did not finish within ${timeoutMs} ms.`)));
    }, timeoutMs);
    const collect = (into: Buffer[]) => (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_OUTPUT) {
        child.kill('SIGKILL');
        finish(() => reject(new NftError('NFT400', `${what} printed more than ${MAX_OUTPUT} bytes.`)));
        return;
      }
      into.push(chunk);
    };
    child.stdout.on('data', collect(out));
    child.stderr.on('data', collect(err));
    child.on('error', (e: NodeJS.ErrnoException) => {
      finish(() =>
        reject(
          e.code === 'ENOENT'
            ? new NftError(/^ssh/.test(what) ? 'NFT000' : 'NFT005', `${file} is not installed here (${what}).`)
            : new NftError('NFT000', `cannot start ${file}: ${e.code ?? e.message}.`),
        ),
      );
    });
    child.on('close', (code) => {
      finish(() =>
        resolve({
          code: code ?? -1,
          stdout: Buffer.concat(out).toString('utf8'),
          stderr: Buffer.concat(err).toString('utf8'),
        }),
      );
    });
    child.stdin.on('error', () => undefined); // a command that exits early closes its stdin
    child.stdin.end(stdin ?? '');
  });
}

/** Runs commands on this host; `prefix` (e.g. `['ip', 'netns', 'exec', 'ns1']`) is put in front (tests). */
export class LocalRunner implements CommandRunner {
  readonly describe: string;
  constructor(
    private readonly prefix: readonly string[] = [],
    private readonly timeoutMs = DEFAULT_TIMEOUT_MS,
  ) {
    this.describe = prefix.length > 0 ? `local host (${prefix.join(' ')})` : 'local host';
  }

  async run(argv: readonly string[], stdin?: string): Promise<CommandResult> {
    const full = [...this.prefix, ...argv];
    const [file, ...args] = full as [string, ...string[]];
    const result = await execute(file, args, stdin, this.timeoutMs, argv[0] ?? 'command');
    // The prefix itself failed (`ip netns exec` into a namespace that is gone): the host is unreachable, not
    // an nft answer; without this its "No such file or directory" would read as a missing table.
    if (this.prefix.length > 0 && result.code !== 0 && /^Cannot open network namespace/m.test(result.stderr)) {
      throw new NftError('NFT000', `cannot enter ${this.describe}: ${result.stderr.trim().split('\n')[0]?.slice(0, 200) ?? ''}.`);
    }
    return result;
  }
}

/** A POSIX shell word for `value` (the remote side of ssh runs the command through the login shell). */
export function shellQuote(value: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

/** `SHA256:<base64, unpadded>` of an SSH public key blob, as `ssh-keygen -l` prints it. */
export function sshFingerprint(blobBase64: string): string {
  const digest = createHash('sha256').update(Buffer.from(blobBase64, 'base64')).digest('base64');
  return `SHA256:${digest.replace(/=+$/, '')}`;
}

/** A pinned fingerprint in the `SHA256:<base64>` form; hex (with or without colons) is accepted too. */
export function normalizeSshFingerprint(input: string): string {
  const text = input.trim();
  const b64 = /^SHA256:([A-Za-z0-9+/]{43})=?$/.exec(text);
  if (b64) return `SHA256:${b64[1]}`;
  const hex = text.replace(/^sha256:/i, '').replace(/:/g, '');
  if (/^[0-9a-fA-F]{64}$/.test(hex)) {
    return `SHA256:${Buffer.from(hex, 'hex').toString('base64').replace(/=+$/, '')}`;
  }
  throw new TypeError('an SSH host key fingerprint is SHA256:<base64> (ssh-keygen -lf) or 64 hex digits');
}

/**
 * The known_hosts line(s) for `hostName`: each given key line, with the host name put in front. ssh looks the
 * key up under the `HostKeyAlias` as given, without the port (OpenSSH sshconnect.c), so no `[host]:port` form.
 */
export function knownHostsFor(hostName: string, lines: string): string {
  const name = hostName;
  const out: string[] = [];
  for (const raw of lines.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const parts = line.split(/\s+/);
    // `keytype base64 [comment]` or `hosts keytype base64 [comment]`
    const at = parts.findIndex((p) => /^(ssh-|ecdsa-|sk-)/.test(p));
    if (at < 0 || parts[at + 1] === undefined) continue;
    out.push(`${name} ${parts[at]} ${parts[at + 1]}`);
  }
  return out.join('\n') + (out.length > 0 ? '\n' : '');
}

/** The `ssh` argv for one remote command (no secret in it: the key and known_hosts are file paths). */
export function sshArgs(
  target: Pick<SshTarget, 'hostName' | 'port' | 'username' | 'connectTimeoutMs'> & { address: string },
  files: { key: string; knownHosts: string | null },
  strict: boolean,
  remoteArgv: readonly string[],
): string[] {
  const args = [
    '-i',
    files.key,
    '-o',
    'IdentitiesOnly=yes',
    '-o',
    'IdentityAgent=none',
    '-o',
    'BatchMode=yes',
    '-o',
    'PasswordAuthentication=no',
    '-o',
    'KbdInteractiveAuthentication=no',
    '-o',
    `ConnectTimeout=${Math.max(1, Math.ceil(target.connectTimeoutMs / 1000))}`,
    '-o',
    'LogLevel=ERROR',
    '-o',
    'ForwardAgent=no',
    '-o',
    'ClearAllForwardings=yes',
    '-o',
    `HostKeyAlias=${target.hostName}`,
  ];
  if (strict) {
    args.push('-o', 'StrictHostKeyChecking=yes', '-o', 'GlobalKnownHostsFile=/dev/null');
    if (files.knownHosts !== null) args.push('-o', `UserKnownHostsFile=${files.knownHosts}`);
  } else {
    args.push('-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'GlobalKnownHostsFile=/dev/null');
  }
  args.push('-p', String(target.port), '-l', target.username, '--', target.address);
  args.push(remoteArgv.map(shellQuote).join(' '));
  return args;
}

/**
 * Classifies a failed ssh run (exit 255 is ssh's own failure; the remote command's code otherwise). The
 * messages ssh prints are from OpenSSH's sshconnect.c / ssh.c (docs/reference/nftables-api.md §2).
 */
export function sshFailure(stderr: string, describe: string): NftError | null {
  const text = stderr.trim();
  const line = text.split('\n').find((l) => l.trim() !== '')?.slice(0, 300) ?? '';
  if (/Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED|No \S+ host key is known/i.test(text))
    return new NftError('NFT003', `${describe}: ${line}`);
  if (/Permission denied \(|Too many authentication failures|Load key .*: invalid format|invalid format/i.test(text))
    return new NftError('NFT001', `${describe}: ${line}`);
  if (/timed out|Connection timed out/i.test(text)) return new NftError('NFT004', `${describe}: ${line}`);
  return new NftError('NFT000', `${describe}: ${line || 'ssh failed without a message'}`);
}

/** Runs commands on a remote host over the system ssh client. */
export class SshRunner implements CommandRunner {
  readonly describe: string;
  constructor(
    private readonly target: SshTarget,
    private readonly timeoutMs = DEFAULT_TIMEOUT_MS,
  ) {
    this.describe = `ssh ${target.username}@${target.hostName}:${target.port}`;
  }

  async run(argv: readonly string[], stdin?: string): Promise<CommandResult> {
    const address = typeof this.target.address === 'string' ? this.target.address : await this.target.address();
    const dir = await mkdtemp(join(tmpdir(), 'portcullis-ssh-'));
    try {
      const key = join(dir, 'id');
      // The key file is created 0600 (ssh refuses a key others can read) and removed with the directory.
      await writeFile(key, this.target.privateKey.replace(/\r\n/g, '\n').replace(/\n?$/, '\n'), { mode: 0o600 });
      const hostKey = this.target.hostKey;
      let knownHosts: string | null = null;
      if (hostKey.mode === 'known_hosts' || hostKey.mode === 'fingerprint') {
        const lines =
          hostKey.mode === 'known_hosts' ? hostKey.lines : await this.pinnedKeyLine(hostKey.sha256, address);
        knownHosts = join(dir, 'known_hosts');
        await writeFile(knownHosts, knownHostsFor(this.target.hostName, lines), { mode: 0o600 });
      }
      const args = sshArgs({ ...this.target, address }, { key, knownHosts }, hostKey.mode !== 'insecure', argv);
      const result = await this.start('ssh', args, stdin, this.timeoutMs, this.describe);
      if (result.code === 255) {
        throw sshFailure(result.stderr, this.describe) ?? new NftError('NFT000', this.describe);
      }
      // The login shell answers 127 when the command is not in its PATH.
      if (result.code === 127) {
        throw new NftError('NFT005', `${argv[0] ?? 'command'} was not found on ${this.describe}.`);
      }
      return result;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  private start(file: string, args: string[], stdin: string | undefined, timeoutMs: number, what: string) {
    const [first, ...rest] = [...(this.target.prefix ?? []), file, ...args] as [string, ...string[]];
    return execute(first, rest, stdin, timeoutMs, what);
  }

  /**
   * The host's key whose fingerprint is the pinned one: `ssh-keyscan` collects the keys the host offers, and only
   * the one matching the pin is written to known_hosts, so ssh's strict check then accepts that key alone.
   */
  private async pinnedKeyLine(pinned: string, address: string): Promise<string> {
    const want = normalizeSshFingerprint(pinned);
    const timeout = Math.max(1, Math.ceil(this.target.connectTimeoutMs / 1000));
    const scan = await this.start(
      'ssh-keyscan',
      ['-T', String(timeout), '-p', String(this.target.port), '--', address],
      undefined,
      this.target.connectTimeoutMs + 5_000,
      `ssh-keyscan ${this.target.hostName}:${this.target.port}`,
    ).catch((err: unknown) => {
      if (err instanceof NftError && err.code === 'NFT005') throw new NftError('NFT000', 'ssh-keyscan is not installed here.');
      throw err;
    });
    const offered: string[] = [];
    for (const line of scan.stdout.split('\n')) {
      const parts = line.trim().split(/\s+/);
      if (parts.length < 3 || line.startsWith('#')) continue;
      const [, type, blob] = parts as [string, string, string];
      offered.push(sshFingerprint(blob));
      if (sshFingerprint(blob) === want) return `${type} ${blob}`;
    }
    if (offered.length === 0) {
      throw new NftError('NFT000', `${this.describe}: the host offered no SSH host key.`);
    }
    throw new NftError(
      'NFT003',
      `${this.describe}: no host key matches the pinned ${want} (offered: ${offered.join(', ')}).`,
    );
  }
}
