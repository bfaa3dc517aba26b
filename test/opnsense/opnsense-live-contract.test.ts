/**
 * @module The vendor-neutral live contract (test/contract/live.case.test.ts) on OPNsense: live reads by the descriptor's
 * `read.*` flags and every write round trip, against the device of its access harness (test/opnsense/access-harness.ts)
 * on the firmware profile where every flag holds: the development line `27.1.a_161`, whose interface assignment
 * API sets addresses (docs/reference/brain-l3.md §7.3). On 26.7.x and older the VLAN interface kind is refused with
 * its reason (test/opnsense/vlan-interface.test.ts).
 */
import { runLiveContract } from '../contract/live.case.test.ts';
import { opnsenseHarnessAt } from './access-harness.ts';

runLiveContract({
  harness: opnsenseHarnessAt('27.1.a_161'),
  ruleInterface: 'wan',
  // An unassigned hardware port of the emulator (src/emulators/opnsense/state.ts HARDWARE_PORTS).
  vlanParent: 'vtnet2',
  // Kea starts with no subnet: the mapping round trip makes the LAN scope first (docs/reference/brain-l3.md §5.2).
  dhcpMapping: {
    interface: 'lan',
    ip: '192.168.1.50',
    updatedIp: '192.168.1.51',
    scope: { range_from: '192.168.1.100', range_to: '192.168.1.199' },
  },
  dhcpScope: { interface: 'lan', range_from: '192.168.1.100', range_to: '192.168.1.199', narrowed_to: '192.168.1.150' },
});
