/**
 * @module Drift runs on every vendor with the capability (issue 14 item 4): each registered vendor whose descriptor
 * has `read.rules` or `read.aliases` has its drift test file, `test/orchestration/drift-<vendor>.test.ts` — the
 * shared scenarios (test/orchestration/drift.case.ts) where the vendor has a live writer, or what applies without one
 * (nftables). A vendor registered later without one fails here.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { listVendors } from '../../src/adapters/vendors.ts';

const withDrift = listVendors().filter((v) => v.live !== undefined && (v.capabilities['read.rules'] || v.capabilities['read.aliases']));

it('covers the vendors registered today', () => {
  expect(withDrift.map((v) => v.id).sort()).toEqual(['nftables', 'openwrt', 'opnsense', 'pfsense', 'routeros']);
});

it.each(withDrift.map((v) => [v.id, v] as const))('%s has a drift test; with a live writer it runs the shared scenarios', (id, vendor) => {
  const file = join(import.meta.dirname, `drift-${id}.test.ts`);
  expect(existsSync(file), file).toBe(true);
  const shared = readFileSync(file, 'utf8').includes('runDriftScenarios(');
  expect(shared).toBe(vendor.writes !== undefined);
});
