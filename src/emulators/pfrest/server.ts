/**
 * @module The pfRest v2 emulator: an HTTPS server on loopback that answers like pfSense with the pfRest package
 * (docs/reference/pfrest-contract.md), plus test hooks under `/__emulator/` (state, request log, reset, faults, keys, states).
 *
 * Request pipeline in pfRest's order (§3): nginx 404 for unknown paths → API enabled (503) → auth (401/403) →
 * Accept (406) → method (405) → decode (415/400) → control parameters → model operation.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { generateCertificate } from '../tls.ts';
import { authKind, authorize } from './auth.ts';
import { Collection, type CollectionModel, type WriteEffects } from './collection.ts';
import { checkAccept, decodeRequest, type RequestData } from './decode.ts';
import { dnsDhcpEndpoints } from './areas/dns-dhcp.ts';
import { interfaceEndpoints } from './areas/interfaces.ts';
import { LIVE_KEYS } from './areas/live.ts';
import { natEndpoints } from './areas/nat.ts';
import { routingEndpoints } from './areas/routing.ts';
import { statusEndpoints } from './areas/status.ts';
import type { AreaContext, Caller, Endpoint } from './endpoint.ts';
import { type Envelope, errorEnvelope, PfRestError, phpJsonEncode, successEnvelope } from './envelope.ts';
import { handleHook } from './hooks.ts';
import {
  ALIAS_FIELDS,
  aliasRepresentation,
  RULE_FIELDS,
  ruleRepresentation,
  validateAlias,
  validateRule,
} from './models.ts';
import { extractControls, readList, valueText } from './query.ts';
import {
  type EmulatorKey,
  initialState,
  keyHash,
  loadState,
  type PfRestState,
  type StoredAlias,
  type StoredRule,
  SUBSYSTEMS,
  saveState,
  sha256Hex,
  signJwt,
} from './state.ts';
import type { FaultSpec, PfRestEmulator, PfRestEmulatorOptions, RequestRecord } from './types.ts';
import {
  computeTables,
  DEFAULT_MAXIMUM_STATES,
  INTERFACE_STATS_FIELDS,
  interfaceStats,
  KEY_FIELDS,
  keyRepresentation,
  STATE_FIELDS,
  stateIp,
} from './views.ts';

const MAX_LOGGED_REQUESTS = 10_000;

const NGINX_404 =
  '<html>\r\n<head><title>404 Not Found</title></head>\r\n<body>\r\n<center><h1>404 Not Found</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n';

const FAULT_STATUS_IDS: Record<number, [string, string]> = {
  400: ['FIELD_INVALID_TYPE', 'Injected validation failure.'],
  401: ['AUTH_AUTHENTICATION_FAILED', 'Authentication failed.'],
  403: [
    'AUTH_AUTHORIZATION_FAILED',
    'Authorization failed. You do not have sufficient privileges to access this resource.',
  ],
  404: ['MODEL_OBJECT_NOT_FOUND', 'Object with ID `0` does not exist.'],
  409: [
    'MODEL_CANNOT_BE_DELETED_WHILE_REFERENCED',
    'Object cannot be deleted because it is referenced by another existing object.',
  ],
  500: ['ENDPOINT_RECEIVED_UNEXPECTED_ERROR', 'Injected failure\n#0 {main}'],
  503: ['MODEL_WRITE_CONFIG_LOCKED', 'Config write lock could not be obtained.'],
};

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export async function startPfRestEmulator(opts: PfRestEmulatorOptions = {}): Promise<PfRestEmulator> {
  const certificate = opts.certificate ?? (await generateCertificate());
  const applyDelayMs = opts.applyDelayMs ?? 0;
  const apiKey = opts.apiKey ?? randomBytes(24).toString('hex');
  let box: PfRestState = (opts.stateFile ? loadState(opts.stateFile) : null) ?? initialState();
  const log: RequestRecord[] = [];
  const faults: Array<Required<Pick<FaultSpec, 'kind' | 'times'>> & FaultSpec> = [];
  const sockets = new Set<Socket>();
  let reloadsInFlight = 0;
  /** Pending reload completions, cancelled by close(). */
  const reloadTimers = new Set<NodeJS.Timeout>();
  let keySeq = 0;
  let requestSeq = 0;

  const ensureKey = (key: string, username: string): void => {
    const hash = sha256Hex(key);
    if (!box.keys.some((k) => k.hash === hash))
      box.keys.push({ hash, username, descr: 'portcullis lab key' });
  };
  ensureKey(apiKey, 'admin');

  const persist = (): void => {
    if (opts.stateFile) saveState(opts.stateFile, box);
  };
  persist();

  /**
   * A filter reload (`filter_configure[_sync]`): reads the configuration when it starts, loads it when it ends,
   * then clears every filter subsystem flag — including flags a write set meanwhile (pfSense's real race).
   */
  const reload = (sync: boolean): Promise<void> => {
    if (reloadsInFlight >= 10) {
      throw new PfRestError(
        503,
        'DISPATCHER_TOO_MANY_QUEUED_PROCESSES',
        'Too many queued processes. Try again later.',
        {
          headers: { 'retry-after': '300' },
        },
      );
    }
    const snapshot = structuredClone(box.aliases);
    const finish = (): void => {
      box.tables = computeTables(snapshot);
      box.pending = box.pending.filter((s) => !(SUBSYSTEMS as readonly string[]).includes(s));
      reloadsInFlight--;
      persist();
    };
    reloadsInFlight++;
    if (applyDelayMs === 0) {
      finish();
      return Promise.resolve();
    }
    const done = new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        reloadTimers.delete(timer);
        finish();
        resolve();
      }, applyDelayMs);
      reloadTimers.add(timer);
    });
    return sync ? done : Promise.resolve();
  };

  const effects: WriteEffects = {
    markDirty(subsystem) {
      if (!box.pending.includes(subsystem)) box.pending.push(subsystem);
    },
    async apply(subsystem, async) {
      await reload(!async);
      // The model clears its own flag right after starting the apply (§6.1).
      if (subsystem !== null) box.pending = box.pending.filter((s) => s !== subsystem);
      persist();
    },
    persist,
  };

  const aliasModel: CollectionModel<StoredAlias & Record<string, unknown>> = {
    fields: ALIAS_FIELDS,
    arrayFields: ['address', 'detail'],
    subsystem: 'aliases',
    minimum: 0,
    items: () => box.aliases as Array<StoredAlias & Record<string, unknown>>,
    replace: (items) => {
      box.aliases = items;
    },
    validate: (candidate, o) =>
      validateAlias(candidate, {
        aliases: o.context,
        selfIndex: o.selfIndex,
        original: o.original,
        interfaces: box.interfaces,
        interfaceGroups: box.interfaceGroups,
      }) as StoredAlias & Record<string, unknown>,
    represent: (item, id) => aliasRepresentation(item, id),
  };
  const aliases = new Collection(aliasModel, effects);

  let currentCaller: Caller = { user: '', clientIp: '' };
  const ruleModel: CollectionModel<StoredRule> = {
    fields: RULE_FIELDS,
    arrayFields: ['interface', 'icmptype', 'tcp_flags_out_of', 'tcp_flags_set'],
    subsystem: null,
    minimum: 1,
    items: () => box.rules,
    replace: (items) => {
      box.rules = items;
    },
    validate: (candidate, o) =>
      validateRule(candidate, {
        aliases: box.aliases,
        interfaces: box.interfaces,
        original: o.original,
        caller: currentCaller.user,
        clientIp: currentCaller.clientIp,
      }),
    represent: ruleRepresentation,
  };
  const rules = new Collection(ruleModel, effects);

  const applyStatus = () => {
    const pending = SUBSYSTEMS.filter((s) => box.pending.includes(s));
    return { applied: pending.length === 0, pending_subsystems: pending };
  };

  const stateRows = () => box.states.map((s, id) => ({ id, ...s }));

  const area: AreaContext = {
    box: () => box,
    effects,
    clearSubsystem: (subsystem) => {
      box.pending = box.pending.filter((s) => s !== subsystem);
      persist();
    },
    now: () => Math.floor(Date.now() / 1000),
  };

  const endpoints: Record<string, Endpoint> = {
    ...natEndpoints(area),
    ...routingEndpoints(area),
    ...dnsDhcpEndpoints(area),
    ...interfaceEndpoints(area),
    ...statusEndpoints(area),
    '/api/v2/system/version': {
      methods: ['GET'],
      fields: ['version', 'base', 'patch', 'buildtime'],
      handle: () => ({
        version: box.version.version,
        base: box.version.version.split('-')[0] ?? box.version.version,
        patch: box.version.patch,
        buildtime: box.version.buildtime,
      }),
    },
    '/api/v2/system/restapi/version': {
      methods: ['GET', 'PATCH'],
      fields: ['current_version', 'latest_version', 'update_available', 'available_versions'],
      handle: () => ({
        current_version: box.packageVersion,
        latest_version: box.packageVersion,
        update_available: false,
        available_versions: [box.packageVersion],
      }),
    },
    '/api/v2/system/restapi/settings': {
      methods: ['GET', 'PATCH'],
      fields: ['enabled', 'read_only', 'auth_methods', 'jwt_exp'],
      handle: (ctx) => {
        if (ctx.method === 'PATCH') {
          const { enabled, read_only: readOnly, auth_methods: authMethods, jwt_exp: jwtExp } = ctx.data;
          if (jwtExp !== undefined) {
            if (typeof jwtExp !== 'number' || !Number.isInteger(jwtExp) || jwtExp < 300 || jwtExp > 86_400) {
              throw new PfRestError(
                400,
                'NUMERIC_RANGE_VALIDATOR_MAXIMUM_CONSTRAINT',
                "Field 'jwt_exp' must be between 300 and 86400.",
              );
            }
            box.settings.jwt_exp = jwtExp;
          }
          if (typeof enabled === 'boolean') box.settings.enabled = enabled;
          if (typeof readOnly === 'boolean') box.settings.read_only = readOnly;
          if (Array.isArray(authMethods)) {
            for (const m of authMethods) {
              if (m !== 'BasicAuth' && m !== 'KeyAuth' && m !== 'JWTAuth') {
                throw new PfRestError(
                  400,
                  'FIELD_INVALID_CHOICE',
                  "Field 'auth_methods' must be one of [BasicAuth, KeyAuth, JWTAuth]",
                );
              }
            }
            box.settings.auth_methods = authMethods as string[];
          }
          persist();
        }
        return { ...box.settings };
      },
    },
    '/api/v2/auth/key': {
      methods: ['POST', 'DELETE'],
      fields: KEY_FIELDS,
      authMethods: ['BasicAuth'],
      handle: (ctx) => {
        if (ctx.method === 'DELETE') {
          const id = ctx.data.id;
          if (id === undefined || id === null) {
            throw new PfRestError(
              500,
              'MODEL_ID_REQUIRED_FOR_REFRESH',
              'An ID is required to refresh this object.',
            );
          }
          const found = typeof id === 'number' ? box.keys[id] : undefined;
          if (found === undefined)
            throw new PfRestError(
              404,
              'MODEL_OBJECT_NOT_FOUND',
              `Object with ID '${valueText(id)}' does not exist.`,
            );
          box.keys = box.keys.filter((k) => k !== found);
          persist();
          return keyRepresentation(found, id as number);
        }
        const lengthBytes = ctx.data.length_bytes ?? 24;
        const algo = ctx.data.hash_algo ?? 'sha256';
        if (typeof lengthBytes !== 'number' || ![16, 24, 32, 64].includes(lengthBytes)) {
          throw new PfRestError(
            400,
            'FIELD_INVALID_CHOICE',
            "Field 'length_bytes' must be one of [16, 24, 32, 64]",
          );
        }
        if (algo !== 'sha256' && algo !== 'sha384' && algo !== 'sha512') {
          throw new PfRestError(
            400,
            'FIELD_INVALID_CHOICE',
            "Field 'hash_algo' must be one of [sha256, sha384, sha512]",
          );
        }
        const descr = ctx.data.descr ?? '';
        if (typeof descr !== 'string')
          throw new PfRestError(400, 'FIELD_INVALID_TYPE', "Field 'descr' must be of type 'string'.");
        const key = randomBytes(lengthBytes).toString('hex');
        const stored: EmulatorKey = {
          hash: keyHash(key, algo),
          hash_algo: algo,
          length_bytes: lengthBytes,
          username: ctx.caller.user,
          descr,
        };
        box.keys.push(stored);
        persist();
        // The only time the key is ever shown (§4).
        return { ...keyRepresentation(stored, box.keys.length - 1), key };
      },
    },
    '/api/v2/auth/jwt': {
      methods: ['POST'],
      fields: ['token'],
      authMethods: ['BasicAuth'],
      handle: (ctx) => ({ token: signJwt(box.jwtSecret, ctx.caller.user, box.settings.jwt_exp) }),
    },
    '/api/v2/auth/keys': {
      methods: ['GET', 'DELETE'],
      fields: KEY_FIELDS,
      handle: (ctx) => {
        if (ctx.method === 'DELETE')
          throw new PfRestError(
            400,
            'MODEL_DELETE_MANY_REQUIRES_QUERY_PARAMS',
            'Deleting keys in bulk is not emulated.',
          );
        const rows = box.keys.map((k, id) => keyRepresentation(k, id));
        return readList(rows, ctx.data, KEY_FIELDS, ctx.controls);
      },
    },
    '/api/v2/firewall/alias': {
      methods: ['GET', 'POST', 'PATCH', 'DELETE'],
      fields: ALIAS_FIELDS,
      handle: (ctx) => {
        if (ctx.method === 'GET') return aliases.readOne(ctx.data);
        if (ctx.method === 'POST') return aliases.create(ctx.data, ctx.controls);
        if (ctx.method === 'PATCH') return aliases.update(ctx.data, ctx.controls);
        return aliases.deleteOne(ctx.data, ctx.controls);
      },
    },
    '/api/v2/firewall/aliases': {
      methods: ['GET', 'PUT', 'DELETE'],
      fields: ALIAS_FIELDS,
      handle: (ctx) => {
        if (ctx.method === 'GET') return aliases.readMany(ctx.data, ctx.controls);
        if (ctx.method === 'PUT') return aliases.replaceAll(ctx.list ?? [], ctx.controls);
        return aliases.deleteMany(ctx.data, ctx.controls);
      },
    },
    '/api/v2/firewall/rule': {
      methods: ['GET', 'POST', 'PATCH', 'DELETE'],
      fields: RULE_FIELDS,
      handle: (ctx) => {
        if (ctx.method === 'GET') return rules.readOne(ctx.data);
        if (ctx.method === 'POST') return rules.create(ctx.data, ctx.controls);
        if (ctx.method === 'PATCH') return rules.update(ctx.data, ctx.controls);
        return rules.deleteOne(ctx.data, ctx.controls);
      },
    },
    '/api/v2/firewall/rules': {
      methods: ['GET', 'PUT', 'DELETE'],
      fields: RULE_FIELDS,
      handle: (ctx) => {
        if (ctx.method === 'GET') return rules.readMany(ctx.data, ctx.controls);
        if (ctx.method === 'PUT') return rules.replaceAll(ctx.list ?? [], ctx.controls);
        return rules.deleteMany(ctx.data, ctx.controls);
      },
    },
    '/api/v2/firewall/apply': {
      methods: ['GET', 'POST'],
      fields: ['applied', 'pending_subsystems'],
      handle: async (ctx) => {
        if (ctx.method === 'POST') await reload(!ctx.controls.async);
        return applyStatus();
      },
    },
    '/api/v2/firewall/states': {
      methods: ['GET', 'DELETE'],
      fields: STATE_FIELDS,
      defaultLimit: 100,
      handle: (ctx) => {
        if (ctx.method === 'GET') return readList(stateRows(), ctx.data, STATE_FIELDS, ctx.controls);
        if (ctx.controls.all) {
          box.states = [];
          return [];
        }
        if (Object.keys(ctx.data).length === 0) {
          throw new PfRestError(
            400,
            'MODEL_DELETE_MANY_REQUIRES_QUERY_PARAMS',
            'At least one query parameter is required to delete many objects.',
          );
        }
        const matched = readList(stateRows(), ctx.data, STATE_FIELDS, { ...ctx.controls, reverse: false });
        // Each match is killed by its source/destination pair (`pfctl -k src -k dst`), taking its siblings along.
        const pairs = new Set(
          matched.map((s) => `${stateIp(String(s.source))} ${stateIp(String(s.destination))}`),
        );
        box.states = box.states.filter((s) => !pairs.has(`${stateIp(s.source)} ${stateIp(s.destination)}`));
        return matched;
      },
    },
    '/api/v2/firewall/states/size': {
      methods: ['GET', 'PATCH'],
      fields: ['maximumstates', 'defaultmaximumstates', 'currentstates'],
      handle: (ctx) => {
        if (ctx.method === 'PATCH' && ctx.data.maximumstates !== undefined) {
          const max = ctx.data.maximumstates;
          if (typeof max !== 'number' || !Number.isInteger(max) || max < 10) {
            throw new PfRestError(
              400,
              'NUMERIC_RANGE_VALIDATOR_MINIMUM_CONSTRAINT',
              "Field 'maximumstates' must be an integer of at least 10.",
            );
          }
          box.maximumStates = max;
          persist();
        }
        return {
          maximumstates: box.maximumStates,
          defaultmaximumstates: DEFAULT_MAXIMUM_STATES,
          currentstates: box.states.length,
        };
      },
    },
    '/api/v2/status/interfaces': {
      methods: ['GET'],
      fields: INTERFACE_STATS_FIELDS,
      handle: (ctx) =>
        readList(
          box.interfaces.map((i, id) => interfaceStats(i, id)),
          ctx.data,
          INTERFACE_STATS_FIELDS,
          ctx.controls,
        ),
    },
    '/api/v2/diagnostics/table': {
      methods: ['GET', 'DELETE'],
      fields: ['entries', 'name'],
      handle: (ctx) => {
        const name = valueText(ctx.data.id ?? '');
        const entries = box.tables[name];
        if (entries === undefined)
          throw new PfRestError(404, 'MODEL_OBJECT_NOT_FOUND', `Object with ID '${name}' does not exist.`);
        if (ctx.method === 'DELETE') box.tables[name] = [];
        return { id: name, entries: ctx.method === 'DELETE' ? [] : entries, name };
      },
    },
    '/api/v2/diagnostics/tables': {
      methods: ['GET'],
      fields: ['entries', 'name'],
      handle: (ctx) =>
        readList(
          Object.entries(box.tables).map(([name, entries]) => ({ id: name, entries, name })),
          ctx.data,
          ['entries', 'name'],
          ctx.controls,
        ),
    },
  };

  const send = (
    res: ServerResponse,
    record: RequestRecord,
    envelope: Envelope,
    headers: Record<string, string> = {},
  ): void => {
    record.status = envelope.code;
    record.responseId = envelope.response_id;
    res.writeHead(envelope.code, { 'content-type': 'application/json', ...headers });
    res.end(phpJsonEncode(envelope));
  };

  const takeFault = (method: string, path: string): FaultSpec | null => {
    const index = faults.findIndex(
      (f) =>
        (f.path === undefined || path.startsWith(f.path)) && (f.method === undefined || f.method === method),
    );
    if (index < 0) return null;
    const fault = faults[index] as (typeof faults)[number];
    fault.times--;
    if (fault.times <= 0) faults.splice(index, 1);
    return fault;
  };

  const handleApi = async (
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    body: string,
  ): Promise<void> => {
    const method = (req.method ?? 'GET').toUpperCase();
    const record: RequestRecord = {
      seq: ++requestSeq,
      time: new Date().toISOString(),
      method,
      path: url.pathname,
      query: url.search.slice(1),
      auth: authKind(req),
      contentType: req.headers['content-type'] ?? null,
      accept: req.headers.accept ?? null,
      body: null,
      status: null,
      responseId: null,
      fault: null,
    };
    try {
      record.body = body === '' ? null : JSON.parse(body);
    } catch {
      record.body = body;
    }
    log.push(record);
    // A long-running lab keeps the most recent requests only.
    if (log.length > MAX_LOGGED_REQUESTS) log.splice(0, log.length - MAX_LOGGED_REQUESTS);
    const fault = takeFault(method, url.pathname);
    record.fault = fault?.kind ?? null;
    if (fault?.kind === 'hang') return;
    if (fault?.kind === 'drop') {
      req.socket.destroy();
      return;
    }
    if (fault?.kind === 'stall-body') {
      // Headers and the start of the envelope, then nothing: the client's body timeout must fire.
      record.status = 200;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"code":200,"status":"ok",');
      return;
    }
    if (fault?.kind === 'raw') {
      record.status = fault.status ?? 200;
      res.writeHead(record.status, { 'content-type': fault.contentType ?? 'application/json' });
      res.end(fault.body ?? '');
      return;
    }
    if (fault?.kind === 'non-json') {
      record.status = 200;
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('Warning: Undefined array key in /usr/local/pkg/RESTAPI/Core/Endpoint.inc on line 1\n');
      return;
    }
    if (box.live.power !== 'on') {
      // Rebooting or halted: nothing listens behind the port any more.
      req.socket.destroy();
      return;
    }
    const path = url.pathname.replace(/\/+$/, '');
    const endpoint = endpoints[path];
    if (fault?.kind === 'package-absent' || endpoint === undefined) {
      // No endpoint directory: nginx's own HTML 404, not the JSON envelope (§1).
      record.status = 404;
      res.writeHead(404, { 'content-type': 'text/html' });
      res.end(NGINX_404);
      return;
    }
    try {
      if (fault?.kind === 'status') {
        const status = fault.status ?? 500;
        const [id, message] = FAULT_STATUS_IDS[status] ?? [
          'ENDPOINT_RECEIVED_UNEXPECTED_ERROR',
          'Injected failure.',
        ];
        throw new PfRestError(status, id, message);
      }
      if (!box.settings.enabled)
        throw new PfRestError(
          503,
          'ENDPOINT_REST_API_IS_NOT_ENABLED',
          'The REST API is currently not enabled.',
        );
      let user = '';
      if (method === 'OPTIONS') {
        // OPTIONS skips auth, then the ACL check receives a null username: a PHP TypeError → 500 (§1).
        throw new PfRestError(
          500,
          'ENDPOINT_RECEIVED_UNEXPECTED_ERROR',
          'RESTAPI\\Models\\RESTAPIAccessListEntry::is_allowed_by_acl(): Argument #2 ($username) must be of type string, null given\n#0 {main}',
        );
      }
      user = authorize(box, req, path, method, {
        keyAuthOff: fault?.kind === 'key-auth-disabled',
        pinned: endpoint.authMethods,
      });
      checkAccept(req.headers.accept);
      if (!endpoint.methods.includes(method)) {
        throw new PfRestError(
          405,
          'ENDPOINT_METHOD_NOT_ALLOWED',
          `Resource at ${path} does not support the requested HTTP method '${method}'`,
        );
      }
      if (box.settings.read_only && method !== 'GET') {
        throw new PfRestError(
          405,
          'ENDPOINT_METHOD_NOT_ALLOWED_IN_READ_ONLY_MODE',
          'The REST API is in read-only mode; only GET requests are allowed.',
        );
      }
      const decoded = decodeRequest(method, req.headers['content-type'], url.search.slice(1), body);
      let list: unknown[] | null = null;
      let data: RequestData = {};
      if (method === 'PUT') {
        if (!Array.isArray(decoded)) {
          throw new PfRestError(
            400,
            'ENDPOINT_REQUEST_DATA_MUST_BE_INDEXED_ARRAY',
            'Request data must be an indexed array for this endpoint.',
          );
        }
        list = decoded;
      } else if (decoded !== null && typeof decoded === 'object' && !Array.isArray(decoded)) {
        data = decoded as RequestData;
      }
      const prefer = String(req.headers.prefer ?? '').toLowerCase();
      const controls = extractControls(method, data, endpoint.fields, {
        preferDryRun: prefer.split(',').some((p) => p.trim() === 'dry-run'),
        defaultLimit: endpoint.defaultLimit ?? 0,
      });
      const clientIp = (req.socket.remoteAddress ?? '').replace(/^::ffff:/, '');
      currentCaller = { user, clientIp };
      const result = await endpoint.handle({ method, data, list, controls, caller: currentCaller });
      send(res, record, successEnvelope(result ?? []));
    } catch (err) {
      const error =
        err instanceof PfRestError
          ? err
          : new PfRestError(
              500,
              'ENDPOINT_RECEIVED_UNEXPECTED_ERROR',
              `${(err as Error).message}\n#0 {main}`,
            );
      send(res, record, errorEnvelope(error), error.headers);
    }
  };

  const api: PfRestEmulator = {
    url: '',
    port: 0,
    apiKey,
    fingerprint: certificate.fingerprint256,
    caPem: certificate.certPem,
    close: () =>
      new Promise<void>((resolve) => {
        for (const timer of reloadTimers) clearTimeout(timer);
        reloadTimers.clear();
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
    state: () => structuredClone(box),
    requests: () => structuredClone(log),
    clearRequests: () => {
      log.length = 0;
    },
    injectFault: (fault) => {
      faults.push({ ...fault, times: fault.times ?? 1 });
    },
    clearFaults: () => {
      faults.length = 0;
    },
    reset: () => {
      for (const timer of reloadTimers) clearTimeout(timer);
      reloadTimers.clear();
      reloadsInFlight = 0;
      box = initialState();
      ensureKey(apiKey, 'admin');
      log.length = 0;
      faults.length = 0;
      persist();
    },
    addKey: (privileges) => {
      keySeq++;
      const username = `api_user_${keySeq}_${randomBytes(3).toString('hex')}`;
      box.users.push({
        name: username,
        passwordHash: sha256Hex(randomBytes(16).toString('hex')),
        privileges,
        disabled: false,
      });
      const key = randomBytes(24).toString('hex');
      ensureKey(key, username);
      persist();
      return key;
    },
    setStates: (states) => {
      box.states = structuredClone(states);
    },
    updateSettings: (settings) => {
      box.settings = { ...box.settings, ...settings };
      persist();
    },
    setLive: (live) => {
      for (const key of Object.keys(live)) {
        if (!(LIVE_KEYS as readonly string[]).includes(key)) throw new TypeError(`unknown live view ${key}`);
      }
      box.live = { ...box.live, ...structuredClone(live) };
      persist();
    },
  };

  const server: Server = createServer({ cert: certificate.certPem, key: certificate.keyPem }, (req, res) => {
    const url = new URL(req.url ?? '/', 'https://emulator.invalid');
    readBody(req)
      .then((body) =>
        url.pathname.startsWith('/__emulator/')
          ? handleHook(req, res, url, body, api)
          : handleApi(req, res, url, body),
      )
      .catch(() => res.destroy());
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
  api.port = port;
  api.url = `https://${host.includes(':') ? `[${host}]` : host}:${port}`;
  return api;
}
