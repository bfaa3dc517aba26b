/** @module Desired-set computation: live grants only, shared addresses grouped, canonical addresses. */
import { describe, expect, it } from 'vitest';
import { computeDesiredSet, type GrantSnapshot, isGrantLive } from '../../src/access/desired-set.ts';

const NOW = 1_800_000_000_000;
const grant = (id: string, ip: string, expiresIn: number, endedAt: number | null = null): GrantSnapshot => ({
  id,
  ip,
  expiresAt: NOW + expiresIn,
  endedAt,
});

describe('computeDesiredSet', () => {
  it('is empty for no grants', () => {
    expect(computeDesiredSet([], NOW)).toEqual([]);
  });

  it.each([
    { name: 'running grant is live', g: grant('a', '192.0.2.1', 1), live: true },
    { name: 'grant at its expiry instant is gone', g: grant('a', '192.0.2.1', 0), live: false },
    { name: 'expired grant is gone', g: grant('a', '192.0.2.1', -1), live: false },
    {
      name: 'ended (revoked) grant is gone before expiry',
      g: grant('a', '192.0.2.1', 60_000, NOW - 5),
      live: false,
    },
  ])('$name', ({ g, live }) => {
    expect(isGrantLive(g, NOW)).toBe(live);
    expect(computeDesiredSet([g], NOW).length).toBe(live ? 1 : 0);
  });

  it('keeps a shared address until its last grant ends, listing every live grant and the latest expiry', () => {
    const grants = [
      grant('u2', '198.51.100.7', 5_000),
      grant('u1', '198.51.100.7', 60_000),
      grant('u3', '203.0.113.1', 1),
    ];
    expect(computeDesiredSet(grants, NOW)).toEqual([
      { ip: '198.51.100.7', grantIds: ['u1', 'u2'], expiresAt: NOW + 60_000 },
      { ip: '203.0.113.1', grantIds: ['u3'], expiresAt: NOW + 1 },
    ]);
    expect(computeDesiredSet(grants, NOW + 5_000)).toEqual([
      { ip: '198.51.100.7', grantIds: ['u1'], expiresAt: NOW + 60_000 },
    ]);
    expect(computeDesiredSet(grants, NOW + 60_000)).toEqual([]);
  });

  it('groups spellings of one address: v4-mapped IPv6, IPv6 case and zeros, zones', () => {
    const grants = [
      grant('a', '::ffff:192.0.2.5', 10),
      grant('b', '192.0.2.5', 10),
      grant('c', '2001:DB8::0:1', 10),
      grant('d', '2001:db8::1', 10),
      grant('e', 'fe80::1%em0', 10),
    ];
    expect(computeDesiredSet(grants, NOW)).toEqual([
      { ip: '192.0.2.5', grantIds: ['a', 'b'], expiresAt: NOW + 10 },
      { ip: '2001:db8::1', grantIds: ['c', 'd'], expiresAt: NOW + 10 },
      { ip: 'fe80::1', grantIds: ['e'], expiresAt: NOW + 10 },
    ]);
  });

  it('throws on a grant whose address is not an IP', () => {
    expect(() => computeDesiredSet([grant('x', 'example.com', 10)], NOW)).toThrow(/not an IP/);
  });
});
