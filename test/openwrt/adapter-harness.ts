/**
 * @module Test harness: the OpenWrt adapter against the OpenWrt emulator (HTTPS, pinned fingerprint, the
 * least-privilege `portcullis` login the emulator ships, docs/reference/openwrt-api.md §8).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { OpenWrtAdapter, type OpenWrtAdapterOptions } from '../../src/adapters/openwrt/index.ts';
import {
  type AclGroup,
  type OpenWrtEmulator,
  type OpenWrtEmulatorOptions,
  startOpenWrtEmulator,
} from '../../src/emulators/openwrt/index.ts';

/**
 * The ACL group docs/openwrt.md tells operators to install (its JSON block, parsed): every test runs with exactly
 * that grant, so the documented ACL is known to be enough.
 */
export function documentedAcl(): Record<string, AclGroup> {
  const doc = readFileSync(join(import.meta.dirname, '../../docs/openwrt.md'), 'utf8');
  const block = /```json\n([\s\S]*?)```/.exec(doc)?.[1];
  if (block === undefined) throw new Error('docs/openwrt.md has no ACL json block');
  return JSON.parse(block) as Record<string, AclGroup>;
}

export function adapterFor(emu: OpenWrtEmulator, opts: Partial<OpenWrtAdapterOptions> = {}): OpenWrtAdapter {
  const login = emu.users.find((u) => u.username === 'portcullis') ?? emu.credentials;
  return new OpenWrtAdapter({
    url: emu.url,
    username: login.username,
    password: login.password,
    tls: emu.fingerprint ? { mode: 'fingerprint', sha256: emu.fingerprint } : { mode: 'system' },
    retry: { maxRetries: 0 },
    apply: { deadlineMs: 5_000, pollIntervalMs: 20 },
    rollback: { timeoutS: 30, settleMs: 50 },
    ...opts,
  });
}

export async function pair(
  emuOpts: OpenWrtEmulatorOptions = {},
  adapterOpts: Partial<OpenWrtAdapterOptions> = {},
): Promise<{ emu: OpenWrtEmulator; adapter: OpenWrtAdapter; close(): Promise<void> }> {
  const emu = await startOpenWrtEmulator({ reloadDelayMs: 20, aclGroups: documentedAcl(), ...emuOpts });
  const adapter = adapterFor(emu, adapterOpts);
  return {
    emu,
    adapter,
    close: async () => {
      await adapter.close();
      await emu.close();
    },
  };
}

/** The addresses of a live nft set in the emulator, or null when fw4 has no such set. */
export function liveAddresses(emu: OpenWrtEmulator, set: string): string[] | null {
  const s = emu.state().firewall.sets[set];
  return s ? s.elements.map((e) => e.value) : null;
}
