/**
 * @module Property tests for `src/net/prefix-index.ts` against the naive oracle "some prefix of the set contains
 * the address" (`cidrContains` over the list), for both families, with probes biased to interval edges.
 */
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { type Cidr, cidrBounds, cidrContains, type IpAddress, parseCidr, parseIp } from '../../src/net/ip.ts';
import { MultiPrefixIndex, PrefixSet } from '../../src/net/prefix-index.ts';

// Small address spaces make overlaps, adjacency and nesting common.
const v4Cidr = fc
  .record({ base: fc.integer({ min: 0, max: 0xffffffff }), prefix: fc.integer({ min: 20, max: 32 }) })
  .map(({ base, prefix }): Cidr => {
    const size = 2 ** (32 - prefix);
    return { family: 4, network: (Math.floor((base & 0x3fff) / size) * size) >>> 0, prefix };
  });
const v4Edge = fc.constantFrom<Cidr>(
  { family: 4, network: 0, prefix: 0 },
  { family: 4, network: 0xffffffff, prefix: 32 },
  { family: 4, network: 0, prefix: 32 },
);
const v6Cidr = fc
  .record({ base: fc.bigInt({ min: 0n, max: 0xffffn }), prefix: fc.integer({ min: 116, max: 128 }) })
  .map(({ base, prefix }): Cidr => {
    const size = 1n << BigInt(128 - prefix);
    return { family: 6, network: (base / size) * size, prefix };
  });
const anyCidr = fc.oneof(v4Cidr, v4Cidr, v4Edge, v6Cidr);
const cidrList = fc.array(anyCidr, { maxLength: 12 });

/** Probe addresses: interval edges of the given sets (and ±1), plus random ones. */
function probes(sets: Cidr[][], extra: IpAddress[]): IpAddress[] {
  const out = [...extra];
  for (const cidr of sets.flat()) {
    if (cidr.family === 4) {
      const { first, last } = cidrBounds(cidr);
      for (const v of [first - 1, first, last, last + 1])
        if (v >= 0 && v <= 0xffffffff) out.push({ family: 4, value: v });
    } else {
      const { first, last } = cidrBounds(cidr);
      for (const v of [first - 1n, first, last, last + 1n]) if (v >= 0n) out.push({ family: 6, value: v });
    }
  }
  return out;
}

const randomAddress = fc.oneof(
  fc.integer({ min: 0, max: 0x3fff }).map((value): IpAddress => ({ family: 4, value })),
  fc.integer({ min: 0, max: 0xffffffff }).map((value): IpAddress => ({ family: 4, value })),
  fc.bigInt({ min: 0n, max: 0xffffn }).map((value): IpAddress => ({ family: 6, value })),
);

const naiveHas = (cidrs: Cidr[], address: IpAddress) => cidrs.some((cidr) => cidrContains(cidr, address));

describe('PrefixSet', () => {
  test.prop([cidrList, fc.array(randomAddress, { maxLength: 10 })], { numRuns: 500 })(
    'agrees with a linear scan of the prefixes',
    (cidrs, extra) => {
      const set = new PrefixSet(cidrs);
      for (const address of probes([cidrs], extra)) expect(set.has(address)).toBe(naiveHas(cidrs, address));
    },
  );

  it('merges overlapping and adjacent prefixes into one interval', () => {
    const set = new PrefixSet(
      ['10.0.0.0/25', '10.0.0.128/25', '10.0.0.7/32'].map((t) => parseCidr(t) as Cidr),
    );
    expect(set.intervalCount).toBe(1);
  });

  it('keeps families apart: ::/0 does not contain 1.2.3.4, ::ffff:1.2.3.4 is not in 0.0.0.0/0', () => {
    const v6all = new PrefixSet([parseCidr('::/0') as Cidr]);
    const v4all = new PrefixSet([parseCidr('0.0.0.0/0') as Cidr]);
    expect(v6all.has(parseIp('1.2.3.4') as IpAddress)).toBe(false);
    expect(v4all.has(parseIp('::ffff:1.2.3.4') as IpAddress)).toBe(false);
    expect(v4all.has(parseIp('255.255.255.255') as IpAddress)).toBe(true);
  });
});

describe('MultiPrefixIndex', () => {
  test.prop(
    [fc.array(cidrList, { minLength: 0, maxLength: 40 }), fc.array(randomAddress, { maxLength: 10 })],
    {
      numRuns: 300,
    },
  )('classOf + classHas agrees with a linear scan of every set', (sets, extra) => {
    const index = new MultiPrefixIndex(sets);
    for (const address of probes(sets, extra)) {
      const classId = index.classOf(address);
      const expected = sets.flatMap((cidrs, s) => (naiveHas(cidrs, address) ? [s] : []));
      expect(index.classMembers(classId)).toEqual(expected);
    }
  });

  it('gives the empty class id 0 and interns equal combinations once', () => {
    const a = ['10.0.0.0/8', '192.168.0.0/16'].map((t) => parseCidr(t) as Cidr);
    const index = new MultiPrefixIndex([a, a]);
    expect(index.classOf(parseIp('11.0.0.1') as IpAddress)).toBe(0);
    expect(index.classOf(parseIp('10.0.0.1') as IpAddress)).toBe(
      index.classOf(parseIp('192.168.3.3') as IpAddress),
    );
    expect(index.classCount).toBe(2);
  });
});
