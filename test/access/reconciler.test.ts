/**
 * @module Reconciler logic on an in-memory target: coalescing, verification, failure and backoff, state
 * killing, alias creation. Emulator-backed behaviour over HTTPS is in reconciler-emulator.test.ts.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { DesiredEntry } from '../../src/access/desired-set.ts';
import {
  AliasReconciler,
  type KillLedger,
  type ReconcileOutcome,
  type ReconcilerOptions,
} from '../../src/access/reconciler.ts';
import { AdapterError } from '../../src/adapters/types.ts';
import { MemoryAliasTarget } from './support/memory-target.ts';

const ALIAS = 'portcullis_jit';
const CODES = { aliasNotFound: 'PFS103', aliasUnusable: 'PFS102', verifyMismatch: 'PFS400' };
const unreachable = new AdapterError(
  'pfsense',
  'PFS000',
  'cannot connect to the gateway: check the URL and that port 443 is reachable',
  {
    retryable: true,
  },
);

function setup(overrides: Partial<ReconcilerOptions> = {}) {
  const target = new MemoryAliasTarget();
  target.aliases.set(ALIAS, { name: ALIAS, type: 'host', descr: '', entries: [] });
  let desired: DesiredEntry[] = [];
  const outcomes: ReconcileOutcome[] = [];
  let killOnRevoke = true;
  let createIfMissing = false;
  const reconciler = new AliasReconciler({
    aliasName: ALIAS,
    target,
    desired: () => desired,
    createIfMissing: () => createIfMissing,
    killStatesOnRevoke: () => killOnRevoke,
    codes: CODES,
    periodicMs: null,
    backoff: { initialMs: 1_000, maxMs: 8_000, factor: 2, jitter: 0 },
    onOutcome: (outcome) => outcomes.push(outcome),
    ...overrides,
  });
  return {
    target,
    reconciler,
    outcomes,
    setDesired: (next: DesiredEntry[]) => {
      desired = next;
    },
    setKillOnRevoke: (value: boolean) => {
      killOnRevoke = value;
    },
    setCreateIfMissing: (value: boolean) => {
      createIfMissing = value;
    },
  };
}

const ip = (n: number) => `198.51.${Math.floor(n / 250)}.${(n % 250) + 1}`;

afterEach(() => {
  vi.useRealTimers();
});

describe('AliasReconciler', () => {
  it('puts a granted address on the alias, applies, verifies and reports the grant live', async () => {
    const { target, reconciler, outcomes, setDesired } = setup();
    setDesired([{ ip: '203.0.113.9', grantIds: ['g1'] }]);
    await reconciler.reconcileNow();
    expect(target.appliedAddresses(ALIAS)).toEqual(['203.0.113.9']);
    expect(target.aliases.get(ALIAS)?.entries).toEqual([{ address: '203.0.113.9', detail: 'portcullis:g1' }]);
    expect(outcomes.at(-1)).toMatchObject({
      ok: true,
      synced: true,
      liveGrantIds: ['g1'],
      wrote: true,
      applied: true,
    });
    expect(reconciler.status()).toMatchObject({
      desiredCount: 1,
      deviceCount: 1,
      pending: false,
      error: null,
      writes: 1,
      applies: 1,
    });
  });

  it('issues no write once the device matches (only the first run applies, to flush a write a crash left pending)', async () => {
    const { target, reconciler, setDesired } = setup();
    setDesired([{ ip: '203.0.113.9', grantIds: ['g1'] }]);
    await reconciler.reconcileNow();
    await reconciler.reconcileNow();
    await reconciler.reconcileNow();
    expect(target.count('setAliasEntries')).toBe(1);
    expect(target.count('apply')).toBe(1);
    expect(target.count('getAlias')).toBe(6); // read + read-back per run
  });

  it('coalesces pokes of one tick into one run', async () => {
    const { target, reconciler, setDesired } = setup();
    setDesired([{ ip: '203.0.113.9', grantIds: ['g1'] }]);
    for (let i = 0; i < 50; i++) reconciler.poke();
    await reconciler.idle();
    expect(target.count('getAlias')).toBe(2);
    expect(target.count('setAliasEntries')).toBe(1);
  });

  it('coalesces a storm of 1,000 grants arriving during an apply into the single next write + apply', async () => {
    const { target, reconciler, outcomes, setDesired } = setup();
    const desired: DesiredEntry[] = [{ ip: ip(0), grantIds: ['g0'] }];
    setDesired([...desired]);
    const gate = target.hold('apply');
    reconciler.poke();
    await gate.reached; // first write done, its apply in flight
    for (let i = 1; i <= 1_000; i++) {
      desired.push({ ip: ip(i), grantIds: [`g${i}`] });
      setDesired([...desired]);
      reconciler.poke();
    }
    gate.release();
    await reconciler.idle();
    expect(target.count('setAliasEntries')).toBe(2);
    expect(target.count('apply')).toBe(2);
    expect(target.appliedAddresses(ALIAS)).toHaveLength(1_001);
    expect(outcomes.map((o) => o.liveGrantIds.length)).toEqual([1, 1_001]);
  });

  it('keeps manual entries in place through grants and revocations', async () => {
    const { target, reconciler, setDesired } = setup();
    target.aliases.set(ALIAS, {
      name: ALIAS,
      type: 'host',
      descr: 'office',
      entries: [
        { address: '10.0.0.1', detail: 'printer' },
        { address: 'vpn.example.org', detail: '' },
      ],
    });
    setDesired([{ ip: '203.0.113.9', grantIds: ['g1'] }]);
    await reconciler.reconcileNow();
    setDesired([]);
    await reconciler.reconcileNow();
    expect(target.aliases.get(ALIAS)?.entries).toEqual([
      { address: '10.0.0.1', detail: 'printer' },
      { address: 'vpn.example.org', detail: '' },
    ]);
  });

  it('kills the states of a revoked address once it is off the alias, and only then', async () => {
    const { target, reconciler, outcomes, setDesired } = setup();
    setDesired([{ ip: '203.0.113.9', grantIds: ['g1'] }]);
    await reconciler.reconcileNow();
    target.states.set('203.0.113.9', 3);
    setDesired([]);
    await reconciler.reconcileNow();
    expect(outcomes.at(-1)).toMatchObject({
      ok: true,
      removedIps: ['203.0.113.9'],
      killed: [{ ip: '203.0.113.9', states: 3 }],
    });
    const order = target.calls.map((c) => c.method).slice(-4);
    expect(order).toEqual(['setAliasEntries', 'apply', 'getAlias', 'killStates']);
  });

  it('does not kill states when the knoc says not to', async () => {
    const { target, reconciler, setDesired, setKillOnRevoke } = setup();
    setKillOnRevoke(false);
    setDesired([{ ip: '203.0.113.9', grantIds: ['g1'] }]);
    await reconciler.reconcileNow();
    setDesired([]);
    await reconciler.reconcileNow();
    expect(target.count('killStates')).toBe(0);
  });

  it('does not kill the states of an address another grant still holds', async () => {
    const { target, reconciler, setDesired } = setup();
    setDesired([{ ip: '203.0.113.9', grantIds: ['g1', 'g2'] }]);
    await reconciler.reconcileNow();
    setDesired([{ ip: '203.0.113.9', grantIds: ['g2'] }]);
    await reconciler.reconcileNow();
    expect(target.count('killStates')).toBe(0);
    expect(target.appliedAddresses(ALIAS)).toEqual(['203.0.113.9']);
  });

  it('keeps grants pending with the error code while the device is down, then converges', async () => {
    vi.useFakeTimers();
    const { target, reconciler, outcomes, setDesired } = setup();
    target.failNext('getAlias', unreachable, 3);
    setDesired([{ ip: '203.0.113.9', grantIds: ['g1'] }]);
    const t0 = Date.now();
    reconciler.poke();
    await vi.advanceTimersByTimeAsync(0);
    expect(outcomes.at(-1)).toMatchObject({
      ok: false,
      synced: false,
      pendingGrantIds: ['g1'],
      retryInMs: 1_000,
    });
    expect(reconciler.status()).toMatchObject({ pending: true, error: { code: 'PFS000', since: t0 } });
    await vi.advanceTimersByTimeAsync(1_000);
    expect(outcomes.at(-1)).toMatchObject({
      ok: false,
      retryInMs: 2_000,
      error: { code: 'PFS000', since: t0 },
    });
    await vi.advanceTimersByTimeAsync(2_000);
    expect(outcomes.at(-1)?.retryInMs).toBe(4_000);
    await vi.advanceTimersByTimeAsync(4_000);
    expect(outcomes.at(-1)).toMatchObject({ ok: true, recovered: true, liveGrantIds: ['g1'], error: null });
    expect(outcomes).toHaveLength(4);
    expect(target.appliedAddresses(ALIAS)).toEqual(['203.0.113.9']);
    expect(reconciler.status()).toMatchObject({ pending: false, error: null });
  });

  it('caps the backoff and coalesces grants that arrive while waiting to retry', async () => {
    vi.useFakeTimers();
    const { target, reconciler, outcomes, setDesired } = setup();
    target.failNext('getAlias', unreachable, 6);
    setDesired([{ ip: ip(1), grantIds: ['g1'] }]);
    reconciler.poke();
    await vi.advanceTimersByTimeAsync(0);
    for (let i = 2; i <= 20; i++) {
      setDesired(Array.from({ length: i }, (_, k) => ({ ip: ip(k + 1), grantIds: [`g${k + 1}`] })));
      reconciler.poke(); // must not start a run of its own while a retry is scheduled
    }
    await vi.advanceTimersByTimeAsync(1_000 + 2_000 + 4_000 + 8_000 + 8_000 + 8_000);
    expect(outcomes.map((o) => o.retryInMs)).toEqual([1_000, 2_000, 4_000, 8_000, 8_000, 8_000, null]);
    expect(target.count('setAliasEntries')).toBe(1);
    expect(target.appliedAddresses(ALIAS)).toHaveLength(20);
  });

  it('restarts the error clock when the failure changes', async () => {
    vi.useFakeTimers();
    const { target, reconciler, setDesired } = setup();
    setDesired([{ ip: '203.0.113.9', grantIds: ['g1'] }]);
    target.failNext('getAlias', unreachable);
    target.failNext(
      'getAlias',
      new AdapterError('pfsense', 'PFS001', 'authentication failed: check the API key', { httpStatus: 401 }),
    );
    reconciler.poke();
    await vi.advanceTimersByTimeAsync(0);
    const first = reconciler.status().error;
    await vi.advanceTimersByTimeAsync(1_000);
    const second = reconciler.status().error;
    expect(first).toMatchObject({ code: 'PFS000' });
    expect(second).toMatchObject({ code: 'PFS001', since: (first?.since ?? 0) + 1_000 });
  });

  it('re-applies without rewriting when the write landed but the apply failed', async () => {
    vi.useFakeTimers();
    const { target, reconciler, outcomes, setDesired } = setup();
    setDesired([{ ip: '203.0.113.9', grantIds: ['g1'] }]);
    target.failNext('apply', new AdapterError('pfsense', 'PFS200', 'apply failed: changes left pending'));
    reconciler.poke();
    await vi.advanceTimersByTimeAsync(0);
    expect(outcomes.at(-1)).toMatchObject({
      ok: false,
      wrote: true,
      applied: false,
      error: { code: 'PFS200' },
    });
    await vi.advanceTimersByTimeAsync(1_000);
    expect(outcomes.at(-1)).toMatchObject({ ok: true, wrote: false, applied: true });
    expect(target.count('setAliasEntries')).toBe(1);
    expect(target.count('apply')).toBe(2);
  });

  it('still kills the states of an address removed by a write whose apply failed', async () => {
    vi.useFakeTimers();
    const { target, reconciler, outcomes, setDesired } = setup();
    setDesired([{ ip: '203.0.113.9', grantIds: ['g1'] }]);
    await reconciler.reconcileNow();
    target.states.set('203.0.113.9', 2);
    setDesired([]);
    target.failNext('apply', new AdapterError('pfsense', 'PFS200', 'apply failed'));
    reconciler.poke();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(outcomes.at(-1)).toMatchObject({ ok: true, killed: [{ ip: '203.0.113.9', states: 2 }] });
  });

  it('reports a read-back that does not show the write (e.g. a user denied config writes)', async () => {
    const { target, reconciler, outcomes, setDesired } = setup();
    target.silentlyDropWrites = true;
    setDesired([{ ip: '203.0.113.9', grantIds: ['g1'] }]);
    await reconciler.reconcileNow();
    expect(outcomes.at(-1)).toMatchObject({ ok: false, synced: false, error: { code: 'PFS400' } });
    expect(outcomes.at(-1)?.error?.message).toMatch(/lacks 1 desired/);
    await reconciler.stop();
  });

  it('retries a failed state kill on its own without marking the grants pending', async () => {
    vi.useFakeTimers();
    const { target, reconciler, outcomes, setDesired } = setup();
    setDesired([{ ip: '203.0.113.9', grantIds: ['g1'] }]);
    await reconciler.reconcileNow();
    setDesired([{ ip: '203.0.113.10', grantIds: ['g2'] }]);
    target.failNext('killStates', new AdapterError('pfsense', 'PFS002', 'authorization failed'));
    reconciler.poke();
    await vi.advanceTimersByTimeAsync(0);
    expect(outcomes.at(-1)).toMatchObject({
      ok: false,
      synced: true,
      liveGrantIds: ['g2'],
      error: { code: 'PFS002' },
    });
    await vi.advanceTimersByTimeAsync(1_000);
    expect(outcomes.at(-1)).toMatchObject({
      ok: true,
      wrote: false,
      applied: false,
      killed: [{ ip: '203.0.113.9', states: 0 }],
    });
  });

  it('stores an owed kill before the write, so a new reconciler (restart, takeover) still kills it', async () => {
    const stored = new Set<string>();
    const seenAtWrite: string[][] = [];
    const ledger: KillLedger = {
      load: async () => [...stored],
      add: async (ips) => {
        for (const address of ips) stored.add(address);
      },
      remove: async (ips) => {
        for (const address of ips) stored.delete(address);
      },
    };
    const first = setup({ killLedger: ledger });
    first.setDesired([{ ip: '203.0.113.9', grantIds: ['g1'] }]);
    await first.reconciler.reconcileNow();
    const write = first.target.setAliasEntries.bind(first.target);
    first.target.setAliasEntries = async (name, entries) => {
      seenAtWrite.push([...stored]);
      return write(name, entries);
    };
    first.setDesired([]);
    first.target.failNext('killStates', new AdapterError('pfsense', 'PFS002', 'authorization failed'));
    await first.reconciler.reconcileNow();
    await first.reconciler.stop();
    expect(seenAtWrite).toEqual([['203.0.113.9']]);
    expect([...stored]).toEqual(['203.0.113.9']);

    // Another reconciler of the same alias (another process) finds the kill and does it on its first run.
    const second = setup({ killLedger: ledger });
    second.target.aliases.set(ALIAS, { name: ALIAS, type: 'host', descr: '', entries: [] });
    second.target.states.set('203.0.113.9', 4);
    await second.reconciler.reconcileNow();
    expect(second.outcomes.at(-1)).toMatchObject({ ok: true, killed: [{ ip: '203.0.113.9', states: 4 }] });
    expect([...stored]).toEqual([]);
  });

  it('does not touch the device while it may not run (lease not held), and runs at the next poke once it may', async () => {
    let mayRun = false;
    const { target, reconciler, setDesired } = setup({ mayRun: () => mayRun });
    setDesired([{ ip: '203.0.113.9', grantIds: ['g1'] }]);
    await reconciler.reconcileNow();
    expect(target.calls).toEqual([]);
    mayRun = true;
    await reconciler.reconcileNow();
    expect(target.appliedAddresses(ALIAS)).toEqual(['203.0.113.9']);
  });

  it('forgets a stored kill when the address is granted again', async () => {
    const stored = new Set<string>(['203.0.113.9']);
    const ledger: KillLedger = {
      load: async () => [...stored],
      add: async (ips) => {
        for (const address of ips) stored.add(address);
      },
      remove: async (ips) => {
        for (const address of ips) stored.delete(address);
      },
    };
    const { target, reconciler, setDesired } = setup({ killLedger: ledger });
    setDesired([{ ip: '203.0.113.9', grantIds: ['g2'] }]);
    await reconciler.reconcileNow();
    expect(target.count('killStates')).toBe(0);
    expect([...stored]).toEqual([]);
  });

  it('creates a missing alias when allowed', async () => {
    const { target, reconciler, outcomes, setDesired, setCreateIfMissing } = setup({
      aliasDescription: 'JIT access',
    });
    target.aliases.clear();
    setCreateIfMissing(true);
    setDesired([{ ip: '2001:db8::7', grantIds: ['g1'] }]);
    await reconciler.reconcileNow();
    expect(target.aliases.get(ALIAS)).toMatchObject({ type: 'host', descr: 'JIT access' });
    expect(target.appliedAddresses(ALIAS)).toEqual(['2001:db8::7']);
    expect(outcomes.at(-1)?.ok).toBe(true);
  });

  it('reports the alias-not-found code when creation is not allowed', async () => {
    const { target, reconciler, outcomes } = setup();
    target.aliases.clear();
    await reconciler.reconcileNow();
    expect(outcomes.at(-1)?.error).toMatchObject({ code: 'PFS103' });
    expect(target.count('createAlias')).toBe(0);
    await reconciler.stop();
  });

  it('refuses an alias that cannot hold addresses', async () => {
    const { target, reconciler, outcomes } = setup();
    target.aliases.set(ALIAS, {
      name: ALIAS,
      type: 'port',
      descr: '',
      entries: [{ address: '443', detail: '' }],
    });
    await reconciler.reconcileNow();
    expect(outcomes.at(-1)?.error).toMatchObject({ code: 'PFS102' });
    expect(target.count('setAliasEntries')).toBe(0);
    await reconciler.stop();
  });

  it('runs the periodic full reconcile and repairs drift', async () => {
    vi.useFakeTimers();
    const { target, reconciler, setDesired } = setup({ periodicMs: 300_000 });
    setDesired([{ ip: '203.0.113.9', grantIds: ['g1'] }]);
    reconciler.start();
    await vi.advanceTimersByTimeAsync(0);
    const alias = target.aliases.get(ALIAS);
    if (alias) alias.entries = []; // someone deleted our entry out of band
    await vi.advanceTimersByTimeAsync(299_999);
    expect(target.count('setAliasEntries')).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(target.count('setAliasEntries')).toBe(2);
    expect(target.aliases.get(ALIAS)?.entries).toEqual([{ address: '203.0.113.9', detail: 'portcullis:g1' }]);
    await reconciler.stop();
  });

  it('ignores pokes after stop and leaves no timer behind', async () => {
    vi.useFakeTimers();
    const { target, reconciler } = setup({ periodicMs: 1_000 });
    target.failNext('getAlias', unreachable);
    reconciler.start();
    await vi.advanceTimersByTimeAsync(0);
    await reconciler.stop();
    expect(vi.getTimerCount()).toBe(0);
    reconciler.poke();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(target.count('getAlias')).toBe(1);
  });
});
