/** @module Client address: socket peer by default, X-Forwarded-For only from trusted proxies (ADR 0070). */
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/errors.ts';
import { canonicalAddress, parseTrustedProxies, resolveClientAddress } from '../../src/net/client-ip.ts';

const trusted = parseTrustedProxies('10.0.0.0/8, 2001:db8:aaaa::/48');

describe('resolveClientAddress', () => {
  it.each([
    {
      name: 'socket peer when no proxy is trusted',
      socket: '203.0.113.5',
      xff: '198.51.100.1',
      proxies: [],
      ip: '203.0.113.5',
      source: 'socket',
    },
    {
      name: 'XFF ignored from an untrusted peer',
      socket: '203.0.113.5',
      xff: '198.51.100.1',
      proxies: trusted,
      ip: '203.0.113.5',
      source: 'socket',
    },
    {
      name: 'XFF honoured from a trusted proxy',
      socket: '10.1.1.1',
      xff: '198.51.100.1',
      proxies: trusted,
      ip: '198.51.100.1',
      source: 'x-forwarded-for',
    },
    {
      name: 'walks from the right, skipping trusted hops, stops at the first untrusted (spoofed left entry ignored)',
      socket: '10.1.1.1',
      xff: '6.6.6.6, 198.51.100.1, 10.2.2.2',
      proxies: trusted,
      ip: '198.51.100.1',
      source: 'x-forwarded-for',
    },
    {
      name: 'all hops trusted gives the leftmost',
      socket: '10.1.1.1',
      xff: '10.3.3.3, 10.2.2.2',
      proxies: trusted,
      ip: '10.3.3.3',
      source: 'x-forwarded-for',
    },
    {
      name: 'trusted proxy without XFF is the client itself',
      socket: '10.1.1.1',
      xff: undefined,
      proxies: trusted,
      ip: '10.1.1.1',
      source: 'socket',
    },
    {
      name: 'empty XFF from a trusted proxy',
      socket: '10.1.1.1',
      xff: ' , ',
      proxies: trusted,
      ip: '10.1.1.1',
      source: 'socket',
    },
    {
      name: 'v4-mapped socket address is reported as IPv4',
      socket: '::ffff:203.0.113.5',
      xff: undefined,
      proxies: [],
      ip: '203.0.113.5',
      source: 'socket',
    },
    {
      name: 'v4-mapped trusted proxy matches an IPv4 range',
      socket: '::ffff:10.1.1.1',
      xff: '198.51.100.1',
      proxies: trusted,
      ip: '198.51.100.1',
      source: 'x-forwarded-for',
    },
    {
      name: 'IPv6 proxy and IPv6 client, canonical form',
      socket: '2001:db8:aaaa::1',
      xff: '2001:DB8:0:0::9',
      proxies: trusted,
      ip: '2001:db8::9',
      source: 'x-forwarded-for',
    },
    {
      name: 'ports on hops are stripped',
      socket: '10.1.1.1',
      xff: '198.51.100.1:5123, [2001:db8::9]:443',
      proxies: trusted,
      ip: '2001:db8::9',
      source: 'x-forwarded-for',
    },
    {
      name: 'repeated XFF headers are read as one list',
      socket: '10.1.1.1',
      xff: ['198.51.100.1', '10.2.2.2'],
      proxies: trusted,
      ip: '198.51.100.1',
      source: 'x-forwarded-for',
    },
    {
      name: 'a garbage hop left of the client is never read',
      socket: '10.1.1.1',
      xff: 'garbage, 198.51.100.1',
      proxies: trusted,
      ip: '198.51.100.1',
      source: 'x-forwarded-for',
    },
  ])('$name', ({ socket, xff, proxies, ip, source }) => {
    expect(resolveClientAddress({ socketAddress: socket, forwardedFor: xff }, proxies)).toEqual({
      ip,
      source,
    });
  });

  it('refuses a garbage hop it would have to believe, naming the header', () => {
    let caught: unknown;
    try {
      resolveClientAddress({ socketAddress: '10.1.1.1', forwardedFor: '198.51.100.1, unknown' }, trusted);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ValidationError);
    expect((caught as ValidationError).field).toBe('x-forwarded-for');
  });

  it('throws when the socket has no address', () => {
    expect(() => resolveClientAddress({ socketAddress: undefined }, [])).toThrow(/no peer address/);
  });
});

describe('parseTrustedProxies', () => {
  it('is empty when unset or blank', () => {
    expect(parseTrustedProxies(undefined)).toEqual([]);
    expect(parseTrustedProxies(' ')).toEqual([]);
  });
  it('refuses a bad entry, naming the variable', () => {
    expect(() => parseTrustedProxies('10.0.0.0/8, proxy.local')).toThrow(
      /PORTCULLIS_TRUST_PROXY: "proxy.local"/,
    );
  });
});

describe('canonicalAddress', () => {
  it.each([
    ['::ffff:192.0.2.1', '192.0.2.1'],
    ['fe80::1%eth0', 'fe80::1'],
    ['2001:0DB8::0001', '2001:db8::1'],
    ['192.0.2.1', '192.0.2.1'],
    ['192.0.2', null],
  ])('%s → %s', (input, output) => {
    expect(canonicalAddress(input)).toBe(output);
  });
});
