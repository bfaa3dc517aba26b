/**
 * @module Drift detection (test/orchestration/drift.case.ts) on OpenWrt: the uhttpd/rpcd/UCI/fw4 emulator of its access
 * harness (rules staged in UCI and applied with the router's timed rollback; knoc aliases are fw4 sets whose
 * elements are written at run time through `nft`).
 */
import { openwrtAccessHarness } from '../openwrt/access-harness.ts';
import { runDriftScenarios } from './drift.case.ts';

runDriftScenarios(openwrtAccessHarness, { ruleInterface: 'lan' });
