/** @module Properties of the entry merge over random device contents and desired sets (fast-check). */
import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import { aliasHostAddresses, planAliasEntries, taggedGrantId } from '../../src/access/alias-entries.ts';
import type { DesiredEntry } from '../../src/access/desired-set.ts';
import type { AliasEntry } from '../../src/adapters/types.ts';

// A small address pool so that collisions (shared, manual-and-granted, duplicates) happen often.
const address = fc.constantFrom('192.0.2.1', '192.0.2.2', '192.0.2.3', '2001:db8::1', '2001:db8::2');
const grantId = fc.constantFrom('g1', 'g2', 'g3', 'g4');
const manualEntry = fc.record({
  address: fc.oneof(address, fc.constantFrom('dns.google', '10.0.0.0/8', 'other_alias')),
  detail: fc.constantFrom('', 'office', 'jump host'),
});
const ourEntry = fc.record({ address, detail: grantId.map((id) => `portcullis:${id}`) });
const current = fc.array(fc.oneof(manualEntry, ourEntry), { maxLength: 12 });
const desired = fc
  .uniqueArray(
    fc.record({ ip: address, grantIds: fc.uniqueArray(grantId, { minLength: 1, maxLength: 3 }) }),
    {
      selector: (entry) => entry.ip,
      maxLength: 5,
    },
  )
  .map((entries): DesiredEntry[] => entries.map((e) => ({ ip: e.ip, grantIds: [...e.grantIds].sort() })));

const isOurs = (entry: AliasEntry) => taggedGrantId(entry.detail) !== null;

describe('planAliasEntries properties', () => {
  test.prop([current, desired])(
    'manual entries survive unchanged and in their relative order',
    (cur, want) => {
      const plan = planAliasEntries(cur, want, 'host');
      expect(plan.entries.filter((e) => !isOurs(e))).toEqual(cur.filter((e) => !isOurs(e)));
    },
  );

  test.prop([current, desired])(
    'every desired address is on the alias exactly once among our entries or by hand',
    (cur, want) => {
      const plan = planAliasEntries(cur, want, 'host');
      const present = aliasHostAddresses(plan.entries, 'host');
      for (const entry of want) expect(present.has(entry.ip)).toBe(true);
      const ours = plan.entries.filter(isOurs).map((e) => e.address);
      expect(new Set(ours).size).toBe(ours.length);
    },
  );

  test.prop([current, desired])(
    'our entries name a live grant of their address and nothing undesired stays',
    (cur, want) => {
      const plan = planAliasEntries(cur, want, 'host');
      const byIp = new Map(want.map((e) => [e.ip, e.grantIds]));
      for (const entry of plan.entries.filter(isOurs)) {
        expect(byIp.get(entry.address)).toContain(taggedGrantId(entry.detail));
      }
    },
  );

  test.prop([current, desired])('removed addresses are ours, undesired, and really gone', (cur, want) => {
    const plan = planAliasEntries(cur, want, 'host');
    const present = aliasHostAddresses(plan.entries, 'host');
    const wanted = new Set(want.map((e) => e.ip));
    for (const ip of plan.removed) {
      expect(wanted.has(ip)).toBe(false);
      expect(present.has(ip)).toBe(false);
      expect(cur.some((e) => isOurs(e) && e.address === ip)).toBe(true);
    }
  });

  test.prop([current, desired])('is idempotent: a second plan on the result changes nothing', (cur, want) => {
    const first = planAliasEntries(cur, want, 'host');
    const second = planAliasEntries(first.entries, want, 'host');
    expect(second.changed).toBe(false);
    expect(second.removed).toEqual([]);
    expect(second.added).toEqual([]);
  });
});
