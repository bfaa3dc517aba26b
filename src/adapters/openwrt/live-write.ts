/**
 * @module OpenWrt's live writes (src/adapters/live-write.ts): firewall rules (UCI `rule`), port forwards
 * (`redirect`, target DNAT), source NAT (`nat`) and aliases (`ipset` sections) staged in the session's UCI delta,
 * and bridge VLANs (`network` `bridge-vlan` sections, src/adapters/openwrt/bridge-vlan.ts) made live with the device's
 * own timed rollback: `uci.apply {rollback:true, timeout}`, a settle wait for the
 * asynchronous fw4 reload, then `uci.confirm` over a NEW request (if the new ruleset cut Portcullis off, the confirm
 * never arrives and rpcd restores the snapshot by itself). Facts: docs/reference/openwrt-api.md §3–§5; decision:
 * docs/adr/0201-openwrt-live-writes-apply-rollback.md.
 *
 * The write target is the UCI section name; creates make NAMED sections (`pc_<hex>`), so the target never shifts.
 * An ipset's removed entries are also deleted from the live nft set after the apply (openwrt/openwrt#13028: a
 * reload does not remove them).
 *
 * A RUNTIME set (an ipset with `option timeout`, as Portcullis creates them: its elements are written at run time
 * and carry a comment, docs/reference/openwrt-api.md §3, ADR 0200) is the one place OpenWrt keeps a per-entry detail:
 * an alias write to it makes the live set hold exactly the written entries after the apply, each with its detail as
 * the element's comment (a grant's remaining kernel timeout kept), and reads back the live set. Entries without a
 * detail are also kept in UCI `entry` (they survive a reboot); a knoc alias's tags cannot be (ADR 0278).
 */
import { randomBytes } from 'node:crypto';
import type { AliasEntry } from '../types.ts';
import type {
  LiveObject,
  LiveWrite,
  LiveWriteKind,
  LiveWriter,
  LiveWriteResult,
} from '../live-write.ts';
import type { FirewallAdapter } from '../types.ts';
import { NFT, OpenWrtAdapter } from './adapter.ts';
import { OpenWrtBridgeVlans } from './bridge-vlan.ts';
import { OpenWrtError } from './errors.ts';
import { ACTIONS, familyOf, protocolOf, text, uciList } from './live-view.ts';
import type { UbusData } from './ubus.ts';

type Row = Record<string, unknown>;
const isRecord = (v: unknown): v is Row => v !== null && typeof v === 'object' && !Array.isArray(v);
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** UCI section type of each kind this writer serves. */
const SECTION: Partial<Record<LiveWriteKind, string>> = {
  firewall_rule: 'rule',
  port_forward: 'redirect',
  source_nat: 'nat',
  alias: 'ipset',
};

/** Options each kind maps to neutral fields; every other option is vendor_data (the round trip). */
const MAPPED: Record<string, readonly string[]> = {
  rule: ['target', 'src', 'family', 'proto', 'src_ip', 'ipset', 'src_port', 'dest_ip', 'dest_port', 'name', 'enabled', 'log'],
  redirect: ['target', 'src', 'proto', 'src_ip', 'src_dip', 'src_dport', 'dest_ip', 'dest_port', 'name', 'enabled'],
  nat: ['target', 'src', 'proto', 'src_ip', 'dest_ip', 'snat_ip', 'name', 'enabled'],
  ipset: ['name', 'match', 'comment', 'entry', 'family'],
};

export interface OpenWrtWriteOptions {
  /** rpcd rollback timer, seconds (rpcd default 60). */
  rollbackS?: number;
  /** How long to let the asynchronous fw4 reload run before the confirm (default 2 s). */
  settleMs?: number;
}

const fieldError = (kind: string, field: string, problem: string) =>
  new OpenWrtError('OWRT500', `${kind} field \`${field}\` ${problem}.`, { field });

function need<T>(kind: string, body: Row, field: string, test: (v: unknown) => v is T, problem: string): T {
  const v = body[field];
  if (!test(v)) throw fieldError(kind, field, problem);
  return v;
}
const isString = (v: unknown): v is string => typeof v === 'string';
const isBool = (v: unknown): v is boolean => typeof v === 'boolean';
const isNullableString = (v: unknown): v is string | null => v === null || typeof v === 'string';
const isAddressish = (v: string) => /^!?[0-9a-fA-F.:]+(\/\d{1,3})?$/.test(v);

/** The UCI options of a neutral body (undefined = option absent). */
function toOptions(kind: LiveWriteKind, body: unknown): Record<string, string | string[] | undefined> {
  if (!isRecord(body)) throw fieldError(kind, 'body', 'must be an object');
  const o: Record<string, string | string[] | undefined> = {};
  const vd = body.vendor_data;
  if (vd !== undefined) {
    if (!isRecord(vd)) throw fieldError(kind, 'vendor_data', 'must be an object');
    for (const [k, v] of Object.entries(vd)) {
      if (k.startsWith('.')) continue;
      if (typeof v === 'string' || (Array.isArray(v) && v.every((x) => typeof x === 'string'))) o[k] = v;
      else throw fieldError(kind, `vendor_data.${k}`, 'must be a string or a list of strings');
    }
  }
  const text = (f: string) => need(kind, body, f, isString, 'must be a string');
  const opt = (f: string) => need(kind, body, f, isNullableString, 'must be a string or null');
  const enabled = need(kind, body, 'is_enabled', isBool, 'must be true or false');
  const description = text('description');
  o.name = description === '' ? undefined : description;
  o.enabled = enabled ? undefined : '0';
  const addr = (f: string, v: string) => {
    if (v === 'any' || v === '') return undefined;
    if (!isAddressish(v)) throw fieldError(kind, f, 'must be any, an address or a prefix');
    return v;
  };
  if (kind === 'firewall_rule') {
    const action = need(kind, body, 'action', (v): v is string => typeof v === 'string' && ['allow', 'deny', 'reject'].includes(v), 'must be allow, deny or reject');
    o.target = { allow: 'ACCEPT', deny: 'DROP', reject: 'REJECT' }[action];
    const iface = text('interface');
    o.src = iface === '' ? undefined : iface;
    const ipv = text('ip_version');
    o.family = ipv === 'inet' ? 'ipv4' : ipv === 'inet6' ? 'ipv6' : ipv === 'inet46' ? undefined : (() => { throw fieldError(kind, 'ip_version', 'must be inet, inet6 or inet46'); })();
    const proto = text('protocol');
    o.proto = proto === 'any' ? 'all' : proto === 'tcp/udp' ? undefined : ['tcp', 'udp', 'icmp'].includes(proto) ? proto : (() => { throw fieldError(kind, 'protocol', 'must be any, tcp, udp, tcp/udp or icmp'); })();
    const src = text('source_address');
    // A name that is not an address is an fw4 set (`option ipset`).
    if (src !== 'any' && src !== '' && !isAddressish(src)) {
      if (!/^!?[a-zA-Z_.][a-zA-Z0-9/_.-]*$/.test(src)) throw fieldError(kind, 'source_address', 'must be any, an address, a prefix or a set name');
      o.ipset = src;
      o.src_ip = undefined;
    } else {
      o.src_ip = addr('source_address', src);
      if (o.ipset === undefined) o.ipset = undefined;
    }
    o.src_port = opt('source_port') ?? undefined;
    o.dest_ip = addr('dest_address', text('dest_address'));
    o.dest_port = opt('dest_port') ?? undefined;
    o.log = need(kind, body, 'log_enabled', isBool, 'must be true or false') ? '1' : undefined;
  } else if (kind === 'port_forward') {
    o.target = 'DNAT';
    o.src = text('interface');
    const proto = text('protocol');
    o.proto = proto === 'tcp/udp' ? undefined : ['tcp', 'udp'].includes(proto) ? proto : (() => { throw fieldError(kind, 'protocol', 'must be tcp, udp or tcp/udp'); })();
    o.src_ip = addr('source_address', text('source_address'));
    o.src_dip = addr('dest_address', text('dest_address'));
    o.src_dport = text('dest_port');
    o.dest_ip = addr('target_address', text('target_address'));
    if (o.dest_ip === undefined) throw fieldError(kind, 'target_address', 'must be an address');
    o.dest_port = text('target_port');
  } else if (kind === 'source_nat') {
    o.src = text('interface');
    const proto = text('protocol');
    o.proto = proto === 'any' ? undefined : proto === 'tcp/udp' ? 'tcp udp' : ['tcp', 'udp'].includes(proto) ? proto : (() => { throw fieldError(kind, 'protocol', 'must be any, tcp, udp or tcp/udp'); })();
    o.src_ip = addr('source_address', text('source_address'));
    o.dest_ip = addr('dest_address', text('dest_address'));
    const t = text('target_address');
    if (t === 'masquerade') {
      o.target = 'MASQUERADE';
      o.snat_ip = undefined;
    } else {
      if (!isAddressish(t)) throw fieldError(kind, 'target_address', 'must be masquerade or an address');
      o.target = 'SNAT';
      o.snat_ip = t;
    }
  }
  return o;
}

/** A UCI section as the neutral body of its kind (what `read` returns). */
export function toBody(kind: LiveWriteKind, row: Row): LiveObject {
  const type = SECTION[kind] as string;
  const vendor: Row = {};
  for (const [k, v] of Object.entries(row)) if (!k.startsWith('.') && !MAPPED[type]?.includes(k)) vendor[k] = v;
  const s = (v: unknown) => (typeof v === 'string' ? v : Array.isArray(v) ? v.join(' ') : null);
  const withVendor = (b: Row) => (Object.keys(vendor).length > 0 ? { ...b, vendor_data: vendor } : b);
  const enabled = row.enabled === undefined || !['0', 'off', 'false', 'no'].includes(text(row.enabled));
  if (kind === 'firewall_rule') {
    const action = ACTIONS[(text(row.target) || 'DROP').toUpperCase()];
    if (action === undefined) throw new OpenWrtError('OWRT500', `Rule ${String(row['.name'])} has target ${String(row.target)}, which no neutral action names.`, { field: 'action' });
    return withVendor({
      action,
      interface: s(row.src) ?? '',
      ip_version: familyOf(row.family),
      protocol: protocolOf(row.proto),
      source_address: s(row.src_ip) ?? s(row.ipset) ?? 'any',
      source_port: s(row.src_port),
      dest_address: s(row.dest_ip) ?? 'any',
      dest_port: s(row.dest_port),
      description: s(row.name) ?? '',
      is_enabled: enabled,
      log_enabled: row.log === '1',
    });
  }
  if (kind === 'port_forward') {
    return withVendor({
      interface: s(row.src) ?? '',
      protocol: protocolOf(row.proto),
      source_address: s(row.src_ip) ?? 'any',
      dest_address: s(row.src_dip) ?? 'any',
      dest_port: s(row.src_dport) ?? '',
      target_address: s(row.dest_ip) ?? '',
      target_port: s(row.dest_port) ?? '',
      description: s(row.name) ?? '',
      is_enabled: enabled,
    });
  }
  if (kind === 'source_nat') {
    const target = (text(row.target) || 'MASQUERADE').toUpperCase();
    return withVendor({
      interface: s(row.src) ?? '',
      protocol: row.proto === undefined ? 'any' : protocolOf(row.proto),
      source_address: s(row.src_ip) ?? 'any',
      dest_address: s(row.dest_ip) ?? 'any',
      target_address: target === 'SNAT' ? (s(row.snat_ip) ?? '') : 'masquerade',
      description: s(row.name) ?? '',
      is_enabled: enabled,
    });
  }
  // alias: UCI `entry` lists carry no per-entry detail.
  return {
    name: s(row.name) ?? '',
    type: uciList(row.match).some((m) => /net$/.test(m)) ? 'network' : 'host',
    description: s(row.comment) ?? '',
    entries: uciList(row.entry).map((address) => ({ address, detail: '' })),
  };
}

/** An ipset with `option timeout` (any value): fw4 gives its set the timeout flag; its content lives at run time. */
const isRuntimeSet = (row: Row): boolean => typeof row.timeout === 'string' && row.timeout !== '';

export function openwrtLiveWriter(adapter: FirewallAdapter): LiveWriter {
  if (!(adapter instanceof OpenWrtAdapter)) throw new TypeError(`not an OpenWrt adapter: ${adapter.vendor}`);
  return new OpenWrtLiveWriter(adapter);
}

export class OpenWrtLiveWriter implements LiveWriter {
  /** Login generation the staged writes belong to (staging dies with the session, §3). */
  private stagedIn: number | null = null;
  /** Set names and the entries an ipset write removed (deleted from the live set after the apply, #13028). */
  private readonly removed = new Map<string, string[]>();
  private readonly created = new Set<string>();
  /** Runtime sets and the exact entries (with details) their live set holds after the apply. */
  private readonly runtime = new Map<string, AliasEntry[]>();
  private readonly rollbackS: number;
  private readonly settleMs: number;
  private readonly bridgeVlans: OpenWrtBridgeVlans;
  /**
   * This writer staged `network` changes: only then is `network` asked about, so a login whose ACL grants the
   * firewall config alone keeps working for every other write.
   */
  private networkStaged = false;

  constructor(
    private readonly a: OpenWrtAdapter,
    opts: OpenWrtWriteOptions = {},
  ) {
    this.rollbackS = opts.rollbackS ?? a.rollback.timeoutS;
    this.settleMs = opts.settleMs ?? a.rollback.settleMs;
    this.bridgeVlans = new OpenWrtBridgeVlans(a);
  }

  private section(kind: LiveWriteKind): string {
    const type = SECTION[kind];
    if (type === undefined) throw new OpenWrtError('OWRT500', `OpenWrt writes no ${kind}.`, { field: 'kind' });
    return type;
  }

  private async getSection(name: string): Promise<Row | null> {
    const d = await this.a.call(
      'uci',
      'get',
      { config: 'firewall', section: name },
      { code: 'OWRT500', what: `read firewall.${name}`, grant: 'uci firewall (read)', allow: [4, 5], read: true },
    );
    return d && isRecord(d.values) ? d.values : null;
  }

  /** alias targets are set names; every other kind targets the section name. */
  private async resolve(kind: LiveWriteKind, target: string): Promise<{ name: string; row: Row } | null> {
    const type = this.section(kind);
    if (kind === 'alias') {
      const s = (await this.a.ipsets()).find((x) => x.name === target);
      return s ? { name: s.section, row: s.raw } : null;
    }
    const row = await this.getSection(target);
    return row && row['.type'] === type ? { name: target, row } : null;
  }

  async read(kind: LiveWriteKind, target: string): Promise<LiveObject | null> {
    if (kind === 'bridge_vlan') return this.bridgeVlans.read(target);
    const found = await this.resolve(kind, target);
    if (found === null) return null;
    const body = toBody(kind, found.row);
    if (kind !== 'alias' || !isRuntimeSet(found.row)) return body;
    // What the router enforces, with each element's comment (in the order last written).
    const live = await this.a.getAlias(target);
    return { ...body, entries: (live?.entries ?? []).map((e) => ({ address: e.address, detail: e.detail })) };
  }

  private uci(method: string, args: UbusData, what: string): Promise<UbusData | null> {
    return this.a.call('uci', method, { config: 'firewall', ...args }, { code: 'OWRT500', what, grant: 'uci firewall (write)' });
  }

  private stage(): void {
    if (this.stagedIn !== null && this.stagedIn !== this.a.ubus.generation) {
      throw new OpenWrtError('OWRT500', 'The rpcd session that held the staged writes expired; their UCI delta is gone. Stage them again.');
    }
    this.stagedIn = this.a.ubus.generation;
  }

  /** Sets `options` on a section and deletes every other non-internal option it has (exact round trip). */
  private async replaceOptions(section: string, old: Row, options: Record<string, string | string[] | undefined>): Promise<void> {
    const values: UbusData = {};
    for (const [k, v] of Object.entries(options)) if (v !== undefined) values[k] = v;
    const drop = Object.keys(old).filter((k) => !k.startsWith('.') && values[k] === undefined);
    if (drop.length > 0) await this.uci('delete', { section, options: drop }, `clear options of ${section}`);
    if (Object.keys(values).length > 0) await this.uci('set', { section, values }, `write ${section}`);
  }

  async write(change: LiveWrite): Promise<LiveWriteResult> {
    const result = await this.stageWrite(change);
    // Staged before this adapter's first login (generation 0): the login that write made holds the delta.
    if (this.stagedIn === 0) this.stagedIn = this.a.ubus.generation;
    return result;
  }

  private async stageWrite(change: LiveWrite): Promise<LiveWriteResult> {
    if (change.kind === 'bridge_vlan') {
      const stagedBefore = this.stagedIn;
      this.stage();
      try {
        const result = await this.bridgeVlans.write(change);
        this.networkStaged = true;
        return result;
      } catch (err) {
        // Refused before anything was staged (a check, a missing grant): this write holds no session to.
        if (stagedBefore === null) this.stagedIn = null;
        throw err;
      }
    }
    const type = this.section(change.kind);
    if (change.kind === 'alias') return this.writeAlias(change);
    this.stage();
    if (change.op === 'create') {
      const options = toOptions(change.kind, change.body);
      const name = `pc_${randomBytes(4).toString('hex')}`;
      const values: UbusData = {};
      for (const [k, v] of Object.entries(options)) if (v !== undefined) values[k] = v;
      await this.uci('add', { type, name, values }, `create a ${type}`);
      const before = 'before' in change ? change.before : undefined;
      if (typeof before === 'string') await this.placeBefore(name, before);
      return { target: name, pending: ['firewall'] };
    }
    if (change.target === null) throw new OpenWrtError('OWRT500', `A ${change.op} needs a target.`, { field: 'target' });
    const found = await this.resolve(change.kind, change.target);
    if (found === null) throw new OpenWrtError('OWRT500', `No ${type} section ${change.target}.`, { field: 'target' });
    if (change.op === 'delete') {
      await this.uci('delete', { section: found.name }, `delete ${found.name}`);
    } else if (change.op === 'toggle') {
      if (change.body.is_enabled) await this.uci('delete', { section: found.name, option: 'enabled' }, `enable ${found.name}`);
      else await this.uci('set', { section: found.name, values: { enabled: '0' } }, `disable ${found.name}`);
    } else if (change.op === 'update') {
      await this.replaceOptions(found.name, found.row, toOptions(change.kind, change.body));
    } else {
      throw new OpenWrtError('OWRT500', `OpenWrt does not ${change.op} a ${change.kind}.`, { field: 'op' });
    }
    return { target: found.name, pending: ['firewall'] };
  }

  /** Puts `name` right before `before` (uci.order with the whole section list of the config). */
  private async placeBefore(name: string, before: string): Promise<void> {
    const d = await this.a.call('uci', 'get', { config: 'firewall' }, { code: 'OWRT500', what: 'read the firewall order', grant: 'uci firewall (read)', read: true });
    const rows = Object.values(isRecord(d?.values) ? d.values : {})
      .filter(isRecord)
      .sort((x, y) => Number(x['.index'] ?? 0) - Number(y['.index'] ?? 0))
      .map((r) => String(r['.name']));
    if (!rows.includes(before)) throw new OpenWrtError('OWRT500', `No section ${before} to place the rule before.`, { field: 'before' });
    const order = rows.filter((r) => r !== name);
    order.splice(order.indexOf(before), 0, name);
    await this.uci('order', { sections: order }, 'reorder the firewall sections');
  }

  private async writeAlias(change: LiveWrite): Promise<LiveWriteResult> {
    this.stage();
    const body = change.body as Row;
    /** The entries with their details; a detail only where the set is a runtime set (its elements carry comments). */
    const entriesWith = (runtime: boolean): AliasEntry[] => {
      const e = body.entries;
      if (!Array.isArray(e)) throw fieldError('alias', 'entries', 'must be a list');
      return e.map((x, i) => {
        if (!isRecord(x) || typeof x.address !== 'string' || !isAddressish(x.address)) throw fieldError('alias', `entries[${i}].address`, 'must be an address or prefix');
        const detail = x.detail === undefined ? '' : x.detail;
        if (typeof detail !== 'string') throw fieldError('alias', `entries[${i}].detail`, 'must be a string');
        if (detail !== '' && !runtime) {
          throw fieldError('alias', `entries[${i}].detail`, 'must be empty: a UCI ipset entry carries no per-entry detail (only a set with option timeout keeps comments, on its live elements)');
        }
        return { address: x.address, detail };
      });
    };
    /** What UCI keeps: the entries without a detail (a comment lives only on the live element). */
    const entriesOf = (runtime: boolean, set: string): string[] => {
      const all = entriesWith(runtime);
      if (runtime) this.runtime.set(set, all);
      return all.filter((x) => x.detail === '').map((x) => x.address);
    };
    if (change.op === 'create') {
      const name = need('alias', body, 'name', isString, 'must be a string');
      if (!/^[a-zA-Z_.][a-zA-Z0-9/_.-]*$/.test(name)) throw fieldError('alias', 'name', 'must be an fw4 identifier');
      const type = body.type === 'network' ? 'network' : body.type === 'host' ? 'host' : (() => { throw fieldError('alias', 'type', 'must be host or network'); })();
      const values: UbusData = { name, family: 'ipv4', match: [type === 'network' ? 'src_net' : 'src_ip'], timeout: '0' };
      if (typeof body.description === 'string' && body.description !== '') values.comment = body.description;
      // `timeout 0`: a runtime set, as the access path creates them.
      const entries = entriesOf(true, name);
      if (entries.length > 0) values.entry = entries;
      const args: UbusData = { type: 'ipset', values };
      if (/^[A-Za-z0-9_]+$/.test(name)) args.name = name;
      await this.uci('add', args, `create the ipset ${name}`);
      this.created.add(name);
      return { target: name, pending: ['firewall'] };
    }
    if (change.target === null) throw new OpenWrtError('OWRT500', `A ${change.op} needs a target.`, { field: 'target' });
    const found = await this.resolve('alias', change.target);
    if (found === null) throw new OpenWrtError('OWRT500', `No ipset named ${change.target}.`, { field: 'target' });
    const had = uciList(found.row.entry);
    if (change.op === 'delete') {
      await this.uci('delete', { section: found.name }, `delete the ipset ${change.target}`);
      return { target: change.target, pending: ['firewall'] };
    }
    if (change.op !== 'update') throw new OpenWrtError('OWRT500', `OpenWrt does not ${change.op} an alias.`, { field: 'op' });
    const runtime = isRuntimeSet(found.row);
    this.runtime.delete(change.target);
    const entries = entriesOf(runtime, change.target);
    const values: UbusData = {};
    if (typeof body.description === 'string') values.comment = body.description;
    if (entries.length > 0) values.entry = entries;
    if (entries.length === 0 && had.length > 0) await this.uci('delete', { section: found.name, option: 'entry' }, `empty the ipset ${change.target}`);
    if (typeof body.description === 'string' && body.description === '' && found.row.comment !== undefined) {
      await this.uci('delete', { section: found.name, option: 'comment' }, `clear the ipset comment`);
      delete values.comment;
    }
    if (Object.keys(values).length > 0) await this.uci('set', { section: found.name, values }, `write the ipset ${change.target}`);
    const gone = had.filter((a) => !entries.includes(a));
    // A runtime set's live content is set exactly after the apply; a static one's dropped entries are deleted.
    if (gone.length > 0 && !runtime) this.removed.set(change.target, [...(this.removed.get(change.target) ?? []), ...gone]);
    return { target: change.target, pending: ['firewall'] };
  }

  async pendingSubsystems(): Promise<string[]> {
    if (this.stagedIn !== null && this.stagedIn !== this.a.ubus.generation) {
      throw new OpenWrtError('OWRT500', 'The rpcd session that held the staged writes expired; their UCI delta is gone. Stage them again.');
    }
    const pending: string[] = [];
    if ((await this.staged('firewall')) || this.removed.size > 0 || this.runtime.size > 0) pending.push('firewall');
    if (this.networkStaged && (await this.staged('network'))) pending.push('network');
    return pending;
  }

  /**
   * Makes a runtime set's live elements exactly `entries` (the adapter's element path, §3.3): an element kept with
   * the same detail keeps the kernel timeout it has (a grant's remaining lifetime); others are written without one.
   */
  private async setLiveEntries(set: string, entries: AliasEntry[]): Promise<void> {
    const live = await this.a.getAlias(set);
    const expiry = new Map((live?.entries ?? []).map((e) => [`${e.address}\u0000${e.detail}`, e.expiresAt]));
    await this.a.setAliasEntries(
      set,
      entries.map((e) => {
        const expiresAt = expiry.get(`${e.address}\u0000${e.detail}`);
        return expiresAt === undefined ? e : { ...e, expiresAt };
      }),
    );
  }

  /** Whether the session holds staged changes of `config` (uci.changes). */
  private async staged(config: 'firewall' | 'network'): Promise<boolean> {
    const d = await this.a.call('uci', 'changes', { config }, { code: 'OWRT500', what: `read the staged ${config} changes`, grant: `uci ${config} (read)`, allow: [5], read: true });
    return d !== null && Array.isArray(d.changes) && d.changes.length > 0;
  }

  /**
   * `uci.apply` with rollback, a settle wait, then `uci.confirm`; then the #13028 clean-up and, for a created
   * ipset, a wait until its nft set is live.
   */
  async apply(): Promise<void> {
    const pending = await this.pendingSubsystems();
    if (pending.length === 0) return;
    // One uci.apply makes every config staged in the session live (firewall and network alike), under one rollback.
    if ((await this.staged('firewall')) || pending.includes('network')) {
      await this.a.call('uci', 'apply', { rollback: true, timeout: this.rollbackS }, { code: 'OWRT200', what: 'apply the staged changes with rollback', grant: 'ubus uci.apply' });
      await sleep(this.settleMs);
      // A new request through the reloaded ruleset: if it cannot reach the router, rpcd rolls back by itself.
      await this.a.call('uci', 'confirm', {}, { code: 'OWRT200', what: 'confirm the applied changes', grant: 'ubus uci.confirm' });
    }
    for (const [set, gone] of this.removed) {
      const live = await this.a.liveSet(set, 'OWRT500');
      const still = live ? gone.filter((a) => live.elements.some((e) => e.address === a)) : [];
      if (still.length > 0) {
        const r = await this.a.exec(NFT, ['delete', 'element', 'inet', 'fw4', set, `{ ${still.join(', ')} }`], 'OWRT500', `remove dropped entries from the live set ${set}`);
        if (r.code !== 0) throw new OpenWrtError('OWRT500', `nft delete element ${set} exited ${r.code}: ${r.stderr.trim().slice(0, 200)}.`);
      }
    }
    this.removed.clear();
    for (const set of this.created) {
      await this.a.waitFor(async () => (await this.a.liveSet(set, 'OWRT500')) !== null, `The set ${set}`);
    }
    this.created.clear();
    for (const [set, entries] of this.runtime) await this.setLiveEntries(set, entries);
    this.runtime.clear();
    this.stagedIn = null;
    this.networkStaged = false;
  }
}
