/**
 * @module The vendor-neutral access scenarios (test/contract/access-scenarios.case.ts) on pfSense, through its
 * harness (test/pfsense/access-harness.ts). The native-expiry scenario is skipped by pfSense's capability flag.
 */
import { runAccessScenarios } from '../contract/access-scenarios.case.ts';
import { pfsenseAccessHarness } from './access-harness.ts';

runAccessScenarios(pfsenseAccessHarness);
