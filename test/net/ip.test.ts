/**
 * @module Tests for `src/net/ip.ts`: named tables for the tricky spellings, and fast-check properties against
 * independent oracles (Node's `net.isIP` for validity, the WHATWG URL serializer for canonical IPv6 text,
 * plain bigint arithmetic for containment).
 */
import { isIP } from 'node:net';
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import type { Cidr, IpAddress } from '../../src/net/ip.ts';
import {
  cidrBounds,
  cidrContains,
  compareIp,
  formatCidr,
  formatIp,
  formatIpv6,
  isIpv4,
  isIpv6,
  mapIpv4,
  normalizeCidr,
  normalizeIp,
  parseCidr,
  parseCidrResult,
  parseIp,
  rangeToCidrs,
  unmapIpv4,
} from '../../src/net/ip.ts';

function ip(text: string): IpAddress {
  const address = parseIp(text);
  if (address === null) throw new Error(`test input ${text} is not an address`);
  return address;
}

function cidrOf(text: string): Cidr {
  const cidr = parseCidr(text);
  if (cidr === null) throw new Error(`test input ${text} is not a prefix`);
  return cidr;
}

describe('parseIp / formatIp', () => {
  it.each([
    ['plain IPv4', '192.168.1.50', '192.168.1.50'],
    ['IPv4 all zero', '0.0.0.0', '0.0.0.0'],
    ['IPv4 broadcast', '255.255.255.255', '255.255.255.255'],
    ['IPv6 unspecified', '::', '::'],
    ['IPv6 loopback', '::1', '::1'],
    ['IPv6 trailing gap', '1::', '1::'],
    ['IPv6 full form is compressed', '2001:0db8:0000:0000:0000:ff00:0042:8329', '2001:db8::ff00:42:8329'],
    ['IPv6 upper case is lowered', 'FE80::ABCD', 'fe80::abcd'],
    ['RFC 5952 §4.2.3: first of equal runs', '2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['RFC 5952 §4.2.2: single zero group not compressed', '2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
    ['RFC 5952 §5: v4-mapped keeps dotted tail', '::ffff:c000:0201', '::ffff:192.0.2.1'],
    ['embedded IPv4 tail', '64:ff9b::192.0.2.33', '64:ff9b::c000:221'],
    ['zone is kept', 'fe80::1%em0', 'fe80::1%em0'],
    ['zone with VLAN dot', 'fe80::1%em0.10', 'fe80::1%em0.10'],
  ])('%s: %s → %s', (_name, text, canonical) => {
    expect(formatIp(ip(text))).toBe(canonical);
  });

  it.each([
    ['leading zero (octal ambiguity)', '010.0.0.1'],
    ['octet over 255', '256.1.1.1'],
    ['three parts', '1.2.3'],
    ['five parts', '1.2.3.4.5'],
    ['empty part', '1..2.3'],
    ['whitespace', ' 1.2.3.4'],
    ['two gaps', '1::2::3'],
    ['triple colon', '1:::2'],
    ['leading single colon', ':1::'],
    ['trailing single colon', '1::2:'],
    ['nine groups', '1:2:3:4:5:6:7:8:9'],
    ['gap plus eight groups', '1:2:3:4:5:6:7:8::'],
    ['five hex digits', '::12345'],
    ['short IPv4 tail', '::1.2.3'],
    ['IPv4 tail not last', '::1.2.3.4:5'],
    ['empty zone', 'fe80::1%'],
    ['zone with space', 'fe80::1%em 0'],
    ['brackets are the caller’s job', '[::1]'],
    ['prefix is not an address', '10.0.0.0/8'],
    ['empty', ''],
  ])('rejects %s: %j', (_name, text) => {
    expect(parseIp(text)).toBeNull();
  });

  test.prop([fc.string({ unit: fc.constantFrom(...'0123456789abcdefABCDEF:.%ez'), maxLength: 45 })], {
    numRuns: 3000,
  })('agrees with net.isIP on validity and family', (text) => {
    const address = parseIp(text);
    expect(address?.family ?? 0).toBe(isIP(text));
  });

  test.prop([fc.ipV4(), fc.ipV6()], { numRuns: 2000 })('accepts what fast-check generates', (v4, v6) => {
    expect(isIpv4(v4)).toBe(true);
    expect(isIpv6(v6)).toBe(true);
  });

  test.prop([fc.bigInt({ min: 0n, max: (1n << 128n) - 1n })], { numRuns: 2000 })(
    'IPv6 text agrees with the WHATWG URL serializer and round-trips',
    (value) => {
      const text = formatIpv6(value);
      expect(parseIp(text)).toEqual({ family: 6, value });
      const full = value
        .toString(16)
        .padStart(32, '0')
        .replace(/(.{4})(?!$)/g, '$1:');
      expect(parseIp(full)).toEqual({ family: 6, value });
      if (value >> 32n !== 0xffffn) expect(`[${text}]`).toBe(new URL(`http://[${full}]/`).hostname);
    },
  );

  test.prop([fc.ipV4()])('IPv4 round-trips', (text) => {
    expect(normalizeIp(text)).toBe(text);
  });
});

describe('v4-mapped addresses', () => {
  it('unmaps ::ffff:a.b.c.d and leaves other addresses alone', () => {
    expect(formatIp(unmapIpv4(ip('::ffff:10.1.2.3')))).toBe('10.1.2.3');
    expect(formatIp(unmapIpv4(ip('::10.1.2.3')))).toBe('::a01:203');
    expect(formatIp(mapIpv4({ family: 4, value: 0x0a010203 }))).toBe('::ffff:10.1.2.3');
  });

  it('a v4-mapped address is not inside an IPv4 prefix until unmapped', () => {
    const net = cidrOf('10.0.0.0/8');
    const mapped = ip('::ffff:10.1.2.3');
    expect(cidrContains(net, mapped)).toBe(false);
    expect(cidrContains(net, unmapIpv4(mapped))).toBe(true);
  });
});

describe('parseCidr', () => {
  it.each([
    ['host bits cleared by default', '10.1.2.3/8', {}, '10.0.0.0/8'],
    ['bare IPv4 is /32', '10.1.2.3', {}, '10.1.2.3/32'],
    ['bare IPv6 is /128', '2001:db8::1', {}, '2001:db8::1/128'],
    ['IPv6 host bits cleared', '2001:db8::1/32', {}, '2001:db8::/32'],
    ['zero prefix', '1.2.3.4/0', {}, '0.0.0.0/0'],
    ['strict accepts a clean network', '192.168.0.0/16', { strict: true }, '192.168.0.0/16'],
  ])('%s: %s', (_name, text, options, canonical) => {
    expect(normalizeCidr(text, options)).toBe(canonical);
  });

  it.each([
    ['strict rejects host bits', '10.1.2.3/8', { strict: true }, 'host bits are set (network is 10.0.0.0/8)'],
    ['IPv4 prefix too long', '10.0.0.0/33', {}, 'prefix length 33 is out of range 0-32'],
    ['IPv6 prefix too long', '::/129', {}, 'prefix length 129 is out of range 0-128'],
    ['leading zero prefix', '10.0.0.0/08', {}, 'prefix length has a leading zero'],
    ['empty prefix', '10.0.0.0/', {}, 'prefix length must be 1-3 decimal digits'],
    ['signed prefix', '10.0.0.0/+8', {}, 'prefix length must be decimal digits'],
    ['bare address refused', '10.0.0.1', { allowBareAddress: false }, 'missing "/prefix-length"'],
    ['zone refused', 'fe80::%em0/64', {}, 'a prefix cannot carry a %zone'],
    ['not an address', 'example.com/24', {}, '"example.com" is not an IPv4 or IPv6 address'],
  ])('%s: %s', (_name, text, options, reason) => {
    expect(parseCidrResult(text, options)).toEqual({ ok: false, reason });
    expect(parseCidr(text, options)).toBeNull();
  });

  test.prop([
    fc.integer({ min: 0, max: 0xffffffff }),
    fc.integer({ min: 0, max: 32 }),
    fc.integer({ min: 0, max: 0xffffffff }),
  ])('IPv4 containment agrees with integer division', (base, prefix, probe) => {
    const cidr = cidrOf(`${formatIp({ family: 4, value: base })}/${prefix}`);
    const size = 2 ** (32 - prefix);
    const inside = Math.floor(probe / size) === Math.floor(base / size);
    expect(cidrContains(cidr, { family: 4, value: probe })).toBe(inside);
    const { first, last } = cidrBounds(cidr as Extract<typeof cidr, { family: 4 }>);
    expect(first).toBe(Math.floor(base / size) * size);
    expect(last - first + 1).toBe(size);
  });

  test.prop([
    fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }),
    fc.integer({ min: 0, max: 128 }),
    fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }),
  ])('IPv6 containment agrees with bigint division', (base, prefix, probe) => {
    const cidr = cidrOf(`${formatIpv6(base)}/${prefix}`);
    const size = 1n << BigInt(128 - prefix);
    expect(cidrContains(cidr, { family: 6, value: probe })).toBe(probe / size === base / size);
    expect(cidrContains(cidr, { family: 6, value: base })).toBe(true);
  });

  it('prefix inside prefix, and never across families', () => {
    const outer = cidrOf('10.0.0.0/8');
    expect(cidrContains(outer, cidrOf('10.2.0.0/16'))).toBe(true);
    expect(cidrContains(cidrOf('10.2.0.0/16'), outer)).toBe(false);
    expect(cidrContains(cidrOf('::/0'), ip('1.2.3.4'))).toBe(false);
    expect(cidrContains(cidrOf('0.0.0.0/0'), ip('::1'))).toBe(false);
  });
});

describe('rangeToCidrs', () => {
  test.prop([fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 5000 })])(
    'covers exactly the IPv4 range with aligned blocks in order',
    (first, span) => {
      const last = Math.min(0xffffffff, first + span);
      const cidrs = rangeToCidrs(4, first, last);
      let next = first;
      for (const cidr of cidrs) {
        const bounds = cidrBounds(cidr);
        expect(bounds.first).toBe(next);
        next = bounds.last + 1;
      }
      expect(next).toBe(last + 1);
    },
  );

  it('whole IPv6 space is one prefix', () => {
    expect(rangeToCidrs(6, 0n, (1n << 128n) - 1n).map(formatCidr)).toEqual(['::/0']);
  });
});

it('compareIp orders IPv4 before IPv6, then numerically', () => {
  const sorted = ['::1', '10.0.0.2', '10.0.0.10', '::']
    .map((t) => ip(t))
    .sort(compareIp)
    .map(formatIp);
  expect(sorted).toEqual(['10.0.0.2', '10.0.0.10', '::', '::1']);
});
