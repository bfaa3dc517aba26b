/**
 * @module Drift detection (test/orchestration/drift.case.ts) on MikroTik RouterOS: the REST emulator of its access
 * harness (writes live at once, no apply).
 */
import { routerOsAccessHarness } from '../routeros/access-harness.ts';
import { runDriftScenarios } from './drift.case.ts';

runDriftScenarios(routerOsAccessHarness, { ruleInterface: 'ether1' });
