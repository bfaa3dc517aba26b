/**
 * @module The vendor-neutral live contract (test/contract/live.case.test.ts) on nftables: live reads by the
 * descriptor's `read.*` flags on the real kernel, in a network namespace of its access harness
 * (test/nftables/access-harness.ts); the write round trips are skipped by its `write.*` flags. Needs root and
 * `ip netns`: skipped with the reason otherwise.
 */
import { describe, it } from 'vitest';
import { runLiveContract } from '../contract/live.case.test.ts';
import { nftablesAccessHarness } from './access-harness.ts';
import { netnsUnavailable } from './netns.ts';

const why = netnsUnavailable();

if (why !== null) {
  describe('live contract on nftables', () => {
    it.skip(`skipped: ${why}`, () => undefined);
  });
} else {
  runLiveContract({ harness: nftablesAccessHarness });
}
