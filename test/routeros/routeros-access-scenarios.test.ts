/**
 * @module The vendor-neutral access scenarios (test/contract/access-scenarios.case.ts) on RouterOS, through its
 * harness (test/routeros/access-harness.ts): writes live at once (no apply), native expiry through the address-list
 * `timeout` restored by the next full run after a reboot, and the storm never has two requests open at the router
 * (one in flight per device, docs/adr/0194-routeros-one-request-in-flight.md).
 */
import { runAccessScenarios } from '../contract/access-scenarios.case.ts';
import { routerOsAccessHarness } from './access-harness.ts';

runAccessScenarios(routerOsAccessHarness);
