/**
 * @module The emulated router behind uhttpd: rpcd sessions and ACLs, UCI with per-session staging and the
 * rollback apply, procd's async firewall reload after a commit, fw4 and nft through `file.exec`, and the
 * read-only objects (docs/reference/openwrt-api.md §1–§6). Every ubus method answers `{status, data?}`.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { type AclGroup, aclAllows, type EmulatorUser, type SessionAcls, sessionAcls } from './acl.ts';
import { EmulatorClock } from './clock.ts';
import { defaultConfig } from './defaults.ts';
import { type ExecResult, Fw4, parseIpsets } from './nft.ts';
import { renderRuleset, rulesetJson, rulesetText } from './ruleset.ts';
import {
  anonymousName,
  applyDeltas,
  clonePackage,
  dumpDelta,
  dumpSection,
  UBUS,
  type UciConfigs,
  type UciDelta,
  type UciPackage,
  validName,
  validSectionRef,
  validType,
} from './uci.ts';
import type { Connection, OpenWrtRelease, OpenWrtState } from './types.ts';

export const NULL_SID = '00000000000000000000000000000000';

export interface UbusReply {
  status: number;
  data?: Record<string, unknown>;
}

interface Session {
  sid: string;
  user: EmulatorUser | null;
  acls: SessionAcls;
  timeoutS: number;
  expiresAt: number;
}

interface PendingApply {
  sid: string;
  configs: string[];
  snapshot: Record<string, UciPackage | undefined>;
  deltas: Record<string, UciDelta[]>;
  timer: number;
  rollbackAt: number;
}

export interface BoxOptions {
  users: EmulatorUser[];
  groups: Record<string, AclGroup>;
  sessionTimeoutS: number;
  reloadDelayMs: number;
  release: OpenWrtRelease;
  stateFile?: string;
  clock: EmulatorClock;
  config?: UciConfigs;
  /** Per-call exec fault hook: returns a result to answer instead of running the command. */
  execFault?: (command: string) => ExecResult | null;
}

type Args = Record<string, unknown>;
type Handler = (sid: string, args: Args) => UbusReply;

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const ok = (data?: Record<string, unknown>): UbusReply => (data ? { status: UBUS.OK, data } : { status: UBUS.OK });
const st = (status: number): UbusReply => ({ status });

const EXEC_PATH = ['/bin', '/usr/bin', '/sbin', '/usr/sbin'];
const KNOWN_BINARIES = ['/usr/sbin/nft', '/sbin/fw4', '/usr/sbin/conntrack', '/etc/init.d/firewall', '/sbin/logread'];
const CONNTRACK_BANNER = 'conntrack v1.4.8 (conntrack-tools)';

export class OpenWrtBox {
  readonly clock: EmulatorClock;
  config: UciConfigs;
  readonly fw: Fw4;
  private sessions = new Map<string, Session>();
  private staged = new Map<string, Map<string, UciDelta[]>>();
  private apply: PendingApply | null = null;
  private reloadTimer: number | null = null;
  private reloadAt: number | null = null;
  bootedAt: number;
  connections: Connection[] = [];
  logLines: Array<{ time: number; facility: string; priority: string; msg: string }> = [];
  reloads = 0;
  restarts = 0;
  private anonCounter = 0x10;
  readonly objects: Record<string, Record<string, Handler>>;

  constructor(private readonly opts: BoxOptions) {
    this.clock = opts.clock;
    this.config = this.load() ?? { ...defaultConfig(), ...(opts.config ?? {}) };
    this.bootedAt = this.clock.now();
    this.fw = new Fw4(() => this.clock.now());
    this.boot();
    this.persist();
    this.objects = this.buildObjects();
  }

  // ---------- persistence ----------

  private load(): UciConfigs | null {
    const file = this.opts.stateFile;
    if (!file || !existsSync(file)) return null;
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as { config?: UciConfigs };
    return parsed.config ?? null;
  }

  persist(): void {
    const file = this.opts.stateFile;
    if (!file) return;
    writeFileSync(`${file}.tmp`, `${JSON.stringify({ version: 1, config: this.config }, null, 2)}\n`);
    renameSync(`${file}.tmp`, file);
  }

  // ---------- lifecycle ----------

  /** fw4 renders from the config at start/reload time; `nft list ruleset` shows that render until the next one. */
  private fwLoad(reload: boolean): void {
    const loaded = this.config.firewall ? clonePackage(this.config.firewall) : undefined;
    const defs = parseIpsets(loaded);
    if (reload) this.fw.reload(defs);
    else this.fw.start(defs);
    const devices: Record<string, string> = {};
    for (const s of this.config.network?.sections ?? [])
      if (s.type === 'interface' && typeof s.options.device === 'string') devices[s.name] = s.options.device;
    const directions = Object.fromEntries(defs.map((d) => [d.name, d.directions[0] ?? 'src']));
    const rendered = renderRuleset(loaded, devices, directions);
    this.fw.rulesetObjects = () => rulesetJson(rendered, 100);
    this.fw.rulesetText = () => rulesetText(rendered);
  }

  private fwStart(): void {
    this.fwLoad(false);
  }

  private boot(): void {
    this.sessions.clear();
    this.staged.clear();
    this.sessions.set(NULL_SID, {
      sid: NULL_SID,
      user: null,
      acls: sessionAcls(null, this.opts.groups),
      timeoutS: 0,
      expiresAt: Number.POSITIVE_INFINITY,
    });
    this.fwStart();
    this.syslog('daemon', 'notice', 'procd: - init complete -');
  }

  reboot(): void {
    this.clock.cancel(this.reloadTimer);
    this.reloadTimer = null;
    this.reloadAt = null;
    if (this.apply) this.clock.cancel(this.apply.timer);
    // The snapshot lives in /var/run: a reboot keeps the applied configuration and forgets the rollback.
    this.apply = null;
    this.connections = [];
    this.logLines = [];
    this.bootedAt = this.clock.now();
    this.boot();
  }

  restartFirewall(): void {
    this.restarts++;
    this.fw.stop();
    this.fwStart();
    this.syslog('user', 'notice', 'firewall: Reloading firewall due to restart');
  }

  reloadFirewall(): void {
    this.reloads++;
    this.fwLoad(true);
    this.syslog('user', 'notice', 'firewall: Reloading firewall due to ifupdate of lan');
  }

  /** procd's reload trigger after a `config.change` of `firewall`: debounced, async. */
  private triggerReload(config: string): void {
    if (config !== 'firewall') return;
    this.clock.cancel(this.reloadTimer);
    this.reloadAt = this.clock.now() + this.opts.reloadDelayMs;
    this.reloadTimer = this.clock.schedule(this.opts.reloadDelayMs, () => {
      this.reloadTimer = null;
      this.reloadAt = null;
      this.reloadFirewall();
    });
  }

  syslog(facility: string, priority: string, msg: string): void {
    this.logLines.push({ time: this.clock.now(), facility, priority, msg });
    if (this.logLines.length > 1000) this.logLines.splice(0, this.logLines.length - 1000);
  }

  // ---------- sessions ----------

  /** session.c rpc_session_get: a lookup touches the session (sliding expiry); an expired one is gone. */
  session(sid: string): Session | null {
    const s = this.sessions.get(sid);
    if (!s) return null;
    const now = this.clock.now();
    if (s.expiresAt <= now) {
      this.destroySession(sid);
      return null;
    }
    if (s.timeoutS > 0) s.expiresAt = now + s.timeoutS * 1000;
    return s;
  }

  destroySession(sid: string): void {
    if (sid === NULL_SID) return;
    this.sessions.delete(sid);
    this.staged.delete(sid);
  }

  expireAllSessions(): void {
    for (const sid of [...this.sessions.keys()]) this.destroySession(sid);
  }

  /** uhttpd's `session.access` check for the `ubus` scope. */
  ubusAllowed(sid: string, object: string, method: string): boolean {
    const s = this.session(sid);
    return !!s && aclAllows(s.acls, 'ubus', object, method);
  }

  private access(sid: string, scope: string, object: string, fn: string): boolean {
    const s = this.sessions.get(sid);
    if (!s || s.expiresAt <= this.clock.now()) return false;
    return aclAllows(s.acls, scope, object, fn);
  }

  private sessionDump(s: Session): Record<string, unknown> {
    const remaining = s.timeoutS > 0 ? Math.max(0, s.expiresAt - this.clock.now()) : 0;
    return {
      ubus_rpc_session: s.sid,
      timeout: s.timeoutS,
      expires: Math.max(0, Math.ceil(remaining / 1000) - 1),
      acls: s.acls,
      data: s.user ? { username: s.user.username } : {},
    };
  }

  private login(args: Args): UbusReply {
    const username = str(args.username);
    const password = str(args.password);
    if (username === undefined || password === undefined) return st(UBUS.INVALID_ARGUMENT);
    const user = this.opts.users.find((u) => u.username === username && u.password === password);
    if (!user) {
      this.syslog('authpriv', 'warn', `rpcd: failed login for ${username}`);
      return st(UBUS.PERMISSION_DENIED);
    }
    const timeoutS = typeof args.timeout === 'number' ? Math.max(0, Math.trunc(args.timeout)) : this.opts.sessionTimeoutS;
    // rpc_reclaim_apply_session: the same user gets the session holding a pending rollback apply back.
    let s: Session | null = null;
    if (this.apply) {
      const held = this.sessions.get(this.apply.sid);
      if (held && held.expiresAt > this.clock.now() && held.user?.username === username) s = held;
    }
    if (!s) {
      s = {
        sid: randomBytes(16).toString('hex'),
        user,
        acls: {},
        timeoutS,
        expiresAt: timeoutS > 0 ? this.clock.now() + timeoutS * 1000 : Number.POSITIVE_INFINITY,
      };
      this.sessions.set(s.sid, s);
    }
    s.acls = sessionAcls(user, this.opts.groups);
    return ok(this.sessionDump(s));
  }

  // ---------- UCI ----------

  private deltas(sid: string, config: string): UciDelta[] {
    let bySid = this.staged.get(sid);
    if (!bySid) this.staged.set(sid, (bySid = new Map<string, UciDelta[]>()));
    let list = bySid.get(config);
    if (!list) bySid.set(config, (list = []));
    return list;
  }

  /** The package as this session sees it: committed config plus its own staged deltas. */
  view(sid: string, config: string): UciPackage | undefined {
    const base = this.config[config];
    const ds = this.staged.get(sid)?.get(config) ?? [];
    if (!base && ds.length === 0) return undefined;
    return applyDeltas(base, ds);
  }

  private uciGet(sid: string, args: Args): UbusReply {
    const config = str(args.config);
    if (!config) return st(UBUS.INVALID_ARGUMENT);
    if (!this.access(sid, 'uci', config, 'read')) return st(UBUS.PERMISSION_DENIED);
    const pkg = this.view(sid, config);
    if (!pkg) return st(UBUS.NOT_FOUND);
    const section = str(args.section);
    if (section === undefined) {
      const type = str(args.type);
      const match = (args.match && typeof args.match === 'object' ? args.match : {}) as Record<string, unknown>;
      const values: Record<string, unknown> = {};
      pkg.sections.forEach((s, i) => {
        if (type !== undefined && s.type !== type) return;
        for (const [k, v] of Object.entries(match)) {
          const have = s.options[k];
          if (Array.isArray(have) ? !have.includes(String(v)) : have !== String(v)) return;
        }
        values[s.name] = dumpSection(s, i);
      });
      return ok({ values });
    }
    const s = pkg.sections.find((x) => x.name === section);
    if (!s) return st(UBUS.NOT_FOUND);
    const option = str(args.option);
    if (option === undefined) return ok({ values: dumpSection(s) });
    const v = s.options[option];
    if (v === undefined) return st(UBUS.NOT_FOUND);
    return ok({ value: Array.isArray(v) ? [...v] : v });
  }

  private writable(sid: string, config: string | undefined): UbusReply | null {
    if (!config) return st(UBUS.INVALID_ARGUMENT);
    if (!this.access(sid, 'uci', config, 'write')) return st(UBUS.PERMISSION_DENIED);
    return null;
  }

  /** rpc_uci_merge_set for one option: arrays become delete + list-add, scalars a set ('' deletes). */
  private mergeSet(ds: UciDelta[], pkg: UciPackage, section: string, option: string, value: unknown): number {
    if (!validName(option)) return UBUS.INVALID_ARGUMENT;
    const s = pkg.sections.find((x) => x.name === section);
    if (!s) return UBUS.NOT_FOUND;
    const fmt = (v: unknown): string | null =>
      typeof v === 'string' ? v : typeof v === 'number' ? String(v) : typeof v === 'boolean' ? (v ? '1' : '0') : null;
    if (Array.isArray(value)) {
      if (s.options[option] !== undefined) {
        ds.push({ cmd: 'remove', section, option });
        delete s.options[option];
      }
      let rv: number = UBUS.INVALID_ARGUMENT;
      for (const item of value) {
        const text = fmt(item);
        if (text === null) continue;
        ds.push({ cmd: 'list-add', section, option, value: text });
        const cur = s.options[option];
        s.options[option] = Array.isArray(cur) ? [...cur, text] : [text];
        rv = UBUS.OK;
      }
      return rv;
    }
    const text = fmt(value);
    if (text === null) return UBUS.INVALID_ARGUMENT;
    if (Array.isArray(s.options[option])) ds.push({ cmd: 'remove', section, option });
    ds.push({ cmd: 'set', section, option, value: text });
    if (text === '') delete s.options[option];
    else s.options[option] = text;
    return UBUS.OK;
  }

  private uciAdd(sid: string, args: Args): UbusReply {
    const config = str(args.config);
    const type = str(args.type);
    if (!config || !type) return st(UBUS.INVALID_ARGUMENT);
    const denied = this.writable(sid, config);
    if (denied) return denied;
    if (!validType(type)) return st(UBUS.INVALID_ARGUMENT);
    const name = str(args.name);
    if (name !== undefined && !validName(name)) return st(UBUS.INVALID_ARGUMENT);
    const pkg = this.view(sid, config);
    if (!pkg) return st(UBUS.NOT_FOUND);
    const ds = this.deltas(sid, config);
    let section: string;
    if (name !== undefined) {
      section = name;
      ds.push({ cmd: 'set', section, value: type });
      const existing = pkg.sections.find((s) => s.name === name);
      if (existing) existing.type = type;
      else pkg.sections.push({ name, type, anonymous: false, options: {} });
    } else {
      do section = anonymousName(++this.anonCounter, type, this.clock.now());
      while (pkg.sections.some((s) => s.name === section));
      ds.push({ cmd: 'add', section, type });
      pkg.sections.push({ name: section, type, anonymous: true, options: {} });
    }
    let err = 0;
    const values = (args.values && typeof args.values === 'object' ? args.values : {}) as Args;
    for (const [k, v] of Object.entries(values)) {
      const rv = this.mergeSet(ds, pkg, section, k, v);
      if (rv) err = rv;
    }
    return err ? st(err) : ok({ section });
  }

  private uciSet(sid: string, args: Args): UbusReply {
    const config = str(args.config);
    if (!config || !args.values || typeof args.values !== 'object') return st(UBUS.INVALID_ARGUMENT);
    const section = str(args.section);
    if (section === undefined && args.type === undefined && args.match === undefined) return st(UBUS.INVALID_ARGUMENT);
    const denied = this.writable(sid, config);
    if (denied) return denied;
    if (section !== undefined && !validSectionRef(section)) return st(UBUS.INVALID_ARGUMENT);
    const pkg = this.view(sid, config);
    if (!pkg) return st(UBUS.NOT_FOUND);
    const ds = this.deltas(sid, config);
    const targets =
      section !== undefined
        ? [section]
        : pkg.sections.filter((s) => args.type === undefined || s.type === args.type).map((s) => s.name);
    let err = 0;
    for (const target of targets)
      for (const [k, v] of Object.entries(args.values as Args)) {
        const rv = this.mergeSet(ds, pkg, target, k, v);
        if (rv) err = rv;
      }
    return st(err);
  }

  private uciDelete(sid: string, args: Args): UbusReply {
    const config = str(args.config);
    const section = str(args.section);
    if (!config || (section === undefined && args.type === undefined && args.match === undefined))
      return st(UBUS.INVALID_ARGUMENT);
    const denied = this.writable(sid, config);
    if (denied) return denied;
    const pkg = this.view(sid, config);
    if (!pkg) return st(UBUS.NOT_FOUND);
    const ds = this.deltas(sid, config);
    const targets =
      section !== undefined ? [section] : pkg.sections.filter((s) => s.type === args.type).map((s) => s.name);
    let err = 0;
    for (const target of targets) {
      const s = pkg.sections.find((x) => x.name === target);
      if (!s) {
        err = UBUS.NOT_FOUND;
        continue;
      }
      const option = str(args.option);
      const options = Array.isArray(args.options) ? args.options.filter((o): o is string => typeof o === 'string') : null;
      if (option !== undefined || options) {
        for (const o of option !== undefined ? [option] : (options ?? [])) {
          if (s.options[o] === undefined) {
            err = UBUS.NOT_FOUND;
            continue;
          }
          ds.push({ cmd: 'remove', section: target, option: o });
          delete s.options[o];
        }
      } else {
        ds.push({ cmd: 'remove', section: target });
        pkg.sections.splice(pkg.sections.indexOf(s), 1);
      }
    }
    return st(err);
  }

  private uciRename(sid: string, args: Args): UbusReply {
    const config = str(args.config);
    const section = str(args.section);
    const name = str(args.name);
    if (!config || !section || !name) return st(UBUS.INVALID_ARGUMENT);
    const denied = this.writable(sid, config);
    if (denied) return denied;
    if (!validName(name)) return st(UBUS.INVALID_ARGUMENT);
    const pkg = this.view(sid, config);
    if (!pkg) return st(UBUS.NOT_FOUND);
    const s = pkg.sections.find((x) => x.name === section);
    if (!s) return st(UBUS.NOT_FOUND);
    const option = str(args.option);
    if (option !== undefined && s.options[option] === undefined) return st(UBUS.NOT_FOUND);
    this.deltas(sid, config).push(
      option !== undefined ? { cmd: 'rename', section, option, value: name } : { cmd: 'rename', section, value: name },
    );
    return st(UBUS.OK);
  }

  private uciOrder(sid: string, args: Args): UbusReply {
    const config = str(args.config);
    if (!config || !Array.isArray(args.sections)) return st(UBUS.INVALID_ARGUMENT);
    const denied = this.writable(sid, config);
    if (denied) return denied;
    const pkg = this.view(sid, config);
    if (!pkg) return st(UBUS.NOT_FOUND);
    const ds = this.deltas(sid, config);
    let err = 0;
    let i = 0;
    for (const name of args.sections) {
      if (typeof name !== 'string' || !validName(name)) {
        err = UBUS.INVALID_ARGUMENT;
        continue;
      }
      if (!pkg.sections.some((s) => s.name === name)) {
        err = UBUS.NOT_FOUND;
        continue;
      }
      ds.push({ cmd: 'order', section: name, value: i++ });
    }
    return st(err);
  }

  private uciChanges(sid: string, args: Args): UbusReply {
    const config = str(args.config);
    if (config !== undefined) {
      if (!this.access(sid, 'uci', config, 'read')) return st(UBUS.PERMISSION_DENIED);
      if (!this.config[config] && !this.staged.get(sid)?.get(config)?.length) return st(UBUS.NOT_FOUND);
      return ok({ changes: (this.staged.get(sid)?.get(config) ?? []).map(dumpDelta) });
    }
    const changes: Record<string, unknown> = {};
    for (const [cfg, ds] of this.staged.get(sid) ?? []) {
      if (ds.length === 0 || !this.access(sid, 'uci', cfg, 'read')) continue;
      changes[cfg] = ds.map(dumpDelta);
    }
    return ok({ changes });
  }

  private uciRevertCommit(sid: string, args: Args, commit: boolean): UbusReply {
    if (this.apply) return st(UBUS.PERMISSION_DENIED);
    const config = str(args.config);
    const denied = this.writable(sid, config);
    if (denied) return denied;
    const cfg = config as string;
    if (commit) {
      const pkg = this.view(sid, cfg);
      if (!pkg) return st(UBUS.NOT_FOUND);
      this.config[cfg] = pkg;
      this.staged.get(sid)?.delete(cfg);
      this.persist();
      this.syslog('daemon', 'info', `rpcd: uci commit ${cfg}`);
      this.triggerReload(cfg);
    } else {
      this.staged.get(sid)?.delete(cfg);
    }
    return st(UBUS.OK);
  }

  private uciApply(sid: string, args: Args): UbusReply {
    const rollback = args.rollback === true || args.rollback === 1 || args.rollback === '1';
    if (this.apply && rollback) return st(UBUS.PERMISSION_DENIED);
    const timeoutS = typeof args.timeout === 'number' ? Math.trunc(args.timeout) : 60;
    if (this.apply) return st(UBUS.OK);
    const bySid = this.staged.get(sid);
    const configs = [...(bySid ?? [])].filter(([, ds]) => ds.length > 0).map(([c]) => c);
    if (configs.length === 0) return st(UBUS.NO_DATA);
    for (const c of configs) if (!this.access(sid, 'uci', c, 'write')) return st(UBUS.PERMISSION_DENIED);
    const snapshot: Record<string, UciPackage | undefined> = {};
    const deltas: Record<string, UciDelta[]> = {};
    for (const c of configs) {
      const base = this.config[c];
      snapshot[c] = base ? clonePackage(base) : undefined;
      deltas[c] = [...(bySid?.get(c) ?? [])];
      this.config[c] = this.view(sid, c) as UciPackage;
      bySid?.delete(c);
    }
    this.persist();
    for (const c of configs) this.triggerReload(c);
    if (rollback) {
      const timer = this.clock.schedule(timeoutS * 1000, () => this.doRollback());
      this.apply = { sid, configs, snapshot, deltas, timer, rollbackAt: this.clock.now() + timeoutS * 1000 };
    }
    return st(UBUS.OK);
  }

  /** rpc_uci_do_rollback: restore the snapshot, re-trigger, and give the deltas back if the session lives. */
  private doRollback(): void {
    const a = this.apply;
    if (!a) return;
    this.clock.cancel(a.timer);
    this.apply = null;
    const alive = this.sessions.get(a.sid);
    const keepDeltas =
      !!alive && alive.expiresAt > this.clock.now() && a.configs.every((c) => aclAllows(alive.acls, 'uci', c, 'write'));
    for (const c of a.configs) {
      const snap = a.snapshot[c];
      if (snap) this.config[c] = snap;
      else delete this.config[c];
      if (keepDeltas) this.deltas(a.sid, c).splice(0, Infinity, ...(a.deltas[c] ?? []));
      this.triggerReload(c);
    }
    this.persist();
    this.syslog('daemon', 'warn', 'rpcd: apply rollback: configuration restored');
  }

  private uciConfirm(sid: string): UbusReply {
    if (!this.apply) return st(UBUS.NO_DATA);
    if (this.apply.sid !== sid) return st(UBUS.PERMISSION_DENIED);
    this.clock.cancel(this.apply.timer);
    this.apply = null;
    return st(UBUS.OK);
  }

  private uciRollback(sid: string): UbusReply {
    if (!this.apply) return st(UBUS.NO_DATA);
    if (this.apply.sid !== sid) return st(UBUS.PERMISSION_DENIED);
    this.doRollback();
    return st(UBUS.OK);
  }

  // ---------- file.exec ----------

  private exec(sid: string, args: Args): UbusReply {
    const command = str(args.command);
    if (!command) return st(UBUS.INVALID_ARGUMENT);
    if (args.env !== undefined) return st(UBUS.PERMISSION_DENIED);
    const params = Array.isArray(args.params) ? args.params : null;
    const exe = command.startsWith('/')
      ? KNOWN_BINARIES.includes(command)
        ? command
        : null
      : (EXEC_PATH.map((d) => `${d}/${command}`).find((p) => KNOWN_BINARIES.includes(p)) ?? null);
    if (!exe) return st(UBUS.NOT_FOUND);
    if (!this.access(sid, 'file', exe, 'exec')) {
      if (!params) return st(UBUS.PERMISSION_DENIED);
      const cmdline = [exe, ...params.filter((p): p is string => typeof p === 'string')].join(' ');
      if (!this.access(sid, 'file', cmdline, 'exec')) return st(UBUS.PERMISSION_DENIED);
    }
    const argv = (params ?? []).filter((p): p is string => typeof p === 'string');
    const result = this.opts.execFault?.(exe) ?? this.run(exe, argv);
    const data: Record<string, unknown> = { code: result.code };
    if (result.stdout !== '') data.stdout = result.stdout.slice(0, 4096 * 64);
    if (result.stderr !== '') data.stderr = result.stderr.slice(0, 4096 * 64);
    return ok(data);
  }

  run(exe: string, argv: string[]): ExecResult {
    switch (exe) {
      case '/usr/sbin/nft':
        return this.fw.nft(argv);
      case '/sbin/fw4':
      case '/etc/init.d/firewall':
        return this.fw4(argv, exe);
      case '/usr/sbin/conntrack':
        return this.conntrack(argv);
      case '/sbin/logread':
        return { code: 0, stdout: this.logText(), stderr: '' };
      default:
        return { code: 127, stdout: '', stderr: `${exe}: not found\n` };
    }
  }

  /** root/sbin/fw4 (and the init script's verbs): start refuses a loaded firewall, reload and stop need one. */
  private fw4(argv: string[], exe: string): ExecResult {
    const args = [...argv];
    let quiet = false;
    while (args[0] === '-q' || args[0] === '-v') if (args.shift() === '-q') quiet = true;
    const action = args[0] ?? '';
    const done: ExecResult = { code: 0, stdout: '', stderr: '' };
    const die = (msg: string): ExecResult => ({ code: 1, stdout: '', stderr: quiet ? '' : `${msg}\n` });
    const loaded = this.fw.sets !== null;
    if (exe === '/etc/init.d/firewall') {
      // procd's service wrappers: start_service runs `fw4 start` (already loaded → no-op), stop_service `fw4 flush`.
      switch (action) {
        case 'reload':
          if (loaded) this.reloadFirewall();
          else this.fwStart();
          return done;
        case 'restart':
          this.restartFirewall();
          return done;
        case 'start':
        case 'boot':
          if (!loaded) this.fwStart();
          return done;
        case 'stop':
          this.fw.stop();
          return done;
        case 'enable':
        case 'disable':
        case 'enabled':
          return done;
        default:
          return { code: 1, stdout: '', stderr: 'Syntax: /etc/init.d/firewall [command]\n' };
      }
    }
    switch (action) {
      case 'start':
        if (loaded) return die('The fw4 firewall appears to be already loaded.');
        this.fwStart();
        return done;
      case 'reload':
        if (!loaded) return die('The fw4 firewall does not appear to be loaded.');
        this.reloadFirewall();
        return done;
      case 'restart':
        this.restartFirewall();
        return done;
      case 'stop':
        if (!loaded) return die('The fw4 firewall does not appear to be loaded, try fw4 flush to delete all rules.');
        this.fw.stop();
        return done;
      case 'flush':
        this.fw.stop();
        return done;
      case 'reload-sets':
        return this.fw.reloadSets();
      case 'check':
        return { code: 0, stdout: quiet ? '' : 'Ruleset passes nftables check.\n', stderr: '' };
      case 'print':
        return this.fw.nft(['list', 'ruleset']);
      default:
        return {
          code: 1,
          stdout: 'Usage:\n\n  /sbin/fw4 [-v] [-q] start|stop|flush|restart|reload\n\n    Start, stop, flush, restart or reload the firewall respectively.\n\n\n  /sbin/fw4 [-v] [-q] reload-sets\n\n    Reload the contents of all declared sets but do not touch the\n    ruleset.\n',
          stderr: '',
        };
    }
  }

  private conntrack(argv: string[]): ExecResult {
    const op = argv[0];
    const filter = (c: Connection): boolean => {
      for (let i = 1; i < argv.length; i += 2) {
        const k = argv[i];
        const v = argv[i + 1];
        if ((k === '-s' || k === '--src' || k === '--orig-src') && c.src !== v) return false;
        if ((k === '-d' || k === '--dst' || k === '--orig-dst') && c.dst !== v) return false;
        if ((k === '-p' || k === '--proto') && c.proto !== v) return false;
      }
      return true;
    };
    if (op === '-D' || op === '--delete') {
      const before = this.connections.length;
      this.connections = this.connections.filter((c) => !filter(c));
      const n = before - this.connections.length;
      return { code: n > 0 ? 0 : 1, stdout: '', stderr: `${CONNTRACK_BANNER}: ${n} flow entries have been deleted.\n` };
    }
    if (op === '-L' || op === '--dump') {
      const rows = this.connections.filter(filter);
      return {
        code: 0,
        stdout: rows.map((c) => conntrackLine(c)).join(''),
        stderr: `${CONNTRACK_BANNER}: ${rows.length} flow entries have been shown.\n`,
      };
    }
    if (op === '-F' || op === '--flush') {
      this.connections = [];
      return { code: 0, stdout: '', stderr: `${CONNTRACK_BANNER}: connection tracking table has been emptied.\n` };
    }
    return { code: 2, stdout: '', stderr: `${CONNTRACK_BANNER}: Invalid argument\nTry \`conntrack -h' for more information.\n` };
  }

  logText(): string {
    return this.logLines
      .map((l) => `${new Date(l.time).toUTCString().replace(/^\w+, /, '')} ${l.facility}.${l.priority} ${l.msg}\n`)
      .join('');
  }

  // ---------- objects ----------

  private buildObjects(): Record<string, Record<string, Handler>> {
    const release = this.opts.release;
    const objects: Record<string, Record<string, Handler>> = {
      session: {
        login: (_sid, a) => this.login(a),
        access: (sid, a) => {
          const s = this.sessions.get(str(a.ubus_rpc_session) ?? sid);
          if (!s) return st(UBUS.NOT_FOUND);
          const scope = str(a.scope) ?? 'ubus';
          const object = str(a.object);
          const fn = str(a.function);
          if (object === undefined || fn === undefined) return ok({ [scope]: s.acls[scope] ?? {} });
          return ok({ access: aclAllows(s.acls, scope, object, fn) });
        },
        destroy: (sid) => {
          if (sid === NULL_SID) return st(UBUS.PERMISSION_DENIED);
          this.destroySession(sid);
          return st(UBUS.OK);
        },
      },
      uci: {
        get: (sid, a) => this.uciGet(sid, a),
        state: (sid, a) => this.uciGet(sid, a),
        add: (sid, a) => this.uciAdd(sid, a),
        set: (sid, a) => this.uciSet(sid, a),
        delete: (sid, a) => this.uciDelete(sid, a),
        rename: (sid, a) => this.uciRename(sid, a),
        order: (sid, a) => this.uciOrder(sid, a),
        changes: (sid, a) => this.uciChanges(sid, a),
        revert: (sid, a) => this.uciRevertCommit(sid, a, false),
        commit: (sid, a) => this.uciRevertCommit(sid, a, true),
        apply: (sid, a) => this.uciApply(sid, a),
        confirm: (sid) => this.uciConfirm(sid),
        rollback: (sid) => this.uciRollback(sid),
        configs: () => ok({ configs: Object.keys(this.config).sort() }),
        reload_config: () => {
          for (const c of Object.keys(this.config)) this.triggerReload(c);
          return st(UBUS.OK);
        },
      },
      file: {
        exec: (sid, a) => this.exec(sid, a),
      },
      rc: {
        list: () =>
          ok({
            firewall: { start: 19, stop: 0, enabled: true, running: this.fw.sets !== null },
            network: { start: 20, stop: 90, enabled: true, running: true },
          }),
        init: (_sid, a) => {
          const name = str(a.name);
          const action = str(a.action);
          if (!name || !action) return st(UBUS.INVALID_ARGUMENT);
          if (!['start', 'stop', 'restart', 'reload', 'enable', 'disable'].includes(action)) return st(UBUS.INVALID_ARGUMENT);
          if (name !== 'firewall' && name !== 'network') return st(UBUS.NOT_FOUND);
          if (name === 'firewall') this.fw4([action], '/etc/init.d/firewall');
          return st(UBUS.OK);
        },
      },
      system: {
        board: () =>
          ok({
            kernel: '5.15.167',
            hostname: this.hostname(),
            system: 'Intel(R) Xeon(R) CPU',
            model: 'QEMU Standard PC (Q35 + ICH9, 2009)',
            board_name: 'qemu-standard-pc-q35-ich9-2009',
            rootfs_type: 'ext4',
            release: { ...release },
          }),
        info: () => {
          const now = this.clock.now();
          return ok({
            localtime: Math.floor(now / 1000),
            uptime: Math.floor((now - this.bootedAt) / 1000),
            load: [2208, 1536, 992],
            memory: { total: 251_658_240, free: 180_224_000, shared: 98_304, buffered: 4_096_000, available: 200_704_000, cached: 24_576_000 },
            root: { total: 102_400, free: 90_112, used: 12_288, avail: 86_016 },
            tmp: { total: 122_880, free: 122_000, used: 880, avail: 122_000 },
            swap: { total: 0, free: 0 },
          });
        },
        reboot: () => {
          this.clock.schedule(1000, () => this.reboot());
          return st(UBUS.OK);
        },
      },
      'network.interface': {
        dump: () => ok({ interface: this.interfaces().map((i) => this.interfaceStatus(i)) }),
      },
      luci: {
        getConntrackList: () => ok({ result: this.connections.map(luciConntrack) }),
      },
      'luci-rpc': {
        getDHCPLeases: () => ok({ dhcp_leases: [], dhcp6_leases: [] }),
      },
      log: {
        read: (_sid, a) => {
          const lines = typeof a.lines === 'number' ? a.lines : this.logLines.length;
          return ok({
            log: this.logLines.slice(-lines).map((l) => ({
              msg: l.msg,
              id: 0,
              priority: 6,
              source: 1,
              time: l.time,
            })),
          });
        },
      },
    };
    for (const name of this.interfaces())
      objects[`network.interface.${name}`] = { status: () => ok(this.interfaceStatus(name)) };
    return objects;
  }

  private hostname(): string {
    const sys = this.config.system?.sections.find((s) => s.type === 'system');
    return typeof sys?.options.hostname === 'string' ? sys.options.hostname : 'OpenWrt';
  }

  interfaces(): string[] {
    return (this.config.network?.sections ?? []).filter((s) => s.type === 'interface').map((s) => s.name);
  }

  interfaceStatus(name: string): Record<string, unknown> {
    const s = this.config.network?.sections.find((x) => x.type === 'interface' && x.name === name);
    const o = s?.options ?? {};
    const uptime = Math.floor((this.clock.now() - this.bootedAt) / 1000);
    const mask = typeof o.netmask === 'string' ? o.netmask : '255.255.255.0';
    const bits = mask.split('.').reduce((n, p) => n + (Number(p) >>> 0).toString(2).replace(/0/g, '').length, 0);
    const addr =
      typeof o.ipaddr === 'string'
        ? [{ address: o.ipaddr, mask: bits }]
        : name === 'wan'
          ? [{ address: '203.0.113.2', mask: 24 }]
          : [];
    return {
      interface: name,
      up: true,
      pending: false,
      available: true,
      autostart: true,
      dynamic: false,
      uptime,
      l3_device: typeof o.device === 'string' ? o.device : name,
      proto: typeof o.proto === 'string' ? o.proto : 'none',
      device: typeof o.device === 'string' ? o.device : name,
      metric: 0,
      dns_metric: 0,
      delegation: true,
      'ipv4-address': addr,
      'ipv6-address': [],
      'ipv6-prefix': [],
      'ipv6-prefix-assignment': [],
      route: name === 'wan' ? [{ target: '0.0.0.0', mask: 0, nexthop: '203.0.113.1', source: '203.0.113.2/32' }] : [],
      'dns-server': name === 'wan' ? ['203.0.113.1'] : [],
      'dns-search': [],
      neighbors: [],
      inactive: { 'ipv4-address': [], 'ipv6-address': [], route: [], 'dns-server': [], 'dns-search': [], neighbors: [] },
      data: {},
    };
  }

  // ---------- test view ----------

  snapshot(): OpenWrtState {
    this.fw.expire();
    const now = this.clock.now();
    for (const [sid, s] of this.sessions) if (s.expiresAt <= now) this.destroySession(sid);
    const sets: OpenWrtState['firewall']['sets'] = {};
    for (const [name, set] of this.fw.sets ?? []) {
      sets[name] = {
        type: set.def.types.join(' . '),
        flags: [...(set.def.interval ? ['interval'] : []), ...(set.def.timeout >= 0 ? ['timeout'] : [])],
        timeout: set.def.timeout,
        elements: [...set.elements.values()].map((e) => ({
          value: e.value,
          timeout: e.timeout,
          expiresInS: e.expiresAt === null ? null : Math.max(0, Math.floor((e.expiresAt - now) / 1000)),
          comment: e.comment,
        })),
      };
    }
    return structuredClone({
      now,
      bootedAt: this.bootedAt,
      config: this.config,
      staged: Object.fromEntries(
        [...this.staged].map(([sid, m]) => [sid, Object.fromEntries([...m].map(([c, ds]) => [c, ds.map(dumpDelta)]))]),
      ),
      sessions: [...this.sessions.values()]
        .filter((s) => s.sid !== NULL_SID)
        .map((s) => ({
          sid: s.sid,
          username: s.user?.username ?? null,
          expiresInS: s.timeoutS > 0 ? Math.floor((s.expiresAt - now) / 1000) : -1,
        })),
      pendingApply: this.apply
        ? { session: this.apply.sid, configs: this.apply.configs, rollbackAt: this.apply.rollbackAt }
        : null,
      pendingReloadAt: this.reloadAt,
      firewall: {
        running: this.fw.sets !== null,
        sets,
        lastReloadEntries: Object.fromEntries(this.fw.lastState.map((d) => [d.name, d.entries])),
        reloads: this.reloads,
        restarts: this.restarts,
      },
      connections: this.connections,
      log: this.logText().split('\n').filter(Boolean),
    });
  }
}

function conntrackLine(c: Connection): string {
  const ports = c.sport !== undefined ? ` sport=${c.sport} dport=${c.dport ?? 0}` : '';
  const rports = c.sport !== undefined ? ` sport=${c.dport ?? 0} dport=${c.sport}` : '';
  const num = c.proto === 'tcp' ? 6 : c.proto === 'udp' ? 17 : 1;
  const state = c.proto === 'tcp' ? ' ESTABLISHED' : '';
  return `${c.proto.padEnd(8)} ${num} ${c.timeout ?? 7440}${state} src=${c.src} dst=${c.dst}${ports} src=${c.dst} dst=${c.src}${rports} [ASSURED] mark=0 use=1\n`;
}

/**
 * luci's `getConntrackList` row: luci-base `sys.uc` conntrack_list parses each /proc/net/nf_conntrack line into
 * bytes/packets (summed), layer3, layer4 (protocol name), timeout, the first src/dst/sport/dport, and any other
 * `key=value` pair as a string (docs/reference/openwrt-api.md §6).
 */
function luciConntrack(c: Connection): Record<string, unknown> {
  const v6 = c.src.includes(':');
  return {
    bytes: c.bytes ?? 0,
    packets: c.packets ?? 0,
    layer3: v6 ? 'ipv6' : 'ipv4',
    layer4: c.proto,
    timeout: c.timeout ?? 7440,
    src: c.src,
    dst: c.dst,
    ...(c.sport !== undefined ? { sport: c.sport, dport: c.dport ?? 0 } : {}),
    mark: '0',
    zone: '0',
    use: '2',
  };
}
