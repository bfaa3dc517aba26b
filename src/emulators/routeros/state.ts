/**
 * @module The emulated router: ordered tables with per-table `*HEX` ids, the emulated clock (timeouts count down,
 * uptime grows), add/set/remove/move with RouterOS's rules, reboot, and the state file that keeps persistent
 * configuration only (docs/reference/routeros-api.md §3–§6).
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { formatDuration } from './duration.ts';
import { badRequest, noSuchCommand, notFound, RosError, unknownParameter } from './errors.ts';
import { formatDateTime, MENU_BY_PATH, MENUS, type MenuSpec, type RosRow } from './menus.ts';

export interface RosTable {
  nextId: number;
  rows: RosRow[];
}

export interface RosState {
  /** Emulated-clock ms now and at the last boot. */
  now: number;
  bootAt: number;
  version: string;
  boardName: string;
  identity: string;
  tables: Record<string, RosTable>;
}

export type Printed = Record<string, string>;

const BOOL_WORDS: Record<string, string> = { true: 'true', yes: 'true', false: 'false', no: 'false' };

function valueText(key: string, value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  throw badRequest(`invalid value for argument ${key}`);
}

/** `*1A` → 26; null when the text is not an id. */
export function parseId(text: string): number | null {
  return /^\*[0-9A-Fa-f]{1,8}$/.test(text) ? Number.parseInt(text.slice(1), 16) : null;
}

export const idText = (id: number): string => `*${id.toString(16).toUpperCase()}`;

interface SeedInterface {
  name: string;
  mac: string;
}

const SEED_INTERFACES: SeedInterface[] = [
  { name: 'ether1', mac: '48:A9:8A:10:00:01' },
  { name: 'ether2', mac: '48:A9:8A:10:00:02' },
  { name: 'ether3', mac: '48:A9:8A:10:00:03' },
  { name: 'bridge', mac: '48:A9:8A:10:00:02' },
];

export interface RouterOptions {
  version: string;
  boardName: string;
  identity: string;
  dynamicFilterRule: boolean;
  stateFile?: string;
  wallClock: () => number;
}

export class Router {
  private offset = 0;
  state: RosState;

  constructor(private readonly opts: RouterOptions) {
    const now = opts.wallClock();
    this.state = {
      now,
      bootAt: now,
      version: opts.version,
      boardName: opts.boardName,
      identity: opts.identity,
      tables: Object.fromEntries(MENUS.map((m) => [m.path, { nextId: 1, rows: [] }])),
    };
    this.seed();
    if (opts.stateFile !== undefined && existsSync(opts.stateFile)) this.load(opts.stateFile);
    this.boot();
  }

  now(): number {
    return this.opts.wallClock() + this.offset;
  }

  advance(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) throw new Error('advance(ms) needs a non-negative number');
    this.offset += ms;
    this.sweep();
  }

  /** Drops entries whose timeout reached zero. */
  sweep(): void {
    const now = this.now();
    this.state.now = now;
    for (const table of Object.values(this.state.tables)) {
      if (table.rows.some((r) => r.expiresAt !== null && r.expiresAt <= now))
        table.rows = table.rows.filter((r) => r.expiresAt === null || r.expiresAt > now);
    }
  }

  private readonly rowsOf = (path: string): RosRow[] => this.table(path).rows;

  table(path: string): RosTable {
    return this.state.tables[path] as RosTable;
  }

  private insert(menu: MenuSpec, values: Record<string, string>, extra: Partial<RosRow> = {}, index?: number): RosRow {
    const table = this.table(menu.path);
    const row: RosRow = {
      id: table.nextId++,
      values,
      dynamic: false,
      createdAt: this.now(),
      expiresAt: null,
      ...extra,
    };
    if (index === undefined) table.rows.push(row);
    else table.rows.splice(index, 0, row);
    return row;
  }

  private seed(): void {
    const iface = MENU_BY_PATH.get('interface') as MenuSpec;
    for (const seed of SEED_INTERFACES) {
      this.insert(iface, {
        name: seed.name,
        'default-name': seed.name,
        'mac-address': seed.mac,
        type: seed.name === 'bridge' ? 'bridge' : 'ether',
      });
    }
    // defconf: the LAN ports join `bridge` (vlan-filtering off), ether1 is the WAN (§9.1, §9.2).
    this.insert(MENU_BY_PATH.get('interface/bridge') as MenuSpec, {
      name: 'bridge',
      'mac-address': '48:A9:8A:10:00:02',
      comment: 'defconf',
    });
    const port = MENU_BY_PATH.get('interface/bridge/port') as MenuSpec;
    for (const name of ['ether2', 'ether3']) this.insert(port, { bridge: 'bridge', interface: name, comment: 'defconf' });
    const addr = MENU_BY_PATH.get('ip/address') as MenuSpec;
    this.insert(addr, {
      address: '192.168.88.1/24',
      network: '192.168.88.0',
      interface: 'bridge',
      'actual-interface': 'bridge',
      comment: 'defconf',
    });
    this.insert(addr, { address: '203.0.113.2/24', network: '203.0.113.0', interface: 'ether1', 'actual-interface': 'ether1' });
    const route = MENU_BY_PATH.get('ip/route') as MenuSpec;
    this.insert(route, { 'dst-address': '0.0.0.0/0', gateway: '203.0.113.1', 'immediate-gw': '203.0.113.1%ether1' });
    const filter = MENU_BY_PATH.get('ip/firewall/filter') as MenuSpec;
    const defconf: Array<Record<string, string>> = [
      { chain: 'input', action: 'accept', 'connection-state': 'established,related,untracked', comment: 'defconf: accept established,related,untracked' },
      { chain: 'input', action: 'drop', 'connection-state': 'invalid', comment: 'defconf: drop invalid' },
      { chain: 'input', action: 'accept', protocol: 'icmp', comment: 'defconf: accept ICMP' },
      { chain: 'input', action: 'drop', 'in-interface-list': '!LAN', comment: 'defconf: drop all not coming from LAN' },
      { chain: 'forward', action: 'fasttrack-connection', 'connection-state': 'established,related', comment: 'defconf: fasttrack' },
      { chain: 'forward', action: 'accept', 'connection-state': 'established,related,untracked', comment: 'defconf: accept established,related, untracked' },
      { chain: 'forward', action: 'drop', 'connection-state': 'invalid', comment: 'defconf: drop invalid' },
    ];
    for (const rule of defconf) this.insert(filter, rule);
    const nat = MENU_BY_PATH.get('ip/firewall/nat') as MenuSpec;
    this.insert(nat, { chain: 'srcnat', action: 'masquerade', 'out-interface-list': 'WAN', comment: 'defconf: masquerade' });
  }

  /** What every boot does: runtime tables start empty, built-in dynamic rules come back. */
  private boot(): void {
    const now = this.now();
    this.state.bootAt = now;
    this.state.now = now;
    for (const menu of MENUS) {
      const table = this.table(menu.path);
      table.rows = menu.ramOnly ? [] : table.rows.filter((r) => !r.dynamic && r.expiresAt === null);
    }
    if (this.opts.dynamicFilterRule) {
      this.addDynamicRule('ip/firewall/filter', {
        chain: 'forward',
        action: 'passthrough',
        comment: 'special dummy rule to show fasttrack counters',
      });
    }
    for (const row of this.table('interface').rows) {
      row.values['last-link-up-time'] = formatDateTime(now);
      for (const key of Object.keys(row.values)) if (/^(rx|tx|fp)-|link-downs/.test(key)) delete row.values[key];
    }
  }

  reboot(): void {
    this.sweep();
    this.boot();
  }

  addDynamicRule(path: string, values: Record<string, string>): string {
    const menu = MENU_BY_PATH.get(path);
    if (menu === undefined || !menu.move) throw new Error(`${path} is not a rule menu`);
    // Built-in dynamic rules sit above the static ones.
    const table = this.table(path);
    const index = table.rows.findIndex((r) => !r.dynamic);
    return idText(this.insert(menu, { ...values }, { dynamic: true }, index < 0 ? table.rows.length : index).id);
  }

  addRuntimeRow(path: string, values: Record<string, string>): string {
    const menu = MENU_BY_PATH.get(path) as MenuSpec;
    return idText(this.insert(menu, values, { dynamic: menu.path !== 'log' }).id);
  }

  setCounters(path: string, id: string, values: Record<string, string>): void {
    const menu = MENU_BY_PATH.get(path);
    if (menu === undefined) throw new Error(`no menu ${path}`);
    const row = this.find(menu, id);
    for (const [key, value] of Object.entries(values)) row.values[key] = String(value);
  }

  /** A row as RouterOS prints it: `.id` first, then properties in alphabetical order, every value a string. */
  print(menu: MenuSpec, row: RosRow): Printed {
    const ctx = { now: this.now(), bootAt: this.state.bootAt };
    const out: Printed = {};
    for (const [key, spec] of Object.entries(menu.fields)) if (spec.def !== undefined) out[key] = spec.def;
    Object.assign(out, row.values);
    if (menu.fields.dynamic !== undefined) out.dynamic = row.dynamic ? 'true' : 'false';
    Object.assign(out, menu.computed?.(row, ctx) ?? {});
    if (out.comment === '') delete out.comment;
    const sorted: Printed = { '.id': idText(row.id) };
    for (const key of Object.keys(out).sort()) sorted[key] = out[key] as string;
    return sorted;
  }

  rows(menu: MenuSpec): Printed[] {
    this.sweep();
    return this.table(menu.path).rows.map((r) => this.print(menu, r));
  }

  /** The row a `*id` (or, on named menus, a name) refers to; 404 otherwise. */
  find(menu: MenuSpec, ref: string): RosRow {
    this.sweep();
    const rows = this.table(menu.path).rows;
    const id = parseId(ref);
    const row =
      id !== null
        ? rows.find((r) => r.id === id)
        : menu.nameKey !== undefined
          ? rows.find((r) => r.values[menu.nameKey as string] === ref)
          : undefined;
    if (row === undefined) throw notFound();
    return row;
  }

  private coerce(menu: MenuSpec, body: Record<string, unknown>, allowPlaceBefore: boolean) {
    const values: Record<string, string> = {};
    let placeBefore: string | undefined;
    for (const [key, raw] of Object.entries(body)) {
      // `set` addresses its row by `.id` (ignored in a PATCH body); `add` has no such parameter.
      if (key === '.id' && !allowPlaceBefore) continue;
      if (key === 'place-before' && allowPlaceBefore && menu.placeBefore) {
        placeBefore = valueText(key, raw);
        continue;
      }
      const spec = menu.fields[key];
      if (spec === undefined || spec.ro) throw unknownParameter(key);
      let text = valueText(key, raw);
      if (spec.kind === 'bool') {
        const word = BOOL_WORDS[text];
        if (word === undefined) throw badRequest(`invalid value for argument ${key}`);
        text = word;
      } else if (spec.kind === 'int' && !/^\d+$/.test(text)) {
        throw badRequest(`invalid value for argument ${key}`);
      }
      values[key] = text;
    }
    return { values, placeBefore };
  }

  add(menu: MenuSpec, body: Record<string, unknown>): RosRow {
    if (!menu.add) throw noSuchCommand('add');
    this.sweep();
    const { values, placeBefore } = this.coerce(menu, body, true);
    for (const key of menu.required) {
      if ((values[key] ?? '') === '') throw badRequest(`failure: ${key} not specified`);
    }
    const table = this.table(menu.path);
    const patch = menu.prepare?.(values, { now: this.now(), bootAt: this.state.bootAt, rows: table.rows, rowsOf: this.rowsOf }) ?? {};
    let index: number | undefined;
    if (placeBefore !== undefined) {
      const target = this.find(menu, placeBefore);
      index = table.rows.indexOf(target);
    }
    return this.insert(menu, values, { expiresAt: patch.expiresAt ?? null, dynamic: patch.dynamic ?? false }, index);
  }

  set(menu: MenuSpec, ref: string, body: Record<string, unknown>): RosRow {
    if (!menu.set) throw noSuchCommand('set');
    const row = this.find(menu, ref);
    const { values } = this.coerce(menu, body, false);
    if (row.dynamic && row.expiresAt === null) throw badRequest('failure: can not change dynamic');
    const merged = { ...row.values, ...values };
    const table = this.table(menu.path);
    const patch = menu.prepare?.(merged, { now: this.now(), bootAt: this.state.bootAt, rows: table.rows, row, rowsOf: this.rowsOf }) ?? {};
    row.values = merged;
    if (patch.expiresAt !== undefined) row.expiresAt = patch.expiresAt;
    if (patch.dynamic !== undefined) row.dynamic = patch.dynamic;
    return row;
  }

  remove(menu: MenuSpec, refs: string[]): void {
    if (!menu.remove) throw noSuchCommand('remove');
    const rows = refs.map((ref) => this.find(menu, ref));
    for (const row of rows) {
      if (row.dynamic && row.expiresAt === null && menu.path !== 'ip/firewall/connection')
        throw badRequest('failure: can not remove dynamic');
    }
    const table = this.table(menu.path);
    table.rows = table.rows.filter((r) => !rows.includes(r));
  }

  /** Moves `refs` (in that order) before `destination`, or to the end without one. */
  move(menu: MenuSpec, refs: string[], destination: string | undefined): void {
    if (!menu.move) throw noSuchCommand('move');
    const rows = refs.map((ref) => this.find(menu, ref));
    if (rows.some((r) => r.dynamic)) throw badRequest('failure: can not move dynamic');
    const target = destination === undefined ? undefined : this.find(menu, destination);
    const table = this.table(menu.path);
    const rest = table.rows.filter((r) => !rows.includes(r));
    const at = target === undefined || rows.includes(target) ? rest.length : rest.indexOf(target);
    rest.splice(at, 0, ...rows);
    table.rows = rest;
  }

  resource(): Printed {
    const now = this.now();
    return {
      'architecture-name': 'arm64',
      'bad-blocks': '0',
      'board-name': this.state.boardName,
      'build-time': '2024-12-06 13:39:49',
      cpu: 'ARM64',
      'cpu-count': '4',
      'cpu-frequency': '1700',
      'cpu-load': String(1 + (Math.floor(now / 1000) % 7)),
      'factory-software': '7.5',
      'free-hdd-space': '86081536',
      'free-memory': String(3_650_000_000 - 4096 * this.table('ip/firewall/address-list').rows.length),
      platform: 'MikroTik',
      'total-hdd-space': '134217728',
      'total-memory': '4294967296',
      uptime: formatDuration(now - this.state.bootAt),
      version: this.state.version,
      'write-sect-since-reboot': '120',
      'write-sect-total': '53248',
    };
  }

  routerboard(): Printed {
    return {
      'current-firmware': this.state.version.split(' ')[0] ?? this.state.version,
      'factory-firmware': '7.5',
      'firmware-type': 'al2',
      model: this.state.boardName,
      routerboard: 'true',
      'serial-number': 'HF00000PCL1',
      'upgrade-firmware': this.state.version.split(' ')[0] ?? this.state.version,
    };
  }

  snapshot(): RosState {
    this.sweep();
    return structuredClone(this.state);
  }

  /** Writes the persistent configuration (static rows of non-runtime menus) to the state file. */
  persist(): void {
    const file = this.opts.stateFile;
    if (file === undefined) return;
    const tables: Record<string, RosTable> = {};
    for (const menu of MENUS) {
      if (menu.ramOnly) continue;
      const table = this.table(menu.path);
      tables[menu.path] = { nextId: table.nextId, rows: table.rows.filter((r) => !r.dynamic && r.expiresAt === null) };
    }
    const tmp = `${file}.tmp`;
    writeFileSync(tmp, `${JSON.stringify({ format: 'portcullis-routeros-emulator/1', identity: this.state.identity, tables })}\n`);
    renameSync(tmp, file);
  }

  private load(file: string): void {
    const saved = JSON.parse(readFileSync(file, 'utf8')) as { identity?: string; tables?: Record<string, RosTable> };
    if (typeof saved.identity === 'string') this.state.identity = saved.identity;
    for (const [path, table] of Object.entries(saved.tables ?? {})) {
      if (MENU_BY_PATH.has(path)) this.state.tables[path] = table;
    }
  }

  setIdentity(body: Record<string, unknown>): void {
    for (const [key, value] of Object.entries(body)) {
      if (key !== 'name') throw unknownParameter(key);
      this.state.identity = valueText(key, value);
    }
  }
}

export { RosError };
