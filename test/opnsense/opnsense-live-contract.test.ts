/**
 * @module The vendor-neutral live contract (test/contract/live.case.test.ts) on OPNsense: live reads by the descriptor's
 * `read.*` flags and the alias / firewall-rule write round trips, against the device of its access harness
 * (test/opnsense/access-harness.ts).
 */
import { runLiveContract } from '../contract/live.case.test.ts';
import { opnsenseAccessHarness } from './access-harness.ts';

runLiveContract({
  harness: opnsenseAccessHarness,
  ruleInterface: 'wan',
  // Kea starts with no subnet: the mapping round trip makes the LAN scope first (docs/reference/brain-l3.md §5.2).
  dhcpMapping: {
    interface: 'lan',
    ip: '192.168.1.50',
    updatedIp: '192.168.1.51',
    scope: { range_from: '192.168.1.100', range_to: '192.168.1.199' },
  },
  dhcpScope: { interface: 'lan', range_from: '192.168.1.100', range_to: '192.168.1.199', narrowed_to: '192.168.1.150' },
});
