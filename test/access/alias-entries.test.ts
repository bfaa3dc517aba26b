/** @module Truth table for the alias entry merge (docs/adr/0071-alias-reconciliation.md). */
import { describe, expect, it } from 'vitest';
import {
  type AddressAliasType,
  EXPIRY_TOLERANCE_MS,
  planAliasEntries,
  tagFor,
  taggedGrantId,
} from '../../src/access/alias-entries.ts';
import type { DesiredEntry } from '../../src/access/desired-set.ts';
import type { AliasEntry } from '../../src/adapters/types.ts';

const ours = (address: string, grant: string): AliasEntry => ({ address, detail: `portcullis:${grant}` });
const manual = (address: string, detail = ''): AliasEntry => ({ address, detail });
const want = (ip: string, ...grantIds: string[]): DesiredEntry => ({ ip, grantIds });

interface Row {
  name: string;
  type?: AddressAliasType;
  current: AliasEntry[];
  desired: DesiredEntry[];
  entries: AliasEntry[];
  added: string[];
  removed: string[];
}

const rows: Row[] = [
  {
    name: 'empty alias, empty set: nothing to do',
    current: [],
    desired: [],
    entries: [],
    added: [],
    removed: [],
  },
  {
    name: 'a grant on an empty alias is appended with its tag',
    current: [],
    desired: [want('198.51.100.7', 'g1')],
    entries: [ours('198.51.100.7', 'g1')],
    added: ['198.51.100.7'],
    removed: [],
  },
  {
    name: 'manual entries stay untouched and in place around ours',
    current: [
      manual('10.0.0.1', 'office'),
      ours('198.51.100.7', 'g1'),
      manual('dns.google'),
      manual('10.9.0.0/16'),
    ],
    desired: [want('198.51.100.7', 'g1'), want('203.0.113.9', 'g2')],
    entries: [
      manual('10.0.0.1', 'office'),
      ours('198.51.100.7', 'g1'),
      manual('dns.google'),
      manual('10.9.0.0/16'),
      ours('203.0.113.9', 'g2'),
    ],
    added: ['203.0.113.9'],
    removed: [],
  },
  {
    name: 'an ended grant removes only our entry',
    current: [manual('10.0.0.1'), ours('198.51.100.7', 'g1'), manual('10.0.0.2')],
    desired: [],
    entries: [manual('10.0.0.1'), manual('10.0.0.2')],
    added: [],
    removed: ['198.51.100.7'],
  },
  {
    name: 'a shared address keeps its entry while another grant lives, retagged',
    current: [ours('198.51.100.7', 'g1')],
    desired: [want('198.51.100.7', 'g2')],
    entries: [ours('198.51.100.7', 'g2')],
    added: [],
    removed: [],
  },
  {
    name: 'a shared address whose tagged grant still lives is left as is',
    current: [ours('198.51.100.7', 'g2')],
    desired: [want('198.51.100.7', 'g1', 'g2')],
    entries: [ours('198.51.100.7', 'g2')],
    added: [],
    removed: [],
  },
  {
    name: 'a desired address already entered by hand is not added twice and not killed later',
    current: [manual('198.51.100.7', 'admin laptop')],
    desired: [want('198.51.100.7', 'g1')],
    entries: [manual('198.51.100.7', 'admin laptop')],
    added: [],
    removed: [],
  },
  {
    name: 'our stale entry next to a manual entry of the same address: dropped, address not reported removed',
    current: [ours('198.51.100.7', 'g1'), manual('198.51.100.7')],
    desired: [],
    entries: [manual('198.51.100.7')],
    added: [],
    removed: [],
  },
  {
    name: 'duplicates of our entry collapse to the first',
    current: [ours('198.51.100.7', 'g1'), ours('198.51.100.7', 'g1')],
    desired: [want('198.51.100.7', 'g1')],
    entries: [ours('198.51.100.7', 'g1')],
    added: [],
    removed: [],
  },
  {
    name: 'an unparseable entry carrying our tag is dropped',
    current: [ours('not-an-ip.example', 'g9')],
    desired: [],
    entries: [],
    added: [],
    removed: [],
  },
  {
    name: 'IPv6 written by the device in another spelling matches the canonical address',
    current: [ours('2001:DB8:0:0:0:0:0:1', 'g1')],
    desired: [want('2001:db8::1', 'g1')],
    entries: [ours('2001:DB8:0:0:0:0:0:1', 'g1')],
    added: [],
    removed: [],
  },
  {
    name: 'a network alias holds single hosts as /32 and /128',
    type: 'network',
    current: [manual('10.0.0.0/8'), ours('198.51.100.7/32', 'g1')],
    desired: [want('198.51.100.7', 'g1'), want('2001:db8::5', 'g2')],
    entries: [manual('10.0.0.0/8'), ours('198.51.100.7/32', 'g1'), ours('2001:db8::5/128', 'g2')],
    added: ['2001:db8::5'],
    removed: [],
  },
  {
    name: 'new addresses are appended in desired-set order',
    current: [],
    desired: [want('203.0.113.2', 'b'), want('203.0.113.1', 'a')],
    entries: [ours('203.0.113.2', 'b'), ours('203.0.113.1', 'a')],
    added: ['203.0.113.2', '203.0.113.1'],
    removed: [],
  },
];

describe('planAliasEntries', () => {
  it.each(rows)('$name', ({ type, current, desired, entries, added, removed }) => {
    const before = structuredClone(current);
    const plan = planAliasEntries(current, desired, type ?? 'host');
    expect(plan.entries).toEqual(entries);
    expect(plan.added).toEqual(added);
    expect(plan.removed).toEqual(removed);
    expect(plan.changed).toBe(JSON.stringify(entries) !== JSON.stringify(before));
    expect(current).toEqual(before);
  });

  it('is a fixed point: planning again on its own output changes nothing', () => {
    const first = planAliasEntries(
      [manual('10.0.0.1'), ours('198.51.100.1', 'x')],
      [want('198.51.100.2', 'y')],
      'host',
    );
    const second = planAliasEntries(first.entries, [want('198.51.100.2', 'y')], 'host');
    expect(second.changed).toBe(false);
    expect(second.entries).toEqual(first.entries);
  });
});

describe('planAliasEntries with native expiry', () => {
  const T = 1_800_000_000_000;
  const timed = (ip: string, id: string, expiresAt: number) => ({ ip, grantIds: [id], expiresAt });

  it('gives our new entries their grant expiry, and leaves a manual entry untouched', () => {
    const plan = planAliasEntries([manual('10.0.0.1')], [timed('198.51.100.2', 'y', T)], 'host', {
      nativeExpiry: true,
    });
    expect(plan.entries).toEqual([
      manual('10.0.0.1'),
      { address: '198.51.100.2', detail: tagFor('y'), expiresAt: T },
    ]);
  });

  it('keeps an entry whose device expiry is within the tolerance, rewrites one that is off or missing', () => {
    const near = { ...ours('198.51.100.2', 'y'), expiresAt: T - EXPIRY_TOLERANCE_MS };
    expect(planAliasEntries([near], [timed('198.51.100.2', 'y', T)], 'host', { nativeExpiry: true }).changed).toBe(
      false,
    );
    const extended = planAliasEntries([near], [timed('198.51.100.2', 'y', T + 3_600_000)], 'host', {
      nativeExpiry: true,
    });
    expect(extended.changed).toBe(true);
    expect(extended.entries[0]?.expiresAt).toBe(T + 3_600_000);
    // A restart that left the entry without its timeout: it is written again with one.
    const untimed = planAliasEntries([ours('198.51.100.2', 'y')], [timed('198.51.100.2', 'y', T)], 'host', {
      nativeExpiry: true,
    });
    expect(untimed.changed).toBe(true);
    expect(untimed.entries[0]?.expiresAt).toBe(T);
  });

  it('without native expiry carries no expiry at all', () => {
    const plan = planAliasEntries([], [timed('198.51.100.2', 'y', T)], 'host');
    expect(plan.entries[0]).not.toHaveProperty('expiresAt');
  });
});

describe('tags', () => {
  it('round-trips a grant id', () => {
    expect(taggedGrantId(tagFor('0b4c-11'))).toBe('0b4c-11');
  });
  it('does not read a manual detail as ours', () => {
    expect(taggedGrantId('office printer')).toBeNull();
  });
  it('refuses an id that would split the detail list on pfSense', () => {
    expect(() => tagFor('a||b')).toThrow(/cannot be used/);
  });
});
