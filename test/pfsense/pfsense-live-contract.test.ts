/**
 * @module The vendor-neutral live contract (test/contract/live.case.test.ts) on pfSense: live reads by the descriptor's
 * `read.*` flags and the alias / firewall-rule write round trips, against the device of its access harness
 * (test/pfsense/access-harness.ts).
 */
import { runLiveContract } from '../contract/live.case.test.ts';
import { pfsenseAccessHarness } from './access-harness.ts';

runLiveContract({ harness: pfsenseAccessHarness, ruleInterface: 'lan' });
