/**
 * @module The vendor-neutral live contract (test/contract/live.case.test.ts) on OpenWrt: live reads by the descriptor's
 * `read.*` flags and the alias / firewall-rule write round trips, against the device of its access harness
 * (test/openwrt/access-harness.ts).
 */
import { runLiveContract } from '../contract/live.case.test.ts';
import { openwrtAccessHarness } from './access-harness.ts';

runLiveContract({
  harness: openwrtAccessHarness,
  ruleInterface: 'wan',
  bridgeVlan: { bridge: 'br-lan', ports: ['lan1', 'lan2'] },
});
