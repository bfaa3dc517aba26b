/**
 * @module The fw4 runtime (docs/reference/openwrt-api.md §3, §4): UCI `ipset` sections parsed as fw4's
 * `parse_ipset` does, named sets in `table inet fw4` with per-element timeouts on the emulator clock, fw4
 * `reload` (adds UCI entries, keeps live ones: openwrt/openwrt#13028), `reload-sets` (flush + re-add from the
 * last reload's state, skipping sets without entries), `restart` (table rebuilt, runtime elements lost), and
 * the `nft` command lines Portcullis runs through `file.exec`.
 */
import ipaddr from 'ipaddr.js';
import { optionList, type UciPackage } from './uci.ts';

export interface SetDef {
  name: string;
  family: 4 | 6;
  /** nft key type: `ipv4_addr`, `ipv6_addr`, `ether_addr`, `inet_service` (one per `match`). */
  types: string[];
  directions: string[];
  interval: boolean;
  /** -1: no timeout flag; 0: flag only (per-element timeouts); > 0: flag and default timeout (s). */
  timeout: number;
  maxelem: number | null;
  comment: string | null;
  entries: string[];
}

export interface NftElement {
  value: string;
  /** Seconds the element was added with (its own or the set default). */
  timeout: number | null;
  expiresAt: number | null;
  comment: string | null;
}

export interface NftSet {
  def: SetDef;
  handle: number;
  elements: Map<string, NftElement>;
}

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

const NFT_VERSION = { version: '1.0.9', release_name: 'Old Doc Yak #3', json_schema_version: 1 };

function familyOf(v: string | undefined): 0 | 4 | 6 | null {
  switch ((v ?? '4').toLowerCase()) {
    case '4':
    case 'ipv4':
      return 4;
    case '6':
    case 'ipv6':
      return 6;
    case 'any':
    case 'all':
    case '*':
      return 0;
    default:
      return null;
  }
}

/** fw4.uc `parse_ipset` for one section; null when fw4 would skip it (disabled, no match, bad option). */
export function parseIpset(options: Record<string, string | string[]>): SetDef | null {
  const name = typeof options.name === 'string' ? options.name : null;
  if (!name || !/^[A-Za-z_][A-Za-z0-9_.-]*$/.test(name)) return null;
  if (options.enabled === '0' || options.enabled === 'false' || options.enabled === 'no' || options.enabled === 'off')
    return null;
  const family = familyOf(typeof options.family === 'string' ? options.family : undefined);
  if (family === null) return null;
  const match = optionList(options.match).map((m) => {
    const parts = m.split('_');
    return parts.length === 2 ? (parts as [string, string]) : (['src', parts[0] ?? ''] as [string, string]);
  });
  if (match.length === 0) return null;
  const kinds = match.map((m) => m[1]);
  if (kinds.some((k) => !['ip', 'net', 'mac', 'port'].includes(k))) return null;
  if ((kinds.includes('ip') || kinds.includes('net')) && family === 0) return null;
  const fam: 4 | 6 = family === 6 ? 6 : 4;
  const timeoutRaw = typeof options.timeout === 'string' ? Number(options.timeout) : -1;
  const maxRaw = typeof options.maxelem === 'string' ? Number(options.maxelem) : NaN;
  const def: SetDef = {
    name,
    family: fam,
    types: kinds.map((k) =>
      k === 'mac' ? 'ether_addr' : k === 'port' ? 'inet_service' : fam === 4 ? 'ipv4_addr' : 'ipv6_addr',
    ),
    directions: match.map((m) => m[0]),
    interval: kinds.includes('net'),
    timeout: Number.isInteger(timeoutRaw) ? timeoutRaw : -1,
    maxelem: Number.isInteger(maxRaw) && maxRaw > 0 ? maxRaw : null,
    comment: typeof options.comment === 'string' ? options.comment : null,
    entries: [],
  };
  def.entries = optionList(options.entry)
    .map((e) => normaliseElement(def, e))
    .filter((e): e is string => typeof e === 'string');
  return def;
}

export function parseIpsets(pkg: UciPackage | undefined): SetDef[] {
  const defs: SetDef[] = [];
  for (const s of pkg?.sections ?? []) {
    if (s.type !== 'ipset') continue;
    const def = parseIpset(s.options);
    if (def && !defs.some((d) => d.name === def.name)) defs.push(def);
  }
  return defs;
}

/** The canonical text nft lists an element under, or an error message as nft words it. */
export function normaliseElement(def: SetDef, raw: string): string | { error: string } {
  const type = def.types[0];
  if (def.types.length !== 1) return { error: 'Error: concatenated set keys are not supported by this emulator' };
  if (type === 'ipv4_addr' || type === 'ipv6_addr') {
    const [addr, len, extra] = raw.split('/');
    if (extra !== undefined || !addr || !ipaddr.isValid(addr))
      return { error: `Error: Could not resolve hostname: Name or service not known` };
    const parsed = ipaddr.parse(addr);
    const want = type === 'ipv4_addr' ? 'ipv4' : 'ipv6';
    if (parsed.kind() !== want)
      return {
        error: `Error: datatype mismatch, expected ${want === 'ipv4' ? 'IPv4' : 'IPv6'} address, expression has type ${want === 'ipv4' ? 'IPv6' : 'IPv4'} address`,
      };
    const max = want === 'ipv4' ? 32 : 128;
    if (len === undefined) return parsed.toString();
    const n = Number(len);
    if (!/^\d+$/.test(len) || n > max) return { error: 'Error: Could not resolve hostname: Name or service not known' };
    if (n === max) return parsed.toString();
    if (!def.interval) return { error: 'Error: Set member cannot be prefix, missing interval flag on declaration' };
    const net = want === 'ipv4' ? ipaddr.IPv4.networkAddressFromCIDR(raw) : ipaddr.IPv6.networkAddressFromCIDR(raw);
    return `${net.toString()}/${n}`;
  }
  if (type === 'inet_service') return /^\d{1,5}$/.test(raw) && Number(raw) < 65536 ? String(Number(raw)) : { error: 'Error: Could not resolve service' };
  if (type === 'ether_addr')
    return /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i.test(raw) ? raw.toLowerCase() : { error: 'Error: Could not parse ether_addr' };
  return { error: 'Error: unsupported set type' };
}

/** nft time strings: `3600s`, `1h2m`, `1d`, `500ms`; a bare number is seconds. Returns seconds. */
export function parseNftTime(text: string): number | null {
  if (/^\d+$/.test(text)) return Number(text);
  const re = /(\d+)(ms|d|h|m|s)/gy;
  let total = 0;
  let matched = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const n = Number(m[1]);
    total += m[2] === 'd' ? n * 86400 : m[2] === 'h' ? n * 3600 : m[2] === 'm' ? n * 60 : m[2] === 's' ? n : n / 1000;
    matched = re.lastIndex;
  }
  return matched === text.length && matched > 0 ? total : null;
}

export class Fw4 {
  /** null while the table does not exist (fw4 stopped). */
  sets: Map<string, NftSet> | null = null;
  /** The ipset state as of the last start/reload (`/var/run/fw4.state`), what `reload-sets` re-adds. */
  lastState: SetDef[] = [];
  private handleSeq = 1;

  constructor(private readonly now: () => number) {}

  private element(def: SetDef, value: string, timeout: number | null, comment: string | null): NftElement {
    const t = timeout ?? (def.timeout > 0 ? def.timeout : null);
    return { value, timeout: t, expiresAt: t !== null && t > 0 ? this.now() + t * 1000 : null, comment };
  }

  private newSet(def: SetDef): NftSet {
    const set: NftSet = { def, handle: this.handleSeq++, elements: new Map() };
    for (const e of def.entries) set.elements.set(e, this.element(def, e, null, null));
    return set;
  }

  /** Drops elements whose timeout ran out. */
  expire(): void {
    const now = this.now();
    for (const set of this.sets?.values() ?? [])
      for (const [k, e] of set.elements) if (e.expiresAt !== null && e.expiresAt <= now) set.elements.delete(k);
  }

  /** `fw4 start` / `restart` (and boot): the table is created afresh from UCI; runtime elements are gone. */
  start(defs: SetDef[]): void {
    this.sets = new Map(defs.map((d) => [d.name, this.newSet(d)]));
    this.lastState = defs;
  }

  stop(): void {
    this.sets = null;
  }

  /**
   * `fw4 reload`: the ruleset is re-rendered and re-declares each set with its UCI entries; declaring an
   * existing set only adds elements, so entries removed from UCI stay live (openwrt/openwrt#13028).
   */
  reload(defs: SetDef[]): void {
    if (!this.sets) return this.start(defs);
    this.expire();
    const next = new Map<string, NftSet>();
    for (const def of defs) {
      const cur = this.sets.get(def.name);
      if (cur && cur.def.types.join() === def.types.join() && cur.def.interval === def.interval) {
        cur.def = def;
        for (const e of def.entries)
          if (!cur.elements.has(e)) cur.elements.set(e, this.element(def, e, null, null));
        next.set(def.name, cur);
      } else next.set(def.name, this.newSet(def));
    }
    this.sets = next;
    this.lastState = defs;
  }

  /** `fw4 reload-sets` (main.uc reload_sets): flush and re-add from the last reload's state; sets without entries are skipped. */
  reloadSets(): ExecResult {
    let stderr = '';
    if (!this.sets) return { code: 0, stdout: '', stderr };
    for (const def of this.lastState) {
      if (def.entries.length === 0) continue;
      const set = this.sets.get(def.name);
      if (!set) {
        stderr += `Named set '${def.name}' does not exist - do you need to restart the firewall?\n`;
        continue;
      }
      set.elements.clear();
      for (const e of def.entries) set.elements.set(e, this.element(set.def, e, null, null));
    }
    return { code: 0, stdout: '', stderr };
  }

  /** Runs one `nft` invocation (argv joined by spaces, as nft does); `;`-separated commands are atomic. */
  nft(argv: string[]): ExecResult {
    this.expire();
    let json = false;
    const args = [...argv];
    while (args[0]?.startsWith('-')) {
      const flag = args.shift() as string;
      if (flag === '-j' || flag === '--json') json = true;
      else if (flag === '-a' || flag === '--handle' || flag === '-n' || flag === '-s' || flag === '-t') continue;
      else return { code: 1, stdout: '', stderr: `nft: unrecognized option '${flag}'\n` };
    }
    const line = args.join(' ').trim();
    if (line === '') return { code: 1, stdout: '', stderr: 'Error: syntax error, unexpected end of file\n' };
    const commands = splitCommands(line);
    const snapshot = this.cloneSets();
    let stdout = '';
    for (const cmd of commands) {
      const r = this.command(cmd, json);
      if (r.code !== 0) {
        this.sets = snapshot;
        return r;
      }
      stdout += r.stdout;
    }
    return { code: 0, stdout, stderr: '' };
  }

  private cloneSets(): Map<string, NftSet> | null {
    if (!this.sets) return null;
    return new Map(
      [...this.sets].map(([k, s]) => [k, { ...s, elements: new Map([...s.elements].map(([ek, e]) => [ek, { ...e }])) }]),
    );
  }

  private command(cmd: string, json: boolean): ExecResult {
    const fail = (msg: string, at?: string): ExecResult => {
      const col = at ? cmd.indexOf(at) : -1;
      const marker = col >= 0 ? `\n${' '.repeat(col)}${'^'.repeat(at?.length ?? 1)}` : '';
      return { code: 1, stdout: '', stderr: `${msg}\n${cmd}${marker}\n` };
    };
    const m = /^(add|delete|destroy|get|flush|list|reset)\s+(.*)$/s.exec(cmd);
    if (!m) return fail('Error: syntax error, unexpected newline');
    const verb = m[1] as string;
    const rest = (m[2] as string).trim();
    if (verb === 'list') {
      if (/^ruleset$/.test(rest) || /^table\s+inet\s+fw4$/.test(rest)) return this.listRuleset(json, rest !== 'ruleset');
      if (/^sets$/.test(rest)) return this.listRuleset(json, true, true);
      const ls = /^set\s+inet\s+fw4\s+(\S+)$/.exec(rest);
      if (!ls) return fail('Error: syntax error, unexpected newline');
      const set = this.sets?.get(ls[1] as string);
      if (!set) return fail('Error: No such file or directory', ls[1]);
      return { code: 0, stdout: json ? `${JSON.stringify(this.jsonDoc([this.setJson(set)]))}\n` : this.setText(set), stderr: '' };
    }
    const em = /^(element|set)\s+inet\s+fw4\s+(\S+)\s*(?:\{(.*)\})?\s*$/s.exec(rest);
    if (!em) return fail('Error: syntax error, unexpected newline');
    const [, what, setName = '', body] = em;
    if (!this.sets) return fail('Error: Could not process rule: No such file or directory', 'fw4');
    const set = this.sets.get(setName);
    if (!set) return fail('Error: Could not process rule: No such file or directory', setName);
    if (what === 'set') {
      if (verb !== 'flush') return fail('Error: syntax error, unexpected set');
      set.elements.clear();
      return { code: 0, stdout: '', stderr: '' };
    }
    if (body === undefined || body.trim() === '') return fail('Error: syntax error, unexpected newline');
    const items: Array<{ value: string; timeout: number | null; comment: string | null }> = [];
    for (const raw of body.split(',').map((s) => s.trim()).filter((s) => s !== '')) {
      const parts = raw.match(/"[^"]*"|\S+/g) ?? [];
      const value = normaliseElement(set.def, parts[0] ?? '');
      if (typeof value !== 'string') return fail(value.error, parts[0]);
      let timeout: number | null = null;
      let comment: string | null = null;
      for (let i = 1; i < parts.length; i += 2) {
        const key = parts[i];
        const arg = parts[i + 1];
        if (arg === undefined) return fail('Error: syntax error, unexpected end of file', key);
        if (key === 'timeout' || key === 'expires') {
          const t = parseNftTime(arg);
          if (t === null) return fail(`Error: wrong time format: ${arg}`, arg);
          if (set.def.timeout < 0) return fail('Error: Could not process rule: Operation not supported', raw);
          if (key === 'timeout') timeout = t;
        } else if (key === 'comment') comment = arg.replace(/^"|"$/g, '');
        else if (key === 'counter') i -= 1;
        else return fail(`Error: syntax error, unexpected ${key}`, key);
      }
      items.push({ value, timeout, comment });
    }
    switch (verb) {
      case 'add':
        if (set.def.maxelem !== null && set.elements.size + items.length > set.def.maxelem)
          return fail('Error: Could not process rule: Argument list too long', setName);
        for (const it of items)
          if (!set.elements.has(it.value)) set.elements.set(it.value, this.element(set.def, it.value, it.timeout, it.comment));
        return { code: 0, stdout: '', stderr: '' };
      case 'delete':
        for (const it of items)
          if (!set.elements.has(it.value)) return fail('Error: Could not process rule: No such file or directory', it.value);
        for (const it of items) set.elements.delete(it.value);
        return { code: 0, stdout: '', stderr: '' };
      case 'destroy':
        for (const it of items) set.elements.delete(it.value);
        return { code: 0, stdout: '', stderr: '' };
      case 'get': {
        const found = items.map((it) => set.elements.get(it.value));
        if (found.some((f) => !f)) return fail('Error: Could not process rule: No such file or directory', items[0]?.value);
        const view: NftSet = { ...set, elements: new Map(found.map((f) => [(f as NftElement).value, f as NftElement])) };
        return { code: 0, stdout: json ? `${JSON.stringify(this.jsonDoc([this.setJson(view)]))}\n` : this.setText(view), stderr: '' };
      }
      default:
        return fail(`Error: syntax error, unexpected ${verb}`);
    }
  }

  jsonDoc(objects: unknown[]): { nftables: unknown[] } {
    return { nftables: [{ metainfo: NFT_VERSION }, ...objects] };
  }

  private elementJson(set: NftSet, e: NftElement): unknown {
    const slash = e.value.indexOf('/');
    const val = slash > 0 ? { prefix: { addr: e.value.slice(0, slash), len: Number(e.value.slice(slash + 1)) } } : e.value;
    if (e.timeout === null && e.comment === null) return val;
    const out: Record<string, unknown> = { val };
    if (e.timeout !== null && (e.timeout !== set.def.timeout || set.def.timeout <= 0)) out.timeout = e.timeout;
    if (e.expiresAt !== null) out.expires = Math.max(0, Math.floor((e.expiresAt - this.now()) / 1000));
    if (e.comment !== null) out.comment = e.comment;
    return { elem: out };
  }

  setJson(set: NftSet): { set: Record<string, unknown> } {
    const flags: string[] = [];
    if (set.def.interval) flags.push('interval');
    if (set.def.timeout >= 0) flags.push('timeout');
    const body: Record<string, unknown> = {
      family: 'inet',
      name: set.def.name,
      table: 'fw4',
      type: set.def.types.length === 1 ? set.def.types[0] : set.def.types,
      handle: set.handle,
    };
    if (set.def.comment) body.comment = set.def.comment;
    if (set.def.maxelem) body.size = set.def.maxelem;
    if (flags.length) body.flags = flags;
    if (set.def.timeout > 0) body.timeout = set.def.timeout;
    if (set.elements.size) body.elem = [...set.elements.values()].map((e) => this.elementJson(set, e));
    return { set: body };
  }

  setText(set: NftSet): string {
    const lines = [`table inet fw4 {`, `\tset ${set.def.name} {`, `\t\ttype ${set.def.types.join(' . ')}`];
    const flags = [set.def.interval ? 'interval' : null, set.def.timeout >= 0 ? 'timeout' : null].filter(Boolean);
    if (flags.length) lines.push(`\t\tflags ${flags.join(',')}`);
    if (set.def.timeout > 0) lines.push(`\t\ttimeout ${set.def.timeout}s`);
    if (set.elements.size) {
      const els = [...set.elements.values()].map((e) => {
        let t = e.value;
        if (e.timeout !== null && e.timeout !== set.def.timeout) t += ` timeout ${e.timeout}s`;
        if (e.expiresAt !== null) t += ` expires ${Math.max(0, Math.floor((e.expiresAt - this.now()) / 1000))}s`;
        if (e.comment !== null) t += ` comment "${e.comment}"`;
        return t;
      });
      lines.push(`\t\telements = { ${els.join(',\n\t\t\t     ')} }`);
    }
    lines.push('\t}', '}');
    return `${lines.join('\n')}\n`;
  }

  /** Hook for the ruleset renderer (rules and NAT are added by ruleset.ts). */
  rulesetObjects: () => unknown[] = () => [];
  rulesetText: () => string = () => '';

  private listRuleset(json: boolean, tableOnly: boolean, setsOnly = false): ExecResult {
    if (!this.sets) return json ? { code: 0, stdout: `${JSON.stringify(this.jsonDoc([]))}\n`, stderr: '' } : { code: 0, stdout: '', stderr: '' };
    const sets = [...this.sets.values()];
    if (json) {
      const objs: unknown[] = [{ table: { family: 'inet', name: 'fw4', handle: 1 } }, ...sets.map((s) => this.setJson(s))];
      if (!setsOnly) objs.push(...this.rulesetObjects());
      return { code: 0, stdout: `${JSON.stringify(this.jsonDoc(objs))}\n`, stderr: '' };
    }
    const text = sets.map((s) => this.setText(s).split('\n').slice(1, -2).join('\n')).join('\n\n');
    void tableOnly;
    return { code: 0, stdout: `table inet fw4 {\n${text}\n${setsOnly ? '' : this.rulesetText()}}\n`, stderr: '' };
  }
}

function splitCommands(line: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const c of line) {
    if (c === '{') depth++;
    if (c === '}') depth--;
    if ((c === ';' || c === '\n') && depth === 0) {
      if (cur.trim()) out.push(cur.trim());
      cur = '';
    } else cur += c;
  }
  if (cur.trim()) out.push(cur.trim());
  return out;
}
