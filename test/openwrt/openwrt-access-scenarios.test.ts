/**
 * @module The vendor-neutral access scenarios (test/contract/access-scenarios.case.ts) on OpenWrt, through its
 * harness (test/openwrt/access-harness.ts): runtime nft set entries, native expiry, and a reboot restored by the
 * next full run.
 */
import { runAccessScenarios } from '../contract/access-scenarios.case.ts';
import { openwrtAccessHarness } from './access-harness.ts';

runAccessScenarios(openwrtAccessHarness);
