/**
 * @module The vendor-neutral `AliasTarget` conformance suite (docs/reference/prior-art.md §5.8): what the access reconciler
 * relies on from any firewall adapter, run against each vendor's adapter + emulator by a short file
 * (`test/pfsense/pfsense-alias-target.test.ts` for pfSense).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdapterError, type AliasTarget } from '../../src/adapters/types.ts';

export interface AliasTargetHarness {
  target: AliasTarget;
  /** What the device enforces now (its live table / set), or null when it has none for the alias. */
  liveEntries(alias: string): Promise<string[] | null>;
  /** Puts `count` open connections (states) from `ip` on the device. */
  openStates(ip: string, count: number): Promise<void>;
  /** Open connections from or to `ip`. */
  stateCount(ip: string): Promise<number>;
  close(): Promise<void>;
}

export interface AliasTargetContractOptions {
  name: string;
  make(): Promise<AliasTargetHarness>;
  /** The vendor's "alias not found" code, e.g. PFS103. */
  notFoundCode: string;
}

export function runAliasTargetContract(opts: AliasTargetContractOptions): void {
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

    it('getAlias answers null for an alias that does not exist', async () => {
      expect(await h.target.getAlias(fresh())).toBeNull();
    });

    it('createAlias makes an empty alias of the given type and description', async () => {
      const name = fresh();
      await h.target.createAlias(name, 'host', 'made by the contract suite');
      expect(await h.target.getAlias(name)).toEqual({
        name,
        type: 'host',
        descr: 'made by the contract suite',
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
      expect((await h.target.getAlias(name))?.entries).toEqual(replaced);
      await h.target.setAliasEntries(name, []);
      expect((await h.target.getAlias(name))?.entries).toEqual([]);
    });

    it('a change is live only after apply, which confirms it', async () => {
      const name = fresh();
      await h.target.createAlias(name, 'host', '');
      await h.target.apply();
      await h.target.setAliasEntries(name, [{ address: '198.51.100.20', detail: 'portcullis:g3' }]);
      expect(await h.liveEntries(name)).not.toContain('198.51.100.20');
      expect(await h.target.apply()).toEqual({ applied: true, pending: [] });
      expect(await h.liveEntries(name)).toEqual(['198.51.100.20']);
    });

    it('apply with nothing pending still confirms', async () => {
      await h.target.apply();
      expect(await h.target.apply()).toEqual({ applied: true, pending: [] });
    });

    it('setAliasEntries on a missing alias fails with the vendor not-found code', async () => {
      const err = await h.target.setAliasEntries(fresh(), []).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(AdapterError);
      expect((err as AdapterError).code).toBe(opts.notFoundCode);
    });

    it('killStates drops the open connections of one address and counts them', async () => {
      await h.openStates('203.0.113.77', 3);
      await h.openStates('203.0.113.78', 1);
      expect(await h.target.killStates('203.0.113.77')).toBe(3);
      expect(await h.stateCount('203.0.113.77')).toBe(0);
      expect(await h.stateCount('203.0.113.78')).toBe(1);
      expect(await h.target.killStates('203.0.113.77')).toBe(0);
    });
  });
}
