/**
 * @module Drift detection (test/orchestration/drift.case.ts) on OPNsense: the emulator of its access harness (aliases
 * reconfigured and read back from the pf table, rules applied with the firmware's own path).
 */
import { opnsenseAccessHarness } from '../opnsense/access-harness.ts';
import { runDriftScenarios } from './drift.case.ts';

runDriftScenarios(opnsenseAccessHarness, { ruleInterface: 'wan' });
