/**
 * @module Drift detection (test/orchestration/drift.case.ts) on pfSense: the pfRest emulator of its access harness.
 */
import { pfsenseAccessHarness } from '../pfsense/access-harness.ts';
import { runDriftScenarios } from './drift.case.ts';

runDriftScenarios(pfsenseAccessHarness, { ruleInterface: 'lan' });
