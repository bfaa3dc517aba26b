/** @module Reconciler pool: one reconciler per key, expiry pokes the right one once (fake timers). */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { computeDesiredSet, type GrantSnapshot } from '../../src/access/desired-set.ts';
import { ReconcilerPool, reconcilerKey } from '../../src/access/pool.ts';
import { AliasReconciler } from '../../src/access/reconciler.ts';
import { MemoryAliasTarget } from './support/memory-target.ts';

const CODES = { aliasNotFound: 'PFS103', aliasUnusable: 'PFS102', verifyMismatch: 'PFS400' };

afterEach(() => {
  vi.useRealTimers();
});

function setup() {
  const target = new MemoryAliasTarget();
  const grants: (GrantSnapshot & { key: string })[] = [];
  const created: string[] = [];
  const pool = new ReconcilerPool((key) => {
    created.push(key);
    const alias = key.split('\u0000')[1] as string;
    return new AliasReconciler({
      aliasName: alias,
      target,
      desired: () =>
        computeDesiredSet(
          grants.filter((g) => g.key === key),
          Date.now(),
        ),
      createIfMissing: () => true,
      killStatesOnRevoke: () => true,
      codes: CODES,
      periodicMs: null,
    });
  });
  return { target, grants, created, pool };
}

describe('ReconcilerPool', () => {
  it('creates one reconciler per (gateway, alias) and starts it', async () => {
    vi.useFakeTimers();
    const { pool, created, target } = setup();
    const a = reconcilerKey('gw1', 'jit_a');
    pool.poke(a);
    pool.poke(a);
    pool.poke(reconcilerKey('gw1', 'jit_b'));
    await vi.advanceTimersByTimeAsync(0);
    expect(created).toEqual([a, reconcilerKey('gw1', 'jit_b')]);
    expect([...target.aliases.keys()].sort()).toEqual(['jit_a', 'jit_b']);
    await pool.stop();
  });

  it('pokes the owning reconciler at a grant expiry, once per key for grants due together', async () => {
    vi.useFakeTimers({ now: 1_000_000 });
    const { pool, grants, target } = setup();
    const key = reconcilerKey('gw1', 'jit_a');
    for (const [id, ip] of [
      ['g1', '192.0.2.1'],
      ['g2', '192.0.2.2'],
    ] as const) {
      grants.push({ id, ip, expiresAt: 1_005_000, key });
      pool.trackGrant(id, key, 1_005_000);
    }
    grants.push({ id: 'g3', ip: '192.0.2.3', expiresAt: 1_060_000, key });
    pool.trackGrant('g3', key, 1_060_000);
    pool.poke(key);
    await vi.advanceTimersByTimeAsync(0);
    expect(target.appliedAddresses('jit_a')).toEqual(['192.0.2.1', '192.0.2.2', '192.0.2.3']);
    const runsBefore = target.count('getAlias');
    await vi.advanceTimersByTimeAsync(4_999);
    expect(target.count('getAlias')).toBe(runsBefore);
    await vi.advanceTimersByTimeAsync(1);
    expect(target.appliedAddresses('jit_a')).toEqual(['192.0.2.3']);
    expect(target.count('getAlias')).toBe(runsBefore + 2); // one run for both grants
    expect(pool.trackedGrants).toBe(1);
    await pool.stop();
  });

  it('forgets a grant that ended early, and removes a reconciler with its grants', async () => {
    vi.useFakeTimers({ now: 0 });
    const { pool, target } = setup();
    const key = reconcilerKey('gw1', 'jit_a');
    pool.trackGrant('g1', key, 10_000);
    pool.trackGrant('g2', key, 20_000);
    pool.forgetGrant('g1');
    expect(pool.trackedGrants).toBe(1);
    pool.poke(key);
    await vi.advanceTimersByTimeAsync(0);
    await pool.remove(key);
    expect(pool.trackedGrants).toBe(0);
    expect(pool.status(key)).toBeUndefined();
    const calls = target.calls.length;
    await vi.advanceTimersByTimeAsync(30_000);
    expect(target.calls.length).toBe(calls);
    await pool.stop();
  });
});
