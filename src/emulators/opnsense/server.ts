/**
 * @module The OPNsense emulator: an HTTPS (or HTTP) server on loopback that answers `/api/...` the way
 * opnsense/core answers it (docs/reference/opnsense-api.md), plus test hooks under `/__emulator/`.
 *
 * Request pipeline in OPNsense's order (§1, §2): routing (404 `Endpoint not found`, before any credential
 * check) → no Authorization header (401, empty body) → Basic key:secret (401) → ACL on the raw URI (403) →
 * JSON body (400 on an empty JSON body) → the action (200 with the result, 500 for a UserException or a PHP
 * error). Writes run one at a time (OPNsense's config lock).
 */
import { randomBytes } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { generateCertificate } from '../tls.ts';
import { isPageAccessible } from './acl.ts';
import { isTableType, resolveTable } from './aliases.ts';
import { ALIAS_ROUTES } from './api-alias.ts';
import { DIAG_ROUTES } from './api-diag.ts';
import { bootInterfaces, INTERFACE_ROUTES } from './api-interfaces.ts';
import { RULE_ROUTES, tickRollback } from './api-rules.ts';
import { KEA_ROUTES } from './api-kea.ts';
import { UNBOUND_ROUTES } from './api-unbound.ts';
import { type Ctx, type Device, PhpError, UserException } from './context.ts';
import { handleHook } from './hooks.ts';
import { resolveRoute, type Route } from './routes.ts';
import {
  builtinAliases,
  DEFAULT_INTERFACES,
  emptyConfig,
  keysFrom,
  loadBox,
  type OpnAlias,
  type OpnBox,
  type PfState,
  RULE_SECTIONS,
  saveBox,
  type StoredKey,
} from './state.ts';
import {
  type FaultSpec,
  type OpnKeySpec,
  type OpnsenseEmulator,
  type OpnsenseEmulatorOptions,
  type RequestRecord,
  VERSION_PROFILES,
} from './types.ts';

const MAX_LOGGED_REQUESTS = 10_000;
const ROUTES: Route[] = [...ALIAS_ROUTES, ...RULE_ROUTES, ...DIAG_ROUTES, ...UNBOUND_ROUTES, ...KEA_ROUTES, ...INTERFACE_ROUTES];
const JSON_TYPE = 'application/json; charset=UTF-8';

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** PHP's form parsing for the few shapes a client sends (`a=1`, `alias[name]=x`). */
function parseForm(body: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of new URLSearchParams(body)) {
    const m = /^([^[]+)\[([^\]]*)\]$/.exec(k);
    if (m) {
      const outer = (out[m[1] as string] ??= {}) as Record<string, unknown>;
      outer[m[2] as string] = v;
    } else out[k] = v;
  }
  return out;
}

function newState(
  id: number,
  s: Partial<PfState> & { src_addr: string; dst_addr: string },
  devices: string[],
): PfState {
  return {
    id: s.id ?? `${(0x5f000000 + id).toString(16).padStart(16, '0')}/${'00000001'}`,
    label: s.label ?? '',
    descr: s.descr ?? '',
    nat_addr: s.nat_addr ?? null,
    nat_port: s.nat_port ?? null,
    gateway: s.gateway ?? null,
    iface: s.iface ?? devices[0] ?? 'vtnet0',
    proto: s.proto ?? 'tcp',
    ipproto: s.ipproto ?? (s.src_addr.includes(':') ? 'ipv6' : 'ipv4'),
    flags: s.flags ?? [],
    direction: s.direction ?? 'in',
    dst_addr: s.dst_addr,
    dst_port: s.dst_port ?? '443',
    src_addr: s.src_addr,
    src_port: s.src_port ?? '50000',
    state: s.state ?? 'ESTABLISHED:ESTABLISHED',
    rule: s.rule ?? '0',
    age: s.age ?? '00:00:10',
    expires: s.expires ?? '24:00:00',
    pkts: s.pkts ?? [10, 10],
    bytes: s.bytes ?? [1000, 1000],
  };
}

export async function startOpnsenseEmulator(opts: OpnsenseEmulatorOptions = {}): Promise<OpnsenseEmulator> {
  const version = opts.version ?? '26.1.11';
  if (!VERSION_PROFILES.includes(version)) throw new Error(`version must be one of ${VERSION_PROFILES.join(', ')}`);
  const useTls = opts.tls ?? true;
  const certificate = useTls ? (opts.certificate ?? (await generateCertificate())) : null;
  const applyDelayMs = opts.applyDelayMs ?? 0;
  const tableEntriesLimit = opts.tableEntriesLimit ?? 1_000_000;
  const backupCount = opts.backupCount ?? 60;
  const realStart = Date.now();
  const clockBase = opts.startTime ?? realStart;
  let clockOffset = 0;
  const now = (): number => clockBase + (Date.now() - realStart) + clockOffset;

  const persisted = opts.stateFile ? loadBox(opts.stateFile) : null;
  let lastRevision = 0;
  const nextRevision = (): string => {
    let t = Math.floor(now() / 1000 * 10_000) / 10_000;
    if (t <= lastRevision) t = Math.round((lastRevision + 0.0001) * 10_000) / 10_000;
    lastRevision = t;
    return t.toFixed(4);
  };
  const interfaces = structuredClone(DEFAULT_INTERFACES);
  const keys: StoredKey[] = opts.keys ? keysFrom(opts.keys) : (persisted?.keys ?? keysFrom(undefined));
  const firstConfig = persisted?.config ?? emptyConfig(nextRevision());
  const firstBackup = firstConfig.revision;
  if (!persisted && version !== '24.7') firstConfig.revision = (Math.round(Number(firstBackup) * 100) / 100).toFixed(2);
  lastRevision = Math.max(lastRevision, Number(firstBackup));
  const box: OpnBox = {
    version,
    now: now(),
    bootedAt: now(),
    interfaces,
    config: firstConfig,
    history: persisted?.history ?? [{ revision: firstBackup, config: structuredClone(firstConfig) }],
    runtime: {
      tables: {},
      ruleset: { filter: [], snat: [], dnat: [], onetoone: [] },
      loadedRevision: '',
    },
    states: [],
    rollback: null,
    keys,
    firewallLog: [],
    idsAlerts: [],
  };
  for (const h of box.history) lastRevision = Math.max(lastRevision, Number(h.revision));

  const persist = (): void => {
    if (opts.stateFile) saveBox(opts.stateFile, box);
  };

  const allAliases = (): OpnAlias[] => [...box.config.aliases, ...builtinAliases(box.interfaces)];

  const refreshAliases = (): string[] => {
    const messages: string[] = [];
    const aliases = allAliases();
    const byName = new Map(aliases.map((a) => [a.name, a]));
    const tables = box.runtime.tables;
    for (const a of aliases) {
      if (a.type === 'external' || !isTableType(a.type)) {
        if (a.type === 'external' && tables[a.name] === undefined) tables[a.name] = [];
        continue;
      }
      if (a.enabled !== '1') {
        delete tables[a.name];
        continue;
      }
      let content: string[];
      if (a.type === 'internal') {
        const i = box.interfaces.find((x) => `__${x.id}_network` === a.name);
        content = i ? resolveTable({ ...a, type: 'network', content: `${i.ipv4}/${i.subnet}` }, byName) : [];
        content = content.map((c) => {
          const [ip, bits] = c.split('/');
          if (!bits || !ip) return c;
          const n = ip.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
          const size = 2 ** (32 - Number(bits));
          const base = n - (n % size);
          return `${[24, 16, 8, 0].map((s) => Math.floor(base / 2 ** s) % 256).join('.')}/${bits}`;
        });
      } else content = resolveTable(a, byName);
      const current = tables[a.name] ?? [];
      const same = current.length === content.length && current.every((x, i) => x === content[i]);
      if (same && tables[a.name] !== undefined) continue;
      if (content.length === 0) {
        tables[a.name] = [];
        continue;
      }
      const used = Object.entries(tables).reduce((n, [k, t]) => (k === a.name ? n : n + t.length), 0);
      // pfctl -T replace needs room for the old and the new table at once (§7)
      if (used + current.length + content.length > tableEntriesLimit) {
        messages.push(
          `Error loading alias [${a.name}]: Invalid argument.\n {current_size: ${current.length}, new_size: ${content.length}}`,
        );
        if (tables[a.name] === undefined) tables[a.name] = [];
        continue;
      }
      tables[a.name] = content;
    }
    for (const name of Object.keys(tables)) if (!byName.has(name)) delete tables[name];
    return messages;
  };

  const filterReload = (withAliases: boolean): void => {
    for (const s of RULE_SECTIONS) box.runtime.ruleset[s] = structuredClone(box.config[s]);
    box.runtime.loadedRevision = box.config.revision;
    if (withAliases) refreshAliases();
  };

  const dev: Device = {
    version,
    get box() {
      return box;
    },
    set box(_v) {
      throw new Error('box is fixed');
    },
    now,
    save(): string {
      // the backup is named after microtime(true) (4 decimals); revision->time is the same instant on 24.7 but
      // sprintf('%0.2f') of another microtime() call from 26.1 on (commit c81509dd), so it names no backup (§4)
      const backup = nextRevision();
      box.config.revision = version === '24.7' ? backup : (Math.round(Number(backup) * 100) / 100).toFixed(2);
      box.history.push({ revision: backup, config: structuredClone(box.config) });
      while (box.history.length > backupCount) box.history.shift();
      persist();
      return backup;
    },
    allAliases,
    refreshAliases,
    filterReload,
    delay: () => (applyDelayMs > 0 ? new Promise((r) => setTimeout(r, applyDelayMs)) : Promise.resolve()),
    developmentMode: opts.developmentMode ?? false,
    tableEntriesLimit,
    backupCount,
  };

  const boot = (): void => {
    box.runtime.tables = {};
    box.states = [];
    box.rollback = null;
    box.bootedAt = now();
    bootInterfaces(box);
    filterReload(true);
  };
  boot();
  persist();

  const tick = (): void => {
    tickRollback(dev);
  };
  const ticker = setInterval(tick, 1000);
  ticker.unref();

  const log: RequestRecord[] = [];
  const faults: Array<FaultSpec & { times: number }> = [];
  const sockets = new Set<Socket>();
  let seq = 0;
  let stateSeq = 0;
  let writeChain: Promise<unknown> = Promise.resolve();

  const takeFault = (method: string, path: string): (FaultSpec & { times: number }) | undefined => {
    const i = faults.findIndex(
      (f) => (f.method === undefined || f.method.toUpperCase() === method) && (f.path === undefined || path.startsWith(f.path)),
    );
    if (i < 0) return undefined;
    const f = faults[i] as FaultSpec & { times: number };
    f.times--;
    if (f.times <= 0) faults.splice(i, 1);
    return f;
  };

  const send = (res: ServerResponse, rec: RequestRecord, status: number, body: string, type: string | null): void => {
    rec.status = status;
    res.writeHead(status, type === null ? {} : { 'content-type': type });
    res.end(body);
  };

  const jsonError = (value: Record<string, unknown>): string => JSON.stringify(value);

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'https://opnsense.invalid');
    const method = (req.method ?? 'GET').toUpperCase();
    const raw = await readBody(req);
    if (url.pathname.startsWith('/__emulator/')) {
      handleHook(req, res, url, raw, api);
      return;
    }
    tick();
    const auth = req.headers.authorization;
    let keyId: string | null = null;
    let pair: [string, string] | null = null;
    if (auth !== undefined) {
      const parts = auth.split(' ');
      if (parts.length > 1) {
        const decoded = Buffer.from(parts[1] as string, 'base64').toString('utf8').split(':');
        if (decoded.length > 1) {
          pair = [decoded[0] as string, decoded[1] as string];
          keyId = pair[0];
        }
      }
    }
    let bodyLogged: unknown = raw;
    try {
      bodyLogged = raw.trim() === '' ? null : JSON.parse(raw);
    } catch {
      /* keep the text */
    }
    const rec: RequestRecord = {
      seq: ++seq,
      time: new Date(now()).toISOString(),
      method,
      path: url.pathname,
      query: url.search,
      key: keyId,
      contentType: req.headers['content-type'] ?? null,
      body: bodyLogged,
      status: null,
      fault: null,
    };
    log.push(rec);
    if (log.length > MAX_LOGGED_REQUESTS) log.shift();

    const fault = takeFault(method, url.pathname);
    rec.fault = fault?.kind ?? null;
    if (fault?.kind === 'hang') return;
    if (fault?.kind === 'drop') {
      req.socket.destroy();
      return;
    }
    if (fault?.kind === 'raw') {
      send(res, rec, fault.status ?? 200, fault.body ?? '', fault.contentType ?? 'text/html');
      return;
    }
    if (fault?.kind === 'bad-body') {
      send(res, rec, 200, '{"result":"sav', JSON_TYPE);
      return;
    }
    if (fault?.kind === 'status') {
      const status = fault.status ?? 500;
      send(res, rec, status, jsonError({ errorMessage: 'Unexpected error, check log for details' }), 'application/json;charset=utf-8');
      return;
    }

    // routing first: an unknown endpoint is a DispatchException → 404, whatever the credentials
    const resolved = resolveRoute(ROUTES, url.pathname, version);
    if (!resolved) {
      send(res, rec, 404, jsonError({ errorMessage: 'Endpoint not found' }), 'application/json;charset=utf-8');
      return;
    }
    if (auth === undefined) {
      // no Authorization header: the session (GUI) path, which answers 401 without a body
      send(res, rec, 401, '', null);
      return;
    }
    const key = pair ? box.keys.find((k) => k.key === pair[0] && k.secret === pair[1]) : undefined;
    if (!key) {
      send(res, rec, 401, jsonError({ status: 401, message: 'Authentication Failed' }), JSON_TYPE);
      return;
    }
    const requestUri = `${url.pathname}${url.search}`;
    if (!isPageAccessible(key.privileges, requestUri)) {
      send(res, rec, 403, jsonError({ status: 403, message: 'Forbidden' }), JSON_TYPE);
      return;
    }
    const ctype = (req.headers['content-type'] ?? '').replace(/ /g, '').toLowerCase();
    let post: Record<string, unknown> = {};
    if (ctype === 'application/json' || ctype === 'application/json;charset=utf-8') {
      let parsed: unknown = null;
      try {
        parsed = raw === '' ? null : JSON.parse(raw);
      } catch {
        parsed = null;
      }
      if (raw === '' && (parsed === null || parsed === undefined)) {
        send(res, rec, 400, jsonError({ status: 400, message: 'Invalid JSON syntax' }), JSON_TYPE);
        return;
      }
      post = parsed !== null && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : {};
    } else if (ctype.startsWith('application/x-www-form-urlencoded') && method === 'POST') {
      post = parseForm(raw);
    }
    const ctx: Ctx = {
      method,
      isPost: method === 'POST',
      isGet: method === 'GET',
      post,
      query: url.searchParams,
      params: resolved.params,
      key,
      dev,
    };
    if (fault?.kind === 'user-exception') {
      send(
        res,
        rec,
        500,
        jsonError({ errorMessage: fault.body ?? 'Injected failure', errorTitle: fault.title ?? 'Error' }),
        'application/json;charset=utf-8',
      );
      return;
    }
    const run = async (): Promise<void> => {
      try {
        const value = await resolved.route.handler(ctx);
        if (value === null || value === undefined) send(res, rec, 200, '', 'text/html; charset=UTF-8');
        else if (typeof value === 'string') send(res, rec, 200, value, 'text/html; charset=UTF-8');
        else send(res, rec, 200, JSON.stringify(value), JSON_TYPE);
      } catch (err) {
        if (err instanceof UserException) {
          const body: Record<string, unknown> = { errorMessage: err.message };
          if (err.title !== null) body.errorTitle = err.title;
          // master's api.php adds the exception level (99e49c574f; UserBaseException::getLevel is 'error')
          if (version === '27.1.a_161') body.errorLevel = 'error';
          send(res, rec, 500, jsonError(body), 'application/json;charset=utf-8');
        } else {
          const dev500 = err instanceof PhpError && err.message !== '' && opts.developmentMode;
          send(
            res,
            rec,
            500,
            jsonError(
              dev500
                ? { errorMessage: err.message, errorTrace: '#0 {main}' }
                : { errorMessage: 'Unexpected error, check log for details' },
            ),
            'application/json;charset=utf-8',
          );
        }
      }
    };
    if (method === 'POST') {
      const next = writeChain.then(run, run);
      writeChain = next.catch(() => undefined);
      await next;
    } else await run();
  };

  const server = useTls && certificate
    ? createHttpsServer({ cert: certificate.certPem, key: certificate.keyPem }, (req, res) => {
        handle(req, res).catch(() => {
          if (!res.headersSent) res.writeHead(500);
          res.end();
        });
      })
    : createHttpServer((req, res) => {
        handle(req, res).catch(() => {
          if (!res.headersSent) res.writeHead(500);
          res.end();
        });
      });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  const first = box.keys[0] as StoredKey;

  const api: OpnsenseEmulator = {
    url: `${useTls ? 'https' : 'http'}://${urlHost}:${port}`,
    port,
    fingerprint: certificate?.fingerprint256 ?? '',
    caPem: certificate?.certPem ?? '',
    credentials: { key: first.key, secret: first.secret },
    version,
    close: () =>
      new Promise<void>((resolve) => {
        clearInterval(ticker);
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
    state: () => ({ ...structuredClone(box), now: now() }),
    advance: (ms: number) => {
      if (!Number.isFinite(ms) || ms < 0) throw new Error('ms must be a non-negative number');
      clockOffset += ms;
      tick();
    },
    now,
    reboot: () => {
      boot();
    },
    restartFirewall: () => {
      filterReload(true);
    },
    fault: (spec: FaultSpec) => {
      faults.push({ ...spec, times: spec.times ?? 1 });
    },
    clearFaults: () => {
      faults.length = 0;
    },
    requests: () => structuredClone(log),
    clearRequests: () => {
      log.length = 0;
    },
    setStates: (states) => {
      box.states = states.map((s) => newState(++stateSeq, s, box.interfaces.map((i) => i.device)));
    },
    addKey: (spec: OpnKeySpec) => {
      const [k] = keysFrom([{ ...spec, user: spec.user ?? `api${box.keys.length}` }]);
      box.keys.push(k as StoredKey);
      persist();
    },
    addLog: (rows) => {
      box.firewallLog.push(...rows.map((r, i) => ({ __digest__: randomBytes(8).toString('hex'), __seq__: i, ...r })));
    },
    addAlerts: (rows) => {
      box.idsAlerts.push(...rows);
    },
  };
  return api;
}
