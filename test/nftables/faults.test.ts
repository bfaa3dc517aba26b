/**
 * @module Every NFT code the local transport can meet, produced by a real fault on the kernel (a namespace per
 * run): nft refused without CAP_NET_ADMIN (NFT002, run as `nobody`), nft missing (NFT005), a command past its
 * timeout (NFT004), a set missing (NFT103) or without its IPv6 companion (NFT104), a set of the name with other
 * flags (NFT101), an element nft refuses (NFT102), output that is not JSON (NFT400). SSH codes: ssh.test.ts.
 * Plus the pure parts: URL parsing, key checks, the ssh argv, quoting and fingerprints.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NftablesAdapter } from '../../src/adapters/nftables/adapter.ts';
import { NftError } from '../../src/adapters/nftables/errors.ts';
import {
  knownHostsFor,
  LocalRunner,
  normalizeSshFingerprint,
  shellQuote,
  sshArgs,
  sshFailure,
} from '../../src/adapters/nftables/transport.ts';
import { checkSetName, keyHasPassphrase, nftablesVendor, parseNftUrl } from '../../src/adapters/nftables/vendor.ts';
import { normalizeFingerprint } from '../../src/adapters/http.ts';
import { deleteNs, inNs, netnsUnavailable, nsName, sh } from './netns.ts';

const why = netnsUnavailable();

async function codeOf(p: Promise<unknown>): Promise<string> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(NftError);
  return (err as NftError).code;
}

describe.skipIf(why !== null)(`NFT codes from real faults${why ? ` (skipped: ${why})` : ''}`, () => {
  const ns = nsName('ft');
  const inside = ['ip', 'netns', 'exec', ns];
  const adapter = new NftablesAdapter({ runner: new LocalRunner(inside) });
  beforeAll(async () => {
    await sh(['ip', 'netns', 'add', ns]);
    await adapter.createAlias('fault_knoc', 'host', '');
  });
  afterAll(async () => {
    await deleteNs(ns);
  });

  it('NFT002: nft without CAP_NET_ADMIN', async () => {
    const nobody = new NftablesAdapter({
      runner: new LocalRunner([...inside, 'setpriv', '--reuid=65534', '--regid=65534', '--clear-groups']),
    });
    expect(await codeOf(nobody.getAlias('fault_knoc'))).toBe('NFT002');
  });

  it('NFT000: the command prefix cannot enter its namespace (it is gone), not a missing table', async () => {
    const gone = new NftablesAdapter({ runner: new LocalRunner(['ip', 'netns', 'exec', nsName('gone')]) });
    expect(await codeOf(gone.getAlias('fault_knoc'))).toBe('NFT000');
  });

  it('the descriptor puts the test-only AdapterTuning.commandPrefix in front of every local command', async () => {
    const built = nftablesVendor.createAdapter({
      url: 'local://',
      credentials: {},
      tls: { mode: 'system' },
      lookup: () => undefined,
      tuning: { commandPrefix: inside },
    });
    expect((await built.getAlias('fault_knoc'))?.name).toBe('fault_knoc');
    await built.close();
  });

  it('NFT005: nft not installed', async () => {
    const missing = new NftablesAdapter({ runner: new LocalRunner(['/nonexistent/portcullis-no-such-binary']) });
    expect(await codeOf(missing.getAlias('x'))).toBe('NFT005');
  });

  it('NFT004: a command past its timeout', async () => {
    const slow = new NftablesAdapter({ runner: new LocalRunner(['sh', '-c', 'sleep 5', '--'], 300) });
    expect(await codeOf(slow.version())).toBe('NFT004');
  });

  it('NFT103: a set that does not exist', async () => {
    expect(await codeOf(adapter.setAliasEntries('no_such_set', []))).toBe('NFT103');
  });

  it('NFT104: an IPv6 address for a set without its _v6 companion', async () => {
    await inNs(ns, ['nft', 'add', 'set', 'inet', 'portcullis', 'only_v4', '{ type ipv4_addr; flags timeout; }']);
    expect(await codeOf(adapter.setAliasEntries('only_v4', [{ address: '2001:db8::1', detail: 'x' }]))).toBe('NFT104');
  });

  it('NFT101: a set of that name with other flags', async () => {
    await inNs(ns, ['nft', 'add', 'set', 'inet', 'portcullis', 'other_flags', '{ type ipv4_addr; }']);
    expect(await codeOf(adapter.createAlias('other_flags', 'host', ''))).toBe('NFT101');
  });

  it('NFT102: an element nft refuses, and a detail it cannot quote', async () => {
    expect(await codeOf(adapter.setAliasEntries('fault_knoc', [{ address: 'not-an-ip', detail: '' }]))).toBe('NFT102');
    expect(await codeOf(adapter.setAliasEntries('fault_knoc', [{ address: '192.0.2.1', detail: 'a "quote"' }]))).toBe('NFT102');
    expect(await codeOf(adapter.setAliasEntries('fault_knoc', [{ address: '192.0.2.1', detail: 'x'.repeat(129) }]))).toBe('NFT102');
  });

  it('NFT400: output that is not nft JSON', async () => {
    const echo = new NftablesAdapter({ runner: new LocalRunner(['sh', '-c', 'echo banner', '--']) });
    expect(await codeOf(echo.getAlias('x'))).toBe('NFT400');
  });

  it('manual elements and their own timeouts are left untouched by a rewrite of ours', async () => {
    await inNs(ns, ['nft', 'add', 'element', 'inet', 'portcullis', 'fault_knoc', '{ 198.51.100.9 timeout 1h comment "manual" }']);
    const before = (await adapter.getAlias('fault_knoc'))?.entries ?? [];
    const manual = before.find((e) => e.address === '198.51.100.9');
    expect(manual?.expiresAt).toBeGreaterThan(Date.now() + 3_000_000);
    await adapter.setAliasEntries('fault_knoc', [
      { address: '198.51.100.9', detail: 'manual' },
      { address: '198.51.100.10', detail: 'portcullis:f1', expiresAt: Date.now() + 60_000 },
    ]);
    const listed = await inNs(ns, ['nft', 'list', 'set', 'inet', 'portcullis', 'fault_knoc']);
    expect(listed.stdout).toMatch(/198\.51\.100\.9 timeout 1h expires/);
  });

  it('a network set takes CIDRs and reads single hosts back as /32', async () => {
    await adapter.createAlias('net_knoc', 'network', 'nets');
    await adapter.setAliasEntries('net_knoc', [
      { address: '10.1.0.0/16', detail: 'office' },
      { address: '192.0.2.7/32', detail: 'portcullis:n1', expiresAt: Date.now() + 60_000 },
    ]);
    const alias = await adapter.getAlias('net_knoc');
    expect(alias?.type).toBe('network');
    expect(alias?.entries.map((e) => e.address).sort()).toEqual(['10.1.0.0/16', '192.0.2.7/32']);
    await adapter.setAliasEntries('net_knoc', [{ address: '10.1.0.0/16', detail: 'office' }]);
    expect((await adapter.getAlias('net_knoc'))?.entries).toEqual([{ address: '10.1.0.0/16', detail: 'office' }]);
  });
});

describe('nftables adapter: pure parts', () => {
  it('gateway URLs: ssh://host[:port] and local://', () => {
    expect(parseNftUrl('ssh://fw.example.net')).toEqual({ kind: 'ssh', host: 'fw.example.net', port: 22 });
    expect(parseNftUrl('ssh://[2001:db8::1]:2222')).toEqual({ kind: 'ssh', host: '2001:db8::1', port: 2222 });
    expect(parseNftUrl('local://')).toEqual({ kind: 'local' });
    expect(() => parseNftUrl('ssh://root@fw')).toThrow(/credentials/);
    expect(() => parseNftUrl('https://fw')).toThrow(TypeError);
    expect(() => parseNftUrl('local://somewhere')).toThrow(TypeError);
  });

  it('set names: letters, digits, underscore; no _v6 suffix, no nft keyword', () => {
    expect(checkSetName('knoc_admins').ok).toBe(true);
    expect(checkSetName('admins_v6').ok).toBe(false);
    expect(checkSetName('tcp').ok).toBe(false);
    expect(checkSetName('1abc').ok).toBe(false);
    expect(checkSetName('a-b').ok).toBe(false);
  });

  it('a passphrase-protected key is recognised', () => {
    expect(keyHasPassphrase('-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n')).toBe(true);
    const none = Buffer.concat([Buffer.from('openssh-key-v1\0'), Buffer.from([0, 0, 0, 4]), Buffer.from('none')]);
    const aes = Buffer.concat([Buffer.from('openssh-key-v1\0'), Buffer.from([0, 0, 0, 10]), Buffer.from('aes256-ctr')]);
    const pem = (b: Buffer) => `-----BEGIN OPENSSH PRIVATE KEY-----\n${b.toString('base64')}\n-----END OPENSSH PRIVATE KEY-----\n`;
    expect(keyHasPassphrase(pem(none))).toBe(false);
    expect(keyHasPassphrase(pem(aes))).toBe(true);
  });

  it('the ssh argv: batch mode, strict pinned host key, key by file, no secret, the command quoted', () => {
    const args = sshArgs(
      { address: '198.51.100.1', hostName: 'fw', port: 2222, username: 'root', connectTimeoutMs: 5_000 },
      { key: '/tmp/k/id', knownHosts: '/tmp/k/known_hosts' },
      true,
      ['nft', '-j', 'list', 'table', 'inet', 'portcullis'],
    );
    const joined = args.join(' ');
    for (const option of [
      'BatchMode=yes',
      'StrictHostKeyChecking=yes',
      'UserKnownHostsFile=/tmp/k/known_hosts',
      'GlobalKnownHostsFile=/dev/null',
      'IdentitiesOnly=yes',
      'HostKeyAlias=fw',
      'PasswordAuthentication=no',
      'ConnectTimeout=5',
    ])
      expect(joined).toContain(option);
    expect(args.slice(-5)).toEqual(['-l', 'root', '--', '198.51.100.1', 'nft -j list table inet portcullis']);
    expect(shellQuote("it's")).toBe(`'it'\\''s'`);
    expect(shellQuote('{ 1.2.3.4 }')).toBe(`'{ 1.2.3.4 }'`);
  });

  it('known_hosts lines, fingerprints, ssh failure classes', () => {
    expect(knownHostsFor('fw', 'ssh-ed25519 AAAAC3Nza comment\n# x\n')).toBe('fw ssh-ed25519 AAAAC3Nza\n');
    const hex = 'ab'.repeat(32);
    const b64 = normalizeSshFingerprint(hex);
    expect(b64).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
    expect(normalizeSshFingerprint(b64)).toBe(b64);
    expect(normalizeFingerprint(b64)).toBe(hex);
    expect(sshFailure('Host key verification failed.\n', 'x')?.code).toBe('NFT003');
    expect(sshFailure('root@h: Permission denied (publickey).\n', 'x')?.code).toBe('NFT001');
    expect(sshFailure('ssh: connect to host h port 22: Connection timed out\n', 'x')?.code).toBe('NFT004');
    expect(sshFailure('ssh: connect to host h port 22: Connection refused\n', 'x')?.code).toBe('NFT000');
  });
});
