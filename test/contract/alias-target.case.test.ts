/**
 * @module The vendor-neutral `AliasTarget` conformance suite (docs/reference/prior-art.md §5.8): what the access reconciler
 * relies on from any firewall adapter, run against each vendor's adapter + emulator by a short file
 * (`test/pfsense/pfsense-alias-target.test.ts` for pfSense).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXPIRY_TOLERANCE_MS } from '../../src/access/alias-entries.ts';
import type { Capability } from '../../src/adapters/registry.ts';
import { AdapterError, type AliasEntry, type AliasTarget } from '../../src/adapters/types.ts';

export interface AliasTargetHarness {
  target: AliasTarget;
  /** What the device enforces now (its live table / set), or null when it has none for the alias. */
  liveEntries(alias: string): Promise<string[] | null>;
  /** Puts `count` open connections (states) from `ip` on the device. */
  openStates(ip: string, count: number): Promise<void>;
  /** Open connections from or to `ip`. */
  stateCount(ip: string): Promise<number>;
  /**
   * Lets `ms` of device time pass (an emulator's clock, or a real wait on a kernel), so entries with a native
   * expiry run out. Needed when the vendor has `native_expiry`.
   */
  elapse?(ms: number): Promise<void>;
  close(): Promise<void>;
}

export interface AliasTargetContractOptions {
  name: string;
  make(): Promise<AliasTargetHarness>;
  /** The vendor's "alias not found" code, e.g. PFS103. */
  notFoundCode: string;
  /** The vendor's capability flags (its descriptor's); a test of an operation the vendor lacks is skipped. */
  capabilities: Readonly<Record<Capability, boolean>>;
  /** A native-expiry lifetime short enough to wait for (default 2 s; whole seconds on every device). */
  expiryMs?: number;
  /**
   * Set (to the reason) when the vendor has no list object: a list exists by name, an unused name reads as an empty
   * list and can be written, and `createAlias` stores no description (RouterOS address lists).
   */
  implicitLists?: string;
  /** Set (to the reason) when the device keeps a list as a set: entries are compared without their order. */
  unordered?: string;
}

export function runAliasTargetContract(opts: AliasTargetContractOptions): void {
  const can = opts.capabilities;
  describe(`AliasTarget contract: ${opts.name}`, () => {
    let h: AliasTargetHarness;
    let seq = 0;
    const fresh = () => `contract_${++seq}`;

    beforeAll(async () => {
      h = await opts.make();
    });
    afterAll(async () => {
      await h.close();
    });

    const implicit = opts.implicitLists !== undefined;
    const inOrder = (entries: readonly AliasEntry[] | undefined) =>
      opts.unordered === undefined ? entries : [...(entries ?? [])].sort((a, b) => a.address.localeCompare(b.address));

    // Skip reason: `implicitLists` — the vendor has no list object, every name is a list (checked below).
    it.runIf(!implicit)('getAlias answers null for an alias that does not exist', async () => {
      expect(await h.target.getAlias(fresh())).toBeNull();
    });

    // Skip reason: the vendor has lists as objects; `implicitLists` vendors are checked here instead.
    it.runIf(implicit)('a list exists by name: an unused name reads as an empty list', async () => {
      expect(await h.target.getAlias(fresh())).toMatchObject({ type: 'host', entries: [] });
    });

    it('createAlias makes an empty alias of the given type and description', async () => {
      const name = fresh();
      await h.target.createAlias(name, 'host', 'made by the contract suite');
      expect(await h.target.getAlias(name)).toEqual({
        name,
        type: 'host',
        // `implicitLists`: there is no list object to hold a description.
        descr: implicit ? '' : 'made by the contract suite',
        entries: [],
      });
    });

    it('setAliasEntries replaces the whole list, in order, details included; [] empties it', async () => {
      const name = fresh();
      await h.target.createAlias(name, 'host', '');
      await h.target.setAliasEntries(name, [
        { address: '192.0.2.1', detail: 'admin' },
        { address: '192.0.2.2', detail: 'portcullis:g1' },
      ]);
      const replaced = [
        { address: '192.0.2.3', detail: 'portcullis:g2' },
        { address: '192.0.2.1', detail: 'admin' },
      ];
      await h.target.setAliasEntries(name, replaced);
      expect(inOrder((await h.target.getAlias(name))?.entries)).toEqual(inOrder(replaced));
      await h.target.setAliasEntries(name, []);
      expect((await h.target.getAlias(name))?.entries).toEqual([]);
    });

    // Skip reason: the vendor's writes are live at once (`apply` flag off), so there is no staged state to see.
    it.runIf(can.apply)('a change is live only after apply, which confirms it', async () => {
      const name = fresh();
      await h.target.createAlias(name, 'host', '');
      await h.target.apply();
      await h.target.setAliasEntries(name, [{ address: '198.51.100.20', detail: 'portcullis:g3' }]);
      expect(await h.liveEntries(name)).not.toContain('198.51.100.20');
      expect(await h.target.apply()).toEqual({ applied: true, pending: [] });
      expect(await h.liveEntries(name)).toEqual(['198.51.100.20']);
    });

    // Skip reason: `apply` flag on; staged vendors are covered by the test above.
    it.runIf(!can.apply)('a write is live at once, with no apply', async () => {
      const name = fresh();
      await h.target.createAlias(name, 'host', '');
      await h.target.setAliasEntries(name, [{ address: '198.51.100.21', detail: 'portcullis:g4' }]);
      expect(await h.liveEntries(name)).toEqual(['198.51.100.21']);
    });

    // Skip reason: the vendor has no native expiry (`native_expiry` flag off); Portcullis expires its grants.
    it.runIf(can.native_expiry)(
      'native expiry: an entry written with expiresAt reads back with it and is gone from the device after it',
      async () => {
        const ms = opts.expiryMs ?? 2_000;
        const name = fresh();
        await h.target.createAlias(name, 'host', '');
        const expiresAt = Date.now() + ms;
        await h.target.setAliasEntries(name, [
          { address: '198.51.100.30', detail: 'portcullis:g5', expiresAt },
          { address: '198.51.100.31', detail: 'manual' },
        ]);
        if (can.apply) await h.target.apply();
        const read = (await h.target.getAlias(name))?.entries ?? [];
        const timed = read.find((e) => e.address === '198.51.100.30');
        expect(timed?.detail).toBe('portcullis:g5');
        expect(Math.abs((timed?.expiresAt ?? 0) - expiresAt)).toBeLessThanOrEqual(EXPIRY_TOLERANCE_MS);
        expect(read.find((e) => e.address === '198.51.100.31')?.expiresAt).toBeUndefined();
        expect(typeof h.elapse, 'a native-expiry harness must let device time pass').toBe('function');
        await h.elapse?.(ms + 1_500);
        expect(await h.liveEntries(name)).toEqual(['198.51.100.31']);
      },
    );

    // Skip reason: the vendor has no native expiry; the expiry is Portcullis's alone.
    it.runIf(can.native_expiry)('native expiry: rewriting an entry with a later expiresAt extends it', async () => {
      const ms = opts.expiryMs ?? 2_000;
      const name = fresh();
      await h.target.createAlias(name, 'host', '');
      await h.target.setAliasEntries(name, [
        { address: '198.51.100.32', detail: 'portcullis:g6', expiresAt: Date.now() + ms },
      ]);
      const later = Date.now() + 3_600_000;
      await h.target.setAliasEntries(name, [{ address: '198.51.100.32', detail: 'portcullis:g6', expiresAt: later }]);
      if (can.apply) await h.target.apply();
      await h.elapse?.(ms + 1_500);
      expect(await h.liveEntries(name)).toEqual(['198.51.100.32']);
      const entry = (await h.target.getAlias(name))?.entries[0];
      expect(Math.abs((entry?.expiresAt ?? 0) - later)).toBeLessThanOrEqual(EXPIRY_TOLERANCE_MS + ms + 1_500);
    });

    it('apply with nothing pending still confirms', async () => {
      await h.target.apply();
      expect(await h.target.apply()).toEqual({ applied: true, pending: [] });
    });

    // Skip reason: `implicitLists` — writing an unused name creates the list (checked below).
    it.runIf(!implicit)('setAliasEntries on a missing alias fails with the vendor not-found code', async () => {
      const err = await h.target.setAliasEntries(fresh(), []).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(AdapterError);
      expect((err as AdapterError).code).toBe(opts.notFoundCode);
    });

    // Skip reason: the vendor has lists as objects (the test above).
    it.runIf(implicit)('setAliasEntries on an unused name creates the list with its first entry', async () => {
      const name = fresh();
      await h.target.setAliasEntries(name, [{ address: '198.51.100.40', detail: 'portcullis:g7' }]);
      expect((await h.target.getAlias(name))?.entries.map((e) => e.address)).toEqual(['198.51.100.40']);
    });

    // Skip reason: the vendor cannot drop the connections of one address (`kill_states` flag off).
    it.runIf(can.kill_states)('killStates drops the open connections of one address and counts them', async () => {
      await h.openStates('203.0.113.77', 3);
      await h.openStates('203.0.113.78', 1);
      expect(await h.target.killStates('203.0.113.77')).toBe(3);
      expect(await h.stateCount('203.0.113.77')).toBe(0);
      expect(await h.stateCount('203.0.113.78')).toBe(1);
      expect(await h.target.killStates('203.0.113.77')).toBe(0);
    });
  });
}
