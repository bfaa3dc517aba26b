/**
 * @module Entry merge for one alias: from the entries the device holds now and the desired set, the complete
 * entry list to write. Pure (docs/adr/0071-alias-reconciliation.md).
 *
 * Rules:
 * - Our entries carry `portcullis:<grant id>` in `detail`; every other entry (an admin's manual entries,
 *   FQDNs, nested aliases) is kept untouched and in place.
 * - Our entry for an address still desired stays where it is; its tag is rewritten only when the grant it names
 *   is no longer among the address's live grants.
 * - Our entries for addresses no longer desired, duplicates and unparseable tagged entries are dropped.
 * - A desired address already present as a manual entry is not added a second time.
 * - Missing desired addresses are appended at the end, in desired-set order.
 * - With native expiry (vendors whose device drops an entry by itself, `native_expiry`), each of our entries
 *   carries the expiry of the last grant behind its address; an entry the device holds with an expiry more than
 *   `EXPIRY_TOLERANCE_MS` away (a grant was extended, a restart dropped the timeout) is rewritten.
 */
import type { AliasEntry } from '../adapters/types.ts';
import { canonicalAddress } from '../net/client-ip.ts';
import { formatIp, parseCidr } from '../net/ip.ts';
import type { DesiredEntry } from './desired-set.ts';

const TAG_PREFIX = 'portcullis:';

/** Alias types that can hold single addresses, and how each writes one. */
export type AddressAliasType = 'host' | 'network';

export function isAddressAliasType(type: string): type is AddressAliasType {
  return type === 'host' || type === 'network';
}

/** The `detail` tag of an entry serving `grantId`. */
export function tagFor(grantId: string): string {
  // Some devices store details `||`-joined, so a tag holding `||` would split on the next read.
  if (grantId.length === 0 || grantId.includes('||'))
    throw new TypeError(`grant id ${JSON.stringify(grantId)} cannot be used in a tag`);
  return TAG_PREFIX + grantId;
}

/** The grant id in our tag, or null when the entry is not ours. */
export function taggedGrantId(detail: string): string | null {
  return detail.startsWith(TAG_PREFIX) ? detail.slice(TAG_PREFIX.length) : null;
}

/**
 * The single address an entry holds, canonical, or null (an FQDN, a wider prefix, a nested alias name).
 * A host alias holds bare addresses; a network alias holds `/32` and `/128` prefixes for single hosts.
 */
function entryHostAddress(address: string, type: AddressAliasType): string | null {
  if (type === 'host') return canonicalAddress(address);
  const cidr = parseCidr(address, { allowBareAddress: false });
  if (cidr === null || cidr.prefix !== (cidr.family === 4 ? 32 : 128)) return null;
  return canonicalAddress(
    formatIp(cidr.family === 4 ? { family: 4, value: cidr.network } : { family: 6, value: cidr.network }),
  );
}

/** How an address is written into an alias of `type`. */
function entryAddressFor(ip: string, type: AddressAliasType): string {
  if (type === 'host') return ip;
  return ip.includes(':') ? `${ip}/128` : `${ip}/32`;
}

/**
 * How far a device's reported expiry may be from the wanted one: devices count timeouts down in whole seconds,
 * and the read happens a moment after the write.
 */
export const EXPIRY_TOLERANCE_MS = 5_000;

interface PlanOptions {
  /** The vendor expires entries itself: our entries carry `expiresAt` (docs/adr/0180-native-expiry.md). */
  nativeExpiry?: boolean;
}

interface AliasPlan {
  /** The complete entry list to write. */
  entries: AliasEntry[];
  /** Whether `entries` differs from the current list (address, detail or native expiry; order included). */
  changed: boolean;
  /** Desired addresses this plan adds. */
  added: string[];
  /** Addresses of our entries this plan removes (each once). */
  removed: string[];
}

/** Computes the new entry list (see the module rules). `current` is not modified. */
export function planAliasEntries(
  current: readonly AliasEntry[],
  desired: readonly DesiredEntry[],
  type: AddressAliasType,
  options: PlanOptions = {},
): AliasPlan {
  const expiryOf = (want: DesiredEntry): Pick<AliasEntry, 'expiresAt'> =>
    options.nativeExpiry === true && want.expiresAt !== undefined ? { expiresAt: want.expiresAt } : {};
  const wanted = new Map<string, DesiredEntry>();
  for (const entry of desired) wanted.set(entry.ip, entry);

  const present = new Set<string>();
  const removed = new Set<string>();
  const entries: AliasEntry[] = [];
  for (const entry of current) {
    const grantId = taggedGrantId(entry.detail);
    const ip = entryHostAddress(entry.address, type);
    if (grantId === null) {
      entries.push(entry);
      if (ip !== null) present.add(ip);
      continue;
    }
    const want = ip === null ? undefined : wanted.get(ip);
    if (ip === null || want === undefined) {
      if (ip !== null && !wanted.has(ip)) removed.add(ip);
      continue;
    }
    if (present.has(ip)) continue; // duplicate of an entry already kept
    present.add(ip);
    const detail = want.grantIds.includes(grantId) ? entry.detail : tagFor(firstGrant(want));
    const expiry = expiryOf(want);
    const keep = detail === entry.detail && sameExpiry(entry.expiresAt, expiry.expiresAt);
    entries.push(keep ? entry : { address: entry.address, detail, ...expiry });
  }

  const added: string[] = [];
  for (const want of desired) {
    if (present.has(want.ip)) continue;
    present.add(want.ip);
    added.push(want.ip);
    entries.push({ address: entryAddressFor(want.ip, type), detail: tagFor(firstGrant(want)), ...expiryOf(want) });
  }
  for (const ip of present) removed.delete(ip);

  return { entries, changed: !sameEntries(current, entries), added, removed: [...removed] };
}

function firstGrant(entry: DesiredEntry): string {
  const id = entry.grantIds[0];
  if (id === undefined) throw new TypeError(`desired address ${entry.ip} has no grant`);
  return id;
}

/** Whether a device's expiry matches the wanted one (both absent, or within `EXPIRY_TOLERANCE_MS`). */
function sameExpiry(device: number | undefined, wanted: number | undefined): boolean {
  if (device === undefined || wanted === undefined) return device === wanted;
  return Math.abs(device - wanted) <= EXPIRY_TOLERANCE_MS;
}

function sameEntries(a: readonly AliasEntry[], b: readonly AliasEntry[]): boolean {
  if (a.length !== b.length) return false;
  return a.every(
    (entry, i) =>
      entry.address === b[i]?.address &&
      entry.detail === b[i]?.detail &&
      sameExpiry(entry.expiresAt, b[i]?.expiresAt),
  );
}

/** The canonical single addresses an alias holds (ours and manual alike). */
export function aliasHostAddresses(entries: readonly AliasEntry[], type: AddressAliasType): Set<string> {
  const out = new Set<string>();
  for (const entry of entries) {
    const ip = entryHostAddress(entry.address, type);
    if (ip !== null) out.add(ip);
  }
  return out;
}
