/**
 * @module The vendor-neutral live contract (test/contract/live.case.test.ts) on OPNsense: live reads by the descriptor's
 * `read.*` flags and the alias / firewall-rule write round trips, against the device of its access harness
 * (test/opnsense/access-harness.ts).
 */
import { runLiveContract } from '../contract/live.case.test.ts';
import { opnsenseAccessHarness } from './access-harness.ts';

runLiveContract({ harness: opnsenseAccessHarness, ruleInterface: 'wan' });
