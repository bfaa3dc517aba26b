/**
 * @module The RouterOS v7 REST emulator (docs/reference/routeros-api.md): `www-ssl` (HTTPS, self-signed) or
 * `www` (plain http) serving `/rest/...` only, HTTP Basic users with group policies, one request processed at a
 * time with a per-request deadline, the vendor's error shapes, and test hooks under `/__emulator/`.
 *
 * Pipeline per request: non-`/rest` path → WebFig HTML page; otherwise queue behind the request being processed
 * → latency → fault → auth (401) → path (400 `no such command or directory`) → policy (500) → verb.
 */
import { randomBytes } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { generateCertificate } from '../tls.ts';
import { badRequest, noSuchCommand, notAcceptable, RosError } from './errors.ts';
import { handleHook } from './hooks.ts';
import { COMMANDS, formatDateTime, KNOWN_PATHS, MENU_BY_PATH, type MenuSpec, SINGLETONS } from './menus.ts';
import { exactFilter, parsePropList, proplist, queryFilter } from './query.ts';
import { idText, type Printed, Router } from './state.ts';
import type { FaultSpec, FirewallLogPacket, RequestRecord, RosUser, RouterOsEmulator, RouterOsEmulatorOptions } from './types.ts';

const MAX_LOGGED_REQUESTS = 10_000;
export const FULL_POLICIES = [
  'local', 'telnet', 'ssh', 'ftp', 'reboot', 'read', 'write', 'policy', 'test', 'winbox', 'password', 'web',
  'sniff', 'sensitive', 'api', 'romon', 'rest-api',
];

const WEBFIG_PAGE =
  '<!doctype html>\n<html><head><title>RouterOS router configuration page</title></head>\n' +
  '<body><h1>RouterOS v7</h1><p>You have connected to a router. Administrative access only.</p>' +
  '<p><a href="/webfig/">Webfig</a></p></body></html>\n';

const NOT_PERMITTED = new RosError(500, 'not enough permissions (9)');

interface Reply {
  status: number;
  /** undefined: empty body (204). */
  value?: unknown;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function basicUser(req: IncomingMessage): { name: string; password: string } | null {
  const header = req.headers.authorization;
  if (header === undefined || !/^basic /i.test(header)) return null;
  const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return null;
  return { name: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

function idList(value: unknown): string[] {
  if (Array.isArray(value)) return value.map(String);
  if (typeof value === 'string') return value.split(',').map((s) => s.trim()).filter((s) => s !== '');
  return [];
}

/** `prefix chain: in:ether1 out:(unknown 0), connection-state:new proto TCP (SYN), a:1->b:2, len 60`. */
function firewallMessage(p: FirewallLogPacket): string {
  const head = `${p.prefix !== undefined && p.prefix !== '' ? `${p.prefix} ` : ''}${p.chain}: `;
  const ifaces = `in:${p.inInterface ?? '(unknown 0)'} out:${p.outInterface ?? '(unknown 0)'}`;
  const state = p.connectionState !== undefined ? `, connection-state:${p.connectionState}` : '';
  const proto = `proto ${p.proto}${p.flags !== undefined ? ` (${p.flags})` : ''}`;
  return `${head}${ifaces}${state} ${proto}, ${p.src}->${p.dst}, len ${p.len ?? 60}`;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Which menu/singleton/command a path names, and the words after it; 400 on an unknown word. */
function resolvePath(segments: string[]): { path: string; rest: string[] } {
  for (let i = segments.length; i > 0; i--) {
    const path = segments.slice(0, i).join('/');
    if (KNOWN_PATHS.includes(path)) return { path, rest: segments.slice(i) };
  }
  for (let i = 0; i < segments.length; i++) {
    const prefix = `${segments.slice(0, i + 1).join('/')}/`;
    if (!KNOWN_PATHS.some((p) => p.startsWith(prefix))) throw noSuchCommand(segments[i] ?? '');
  }
  // A directory, not a menu (e.g. `/rest/ip`).
  throw noSuchCommand(segments.at(-1) ?? 'rest');
}

export async function startRouterOsEmulator(opts: RouterOsEmulatorOptions = {}): Promise<RouterOsEmulator> {
  const useTls = opts.tls ?? true;
  const certificate = useTls ? (opts.certificate ?? (await generateCertificate())) : null;
  const users = new Map<string, RosUser>();
  for (const u of opts.users ?? [{ name: 'admin', password: randomBytes(9).toString('base64url') }]) users.set(u.name, u);
  const first = [...users.values()][0];
  if (first === undefined) throw new Error('at least one user is needed');
  const latencyMs = opts.latencyMs ?? 0;
  const deadlineMs = opts.requestDeadlineMs ?? 60_000;
  const putStatus = opts.putStatus ?? 201;
  const rebootDowntimeMs = opts.rebootDowntimeMs ?? 0;
  const router = new Router({
    version: opts.version ?? '7.16.2 (stable)',
    boardName: opts.boardName ?? 'CCR2004-1G-12S+2XS',
    identity: opts.identity ?? 'MikroTik',
    dynamicFilterRule: opts.dynamicFilterRule ?? true,
    wallClock: opts.now ?? Date.now,
    ...(opts.stateFile !== undefined ? { stateFile: opts.stateFile } : {}),
  });
  router.persist();

  const faults: Array<FaultSpec & { times: number }> = [];
  const log: RequestRecord[] = [];
  let seq = 0;
  let inFlight = 0;
  let maxInFlight = 0;
  let queue: Promise<void> = Promise.resolve();
  let downUntil = 0;
  const sockets = new Set<Socket>();

  const takeFault = (method: string, path: string): (FaultSpec & { times: number }) | null => {
    const index = faults.findIndex(
      (f) => (f.path === undefined || path.startsWith(f.path)) && (f.method === undefined || f.method.toUpperCase() === method),
    );
    if (index < 0) return null;
    const fault = faults[index] as FaultSpec & { times: number };
    fault.times--;
    if (fault.times <= 0) faults.splice(index, 1);
    return fault;
  };

  /** A reboot; `down` (the REST command) also takes the service away for `rebootDowntimeMs`. */
  const doReboot = (down: boolean): void => {
    router.reboot();
    router.persist();
    if (down && rebootDowntimeMs > 0) downUntil = Date.now() + rebootDowntimeMs;
  };

  const requirePolicy = (user: RosUser, policy: string): void => {
    const policies = user.policies ?? FULL_POLICIES;
    if (!policies.includes(policy)) throw NOT_PERMITTED;
  };

  const printRows = (menu: MenuSpec, filters: Array<[string, string]>, props: string[] | undefined, words?: unknown) =>
    proplist(queryFilter(exactFilter(router.rows(menu), filters), words), props);

  const tableVerb = (menu: MenuSpec, method: string, rest: string[], body: Record<string, unknown>, url: URL, user: RosUser): Reply => {
    const one = (row: Parameters<Router['print']>[1]) => router.print(menu, row);
    switch (method) {
      case 'GET': {
        requirePolicy(user, 'read');
        if (rest.length > 1) throw noSuchCommand(rest[1] ?? '');
        const props = parsePropList(url.searchParams.get('.proplist') ?? undefined);
        if (rest.length === 1) return { status: 200, value: proplist([one(router.find(menu, rest[0] ?? ''))], props)[0] };
        const filters = [...url.searchParams.entries()].filter(([k]) => k !== '.proplist');
        return { status: 200, value: printRows(menu, filters, props) };
      }
      case 'PUT': {
        if (rest.length > 0) throw noSuchCommand(rest[0] ?? '');
        if (!menu.add) throw notAcceptable('add');
        requirePolicy(user, 'write');
        return { status: putStatus, value: one(router.add(menu, body)) };
      }
      case 'PATCH': {
        if (rest.length !== 1) throw noSuchCommand(rest[1] ?? 'set');
        if (!menu.set) throw notAcceptable('set');
        requirePolicy(user, 'write');
        return { status: 200, value: one(router.set(menu, rest[0] ?? '', body)) };
      }
      case 'DELETE': {
        if (rest.length !== 1) throw noSuchCommand(rest[1] ?? 'remove');
        if (!menu.remove) throw notAcceptable('remove');
        requirePolicy(user, 'write');
        router.remove(menu, [rest[0] ?? '']);
        return { status: 204 };
      }
      case 'POST': {
        if (rest.length !== 1) throw noSuchCommand(rest[1] ?? menu.path.split('/').at(-1) ?? '');
        const command = rest[0] ?? '';
        if (command === 'print') {
          requirePolicy(user, 'read');
          const { '.proplist': props, '.query': words, ...others } = body;
          for (const key of Object.keys(others)) {
            if (!['detail', 'without-paging', 'terse', 'show-ids'].includes(key)) throw badRequest(`unknown parameter ${key}`);
          }
          return { status: 200, value: printRows(menu, [], parsePropList(props), words) };
        }
        if (!['add', 'set', 'remove', 'move'].includes(command)) throw noSuchCommand(command);
        if (!(menu as unknown as Record<string, boolean>)[command]) throw noSuchCommand(command);
        requirePolicy(user, 'write');
        const { '.id': dotId, numbers, destination, ...values } = body;
        const refs = idList(numbers ?? dotId);
        switch (command) {
          case 'add':
            return { status: 200, value: { ret: idText(router.add(menu, values).id) } };
          case 'set':
            if (refs.length === 0) throw badRequest('missing value(s) of argument(s) numbers');
            for (const ref of refs) router.set(menu, ref, values);
            return { status: 200, value: [] };
          case 'remove':
            if (refs.length === 0) throw badRequest('missing value(s) of argument(s) numbers');
            if (Object.keys(values).length > 0) throw badRequest(`unknown parameter ${Object.keys(values)[0]}`);
            router.remove(menu, refs);
            return { status: 200, value: [] };
          default: {
            if (!menu.move) throw noSuchCommand('move');
            // `{".id": A, ".id": B}` (the doc's example) reaches us as one `.id`: the last one wins in JSON.
            if (refs.length === 0) throw badRequest('missing value(s) of argument(s) numbers');
            if (Object.keys(values).length > 0) throw badRequest(`unknown parameter ${Object.keys(values)[0]}`);
            router.move(menu, refs, typeof destination === 'string' ? destination : undefined);
            return { status: 200, value: [] };
          }
        }
      }
      default:
        throw badRequest('unsupported method');
    }
  };

  const singletonVerb = (path: string, method: string, rest: string[], body: Record<string, unknown>, url: URL, user: RosUser): Reply => {
    const read = (): Printed =>
      path === 'system/resource' ? router.resource() : path === 'system/identity' ? { name: router.state.identity } : router.routerboard();
    if (method === 'GET' && rest.length === 0) {
      requirePolicy(user, 'read');
      return { status: 200, value: proplist([read()], parsePropList(url.searchParams.get('.proplist') ?? undefined))[0] };
    }
    if (method === 'POST' && rest.length === 1 && rest[0] === 'print') {
      requirePolicy(user, 'read');
      return { status: 200, value: [proplist([read()], parsePropList(body['.proplist']))[0]] };
    }
    if (method === 'POST' && rest.length === 1 && rest[0] === 'set' && path === 'system/identity') {
      requirePolicy(user, 'write');
      router.setIdentity(body);
      return { status: 200, value: [] };
    }
    if (rest.length === 0 && method !== 'GET' && method !== 'POST')
      throw notAcceptable(method === 'PUT' ? 'add' : method === 'DELETE' ? 'remove' : 'set');
    throw noSuchCommand(rest[0] ?? path.split('/').at(-1) ?? '');
  };

  const dispatch = (method: string, url: URL, body: Record<string, unknown>, user: RosUser): Reply => {
    const segments = url.pathname.slice('/rest'.length).split('/').filter((s) => s !== '').map(decodeURIComponent);
    if (segments.length === 0) throw noSuchCommand('rest');
    const { path, rest } = resolvePath(segments);
    const menu = MENU_BY_PATH.get(path);
    if (menu !== undefined) return tableVerb(menu, method, rest, body, url, user);
    if ((SINGLETONS as readonly string[]).includes(path)) return singletonVerb(path, method, rest, body, url, user);
    if ((COMMANDS as readonly string[]).includes(path) && method === 'POST' && rest.length === 0) {
      requirePolicy(user, 'reboot');
      // The reply goes out first; the router goes down right after.
      setImmediate(() => doReboot(true));
      return { status: 200, value: [] };
    }
    throw noSuchCommand(rest[0] ?? path.split('/').at(-1) ?? '');
  };

  const send = (res: ServerResponse, record: RequestRecord, reply: Reply, fault: FaultSpec | null): void => {
    if (res.headersSent || res.destroyed) return;
    record.status = reply.status;
    if (reply.value === undefined) {
      res.writeHead(reply.status);
      res.end();
      return;
    }
    let text = JSON.stringify(reply.value);
    if (fault?.kind === 'control-chars') text = text.replace('":"', '":"\u001b[1m');
    res.writeHead(reply.status, { 'content-type': 'application/json' });
    res.end(text);
  };

  const sendError = (res: ServerResponse, record: RequestRecord, err: RosError): void =>
    send(res, record, { status: err.status, value: err.body() }, null);

  const handle = async (req: IncomingMessage, res: ServerResponse, url: URL, bodyText: string, record: RequestRecord) => {
    if (res.destroyed || res.headersSent) return;
    if (latencyMs > 0) await sleep(latencyMs);
    const method = record.method;
    const fault = takeFault(method, url.pathname.slice('/rest'.length));
    record.fault = fault?.kind ?? null;
    switch (fault?.kind) {
      case 'hang':
        return;
      case 'drop':
        req.socket.destroy();
        return;
      case 'slow':
        await sleep(fault.ms ?? 1000);
        break;
      case 'html':
        record.status = 200;
        res.writeHead(200, { 'content-type': 'text/html' });
        res.end(WEBFIG_PAGE);
        return;
      case 'bad-json':
        record.status = 200;
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('[{".id":"*1","address":');
        return;
      case 'session-closed':
        sendError(res, record, badRequest('Session closed'));
        return;
      case 'status': {
        const status = fault.status ?? 500;
        sendError(res, record, fault.detail === undefined ? new RosError(status) : new RosError(status, fault.detail));
        return;
      }
      case 'raw':
        record.status = fault.status ?? 200;
        res.writeHead(record.status, { 'content-type': fault.contentType ?? 'application/json' });
        res.end(fault.body ?? '');
        return;
      case 'control-chars':
      case undefined:
        break;
    }
    if (res.destroyed || res.headersSent) return;
    const creds = basicUser(req);
    const user = creds === null ? undefined : users.get(creds.name);
    if (user === undefined || creds === null || user.password !== creds.password) {
      sendError(res, record, new RosError(401));
      return;
    }
    if (!(user.policies ?? FULL_POLICIES).includes('rest-api')) {
      sendError(res, record, new RosError(401));
      return;
    }
    try {
      let body: Record<string, unknown> = {};
      if (bodyText.trim() !== '' && method !== 'GET' && method !== 'DELETE') {
        let parsed: unknown;
        try {
          parsed = JSON.parse(bodyText);
        } catch {
          throw badRequest('JSON parse error');
        }
        if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw badRequest('JSON object expected');
        body = parsed as Record<string, unknown>;
      }
      const reply = dispatch(method, url, body, user);
      if (method !== 'GET' && !(method === 'POST' && url.pathname.endsWith('/print'))) router.persist();
      send(res, record, reply, fault);
    } catch (err) {
      if (err instanceof RosError) sendError(res, record, err);
      else sendError(res, record, new RosError(500, (err as Error).message));
    }
  };

  const hookApi: { api?: RouterOsEmulator } = {};

  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    const url = new URL(req.url ?? '/', 'http://router');
    if (url.pathname.startsWith('/__emulator/')) {
      readBody(req).then(
        (body) => handleHook(req, res, url.pathname, body, hookApi.api as RouterOsEmulator),
        () => res.destroy(),
      );
      return;
    }
    if (Date.now() < downUntil) {
      req.socket.destroy();
      return;
    }
    if (url.pathname !== '/rest' && !url.pathname.startsWith('/rest/')) {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(WEBFIG_PAGE);
      return;
    }
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    let open = true;
    const done = () => {
      if (open) inFlight--;
      open = false;
    };
    res.on('close', done);
    res.on('finish', done);
    const creds = basicUser(req);
    const record: RequestRecord = {
      seq: ++seq,
      time: new Date(router.now()).toISOString(),
      method: (req.method ?? 'GET').toUpperCase(),
      path: url.pathname,
      query: url.search.slice(1),
      user: creds?.name ?? null,
      body: null,
      status: null,
      fault: null,
      inFlightAtArrival: inFlight,
    };
    log.push(record);
    if (log.length > MAX_LOGGED_REQUESTS) log.splice(0, log.length - MAX_LOGGED_REQUESTS);
    const deadline = setTimeout(() => {
      if (record.fault === 'hang') return;
      sendError(res, record, badRequest('Session closed'));
    }, deadlineMs);
    res.on('close', () => clearTimeout(deadline));
    const bodyPromise = readBody(req);
    queue = queue.then(async () => {
      try {
        const bodyText = await bodyPromise;
        try {
          record.body = bodyText === '' ? null : JSON.parse(bodyText);
        } catch {
          record.body = bodyText;
        }
        await handle(req, res, url, bodyText, record);
      } catch {
        if (!res.headersSent) res.destroy();
      }
    });
  };

  const server: Server = certificate
    ? createHttpsServer({ cert: certificate.certPem, key: certificate.keyPem }, onRequest)
    : createHttpServer(onRequest);
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const host = opts.host ?? '127.0.0.1';
  const urlHost = host.includes(':') ? `[${host}]` : host;

  const api: RouterOsEmulator = {
    url: `${useTls ? 'https' : 'http'}://${urlHost}:${port}`,
    port,
    fingerprint: certificate?.fingerprint256 ?? null,
    caPem: certificate?.certPem ?? null,
    credentials: { username: first.name, password: first.password },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
    state: () => router.snapshot(),
    advance: (ms) => router.advance(ms),
    reboot: () => doReboot(false),
    fault: (fault) => {
      faults.push({ ...fault, times: fault.times ?? 1 });
    },
    clearFaults: () => {
      faults.length = 0;
    },
    requests: () => structuredClone(log),
    clearRequests: () => {
      log.length = 0;
    },
    maxInFlight: () => maxInFlight,
    resetMaxInFlight: () => {
      maxInFlight = inFlight;
    },
    addConnection: (conn) => {
      const withPort = (a: string, p: number) => (/:\d+$/.test(a) && !a.includes('::') ? a : `${a}:${p}`);
      const src = withPort(conn.srcAddress, 40000 + (seq % 20000));
      const dst = withPort(conn.dstAddress ?? '203.0.113.2:443', 443);
      return router.addRuntimeRow('ip/firewall/connection', {
        'src-address': src,
        'dst-address': dst,
        'reply-src-address': dst,
        'reply-dst-address': src,
        protocol: conn.protocol ?? 'tcp',
        ...((conn.protocol ?? 'tcp') === 'tcp' ? { 'tcp-state': conn.tcpState ?? 'established' } : {}),
        timeout: conn.timeout ?? '23h59m59s',
      });
    },
    addLog: (line) => {
      const message = line.firewall !== undefined ? firewallMessage(line.firewall) : line.message;
      if (message === undefined) throw new Error('a log line needs a message or a firewall packet');
      return router.addRuntimeRow('log', {
        time: formatDateTime(router.now()),
        topics: line.topics ?? (line.firewall !== undefined ? 'firewall,info' : 'system,info'),
        message,
      });
    },
    setCounters: (menu, id, values) => router.setCounters(menu, id, values),
    addUser: (user) => {
      users.set(user.name, user);
    },
    addDynamicRule: (menu, values) => router.addDynamicRule(menu, values),
  };
  hookApi.api = api;
  return api;
}
