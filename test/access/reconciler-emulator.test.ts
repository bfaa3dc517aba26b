/**
 * @module The reconciler end to end: real pfSense adapter → HTTPS on loopback → pfRest emulator. Asserts on the
 * emulator's applied pf tables, its configured aliases, its state table and its request log (counts and order,
 * never durations).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { computeDesiredSet, type GrantSnapshot } from '../../src/access/desired-set.ts';
import { ExpiryScheduler } from '../../src/access/expiry.ts';
import { AliasReconciler, type ReconcileOutcome } from '../../src/access/reconciler.ts';
import { PfSenseAdapter } from '../../src/adapters/pfsense/index.ts';
import { type FaultSpec, type PfRestEmulator, startPfRestEmulator } from '../../src/emulators/pfrest/index.ts';
import { liveState } from '../pfsense/helpers.ts';

const ALIAS = 'portcullis_jit';
const PFSENSE_CODES = { aliasNotFound: 'PFS103', aliasUnusable: 'PFS102', verifyMismatch: 'PFS400' };

let emulator: PfRestEmulator;

beforeAll(async () => {
  emulator = await startPfRestEmulator({ applyDelayMs: 100 });
});
afterAll(async () => {
  await emulator.close();
});

const open: { stop(): Promise<void> }[] = [];
const adapters: PfSenseAdapter[] = [];
afterEach(async () => {
  for (const item of open.splice(0)) await item.stop();
  for (const adapter of adapters.splice(0)) await adapter.close();
  emulator.clearFaults();
  emulator.reset();
});

function adapter(): PfSenseAdapter {
  const made = new PfSenseAdapter({
    url: emulator.url,
    apiKey: emulator.apiKey,
    tls: { mode: 'ca', caPem: emulator.caPem },
    timeouts: { connectMs: 2_000, headersMs: 500, bodyMs: 2_000 },
    retry: { maxRetries: 0 },
    breaker: { threshold: 1_000 },
    apply: { mode: 'async', deadlineMs: 5_000, pollIntervalMs: 20 },
  });
  adapters.push(made);
  return made;
}

/** A grant table standing in for the store, and a reconciler fed from it. */
function harness(options: { killStates?: boolean; createIfMissing?: boolean } = {}) {
  const grants: GrantSnapshot[] = [];
  const outcomes: ReconcileOutcome[] = [];
  const reconciler = new AliasReconciler({
    aliasName: ALIAS,
    target: adapter(),
    desired: () => computeDesiredSet(grants, Date.now()),
    createIfMissing: () => options.createIfMissing ?? true,
    killStatesOnRevoke: () => options.killStates ?? true,
    codes: PFSENSE_CODES,
    periodicMs: null,
    backoff: { initialMs: 20, maxMs: 200, factor: 2, jitter: 0 },
    onOutcome: (outcome) => outcomes.push(outcome),
  });
  open.push(reconciler);
  const grant = (id: string, ip: string, ttlMs = 3_600_000) => {
    grants.push({ id, ip, expiresAt: Date.now() + ttlMs, endedAt: null });
    reconciler.poke();
  };
  const revoke = (id: string) => {
    const found = grants.find((g) => g.id === id);
    if (found) found.endedAt = Date.now();
    reconciler.poke();
  };
  return { grants, outcomes, reconciler, grant, revoke };
}

const applied = () => emulator.state().tables[ALIAS] ?? [];
const configured = () => emulator.state().aliases.find((a) => a.name === ALIAS);
const aliasWrites = () =>
  emulator.requests().filter((r) => r.method === 'PATCH' && r.path.startsWith('/api/v2/firewall/alias'));
const applies = () =>
  emulator.requests().filter((r) => r.method === 'POST' && r.path.startsWith('/api/v2/firewall/apply'));

async function createAlias(entries: { address: string; detail: string }[]): Promise<void> {
  const admin = adapter();
  await admin.createAlias(ALIAS, 'host', 'JIT access');
  await admin.setAliasEntries(ALIAS, entries);
  await admin.apply();
}

describe('reconciler against the pfRest emulator', () => {
  it('grant: the address lands on the applied table, tagged in the configured alias', async () => {
    const { grant, reconciler, outcomes } = harness();
    grant('g1', '203.0.113.10');
    await reconciler.idle();
    expect(applied()).toEqual(['203.0.113.10']);
    expect(configured()).toMatchObject({
      type: 'host',
      address: ['203.0.113.10'],
      detail: ['portcullis:g1'],
    });
    expect(outcomes.at(-1)).toMatchObject({ ok: true, liveGrantIds: ['g1'] });
    expect(emulator.state().pending).toEqual([]);
  });

  it('revoke: the address leaves the applied table, then its states are killed (others kept)', async () => {
    const { grant, revoke, reconciler, outcomes } = harness();
    grant('g1', '203.0.113.10');
    grant('g2', '2001:db8::10');
    await reconciler.idle();
    emulator.setStates([
      liveState('203.0.113.10:50000', '192.168.1.10:22'),
      liveState('192.168.1.10:22', '203.0.113.10:50000'),
      liveState('203.0.113.77:40000', '192.168.1.10:22'),
      liveState('[2001:db8::10]:40001', '[2001:db8:1::10]:443'),
    ]);
    revoke('g1');
    await reconciler.idle();
    expect(applied()).toEqual(['2001:db8::10']);
    expect(emulator.state().states.map((s) => s.source)).toEqual([
      '203.0.113.77:40000',
      '[2001:db8::10]:40001',
    ]);
    expect(outcomes.at(-1)).toMatchObject({
      ok: true,
      removedIps: ['203.0.113.10'],
      killed: [{ ip: '203.0.113.10', states: 2 }],
    });
    const log = emulator.requests();
    const lastApply = log.findLast((r) => r.method === 'POST' && r.path.startsWith('/api/v2/firewall/apply'));
    const firstKill = log.find((r) => r.method === 'DELETE' && r.path.startsWith('/api/v2/firewall/states'));
    expect(firstKill && lastApply && firstKill.seq > lastApply.seq).toBe(true);
  });

  it('keeps states when the knoc says so', async () => {
    const { grant, revoke, reconciler } = harness({ killStates: false });
    grant('g1', '203.0.113.10');
    await reconciler.idle();
    emulator.setStates([liveState('203.0.113.10:50000', '192.168.1.10:22')]);
    revoke('g1');
    await reconciler.idle();
    expect(applied()).toEqual([]);
    expect(emulator.state().states).toHaveLength(1);
  });

  it("preserves an admin's manual entries, in place, through grant and revoke", async () => {
    await createAlias([
      { address: '10.0.0.5', detail: 'jump host' },
      { address: 'dns.google', detail: '' },
    ]);
    const { grant, revoke, reconciler } = harness({ createIfMissing: false });
    grant('g1', '203.0.113.10');
    await reconciler.idle();
    expect(configured()).toMatchObject({
      address: ['10.0.0.5', 'dns.google', '203.0.113.10'],
      detail: ['jump host', '', 'portcullis:g1'],
    });
    revoke('g1');
    await reconciler.idle();
    expect(configured()).toMatchObject({ address: ['10.0.0.5', 'dns.google'], detail: ['jump host', ''] });
  });

  it('a shared address stays until the last grant for it ends', async () => {
    const { grant, revoke, reconciler } = harness();
    grant('alice', '198.51.100.20');
    grant('bob', '198.51.100.20');
    await reconciler.idle();
    revoke('alice');
    await reconciler.idle();
    expect(applied()).toEqual(['198.51.100.20']);
    expect(configured()?.detail).toEqual(['portcullis:bob']);
    revoke('bob');
    await reconciler.idle();
    expect(applied()).toEqual([]);
  });

  it('a storm of 1,000 grants during a 100 ms apply costs at most 5 alias writes and 5 applies', async () => {
    const { grant, reconciler, grants } = harness();
    grant('first', '10.1.0.1');
    for (let batch = 0; batch < 10; batch++) {
      for (let i = 0; i < 100; i++) grant(`s${batch}-${i}`, `10.2.${batch}.${i + 1}`);
      await new Promise((resolve) => setTimeout(resolve, 10)); // grants keep arriving while writes and applies run
    }
    await vi.waitFor(() => expect(applied()).toHaveLength(1_001), { timeout: 20_000, interval: 20 });
    await reconciler.idle();
    expect(grants).toHaveLength(1_001);
    expect(aliasWrites().length).toBeGreaterThanOrEqual(1);
    expect(aliasWrites().length).toBeLessThanOrEqual(5);
    expect(applies().length).toBeLessThanOrEqual(5);
  });

  it.each<{ name: string; fault: FaultSpec; code: string }>([
    { name: 'connection refused/dropped → PFS000', fault: { kind: 'drop', times: 3 }, code: 'PFS000' },
    { name: '401 → PFS001', fault: { kind: 'status', status: 401, times: 3 }, code: 'PFS001' },
    { name: '403 → PFS002', fault: { kind: 'status', status: 403, times: 3 }, code: 'PFS002' },
    { name: 'hang → PFS004', fault: { kind: 'hang', times: 2 }, code: 'PFS004' },
    { name: 'package absent → PFS005', fault: { kind: 'package-absent', times: 3 }, code: 'PFS005' },
    {
      name: 'alias write 500 → PFS102',
      fault: { kind: 'status', status: 500, times: 3, method: 'PATCH' },
      code: 'PFS102',
    },
    {
      name: 'apply 500 → PFS200',
      fault: { kind: 'status', status: 500, times: 3, path: '/api/v2/firewall/apply' },
      code: 'PFS200',
    },
    { name: 'garbage body → PFS400', fault: { kind: 'non-json', times: 3 }, code: 'PFS400' },
  ])('device failure ($name): grant stays pending with the code, then converges', async ({ fault, code }) => {
    await createAlias([]);
    const { grant, reconciler, outcomes } = harness();
    emulator.injectFault(fault);
    grant('g1', '203.0.113.44');
    await vi.waitFor(() => expect(outcomes.length).toBeGreaterThan(0), { timeout: 10_000, interval: 10 });
    expect(outcomes[0]).toMatchObject({ ok: false, synced: false, pendingGrantIds: ['g1'], error: { code } });
    await vi.waitFor(() => expect(outcomes.at(-1)?.ok).toBe(true), { timeout: 15_000, interval: 20 });
    expect(outcomes.at(-1)).toMatchObject({ recovered: true, liveGrantIds: ['g1'], error: null });
    expect(applied()).toEqual(['203.0.113.44']);
    expect(reconciler.status().error).toBeNull();
  });

  it('expiry: the address leaves the applied table at its expires_at, never before', async () => {
    const { grants, reconciler } = harness();
    const expiry = new ExpiryScheduler<string>(() => reconciler.poke());
    open.push({ stop: async () => expiry.stop() });
    const expiresAt = Date.now() + 400;
    grants.push({ id: 'short', ip: '203.0.113.50', expiresAt, endedAt: null });
    grants.push({ id: 'long', ip: '203.0.113.51', expiresAt: Date.now() + 3_600_000, endedAt: null });
    expiry.set('short', expiresAt);
    expiry.set('long', Date.now() + 3_600_000);
    await reconciler.reconcileNow();
    expect(applied()).toEqual(['203.0.113.50', '203.0.113.51']);
    await vi.waitFor(() => expect(applied()).toEqual(['203.0.113.51']), { timeout: 5_000, interval: 10 });
    const removal = aliasWrites().at(-1);
    expect(removal && Date.parse(removal.time)).toBeGreaterThanOrEqual(expiresAt - 1); // log time is ms-truncated
    expect(expiry.has('long')).toBe(true);
  });

  it('stopped during a storm (the in-flight run finishes, later pokes are lost) and restarted: every grant of the store ends up applied', async () => {
    const first = harness();
    for (let i = 0; i < 200; i++) first.grant(`a${i}`, `10.3.0.${i + 1}`);
    await new Promise((resolve) => setTimeout(resolve, 30)); // first write + apply in flight
    await first.reconciler.stop(); // the process dies; pokes after this are lost
    for (let i = 0; i < 300; i++) first.grant(`b${i}`, `10.4.${i >> 7}.${(i & 127) + 1}`);
    expect(applied().length).toBeLessThan(500);

    const second = harness();
    second.grants.push(...first.grants);
    second.reconciler.start();
    await second.reconciler.idle();
    expect(applied()).toHaveLength(500);
    expect(second.outcomes.at(-1)).toMatchObject({ ok: true, synced: true });
    expect(second.outcomes.at(-1)?.liveGrantIds).toHaveLength(500);
  });

  it('a restart converges: a write left unapplied by failing applies before shutdown is applied, missed revocations are removed', async () => {
    const first = harness();
    first.grant('g1', '203.0.113.60');
    first.grant('g2', '203.0.113.61');
    await first.reconciler.idle();
    // The next apply fails and the process "dies" before any retry.
    emulator.injectFault({ kind: 'status', status: 500, times: 1_000, path: '/api/v2/firewall/apply' });
    first.revoke('g1');
    await first.reconciler.idle();
    await first.reconciler.stop();
    expect(configured()?.address).toEqual(['203.0.113.61']);
    expect(applied()).toEqual(['203.0.113.60', '203.0.113.61']);
    emulator.clearFaults();

    const second = harness();
    second.grants.push(...first.grants); // the store survived the crash
    second.reconciler.start();
    await second.reconciler.idle();
    expect(applied()).toEqual(['203.0.113.61']);
    expect(second.outcomes.at(-1)).toMatchObject({ ok: true, wrote: false, applied: true });
  });
});
