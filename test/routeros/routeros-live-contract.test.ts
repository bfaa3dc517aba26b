/**
 * @module The vendor-neutral live contract (test/contract/live.case.test.ts) on RouterOS: live reads by the descriptor's
 * `read.*` flags and the alias / firewall-rule write round trips, against the device of its access harness
 * (test/routeros/access-harness.ts).
 */
import { runLiveContract } from '../contract/live.case.test.ts';
import { routerOsAccessHarness } from './access-harness.ts';

runLiveContract({
  harness: routerOsAccessHarness,
  ruleInterface: 'ether1',
  bridgeVlan: { bridge: 'bridge', ports: ['ether2', 'ether3'] },
});
