/** @module EDL feed rendering and the fetch access rules (wrong key → 401, disallowed source → 403). */
import { describe, expect, it } from 'vitest';
import {
  checkFeedAccess,
  hashFeedKey,
  newFeedKey,
  newFeedToken,
  renderEdlJson,
  renderEdlText,
} from '../../src/access/edl.ts';
import { compileSourceConditions } from '../../src/access/source-conditions.ts';

const desired = [
  { ip: '203.0.113.5', grantIds: ['g1', 'g2'] },
  { ip: '2001:db8::7', grantIds: ['g3'] },
];

describe('rendering', () => {
  it('text: one address per line, LF-terminated', () => {
    expect(renderEdlText(desired)).toBe('203.0.113.5\n2001:db8::7\n');
    expect(renderEdlText([])).toBe('');
  });

  it('json: addresses and count, no grant ids', () => {
    const json = renderEdlJson(desired, new Date('2026-11-21T10:00:00Z'));
    expect(json).toEqual({
      addresses: ['203.0.113.5', '2001:db8::7'],
      count: 2,
      generated_at: '2026-11-21T10:00:00.000Z',
    });
    expect(JSON.stringify(json)).not.toContain('g1');
  });
});

describe('tokens and keys', () => {
  it('are long, random and URL-safe', () => {
    const tokens = new Set(Array.from({ length: 100 }, newFeedToken));
    expect(tokens.size).toBe(100);
    for (const token of tokens) expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(newFeedKey()).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('checkFeedAccess', () => {
  const key = newFeedKey();
  const keyHash = hashFeedKey(key);
  const firewallOnly = compileSourceConditions(['192.0.2.1/32', '2001:db8:f::/48'], []);
  const anywhere = compileSourceConditions([], []);

  it.each([
    {
      name: 'right key in the header from an allowed source',
      fetch: { headerKey: key, clientIp: '192.0.2.1' },
      sources: firewallOnly,
      expected: { ok: true },
    },
    {
      name: 'right key in the query',
      fetch: { queryKey: key, clientIp: '2001:db8:f::1' },
      sources: firewallOnly,
      expected: { ok: true },
    },
    {
      name: 'header wins over query',
      fetch: { headerKey: key, queryKey: 'nope', clientIp: '192.0.2.1' },
      sources: firewallOnly,
      expected: { ok: true },
    },
    {
      name: 'no key → 401',
      fetch: { clientIp: '192.0.2.1' },
      sources: firewallOnly,
      expected: { ok: false, status: 401 },
    },
    {
      name: 'empty key → 401',
      fetch: { headerKey: '', clientIp: '192.0.2.1' },
      sources: firewallOnly,
      expected: { ok: false, status: 401 },
    },
    {
      name: 'wrong key → 401',
      fetch: { headerKey: `${key}x`, clientIp: '192.0.2.1' },
      sources: firewallOnly,
      expected: { ok: false, status: 401 },
    },
    {
      name: 'disallowed source with the right key → 403',
      fetch: { headerKey: key, clientIp: '198.51.100.1' },
      sources: firewallOnly,
      expected: { ok: false, status: 403 },
    },
    {
      name: 'disallowed source with a wrong key → 403',
      fetch: { headerKey: 'nope', clientIp: '198.51.100.1' },
      sources: firewallOnly,
      expected: { ok: false, status: 403 },
    },
    {
      name: 'no source ranges: any source with the key',
      fetch: { headerKey: key, clientIp: '198.51.100.1' },
      sources: anywhere,
      expected: { ok: true },
    },
    {
      name: 'repeated header: the first value counts',
      fetch: { headerKey: [key, 'x'], clientIp: '192.0.2.1' },
      sources: firewallOnly,
      expected: { ok: true },
    },
  ])('$name', ({ fetch, sources, expected }) => {
    const decision = checkFeedAccess(fetch, keyHash, sources);
    expect(decision).toMatchObject(expected);
    if (!decision.ok) expect(decision.reason).not.toContain(key);
  });
});
