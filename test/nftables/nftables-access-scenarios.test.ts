/**
 * @module The vendor-neutral access scenarios (test/contract/access-scenarios.case.ts) on nftables, through its
 * harness (test/nftables/access-harness.ts): the real server drives `nft` on this kernel inside a network
 * namespace. Skipped, with the reason, only when not root or without netns support.
 */
import { describe, it } from 'vitest';
import { runAccessScenarios } from '../contract/access-scenarios.case.ts';
import { nftablesAccessHarness } from './access-harness.ts';
import { netnsUnavailable } from './netns.ts';

const why = netnsUnavailable();

if (why !== null) {
  describe('access scenarios on nftables', () => {
    it.skip(`skipped: ${why}`, () => undefined);
  });
} else {
  // The real kernel has no test clock: the expiry grant lives 3 s, so it is surely live before the kernel drops it.
  runAccessScenarios(nftablesAccessHarness, { expiryTtlSeconds: 3 });
}
