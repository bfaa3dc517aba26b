/**
 * @module The OpenWrt adapter (ubus JSON-RPC over uhttpd → rpcd, UCI, firewall4). Facts:
 * docs/reference/openwrt-api.md; decisions: docs/adr/0200-openwrt-runtime-set-path.md (the address set),
 * docs/adr/0201-openwrt-live-writes-apply-rollback.md (rules and NAT).
 *
 * The address set is a firewall `ipset` UCI section (declared once, `option timeout '0'` so elements may carry
 * their own timeout, §3) that fw4 renders as a named set in `table inet fw4`. Entries are runtime elements written
 * with `file.exec /usr/sbin/nft add|delete element …` (each with its `timeout` and its detail as the element
 * `comment`) and read back LIVE with `nft -j list set`: writes are live at once (the `apply` flag is off), the
 * kernel expires entries (native expiry), and a removal removes the live element (no openwrt/openwrt#13028 trap,
 * which only bites UCI `entry` lists).
 */
import ipaddr from 'ipaddr.js';
import type { LookupFunction } from 'node:net';
import type { BreakerOptions, HttpTimeouts, RetryOptions, TlsTrust } from '../http.ts';
import type { AliasEntry, ApplyOptions, ApplyResult, DeviceAlias, FirewallAdapter, VersionInfo } from '../types.ts';
import { OpenWrtError, type OwrtCode } from './errors.ts';
import { BODY_BUDGET, UbusClient, type UbusData, type UbusOp } from './ubus.ts';

export const NFT = '/usr/sbin/nft';
export const CONNTRACK = '/usr/sbin/conntrack';
const TAG = 'portcullis:';
/** A detail longer than this cannot be an nft element comment (NFTNL_UDATA_COMMENT_MAXLEN, §3). */
export const MAX_COMMENT = 128;
/** fw4's `identifier` type for an ipset name (firewall4 fw4.uc `parse_identifier`, §3). */
const FW4_IDENTIFIER = /^[a-zA-Z_.][a-zA-Z0-9/_.-]*$/;
/** UCI section names (uci `uci_validate_name`). */
const UCI_NAME = /^[A-Za-z0-9_]+$/;
/** Expiry differences below this are not rewritten (the access planner's tolerance). */
const EXPIRY_SLACK_MS = 5_000;
const DEFAULT_APPLY: ApplyOptions = { mode: 'async', deadlineMs: 30_000, pollIntervalMs: 100 };

export interface OpenWrtAdapterOptions {
  url: string;
  username: string;
  password: string;
  tls?: TlsTrust;
  lookup?: LookupFunction;
  gatewayKey?: string;
  timeouts?: Partial<HttpTimeouts>;
  retry?: Partial<RetryOptions>;
  breaker?: Partial<BreakerOptions>;
  /** How long to wait for a committed firewall change to be live. */
  apply?: Partial<ApplyOptions>;
  /** Session timeout asked at login, seconds (rpcd default 300). */
  sessionTimeoutS?: number;
  /** Device clock for expiry arithmetic (tests pass the emulator's). */
  now?: () => number;
  /** Live writes' apply: rpcd rollback timer (s, default 60) and the wait for fw4's reload before the confirm (ms, default 2000). */
  rollback?: { timeoutS?: number; settleMs?: number };
}

/** One element of a live nft set, as the adapter reads it. */
export interface LiveElement {
  address: string;
  comment: string | null;
  /** Remaining seconds, when the element has a timeout. */
  expires: number | null;
}

export interface LiveSet {
  name: string;
  type: string;
  flags: string[];
  elements: LiveElement[];
}

export interface IpsetSection {
  section: string;
  name: string;
  match: string[];
  comment: string;
  family: string;
  timeout: string | null;
  entry: string[];
  raw: Record<string, unknown>;
}

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const list = (v: unknown): string[] =>
  Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : typeof v === 'string' ? [v] : [];

/** An nft JSON set element value as text (`1.2.3.4`, `10.0.0.0/8`, `a-b`). */
function elemText(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return String(v);
  if (isRecord(v)) {
    if (isRecord(v.prefix) && typeof v.prefix.addr === 'string') return `${v.prefix.addr}/${String(v.prefix.len)}`;
    if (Array.isArray(v.range) && v.range.length === 2) return `${elemText(v.range[0])}-${elemText(v.range[1])}`;
  }
  return null;
}

/** Parses `nft -j list set` output (§3): the set's type, flags and elements (with timeout/expires/comment). */
export function parseNftSet(stdout: string): LiveSet | null {
  let doc: unknown;
  try {
    doc = JSON.parse(stdout);
  } catch {
    return null;
  }
  const items = isRecord(doc) && Array.isArray(doc.nftables) ? doc.nftables : [];
  for (const item of items) {
    if (!isRecord(item) || !isRecord(item.set)) continue;
    const s = item.set;
    const elements: LiveElement[] = [];
    for (const raw of Array.isArray(s.elem) ? s.elem : []) {
      const wrapped = isRecord(raw) && isRecord(raw.elem) ? raw.elem : null;
      const address = elemText(wrapped ? wrapped.val : raw);
      if (address === null) continue;
      const expires = wrapped && typeof wrapped.expires === 'number' ? wrapped.expires : null;
      const timeout = wrapped && typeof wrapped.timeout === 'number' ? wrapped.timeout : null;
      elements.push({
        address,
        comment: wrapped && typeof wrapped.comment === 'string' ? wrapped.comment : null,
        expires: expires ?? timeout,
      });
    }
    return {
      name: typeof s.name === 'string' ? s.name : '',
      type: typeof s.type === 'string' ? s.type : Array.isArray(s.type) ? s.type.join(' . ') : '',
      flags: list(s.flags),
      elements,
    };
  }
  return null;
}

/** One nft element in the command syntax: `addr [timeout Ns] [comment "…"]`. */
function elementSyntax(address: string, timeoutS: number | null, comment: string): string {
  return `${address}${timeoutS === null ? '' : ` timeout ${timeoutS}s`}${comment === '' ? '' : ` comment "${comment}"`}`;
}

/** One element change of a pass: a delete, an add, or both (a rewrite of detail or expiry). */
export interface ElementChange {
  del?: string;
  add?: string;
}

/** The `nft` argument list of one batch: `delete element … { … } ; add element … { … }` (one transaction). */
export function batchParams(set: string, changes: ElementChange[]): string[] {
  const dels = changes.flatMap((c) => (c.del === undefined ? [] : [c.del]));
  const adds = changes.flatMap((c) => (c.add === undefined ? [] : [c.add]));
  const params: string[] = [];
  if (dels.length > 0) params.push('delete', 'element', 'inet', 'fw4', set, `{ ${dels.join(', ')} }`);
  if (dels.length > 0 && adds.length > 0) params.push(';');
  if (adds.length > 0) params.push('add', 'element', 'inet', 'fw4', set, `{ ${adds.join(', ')} }`);
  return params;
}

/**
 * Packs element changes into batches whose `file.exec` body stays under the budget (64 KiB rule, §7); a rewrite's
 * delete and add stay in one batch, so nft applies them in one transaction and the address is never missing.
 */
export function packChanges(set: string, changes: ElementChange[], budget = BODY_BUDGET): ElementChange[][] {
  const size = (batch: ElementChange[]) => UbusClient.size('file', 'exec', { command: NFT, params: batchParams(set, batch) });
  const groups: ElementChange[][] = [];
  let current: ElementChange[] = [];
  let bytes = 0;
  const base = size([{ del: '' , add: '' }]);
  for (const c of changes) {
    const cost = (c.del === undefined ? 0 : Buffer.byteLength(JSON.stringify(c.del))) + (c.add === undefined ? 0 : Buffer.byteLength(JSON.stringify(c.add)));
    if (base + cost > budget) {
      throw new OpenWrtError('OWRT007', `The set element ${(c.add ?? c.del ?? '').slice(0, 60)}… alone does not fit one request.`);
    }
    if (current.length > 0 && base + bytes + cost > budget) {
      groups.push(current);
      current = [];
      bytes = 0;
    }
    current.push(c);
    bytes += cost;
  }
  if (current.length > 0) groups.push(current);
  for (const g of groups) if (size(g) > budget + 64) throw new OpenWrtError('OWRT007', `A batch of ${g.length} elements does not fit one request.`);
  return groups;
}

export class OpenWrtAdapter implements FirewallAdapter {
  readonly vendor = 'openwrt';
  readonly warnings: string[] = [];
  readonly ubus: UbusClient;
  private readonly applyOptions: ApplyOptions;
  private readonly now: () => number;
  /** The order each set was last written in (nft hash sets have none, ADR 0200). */
  private readonly order = new Map<string, string[]>();
  private versionChecked: VersionInfo | null = null;
  private lastBoot: { uptimeS: number; at: number } | null = null;
  readonly rollback: { timeoutS: number; settleMs: number };

  constructor(opts: OpenWrtAdapterOptions) {
    const tls = opts.tls ?? { mode: 'system' };
    this.ubus = new UbusClient({
      url: opts.url,
      username: opts.username,
      password: opts.password,
      tls,
      ...(opts.lookup ? { lookup: opts.lookup } : {}),
      ...(opts.gatewayKey ? { gatewayKey: opts.gatewayKey } : {}),
      ...(opts.timeouts ? { timeouts: opts.timeouts } : {}),
      ...(opts.retry ? { retry: opts.retry } : {}),
      ...(opts.breaker ? { breaker: opts.breaker } : {}),
      ...(opts.sessionTimeoutS !== undefined ? { sessionTimeoutS: opts.sessionTimeoutS } : {}),
    });
    this.applyOptions = { ...DEFAULT_APPLY, ...opts.apply };
    this.now = opts.now ?? Date.now;
    this.rollback = { timeoutS: opts.rollback?.timeoutS ?? 60, settleMs: opts.rollback?.settleMs ?? 2_000 };
    if (tls.mode === 'insecure') {
      this.warnings.push(
        'TLS certificate verification is disabled for this gateway (insecure mode): anyone on the network path can impersonate it and read the rpcd password. Pin the SHA-256 fingerprint or trust its CA instead.',
      );
    }
    if (this.ubus.http.origin.startsWith('http:')) {
      this.warnings.push('The gateway URL uses plain HTTP: the rpcd password travels unencrypted. Use https://.');
    }
  }

  close(): Promise<void> {
    return this.ubus.close();
  }

  call(object: string, method: string, args: UbusData, op: UbusOp): Promise<UbusData | null> {
    return this.ubus.call(object, method, args, op);
  }

  // ---------------------------------------------------------------------------------------------------------
  // Version (§6)

  async version(): Promise<VersionInfo> {
    const board = await this.call('system', 'board', {}, { code: 'OWRT300', what: 'read system.board', read: true });
    const release = isRecord(board?.release) ? board.release : {};
    const version = typeof release.version === 'string' ? release.version : '';
    const description = typeof release.description === 'string' ? release.description : '';
    if (version === '') throw new OpenWrtError('OWRT400', 'system.board has no release.version.');
    const m = /^(\d+)\.(\d+)/.exec(version);
    if (m && (Number(m[1]) < 22 || (Number(m[1]) === 22 && Number(m[2]) < 3))) {
      throw new OpenWrtError(
        'OWRT006',
        `The router runs OpenWrt ${version} (${description || 'no description'}), before 22.03: it has fw3/iptables, not firewall4.`,
      );
    }
    const info: VersionInfo = {
      product: description || `OpenWrt ${version}`,
      api: `ubus (rpcd) ${typeof release.revision === 'string' ? release.revision : version}`,
      raw: board,
    };
    this.versionChecked = info;
    return info;
  }

  private async ensureSupported(): Promise<void> {
    if (this.versionChecked === null) await this.version();
  }

  /**
   * Seconds since boot and whether the router restarted since the last look (§6): its uptime went back, or is
   * shorter than the time since the last look.
   */
  async bootCheck(): Promise<{ uptimeS: number; rebooted: boolean }> {
    const info = await this.call('system', 'info', {}, { code: 'OWRT300', what: 'read system.info', read: true });
    const uptimeS = typeof info?.uptime === 'number' ? info.uptime : 0;
    const at = this.now();
    const last = this.lastBoot;
    const rebooted = last !== null && (uptimeS < last.uptimeS || uptimeS * 1000 + 2_000 < at - last.at);
    this.lastBoot = { uptimeS, at };
    return { uptimeS, rebooted };
  }

  // ---------------------------------------------------------------------------------------------------------
  // exec (§4: file.exec → {code, stdout, stderr}; the ACL is checked against the path, then the command line)

  async exec(command: string, params: string[], code: OwrtCode, what: string): Promise<ExecResult> {
    const data = await this.call(
      'file',
      'exec',
      { command, params },
      { code, what, grant: `file exec ${command} (ACL "file": {"${command}": ["exec"]})`, allow: [4] },
    );
    if (data === null) {
      throw new OpenWrtError('OWRT005', `${what}: the router has no ${command} (file.exec answered NOT_FOUND).`, {
        ubusStatus: 4,
      });
    }
    return {
      code: typeof data.code === 'number' ? data.code : 0,
      stdout: typeof data.stdout === 'string' ? data.stdout : '',
      stderr: typeof data.stderr === 'string' ? data.stderr : '',
    };
  }

  // ---------------------------------------------------------------------------------------------------------
  // UCI (§3)

  async uciSections(type: string, code: OwrtCode, what: string): Promise<Array<Record<string, unknown>>> {
    const data = await this.call(
      'uci',
      'get',
      { config: 'firewall', type },
      { code, what, grant: 'uci firewall (read)', allow: [4, 5], read: true },
    );
    const values = isRecord(data?.values) ? data.values : {};
    return Object.values(values)
      .filter(isRecord)
      .sort((a, b) => Number(a['.index'] ?? 0) - Number(b['.index'] ?? 0));
  }

  async ipsets(): Promise<IpsetSection[]> {
    const rows = await this.uciSections('ipset', 'OWRT100', 'read the firewall ipset sections');
    return rows.map((r) => ({
      section: typeof r['.name'] === 'string' ? r['.name'] : '',
      name: typeof r.name === 'string' ? r.name : '',
      match: list(r.match),
      comment: typeof r.comment === 'string' ? r.comment : '',
      family: typeof r.family === 'string' ? r.family : '',
      timeout: typeof r.timeout === 'string' ? r.timeout : null,
      entry: list(r.entry),
      raw: r,
    }));
  }

  async commit(code: OwrtCode, what: string): Promise<void> {
    await this.call(
      'uci',
      'commit',
      { config: 'firewall' },
      {
        code,
        what: `${what} (uci commit)`,
        // rpcd also answers 6 while another uci apply with rollback is pending (§4).
        grant: 'uci firewall (write), or wait: a pending uci apply with rollback refuses commits until it is confirmed or rolled back',
      },
    );
  }

  /** The live nft set (`nft -j list set inet fw4 <name>`), or null when table inet fw4 has none of that name. */
  async liveSet(name: string, code: OwrtCode = 'OWRT100'): Promise<LiveSet | null> {
    const r = await this.exec(NFT, ['-j', 'list', 'set', 'inet', 'fw4', name], code, `read the live set ${name}`);
    if (r.code !== 0) {
      if (/No such file|does not exist/i.test(r.stderr)) return null;
      throw new OpenWrtError(code, `nft list set inet fw4 ${name} exited ${r.code}: ${r.stderr.trim().slice(0, 200)}.`);
    }
    const set = parseNftSet(r.stdout);
    if (set === null) throw new OpenWrtError('OWRT400', `nft -j list set ${name} printed no set.`);
    return set;
  }

  /** Waits until committed changes are live (procd runs the reload after the commit, asynchronously, §4). */
  async waitFor(test: () => Promise<boolean>, what: string): Promise<void> {
    const deadline = Date.now() + this.applyOptions.deadlineMs;
    let delay = this.applyOptions.pollIntervalMs;
    for (;;) {
      if (await test()) return;
      if (Date.now() >= deadline) {
        throw new OpenWrtError('OWRT200', `${what} was not live ${this.applyOptions.deadlineMs} ms after the commit.`);
      }
      await sleep(delay);
      delay = Math.min(delay * 2, 2_000);
    }
  }

  // ---------------------------------------------------------------------------------------------------------
  // AliasTarget

  private entriesOf(name: string, set: LiveSet): AliasEntry[] {
    const now = this.now();
    const entries = set.elements.map((e) => {
      const detail = e.comment ?? '';
      const entry: AliasEntry = { address: e.address, detail };
      // Our entries report the device's remaining time; manual ones are never given an expiry (ADR 0180).
      if (detail.startsWith(TAG) && e.expires !== null) entry.expiresAt = now + e.expires * 1000;
      return entry;
    });
    const order = this.order.get(name) ?? [];
    const rank = (a: string) => {
      const i = order.indexOf(a);
      return i < 0 ? order.length : i;
    };
    return entries
      .map((e, i) => ({ e, i }))
      .sort((a, b) => rank(a.e.address) - rank(b.e.address) || a.i - b.i)
      .map((x) => x.e);
  }

  async getAlias(name: string): Promise<DeviceAlias | null> {
    await this.ensureSupported();
    const section = (await this.ipsets()).find((s) => s.name === name);
    if (section === undefined) return null;
    const set = await this.liveSet(name);
    if (set === null) {
      throw new OpenWrtError(
        'OWRT100',
        `The ipset section ${section.section} declares ${name}, but table inet fw4 has no such set (disabled, skipped by fw4, or the firewall is not running).`,
      );
    }
    return {
      name,
      type: section.match.some((m) => /net$/.test(m)) ? 'network' : 'host',
      descr: section.comment,
      entries: this.entriesOf(name, set),
    };
  }

  async createAlias(name: string, type: 'host' | 'network', description: string): Promise<void> {
    await this.ensureSupported();
    if (!FW4_IDENTIFIER.test(name) || name.length > 64) {
      throw new OpenWrtError('OWRT101', `${JSON.stringify(name)} is not an fw4 set name (letters, digits, _ . - /; not starting with a digit).`);
    }
    if (/["\n\r]/.test(description)) throw new OpenWrtError('OWRT101', 'The description must not hold quotes or line breaks.');
    const existing = await this.ipsets();
    if (existing.some((s) => s.name === name)) {
      throw new OpenWrtError('OWRT101', `An ipset section named ${name} already exists.`);
    }
    const values: UbusData = {
      name,
      family: 'ipv4',
      match: [type === 'network' ? 'src_net' : 'src_ip'],
      // timeout >= 0 adds the nft `timeout` flag with no default: each element carries its own (§3).
      timeout: '0',
    };
    if (description !== '') values.comment = description;
    const args: UbusData = { config: 'firewall', type: 'ipset', values };
    if (UCI_NAME.test(name)) args.name = name;
    await this.call('uci', 'add', args, { code: 'OWRT101', what: `create the ipset ${name}`, grant: 'uci firewall (write)' });
    await this.commit('OWRT101', `create the ipset ${name}`);
    await this.waitFor(async () => (await this.liveSet(name, 'OWRT101')) !== null, `The set ${name}`);
    this.order.set(name, []);
  }

  async setAliasEntries(name: string, entries: AliasEntry[]): Promise<void> {
    await this.ensureSupported();
    const section = (await this.ipsets()).find((s) => s.name === name);
    if (section === undefined) {
      throw new OpenWrtError('OWRT103', `No firewall ipset section has name ${name}.`);
    }
    const net = section.match.some((m) => /net$/.test(m));
    const v6 = /6/.test(section.family);
    for (const e of entries) this.checkEntry(e, net, v6);
    const seen = new Set<string>();
    for (const e of entries) {
      if (seen.has(e.address)) throw new OpenWrtError('OWRT102', `${e.address} is listed twice.`, { field: 'entries' });
      seen.add(e.address);
    }
    for (let attempt = 0; ; attempt++) {
      const set = await this.liveSet(name, 'OWRT102');
      if (set === null) throw new OpenWrtError('OWRT102', `table inet fw4 has no set ${name}: is the firewall running?`);
      const canTime = set.flags.includes('timeout');
      const live = new Map(set.elements.map((e) => [e.address, e]));
      const wanted = new Map(entries.map((e) => [e.address, e]));
      const now = this.now();
      const changes: ElementChange[] = [];
      for (const e of set.elements) if (!wanted.has(e.address)) changes.push({ del: e.address });
      for (const e of entries) {
        const timeoutS =
          canTime && e.detail.startsWith(TAG) && e.expiresAt !== undefined
            ? Math.max(1, Math.ceil((e.expiresAt - now) / 1000))
            : null;
        const expired = timeoutS !== null && e.expiresAt !== undefined && e.expiresAt <= now;
        const add = expired ? undefined : elementSyntax(e.address, timeoutS, e.detail);
        const have = live.get(e.address);
        if (have === undefined) {
          if (add !== undefined) changes.push({ add });
          continue;
        }
        const sameDetail = (have.comment ?? '') === e.detail;
        // A manual entry is left as the device holds it (its own timeout too, ADR 0180).
        if (!e.detail.startsWith(TAG) && sameDetail) continue;
        const haveExp = have.expires === null ? null : now + have.expires * 1000;
        const wantExp = timeoutS === null ? null : (e.expiresAt ?? null);
        const sameExp =
          (haveExp === null && wantExp === null) ||
          (haveExp !== null && wantExp !== null && Math.abs(haveExp - wantExp) <= EXPIRY_SLACK_MS);
        if (sameDetail && sameExp) continue;
        // A rewrite: delete and add in one nft transaction (§3.5: `add` leaves an existing element unchanged).
        changes.push(add === undefined ? { del: e.address } : { del: e.address, add });
      }
      try {
        for (const batch of packChanges(name, changes)) {
          const r = await this.exec(NFT, batchParams(name, batch), 'OWRT102', `write elements of ${name}`);
          if (r.code !== 0) {
            throw new OpenWrtError('OWRT102', `nft element write on inet fw4 ${name} exited ${r.code}: ${r.stderr.trim().slice(0, 300)}.`);
          }
        }
      } catch (err) {
        // An element expired between the read and the delete (the batch failed whole): read again once (§3).
        if (attempt === 0 && err instanceof OpenWrtError && /No such file/i.test(err.message)) continue;
        throw err;
      }
      break;
    }
    this.order.set(
      name,
      entries.map((e) => e.address),
    );
  }

  private checkEntry(e: AliasEntry, net: boolean, v6: boolean): void {
    const [addr, len, extra] = e.address.split('/');
    const ok =
      extra === undefined &&
      addr !== undefined &&
      ipaddr.isValid(addr) &&
      ipaddr.parse(addr).kind() === (v6 ? 'ipv6' : 'ipv4') &&
      (len === undefined || (net && /^\d{1,3}$/.test(len) && Number(len) <= (v6 ? 128 : 32)));
    if (!ok) {
      throw new OpenWrtError(
        'OWRT102',
        `${JSON.stringify(e.address)} is not an ${v6 ? 'IPv6' : 'IPv4'} ${net ? 'address or prefix' : 'address'} for this set.`,
        { field: 'entries' },
      );
    }
    if (Buffer.byteLength(e.detail) > MAX_COMMENT || /["\\\n\r]/.test(e.detail)) {
      throw new OpenWrtError(
        'OWRT102',
        `The detail of ${e.address} cannot be an nft comment (at most ${MAX_COMMENT} bytes, no quotes, backslashes or line breaks).`,
        { field: 'entries' },
      );
    }
  }

  /** Writes are live at once: nothing is ever staged by the AliasTarget methods. */
  async apply(): Promise<ApplyResult> {
    return { applied: true, pending: [] };
  }

  async killStates(ip: string): Promise<number> {
    if (!ipaddr.isValid(ip)) throw new OpenWrtError('OWRT600', `${JSON.stringify(ip)} is not an IP address.`);
    let total = 0;
    for (const flag of ['-s', '-d']) {
      const r = await this.exec(CONNTRACK, ['-D', flag, ip], 'OWRT600', `delete the connections of ${ip}`);
      const m = /(\d+) flow entr(?:y|ies) ha(?:s|ve) been deleted/.exec(`${r.stdout}\n${r.stderr}`);
      if (m === null) {
        throw new OpenWrtError('OWRT600', `conntrack -D ${flag} ${ip} exited ${r.code} without a count: ${r.stderr.trim().slice(0, 200)}.`);
      }
      total += Number(m[1]);
    }
    return total;
  }
}
