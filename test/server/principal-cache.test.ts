/**
 * @module The principal cache's rules (ADR 0013): an entry lives at most the TTL, never past its
 * credential's expiry, is dropped by `clear()`, the oldest entry goes first when full, and TTL 0 disables it.
 */
import { describe, expect, it } from 'vitest';
import { PrincipalCache } from '../../src/server/auth-backend.ts';

const NOW = 1_800_000_000_000;

describe('PrincipalCache', () => {
  it.each([
    { row: 'fresh within the TTL', ttl: 5000, expires: null, at: NOW + 4999, hit: true },
    { row: 'stale after the TTL', ttl: 5000, expires: null, at: NOW + 5000, hit: false },
    {
      row: 'stale once the credential expires, even inside the TTL',
      ttl: 5000,
      expires: new Date(NOW + 1000),
      at: NOW + 1000,
      hit: false,
    },
    {
      row: 'fresh before the credential expires',
      ttl: 5000,
      expires: new Date(NOW + 1000),
      at: NOW + 999,
      hit: true,
    },
    { row: 'never stored with TTL 0', ttl: 0, expires: null, at: NOW, hit: false },
  ])('$row', ({ ttl, expires, at, hit }) => {
    const cache = new PrincipalCache<string>(ttl);
    cache.set('k', 'alice', expires, NOW);
    expect(cache.get('k', at)).toBe(hit ? 'alice' : undefined);
  });

  it('forgets everything on clear()', () => {
    const cache = new PrincipalCache<string>(5000);
    cache.set('a', 'alice', null, NOW);
    cache.clear();
    expect(cache.get('a', NOW)).toBeUndefined();
  });

  it('evicts the oldest entry when full', () => {
    const cache = new PrincipalCache<string>(5000, 2);
    cache.set('a', 'alice', null, NOW);
    cache.set('b', 'bob', null, NOW);
    cache.set('c', 'carol', null, NOW);
    expect([cache.get('a', NOW), cache.get('b', NOW), cache.get('c', NOW)]).toEqual([
      undefined,
      'bob',
      'carol',
    ]);
  });

  it('keys by a hash, never by the credential itself', () => {
    const key = PrincipalCache.key('pc_abcdefghijkl_secret');
    expect(key).not.toContain('secret');
    expect(key).toBe(PrincipalCache.key('pc_abcdefghijkl_secret'));
  });
});
