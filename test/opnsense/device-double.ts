/**
 * @module A small OPNsense double for the adapter tests, serving the answer shapes quoted in `upstream/` (with
 * their sources). It is test scaffolding, not the emulator (src/emulators/opnsense, written independently): config
 * and runtime pf tables kept apart, validation as HTTP 200 `result: failed`, the filter savepoint per firmware
 * profile, and one-shot faults per path.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import upstream from './upstream/responses.json' with { type: 'json' };

type Quoted = keyof typeof upstream;

export interface DoubleAlias {
  uuid: string;
  name: string;
  type: string;
  content: string[];
  description: string;
  enabled: string;
}

export interface DoubleRule {
  uuid: string;
  [field: string]: unknown;
}

export interface DoubleState {
  src: string;
  dst: string;
}

export type Fault =
  | { kind: 'quoted'; name: Quoted }
  | { kind: 'status'; status: number; body?: unknown; text?: string; contentType?: string }
  | { kind: 'drop' }
  | { kind: 'hang' };

export interface DoubleOptions {
  /** Firmware version the double reports (`24.7.12`, `26.1.11`, `26.7`). */
  version?: string;
  /** Per key: allowed API path prefixes (below `api/`); absent = everything. */
  acl?: string[];
  readOnly?: boolean;
}

const KEY = 'w86XNZob/8Oq8aC5r0kbNarNtdpoQU781fyoeaOBQsBwkXUt';
const SECRET = 'XeD26XVrJ5ilAc/EmglCRC+0j2e57tRsjHwFepOseySWLM53pJASeTA3';

const RESERVED = new Set(['all', 'any', 'table', 'port', 'pass', 'block', 'in', 'out', 'from', 'to', 'user']);
const BUILTINS = ['bogons', 'bogonsv6', 'virusprot', 'sshlockout', '__wan_network', '__lan_network', '__lo0_network'];
const NAME = /^([a-zA-Z]|(([_a-zA-Z][a-zA-Z0-9]|[a-zA-Z][_a-zA-Z0-9])[_a-zA-Z0-9]{0,29}))$/;
const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

export class OpnSenseDouble {
  readonly credentials = { api_key: KEY, api_secret: SECRET };
  url = '';
  version: string;
  acl: string[] | undefined;
  readOnly: boolean;
  aliases: DoubleAlias[] = [];
  /** Runtime pf tables, name → entries as pfctl shows them. */
  tables = new Map<string, string[]>();
  rules: Record<'filter' | 'd_nat' | 'source_nat' | 'one_to_one', DoubleRule[]> = {
    filter: [],
    d_nat: [],
    source_nat: [],
    one_to_one: [],
  };
  states: DoubleState[] = [];
  idsAlerts: Record<string, unknown>[] = [];
  firewallLog: Record<string, unknown>[] = [];
  requests: Array<{ method: string; path: string; contentType: string | undefined; body: string }> = [];
  /** Savepoints: revision string → the filter rules then. */
  private backups = new Map<string, DoubleRule[]>();
  /** Armed timed reverts: revision → device time it fires. */
  timers = new Map<string, number>();
  private clock = 0;
  private faults = new Map<string, Fault[]>();
  private server: Server;

  constructor(opts: DoubleOptions = {}) {
    this.version = opts.version ?? '24.7.12';
    this.acl = opts.acl;
    this.readOnly = opts.readOnly ?? false;
    this.server = createServer((req, res) => void this.handle(req, res));
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** The next `count` requests whose path starts with `path` get `fault`. */
  fault(path: string, fault: Fault, count = 1): void {
    this.faults.set(path, [...(this.faults.get(path) ?? []), ...Array.from({ length: count }, () => fault)]);
  }

  /** Lets device time pass: an armed rollback timer that runs out restores the filter rules (where it can). */
  advance(ms: number): void {
    this.clock += ms;
    for (const [rev, at] of this.timers) {
      if (at > this.clock) continue;
      this.timers.delete(rev);
      const backup = this.backups.get(rev);
      if (backup) this.rules.filter = structuredClone(backup);
    }
  }

  private series(): number {
    const m = /(\d{2})\.(\d{1,2})/.exec(this.version);
    return m ? Number(m[1]) * 100 + Number(m[2]) : 0;
  }

  private send(res: ServerResponse, status: number, body: unknown): void {
    res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8' });
    res.end(body === undefined ? '' : JSON.stringify(body));
  }

  private quoted(res: ServerResponse, name: Quoted): void {
    const q = upstream[name];
    this.send(res, q.status, q.body);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', 'http://x');
    const path = url.pathname;
    const method = req.method ?? 'GET';
    this.requests.push({ method, path, contentType: req.headers['content-type'], body: text });

    const auth = req.headers.authorization;
    if (auth === undefined) {
      res.writeHead(401);
      res.end();
      return;
    }
    const expected = `Basic ${Buffer.from(`${KEY}:${SECRET}`).toString('base64')}`;
    if (auth !== expected) return this.quoted(res, 'unauthenticated');
    const below = path.replace(/^\/api\//, '');
    if (this.acl && !this.acl.some((p) => below.startsWith(p))) return this.quoted(res, 'forbidden');

    for (const [prefix, list] of this.faults) {
      if (!path.startsWith(prefix) || list.length === 0) continue;
      const f = list.shift() as Fault;
      if (f.kind === 'drop') {
        req.socket.destroy();
        return;
      }
      if (f.kind === 'hang') return;
      if (f.kind === 'quoted') return this.quoted(res, f.name);
      res.writeHead(f.status, { 'content-type': f.contentType ?? 'application/json' });
      res.end(f.text ?? JSON.stringify(f.body ?? {}));
      return;
    }

    let body: Record<string, unknown> = {};
    if ((req.headers['content-type'] ?? '').includes('application/json')) {
      if (text === '') return this.quoted(res, 'invalidJson');
      try {
        body = JSON.parse(text) as Record<string, unknown>;
      } catch {
        return this.quoted(res, 'invalidJson');
      }
    }
    const isWrite = method === 'POST' && !/\/(search_|list|query_|get_)/.test(path);
    if (this.readOnly && isWrite) return this.quoted(res, 'readOnlyUser');
    const out = this.route(method, below, body, url);
    if (out === undefined) return this.quoted(res, 'endpointNotFound');
    if (typeof out === 'string') return this.quoted(res, out);
    this.send(res, 200, out.body);
  }

  private aliasByName(name: string): DoubleAlias | undefined {
    return this.aliases.find((a) => a.name === name);
  }

  private validateAlias(a: Partial<DoubleAlias>, self?: string): Record<string, string> | null {
    const v: Record<string, string> = {};
    const name = a.name ?? '';
    if (!NAME.test(name)) v['alias.name'] = 'The name must start with a letter or single underscore, be less than 32 characters and only consist of alphanumeric characters or underscores.';
    else if (RESERVED.has(name)) v['alias.name'] = `The name cannot be the internally reserved keyword "${name}".`;
    else if (BUILTINS.includes(name) || this.aliases.some((x) => x.name === name && x.uuid !== self)) {
      v['alias.name'] = upstream.aliasNameTaken.body.validations['alias.name'];
    }
    for (const entry of a.content ?? []) {
      const bare = entry.replace(/\/\d+$/, '');
      if (!IPV4.test(bare) && !bare.includes(':') && !/^[a-z0-9.-]+$/i.test(bare)) {
        v['alias.content'] = `Entry "${entry}" is not a valid hostname, IP address or range.`;
      }
    }
    if ((a.description ?? '').length > 255 || /\n/.test(a.description ?? '')) {
      v['alias.description'] = 'Description should be a string between 1 and 255 characters.';
    }
    return Object.keys(v).length > 0 ? v : null;
  }

  private aliasFrom(body: Record<string, unknown>, base?: DoubleAlias): Partial<DoubleAlias> {
    const a = (body.alias ?? {}) as Record<string, unknown>;
    const content = typeof a.content === 'string' ? (a.content === '' ? [] : a.content.split('\n')) : base?.content;
    return {
      name: typeof a.name === 'string' ? a.name : base?.name,
      type: typeof a.type === 'string' ? a.type : base?.type ?? 'host',
      content: content ?? [],
      description: typeof a.description === 'string' ? a.description : base?.description ?? '',
      enabled: typeof a.enabled === 'string' ? a.enabled : base?.enabled ?? '1',
    };
  }

  private route(
    method: string,
    p: string,
    body: Record<string, unknown>,
    url: URL,
  ): { body: unknown } | Quoted | undefined {
    const parts = p.split('/');
    const [mod, ctl, act, ...args] = parts;
    const post = method === 'POST';
    if (mod === 'core' && ctl === 'firmware' && act === 'status') {
      return { body: { product: { product_name: 'OPNsense', product_version: this.version }, status: 'none' } };
    }
    if (mod === 'diagnostics' && ctl === 'system' && act === 'system_information') {
      return { body: { name: 'fw', versions: [`OPNsense ${this.version}-amd64`, 'FreeBSD 14.1', 'OpenSSL 3.0'] } };
    }
    if (mod === 'diagnostics' && ctl === 'system' && act === 'system_resources') {
      return { body: { memory: { total: '8000000000', used: 2000000000 } } };
    }
    if (mod === 'firewall' && ctl === 'alias') {
      if (act === 'get_alias_uuid') {
        const a = this.aliasByName(decodeURIComponent(args[0] ?? ''));
        return a ? { body: { uuid: a.uuid } } : 'aliasUuidMissing';
      }
      if (act === 'get_item') {
        const a = this.aliases.find((x) => x.uuid === args[0]);
        const others = Object.fromEntries(
          this.aliases.filter((x) => x !== a).map((x) => [x.name, { value: x.name, selected: 0, description: x.description }]),
        );
        if (!a) return { body: { alias: { name: '', content: others } } };
        // An empty content explodes to one selected empty key (AliasContentField::getNodeData).
        const selected = a.content.length === 0 ? [''] : a.content;
        const content = { ...Object.fromEntries(selected.map((c) => [c, { value: c, selected: 1 }])), ...others };
        return {
          body: {
            alias: {
              enabled: a.enabled,
              name: a.name,
              type: { host: { value: 'Host(s)', selected: a.type === 'host' ? 1 : 0 }, network: { value: 'Network(s)', selected: a.type === 'network' ? 1 : 0 }, port: { value: 'Port(s)', selected: a.type === 'port' ? 1 : 0 }, urltable: { value: 'URL Table (IPs)', selected: a.type === 'urltable' ? 1 : 0 } },
              content,
              description: a.description,
            },
          },
        };
      }
      if (act === 'search_item') {
        return { body: { total: this.aliases.length, rowCount: this.aliases.length, current: 1, rows: this.aliases.map((a) => ({ uuid: a.uuid, name: a.name, type: a.type, content: a.content.join(','), description: a.description, enabled: a.enabled })) } };
      }
      if (!post) return { body: { result: 'failed' } };
      if (act === 'add_item') {
        const a = this.aliasFrom(body);
        const v = this.validateAlias(a);
        if (v) return { body: { result: 'failed', validations: v } };
        const uuid = randomUUID();
        this.aliases.push({ ...(a as DoubleAlias), uuid });
        return { body: { result: 'saved', uuid } };
      }
      if (act === 'set_item') {
        const existing = this.aliases.find((x) => x.uuid === args[0]);
        const a = this.aliasFrom(body, existing);
        const v = this.validateAlias(a, existing?.uuid);
        if (v) return { body: { result: 'failed', validations: v } };
        if (existing) Object.assign(existing, a);
        else this.aliases.push({ ...(a as DoubleAlias), uuid: args[0] ?? randomUUID() });
        return 'saved';
      }
      if (act === 'del_item') {
        const i = this.aliases.findIndex((x) => x.uuid === args[0]);
        if (i < 0) return { body: { result: 'not found' } };
        this.aliases.splice(i, 1);
        return { body: { result: 'deleted' } };
      }
      if (act === 'reconfigure') {
        for (const a of this.aliases) {
          if (a.type === 'host' || a.type === 'network') {
            this.tables.set(a.name, a.content.map((c) => c.replace(/\/(32|128)$/, '')));
          }
        }
        return 'reconfigureOk';
      }
      return undefined;
    }
    if (mod === 'firewall' && ctl === 'alias_util' && act === 'list') {
      const rows = (this.tables.get(decodeURIComponent(args[0] ?? '')) ?? []).map((ip) => ({ ip }));
      return { body: { total: rows.length, rowCount: rows.length, current: 1, rows } };
    }
    if (mod === 'diagnostics' && ctl === 'firewall') {
      if (act === 'kill_states') {
        if (!post || typeof body.filter !== 'string' || body.filter === '') return 'killStatesFailed';
        // The controller's 'query' sanitizer strips ':' and '/' (docs/reference/opnsense-api.md §7).
        const filter = body.filter.replace(/[:/]/g, '');
        const hit = (s: DoubleState) => s.src.split(':')[0] === filter || s.dst.split(':')[0] === filter;
        const dropped = this.states.filter(hit).length;
        this.states = this.states.filter((s) => !hit(s));
        return { body: { result: 'ok', dropped_states: dropped } };
      }
      if (act === 'query_states') {
        const rows = this.states.map((s) => ({ iface: 'igb0', proto: 'tcp', direction: 'in', src_addr: s.src.split(':')[0], src_port: s.src.split(':')[1], dst_addr: s.dst.split(':')[0], dst_port: s.dst.split(':')[1], state: 'ESTABLISHED:ESTABLISHED', age: '00:01:00', expires: '23:59:00', pkts: [10, 12], bytes: [1000, 2000] }));
        return { body: { rows, rowCount: rows.length, total: rows.length, current: 1 } };
      }
      if (act === 'log') return { body: this.firewallLog.slice(0, Number(url.searchParams.get('limit') ?? 1000)) };
      return undefined;
    }
    if (mod === 'ids' && ctl === 'service' && act === 'query_alerts') {
      if (!post) return { body: [] };
      return { body: { rows: this.idsAlerts, rowCount: this.idsAlerts.length, total: this.idsAlerts.length, current: 1 } };
    }
    if (mod === 'core' && ctl === 'service' && act === 'search') {
      return { body: { rows: [{ id: 'configd', name: 'configd', description: 'System Configuration Daemon', running: 1, locked: 1 }], total: 1, rowCount: 1, current: 1 } };
    }
    if (mod === 'interfaces' && ctl === 'overview' && act === 'interfaces_info') {
      return { body: { rows: [{ device: 'igb0', identifier: 'wan', description: 'WAN', status: 'up', enabled: true, macaddr: '00:0c:29:00:00:01', mtu: '1500', ipv4: [{ ipaddr: '198.51.100.2/24' }], ipv6: [], gateways: ['198.51.100.1'], statistics: { 'bytes received': '100' } }], total: 1, rowCount: 1, current: 1 } };
    }
    if (mod === 'firewall' && (ctl === 'filter' || ctl === 'd_nat' || ctl === 'source_nat' || ctl === 'one_to_one')) {
      return this.ruleRoute(ctl, act ?? '', args, post, body);
    }
    return undefined;
  }

  private ruleRoute(
    ctl: 'filter' | 'd_nat' | 'source_nat' | 'one_to_one',
    act: string,
    args: string[],
    post: boolean,
    body: Record<string, unknown>,
  ): { body: unknown } | Quoted | undefined {
    const list = this.rules[ctl];
    const series = this.series();
    const rollbackEndpoints = ctl === 'filter' && series >= 2401 && series < 2607;
    if (act === 'search_rule') return { body: { rows: list, total: list.length, rowCount: list.length, current: 1 } };
    if (act === 'get_rule') {
      const r = list.find((x) => x.uuid === args[0]);
      if (!r) return { body: [] };
      // Option fields come back as maps on read (docs/reference/opnsense-api.md §5).
      const asMap = (v: unknown, keys: string[]) => Object.fromEntries(keys.map((k) => [k, { value: k, selected: k === v ? 1 : 0 }]));
      const { uuid: _uuid, ...fields } = r;
      const shown: Record<string, unknown> = { ...fields };
      if (typeof r.action === 'string') shown.action = asMap(r.action, ['pass', 'block', 'reject']);
      if (typeof r.protocol === 'string') shown.protocol = asMap(r.protocol, ['any', 'TCP', 'UDP', 'TCP/UDP', 'ICMP', 'tcp', 'udp', 'tcp/udp']);
      return { body: { rule: shown } };
    }
    if (!post) return { body: { status: 'error' } };
    const rule = (body.rule ?? null) as Record<string, unknown> | null;
    const validate = (r: Record<string, unknown>) => {
      for (const [k, v] of Object.entries(r)) {
        if (v !== null && typeof v === 'object' && ctl !== 'd_nat') return { 'rule.x': `Array to string conversion in ${k}` };
      }
      if (ctl === 'filter' && typeof r.interface === 'string' && r.interface !== '' && !['wan', 'lan', 'opt1'].includes(r.interface)) {
        return { 'rule.interface': 'Option not in list.' };
      }
      return null;
    };
    if (act === 'add_rule') {
      if (!rule) return { body: { result: 'failed' } };
      const v = validate(rule);
      if (v) return { body: { result: 'failed', validations: v } };
      const uuid = randomUUID();
      list.push({ ...rule, uuid });
      return { body: { result: 'saved', uuid } };
    }
    if (act === 'set_rule') {
      if (!rule) return { body: { result: 'failed' } };
      const v = validate(rule);
      if (v) return { body: { result: 'failed', validations: v } };
      const r = list.find((x) => x.uuid === args[0]);
      if (r) Object.assign(r, rule);
      else list.push({ ...rule, uuid: args[0] ?? randomUUID() });
      return 'saved';
    }
    if (act === 'del_rule') {
      const i = list.findIndex((x) => x.uuid === args[0]);
      if (i < 0) return { body: { result: 'not found' } };
      list.splice(i, 1);
      return { body: { result: 'deleted' } };
    }
    if (act === 'toggle_rule') {
      const r = list.find((x) => x.uuid === args[0]);
      if (!r) return { body: { result: 'failed' } };
      const enable = args[1] === '1';
      if (ctl === 'd_nat') r.disabled = enable ? '0' : '1';
      else r.enabled = enable ? '1' : '0';
      return { body: { result: enable ? 'Enabled' : 'Disabled', changed: true } };
    }
    if (act === 'move_rule_before') return { body: { status: 'ok' } };
    if (act === 'apply') {
      const rev = args[0];
      if (rev !== undefined && rollbackEndpoints) {
        // 26.1.x: the savepoint's revision was rounded, so no backup carries that name: the timer finds nothing.
        if (this.backups.has(rev)) this.timers.set(rev, this.clock + 60_000);
      }
      return { body: { status: 'OK\n' } };
    }
    if (act === 'savepoint' && rollbackEndpoints) {
      const t = 1765000000 + this.clock / 1000 + Math.random();
      const exact = t.toFixed(4);
      const revision = series >= 2601 ? t.toFixed(2) : exact;
      this.backups.set(exact, structuredClone(list));
      return { body: { status: 'ok', retention: '60', revision } };
    }
    if (act === 'cancel_rollback' && rollbackEndpoints) {
      this.timers.delete(args[0] ?? '');
      return { body: { status: 'OK' } };
    }
    if (act === 'revert' && rollbackEndpoints) {
      const b = this.backups.get(args[0] ?? '');
      if (!b) return 'savepointUnknown';
      this.rules.filter = structuredClone(b);
      return { body: { status: 'ok' } };
    }
    return undefined;
  }
}

export async function startDouble(opts: DoubleOptions = {}): Promise<OpnSenseDouble> {
  return new OpnSenseDouble(opts).start();
}
