/** @module SSRF guard for gateway hosts: literals, names, resolved addresses, allow-list (ADR 0070). */
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/errors.ts';
import { formatIpv4, type IpAddress, parseIp } from '../../src/net/ip.ts';
import {
  checkGatewayHost,
  embeddedIpv4,
  guardedLookup,
  type HostResolver,
  parseHostAllowList,
} from '../../src/net/ssrf.ts';

/** A resolver answering from a fixed table, so tests never touch the network. */
function tableResolver(table: Record<string, string[]>): HostResolver {
  return async (name) => {
    const addresses = table[name];
    if (addresses === undefined)
      throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${name}`), { code: 'ENOTFOUND' });
    return addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
}

const resolve = tableResolver({
  'fw.example.net': ['198.51.100.1', '2001:db8::1'],
  'rebind.example.net': ['198.51.100.2', '127.0.0.1'],
  'imds.example.net': ['169.254.169.254'],
  'mapped.example.net': ['::ffff:127.0.0.1'],
  'lab.example.net': ['127.0.0.1'],
  'empty.example.net': [],
  'sixtofour.example.net': ['2002:a9fe:a9fe::1'],
});

async function rejection(
  url: string,
  options: Parameters<typeof checkGatewayHost>[1] = {},
): Promise<ValidationError> {
  try {
    await checkGatewayHost(url, { resolve, ...options });
  } catch (err) {
    if (err instanceof ValidationError) return err;
    throw err;
  }
  throw new Error(`${url} was accepted`);
}

describe('checkGatewayHost rejects', () => {
  it.each([
    { name: 'no scheme', url: '192.0.2.1', reason: /absolute http/ },
    { name: 'ftp scheme', url: 'ftp://198.51.100.1/', reason: /http or https/ },
    { name: 'file scheme', url: 'file:///etc/passwd', reason: /http or https/ },
    {
      name: 'credentials in the URL',
      url: 'https://admin:pw@198.51.100.1/',
      reason: /user name or password/,
    },
    { name: 'IPv4 loopback', url: 'https://127.0.0.1/', reason: /loopback/ },
    { name: 'IPv4 loopback anywhere in 127/8', url: 'https://127.45.6.7:8443/', reason: /loopback/ },
    { name: 'loopback written as one integer', url: 'https://2130706433/', reason: /loopback/ },
    { name: 'loopback written in hex parts', url: 'https://0x7f.1/', reason: /loopback/ },
    { name: 'loopback written in octal', url: 'https://0177.0.0.1/', reason: /loopback/ },
    { name: 'IPv6 loopback', url: 'https://[::1]:8443/', reason: /loopback/ },
    { name: 'unspecified IPv4', url: 'https://0.0.0.0/', reason: /unspecified/ },
    { name: 'anything in 0.0.0.0/8', url: 'https://0.1.2.3/', reason: /unspecified/ },
    { name: 'unspecified IPv6', url: 'https://[::]/', reason: /unspecified/ },
    { name: 'IPv4 link-local', url: 'https://169.254.10.20/', reason: /link-local/ },
    { name: 'IPv6 link-local', url: 'https://[fe80::1]/', reason: /link-local/ },
    { name: 'IPv6 link-local upper end of fe80::/10', url: 'https://[febf::1]/', reason: /link-local/ },
    { name: 'metadata address', url: 'http://169.254.169.254/latest/meta-data/', reason: /metadata/ },
    { name: 'Alibaba metadata address', url: 'http://100.100.100.200/', reason: /metadata/ },
    { name: 'AWS IPv6 metadata address', url: 'http://[fd00:ec2::254]/', reason: /metadata/ },
    {
      name: 'IPv4-mapped loopback',
      url: 'https://[::ffff:127.0.0.1]/',
      reason: /loopback address in IPv6 form/,
    },
    {
      name: 'IPv4-mapped metadata',
      url: 'https://[::ffff:a9fe:a9fe]/',
      reason: /metadata address in IPv6 form/,
    },
    { name: 'NAT64 loopback', url: 'https://[64:ff9b::7f00:1]/', reason: /loopback address in IPv6 form/ },
    // Every IPv6 transition form that embeds 169.254.169.254 (a9fe:a9fe) reaches the metadata service.
    { name: 'NAT64 metadata', url: 'http://[64:ff9b::a9fe:a9fe]/', reason: /metadata address in IPv6 form/ },
    {
      name: 'local-use NAT64 /48 metadata (RFC 8215, u octet skipped)',
      url: 'http://[64:ff9b:1:a9fe:a9:fe00::]/',
      reason: /metadata address in IPv6 form/,
    },
    {
      name: 'local-use NAT64 /64 metadata',
      url: 'http://[64:ff9b:1:0:a9:fea9:fe00:0]/',
      reason: /metadata address in IPv6 form/,
    },
    {
      name: 'local-use NAT64 /96 metadata',
      url: 'http://[64:ff9b:1::a9fe:a9fe]/',
      reason: /metadata address in IPv6 form/,
    },
    { name: '6to4 metadata', url: 'http://[2002:a9fe:a9fe::1]/', reason: /metadata address in IPv6 form/ },
    { name: '6to4 loopback', url: 'http://[2002:7f00:1::]/', reason: /loopback address in IPv6 form/ },
    { name: 'SIIT metadata', url: 'http://[::ffff:0:a9fe:a9fe]/', reason: /metadata address in IPv6 form/ },
    {
      name: 'IPv4-compatible metadata',
      url: 'http://[::169.254.169.254]/',
      reason: /metadata address in IPv6 form/,
    },
    {
      name: 'Teredo with an obfuscated metadata client address',
      url: 'http://[2001:0:4136:e378:8000:63bf:5601:5601]/',
      reason: /metadata address in IPv6 form/,
    },
    { name: 'Teredo with a loopback server', url: 'http://[2001:0:7f00:1::1]/', reason: /loopback address in IPv6 form/ },
    {
      name: 'a name resolving to a 6to4 metadata address',
      url: 'https://sixtofour.example.net/',
      reason: /metadata address in IPv6 form/,
    },
    {
      name: 'metadata name',
      url: 'http://metadata.google.internal/computeMetadata/v1/',
      reason: /metadata name/,
    },
    {
      name: 'metadata name with trailing dot and capitals',
      url: 'http://Metadata.Google.Internal./',
      reason: /metadata name/,
    },
    { name: 'bare "metadata"', url: 'http://metadata/', reason: /metadata name/ },
    { name: 'instance-data', url: 'http://instance-data/latest/', reason: /metadata name/ },
    { name: 'localhost', url: 'https://localhost:8443/', reason: /loopback name/ },
    { name: 'a .localhost name', url: 'https://fw.localhost/', reason: /loopback name/ },
    {
      name: 'a name resolving to a metadata address',
      url: 'https://imds.example.net/',
      reason: /resolves to 169\.254\.169\.254, a cloud metadata/,
    },
    {
      name: 'a name with one forbidden address among several',
      url: 'https://rebind.example.net/',
      reason: /resolves to 127\.0\.0\.1/,
    },
    {
      name: 'a name resolving to a v4-mapped loopback',
      url: 'https://mapped.example.net/',
      reason: /loopback address in IPv6 form/,
    },
    {
      name: 'a name that does not resolve',
      url: 'https://nowhere.example.net/',
      reason: /could not be resolved \(ENOTFOUND\)/,
    },
    { name: 'a name resolving to nothing', url: 'https://empty.example.net/', reason: /no address/ },
  ])('$name', async ({ url, reason }) => {
    const err = await rejection(url);
    expect(err.field).toBe('url');
    expect(err.message).toMatch(reason);
  });

  it('names the field it is given and never echoes the path or query', async () => {
    const err = await rejection('https://127.0.0.1/api?key=s3cr3t', { field: 'target' });
    expect(err.field).toBe('target');
    expect(err.message).not.toContain('s3cr3t');
  });
});

describe('checkGatewayHost accepts', () => {
  it('a public address literal', async () => {
    const checked = await checkGatewayHost('https://198.51.100.1:8443/', { resolve });
    expect(checked).toMatchObject({ host: '198.51.100.1', addresses: ['198.51.100.1'], allowListed: false });
  });

  it('a private (RFC 1918) firewall address, as most gateways are', async () => {
    await expect(checkGatewayHost('https://192.168.1.1/', { resolve })).resolves.toMatchObject({
      host: '192.168.1.1',
    });
  });

  it('a name whose every address is allowed, reporting them all', async () => {
    const checked = await checkGatewayHost('https://fw.example.net/', { resolve });
    expect(checked.addresses).toEqual(['198.51.100.1', '2001:db8::1']);
  });

  it.each([
    { name: '6to4 of a public address', url: 'https://[2002:c633:6401::1]/' },
    { name: 'Teredo with public server and client', url: 'https://[2001:0:4136:e378:8000:63bf:39cc:9bfe]/' },
    { name: 'NAT64 of a private firewall address', url: 'https://[64:ff9b::c0a8:101]/' },
  ])('an IPv6 transition form embedding an allowed address: $name', async ({ url }) => {
    await expect(checkGatewayHost(url, { resolve })).resolves.toMatchObject({ allowListed: false });
  });

  it('an IPv6 literal without brackets in the result', async () => {
    await expect(checkGatewayHost('https://[2001:db8::9]/', { resolve })).resolves.toMatchObject({
      host: '2001:db8::9',
    });
  });

  it.each([
    { name: 'an allow-listed loopback address', url: 'https://127.0.0.1:9443/', allow: '127.0.0.1' },
    {
      name: 'an address inside an allow-listed CIDR',
      url: 'https://[::1]:9443/',
      allow: '10.0.0.0/8, ::1/128',
    },
    {
      name: 'an allow-listed name, without resolving it',
      url: 'https://localhost:9443/',
      allow: 'LOCALHOST',
    },
    {
      name: 'a name resolving into an allow-listed range',
      url: 'https://lab.example.net/',
      allow: '127.0.0.0/8',
    },
  ])('$name', async ({ url, allow }) => {
    const checked = await checkGatewayHost(url, { resolve, allowHosts: parseHostAllowList(allow) });
    expect(checked.allowListed).toBe(true);
  });

  it('an allow-list entry does not open other forbidden addresses', async () => {
    const err = await rejection('https://169.254.169.254/', { allowHosts: parseHostAllowList('127.0.0.1') });
    expect(err.message).toMatch(/metadata/);
  });

  it('resolves real names with dns.lookup by default (localhost needs the allow-list, plain names resolve)', async () => {
    const err = await checkGatewayHost('https://localhost/').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ValidationError);
    const allowed = await checkGatewayHost('https://localhost/', {
      allowHosts: parseHostAllowList('localhost'),
    });
    expect(allowed.allowListed).toBe(true);
  });
});

describe('embeddedIpv4', () => {
  const v4 = (text: string) => embeddedIpv4(parseIp(text) as IpAddress).map(formatIpv4);
  it('reads the IPv4 address of each transition form', () => {
    expect(v4('::ffff:198.51.100.7')).toEqual(['198.51.100.7']);
    expect(v4('::ffff:0:198.51.100.7')).toEqual(['198.51.100.7']);
    expect(v4('64:ff9b::198.51.100.7')).toEqual(['198.51.100.7']);
    expect(v4('2002:c633:6407::')).toEqual(['198.51.100.7']);
    // Teredo: server 65.54.227.120, client 198.51.100.7 stored inverted.
    expect(v4('2001:0:4136:e378:8000:63bf:39cc:9bf8')).toEqual(['65.54.227.120', '198.51.100.7']);
  });
  it('reads a local-use NAT64 address at every prefix length the operator may use', () => {
    expect(v4('64:ff9b:1:c633:64:700::')).toContain('198.51.100.7');
    expect(v4('64:ff9b:1::c633:6407')).toContain('198.51.100.7');
  });
  it('finds nothing in a plain IPv6 or IPv4 address', () => {
    expect(v4('2001:db8::1')).toEqual([]);
    expect(v4('198.51.100.7')).toEqual([]);
  });
});

describe('parseHostAllowList', () => {
  it('reads names, addresses and CIDRs, ignoring blanks', () => {
    const list = parseHostAllowList(' emu.lab , 127.0.0.1,,[::1], 10.0.0.0/8 ');
    expect([...list.names]).toEqual(['emu.lab']);
    expect(list.ranges.map((r) => r.prefix)).toEqual([32, 128, 8]);
  });

  it('is empty when unset', () => {
    expect(parseHostAllowList(undefined)).toEqual({ names: new Set(), ranges: [] });
  });

  it.each(['10.0.0.0/33', 'bad host!', 'http://x'])('refuses %s, naming the variable', (entry) => {
    expect(() => parseHostAllowList(entry)).toThrow(/PORTCULLIS_ALLOW_GATEWAY_HOSTS/);
  });
});

describe('guardedLookup', () => {
  const lookup = (host: string, allow = parseHostAllowList(undefined)) =>
    new Promise<{ err: NodeJS.ErrnoException | null; address: unknown }>((done) =>
      guardedLookup(allow)(host, {}, (err, address) => done({ err, address })),
    );

  it('refuses at connect time a name resolving to loopback', async () => {
    const { err } = await lookup('localhost');
    expect(err?.code).toBe('ESSRFBLOCKED');
  });

  it('lets an allow-listed name through and a real connection succeeds', async () => {
    const server = createServer((socket) => socket.end('ok'));
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    const port = (server.address() as { port: number }).port;
    const { Socket } = await import('node:net');
    const text = await new Promise<string>((done, fail) => {
      const socket = new Socket();
      let data = '';
      socket.on('data', (chunk) => {
        data += chunk.toString();
      });
      socket.on('end', () => done(data));
      socket.on('error', fail);
      socket.connect({
        host: 'localhost',
        port,
        family: 4,
        lookup: guardedLookup(parseHostAllowList('127.0.0.0/8')),
      });
    });
    server.close();
    expect(text).toBe('ok');
  });
});
