/**
 * @module The vendor-neutral live contract (test/contract/live.case.test.ts) on pfSense: live reads by the descriptor's
 * `read.*` flags and the alias / firewall-rule write round trips, against the device of its access harness
 * (test/pfsense/access-harness.ts).
 */
import { runLiveContract } from '../contract/live.case.test.ts';
import { pfsenseAccessHarness } from './access-harness.ts';

runLiveContract({
  harness: pfsenseAccessHarness,
  ruleInterface: 'lan',
  vlanParent: 'vtnet2',
  // Outside the LAN server's pool (192.168.1.100-199): pfRest keeps mappings out of the pool (docs/reference/brain-l3.md §4.2).
  dhcpMapping: { interface: 'lan', ip: '192.168.1.50', updatedIp: '192.168.1.51' },
});
