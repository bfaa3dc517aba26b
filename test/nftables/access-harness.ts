/**
 * @module The nftables harness of the vendor-neutral access scenarios and benchmark (test/contract/access-scenarios.case.ts,
 * bench/access/harnesses.ts). No emulator: the server's adapter runs the real `nft` on this kernel, inside a network
 * namespace this harness makes and deletes. The gateway is `local://`; the namespace reaches the server's adapter
 * through the test-only `AdapterTuning.commandPrefix` (`ip netns exec <ns>`, docs/nftables.md §Tests), which the
 * suite passes to the access runtime and to the adapter it builds for manual entries.
 *
 * - live entries and their kernel expiry: `nft -j list set inet portcullis <list>` (+ `<list>_v6`) in the namespace;
 * - writes: nft keeps no request log, so `nft monitor` in the namespace counts the kernel transactions (each ends
 *   with `# new generation N`) that added or deleted elements; applies are 0 (no apply);
 * - outage: the namespace's name is removed (`ip netns del`; a process pinned inside keeps it, ruleset and all,
 *   alive) so `ip netns exec` cannot enter it — the host is unreachable (NFT000) — and re-attached after
 *   (`ip netns attach`);
 * - fault: the fresh list's set is declared again without `flags timeout`, so it cannot hold our expiring
 *   entries (NFT104), and declared with it again after;
 * - reboot: `nft delete table inet portcullis` — what a reboot leaves, no runtime ruleset
 *   (docs/reference/nftables-api.md §4, §7).
 * Needs root and `ip netns` (netnsUnavailable() tells why not; the test file skips then).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import type { AccessScenarioHarness, LiveEntry } from '../contract/access-scenarios.case.ts';
import { deleteNs, inNs, nsName, sh } from './netns.ts';

const TABLE = 'portcullis';

interface NftElem {
  elem?: { val?: unknown; expires?: number };
}

async function listSet(ns: string, name: string): Promise<LiveEntry[]> {
  const listed = await inNs(ns, ['nft', '-j', 'list', 'set', 'inet', TABLE, name]).catch(() => null);
  if (listed === null) return [];
  const doc = JSON.parse(listed.stdout) as { nftables: Array<{ set?: { elem?: Array<string | NftElem> } }> };
  const elems = doc.nftables.find((x) => x.set)?.set?.elem ?? [];
  const now = Date.now();
  return elems.map((e) => {
    if (typeof e === 'string') return { address: e };
    const val = e.elem?.val;
    const address = typeof val === 'string' ? val : JSON.stringify(val);
    return typeof e.elem?.expires === 'number' ? { address, expiresAt: now + e.elem.expires * 1000 } : { address };
  });
}

async function setNames(ns: string): Promise<string[]> {
  const listed = await inNs(ns, ['nft', '-j', 'list', 'sets', 'inet']).catch(() => null);
  if (listed === null) return [];
  const doc = JSON.parse(listed.stdout) as { nftables: Array<{ set?: { name: string; table: string } }> };
  return doc.nftables.flatMap((x) => (x.set && x.set.table === TABLE ? [x.set.name] : []));
}

export const nftablesAccessHarness: AccessScenarioHarness = {
  vendor: 'nftables',
  start: async () => {
    const ns = nsName('acc');
    await sh(['ip', 'netns', 'add', ns]);
    await inNs(ns, ['ip', 'link', 'set', 'lo', 'up']);
    // A process inside keeps the namespace alive while its name is removed (the outage).
    const pin: ChildProcess = spawn('ip', ['netns', 'exec', ns, 'sleep', 'infinity'], { stdio: 'ignore' });
    // Kernel transactions that changed elements, as `nft monitor` reports them (the device's own log of writes):
    // each committed batch ends with a `# new generation N by process P` line.
    let changes = 0;
    let elementsInBatch = false;
    const monitor: ChildProcess = spawn('ip', ['netns', 'exec', ns, 'nft', 'monitor'], { stdio: ['ignore', 'pipe', 'ignore'] });
    let partial = '';
    monitor.stdout?.on('data', (chunk: Buffer) => {
      const lines = (partial + chunk.toString('utf8')).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        if (/^(add|delete) element/.test(line)) elementsInBatch = true;
        else if (line.startsWith('# new generation')) {
          if (elementsInBatch) changes++;
          elementsInBatch = false;
        }
      }
    });
    await new Promise((resolve) => setTimeout(resolve, 200)); // the monitor is listening before the first write
    const untimed: string[] = [];
    let outage = false;
    const reattach = async () => {
      if (!outage) return;
      await sh(['ip', 'netns', 'attach', ns, String(pin.pid)]);
      outage = false;
    };
    return {
      url: 'local://',
      // local:// uses no credentials; the shape (ssh_key) is still required to save a gateway.
      credentials: {
        username: 'root',
        ssh_private_key: generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      },
      fingerprint: null,
      tuning: { commandPrefix: ['ip', 'netns', 'exec', ns] },
      liveEntries: async (list) => [...(await listSet(ns, list)), ...(await listSet(ns, `${list}_v6`))],
      writes: () => changes,
      applies: () => 0,
      outage: async (on) => {
        if (on && !outage) {
          await sh(['ip', 'netns', 'del', ns]);
          outage = true;
        } else if (!on) await reattach();
      },
      outageCode: 'NFT000',
      faults: [
        {
          name: 'set without flag timeout',
          code: 'NFT104',
          inject: async () => {
            // Each empty list set (the fresh knoc's) is declared again without `flags timeout`, so its elements
            // cannot carry the grant's expiry (docs/reference/nftables-api.md §3).
            for (const name of await setNames(ns)) {
              if (name.endsWith('_v6') || (await listSet(ns, name)).length > 0) continue;
              await inNs(ns, ['nft', 'delete', 'set', 'inet', TABLE, name]);
              await inNs(ns, ['nft', 'add', 'set', 'inet', TABLE, name, '{ type ipv4_addr; }']);
              untimed.push(name);
            }
          },
        },
      ],
      clearFaults: async () => {
        for (const name of untimed.splice(0)) {
          await inNs(ns, ['nft', 'delete', 'set', 'inet', TABLE, name]).catch(() => undefined);
          await inNs(ns, ['nft', 'add', 'set', 'inet', TABLE, name, '{ type ipv4_addr; flags timeout; }']);
        }
      },
      reboot: async () => {
        await inNs(ns, ['nft', 'delete', 'table', 'inet', TABLE]).catch(() => undefined);
      },
      close: async () => {
        await reattach().catch(() => undefined);
        monitor.kill();
        pin.kill();
        await deleteNs(ns);
      },
    };
  },
};
