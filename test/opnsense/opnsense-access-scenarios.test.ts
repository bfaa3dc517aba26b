/**
 * @module The vendor-neutral access scenarios (test/contract/access-scenarios.case.ts) on OPNsense, through its
 * harness (test/opnsense/access-harness.ts). The native-expiry scenario is skipped by OPNsense's capability flag.
 */
import { runAccessScenarios } from '../contract/access-scenarios.case.ts';
import { opnsenseAccessHarness } from './access-harness.ts';

runAccessScenarios(opnsenseAccessHarness);
