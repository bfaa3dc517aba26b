/**
 * @module The Linux nftables host adapter (docs/nftables.md, facts in docs/reference/nftables-api.md): a knoc's
 * address list is a pair of named sets in the table Portcullis owns, `table inet portcullis` — `<name>` (type
 * ipv4_addr) and `<name>_v6` (ipv6_addr), both with flag `timeout` (and `interval` for a network list)
 * (docs/adr/0205-nftables-table-and-sets.md). Reads are `nft -j list table`, every change is ONE atomic
 * `nft -f -` batch, writes are live at once (no apply), each of our elements carries the grant's remaining
 * lifetime as its kernel `timeout` and `portcullis:<grant>` as its comment, and a revoked address's conntrack
 * entries are deleted (docs/adr/0207-nftables-kill-semantics.md). Commands run locally or over SSH
 * (./transport.ts, docs/adr/0206-nftables-ssh-transport.md).
 */
import { normalizeCidr, normalizeIp } from '../../net/ip.ts';
import type { AliasEntry, ApplyResult, DeviceAlias, FirewallAdapter, VersionInfo } from '../types.ts';
import { NftError } from './errors.ts';
import type { CommandResult, CommandRunner } from './transport.ts';

export const NFT_TABLE_DEFAULT = 'portcullis';
/** The companion set of `<name>` for IPv6 addresses. */
export const V6_SUFFIX = '_v6';
/** Longest element / set comment the nft parser takes (docs/reference/nftables-api.md §7). */
export const COMMENT_MAX = 128;
/**
 * How far a written expiry may be from what the kernel reports before the element is rewritten: `nft -j` prints
 * `expires` in whole seconds, truncated (docs/reference/nftables-api.md §3), and the read comes a moment later.
 */
const EXPIRY_SLACK_MS = 2_000;
/** The shortest timeout written: an entry due in less is written to live one more second, not refused. */
const MIN_TIMEOUT_MS = 1_000;

export interface NftablesAdapterOptions {
  runner: CommandRunner;
  /** The table Portcullis owns (family inet); default `portcullis`. */
  table?: string;
  /** The clock (epoch ms) expiries are counted from; tests only. */
  now?: () => number;
}

/** One element as the kernel holds it. */
interface NftElement {
  /** Canonical address (host set) or CIDR (network set). */
  key: string;
  comment: string;
  /** Whether the element has its own timeout; `expiresAt` is then when the kernel drops it. */
  expiresAt?: number;
}

interface NftSet {
  name: string;
  type: string;
  flags: string[];
  comment: string;
  elements: NftElement[];
}

type JsonObject = Record<string, unknown>;

const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A string nft takes between double quotes (no quote, no backslash, no control character, ≤ 128 bytes). */
function quoted(text: string, what: string, code: 'NFT101' | 'NFT102'): string {
  // eslint-disable-next-line no-control-regex
  if (/["\\\x00-\x1f\x7f]/.test(text)) {
    throw new NftError(code, `the ${what} ${JSON.stringify(text.slice(0, 40))} holds a double quote, backslash or control character.`, { field: 'detail' });
  }
  if (Buffer.byteLength(text) > COMMENT_MAX) {
    throw new NftError(code, `the ${what} is longer than ${COMMENT_MAX} bytes.`, { field: 'detail' });
  }
  return `"${text}"`;
}

/** Finds `X entries have been deleted` in conntrack's summary line (docs/reference/nftables-api.md §6). */
export function parseConntrackDeleted(stderr: string): number | null {
  const match = /(\d+) flow entries have been deleted/.exec(stderr);
  return match ? Number(match[1]) : null;
}

/** The first line nft printed on a failure (its `Error: …`), without the echoed input. */
function nftMessage(result: CommandResult): string {
  const lines = result.stderr.split('\n').map((l) => l.trim());
  return (lines.find((l) => l.includes('Error:')) ?? lines.find((l) => l !== '') ?? `exit code ${result.code}`).slice(0, 300);
}

/** Permission and installation failures any nft / conntrack command can hit, as NFT codes. */
export function commonFailure(result: CommandResult, what: string): NftError | null {
  const text = result.stderr;
  if (/Operation not permitted|you must be root|Permission denied/i.test(text)) {
    return new NftError('NFT002', `${what}: ${nftMessage(result)}`);
  }
  if (result.code === 127 || /command not found|not found$/m.test(text)) {
    return new NftError('NFT005', `${what}: ${nftMessage(result)}`);
  }
  return null;
}

export class NftablesAdapter implements FirewallAdapter {
  readonly vendor = 'nftables';
  readonly warnings: string[] = [];
  readonly table: string;
  private readonly runner: CommandRunner;
  private readonly now: () => number;
  /** Writes to one host are serialised: each diff is computed against the state the previous write left. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(opts: NftablesAdapterOptions) {
    this.runner = opts.runner;
    this.table = opts.table ?? NFT_TABLE_DEFAULT;
    if (!/^[A-Za-z][A-Za-z0-9_]{0,63}$/.test(this.table)) throw new TypeError(`invalid nft table name ${this.table}`);
    this.now = opts.now ?? Date.now;
  }

  /** What the adapter reaches (for messages). */
  get target(): string {
    return this.runner.describe;
  }

  async close(): Promise<void> {
    await this.queue.catch(() => undefined);
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Runs one command; permission / installation failures become their codes, others are returned. */
  async exec(argv: readonly string[], stdin?: string): Promise<CommandResult> {
    const result = await this.runner.run(argv, stdin);
    if (result.code !== 0) {
      const common = commonFailure(result, `${argv[0]} on ${this.runner.describe}`);
      if (common) throw common;
    }
    return result;
  }

  /** `nft -j <args>` parsed: the `nftables` array (docs/reference/nftables-api.md §3). */
  async nftJson(args: readonly string[], failCode: 'NFT100' | 'NFT300'): Promise<JsonObject[] | null> {
    const result = await this.exec(['nft', '-j', ...args]);
    if (result.code !== 0) {
      if (/No such file or directory/.test(result.stderr)) return null;
      throw new NftError(failCode, `nft ${args.join(' ')} on ${this.runner.describe}: ${nftMessage(result)}`);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(result.stdout);
    } catch {
      throw new NftError('NFT400', `nft -j ${args.join(' ')} did not print JSON.`);
    }
    if (!isObject(parsed) || !Array.isArray(parsed.nftables)) {
      throw new NftError('NFT400', `nft -j ${args.join(' ')} printed no "nftables" array.`);
    }
    return parsed.nftables.filter(isObject);
  }

  /** Every set of our table, or null when the table does not exist. */
  async readSets(): Promise<Map<string, NftSet> | null> {
    const items = await this.nftJson(['list', 'table', 'inet', this.table], 'NFT100');
    if (items === null) return null;
    const now = this.now();
    const sets = new Map<string, NftSet>();
    for (const item of items) {
      const set = item.set;
      if (!isObject(set) || typeof set.name !== 'string') continue;
      const flags = Array.isArray(set.flags) ? set.flags.filter((f): f is string => typeof f === 'string') : [];
      const interval = flags.includes('interval');
      const elements: NftElement[] = [];
      for (const raw of Array.isArray(set.elem) ? set.elem : []) {
        const element = parseElement(raw, interval, now);
        if (element === null) {
          throw new NftError('NFT400', `set ${set.name} holds an element this adapter cannot read: ${JSON.stringify(raw).slice(0, 120)}`);
        }
        elements.push(element);
      }
      sets.set(set.name, {
        name: set.name,
        type: typeof set.type === 'string' ? set.type : JSON.stringify(set.type),
        flags,
        comment: typeof set.comment === 'string' ? set.comment : '',
        elements,
      });
    }
    return sets;
  }

  async getAlias(name: string): Promise<DeviceAlias | null> {
    const sets = await this.readSets();
    return sets === null ? null : aliasOf(sets, name);
  }

  createAlias(name: string, type: 'host' | 'network', description: string): Promise<void> {
    return this.serial(async () => {
      const flags = type === 'network' ? 'interval,timeout' : 'timeout';
      const comment = quoted(description, 'description', 'NFT101');
      const batch = [
        `add table inet ${this.table}`,
        `add set inet ${this.table} ${name} { type ipv4_addr; flags ${flags}; comment ${comment}; }`,
        `add set inet ${this.table} ${name}${V6_SUFFIX} { type ipv6_addr; flags ${flags}; comment ${comment}; }`,
      ];
      const result = await this.exec(['nft', '-f', '-'], batch.join('\n') + '\n');
      if (result.code !== 0) {
        const exists = /File exists/.test(result.stderr);
        throw new NftError(
          'NFT101',
          exists
            ? `a set named ${name} (or ${name}${V6_SUFFIX}) already exists in table inet ${this.table} with another type or flags.`
            : `nft on ${this.runner.describe}: ${nftMessage(result)}`,
        );
      }
    });
  }

  setAliasEntries(name: string, entries: AliasEntry[]): Promise<void> {
    return this.serial(async () => {
      const sets = await this.readSets();
      const v4 = sets?.get(name);
      if (!sets || !v4) throw new NftError('NFT103', `no set ${name} in table inet ${this.table} on ${this.runner.describe}.`);
      const v6 = sets.get(name + V6_SUFFIX);
      const batch = this.diff(name, v4, v6, entries);
      if (batch.length === 0) return;
      const result = await this.exec(['nft', '-f', '-'], batch.join('\n') + '\n');
      if (result.code !== 0) {
        throw new NftError('NFT102', `set ${name} on ${this.runner.describe}: ${nftMessage(result)}`);
      }
    });
  }

  /**
   * The batch that turns the two sets into `entries` (docs/adr/0205-nftables-table-and-sets.md): elements no
   * longer wanted are deleted; new ones added with their timeout and comment; ours whose comment or expiry
   * changed are deleted and added again (the kernel cannot change a timeout in place on every supported version).
   * Every delete is preceded by an `add` of the bare key, so an element that expired between our read and the
   * batch does not fail the whole batch with ENOENT; within one batch that add and the delete cancel out.
   */
  private diff(name: string, v4: NftSet, v6: NftSet | undefined, entries: AliasEntry[]): string[] {
    const now = this.now();
    const wanted = new Map<string, { set: NftSet; entry: AliasEntry; key: string }>();
    for (const entry of entries) {
      const six = entry.address.includes(':');
      const set = six ? v6 : v4;
      if (set === undefined) {
        throw new NftError('NFT104', `set ${name} has no companion ${name}${V6_SUFFIX} for the IPv6 address ${entry.address}.`, { field: 'address' });
      }
      const key = canonicalKey(entry.address, set.flags.includes('interval'));
      if (key === null) {
        throw new NftError('NFT102', `${JSON.stringify(entry.address.slice(0, 60))} is not an address set ${set.name} can hold.`, { field: 'address' });
      }
      if (entry.expiresAt !== undefined && !set.flags.includes('timeout')) {
        throw new NftError('NFT104', `set ${set.name} has no flag timeout, so its elements cannot expire by themselves.`);
      }
      wanted.set(`${set.name} ${key}`, { set, entry, key });
    }
    const dels: string[] = [];
    const adds: string[] = [];
    const element = (set: NftSet) => `element inet ${this.table} ${set.name}`;
    for (const set of [v4, v6]) {
      if (set === undefined) continue;
      for (const current of set.elements) {
        const want = wanted.get(`${set.name} ${current.key}`);
        if (want !== undefined && !this.differs(current, want.entry, now)) {
          wanted.delete(`${set.name} ${current.key}`);
          continue;
        }
        dels.push(`add ${element(set)} { ${current.key} }`, `delete ${element(set)} { ${current.key} }`);
      }
    }
    for (const { set, entry, key } of wanted.values()) {
      const timeout =
        entry.expiresAt === undefined ? '' : ` timeout ${Math.max(MIN_TIMEOUT_MS, Math.round(entry.expiresAt - now))}ms`;
      const comment = entry.detail === '' ? '' : ` comment ${quoted(entry.detail, 'detail', 'NFT102')}`;
      adds.push(`add ${element(set)} { ${key}${timeout}${comment} }`);
    }
    return [...dels, ...adds];
  }

  /** Whether the element the kernel holds must be rewritten to become `want`. */
  private differs(current: NftElement, want: AliasEntry, now: number): boolean {
    if (current.comment !== want.detail) return true;
    // An entry not ours keeps whatever timeout it has (docs/adr/0180-native-expiry.md).
    if (!want.detail.startsWith('portcullis:')) return false;
    if (want.expiresAt === undefined) return current.expiresAt !== undefined;
    if (current.expiresAt === undefined) return true;
    return Math.abs(Math.max(want.expiresAt, now + MIN_TIMEOUT_MS) - current.expiresAt) > EXPIRY_SLACK_MS;
  }

  /** Writes are live when `nft -f` returns (docs/reference/nftables-api.md §4): nothing is ever pending. */
  async apply(): Promise<ApplyResult> {
    return { applied: true, pending: [] };
  }

  /**
   * Deletes the conntrack entries whose original source or destination is `ip` (`conntrack -D -s`, then `-d`),
   * and returns how many conntrack said it deleted (docs/adr/0207-nftables-kill-semantics.md).
   */
  async killStates(ip: string): Promise<number> {
    const address = normalizeIp(ip);
    if (address === null) throw new NftError('NFT200', `${JSON.stringify(ip.slice(0, 60))} is not an IP address.`);
    const family = address.includes(':') ? ['-f', 'ipv6'] : ['-f', 'ipv4'];
    let total = 0;
    for (const flag of ['-s', '-d']) {
      const result = await this.exec(['conntrack', '-D', ...family, flag, address]);
      const deleted = parseConntrackDeleted(result.stderr);
      // conntrack exits 1 when nothing matched, with "0 flow entries have been deleted".
      if (deleted === null || (result.code !== 0 && deleted !== 0)) {
        throw new NftError('NFT200', `conntrack -D ${flag} on ${this.runner.describe}: ${nftMessage(result)}`);
      }
      total += deleted;
    }
    return total;
  }

  async version(): Promise<VersionInfo> {
    const nft = await this.exec(['nft', '--version']);
    if (nft.code !== 0) throw new NftError('NFT000', `nft --version on ${this.runner.describe}: ${nftMessage(nft)}`);
    const kernel = await this.exec(['uname', '-sr']);
    const api = nft.stdout.trim().split('\n')[0] ?? '';
    if (!/^nftables v\d/.test(api)) throw new NftError('NFT400', `nft --version printed ${JSON.stringify(api.slice(0, 80))}.`);
    const product = kernel.code === 0 ? kernel.stdout.trim() : 'Linux';
    return { product, api, raw: { nft: api, kernel: product } };
  }
}

/** The canonical key of an address in a host set (address) or network set (CIDR), or null. */
function canonicalKey(address: string, interval: boolean): string | null {
  if (!interval) return normalizeIp(address.trim());
  return normalizeCidr(address.trim(), { allowBareAddress: true });
}

/** One `elem` of `nft -j` output (docs/reference/nftables-api.md §3): a bare value, or `{elem: {val, timeout, expires, comment}}`. */
function parseElement(raw: unknown, interval: boolean, now: number): NftElement | null {
  let val: unknown = raw;
  let comment = '';
  let expiresAt: number | undefined;
  if (isObject(raw) && isObject(raw.elem)) {
    const elem = raw.elem;
    val = elem.val;
    if (typeof elem.comment === 'string') comment = elem.comment;
    if (typeof elem.timeout === 'number') {
      // `expires` is omitted when under a millisecond is left, and printed truncated to whole seconds.
      expiresAt = now + (typeof elem.expires === 'number' ? elem.expires : 0) * 1000;
    }
  }
  let text: string | null = null;
  if (typeof val === 'string') text = val;
  else if (isObject(val) && isObject(val.prefix) && typeof val.prefix.addr === 'string') {
    text = `${val.prefix.addr}/${String(val.prefix.len)}`;
  } else if (isObject(val) && Array.isArray(val.range) && val.range.length === 2) {
    return { key: `${String(val.range[0])}-${String(val.range[1])}`, comment, ...(expiresAt === undefined ? {} : { expiresAt }) };
  }
  if (text === null) return null;
  const key = canonicalKey(text, interval) ?? text;
  return { key, comment, ...(expiresAt === undefined ? {} : { expiresAt }) };
}

/** The address list `name` of our table: its IPv4 set, then its IPv6 companion, or null when the first is missing. */
export function aliasOf(sets: ReadonlyMap<string, NftSet>, name: string): DeviceAlias | null {
  const v4 = sets.get(name);
  if (v4 === undefined) return null;
  const v6 = sets.get(name + V6_SUFFIX);
  const entries: AliasEntry[] = [];
  for (const set of v6 ? [v4, v6] : [v4]) {
    for (const el of set.elements) {
      entries.push({ address: el.key, detail: el.comment, ...(el.expiresAt === undefined ? {} : { expiresAt: el.expiresAt }) });
    }
  }
  return { name, type: v4.flags.includes('interval') ? 'network' : 'host', descr: v4.comment, entries };
}

/** Set names of our table that are address lists (an IPv4 set; its `_v6` companion is part of it). */
export function aliasNames(sets: ReadonlyMap<string, NftSet>): string[] {
  return [...sets.values()]
    .filter((s) => s.type === 'ipv4_addr' && !(s.name.endsWith(V6_SUFFIX) && sets.get(s.name.slice(0, -V6_SUFFIX.length))))
    .map((s) => s.name);
}
