/**
 * @module The OpenWrt emulator's HTTP side: uhttpd-mod-ubus's legacy `POST /ubus` JSON-RPC 2.0 endpoint
 * (docs/reference/openwrt-api.md §1, §2) over HTTPS or plain HTTP, batches, the 64 KiB body cap, the
 * JSON-RPC error table, faults, the request log and the `/__emulator/` test hooks.
 */
import { randomBytes } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { generateCertificate } from '../tls.ts';
import { DEFAULT_GROUPS, type EmulatorUser } from './acl.ts';
import { NULL_SID, OpenWrtBox, type UbusReply } from './box.ts';
import { EmulatorClock } from './clock.ts';
import { handleHook } from './hooks.ts';
import type { ExecResult } from './nft.ts';
import {
  type FaultSpec,
  type OpenWrtEmulator,
  type OpenWrtEmulatorOptions,
  type OpenWrtRelease,
  type RequestRecord,
  type UbusCallRecord,
} from './types.ts';

/** uhttpd ubus.c `UH_UBUS_MAX_POST_SIZE`. */
export const MAX_POST_SIZE = 65_536;

/** uhttpd ubus.c `json_errors`. */
export const JSON_RPC_ERRORS = {
  parse: [-32700, 'Parse error'],
  request: [-32600, 'Invalid request'],
  method: [-32601, 'Method not found'],
  params: [-32602, 'Invalid parameters'],
  internal: [-32603, 'Internal error'],
  object: [-32000, 'Object not found'],
  session: [-32001, 'Session not found'],
  access: [-32002, 'Access denied'],
  timeout: [-32003, 'ubus request timed out'],
} as const;
type RpcError = keyof typeof JSON_RPC_ERRORS;

export const DEFAULT_RELEASE: OpenWrtRelease = {
  distribution: 'OpenWrt',
  version: '23.05.5',
  revision: 'r24106-10cc5fcd00',
  target: 'x86/64',
  description: 'OpenWrt 23.05.5 r24106-10cc5fcd00',
  builddate: '1727004870',
};

const MAX_LOGGED = 10_000;
const HTML_404 = '<h1>404 Not Found</h1>\nThe requested URL was not found on this server.\n';

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

const redact = (args: unknown): unknown => {
  if (!args || typeof args !== 'object' || Array.isArray(args)) return args;
  const out = { ...(args as Record<string, unknown>) };
  if ('password' in out) out.password = '***';
  return out;
};

const sidLabel = (sid: unknown): string | null =>
  typeof sid !== 'string' ? null : sid === NULL_SID ? NULL_SID : `${sid.slice(0, 8)}…`;

export async function startOpenWrtEmulator(opts: OpenWrtEmulatorOptions = {}): Promise<OpenWrtEmulator> {
  const useTls = opts.tls ?? true;
  const certificate = useTls ? (opts.certificate ?? (await generateCertificate({ commonName: 'OpenWrt' }))) : null;
  const clock = new EmulatorClock(opts.clock ?? 'real');
  const users: EmulatorUser[] = opts.users ?? [
    { username: 'root', password: randomBytes(9).toString('base64url'), read: ['*'], write: ['*'] },
    { username: 'portcullis', password: randomBytes(9).toString('base64url'), read: ['portcullis'], write: ['portcullis'] },
  ];
  if (users.length === 0) throw new Error('users must hold at least one login');
  const faults: Array<FaultSpec & { times: number }> = [];
  const log: RequestRecord[] = [];
  let seq = 0;

  const takeFault = (
    kinds: FaultSpec['kind'][],
    call: { object?: string | null; method?: string | null; command?: string },
  ): FaultSpec | null => {
    const i = faults.findIndex(
      (f) =>
        kinds.includes(f.kind) &&
        (f.object === undefined || f.object === call.object) &&
        (f.method === undefined || f.method === call.method) &&
        (f.command === undefined || f.command === call.command),
    );
    if (i < 0) return null;
    const f = faults[i] as FaultSpec & { times: number };
    if (--f.times <= 0) faults.splice(i, 1);
    return f;
  };

  const box = new OpenWrtBox({
    users,
    groups: { ...DEFAULT_GROUPS, ...(opts.aclGroups ?? {}) },
    sessionTimeoutS: opts.sessionTimeoutS ?? 300,
    reloadDelayMs: opts.reloadDelayMs ?? 100,
    release: { ...DEFAULT_RELEASE, ...(opts.release ?? {}) },
    ...(opts.stateFile !== undefined ? { stateFile: opts.stateFile } : {}),
    ...(opts.config !== undefined ? { config: opts.config } : {}),
    clock,
    execFault: (command: string): ExecResult | null => {
      const f = takeFault(['exec-fail'], { object: 'file', method: 'exec', command });
      return f ? { code: f.status ?? 1, stdout: '', stderr: f.body ?? 'Error: injected failure\n' } : null;
    },
  });

  /** One JSON-RPC object → one response object (ubus.c uh_ubus_handle_request_object). */
  const handleObject = (obj: unknown, calls: UbusCallRecord[]): Record<string, unknown> => {
    const id = obj && typeof obj === 'object' && !Array.isArray(obj) && 'id' in obj ? obj.id : null;
    const record: UbusCallRecord = { rpc: '', object: null, method: null, session: null, args: null, outcome: null };
    calls.push(record);
    const error = (e: RpcError): Record<string, unknown> => {
      const [code, message] = JSON_RPC_ERRORS[e];
      record.outcome = code;
      return { jsonrpc: '2.0', id, error: { code, message } };
    };
    if (!obj || typeof obj !== 'object' || Array.isArray(obj)) return { ...error('parse'), id: null };
    const o = obj as Record<string, unknown>;
    if (o.jsonrpc !== '2.0' || typeof o.method !== 'string') return error('parse');
    record.rpc = o.method;
    if (o.method === 'list') {
      record.outcome = 0;
      const names = Object.keys(box.objects).sort();
      if (!Array.isArray(o.params)) return { jsonrpc: '2.0', id, result: names };
      const result: Record<string, unknown> = {};
      for (const pattern of o.params)
        for (const n of names)
          if (typeof pattern === 'string' && (pattern === n || (pattern.endsWith('*') && n.startsWith(pattern.slice(0, -1)))))
            result[n] = Object.fromEntries(Object.keys(box.objects[n] ?? {}).map((m) => [m, {}]));
      return { jsonrpc: '2.0', id, result };
    }
    if (o.method !== 'call') return error('method');
    const p: unknown[] = Array.isArray(o.params) ? (o.params as unknown[]) : [];
    const [sid, object, method, args] = p;
    if (
      typeof sid !== 'string' ||
      typeof object !== 'string' ||
      typeof method !== 'string' ||
      !args ||
      typeof args !== 'object' ||
      Array.isArray(args)
    )
      return error('parse');
    record.object = object;
    record.method = method;
    record.session = sidLabel(sid);
    record.args = redact(args);
    const handlers = box.objects[object];
    if (!handlers) return error('object');
    if (takeFault(['session-expire'], { object, method })) box.expireAllSessions();
    if (!box.ubusAllowed(sid, object, method)) return error('access');
    if ('ubus_rpc_session' in args) return error('params');
    if (takeFault(['ubus-timeout'], { object, method })) return error('timeout');
    const forced = takeFault(['ubus-status'], { object, method });
    let reply: UbusReply;
    if (forced) reply = { status: forced.status ?? 9 };
    else {
      const handler = handlers[method];
      reply = handler ? handler(sid, args as Record<string, unknown>) : { status: 3 };
    }
    record.outcome = reply.status;
    const result: unknown[] = [reply.status];
    if (reply.data && Object.keys(reply.data).length > 0) result.push(reply.data);
    return { jsonrpc: '2.0', id, result };
  };

  const sockets = new Set<Socket>();

  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://emulator');
      const body = await readBody(req);
      if (url.pathname.startsWith('/__emulator/')) {
        handleHook(req, res, url, body.toString('utf8'), api);
        return;
      }
      const record: RequestRecord = {
        seq: ++seq,
        time: new Date(clock.now()).toISOString(),
        method: req.method ?? '',
        path: url.pathname,
        bytes: body.length,
        calls: [],
        status: null,
        fault: null,
      };
      log.push(record);
      if (log.length > MAX_LOGGED) log.splice(0, log.length - MAX_LOGGED);
      clock.runDue();

      const send = (status: number, text: string, type = 'application/json', close = false): void => {
        record.status = status;
        res.writeHead(status, {
          'content-type': type,
          ...(close ? { connection: 'close' } : {}),
        });
        res.end(text);
      };

      const legacy = url.pathname === '/ubus' || url.pathname === '/ubus/';
      if (!legacy || req.method !== 'POST') {
        if (url.pathname.startsWith('/ubus') && req.method === 'POST') return send(404, '', 'text/plain');
        return send(404, HTML_404, 'text/html');
      }

      let firstCall: { object?: string; method?: string } = {};
      let parsed: unknown;
      let parseOk = body.length <= MAX_POST_SIZE;
      if (parseOk) {
        try {
          parsed = JSON.parse(body.toString('utf8'));
        } catch {
          parseOk = false;
        }
      }
      const first: unknown = Array.isArray(parsed) ? (parsed as unknown[])[0] : parsed;
      if (first && typeof first === 'object' && Array.isArray((first as { params?: unknown }).params)) {
        const ps = (first as { params: unknown[] }).params;
        firstCall = {
          ...(typeof ps[1] === 'string' ? { object: ps[1] } : {}),
          ...(typeof ps[2] === 'string' ? { method: ps[2] } : {}),
        };
      }
      const httpFault = takeFault(['status', 'hang', 'drop', 'bad-body'], firstCall);
      if (httpFault) {
        record.fault = httpFault.kind;
        if (httpFault.kind === 'hang') return; // never answers; close() destroys the socket
        if (httpFault.kind === 'drop') {
          req.socket.destroy();
          return;
        }
        if (httpFault.kind === 'status')
          return send(httpFault.status ?? 502, `<h1>${httpFault.status ?? 502} Bad Gateway</h1>\n`, 'text/html');
        return send(200, httpFault.body ?? '<html><body>uhttpd: internal error</body></html>', 'text/html');
      }

      if (!parseOk || parsed === null || typeof parsed !== 'object') {
        const [code, message] = JSON_RPC_ERRORS.parse;
        record.calls.push({ rpc: '', object: null, method: null, session: null, args: null, outcome: code });
        return send(200, JSON.stringify({ jsonrpc: '2.0', id: null, error: { code, message } }), 'application/json', body.length > MAX_POST_SIZE);
      }
      const out = Array.isArray(parsed)
        ? parsed.map((o) => handleObject(o, record.calls))
        : handleObject(parsed, record.calls);
      send(200, JSON.stringify(out));
    })().catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(String(err));
    });
  };

  const server: Server = certificate
    ? createHttpsServer({ cert: certificate.certPem, key: certificate.keyPem }, handler)
    : createHttpServer(handler);
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
  const hostPart = host.includes(':') ? `[${host}]` : host;
  const first = users[0] as EmulatorUser;

  const api: OpenWrtEmulator = {
    url: `${certificate ? 'https' : 'http'}://${hostPart}:${port}`,
    port,
    fingerprint: certificate?.fingerprint256 ?? null,
    caPem: certificate?.certPem ?? null,
    credentials: { username: first.username, password: first.password },
    users,
    close: async () => {
      clock.clear();
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
    state: () => box.snapshot(),
    advance: (ms) => clock.advance(ms),
    reboot: () => box.reboot(),
    restartFirewall: () => box.restartFirewall(),
    reloadFirewall: () => box.reloadFirewall(),
    fault: (spec) => {
      faults.push({ ...spec, times: spec.times ?? 1 });
    },
    clearFaults: () => {
      faults.length = 0;
    },
    requests: () => structuredClone(log),
    clearRequests: () => {
      log.length = 0;
    },
    addConnection: (c) => {
      box.connections.push({ ...c });
    },
    addLog: (message, facility = 'daemon') => box.syslog(facility, 'info', message),
  };
  return api;
}
