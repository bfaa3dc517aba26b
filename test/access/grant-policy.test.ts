/** @module Grant lifetimes, sign-in planning and extension rules. */
import { describe, expect, it } from 'vitest';
import {
  extendedExpiry,
  type KnocGrantPolicy,
  planSignInGrants,
  resolveTtlSeconds,
  validateKnocLifetimes,
} from '../../src/access/grant-policy.ts';
import { compileSourceConditions } from '../../src/access/source-conditions.ts';
import { ValidationError } from '../../src/errors.ts';

const NOW = 1_800_000_000_000;
const knoc = (id: string, allowed: string[] = [], denied: string[] = []): KnocGrantPolicy => ({
  id,
  name: `knoc-${id}`,
  grantTtlSeconds: 3_600,
  maxTtlSeconds: 28_800,
  sources: compileSourceConditions(allowed, denied),
});

function fieldOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (err) {
    if (err instanceof ValidationError) return err.field;
    throw err;
  }
  return undefined;
}

describe('knoc lifetimes', () => {
  it.each([
    { name: 'default within maximum', ttl: 3_600, max: 28_800, field: undefined },
    { name: 'default equal to maximum', ttl: 600, max: 600, field: undefined },
    { name: 'default above maximum', ttl: 7_200, max: 3_600, field: 'grant_ttl_seconds' },
    { name: 'zero default', ttl: 0, max: 3_600, field: 'grant_ttl_seconds' },
    { name: 'fractional maximum', ttl: 60, max: 90.5, field: 'max_ttl_seconds' },
    { name: 'string default', ttl: '60', max: 3_600, field: 'grant_ttl_seconds' },
  ])('$name', ({ ttl, max, field }) => {
    expect(fieldOf(() => validateKnocLifetimes(ttl, max))).toBe(field);
  });
});

describe('resolveTtlSeconds', () => {
  it('uses the knoc default when none is asked', () => {
    expect(resolveTtlSeconds(undefined, knoc('a'))).toBe(3_600);
  });
  it('accepts up to the maximum', () => {
    expect(resolveTtlSeconds(28_800, knoc('a'))).toBe(28_800);
  });
  it('refuses over the maximum, naming the field', () => {
    expect(fieldOf(() => resolveTtlSeconds(28_801, knoc('a')))).toBe('ttl_seconds');
  });
  it('refuses a negative lifetime', () => {
    expect(fieldOf(() => resolveTtlSeconds(-5, knoc('a')))).toBe('ttl_seconds');
  });
});

describe('planSignInGrants', () => {
  it('grants every knoc whose conditions allow the client and refuses the others with the reason', () => {
    const knocs = [
      knoc('open'),
      knoc('lan-only', ['10.0.0.0/8']),
      knoc('no-guests', ['10.0.0.0/8'], ['10.66.0.0/16']),
    ];
    const plan = planSignInGrants(knocs, '::ffff:10.66.1.2', NOW);
    expect(plan.granted).toEqual([
      { knocId: 'open', ip: '10.66.1.2', expiresAt: NOW + 3_600_000 },
      { knocId: 'lan-only', ip: '10.66.1.2', expiresAt: NOW + 3_600_000 },
    ]);
    expect(plan.refused).toEqual([
      {
        knocId: 'no-guests',
        knoc: 'knoc-no-guests',
        reason: 'source_denied',
        message: expect.stringContaining('10.66.0.0/16'),
      },
    ]);
  });

  it('refuses outside the allowed ranges', () => {
    const plan = planSignInGrants([knoc('lan-only', ['10.0.0.0/8'])], '203.0.113.9', NOW);
    expect(plan.granted).toEqual([]);
    expect(plan.refused[0]?.reason).toBe('source_not_allowed');
  });

  it('refuses an address that is not one', () => {
    expect(planSignInGrants([knoc('open')], 'unknown', NOW).refused[0]?.reason).toBe('invalid_address');
  });
});

describe('extendedExpiry', () => {
  it('extends from now, up to the maximum', () => {
    expect(extendedExpiry({ expiresAt: NOW + 10_000 }, 7_200, knoc('a'), NOW)).toBe(NOW + 7_200_000);
  });
  it('refuses beyond the maximum', () => {
    expect(fieldOf(() => extendedExpiry({ expiresAt: NOW + 10_000 }, 30_000, knoc('a'), NOW))).toBe(
      'ttl_seconds',
    );
  });
  it('refuses an ended or expired grant', () => {
    expect(
      fieldOf(() => extendedExpiry({ expiresAt: NOW + 10_000, endedAt: NOW - 1 }, 60, knoc('a'), NOW)),
    ).toBe('id');
    expect(fieldOf(() => extendedExpiry({ expiresAt: NOW }, 60, knoc('a'), NOW))).toBe('id');
  });
});
