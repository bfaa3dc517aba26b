/**
 * @module Runs the vendor-neutral AliasTarget contract against the nftables adapter on the REAL kernel: the
 * adapter runs `nft` / `conntrack` inside a network namespace this test makes (`ip netns exec`), and native
 * expiry is a real wait. Skipped, with the reason, only when not root or without netns support.
 */
import { describe, it } from 'vitest';
import { NftablesAdapter } from '../../src/adapters/nftables/adapter.ts';
import { LocalRunner } from '../../src/adapters/nftables/transport.ts';
import { nftablesVendor } from '../../src/adapters/nftables/vendor.ts';
import { runAliasTargetContract } from '../contract/alias-target.case.test.ts';
import { deleteNs, inNs, netnsUnavailable, nsName, sh, sleep } from './netns.ts';

const why = netnsUnavailable();

if (why !== null) {
  describe('AliasTarget contract: nftables on the kernel', () => {
    it.skip(`skipped: ${why}`, () => undefined);
  });
} else {
  runAliasTargetContract({
    name: 'nftables adapter ↔ the Linux kernel in a network namespace',
    notFoundCode: 'NFT103',
    capabilities: nftablesVendor.capabilities,
    expiryMs: 2_000,
    unordered: 'nft lists a set in hash or interval order, never in insertion order (docs/reference/nftables-api.md §3)',
    make: async () => {
      const ns = nsName('ct');
      await sh(['ip', 'netns', 'add', ns]);
      await inNs(ns, ['ip', 'link', 'set', 'lo', 'up']);
      const adapter = new NftablesAdapter({ runner: new LocalRunner(['ip', 'netns', 'exec', ns]) });
      const count = async (ip: string) => {
        let n = 0;
        for (const flag of ['-s', '-d']) {
          const out = await inNs(ns, ['conntrack', '-L', flag, ip]).catch((e: { stdout?: string }) => ({ stdout: e.stdout ?? '' }));
          n += out.stdout.split('\n').filter((l) => l.trim() !== '').length;
        }
        return n;
      };
      return {
        target: adapter,
        liveEntries: async (alias) => {
          const listed = await inNs(ns, ['nft', '-j', 'list', 'set', 'inet', 'portcullis', alias]).catch(() => null);
          if (listed === null) return null;
          const doc = JSON.parse(listed.stdout) as { nftables: Array<{ set?: { elem?: unknown[] } }> };
          const elems = doc.nftables.find((x) => x.set)?.set?.elem ?? [];
          return elems.map((e) =>
            typeof e === 'string' ? e : String((e as { elem: { val: unknown } }).elem.val),
          );
        },
        openStates: async (ip, n) => {
          for (let i = 0; i < n; i++) {
            await inNs(ns, [
              'conntrack', '-I', '-s', ip, '-d', `10.9.0.${10 + i}`, '-p', 'tcp', '--sport', String(40_000 + i),
              '--dport', '443', '--state', 'ESTABLISHED', '-t', '120', '-u', 'SEEN_REPLY',
            ]);
          }
        },
        stateCount: count,
        elapse: (ms) => sleep(ms),
        close: async () => {
          await adapter.close();
          await deleteNs(ns);
        },
      };
    },
  });
}
