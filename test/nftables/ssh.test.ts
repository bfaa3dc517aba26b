/**
 * @module The SSH transport against a real sshd: sshd runs inside a namespace (its nft therefore manages that
 * namespace), the adapter's ssh client inside a second one, joined by a veth. Covered: a set written, read and
 * its connections killed over SSH (host key pinned by a known_hosts line), a SHA-256 fingerprint pin (via
 * ssh-keyscan), and the NFT codes
 * of a wrong host key (NFT003), a key the host does not accept (NFT001) and nothing listening (NFT000); no key
 * material ever appears in an error. Skipped, with the reason, without root, netns or OpenSSH (sshd).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NftablesAdapter } from '../../src/adapters/nftables/adapter.ts';
import { NftError } from '../../src/adapters/nftables/errors.ts';
import { type HostKeyTrust, SshRunner, sshFingerprint } from '../../src/adapters/nftables/transport.ts';
import { deleteNs, inNs, netnsUnavailable, nsName, sh, sleep } from './netns.ts';

function sshUnavailable(): string | null {
  const ns = netnsUnavailable();
  if (ns !== null) return ns;
  for (const bin of ['/usr/sbin/sshd', '/usr/bin/ssh', '/usr/bin/ssh-keygen', '/usr/bin/ssh-keyscan']) {
    if (!existsSync(bin)) return `${bin} is missing (Debian packages openssh-client and openssh-server)`;
  }
  return null;
}

const why = sshUnavailable();
const SERVER = '10.78.0.2';
const PORT = 2222;

interface Lab {
  cli: string;
  srv: string;
  dir: string;
  clientKey: string;
  otherKey: string;
  hostPub: string;
  sshd: ChildProcess;
}

async function startLab(): Promise<Lab> {
  const cli = nsName('sc');
  const srv = nsName('ss');
  const dir = mkdtempSync(join(tmpdir(), 'pc-sshd-'));
  for (const ns of [cli, srv]) {
    await sh(['ip', 'netns', 'add', ns]);
    await inNs(ns, ['ip', 'link', 'set', 'lo', 'up']);
  }
  await sh(['ip', 'link', 'add', 'e0', 'netns', cli, 'type', 'veth', 'peer', 'name', 'e1', 'netns', srv]);
  await inNs(cli, ['ip', 'addr', 'add', '10.78.0.1/24', 'dev', 'e0']);
  await inNs(cli, ['ip', 'link', 'set', 'e0', 'up']);
  await inNs(srv, ['ip', 'addr', 'add', `${SERVER}/24`, 'dev', 'e1']);
  await inNs(srv, ['ip', 'link', 'set', 'e1', 'up']);
  for (const name of ['host', 'client', 'other']) {
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', name, '-f', join(dir, name)]);
  }
  writeFileSync(join(dir, 'authorized_keys'), readFileSync(join(dir, 'client.pub')));
  mkdirSync('/run/sshd', { recursive: true });
  const config = [
    `ListenAddress ${SERVER}:${PORT}`,
    `HostKey ${join(dir, 'host')}`,
    `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
    `PidFile ${join(dir, 'sshd.pid')}`,
    'PermitRootLogin prohibit-password',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'UsePAM no',
    'StrictModes no',
    'MaxStartups 100:30:200',
  ];
  writeFileSync(join(dir, 'sshd_config'), config.join('\n') + '\n');
  const sshd = spawn('ip', ['netns', 'exec', srv, '/usr/sbin/sshd', '-D', '-e', '-f', join(dir, 'sshd_config')], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  // Ready when the port answers.
  for (let i = 0; i < 50; i++) {
    const up = await inNs(cli, ['ssh-keyscan', '-T', '1', '-p', String(PORT), SERVER]).then(
      (r) => r.stdout.includes('ssh-ed25519'),
      () => false,
    );
    if (up) break;
    await sleep(100);
  }
  return {
    cli,
    srv,
    dir,
    clientKey: readFileSync(join(dir, 'client'), 'utf8'),
    otherKey: readFileSync(join(dir, 'other'), 'utf8'),
    hostPub: readFileSync(join(dir, 'host.pub'), 'utf8'),
    sshd,
  };
}

async function stopLab(lab: Lab | undefined): Promise<void> {
  if (!lab) return;
  if (lab.sshd.exitCode === null) lab.sshd.kill('SIGTERM');
  await deleteNs(lab.cli, lab.srv);
  rmSync(lab.dir, { recursive: true, force: true });
}

function sshAdapter(lab: Lab, opts: { hostKey: HostKeyTrust; key?: string; port?: number }): NftablesAdapter {
  return new NftablesAdapter({
    runner: new SshRunner({
      address: SERVER,
      hostName: 'fw.example.test',
      port: opts.port ?? PORT,
      username: 'root',
      privateKey: opts.key ?? lab.clientKey,
      hostKey: opts.hostKey,
      connectTimeoutMs: 3_000,
      prefix: ['ip', 'netns', 'exec', lab.cli],
    }),
  });
}

if (why !== null) {
  describe('nftables over SSH', () => {
    it.skip(`skipped: ${why}`, () => undefined);
  });
} else {
  describe('nftables over SSH: trust and failures', () => {
    let lab: Lab;
    beforeAll(async () => {
      lab = await startLab();
    }, 60_000);
    afterAll(async () => {
      await stopLab(lab);
    });

    const failure = async (adapter: NftablesAdapter): Promise<NftError> => {
      const err = await adapter.version().then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(NftError);
      return err as NftError;
    };

    it('over SSH: creates the set, writes entries with timeout and comment, reads them back, kills states', async () => {
      const adapter = sshAdapter(lab, { hostKey: { mode: 'known_hosts', lines: lab.hostPub } });
      await adapter.createAlias('ssh_knoc', 'host', 'over ssh');
      const expiresAt = Date.now() + 600_000;
      await adapter.setAliasEntries('ssh_knoc', [
        { address: '192.0.2.10', detail: 'portcullis:s1', expiresAt },
        { address: '2001:db8::10', detail: 'admin' },
      ]);
      const alias = await adapter.getAlias('ssh_knoc');
      expect(alias?.descr).toBe('over ssh');
      const byAddress = new Map(alias?.entries.map((e) => [e.address, e]));
      expect(byAddress.get('192.0.2.10')?.detail).toBe('portcullis:s1');
      expect(Math.abs((byAddress.get('192.0.2.10')?.expiresAt ?? 0) - expiresAt)).toBeLessThan(5_000);
      expect(byAddress.get('2001:db8::10')).toEqual({ address: '2001:db8::10', detail: 'admin' });
      await inNs(lab.srv, [
        'conntrack', '-I', '-s', '192.0.2.10', '-d', '10.9.0.1', '-p', 'tcp', '--sport', '40000', '--dport', '443',
        '--state', 'ESTABLISHED', '-t', '120', '-u', 'SEEN_REPLY',
      ]);
      expect(await adapter.killStates('192.0.2.10')).toBe(1);
    }, 120_000);

    it('a pinned SHA-256 fingerprint (found through ssh-keyscan) connects and reads the versions', async () => {
      const blob = lab.hostPub.split(' ')[1] ?? '';
      const adapter = sshAdapter(lab, { hostKey: { mode: 'fingerprint', sha256: sshFingerprint(blob) } });
      const version = await adapter.version();
      expect(version.api).toMatch(/^nftables v\d/);
      expect(version.product).toMatch(/^Linux /);
    }, 60_000);

    it('a different pinned fingerprint is NFT003, naming the offered one', async () => {
      const other = readFileSync(join(lab.dir, 'other.pub'), 'utf8').split(' ')[1] ?? '';
      const err = await failure(sshAdapter(lab, { hostKey: { mode: 'fingerprint', sha256: sshFingerprint(other) } }));
      expect(err.code).toBe('NFT003');
      expect(err.message).toContain(sshFingerprint(lab.hostPub.split(' ')[1] ?? ''));
    }, 60_000);

    it('a known_hosts line of another key is NFT003 (ssh: host key verification failed)', async () => {
      const other = readFileSync(join(lab.dir, 'other.pub'), 'utf8');
      const err = await failure(sshAdapter(lab, { hostKey: { mode: 'known_hosts', lines: other } }));
      expect(err.code).toBe('NFT003');
    }, 60_000);

    it('a key the host does not accept is NFT001, and the key is in no message', async () => {
      const err = await failure(
        sshAdapter(lab, { hostKey: { mode: 'known_hosts', lines: lab.hostPub }, key: lab.otherKey }),
      );
      expect(err.code).toBe('NFT001');
      const body = lab.otherKey.split('\n')[1] ?? '';
      expect(body.length).toBeGreaterThan(20);
      expect(err.message).not.toContain(body);
      expect(JSON.stringify(err)).not.toContain(body);
    }, 60_000);

    it('nothing listening is NFT000 (retryable)', async () => {
      const err = await failure(sshAdapter(lab, { hostKey: { mode: 'known_hosts', lines: lab.hostPub }, port: 2299 }));
      expect(err.code).toBe('NFT000');
      expect(err.retryable).toBe(true);
    }, 60_000);

    it('leaves no key file behind', async () => {
      const before = execFileSync('ls', [tmpdir()]).toString().split('\n').filter((n) => n.startsWith('portcullis-ssh-'));
      await sshAdapter(lab, { hostKey: { mode: 'known_hosts', lines: lab.hostPub } }).version();
      const after = execFileSync('ls', [tmpdir()]).toString().split('\n').filter((n) => n.startsWith('portcullis-ssh-'));
      expect(after.filter((n) => !before.includes(n))).toEqual([]);
    }, 60_000);
  });
}
