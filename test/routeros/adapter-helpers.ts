/**
 * @module Helpers for the RouterOS tests that run against the emulator (src/emulators/routeros): adapters pointed
 * at it, and its live tables read through its public `state()`.
 */
import { RouterOsAdapter, type RouterOsAdapterOptions } from '../../src/adapters/routeros/index.ts';
import type { RouterOsEmulator } from '../../src/emulators/routeros/index.ts';

/** An adapter that pins the emulator's certificate, with short timeouts and quick retries. */
export function rosAdapterFor(emu: RouterOsEmulator, overrides: Partial<RouterOsAdapterOptions> = {}): RouterOsAdapter {
  return new RouterOsAdapter({
    url: emu.url,
    username: emu.credentials.username,
    password: emu.credentials.password,
    tls: emu.fingerprint === null ? { mode: 'system' } : { mode: 'fingerprint', sha256: emu.fingerprint },
    timeouts: { connectMs: 2_000, headersMs: 5_000, bodyMs: 5_000 },
    retry: { maxRetries: 2, initialDelayMs: 10, maxDelayMs: 20 },
    ...overrides,
  });
}

type Row = Record<string, unknown>;

/** The rows of one menu of the emulated router (e.g. `ip/firewall/address-list`). */
export function rows(emu: RouterOsEmulator, menu: string): Row[] {
  const tables = emu.state().tables as unknown as Record<string, { rows: Row[] } | undefined>;
  // A stored row keeps its properties under `values` (docs/reference/routeros-api.md §8).
  return (tables[menu]?.rows ?? []).map((r) => (typeof r.values === 'object' && r.values !== null ? (r.values as Row) : r));
}

/** The enabled addresses of a list in both menus, as the router enforces them. */
export function listAddresses(emu: RouterOsEmulator, list: string): string[] {
  return ['ip/firewall/address-list', 'ipv6/firewall/address-list'].flatMap((menu) =>
    rows(emu, menu)
      .filter((r) => r.list === list && r.disabled !== 'true' && r.disabled !== true)
      .map((r) => String(r.address)),
  );
}

/** Open connections from or to `ip` in the emulator's connection table. */
export function connectionCount(emu: RouterOsEmulator, ip: string): number {
  const involves = (v: unknown) => typeof v === 'string' && (v === ip || v.startsWith(`${ip}:`));
  return rows(emu, 'ip/firewall/connection').filter((r) => involves(r['src-address']) || involves(r['dst-address'])).length;
}
