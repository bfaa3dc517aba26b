/**
 * @module Every vendor's access harness (the same one its access-scenarios test runs), for bench/access/vendors.ts:
 * one line per vendor. A vendor's harness is its `test/<vendor>/access-harness.ts`.
 */
import { nftablesAccessHarness } from '../../test/nftables/access-harness.ts';
import { openwrtAccessHarness } from '../../test/openwrt/access-harness.ts';
import { opnsenseAccessHarness } from '../../test/opnsense/access-harness.ts';
import { pfsenseAccessHarness } from '../../test/pfsense/access-harness.ts';
import { routerOsAccessHarness } from '../../test/routeros/access-harness.ts';
import type { AccessScenarioHarness } from '../../test/contract/access-scenarios.case.ts';

export const ACCESS_HARNESSES: readonly AccessScenarioHarness[] = [
  pfsenseAccessHarness,
  opnsenseAccessHarness,
  openwrtAccessHarness,
  routerOsAccessHarness,
  nftablesAccessHarness,
];
